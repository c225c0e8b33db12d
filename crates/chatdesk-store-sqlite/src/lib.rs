//! chatdesk's `Store` on SQLite: the embedded default.
//!
//! One writer connection and a pool of readers. SQLite allows one writer at a time anyway;
//! holding a single writer connection in-process turns "who writes next" into a queue instead
//! of busy-retries, and makes read-then-write transactions (resume-or-create) atomic. WAL mode
//! lets readers run while the writer commits.

mod append;
mod checkpoint;
mod direct;
mod open;
mod outbox;
mod page_cache;
mod reader;
mod rows;
mod settings;

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
use rows::{micros, CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How hard SQLite works to make a commit survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a commit survives a crash of the process, and the
    /// database is never corrupted, but the last commits may be lost on power failure or an
    /// OS crash. Much faster: no fsync per commit.
    #[default]
    Normal,
    /// `synchronous=FULL`: every acknowledged commit survives power loss (fsync per commit;
    /// group commit amortises it).
    Full,
}

impl FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            other => Err(format!(
                "sqlite durability must be normal or full, not {other:?}"
            )),
        }
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    /// The writer's prepared statements (`direct::Kept`). Declared before `writer`: when the
    /// last clone of the store drops, they are finalized before the pool closes the
    /// connection they belong to.
    kept: Arc<direct::Kept>,
    writer: SqlitePool,
    /// Sessions waiting to be opened together (`open`).
    opens: Arc<open::Queue>,
    /// Sessions, contacts and message pages, read without sqlx's thread hand-offs.
    hot_reads: Arc<reader::Readers>,
    /// Keeps the WAL checkpointer (`checkpoint`) running while any clone of the store lives.
    _alive: Arc<()>,
    /// The checkpointer's requests to the writer.
    wal: Arc<checkpoint::Wal>,
    /// Tenants' settings, remembered for a moment (`settings`).
    settings: Arc<settings::Remembered>,
    reader: SqlitePool,
}

/// The database holds the generated signing key and webhook secrets: it is created readable
/// by its owner only (SQLite gives its `-wal` and `-shm` files the database file's mode), and
/// an existing one that others could read is narrowed to that.
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fail =
        |e: std::io::Error| StoreError::Unavailable(format!("cannot open {}: {e}", path.display()));
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(drop)
            .map_err(fail),
        Err(e) => Err(fail(e)),
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` (`sqlite://path`, `sqlite:path` or
    /// `sqlite::memory:`), and bring its schema up to date.
    pub async fn connect(url: &str, durability: Durability) -> Result<Self, StoreError> {
        page_cache::install();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            });
        // Pools skip sqlx's ping before handing out a connection (`test_before_acquire`): a
        // local SQLite connection does not go stale, and the ping is one more round trip to
        // the connection's thread on every query — the thread hand-offs the read profile is
        // made of.
        let store = if in_memory {
            // Every connection to ":memory:" is its own database: use exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(unavailable)?;
            Self {
                kept: Arc::default(),
                writer: pool.clone(),
                hot_reads: Arc::new(reader::Readers::Shared(pool.clone())),
                opens: Arc::default(),
                reader: pool,
                _alive: Arc::new(()),
                wal: Arc::default(),
                settings: Arc::default(),
            }
        } else {
            owner_only(options.get_filename())?;
            // Pages come from memory, not from read(2) into SQLite's small default cache
            // (2 MB): the profile showed the writer copying pages in from the kernel. Both
            // grow only as pages are used.
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .pragma("mmap_size", (256u64 << 20).to_string())
                .pragma("temp_store", "memory");
            // Never retired by the pool on its own (it holds kept statements: `direct::Kept`).
            let writer = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(
                    options
                        .clone()
                        .pragma("cache_size", "-65536")
                        .pragma("wal_autocheckpoint", "0"),
                )
                .await
                .map_err(unavailable)?;
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get() as u32 * 2);
            let reader = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(readers.max(2))
                .connect_with(options.clone().read_only(true))
                .await
                .map_err(unavailable)?;
            let path = options.get_filename().to_owned();
            let alive = Arc::new(());
            let wal = Arc::new(checkpoint::Wal::default());
            checkpoint::spawn(options, wal.clone(), Arc::downgrade(&alive));
            Self {
                kept: Arc::default(),
                writer,
                reader,
                hot_reads: Arc::new(reader::Readers::file(path)),
                opens: Arc::default(),
                _alive: alive,
                wal,
                settings: Arc::default(),
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn members(&self, id: uuid::Uuid) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT agent_id FROM department_members WHERE department_id = ? ORDER BY agent_id",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        ids.iter()
            .map(|a| UserId::parse(a).map_err(corrupt))
            .collect()
    }

    /// Open the queued sessions, a transaction per batch, until none waits.
    async fn drain_opens(&self) {
        let _guard = open::Draining(&self.opens);
        while let Some(requests) = self.opens.take() {
            let outcomes = match self.writer.acquire().await {
                Ok(mut conn) => {
                    direct::run_kept(&mut conn, &self.kept, |handle| {
                        self.wal.before_write(handle);
                        Ok(open::open_together(handle, &requests))
                    })
                    .await
                }
                Err(e) => Err(db(e)),
            };
            let outcomes =
                outcomes.unwrap_or_else(|e| requests.iter().map(|_| Err(e.clone())).collect());
            for (request, outcome) in requests.into_iter().zip(outcomes) {
                // The caller may have gone away; its session stays opened, as before.
                let _ = request.reply.send(outcome);
            }
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
    }

    pub async fn close(&self) {
        self.kept.release(&self.writer).await;
        self.reader.close().await;
        self.writer.close().await;
    }
}

pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => unavailable(e),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// An FTS5 MATCH expression requiring every word, each quoted so nothing a user types is
/// read as FTS syntax.
fn fts_match(query: &SearchQuery) -> String {
    query
        .terms()
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `AND …` for each condition of `filter`.
fn push_filter(q: &mut QueryBuilder<'_, Sqlite>, filter: &SessionFilter) {
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
        q.push(" AND started_at >= ").push_bind(micros(t));
    }
    if let Some(t) = filter.started_before {
        q.push(" AND started_at < ").push_bind(micros(t));
    }
    if let Some(a) = &filter.agent_id {
        q.push(" AND agent_id = ").push_bind(a.as_str().to_owned());
    }
    if let Some(d) = &filter.department_id {
        q.push(" AND department_id = ").push_bind(d.clone());
    }
}

fn unread_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<UnreadCount> {
    Ok(UnreadCount {
        session_id: SessionId::from_uuid(r.try_get("id").map_err(corrupt)?),
        number: r.try_get("number").map_err(corrupt)?,
        unread: r.try_get("unread").map_err(corrupt)?,
        last_read_seq: r.try_get("last_read_seq").map_err(corrupt)?,
    })
}

async fn session_in(conn: &mut SqliteConnection, id: SessionId) -> StoreResult<Option<Session>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ? AND deleted_at IS NULL");
    let row = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    row.as_ref()
        .map(|r| rows::session(&rows::SqliteRowRef(r)))
        .transpose()
}

