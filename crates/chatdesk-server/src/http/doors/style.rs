//! Each seed document has its own error body. Handlers return the native `ApiError`; a layer
//! on each door rewrites the body into the door's shape, keeping the status and adding the
//! stable `code`. Extractor rejections (bad JSON, …) are rewritten the same way.

use axum::body::{to_bytes, Body};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Clone, Copy)]
pub enum ErrorStyle {
    /// NestJS: `{"statusCode": 404, "message": "...", "error": "Not Found"}` (seeds 000, 001, 004).
    Nest,
    /// Seed 002: `{"error": "Session not found"}`, or `{"error": "...", "details": "..."}`.
    LiveChat,
    /// Seed 003 (Django): `{"error": "..."}`.
    Django,
}

impl ErrorStyle {
    fn body(self, status: StatusCode, code: &str, message: &str) -> Value {
        match self {
            Self::Nest => json!({
                "statusCode": status.as_u16(),
                "message": message,
                "error": status.canonical_reason().unwrap_or("Error"),
                "code": code,
            }),
            Self::LiveChat => match (status, code) {
                (StatusCode::NOT_FOUND, _) => json!({"error": "Session not found", "code": code}),
                (s, _) if s.is_server_error() => {
                    json!({"error": "Internal server error", "details": message, "code": code})
                }
                (
                    StatusCode::BAD_REQUEST
                    | StatusCode::PAYLOAD_TOO_LARGE
                    | StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _,
                ) => {
                    json!({"error": "Invalid request body", "details": message, "code": code})
                }
                _ => {
                    json!({"error": status.canonical_reason().unwrap_or("Error"), "details": message, "code": code})
                }
            },
            Self::Django => json!({"error": message, "code": code}),
        }
    }

    /// Rewrite a native error response; anything else passes untouched.
    pub async fn restyle(self, response: Response) -> Response {
        let status = response.status();
        if !(status.is_client_error() || status.is_server_error()) {
            return response;
        }
        let (parts, body) = response.into_parts();
        let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
            return (status, "error").into_response();
        };
        let native: Option<Value> = serde_json::from_slice(&bytes).ok();
        let Some((code, message)) = native.as_ref().and_then(|v| {
            Some((
                v["error"]["code"].as_str()?.to_owned(),
                v["error"]["message"].as_str()?.to_owned(),
            ))
        }) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let mut response = (status, axum::Json(self.body(status, &code, &message))).into_response();
        // Keep headers such as WWW-Authenticate; the body's type and length are new.
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response
    }
}

/// `OpenApiRouter::layer(style_layer!(ErrorStyle::Nest))` for a door.
macro_rules! restyle_errors {
    ($style:expr) => {
        axum::middleware::map_response(|r: axum::response::Response| async move {
            $style.restyle(r).await
        })
    };
}
pub(crate) use restyle_errors;
