//! Sessions: opening (resume-or-create), reading, listing, changing and closing them, and moving a visitor's to an account.

use super::*;

#[async_trait]
impl SessionStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(db)
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
        // The single writer connection serialises this against every other write, so two
        // concurrent calls cannot both miss the existing session and both insert; requests
        // that arrive together share one transaction (`open`).
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.opens.push(open::Request { new, resume, reply }) {
            let store = self.clone();
            // A task of its own: a caller that goes away must not strand the others.
            tokio::spawn(async move { store.drain_opens().await });
        }
        answer.await.map_err(|_| open::dropped())?
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        self.hot_reads.read(|c| reader::session(c, id)).await
    }

    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE number = ? AND deleted_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(number)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::session(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        if let Some(c) = cursor {
            let at = micros(c.last_activity_at);
            q.push(" AND (last_activity_at < ").push_bind(at);
            q.push(" OR (last_activity_at = ").push_bind(at);
            q.push(" AND id < ").push_bind(c.id.as_uuid()).push("))");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows::sessions(&rows)
    }

    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT COUNT(*) FROM sessions WHERE deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.build_query_scalar()
            .fetch_one(&self.reader)
            .await
            .map_err(db)
    }

    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        q.push(" OFFSET ").push_bind(i64::from(offset));
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows::sessions(&rows)
    }

    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("UPDATE sessions SET status = 'closed', ended_at = ");
        q.push_bind(micros(at))
            .push(", updated_at = ")
            .push_bind(micros(at));
        q.push(" WHERE deleted_at IS NULL AND status <> 'closed' AND last_activity_at < ")
            .push_bind(micros(idle_before));
        push_filter(&mut q, filter);
        q.push(format!(" RETURNING {SESSION_COLUMNS}"));
        let mut tx = self.writer.begin().await.map_err(db)?;
        let rows = q.build().fetch_all(&mut *tx).await.map_err(db)?;
        let closed = rows::sessions(&rows)?;
        for s in &closed {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionClosed, at).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(closed)
    }

    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let (sent, conversations, responses) = activity_increments(kind, response_time_ms);
        let sql = format!(
            "UPDATE sessions SET activity_messages_sent = activity_messages_sent + ?, \
             activity_conversations = activity_conversations + ?, \
             response_time_total_ms = response_time_total_ms + ?, response_count = response_count + ?, \
             last_activity_at = ?, updated_at = ? \
             WHERE id = ? AND deleted_at IS NULL AND status <> 'closed' RETURNING {SESSION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(sent)
            .bind(conversations)
            .bind(response_time_ms.unwrap_or(0))
            .bind(responses)
            .bind(micros(at))
            .bind(micros(at))
            .bind(id.as_uuid())
            .fetch_optional(&self.writer)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::session(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("UPDATE sessions SET updated_at = ");
        q.push_bind(micros(at));
        if let Some(topic) = &patch.topic {
            q.push(", topic = ")
                .push_bind(topic.as_ref().map(|t| t.as_str().to_owned()));
        }
        if let Some(title) = &patch.title {
            q.push(", title = ")
                .push_bind(title.as_ref().map(|t| t.as_str().to_owned()));
        }
        if let Some(loc) = &patch.location_id {
            q.push(", location_id = ")
                .push_bind(loc.as_ref().map(|l| l.as_str().to_owned()));
        }
        if let Some(p) = patch.priority {
            q.push(", priority = ").push_bind(p.as_str());
        }
        if let Some(m) = &patch.metadata {
            q.push(", metadata = ").push_bind(m.to_string());
        }
        if let Some(change) = patch.status {
            q.push(", status = ").push_bind(change.to.as_str());
            if change.to == SessionStatus::Closed && change.from != SessionStatus::Closed {
                q.push(", ended_at = ").push_bind(micros(at));
            } else if change.from == SessionStatus::Closed && change.to != SessionStatus::Closed {
                q.push(", ended_at = NULL");
            }
        }
        if let Some(agent) = &patch.agent_id {
            q.push(", agent_id = ")
                .push_bind(agent.as_ref().map(|a| a.as_str().to_owned()));
        }
        if let Some(department) = &patch.department_id {
            q.push(", department_id = ")
                .push_bind(department.map(|d| d.to_string()));
        }
        q.push(" WHERE id = ")
            .push_bind(id.as_uuid())
            .push(" AND deleted_at IS NULL");
        if let Some(change) = patch.status {
            q.push(" AND status = ").push_bind(change.from.as_str());
        }
        q.push(format!(" RETURNING {SESSION_COLUMNS}"));
        let updated = q.build().fetch_optional(&mut *tx).await.map_err(db)?;
        let outcome = match updated {
            Some(row) => {
                for event in patch.webhook_events() {
                    outbox::queue(&mut tx, id, event, at).await?;
                }
                PatchOutcome::Updated(rows::session(&rows::SqliteRowRef(&row))?)
            }
            None => match session_in(&mut tx, id).await? {
                Some(s) => PatchOutcome::StatusChanged(s),
                None => PatchOutcome::NotFound,
            },
        };
        tx.commit().await.map_err(db)?;
        Ok(outcome)
    }

    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE sessions SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(micros(at))
            .bind(micros(at))
            .bind(id.as_uuid())
            .execute(&self.writer)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM visitor_links WHERE visitor_id = ?")
                .bind(visitor.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        match existing {
            Some(other) if other != user.as_str() => {
                return Ok(LinkOutcome::LinkedToOther(
                    UserId::parse(&other).map_err(corrupt)?,
                ));
            }
            Some(_) => {}
            None => {
                sqlx::query(
                    "INSERT INTO visitor_links (visitor_id, user_id, linked_at) VALUES (?, ?, ?)",
                )
                .bind(visitor.as_uuid())
                .bind(user.as_str())
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            }
        }
        let (from, to) = (
            Party::Visitor(visitor).key(),
            Party::User(user.clone()).key(),
        );
        let moved = sqlx::query("UPDATE sessions SET owner = ?, updated_at = ? WHERE owner = ?")
            .bind(&to)
            .bind(micros(at))
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        sqlx::query("UPDATE session_contacts SET owner = ? WHERE owner = ?")
            .bind(&to)
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE messages SET sender = ? WHERE sender = ? AND session_id IN (SELECT id FROM sessions WHERE owner = ?)")
            .bind(&to)
            .bind(&from)
            .bind(&to)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // A cursor the account already has in a session wins over the visitor's.
        sqlx::query("UPDATE OR IGNORE read_cursors SET reader = ? WHERE reader = ?")
            .bind(&to)
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM read_cursors WHERE reader = ?")
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(LinkOutcome::Linked {
            sessions_moved: moved,
        })
    }

    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>> {
        let user: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM visitor_links WHERE visitor_id = ?")
                .bind(visitor.as_uuid())
                .fetch_optional(&self.reader)
                .await
                .map_err(db)?;
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {} FROM session_search JOIN sessions ON sessions.id = session_search.session_id \
             WHERE session_search MATCH ",
            qualified(SESSION_COLUMNS, "sessions")
        ));
        q.push_bind(fts_match(query))
            .push(" AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY sessions.last_activity_at DESC, sessions.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.reader).await.map_err(db)?;
        rows::sessions(&rows)
    }
}
