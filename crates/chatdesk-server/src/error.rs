//! The one error type of the HTTP layer. Every error body is
//! `{"error": {"code": "...", "message": "..."}}` with a stable `code`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chatdesk_core::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for a `429`: sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_topic`, `not_found`, `session_closed`, …
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `429 rate_limited` with `Retry-After`.
    pub fn rate_limited(limit: &'static str, retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Self {
            retry_after: Some(secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests ({limit}); try again later"),
            )
        }
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(i) => Self::bad_request(i.code, i.message),
            ServiceError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            ServiceError::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "forbidden", why),
            ServiceError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            ServiceError::TooLarge { code, message } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
            }
            ServiceError::UnsupportedType(message) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_type",
                message,
            ),
            ServiceError::Unavailable(why) => {
                tracing::warn!(%why, "service unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service is temporarily unavailable",
                )
            }
            ServiceError::Internal(why) => {
                tracing::error!(%why, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<chatdesk_core::domain::Invalid> for ApiError {
    fn from(i: chatdesk_core::domain::Invalid) -> Self {
        Self::bad_request(i.code, i.message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => Self::bad_request("malformed_json", e.body_text()),
            JsonRejection::JsonDataError(e) => {
                Self::bad_request("invalid_body", body_mismatch(&e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ),
            other => Self::bad_request("invalid_body", other.body_text()),
        }
    }
}

/// serde's account of a body that does not fit, in our words: which field, and what was
/// wrong with it (`priority: "none" is not one of "low", "normal", …`).
pub(crate) fn body_mismatch(text: &str) -> String {
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, d)| d)
        .split(" at line ")
        .next()
        .unwrap_or_default();
    let (field, what) = match detail.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (Some(path), rest),
        _ => (None, detail),
    };
    let what = what.replace('`', "\"");
    let said = if let Some(rest) = what.strip_prefix("unknown variant ") {
        match rest.split_once(", expected one of ") {
            Some((got, allowed)) => format!("{got} is not one of {allowed}"),
            None => format!("{rest} is not an accepted value"),
        }
    } else if let Some(rest) = what.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((got, want)) => format!("expected {want}, not {got}"),
            None => rest.to_owned(),
        }
    } else if let Some(name) = what.strip_prefix("missing field ") {
        format!("{name} is required")
    } else if let Some(rest) = what.strip_prefix("unknown field ") {
        let name = rest.split(", expected").next().unwrap_or(rest);
        format!("{name} is not a field of this request")
    } else {
        what
    };
    match field {
        Some(f) => format!("{f}: {said}"),
        None => said,
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request("invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request("invalid_path", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::body_mismatch;

    #[test]
    fn serde_mismatches_are_said_in_our_words() {
        let t = "Failed to deserialize the JSON body into the target type: priority: unknown variant `none`, expected one of `low`, `normal` at line 1 column 20";
        assert_eq!(
            body_mismatch(t),
            "priority: \"none\" is not one of \"low\", \"normal\""
        );
        let t = "Failed to deserialize the JSON body into the target type: force_new: invalid type: string \"yes\", expected a boolean at line 1 column 18";
        assert_eq!(
            body_mismatch(t),
            "force_new: expected a boolean, not string \"yes\""
        );
        let t = "Failed to deserialize the JSON body into the target type: missing field `content` at line 1 column 2";
        assert_eq!(body_mismatch(t), "\"content\" is required");
        let t = "Failed to deserialize the JSON body into the target type: unknown field `force_neww`, expected one of `a`, `b` at line 1 column 13";
        assert_eq!(
            body_mismatch(t),
            "\"force_neww\" is not a field of this request"
        );
    }
}
