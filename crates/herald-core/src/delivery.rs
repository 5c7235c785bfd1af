//! Delivery states and the categories of failed attempts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a delivery (one event to one webhook) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Held until the time its event was posted for (`deliver_at`,
    /// `delay_ms`); can be cancelled until then.
    Scheduled,
    /// Waiting for its first attempt (or held while the webhook is paused).
    Pending,
    /// Claimed by a worker; an attempt is under way.
    Delivering,
    /// An attempt failed; the next one is scheduled.
    Retrying,
    Delivered,
    /// Gave up: the dead letter state. Can be re-queued by hand.
    Failed,
    /// Not sent on purpose (its provider is switched off on this server);
    /// the attempt record says why.
    Skipped,
    /// A scheduled delivery whose event was cancelled before it was due.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 8] = [
        Self::Scheduled,
        Self::Pending,
        Self::Delivering,
        Self::Retrying,
        Self::Delivered,
        Self::Failed,
        Self::Skipped,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Pending => "pending",
            Self::Delivering => "delivering",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown delivery status `{s}`"))
    }
}

/// Why an attempt failed, coarse enough to filter and alert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    Timeout,
    Connect,
    Dns,
    Tls,
    #[serde(rename = "http_3xx")]
    Http3xx,
    #[serde(rename = "http_4xx")]
    Http4xx,
    #[serde(rename = "http_5xx")]
    Http5xx,
    /// The connection was made but no usable answer came back: garbage
    /// instead of HTTP, a reset or close mid-answer, a head too large.
    Response,
    /// The request could not be built (a bug or an unusable URL).
    Request,
    /// The provider's rendering failed (a template that does not fit the event).
    Render,
    /// The webhook's `transform` failed for this event (its template's
    /// output is not JSON, a form body is not an object).
    Transform,
    /// The mail server refused the message or could not be reached.
    Smtp,
    /// The webhook's provider is switched off on this server.
    ProviderDisabled,
    /// The destination's address is loopback, private, link-local or
    /// otherwise not the public internet (and not opened by the operator);
    /// nothing was sent.
    BlockedDestination,
    /// Herald itself failed while making the attempt (a bug); the delivery
    /// is retried.
    Internal,
}

impl ErrorCategory {
    pub const ALL: [ErrorCategory; 15] = [
        Self::Timeout,
        Self::Connect,
        Self::Dns,
        Self::Tls,
        Self::Http3xx,
        Self::Http4xx,
        Self::Http5xx,
        Self::Response,
        Self::Request,
        Self::Render,
        Self::Transform,
        Self::Smtp,
        Self::ProviderDisabled,
        Self::BlockedDestination,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Http3xx => "http_3xx",
            Self::Http4xx => "http_4xx",
            Self::Http5xx => "http_5xx",
            Self::Response => "response",
            Self::Request => "request",
            Self::Render => "render",
            Self::Transform => "transform",
            Self::Smtp => "smtp",
            Self::ProviderDisabled => "provider_disabled",
            Self::BlockedDestination => "blocked_destination",
            Self::Internal => "internal",
        }
    }

    pub fn for_status(status: u16) -> Option<Self> {
        match status {
            300..=399 => Some(Self::Http3xx),
            400..=499 => Some(Self::Http4xx),
            500..=599 => Some(Self::Http5xx),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What one attempt decided for its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Success,
    Retry,
    Failed,
    /// Nothing was sent; see the error category.
    Skipped,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Retry => "retry",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "retry" => Some(Self::Retry),
            "failed" => Some(Self::Failed),
            "skipped" => Some(Self::Skipped),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_destination_is_named_alike_in_json_and_storage() {
        let c = ErrorCategory::BlockedDestination;
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            serde_json::json!("blocked_destination")
        );
        assert_eq!(c.as_str(), "blocked_destination");
        assert_eq!(ErrorCategory::parse("blocked_destination"), Some(c));
    }

    #[test]
    fn every_category_round_trips() {
        for c in ErrorCategory::ALL {
            assert_eq!(ErrorCategory::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
    }
}
