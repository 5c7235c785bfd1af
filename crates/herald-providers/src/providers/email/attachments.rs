//! Files an event brings for an email webhook that allows them:
//! `data.attachments: [{"filename", "content_type", "content_base64"}]`,
//! decoded and checked against the caps, with names made safe to show and
//! to save.
//!
//! A list that is not what it must be fails the attempt at once (a
//! [`RenderError`] naming the item and key, never retried): resending the
//! same event cannot make it valid, and sending the mail without the file
//! it was meant to carry would report success for a message that is not
//! the one asked for.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

use crate::error::RenderError;
use crate::rendered::EmailAttachment;

/// At most this many files per message.
pub(crate) const MAX_FILES: usize = 10;
/// Decoded bytes of one file. Most mail servers refuse messages over 10 to
/// 25 MB, and base64 adds a third on the wire.
pub(crate) const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Decoded bytes of all files together.
pub(crate) const MAX_TOTAL_BYTES: usize = 10 * 1024 * 1024;
/// Characters of a file name, extension included.
pub(crate) const MAX_NAME_CHARS: usize = 200;
/// What a file without a usable name is called.
pub(crate) const DEFAULT_NAME: &str = "attachment";
/// The type of a file whose `content_type` is absent or does not parse.
pub(crate) const DEFAULT_TYPE: &str = "application/octet-stream";

/// The standard alphabet, padded or not (encoders differ).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The event's attachments; none when `data.attachments` is absent or
/// `null`.
pub(crate) fn from_data(data: &Value) -> Result<Vec<EmailAttachment>, RenderError> {
    let items = match data.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(RenderError::new(
                "data.attachments",
                "must be a list of {filename, content_type, content_base64}",
            ));
        }
    };
    if items.len() > MAX_FILES {
        return Err(RenderError::new(
            "data.attachments",
            format!(
                "holds {} files; an email carries at most {MAX_FILES}",
                items.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut total = 0usize;
    for (i, item) in items.iter().enumerate() {
        let at = |key: &str| format!("data.attachments[{i}]{key}");
        let Value::Object(item) = item else {
            return Err(RenderError::new(
                at(""),
                "must be an object {filename, content_type, content_base64}",
            ));
        };
        let text = |key: &str| -> Result<Option<&str>, RenderError> {
            match item.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(RenderError::new(at(&format!(".{key}")), "must be a string")),
            }
        };
        let filename = filename(text("filename")?.unwrap_or_default());
        let content_type = content_type(text("content_type")?.unwrap_or_default());
        let Some(encoded) = text("content_base64")? else {
            return Err(RenderError::new(
                at(".content_base64"),
                "is required: the file's bytes in base64",
            ));
        };
        let content = decode(encoded).map_err(|m| RenderError::new(at(".content_base64"), m))?;
        total += content.len();
        if total > MAX_TOTAL_BYTES {
            return Err(RenderError::new(
                at(".content_base64"),
                format!("the files together exceed {MAX_TOTAL_BYTES} bytes"),
            ));
        }
        out.push(EmailAttachment {
            filename,
            content_type,
            content,
        });
    }
    Ok(out)
}

/// Base64 (standard alphabet; line breaks and padding optional) to bytes
/// within [`MAX_FILE_BYTES`].
fn decode(encoded: &str) -> Result<Vec<u8>, String> {
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    // Checked before decoding, so an oversized file is never held twice.
    let decoded_len = compact.len() / 4 * 3 + (compact.len() % 4).saturating_sub(1);
    if decoded_len > MAX_FILE_BYTES + 2 {
        return Err(format!(
            "the file is larger than {MAX_FILE_BYTES} bytes (about {decoded_len} decoded)"
        ));
    }
    let bytes = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| format!("is not valid base64 ({e})"))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is larger than {MAX_FILE_BYTES} bytes ({} decoded)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// A bare name safe to show and to save: the last path component, without
/// control, bidirectional-control or quote characters, with characters
/// Windows refuses (`< > : | ? *`) made `_`, no leading dots (no hidden
/// files, no `..`), at most [`MAX_NAME_CHARS`] characters keeping a short
/// extension, and [`DEFAULT_NAME`] when nothing is left.
pub(crate) fn filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | '\'' | '`'))
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    if name.is_empty() {
        return DEFAULT_NAME.to_string();
    }
    let count = name.chars().count();
    if count <= MAX_NAME_CHARS {
        return name.to_string();
    }
    // Keep the extension, which says how the file opens.
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.chars().count() <= 20)
        .unwrap_or_default();
    let keep = MAX_NAME_CHARS - extension.chars().count();
    let stem: String = name.chars().take(keep).collect();
    format!("{}{extension}", stem.trim_end())
}

/// U+200E, U+200F, U+202A–U+202E and U+2066–U+2069, which can make
/// `invoice<U+202E>fdp.exe` look like `invoiceexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `type/subtype` with optional `; name=value` parameters (RFC 2045 tokens
/// or quoted strings), type and subtype lower-cased; [`DEFAULT_TYPE`] for
/// anything else, and for `multipart/*` and `message/*`, which a single
/// file cannot be.
pub(crate) fn content_type(raw: &str) -> String {
    parse_content_type(raw.trim()).unwrap_or_else(|| DEFAULT_TYPE.to_string())
}

