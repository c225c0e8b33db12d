//! The webhook outbox's writes, made inside the transaction of the change they describe.

use crate::error::error;
use crate::micros;
use chatdesk_core::domain::WebhookEvent;
use chatdesk_core::store::StoreResult;
use chrono::{DateTime, Utc};
use rusqlite::params;

/// An entry for session `?1`, event `?2`, message `?3`, at `?4`: written only when the
/// session's tenant has a live webhook for the event.
const QUEUE: &str = "INSERT INTO webhook_outbox (business_id, event, session_id, seq, at) \
     SELECT s.business_id, ?2, s.id, ?3, ?4 FROM sessions s WHERE s.id = ?1 AND EXISTS \
     (SELECT 1 FROM webhooks w WHERE w.business_id = s.business_id AND w.deleted_at IS NULL \
      AND instr(',' || w.events || ',', ',' || ?2 || ',') > 0)";

/// Does any tenant have a webhook for `event`? Lets a batch with none skip its entries.
pub fn anyone_subscribes(conn: &rusqlite::Connection, event: WebhookEvent) -> StoreResult<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM webhooks WHERE deleted_at IS NULL \
         AND instr(',' || events || ',', ',' || ?1 || ',') > 0)",
    )
    .and_then(|mut stmt| stmt.query_row([event.as_str()], |r| r.get(0)))
    .map_err(error)
}

/// [`QUEUE`] for the session whose id is `session`.
pub fn queue(
    conn: &rusqlite::Connection,
    session: &[u8],
    event: WebhookEvent,
    seq: Option<i64>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached(QUEUE)
        .and_then(|mut stmt| stmt.execute(params![session, event.as_str(), seq, micros(at)]))
        .map(drop)
        .map_err(error)
}
