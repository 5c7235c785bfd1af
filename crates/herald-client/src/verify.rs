//! The receiver's side: checks that a request came from Herald, unchanged
//! and recently, under any of the three schemes Herald signs with.
//!
//! | scheme | headers | key |
//! |---|---|---|
//! | `standard` | `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` | the secret, `whsec_…` |
//! | `ed25519` | the same, with `v1a,<base64 Ed25519 signature>` | the public key, `whpk_…` |
//! | `hmac_sha256_hex` | `x-webhook-id`, `x-webhook-signature: sha256=<hex HMAC-SHA256 of the body>` | the secret, `whsec_…` |
//!
//! During a secret rotation `webhook-signature` carries several
//! space-separated signatures; one that matches is enough. The hex scheme
//! carries no timestamp, so it cannot refuse a replayed request: prefer
//! `standard` or `ed25519` where that matters.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_core::signing::ed25519::Ed25519PublicKey;
use herald_core::signing::{SigningSecret, verify_hex, verify_standard};

/// How far a timestamp may be from the receiver's clock, as Standard
/// Webhooks recommends.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

const ID: &str = "webhook-id";
const TIMESTAMP: &str = "webhook-timestamp";
const SIGNATURE: &str = "webhook-signature";
const HEX_ID: &str = "x-webhook-id";
const HEX_SIGNATURE: &str = "x-webhook-signature";

/// Which scheme a request was verified under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Standard,
    Ed25519,
    HmacSha256Hex,
}

impl Scheme {
    /// The name the API gives the scheme (`signature.scheme`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Standard => "standard",
            Scheme::Ed25519 => "ed25519",
            Scheme::HmacSha256Hex => "hmac_sha256_hex",
        }
    }
}

/// A request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub scheme: Scheme,
    /// `webhook-id` (or `x-webhook-id`): stable across retries, for
    /// dropping duplicates.
    pub msg_id: Option<String>,
    /// `webhook-timestamp`, unix seconds (none in the hex scheme).
    pub timestamp: Option<i64>,
}

/// Why a request did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the key is not usable: {0}")]
    InvalidKey(String),
    #[error("the request has no `{0}` header")]
    MissingHeader(&'static str),
    #[error("the `{header}` header is malformed: {reason}")]
    MalformedHeader {
        header: &'static str,
        reason: String,
    },
    #[error(
        "the request was signed {age_secs} s ago, longer than the tolerance of {tolerance_secs} s"
    )]
    Expired { age_secs: i64, tolerance_secs: u64 },
    #[error(
        "the request's timestamp is {ahead_secs} s in the future, more than the tolerance of {tolerance_secs} s"
    )]
    InFuture {
        ahead_secs: i64,
        tolerance_secs: u64,
    },
    #[error("`{header}` holds no `{expected}` signature, which this key checks{}", found_suffix(.found))]
    NoSignatureForKey {
        header: &'static str,
        expected: &'static str,
        /// The versions it does hold.
        found: Vec<String>,
    },
    #[error("no signature in `{header}` matches: wrong key, or the body or headers were changed")]
    Mismatch { header: &'static str },
}

fn found_suffix(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(" (it holds: {})", found.join(", "))
    }
}

/// Where headers are read from: `http::HeaderMap` (axum, reqwest, hyper),
/// or a map or list of names and values (names are matched without case).
pub trait Headers {
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.to_str().ok())
    }
}

