//! Random bearer tokens: the generated admin token and tenant API keys.

use rand::Rng;

/// 40 characters from a 62-letter alphabet: about 238 bits, typeable and
/// safe in a header.
pub(crate) fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
