//! Email: a subject, a text part and an HTML part; the server's SMTP sender
//! does the sending (and judges SMTP replies).
//!
//! `url` is not needed. It may be omitted, or be a `mailto:` URL whose
//! addresses join `to` (for clients that always send a URL).
//!
//! With `attachments: true` the event's `data.attachments` become files of
//! the message (see [`attachments`]); without it they are left out as
//! before, like every list in the data. A digest carries no files.

mod attachments;

use crate::catalog::{self, ProviderInfo, bytes, items, limit, setting};
use crate::error::RenderError;
use crate::facts::{Batches, Facts};
use crate::format::{html, html_attr, plain};
use crate::notification::{EventInput, Notification};
use crate::rendered::{EmailMessage, SmtpOverrides};
use crate::settings::{ChatOptions, Settings, check_text, email_address};
use crate::template::TemplateBuilder;
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;
use serde_json::json;

/// What an email webhook brings of its own; the rest comes from the
/// server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnMailSettings {
    /// `settings.smtp.host` is set.
    pub smtp_host: bool,
    /// `settings.from` is set.
    pub from: bool,
}

// Herald's own limits: mail has none that count characters, but a subject
// longer than a line is cut by many clients anyway.
pub(crate) const SUBJECT: Limit = Limit::code_points(200);
pub(crate) const RECIPIENTS_MAX: usize = 50;
/// The body in the text and HTML parts.
pub(crate) const BODY: Limit = Limit::code_points(100_000);
const FIELDS_MAX: usize = 200;

#[derive(Debug, Clone)]
pub(crate) struct Email {
    pub(crate) chat: ChatOptions,
    from: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    subject_prefix: Option<String>,
    /// `attachments`: files from `data.attachments` are sent.
    attachments: bool,
    smtp: SmtpOverrides,
}

impl Email {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        let mut to = addresses(s, "to")?;
        if let Some(url) = url {
            let Some(list) = url.strip_prefix("mailto:") else {
                return Err(ValidationError::new(
                    "url",
                    "email takes no URL: omit it (or give a mailto: URL) and list recipients in settings.to",
                ));
            };
            let list = list.split('?').next().unwrap_or_default();
            for raw in list.split(',').filter(|a| !a.trim().is_empty()) {
                let decoded = percent_decode(raw.trim());
                let addr = email_address("url", &decoded, false)?;
                if !to.contains(&addr) {
                    to.push(addr);
                }
            }
        }
        if to.is_empty() {
            return Err(ValidationError::new(
                "settings.to",
                "is required (1 to 50 addresses)",
            ));
        }
        if to.len() > RECIPIENTS_MAX {
            return Err(ValidationError::new(
                "settings.to",
                format!("may hold at most {RECIPIENTS_MAX} addresses"),
            ));
        }
        let cc = addresses(s, "cc")?;
        let bcc = addresses(s, "bcc")?;
        let from = s
            .take::<String>("from")?
            .map(|f| email_address("settings.from", &f, true))
            .transpose()?;
        let subject_prefix = s.take_text("subject_prefix", 1, 50)?;
        let attachments = s.or("attachments", false)?;
        let smtp: SmtpOverrides = s.or("smtp", SmtpOverrides::default())?;
        check_smtp(&smtp, urls).map_err(|e| e.within("settings.smtp"))?;
        let chat = ChatOptions::take(s, None)?;
        s.template(t)?;
        Ok(Self {
            chat,
            from,
            to,
            cc,
            bcc,
            subject_prefix,
            attachments,
            smtp,
        })
    }

    pub(crate) fn own_settings(&self) -> OwnMailSettings {
        OwnMailSettings {
            smtp_host: self.smtp.host.is_some(),
            from: self.from.is_some(),
        }
    }

    /// The message for `n`; an error only when the webhook allows
    /// attachments and the event's are not valid or over the caps.
    pub(crate) fn render(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
    ) -> Result<EmailMessage, RenderError> {
        let attachments = if self.attachments {
            attachments::from_data(event.data)?
        } else {
            Vec::new()
        };
        let mut n = n.clone();
        n.body = n.body.cut(BODY);
        n.fields = crate::fit::fields(&n.fields, FIELDS_MAX);
        let subject = match &self.subject_prefix {
            Some(p) => format!("{p} {}", n.title),
            None => n.title.clone(),
        };
        Ok(EmailMessage {
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            subject: SUBJECT.line(&subject),
            text: text_part(&n),
            html: if self.chat.rich {
                html_part(&n, &self.chat.color(n.severity))
            } else {
                String::new()
            },
            attachments,
            smtp: self.smtp.clone(),
        })
    }
}