fn find<'a, K: AsRef<str> + 'a, V: AsRef<str> + 'a>(
    mut pairs: impl Iterator<Item = (&'a K, &'a V)>,
    name: &str,
) -> Option<&'a str> {
    pairs
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter().map(|(k, v)| (k, v)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for BTreeMap<K, V> {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S> Headers for HashMap<K, V, S> {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

/// Checks a request Herald sent. `key` is the webhook's secret (`whsec_…`)
/// for `standard` and `hmac_sha256_hex`, or its public key (`whpk_…`) for
/// `ed25519`; `body` the raw bytes as received (not re-serialized JSON);
/// `tolerance` how far `webhook-timestamp` may be from now
/// ([`DEFAULT_TOLERANCE`] is the usual choice).
pub fn verify<H: Headers + ?Sized>(
    key: &str,
    headers: &H,
    body: &[u8],
    tolerance: Duration,
) -> Result<Verified, VerifyError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    verify_at(key, headers, body, tolerance, now)
}

/// [`verify`] against a given clock (unix seconds).
pub fn verify_at<H: Headers + ?Sized>(
    key: &str,
    headers: &H,
    body: &[u8],
    tolerance: Duration,
    now: i64,
) -> Result<Verified, VerifyError> {
    let key = key.trim();
    if key.starts_with("whpk_") {
        let public = Ed25519PublicKey::parse(key).map_err(VerifyError::InvalidKey)?;
        return verify_signed(headers, tolerance, now, Scheme::Ed25519, |id, ts, sig| {
            public.verify_v1a(id, ts, body, sig)
        });
    }
    let secret = SigningSecret::parse(key).map_err(|_| {
        VerifyError::InvalidKey(
            "expected a signing secret (`whsec_` and base64) or an Ed25519 public key (`whpk_…`)"
                .into(),
        )
    })?;
    if headers.header(SIGNATURE).is_none() && headers.header(HEX_SIGNATURE).is_some() {
        return verify_hex_request(&secret, headers, body);
    }
    verify_signed(headers, tolerance, now, Scheme::Standard, |id, ts, sig| {
        verify_standard(&secret, id, ts, body, sig)
    })
}

/// The two Standard Webhooks schemes: id, timestamp within the tolerance,
/// then any one matching signature of the key's version.
fn verify_signed<H: Headers + ?Sized>(
    headers: &H,
    tolerance: Duration,
    now: i64,
    scheme: Scheme,
    check: impl Fn(&str, i64, &[u8]) -> bool,
) -> Result<Verified, VerifyError> {
    let expected = match scheme {
        Scheme::Ed25519 => "v1a",
        _ => "v1",
    };
    let id = required(headers, ID)?;
    let signatures = required(headers, SIGNATURE)?;
    let timestamp = parse_timestamp(required(headers, TIMESTAMP)?)?;
    check_age(timestamp, now, tolerance)?;

    let mut found = Vec::new();
    let mut candidates = Vec::new();
    let mut malformed = None;
    for entry in signatures.split_whitespace() {
        let Some((version, encoded)) = entry.split_once(',') else {
            malformed = Some(format!("`{}` is not `<version>,<signature>`", cut(entry)));
            continue;
        };
        if version != expected {
            found.push(version.to_string());
            continue;
        }
        match BASE64.decode(encoded) {
            Ok(bytes) => candidates.push(bytes),
            Err(_) => malformed = Some(format!("the {version} signature is not base64")),
        }
    }
    if candidates.iter().any(|sig| check(id, timestamp, sig)) {
        return Ok(Verified {
            scheme,
            msg_id: Some(id.to_string()),
            timestamp: Some(timestamp),
        });
    }
    if !candidates.is_empty() {
        return Err(VerifyError::Mismatch { header: SIGNATURE });
    }
    if let Some(reason) = malformed {
        return Err(VerifyError::MalformedHeader {
            header: SIGNATURE,
            reason,
        });
    }
    if found.is_empty() {
        return Err(VerifyError::MalformedHeader {
            header: SIGNATURE,
            reason: "it holds no signature".into(),
        });
    }
    found.dedup();
    Err(VerifyError::NoSignatureForKey {
        header: SIGNATURE,
        expected,
        found,
    })
}

/// The hex scheme: `sha256=<hex>` over the body alone.
fn verify_hex_request<H: Headers + ?Sized>(
    secret: &SigningSecret,
    headers: &H,
    body: &[u8],
) -> Result<Verified, VerifyError> {
    let value = required(headers, HEX_SIGNATURE)?.trim();
    let malformed = |reason: &str| VerifyError::MalformedHeader {
        header: HEX_SIGNATURE,
        reason: reason.to_string(),
    };
    let encoded = value
        .strip_prefix("sha256=")
        .ok_or_else(|| malformed("it does not start with `sha256=`"))?;
    let bytes = hex::decode(encoded).map_err(|_| malformed("the signature is not hex"))?;
    if !verify_hex(secret, body, &bytes) {
        return Err(VerifyError::Mismatch {
            header: HEX_SIGNATURE,
        });
    }
    Ok(Verified {
        scheme: Scheme::HmacSha256Hex,
        msg_id: headers.header(HEX_ID).map(str::to_string),
        timestamp: None,
    })
}

fn required<'h, H: Headers + ?Sized>(
    headers: &'h H,
    name: &'static str,
) -> Result<&'h str, VerifyError> {
    headers
        .header(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(name))
}

