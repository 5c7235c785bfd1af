//! The console's own files, compiled into the binary: one stylesheet, one
//! script, the logo. Their paths carry the version, so a browser may keep
//! them for a day and still never mixes one release's pages with another's
//! files.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

macro_rules! asset_path {
    ($file:literal) => {
        concat!("/ui/assets/", env!("CARGO_PKG_VERSION"), "/", $file)
    };
}

pub(crate) const STYLESHEET: &str = asset_path!("console.css");
pub(crate) const SCRIPT: &str = asset_path!("console.js");
pub(crate) const ICON: &str = asset_path!("logo.svg");

pub(crate) const LOGO_SVG: &str = include_str!("assets/logo.svg");
const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// `GET /ui/assets/{version}/{file}`.
pub(crate) async fn serve(Path((_version, file)): Path<(String, String)>) -> Response {
    let (body, content_type) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "logo.svg" => (LOGO_SVG, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
