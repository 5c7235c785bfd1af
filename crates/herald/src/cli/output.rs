//! How answers are shown: the API's JSON for `--json`, otherwise tables
//! and `field: value` lists for a terminal.

use std::fmt::Display;
use std::io::Write;

use comfy_table::{Table, presets};
use herald_client::{Call, Time};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::failure::Failure;

/// Where a command's answer goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    pub(crate) json: bool,
}

impl Out {
    /// Sends `call` and prints its answer: the JSON as it came with
    /// `--json`, else `human` of the typed answer.
    pub(crate) async fn show<T: DeserializeOwned>(
        self,
        call: Call<T>,
        human: impl FnOnce(T) -> String,
    ) -> Result<(), Failure> {
        let value = call.json().await?;
        if self.json {
            return print_json(&value);
        }
        let typed: T = serde_json::from_value(value)
            .map_err(|e| Failure::Unreadable(format!("unexpected answer from Herald: {e}")))?;
        print(&human(typed))
    }

    /// Sends a call that answers nothing (204) and prints `done` unless
    /// `--json` (which prints nothing: the API's answer is empty).
    pub(crate) async fn done(self, call: Call<()>, done: &str) -> Result<(), Failure> {
        call.json().await?;
        if self.json { Ok(()) } else { print(done) }
    }
}

pub(crate) fn print_json(value: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Other(format!("cannot print JSON: {e}")))?;
    print(&text)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a
/// panic, but is reported.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let text = text.trim_end_matches('\n');
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Other(format!("cannot write the output: {e}")))
}

/// A table with a header row, columns separated by spaces (easy to read
/// and to `grep`).
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(header.iter().map(|h| h.to_string()));
    let mut empty = true;
    for row in rows {
        empty = false;
        table.add_row(row);
    }
    if empty {
        return "(none)".to_string();
    }
    // The preset pads each cell with a space on both sides; the first
    // column's is dropped so the table starts at the margin.
    table
        .to_string()
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `name: value` lines, names aligned.
pub(crate) fn fields(pairs: &[(&str, String)]) -> String {
    // The widest name and its colon.
    let width = pairs.iter().map(|(n, _)| n.len() + 1).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(name, value)| format!("{:<width$}  {value}", format!("{name}:")))
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A time to the second, in UTC.
pub(crate) fn time(t: &Time) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub(crate) fn opt_time(t: Option<&Time>) -> String {
    t.map(time).unwrap_or_else(|| "-".into())
}

/// A value, or `-` when there is none.
pub(crate) fn opt<T: Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// A share as a percentage, `-` without data.
pub(crate) fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

pub(crate) fn ms(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.0} ms"))
        .unwrap_or_else(|| "-".into())
}

/// A duration for a reader: `850 ms`, `12.8 s`, `3 min 37 s`, `2 h 5 min`.
pub(crate) fn duration_ms(ms: u64) -> String {
    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let pair = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big} {big_unit}")
        } else {
            format!("{big} {big_unit} {small} {small_unit}")
        }
    };
    match ms {
        ms if ms < 1000 => format!("{ms} ms"),
        ms if ms < MIN => {
            let text = format!("{:.1}", ms as f64 / 1000.0);
            format!("{} s", text.trim_end_matches(".0"))
        }
        ms if ms < HOUR => pair(ms / MIN, "min", (ms % MIN).div_ceil(1000).min(59), "s"),
        ms if ms < DAY => pair(ms / HOUR, "h", (ms % HOUR) / MIN, "min"),
        ms => pair(ms / DAY, "d", (ms % DAY) / HOUR, "h"),
    }
}

/// A list, comma-separated, `-` when empty.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

/// The hint after a page that has more.
pub(crate) fn next_page(cursor: Option<&str>) -> String {
    match cursor {
        Some(c) => format!("\n(more: add --cursor {c})"),
        None => String::new(),
    }
}

/// JSON for a terminal: pretty, and a string without its quotes.
pub(crate) fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Indents every line of `text` by `n` spaces.
pub(crate) fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(1000), "1 s");
        assert_eq!(duration_ms(12_800), "12.8 s");
        assert_eq!(duration_ms(217_200), "3 min 38 s");
        assert_eq!(duration_ms(3_600_000), "1 h");
        assert_eq!(duration_ms(7_500_000), "2 h 5 min");
        assert_eq!(duration_ms(90_000_000), "1 d 1 h");
    }

    #[test]
    fn names_align_after_their_colon() {
        let text = fields(&[("a", "1".into()), ("longer", "2".into())]);
        assert_eq!(text, "a:       1\nlonger:  2");
    }
}
