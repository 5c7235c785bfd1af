//! GitHub: open an issue per event, or comment on one issue.
//!
//! The body is GitHub Markdown: severity line, body, fields as a table,
//! links as Markdown links, footer in `<sub>`.

use serde::Deserialize;
use serde_json::json;

use crate::catalog::{self, ProviderInfo, limit, setting};
use crate::error::RenderError;
use crate::facts::{Batches, Facts};
use crate::fit::{self, Budget};
use crate::format::{self, cut_markdown, fit_text, md_links_within};
use crate::judge::{self, Answer};
use crate::notification::{EventInput, Notification, Severity};
use crate::rendered::HttpRequest;
use crate::settings::{Secret, Settings, UrlRule, check_list, destination};
use crate::template::{TemplateBuilder, Templates};
use crate::truncate::Limit;
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

pub(crate) const DEFAULT_URL: &str = "https://api.github.com";
// GitHub counts code points: 65,536 emoji are as long a body as 65,536
// letters.
pub(crate) const TITLE: Limit = Limit::code_points(256);
pub(crate) const BODY: Limit = Limit::code_points(65_536);
const FIELDS_MAX: usize = 100;
const VALUE: Limit = Limit::code_points(2000);
const LABEL: Limit = Limit::code_points(200);
const FOOTER: Limit = Limit::code_points(500);
const LINKS: Limit = Limit::code_points(10_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Issue,
    Comment,
}

#[derive(Debug, Clone)]
pub(crate) struct GitHub {
    base: String,
    token: Secret,
    repository: String,
    labels: Vec<String>,
    mode: Mode,
}

impl GitHub {
    pub(crate) fn parse(
        url: Option<&str>,
        s: &mut Settings,
        t: &mut TemplateBuilder,
        urls: &UrlPolicy,
    ) -> Result<Self, ValidationError> {
        // GitHub Enterprise Server lives at https://<host>/api/v3.
        let base = destination(url, Some(DEFAULT_URL), urls, UrlRule::Any)?;
        let base = base.as_str().trim_end_matches('/').to_string();
        let token: Secret = s.required("token")?;
        token.check("settings.token", 1, 1024)?;
        let repository: String = s.required("repository")?;
        check_repository(&repository)?;
        let labels: Vec<String> = s.or("labels", Vec::new())?;
        check_list("settings.labels", &labels, 100, 50)?;
        let mode = s.or("mode", Mode::Issue)?;
        let has_number = s.templated("issue_number", None, t)?;
        match (mode, has_number) {
            (Mode::Comment, false) => {
                return Err(ValidationError::new(
                    "settings.issue_number",
                    "is required in comment mode (a number or a template such as {{ event.data.issue }})",
                ));
            }
            (Mode::Issue, true) => {
                return Err(ValidationError::new(
                    "settings.issue_number",
                    "is used only with \"mode\": \"comment\"",
                ));
            }
            _ => {}
        }
        s.template(t)?;
        Ok(Self {
            base,
            token,
            repository,
            labels,
            mode,
        })
    }

    pub(crate) fn render(
        &self,
        n: &Notification,
        event: &EventInput<'_>,
        t: &Templates,
    ) -> Result<HttpRequest, RenderError> {
        let start = Budget {
            body: BODY.max,
            fields: FIELDS_MAX,
            value: VALUE.max,
        };
        let (url, body) = match self.mode {
            Mode::Issue => {
                let markdown = fit::fit(
                    start,
                    BODY.max,
                    |b| markdown(n, b, false),
                    |s| BODY.count(s),
                );
                let mut body = json!({
                    "title": fit_text(&n.title, TITLE, format::no_mentions),
                    "body": cut_markdown(&markdown, BODY),
                });
                if !self.labels.is_empty() {
                    body["labels"] = json!(self.labels);
                }
                (
                    format!("{}/repos/{}/issues", self.base, self.repository),
                    body,
                )
            }
            Mode::Comment => {
                let raw = t.session(event, n).render("issue_number")?;
                let number = raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        RenderError::new(
                            "issue_number",
                            format!(
                                "rendered `{}`, which is not a positive issue number",
                                Limit::code_points(40).line(&raw)
                            ),
                        )
                    })?;
                let markdown =
                    fit::fit(start, BODY.max, |b| markdown(n, b, true), |s| BODY.count(s));
                (
                    format!(
                        "{}/repos/{}/issues/{number}/comments",
                        self.base, self.repository
                    ),
                    json!({"body": cut_markdown(&markdown, BODY)}),
                )
            }
        };
        Ok(HttpRequest::post_json(url, &body)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .secret_header("authorization", format!("Bearer {}", self.token.expose())))
    }
}

