//! Reading arguments that hold data: JSON given inline, as `@file` or as
//! `@-` (stdin), and `name:value` pairs. Every failure names the option.

use std::io::Read;

use serde_json::{Map, Value};

use super::failure::Failure;

/// JSON from `'{...}'`, `@path` or `@-`.
pub(crate) fn json_arg(option: &str, text: &str) -> Result<Value, Failure> {
    let (source, contents) = match text.strip_prefix('@') {
        Some("-") => {
            let mut buffer = String::new();
            std::io::stdin()
                .read_to_string(&mut buffer)
                .map_err(|e| Failure::usage(format!("{option}: cannot read stdin: {e}")))?;
            ("stdin".to_string(), buffer)
        }
        Some(path) => {
            let contents = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("{option}: cannot read {path}: {e}")))?;
            (path.to_string(), contents)
        }
        None => ("the value".to_string(), text.to_string()),
    };
    serde_json::from_str(&contents)
        .map_err(|e| Failure::usage(format!("{option}: {source} is not valid JSON: {e}")))
}

/// A JSON object from a file (`--from-file`), `-` for stdin.
pub(crate) fn object_file(option: &str, path: &str) -> Result<Map<String, Value>, Failure> {
    let text = if path == "-" {
        "@-".to_string()
    } else {
        format!("@{path}")
    };
    match json_arg(option, &text)? {
        Value::Object(map) => Ok(map),
        _ => Err(Failure::usage(format!(
            "{option}: {path} must hold a JSON object"
        ))),
    }
}

/// `Name: value` (as curl's `-H`) into a map of headers.
pub(crate) fn headers(option: &str, pairs: &[String]) -> Result<Map<String, Value>, Failure> {
    let mut map = Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once(':')
            .ok_or_else(|| Failure::usage(format!("{option}: `{pair}` is not `Name: value`")))?;
        map.insert(name.trim().to_string(), Value::from(value.trim()));
    }
    Ok(map)
}
