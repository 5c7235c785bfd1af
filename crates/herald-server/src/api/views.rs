//! Response bodies: stored rows turned into the API's JSON, with secrets
//! masked.

use chrono::{DateTime, Utc};
use herald_core::event::{data_of_body, format_time, from_millis};
use herald_core::signing::ed25519::Ed25519KeyPair;
use herald_core::webhook::{Auth, SignatureScheme, Webhook};
use herald_providers::ProviderKind;
use herald_store::{AttemptRow, DeliveryRow, EventRow};
use serde_json::{Value, json};

use crate::redact::{mask, mask_header};

fn masked_auth(auth: &Auth) -> Value {
    match auth {
        Auth::None => json!({"type": "none"}),
        Auth::Bearer { token } => json!({"type": "bearer", "token": mask(token)}),
        Auth::ApiKey { key, header } => {
            json!({"type": "api_key", "key": mask(key), "header": header})
        }
        Auth::Basic { username, password } => {
            json!({"type": "basic", "username": username, "password": mask(password)})
        }
    }
}

/// The provider's settings, its credentials masked. Stored webhooks always
/// name a known provider; should one not, none of its settings are shown
/// rather than risk showing a credential.
fn masked_settings(w: &Webhook) -> Value {
    match ProviderKind::parse(&w.spec.provider) {
        Some(kind) => kind.mask_settings(&w.spec.settings, mask),
        None => json!({}),
    }
}

/// Custom headers, with the values of credential-looking ones masked.
fn masked_headers(headers: &std::collections::BTreeMap<String, String>) -> Value {
    headers
        .iter()
        .map(|(name, value)| (name.clone(), json!(mask_header(name, value, None))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A URL that is itself a credential (chat and Zapier hooks) shows only its
/// origin and the last four characters.
fn shown_url(w: &Webhook) -> Value {
    let Some(url) = &w.spec.url else {
        return Value::Null;
    };
    let is_credential =
        ProviderKind::parse(&w.spec.provider).is_some_and(|k| k.url_is_credential());
    match url::Url::parse(url) {
        Ok(parsed) if is_credential => json!(format!(
            "{}/{}",
            parsed.origin().ascii_serialization(),
            mask(url)
        )),
        _ => json!(url),
    }
}

/// A webhook; the signing secret only when asked (creation answers).
pub(crate) fn webhook(w: &Webhook, with_secret: bool) -> Value {
    let s = &w.spec;
    let mut v = json!({
        "id": w.id,
        "name": s.name,
        "provider": s.provider,
        "url": shown_url(w),
        "settings": masked_settings(w),
        "description": s.description,
        "event_types": s.event_types,
        "filter": s.filter,
        "transform": s.transform,
        "status": s.status,
        "tags": s.tags,
        "headers": masked_headers(&s.headers),
        "auth": masked_auth(&s.auth),
        "retry": s.retry,
        "timeout_ms": s.timeout_ms,
        "signature": s.signature,
        "public_key": public_key(w, w.key_pair.as_ref()),
        "max_in_flight": s.max_in_flight,
        "rate_limit": s.rate_limit,
        "auto_disable_after": s.auto_disable_after,
        "auto_recover": s.auto_recover,
        "ordering": s.ordering,
        "batch": s.batch,
        "ordering_key": s.ordering_key,
        "alerts": s.alerts,
        "disabled_reason": w.disabled_reason,
        "disabled_at": w.disabled_at.map(format_time),
        "metadata": s.metadata,
        "created_at": format_time(w.created_at),
        "updated_at": format_time(w.updated_at),
    });
    if with_secret {
        v["secret"] = json!(w.secret.expose());
    }
    v
}

/// A key pair's public key (`whpk_…`, not a secret), shown while the
/// webhook signs with `ed25519`; a pair kept from an earlier `ed25519`
/// period is not shown, since nothing it signs goes out.
fn public_key(w: &Webhook, pair: Option<&Ed25519KeyPair>) -> Value {
    match pair {
        Some(pair) if w.spec.signature.scheme == SignatureScheme::Ed25519 => {
            json!(pair.public_key())
        }
        _ => Value::Null,
    }
}

/// What signs a webhook's requests, for `GET …/secret` and rotation answers
/// (the only places a secret is shown): the current secret and public key,
/// and what rotations replaced that still signs at `now`, with its expiry.
/// Private keys are never shown.
pub(crate) fn signing(w: &Webhook, now: DateTime<Utc>) -> Value {
    let previous: Vec<Value> = w
        .previous_signing_at(now)
        .map(|p| {
            json!({
                "secret": p.secret.expose(),
                "public_key": public_key(w, p.key_pair.as_ref()),
                "expires_at": format_time(p.expires_at),
            })
        })
        .collect();
    json!({
        "secret": w.secret.expose(),
        "public_key": public_key(w, w.key_pair.as_ref()),
        "previous": previous,
    })
}

fn opt_time(ms: Option<i64>) -> Value {
    ms.map(|ms| json!(format_time(from_millis(ms))))
        .unwrap_or(Value::Null)
}

pub(crate) fn delivery(d: &DeliveryRow) -> Value {
    json!({
        "id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "webhook_id": d.webhook_id,
        "status": d.status,
        "attempt_count": d.attempt_count,
        "next_attempt_at": opt_time(d.next_attempt_at_ms.filter(|_| matches!(
            d.status,
            herald_core::delivery::DeliveryStatus::Scheduled
                | herald_core::delivery::DeliveryStatus::Pending
                | herald_core::delivery::DeliveryStatus::Retrying
        ))),
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "test": d.test,
        "created_at": format_time(from_millis(d.created_at_ms)),
        "updated_at": format_time(from_millis(d.updated_at_ms)),
        "delivered_at": opt_time(d.delivered_at_ms),
    })
}

fn json_or_null(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

pub(crate) fn attempt(a: &AttemptRow, test: bool) -> Value {
    json!({
        "id": a.id,
        "number": a.number,
        "started_at": format_time(from_millis(a.started_at_ms)),
        "duration_ms": a.duration_ms,
        "status_code": a.status_code,
        "response_headers": json_or_null(a.response_headers.as_deref()),
        // Stored as received; shown as text (invalid UTF-8 as U+FFFD).
        "response_body": a.response_body.as_deref().map(String::from_utf8_lossy),
        "error_category": a.error_category.map(|c| c.as_str()),
        "error_message": a.error_message,
        "request_headers": json_or_null(Some(&a.request_headers)),
        "outcome": a.outcome.as_str(),
        "test": test,
    })
}

pub(crate) fn event(e: &EventRow) -> Value {
    json!({
        "id": e.id,
        "type": e.event_type,
        "source": e.source,
        "data": data_of_body(&e.body),
        "created_at": format_time(from_millis(e.created_at_ms)),
        "deliver_at": opt_time(e.deliver_at_ms),
        "schema_errors": e
            .schema_errors
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok()),
    })
}

pub(crate) fn delivery_summary(d: &DeliveryRow) -> Value {
    json!({
        "delivery_id": d.id,
        "webhook_id": d.webhook_id,
        "status": d.status,
        "attempt_count": d.attempt_count,
        "last_status_code": d.last_status_code,
        "test": d.test,
    })
}
