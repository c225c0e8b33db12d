//! Server-Sent Events: `GET /v1/sessions/{id}/events` (one session) and `GET /v1/events`
//! (everything the caller may see), for clients without a Socket.IO library.
//!
//! Message events carry an id; a reconnect sends it back as `Last-Event-ID`:
//! - per session the id is the message's `seq`, and the replay is exact;
//! - on the global stream it is `<session_id>:<seq>`: that session resumes exactly, and the
//!   caller's other sessions replay what was written after that message.
//!
//! Keep-alive comments go out every 15 seconds.

use super::feed::Feed;
use super::hub::Dispatched;
use super::presence::PresenceGuard;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiQuery, SessionPath};
use crate::state::AppState;
use crate::wire::payload;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chatdesk_core::bus::Event;
use chatdesk_core::domain::{Message, Party, SessionId};
use chatdesk_core::files::Links;
use chatdesk_core::service::{ListSessions, MessageQuery};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all_events))
        .routes(routes!(session_events))
}

type BoxedEvents = std::pin::Pin<Box<dyn Stream<Item = Result<SseEvent, Infallible>> + Send>>;
type SseStream = Sse<axum::response::sse::KeepAliveStream<BoxedEvents>>;

fn last_event_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn message_event(number: i64, m: &Message, global: bool, is_read: bool, links: &Links) -> SseEvent {
    let id = if global {
        format!("{}:{}", m.session_id, m.seq)
    } else {
        m.seq.to_string()
    };
    SseEvent::default()
        .event("newMessage")
        .id(id)
        .json_data(payload::message(number, m, is_read, links))
        .expect("JSON values serialize")
}

/// Backlog first, then live events until the feed ends (the client then reconnects).
fn stream(
    backlog: Vec<SseEvent>,
    feed: Feed,
    me: Party,
    global: bool,
    presence: Option<PresenceGuard>,
    links: Links,
) -> SseStream {
    // The presence guard lives as long as the stream: an agent's open stream counts as online.
    let live = stream::unfold(
        (feed, me, presence, links),
        move |(mut feed, me, presence, links)| async move {
            loop {
                let event = feed.next().await?;
                if let Some(e) = render(&event, &me, global, &links) {
                    return Some((Ok(e), (feed, me, presence, links)));
                }
            }
        },
    );
    let all = stream::iter(backlog.into_iter().map(Ok)).chain(live);
    Sse::new(Box::pin(all) as BoxedEvents).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    )
}

fn render(event: &Dispatched, me: &Party, global: bool, links: &Links) -> Option<SseEvent> {
    if let Event::MessageCreated {
        session_number,
        message,
        ..
    } = &*event.event
    {
        // A live message: nobody else has read it yet.
        return Some(message_event(
            *session_number,
            message,
            global,
            false,
            links,
        ));
    }
    let (name, data) = super::deliver::render(event, me, links)?;
    Some(
        SseEvent::default()
            .event(name)
            .json_data(data)
            .expect("JSON values serialize"),
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// Replay messages after this seq first (default: only new ones). `Last-Event-ID` wins.
    pub since_seq: Option<i64>,
}

/// A session's events: its messages, read receipts and typing, from `Last-Event-ID` (a seq).
#[utoipa::path(get, path = "/v1/sessions/{id}/events", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)"), SinceQuery),
    responses((status = 200, description = "text/event-stream"), (status = 404)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn session_events(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiQuery(q): ApiQuery<SinceQuery>,
    headers: HeaderMap,
) -> ApiResult<SseStream> {
    let session = state.sessions.get_session(&p, id).await?;
    let since = match last_event_id(&headers) {
        Some(raw) => raw.parse().map_err(|_| {
            ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be a seq")
        })?,
        None => q.since_seq.unwrap_or(session.last_seq),
    };
    let mut feed = Feed::empty(&state.hub, &state.messages);
    let caught = feed.join(&state.messages, &p, id, since).await?;
    let backlog = caught
        .messages
        .iter()
        .map(|m| {
            message_event(
                session.number,
                m,
                false,
                m.is_read(&caught.cursors),
                &state.hub.links,
            )
        })
        .collect();
    Ok(stream(
        backlog,
        feed,
        p.party,
        false,
        None,
        state.hub.links.clone(),
    ))
}

/// Everything the caller may see: its own sessions' events, and its tenant's for staff.
#[utoipa::path(get, path = "/v1/events", tag = "messages",
    responses((status = 200, description = "text/event-stream")),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn all_events(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
) -> ApiResult<SseStream> {
    let mut feed = Feed::for_principal(&state.hub, &state.messages, &p);
    let mut backlog = Vec::new();
    if let Some(raw) = last_event_id(&headers) {
        let (session, seq) = raw
            .split_once(':')
            .and_then(|(s, n)| Some((SessionId::parse(s).ok()?, n.parse::<i64>().ok()?)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_last_event_id",
                    "Last-Event-ID must be <session_id>:<seq>",
                )
            })?;
        backlog = resume(&state, &p, &mut feed, session, seq).await?;
    }
    let presence = PresenceGuard::open(&state.directory, &p).await;
    Ok(stream(
        backlog,
        feed,
        p.party,
        true,
        presence,
        state.hub.links.clone(),
    ))
}

/// Replay after a global stream's `Last-Event-ID`: the named session exactly, then what the
/// caller's other recently active sessions received after that message was written.
async fn resume(
    state: &AppState,
    p: &chatdesk_core::identity::Principal,
    feed: &mut Feed,
    session: SessionId,
    seq: i64,
) -> ApiResult<Vec<SseEvent>> {
    let anchor = state.sessions.get_session(p, session).await?;
    let since = state
        .messages
        .list_messages(
            p,
            session,
            MessageQuery {
                after_seq: Some(seq - 1),
                limit: Some(1),
                ..MessageQuery::default()
            },
        )
        .await?
        .first()
        .map(|m| m.created_at);
    let mut out = Vec::new();
    let exact = feed.join(&state.messages, p, session, seq).await?;
    out.extend(exact.messages.iter().map(|m| {
        message_event(
            anchor.number,
            m,
            true,
            m.is_read(&exact.cursors),
            &state.hub.links,
        )
    }));
    let Some(since) = since else { return Ok(out) };
    let recent = state
        .sessions
        .list_sessions(
            p,
            ListSessions {
                limit: Some(100),
                ..ListSessions::default()
            },
        )
        .await?
        .sessions;
    for s in recent
        .iter()
        .filter(|s| s.id != session && s.last_activity_at >= since)
    {
        let newest = MessageQuery {
            before_seq: Some(s.last_seq + 1),
            limit: Some(200),
            ..MessageQuery::default()
        };
        let fresh: Vec<_> = state
            .messages
            .list_messages(p, s.id, newest)
            .await?
            .into_iter()
            .filter(|m| m.created_at > since && feed.mark(m))
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let cursors = state.messages.read_cursors(s).await?;
        out.extend(
            fresh
                .iter()
                .map(|m| message_event(s.number, m, true, m.is_read(&cursors), &state.hub.links)),
        );
    }
    Ok(out)
}
