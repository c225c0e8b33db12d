//! A subscriber's side: events from the hub in order, each message at most once, and
//! gap-free catch-up when a client joins a session from a `seq` it last saw.
//!
//! Catch-up subscribes first, then reads the store, then drops from the live queue whatever
//! the read already covered: a message committed during the read is in the queue, one
//! committed before is in the read, and the per-session delivered range removes the overlap.
//!
//! Two nodes' messages to one session can reach a node in another order than their `seq`s
//! (each node publishes what it commits; the bus between them keeps no order across
//! publishers). A live message whose `seq` skips past what this client was handed is
//! therefore preceded by the ones it skipped, read from the store, and the late arrivals are
//! then dropped as already delivered.
//!
//! A feed that watches its principal's own sessions (or its tenant's) can be handed a live
//! message of a session before the client joins that session to catch up: the client
//! connects, a message is committed, then its `joinSession {sinceSeq}` arrives. What was
//! delivered is therefore a range `first..=last`, not just a high mark: the catch-up then
//! sends what lies before `first` as well as after `last`, so the live message that came
//! first does not hide the ones the client missed before it.

use super::hub::{Dispatched, Hub, Subscription};
use chatdesk_core::bus::Event;
use chatdesk_core::domain::{Message, Session, SessionId};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::Messages;
use chatdesk_core::ServiceResult;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Most messages a single catch-up sends; a client further behind pages with the REST API.
pub const MAX_REPLAY: usize = 10_000;
/// Most messages a feed reads to fill a gap in live delivery; a wider gap ends the feed and
/// the client replays.
pub const MAX_GAP_FILL: i64 = 1_000;

/// Most message text a single catch-up holds: a client that asks for a long history and
/// never reads it must not make the server hold all of it.
pub const MAX_REPLAY_BYTES: usize = 4 << 20;

pub struct Feed {
    hub: Arc<Hub>,
    sub: Subscription,
    /// Where a gap in live delivery is filled from.
    messages: Messages,
    /// Filled messages, then the event that showed the gap, to hand out in this order.
    ready: VecDeque<Arc<Dispatched>>,
    /// Per session, the `seq`s handed out.
    delivered: HashMap<SessionId, Delivered>,
}

/// A session's messages handed to the client: every `seq` in `first..=last`. Live delivery
/// of a session is in `seq` order with no gaps, and a catch-up fills everything from where
/// the client says it was, so what was handed out is always one range.
#[derive(Debug, Clone, Copy)]
struct Delivered {
    first: i64,
    last: i64,
}

impl Delivered {
    fn contains(&self, seq: i64) -> bool {
        (self.first..=self.last).contains(&seq)
    }
}

/// What a client is sent on joining a session, before live events.
pub struct CatchUp {
    pub session: Session,
    pub messages: Vec<Message>,
    /// Each reader's last read seq: a message's `isRead`.
    pub cursors: Vec<(chatdesk_core::domain::Party, i64)>,
}

impl Feed {
    /// A feed of everything `p` may see as its own: its sessions, and its tenant's for staff.
    pub fn for_principal(hub: &Arc<Hub>, messages: &Messages, p: &Principal) -> Self {
        let sub = hub.subscribe();
        hub.watch_party(&sub, &p.party, p.business_id.as_ref());
        if p.is_staff() {
            let tenant = match (p.role, &p.business_id) {
                (chatdesk_core::identity::Role::Admin, None) => None,
                _ => Some(p.home_tenant()),
            };
            hub.watch_tenant(&sub, tenant.as_ref());
        }
        Self {
            hub: hub.clone(),
            sub,
            messages: messages.clone(),
            ready: VecDeque::new(),
            delivered: HashMap::new(),
        }
    }

    /// A feed of nothing yet (watch sessions with `join`).
    pub fn empty(hub: &Arc<Hub>, messages: &Messages) -> Self {
        Self {
            hub: hub.clone(),
            sub: hub.subscribe(),
            messages: messages.clone(),
            ready: VecDeque::new(),
            delivered: HashMap::new(),
        }
    }

    /// The next event to deliver, or `None` when the hub dropped this feed (it fell behind,
    /// or the server is stopping): the client must reconnect and replay.
    pub async fn next(&mut self) -> Option<Arc<Dispatched>> {
        loop {
            if let Some(ready) = self.ready.pop_front() {
                return Some(ready);
            }
            let event = self.sub.rx.recv().await?;
            if let Event::MessageCreated { message, .. } = &*event.event {
                if let Some(last) = self.gap_before(message) {
                    self.fill(&event, last).await?;
                }
                if !self.mark(message) {
                    continue;
                }
                if !self.ready.is_empty() {
                    self.ready.push_back(event);
                    continue;
                }
            }
            return Some(event);
        }
    }

