//! chatdesk's `Store` on SQLite: the embedded default.
//!
//! One writer connection and a pool of readers. SQLite allows one writer at a time anyway;
//! holding a single writer connection in-process turns "who writes next" into a queue instead
//! of busy-retries, and makes read-then-write transactions (resume-or-create) atomic. WAL mode
//! lets readers run while the writer commits.

mod accounts;
mod append;
mod checkpoint;
mod contacts;
mod direct;
mod messages;
mod open;
mod outbox;
mod reader;
mod routing;
mod rows;
mod sessions;
mod settings;
mod webhooks;

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
