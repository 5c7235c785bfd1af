//! Email delivery: turns a rendered message into MIME and hands it to an
//! SMTP server, keeping one pooled transport per server and account. A
//! webhook's own server is a destination like a URL: outside dev mode its
//! name is resolved and checked here, and the connection goes to the
//! checked address while TLS still verifies the name. The operator's
//! `HERALD_SMTP_URL` server is trusted as configured.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::delivery::ErrorCategory;
use herald_core::retry::Verdict;
use herald_providers::{EmailAttachment, EmailMessage, SmtpOverrides, SmtpTls};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::destination::{Destinations, ResolveError};
use crate::config::SmtpServer;
use crate::config::smtp::default_port;

impl SmtpServer {
    /// The server a webhook uses: its own settings over the server-wide
    /// default, field by field.
    fn resolve(defaults: Option<&SmtpServer>, o: &SmtpOverrides) -> Option<SmtpServer> {
        let host = o
            .host
            .clone()
            .or_else(|| defaults.map(|d| d.host.clone()))?;
        // A webhook naming its own host does not inherit the default account.
        let inherit = defaults.filter(|d| o.host.is_none() || o.host.as_deref() == Some(&d.host));
        let tls = o
            .tls
            .or(inherit.map(|d| d.tls))
            .unwrap_or(SmtpTls::Starttls);
        Some(SmtpServer {
            port: o
                .port
                .or(inherit.map(|d| d.port))
                .unwrap_or(default_port(tls)),
            tls,
            username: o
                .username
                .clone()
                .or_else(|| inherit.and_then(|d| d.username.clone())),
            password: o
                .password
                .clone()
                .or_else(|| inherit.and_then(|d| d.password.clone())),
            host,
        })
    }
}

/// What one SMTP hand-over came to.
pub(crate) struct MailResult {
    /// The server's final reply, for the attempt log.
    pub(crate) reply: Option<String>,
    pub(crate) error: Option<(ErrorCategory, String)>,
    pub(crate) verdict: Verdict,
}

impl MailResult {
    fn failed(verdict: Verdict, category: ErrorCategory, message: String) -> MailResult {
        MailResult {
            reply: None,
            error: Some((category, message)),
            verdict,
        }
    }
}

/// A transport is kept per server and per address it connects to (the
/// checked address of a webhook's own server, or `None` to let the mail
/// client resolve the name).
type TransportKey = (SmtpServer, Option<IpAddr>);

/// Sends rendered messages; cheap to share.
pub(crate) struct Mailer {
    default_server: Option<SmtpServer>,
    default_from: Option<String>,
    destinations: Arc<Destinations>,
    transports: Mutex<HashMap<TransportKey, AsyncSmtpTransport<Tokio1Executor>>>,
}

