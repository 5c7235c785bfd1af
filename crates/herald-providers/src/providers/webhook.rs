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
        setup: vec![
            "Run an HTTPS endpoint that answers 2xx quickly (queue the work, answer first).",
            "Create the webhook with its `url` and the event types it wants; read its signing secret with `GET /api/v1/webhooks/{id}/secret`.",
            "Verify each request's `webhook-signature` with a Standard Webhooks library, and drop repeats by `webhook-id`.",
            "Check it with `POST /api/v1/webhooks/{id}/test`.",
        ],
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
