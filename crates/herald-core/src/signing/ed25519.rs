//! The `ed25519` scheme: a webhook's Ed25519 key pair and its Standard
//! Webhooks `v1a` signatures. Receivers verify with the public key
//! (`whpk_…`), so nothing they hold can sign.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::ed25519::signature::MultipartSigner;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Standard Webhooks' prefix of an Ed25519 public key.
const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Standard Webhooks' prefix of an Ed25519 private key; Herald only stores
/// it, the API never shows it.
const PRIVATE_KEY_PREFIX: &str = "whsk_";

/// An Ed25519 key pair, stored as `whsk_` + base64 of its 32-byte seed.
///
/// `Debug` shows only the public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Ed25519KeyPair {
    signing: SigningKey,
    /// `whpk_…`, derived once rather than per request or answer.
    public_key: String,
}

impl Ed25519KeyPair {
    /// A fresh key pair. The seed comes from `rand`'s thread-local
    /// generator, a CSPRNG seeded (and periodically reseeded) by the
    /// operating system, as for HMAC secrets.
    pub fn generate() -> Self {
        Self::from_seed(rand::random())
    }

    /// The key pair of a 32-byte seed (RFC 8032 calls it the secret key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let public_key = format!(
            "{PUBLIC_KEY_PREFIX}{}",
            BASE64.encode(signing.verifying_key().as_bytes())
        );
        Self {
            signing,
            public_key,
        }
    }

    /// Reads the stored form back (`whsk_` + base64 of 32 bytes).
    fn parse_stored(text: &str) -> Result<Self, String> {
        let encoded = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or("an Ed25519 private key starts with `whsk_`")?;
        let seed: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("an Ed25519 private key is the base64 of 32 bytes")?;
        Ok(Self::from_seed(seed))
    }

    /// The public key as the API shows it: `whpk_` + base64 of 32 bytes.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Standard Webhooks' asymmetric signature: `v1a,` + base64 of the
    /// Ed25519 signature over `"{msg_id}.{timestamp}.{body}"`.
    pub fn sign_v1a(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        // Signed in parts, so the body is never copied.
        let signature = self
            .signing
            .try_multipart_sign(&[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body])
            .expect("Ed25519 signing cannot fail");
        format!("v1a,{}", BASE64.encode(signature.to_bytes()))
    }
}

/// A webhook's Ed25519 public key (`whpk_` + base64 of 32 bytes), with
/// which a receiver checks `v1a` signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct Ed25519PublicKey(VerifyingKey);

impl Ed25519PublicKey {
    /// Reads a public key as the API shows it (`whpk_…`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or("an Ed25519 public key starts with `whpk_`")?;
        let bytes: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("an Ed25519 public key is the base64 of 32 bytes")?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| "not a valid Ed25519 public key".to_string())
    }

    /// Checks one `v1a` signature (the 64 decoded bytes after `v1a,`) over
    /// `"{msg_id}.{timestamp}.{body}"`: the receiver's half of
    /// [`Ed25519KeyPair::sign_v1a`]. Strict verification, so a signature
    /// cannot be altered into another that also passes.
    pub fn verify_v1a(&self, msg_id: &str, timestamp: i64, body: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let mut message = Vec::with_capacity(msg_id.len() + body.len() + 24);
        message.extend_from_slice(msg_id.as_bytes());
        message.push(b'.');
        message.extend_from_slice(timestamp.to_string().as_bytes());
        message.push(b'.');
        message.extend_from_slice(body);
        self.0
            .verify_strict(&message, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

impl fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Ed25519PublicKey({PUBLIC_KEY_PREFIX}{})",
            BASE64.encode(self.0.as_bytes())
        )
    }
}

impl fmt::Debug for Ed25519KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519KeyPair({})", self.public_key)
    }
}

impl Serialize for Ed25519KeyPair {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let stored = format!(
            "{PRIVATE_KEY_PREFIX}{}",
            BASE64.encode(self.signing.as_bytes())
        );
        s.serialize_str(&stored)
    }
}

