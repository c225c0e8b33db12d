//! What the use cases' own tests share: a service on the in-memory store, with a real bus
//! and committer, and the people who call it.

use super::*;
use crate::bus::InProcessBus;
use crate::committer::{CommitterConfig, NoObserver};
use crate::store::memory::MemoryStore;

pub struct Desk {
    pub uses: UseCases,
    pub store: Arc<MemoryStore>,
}

impl std::ops::Deref for Desk {
    type Target = UseCases;
    fn deref(&self) -> &UseCases {
        &self.uses
    }
}

/// A service with nothing in it yet.
pub fn desk() -> Desk {
    let store = Arc::new(MemoryStore::new());
    let bus = Arc::new(InProcessBus::new(1024));
    let (committer, _task) = Committer::spawn(
        store.clone(),
        bus.clone(),
        Arc::new(NoObserver),
        CommitterConfig::default(),
    );
    Desk {
        uses: UseCases::new(
            store.clone(),
            bus.clone(),
            committer,
            Limits::default(),
            FileSetup::in_memory(),
        ),
        store,
    }
}

fn shop() -> Option<BusinessId> {
    Some(BusinessId::parse("shop").unwrap())
}

pub fn customer(name: &str) -> Principal {
    Principal::user(UserId::parse(name).unwrap(), Role::Customer, shop())
}

pub fn agent(name: &str) -> Principal {
    Principal::user(UserId::parse(name).unwrap(), Role::Agent, shop())
}

pub fn admin(name: &str) -> Principal {
    Principal::user(UserId::parse(name).unwrap(), Role::Admin, shop())
}

impl Desk {
    /// `p`'s open session, resumed or started.
    pub async fn open(&self, p: &Principal) -> Session {
        self.sessions
            .open_session(p, OpenSession::default())
            .await
            .unwrap()
            .0
    }

    /// A new session of `p`'s, never a resumed one.
    pub async fn open_new(&self, p: &Principal) -> Session {
        let req = OpenSession {
            force_new: true,
            ..OpenSession::default()
        };
        self.sessions.open_session(p, req).await.unwrap().0
    }

    pub async fn send(&self, p: &Principal, s: &Session, text: &str) -> ServiceResult<Message> {
        let req = SendMessage {
            content: text.into(),
            ..SendMessage::default()
        };
        self.messages
            .send_message(p, s.id, req)
            .await
            .map(|(m, _)| m)
    }
}
