//! Secrets at rest: every webhook row (signing secrets, auth tokens, SMTP
//! passwords, credential-bearing URLs and provider keys all live in it) is
//! sealed with XChaCha20-Poly1305 under the master key before it reaches the
//! database file.
//!
//! The whole row is sealed rather than chosen fields: a new provider setting
//! that turns out to be a credential is covered without anyone remembering
//! to list it. Each row is bound to its webhook id as associated data, so a
//! sealed row copied onto another webhook does not open.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::StoreError;

/// The prefix of a sealed value; the version names the algorithm and key
/// layout so they can change later without guessing.
const SEALED_PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// The 256-bit key that seals stored secrets. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl MasterKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> MasterKey {
        MasterKey(Zeroizing::new(rand::random()))
    }

    /// Reads a key written as base64 (44 characters) or hex (64
    /// characters) of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..KEY_LEN)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            BASE64
                .decode(text)
                .map_err(|_| "the master key must be 32 bytes in base64 or hex".to_string())?
        };
        let key: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("the master key must be 32 bytes (got {})", b.len()))?;
        Ok(MasterKey(Zeroizing::new(key)))
    }

    /// The key as base64, for a key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(*self.0))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(****)")
    }
}

/// Seals and opens stored values with the master key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    /// What the database stores to recognise the key (see
    /// [`crate::key_check`]).
    key_check: String,
}

/// What the key check is a MAC of. Versioned like sealed values.
const KEY_CHECK_LABEL: &[u8] = b"herald master key check v1";

impl Sealer {
    pub(crate) fn new(key: &MasterKey) -> Sealer {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&*key.0)
            .expect("HMAC takes a key of any length");
        mac.update(KEY_CHECK_LABEL);
        Sealer {
            cipher: XChaCha20Poly1305::new((&*key.0).into()),
            key_check: format!(
                "hmac-sha256:v1:{}",
                BASE64.encode(mac.finalize().into_bytes())
            ),
        }
    }

    /// Names the key without revealing it: the same key always gives the
    /// same check, another key another one.
    pub(crate) fn key_check(&self) -> &str {
        &self.key_check
    }

    /// `plaintext` sealed and bound to `bound_to` (the row's id). Random
    /// 192-bit nonces cannot repeat in practice, which is why XChaCha rather
    /// than a 96-bit-nonce AEAD.
    pub(crate) fn seal(&self, bound_to: &str, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: bound_to.as_bytes(),
                },
            )
            .expect("sealing cannot fail for in-memory input");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", BASE64.encode(out))
    }

    /// Opens a value sealed by [`Sealer::seal`] for the same `bound_to`.
    pub(crate) fn open(
        &self,
        bound_to: &str,
        stored: &str,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let corrupt = |why: &str| StoreError::Corrupt(format!("sealed row {bound_to}: {why}"));
        let encoded = stored
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| corrupt("not sealed"))?;
        let raw = BASE64.decode(encoded).map_err(|_| corrupt("not base64"))?;
        if raw.len() < NONCE_LEN {
            return Err(corrupt("too short"));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: bound_to.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                StoreError::Corrupt(format!(
                    "sealed row {bound_to} does not open with this master key \
                     (is HERALD_MASTER_KEY or the key file the one the data was written with?)"
                ))
            })
    }

    /// Whether a stored value is sealed (rows written before sealing existed
    /// are plain JSON until the store seals them at start).
    pub(crate) fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let key = MasterKey::generate();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal("wh_1", b"whsec_topsecret");
        assert!(Sealer::is_sealed(&sealed));
        assert!(!sealed.contains("topsecret"));
        assert_eq!(&*sealer.open("wh_1", &sealed).unwrap(), b"whsec_topsecret");
        assert!(sealer.open("wh_2", &sealed).is_err(), "bound to its row");
        let other = Sealer::new(&MasterKey::generate());
        assert!(other.open("wh_1", &sealed).is_err(), "bound to its key");
        assert_ne!(sealer.seal("wh_1", b"x"), sealer.seal("wh_1", b"x"));
    }

    #[test]
    fn the_key_check_names_the_key_without_showing_it() {
        let key = MasterKey::generate();
        let check = Sealer::new(&key).key_check().to_string();
        assert_eq!(
            Sealer::new(&key).key_check(),
            check,
            "the same key, the same check"
        );
        assert_ne!(Sealer::new(&MasterKey::generate()).key_check(), check);
        assert!(!check.contains(key.to_base64().as_str()));
        assert!(check.starts_with("hmac-sha256:v1:"), "{check}");
    }

    #[test]
    fn keys_parse_from_base64_and_hex() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(*key.0, *again.0);
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(*MasterKey::parse(&hex).unwrap().0, *key.0);
        assert!(MasterKey::parse("c2hvcnQ=").is_err());
        assert!(MasterKey::parse("not a key").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(****)");
    }
}
