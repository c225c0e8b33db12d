//! Files in conversations: upload into a session (`multipart/form-data`), describe one, and
//! fetch one (or its thumbnail) through a signed link that expires.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, SessionPath};
use crate::state::AppState;
use crate::wire::views::AttachmentView;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chatdesk_core::domain::AttachmentId;
use chatdesk_core::files::Variant;
use chatdesk_core::service::{file_too_large, Download};
use serde::Deserialize;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// What a multipart body may carry besides its file (boundaries, headers, other fields).
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The upload counts its own bytes against `attachments.max_bytes` as it reads them.
        .routes(routes!(upload).layer(DefaultBodyLimit::disable()))
        .routes(routes!(describe))
        .routes(routes!(content))
        .routes(routes!(thumbnail))
}

/// The form: one part named `file`, with a file name.
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the multipart form for the OpenAPI document"
)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a file into a session its caller may write to (open, not closed), then send it
/// with `attachment_ids` on `POST /v1/sessions/{id}/messages`. Its type is sniffed from its
/// content (`attachments.allowed_types`); images get a thumbnail.
#[utoipa::path(post, path = "/v1/sessions/{id}/attachments", tag = "attachments",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView),
        (status = 400, description = "`missing_file`, `invalid_file_name`, `empty_file`, `invalid_multipart`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 408, description = "The body took longer than `limits.upload_read_secs`", body = ErrorBody),
        (status = 409, description = "`session_closed`", body = ErrorBody),
        (status = 413, description = "`file_too_large` or `quota_exceeded`", body = ErrorBody),
        (status = 415, description = "`unsupported_type`", body = ErrorBody),
        (status = 429, description = "Too many uploads (`Retry-After`)", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn upload(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    form: Multipart,
) -> ApiResult<(StatusCode, ApiJson<AttachmentView>)> {
    let _slot = state.guards.upload(&p.party, id)?;
    let limit = Duration::from_secs(state.settings.limits.upload_read_secs);
    let (name, bytes) = tokio::time::timeout(limit, read_file(form, &state))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "upload_timeout",
                "the upload took too long",
            )
        })??;
    let attachment = state.attachments.upload(&p, id, &name, bytes).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(AttachmentView::new(
            attachment.reference(),
            &state.hub.links,
        )),
    ))
}

/// The `file` part's name and bytes; past the size limit the read stops with `413`.
async fn read_file(mut form: Multipart, state: &AppState) -> ApiResult<(String, Vec<u8>)> {
    let rules = state.attachments.rules();
    let mut budget = rules.max_bytes + MULTIPART_OVERHEAD;
    let mut found = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart)? {
        let is_file = field.name() == Some("file") && found.is_none();
        let name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart)? {
            budget = budget
                .checked_sub(chunk.len() as u64)
                .ok_or_else(|| ApiError::from(file_too_large(rules)))?;
            if is_file {
                if (bytes.len() + chunk.len()) as u64 > rules.max_bytes {
                    return Err(file_too_large(rules).into());
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            found = Some((name, bytes));
        }
    }
    found.ok_or_else(|| ApiError::bad_request("missing_file", "the form needs a part named `file`"))
}

fn multipart(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::bad_request("invalid_multipart", e.body_text())
}

/// A file, with fresh links, for anyone who may see its session.
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id (UUID)")),
    responses((status = 200, body = AttachmentView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn describe(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AttachmentView>> {
    let id = AttachmentId::parse(&id)?;
    let attachment = state.attachments.describe(&p, id).await?;
    Ok(ApiJson(AttachmentView::new(
        attachment.reference(),
        &state.hub.links,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// Unix time the link stops working.
    pub expires: i64,
    /// The server's signature of the link.
    pub sig: String,
}

/// A file's bytes, through a link from a message or an attachment view (no credentials;
/// `403 forbidden` once it has expired).
#[utoipa::path(get, path = "/v1/attachments/{id}/content", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id (UUID)"), Signed),
    responses((status = 200, description = "The file, as its sniffed type"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn content(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<Signed>,
) -> ApiResult<Response> {
    serve(&state, &id, Variant::Original, q).await
}

/// A PNG thumbnail of an image, through a signed link.
#[utoipa::path(get, path = "/v1/attachments/{id}/thumbnail", tag = "attachments",
    params(("id" = String, Path, description = "Attachment id (UUID)"), Signed),
    responses((status = 200, description = "image/png"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn thumbnail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<Signed>,
) -> ApiResult<Response> {
    serve(&state, &id, Variant::Thumbnail, q).await
}

async fn serve(state: &AppState, id: &str, variant: Variant, q: Signed) -> ApiResult<Response> {
    let id = AttachmentId::parse(id)?;
    let file = state
        .attachments
        .download_signed(id, variant, q.expires, &q.sig)
        .await?;
    Ok(file_response(file, q.expires))
}

/// Users' files are served so that a browser shows images and offers the rest as
/// downloads, and runs nothing in any of them.
fn file_response(file: Download, expires: i64) -> Response {
    let inline = file.content_type.starts_with("image/");
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encode(&file.attachment.name)
    );
    let max_age = (expires - chatdesk_core::clock::now().timestamp()).max(0);
    let value = |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
    (
        [
            (header::CONTENT_TYPE, value(file.content_type)),
            (header::CONTENT_DISPOSITION, value(disposition)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (
                header::CACHE_CONTROL,
                value(format!("private, max-age={max_age}")),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

/// RFC 5987's encoding of a file name for `filename*`.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
