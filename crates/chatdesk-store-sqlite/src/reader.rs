//! Reads: on threads of their own, each with a read-only connection, so no async worker
//! waits on SQLite. The threads stay up and take reads from one queue: handing a read to
//! tokio's blocking pool (a task, its queue's lock, a thread woken per read) cost more than
//! the read itself (docs/benchmarks.md, "rest"). A database in memory has one connection only (every connection
//! to `:memory:` is a database of its own), so its reads run on the writer's thread.

use crate::error::{error, stopped};
use crate::rows::{
    self, qualified, StatementColumns, CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS,
};
use crate::writer::Writer;
use chatdesk_core::domain::{
    BusinessId, Contact, Message, Presence, Session, SessionId, QUEUE_RANK_SQL,
};
use chatdesk_core::rows::{contact_columns_of_session, corrupt, Columns, CONTACT_OF_SESSION};
use chatdesk_core::store::{MessageRange, StoreError, StoreResult, TenantSettings};
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

pub enum Readers {
    File(Pool),
    OnWriter(Arc<Writer>),
}

/// A read handed to a reading thread: its connection, or why it could not open one.
type Job = Box<dyn FnOnce(Result<&Connection, &rusqlite::Error>) + Send>;

/// Threads of their own, each with a read-only connection to the database file (and its
/// prepared statements), taking reads from one queue.
pub struct Pool {
    jobs: crossbeam_channel::Sender<Job>,
}

impl Readers {
    /// `threads` reading threads on the file at `path`.
    pub fn file(path: PathBuf, threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for n in 0..threads {
            let (queue, path) = (queue.clone(), path.clone());
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || serve(&path, &queue))?;
        }
        Ok(Self::File(Pool { jobs }))
    }

    /// Run `work` on a reading connection and hand its result back.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        match self {
            Self::File(pool) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job: Job = Box::new(move |conn| {
                    let _ = reply.send(match conn {
                        Ok(conn) => work(conn),
                        Err(e) => Err(StoreError::Unavailable(format!("cannot read: {e}"))),
                    });
                });
                pool.jobs.send(job).map_err(|_| stopped("reader"))?;
                answer.await.map_err(|_| stopped("reader"))?
            }
            Self::OnWriter(writer) => writer.run(move |c| work(c)).await,
        }
    }
}

/// One reading thread: opens its connection at the first read (and again after a failed
/// open), and ends when the store, and with it the queue's sender, is gone.
fn serve(path: &Path, queue: &crossbeam_channel::Receiver<Job>) {
    let mut conn = None;
    while let Ok(job) = queue.recv() {
        if conn.is_none() {
            match open(path) {
                Ok(opened) => conn = Some(opened),
                Err(e) => {
                    job(Err(&e));
                    continue;
                }
            }
        }
        let Some(conn) = conn.as_ref() else { continue };
        // A panic fails its own caller (its reply is dropped); the thread goes on.
        let _ = catch_unwind(AssertUnwindSafe(|| job(Ok(conn))));
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    crate::connect::map_pages(&conn)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// A live (not deleted) session.
pub fn session(c: &Connection, id: SessionId) -> StoreResult<Option<Session>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1 AND deleted_at IS NULL"
        ))
        .map_err(error)?;
    static COLUMNS: StatementColumns = StatementColumns::new();
    rows::first(&mut stmt, &COLUMNS, [&id.as_uuid().into_bytes()[..]], |r| {
        rows::session(r)
    })
}

/// A live session and its contact, if it has one, in one statement: one read transaction,
/// where two reads took and dropped SQLite's WAL read lock twice (a `fcntl` each way, most
/// of a session GET's time in the kernel).
pub fn session_with_contact(
    c: &Connection,
    id: SessionId,
) -> StoreResult<Option<(Session, Option<Contact>)>> {
    // The statement's text and where its contact columns start, worked out once.
    static SQL: LazyLock<(String, usize)> = LazyLock::new(|| {
        let sql = format!(
            "SELECT {}, {} FROM sessions s LEFT JOIN session_contacts c ON {CONTACT_OF_SESSION} \
             WHERE s.id = ?1 AND s.deleted_at IS NULL",
            qualified(SESSION_COLUMNS, "s"),
            qualified(CONTACT_COLUMNS, "c"),
        );
        (sql, SESSION_COLUMNS.split(", ").count())
    });
    let (sql, session_columns) = (&SQL.0, SQL.1);
    let mut stmt = c.prepare_cached(sql).map_err(error)?;
    static COLUMNS: StatementColumns = StatementColumns::new();
    rows::first(&mut stmt, &COLUMNS, [&id.as_uuid().into_bytes()[..]], |r| {
        let session = rows::session(r)?;
        let contact_row = r.columns_from(session_columns);
        // A session without a contact reads NULL in every contact column.
        let contact = match contact_row.int("created_at")? {
            Some(_) => Some(rows::contact(&contact_row)?.1),
            None => None,
        };
        Ok((session, contact))
    })
}

