//! What real-time clients receive: seed 004's event names and fields (`newMessage`,
//! `messagesRead`, `userTyping`), plus `seq` and `sessionId`, for Socket.IO and SSE alike.

use crate::http::doors::party_id;
use crate::http::v1::views::SessionView;
use chatdesk_core::bus::Event;
use chatdesk_core::domain::{Message, Party};
use serde_json::{json, Value};

/// A message as seed 004's clients know it.
pub fn message(session_number: i64, m: &Message) -> Value {
    json!({
        "id": m.id.to_string(),
        "conversationId": session_number,
        "sessionId": m.session_id.to_string(),
        "seq": m.seq,
        "senderId": party_id(&m.sender),
        "senderType": m.sender_type.as_str(),
        "content": m.content,
        "isRead": false,
        "createdAt": m.created_at,
    })
}

/// What an event looks like to the connection of `me`: an event name and its data, or
/// `None` when it is not for them (their own typing, their own read receipt).
pub fn render(event: &Event, me: &Party) -> Option<(&'static str, Value)> {
    match event {
        Event::MessageCreated {
            session_number,
            message: m,
            ..
        } => Some(("newMessage", message(*session_number, m))),
        Event::ReadAdvanced {
            session_id,
            session_number,
            reader,
            up_to_seq,
            ..
        } if reader != me => Some((
            "messagesRead",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "readerId": party_id(reader), "upToSeq": up_to_seq}),
        )),
        Event::ReadAdvanced { .. } => None,
        Event::Typing {
            session_id,
            session_number,
            who,
            is_typing,
            ..
        } if who != me => Some((
            "userTyping",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "userId": party_id(who), "isTyping": is_typing}),
        )),
        Event::Typing { .. } => None,
        Event::SessionCreated(s) => Some(("sessionCreated", json!(SessionView::from(s)))),
        Event::SessionUpdated(s) => Some(("sessionUpdated", json!(SessionView::from(s)))),
        // Clients already learn of the close from `sessionUpdated`.
        Event::SessionClosed(_) => None,
        Event::SessionAssigned(s) => Some(("sessionAssigned", json!(SessionView::from(s)))),
        Event::QueuePosition {
            session_id,
            session_number,
            position,
            ..
        } => Some((
            "queuePosition",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "position": position}),
        )),
        Event::VisitorLinked { user, .. } => Some((
            "identityLinked",
            json!({"userId": party_id(&Party::User(user.clone()))}),
        )),
    }
}
