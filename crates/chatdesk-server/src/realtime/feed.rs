//! A subscriber's side: events from the hub in order, each message at most once, and
//! gap-free catch-up when a client joins a session from a `seq` it last saw.
//!
//! Catch-up subscribes first, then reads the store, then drops from the live queue whatever
//! the read already covered: a message committed during the read is in the queue, one
//! committed before is in the read, and the per-session delivered range removes the overlap.
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
use std::collections::HashMap;
use std::sync::Arc;

/// Most messages a single catch-up sends; a client further behind pages with the REST API.
pub const MAX_REPLAY: usize = 10_000;
/// Most message text a single catch-up holds: a client that asks for a long history and
/// never reads it must not make the server hold all of it.
pub const MAX_REPLAY_BYTES: usize = 4 << 20;

pub struct Feed {
    hub: Arc<Hub>,
    sub: Subscription,
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
    pub fn for_principal(hub: &Arc<Hub>, p: &Principal) -> Self {
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
            delivered: HashMap::new(),
        }
    }

    /// A feed of nothing yet (watch sessions with `join`).
    pub fn empty(hub: &Arc<Hub>) -> Self {
        Self {
            hub: hub.clone(),
            sub: hub.subscribe(),
            delivered: HashMap::new(),
        }
    }

    /// The next event to deliver, or `None` when the hub dropped this feed (it fell behind,
    /// or the server is stopping): the client must reconnect and replay.
    pub async fn next(&mut self) -> Option<Arc<Dispatched>> {
        loop {
            let event = self.sub.rx.recv().await?;
            if let Event::MessageCreated { message, .. } = &*event.event {
                if !self.mark(message) {
                    continue;
                }
            }
            return Some(event);
        }
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
    use chatdesk_core::domain::*;

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
        let hub = Hub::new(16);
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
        let mut fa = Feed::for_principal(&hub, &alice);
        let mut fb = Feed::for_principal(&hub, &bob);
        let mut fagent = Feed::for_principal(&hub, &agent);
        let mut fother = Feed::for_principal(&hub, &other_agent);
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
        let hub = Hub::new(2);
        let owner = Party::User(UserId::parse("o").unwrap());
        let p = Principal::user(
            UserId::parse("o").unwrap(),
            chatdesk_core::identity::Role::Customer,
            None,
        );
        let mut feed = Feed::for_principal(&hub, &p);
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
}
