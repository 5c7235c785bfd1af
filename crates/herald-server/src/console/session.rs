//! Console sessions: signing in with the admin token or a tenant API key,
//! the session cookie, and the [`Session`] every page acts for.
//!
//! The cookie holds a random token; the store keeps only its SHA-256 (as
//! for API keys), so a copy of the database opens no session, and a
//! session signed out (or whose key is revoked, or whose tenant is
//! deleted) is gone on every node at once.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use herald_core::ids::DEFAULT_TENANT;
use herald_store::ConsoleSessionRow;
use herald_store::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ConsoleState;
use crate::api::{Actor, Caller};

/// How long a signed-in session lasts.
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// The session cookie's name. Outside dev mode it carries the `__Host-`
/// prefix, which browsers accept only with `Secure`, `Path=/` and no
/// `Domain`: no other host or path can set or shadow it.
pub(super) fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-herald_session"
    } else {
        "herald_session"
    }
}

/// The cookie that picks the tenant an admin session acts on.
const TENANT_COOKIE: &str = "herald_tenant";

/// A signed-in session, read from its cookie.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) row: ConsoleSessionRow,
    /// Who the session acts as, in the tenant it acts on.
    pub(crate) caller: Caller,
    /// The `Host` the browser used, passed on to the API's calls.
    pub(crate) host: Option<String>,
}

impl Session {
    pub(crate) fn is_admin(&self) -> bool {
        matches!(self.caller.actor, Actor::Admin)
    }

    /// The session may open this section of the console.
    pub(crate) fn allows(&self, feature: &str) -> bool {
        self.row
            .features
            .as_ref()
            .is_none_or(|f| f.iter().any(|f| f == feature))
    }

    /// A short description of who is signed in, for the page header.
    pub(crate) fn who(&self) -> String {
        let actor = match &self.caller.actor {
            Actor::Admin => "admin".to_string(),
            Actor::Key(id) => format!("key {id}"),
            Actor::Portal(_) => "portal".to_string(),
        };
        format!("{actor} · tenant {}", self.caller.tenant_id)
    }
}

/// The hash under which a session or link token is stored.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Why a page could not find its session: the browser is sent to sign in.
pub(crate) struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to("/ui/sign-in").into_response()
    }
}

impl FromRequestParts<ConsoleState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        let session = read(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?
            .ok_or_else(|| SignInFirst.into_response())?;
        parts.extensions.insert(session.clone());
        Ok(session)
    }
}

/// The value of cookie `name` in the request, if sent.
pub(super) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The session the request's cookie names, if it is live.
async fn read(
    state: &ConsoleState,
    headers: &HeaderMap,
) -> Result<Option<Session>, super::page::PageError> {
    let Some(token) = cookie_value(headers, cookie_name(state.secure_cookies)) else {
        return Ok(None);
    };
    let now = herald_store::now_ms();
    let Some(row) = state
        .app
        .store()
        .find_console_session(token_hash(token), now)
        .await?
    else {
        return Ok(None);
    };
    let actor = actor_of(&row.actor);
    // An admin acts on the tenant it picked, if that tenant still exists.
    let mut tenant_id = row.tenant_id.clone();
    if actor == Actor::Admin
        && let Some(picked) = cookie_value(headers, TENANT_COOKIE)
        && picked != tenant_id
        && (picked == DEFAULT_TENANT || state.app.store().get_tenant(picked).await?.is_some())
    {
        tenant_id = picked.to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    Ok(Some(Session {
        host,
        caller: Caller {
            tenant_id,
            actor,
            via_mcp: false,
        },
        row,
    }))
}

/// The actor a stored session names: `admin`, `portal:<link>` or a key id.
fn actor_of(stored: &str) -> Actor {
    if stored == "admin" {
        Actor::Admin
    } else if stored.starts_with(PORTAL_ACTOR) {
        Actor::Portal(stored.to_string())
    } else {
        Actor::Key(stored.to_string())
    }
}

/// How a portal session's actor begins, in the audit log too.
pub(crate) const PORTAL_ACTOR: &str = "portal:";

/// A new session for a proven caller, stored; returns its cookie token.
pub(crate) async fn open(
    state: &ConsoleState,
    caller: &Caller,
    portal: Option<&herald_store::PortalLinkRow>,
) -> Result<String, super::page::PageError> {
    let token = crate::tokens::random_token();
    let now = herald_store::now_ms();
    let row = ConsoleSessionRow {
        token_hash: token_hash(&token),
        tenant_id: caller.tenant_id.clone(),
        actor: match &caller.actor {
            Actor::Admin => "admin".to_string(),
            Actor::Key(id) | Actor::Portal(id) => id.clone(),
        },
        read_only: portal.is_some_and(|p| p.read_only),
        features: portal.and_then(|p| p.features.clone()),
        csrf_token: crate::tokens::random_token(),
        portal: portal.is_some(),
        created_at_ms: now,
        expires_at_ms: now + portal.map_or(SESSION_TTL_MS, |p| p.session_ttl_ms),
    };
    let ttl_ms = row.expires_at_ms - now;
    state.app.store().insert_console_session(row).await?;
    tracing::info!(tenant_id = %caller.tenant_id, portal = portal.is_some(), ttl_ms, "console session opened");
    Ok(token)
}

/// The `Set-Cookie` value that gives the browser a session (HttpOnly,
/// SameSite=Strict, Secure outside dev mode, gone when the session is).
pub(crate) fn session_cookie(secure: bool, token: &str, max_age_secs: i64) -> String {
    Cookie::build((cookie_name(secure), token.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes a cookie.
pub(crate) fn removal_cookie(secure: bool, name: &str) -> String {
    Cookie::build((name.to_string(), ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The `Set-Cookie` value that picks the tenant an admin session acts on.
pub(crate) fn tenant_cookie(secure: bool, tenant_id: &str) -> String {
    Cookie::build((TENANT_COOKIE, tenant_id.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build()
        .to_string()
}

/// Constant-time comparison of two tokens.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The session's lifetime in seconds, for the cookie.
pub(crate) fn ttl_secs(portal: Option<&herald_store::PortalLinkRow>) -> i64 {
    portal.map_or(SESSION_TTL_MS, |p| p.session_ttl_ms) / 1000
}
