//! Messages: the batched append, pages, read cursors and unread counts, search and analytics inputs.

use super::*;

#[async_trait]
impl MessageStore for PgStore {
    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let outcomes = append::append(&mut tx, batch).await?;
        tx.commit().await.map_err(db)?;
        Ok(outcomes)
    }

    async fn revise_message(
        &self,
        session: SessionId,
        seq: i64,
        revision: &chatdesk_core::domain::Revision,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        use chatdesk_core::domain::Revision;
        let (content, edited, deleted) = match revision {
            Revision::Edit(c) => (c.as_str(), Some(at), None),
            Revision::Delete => ("", None, Some(at)),
        };
        let mut tx = self.pool.begin().await.map_err(db)?;
        let row = sqlx::query(&format!(
            "UPDATE messages SET content = $3, edited_at = COALESCE($4, edited_at), deleted_at = $5, \
             attachments = CASE WHEN $5::timestamptz IS NULL THEN attachments END WHERE session_id = $1 AND seq = $2 AND deleted_at IS NULL RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(session.as_uuid())
        .bind(seq)
        .bind(content)
        .bind(edited)
        .bind(deleted)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let revised = rows::message(&rows::PgRowRef(&row))?;
        crate::outbox::queue(&mut tx, session, revision.webhook_event(), Some(seq), at).await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(revised))
    }

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>> {
        let rows = match range {
            MessageRange::After { after, limit } => {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                );
                sqlx::query(&sql).bind(session.as_uuid()).bind(after).bind(i64::from(limit)).fetch_all(&self.pool).await
            }
            MessageRange::Before { before, after, limit } => {
                let sql = format!(
                    "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND seq < $2 AND seq > $3 \
                     ORDER BY seq DESC LIMIT $4) AS page ORDER BY seq"
                );
                sqlx::query(&sql)
                    .bind(session.as_uuid())
                    .bind(before)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db)?;
        rows::messages(&rows)
    }

    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO read_cursors (session_id, reader, last_read_seq, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (session_id, reader) DO UPDATE SET \
             last_read_seq = GREATEST(read_cursors.last_read_seq, excluded.last_read_seq), updated_at = excluded.updated_at \
             RETURNING last_read_seq",
        )
        .bind(session.as_uuid())
        .bind(reader.key())
        .bind(up_to_seq)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>> {
        let key = reader.key();
        let rows = sqlx::query(
            "SELECT s.id, s.number, COALESCE(rc.last_read_seq, 0) AS last_read_seq, \
               (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id \
                  AND m.seq > COALESCE(rc.last_read_seq, 0) AND m.sender <> $1) AS unread \
             FROM sessions s LEFT JOIN read_cursors rc ON rc.session_id = s.id AND rc.reader = $2 \
             WHERE s.deleted_at IS NULL AND (s.owner = $3 OR s.agent_id = $4 OR rc.reader IS NOT NULL) \
               AND ($5::text IS NULL OR s.business_id = $5) \
             ORDER BY s.last_activity_at DESC, s.id DESC",
        )
        .bind(&key)
        .bind(&key)
        .bind(&key)
        .bind(reader.user_id().map(|u| u.as_str()))
        .bind(tenant.map(BusinessId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(unread_row).collect()
    }

    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>> {
        let rows =
            sqlx::query("SELECT reader, last_read_seq FROM read_cursors WHERE session_id = $1")
                .bind(session.as_uuid())
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        rows.iter()
            .map(|r| {
                let reader: String = r.try_get("reader").map_err(corrupt)?;
                let seq: i64 = r.try_get("last_read_seq").map_err(corrupt)?;
                Ok((Party::from_key(&reader).map_err(corrupt)?, seq))
            })
            .collect()
    }

    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {} FROM messages m JOIN sessions ON sessions.id = m.session_id \
             WHERE to_tsvector('simple', m.content) @@ plainto_tsquery('simple', ",
            qualified(MESSAGE_COLUMNS, "m")
        ));
        q.push_bind(query.terms().join(" "))
            .push(") AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY m.created_at DESC, m.seq DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows::messages(&rows)
    }

    async fn message_beats(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Beat)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT session_id, seq, sender_type, created_at FROM messages WHERE session_id IN (",
        );
        let mut list = q.separated(", ");
        for s in sessions {
            list.push_bind(s.as_uuid());
        }
        q.push(") ORDER BY session_id, seq");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows.iter()
            .map(|r| rows::beat(&rows::PgRowRef(r)))
            .collect()
    }

    async fn unread_in(
        &self,
        reader: &Party,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<UnreadCount>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let key = reader.key();
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT s.id, s.number, COALESCE(rc.last_read_seq, 0) AS last_read_seq, \
               (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id \
                  AND m.seq > COALESCE(rc.last_read_seq, 0) AND m.sender <> ",
        );
        q.push_bind(key.clone()).push(") AS unread FROM sessions s LEFT JOIN read_cursors rc ON rc.session_id = s.id AND rc.reader = ");
        q.push_bind(key)
            .push(" WHERE s.deleted_at IS NULL AND s.id IN (");
        let mut list = q.separated(", ");
        for id in sessions {
            list.push_bind(id.as_uuid());
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(unread_row).collect()
    }
}