impl Mailer {
    pub(crate) fn new(
        default_server: Option<SmtpServer>,
        default_from: Option<String>,
        destinations: Arc<Destinations>,
    ) -> Mailer {
        Mailer {
            default_server,
            default_from,
            destinations,
            transports: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `server` is the operator's own (same host and port as
    /// `HERALD_SMTP_URL`), which is trusted and not checked.
    fn is_default(&self, server: &SmtpServer) -> bool {
        self.default_server
            .as_ref()
            .is_some_and(|d| d.host.eq_ignore_ascii_case(&server.host) && d.port == server.port)
    }

    /// The checked address to connect to for a webhook's own server, or
    /// `None` to leave resolution to the mail client (the operator's
    /// server, or dev mode without an override for the name).
    async fn connect_address(
        &self,
        server: &SmtpServer,
        timeout: Duration,
    ) -> Result<Option<IpAddr>, MailResult> {
        if self.is_default(server) || !self.destinations.resolves(&server.host) {
            return Ok(None);
        }
        match tokio::time::timeout(timeout, self.destinations.resolve(&server.host)).await {
            Err(_) => Err(MailResult::failed(
                Verdict::Retryable,
                ErrorCategory::Timeout,
                "resolving the mail server took longer than the timeout".to_string(),
            )),
            Ok(Ok(addresses)) => Ok(addresses.first().copied()),
            Ok(Err(ResolveError::Blocked(blocked))) => {
                // A name may resolve elsewhere later; a literal cannot.
                let verdict = if blocked.is_literal() {
                    Verdict::Permanent
                } else {
                    Verdict::Retryable
                };
                Err(MailResult::failed(
                    verdict,
                    ErrorCategory::BlockedDestination,
                    blocked.to_string(),
                ))
            }
            Ok(Err(e)) => Err(MailResult::failed(
                Verdict::Retryable,
                ErrorCategory::Dns,
                format!("mail server: {e}"),
            )),
        }
    }

    /// The setting an email webhook lacks, if this server has no default
    /// for it either: its field and why.
    pub(crate) fn missing_setting(
        &self,
        has_host: bool,
        has_from: bool,
    ) -> Option<(&'static str, &'static str)> {
        if !has_host && self.default_server.is_none() {
            return Some((
                "settings.smtp.host",
                "is required: this server has no HERALD_SMTP_URL",
            ));
        }
        if !has_from && self.default_from.is_none() {
            return Some((
                "settings.from",
                "is required: this server has no HERALD_SMTP_FROM",
            ));
        }
        None
    }

    pub(crate) async fn send(
        &self,
        message: &EmailMessage,
        event_id: &str,
        timeout: Duration,
    ) -> MailResult {
        let Some(server) = SmtpServer::resolve(self.default_server.as_ref(), &message.smtp) else {
            return MailResult::failed(
                Verdict::Permanent,
                ErrorCategory::Request,
                "no SMTP server configured (HERALD_SMTP_URL or settings.smtp.host)".to_string(),
            );
        };
        let mime = match self.build(message, event_id) {
            Ok(m) => m,
            Err(e) => return MailResult::failed(Verdict::Permanent, ErrorCategory::Request, e),
        };
        let connect_to = match self.connect_address(&server, timeout).await {
            Ok(address) => address,
            Err(refused) => return refused,
        };
        let transport = match self.transport(&server, connect_to, timeout) {
            Ok(t) => t,
            Err(e) => {
                return MailResult::failed(
                    Verdict::Permanent,
                    ErrorCategory::Request,
                    format!("SMTP setup: {e}"),
                );
            }
        };
        match tokio::time::timeout(timeout, transport.send(mime)).await {
            Err(_) => MailResult::failed(
                Verdict::Retryable,
                ErrorCategory::Timeout,
                "the mail server did not answer within the timeout".to_string(),
            ),
            Ok(Ok(response)) => MailResult {
                reply: Some(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
                error: None,
                verdict: Verdict::Success,
            },
            Ok(Err(e)) => {
                let (verdict, category) = classify(&e);
                MailResult::failed(verdict, category, describe(&e, self.is_default(&server)))
            }
        }
    }

    fn build(&self, message: &EmailMessage, event_id: &str) -> Result<Message, String> {
        let from = message
            .from
            .as_deref()
            .or(self.default_from.as_deref())
            .ok_or("no sender address (HERALD_SMTP_FROM or settings.from)")?;
        let mailbox = |a: &str| -> Result<Mailbox, String> {
            a.parse().map_err(|e| format!("address `{a}`: {e}"))
        };
        let from = mailbox(from)?;
        let domain = from.email.domain().to_string();
        let mut builder = Message::builder()
            .from(from)
            .subject(message.subject.clone())
            // The event id ties the message to its event; the random part
            // keeps every message (retries included) unique.
            .message_id(Some(format!(
                "<{event_id}.{}@{domain}>",
                herald_core::ids::new_id("m")
            )))
            .date_now()
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_string(),
            ));
        for to in &message.to {
            builder = builder.to(mailbox(to)?);
        }
        for cc in &message.cc {
            builder = builder.cc(mailbox(cc)?);
        }
        for bcc in &message.bcc {
            builder = builder.bcc(mailbox(bcc)?);
        }
        // Without rich formatting the provider renders no HTML part.
        let built = match (message.html.is_empty(), message.attachments.is_empty()) {
            (true, true) => builder.singlepart(SinglePart::plain(message.text.clone())),
            (false, true) => builder.multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            )),
            (html_empty, false) => {
                // multipart/mixed: the body as it would go alone, then the files.
                let mut mixed = if html_empty {
                    MultiPart::mixed().singlepart(SinglePart::plain(message.text.clone()))
                } else {
                    MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
                        message.text.clone(),
                        message.html.clone(),
                    ))
                };
                for file in &message.attachments {
                    mixed = mixed.singlepart(attachment(file)?);
                }
                builder.multipart(mixed)
            }
        };
        built.map_err(|e| format!("cannot build the message: {e}"))
    }

    fn transport(
        &self,
        server: &SmtpServer,
        connect_to: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
        let mut transports = self.transports.lock().expect("transports lock");
        let key = (server.clone(), connect_to);
        if let Some(t) = transports.get(&key) {
            return Ok(t.clone());
        }
        // The certificate is checked against the name, whichever address
        // the connection goes to.
        let tls = match server.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(TlsParameters::new(server.host.clone())?),
            SmtpTls::Implicit => Tls::Wrapper(TlsParameters::new(server.host.clone())?),
        };
        let address = connect_to.map_or_else(|| server.host.clone(), |ip| ip.to_string());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address)
            .port(server.port)
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(4));
        if let Some(user) = &server.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                server.password.clone().unwrap_or_default(),
            ));
        }
        let transport = builder.build();
        transports.insert(key, transport.clone());
        Ok(transport)
    }
}