fn addresses(s: &mut Settings, name: &'static str) -> Result<Vec<String>, ValidationError> {
    let list: Vec<String> = s.or(name, Vec::new())?;
    if list.len() > RECIPIENTS_MAX {
        return Err(ValidationError::new(
            format!("settings.{name}"),
            format!("may hold at most {RECIPIENTS_MAX} addresses"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let addr = email_address(&format!("settings.{name}[{i}]"), raw, false)?;
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    Ok(out)
}

/// A webhook's own mail server is a destination like a URL: a literal
/// address must pass the address rule (a name is checked when the sender
/// resolves it).
fn check_smtp(smtp: &SmtpOverrides, urls: &UrlPolicy) -> Result<(), ValidationError> {
    if let Some(host) = &smtp.host {
        check_text("host", host, 1, 253)?;
        if host.contains(char::is_whitespace) || host.contains('/') {
            return Err(ValidationError::new(
                "host",
                "must be a host name or IP address",
            ));
        }
        urls.check_host("host", host)?;
    }
    if smtp.port == Some(0) {
        return Err(ValidationError::new("port", "must be between 1 and 65535"));
    }
    if let Some(u) = &smtp.username {
        check_text("username", u, 1, 320)?;
    }
    if let Some(p) = &smtp.password {
        check_text("password", p, 0, 1024)?;
    }
    Ok(())
}

/// `%40` → `@` in mailto addresses.
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Title, body, `Label: value` lines, `Label: URL` lines, footer.
fn text_part(n: &Notification) -> String {
    let mut out = String::new();
    out.push_str(&n.title);
    out.push_str("\n\n");
    if !n.body.is_empty() {
        out.push_str(&n.body.render(plain));
        out.push_str("\n\n");
    }
    for f in &n.fields {
        out.push_str(&format!("{}: {}\n", f.label, f.value.render(plain)));
    }
    if !n.fields.is_empty() {
        out.push('\n');
    }
    for l in &n.links {
        out.push_str(&format!("{}: {}\n", l.label, l.url));
    }
    if !n.links.is_empty() {
        out.push('\n');
    }
    if !n.footer.text.is_empty() {
        out.push_str("-- \n");
        out.push_str(&n.footer.text);
        out.push('\n');
    }
    out
}

/// A single-column table layout with inline styles (mail clients ignore
/// style sheets); every piece of event text is HTML-escaped (markup the
/// owner wrote in a body or field template is kept, as HTML).
fn html_part(n: &Notification, color: &str) -> String {
    let color = html_attr(color);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n");
    out.push_str("<body style=\"margin:0;padding:16px;background:#f6f6f6;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d1c1d\">\n");
    out.push_str(&format!(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:640px;background:#ffffff;border-left:6px solid {color}\">\n"
    ));
    out.push_str(&format!(
        "<tr><td style=\"padding:16px 20px 4px\"><div style=\"font-size:12px;font-weight:bold;color:{color};text-transform:uppercase\">{}</div>\n<h1 style=\"margin:4px 0 0;font-size:20px\">{}</h1></td></tr>\n",
        n.severity.label(),
        html(&n.title)
    ));
    if !n.body.is_empty() {
        out.push_str(&format!(
            "<tr><td style=\"padding:8px 20px;white-space:pre-wrap\">{}</td></tr>\n",
            n.body.render(html)
        ));
    }
    if !n.fields.is_empty() {
        out.push_str("<tr><td style=\"padding:8px 20px\"><table role=\"presentation\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse\">\n");
        for f in &n.fields {
            out.push_str(&format!(
                "<tr><th align=\"left\" style=\"padding:4px 16px 4px 0;color:#616061;font-weight:normal\">{}</th><td style=\"padding:4px 0\">{}</td></tr>\n",
                html(&f.label),
                f.value.render(html)
            ));
        }
        out.push_str("</table></td></tr>\n");
    }
    if !n.links.is_empty() {
        out.push_str("<tr><td style=\"padding:12px 20px\">");
        for l in &n.links {
            out.push_str(&format!(
                "<a href=\"{}\" style=\"display:inline-block;margin:0 8px 8px 0;padding:8px 14px;background:{color};color:#ffffff;text-decoration:none;border-radius:4px\">{}</a>",
                html_attr(&l.url),
                html(&l.label)
            ));
        }
        out.push_str("</td></tr>\n");
    }
    if !n.footer.text.is_empty() {
        out.push_str(&format!(
            "<tr><td style=\"padding:12px 20px 16px;font-size:12px;color:#868686\">{}</td></tr>\n",
            html(&n.footer.text)
        ));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Digest,
    url_is_credential: false,
    secret_settings: &["smtp.password"],
};

pub(crate) fn info() -> ProviderInfo {
    let mut settings = vec![
        setting("to", "string[]", "Recipients, 1 to 50 addresses.").required(),
        setting("cc", "string[]", "Copy recipients, at most 50."),
        setting("bcc", "string[]", "Blind copy recipients, at most 50."),
        setting(
            "from",
            "string",
            "Sender (`Herald <alerts@example.com>`); default: the server's.",
        ),
        setting(
            "subject_prefix",
            "string",
            "Put before the title in the subject, e.g. `[prod]`.",
        ),
        setting(
            "attachments",
            "boolean",
            "Attach the files the event lists in `data.attachments` \
             ([{filename, content_type, content_base64}]): at most 10 files, 5 MiB each and \
             10 MiB together; names are reduced to a safe file name, a missing or invalid type \
             is sent as application/octet-stream. A list that is not valid or over the caps \
             fails the delivery at once. Off: the list is ignored.",
        )
        .default(json!(false)),
        setting(
            "smtp",
            "object",
            "Per-webhook SMTP server: {host, port, tls (starttls|implicit|none), username, password}; \
             each defaults to the server's.",
        ),
    ];
    settings.extend(catalog::chat_settings(None));
    ProviderInfo {
        name: "email",
        setup: vec![
            "Start Herald with a mail server: `HERALD_SMTP_URL` (smtp:// with STARTTLS on 587, smtps:// on 465) and `HERALD_SMTP_FROM`.",
            "Create the webhook with `provider: \"email\"` and `settings.to` (and `cc`, `bcc` if needed).",
            "Send a test event and check the inbox (and the spam folder, until the sender's SPF and DKIM are set up).",
            "To send files, set `settings.attachments: true` and post events with `data.attachments: [{\"filename\": \"report.pdf\", \"content_type\": \"application/pdf\", \"content_base64\": \"…\"}]` (mind HERALD_MAX_EVENT_DATA_BYTES, 256 KiB by default).",
        ],
        title: "Email",
        description: "A multipart email: text part and an HTML part with a severity colour bar, \
                      a fields table and link buttons.",
        url: catalog::url(
            false,
            None,
            "Not used; omit it, or give a mailto: URL whose addresses join `to`.",
        ),
        settings,
        limits: vec![
            limit("subject", SUBJECT, "The subject (one line)."),
            items(
                "recipients",
                RECIPIENTS_MAX,
                "Addresses in each of to, cc and bcc.",
            ),
            limit("body", BODY, "The body in each part."),
            items(
                "attachments",
                attachments::MAX_FILES,
                "Files per message, with `settings.attachments`.",
            ),
            bytes(
                "attachment_bytes",
                attachments::MAX_FILE_BYTES,
                "Decoded bytes of one file.",
            ),
            bytes(
                "attachments_total_bytes",
                attachments::MAX_TOTAL_BYTES,
                "Decoded bytes of all files of a message.",
            ),
        ],
        default_rate_limit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_addresses_decode() {
        assert_eq!(percent_decode("ops%40example.com"), "ops@example.com");
        assert_eq!(percent_decode("a+b@example.com"), "a+b@example.com");
    }
}
