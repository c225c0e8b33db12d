//! Socket.IO namespace `/chat`, speaking seed 004's events.
//!
//! Identity: handshake `auth: {token}` (a JWT, an API key or a visitor UUID), or an
//! `authenticate` event carrying `token`. The document's bare `{userId, email, role}` is
//! believed only in `--dev`. Nothing but `authenticate` works before identity is proved.
//!
//! Each authenticated socket gets a writer task that owns its feed: live events and
//! `joinSession` catch-up go out in order, from one place, so nothing is sent twice.

use super::feed::Feed;
use super::hub::Hub;
use super::inbound;
use super::payload;
use super::presence::PresenceGuard;
use crate::auth::resolve::{self, Offered};
use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::limits::{Allowance, Rate};
use chatdesk_core::domain::VisitorId;
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{Conversation, PostMessage, SessionService};
use chatdesk_core::ServiceError;
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::ParserError;
use socketioxide::SocketIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long "typing" lasts without being renewed.
pub const TYPING_TIMEOUT: Duration = Duration::from_secs(5);
/// At most one "is typing" per session per client in this interval.
pub const TYPING_THROTTLE: Duration = Duration::from_millis(400);

#[derive(Clone)]
pub struct Realtime {
    pub sessions: Arc<SessionService>,
    pub auth: Arc<Authenticator>,
    pub hub: Arc<Hub>,
    /// Events one connection may send; past it the connection is cut.
    pub events: Rate,
    /// How long a connection may stay without proving who it is.
    pub unauthenticated_for: Duration,
}

/// A connection's inbound events, counted against [`Realtime::events`].
#[derive(Clone)]
struct Inbound(Arc<Allowance>);

/// Count one inbound event; a connection past its allowance is cut (it may reconnect and
/// replay, at the pace the limit allows).
fn admit(s: &SocketRef) -> bool {
    let within = s
        .extensions
        .get::<Inbound>()
        .is_none_or(|Inbound(allowance)| allowance.take());
    if !within {
        tracing::debug!(socket = %s.id, "socket cut: too many events");
        let _ = s.clone().disconnect();
    }
    within
}

/// The proven identity of a socket.
#[derive(Clone)]
struct Identity(Principal);

/// Commands to a socket's writer task, boxed in its queue: tokio allocates a queue's first 32
/// slots up front, for every socket, idle or not (32 pointers instead of 32 commands).
enum Command {
    Join {
        session: String,
        since_seq: i64,
        reply: oneshot::Sender<Value>,
    },
    Leave {
        session: String,
    },
}

#[derive(Clone)]
struct Writer(mpsc::Sender<Box<Command>>);

/// Per socket and conversation (as the client named it): when it last said it was typing or
/// had stopped, and which (for throttling and the auto-stop). A stop is kept, not forgotten:
/// socketioxide handles each event in its own task, so a burst's late "typing" can be handled
/// after the "stopped" that the client sent last; inside the throttle window it is then
/// dropped instead of starting typing again.
#[derive(Clone, Default)]
struct TypingState(Arc<Mutex<HashMap<Conversation, (Instant, bool)>>>);

/// Conversations one socket can be typing in at once; typing in more is dropped, so a
/// client cannot grow this map without bound.
const MAX_TYPING_CONVERSATIONS: usize = 32;

impl TypingState {
    /// Whether `to` is tracked or can be: a full map first forgets stops older than the
    /// throttle window (nothing depends on them any more).
    fn room_for(&self, to: &Conversation) -> bool {
        let mut last = self.0.lock().expect("typing lock");
        if last.contains_key(to) || last.len() < MAX_TYPING_CONVERSATIONS {
            return true;
        }
        last.retain(|_, (t, typing)| *typing || t.elapsed() < TYPING_THROTTLE);
        last.len() < MAX_TYPING_CONVERSATIONS
    }
}

pub fn register(io: &SocketIo) {
    io.ns("/chat", on_connect.with(handshake));
}

