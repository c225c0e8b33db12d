//! chatdesk's `Store` on PostgreSQL, for production and for several nodes sharing one database.
//!
//! Cross-node ordering comes from the database itself: appends bump `sessions.last_seq` under
//! the session's row lock, and resume-or-create holds a transaction-scoped advisory lock on
//! the (owner, tenant) pair.

mod append;
mod outbox;
mod rows;

use async_trait::async_trait;
use chatdesk_core::analytics::Beat;
use chatdesk_core::domain::{
    ActivityKind, Agent, BusinessId, Contact, Department, DepartmentName, Email, Message, Party,
    Presence, SearchQuery, Session, SessionId, SessionStatus, UserId, VisitorId, WebhookEvent,
    WebhookUrl,
};
use chatdesk_core::rows::{corrupt, qualified};
use chatdesk_core::store::*;
use chrono::{DateTime, Utc};
use rows::{CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connect to `url` and bring the schema up to date. With `schema`, every connection
    /// works in that schema (created if missing): tests use one per test and drop it after.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        reachable(&options).await?;
        if let Some(schema) = schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(unavailable)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&admin)
                .await
                .map_err(db)?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn members(&self, id: uuid::Uuid) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT agent_id FROM department_members WHERE department_id = $1 ORDER BY agent_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        ids.iter()
            .map(|a| UserId::parse(a).map_err(corrupt))
            .collect()
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
    }

    /// Drop a schema made by `connect(url, Some(schema))`, with everything in it.
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&admin)
            .await
            .map_err(db)?;
        admin.close().await;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One plain connection first, so that a server that cannot be reached is reported with