fn parse_timestamp(text: &str) -> Result<i64, VerifyError> {
    text.parse::<i64>()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| VerifyError::MalformedHeader {
            header: TIMESTAMP,
            reason: format!("`{}` is not unix seconds", cut(text)),
        })
}

fn check_age(timestamp: i64, now: i64, tolerance: Duration) -> Result<(), VerifyError> {
    let tolerance_secs = tolerance.as_secs();
    let limit = i64::try_from(tolerance_secs).unwrap_or(i64::MAX);
    let age = now.saturating_sub(timestamp);
    if age > limit {
        return Err(VerifyError::Expired {
            age_secs: age,
            tolerance_secs,
        });
    }
    if -age > limit {
        return Err(VerifyError::InFuture {
            ahead_secs: -age,
            tolerance_secs,
        });
    }
    Ok(())
}

/// A header value for a message: short, never the whole of a long one.
fn cut(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use herald_core::signing::ed25519::Ed25519KeyPair;
    use herald_core::signing::{sign_hex, sign_standard};

    use super::*;

    /// The Standard Webhooks test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn standard_headers(signature: &str) -> Vec<(&'static str, String)> {
        vec![
            ("Webhook-Id", MSG_ID.to_string()),
            ("webhook-timestamp", TS.to_string()),
            ("webhook-signature", signature.to_string()),
        ]
    }

    fn check(key: &str, headers: &[(&str, String)], body: &[u8]) -> Result<Verified, VerifyError> {
        verify_at(key, headers, body, DEFAULT_TOLERANCE, TS + 10)
    }

    #[test]
    fn standard_vector_verifies() {
        let ok = check(SECRET, &standard_headers(SIG), BODY).unwrap();
        assert_eq!(ok.scheme, Scheme::Standard);
        assert_eq!(ok.msg_id.as_deref(), Some(MSG_ID));
        assert_eq!(ok.timestamp, Some(TS));
    }

    #[test]
    fn a_tampered_body_is_a_mismatch() {
        let err = check(SECRET, &standard_headers(SIG), br#"{"test": 2432232315}"#).unwrap_err();
        assert_eq!(err, VerifyError::Mismatch { header: SIGNATURE });
    }

    #[test]
    fn a_wrong_secret_is_a_mismatch() {
        let other = SigningSecret::generate();
        let err = check(other.expose(), &standard_headers(SIG), BODY).unwrap_err();
        assert_eq!(err, VerifyError::Mismatch { header: SIGNATURE });
    }

    #[test]
    fn old_and_future_timestamps_are_refused() {
        let headers = standard_headers(SIG);
        let tolerance = Duration::from_secs(300);
        let err = verify_at(SECRET, &headers, BODY, tolerance, TS + 301).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Expired {
                age_secs: 301,
                tolerance_secs: 300
            }
        );
        let err = verify_at(SECRET, &headers, BODY, tolerance, TS - 301).unwrap_err();
        assert_eq!(
            err,
            VerifyError::InFuture {
                ahead_secs: 301,
                tolerance_secs: 300
            }
        );
        // At the edge of the tolerance it still verifies.
        verify_at(SECRET, &headers, BODY, tolerance, TS + 300).unwrap();
        verify_at(SECRET, &headers, BODY, tolerance, TS - 300).unwrap();
    }

    #[test]
    fn one_valid_signature_among_several_is_enough() {
        let old = SigningSecret::generate();
        let by_old = sign_standard(&old, MSG_ID, TS, BODY);
        let rotating = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SIG} v1a,AAAA");
        check(SECRET, &standard_headers(&rotating), BODY).unwrap();
        check(
            old.expose(),
            &standard_headers(&format!("{SIG} {by_old}")),
            BODY,
        )
        .unwrap();
        // Neither matches a third secret.
        let third = SigningSecret::generate();
        let err = check(
            third.expose(),
            &standard_headers(&format!("{SIG} {by_old}")),
            BODY,
        );
        assert_eq!(
            err.unwrap_err(),
            VerifyError::Mismatch { header: SIGNATURE }
        );
    }

    #[test]
    fn malformed_headers_say_which() {
        let mut headers = standard_headers(SIG);
        headers.retain(|(name, _)| *name != "webhook-timestamp");
        assert_eq!(
            check(SECRET, &headers, BODY).unwrap_err(),
            VerifyError::MissingHeader(TIMESTAMP)
        );
        let mut headers = standard_headers(SIG);
        headers[1].1 = "yesterday".into();
        assert!(matches!(
            check(SECRET, &headers, BODY).unwrap_err(),
            VerifyError::MalformedHeader {
                header: TIMESTAMP,
                ..
            }
        ));
        for bad in ["garbage", "v1,not-base64!!", "   "] {
            let err = check(SECRET, &standard_headers(bad), BODY).unwrap_err();
            assert!(
                matches!(
                    err,
                    VerifyError::MalformedHeader {
                        header: SIGNATURE,
                        ..
                    }
                ) || err == VerifyError::MissingHeader(SIGNATURE),
                "{bad}: {err:?}"
            );
        }
        let err = check(SECRET, &[("webhook-id", "x".to_string())], BODY).unwrap_err();
        assert_eq!(err, VerifyError::MissingHeader(SIGNATURE));
        assert!(matches!(
            check("not-a-key", &standard_headers(SIG), BODY).unwrap_err(),
            VerifyError::InvalidKey(_)
        ));
    }

    #[test]
    fn ed25519_verifies_with_the_public_key() {
        let pair = Ed25519KeyPair::generate();
        let signature = pair.sign_v1a(MSG_ID, TS, BODY);
        let headers = standard_headers(&signature);
        let ok = check(pair.public_key(), &headers, BODY).unwrap();
        assert_eq!(ok.scheme, Scheme::Ed25519);
        assert_eq!(
            check(pair.public_key(), &headers, b"{}").unwrap_err(),
            VerifyError::Mismatch { header: SIGNATURE }
        );
        let other = Ed25519KeyPair::generate();
        assert_eq!(
            check(other.public_key(), &headers, BODY).unwrap_err(),
            VerifyError::Mismatch { header: SIGNATURE }
        );
        // Two key pairs during a rotation: either verifies.
        let both = format!("{} {signature}", other.sign_v1a(MSG_ID, TS, BODY));
        check(pair.public_key(), &standard_headers(&both), BODY).unwrap();
        check(other.public_key(), &standard_headers(&both), BODY).unwrap();
        // An HMAC signature is not one a public key can check.
        assert_eq!(
            check(pair.public_key(), &standard_headers(SIG), BODY).unwrap_err(),
            VerifyError::NoSignatureForKey {
                header: SIGNATURE,
                expected: "v1a",
                found: vec!["v1".into()]
            }
        );
        let expired = verify_at(
            pair.public_key(),
            &headers,
            BODY,
            DEFAULT_TOLERANCE,
            TS + 3600,
        );
        assert!(matches!(expired.unwrap_err(), VerifyError::Expired { .. }));
    }

    #[test]
    fn hex_scheme_verifies_the_body() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        let headers = vec![
            ("X-Webhook-Id", "evt_1".to_string()),
            ("X-Webhook-Signature", sign_hex(&secret, BODY)),
        ];
        let ok = check(SECRET, &headers, BODY).unwrap();
        assert_eq!(ok.scheme, Scheme::HmacSha256Hex);
        assert_eq!(ok.msg_id.as_deref(), Some("evt_1"));
        assert_eq!(
            check(SECRET, &headers, b"{}").unwrap_err(),
            VerifyError::Mismatch {
                header: HEX_SIGNATURE
            }
        );
        let other = SigningSecret::generate();
        assert_eq!(
            check(other.expose(), &headers, BODY).unwrap_err(),
            VerifyError::Mismatch {
                header: HEX_SIGNATURE
            }
        );
        for bad in ["md5=abcd", "sha256=zz"] {
            let headers = vec![("x-webhook-signature", bad.to_string())];
            assert!(matches!(
                check(SECRET, &headers, BODY).unwrap_err(),
                VerifyError::MalformedHeader {
                    header: HEX_SIGNATURE,
                    ..
                }
            ));
        }
    }

    #[test]
    fn http_header_maps_work_too() {
        let mut map = http::HeaderMap::new();
        for (name, value) in standard_headers(SIG) {
            map.insert(
                http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        verify_at(SECRET, &map, BODY, DEFAULT_TOLERANCE, TS).unwrap();
    }
}