    /// The last `seq` handed out of the message's session, when the message skips past it.
    fn gap_before(&self, m: &Message) -> Option<i64> {
        let range = self.delivered.get(&m.session_id)?;
        (m.seq > range.last + 1).then_some(range.last)
    }

    /// Queue the messages between `last` and the new message of `event`, read from the
    /// store; `None` when they cannot all be had (the client must replay).
    async fn fill(&mut self, event: &Dispatched, last: i64) -> Option<()> {
        let Event::MessageCreated {
            business_id,
            owner,
            session_number,
            message,
        } = &*event.event
        else {
            return Some(());
        };
        let missing = message.seq - last - 1;
        if missing > MAX_GAP_FILL {
            return None;
        }
        let found = self
            .messages
            .between(message.session_id, last, message.seq)
            .await
            .ok()?;
        if found.len() as i64 != missing {
            return None;
        }
        for m in found {
            self.mark(&m);
            let new_message = self.hub.renderings.slot(m.id);
            self.ready.push_back(Arc::new(Dispatched {
                event: Arc::new(Event::MessageCreated {
                    business_id: business_id.clone(),
                    owner: owner.clone(),
                    session_number: *session_number,
                    message: m,
                }),
                new_message,
            }));
        }
        Some(())
    }

    /// Record a message as delivered; false if it (or a later one) already was.
    pub fn mark(&mut self, m: &Message) -> bool {
        let range = self.delivered.entry(m.session_id).or_insert(Delivered {
            first: m.seq,
            last: m.seq - 1,
        });
        if m.seq <= range.last {
            return false;
        }
        range.last = m.seq;
        true
    }

    /// Watch a session (which `p` may see) and return the messages after `since_seq` to send
    /// before any live event, with the session's read cursors (to say which are read). A `since_seq` past the session's last message is read as that
    /// last message: the client has seen everything, and what comes next is delivered.
    pub async fn join(
        &mut self,
        messages: &Messages,
        p: &Principal,
        session: SessionId,
        since_seq: i64,
    ) -> ServiceResult<CatchUp> {
        let visible = messages.readable(p, session).await?;
        let since_seq = since_seq.clamp(0, visible.last_seq);
        self.hub.watch_session(&self.sub, visible.id);
        let mut backlog = Vec::new();
        let mut after = since_seq;
        let mut bytes = 0;
        while backlog.len() < MAX_REPLAY && bytes < MAX_REPLAY_BYTES {
            let page = messages.messages_after(&visible, after, 200).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let full = page.len() == 200;
            bytes += page.iter().map(|m| m.content.len()).sum::<usize>();
            backlog.extend(page);
            if !full {
                break;
            }
        }
        let from = since_seq + 1;
        let range = match self.delivered.get(&visible.id) {
            Some(live) => {
                backlog.retain(|m| !live.contains(m.seq));
                Delivered {
                    first: live.first.min(from),
                    last: live.last.max(after).max(since_seq),
                }
            }
            None => Delivered {
                first: from,
                last: after.max(since_seq),
            },
        };
        self.delivered.insert(visible.id, range);
        // Cursors only say which replayed messages are read: none to replay, none to read.
        let cursors = if backlog.is_empty() {
            Vec::new()
        } else {
            messages.read_cursors(&visible).await?
        };
        Ok(CatchUp {
            session: visible,
            messages: backlog,
            cursors,
        })
    }

    /// The highest `seq` of `session` handed to the client, live or by a catch-up.
    pub fn last_delivered(&self, session: SessionId) -> Option<i64> {
        self.delivered.get(&session).map(|d| d.last)
    }

