//! Request signatures: Standard Webhooks (`webhook-signature: v1,<base64>`)
//! and the seeds' hex scheme (`X-Webhook-Signature: sha256=<hex>`); the
//! asymmetric `v1a` scheme lives in [`ed25519`].

pub mod ed25519;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::validation::ValidationError;

type HmacSha256 = Hmac<Sha256>;

const SECRET_PREFIX: &str = "whsec_";

/// A webhook's signing secret: `whsec_` + base64 of 24–64 random bytes.
///
/// Keeps both the text (the hex scheme keys its HMAC with it) and the decoded
/// key (the Standard Webhooks HMAC key), so neither is recomputed per attempt.
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    text: String,
    key: Vec<u8>,
}

/// What [`SigningSecret::parse`] accepts, as a regular expression for the
/// API spec: `whsec_` and the canonical, padded base64 of 24 to 64 bytes.
pub const SECRET_PATTERN: &str = r"^whsec_(?:(?:[A-Za-z0-9+/]{4}){8,21}(?:[A-Za-z0-9+/][AQgw]==)?|(?:[A-Za-z0-9+/]{4}){8,20}[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$";

/// A secret's schema in the API spec.
pub fn secret_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(SECRET_PATTERN))
        .description(Some("`whsec_` and the base64 of 24 to 64 random bytes"))
        .build()
}

impl SigningSecret {
    /// A fresh secret of 32 random bytes.
    pub fn generate() -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            text: format!("{SECRET_PREFIX}{}", BASE64.encode(key)),
            key: key.to_vec(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "secret",
                "must be `whsec_` followed by the base64 of 24 to 64 bytes",
            )
        };
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or_else(invalid)?;
        let key = BASE64.decode(encoded).map_err(|_| invalid())?;
        if !(24..=64).contains(&key.len()) {
            return Err(invalid());
        }
        Ok(Self {
            text: text.to_string(),
            key,
        })
    }

    /// The secret as the API shows it (`whsec_…`).
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(****)")
    }
}

impl Serialize for SigningSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SigningSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key,
/// "{msg_id}.{timestamp}.{body}")).
pub fn sign_standard(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(&secret.key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The seeds' scheme: `sha256=` + hex(HMAC-SHA256(secret text, body)), keyed
/// with the secret exactly as the API shows it, `whsec_` included.
pub fn sign_hex(secret: &SigningSecret, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.text.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks one Standard Webhooks signature (the decoded bytes after `v1,`)
/// in constant time. The receiver's half of [`sign_standard`].
pub fn verify_standard(
    secret: &SigningSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature: &[u8],
) -> bool {
    let mut mac = HmacSha256::new_from_slice(&secret.key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(signature).is_ok()
}

/// Checks one hex-scheme signature (the decoded bytes after `sha256=`) in
/// constant time. The receiver's half of [`sign_hex`].
pub fn verify_hex(secret: &SigningSecret, body: &[u8], signature: &[u8]) -> bool {
    let mut mac =
        HmacSha256::new_from_slice(secret.text.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_vector() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign_standard(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_parse_back() {
        let s = SigningSecret::generate();
        assert_eq!(SigningSecret::parse(s.expose()).unwrap(), s);
        assert!(!format!("{s:?}").contains("whsec_"));
    }

    #[test]
    fn malformed_secrets_are_refused() {
        for bad in ["", "whsec_", "abc", "whsec_!!!!", "whsec_c2hvcnQ="] {
            assert!(SigningSecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hex_scheme_keys_with_the_secret_text() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let mut mac =
            HmacSha256::new_from_slice(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        mac.update(b"{}");
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sign_hex(&secret, b"{}"), expected);
    }

    #[test]
    fn verification_accepts_exactly_what_was_signed() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = BASE64
            .decode("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
            .unwrap();
        let (id, ts) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330);
        assert!(verify_standard(
            &secret,
            id,
            ts,
            br#"{"test": 2432232314}"#,
            &sig
        ));
        assert!(!verify_standard(
            &secret,
            id,
            ts,
            br#"{"test": 2432232315}"#,
            &sig
        ));
        assert!(!verify_standard(
            &secret,
            id,
            ts + 1,
            br#"{"test": 2432232314}"#,
            &sig
        ));
        let other = SigningSecret::generate();
        assert!(!verify_standard(
            &other,
            id,
            ts,
            br#"{"test": 2432232314}"#,
            &sig
        ));

        let hex_sig = sign_hex(&secret, b"{}");
        let bytes = hex::decode(hex_sig.strip_prefix("sha256=").unwrap()).unwrap();
        assert!(verify_hex(&secret, b"{}", &bytes));
        assert!(!verify_hex(&secret, b"{ }", &bytes));
        assert!(!verify_hex(&other, b"{}", &bytes));
    }
}
