//! The `Store` contract: one suite of cases every backend must pass.
//!
//! A backend's test file calls [`contract_tests!`] with an async function that makes a fresh,
//! empty store (or `None` to skip, e.g. PostgreSQL without `CHATDESK_TEST_PG_URL`). Each case
//! runs on its own store; the fixture's teardown runs even when the case panics.

pub mod cases;

use chatdesk_core::store::Store;
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

pub type Teardown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A fresh store and what to do when the test is done with it.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub teardown: Option<Teardown>,
}

/// Make a fixture, run one case against it, tear down, then re-raise a panic if any.
pub async fn run<M, MF, C, CF>(make: M, case: C)
where
    M: FnOnce() -> MF,
    MF: Future<Output = Option<Fixture>>,
    C: FnOnce(Arc<dyn Store>) -> CF,
    CF: Future<Output = ()>,
{
    let Some(fixture) = make().await else {
        eprintln!("store not configured for this backend: case skipped");
        return;
    };
    let result = AssertUnwindSafe(case(fixture.store.clone()))
        .catch_unwind()
        .await;
    drop(fixture.store);
    if let Some(teardown) = fixture.teardown {
        teardown.await;
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

// `contract_tests!($make)`: one `#[tokio::test]` per contract case, each on a fresh store
// from `$make`. Written by build.rs from the cases it finds in `src/cases/`.
include!(concat!(env!("OUT_DIR"), "/contract_tests.rs"));
