//! The hub: one task reads the Bus and hands each event to the subscribers it concerns —
//! those watching its session, its owner's connections, and its tenant's agents. Routing is
//! authorization: a subscriber is only ever registered for what its caller may see.
//!
//! Every subscriber has a bounded queue. One that cannot keep up is dropped (its client is
//! disconnected and recovers by replay), so memory never grows without bound.

use super::renderings::{Renderings, Slot};
use chatdesk_core::bus::{Bus, Event, Received};
use chatdesk_core::domain::{BusinessId, Party, SessionId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type SubId = u64;

/// An event as the hub hands it to its subscribers: the bus's event, and room for what each
/// of them would otherwise work out alike from it.
pub struct Dispatched {
    pub event: Arc<Event>,
    /// A message's `newMessage` data, rendered by the first Socket.IO connection that sends
    /// it (or by its sender's acknowledgement, `Renderings`) and sent as it is by the others
    /// (`deliver::render`).
    pub(super) new_message: Slot,
}

#[derive(Default)]
struct Registry {
    next_id: SubId,
    queues: HashMap<SubId, mpsc::Sender<Arc<Dispatched>>>,
    by_session: HashMap<SessionId, HashSet<SubId>>,
    by_party: HashMap<String, HashSet<SubId>>,
    /// Tenant-scoped identities' connections, by `party@tenant`: apart, so that an event
    /// formats that key only while someone is registered so.
    by_scoped_party: HashMap<String, HashSet<SubId>>,
    by_tenant: HashMap<String, HashSet<SubId>>,
    every_tenant: HashSet<SubId>,
}

impl Registry {
    fn remove(&mut self, id: SubId) {
        self.queues.remove(&id);
        for set in self
            .by_session
            .values_mut()
            .chain(self.by_party.values_mut())
            .chain(self.by_scoped_party.values_mut())
            .chain(self.by_tenant.values_mut())
        {
            set.remove(&id);
        }
        self.by_session.retain(|_, s| !s.is_empty());
        self.by_party.retain(|_, s| !s.is_empty());
        self.by_scoped_party.retain(|_, s| !s.is_empty());
        self.by_tenant.retain(|_, s| !s.is_empty());
        self.every_tenant.remove(&id);
    }

    /// Who an event concerns: the session's watchers, the owner's connections, the tenant's
    /// agents; each subscriber once.
    fn audience(
        &self,
        session: Option<SessionId>,
        owner: Option<&Party>,
        tenant: Option<&BusinessId>,
    ) -> HashSet<SubId> {
        let mut out: HashSet<SubId> = HashSet::new();
        if let Some(s) = session.and_then(|s| self.by_session.get(&s)) {
            out.extend(s);
        }
        if let Some(o) = owner {
            self.add_party(&mut out, o, tenant);
        }
        if let Some(t) = tenant {
            if let Some(agents) = self.by_tenant.get(t.as_str()) {
                out.extend(agents);
            }
            out.extend(&self.every_tenant);
        }
        out
    }

    /// The party's connections: unscoped ones, and those scoped to the event's tenant.
    fn add_party(&self, out: &mut HashSet<SubId>, party: &Party, tenant: Option<&BusinessId>) {
        if let Some(subs) = self.by_party.get(&party.key()) {
            out.extend(subs);
        }
        if self.by_scoped_party.is_empty() {
            return;
        }
        if let Some(subs) = tenant.and_then(|t| self.by_scoped_party.get(&scoped_key(party, t))) {
            out.extend(subs);
        }
    }
}

/// A tenant-scoped identity's registration key: it hears only its tenant's sessions.
fn scoped_key(party: &Party, tenant: &BusinessId) -> String {
    format!("{party}@{tenant}")
}

pub struct Hub {
    registry: Mutex<Registry>,
    queue_capacity: usize,
    /// Messages' renderings, shared with their senders' acknowledgements.
    pub renderings: Renderings,
    /// What signs the links to messages' files.
    pub links: chatdesk_core::files::Links,
}

/// A registration with the hub. Dropping it unregisters.
pub struct Subscription {
    pub id: SubId,
    hub: Arc<Hub>,
    pub rx: mpsc::Receiver<Arc<Dispatched>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.registry.lock().expect("hub lock").remove(self.id);
    }
}

