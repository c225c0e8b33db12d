//! Messages, read cursors and unread counts in memory.

use super::*;
use crate::analytics::Beat;

#[async_trait]
impl MessageStore for MemoryStore {
    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        let mut state = self.lock();
        // Written only once the whole batch is known to be good: a failure writes nothing.
        let mut staged: Vec<Message> = Vec::new();
        let mut tallies: Vec<(SessionId, SessionTally)> = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for m in batch {
            if let Some(key) = &m.client_msg_id {
                let original = state
                    .messages
                    .get(&m.session_id)
                    .into_iter()
                    .flatten()
                    .chain(staged.iter().filter(|o| o.session_id == m.session_id))
                    .find(|o| o.sender == m.sender && o.client_msg_id.as_ref() == Some(key));
                if let Some(original) = original {
                    outcomes.push(AppendOutcome::Duplicate(original.clone()));
                    continue;
                }
            }
            let Some(session) = state.session(m.session_id) else {
                outcomes.push(AppendOutcome::SessionMissing);
                continue;
            };
            let (closed, last_seq) = (session.status == SessionStatus::Closed, session.last_seq);
            let owner = session.owner.clone();
            let at = match tallies.iter().position(|(id, _)| *id == m.session_id) {
                Some(at) => at,
                None => {
                    tallies.push((m.session_id, SessionTally::new(closed, last_seq, owner)));
                    tallies.len() - 1
                }
            };
            let message = match tallies[at].1.accept(m) {
                Ok(message) => message,
                Err(refused) => {
                    outcomes.push(refused.into());
                    continue;
                }
            };
            if state.message_ids.contains(&message.id) || staged.iter().any(|o| o.id == message.id)
            {
                return Err(StoreError::Conflict(format!(
                    "message {} exists",
                    message.id
                )));
            }
            staged.push(message.clone());
            outcomes.push(AppendOutcome::Created(message));
        }
        for message in staged {
            state.message_ids.insert(message.id);
            let (id, seq, at) = (message.session_id, message.seq, message.created_at);
            state.messages.entry(id).or_default().push(message);
            state.queue(id, WebhookEvent::MessageCreated, Some(seq), at);
        }
        for (id, tally) in tallies.into_iter().filter(|(_, t)| t.added > 0) {
            let s = state.session_mut(id).ok_or_else(|| missing("session"))?;
            s.last_seq = tally.last_seq();
            s.message_count += tally.added;
            if let Some(latest) = tally.latest {
                s.last_message_at = Some(latest);
                s.last_activity_at = latest;
                s.updated_at = latest;
            }
            if let Some(agent) = tally.claim {
                if s.status == SessionStatus::Waiting {
                    s.status = SessionStatus::Active;
                }
                s.agent_id.get_or_insert(agent);
            }
        }
        Ok(outcomes)
    }

    async fn revise_message(
        &self,
        session: SessionId,
        seq: i64,
        revision: &crate::domain::Revision,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let mut state = self.lock();
        let Some(m) = state.messages.get_mut(&session).and_then(|ms| {
            ms.iter_mut()
                .find(|m| m.seq == seq && m.deleted_at.is_none())
        }) else {
            return Ok(None);
        };
        match revision {
            crate::domain::Revision::Edit(content) => {
                m.content = content.as_str().to_owned();
                m.edited_at = Some(at);
            }
            crate::domain::Revision::Delete => {
                m.content = String::new();
                m.attachments.clear();
                m.deleted_at = Some(at);
            }
        }
        let revised = m.clone();
        state.queue(session, revision.webhook_event(), Some(seq), at);
        Ok(Some(revised))
    }

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>> {
        let state = self.lock();
        let all = state.messages.get(&session).map_or(&[][..], Vec::as_slice);
        Ok(match range {
            MessageRange::After { after, limit } => all
                .iter()
                .filter(|m| m.seq > after)
                .take(limit as usize)
                .cloned()
                .collect(),
            MessageRange::Before {
                before,
                after,
                limit,
            } => {
                let slice: Vec<&Message> = all
                    .iter()
                    .filter(|m| m.seq < before && m.seq > after)
                    .collect();
                let skip = slice.len().saturating_sub(limit as usize);
                slice.into_iter().skip(skip).cloned().collect()
            }
        })
    }

    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        _at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut state = self.lock();
        let cursor = state
            .cursors
            .entry((session, reader.key()))
            .or_insert(up_to_seq);
        *cursor = (*cursor).max(up_to_seq);
        Ok(*cursor)
    }

    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>> {
        let state = self.lock();
        let key = reader.key();
        let mut sessions: Vec<&Session> = state
            .live_sessions()
            .filter(|s| tenant.is_none_or(|t| &s.business_id == t))
            .filter(|s| {
                s.owner == *reader
                    || (s.agent_id.is_some() && s.agent_id.as_ref() == reader.user_id())
                    || state.cursors.contains_key(&(s.id, key.clone()))
            })
            .collect();
        sessions.sort_by(|a, b| by_activity(a, b));
        Ok(sessions
            .into_iter()
            .map(|s| unread(&state, s, &key))
            .collect())
    }

    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>> {
        let state = self.lock();
        state
            .cursors
            .range((session, String::new())..)
            .take_while(|((s, _), _)| *s == session)
            .map(|((_, reader), seq)| {
                Ok((Party::from_key(reader).map_err(crate::rows::corrupt)?, *seq))
            })
            .collect()
    }

    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let state = self.lock();
        let mut found: Vec<Message> = state
            .live_sessions()
            .filter(|s| matches(&state, s, filter))
            .flat_map(|s| state.messages.get(&s.id).into_iter().flatten())
            .filter(|m| found(&m.content, query))
            .cloned()
            .collect();
        found.sort_by_key(|m| std::cmp::Reverse((m.created_at, m.seq)));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn message_beats(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Beat)>> {
        let state = self.lock();
        let mut ids = sessions.to_vec();
        ids.sort_by_key(|s| s.as_uuid());
        ids.dedup();
        Ok(ids
            .into_iter()
            .flat_map(|id| state.messages.get(&id).into_iter().flatten())
            .map(|m| {
                let beat = Beat {
                    seq: m.seq,
                    sender_type: m.sender_type,
                    at: m.created_at,
                };
                (m.session_id, beat)
            })
            .collect())
    }

    async fn unread_in(
        &self,
        reader: &Party,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<UnreadCount>> {
        let state = self.lock();
        let key = reader.key();
        Ok(sessions
            .iter()
            .filter_map(|id| state.session(*id))
            .map(|s| unread(&state, s, &key))
            .collect())
    }
}

/// What the reader whose key is `key` has not read in `s`: others' messages after its cursor.
fn unread(state: &State, s: &Session, key: &str) -> UnreadCount {
    let last_read_seq = state
        .cursors
        .get(&(s.id, key.to_owned()))
        .copied()
        .unwrap_or(0);
    let unread = state
        .messages
        .get(&s.id)
        .into_iter()
        .flatten()
        .filter(|m| m.seq > last_read_seq && m.sender.key() != key)
        .count() as i64;
    UnreadCount {
        session_id: s.id,
        number: s.number,
        unread,
        last_read_seq,
    }
}
