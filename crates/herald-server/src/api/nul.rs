//! A NUL character in a URL (`%00`). Nothing Herald stores can hold one
//! (PostgreSQL refuses it in text, even as a query parameter), so such a
//! request is answered here, once, rather than by each handler's store
//! call: 404 when it is in the path (nothing is named so), 422 naming the
//! query parameter that holds it.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub(crate) async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if has_nul(uri.path()) {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "nothing Herald stores has a NUL character (%00) in its id",
        )
        .into_response();
    }
    if let Some(query) = uri.query() {
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if has_nul(key) || has_nul(value) {
                return ApiError::validation(key, "must not contain the NUL character (U+0000)")
                    .into_response();
            }
        }
    }
    next.run(request).await
}

/// Whether percent-encoded text holds `%00`.
fn has_nul(raw: &str) -> bool {
    raw.as_bytes().windows(3).any(|w| w == b"%00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_encoded_nul_counts() {
        assert!(has_nul("/api/v1/events/a%00b"));
        assert!(!has_nul("/api/v1/events/a%2000"));
        assert!(!has_nul("/api/v1/events/100"));
    }
}
