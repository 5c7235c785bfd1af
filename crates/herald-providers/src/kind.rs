//! The closed list of integrations a webhook can be, and what each answers
//! before it is configured (batches, credential URLs and settings, rate).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which service a webhook delivers to. `Webhook` is a plain signed HTTP
/// POST of the event; every other kind renders the service's own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[default]
    Webhook,
    Slack,
    Teams,
    Discord,
    Mattermost,
    GoogleChat,
    Email,
    #[serde(rename = "pagerduty")]
    PagerDuty,
    Jira,
    #[serde(rename = "github")]
    GitHub,
    Datadog,
    Zapier,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 12] = [
        Self::Webhook,
        Self::Slack,
        Self::Teams,
        Self::Discord,
        Self::Mattermost,
        Self::GoogleChat,
        Self::Email,
        Self::PagerDuty,
        Self::Jira,
        Self::GitHub,
        Self::Datadog,
        Self::Zapier,
    ];

    /// The name used in the API (`google_chat`, `pagerduty`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Discord => "discord",
            Self::Mattermost => "mattermost",
            Self::GoogleChat => "google_chat",
            Self::Email => "email",
            Self::PagerDuty => "pagerduty",
            Self::Jira => "jira",
            Self::GitHub => "github",
            Self::Datadog => "datadog",
            Self::Zapier => "zapier",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); exact, lower-case names only.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse_and_serde() {
        for kind in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ProviderKind>(&json).unwrap(), kind);
        }
        assert_eq!(ProviderKind::parse("Slack"), None);
        assert_eq!(ProviderKind::parse("google-chat"), None);
    }
}
