//! Contact people: given per session, shown for the person.

use super::*;

#[async_trait]
impl ContactStore for SqliteStore {
    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        self.read(move |c| reader::session_with_contact(c, id))
            .await
    }

    async fn upsert_contact(
        &self,
        session: SessionId,
        contact: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        let sql = format!(
            "INSERT INTO session_contacts (session_id, id, contact_name, contact_email, contact_phone, position, \
             company_name, created_at, updated_at, business_id, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
             (SELECT business_id FROM sessions WHERE id = ?1), (SELECT owner FROM sessions WHERE id = ?1)) \
             ON CONFLICT (session_id) DO UPDATE SET contact_name = excluded.contact_name, \
             contact_email = excluded.contact_email, contact_phone = excluded.contact_phone, \
             position = excluded.position, company_name = excluded.company_name, updated_at = excluded.updated_at \
             RETURNING {CONTACT_COLUMNS}"
        );
        self.write(move |c| {
            sql::first(
                c,
                &sql,
                params![
                    sql::uuid(session.as_uuid()),
                    sql::uuid(contact.id),
                    contact.name.as_str(),
                    contact.email.as_str(),
                    contact.phone.as_ref().map(|p| p.as_str()),
                    contact.position.as_ref().map(|p| p.as_str()),
                    contact.company_name.as_ref().map(|p| p.as_str()),
                    micros(at),
                    micros(at)
                ],
                |r| rows::contact(r).map(|(_, contact)| contact),
            )?
            .ok_or_else(|| corrupt("an upserted contact was not returned"))
        })
        .await
    }

    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let sessions = sessions.to_vec();
        self.read(move |c| reader::contacts(c, &sessions)).await
    }
}
