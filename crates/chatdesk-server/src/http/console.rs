//! The agent console at `/console/` and the visitor widget at `/widget.js`, served by the
//! binary itself: their files are compiled in (`console/` beside `src/`), as the browser runs
//! them, with no build step.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/console.js");
const STYLE: &str = include_str!("../../console/console.css");
const REPORTS: &str = include_str!("../../console/reports.js");
const ADMIN: &str = include_str!("../../console/admin.js");
const WIDGET: &str = include_str!("../../console/widget.js");

/// The console's pages may load only what this server serves.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|| async { file("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/console/console.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/console/admin.js",
            get(|| async { file("text/javascript; charset=utf-8", ADMIN) }),
        )
        .route(
            "/console/reports.js",
            get(|| async { file("text/javascript; charset=utf-8", REPORTS) }),
        )
        .route(
            "/console/console.css",
            get(|| async { file("text/css; charset=utf-8", STYLE) }),
        )
        .route("/widget.js", get(|| async { widget() }))
}

/// The widget's script, which other sites' pages load (what it may call is `cors_allowed_origins`).
fn widget() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        WIDGET,
    )
        .into_response()
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Revalidated each time: a new binary's console replaces the old at once.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
