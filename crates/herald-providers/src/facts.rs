//! What can be asked of a provider kind before any webhook is configured:
//! how it takes a batch, whether its URL is a credential, which of its
//! settings are credentials. Each provider module declares its own
//! [`Facts`]; [`ProviderKind`](crate::ProviderKind)'s methods answer from
//! them, so the server holds no list of provider names.

use serde_json::Value;

/// How several events go out as one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Batches {
    /// A JSON array of what single events send (plain webhooks, Zapier).
    Array,
    /// One digest message, rendered like an event (chat and email).
    Digest,
    /// One event per request: each request creates or changes one thing on
    /// the service (an alert, an issue, an event-stream entry).
    Refused,
}

/// One provider's answers.
#[derive(Debug)]
pub(crate) struct Facts {
    pub(crate) batches: Batches,
    /// Whoever holds the URL can post as the webhook: a secret in the path
    /// or query (chat and Zapier hooks), so answers show it masked.
    pub(crate) url_is_credential: bool,
    /// Settings that are credentials, as dotted paths under `settings`
    /// (`smtp.password`); answers show them masked.
    pub(crate) secret_settings: &'static [&'static str],
}

/// `settings` with the string at each of `paths` replaced by `mask` of it;
/// a path that is absent, or not a string, is left as it is.
pub(crate) fn mask_paths(settings: &Value, paths: &[&str], mask: impl Fn(&str) -> String) -> Value {
    let mut shown = settings.clone();
    for path in paths {
        let mut at = Some(&mut shown);
        for key in path.split('.') {
            at = at.and_then(|v| v.get_mut(key));
        }
        if let Some(value) = at
            && let Value::String(secret) = value
        {
            *value = Value::String(mask(secret));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_only_strings_at_the_paths() {
        let settings = json!({
            "api_token": "tok",
            "smtp": {"password": "pw", "username": "u"},
            "email": "a@example.com",
            "template": {"fields": {"api_token": "{{ event.id }}"}},
        });
        let shown = mask_paths(
            &settings,
            &["api_token", "smtp.password", "missing.path", "email.x"],
            |s| format!("<{}>", s.len()),
        );
        assert_eq!(
            shown,
            json!({
                "api_token": "<3>",
                "smtp": {"password": "<2>", "username": "u"},
                "email": "a@example.com",
                "template": {"fields": {"api_token": "{{ event.id }}"}},
            })
        );
        // Not a string (an invalid stored value): left alone, never a panic.
        let odd = json!({"smtp": {"password": 7}, "api_token": null});
        assert_eq!(
            mask_paths(&odd, &["smtp.password", "api_token"], |_| "***".into()),
            odd
        );
    }
}
