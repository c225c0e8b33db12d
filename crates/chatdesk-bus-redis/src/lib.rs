//! The Bus between chatdesk nodes, over Redis pub/sub.
//!
//! Every node publishes the events it commits to one Redis channel and fans out to its own
//! subscribers only what comes back from that channel, its own events included. Redis
//! delivers at most once: an event lost on the way (a node's count skipped, `order.rs`, or
//! this node's connection to Redis dropped) is reported to subscribers as `Missed`, which
//! makes the hub disconnect its clients so that they replay from their last `seq`. Two
//! nodes' messages to one session can arrive in another order than their `seq`s: each
//! client's feed fills such a gap from the database before it delivers the later message.

mod envelope;
mod order;

use chatdesk_core::bus::{Bus, Event, Fanout, Subscription};
use envelope::Envelope;
use futures::StreamExt;
use order::{Arrival, Order};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The channel every node publishes to and reads from.
pub const CHANNEL: &str = "chatdesk:events";

/// Most events written to Redis in one round trip.
const PUBLISH_BATCH: usize = 256;

/// The longest a node waits between attempts to reach Redis again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct RedisBusConfig {
    /// Events waiting to be published; past it they are dropped (and reported missed).
    pub outgoing: usize,
    /// Events held for the slowest local subscriber.
    pub fanout: usize,
}

impl Default for RedisBusConfig {
    fn default() -> Self {
        Self {
            outgoing: 65_536,
            fanout: 65_536,
        }
    }
}

pub struct RedisBus {
    node: uuid::Uuid,
    counter: AtomicU64,
    outgoing: mpsc::Sender<Envelope>,
    fanout: Arc<Fanout>,
}

/// The bus's two background tasks; they end when the bus is dropped.
pub struct Tasks {
    pub publisher: JoinHandle<()>,
    pub receiver: JoinHandle<()>,
}

impl RedisBus {
    /// Connect to Redis at `url` and start publishing and receiving. Fails if Redis cannot be
    /// reached now; later outages are waited out.
    pub async fn connect(
        url: &str,
        config: RedisBusConfig,
    ) -> Result<(Arc<Self>, Tasks), redis::RedisError> {
        let client = redis::Client::open(url)?;
        let publishing = client.get_multiplexed_async_connection().await?;
        let mut receiving = client.get_async_pubsub().await?;
        receiving.subscribe(CHANNEL).await?;
        let (tx, rx) = mpsc::channel(config.outgoing.max(1));
        let fanout = Arc::new(Fanout::new(config.fanout.max(1)));
        let node = uuid::Uuid::new_v4();
        let bus = Arc::new(Self {
            node,
            counter: AtomicU64::new(0),
            outgoing: tx,
            fanout: fanout.clone(),
        });
        let tasks = Tasks {
            publisher: tokio::spawn(publish(client.clone(), Some(publishing), rx)),
            receiver: tokio::spawn(receive(client, Some(receiving), fanout)),
        };
        Ok((bus, tasks))
    }

    /// This node's id on the bus.
    pub fn node(&self) -> uuid::Uuid {
        self.node
    }
}

impl Bus for RedisBus {
    fn publish(&self, event: Event) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let envelope = Envelope {
            node: self.node,
            n,
            event,
        };
        if self.outgoing.try_send(envelope).is_err() {
            // Every node sees the counter skip and makes its clients replay.
            tracing::warn!("the bus's outgoing queue is full; an event is dropped");
        }
    }

    fn subscribe(&self) -> Subscription {
        self.fanout.subscribe()
    }
}

/// Write queued events to Redis, a batch per round trip, reconnecting when the connection
/// fails and sending the batch again. Events past the queue's capacity while Redis is away
/// are dropped; the counters they carried show the gap to every node.
async fn publish(
    client: redis::Client,
    mut conn: Option<redis::aio::MultiplexedConnection>,
    mut rx: mpsc::Receiver<Envelope>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    let mut backoff = Backoff::default();
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for envelope in batch.drain(..) {
            match serde_json::to_vec(&envelope) {
                Ok(bytes) => {
                    pipe.publish(CHANNEL, bytes).ignore();
                }
                Err(e) => tracing::error!(error = %e, "an event could not be serialized"),
            }
        }
        loop {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match client.get_multiplexed_async_connection().await {
                    Ok(c) => conn.insert(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot reach Redis to publish; retrying");
                        backoff.wait().await;
                        continue;
                    }
                },
            };
            match pipe.query_async::<()>(c).await {
                Ok(()) => {
                    backoff = Backoff::default();
                    break;
                }
                Err(e) => {
                    // Sent again on a new connection: part of it may arrive twice, which
                    // subscribers tolerate (a message is delivered once per client by
                    // `seq`), where a lost last message would wait for the next one.
                    tracing::warn!(error = %e, "publishing to Redis failed; sending again");
                    conn = None;
                }
            }
        }
    }
}

/// Read the channel, put what arrives in order, and hand it to this node's subscribers.
async fn receive(
    client: redis::Client,
    mut first: Option<redis::aio::PubSub>,
    fanout: Arc<Fanout>,
) {
    let mut order = Order::default();
    let mut backoff = Backoff::default();
    loop {
        let mut pubsub = match first.take() {
            Some(p) => p,
            None => match resubscribe(&client).await {
                Ok(p) => {
                    // Whatever was published while this node was away never reaches it.
                    tracing::warn!("reconnected to Redis; clients replay what they missed");
                    order.forget();
                    fanout.missed(1);
                    backoff = Backoff::default();
                    p
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reach Redis to receive; retrying");
                    backoff.wait().await;
                    continue;
                }
            },
        };
        let mut stream = pubsub.on_message();
        while let Some(msg) = stream.next().await {
            let envelope = match serde_json::from_slice::<Envelope>(msg.get_payload_bytes()) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "an unreadable event on the bus is dropped");
                    continue;
                }
            };
            match order.arrive(envelope) {
                Arrival::Deliver(event) => fanout.send(Arc::new(event)),
                Arrival::AfterLoss { lost, event } => {
                    tracing::warn!(lost, "events published by another node never arrived");
                    fanout.missed(lost);
                    fanout.send(Arc::new(event));
                }
            }
        }
        drop(stream);
        tracing::warn!("the connection to Redis dropped");
    }
}

async fn resubscribe(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}

/// Doubling waits between attempts to reach Redis, from 50 ms up to [`MAX_BACKOFF`].
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(50))
    }
}

impl Backoff {
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
    }
}
