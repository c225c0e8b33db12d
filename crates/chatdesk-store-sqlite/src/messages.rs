//! Messages: the batched append, pages, read cursors and unread counts, search and analytics inputs.

use super::*;
use chatdesk_core::domain::Revision;

/// Each session's unread count for the reader bound first and second; the rest of the
/// statement says which sessions.
const UNREAD: &str = "SELECT s.id, s.number, COALESCE(rc.last_read_seq, 0) AS last_read_seq, \
     (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id \
        AND m.seq > COALESCE(rc.last_read_seq, 0) AND m.sender <> ?) AS unread \
     FROM sessions s LEFT JOIN read_cursors rc ON rc.session_id = s.id AND rc.reader = ? \
     WHERE s.deleted_at IS NULL";

#[async_trait]
impl MessageStore for SqliteStore {
    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        self.read(move |c| reader::session_with_messages(c, id, range))
            .await
    }

    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        let (batch, backlog) = (batch.to_vec(), self.search.clone());
        self.transaction(move |tx| append::append(tx, &batch, &backlog))
            .await
    }

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>> {
        self.read(move |c| reader::messages(c, session, range))
            .await
    }

    async fn revise_message(
        &self,
        session: SessionId,
        seq: i64,
        revision: &Revision,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let revision = revision.clone();
        self.transaction(move |tx| {
            // The message's entry must exist before it is replaced or removed.
            crate::search_backlog::move_into_index(tx)?;
            revise(tx, session, seq, &revision, at)
        })
        .await
    }

    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let reader = reader.key();
        self.write(move |c| {
            sql::value(
                c,
                "INSERT INTO read_cursors (session_id, reader, last_read_seq, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (session_id, reader) DO UPDATE SET \
                 last_read_seq = MAX(last_read_seq, excluded.last_read_seq), updated_at = excluded.updated_at \
                 RETURNING last_read_seq",
                params![sql::uuid(session.as_uuid()), reader, up_to_seq, micros(at)],
            )
        })
        .await
    }

    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>> {
        let key = reader.key();
        let mut q = Sql::new("");
        q.args = vec![key.clone().into(), key.clone().into()];
        q.push(UNREAD).push(" AND (s.owner = ").value(key);
        q.push(" OR s.agent_id = ")
            .value(reader.user_id().map(|u| u.as_str().to_owned()));
        q.push(" OR rc.reader IS NOT NULL)");
        if let Some(tenant) = tenant {
            q.push(" AND s.business_id = ")
                .value(tenant.as_str().to_owned());
        }
        q.push(" ORDER BY s.last_activity_at DESC, s.id DESC");
        self.read(move |c| q.all(c, unread_row)).await
    }

    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>> {
        self.read(move |c| {
            sql::all(
                c,
                "SELECT reader, last_read_seq FROM read_cursors WHERE session_id = ?1",
                [sql::uuid(session.as_uuid())],
                |r| {
                    let reader = r.required_text("reader")?;
                    let seq: i64 = r.required("last_read_seq")?;
                    Ok((Party::from_key(&reader).map_err(corrupt)?, seq))
                },
            )
        })
        .await
    }

    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut q = Sql::new(format!(
            "SELECT {} FROM message_search JOIN messages m ON m.session_id = message_search.session_id \
             AND m.seq = message_search.seq JOIN sessions ON sessions.id = message_search.session_id \
             WHERE message_search MATCH ",
            qualified(MESSAGE_COLUMNS, "m")
        ));
        q.value(fts_match(query))
            .push(" AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY m.created_at DESC, m.seq DESC LIMIT ")
            .value(limit);
        // Every message acknowledged before this search is found: index what waits first.
        if self.search.waiting() {
            let backlog = self.search.clone();
            self.write(move |c| backlog.catch_up(c)).await?;
        }
        self.read(move |c| q.all(c, |r| rows::message(r))).await
    }

    async fn message_beats(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Beat)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT session_id, seq, sender_type, created_at FROM messages WHERE session_id IN (",
        );
        q.list(sessions.iter().map(|s| sql::uuid(s.as_uuid())));
        q.push(") ORDER BY session_id, seq");
        self.read(move |c| q.all(c, |r| rows::beat(r))).await
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
        let mut q = Sql::new(UNREAD);
        q.args = vec![key.clone().into(), key.into()];
        q.push(" AND s.id IN (");
        q.list(sessions.iter().map(|s| sql::uuid(s.as_uuid())));
        q.push(")");
        self.read(move |c| q.all(c, unread_row)).await
    }
}

/// [`MessageStore::revise_message`] in the writer's transaction. The search index entry of
/// the old text goes (found through the index by its first words, then by its place, since
/// the index keeps a message's place only as unindexed columns), and an edit indexes the new.
fn revise(
    tx: &rusqlite::Transaction<'_>,
    session: SessionId,
    seq: i64,
    revision: &Revision,
    at: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let id = session.as_uuid().into_bytes();
    let old: Option<String> = sql::first(
        tx,
        "SELECT content FROM messages WHERE session_id = ?1 AND seq = ?2 AND deleted_at IS NULL",
        params![&id[..], seq],
        |r| {
            use chatdesk_core::rows::Columns;
            r.text("content")?.ok_or_else(|| corrupt("content is NULL"))
        },
    )?;
    let Some(old) = old else {
        return Ok(None);
    };
    let (content, edited, deleted) = match revision {
        Revision::Edit(c) => (c.as_str().to_owned(), Some(micros(at)), None),
        Revision::Delete => (String::new(), None, Some(micros(at))),
    };
    sql::execute(
        tx,
        "UPDATE messages SET content = ?3, edited_at = COALESCE(?4, edited_at), deleted_at = ?5, \
         attachments = CASE WHEN ?5 IS NULL THEN attachments END WHERE session_id = ?1 AND seq = ?2",
        params![&id[..], seq, content, edited, deleted],
    )?;
    let words: Vec<String> = old
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"", w.to_lowercase().replace('"', "\"\"")))
        .collect();
    let entries: Vec<i64> = if words.is_empty() {
        sql::all(
            tx,
            "SELECT rowid FROM message_search WHERE session_id = ?1 AND seq = ?2",
            params![&id[..], seq],
            |r| r.required::<i64>("rowid"),
        )?
    } else {
        sql::all(
            tx,
            "SELECT rowid FROM message_search WHERE message_search MATCH ?3 AND session_id = ?1 AND seq = ?2",
            params![&id[..], seq, words.join(" ")],
            |r| r.required::<i64>("rowid"),
        )?
    };
    for rowid in entries {
        sql::execute(tx, "DELETE FROM message_search WHERE rowid = ?1", [rowid])?;
    }
    if matches!(revision, Revision::Edit(_)) {
        sql::execute(
            tx,
            "INSERT INTO message_search (content, session_id, seq) VALUES (?1, ?2, ?3)",
            params![content, &id[..], seq],
        )?;
    }
    crate::outbox::queue(tx, &id, revision.webhook_event(), Some(seq), at)?;
    Ok(reader::messages(
        tx,
        session,
        MessageRange::After {
            after: seq - 1,
            limit: 1,
        },
    )?
    .pop())
}
