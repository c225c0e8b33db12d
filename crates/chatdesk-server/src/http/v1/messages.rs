//! Messages of a session, read receipts, and the caller's unread counts.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, SessionPath};
use crate::state::AppState;
use crate::wire::views::{
    MessageList, MessageView, Names, ReadCursorsView, ReadReceiptView, UnreadView,
};
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::{Content, Revision, SessionId};
use chatdesk_core::service::{Conversation, MessageQuery, SendMessage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message, list_messages))
        .routes(routes!(edit_message, delete_message))
        .routes(routes!(mark_read, read_cursors))
        .routes(routes!(typing))
        .routes(routes!(transcript))
        .routes(routes!(email_transcript))
        .routes(routes!(my_unread))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageBody {
    /// 1 to 10,000 characters (configurable), not only whitespace; may be empty when the
    /// message carries files.
    #[serde(default)]
    pub content: String,
    /// Up to 10 files uploaded into this session by the sender
    /// (`POST /v1/sessions/{id}/attachments`).
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// Idempotency key: a retry with the same key returns the original message.
    pub client_msg_id: Option<String>,
}

/// Append a message. Answered only after it is durably committed.
#[utoipa::path(post, path = "/v1/sessions/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = SendMessageBody,
    responses(
        (status = 201, description = "Stored", body = MessageView),
        (status = 200, description = "A retry: the original message", body = MessageView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The session is closed", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn send_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<SendMessageBody>,
) -> ApiResult<(StatusCode, ApiJson<MessageView>)> {
    let req = SendMessage {
        content: b.content,
        client_msg_id: b.client_msg_id,
        attachment_ids: b.attachment_ids,
    };
    let (message, created) = state.messages.send_message(&p, id, req).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(MessageView::new(message, &state.hub.links))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The new text: 1 to 10,000 characters (configurable), not only whitespace.
    pub content: String,
}

/// The message's sender changes its text within `message_edit_window_secs` of sending, while
/// the session is open; `seq` is unchanged and `messageUpdated` goes to everyone who sees it.
#[utoipa::path(patch, path = "/v1/sessions/{id}/messages/{seq}", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)"), ("seq" = i64, Path)),
    request_body = EditBody,
    responses((status = 200, body = MessageView), (status = 400, body = ErrorBody),
        (status = 403, description = "Not its sender", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`edit_window_passed` or `session_closed`", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn edit_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, seq)): ApiPath<(String, i64)>,
    ApiJson(b): ApiJson<EditBody>,
) -> ApiResult<ApiJson<MessageView>> {
    let id = SessionId::parse(&id)?;
    let content = Content::parse(&b.content, state.settings.max_message_chars)?;
    let m = state
        .messages
        .revise(&p, id, seq, Revision::Edit(content))
        .await?;
    Ok(ApiJson(MessageView::new(m, &state.hub.links)))
}

/// The message's sender deletes it, on the same terms as an edit: its content is gone, its
/// `seq` stays, and `messageDeleted` goes to everyone who sees it.
#[utoipa::path(delete, path = "/v1/sessions/{id}/messages/{seq}", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)"), ("seq" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn delete_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, seq)): ApiPath<(String, i64)>,
) -> ApiResult<ApiJson<MessageView>> {
    let id = SessionId::parse(&id)?;
    let m = state.messages.revise(&p, id, seq, Revision::Delete).await?;
    Ok(ApiJson(MessageView::new(m, &state.hub.links)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Messages with a greater seq, oldest first (default 0).
    pub after_seq: Option<i64>,
    /// The newest messages with a smaller seq, still returned oldest first.
    pub before_seq: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/sessions/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)"), MessagesQuery),
    responses((status = 200, body = MessageList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn list_messages(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<ApiJson<MessageList>> {
    let q = MessageQuery {
        after_seq: q.after_seq,
        before_seq: q.before_seq,
        limit: q.limit,
    };
    let backwards = q.before_seq.is_some();
    let page = state.messages.message_page(&p, id, q).await?;
    // The seq to pass as the same parameter for the next page in this direction.
    let edge = if backwards {
        page.messages.first()
    } else {
        page.messages.last()
    };
    let next_cursor = edge.filter(|_| page.has_more).map(|m| m.seq.to_string());
    let names = Names::of(
        &state,
        page.messages.iter().filter_map(|m| m.sender.user_id()),
    )
    .await?;
    Ok(ApiJson(MessageList {
        next_cursor,
        has_more: page.has_more,
        messages: page
            .messages
            .into_iter()
            .map(|m| names.message(m))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// Everything up to and including this seq has been read.
    pub up_to_seq: i64,
}

/// Move the caller's read cursor forward (it never moves back).
#[utoipa::path(post, path = "/v1/sessions/{id}/read", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = ReadBody,
    responses((status = 200, body = ReadReceiptView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn mark_read(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<ApiJson<ReadReceiptView>> {
    let receipt = state.messages.mark_read(&p, id, b.up_to_seq).await?;
    Ok(ApiJson((&receipt).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingBody {
    /// `true` (the default) while writing, `false` once stopped. Clients let a `true` lapse
    /// after a few seconds without another.
    pub is_typing: Option<bool>,
}

/// Tell the session's other participants the caller is typing (`userTyping` on Socket.IO and
/// event streams). Never stored; limited per caller and session (`limits.typing_per_session`).
#[utoipa::path(post, path = "/v1/sessions/{id}/typing", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = TypingBody,
    responses((status = 204, description = "Told"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn typing(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<TypingBody>,
) -> ApiResult<StatusCode> {
    state.guards.typing(&p.party, id)?;
    let is_typing = b.is_typing.unwrap_or(true);
    state
        .messages
        .typing(&p, Conversation::Id(id), is_typing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where each participant has read up to: a client that reloads shows its read ticks again.
#[utoipa::path(get, path = "/v1/sessions/{id}/read", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = ReadCursorsView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn read_cursors(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<ReadCursorsView>> {
    let session = state.messages.readable(&p, id).await?;
    let cursors = state.messages.read_cursors(&session).await?;
    Ok(ApiJson(cursors.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `text` (default) or `html`.
    pub format: Option<String>,
}

/// The conversation written out (the newest 10,000 messages), as plain text or a standalone
/// HTML page, for anyone who may see it: staff, and the customer for their own. Private
/// notes are not in it.
#[utoipa::path(get, path = "/v1/sessions/{id}/transcript", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)"), TranscriptQuery),
    responses((status = 200, description = "text/plain or text/html, as an attachment"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn transcript(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiQuery(q): ApiQuery<TranscriptQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let html = match q.format.as_deref().unwrap_or("text") {
        "text" => false,
        "html" => true,
        _ => {
            return Err(crate::error::ApiError::bad_request(
                "invalid_format",
                "format must be text or html",
            ))
        }
    };
    let (session, messages) = state.messages.transcript(&p, id).await?;
    let names = Names::of(&state, messages.iter().filter_map(|m| m.sender.user_id())).await?;
    let (body, kind, ext) = if html {
        let body = crate::wire::transcript::html(&session, messages, &names);
        (body, "text/html; charset=utf-8", "html")
    } else {
        let body = crate::wire::transcript::text(&session, messages, &names);
        (body, "text/plain; charset=utf-8", "txt")
    };
    let disposition = format!(
        "attachment; filename=\"conversation-{}.{ext}\"",
        session.number
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, kind.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            // The page is the customer's words: nothing in it may run.
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                crate::wire::transcript::policy().to_owned(),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct EmailedView {
    /// The contact's address it went to.
    pub sent_to: String,
}

/// Email the conversation (text and HTML) to its contact's address, and nowhere else: staff,
/// and the customer for their own. Needs `smtp_url`; limited per session
/// (`limits.transcript_emails_per_session`).
#[utoipa::path(post, path = "/v1/sessions/{id}/transcript/email", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = EmailedView), (status = 404, body = ErrorBody),
        (status = 409, description = "`no_contact`: nobody to send it to", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 502, description = "`mail_failed`", body = ErrorBody),
        (status = 503, description = "`mail_not_configured`", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn email_transcript(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<EmailedView>> {
    use crate::error::ApiError;
    let (session, contact) = state.sessions.get_session_with_contact(&p, id).await?;
    let Some(contact) = contact else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_contact",
            "the conversation has no contact to send it to",
        ));
    };
    let Some(mailer) = state.mailer.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "mail_not_configured",
            "this server sends no email (smtp_url is not set)",
        ));
    };
    state.guards.transcript_email(session.id)?;
    let (session, messages) = state.messages.transcript(&p, session.id).await?;
    let names = Names::of(&state, messages.iter().filter_map(|m| m.sender.user_id())).await?;
    let mail = crate::mail::Mail {
        to: contact.email.as_str().to_owned(),
        subject: format!("Your conversation {}", session.number),
        text: crate::wire::transcript::text(&session, messages.clone(), &names),
        html: Some(crate::wire::transcript::html(&session, messages, &names)),
    };
    let sent_to = mail.to.clone();
    mailer.send(mail).await.map_err(|why| {
        tracing::warn!(error = %why, "a transcript was not sent");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "mail_failed",
            "the mail server did not take it",
        )
    })?;
    Ok(ApiJson(EmailedView { sent_to }))
}

/// Unread messages per session and in total: sessions the caller owns, is assigned to, or
/// has read in.
#[utoipa::path(get, path = "/v1/me/unread", tag = "messages",
    responses((status = 200, body = UnreadView), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn my_unread(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<ApiJson<UnreadView>> {
    let summary = state.messages.unread(&p).await?;
    Ok(ApiJson((&summary).into()))
}
