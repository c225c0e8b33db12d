//! The write path's inner loop: a whole batch of messages as one transaction, run on the
//! writer connection's handle from the committer's own thread (`crate::writer`).
//!
//! With no thread hand-off per statement, the batch is plain prepared statements: per
//! message a look-up of its client id (only if it has one), an INSERT, a row in the search
//! index's backlog (`crate::search_backlog`: the index itself is written later) and, when
//! some tenant has a webhook for new messages, its outbox entry; per session one read of its
//! state and one UPDATE of its counters.
//!
//! No statement here fires a trigger. A trigger makes its statement a statement transaction
//! (a savepoint and a journal of every page it touches). The counter UPDATE names `status`
//! and `agent_id` (which the queue-length triggers watch) only for a session a staff reply
//! claims. Messages are handled in arrival order
//! and inserted at once, so a sender's repeat of a client id later in the same batch finds the row
//! its first occurrence wrote, exactly as a retry in a later batch would.

use crate::error::error;
use crate::micros;
use crate::rows;
use crate::search_backlog::{self, SearchBacklog};
use chatdesk_core::domain::{Party, SessionId, WebhookEvent};
use chatdesk_core::rows::corrupt;
use chatdesk_core::store::{AppendOutcome, NewMessage, SessionTally, StoreResult};
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashMap;

/// Append `batch`; `backlog` is told how many messages await their search entry.
pub fn append(
    tx: &Transaction<'_>,
    batch: &[NewMessage],
    backlog: &SearchBacklog,
) -> StoreResult<Vec<AppendOutcome>> {
    let mut find_key = tx
        .prepare_cached(&format!(
            "SELECT {} FROM messages WHERE session_id = ?1 AND sender = ?2 AND client_msg_id = ?3",
            rows::MESSAGE_COLUMNS
        ))
        .map_err(error)?;
    let mut read_session = tx
        .prepare_cached(
            "SELECT status = 'closed', last_seq, owner FROM sessions WHERE id = ?1 AND deleted_at IS NULL",
        )
        .map_err(error)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO messages (session_id, seq, id, sender, sender_type, content, client_msg_id, \
             created_at, attachments) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(error)?;
    let mut await_index = tx.prepare_cached(search_backlog::RECORD).map_err(error)?;

    let outbox = crate::outbox::anyone_subscribes(tx, WebhookEvent::MessageCreated)?;
    // Sessions in the order the batch first names them; `None`: missing or deleted.
    let mut sessions: HashMap<SessionId, Option<SessionTally>> = HashMap::new();
    let mut order: Vec<SessionId> = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    for m in batch {
        let sid = m.session_id.as_uuid().into_bytes();
        let key = m.client_msg_id.as_ref().map(|k| k.as_str());
        if let Some(key) = key {
            let sender = m.sender.key();
            static COLUMNS: rows::StatementColumns = rows::StatementColumns::new();
            let stored = rows::first(
                &mut find_key,
                &COLUMNS,
                params![&sid[..], sender, key],
                |r| rows::message(r),
            )?;
            if let Some(original) = stored {
                outcomes.push(AppendOutcome::Duplicate(original));
                continue;
            }
        }
        let state = match sessions.get_mut(&m.session_id) {
            Some(state) => state,
            None => {
                let state = read_session
                    .query_row(params![&sid[..]], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?))
                    })
                    .optional()
                    .map_err(error)?
                    .map(|(closed, last_seq, owner)| {
                        Party::from_key(&owner)
                            .map(|owner| SessionTally::new(closed, last_seq, owner))
                            .map_err(|e| corrupt(e.message))
                    })
                    .transpose()?;
                order.push(m.session_id);
                sessions.entry(m.session_id).or_insert(state)
            }
        };
        let Some(state) = state else {
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
        insert
            .execute(params![
                &sid[..],
                message.seq,
                &message.id.as_uuid().into_bytes()[..],
                message.sender.key(),
                message.sender_type.as_str(),
                message.content,
                key,
                micros(message.created_at),
                chatdesk_core::rows::attachments_json(&message.attachments),
            ])
            .map_err(error)?;
        await_index
            .execute(params![&sid[..], message.seq])
            .map_err(error)?;
        if outbox {
            crate::outbox::queue(
                tx,
                &sid,
                WebhookEvent::MessageCreated,
                Some(message.seq),
                message.created_at,
            )?;
        }
        outcomes.push(AppendOutcome::Created(message));
    }

    // Each session's counters once; a staff reply claims a waiting session (the first
    // claimer in the batch, as in arrival order).
    let mut count = tx
        .prepare_cached(
            "UPDATE sessions SET last_seq = ?2, message_count = message_count + ?3, \
             last_message_at = ?4, last_activity_at = ?4, updated_at = ?4 WHERE id = ?1",
        )
        .map_err(error)?;
    let mut count_and_claim = tx
        .prepare_cached(
            "UPDATE sessions SET last_seq = ?2, message_count = message_count + ?3, \
             last_message_at = ?4, last_activity_at = ?4, updated_at = ?4, \
             status = CASE WHEN status = 'waiting' THEN 'active' ELSE status END, \
             agent_id = COALESCE(agent_id, ?5) \
             WHERE id = ?1",
        )
        .map_err(error)?;
    for id in order {
        let Some(Some(s)) = sessions.get(&id) else {
            continue;
        };
        if s.added == 0 {
            continue;
        }
        let (id, latest) = (id.as_uuid().into_bytes(), s.latest.map(micros));
        match &s.claim {
            None => count.execute(params![&id[..], s.last_seq(), s.added, latest]),
            Some(agent) => count_and_claim.execute(params![
                &id[..],
                s.last_seq(),
                s.added,
                latest,
                agent.as_str()
            ]),
        }
        .map_err(error)?;
    }
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, AppendOutcome::Created(_)))
        .count();
    backlog.grew(created);
    Ok(outcomes)
}
