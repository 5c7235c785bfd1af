//! Log output: JSON lines for machines, a readable format for terminals.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter without `HERALD_LOG`. The MCP SDK logs each MCP request's
/// start and end at info (three lines per `/mcp` request), which would
/// drown the log; its warnings still show.
const DEFAULT_FILTER: &str = "info,rmcp=warn";

/// Installs the global subscriber; the filter comes from `HERALD_LOG`
/// (e.g. `debug`, `herald_server=trace`), default `info`.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When the log cannot be written (stderr on a full disk), the
        // subscriber's fallback report uses `eprintln!`, which panics and
        // took the request being served with it. A log line lost is better
        // than an answer lost.
        .log_internal_errors(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
    log_panics();
}

/// Panics are logged as events, in the log's own format, instead of the
/// default hook's plain text on stderr (which breaks JSON log lines). Every
/// panic Herald can survive is caught where it happens and recorded (an
/// attempt's panic becomes an `internal` attempt); this says where it was.
/// A backtrace is captured only when `RUST_BACKTRACE` asks for one: the
/// first capture loads the binary's debug information, well over a hundred
/// megabytes of memory kept for the life of the process.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no detail");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::capture();
        match backtrace.status() {
            std::backtrace::BacktraceStatus::Captured => {
                tracing::error!(panic = message, %location, %backtrace, "panic")
            }
            _ => tracing::error!(panic = message, %location, "panic"),
        }
    }));
}
