//! Events and the bus that carries them to every node's real-time clients.
//!
//! Events are published only after the change they describe has committed.

use crate::domain::{BusinessId, Message, Party, Session, SessionId, UserId, VisitorId};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    SessionCreated(Session),
    SessionUpdated(Session),
    /// Published after the `SessionUpdated` of a change that closed the session.
    SessionClosed(Session),
    /// Published after the `SessionUpdated` of a change that gave the session an agent.
    SessionAssigned(Session),
    /// A waiting session's place in its queue (1 = next).
    QueuePosition {
        business_id: BusinessId,
        owner: Party,
        session_id: SessionId,
        session_number: i64,
        position: i64,
    },
    MessageCreated {
        business_id: BusinessId,
        owner: Party,
        session_number: i64,
        message: Message,
    },
    ReadAdvanced {
        business_id: BusinessId,
        owner: Party,
        session_id: SessionId,
        session_number: i64,
        reader: Party,
        up_to_seq: i64,
    },
    /// Someone is typing (or stopped). Ephemeral: never stored.
    Typing {
        business_id: BusinessId,
        owner: Party,
        session_id: SessionId,
        session_number: i64,
        who: Party,
        is_typing: bool,
    },
    /// A visitor's sessions now belong to this account: open clients switch identity.
    VisitorLinked {
        visitor: VisitorId,
        user: UserId,
    },
}

/// Fans events out. In-process now; Redis or NATS when several nodes share a database.
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, event: Event);
    /// A receiver of every event published after this call. A receiver that falls behind
    /// gets `Lagged` and must recover by replay from the store.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
}

/// A bus within one process.
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }
}

impl Bus for InProcessBus {
    fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is listening right now.
        let _ = self.tx.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_get_events_published_after_they_subscribed() {
        let bus = InProcessBus::new(8);
        let read = |up_to_seq| Event::ReadAdvanced {
            business_id: BusinessId::default_tenant(),
            owner: Party::User(crate::domain::UserId::parse("o").unwrap()),
            session_id: SessionId::generate(),
            session_number: 1,
            reader: Party::User(crate::domain::UserId::parse("u").unwrap()),
            up_to_seq,
        };
        bus.publish(read(1));
        let mut rx = bus.subscribe();
        bus.publish(read(2));
        match &*rx.recv().await.unwrap() {
            Event::ReadAdvanced { up_to_seq, .. } => assert_eq!(*up_to_seq, 2),
            other => panic!("unexpected {other:?}"),
        }
    }
}
