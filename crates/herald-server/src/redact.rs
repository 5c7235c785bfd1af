//! Masking secrets for display: API answers and the delivery log show only
//! the last four characters of a credential.

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

/// A request header as the delivery log shows it. `auth_header` is the
/// header the webhook's `auth` setting writes.
pub(crate) fn mask_header(name: &str, value: &str, auth_header: Option<&str>) -> String {
    // Names from a header map are lowercase already: copied only when not
    // (this runs for every header of every attempt).
    let lower: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        name.to_ascii_lowercase().into()
    } else {
        name.into()
    };
    let is_signature = lower.contains("signature");
    let sensitive = !is_signature
        && (auth_header == Some(&*lower) || SENSITIVE.iter().any(|s| lower.contains(s)));
    if !sensitive {
        return value.to_string();
    }
    // Keep the scheme word of `Authorization: Bearer …` readable.
    match value.split_once(' ') {
        Some((scheme, rest)) if lower == "authorization" => format!("{scheme} {}", mask(rest)),
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
}
