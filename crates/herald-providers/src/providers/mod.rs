//! One module per service: its settings, how it renders a notification, its
//! limits, and how it judges the service's answers.

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

use crate::catalog::ProviderInfo;
use crate::kind::ProviderKind;

pub(crate) fn info(kind: ProviderKind) -> ProviderInfo {
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
