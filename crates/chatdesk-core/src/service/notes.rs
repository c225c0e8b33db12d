//! Private notes: staff write them in a conversation for each other. Customers and visitors
//! never see one: notes live apart from messages, so no history, unread count, search or
//! seed door that reads messages can show them, and their event goes only to staff.

use super::kernel::Kernel;
use crate::bus::Event;
use crate::clock;
use crate::domain::{Content, Note, SessionId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use std::sync::Arc;

/// Most notes a listing returns (the newest).
pub const MAX_NOTES_LISTED: u32 = 500;

#[derive(Clone)]
pub struct Notes {
    k: Arc<Kernel>,
}

impl Notes {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    /// Staff who may see the session add a note to it; `note.created` goes to staff only.
    pub async fn add(&self, p: &Principal, id: SessionId, content: &str) -> ServiceResult<Note> {
        let author = staff(p)?;
        let content = Content::parse(content, self.k.limits.max_content_chars)?;
        let session = self.k.visible(p, id).await?;
        let note = self
            .k
            .store
            .add_note(session.id, author, &content, clock::now())
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        self.k.bus.publish(Event::NoteCreated {
            business_id: session.business_id,
            note: note.clone(),
        });
        Ok(note)
    }

    /// A session's notes, oldest first (the newest [`MAX_NOTES_LISTED`]), for staff.
    pub async fn list(&self, p: &Principal, id: SessionId) -> ServiceResult<Vec<Note>> {
        staff(p)?;
        let session = self.k.visible(p, id).await?;
        Ok(self
            .k
            .store
            .list_notes(session.id, MAX_NOTES_LISTED)
            .await?)
    }
}

/// The staff member's user id, or `403` for customers and visitors.
fn staff(p: &Principal) -> ServiceResult<&crate::domain::UserId> {
    match p.party.user_id() {
        Some(id) if p.is_staff() => Ok(id),
        _ => Err(ServiceError::Forbidden("notes are for staff only")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::domain::{BusinessId, UserId};
    use crate::identity::{Principal, Role};

    #[tokio::test]
    async fn staff_write_notes_and_customers_never_see_them() {
        let desk = desk();
        let ann = customer("ann");
        let agent = agent("ag1");
        let s = desk.open(&ann).await;
        let note = desk.notes.add(&agent, s.id, "VIP, be nice").await.unwrap();
        assert_eq!((note.number, note.content.as_str()), (1, "VIP, be nice"));
        let second = desk.notes.add(&agent, s.id, "refund ok'd").await.unwrap();
        assert_eq!(second.number, 2);
        assert_eq!(desk.notes.list(&agent, s.id).await.unwrap().len(), 2);
        assert!(desk.notes.add(&ann, s.id, "let me in").await.is_err());
        assert!(desk.notes.list(&ann, s.id).await.is_err());
        // Another tenant's agent sees neither the session nor its notes.
        let stranger = Principal::user(
            UserId::parse("ag2").unwrap(),
            Role::Agent,
            Some(BusinessId::parse("elsewhere").unwrap()),
        );
        assert!(desk.notes.list(&stranger, s.id).await.is_err());
        assert!(desk.notes.add(&agent, s.id, " ").await.is_err());
        // The customer's history holds no note.
        let page = desk
            .messages
            .message_page(&ann, s.id, Default::default())
            .await
            .unwrap();
        assert!(page.messages.iter().all(|m| !m.content.contains("VIP")));
    }
}
