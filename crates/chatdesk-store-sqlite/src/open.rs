//! Resume-or-create of a session, inside the writer's transaction (`crate::writer`), and the
//! group commit that shares one transaction among the sessions opened at the same moment.
//!
//! Opening a session was one transaction each on the single writer: its hand-off to the
//! writer and its commit were the whole cost of `POST /v1/sessions` once the queue place was
//! cheap, and every other opener waited behind them. Callers now queue their request; one
//! task at a time drains the queue, runs every waiting request in one transaction (again each
//! in a savepoint of its own if one fails, so one failure spoils nothing else) and answers
//! after the commit.

use crate::error::error;
use crate::micros;
use crate::rows::{self, StatementColumns, SESSION_COLUMNS};
use chatdesk_core::domain::Session;
use chatdesk_core::rows::corrupt;
use chatdesk_core::store::StoreError;
use chatdesk_core::store::{NewSession, StoreResult};
use rusqlite::{params, TransactionBehavior};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// The owner's latest open session in the business when `resume` and there is one
/// (`false`: not created), else the new one (`true`) and its place in its queue.
pub fn open_session(tx: &rusqlite::Connection, new: &NewSession, resume: bool) -> Opened {
    if resume {
        let mut latest = tx
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE owner = ?1 AND business_id = ?2 AND status <> 'closed' AND deleted_at IS NULL \
                 ORDER BY last_activity_at DESC, id DESC LIMIT 1"
            ))
            .map_err(error)?;
        static COLUMNS: StatementColumns = StatementColumns::new();
        let found = rows::first(
            &mut latest,
            &COLUMNS,
            params![new.owner.key(), new.business_id.as_str()],
            |r| rows::session(r),
        )?;
        if let Some(session) = found {
            return Ok((session, false, None));
        }
    }
    // Plain statements, no trigger and no RETURNING (which SQLite runs as a trigger): either
    // would make the INSERT a statement transaction, journalling a copy of every page it
    // touches (migration 0011).
    let id = new.id.as_uuid().into_bytes();
    let department = new.department_id.map(|d| d.to_string());
    let topic = new.topic.as_ref().map(|t| t.as_str());
    let title = new.title.as_ref().map(|t| t.as_str());
    let at = micros(new.at);
    let assistant = new.assistant.as_ref().map(|a| a.as_str());
    run(
        tx,
        "INSERT INTO sessions (id, business_id, location_id, owner, session_type, topic, title, \
         priority, status, metadata, department_id, agent_id, started_at, last_activity_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, ?13)",
        params![
            &id[..],
            new.business_id.as_str(),
            new.location_id.as_ref().map(|l| l.as_str()),
            new.owner.key(),
            new.session_type.as_str(),
            topic,
            title,
            new.priority.as_str(),
            if assistant.is_some() { "active" } else { "waiting" },
            new.metadata.to_string(),
            department.as_deref(),
            assistant,
            at,
        ],
    )?;
    let number = tx.last_insert_rowid();
    crate::outbox::queue(
        tx,
        &id,
        chatdesk_core::domain::WebhookEvent::SessionCreated,
        None,
        new.at,
    )?;
    run(
        tx,
        "INSERT INTO session_search (topic, title, session_id) VALUES (?1, ?2, ?3)",
        params![topic, title, &id[..]],
    )?;
    if let Some(assistant) = assistant {
        // Held by its assistant, outside the queue.
        run(
            tx,
            "INSERT INTO session_assistants (session_id, assistant_id) VALUES (?1, ?2)",
            params![&id[..], assistant],
        )?;
        return Ok((read_back(tx, number)?, true, None));
    }
    // New sessions wait, and the newest is last: its place is its queue's length.
    let queue = params![
        new.business_id.as_str(),
        department.as_deref().unwrap_or("")
    ];
    run(
        tx,
        "INSERT INTO queue_lengths (business_id, department, waiting) VALUES (?1, ?2, 1) \
         ON CONFLICT (business_id, department) DO UPDATE SET waiting = waiting + 1",
        queue,
    )?;
    let place: i64 = tx
        .prepare_cached(
            "SELECT waiting FROM queue_lengths WHERE business_id = ?1 AND department = ?2",
        )
        .and_then(|mut stmt| stmt.query_row(queue, |r| r.get(0)))
        .map_err(error)?;
    Ok((read_back(tx, number)?, true, Some(place)))
}

/// The session just inserted as `number`.
fn read_back(tx: &rusqlite::Connection, number: i64) -> StoreResult<Session> {
    let mut stmt = tx
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE number = ?1"
        ))
        .map_err(error)?;
    static COLUMNS: StatementColumns = StatementColumns::new();
    rows::first(&mut stmt, &COLUMNS, [number], |r| rows::session(r))?
        .ok_or_else(|| corrupt("a session just inserted was not found"))
}

