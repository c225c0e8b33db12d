//! Labels of a tenant, and which sessions carry them.

use super::*;
use chatdesk_core::domain::Label;
use chatdesk_core::rows::LABEL_COLUMNS;

#[async_trait]
impl LabelStore for SqliteStore {
    async fn create_label(&self, label: &Label) -> StoreResult<Label> {
        let l = label.clone();
        self.write(move |c| {
            sql::execute(
                c,
                "INSERT INTO labels (id, business_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    l.id.to_string(),
                    l.business_id.as_str(),
                    l.name.as_str(),
                    micros(l.created_at)
                ],
            )?;
            Ok(l)
        })
        .await
    }

    async fn list_labels(&self, business_id: &BusinessId) -> StoreResult<Vec<Label>> {
        let sql =
            format!("SELECT {LABEL_COLUMNS} FROM labels WHERE business_id = ?1 ORDER BY name");
        let tenant = business_id.as_str().to_owned();
        self.read(move |c| sql::all(c, &sql, [tenant], |r| chatdesk_core::rows::label(r)))
            .await
    }

    async fn delete_label(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let tenant = business_id.as_str().to_owned();
        self.transaction(move |tx| {
            let id = id.to_string();
            let gone = sql::execute(
                tx,
                "DELETE FROM session_labels WHERE label_id = \
                 (SELECT id FROM labels WHERE id = ?1 AND business_id = ?2)",
                params![id, tenant],
            )
            .and_then(|_| {
                sql::execute(
                    tx,
                    "DELETE FROM labels WHERE id = ?1 AND business_id = ?2",
                    params![id, tenant],
                )
            })?;
            Ok(gone > 0)
        })
        .await
    }

    async fn set_session_labels(
        &self,
        session: SessionId,
        labels: &[uuid::Uuid],
    ) -> StoreResult<()> {
        let labels: Vec<String> = labels.iter().map(ToString::to_string).collect();
        self.transaction(move |tx| {
            let id = session.as_uuid().into_bytes();
            sql::execute(
                tx,
                "DELETE FROM session_labels WHERE session_id = ?1",
                params![&id[..]],
            )?;
            for label in &labels {
                sql::execute(
                    tx,
                    "INSERT INTO session_labels (session_id, label_id) VALUES (?1, ?2)",
                    params![&id[..], label],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn labels_of(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Label)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!(
            "SELECT sl.session_id AS session_id, {} FROM session_labels sl JOIN labels l ON l.id = sl.label_id \
             WHERE sl.session_id IN (",
            qualified(LABEL_COLUMNS, "l")
        ));
        q.list(sessions.iter().map(|s| sql::uuid(s.as_uuid())));
        q.push(") ORDER BY l.name");
        self.read(move |c| {
            q.all(c, |r| {
                use chatdesk_core::rows::Columns;
                let session = r
                    .uuid("session_id")?
                    .ok_or_else(|| corrupt("session_id is NULL"))?;
                Ok((
                    SessionId::from_uuid(session),
                    chatdesk_core::rows::label(r)?,
                ))
            })
        })
        .await
    }
}
