//! The write path's inner loop on PostgreSQL: a whole batch in a fixed number of statements,
//! each a network round trip — lock the batch's sessions, look up retried client ids (only
//! if any), insert every message, update every session — instead of two or three per
//! message.
//!
//! Cross-node ordering: sessions are locked first, in id order (two nodes' committers whose
//! batches share sessions would otherwise lock them in opposite orders and deadlock), and
//! retries are looked up under those locks, so a concurrent batch cannot slip the same client
//! id in between.

use crate::{db, rows};
use chatdesk_core::domain::{Message, Party, SessionId, WebhookEvent};
use chatdesk_core::rows::corrupt;
use chatdesk_core::store::{AppendOutcome, NewMessage, SessionTally, StoreResult};
use rows::MESSAGE_COLUMNS;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;

pub async fn append(
    tx: &mut PgConnection,
    batch: &[NewMessage],
) -> StoreResult<Vec<AppendOutcome>> {
    let mut ids: Vec<uuid::Uuid> = batch.iter().map(|m| m.session_id.as_uuid()).collect();
    ids.sort_unstable();
    ids.dedup();
    // LockRows runs above the sort: rows are locked in id order.
    let locked = sqlx::query(
        "SELECT id, status = 'closed' AS closed, last_seq, owner FROM sessions \
         WHERE id = ANY($1) AND deleted_at IS NULL ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let mut sessions: HashMap<SessionId, SessionTally> = HashMap::new();
    for r in &locked {
        let id = SessionId::from_uuid(r.try_get("id").map_err(corrupt)?);
        let last_seq: i64 = r.try_get("last_seq").map_err(corrupt)?;
        let closed: bool = r.try_get("closed").map_err(corrupt)?;
        let owner: String = r.try_get("owner").map_err(corrupt)?;
        let owner = Party::from_key(&owner).map_err(|e| corrupt(e.message))?;
        sessions.insert(id, SessionTally::new(closed, last_seq, owner));
    }

    // Messages already stored under a sender's client id this batch repeats.
    let mut key_sessions = Vec::new();
    let mut key_senders = Vec::new();
    let mut keys = Vec::new();
    for m in batch {
        if let Some(key) = &m.client_msg_id {
            key_sessions.push(m.session_id.as_uuid());
            key_senders.push(m.sender.key());
            keys.push(key.as_str());
        }
    }
    let mut stored: HashMap<(SessionId, String, String), Message> = HashMap::new();
    if !keys.is_empty() {
        let found = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE (session_id, sender, client_msg_id) \
             IN (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]))"
        ))
        .bind(&key_sessions)
        .bind(&key_senders)
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for r in &found {
            let m = rows::message(&rows::PgRowRef(r))?;
            if let Some(key) = &m.client_msg_id {
                stored.insert(
                    (m.session_id, m.sender.key(), key.as_str().to_owned()),
                    m.clone(),
                );
            }
        }
    }

    // Each message in arrival order: a repeat, refused, or the session's next seq.
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut created: Vec<Message> = Vec::new();
    for m in batch {
        let key = m
            .client_msg_id
            .as_ref()
            .map(|k| (m.session_id, m.sender.key(), k.as_str().to_owned()));
        if let Some(original) = key.as_ref().and_then(|k| stored.get(k)) {
            outcomes.push(AppendOutcome::Duplicate(original.clone()));
            continue;
        }
        let Some(state) = sessions.get_mut(&m.session_id) else {
            outcomes.push(AppendOutcome::SessionMissing);
            continue;
        };
        let message = match state.accept(m) {
            Ok(message) => message,
            Err(refused) => {
                outcomes.push(refused.into());
                continue;
            }
        };
        // A later repeat of this client id in the batch answers with this message.
        if let Some(key) = key {
            stored.insert(key, message.clone());
        }
        created.push(message.clone());
        outcomes.push(AppendOutcome::Created(message));
    }
    if created.is_empty() {
        return Ok(outcomes);
    }

    // The messages and, for tenants with a webhook for them, their outbox entries.
    sqlx::query(&format!(
        "WITH inserted AS (INSERT INTO messages \
           (session_id, seq, id, sender, sender_type, content, client_msg_id, created_at, attachments) \
         SELECT * FROM unnest($1::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::text[], \
                              $8::text[], $9::timestamptz[], $10::text[]) \
         RETURNING session_id, seq, created_at) {}",
        crate::outbox::QUEUE_INSERTED
    ))
    .bind(created.iter().map(|m| m.session_id.as_uuid()).collect::<Vec<_>>())
    .bind(WebhookEvent::MessageCreated.as_str())
    .bind(created.iter().map(|m| m.seq).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.id.as_uuid()).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.sender.key()).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.sender_type.as_str()).collect::<Vec<_>>())
    .bind(created.iter().map(|m| m.content.as_str()).collect::<Vec<_>>())
    .bind(
        created
            .iter()
            .map(|m| m.client_msg_id.as_ref().map(|c| c.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(created.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .bind(
        created
            .iter()
            .map(|m| chatdesk_core::rows::attachments_json(&m.attachments))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;

    let touched: Vec<(&SessionId, &SessionTally)> =
        sessions.iter().filter(|(_, s)| s.added > 0).collect();
    sqlx::query(
        "UPDATE sessions s SET last_seq = v.last_seq, message_count = s.message_count + v.n, \
         last_message_at = v.at, last_activity_at = v.at, updated_at = v.at, \
         status = CASE WHEN v.claim IS NOT NULL AND s.status = 'waiting' THEN 'active' ELSE s.status END, \
         agent_id = COALESCE(s.agent_id, v.claim) \
         FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::timestamptz[], $5::text[]) \
              AS v(id, last_seq, n, at, claim) \
         WHERE s.id = v.id",
    )
    .bind(touched.iter().map(|(id, _)| id.as_uuid()).collect::<Vec<_>>())
    .bind(touched.iter().map(|(_, s)| s.last_seq()).collect::<Vec<_>>())
    .bind(touched.iter().map(|(_, s)| s.added).collect::<Vec<_>>())
    .bind(touched.iter().map(|(_, s)| s.latest).collect::<Vec<_>>())
    .bind(
        touched
            .iter()
            .map(|(_, s)| s.claim.as_ref().map(|a| a.as_str()))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(outcomes)
}
