//! Events and the bus that carries them to every node's real-time clients.
//!
//! Events are published only after the change they describe has committed.

use crate::domain::{
    BusinessId, Message, Note, Party, Rating, Session, SessionId, UserId, VisitorId,
};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Serialized (JSON) to cross nodes; reading one back parses every field as a client's would be.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// A message's sender edited or deleted it (`message.deleted_at`): same audience as its
    /// `MessageCreated`.
    MessageRevised {
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
    /// A private note: for the tenant's staff, never for the session's owner.
    NoteCreated {
        business_id: BusinessId,
        note: Note,
    },
    /// An assistant's session went to the people's queue (`from`: the agent it had).
    SessionHandedOff {
        session: Session,
        from: Option<UserId>,
        reason: Option<String>,
    },
    /// A closed conversation was rated by its customer.
    SessionRated {
        business_id: BusinessId,
        owner: Party,
        rating: Rating,
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
    /// A tenant's settings changed: every node forgets what it remembered of them.
    TenantSettingsChanged {
        business_id: BusinessId,
    },
}

/// Fans events out to every subscriber: within one process ([`InProcessBus`]), or across
/// nodes by an implementation that receives from a broker and fans out locally the same way.
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, event: Event);
    /// Every event published after this call, in order.
    fn subscribe(&self) -> Subscription;
}

/// What a subscription hands out next.
#[derive(Debug)]
pub enum Received {
    Event(Arc<Event>),
    /// This many events went past a subscriber that fell behind: it must recover from the
    /// store (replay), not carry on as if nothing was lost.
    Missed(u64),
    /// The bus is gone: nothing more will come.
    Closed,
}

/// What a fanout carries: an event, or word that events were lost before reaching it.
#[derive(Clone)]
enum Item {
    Event(Arc<Event>),
    Missed(u64),
}

impl From<Item> for Received {
    fn from(item: Item) -> Self {
        match item {
            Item::Event(e) => Received::Event(e),
            Item::Missed(n) => Received::Missed(n),
        }
    }
}

/// One subscriber's place in the stream of events.
pub struct Subscription(broadcast::Receiver<Item>);

impl Subscription {
    pub async fn recv(&mut self) -> Received {
        match self.0.recv().await {
            Ok(item) => item.into(),
            Err(broadcast::error::RecvError::Lagged(n)) => Received::Missed(n),
            Err(broadcast::error::RecvError::Closed) => Received::Closed,
        }
    }

    /// The next event if one is waiting, without waiting for one.
    pub fn try_recv(&mut self) -> Option<Received> {
        match self.0.try_recv() {
            Ok(item) => Some(item.into()),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Received::Missed(n)),
            Err(broadcast::error::TryRecvError::Closed) => Some(Received::Closed),
            Err(broadcast::error::TryRecvError::Empty) => None,
        }
    }
}

/// Local fan-out to subscriptions, holding at most `capacity` events for the slowest one.
pub struct Fanout {
    tx: broadcast::Sender<Item>,
}

impl Fanout {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    pub fn send(&self, event: Arc<Event>) {
        // No subscriber is not an error: nobody is listening right now.
        let _ = self.tx.send(Item::Event(event));
    }

    /// Tell every subscriber that `n` events were lost before they reached this fanout (a
    /// bus between nodes that lost its connection, say).
    pub fn missed(&self, n: u64) {
        let _ = self.tx.send(Item::Missed(n));
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription(self.tx.subscribe())
    }
}

/// A bus within one process.
pub struct InProcessBus {
    fanout: Fanout,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            fanout: Fanout::new(capacity),
        }
    }
}

impl Bus for InProcessBus {
    fn publish(&self, event: Event) {
        self.fanout.send(Arc::new(event));
    }

    fn subscribe(&self) -> Subscription {
        self.fanout.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_how_much_it_missed() {
        let bus = InProcessBus::new(2);
        let mut rx = bus.subscribe();
        for _ in 0..5 {
            bus.publish(Event::VisitorLinked {
                visitor: VisitorId::from_uuid(uuid::Uuid::new_v4()),
                user: crate::domain::UserId::parse("u").unwrap(),
            });
        }
        assert!(matches!(rx.recv().await, Received::Missed(3)));
        assert!(matches!(rx.recv().await, Received::Event(_)));
        drop(bus);
        assert!(matches!(rx.recv().await, Received::Event(_)));
        assert!(matches!(rx.recv().await, Received::Closed));
    }

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
        match rx.recv().await {
            Received::Event(e) => match &*e {
                Event::ReadAdvanced { up_to_seq, .. } => assert_eq!(*up_to_seq, 2),
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn events_read_back_as_they_were_written() {
        let owner = Party::Visitor(VisitorId::from_uuid(uuid::Uuid::new_v4()));
        let mut session = Session::sample(owner.clone(), "shop");
        session.agent_id = Some(UserId::parse("ada").unwrap());
        session.metadata = serde_json::json!({"cart": [1, 2]});
        let message = Message {
            id: crate::domain::MessageId::generate(),
            session_id: session.id,
            seq: 7,
            sender: owner.clone(),
            sender_type: crate::domain::SenderType::Customer,
            content: "héllo\n\u{1F600}".into(),
            client_msg_id: Some(crate::domain::ClientMsgId::parse("k1").unwrap()),
            created_at: chrono::Utc::now(),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        };
        for event in [
            Event::SessionAssigned(session.clone()),
            Event::MessageCreated {
                business_id: session.business_id.clone(),
                owner: owner.clone(),
                session_number: session.number,
                message,
            },
            Event::Typing {
                business_id: session.business_id.clone(),
                owner,
                session_id: session.id,
                session_number: 3,
                who: Party::User(UserId::parse("ada").unwrap()),
                is_typing: true,
            },
        ] {
            let json = serde_json::to_vec(&event).unwrap();
            assert_eq!(serde_json::from_slice::<Event>(&json).unwrap(), event);
        }
        // A value no client could have sent is refused, not taken.
        let forged = serde_json::json!({"VisitorLinked": {"visitor": "not-a-uuid", "user": "u"}});
        assert!(serde_json::from_value::<Event>(forged).is_err());
    }
}