impl<'de> Deserialize<'de> for Ed25519KeyPair {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse_stored(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    /// RFC 8032, section 7.1, test 1: the secret key (seed) and public key.
    const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn rfc_key_pair() -> Ed25519KeyPair {
        let seed: [u8; 32] = hex::decode(RFC8032_SEED).unwrap().try_into().unwrap();
        Ed25519KeyPair::from_seed(seed)
    }

    #[test]
    fn public_key_of_the_rfc8032_seed() {
        let expected = BASE64.encode(hex::decode(RFC8032_PUBLIC).unwrap());
        assert_eq!(rfc_key_pair().public_key(), format!("whpk_{expected}"));
    }

    /// The Standard Webhooks message of the HMAC test vector, signed with
    /// the RFC 8032 key; the expected value was computed independently
    /// with OpenSSL (`openssl pkeyutl -sign -rawin`).
    #[test]
    fn v1a_vector_from_a_fixed_seed() {
        let signature = rfc_key_pair().sign_v1a(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature,
            "v1a,fldxM4gAKugP6nnt1hdz3sgGfZ6d99nzrMFnZOELIxbzEHoVmAb2ADpkJK7zgPePmPsle0zV9jSeGlHFG2NVAw=="
        );
    }

    #[test]
    fn v1a_signatures_verify_with_the_public_key_only() {
        let pair = Ed25519KeyPair::generate();
        let signature = pair.sign_v1a("msg_1", 1700000000, b"{}");
        let encoded = signature.strip_prefix("v1a,").unwrap();
        let bytes: [u8; 64] = BASE64.decode(encoded).unwrap().try_into().unwrap();
        let encoded_key = pair.public_key().strip_prefix("whpk_").unwrap();
        let public: [u8; 32] = BASE64.decode(encoded_key).unwrap().try_into().unwrap();
        let key = VerifyingKey::from_bytes(&public).unwrap();
        let signature = Signature::from_bytes(&bytes);
        assert!(key.verify(b"msg_1.1700000000.{}", &signature).is_ok());
        assert!(key.verify(b"msg_1.1700000000.{ }", &signature).is_err());
    }

    #[test]
    fn stored_form_round_trips_and_debug_hides_it() {
        let pair = Ed25519KeyPair::generate();
        let stored = serde_json::to_string(&pair).unwrap();
        assert!(stored.starts_with("\"whsk_"), "{stored}");
        let back: Ed25519KeyPair = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, pair);
        let debug = format!("{pair:?}");
        assert!(!debug.contains("whsk_"), "{debug}");
        assert!(!debug.contains(stored.trim_matches('"')), "{debug}");
        assert!(debug.contains(pair.public_key()), "{debug}");
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in ["", "whsk_", "whpk_AAAA", "whsk_c2hvcnQ="] {
            assert!(serde_json::from_value::<Ed25519KeyPair>(bad.into()).is_err());
        }
    }

    #[test]
    fn public_keys_verify_v1a_signatures() {
        let pair = rfc_key_pair();
        let key = Ed25519PublicKey::parse(pair.public_key()).unwrap();
        let signature = pair.sign_v1a("msg_1", 1700000000, b"{}");
        let bytes = BASE64
            .decode(signature.strip_prefix("v1a,").unwrap())
            .unwrap();
        assert!(key.verify_v1a("msg_1", 1700000000, b"{}", &bytes));
        assert!(!key.verify_v1a("msg_1", 1700000000, b"{ }", &bytes));
        assert!(!key.verify_v1a("msg_2", 1700000000, b"{}", &bytes));
        assert!(!key.verify_v1a("msg_1", 1700000000, b"{}", &bytes[..63]));
        let other = Ed25519PublicKey::parse(Ed25519KeyPair::generate().public_key()).unwrap();
        assert!(!other.verify_v1a("msg_1", 1700000000, b"{}", &bytes));
        for bad in ["", "whpk_", "whsk_AAAA", "whpk_c2hvcnQ="] {
            assert!(Ed25519PublicKey::parse(bad).is_err(), "{bad}");
        }
    }
}
