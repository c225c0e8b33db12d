//! What crosses Redis: an event, its node and that node's count of the events it published.

use chatdesk_core::bus::Event;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub node: uuid::Uuid,
    /// 1, 2, 3, … per node: a skipped number is an event lost on the way.
    pub n: u64,
    pub event: Event,
}
