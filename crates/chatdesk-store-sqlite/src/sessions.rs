//! Sessions: opening (resume-or-create), reading, listing, changing and closing them, and moving a visitor's to an account.

use super::*;

#[async_trait]
impl SessionStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| sql::value::<i64>(c, "SELECT 1", []).map(drop))
            .await
    }

    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)> {
        let (session, created, _) = self.open_session_with_place(new, resume).await?;
        Ok((session, created))
    }

    async fn open_session_with_place(
        &self,
        new: NewSession,
        resume: bool,
    ) -> StoreResult<(Session, bool, Option<i64>)> {
        // The single writer serialises this against every other write, so two concurrent
        // calls cannot both miss the existing session and both insert; requests that arrive
        // together share one transaction (`open`).
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.opens.push(open::Request { new, resume, reply }) {
            let store = self.clone();
            // A task of its own: a caller that goes away must not strand the others.
            tokio::spawn(async move { store.drain_opens().await });
        }
        answer.await.map_err(|_| open::dropped())?
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        self.read(move |c| reader::session(c, id)).await
    }

    async fn assistant_of(&self, id: SessionId) -> StoreResult<Option<UserId>> {
        let found: Option<String> = self
            .read(move |c| {
                sql::first(
                    c,
                    "SELECT assistant_id FROM session_assistants WHERE session_id = ?1",
                    [sql::uuid(id.as_uuid())],
                    |r| r.required_text("assistant_id"),
                )
            })
            .await?;
        found
            .map(|a| UserId::parse(&a).map_err(corrupt))
            .transpose()
    }

    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>> {
        self.read(move |c| {
            sql::first(
                c,
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE number = ?1 AND deleted_at IS NULL"
                ),
                [number],
                |r| rows::session(r),
            )
        })
        .await
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q = Sql::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        if let Some(c) = cursor {
            let at = micros(c.last_activity_at);
            q.push(" AND (last_activity_at < ").value(at);
            q.push(" OR (last_activity_at = ").value(at);
            q.push(" AND id < ")
                .value(sql::uuid(c.id.as_uuid()))
                .push("))");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .value(limit);
        self.read(move |c| q.all(c, |r| rows::session(r))).await
    }

    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64> {
        let mut q = Sql::new("SELECT COUNT(*) FROM sessions WHERE deleted_at IS NULL");
        push_filter(&mut q, filter);
        self.read(move |c| sql::value(c, &q.text, rusqlite::params_from_iter(&q.args)))
            .await
    }

    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q = Sql::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .value(limit);
        q.push(" OFFSET ").value(offset);
        self.read(move |c| q.all(c, |r| rows::session(r))).await
    }

    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let mut q = Sql::default();
        chatdesk_core::query::push_close_idle(&mut q, filter, idle_before, at);
        q.push(&format!(" RETURNING {SESSION_COLUMNS}"));
        self.transaction(move |tx| {
            let closed = q.all(tx, |r| rows::session(r))?;
            for s in &closed {
                let id = s.id.as_uuid().into_bytes();
                outbox::queue(tx, &id, WebhookEvent::SessionClosed, None, at)?;
            }
            Ok(closed)
        })
        .await
    }

    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let (sent, conversations, responses) = activity_increments(kind, response_time_ms);
        let text = format!(
            "UPDATE sessions SET activity_messages_sent = activity_messages_sent + ?1, \
             activity_conversations = activity_conversations + ?2, \
             response_time_total_ms = response_time_total_ms + ?3, response_count = response_count + ?4, \
             last_activity_at = ?5, updated_at = ?5 \
             WHERE id = ?6 AND deleted_at IS NULL AND status <> 'closed' RETURNING {SESSION_COLUMNS}"
        );
        self.write(move |c| {
            sql::first(
                c,
                &text,
                params![
                    sent,
                    conversations,
                    response_time_ms.unwrap_or(0),
                    responses,
                    micros(at),
                    sql::uuid(id.as_uuid())
                ],
                |r| rows::session(r),
            )
        })
        .await
    }

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome> {
        let mut q = Sql::default();
        push_patch(&mut q, id, patch, at);
        q.push(&format!(" RETURNING {SESSION_COLUMNS}"));
        let events: Vec<WebhookEvent> = patch.webhook_events().collect();
        self.transaction(move |tx| {
            Ok(match q.first(tx, |r| rows::session(r))? {
                Some(updated) => {
                    let sid = id.as_uuid().into_bytes();
                    for event in events {
                        outbox::queue(tx, &sid, event, None, at)?;
                    }
                    PatchOutcome::Updated(updated)
                }
                None => match reader::session(tx, id)? {
                    Some(s) => PatchOutcome::StatusChanged(s),
                    None => PatchOutcome::NotFound,
                },
            })
        })
        .await
    }

    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool> {
        self.write(move |c| {
            sql::execute(
                c,
                "UPDATE sessions SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
                params![micros(at), sql::uuid(id.as_uuid())],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let user = user.clone();
        self.transaction(move |tx| {
            let vid = sql::uuid(visitor.as_uuid());
            let existing: Option<String> = sql::first(
                tx,
                "SELECT user_id FROM visitor_links WHERE visitor_id = ?1",
                [&vid],
                |r| r.required_text("user_id"),
            )?;
            match existing {
                Some(other) if other != user.as_str() => {
                    return Ok(LinkOutcome::LinkedToOther(
                        UserId::parse(&other).map_err(corrupt)?,
                    ));
                }
                Some(_) => {}
                None => {
                    sql::execute(
                        tx,
                        "INSERT INTO visitor_links (visitor_id, user_id, linked_at) VALUES (?1, ?2, ?3)",
                        params![vid, user.as_str(), micros(at)],
                    )?;
                }
            }
            let (from, to) = (Party::Visitor(visitor).key(), Party::User(user).key());
            let moved = sql::execute(
                tx,
                "UPDATE sessions SET owner = ?1, updated_at = ?2 WHERE owner = ?3",
                params![to, micros(at), from],
            )?;
            sql::execute(
                tx,
                "UPDATE session_contacts SET owner = ?1 WHERE owner = ?2",
                params![to, from],
            )?;
            sql::execute(
                tx,
                "UPDATE messages SET sender = ?1 WHERE sender = ?2 \
                 AND session_id IN (SELECT id FROM sessions WHERE owner = ?1)",
                params![to, from],
            )?;
            // A cursor the account already has in a session wins over the visitor's.
            sql::execute(
                tx,
                "UPDATE OR IGNORE read_cursors SET reader = ?1 WHERE reader = ?2",
                params![to, from],
            )?;
            sql::execute(tx, "DELETE FROM read_cursors WHERE reader = ?1", [&from])?;
            Ok(LinkOutcome::Linked {
                sessions_moved: moved as u64,
            })
        })
        .await
    }

    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>> {
        let user = self
            .read(move |c| {
                sql::first(
                    c,
                    "SELECT user_id FROM visitor_links WHERE visitor_id = ?1",
                    [sql::uuid(visitor.as_uuid())],
                    |r| r.required_text("user_id"),
                )
            })
            .await?;
        user.as_deref()
            .map(UserId::parse)
            .transpose()
            .map_err(corrupt)
    }

    async fn search_sessions(
        &self,
        filter: &SessionFilter,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q = Sql::new(format!(
            "SELECT {} FROM session_search JOIN sessions ON sessions.id = session_search.session_id \
             WHERE session_search MATCH ",
            qualified(SESSION_COLUMNS, "sessions")
        ));
        q.value(fts_match(query))
            .push(" AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY sessions.last_activity_at DESC, sessions.id DESC LIMIT ")
            .value(limit);
        self.read(move |c| q.all(c, |r| rows::session(r))).await
    }
}
