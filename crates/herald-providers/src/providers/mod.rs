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

use crate::catalog::ProviderInfo;
use crate::facts::Facts;
use crate::kind::ProviderKind;

pub(crate) fn facts(kind: ProviderKind) -> &'static Facts {
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