/// The contacts of those of `sessions` that have one (their own or their owner's).
pub fn contacts(c: &Connection, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
    let marks = vec!["?"; sessions.len()].join(", ");
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {} FROM sessions s JOIN session_contacts c ON {CONTACT_OF_SESSION} \
             WHERE s.id IN ({marks})",
            contact_columns_of_session()
        ))
        .map_err(error)?;
    let ids: Vec<[u8; 16]> = sessions.iter().map(|s| s.as_uuid().into_bytes()).collect();
    // However many marks, the same columns.
    static COLUMNS: StatementColumns = StatementColumns::new();
    rows::all(
        &mut stmt,
        &COLUMNS,
        params_from_iter(ids.iter().map(|b| &b[..])),
        |r| rows::contact(r),
    )
}

/// A session's messages in `range`, in seq order.
/// A live session and a page of its messages in one read transaction: one WAL read lock
/// (a `fcntl` pair on the `-shm` file) where two statements took it twice, and one
/// snapshot, so the page belongs to the session as it was read.
pub fn session_with_messages(
    c: &Connection,
    id: SessionId,
    range: MessageRange,
) -> StoreResult<Option<(Session, Vec<Message>)>> {
    let tx = c.unchecked_transaction().map_err(error)?;
    let Some(session) = session(&tx, id)? else {
        return Ok(None);
    };
    let page = messages(&tx, id, range)?;
    // Read only: ending it is all the commit does.
    tx.commit().map_err(error)?;
    Ok(Some((session, page)))
}

pub fn messages(
    c: &Connection,
    session: SessionId,
    range: MessageRange,
) -> StoreResult<Vec<Message>> {
    let sid = session.as_uuid().into_bytes();
    // Both texts select MESSAGE_COLUMNS, the second through `SELECT *` of the first's.
    static COLUMNS: StatementColumns = StatementColumns::new();
    let page = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
        let mut stmt = c.prepare_cached(sql).map_err(error)?;
        rows::all(&mut stmt, &COLUMNS, params, |r| rows::message(r))
    };
    match range {
        MessageRange::After { after, limit } => page(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3"
            ),
            params![&sid[..], after, limit],
        ),
        MessageRange::Before {
            before,
            after,
            limit,
        } => page(
            &format!(
                "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages \
                 WHERE session_id = ?1 AND seq < ?2 AND seq > ?3 ORDER BY seq DESC LIMIT ?4) \
                 ORDER BY seq"
            ),
            params![&sid[..], before, after, limit],
        ),
    }
}

/// How many sessions wait in `session`'s queue up to and including it: the queue's length
/// (kept by triggers, `0009_queue_lengths.sql`, and by the open itself for a new session,
/// `open.rs`) minus those that arrived after it, which for
/// a new arrival are none or a few. One statement, so both parts see the same snapshot.
pub fn queue_position(c: &Connection, session: &Session) -> StoreResult<i64> {
    let department = session.department_id.as_deref().unwrap_or("");
    let (rank, number) = session.queue_key();
    c.prepare_cached(&format!(
        "SELECT COALESCE((SELECT waiting FROM queue_lengths WHERE business_id = ?1 AND department = ?2), 0) \
              - (SELECT COUNT(*) FROM sessions WHERE business_id = ?1 AND status = 'waiting' \
                 AND deleted_at IS NULL AND COALESCE(department_id, '') = ?2 \
                 AND ({QUEUE_RANK_SQL}, number) > (?3, ?4))"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(
            params![session.business_id.as_str(), department, rank, number],
            |r| r.get(0),
        )
    })
    .map_err(error)
}

/// A tenant's settings; a tenant without a row has the defaults.
pub fn tenant_settings(c: &Connection, business_id: &BusinessId) -> StoreResult<TenantSettings> {
    let mut stmt = c
        .prepare_cached(
            "SELECT routing, allow_reopen, idle_timeout_secs, initial_presence FROM tenant_settings WHERE business_id = ?1",
        )
        .map_err(error)?;
    let found = stmt
        .query_row([business_id.as_str()], |r| {
            let settings = TenantSettings {
                auto_routing: r.get::<_, String>(0)? == "auto",
                allow_reopen: r.get(1)?,
                idle_timeout_secs: r.get(2)?,
                ..TenantSettings::default()
            };
            Ok((settings, r.get::<_, String>(3)?))
        })
        .optional()
        .map_err(error)?;
    found.map_or(Ok(TenantSettings::default()), |(s, presence)| {
        Ok(TenantSettings {
            initial_presence: Presence::parse(&presence).map_err(corrupt)?,
            ..s
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::{writer, Location};
    use crate::Durability;

    fn one(c: &Connection) -> StoreResult<i64> {
        c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .map_err(error)
    }

    #[tokio::test]
    async fn a_panicking_read_fails_alone_and_the_thread_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let conn = writer(&Location::File(path.clone()), Durability::Normal).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        // One thread: if the panic had ended it, the next read would find none.
        let readers = Readers::file(path, 1).unwrap();
        let failed = readers
            .read(|_| -> StoreResult<()> { panic!("a bug in one read") })
            .await;
        assert!(matches!(failed, Err(StoreError::Unavailable(_))));
        assert_eq!(readers.read(one).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_opened_fails_each_read() {
        let dir = tempfile::tempdir().unwrap();
        let readers = Readers::file(dir.path().join("missing/r.db"), 2).unwrap();
        for _ in 0..3 {
            let failed = readers.read(one).await;
            assert!(matches!(failed, Err(StoreError::Unavailable(e)) if e.contains("cannot read")));
        }
    }
}
