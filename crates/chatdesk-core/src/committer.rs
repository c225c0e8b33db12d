//! The write path for messages: one task takes every queued append (up to a batch limit),
//! commits them in one transaction, answers each caller, and only then publishes events.
//!
//! Batching is what makes "durable before acknowledged" fast: one fsync covers many messages.

use crate::bus::{Bus, Event};
use crate::domain::{BusinessId, Party};
use crate::error::{ServiceError, ServiceResult};
use crate::store::{AppendOutcome, NewMessage, Store};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Told about every committed batch (the server turns this into metrics).
pub trait CommitObserver: Send + Sync + 'static {
    fn batch_committed(&self, size: usize, messages_created: usize, took: Duration);
}

/// Observes nothing.
pub struct NoObserver;
impl CommitObserver for NoObserver {
    fn batch_committed(&self, _: usize, _: usize, _: Duration) {}
}

#[derive(Debug, Clone, Copy)]
pub struct CommitterConfig {
    /// Most messages in one transaction.
    pub max_batch: usize,
    /// Appends waiting for the committer before senders are made to wait.
    pub queue: usize,
    /// Run on a thread of its own (a single-threaded runtime) instead of the caller's runtime.
    /// A batch is a chain of round trips to the database (begin, statements, commit); on a
    /// busy shared runtime every hop back waits behind the socket tasks queued before it, and
    /// that wait, not the database, bounded throughput. Only for stores whose connections do
    /// not belong to a runtime's I/O driver.
    pub own_thread: bool,
}

impl Default for CommitterConfig {
    fn default() -> Self {
        Self {
            max_batch: 256,
            queue: 4096,
            own_thread: false,
        }
    }
}

/// Who to tell about a message once it is committed: the session's tenant and owner.
#[derive(Debug, Clone)]
pub struct Audience {
    pub business_id: BusinessId,
    pub owner: Party,
    pub session_number: i64,
}

struct Job {
    message: NewMessage,
    audience: Audience,
    reply: oneshot::Sender<ServiceResult<AppendOutcome>>,
}

/// A handle to the committer task. Cloning is cheap; the task ends when every handle is
/// dropped and the queue is drained.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
    /// Appends asked for and not yet answered.
    pending: Arc<AtomicUsize>,
}

/// Counts one append as pending for as long as it lives (a caller that gives up included).
struct Pending(Arc<AtomicUsize>);

impl Pending {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Committer {
    pub fn spawn(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        observer: Arc<dyn CommitObserver>,
        config: CommitterConfig,
    ) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let work = run(rx, store, bus, observer, config.max_batch.max(1));
        let pending = Arc::new(AtomicUsize::new(0));
        if !config.own_thread {
            return (Self { tx, pending }, tokio::spawn(work));
        }
        let (finished, done) = oneshot::channel::<()>();
        let started = std::thread::Builder::new()
            .name("chatdesk-commit".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(work),
                    Err(e) => tracing::error!(error = %e, "committer runtime failed to start"),
                }
                let _ = finished.send(());
            });
        if let Err(e) = started {
            tracing::error!(error = %e, "committer thread failed to start");
        }
        // Waiting on this handle waits for the thread to drain and stop.
        (
            Self { tx, pending },
            tokio::spawn(async move {
                let _ = done.await;
            }),
        )
    }

    /// Queue one message and wait until it is committed (or found to be a duplicate).
    pub async fn append(
        &self,
        message: NewMessage,
        audience: Audience,
    ) -> ServiceResult<AppendOutcome> {
        let _pending = Pending::new(&self.pending);
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                message,
                audience,
                reply,
            })
            .await
            .map_err(|_| ServiceError::Unavailable("the committer has stopped".into()))?;
        answer
            .await
            .map_err(|_| ServiceError::Internal("the committer dropped a message".into()))?
    }
}

impl Committer {
    /// Wait until no append has been waiting for `quiet`: at shutdown, so that what clients
    /// sent before it is committed and answered before their connections close.
    pub async fn settled(&self, quiet: Duration) {
        let step = quiet / 4;
        let mut calm = Duration::ZERO;
        while calm < quiet {
            tokio::time::sleep(step).await;
            calm = match self.pending.load(Ordering::SeqCst) {
                0 => calm + step,
                _ => Duration::ZERO,
            };
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<Job>,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    observer: Arc<dyn CommitObserver>,
    max_batch: usize,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    // recv_many waits for at least one job, then takes whatever else is already queued.
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let batch: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
        let started = Instant::now();
        match store.append_messages(&batch).await {
            Ok(outcomes) => {
                observer.batch_committed(batch.len(), created(&outcomes), started.elapsed());
                answer(jobs.drain(..).zip(outcomes), bus.as_ref());
            }
            // One bad message must not fail the others that shared its transaction: each
            // is tried again alone, so only the one that fails by itself gets the error.
            Err(e) if batch.len() > 1 => {
                tracing::warn!(error = %e, size = batch.len(), "message batch failed; retrying each alone");
                for (job, message) in jobs.drain(..).zip(batch) {
                    let started = Instant::now();
                    match store.append_messages(std::slice::from_ref(&message)).await {
                        Ok(outcomes) => {
                            observer.batch_committed(1, created(&outcomes), started.elapsed());
                            answer(std::iter::once(job).zip(outcomes), bus.as_ref());
                        }
                        Err(e) => fail(job, &e.into()),
                    }
                }
            }
            Err(e) => {
                let err = ServiceError::from(e);
                for job in jobs.drain(..) {
                    fail(job, &err);
                }
            }
        }
    }
    tracing::debug!("committer drained and stopped");
}

fn created(outcomes: &[AppendOutcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o, AppendOutcome::Created(_)))
        .count()
}

/// Answers each caller, then publishes the created messages (callers hear first).
fn answer(done: impl Iterator<Item = (Job, AppendOutcome)>, bus: &dyn Bus) {
    let mut events = Vec::new();
    for (job, outcome) in done {
        if let AppendOutcome::Created(m) = &outcome {
            events.push(Event::MessageCreated {
                business_id: job.audience.business_id,
                owner: job.audience.owner,
                session_number: job.audience.session_number,
                message: m.clone(),
            });
        }
        let _ = job.reply.send(Ok(outcome));
    }
    for e in events {
        bus.publish(e);
    }
}

fn fail(job: Job, err: &ServiceError) {
    tracing::error!(error = %err, session = %job.message.session_id, "message failed to commit");
    let _ = job.reply.send(Err(clone_error(err)));
}

fn clone_error(e: &ServiceError) -> ServiceError {
    match e {
        ServiceError::Unavailable(why) => ServiceError::Unavailable(why.clone()),
        other => ServiceError::Internal(other.to_string()),
    }
}