fn error_value(e: ApiError) -> Value {
    json!({"error": {"code": e.code, "message": e.message}})
}

fn service_error(e: ServiceError) -> Value {
    error_value(ApiError::from(e))
}

fn unauthenticated() -> Value {
    json!({"error": {"code": "unauthenticated", "message": "authenticate first"}})
}

/// Runs before the server answers the connect: everything a client may send right after
/// `connect` must be in place by then (socketioxide runs the connect handler only later, in
/// its own task). So handlers are registered here, and an authenticated socket's feed is
/// created here too; its writer starts in `on_connect`, and anything that arrives before
/// that waits in the feed's and the command queue.
async fn handshake(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(auth): TryData<Value>,
) -> Result<(), ApiError> {
    let token = auth
        .ok()
        .and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned));
    s.extensions
        .insert(Inbound(Arc::new(Allowance::new(rt.events))));
    if let Some(token) = token {
        let p = principal_from_token(&rt, &token).await?;
        prepare(&s, &rt, p.clone());
        track_presence(&s, &rt, &p).await;
    } else {
        cut_if_still_anonymous(&s, rt.unauthenticated_for);
    }
    s.extensions.insert(TypingState::default());
    s.on("authenticate", authenticate);
    s.on("sendMessage", send_message);
    s.on("markAsRead", mark_as_read);
    s.on("typing", typing);
    s.on("joinSession", join_session);
    s.on("leaveSession", leave_session);
    s.on_disconnect(async |s: SocketRef, State(rt): State<Realtime>| {
        // Whoever disconnects mid-sentence stops typing.
        stop_all_typing(&s, &rt).await;
        s.extensions.remove::<Writer>();
        s.extensions.remove::<Pending>();
        s.extensions.remove::<Online>();
    });
    Ok(())
}

/// A connection that has not proved who it is within `after` is closed: an anonymous socket
/// can do nothing but hold memory.
fn cut_if_still_anonymous(s: &SocketRef, after: Duration) {
    let s = s.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        if s.connected() && identity(&s).is_none() {
            tracing::debug!(socket = %s.id, "socket cut: never authenticated");
            let _ = s.disconnect();
        }
    });
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

async fn principal_from_token(rt: &Realtime, token: &str) -> Result<Principal, ApiError> {
    let token = token.trim();
    if let Ok(visitor) = VisitorId::parse(token) {
        return Ok(Principal::visitor(visitor));
    }
    let mut headers = axum::http::HeaderMap::new();
    let value = axum::http::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ApiError::unauthenticated("invalid_token", "malformed token"))?;
    headers.insert(axum::http::header::AUTHORIZATION, value);
    rt.auth
        .identify(&headers)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("invalid_token", "no token"))
}

async fn on_connect(s: SocketRef, State(rt): State<Realtime>) {
    launch_writer(&s, &rt);
}

/// What a socket's writer task owns.
struct WriterParts {
    principal: Principal,
    feed: Feed,
    commands: mpsc::Receiver<Box<Command>>,
}

/// A writer's parts, made before the socket is connected and taken when it is.
#[derive(Clone)]
struct Pending(Arc<Mutex<Option<WriterParts>>>);

/// Give an identified socket its feed and command queue (nothing is sent yet).
fn prepare(s: &SocketRef, rt: &Realtime, p: Principal) {
    let feed = Feed::for_principal(&rt.hub, &p);
    let (tx, rx) = mpsc::channel(16);
    s.extensions.insert(Identity(p.clone()));
    s.extensions.insert(Writer(tx));
    s.extensions
        .insert(Pending(Arc::new(Mutex::new(Some(WriterParts {
            principal: p,
            feed,
            commands: rx,
        })))));
}

