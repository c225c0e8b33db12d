//! Sessions in memory.

use super::*;
use crate::domain::ActivityCounters;

#[async_trait]
impl SessionStore for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)> {
        let (session, created, _) = self.open_session_with_place(new, resume).await?;
        Ok((session, created))
    }

    async fn open_session_with_place(
        &self,
        new: NewSession,
        resume: bool,
    ) -> StoreResult<(Session, bool, Option<i64>)> {
        let mut state = self.lock();
        if resume {
            let latest = state
                .live_sessions()
                .filter(|s| {
                    s.owner == new.owner
                        && s.business_id == new.business_id
                        && s.status != SessionStatus::Closed
                })
                .min_by(|a, b| by_activity(a, b));
            if let Some(s) = latest {
                return Ok((s.clone(), false, None));
            }
        }
        if state.numbers.contains_key(&new.id) {
            return Err(StoreError::Conflict(format!("session {} exists", new.id)));
        }
        let number = state.sessions.keys().next_back().map_or(1, |n| n + 1);
        let session = Session {
            id: new.id,
            number,
            business_id: new.business_id,
            location_id: new.location_id,
            owner: new.owner,
            session_type: new.session_type,
            topic: new.topic,
            title: new.title,
            priority: new.priority,
            status: if new.assistant.is_some() {
                SessionStatus::Active
            } else {
                SessionStatus::Waiting
            },
            agent_id: new.assistant.clone(),
            department_id: new.department_id.map(|d| d.to_string()),
            metadata: new.metadata,
            last_seq: 0,
            message_count: 0,
            activity: ActivityCounters::default(),
            started_at: new.at,
            ended_at: None,
            last_activity_at: new.at,
            last_message_at: None,
            created_at: new.at,
            updated_at: new.at,
        };
        state.numbers.insert(session.id, number);
        state.sessions.insert(number, Row::live(session.clone()));
        state.queue(session.id, WebhookEvent::SessionCreated, None, new.at);
        if let Some(assistant) = new.assistant {
            state.assistants.insert(session.id, assistant);
            return Ok((session, true, None));
        }
        let place = state
            .live_sessions()
            .filter(|s| {
                s.status == SessionStatus::Waiting
                    && s.business_id == session.business_id
                    && s.department_id == session.department_id
            })
            .count() as i64;
        Ok((session, true, Some(place)))
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        Ok(self.lock().session(id).cloned())
    }

    async fn assistant_of(&self, id: SessionId) -> StoreResult<Option<UserId>> {
        Ok(self.lock().assistants.get(&id).cloned())
    }

    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>> {
        let state = self.lock();
        Ok(state
            .sessions
            .get(&number)
            .filter(|r| !r.deleted)
            .map(|r| r.value.clone()))
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let before = |s: &Session| {
            cursor.is_none_or(|c| {
                (s.last_activity_at, s.id.as_uuid()) < (c.last_activity_at, c.id.as_uuid())
            })
        };
        Ok(newest(&self.lock(), filter, before, 0, limit))
    }

    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64> {
        let state = self.lock();
        Ok(state
            .live_sessions()
            .filter(|s| matches(&state, s, filter))
            .count() as i64)
    }

    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        Ok(newest(&self.lock(), filter, |_| true, offset, limit))
    }

    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let mut state = self.lock();
        let idle: Vec<SessionId> = state
            .live_sessions()
            .filter(|s| {
                s.status != SessionStatus::Closed
                    && s.last_activity_at < idle_before
                    && matches(&state, s, filter)
            })
            .map(|s| s.id)
            .collect();
        let mut closed = Vec::with_capacity(idle.len());
        for id in idle {
            if let Some(s) = state.session_mut(id) {
                s.status = SessionStatus::Closed;
                s.ended_at = Some(at);
                s.updated_at = at;
                closed.push(s.clone());
            }
            state.queue(id, WebhookEvent::SessionClosed, None, at);
        }
        Ok(closed)
    }

    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let (sent, conversations, responses) = activity_increments(kind, response_time_ms);
        let mut state = self.lock();
        let Some(s) = state
            .session_mut(id)
            .filter(|s| s.status != SessionStatus::Closed)
        else {
            return Ok(None);
        };
        s.activity.messages_sent += sent;
        s.activity.conversations += conversations;
        s.activity.response_time_total_ms += response_time_ms.unwrap_or(0);
        s.activity.response_count += responses;
        s.last_activity_at = at;
        s.updated_at = at;
        Ok(Some(s.clone()))
    }

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome> {
        let mut state = self.lock();
        let Some(s) = state.session_mut(id) else {
            return Ok(PatchOutcome::NotFound);
        };
        if patch.status.is_some_and(|c| c.from != s.status) {
            return Ok(PatchOutcome::StatusChanged(s.clone()));
        }
        apply(s, patch, at);
        let updated = s.clone();
        for event in patch.webhook_events() {
            state.queue(id, event, None, at);
        }
        Ok(PatchOutcome::Updated(updated))
    }

    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut state = self.lock();
        let Some(number) = state.numbers.get(&id).copied() else {
            return Ok(false);
        };
        let row = state
            .sessions
            .get_mut(&number)
            .ok_or_else(|| missing("session"))?;
        if row.deleted {
            return Ok(false);
        }
        row.deleted = true;
        row.value.updated_at = at;
        Ok(true)
    }

    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let mut state = self.lock();
        match state.visitor_links.get(&visitor) {
            Some(other) if other != user => return Ok(LinkOutcome::LinkedToOther(other.clone())),
            Some(_) => {}
            None => {
                state.visitor_links.insert(visitor, user.clone());
            }
        }
        let (from, to) = (Party::Visitor(visitor), Party::User(user.clone()));
        let mut moved = Vec::new();
        for row in state.sessions.values_mut() {
            if row.value.owner == from {
                row.value.owner = to.clone();
                row.value.updated_at = at;
                moved.push(row.value.id);
            }
        }
        let (from_key, to_key) = (from.key(), to.key());
        for c in state.contacts.values_mut().filter(|c| c.owner == from_key) {
            c.owner = to_key.clone();
        }
        let owned: Vec<SessionId> = state
            .sessions
            .values()
            .filter(|r| r.value.owner == to)
            .map(|r| r.value.id)
            .collect();
        for id in owned {
            for m in state.messages.entry(id).or_default() {
                if m.sender == from {
                    m.sender = to.clone();
                }
            }
        }
        // A cursor the account already has in a session wins over the visitor's.
        let theirs: Vec<((SessionId, String), i64)> = state
            .cursors
            .iter()
            .filter(|((_, reader), _)| *reader == from_key)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((session, _), seq) in theirs {
            state.cursors.remove(&(session, from_key.clone()));
            state
                .cursors
                .entry((session, to_key.clone()))
                .or_insert(seq);
        }
        Ok(LinkOutcome::Linked {
            sessions_moved: moved.len() as u64,
        })
    }

    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>> {
        Ok(self.lock().visitor_links.get(&visitor).cloned())
    }

    async fn search_sessions(
        &self,
        filter: &SessionFilter,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let mentions = |s: &Session| {
            let topic = s.topic.as_ref().map_or("", |t| t.as_str());
            let title = s.title.as_ref().map_or("", |t| t.as_str());
            found(&format!("{topic}\n{title}"), query)
        };
        Ok(newest(&self.lock(), filter, mentions, 0, limit))
    }
}