/// One file as a MIME part, always base64 so its bytes arrive exactly
/// (no line-ending rewrite of text files).
fn attachment(file: &EmailAttachment) -> Result<SinglePart, String> {
    // The provider only passes types that parse; the fallback is for safety.
    let content_type = ContentType::parse(&file.content_type)
        .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a MIME type"));
    let body = Body::new_with_encoding(file.content.clone(), ContentTransferEncoding::Base64)
        .map_err(|_| format!("cannot encode the attachment `{}`", file.filename))?;
    Ok(Attachment::new(file.filename.clone()).body(body, content_type))
}

/// SMTP 4xx replies and connection trouble are worth retrying; 5xx replies
/// are the server's final word.
fn classify(e: &SmtpError) -> (Verdict, ErrorCategory) {
    if describe(e, true).contains("STARTTLS is not supported") {
        // The connection could not be secured as configured.
        (Verdict::Retryable, ErrorCategory::Tls)
    } else if e.is_permanent() {
        (Verdict::Permanent, ErrorCategory::Smtp)
    } else if e.is_transient() {
        (Verdict::Retryable, ErrorCategory::Smtp)
    } else if e.is_timeout() {
        (Verdict::Retryable, ErrorCategory::Timeout)
    } else if e.is_tls() {
        (Verdict::Retryable, ErrorCategory::Tls)
    } else {
        (Verdict::Retryable, ErrorCategory::Connect)
    }
}

/// The error and its causes, each said once (lettre's errors already
/// include their cause's text), with what to change when the fix is a
/// setting. `default_server` says whether the server came from
/// `HERALD_SMTP_URL` or from the webhook's own settings.
fn describe(e: &SmtpError, default_server: bool) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    if text.contains("STARTTLS is not supported") {
        text.push_str(if default_server {
            "; for a plain local relay add `?tls=none` to HERALD_SMTP_URL"
        } else {
            "; for a plain local relay set `settings.smtp.tls` to `none`"
        });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> anyhow::Result<SmtpServer> {
        SmtpServer::from_url(&secrecy::SecretString::from(s.to_string()))
    }

    #[test]
    fn smtp_urls_parse_with_defaults() {
        let s = url("smtp://alerts%40acme.com:p%40ss@mail.acme.com").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.tls),
            ("mail.acme.com", 587, SmtpTls::Starttls)
        );
        assert_eq!(s.username.as_deref(), Some("alerts@acme.com"));
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert!(!format!("{s:?}").contains("p@ss"));
        let s = url("smtps://mail.acme.com").unwrap();
        assert_eq!((s.port, s.tls), (465, SmtpTls::Implicit));
        let s = url("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((s.port, s.tls), (2525, SmtpTls::None));
        assert!(url("http://mail.acme.com").is_err());
        assert!(url("smtp://mail.acme.com?tls=maybe").is_err());
    }

    #[test]
    fn webhook_settings_override_the_default_server() {
        let default = url("smtp://user:pw@mail.acme.com:2525").unwrap();
        let own = SmtpOverrides {
            host: Some("relay.example.org".into()),
            port: None,
            tls: Some(SmtpTls::None),
            username: None,
            password: None,
        };
        let s = SmtpServer::resolve(Some(&default), &own).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("relay.example.org", 25));
        assert_eq!(
            s.username, None,
            "another host does not get the default account"
        );
        let same_host = SmtpOverrides {
            host: None,
            port: None,
            tls: None,
            username: None,
            password: None,
        };
        let s = SmtpServer::resolve(Some(&default), &same_host).unwrap();
        assert_eq!(s, default);
        assert!(SmtpServer::resolve(None, &same_host).is_none());
    }
}
