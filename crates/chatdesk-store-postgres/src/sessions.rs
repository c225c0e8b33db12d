//! Sessions: opening (resume-or-create), reading, listing, changing and closing them, and moving a visitor's to an account.

use super::*;

#[async_trait]
impl SessionStore for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        if resume {
            // Serialise resume-or-create per (owner, tenant) across connections and nodes, so
            // two concurrent calls cannot both miss the existing session and both insert.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!(
                    "{}\u{1f}{}",
                    new.owner.key(),
                    new.business_id.as_str()
                ))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE owner = $1 AND business_id = $2 AND status <> 'closed' AND deleted_at IS NULL \
                 ORDER BY last_activity_at DESC, id DESC LIMIT 1"
            );
            let found = sqlx::query(&sql)
                .bind(new.owner.key())
                .bind(new.business_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if let Some(row) = found {
                let session = rows::session(&rows::PgRowRef(&row))?;
                tx.commit().await.map_err(db)?;
                return Ok((session, false));
            }
        }
        let at = new.at;
        let sql = format!(
            "INSERT INTO sessions (id, business_id, location_id, owner, session_type, topic, title, \
             priority, status, metadata, department_id, agent_id, started_at, last_activity_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $12, $9, $11, $13, $10, $10, $10, $10) RETURNING {SESSION_COLUMNS}"
        );
        let assistant = new.assistant.as_ref().map(|a| a.as_str());
        let row = sqlx::query(&sql)
            .bind(new.id.as_uuid())
            .bind(new.business_id.as_str())
            .bind(new.location_id.as_ref().map(|l| l.as_str()))
            .bind(new.owner.key())
            .bind(new.session_type.as_str())
            .bind(new.topic.as_ref().map(|t| t.as_str()))
            .bind(new.title.as_ref().map(|t| t.as_str()))
            .bind(new.priority.as_str())
            .bind(&new.metadata)
            .bind(at)
            .bind(new.department_id.map(|d| d.to_string()))
            .bind(if assistant.is_some() {
                "active"
            } else {
                "waiting"
            })
            .bind(assistant)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let session = rows::session(&rows::PgRowRef(&row))?;
        if let Some(assistant) = assistant {
            sqlx::query(
                "INSERT INTO session_assistants (session_id, assistant_id) VALUES ($1, $2)",
            )
            .bind(session.id.as_uuid())
            .bind(assistant)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        outbox::queue(&mut tx, session.id, WebhookEvent::SessionCreated, None, at).await?;
        tx.commit().await.map_err(db)?;
        Ok((session, true))
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        session_in(&mut conn, id).await
    }

    async fn assistant_of(&self, id: SessionId) -> StoreResult<Option<UserId>> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT assistant_id FROM session_assistants WHERE session_id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        found
            .map(|a| UserId::parse(&a).map_err(corrupt))
            .transpose()
    }

    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE number = $1 AND deleted_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::session(&rows::PgRowRef(r)))
            .transpose()
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        if let Some(c) = cursor {
            let at = c.last_activity_at;
            q.push(" AND (last_activity_at < ").push_bind(at);
            q.push(" OR (last_activity_at = ").push_bind(at);
            q.push(" AND id < ").push_bind(c.id.as_uuid()).push("))");
        }
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows::sessions(&rows)
    }

    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT COUNT(*) FROM sessions WHERE deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE deleted_at IS NULL"
        ));
        push_filter(&mut q, filter);
        q.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        q.push(" OFFSET ").push_bind(i64::from(offset));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows::sessions(&rows)
    }

    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("");
        chatdesk_core::query::push_close_idle(&mut Pg(&mut q), filter, idle_before, at);
        q.push(format!(" RETURNING {SESSION_COLUMNS}"));
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows = q.build().fetch_all(&mut *tx).await.map_err(db)?;
        let closed = rows::sessions(&rows)?;
        for s in &closed {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionClosed, None, at).await?;
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
            "UPDATE sessions SET activity_messages_sent = activity_messages_sent + $1, \
             activity_conversations = activity_conversations + $2, \
             response_time_total_ms = response_time_total_ms + $3, response_count = response_count + $4, \
             last_activity_at = $5, updated_at = $6 \
             WHERE id = $7 AND deleted_at IS NULL AND status <> 'closed' RETURNING {SESSION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(sent)
            .bind(conversations)
            .bind(response_time_ms.unwrap_or(0))
            .bind(responses)
            .bind(at)
            .bind(at)
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::session(&rows::PgRowRef(r)))
            .transpose()
    }

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("");
        chatdesk_core::query::push_patch(&mut Pg(&mut q), id, patch, at);
        q.push(format!(" RETURNING {SESSION_COLUMNS}"));
        let updated = q.build().fetch_optional(&mut *tx).await.map_err(db)?;
        let outcome = match updated {
            Some(row) => {
                for event in patch.webhook_events() {
                    outbox::queue(&mut tx, id, event, None, at).await?;
                }
                PatchOutcome::Updated(rows::session(&rows::PgRowRef(&row))?)
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
        let done = sqlx::query("UPDATE sessions SET deleted_at = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL")
            .bind(at)
            .bind(at)
            .bind(id.as_uuid())
            .execute(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Serialise links of one visitor across connections and nodes.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))")
            .bind(visitor.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM visitor_links WHERE visitor_id = $1")
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
                sqlx::query("INSERT INTO visitor_links (visitor_id, user_id, linked_at) VALUES ($1, $2, $3)")
                    .bind(visitor.as_uuid())
                    .bind(user.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        let (from, to) = (
            Party::Visitor(visitor).key(),
            Party::User(user.clone()).key(),
        );
        let moved = sqlx::query("UPDATE sessions SET owner = $1, updated_at = $2 WHERE owner = $3")
            .bind(&to)
            .bind(at)
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        sqlx::query("UPDATE session_contacts SET owner = $1 WHERE owner = $2")
            .bind(&to)
            .bind(&from)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE messages SET sender = $1 WHERE sender = $2 AND session_id IN (SELECT id FROM sessions WHERE owner = $3)")
            .bind(&to)
            .bind(&from)
            .bind(&to)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // A cursor the account already has in a session wins over the visitor's.
        sqlx::query(
            "DELETE FROM read_cursors v WHERE v.reader = $1 AND EXISTS \
             (SELECT 1 FROM read_cursors u WHERE u.reader = $2 AND u.session_id = v.session_id)",
        )
        .bind(&from)
        .bind(&to)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE read_cursors SET reader = $1 WHERE reader = $2")
            .bind(&to)
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
            sqlx::query_scalar("SELECT user_id FROM visitor_links WHERE visitor_id = $1")
                .bind(visitor.as_uuid())
                .fetch_optional(&self.pool)
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
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {} FROM sessions WHERE to_tsvector('simple', coalesce(topic, '') || ' ' || coalesce(title, '')) \
             @@ plainto_tsquery('simple', ",
            qualified(SESSION_COLUMNS, "sessions")
        ));
        q.push_bind(query.terms().join(" "))
            .push(") AND sessions.deleted_at IS NULL");
        push_filter(&mut q, filter);
        q.push(" ORDER BY sessions.last_activity_at DESC, sessions.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows::sessions(&rows)
    }
}
