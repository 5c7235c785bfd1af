//! The operator's mail server (`HERALD_SMTP_URL`): where mail goes, how
//! the connection is secured, whom to log in as.

use std::fmt;

use herald_providers::SmtpTls;
use secrecy::{ExposeSecret, SecretString};

/// Where mail goes: a server, how to secure the connection, whom to log in as.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct SmtpServer {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: SmtpTls,
    pub(crate) username: Option<String>,
    /// Kept as a plain string so servers can key the transport map; never
    /// printed (see `Debug`).
    pub(crate) password: Option<String>,
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .finish()
    }
}

pub(crate) fn default_port(tls: SmtpTls) -> u16 {
    match tls {
        SmtpTls::Implicit => 465,
        SmtpTls::Starttls => 587,
        SmtpTls::None => 25,
    }
}

impl SmtpServer {
    /// Parses `HERALD_SMTP_URL`: `smtp://[user:pass@]host[:port]` uses
    /// STARTTLS, `smtps://` implicit TLS, and `?tls=none` a plain connection
    /// (for a relay on the same host).
    pub(crate) fn from_url(raw: &SecretString) -> anyhow::Result<SmtpServer> {
        let url = url::Url::parse(raw.expose_secret())
            .map_err(|e| anyhow::anyhow!("HERALD_SMTP_URL is not a valid URL: {e}"))?;
        let mut tls = match url.scheme() {
            "smtp" => SmtpTls::Starttls,
            "smtps" => SmtpTls::Implicit,
            other => anyhow::bail!(
                "HERALD_SMTP_URL must start with smtp:// or smtps:// (got {other}://)"
            ),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") => tls = SmtpTls::None,
                ("tls", "starttls") => tls = SmtpTls::Starttls,
                ("tls", "implicit") => tls = SmtpTls::Implicit,
                _ => anyhow::bail!(
                    "HERALD_SMTP_URL: unknown option `{key}={value}` (known: tls=starttls|implicit|none)"
                ),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| anyhow::anyhow!("HERALD_SMTP_URL must name a host"))?
            .trim_matches(['[', ']'])
            .to_string();
        let decode = |s: &str| -> anyhow::Result<String> {
            Ok(percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map_err(|_| anyhow::anyhow!("HERALD_SMTP_URL: bad percent-encoding"))?
                .into_owned())
        };
        let username = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        Ok(SmtpServer {
            port: url.port().unwrap_or(default_port(tls)),
            host,
            tls,
            username,
            password,
        })
    }
}
