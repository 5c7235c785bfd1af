//! The plain webhook: the server sends its own signed JSON envelope, so
//! there is nothing to render and no settings to take.

use crate::catalog::{self, ProviderInfo};
use crate::facts::{Batches, Facts};
use crate::judge::{self, Answer};
use crate::settings::{UrlRule, destination};
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

pub(crate) fn parse(url: Option<&str>, urls: &UrlPolicy) -> Result<(), ValidationError> {
    destination(url, None, urls, UrlRule::Any).map(|_| ())
}

/// 2xx success; 408, 429 and 5xx retry; other statuses permanent.
pub(crate) fn judge(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
    let message = (!(200..300).contains(&status))
        .then(|| judge::body_text(body))
        .flatten();
    judge::by_status(status, message, retry_after)
}

pub(crate) const FACTS: Facts = Facts {
    batches: Batches::Array,
    url_is_credential: false,
    secret_settings: &[],
};

pub(crate) fn info() -> ProviderInfo {
    ProviderInfo {
        name: "webhook",
        title: "Webhook",
        description: "A signed HTTP POST of the event as JSON ({id, type, timestamp, data}), \
                      Standard Webhooks signatures by default.",
        url: catalog::url(
            true,
            None,
            "The receiver's URL (https://; http:// only in --dev mode or with HERALD_ALLOW_HTTP).",
        ),
        settings: Vec::new(),
        limits: Vec::new(),
        default_rate_limit: None,
    }
}