impl Hub {
    pub fn new(queue_capacity: usize, links: chatdesk_core::files::Links) -> Arc<Self> {
        Arc::new(Self {
            registry: Mutex::default(),
            queue_capacity: queue_capacity.max(1),
            renderings: Renderings::default(),
            links,
        })
    }

    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let mut r = self.registry.lock().expect("hub lock");
        r.next_id += 1;
        let id = r.next_id;
        r.queues.insert(id, tx);
        Subscription {
            id,
            hub: self.clone(),
            rx,
        }
    }

    /// Events of sessions this party owns (its sessions, read receipts, typing, …); with a
    /// scope, only those of that tenant.
    pub fn watch_party(&self, sub: &Subscription, party: &Party, scope: Option<&BusinessId>) {
        let mut r = self.registry.lock().expect("hub lock");
        let registered = match scope {
            None => r.by_party.entry(party.key()),
            Some(t) => r.by_scoped_party.entry(scoped_key(party, t)),
        };
        registered.or_default().insert(sub.id);
    }

    /// Events of every session of a tenant (agents), or of every tenant (`None`: unscoped admins).
    pub fn watch_tenant(&self, sub: &Subscription, tenant: Option<&BusinessId>) {
        let mut r = self.registry.lock().expect("hub lock");
        match tenant {
            Some(t) => {
                r.by_tenant.entry(t.to_string()).or_default().insert(sub.id);
            }
            None => {
                r.every_tenant.insert(sub.id);
            }
        }
    }

    pub fn watch_session(&self, sub: &Subscription, session: SessionId) {
        self.registry
            .lock()
            .expect("hub lock")
            .by_session
            .entry(session)
            .or_default()
            .insert(sub.id);
    }

    pub fn unwatch_session(&self, sub: &Subscription, session: SessionId) {
        if let Some(set) = self
            .registry
            .lock()
            .expect("hub lock")
            .by_session
            .get_mut(&session)
        {
            set.remove(&sub.id);
        }
    }

    /// Drop every subscriber (at shutdown): their feeds end and clients reconnect elsewhere.
    pub fn close_all(&self) {
        let mut r = self.registry.lock().expect("hub lock");
        *r = Registry {
            next_id: r.next_id,
            ..Registry::default()
        };
    }

    pub fn subscribers(&self) -> usize {
        self.registry.lock().expect("hub lock").queues.len()
    }

    /// Hand one event to everyone it concerns. A full or closed queue drops its subscriber.
    pub fn dispatch(&self, event: Arc<Event>) {
        let mut r = self.registry.lock().expect("hub lock");
        let targets = match &*event {
            Event::MessageCreated {
                business_id,
                owner,
                message,
                ..
            } => r.audience(Some(message.session_id), Some(owner), Some(business_id)),
            Event::MessageRevised {
                business_id,
                owner,
                message,
                ..
            } => r.audience(Some(message.session_id), Some(owner), Some(business_id)),
            Event::ReadAdvanced {
                business_id,
                owner,
                session_id,
                reader,
                ..
            } => {
                let mut t = r.audience(Some(*session_id), Some(owner), Some(business_id));
                // The reader's other connections learn their unread count moved.
                r.add_party(&mut t, reader, Some(business_id));
                t
            }
            Event::Typing {
                business_id,
                owner,
                session_id,
                ..
            } => r.audience(Some(*session_id), Some(owner), Some(business_id)),
            Event::SessionCreated(s)
            | Event::SessionUpdated(s)
            | Event::SessionClosed(s)
            | Event::SessionAssigned(s) => {
                r.audience(Some(s.id), Some(&s.owner), Some(&s.business_id))
            }
            // A queue place is the waiting visitor's business only: its connections, scoped
            // to the session's tenant or not, and not the tenant's agents.
            Event::QueuePosition {
                business_id,
                owner,
                session_id,
                ..
            } => {
                let mut t = r.audience(Some(*session_id), None, None);
                r.add_party(&mut t, owner, Some(business_id));
                t
            }
            Event::SessionHandedOff { session: s, .. } => {
                r.audience(Some(s.id), Some(&s.owner), Some(&s.business_id))
            }
            Event::SessionRated {
                business_id,
                owner,
                rating,
            } => r.audience(Some(rating.session_id), Some(owner), Some(business_id)),
            // Private notes: the tenant's staff only, never the session's watchers or owner.
            Event::NoteCreated { business_id, .. } => r.audience(None, None, Some(business_id)),
            Event::VisitorLinked { visitor, .. } => {
                r.audience(None, Some(&Party::Visitor(*visitor)), None)
            }
            // For the nodes' caches, not for clients.
            Event::TenantSettingsChanged { .. } => return,
        };
        let new_message = match &*event {
            Event::MessageCreated { message, .. } => self.renderings.slot(message.id),
            _ => Slot::default(),
        };
        let dispatched = Arc::new(Dispatched { event, new_message });
        let mut dropped = Vec::new();
        for id in targets {
            if let Some(q) = r.queues.get(&id) {
                if q.try_send(dispatched.clone()).is_err() {
                    dropped.push(id);
                }
            }
        }
        for id in dropped {
            tracing::debug!(subscriber = id, "dropping a subscriber that cannot keep up");
            r.remove(id);
        }
    }

    /// Forward the Bus to subscribers until the Bus closes.
    pub fn run(self: Arc<Self>, bus: &dyn Bus) -> JoinHandle<()> {
        let mut rx = bus.subscribe();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Received::Event(event) => self.dispatch(event),
                    Received::Missed(n) => {
                        // Events were lost for everyone: drop every subscriber so each client
                        // reconnects and replays, rather than silently missing messages.
                        tracing::warn!(
                            missed = n,
                            "the hub fell behind the bus; disconnecting subscribers to replay"
                        );
                        let mut r = self.registry.lock().expect("hub lock");
                        let ids: Vec<_> = r.queues.keys().copied().collect();
                        for id in ids {
                            r.remove(id);
                        }
                    }
                    Received::Closed => break,
                }
            }
        })
    }
}
