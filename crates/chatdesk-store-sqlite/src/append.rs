//! The write path's inner loop: a whole batch of messages in a fixed number of statements.
//!
//! sqlx runs each SQLite connection on its own thread, so every statement is a round trip
//! between threads; per-message statements made that hand-off the limit of the committer.
//! Here a batch costs: one look-up of client ids (only if any), one read of the sessions'
//! states, one UPDATE that hands every session its range of seqs, and one multi-row INSERT.

use crate::{db, micros, rows};
use chatdesk_core::domain::{Message, SenderType, SessionId};
use chatdesk_core::rows::corrupt;
use chatdesk_core::store::{AppendOutcome, NewMessage, StoreResult};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::HashMap;

/// Rows per INSERT statement (8 parameters each, well under SQLite's limit).
const INSERT_CHUNK: usize = 500;

pub async fn append(
    conn: &mut SqliteConnection,
    batch: &[NewMessage],
) -> StoreResult<Vec<AppendOutcome>> {
    let mut outcomes: Vec<Option<AppendOutcome>> = vec![None; batch.len()];

    // 1. Retries of messages already stored.
    let keyed: Vec<usize> = (0..batch.len())
        .filter(|&i| batch[i].client_msg_id.is_some())
        .collect();
    let mut stored: HashMap<(SessionId, String), Message> = HashMap::new();
    if !keyed.is_empty() {
        // One (session, key) test per message, OR-ed: SQLite answers each from the
        // (session_id, client_msg_id) index (a row-value IN list would scan the table).
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {} FROM messages WHERE ",
            rows::MESSAGE_COLUMNS
        ));
        for (n, &i) in keyed.iter().enumerate() {
            if n > 0 {
                q.push(" OR ");
            }
            q.push("(session_id = ")
                .push_bind(batch[i].session_id.as_uuid());
            q.push(" AND client_msg_id = ")
                .push_bind(
                    batch[i]
                        .client_msg_id
                        .as_ref()
                        .map(|c| c.as_str().to_owned()),
                )
                .push(")");
        }
        for r in q.build().fetch_all(&mut *conn).await.map_err(db)? {
            let m = rows::message(&rows::SqliteRowRef(&r))?;
            if let Some(key) = m.client_msg_id.clone() {
                stored.insert((m.session_id, key.as_str().to_owned()), m);
            }
        }
    }

    // 2. Which sessions exist, and which are closed.
    let mut sessions: Vec<SessionId> = batch.iter().map(|m| m.session_id).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT id, status FROM sessions WHERE deleted_at IS NULL AND id IN (");
    let mut ids = q.separated(", ");
    for s in &sessions {
        ids.push_bind(s.as_uuid());
    }
    q.push(")");
    let mut closed: HashMap<SessionId, bool> = HashMap::new();
    for r in q.build().fetch_all(&mut *conn).await.map_err(db)? {
        let id: uuid::Uuid = r.try_get("id").map_err(corrupt)?;
        let status: String = r.try_get("status").map_err(corrupt)?;
        closed.insert(SessionId::from_uuid(id), status == "closed");
    }

    // 3. Decide each message: duplicate, refused, or accepted (first of its key in the batch).
    let mut first_of_key: HashMap<(SessionId, String), usize> = HashMap::new();
    let mut accepted: Vec<usize> = Vec::new();
    let mut duplicate_of: Vec<(usize, usize)> = Vec::new();
    for (i, m) in batch.iter().enumerate() {
        let key = m
            .client_msg_id
            .as_ref()
            .map(|k| (m.session_id, k.as_str().to_owned()));
        if let Some(key) = &key {
            if let Some(original) = stored.get(key) {
                outcomes[i] = Some(AppendOutcome::Duplicate(original.clone()));
                continue;
            }
        }
        match closed.get(&m.session_id) {
            None => outcomes[i] = Some(AppendOutcome::SessionMissing),
            // The system may note what happened (e.g. "closed") in a session just closed.
            Some(true) if m.sender_type != SenderType::System => {
                outcomes[i] = Some(AppendOutcome::SessionClosed)
            }
            Some(_) => match key.as_ref().and_then(|k| first_of_key.get(k)) {
                Some(&first) => duplicate_of.push((i, first)),
                None => {
                    if let Some(k) = key {
                        first_of_key.insert(k, i);
                    }
                    accepted.push(i);
                }
            },
        }
    }
    if accepted.is_empty() {
        return Ok(finish(outcomes, &duplicate_of));
    }

    // 4. One UPDATE gives every session its range of seqs (and lets a staff reply claim a
    //    waiting session: the first claimer in the batch, as in arrival order).
    let mut per_session: Vec<(SessionId, i64, i64, Option<&str>)> = Vec::new(); // (id, count, latest time, claim)
    for &i in &accepted {
        let m = &batch[i];
        match per_session.iter_mut().find(|(s, ..)| *s == m.session_id) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 = entry.2.max(micros(m.at));
                if entry.3.is_none() {
                    entry.3 = m.claim_for_agent.as_ref().map(|a| a.as_str());
                }
            }
            None => per_session.push((
                m.session_id,
                1,
                micros(m.at),
                m.claim_for_agent.as_ref().map(|a| a.as_str()),
            )),
        }
    }
    // The batch's per-session figures join the sessions table by primary key (UPDATE … FROM),
    // so the cost grows with the batch, not with its square (a CASE per column compared
    // every row against every session).
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "UPDATE sessions SET last_seq = sessions.last_seq + v.n, \
         message_count = sessions.message_count + v.n, \
         last_message_at = v.at, last_activity_at = v.at, updated_at = v.at, \
         status = CASE WHEN v.claim IS NOT NULL AND sessions.status = 'waiting' \
                  THEN 'active' ELSE sessions.status END, \
         agent_id = COALESCE(sessions.agent_id, v.claim) \
         FROM (SELECT column1 AS id, column2 AS n, column3 AS at, column4 AS claim FROM (",
    );
    q.push_values(&per_session, |mut row, (id, n, at, claim)| {
        row.push_bind(id.as_uuid())
            .push_bind(*n)
            .push_bind(*at)
            .push_bind(claim.map(str::to_owned));
    });
    q.push(")) AS v WHERE sessions.id = v.id");
    q.push(" RETURNING id, last_seq");
    let mut next_seq: HashMap<SessionId, i64> = HashMap::new();
    for r in q.build().fetch_all(&mut *conn).await.map_err(db)? {
        let id = SessionId::from_uuid(r.try_get("id").map_err(corrupt)?);
        let last: i64 = r.try_get("last_seq").map_err(corrupt)?;
        let n = per_session
            .iter()
            .find(|(s, ..)| *s == id)
            .map_or(0, |e| e.1);
        next_seq.insert(id, last - n + 1);
    }

    // 5. The messages, with their seqs, in as few INSERTs as the parameter limit allows.
    let mut created: Vec<(usize, Message)> = Vec::with_capacity(accepted.len());
    for &i in &accepted {
        let m = &batch[i];
        let seq = next_seq
            .get_mut(&m.session_id)
            .ok_or_else(|| corrupt("a session vanished inside its transaction"))?;
        created.push((
            i,
            Message {
                id: m.id,
                session_id: m.session_id,
                seq: *seq,
                sender: m.sender.clone(),
                sender_type: m.sender_type,
                content: m.content.clone(),
                client_msg_id: m.client_msg_id.clone(),
                created_at: m.at,
            },
        ));
        *seq += 1;
    }
    for chunk in created.chunks(INSERT_CHUNK) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO messages (session_id, seq, id, sender, sender_type, content, client_msg_id, created_at) ");
        q.push_values(chunk, |mut row, (_, m)| {
            row.push_bind(m.session_id.as_uuid())
                .push_bind(m.seq)
                .push_bind(m.id.as_uuid())
                .push_bind(m.sender.key())
                .push_bind(m.sender_type.as_str())
                .push_bind(m.content.clone())
                .push_bind(m.client_msg_id.as_ref().map(|c| c.as_str().to_owned()))
                .push_bind(micros(m.created_at));
        });
        q.build().execute(&mut *conn).await.map_err(db)?;
    }
    for (i, m) in created {
        outcomes[i] = Some(AppendOutcome::Created(m));
    }
    Ok(finish(outcomes, &duplicate_of))
}

/// In-batch repeats of a key answer with the message their first occurrence created.
fn finish(
    mut outcomes: Vec<Option<AppendOutcome>>,
    duplicate_of: &[(usize, usize)],
) -> Vec<AppendOutcome> {
    for &(i, first) in duplicate_of {
        outcomes[i] = match &outcomes[first] {
            Some(AppendOutcome::Created(m)) => Some(AppendOutcome::Duplicate(m.clone())),
            other => other.clone(),
        };
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every message has an outcome"))
        .collect()
}
