//! Signing-key rotation: a webhook gets a new secret (and a new key pair if
//! it has one) while what they replace keeps signing for a grace period, so
//! receivers can switch over without rejecting a delivery. During the grace
//! period a Standard Webhooks request carries every live signature,
//! space-separated, the newest first.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{SignatureScheme, Webhook};
use crate::signing::ed25519::Ed25519KeyPair;
use crate::signing::{SigningSecret, sign_standard};
use crate::validation::ValidationError;

/// How long replaced material signs when the caller does not say.
pub const DEFAULT_GRACE_HOURS: f64 = 24.0;
/// The longest grace period: 30 days.
pub const MAX_GRACE_HOURS: f64 = 720.0;
/// The most replaced generations kept. Bounds the `webhook-signature`
/// header (and the work per request) however often a webhook is rotated.
pub const MAX_PREVIOUS: usize = 5;

/// How long replaced signing material keeps signing after a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracePeriod(Duration);

impl GracePeriod {
    /// The `grace_period_hours` of a rotation: 0 to 720, fractions allowed
    /// (0.001 is 3.6 seconds); absent means 24.
    pub fn from_hours(hours: Option<f64>) -> Result<Self, ValidationError> {
        let hours = hours.unwrap_or(DEFAULT_GRACE_HOURS);
        // `contains` is false for NaN too.
        if !(0.0..=MAX_GRACE_HOURS).contains(&hours) {
            return Err(ValidationError::new(
                "grace_period_hours",
                "must be a number of hours between 0 and 720 (30 days)",
            ));
        }
        Ok(Self(Duration::milliseconds(
            (hours * 3_600_000.0).round() as i64
        )))
    }
}

/// Signing material a rotation replaced; it signs next to the current one
/// until `expires_at`, and never after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredSigning {
    pub secret: SigningSecret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair: Option<Ed25519KeyPair>,
    pub expires_at: DateTime<Utc>,
}

impl Webhook {
    /// Gives a webhook that signs with `ed25519` a key pair if it has none
    /// yet (at creation, or when a PATCH switches the scheme).
    pub fn ensure_key_pair(&mut self) {
        if self.spec.signature.scheme == SignatureScheme::Ed25519 && self.key_pair.is_none() {
            self.key_pair = Some(Ed25519KeyPair::generate());
        }
    }

    /// Makes `secret` current, with a fresh key pair if the webhook has
    /// one; what they replace signs until `now + grace`.
    ///
    /// The grace period also caps what earlier rotations left: nothing
    /// replaced signs past `now + grace`, so a grace period of 0 stops every
    /// old secret at once (the answer to a leaked one). Expired material is
    /// dropped here, and of the rest only the newest [`MAX_PREVIOUS`] are
    /// kept.
    pub fn rotate_signing(
        &mut self,
        secret: SigningSecret,
        grace: GracePeriod,
        now: DateTime<Utc>,
    ) {
        let deadline = now + grace.0;
        let key_pair = self.key_pair.as_ref().map(|_| Ed25519KeyPair::generate());
        let replaced = RetiredSigning {
            secret: std::mem::replace(&mut self.secret, secret),
            key_pair: std::mem::replace(&mut self.key_pair, key_pair),
            expires_at: deadline,
        };
        for earlier in &mut self.previous_signing {
            earlier.expires_at = earlier.expires_at.min(deadline);
        }
        self.previous_signing.insert(0, replaced);
        self.previous_signing.retain(|p| p.expires_at > now);
        self.previous_signing.truncate(MAX_PREVIOUS);
    }

    /// Replaced material that still signs at `at`, newest first.
    pub fn previous_signing_at(&self, at: DateTime<Utc>) -> impl Iterator<Item = &RetiredSigning> {
        self.previous_signing
            .iter()
            .filter(move |p| p.expires_at > at)
    }

