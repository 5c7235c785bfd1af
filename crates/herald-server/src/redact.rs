//! Masking secrets for display: API answers and the delivery log show only
//! the last four characters of a credential.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Shows only the last four characters of a secret (nothing of a short one).
pub(crate) fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "****".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// Name fragments that mark a custom header as a credential.
const SENSITIVE: &[&str] = &["auth", "token", "key", "secret", "password", "cookie"];
/// A name with this in it is a signature, public by design, whatever
/// else it says (`X-Key-Signature`).
const SIGNATURE: &str = "signature";

/// One case-insensitive automaton for every fragment: a header name is
/// read once, without a lowercase copy (this runs for every header of every
/// attempt; a substring search per fragment cost more than the attempt's
/// JSON).
static FRAGMENTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(SENSITIVE.iter().chain([&SIGNATURE]))
        .expect("the fragments are plain words")
});

/// Whether a header of this name carries a credential.
fn is_sensitive(name: &str, auth_header: Option<&str>) -> bool {
    let mut sensitive = auth_header.is_some_and(|h| h.eq_ignore_ascii_case(name));
    // Overlapping, so a fragment cannot hide a `signature` it overlaps.
    for found in FRAGMENTS.find_overlapping_iter(name) {
        if found.pattern().as_usize() == SENSITIVE.len() {
            return false;
        }
        sensitive = true;
    }
    sensitive
}

/// A request header as the delivery log shows it. `auth_header` is the
/// header the webhook's `auth` setting writes.
pub(crate) fn mask_header(name: &str, value: &str, auth_header: Option<&str>) -> String {
    if !is_sensitive(name, auth_header) {
        return value.to_string();
    }
    // Keep the scheme word of `Authorization: Bearer …` readable.
    match value.split_once(' ') {
        Some((scheme, rest)) if name.eq_ignore_ascii_case("authorization") => {
            format!("{scheme} {}", mask(rest))
        }
        _ => mask(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_but_not_signatures() {
        assert_eq!(mask("short"), "****");
        assert_eq!(mask("sk_live_abcdefgh1234"), "****1234");
        assert_eq!(
            mask_header("Authorization", "Bearer secret-token-9876", None),
            "Bearer ****9876"
        );
        assert_eq!(
            mask_header("X-Custom-Key", "abcdefghijkl", None),
            "****ijkl"
        );
        assert_eq!(mask_header("x-tenant", "acme", None), "acme");
        assert_eq!(
            mask_header("x-my-header", "abcdefghijkl", Some("x-my-header")),
            "****ijkl"
        );
        assert_eq!(mask_header("webhook-signature", "v1,abc", None), "v1,abc");
    }

    #[test]
    fn header_names_are_judged_whatever_their_case() {
        assert_eq!(mask_header("X-API-TOKEN", "abcdefghijkl", None), "****ijkl");
        assert_eq!(mask_header("Set-Cookie", "abcdefghijkl", None), "****ijkl");
        assert_eq!(
            mask_header("AUTHORIZATION", "Basic dXNlcjpwYXNzd29yZA==", None),
            "Basic ****ZA=="
        );
        assert_eq!(
            mask_header("X-My-Header", "abcdefghijkl", Some("x-my-header")),
            "****ijkl"
        );
        // A signature stays readable, even named like a key or the auth header.
        assert_eq!(mask_header("X-Key-Signature", "v1,abc", None), "v1,abc");
        assert_eq!(
            mask_header("x-signature", "v1,abc", Some("X-Signature")),
            "v1,abc"
        );
        assert_eq!(
            mask_header("content-type", "application/json", None),
            "application/json"
        );
    }
}
