//! One module per service: its settings, how it renders a notification, its
//! limits, how it judges the service's answers, and its [`Facts`].

pub(crate) mod datadog;
pub(crate) mod discord;
pub(crate) mod email;
pub(crate) mod github;
pub(crate) mod google_chat;
pub(crate) mod jira;
pub(crate) mod mattermost;
pub(crate) mod pagerduty;
pub(crate) mod slack;
pub(crate) mod teams;
pub(crate) mod webhook;
pub(crate) mod zapier;

use herald_core::ValidationError;
use serde_json::Value;

use crate::catalog::{ProviderInfo, RateLimit};
use crate::facts::{self, Batches, Facts};
use crate::kind::ProviderKind;

/// What can be asked of a provider before any webhook is configured, each
/// answered from the provider's own module.
impl ProviderKind {
    fn facts(self) -> &'static Facts {
        facts(self)
    }

    pub(crate) fn batches(self) -> Batches {
        self.facts().batches
    }

    /// Whether several events may go out as one request (a JSON array, or
    /// a digest message for chat and email); see
    /// [`Provider::render_batch`](crate::Provider::render_batch).
    pub fn accepts_batches(self) -> bool {
        self.batches() != Batches::Refused
    }

    /// Whether a batch becomes one digest message (chat and email) rather
    /// than an array of events.
    pub fn sends_digests(self) -> bool {
        self.batches() == Batches::Digest
    }

    /// Refuses a webhook's `batch` for a provider that takes one event per
    /// request, naming the field.
    pub fn check_batch(self) -> Result<(), ValidationError> {
        if self.accepts_batches() {
            return Ok(());
        }
        Err(ValidationError::new(
            "batch",
            format!(
                "{self} takes one event per request (batches go to webhook, zapier, chat and email providers)"
            ),
        ))
    }

    /// Whether the webhook's URL is itself a credential (chat and Zapier
    /// hooks: whoever has it can post), so it is never shown whole.
    pub fn url_is_credential(self) -> bool {
        self.facts().url_is_credential
    }

    /// The settings that are credentials, as dotted paths under `settings`
    /// (`routing_key`, `smtp.password`).
    pub fn secret_settings(self) -> &'static [&'static str] {
        self.facts().secret_settings
    }

    /// A webhook's `settings` as answers show them: every
    /// [secret setting](Self::secret_settings) replaced by `mask` of it.
    pub fn mask_settings(self, settings: &Value, mask: impl Fn(&str) -> String) -> Value {
        facts::mask_paths(settings, self.secret_settings(), mask)
    }

    /// The pace the service documents per webhook, used when a webhook sets
    /// no `rate_limit` of its own.
    pub fn default_rate_limit(self) -> Option<RateLimit> {
        info(self).default_rate_limit
    }
}

/// Every provider, in [`ProviderKind::ALL`] order.
pub fn catalog() -> Vec<ProviderInfo> {
    ProviderKind::ALL.into_iter().map(info).collect()
}

fn facts(kind: ProviderKind) -> &'static Facts {
    match kind {
        ProviderKind::Webhook => &webhook::FACTS,
        ProviderKind::Slack => &slack::FACTS,
        ProviderKind::Teams => &teams::FACTS,
        ProviderKind::Discord => &discord::FACTS,
        ProviderKind::Mattermost => &mattermost::FACTS,
        ProviderKind::GoogleChat => &google_chat::FACTS,
        ProviderKind::Email => &email::FACTS,
        ProviderKind::PagerDuty => &pagerduty::FACTS,
        ProviderKind::Jira => &jira::FACTS,
        ProviderKind::GitHub => &github::FACTS,
        ProviderKind::Datadog => &datadog::FACTS,
        ProviderKind::Zapier => &zapier::FACTS,
    }
}

/// One provider's description.
pub fn info(kind: ProviderKind) -> ProviderInfo {
    match kind {
        ProviderKind::Webhook => webhook::info(),
        ProviderKind::Slack => slack::info(),
        ProviderKind::Teams => teams::info(),
        ProviderKind::Discord => discord::info(),
        ProviderKind::Mattermost => mattermost::info(),
        ProviderKind::GoogleChat => google_chat::info(),
        ProviderKind::Email => email::info(),
        ProviderKind::PagerDuty => pagerduty::info(),
        ProviderKind::Jira => jira::info(),
        ProviderKind::GitHub => github::info(),
        ProviderKind::Datadog => datadog::info(),
        ProviderKind::Zapier => zapier::info(),
    }
}
