//! Telling a lost event from a late one: each node numbers the events it publishes, and a
//! number skipped means events that never arrived here.

use crate::envelope::Envelope;
use chatdesk_core::bus::Event;
use std::collections::HashMap;

/// Most nodes remembered; past it (nodes come and go with restarts) the oldest count is
/// forgotten all at once, which costs at most one unnoticed gap per node.
const MAX_NODES: usize = 1024;

pub enum Arrival {
    /// Hand this event on.
    Deliver(Event),
    /// Hand this event on, after telling subscribers that `lost` events never arrived.
    AfterLoss { lost: u64, event: Event },
}

#[derive(Default)]
pub struct Order {
    last: HashMap<uuid::Uuid, u64>,
}

impl Order {
    /// After a reconnection nothing is known about what came before.
    pub fn forget(&mut self) {
        self.last.clear();
    }

    pub fn arrive(&mut self, envelope: Envelope) -> Arrival {
        if self.last.len() >= MAX_NODES && !self.last.contains_key(&envelope.node) {
            self.last.clear();
        }
        let lost = match self.last.insert(envelope.node, envelope.n) {
            Some(last) if envelope.n > last + 1 => envelope.n - last - 1,
            _ => 0,
        };
        match lost {
            0 => Arrival::Deliver(envelope.event),
            lost => Arrival::AfterLoss {
                lost,
                event: envelope.event,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::domain::{UserId, VisitorId};

    fn envelope(node: uuid::Uuid, n: u64) -> Envelope {
        Envelope {
            node,
            n,
            event: Event::VisitorLinked {
                visitor: VisitorId::from_uuid(uuid::Uuid::new_v4()),
                user: UserId::parse("u").unwrap(),
            },
        }
    }

    #[test]
    fn a_skipped_number_is_reported_lost_and_a_new_node_is_not() {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let mut order = Order::default();
        assert!(matches!(order.arrive(envelope(a, 1)), Arrival::Deliver(_)));
        assert!(matches!(order.arrive(envelope(a, 2)), Arrival::Deliver(_)));
        // A node first heard of mid-stream (this one joined late) has lost nothing here.
        assert!(matches!(order.arrive(envelope(b, 40)), Arrival::Deliver(_)));
        assert!(matches!(
            order.arrive(envelope(a, 5)),
            Arrival::AfterLoss { lost: 2, .. }
        ));
        order.forget();
        assert!(matches!(order.arrive(envelope(a, 9)), Arrival::Deliver(_)));
    }
}
