//! Conversation-style sending (seed 004's REST and Socket.IO): a message names its session,
//! or, for a first message, the session is the sender's open one (started if there is none),
//! or for staff, the named user's. And typing, which is never stored.

use super::{Messages, OpenSession};
use crate::bus::Event;
use crate::domain::{Invalid, Message, Session, SessionId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;

/// Which session a conversation-style request means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// A session by its UUID.
    Id(SessionId),
    /// A session by its integer number (seed 004's `conversationId`).
    Number(i64),
    /// The sender's own open conversation, started if there is none.
    Mine,
    /// Staff: the named user's open conversation, started if there is none.
    WithUser(String),
}

impl Conversation {
    /// Where a send goes, over REST and the socket alike: the conversation named, else (a
    /// first message) the sender's own, or for staff the `userId`'s (a number or a string,
    /// as seed 004 sends it). A `userId` from anyone else is not believed: it goes nowhere.
    pub fn of_send(
        p: &Principal,
        named: Option<Conversation>,
        user_id: Option<&serde_json::Value>,
    ) -> Result<Conversation, Invalid> {
        if let Some(to) = named {
            return Ok(to);
        }
        if !p.is_staff() {
            return Ok(Conversation::Mine);
        }
        match user_id {
            Some(serde_json::Value::Number(n)) => Ok(Conversation::WithUser(n.to_string())),
            Some(serde_json::Value::String(s)) => Ok(Conversation::WithUser(s.clone())),
            Some(_) => Err(Invalid::new(
                "userId",
                "invalid_user_id",
                "userId must be a number or a string",
            )),
            None => Err(Invalid::new(
                "userId",
                "missing_field",
                "userId is required to start a conversation with a user",
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PostMessage {
    pub to: Conversation,
    pub content: String,
    pub client_msg_id: Option<String>,
    /// The kind of session to start, if one is started.
    pub session_type: Option<String>,
    /// Files uploaded into a named session by the sender.
    pub attachment_ids: Vec<String>,
}

impl Messages {
    /// The session a conversation-style request means, opened if it is a first message.
    pub async fn conversation(
        &self,
        p: &Principal,
        to: Conversation,
        session_type: Option<String>,
    ) -> ServiceResult<Session> {
        match to {
            Conversation::Id(id) => self.sessions.get_session(p, id).await,
            Conversation::Number(n) => self.sessions.get_session_by_number(p, n).await,
            Conversation::Mine => Ok(self
                .sessions
                .open_session(
                    p,
                    OpenSession {
                        session_type,
                        ..OpenSession::default()
                    },
                )
                .await?
                .0),
            Conversation::WithUser(_) if !p.is_staff() => Err(ServiceError::Forbidden(
                "only staff start conversations with other users",
            )),
            Conversation::WithUser(user) => {
                let req = OpenSession {
                    for_user: Some(user),
                    session_type,
                    ..OpenSession::default()
                };
                Ok(self.sessions.open_session(p, req).await?.0)
            }
        }
    }

    /// Send to a conversation. The content is checked before any conversation is started
    /// for it, so a refused first message leaves nothing behind.
    pub async fn post_message(
        &self,
        p: &Principal,
        req: PostMessage,
    ) -> ServiceResult<(Session, Message, bool)> {
        let content = self.outgoing_content(&req.content, &req.attachment_ids)?;
        let client_msg_id = req
            .client_msg_id
            .as_deref()
            .map(crate::domain::ClientMsgId::parse)
            .transpose()?;
        let session = match req.to {
            // Writing to a named session: the cheap check of the send path.
            Conversation::Id(id) => self.k.send_target(p, id).await?,
            to => self.conversation(p, to, req.session_type).await?,
        };
        let files = super::attachments::attached(&self.k, p, &session, &req.attachment_ids).await?;
        let (message, created) = self
            .append(p, &session, content, client_msg_id, files)
            .await?;
        Ok((session, message, created))
    }

    /// Tell the session's other participants that `p` is (or stopped) typing.
    pub async fn typing(
        &self,
        p: &Principal,
        to: Conversation,
        is_typing: bool,
    ) -> ServiceResult<Session> {
        if matches!(to, Conversation::Mine | Conversation::WithUser(_)) {
            return Err(Invalid::new(
                "conversationId",
                "missing_field",
                "typing needs a conversation",
            )
            .into());
        }
        let session = self.conversation(p, to, None).await?;
        self.k.bus.publish(Event::Typing {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_id: session.id,
            session_number: session.number,
            who: p.party.clone(),
            is_typing,
        });
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::store::{SessionFilter, SessionStore};

    fn post(to: Conversation, content: &str) -> PostMessage {
        PostMessage {
            to,
            content: content.into(),
            client_msg_id: None,
            session_type: None,
            attachment_ids: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_first_message_starts_the_senders_conversation_once() {
        let desk = desk();
        let ann = customer("ann");
        let (first, m1, _) = desk
            .messages
            .post_message(&ann, post(Conversation::Mine, "hello"))
            .await
            .unwrap();
        let (second, m2, _) = desk
            .messages
            .post_message(&ann, post(Conversation::Mine, "anyone?"))
            .await
            .unwrap();
        assert_eq!(first.id, second.id, "the open conversation is reused");
        assert_eq!((m1.seq, m2.seq), (1, 2));
    }

    #[tokio::test]
    async fn a_refused_first_message_starts_nothing() {
        let desk = desk();
        let ann = customer("ann");
        let refused = desk
            .messages
            .post_message(&ann, post(Conversation::Mine, "   "))
            .await;
        assert!(
            matches!(refused, Err(ServiceError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(
            desk.store
                .count_sessions(&SessionFilter::default())
                .await
                .unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn only_staff_name_whom_to_talk_to() {
        let ann = customer("ann");
        let user_id = serde_json::json!(7);
        let to = Conversation::of_send(&ann, None, Some(&user_id)).unwrap();
        assert_eq!(
            to,
            Conversation::Mine,
            "a customer's userId is not believed"
        );
        let to = Conversation::of_send(&agent("ada"), None, Some(&user_id)).unwrap();
        assert_eq!(to, Conversation::WithUser("7".into()));
        let desk = desk();
        let refused = desk
            .messages
            .conversation(&ann, Conversation::WithUser("bob".into()), None)
            .await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))));
    }
}
