//! Socket.IO namespace `/chat`, speaking seed 004's events.
//!
//! Identity: handshake `auth: {token}` (a JWT, an API key or a visitor UUID), or an
//! `authenticate` event carrying `token`. The document's bare `{userId, email, role}` is
//! believed only in `--dev`. Nothing but `authenticate` works before identity is proved.
//!
//! Each authenticated socket gets a writer task that owns its feed: live events and
//! `joinSession` catch-up go out in order, from one place, so nothing is sent twice.

use super::deliver;
use super::feed::Feed;
use super::hub::Hub;
use super::inbound;
use super::presence::PresenceGuard;
use crate::auth::resolve::{self, Offered};
use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::limits::{Allowance, Rate};
use crate::wire::payload;
use chatdesk_core::domain::{SessionId, VisitorId};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{Contacts, Conversation, Directory, Messages, PostMessage};
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

mod auth;
mod events;
mod typing;
mod writer;

use auth::*;
use events::*;
use typing::*;
use writer::*;

/// How long "typing" lasts without being renewed.
pub const TYPING_TIMEOUT: Duration = Duration::from_secs(5);

/// At most one "is typing" per session per client in this interval.
pub const TYPING_THROTTLE: Duration = Duration::from_millis(400);

#[derive(Clone)]
pub struct Realtime {
    pub messages: Messages,
    pub contacts: Contacts,
    pub directory: Directory,
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

/// Conversations one socket can be typing in at once; typing in more is dropped, so a
/// client cannot grow this map without bound.
const MAX_TYPING_CONVERSATIONS: usize = 32;

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

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

async fn on_connect(s: SocketRef, State(rt): State<Realtime>) {
    launch_writer(&s, &rt);
}

fn identity(s: &SocketRef) -> Option<Principal> {
    s.extensions.get::<Identity>().map(|Identity(p)| p)
}

/// An event's data that did not read as its type: the error acknowledgement.
fn invalid_body(e: ParserError) -> Value {
    error_value(ApiError::bad_request("invalid_body", e.to_string()))
}
