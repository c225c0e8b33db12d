//! What an event the hub hands out looks like to one connection: the Socket.IO event's name
//! and its data (SSE sends the same).

use super::hub::Dispatched;
use crate::wire::ids::party_id;
use crate::wire::payload::{render_message, session};
use chatdesk_core::bus::Event;
use chatdesk_core::domain::Party;
use chatdesk_core::files::Links;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// An event's data: a message already rendered, anything else (rare) as a JSON value.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Payload<'a> {
    Rendered(&'a RawValue),
    Other(Value),
}

/// What an event the hub handed out looks like to the connection of `me`: an event name
/// and its data, or `None` when it is not for them (their own typing, their own read
/// receipt). A message's data is rendered once, by the first connection that sends it, and
/// the others send the same text: every message goes to its sender's connection and to its
/// agent's at least, and socketioxide's serializer would render it again for each.
pub fn render<'a>(
    d: &'a Dispatched,
    me: &Party,
    links: &Links,
) -> Option<(&'static str, Payload<'a>)> {
    let other = |name, data| Some((name, Payload::Other(data)));
    match &*d.event {
        Event::MessageCreated {
            session_number,
            message: m,
            ..
        } => {
            let json = d
                .new_message
                .get_or_init(|| render_message(*session_number, m, links));
            Some(("newMessage", Payload::Rendered(json)))
        }
        Event::MessageRevised {
            session_number,
            message: m,
            ..
        } => match m.deleted_at {
            Some(at) => other(
                "messageDeleted",
                json!({"conversationId": session_number, "sessionId": m.session_id.to_string(),
                    "id": m.id.to_string(), "seq": m.seq, "deletedAt": at}),
            ),
            None => other(
                "messageUpdated",
                json!({"conversationId": session_number, "sessionId": m.session_id.to_string(),
                    "id": m.id.to_string(), "seq": m.seq, "content": m.content,
                    "editedAt": m.edited_at}),
            ),
        },
        Event::ReadAdvanced {
            session_id,
            session_number,
            reader,
            up_to_seq,
            ..
        } if reader != me => other(
            "messagesRead",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "readerId": party_id(reader), "upToSeq": up_to_seq}),
        ),
        Event::ReadAdvanced { .. } => None,
        Event::Typing {
            session_id,
            session_number,
            who,
            is_typing,
            ..
        } if who != me => other(
            "userTyping",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "userId": party_id(who), "isTyping": is_typing}),
        ),
        Event::Typing { .. } => None,
        Event::SessionCreated(s) => other("sessionCreated", session(s)),
        Event::SessionUpdated(s) => other("sessionUpdated", session(s)),
        // Clients already learn of the close from `sessionUpdated`.
        Event::SessionClosed(_) => None,
        Event::SessionAssigned(s) => other("sessionAssigned", session(s)),
        Event::QueuePosition {
            session_id,
            session_number,
            position,
            ..
        } => other(
            "queuePosition",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "position": position}),
        ),
        Event::VisitorLinked { user, .. } => other(
            "identityLinked",
            json!({"userId": party_id(&Party::User(user.clone()))}),
        ),
        Event::NoteCreated { note, .. } => other(
            "noteCreated",
            json!({"sessionId": note.session_id.to_string(), "number": note.number,
                "authorId": note.author.to_string(), "content": note.content,
                "createdAt": note.created_at, "private": true}),
        ),
        Event::SessionHandedOff {
            session: s,
            from,
            reason,
        } => other(
            "sessionHandedOff",
            json!({"sessionId": s.id.to_string(), "conversationId": s.number,
                "from": from.as_ref().map(ToString::to_string), "reason": reason,
                "departmentId": s.department_id}),
        ),
        Event::SessionRated { rating, .. } => other(
            "sessionRated",
            json!({"sessionId": rating.session_id.to_string(), "score": rating.score.get(),
                "comment": rating.comment, "ratedAt": rating.rated_at}),
        ),
        Event::TenantSettingsChanged { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::payload::message;
    use chatdesk_core::domain::{BusinessId, Message, MessageId, SenderType, SessionId, UserId};
    use std::sync::Arc;

    #[test]
    fn a_message_is_rendered_once_for_every_connection_and_as_its_own_payload() {
        let sender = Party::User(UserId::parse("alice").unwrap());
        let m = Message {
            id: MessageId::generate(),
            session_id: SessionId::generate(),
            seq: 7,
            sender: sender.clone(),
            sender_type: SenderType::Customer,
            content: "say \"hi\"\n".into(),
            client_msg_id: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        };
        let d = Dispatched {
            event: Arc::new(Event::MessageCreated {
                business_id: BusinessId::default_tenant(),
                owner: sender.clone(),
                session_number: 3,
                message: m.clone(),
            }),
            new_message: Default::default(),
        };
        let agent = Party::User(UserId::parse("agent").unwrap());
        let links = Links::new(b"key", 60);
        let (
            Some(("newMessage", Payload::Rendered(a))),
            Some(("newMessage", Payload::Rendered(b))),
        ) = (render(&d, &sender, &links), render(&d, &agent, &links))
        else {
            panic!("a message renders as newMessage data");
        };
        assert!(std::ptr::eq(a, b), "rendered once, shared");
        assert_eq!(
            a.get(),
            serde_json::to_string(&message(3, &m, false, &links)).unwrap()
        );
    }
}