    pub fn leave(&mut self, session: SessionId) {
        self.hub.unwatch_session(&self.sub, session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::bus::InProcessBus;
    use chatdesk_core::committer::{Committer, CommitterConfig, NoObserver};
    use chatdesk_core::domain::*;
    use chatdesk_core::identity::Role;
    use chatdesk_core::service::{FileSetup, Limits, OpenSession, SendMessage, UseCases};
    use chatdesk_core::store::memory::MemoryStore;

    /// The use cases on an empty in-memory store.
    fn uses() -> UseCases {
        let store = Arc::new(MemoryStore::new());
        let bus = Arc::new(InProcessBus::new(64));
        let (committer, _task) = Committer::spawn(
            store.clone(),
            bus.clone(),
            Arc::new(NoObserver),
            CommitterConfig::default(),
        );
        UseCases::new(
            store,
            bus,
            committer,
            Limits::default(),
            FileSetup::in_memory(),
        )
    }

    fn message(session: SessionId, seq: i64) -> Message {
        Message {
            id: MessageId::generate(),
            session_id: session,
            seq,
            sender: Party::User(UserId::parse("u").unwrap()),
            sender_type: SenderType::Customer,
            content: format!("m{seq}"),
            client_msg_id: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        }
    }

    fn created(owner: &Party, m: Message) -> Arc<Event> {
        Arc::new(Event::MessageCreated {
            business_id: BusinessId::default_tenant(),
            owner: owner.clone(),
            session_number: 1,
            message: m,
        })
    }

    #[tokio::test]
    async fn routing_follows_what_each_subscriber_may_see() {
        let hub = Hub::new(16, chatdesk_core::files::Links::new(b"k", 60));
        let alice = Principal::user(
            UserId::parse("alice").unwrap(),
            chatdesk_core::identity::Role::Customer,
            None,
        );
        let bob = Principal::user(
            UserId::parse("bob").unwrap(),
            chatdesk_core::identity::Role::Customer,
            None,
        );
        let agent = Principal::user(
            UserId::parse("ag").unwrap(),
            chatdesk_core::identity::Role::Agent,
            None,
        );
        let other_agent = Principal::user(
            UserId::parse("ag2").unwrap(),
            chatdesk_core::identity::Role::Agent,
            Some(BusinessId::parse("elsewhere").unwrap()),
        );
        let mut fa = Feed::for_principal(&hub, &uses().messages, &alice);
        let mut fb = Feed::for_principal(&hub, &uses().messages, &bob);
        let mut fagent = Feed::for_principal(&hub, &uses().messages, &agent);
        let mut fother = Feed::for_principal(&hub, &uses().messages, &other_agent);
        let s = SessionId::generate();
        hub.dispatch(created(&alice.party, message(s, 1)));
        assert!(fa.next().await.is_some());
        assert!(fagent.next().await.is_some());
        assert!(fb.sub.rx.try_recv().is_err(), "bob sees nothing of alice's");
        assert!(
            fother.sub.rx.try_recv().is_err(),
            "another tenant's agent sees nothing"
        );
        drop(fa);
        assert_eq!(hub.subscribers(), 3, "a dropped feed unregisters");
    }

    #[tokio::test]
    async fn duplicates_are_dropped_and_a_slow_subscriber_is_cut_off() {
        let hub = Hub::new(2, chatdesk_core::files::Links::new(b"k", 60));
        let owner = Party::User(UserId::parse("o").unwrap());
        let p = Principal::user(
            UserId::parse("o").unwrap(),
            chatdesk_core::identity::Role::Customer,
            None,
        );
        let mut feed = Feed::for_principal(&hub, &uses().messages, &p);
        let s = SessionId::generate();
        let m1 = message(s, 1);
        hub.dispatch(created(&owner, m1.clone()));
        hub.dispatch(created(&owner, m1));
        assert!(feed.next().await.is_some());
        assert!(feed.sub.rx.try_recv().is_ok_and(
            |e| matches!(&*e.event, Event::MessageCreated { message, .. } if message.seq == 1)
        ));
        assert!(!feed.mark(&message(s, 1)), "seq 1 was delivered");
        // A queue of two: the third undelivered event drops the subscriber.
        for seq in 2..=4 {
            hub.dispatch(created(&owner, message(s, seq)));
        }
        assert_eq!(hub.subscribers(), 0);
        assert!(feed.next().await.is_some());
        assert!(feed.next().await.is_some());
        assert!(
            feed.next().await.is_none(),
            "then the feed ends: the client must replay"
        );
    }

    #[tokio::test]
    async fn a_message_that_skips_ahead_comes_after_the_ones_it_skipped() {
        let (hub, uses) = (
            Hub::new(16, chatdesk_core::files::Links::new(b"k", 60)),
            uses(),
        );
        let ann = Principal::user(UserId::parse("ann").unwrap(), Role::Customer, None);
        let (session, _) = uses
            .sessions
            .open_session(&ann, OpenSession::default())
            .await
            .unwrap();
        let mut sent = Vec::new();
        for i in 1..=4 {
            let req = SendMessage {
                content: format!("m{i}"),
                ..SendMessage::default()
            };
            sent.push(
                uses.messages
                    .send_message(&ann, session.id, req)
                    .await
                    .unwrap()
                    .0,
            );
        }
        let mut feed = Feed::for_principal(&hub, &uses.messages, &ann);
        hub.dispatch(created(&ann.party, sent[0].clone()));
        // Another node's seq 4 overtakes this node's 2 and 3.
        hub.dispatch(created(&ann.party, sent[3].clone()));
        hub.dispatch(created(&ann.party, sent[1].clone()));
        hub.dispatch(created(&ann.party, sent[2].clone()));
        let mut seqs = Vec::new();
        for _ in 0..4 {
            match &*feed.next().await.unwrap().event {
                Event::MessageCreated { message, .. } => seqs.push(message.seq),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4]);
        let late = tokio::time::timeout(std::time::Duration::from_millis(50), feed.next()).await;
        assert!(late.is_err(), "the late 2 and 3 are not handed out again");
    }
}
