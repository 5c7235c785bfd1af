//! `GET /docs`: the spec rendered by Redoc, every file compiled into the
//! binary (see `assets/redoc/README.md` for where the bundle comes from),
//! so the page loads nothing from another origin.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const PAGE: &str = include_str!("../../../assets/redoc/index.html");
const INIT: &str = include_str!("../../../assets/redoc/init.js");
const BUNDLE: &str = include_str!("../../../assets/redoc/redoc.standalone.js");

/// Scripts, the spec and fonts from this server only. Redoc sets styles
/// from its script (styled-components), which `style-src` must allow.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn answer(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub(crate) async fn docs_page() -> Response {
    answer("text/html; charset=utf-8", PAGE)
}

/// `GET /docs/{file}`: the page's two scripts.
pub(crate) async fn docs_script(Path(file): Path<String>) -> Response {
    let script = "text/javascript; charset=utf-8";
    match file.as_str() {
        "redoc.standalone.js" => answer(script, BUNDLE),
        "init.js" => answer(script, INIT),
        _ => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response(),
    }
}
