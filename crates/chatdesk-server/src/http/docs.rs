//! `/openapi.json`, generated from the handlers' annotations, and `/docs`, a self-contained
//! page that renders it without fetching anything from the internet.

use crate::state::AppState;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "chatdesk", description = "Chat sessions over REST: the native /v1 API."),
    tags(
        (name = "sessions", description = "Open, list, change and end chat sessions"),
        (name = "messages", description = "Send and read messages; read receipts"),
        (name = "attachments", description = "Files sent in conversations, fetched by signed links"),
        (name = "auth", description = "Built-in accounts"),
        (name = "agents", description = "Departments, agents, caps and presence"),
        (name = "analytics", description = "Response and resolution times, volumes, busiest hours"),
        (name = "webhooks", description = "Signed, retried event deliveries to your URLs"),
        (name = "canned", description = "Canned responses: ready answers with placeholders"),
    )
)]
struct BaseDoc;

pub fn base() -> OpenApi {
    let mut doc = BaseDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "visitor",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Visitor-Id"))),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
    );
    doc
}

pub fn router(doc: OpenApi) -> Router<AppState> {
    let doc = std::sync::Arc::new(doc);
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move { Json((*doc).clone()) }),
        )
        .route("/docs", get(|| async { Html(DOCS_PAGE) }))
}

const DOCS_PAGE: &str = include_str!("docs.html");