/// One cached statement, executed once.
fn run(tx: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<()> {
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map(drop)
        .map_err(error)
}

/// Requests opened together share a transaction; at most this many.
const MOST_PER_TRANSACTION: usize = 256;

/// The session, whether it is new, and a new session's place in its queue.
pub type Opened = StoreResult<(Session, bool, Option<i64>)>;

pub struct Request {
    pub new: NewSession,
    pub resume: bool,
    pub reply: oneshot::Sender<Opened>,
}

/// Requests waiting for the writer, and whether a task is draining them.
#[derive(Default)]
pub struct Queue(Mutex<(Vec<Request>, bool)>);

impl Queue {
    /// Queue `request`; `true` if the caller must start a task that drains the queue.
    pub fn push(&self, request: Request) -> bool {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        queue.0.push(request);
        !std::mem::replace(&mut queue.1, true)
    }

    /// The next requests to run together, or `None` (and the draining task stops) when no
    /// request waits.
    pub fn take(&self) -> Option<Vec<Request>> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if queue.0.is_empty() {
            queue.1 = false;
            return None;
        }
        let n = queue.0.len().min(MOST_PER_TRANSACTION);
        Some(queue.0.drain(..n).collect())
    }
}

/// Held by the draining task: if it panics, the queue is not left "being drained" by nobody
/// (every later open would wait forever); the waiting requests fail instead.
pub struct Draining<'q>(pub &'q Queue);

impl Drop for Draining<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
            queue.0.clear();
            queue.1 = false;
        }
    }
}

/// Run `requests` in one transaction on the writer's handle. Each gets its own outcome; if
/// the commit fails, every one gets that error.
///
/// Optimistic: first all of them plainly; only if one fails is that try rolled back and
/// each run again in a savepoint of its own, so that it fails alone: a savepoint per request
/// every time would journal every page each request touches, for a failure that hardly
/// ever comes (docs/benchmarks.md).
pub fn open_together(handle: &mut rusqlite::Connection, requests: &[Request]) -> Vec<Opened> {
    let outcomes = match all_or_none(handle, requests) {
        Ok(Some(outcomes)) => Ok(outcomes),
        Ok(None) => each_alone(handle, requests),
        Err(e) => Err(e),
    };
    outcomes.unwrap_or_else(|e| requests.iter().map(|_| Err(e.clone())).collect())
}

/// Every request opened and committed, or `None` (nothing kept) if one failed.
fn all_or_none(
    handle: &mut rusqlite::Connection,
    requests: &[Request],
) -> StoreResult<Option<Vec<Opened>>> {
    let tx = handle
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(error)?;
    let mut outcomes = Vec::with_capacity(requests.len());
    for r in requests {
        let opened = open_session(&tx, &r.new, r.resume);
        if opened.is_err() {
            return Ok(None); // dropping the transaction rolls it back
        }
        outcomes.push(opened);
    }
    tx.commit().map_err(error)?;
    Ok(Some(outcomes))
}

/// Every request in a savepoint of its own: one that fails is rolled back alone.
fn each_alone(handle: &mut rusqlite::Connection, requests: &[Request]) -> StoreResult<Vec<Opened>> {
    let mut tx = handle
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(error)?;
    let mut outcomes = Vec::with_capacity(requests.len());
    for r in requests {
        let one = tx.savepoint().map_err(error)?;
        let opened = open_session(&one, &r.new, r.resume);
        if opened.is_ok() {
            one.commit().map_err(error)?;
        } // else: dropping the savepoint rolls this request back
        outcomes.push(opened);
    }
    tx.commit().map_err(error)?;
    Ok(outcomes)
}

/// The error a request gets when the task that would have run it stopped first.
pub fn dropped() -> StoreError {
    StoreError::Unavailable("the session writer stopped before opening the session".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::clock;
    use chatdesk_core::domain::{BusinessId, Party, SessionId, UserId};

    /// A database with the store's schema, on a plain connection.
    fn database() -> rusqlite::Connection {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrate::run(&mut c).unwrap();
        c
    }

    fn request(id: SessionId) -> (Request, oneshot::Receiver<Opened>) {
        let (reply, answer) = oneshot::channel();
        let mut new = NewSession::general(
            BusinessId::default_tenant(),
            Party::User(UserId::parse("u").unwrap()),
            clock::now(),
        );
        new.id = id;
        (
            Request {
                new,
                resume: false,
                reply,
            },
            answer,
        )
    }

    fn stored(c: &rusqlite::Connection) -> i64 {
        c.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn together_all_commit_and_are_told_their_places() {
        let mut c = database();
        let requests: Vec<_> = (0..3).map(|_| request(SessionId::generate()).0).collect();
        let places: Vec<_> = open_together(&mut c, &requests)
            .into_iter()
            .map(|o| o.unwrap().2)
            .collect();
        assert_eq!(places, [Some(1), Some(2), Some(3)]);
        assert_eq!(stored(&c), 3);
    }

    #[test]
    fn one_failure_spoils_nothing_else() {
        let mut c = database();
        let taken = SessionId::generate();
        assert!(open_together(&mut c, &[request(taken).0])[0].is_ok());
        let requests = [
            request(SessionId::generate()).0,
            request(taken).0, // its INSERT fails: the id is stored
            request(SessionId::generate()).0,
        ];
        let outcomes = open_together(&mut c, &requests);
        assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
        assert!(
            matches!(outcomes[1], Err(StoreError::Conflict(_))),
            "{:?}",
            outcomes[1]
        );
        assert_eq!(stored(&c), 3);
        // The queue counted each stored session once: the failed try left nothing behind.
        let waiting: i64 = c
            .query_row("SELECT waiting FROM queue_lengths", [], |r| r.get(0))
            .unwrap();
        assert_eq!(waiting, 3);
    }
}
