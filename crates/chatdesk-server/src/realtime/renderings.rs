//! A message's `newMessage` data, rendered once for its sender's acknowledgement and for every
//! Socket.IO connection the hub delivers it to: both are the same JSON. They meet here by
//! message id, and whichever comes first renders it; the other sends the same text instead
//! of rendering it again.

use chatdesk_core::domain::MessageId;
use rustc_hash::FxBuildHasher;
use serde_json::value::RawValue;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

/// Room for one message's rendering.
pub type Slot = Arc<OnceLock<Box<RawValue>>>;

/// Messages whose slots are kept; an older one's late comer renders it again. The two sides
/// of a message come within milliseconds of each other (the committer answers the sender,
/// then publishes the event), far inside what this many messages take to arrive.
const KEPT: usize = 4096;

/// The slots of the most recent messages. Message ids are the server's own (UUIDv7), so a
/// fast hash is safe.
#[derive(Default)]
pub struct Renderings {
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    by_id: HashMap<MessageId, Slot, FxBuildHasher>,
    oldest_first: VecDeque<MessageId>,
}

impl Renderings {
    /// The slot of message `id`: the one the other side already made, or a new one.
    pub fn slot(&self, id: MessageId) -> Slot {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = recent.by_id.get(&id) {
            return slot.clone();
        }
        let slot = Slot::default();
        recent.by_id.insert(id, slot.clone());
        recent.oldest_first.push_back(id);
        if recent.oldest_first.len() > KEPT {
            if let Some(old) = recent.oldest_first.pop_front() {
                recent.by_id.remove(&old);
            }
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_a_message_share_its_slot_while_it_is_recent() {
        let r = Renderings::default();
        let first = MessageId::generate();
        let a = r.slot(first);
        assert!(Arc::ptr_eq(&a, &r.slot(first)));
        assert!(!Arc::ptr_eq(&a, &r.slot(MessageId::generate())));
        for _ in 0..KEPT {
            r.slot(MessageId::generate());
        }
        assert!(!Arc::ptr_eq(&a, &r.slot(first)), "forgotten once old");
        assert!(r.recent.lock().unwrap().by_id.len() <= KEPT);
    }
}
