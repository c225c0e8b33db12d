//! Contact people: given per session, shown for the person.

use super::*;

#[async_trait]
impl ContactStore for SqliteStore {
    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        self.hot_reads
            .read(|c| reader::session_with_contact(c, id))
            .await
    }

    async fn upsert_contact(
        &self,
        session: SessionId,
        c: NewContact,
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
        let row = sqlx::query(&sql)
            .bind(session.as_uuid())
            .bind(c.id)
            .bind(c.name.as_str())
            .bind(c.email.as_str())
            .bind(c.phone.as_ref().map(|p| p.as_str()))
            .bind(c.position.as_ref().map(|p| p.as_str()))
            .bind(c.company_name.as_ref().map(|p| p.as_str()))
            .bind(micros(at))
            .bind(micros(at))
            .fetch_one(&self.writer)
            .await
            .map_err(db)?;
        Ok(rows::contact(&rows::SqliteRowRef(&row))?.1)
    }

    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        self.hot_reads.read(|c| reader::contacts(c, sessions)).await
    }
}
