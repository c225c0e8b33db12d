//! Sessions recently sent to, for the send path's authorization check: a database read saved
//! on every send. Only what does not change is trusted from here (tenant, number, and the
//! owner, which changes only when a visitor is linked, which clears them all); the write
//! itself refuses closed and deleted sessions.

use crate::domain::{Session, SessionId};
use std::collections::HashMap;

/// Most sessions remembered before starting over.
const MOST: usize = 100_000;
/// Most bytes remembered before starting over: a session's metadata is the client's to fill
/// (up to a request body), so counting sessions alone does not bound it.
const MOST_BYTES: usize = 32 << 20;

#[derive(Default)]
pub struct SendTargets {
    sessions: HashMap<SessionId, Session>,
    bytes: usize,
}

impl SendTargets {
    pub fn get(&self, id: SessionId) -> Option<Session> {
        self.sessions.get(&id).cloned()
    }

    pub fn remember(&mut self, s: Session) {
        let size = size(&s);
        if self.sessions.len() >= MOST || self.bytes + size > MOST_BYTES {
            self.clear();
        }
        self.bytes += size;
        self.sessions.insert(s.id, s);
    }

    pub fn forget(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.remove(&id) {
            self.bytes = self.bytes.saturating_sub(size(&s));
        }
    }

    pub fn clear(&mut self) {
        self.sessions.clear();
        self.bytes = 0;
    }
}

/// Roughly the bytes a remembered session holds.
fn size(s: &Session) -> usize {
    std::mem::size_of::<Session>()
        + s.metadata.to_string().len()
        + s.topic.as_ref().map_or(0, |t| t.as_str().len())
        + s.title.as_ref().map_or(0, |t| t.as_str().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Party, UserId};

    #[test]
    fn remembered_sessions_are_bounded_in_bytes() {
        let mut targets = SendTargets::default();
        let big = serde_json::json!({"blob": "x".repeat(1 << 20)});
        for _ in 0..100 {
            let mut s = Session::sample(Party::User(UserId::parse("u").unwrap()), "shop");
            s.metadata = big.clone();
            targets.remember(s);
            assert!(targets.bytes <= MOST_BYTES);
        }
        assert!(targets.sessions.len() < 40, "{}", targets.sessions.len());
    }
}