/// where and why (the pool would only say that it timed out waiting for a connection).
async fn reachable(options: &PgConnectOptions) -> Result<(), StoreError> {
    use sqlx::{ConnectOptions, Connection};
    let connected = tokio::time::timeout(Duration::from_secs(10), options.connect()).await;
    let place = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    match connected {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL at {place}: {e}"
        ))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL at {place}: no answer within 10 s"
        ))),
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => unavailable(e),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// `AND …` for each condition of `filter`.
fn push_filter(q: &mut QueryBuilder<'_, Postgres>, filter: &SessionFilter) {
    if let Some(owner) = &filter.owner {
        q.push(" AND owner = ").push_bind(owner.key());
    }
    if let Some(b) = &filter.business_id {
        q.push(" AND business_id = ")
            .push_bind(b.as_str().to_owned());
    }
    if let Some(l) = &filter.location_id {
        q.push(" AND location_id = ")
            .push_bind(l.as_str().to_owned());
    }
    match filter.status {
        Some(s) => {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        None if filter.open_only => {
            q.push(" AND status <> 'closed'");
        }
        None => {}
    }
    if !filter.exclude_business.is_empty() {
        q.push(" AND business_id NOT IN (");
        let mut list = q.separated(", ");
        for b in &filter.exclude_business {
            list.push_bind(b.as_str().to_owned());
        }
        q.push(")");
    }
    if let Some(t) = filter.started_from {
        q.push(" AND started_at >= ").push_bind(t);
    }
    if let Some(t) = filter.started_before {
        q.push(" AND started_at < ").push_bind(t);
    }
    if let Some(a) = &filter.agent_id {
        q.push(" AND agent_id = ").push_bind(a.as_str().to_owned());
    }
    if let Some(d) = &filter.department_id {
        q.push(" AND department_id = ").push_bind(d.clone());
    }
}

fn unread_row(r: &sqlx::postgres::PgRow) -> StoreResult<UnreadCount> {
    Ok(UnreadCount {
        session_id: SessionId::from_uuid(r.try_get("id").map_err(corrupt)?),
        number: r.try_get("number").map_err(corrupt)?,
        unread: r.try_get("unread").map_err(corrupt)?,
        last_read_seq: r.try_get("last_read_seq").map_err(corrupt)?,
    })
}

async fn session_in(conn: &mut PgConnection, id: SessionId) -> StoreResult<Option<Session>> {
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1 AND deleted_at IS NULL");
    let row = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    row.as_ref()
        .map(|r| rows::session(&rows::PgRowRef(r)))
        .transpose()
}

#[async_trait]
impl Store for PgStore {
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
             priority, status, metadata, department_id, started_at, last_activity_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9, $11, $10, $10, $10, $10) RETURNING {SESSION_COLUMNS}"
        );
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
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let session = rows::session(&rows::PgRowRef(&row))?;
        outbox::queue(&mut tx, session.id, WebhookEvent::SessionCreated, at).await?;
        tx.commit().await.map_err(db)?;
        Ok((session, true))
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        session_in(&mut conn, id).await
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
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("UPDATE sessions SET status = 'closed', ended_at = ");
        q.push_bind(at).push(", updated_at = ").push_bind(at);
        q.push(" WHERE deleted_at IS NULL AND status <> 'closed' AND last_activity_at < ")
            .push_bind(idle_before);
        push_filter(&mut q, filter);
        q.push(format!(" RETURNING {SESSION_COLUMNS}"));
        let mut tx = self.pool.begin().await.map_err(db)?;
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
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("UPDATE sessions SET updated_at = ");
        q.push_bind(at);
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
            q.push(", metadata = ").push_bind(m.clone());
        }
        if let Some(change) = patch.status {
            q.push(", status = ").push_bind(change.to.as_str());
            if change.to == SessionStatus::Closed && change.from != SessionStatus::Closed {
                q.push(", ended_at = ").push_bind(at);
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

    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let outcomes = append::append(&mut tx, batch).await?;
        tx.commit().await.map_err(db)?;
        Ok(outcomes)
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

    async fn upsert_contact(
        &self,
        session: SessionId,
        c: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        let sql = format!(
            "INSERT INTO session_contacts (session_id, id, contact_name, contact_email, contact_phone, position, \
             company_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
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
            .bind(at)
            .bind(at)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(rows::contact(&rows::PgRowRef(&row))?.1)
    }

    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {} FROM sessions s JOIN session_contacts c ON {} WHERE s.id IN (",
            chatdesk_core::rows::contact_columns_of_session(),
            chatdesk_core::rows::CONTACT_OF_SESSION
        ));
        let mut list = q.separated(", ");
        for s in sessions {
            list.push_bind(s.as_uuid());
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db)?;
        rows.iter()
            .map(|r| rows::contact(&rows::PgRowRef(r)))
            .collect()
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

    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::PgRowRef(r)))
            .transpose()
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

    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &WebhookUrl,
        secret: &str,
        events: &[WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        let row = sqlx::query(
            "INSERT INTO webhooks (business_id, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(business_id.as_str())
        .bind(url.as_str())
        .bind(secret)
        .bind(events.join(","))
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        rows::webhook(&rows::PgRowRef(&row))
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, business_id, url, secret, events, created_at FROM webhooks \
             WHERE business_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::webhook(&rows::PgRowRef(r)))
            .collect()
    }

    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>> {
        let events = change
            .events
            .as_ref()
            .map(|e| e.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(","));
        let row = sqlx::query(
            "UPDATE webhooks SET url = COALESCE($1, url), events = COALESCE($2, events), \
             secret = COALESCE($3, secret) WHERE business_id = $4 AND id = $5 AND deleted_at IS NULL \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(change.url.as_ref().map(|u| u.as_str()))
        .bind(events)
        .bind(change.secret.as_deref())
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref()
            .map(|r| rows::webhook(&rows::PgRowRef(r)))
            .transpose()
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let gone = sqlx::query("UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND business_id = $3 AND deleted_at IS NULL")
            .bind(at)
            .bind(id)
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected()
            == 1;
        if gone {
            sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = $1, last_error = 'subscription deleted' \
                 WHERE webhook_id = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(gone)
    }

    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM webhook_deliveries WHERE webhook_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
            rows::DELIVERY_COLUMNS
        ))
        .bind(webhook_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::delivery(&rows::PgRowRef(r)))
            .collect()
    }

    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(d.id)
            .bind(d.webhook_id)
            .bind(d.event.as_str())
            .bind(&d.body)
            .bind(d.at)
            .bind(d.at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM webhook_outbox ORDER BY id LIMIT $1",
            chatdesk_core::rows::OUTBOX_COLUMNS
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::outbox_entry(&rows::PgRowRef(r)))
            .collect()
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
             SELECT id, webhook_id, event, body, at, at \
             FROM unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::timestamptz[]) \
               AS d(id, webhook_id, event, body, at) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(deliveries.iter().map(|d| d.id).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.webhook_id).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.event.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.body.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM webhook_outbox WHERE id = ANY($1)")
            .bind(done)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = GREATEST(attempts - 1, 0), next_attempt_at = $1 \
             WHERE id = ANY($2) AND delivered_at IS NULL AND failed_at IS NULL",
        )
        .bind(at)
        .bind(ids)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(db)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL \
              AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id",
        )
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            due.push(rows::due_delivery(&rows::PgRowRef(&row))?);
        }
        tx.commit().await.map_err(db)?;
        Ok(due)
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let query = match (&outcome, next_attempt_at) {
            (Ok(()), _) => sqlx::query(
                "UPDATE webhook_deliveries SET delivered_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(at)
            .bind(id),
            (Err(e), Some(next)) => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
            )
            .bind(next)
            .bind(e.clone())
            .bind(id),
            (Err(e), None) => sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = $1, last_error = $2 WHERE id = $3",
            )
            .bind(at)
            .bind(e.clone())
            .bind(id),
        };
        query.execute(&self.pool).await.map_err(db)?;
        Ok(())
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

    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let row = sqlx::query(
            "INSERT INTO departments (id, business_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, business_id, name, created_at, updated_at",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(business_id.as_str())
        .bind(name.as_str())
        .bind(at)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        rows::department(&rows::PgRowRef(&row), Vec::new())
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = $1 AND deleted_at IS NULL ORDER BY name",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get("id").map_err(corrupt)?;
            out.push(rows::department(
                &rows::PgRowRef(r),
                self.members(id).await?,
            )?);
        }
        Ok(out)
    }

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<Department>> {
        let row = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some(r) => Ok(Some(rows::department(
                &rows::PgRowRef(&r),
                self.members(id).await?,
            )?)),
            None => Ok(None),
        }
    }

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Department>> {
        let done = sqlx::query("UPDATE departments SET name = $1, updated_at = $2 WHERE business_id = $3 AND id = $4 AND deleted_at IS NULL")
            .bind(name.as_str())
            .bind(at)
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_department(business_id, id).await
    }

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE departments SET deleted_at = $1 WHERE business_id = $2 AND id = $3 AND deleted_at IS NULL")
            .bind(at)
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<Department>> {
        if self.get_department(business_id, id).await?.is_none() {
            return Ok(None);
        }
        let sql = if member {
            "INSERT INTO department_members (department_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM department_members WHERE department_id = $1 AND agent_id = $2"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(agent.as_str())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        self.get_department(business_id, id).await
    }

    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<Presence>,
        connections_delta: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Agent> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO agents (business_id, agent_id, presence, updated_at) VALUES ($1, $2, \
             COALESCE((SELECT initial_presence FROM tenant_settings WHERE business_id = $1), 'online'), $3) \
             ON CONFLICT DO NOTHING",
        )
            .bind(business_id.as_str())
            .bind(agent.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE agents SET max_concurrent = COALESCE($1::bigint, max_concurrent), presence = COALESCE($2::text, presence), \
             connections = GREATEST(connections + $3, 0), updated_at = $4 WHERE business_id = $5 AND agent_id = $6",
        )
        .bind(max_concurrent)
        .bind(presence.map(Presence::as_str))
        .bind(connections_delta)
        .bind(at)
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = $1 AND a.agent_id = $2",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let out = rows::agent(&rows::PgRowRef(&row))?;
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = $1 ORDER BY a.agent_id",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::agent(&rows::PgRowRef(r)))
            .collect()
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        let row =
            sqlx::query("SELECT routing, allow_reopen, idle_timeout_secs, initial_presence FROM tenant_settings WHERE business_id = $1")
                .bind(business_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        match row {
            None => Ok(TenantSettings::default()),
            Some(r) => Ok(TenantSettings {
                auto_routing: r.try_get::<String, _>("routing").map_err(corrupt)? == "auto",
                allow_reopen: r.try_get("allow_reopen").map_err(corrupt)?,
                idle_timeout_secs: r.try_get("idle_timeout_secs").map_err(corrupt)?,
                initial_presence: Presence::parse(
                    &r.try_get::<String, _>("initial_presence")
                        .map_err(corrupt)?,
                )
                .map_err(corrupt)?,
            }),
        }
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        let rows = sqlx::query("SELECT business_id, idle_timeout_secs FROM tenant_settings WHERE idle_timeout_secs IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let b: String = r.try_get("business_id").map_err(corrupt)?;
                Ok((
                    BusinessId::parse(&b).map_err(corrupt)?,
                    r.try_get("idle_timeout_secs").map_err(corrupt)?,
                ))
            })
            .collect()
    }

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings> {
        sqlx::query(
            "INSERT INTO tenant_settings (business_id, routing, allow_reopen, idle_timeout_secs, initial_presence, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (business_id) DO UPDATE SET routing = excluded.routing, \
             allow_reopen = excluded.allow_reopen, idle_timeout_secs = excluded.idle_timeout_secs, \
             initial_presence = excluded.initial_presence, updated_at = excluded.updated_at",
        )
        .bind(business_id.as_str())
        .bind(if settings.auto_routing { "auto" } else { "manual" })
        .bind(settings.allow_reopen)
        .bind(settings.idle_timeout_secs)
        .bind(settings.initial_presence.as_str())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // One routing step at a time per tenant, across connections and nodes.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 2))")
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let pick = sqlx::query(
            "SELECT s.id AS session_id, a.agent_id AS agent_id FROM sessions s \
             JOIN agents a ON a.business_id = s.business_id \
             WHERE s.business_id = $1 AND s.status = 'waiting' AND s.agent_id IS NULL AND s.deleted_at IS NULL \
               AND a.presence = 'online' AND a.connections > 0 \
               AND (s.department_id IS NULL OR EXISTS (SELECT 1 FROM department_members m \
                    WHERE m.department_id::text = s.department_id AND m.agent_id = a.agent_id)) \
               AND (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id AND x.agent_id = a.agent_id \
                    AND x.status <> 'closed' AND x.deleted_at IS NULL) < a.max_concurrent \
             ORDER BY s.number, (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id \
                    AND x.agent_id = a.agent_id AND x.status <> 'closed' AND x.deleted_at IS NULL), a.agent_id \
             LIMIT 1",
        )
        .bind(business_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(pick) = pick else { return Ok(None) };
        let session: uuid::Uuid = pick.try_get("session_id").map_err(corrupt)?;
        let agent: String = pick.try_get("agent_id").map_err(corrupt)?;
        let row = sqlx::query(&format!(
            "UPDATE sessions SET agent_id = $1, status = 'active', updated_at = $2 \
             WHERE id = $3 AND status = 'waiting' AND agent_id IS NULL RETURNING {SESSION_COLUMNS}"
        ))
        .bind(&agent)
        .bind(at)
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let assigned = row
            .as_ref()
            .map(|r| rows::session(&rows::PgRowRef(r)))
            .transpose()?;
        if let Some(s) = &assigned {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionAssigned, at).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(assigned)
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE business_id = $1 AND status = 'waiting' AND deleted_at IS NULL \
             AND COALESCE(department_id, '') = COALESCE($2, '') AND number <= $3",
        )
        .bind(session.business_id.as_str())
        .bind(session.department_id.clone())
        .bind(session.number)
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, ROW_NUMBER() OVER (PARTITION BY COALESCE(s.department_id, '') ORDER BY s.number) AS position \
             FROM sessions s WHERE s.business_id = $1 AND s.status = 'waiting' AND s.deleted_at IS NULL \
             ORDER BY s.number LIMIT $2",
            qualified(SESSION_COLUMNS, "s")
        ))
        .bind(business_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    rows::session(&rows::PgRowRef(r))?,
                    r.try_get::<i64, _>("position").map_err(corrupt)?,
                ))
            })
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

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let row = sqlx::query(
            "INSERT INTO accounts (email, password_hash, role, business_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(new.email.as_str())
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.business_id.as_ref().map(|b| b.as_str()))
        .bind(new.name.as_deref())
        .bind(chatdesk_core::clock::now())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        rows::account(&rows::PgRowRef(&row))
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::PgRowRef(r)))
            .transpose()
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        let row = sqlx::query(
            "INSERT INTO api_keys (name, business_id, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(name)
        .bind(business_id.as_str())
        .bind(key_hash)
        .bind(chatdesk_core::clock::now())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        rows::api_key(&rows::PgRowRef(&row))
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::api_key(&rows::PgRowRef(r)))
            .transpose()
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE revoked_at IS NULL AND ($1::text IS NULL OR business_id = $1) \
             ORDER BY id",
        )
        .bind(business.map(BusinessId::as_str))

        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::api_key(&rows::PgRowRef(r)))
            .collect()
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND ($3::text IS NULL OR business_id = $3)",
        )
        .bind(at)
        .bind(id)
        .bind(business.map(BusinessId::as_str))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        // Insert if absent, then read back: whoever inserted first wins, everyone reads the same.
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(generate())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }
}
