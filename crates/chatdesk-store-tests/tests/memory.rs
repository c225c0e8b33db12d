//! The Store contract on the in-memory store the core's own tests run on: it must behave as
//! the real stores do, or those tests would prove nothing.

use chatdesk_core::store::memory::MemoryStore;
use chatdesk_store_tests::{contract_tests, Fixture};
use std::sync::Arc;

async fn fresh() -> Option<Fixture> {
    Some(Fixture {
        store: Arc::new(MemoryStore::new()),
        teardown: None,
    })
}

contract_tests!(fresh);