/// `owner/repo` with GitHub's rules for both names.
fn check_repository(raw: &str) -> Result<(), ValidationError> {
    let err = || {
        ValidationError::new(
            "settings.repository",
            "must be `owner/repo`, e.g. herald-dev/herald",
        )
    };
    let (owner, repo) = raw.split_once('/').ok_or_else(err)?;
    let owner_ok = (1..=39).contains(&owner.len())
        && !owner.starts_with('-')
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let repo_ok = (1..=100).contains(&repo.len())
        && repo != "."
        && repo != ".."
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if owner_ok && repo_ok {
        Ok(())
    } else {
        Err(err())
    }
}

fn emoji(s: Severity) -> &'static str {
    match s {
        Severity::Success => "✅",
        Severity::Info => "ℹ️",
        Severity::Warning => "⚠️",
        Severity::Error => "❌",
        Severity::Critical => "🚨",
    }
}

/// A table cell, from escaped Markdown (where event text has no bare `|`
/// left to end the cell): line breaks would end the row.
fn cell(s: &str) -> String {
    s.replace("\r\n", "<br>").replace('\n', "<br>")
}

fn markdown(n: &Notification, b: &Budget, with_title: bool) -> String {
    let mut out = String::new();
    if with_title {
        out.push_str(&format!(
            "### {}\n\n",
            fit_text(&n.title, TITLE, format::markdown)
        ));
    }
    out.push_str(&format!(
        "{} **{}**\n\n",
        emoji(n.severity),
        n.severity.label()
    ));
    let body = n.body.fit(BODY.with_max(b.body), format::markdown);
    if !body.is_empty() {
        out.push_str(&body);
        out.push_str("\n\n");
    }
    let fields = fit::fields(&n.fields, b.fields);
    if !fields.is_empty() {
        out.push_str("| Field | Value |\n| --- | --- |\n");
        for f in &fields {
            out.push_str(&format!(
                "| {} | {} |\n",
                cell(&fit_text(&f.label, LABEL, format::markdown)),
                cell(&f.value.fit(VALUE.with_max(b.value), format::markdown))
            ));
        }
        out.push('\n');
    }
    if !n.links.is_empty() {
        out.push_str(&md_links_within(&n.links, LINKS, format::markdown));
        out.push_str("\n\n");
    }
    if !n.footer.text.is_empty() {
        // Markdown inside the HTML tag is still read as Markdown.
        out.push_str(&format!(
            "<sub>{}</sub>\n",
            fit_text(&n.footer.text, FOOTER, format::markdown)
        ));
    }
    out
}

/// 2xx success; 401/404/410/422 permanent with GitHub's `message`; 403
/// mentioning a rate limit, and 429, retry after `Retry-After`; other 4xx
/// permanent; 5xx retry.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = judge::error_text(body, &["message", "errors"]);
    let rate_limited =
        status == 429 || (status == 403 && body.to_ascii_lowercase().contains("rate limit"));
    if rate_limited {
        return Answer::retry(message, retry_after.and_then(judge::parse_retry_after));
    }
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Refused,
    url_is_credential: false,
    secret_settings: &["token"],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "github",
        setup: vec![
            "Create a fine-grained personal access token (or a GitHub App token) with Issues: read and write on the repository.",
            "Create the webhook with `provider: \"github\"` and `settings.token`, `repository` (`owner/name`).",
            "Send a test event; an issue appears (or, with `settings.mode: \"comment\"` and `issue_number`, a comment).",
        ],
        title: "GitHub",
        description: "Opens an issue per event, or comments on one issue (`mode: comment`), in \
                      GitHub Markdown with a fields table.",
        url: catalog::url(
            false,
            Some(DEFAULT_URL),
            "The API base; GitHub Enterprise Server: https://<host>/api/v3.",
        ),
        settings: vec![
            setting(
                "token",
                "string",
                "A token allowed to write issues (fine-grained: Issues read/write).",
            )
            .required(),
            setting("repository", "string", "`owner/repo`.").required(),
            setting("labels", "string[]", "Labels for new issues, at most 100."),
            setting(
                "mode",
                "enum(issue|comment)",
                "Open an issue per event, or comment on `issue_number`.",
            )
            .default(json!("issue")),
            setting(
                "issue_number",
                "string",
                "Template (Jinja), comment mode only (required there): the issue to comment on, e.g. `{{ event.data.issue }}`; \
                 must render a positive number.",
            ),
            catalog::template_setting(),
        ],
        limits: vec![
            limit("title", TITLE, "The issue title."),
            limit(
                "body",
                BODY,
                "The issue or comment body; body and fields shrink to fit.",
            ),
        ],
        // GitHub allows about 500 content-creating requests an hour.
        default_rate_limit: catalog::rate(0.13),
    }
}
