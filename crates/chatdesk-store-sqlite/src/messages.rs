//! Messages: the batched append, pages, read cursors and unread counts, search and analytics inputs.

use super::*;

#[async_trait]
impl MessageStore for SqliteStore {
    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        self.hot_reads
            .read(|c| reader::session_with_messages(c, id, range))
            .await
    }

    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        direct::run_kept(&mut conn, &self.kept, |handle| {
            self.wal.before_write(handle);
            let tx = handle
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(direct::error)?;
            let outcomes = append::append(&tx, batch)?;
            tx.commit().map_err(direct::error)?;
            Ok(outcomes)
        })
        .await
    }

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>> {
        self.hot_reads
            .read(|c| reader::messages(c, session, range))
            .await
    }

    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO read_cursors (session_id, reader, last_read_seq, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (session_id, reader) DO UPDATE SET \
             last_read_seq = MAX(last_read_seq, excluded.last_read_seq), updated_at = excluded.updated_at \
             RETURNING last_read_seq",
        )
        .bind(session.as_uuid())
        .bind(reader.key())
        .bind(up_to_seq)
        .bind(micros(at))
        .fetch_one(&self.writer)
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
                  AND m.seq > COALESCE(rc.last_read_seq, 0) AND m.sender <> ?) AS unread \
             FROM sessions s LEFT JOIN read_cursors rc ON rc.session_id = s.id AND rc.reader = ? \
             WHERE s.deleted_at IS NULL AND (s.owner = ? OR s.agent_id = ? OR rc.reader IS NOT NULL) \
               AND (? IS NULL OR s.business_id = ?) \
             ORDER BY s.last_activity_at DESC, s.id DESC",
        )
        .bind(&key)
        .bind(&key)
        .bind(&key)
        .bind(reader.user_id().map(|u| u.as_str()))
        .bind(tenant.map(BusinessId::as_str))
        .bind(tenant.map(BusinessId::as_str))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter().map(unread_row).collect()
    }

    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>> {
        let rows =
            sqlx::query("SELECT reader, last_read_seq FROM read_cursors WHERE session_id = ?")
                .bind(session.as_uuid())
                .fetch_all(&self.reader)
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {} FROM message_search JOIN messages m ON m.session_id = message_search.session_id \
             AND m.seq = message_search.seq JOIN sessions ON sessions.id = message_search.session_id \
             WHERE message_search MATCH ",
            qualified(MESSAGE_COLUMNS, "m")
        ));
        q.push_bind(fts_match(query))
            .push(" AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY m.created_at DESC, m.seq DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows::messages(&rows)
    }

    async fn message_beats(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Beat)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT session_id, seq, sender_type, created_at FROM messages WHERE session_id IN (",
        );
        let mut list = q.separated(", ");
        for s in sessions {
            list.push_bind(s.as_uuid());
        }
        q.push(") ORDER BY session_id, seq");
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows.iter()
            .map(|r| rows::beat(&rows::SqliteRowRef(r)))
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
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
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows.iter().map(unread_row).collect()
    }
}
