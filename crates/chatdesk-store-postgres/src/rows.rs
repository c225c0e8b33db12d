//! How PostgreSQL columns read: native TIMESTAMPTZ, JSONB and UUID. The parsing into domain
//! values is shared: `chatdesk_core::rows`.

use chatdesk_core::rows::{corrupt, Columns};
use chatdesk_core::store::StoreResult;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

pub use chatdesk_core::rows::{
    account, agent, api_key, beat, contact, delivery, department, due_delivery, message, session,
    webhook, AGENT_COLUMNS, CONTACT_COLUMNS, DELIVERY_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS,
};

/// A borrowed PostgreSQL row, readable by the shared parsers.
pub struct PgRowRef<'r>(pub &'r PgRow);

impl Columns for PgRowRef<'_> {
    fn text(&self, col: &str) -> StoreResult<Option<String>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn time(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn json(&self, col: &str) -> StoreResult<Option<serde_json::Value>> {
        self.0.try_get(col).map_err(corrupt)
    }
}

/// Every row of a result as a session.
pub fn sessions(rows: &[PgRow]) -> StoreResult<Vec<chatdesk_core::domain::Session>> {
    rows.iter().map(|r| session(&PgRowRef(r))).collect()
}

/// Every row of a result as a message.
pub fn messages(rows: &[PgRow]) -> StoreResult<Vec<chatdesk_core::domain::Message>> {
    rows.iter().map(|r| message(&PgRowRef(r))).collect()
}
