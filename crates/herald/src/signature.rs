//! `herald signature verify`: checks one captured request's signature,
//! as a receiver would.

use std::time::Duration;

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SignatureCommand {
    /// Verify a request Herald sent: exit 0 when the signature holds, 1
    /// when it does not (saying why).
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The webhook's signing secret (`whsec_…`), or its public key
    /// (`whpk_…`) for Ed25519.
    #[arg(long, env = "HERALD_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// The request's headers as `Name: value` lines: `@file` to read a
    /// file, or the text itself.
    #[arg(long)]
    headers: String,
    /// The raw body: `@file` to read a file, `-` for stdin, or the text.
    #[arg(long)]
    body: String,
    /// How far `webhook-timestamp` may be from now, in seconds.
    #[arg(long, default_value_t = 300)]
    tolerance_secs: u64,
}

/// Whether the signature held (the exit status follows it).
pub(crate) fn run(command: SignatureCommand) -> anyhow::Result<bool> {
    let SignatureCommand::Verify(args) = command;
    let headers = parse_headers(&String::from_utf8_lossy(&read_arg(&args.headers)?))?;
    let body = read_arg(&args.body)?;
    let tolerance = Duration::from_secs(args.tolerance_secs);
    match herald_client::verify(&args.secret, &headers, &body, tolerance) {
        Ok(verified) => {
            println!(
                "signature ok ({}{})",
                verified.scheme.as_str(),
                verified
                    .msg_id
                    .map(|id| format!(", message {id}"))
                    .unwrap_or_default()
            );
            Ok(true)
        }
        Err(e) => {
            println!("signature INVALID: {e}");
            Ok(false)
        }
    }
}

/// `@file`, `-` (stdin) or the text itself.
fn read_arg(value: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = value.strip_prefix('@') {
        return std::fs::read(path).with_context(|| format!("cannot read {path}"));
    }
    if value == "-" {
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut all)?;
        return Ok(all);
    }
    Ok(value.as_bytes().to_vec())
}

/// `Name: value` lines; blank lines and a leading request line
/// (`POST /hook HTTP/1.1`, as a capture starts) are skipped.
fn parse_headers(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (number == 0 && line.contains(" HTTP/")) {
            continue;
        }
        let (name, value) = line.split_once(':').with_context(|| {
            format!(
                "headers line {}: expected `Name: value`, got {line:?}",
                number + 1
            )
        })?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_from_a_capture() {
        let parsed = parse_headers(
            "POST /hook HTTP/1.1\r\nwebhook-id: msg_1\r\nWebhook-Timestamp:  5\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            parsed,
            [
                ("webhook-id".to_string(), "msg_1".to_string()),
                ("Webhook-Timestamp".to_string(), "5".to_string())
            ]
        );
        let error = parse_headers("webhook-id msg_1").unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
