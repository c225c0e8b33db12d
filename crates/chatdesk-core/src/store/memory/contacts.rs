//! Contact people in memory: given per session, shown for the person.

use super::*;

#[async_trait]
impl ContactStore for MemoryStore {
    async fn upsert_contact(
        &self,
        session: SessionId,
        new: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        let mut state = self.lock();
        let s = state.session(session).ok_or_else(|| missing("session"))?;
        let (business_id, owner) = (s.business_id.clone(), s.owner.key());
        let created_at = state
            .contacts
            .get(&session)
            .map_or(at, |c| c.contact.created_at);
        let id = state
            .contacts
            .get(&session)
            .map_or(new.id, |c| c.contact.id);
        let contact = Contact {
            id,
            name: new.name,
            email: new.email,
            phone: new.phone,
            position: new.position,
            company_name: new.company_name,
            created_at,
            updated_at: at,
        };
        let stored = StoredContact {
            contact: contact.clone(),
            business_id,
            owner,
        };
        state.contacts.insert(session, stored);
        Ok(contact)
    }

    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
        let state = self.lock();
        Ok(sessions
            .iter()
            .filter_map(|id| Some((*id, contact_of(&state, *id)?)))
            .collect())
    }

    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        let state = self.lock();
        Ok(state
            .session(id)
            .map(|s| (s.clone(), contact_of(&state, id))))
    }
}

/// The session's own contact, else its owner's newest in the tenant (from a live session).
fn contact_of(state: &State, session: SessionId) -> Option<Contact> {
    if let Some(own) = state.contacts.get(&session) {
        return Some(own.contact.clone());
    }
    let s = state.sessions.get(state.numbers.get(&session)?)?;
    let owner = s.value.owner.key();
    state
        .contacts
        .iter()
        .filter(|(of, c)| {
            c.business_id == s.value.business_id
                && c.owner == owner
                && state.session(**of).is_some()
        })
        .max_by_key(|(_, c)| c.contact.updated_at)
        .map(|(_, c)| c.contact.clone())
}