/// While it is in a socket's extensions, the socket counts towards its agent's presence.
#[derive(Clone)]
struct Online(#[allow(dead_code, reason = "held for its Drop")] Arc<PresenceGuard>);

async fn track_presence(s: &SocketRef, rt: &Realtime, p: &Principal) {
    if let Some(guard) = PresenceGuard::open(&rt.sessions, p).await {
        s.extensions.insert(Online(Arc::new(guard)));
    }
}

/// Start the writer of a prepared, connected socket.
fn launch_writer(s: &SocketRef, rt: &Realtime) {
    let parts = s
        .extensions
        .get::<Pending>()
        .and_then(|Pending(cell)| cell.lock().expect("pending lock").take());
    if let Some(w) = parts {
        tokio::spawn(writer(
            s.clone(),
            rt.clone(),
            w.principal,
            w.feed,
            w.commands,
        ));
    }
}

/// Each socket's task, alive as long as the socket: the futures of its rare steps (joining a
/// session, an unread count) are boxed so that the task itself stays small (1,216 → 504
/// bytes per idle socket).
async fn writer(
    s: SocketRef,
    rt: Realtime,
    p: Principal,
    mut feed: Feed,
    mut commands: mpsc::Receiver<Box<Command>>,
) {
    loop {
        tokio::select! {
            event = feed.next() => {
                let Some(event) = event else {
                    // Dropped by the hub (too slow, or shutdown): disconnect; the client replays.
                    let _ = s.clone().disconnect();
                    return;
                };
                if let chatdesk_core::bus::Event::ReadAdvanced { session_id, session_number, reader, up_to_seq, .. } = &*event.event {
                    if *reader == p.party && Box::pin(push_unread(&s, &rt, &p, *session_id, *session_number, *up_to_seq)).await.is_err() {
                        let _ = s.clone().disconnect();
                        return;
                    }
                }
                if let Some((name, data)) = payload::render(&event, &p.party) {
                    if s.emit(name, &data).is_err() {
                        // The socket's own buffer is full or it is gone.
                        let _ = s.clone().disconnect();
                        return;
                    }
                }
            }
            command = commands.recv() => match command.map(|c| *c) {
                None => return,
                Some(Command::Join { session, since_seq, reply }) => {
                    let answer = match Box::pin(feed.join(&rt.sessions, &p, &session, since_seq)).await {
                        Ok(caught) => {
                            let (id, number) = (caught.session.id, caught.session.number);
                            let backlog = caught.messages;
                            for m in &backlog {
                                let read = m.is_read(&caught.cursors);
                                if s.emit("newMessage", &payload::message(number, m, read)).is_err() {
                                    let _ = s.clone().disconnect();
                                    return;
                                }
                            }
                            let last = feed.last_delivered(id).unwrap_or(since_seq);
                            json!({"ok": true, "sessionId": id.to_string(), "conversationId": number, "replayed": backlog.len(), "lastSeq": last})
                        }
                        Err(e) => service_error(e),
                    };
                    let _ = reply.send(answer);
                }
                Some(Command::Leave { session }) => {
                    if let Ok(id) = chatdesk_core::domain::SessionId::parse(&session) {
                        feed.leave(id);
                    }
                }
            }
        }
    }
}

/// Tell the reader's connections their unread count after a read receipt.
async fn push_unread(
    s: &SocketRef,
    rt: &Realtime,
    p: &Principal,
    session: chatdesk_core::domain::SessionId,
    number: i64,
    up_to: i64,
) -> Result<(), ()> {
    let summary = rt.sessions.unread(p).await.map_err(|_| ())?;
    let here = summary
        .sessions
        .iter()
        .find(|u| u.session_id == session)
        .map_or(0, |u| u.unread);
    let data = json!({"conversationId": number, "sessionId": session.to_string(), "lastReadSeq": up_to, "unreadCount": here, "totalUnread": summary.total});
    s.emit("unreadCount", &data).map_err(|_| ())
}

fn identity(s: &SocketRef) -> Option<Principal> {
    s.extensions.get::<Identity>().map(|Identity(p)| p)
}

async fn authenticate(
    s: SocketRef,
    State(rt): State<Realtime>,
    Data(data): Data<Value>,
    ack: AckSender,
) {
    if !admit(&s) {
        return;
    }
    let answer = match authenticate_inner(&s, &rt, &data).await {
        Ok(p) => {
            let who = json!({"ok": true, "userId": crate::http::doors::party_id(&p.party), "role": p.role.as_str()});
            let _ = s.emit("authenticated", &who);
            who
        }
        Err(e) => {
            let v = error_value(e);
            let _ = s.emit("unauthorized", &v);
            v
        }
    };
    let _ = ack.send(&answer);
}

async fn authenticate_inner(
    s: &SocketRef,
    rt: &Realtime,
    data: &Value,
) -> Result<Principal, ApiError> {
    let p = if let Some(token) = data.get("token").and_then(Value::as_str) {
        principal_from_token(rt, token).await?
    } else {
        // Seed 004's bare `{userId, role}` claim, as every door's named user is judged.
        let id = match data.get("userId") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_user_id",
                    "userId must be a number or a string",
                ))
            }
        };
        let offered = Offered {
            user: id.as_deref(),
            role: data.get("role").and_then(Value::as_str),
            ..Offered::default()
        };
        rt.auth
            .resolve(&axum::http::HeaderMap::new(), offered, &resolve::SOCKET)
            .await?
    };
    match identity(s) {
        Some(existing) if existing == p => {}
        // A visitor linked to this account at login goes on as the account (`identityLinked`
        // told it to authenticate again): its sessions moved there.
        // The old writer ends with its command queue, its presence with `Online`.
        Some(existing) if rt.sessions.may_become(&existing, &p).await? => {
            s.extensions.remove::<Writer>();
            s.extensions.remove::<Online>();
            start_as(s, rt, &p).await;
        }
        Some(_) => {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "already_authenticated",
                "this socket is already someone else's",
            ));
        }
        None => start_as(s, rt, &p).await,
    }
    Ok(p)
}

