//! The one connection that writes, owned by a thread of its own.
//!
//! SQLite allows one writer at a time anyway; a single writer connection turns "who writes
//! next" into a queue instead of busy-retries and makes read-then-write transactions
//! (resume-or-create) atomic. Work is sent to the thread as a closure and its result comes
//! back over a oneshot channel, so no async worker ever blocks on a write.

use crate::checkpoint::Wal;
use crate::error::stopped;
use crate::search_backlog::SearchBacklog;
use chatdesk_core::store::StoreResult;
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

pub struct Writer {
    /// `None` once closed.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Start the writer's thread on `conn`. Before each unit of work it lets `wal` restart
    /// the log if the checkpointer asked for it; between units, and when the queue stops, it
    /// moves the search index's backlog once that is due.
    pub fn start(
        mut conn: Connection,
        wal: Arc<Wal>,
        backlog: Arc<SearchBacklog>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let catch_up = |conn: &mut Connection| {
                    wal.before_write(conn);
                    if let Err(e) = backlog.catch_up(conn) {
                        tracing::warn!(error = %e, "search index backlog not moved; retrying");
                    }
                };
                loop {
                    let job = match backlog.due_in() {
                        None => queue.recv().ok(),
                        Some(wait) => match queue.recv_timeout(wait) {
                            Ok(job) => Some(job),
                            Err(RecvTimeoutError::Timeout) => {
                                catch_up(&mut conn);
                                continue;
                            }
                            Err(RecvTimeoutError::Disconnected) => None,
                        },
                    };
                    let Some(job) = job else { break };
                    wal.before_write(&conn);
                    // A panic fails its own caller (its reply is dropped) and rolls back its
                    // transaction as the stack unwinds; the writer goes on with the next job.
                    let _ = catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                    if backlog.due_in() == Some(Duration::ZERO) {
                        catch_up(&mut conn);
                    }
                }
                // Stopping: leave no backlog for the next start.
                catch_up(&mut conn);
            })?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Run `work` on the writer's connection, after everything queued before it.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have gone away; what was written stays written.
            let _ = reply.send(work(conn));
        });
        let sent = match &*self.jobs.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(stopped("writer"));
        }
        answer.await.map_err(|_| stopped("writer"))?
    }

    /// Finish the queued work, then close the connection.
    pub async fn close(&self) {
        drop(
            self.jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}
