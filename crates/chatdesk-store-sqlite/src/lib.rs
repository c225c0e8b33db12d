//! chatdesk's `Store` on SQLite: the embedded default.
//!
//! One driver, rusqlite, and no async worker waits on SQLite: one writer connection on a
//! thread of its own (`writer`), reads on read-only connections run on tokio's blocking
//! threads (`reader`), and a checkpointer thread (`checkpoint`). WAL mode lets readers run
//! while the writer commits.

mod accounts;
mod append;
mod attachments;
mod canned;
mod checkpoint;
mod connect;
mod contacts;
mod error;
mod hours;
mod labels;
mod messages;
mod migrate;
mod notes;
mod open;
mod outbox;
mod ratings;
mod reader;
mod routing;
mod rows;
mod search_backlog;
mod sessions;
mod sql;
mod webhooks;
mod writer;

use async_trait::async_trait;
use chatdesk_core::analytics::Beat;
use chatdesk_core::domain::{
    ActivityKind, Agent, BusinessId, Contact, Department, DepartmentName, Email, Message, Party,
    Presence, SearchQuery, Session, SessionId, UserId, VisitorId, WebhookEvent, WebhookUrl,
};
use chatdesk_core::query::{push_filter, push_patch};
use chatdesk_core::rows::{corrupt, qualified};
use chatdesk_core::store::*;
use chrono::{DateTime, Utc};
use error::error;
use rows::{micros, CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS};
use rusqlite::{params, Connection, TransactionBehavior};
use sql::Sql;
use std::str::FromStr;
use std::sync::Arc;

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
    writer: Arc<writer::Writer>,
    readers: Arc<reader::Readers>,
    /// Sessions waiting to be opened together (`open`).
    opens: Arc<open::Queue>,
    /// Messages waiting for their search entry (`search_backlog`).
    search: Arc<search_backlog::SearchBacklog>,
    /// Keeps the WAL checkpointer (`checkpoint`) running while any clone of the store lives.
    _alive: Arc<()>,
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` (`sqlite://path`, `sqlite:path` or
    /// `sqlite::memory:`), and bring its schema up to date.
    pub async fn connect(url: &str, durability: Durability) -> Result<Self, StoreError> {
        let location = connect::location(url)?;
        let mut conn = connect::writer(&location, durability)?;
        migrate::run(&mut conn)?;
        let search = Arc::new(search_backlog::SearchBacklog::of(&conn)?);
        let wal = Arc::new(checkpoint::Wal::default());
        let alive = Arc::new(());
        let writer = Arc::new(
            writer::Writer::start(conn, wal.clone(), search.clone()).map_err(thread_failed)?,
        );
        let readers = match location {
            connect::Location::Memory => reader::Readers::OnWriter(writer.clone()),
            connect::Location::File(path) => {
                checkpoint::spawn(path.clone(), wal, Arc::downgrade(&alive))
                    .map_err(thread_failed)?;
                // More reading threads than cores: a read waits less for one that was
                // preempted, and an idle thread costs only its stack.
                let threads = std::thread::available_parallelism().map_or(8, |n| n.get() * 4);
                reader::Readers::file(path, threads).map_err(thread_failed)?
            }
        };
        Ok(Self {
            writer,
            readers: Arc::new(readers),
            opens: Arc::default(),
            search,
            _alive: alive,
        })
    }

    /// Run `work` on the writer's connection.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writer.run(work).await
    }

    /// Run `work` in one transaction on the writer's connection: committed if it succeeds,
    /// rolled back if it fails.
    async fn transaction<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.write(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(error)?;
            let out = work(&tx)?;
            tx.commit().map_err(error)?;
            Ok(out)
        })
        .await
    }

    /// Run `work` on a reading connection.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.readers.read(work).await
    }

    /// Open the queued sessions, a transaction per batch, until none waits.
    async fn drain_opens(&self) {
        let _guard = open::Draining(&self.opens);
        while let Some(requests) = self.opens.take() {
            // Answered from the writer's thread, after the commit. If the writer has
            // stopped, the requests are dropped with the job and their callers told so.
            let _ = self
                .write(move |c| {
                    let outcomes = open::open_together(c, &requests);
                    for (request, outcome) in requests.into_iter().zip(outcomes) {
                        // The caller may have gone away; its session stays opened.
                        let _ = request.reply.send(outcome);
                    }
                    Ok(())
                })
                .await;
        }
    }

    /// Finish the queued writes and close the database.
    pub async fn close(&self) {
        self.writer.close().await;
    }
}

fn thread_failed(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("cannot start a SQLite thread: {e}"))
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

fn unread_row(r: &rows::DirectRow<'_, '_>) -> StoreResult<UnreadCount> {
    use chatdesk_core::rows::Columns;
    let required = |col: &str, v: Option<i64>| v.ok_or_else(|| corrupt(format!("{col} is NULL")));
    Ok(UnreadCount {
        session_id: SessionId::from_uuid(r.uuid("id")?.ok_or_else(|| corrupt("id is NULL"))?),
        number: required("number", r.int("number")?)?,
        unread: required("unread", r.int("unread")?)?,
        last_read_seq: required("last_read_seq", r.int("last_read_seq")?)?,
    })
}