    /// The `webhook-signature` value of a request sent at `at` (with
    /// `timestamp`, its unix seconds): for `standard` a `v1,` signature per
    /// live secret, for `ed25519` a `v1a,` signature per live key pair,
    /// space-separated, the current one first. `None` for the other
    /// schemes, and for an `ed25519` webhook without a key pair (which
    /// validation never stores).
    pub fn webhook_signature(
        &self,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
        at: DateTime<Utc>,
    ) -> Option<String> {
        let previous = self.previous_signing_at(at);
        match self.spec.signature.scheme {
            SignatureScheme::Standard => {
                let current = sign_standard(&self.secret, msg_id, timestamp, body);
                Some(previous.fold(current, |mut all, p| {
                    all.push(' ');
                    all.push_str(&sign_standard(&p.secret, msg_id, timestamp, body));
                    all
                }))
            }
            SignatureScheme::Ed25519 => {
                let current = self.key_pair.as_ref()?.sign_v1a(msg_id, timestamp, body);
                Some(
                    previous
                        .filter_map(|p| p.key_pair.as_ref())
                        .fold(current, |mut all, pair| {
                            all.push(' ');
                            all.push_str(&pair.sign_v1a(msg_id, timestamp, body));
                            all
                        }),
                )
            }
            SignatureScheme::HmacSha256Hex | SignatureScheme::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::WebhookSpec;

    const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn webhook(scheme: &str) -> Webhook {
        let spec: WebhookSpec = serde_json::from_value(serde_json::json!({
            "name": "a", "url": "https://example.com/h", "signature": {"scheme": scheme},
        }))
        .unwrap();
        Webhook::new(
            "wh_1".into(),
            "tnt_1".into(),
            spec,
            SigningSecret::parse(OLD).unwrap(),
            Utc::now(),
        )
    }

    fn hours(h: f64) -> GracePeriod {
        GracePeriod::from_hours(Some(h)).unwrap()
    }

    fn signatures(w: &Webhook, at: DateTime<Utc>) -> Vec<String> {
        w.webhook_signature("msg_1", 1_700_000_000, b"{}", at)
            .unwrap()
            .split(' ')
            .map(str::to_string)
            .collect()
    }

    fn v1(secret: &SigningSecret) -> String {
        sign_standard(secret, "msg_1", 1_700_000_000, b"{}")
    }

    #[test]
    fn grace_period_bounds() {
        for bad in [-0.5, 720.001, f64::NAN, f64::INFINITY] {
            let e = GracePeriod::from_hours(Some(bad)).unwrap_err();
            assert_eq!(e.field, "grace_period_hours", "{bad}");
        }
        assert_eq!(
            GracePeriod::from_hours(None).unwrap().0,
            Duration::hours(24)
        );
        assert_eq!(hours(0.001).0, Duration::milliseconds(3_600));
        assert_eq!(hours(720.0).0, Duration::days(30));
        assert_eq!(hours(0.0).0, Duration::zero());
    }

    #[test]
    fn both_secrets_sign_during_the_grace_period_new_first() {
        let mut w = webhook("standard");
        let old = w.secret.clone();
        let now = Utc::now();
        let new = SigningSecret::generate();
        w.rotate_signing(new.clone(), hours(1.0), now);
        assert_eq!(w.secret, new);
        assert_eq!(signatures(&w, now), [v1(&new), v1(&old)]);
        let after = now + Duration::hours(1);
        assert_eq!(signatures(&w, after), [v1(&new)]);
    }

    #[test]
    fn zero_grace_stops_every_old_secret_at_once() {
        let mut w = webhook("standard");
        let now = Utc::now();
        w.rotate_signing(SigningSecret::generate(), hours(24.0), now);
        let newest = SigningSecret::generate();
        w.rotate_signing(newest.clone(), hours(0.0), now);
        assert!(w.previous_signing.is_empty());
        assert_eq!(signatures(&w, now), [v1(&newest)]);
    }

    #[test]
    fn a_later_rotation_caps_what_earlier_ones_left() {
        let mut w = webhook("standard");
        let now = Utc::now();
        w.rotate_signing(SigningSecret::generate(), hours(24.0), now);
        let later = now + Duration::minutes(1);
        w.rotate_signing(SigningSecret::generate(), hours(1.0), later);
        let deadline = later + Duration::hours(1);
        assert_eq!(w.previous_signing.len(), 2);
        assert!(w.previous_signing.iter().all(|p| p.expires_at == deadline));
    }

    #[test]
    fn at_most_five_previous_are_kept_and_expired_ones_dropped() {
        let mut w = webhook("standard");
        let now = Utc::now();
        let mut replaced = Vec::new();
        for _ in 0..7 {
            replaced.push(w.secret.clone());
            w.rotate_signing(SigningSecret::generate(), hours(1.0), now);
        }
        let kept: Vec<&SigningSecret> = w.previous_signing.iter().map(|p| &p.secret).collect();
        let newest_five: Vec<&SigningSecret> = replaced.iter().rev().take(5).collect();
        assert_eq!(kept, newest_five);

        let later = now + Duration::hours(2);
        w.rotate_signing(SigningSecret::generate(), hours(1.0), later);
        assert_eq!(w.previous_signing.len(), 1, "expired ones are dropped");
    }

    #[test]
    fn ed25519_rotation_issues_a_new_key_pair_and_signs_with_both() {
        let mut w = webhook("ed25519");
        let old = w
            .key_pair
            .clone()
            .expect("an ed25519 webhook has a key pair");
        let now = Utc::now();
        w.rotate_signing(SigningSecret::generate(), hours(1.0), now);
        let new = w.key_pair.clone().unwrap();
        assert_ne!(new.public_key(), old.public_key());
        let sign = |pair: &Ed25519KeyPair| pair.sign_v1a("msg_1", 1_700_000_000, b"{}");
        assert_eq!(signatures(&w, now), [sign(&new), sign(&old)]);
        assert_eq!(signatures(&w, now + Duration::hours(1)), [sign(&new)]);
    }

    #[test]
    fn hex_and_unsigned_schemes_have_no_webhook_signature() {
        for scheme in ["hmac_sha256_hex", "none"] {
            let w = webhook(scheme);
            assert_eq!(w.webhook_signature("m", 1, b"", Utc::now()), None);
            assert!(w.key_pair.is_none());
        }
    }

    #[test]
    fn debug_and_storage_keep_secrets_out_of_sight() {
        let mut w = webhook("ed25519");
        w.rotate_signing(SigningSecret::generate(), hours(1.0), Utc::now());
        let debug = format!("{w:?}");
        assert!(!debug.contains("whsec_"), "{debug}");
        assert!(!debug.contains("whsk_"), "{debug}");

        let stored = serde_json::to_string(&w).unwrap();
        let back: Webhook = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, w, "the stored row keeps every secret and key pair");
    }
}