fn parse_content_type(raw: &str) -> Option<String> {
    if raw.len() > 255 {
        return None;
    }
    let mut parts = raw.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    if !is_token(kind) || !is_token(subtype) || matches!(kind, "multipart" | "message") {
        return None;
    }
    let mut out = format!("{kind}/{subtype}");
    for param in parts {
        let (name, value) = param.trim().split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        let quoted = value.len() >= 2
            && value.starts_with('"')
            && value.ends_with('"')
            && value[1..value.len() - 1]
                .chars()
                .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\');
        if !is_token(name) || !(is_token(value) || quoted) {
            return None;
        }
        out.push_str(&format!("; {}={value}", name.to_ascii_lowercase()));
    }
    Some(out)
}

/// An RFC 2045 token: printable ASCII without spaces and `()<>@,;:\"/[]?=`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn names_are_made_safe() {
        for (raw, safe) in [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\ops\\q3 results.xlsx", "q3 results.xlsx"),
            ("..", DEFAULT_NAME),
            ("", DEFAULT_NAME),
            ("   ", DEFAULT_NAME),
            ("dir/", DEFAULT_NAME),
            (".env", "env"),
            ("a\r\nBcc: x@evil.example.txt", "aBcc_ x@evil.example.txt"),
            ("say \"hi\" 'now'.txt", "say hi now.txt"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("what?*<>|.log", "what_____.log"),
            ("trailing. . .", "trailing"),
            ("résumé €.pdf", "résumé €.pdf"),
        ] {
            assert_eq!(filename(raw), safe, "{raw:?}");
        }
        let long = format!("{}.tar.gz", "x".repeat(300));
        let cut = filename(&long);
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with("xxx.gz"), "{cut}");
        let long_ext = format!("a.{}", "e".repeat(300));
        assert_eq!(filename(&long_ext).chars().count(), MAX_NAME_CHARS);
        assert_eq!(filename(&"ü".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn content_types_parse_or_fall_back() {
        for (raw, kept) in [
            ("application/pdf", "application/pdf"),
            ("Text/CSV; charset=utf-8", "text/csv; charset=utf-8"),
            ("image/svg+xml", "image/svg+xml"),
            (
                "text/plain; name=\"a b.txt\"",
                "text/plain; name=\"a b.txt\"",
            ),
            ("", DEFAULT_TYPE),
            ("pdf", DEFAULT_TYPE),
            ("text/", DEFAULT_TYPE),
            ("text/plain\r\nBcc: x@evil.example", DEFAULT_TYPE),
            ("text/plain; charset", DEFAULT_TYPE),
            ("multipart/mixed; boundary=x", DEFAULT_TYPE),
            ("message/rfc822", DEFAULT_TYPE),
            ("te xt/plain", DEFAULT_TYPE),
        ] {
            assert_eq!(content_type(raw), kept, "{raw:?}");
        }
    }

    #[test]
    fn files_decode_exactly() {
        let bytes: Vec<u8> = (0..=255).collect();
        let encoded = b64(&bytes);
        // Wrapped at 76 columns and unpadded, as some encoders write it.
        let wrapped: String = encoded
            .trim_end_matches('=')
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        for e in [&encoded, &wrapped] {
            let data = json!({"attachments": [{"filename": "all.bin", "content_base64": e}]});
            let files = from_data(&data).unwrap();
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].content, bytes);
            assert_eq!(files[0].content_type, DEFAULT_TYPE);
            assert_eq!(files[0].filename, "all.bin");
        }
        assert!(from_data(&json!({})).unwrap().is_empty());
        assert!(from_data(&json!({"attachments": null})).unwrap().is_empty());
        assert!(from_data(&json!({"attachments": []})).unwrap().is_empty());
        let empty = from_data(&json!({"attachments": [{"content_base64": ""}]})).unwrap();
        assert_eq!(
            (empty[0].filename.as_str(), empty[0].content.len()),
            (DEFAULT_NAME, 0)
        );
    }

    #[test]
    fn bad_lists_name_the_item_and_key() {
        let big = "A".repeat((MAX_FILE_BYTES / 3 + 1) * 4);
        let half = b64(&vec![7u8; MAX_FILE_BYTES]);
        let eleven: Vec<Value> = (0..=MAX_FILES)
            .map(|_| json!({"content_base64": "eA=="}))
            .collect();
        for (data, part, says) in [
            (
                json!({"attachments": "x"}),
                "data.attachments",
                "must be a list",
            ),
            (
                json!({"attachments": eleven}),
                "data.attachments",
                "at most 10",
            ),
            (
                json!({"attachments": [1]}),
                "data.attachments[0]",
                "must be an object",
            ),
            (
                json!({"attachments": [{"filename": "a"}]}),
                "data.attachments[0].content_base64",
                "is required",
            ),
            (
                json!({"attachments": [{"content_base64": "eA==", "filename": 3}]}),
                "data.attachments[0].filename",
                "must be a string",
            ),
            (
                json!({"attachments": [{"content_base64": "eA=="}, {"content_base64": "not base64!"}]}),
                "data.attachments[1].content_base64",
                "is not valid base64",
            ),
            (
                json!({"attachments": [{"content_base64": big}]}),
                "data.attachments[0].content_base64",
                "larger than 5242880 bytes",
            ),
            (
                json!({"attachments": [{"content_base64": half}, {"content_base64": half}, {"content_base64": "eA=="}]}),
                "data.attachments[2].content_base64",
                "together exceed 10485760 bytes",
            ),
        ] {
            let e = from_data(&data).unwrap_err();
            assert_eq!(e.part(), part, "{e}");
            assert!(e.message().contains(says), "{e}");
        }
        // Exactly at the caps is fine.
        let data = json!({"attachments": [{"content_base64": half}, {"content_base64": half}]});
        assert_eq!(from_data(&data).unwrap().len(), 2);
    }
}
