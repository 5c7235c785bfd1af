//! Why a command failed, and the exit code that says so. The codes are
//! documented in docs/CLI.md and in `herald --help`; scripts rely on them.

use std::process::ExitCode;

use herald_client::{Error, ErrorKind};

/// Exit codes, one per kind of failure a script may want to tell apart.
pub(crate) mod code {
    pub(crate) const OK: u8 = 0;
    /// Anything not listed below (a file that cannot be written, …).
    pub(crate) const OTHER: u8 = 1;
    /// Bad arguments: an unknown flag, a missing value, `--data` that is
    /// not JSON. Nothing was sent.
    pub(crate) const USAGE: u8 = 2;
    pub(crate) const NOT_FOUND: u8 = 3;
    /// A missing, wrong or revoked token, or one that may not do this.
    pub(crate) const AUTH: u8 = 4;
    /// The server refused the request as invalid (400, 413, 422).
    pub(crate) const VALIDATION: u8 = 5;
    /// 409: not in a state that allows this, or changing meanwhile.
    pub(crate) const CONFLICT: u8 = 6;
    /// 429: the tenant's ingest rate is spent.
    pub(crate) const RATE_LIMITED: u8 = 7;
    /// The server failed (5xx) or answered something unreadable.
    pub(crate) const SERVER: u8 = 8;
    /// No answer: the server is not running there, or timed out.
    pub(crate) const UNREACHABLE: u8 = 9;
}

/// The table `herald --help` ends with.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes: 0 ok, 1 other failure, 2 bad arguments (nothing sent), 3 not found,
4 unauthorized or forbidden, 5 refused as invalid (the message names the field),
6 conflict, 7 rate limited, 8 server error, 9 server unreachable.";

#[derive(Debug)]
pub(crate) enum Failure {
    /// The client's call failed.
    Client(Error),
    /// An argument is unusable; says which.
    Usage(String),
    /// Something named was not there (one of a bulk delete's ids).
    NotFound(String),
    /// The answer did not read as what the API documents.
    Unreadable(String),
    /// A local failure (writing the output, …).
    Other(String),
    /// A client call's failure within a longer story (`listen`, `mcp`):
    /// the whole message, and the code of the client's failure.
    Within { message: String, code: u8 },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Client(e)
    }
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// A failure of a command that tells its own story (`anyhow`
    /// contexts): when a client call failed under it, its exit code and
    /// message are the client's, after the contexts.
    pub(crate) fn of_command(e: anyhow::Error) -> Failure {
        let Some(client) = e.downcast_ref::<Error>() else {
            return Failure::Other(format!("{e:#}"));
        };
        let mut message = String::new();
        for layer in e
            .chain()
            .take_while(|l| l.downcast_ref::<Error>().is_none())
        {
            message.push_str(&format!("{layer}: "));
        }
        message.push_str(&describe(client));
        Failure::Within {
            message,
            code: code_of(client),
        }
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Client(e) => code_of(e),
            Failure::Within { code, .. } => *code,
            Failure::Usage(_) => code::USAGE,
            Failure::NotFound(_) => code::NOT_FOUND,
            Failure::Unreadable(_) => code::SERVER,
            Failure::Other(_) => code::OTHER,
        }
    }

    /// One line for stderr: what failed, the field at fault, and the API's
    /// code and status for a search or a bug report.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Client(e) => describe(e),
            Failure::Within { message, .. } => message.clone(),
            Failure::Usage(m)
            | Failure::NotFound(m)
            | Failure::Unreadable(m)
            | Failure::Other(m) => m.clone(),
        }
    }
}

fn code_of(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::NotFound => code::NOT_FOUND,
        ErrorKind::Unauthorized => code::AUTH,
        ErrorKind::Validation => code::VALIDATION,
        ErrorKind::Conflict => code::CONFLICT,
        ErrorKind::RateLimited => code::RATE_LIMITED,
        ErrorKind::Server => code::SERVER,
        ErrorKind::Unreachable => code::UNREACHABLE,
        ErrorKind::Other => match e {
            Error::Config(_) | Error::Request(_) => code::USAGE,
            _ => code::OTHER,
        },
    }
}

/// A client failure in one line: the field at fault, and the API's code
/// and status for a search or a bug report.
fn describe(e: &Error) -> String {
    match e {
        Error::Api { status, body, .. } => {
            let field = body.field().map(|f| format!("{f}: ")).unwrap_or_default();
            format!("{field}{} ({}, HTTP {status})", body.message(), body.code())
        }
        Error::Transport { .. } => {
            format!("{e} (is `herald serve` running there? set --url or HERALD_URL)")
        }
        e => e.to_string(),
    }
}

/// Prints the failure and turns it into the process's exit code.
pub(crate) fn report(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(code::OK),
        Err(failure) => {
            // One line, even if the server's message held a newline.
            let message = failure.message().replace(['\n', '\r'], " ");
            eprintln!("error: {message}");
            ExitCode::from(failure.exit_code())
        }
    }
}