/// Give an authenticated, connected socket its feed, writer and presence.
async fn start_as(s: &SocketRef, rt: &Realtime, p: &Principal) {
    prepare(s, rt, p.clone());
    launch_writer(s, rt);
    track_presence(s, rt, p).await;
}

/// An event's data that did not read as its type: the error acknowledgement.
fn invalid_body(e: ParserError) -> Value {
    error_value(ApiError::bad_request("invalid_body", e.to_string()))
}

async fn send_message(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(data): TryData<inbound::SendMessage>,
    ack: AckSender,
) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let mut data = match data {
        Ok(data) => data,
        Err(e) => {
            let _ = ack.send(&invalid_body(e));
            return;
        }
    };
    let to = match Conversation::of_send(&p, data.conversation(), data.user_id.as_ref()) {
        Ok(to) => to,
        Err(e) => {
            let _ = ack.send(&error_value(ApiError::bad_request(e.code, e.message)));
            return;
        }
    };
    let req = PostMessage {
        to,
        content: data.content.unwrap_or_default(),
        client_msg_id: data.client_msg_id,
        session_type: Some("support".into()),
    };
    let _ = match rt.sessions.post_message(&p, req).await {
        // The same text the hub's connections send as `newMessage` (`Renderings`).
        Ok((session, message, _)) => {
            let json = rt.hub.renderings.slot(message.id);
            ack.send(&**json.get_or_init(|| payload::render_message(session.number, &message)))
        }
        Err(e) => ack.send(&service_error(e)),
    };
}

async fn mark_as_read(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(data): TryData<inbound::MarkAsRead>,
    ack: AckSender,
) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let answer = match data {
        Ok(data) => read(&rt, &p, data).await.unwrap_or_else(service_error),
        Err(e) => invalid_body(e),
    };
    let _ = ack.send(&answer);
}

