//! What a render produces: an HTTP request for the server to send, or an
//! email for its SMTP sender.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One attempt, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    Http(HttpRequest),
    Email(EmailMessage),
}

pub use herald_core::webhook::transform::HttpMethod;

/// A request to the provider's API. Header names are lower-case.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: String,
    /// Includes `content-type` and whatever authentication the provider
    /// needs; the server adds `user-agent` and `content-length`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Lower-case names of headers whose values must be masked in logs.
    pub secret_headers: Vec<String>,
}

impl HttpRequest {
    /// A JSON POST.
    pub(crate) fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: HttpMethod::Post,
            url: url.into(),
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            body: serde_json::to_vec(body).unwrap_or_default(),
            secret_headers: Vec::new(),
        }
    }

    pub(crate) fn secret_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_string(), value));
        self.secret_headers.push(name.to_string());
        self
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The value of a header, by lower-case name.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Headers with secret values replaced by `***`, for attempt logs.
    pub fn masked_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(n, v)| {
                let secret = self
                    .secret_headers
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(n));
                (
                    n.clone(),
                    if secret { "***".to_string() } else { v.clone() },
                )
            })
            .collect()
    }

    /// Scheme and host only: the path of a chat webhook URL is its secret.
    pub fn redacted_url(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
            Err(_) => "…".to_string(),
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("headers", &self.masked_headers())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// One email. The server adds `Message-ID`, `Date`, `Auto-Submitted` and
/// sends `text` and `html` as multipart/alternative (text first); an empty
/// `html` means a text-only message. With `attachments` the message is
/// multipart/mixed: the body first, then one part per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// `None`: the server's configured sender.
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Files from the event's `data.attachments`, already checked against
    /// the caps, named safely and decoded; empty unless the webhook allows
    /// attachments.
    pub attachments: Vec<EmailAttachment>,
    pub smtp: SmtpOverrides,
}

/// One attached file, ready to encode.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAttachment {
    /// A bare file name: no path, quotes or control characters, at most
    /// 200 characters, never empty.
    pub filename: String,
    /// A MIME type that parses (`type/subtype`, parameters allowed);
    /// `application/octet-stream` when the event gave none or a bad one.
    pub content_type: String,
    /// The decoded bytes.
    pub content: Vec<u8>,
}

// The bytes would flood a log; their count says enough.
impl fmt::Debug for EmailAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailAttachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// Per-webhook SMTP settings; each `None` falls back to the server's.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpOverrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for SmtpOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpOverrides")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connect, then STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No encryption: local relays and test servers only.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let req = HttpRequest::post_json(
            "https://hooks.slack.com/services/T0/B0/secretpath",
            &serde_json::json!({}),
        )
        .secret_header("authorization", "Bearer tok123".to_string());
        let dbg = format!("{req:?}");
        assert!(
            !dbg.contains("tok123") && !dbg.contains("secretpath"),
            "{dbg}"
        );
        assert!(dbg.contains("hooks.slack.com"));
        let smtp = SmtpOverrides {
            password: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{smtp:?}").contains("hunter2"));
    }
}
