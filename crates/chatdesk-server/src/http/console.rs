//! The agent console at `/console/` and the visitor widget at `/widget.js`, served by the
//! binary itself: their files are compiled in (`console/` beside `src/`), as the browser runs
//! them, with no build step.

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const JS: &str = "text/javascript; charset=utf-8";

/// The console's files: name, content type, text.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
    ("console.js", JS, include_str!("../../console/console.js")),
    ("events.js", JS, include_str!("../../console/events.js")),
    ("html.js", JS, include_str!("../../console/html.js")),
    ("search.js", JS, include_str!("../../console/search.js")),
    ("reports.js", JS, include_str!("../../console/reports.js")),
    ("admin.js", JS, include_str!("../../console/admin.js")),
    ("typing.js", JS, include_str!("../../console/typing.js")),
    ("notes.js", JS, include_str!("../../console/notes.js")),
    ("labels.js", JS, include_str!("../../console/labels.js")),
    ("files.js", JS, include_str!("../../console/files.js")),
];

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
            get(|headers: HeaderMap| async move { file("index.html", &headers) }),
        )
        .route(
            "/console/{name}",
            get(
                |Path(name): Path<String>, headers: HeaderMap| async move { file(&name, &headers) },
            ),
        )
        .route(
            "/widget.js",
            get(|headers: HeaderMap| async move { widget(&headers) }),
        )
        .layer(tower_http::compression::CompressionLayer::new())
}

/// A tag that changes with the file's text, so a browser revalidating gets `304`.
fn etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

/// `304` when the browser already holds this version.
fn unchanged(headers: &HeaderMap, tag: &str) -> Option<Response> {
    let held = headers.get(header::IF_NONE_MATCH)?;
    (held.as_bytes() == tag.as_bytes())
        .then(|| (StatusCode::NOT_MODIFIED, [(header::ETAG, tag.to_owned())]).into_response())
}

fn file(name: &str, headers: &HeaderMap) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = etag(body);
    if let Some(not_modified) = unchanged(headers, &tag) {
        return not_modified;
    }
    (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Revalidated each time: a new binary's console replaces the old at once.
            (header::CACHE_CONTROL, "no-cache"),
            (header::ETAG, tag.as_str()),
        ],
        *body,
    )
        .into_response()
}

/// The widget's script, which other sites' pages load (what it may call is `cors_allowed_origins`).
fn widget(headers: &HeaderMap) -> Response {
    let tag = etag(WIDGET);
    if let Some(not_modified) = unchanged(headers, &tag) {
        return not_modified;
    }
    (
        [
            (header::CONTENT_TYPE, JS),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
            (header::ETAG, tag.as_str()),
        ],
        WIDGET,
    )
        .into_response()
}
