//! The Store contract on PostgreSQL, when `CHATDESK_TEST_PG_URL` is set (CI always sets it).
//! Each case gets its own schema, dropped afterwards.

use chatdesk_store_postgres::PgStore;
use chatdesk_store_tests::{contract_tests, Fixture};
use std::sync::Arc;

async fn fresh() -> Option<Fixture> {
    let url = std::env::var("CHATDESK_TEST_PG_URL").ok()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let store = PgStore::connect(&url, Some(&schema))
        .await
        .unwrap_or_else(|e| {
            panic!("CHATDESK_TEST_PG_URL is set but PostgreSQL is not usable: {e}")
        });
    let pool_owner = store.clone();
    Some(Fixture {
        store: Arc::new(store),
        teardown: Some(Box::pin(async move {
            pool_owner.close().await;
            PgStore::drop_schema(&url, &schema)
                .await
                .expect("drop test schema");
        })),
    })
}

contract_tests!(fresh);
