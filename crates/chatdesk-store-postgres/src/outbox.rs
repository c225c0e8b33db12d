//! The webhook outbox's writes, made inside the transaction of the change they describe.

use crate::db;
use chatdesk_core::domain::{SessionId, WebhookEvent};
use chatdesk_core::store::StoreResult;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Whether tenant `s.business_id` has a live webhook for event `$2`.
macro_rules! subscribed {
    () => {
        "EXISTS (SELECT 1 FROM webhooks w WHERE w.business_id = s.business_id \
         AND w.deleted_at IS NULL AND strpos(',' || w.events || ',', ',' || $2 || ',') > 0)"
    };
}

/// Entries for the messages a batch inserted (`$1`: the INSERT as a CTE named `inserted`,
/// returning `session_id, seq, created_at`), with event `$2`: one statement, one round trip.
pub const QUEUE_INSERTED: &str = concat!(
    "INSERT INTO webhook_outbox (business_id, event, session_id, seq, at) \
     SELECT s.business_id, $2, i.session_id, i.seq, i.created_at FROM inserted i \
     JOIN sessions s ON s.id = i.session_id WHERE ",
    subscribed!()
);

/// An entry for session `id`'s `event` (about its message or note `seq`, if any), if its
/// tenant has a webhook for it.
pub async fn queue(
    conn: &mut PgConnection,
    id: SessionId,
    event: WebhookEvent,
    seq: Option<i64>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(concat!(
        "INSERT INTO webhook_outbox (business_id, event, session_id, seq, at) \
         SELECT s.business_id, $2, s.id, $4, $3 FROM sessions s WHERE s.id = $1 AND ",
        subscribed!()
    ))
    .bind(id.as_uuid())
    .bind(event.as_str())
    .bind(at)
    .bind(seq)
    .execute(conn)
    .await
    .map(drop)
    .map_err(db)
}