#[async_trait]
impl Store for SqliteStore {
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

    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        self.hot_reads
            .read(|c| reader::session_with_contact(c, id))
            .await
    }

    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        self.hot_reads
            .read(|c| reader::session_with_messages(c, id, range))
            .await
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

    async fn upsert_contact(
        &self,
        session: SessionId,
        c: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        let sql = format!(
            "INSERT INTO session_contacts (session_id, id, contact_name, contact_email, contact_phone, position, \
             company_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
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

    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::SqliteRowRef(r)))
            .transpose()
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
            "INSERT INTO webhooks (business_id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(business_id.as_str())
        .bind(url.as_str())
        .bind(secret)
        .bind(events.join(","))
        .bind(micros(at))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::webhook(&rows::SqliteRowRef(&row))
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, business_id, url, secret, events, created_at FROM webhooks \
             WHERE business_id = ? AND deleted_at IS NULL ORDER BY id",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::webhook(&rows::SqliteRowRef(r)))
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
            "UPDATE webhooks SET url = COALESCE(?, url), events = COALESCE(?, events), \
             secret = COALESCE(?, secret) WHERE business_id = ? AND id = ? AND deleted_at IS NULL \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(change.url.as_ref().map(|u| u.as_str()))
        .bind(events)
        .bind(change.secret.as_deref())
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.writer)
        .await
        .map_err(db)?;
        row.as_ref()
            .map(|r| rows::webhook(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let gone = sqlx::query("UPDATE webhooks SET deleted_at = ? WHERE id = ? AND business_id = ? AND deleted_at IS NULL")
            .bind(micros(at))
            .bind(id)
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected()
            == 1;
        if gone {
            sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = ?, last_error = 'subscription deleted' \
                 WHERE webhook_id = ? AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(micros(at))
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
            "SELECT {} FROM webhook_deliveries WHERE webhook_id = ? \
             ORDER BY created_at DESC, id DESC LIMIT ?",
            rows::DELIVERY_COLUMNS
        ))
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::delivery(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(d.id)
            .bind(d.webhook_id)
            .bind(d.event.as_str())
            .bind(&d.body)
            .bind(micros(d.at))
            .bind(micros(d.at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM webhook_outbox ORDER BY id LIMIT ?",
            chatdesk_core::rows::OUTBOX_COLUMNS
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::outbox_entry(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(d.id)
            .bind(d.webhook_id)
            .bind(d.event.as_str())
            .bind(&d.body)
            .bind(micros(d.at))
            .bind(micros(d.at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for id in done {
            sqlx::query("DELETE FROM webhook_outbox WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for id in ids {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = max(attempts - 1, 0), next_attempt_at = ? \
                 WHERE id = ? AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(micros(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL \
              AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?) RETURNING id",
        )
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            due.push(rows::due_delivery(&rows::SqliteRowRef(&row))?);
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
                "UPDATE webhook_deliveries SET delivered_at = ?, last_error = NULL WHERE id = ?",
            )
            .bind(micros(at))
            .bind(id),
            (Err(e), Some(next)) => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(micros(next))
            .bind(e.clone())
            .bind(id),
            (Err(e), None) => sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(micros(at))
            .bind(e.clone())
            .bind(id),
        };
        query.execute(&self.writer).await.map_err(db)?;
        Ok(())
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

    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let row = sqlx::query(
            "INSERT INTO departments (id, business_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING id, business_id, name, created_at, updated_at",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(business_id.as_str())
        .bind(name.as_str())
        .bind(micros(at))
        .bind(micros(at))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::department(&rows::SqliteRowRef(&row), Vec::new())
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = ? AND deleted_at IS NULL ORDER BY name",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get("id").map_err(corrupt)?;
            out.push(rows::department(
                &rows::SqliteRowRef(r),
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
             WHERE business_id = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        match row {
            Some(r) => Ok(Some(rows::department(
                &rows::SqliteRowRef(&r),
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
        let done = sqlx::query("UPDATE departments SET name = ?, updated_at = ? WHERE business_id = ? AND id = ? AND deleted_at IS NULL")
            .bind(name.as_str())
            .bind(micros(at))
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.writer)
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
        let done = sqlx::query("UPDATE departments SET deleted_at = ? WHERE business_id = ? AND id = ? AND deleted_at IS NULL")
            .bind(micros(at))
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.writer)
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
            "INSERT INTO department_members (department_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM department_members WHERE department_id = ? AND agent_id = ?"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(agent.as_str())
            .execute(&self.writer)
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
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO agents (business_id, agent_id, presence, updated_at) VALUES (?1, ?2, \
             COALESCE((SELECT initial_presence FROM tenant_settings WHERE business_id = ?1), 'online'), ?3) \
             ON CONFLICT DO NOTHING",
        )
            .bind(business_id.as_str())
            .bind(agent.as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE agents SET max_concurrent = COALESCE(?, max_concurrent), presence = COALESCE(?, presence), \
             connections = MAX(connections + ?, 0), updated_at = ? WHERE business_id = ? AND agent_id = ?",
        )
        .bind(max_concurrent)
        .bind(presence.map(Presence::as_str))
        .bind(connections_delta)
        .bind(micros(at))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = ? AND a.agent_id = ?",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let out = rows::agent(&rows::SqliteRowRef(&row))?;
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = ? ORDER BY a.agent_id",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::agent(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        // Read for every new session (routing).
        let ticket = match self.settings.get(business_id) {
            Ok(known) => return Ok(known),
            Err(ticket) => ticket,
        };
        let read = self
            .hot_reads
            .read(|c| reader::tenant_settings(c, business_id))
            .await?;
        self.settings.learn(business_id, read, ticket);
        Ok(read)
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        let rows = sqlx::query("SELECT business_id, idle_timeout_secs FROM tenant_settings WHERE idle_timeout_secs IS NOT NULL")
            .fetch_all(&self.reader)
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
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (business_id) DO UPDATE SET routing = excluded.routing, \
             allow_reopen = excluded.allow_reopen, idle_timeout_secs = excluded.idle_timeout_secs, \
             initial_presence = excluded.initial_presence, updated_at = excluded.updated_at",
        )
        .bind(business_id.as_str())
        .bind(if settings.auto_routing { "auto" } else { "manual" })
        .bind(settings.allow_reopen)
        .bind(settings.idle_timeout_secs)
        .bind(settings.initial_presence.as_str())
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(db)?;
        self.settings.written(business_id, settings);
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let pick = sqlx::query(
            "SELECT s.id AS session_id, a.agent_id AS agent_id FROM sessions s \
             JOIN agents a ON a.business_id = s.business_id \
             WHERE s.business_id = ? AND s.status = 'waiting' AND s.agent_id IS NULL AND s.deleted_at IS NULL \
               AND a.presence = 'online' AND a.connections > 0 \
               AND (s.department_id IS NULL OR EXISTS (SELECT 1 FROM department_members m \
                    WHERE lower(hex(m.department_id)) = replace(s.department_id, '-', '') AND m.agent_id = a.agent_id)) \
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
            "UPDATE sessions SET agent_id = ?, status = 'active', updated_at = ? \
             WHERE id = ? AND status = 'waiting' AND agent_id IS NULL RETURNING {SESSION_COLUMNS}"
        ))
        .bind(&agent)
        .bind(micros(at))
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let assigned = row
            .as_ref()
            .map(|r| rows::session(&rows::SqliteRowRef(r)))
            .transpose()?;
        if let Some(s) = &assigned {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionAssigned, at).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(assigned)
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        self.hot_reads
            .read(|c| reader::queue_position(c, session))
            .await
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, ROW_NUMBER() OVER (PARTITION BY COALESCE(s.department_id, '') ORDER BY s.number) AS position \
             FROM sessions s WHERE s.business_id = ? AND s.status = 'waiting' AND s.deleted_at IS NULL \
             ORDER BY s.number LIMIT ?",
            qualified(SESSION_COLUMNS, "s")
        ))
        .bind(business_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    rows::session(&rows::SqliteRowRef(r))?,
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

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let row = sqlx::query(
            "INSERT INTO accounts (email, password_hash, role, business_id, name, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.email.as_str())
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.business_id.as_ref().map(|b| b.as_str()))
        .bind(new.name.as_deref())
        .bind(micros(chatdesk_core::clock::now()))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::account(&rows::SqliteRowRef(&row))
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE email = ?")
            .bind(email.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        let row = sqlx::query(
            "INSERT INTO api_keys (name, business_id, key_hash, created_at) VALUES (?, ?, ?, ?) RETURNING *",
        )
        .bind(name)
        .bind(business_id.as_str())
        .bind(key_hash)
        .bind(micros(chatdesk_core::clock::now()))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::api_key(&rows::SqliteRowRef(&row))
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::api_key(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE revoked_at IS NULL AND (? IS NULL OR business_id = ?) \
             ORDER BY id",
        )
        .bind(business.map(BusinessId::as_str))
        .bind(business.map(BusinessId::as_str))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::api_key(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL \
             AND (? IS NULL OR business_id = ?)",
        )
        .bind(micros(at))
        .bind(id)
        .bind(business.map(BusinessId::as_str))
        .bind(business.map(BusinessId::as_str))
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        // INSERT OR IGNORE then read back: whoever inserted first wins, everyone reads the same.
        sqlx::query("INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?, ?)")
            .bind(name)
            .bind(generate())
            .execute(&self.writer)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&self.writer)
            .await
            .map_err(db)
    }
}
