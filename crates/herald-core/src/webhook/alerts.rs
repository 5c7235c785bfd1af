//! When a webhook counts as degraded: its success rate over a recent
//! window below a threshold, with enough attempts to say so. The same rule
//! raises `herald.webhook.degraded` and marks the webhook's health.

use serde::{Deserialize, Serialize};

use crate::validation::ValidationError;

/// A webhook's own thresholds (`alerts` on the webhook); a field left out
/// takes the server's default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Degraded below this share of successful attempts (0–1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate_below: Option<f64>,
    /// Over the attempts of the last this many minutes (1–1440).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u32>,
    /// Only once the window holds at least this many attempts (1–100000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_attempts: Option<u32>,
}

/// Thresholds with every field decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertThresholds {
    pub success_rate_below: f64,
    pub window_minutes: u32,
    pub min_attempts: u32,
}

impl Default for AlertThresholds {
    /// The server's defaults unless configured: below 95% over 15 minutes,
    /// with at least 20 attempts.
    fn default() -> Self {
        AlertThresholds {
            success_rate_below: 0.95,
            window_minutes: 15,
            min_attempts: 20,
        }
    }
}

impl AlertSettings {
    /// These settings over the server's defaults.
    pub fn over(&self, defaults: AlertThresholds) -> AlertThresholds {
        AlertThresholds {
            success_rate_below: self
                .success_rate_below
                .unwrap_or(defaults.success_rate_below),
            window_minutes: self.window_minutes.unwrap_or(defaults.window_minutes),
            min_attempts: self.min_attempts.unwrap_or(defaults.min_attempts),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(rate) = self.success_rate_below
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(ValidationError::new(
                "success_rate_below",
                "must be between 0 and 1 (0.95: below 95% successful attempts)",
            ));
        }
        if let Some(minutes) = self.window_minutes
            && !(1..=1440).contains(&minutes)
        {
            return Err(ValidationError::new(
                "window_minutes",
                "must be between 1 and 1440 (a day)",
            ));
        }
        if let Some(n) = self.min_attempts
            && !(1..=100_000).contains(&n)
        {
            return Err(ValidationError::new(
                "min_attempts",
                "must be between 1 and 100000",
            ));
        }
        Ok(())
    }
}

impl AlertThresholds {
    pub fn validate(&self) -> Result<(), ValidationError> {
        AlertSettings {
            success_rate_below: Some(self.success_rate_below),
            window_minutes: Some(self.window_minutes),
            min_attempts: Some(self.min_attempts),
        }
        .validate()
    }

    /// Whether `successes` of `attempts` in the window is degraded.
    pub fn is_degraded(&self, attempts: u64, successes: u64) -> bool {
        attempts >= u64::from(self.min_attempts)
            && (successes as f64) < self.success_rate_below * attempts as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degraded_needs_enough_attempts_below_the_rate() {
        let t = AlertThresholds {
            success_rate_below: 0.9,
            window_minutes: 5,
            min_attempts: 10,
        };
        assert!(!t.is_degraded(9, 0), "too few to say");
        assert!(t.is_degraded(10, 8));
        assert!(!t.is_degraded(10, 9), "exactly the rate is not below it");
        let mine = AlertSettings {
            min_attempts: Some(3),
            ..Default::default()
        };
        assert_eq!(mine.over(t).min_attempts, 3);
        assert_eq!(mine.over(t).window_minutes, 5);
        let bad = AlertSettings {
            success_rate_below: Some(1.5),
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "success_rate_below");
    }
}