/// Live sessions meeting `filter` and `also`, newest activity first, from `offset` on.
fn newest(
    state: &State,
    filter: &SessionFilter,
    also: impl Fn(&Session) -> bool,
    offset: u32,
    limit: u32,
) -> Vec<Session> {
    let mut found: Vec<&Session> = state
        .live_sessions()
        .filter(|s| matches(state, s, filter) && also(s))
        .collect();
    found.sort_by(|a, b| by_activity(a, b));
    found
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .cloned()
        .collect()
}

/// `patch` applied to `s` at `at`, as `crate::query::push_patch` writes it.
fn apply(s: &mut Session, patch: &SessionPatch, at: DateTime<Utc>) {
    s.updated_at = at;
    if let Some(topic) = &patch.topic {
        s.topic = topic.clone();
    }
    if let Some(title) = &patch.title {
        s.title = title.clone();
    }
    if let Some(location) = &patch.location_id {
        s.location_id = location.clone();
    }
    if let Some(priority) = patch.priority {
        s.priority = priority;
    }
    if let Some(metadata) = &patch.metadata {
        s.metadata = metadata.clone();
    }
    if let Some(change) = patch.status {
        s.status = change.to;
        if change.closes() {
            s.ended_at = Some(at);
        } else if change.reopens() {
            s.ended_at = None;
        }
    }
    if let Some(agent) = &patch.agent_id {
        s.agent_id = agent.clone();
    }
    if let Some(department) = &patch.department_id {
        s.department_id = department.map(|d| d.to_string());
    }
}
