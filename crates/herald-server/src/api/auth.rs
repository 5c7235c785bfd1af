//! Who is calling: the admin token or a tenant's API key, checked in
//! constant time, turned into the [`Caller`] every handler acts for.
//!
//! A tenant key is `hrld_<key id>_<40 random characters>`. Only a SHA-256 of
//! it is stored: with ~238 bits of randomness a fast hash is as safe as a
//! slow one (nobody can guess such a key), and it keeps every request to a
//! single indexed lookup.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use herald_core::ids::{self, DEFAULT_TENANT};
use herald_store::prelude::*;
use herald_store::{ApiKeyRow, AuditEntry};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::error::{ApiError, ApiResult};

const KEY_PREFIX: &str = "hrld_";
/// The header with which the admin token picks the tenant it acts on, as
/// errors name it.
const TENANT_HEADER: &str = "X-Herald-Tenant";

/// What authenticated the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Actor {
    Admin,
    /// A tenant API key, by id.
    Key(String),
    /// A console session opened by a tenant portal link, named
    /// `portal:<link>`: acts in its tenant only, as a key does.
    Portal(String),
}

/// Who is calling, and for which tenant: set by [`authenticate`] for every
/// `/api/v1` request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant_id: String,
    pub(crate) actor: Actor,
    /// The request came through Herald's MCP server
    /// ([`herald_core::via`]): only prefixes the actor's name.
    pub(crate) via_mcp: bool,
}

impl Caller {
    /// Refuses tenant keys on the operator's routes.
    pub(crate) fn require_admin(&self) -> ApiResult<()> {
        match self.actor {
            Actor::Admin => Ok(()),
            Actor::Key(_) | Actor::Portal(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this route needs the admin token; a tenant API key cannot use it",
            )),
        }
    }

    /// `admin` or the key id, prefixed `mcp:` for an agent's request.
    fn actor_name(&self) -> String {
        let who = match &self.actor {
            Actor::Admin => "admin",
            Actor::Key(id) | Actor::Portal(id) => id.as_str(),
        };
        if self.via_mcp {
            format!("mcp:{who}")
        } else {
            who.to_string()
        }
    }

    /// An audit entry for a change this caller made in its tenant.
    pub(crate) fn audit(
        &self,
        action: &str,
        resource: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        self.audit_in(&self.tenant_id, action, resource, before, after)
    }

    /// An audit entry for a change recorded in another tenant's log (the
    /// operator's tenant and key changes).
    pub(crate) fn audit_in(
        &self,
        tenant_id: &str,
        action: &str,
        (resource_type, resource_id): (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        AuditEntry {
            tenant_id: tenant_id.to_string(),
            actor: self.actor_name(),
            action: action.to_string(),
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            before,
            after,
            at_ms: herald_store::now_ms(),
        }
    }
}

/// A new API key for a tenant: the row to store and the text shown once.
pub(crate) fn new_api_key(tenant_id: &str) -> (ApiKeyRow, String) {
    let id = ids::new_id(ids::API_KEY);
    let text = format!("{KEY_PREFIX}{id}_{}", crate::tokens::random_token());
    let row = ApiKeyRow {
        id,
        tenant_id: tenant_id.to_string(),
        key_hash: Sha256::digest(text.as_bytes()).to_vec(),
        created_at_ms: herald_store::now_ms(),
    };
    (row, text)
}

/// The key id inside a key's text, if it has the shape of one.
fn key_id_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, _secret) = rest.rsplit_once('_')?;
    ids::has_prefix(id, ids::API_KEY).then_some(id)
}

/// A caller already proven in process: the console's requests to the API
/// carry their session's caller in the request's extensions, which only
/// code inside the server can set (a client's bytes never become one).
#[derive(Debug, Clone)]
pub(crate) struct ProvenCaller(pub(crate) Caller);

/// Checks the bearer token and records the caller.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = match request.extensions_mut().remove::<ProvenCaller>() {
        Some(ProvenCaller(caller)) => caller,
        None => identify(&state, request.headers()).await?,
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The caller a bearer token (in `headers`) proves, or why it proves none.
pub(crate) async fn identify(state: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    let named_tenant = named_tenant(headers)?;
    let via_mcp = headers.get(herald_core::via::HEADER).is_some_and(|v| {
        v.as_bytes()
            .eq_ignore_ascii_case(herald_core::via::MCP.as_bytes())
    });
    if bool::from(presented.as_bytes().ct_eq(state.admin_token().as_bytes())) {
        let tenant_id = match named_tenant {
            None => DEFAULT_TENANT.to_string(),
            Some(id) => {
                state
                    .store()
                    .get_tenant(&id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("tenant", &id).with_field(TENANT_HEADER))?
                    .id
            }
        };
        return Ok(Caller {
            tenant_id,
            actor: Actor::Admin,
            via_mcp,
        });
    }
    let key_id = key_id_of(presented).ok_or_else(ApiError::unauthorized)?;
    let key = state
        .store()
        .find_api_key(key_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let hash = Sha256::digest(presented.as_bytes());
    if !bool::from(hash.as_slice().ct_eq(&key.key_hash)) {
        return Err(ApiError::unauthorized());
    }
    if named_tenant.is_some_and(|t| t != key.tenant_id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a tenant API key acts only on its own tenant",
        )
        .with_field(TENANT_HEADER));
    }
    Ok(Caller {
        tenant_id: key.tenant_id,
        actor: Actor::Key(key.id),
        via_mcp,
    })
}

/// The tenant named by `X-Herald-Tenant`, checked for shape. A value that
/// cannot be a tenant id names no tenant: a 404, as an id in a path that
/// cannot be one is.
fn named_tenant(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(TENANT_HEADER) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    if text != DEFAULT_TENANT && !ids::has_prefix(&text, ids::TENANT) {
        return Err(ApiError::not_found("tenant", &text).with_field(TENANT_HEADER));
    }
    Ok(Some(text.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_id() {
        let (row, text) = new_api_key("tnt_x");
        assert_eq!(key_id_of(&text), Some(row.id.as_str()));
        assert_eq!(row.key_hash, Sha256::digest(text.as_bytes()).to_vec());
        assert_eq!(key_id_of("hrld_admin_abc"), None);
        assert_eq!(key_id_of("Bearer"), None);
    }

    #[test]
    fn the_mcp_mark_only_prefixes_the_proven_actor() {
        let caller = |actor, via_mcp| Caller {
            tenant_id: "tnt_x".into(),
            actor,
            via_mcp,
        };
        let key = || Actor::Key("key_01".into());
        assert_eq!(caller(key(), false).actor_name(), "key_01");
        assert_eq!(caller(key(), true).actor_name(), "mcp:key_01");
        assert_eq!(caller(Actor::Admin, true).actor_name(), "mcp:admin");
        assert_eq!(
            caller(Actor::Admin, false)
                .audit("a", ("webhook", "wh_1"), None, None)
                .actor,
            "admin"
        );
    }
}