async fn read(
    rt: &Realtime,
    p: &Principal,
    mut data: inbound::MarkAsRead,
) -> Result<Value, ServiceError> {
    let to = data.conversation().ok_or_else(|| {
        ServiceError::from(chatdesk_core::domain::Invalid::new(
            "conversationId",
            "missing_field",
            "markAsRead needs conversationId or sessionId",
        ))
    })?;
    let session = rt.sessions.conversation(p, to, None).await?;
    let up_to = data.up_to_seq.unwrap_or(session.last_seq);
    let r = rt
        .sessions
        .mark_read(p, &session.id.to_string(), up_to)
        .await?;
    Ok(
        json!({"ok": true, "conversationId": session.number, "sessionId": session.id.to_string(), "lastReadSeq": r.last_read_seq, "unreadCount": r.unread}),
    )
}

/// No acknowledgement: data that does not read as `typing`'s is dropped.
async fn typing(s: SocketRef, State(rt): State<Realtime>, TryData(data): TryData<inbound::Typing>) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else { return };
    let Ok(mut data) = data else { return };
    let Some(to) = data.conversation() else {
        return;
    };
    let is_typing = data.is_typing.unwrap_or(true);
    let state = s.extensions.get::<TypingState>().unwrap_or_default();
    let key = to.clone();
    if !state.room_for(&key) {
        return;
    }
    if is_typing {
        let now = Instant::now();
        let throttled = {
            let mut last = state.0.lock().expect("typing lock");
            let recent = last
                .get(&key)
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) < TYPING_THROTTLE);
            if !recent {
                last.insert(key.clone(), (now, true));
            }
            recent
        };
        if throttled {
            return;
        }
        // Stop by itself unless renewed.
        let (rt2, p2, to2, state2) = (rt.clone(), p.clone(), to.clone(), state.clone());
        tokio::spawn(async move {
            tokio::time::sleep(TYPING_TIMEOUT).await;
            let expired = {
                let mut last = state2.0.lock().expect("typing lock");
                let expired = last
                    .get(&key)
                    .is_some_and(|(t, typing)| *typing && t.elapsed() >= TYPING_TIMEOUT);
                if expired {
                    last.remove(&key);
                }
                expired
            };
            if expired {
                let _ = rt2.sessions.typing(&p2, to2, false).await;
            }
        });
    } else {
        state
            .0
            .lock()
            .expect("typing lock")
            .insert(key, (Instant::now(), false));
    }
    let _ = rt.sessions.typing(&p, to, is_typing).await;
}

async fn stop_all_typing(s: &SocketRef, rt: &Realtime) {
    let Some(p) = identity(s) else { return };
    let Some(state) = s.extensions.get::<TypingState>() else {
        return;
    };
    let typing_in: Vec<Conversation> = state
        .0
        .lock()
        .expect("typing lock")
        .drain()
        .filter(|(_, (_, typing))| *typing)
        .map(|(to, _)| to)
        .collect();
    for to in typing_in {
        let _ = rt.sessions.typing(&p, to, false).await;
    }
}

async fn join_session(s: SocketRef, TryData(data): TryData<inbound::JoinSession>, ack: AckSender) {
    let Some(Writer(tx)) = s.extensions.get::<Writer>() else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let data = match data {
        Ok(data) => data,
        Err(e) => {
            let _ = ack.send(&invalid_body(e));
            return;
        }
    };
    let Some(session) = data.session_id else {
        let _ = ack.send(&error_value(ApiError::bad_request(
            "missing_field",
            "joinSession needs sessionId",
        )));
        return;
    };
    let (reply, answer) = oneshot::channel();
    let join = Command::Join {
        session,
        since_seq: data.since_seq.unwrap_or(0),
        reply,
    };
    if tx.send(Box::new(join)).await.is_err() {
        return;
    }
    if let Ok(v) = answer.await {
        let _ = ack.send(&v);
    }
}

async fn leave_session(s: SocketRef, TryData(data): TryData<inbound::LeaveSession>) {
    if !admit(&s) {
        return;
    }
    let session = data.ok().and_then(|d| d.session_id);
    if let (Some(Writer(tx)), Some(session)) = (s.extensions.get::<Writer>(), session) {
        let _ = tx.send(Box::new(Command::Leave { session })).await;
    }
}
