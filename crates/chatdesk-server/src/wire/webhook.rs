//! A webhook delivery's `data`: the same views as `/v1` (snake_case).

use super::views::{MessageView, SessionView};
use chatdesk_core::domain::{Message, Session};
use serde_json::{json, Value};

/// What a delivery says about its session and, for `message.created`, its message.
pub fn data(session: &Session, message: Option<&Message>) -> Value {
    match message {
        Some(m) => json!({"message": MessageView::from(m), "session_number": session.number}),
        None => json!({"session": SessionView::from(session)}),
    }
}
