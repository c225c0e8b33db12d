//! Sessions: open (resume or create), read, list, change, close and delete.

use super::kernel::Kernel;
use super::*;

#[derive(Clone)]
pub struct Sessions {
    k: Arc<Kernel>,
}

impl Sessions {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    /// Resume the owner's most recently active open session in the tenant, or create one.
    pub async fn open_session(
        &self,
        p: &Principal,
        req: OpenSession,
    ) -> ServiceResult<(Session, bool)> {
        let business_id = match &req.business_id {
            Some(b) => BusinessId::parse(b)?,
            None => p.home_tenant(),
        };
        if !authz::can_use_tenant(p, &business_id) {
            return Err(ServiceError::Forbidden(
                "this credential may not open sessions in that business",
            ));
        }
        let owner = match &req.for_user {
            Some(u)
                if !authz::can_act_for_others(p)
                    && Some(u.as_str()) != p.party.user_id().map(UserId::as_str) =>
            {
                return Err(ServiceError::Forbidden(
                    "only services and admins may open sessions for another user",
                ));
            }
            Some(u) => Party::User(UserId::parse(u)?),
            None => p.party.clone(),
        };
        let new = NewSession {
            id: SessionId::generate(),
            business_id,
            location_id: parse_opt(req.location_id.as_deref(), LocationId::parse)?,
            owner,
            session_type: match req.session_type.as_deref() {
                Some(t) => SessionType::parse(t)?,
                None => SessionType::general(),
            },
            topic: parse_opt(req.topic.as_deref(), Topic::parse)?,
            title: parse_opt(req.title.as_deref(), Title::parse)?,
            priority: parse_opt(req.priority.as_deref(), Priority::parse)?.unwrap_or_default(),
            metadata: metadata_object(req.metadata)?.unwrap_or_else(|| serde_json::json!({})),
            department_id: None,
            assistant: None,
            at: clock::now(),
        };
        let mut new = new;
        if req.assistant {
            match (p.role, p.party.user_id()) {
                (Role::Service, Some(me)) => new.assistant = Some(me.clone()),
                _ => {
                    return Err(ServiceError::Forbidden(
                        "only a service (an assistant back end) holds sessions as an assistant",
                    ))
                }
            }
        }
        if let Some(raw) = &req.department_id {
            let id = self.k.existing_department(&new.business_id, raw).await?;
            new.department_id = Some(id);
        }
        let (session, created, place) = self
            .k
            .store
            .open_session_with_place(new, !req.force_new)
            .await?;
        if created && session.status == SessionStatus::Active {
            // Held by its assistant: not in the queue.
            self.k.bus.publish(Event::SessionCreated(session.clone()));
        } else if created {
            self.k.bus.publish(Event::SessionCreated(session.clone()));
            // Still waiting after routing: tell it where it stands (nobody else moved).
            if self.k.reroute(&session.business_id).await == 0 {
                self.k.announce_place(&session, place).await?;
            } else if let Some(now) = self.k.store.get_session(session.id).await? {
                self.k.announce_place(&now, None).await?;
            }
        }
        Ok((session, created))
    }

    /// A session the caller may see. Others' sessions are "not found".
    pub async fn get_session(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        self.k.visible(p, id).await
    }

    /// A session the caller may see and its contact, if it has one.
    pub async fn get_session_with_contact(
        &self,
        p: &Principal,
        id: SessionId,
    ) -> ServiceResult<(Session, Option<Contact>)> {
        match self.k.store.get_session_with_contact(id).await? {
            Some((s, contact)) if authz::can_see(p, &s) => Ok((s, contact)),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    /// A session by its integer number, for doors whose clients use integer ids.
    pub async fn get_session_by_number(
        &self,
        p: &Principal,
        number: i64,
    ) -> ServiceResult<Session> {
        match self.k.store.get_session_by_number(number).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    pub async fn list_sessions(
        &self,
        p: &Principal,
        req: ListSessions,
    ) -> ServiceResult<SessionPage> {
        let (filter, limit) = self.filter_for(p, &req)?;
        let cursor = req.cursor.as_deref().map(page::decode).transpose()?;
        let mut sessions = self
            .k
            .store
            .list_sessions(&filter, cursor, limit + 1)
            .await?;
        let next_cursor = if sessions.len() > limit as usize {
            sessions.truncate(limit as usize);
            sessions.last().map(|s| {
                page::encode(&crate::store::SessionCursor {
                    last_activity_at: s.last_activity_at,
                    id: s.id,
                })
            })
        } else {
            None
        };
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    /// Like `list_sessions`, paged by offset, with the total: for doors that page that way.
    pub async fn list_sessions_offset(
        &self,
        p: &Principal,
        req: ListSessions,
        offset: u32,
    ) -> ServiceResult<(Vec<Session>, i64)> {
        let (filter, limit) = self.filter_for(p, &req)?;
        let sessions = self
            .k
            .store
            .list_sessions_offset(&filter, offset, limit)
            .await?;
        let total = self.k.store.count_sessions(&filter).await?;
        Ok((sessions, total))
    }

    pub async fn update_session(
        &self,
        p: &Principal,
        id: SessionId,
        req: UpdateSession,
    ) -> ServiceResult<Session> {
        let session = self.k.visible(p, id).await?;
        let mut patch = SessionPatch {
            topic: parse_clearable(req.topic, Topic::parse)?,
            title: parse_clearable(req.title, Title::parse)?,
            location_id: parse_clearable(req.location_id, LocationId::parse)?,
            priority: parse_opt(req.priority.as_deref(), Priority::parse)?,
            metadata: metadata_object(req.metadata)?,
            ..SessionPatch::default()
        };
        if let Some(raw) = req.status.as_deref() {
            let to = SessionStatus::parse(raw)?;
            if !authz::can_manage(p, &session) {
                return Err(ServiceError::Forbidden(
                    "only agents and admins may change a session's status",
                ));
            }
            patch.status = Some(transition(&session, to)?);
        }
        self.k.apply(session, patch).await
    }

    /// Close a session. Ending a closed session is a no-op that returns it.
    pub async fn end_session(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.k.visible(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Ok(session);
        }
        let status = Some(transition(&session, SessionStatus::Closed)?);
        self.k
            .apply(
                session,
                SessionPatch {
                    status,
                    ..SessionPatch::default()
                },
            )
            .await
    }

    /// Soft-delete a session: it disappears from every list and look-up.
    pub async fn delete_session(&self, p: &Principal, id: SessionId) -> ServiceResult<()> {
        self.k.visible(p, id).await?;
        if self.k.store.delete_session(id, clock::now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("session"))
        }
    }

    pub(super) fn filter_for(
        &self,
        p: &Principal,
        req: &ListSessions,
    ) -> ServiceResult<(SessionFilter, u32)> {
        listable(p, req, &self.k.limits)
    }
}

/// What a caller may list, narrowed by what it asked for, and the page size. The one
/// place that decides whose sessions a list can contain.
pub(super) fn listable(
    p: &Principal,
    req: &ListSessions,
    limits: &Limits,
) -> ServiceResult<(SessionFilter, u32)> {
    let mut filter = SessionFilter {
        status: parse_opt(req.status.as_deref(), SessionStatus::parse)?,
        location_id: parse_opt(req.location_id.as_deref(), LocationId::parse)?,
        open_only: req.open_only,
        ..SessionFilter::default()
    };
    let asked_tenant = parse_opt(req.business_id.as_deref(), BusinessId::parse)?;
    let asked_owner = parse_opt(req.user_id.as_deref(), UserId::parse)?.map(Party::User);
    match p.role {
        Role::Customer => {
            // Asking for someone else's sessions looks exactly like asking for a missing one.
            if asked_owner.as_ref().is_some_and(|o| *o != p.party) {
                return Err(ServiceError::NotFound("session"));
            }
            if req.label_id.is_some() {
                return Err(ServiceError::Forbidden("labels are for staff"));
            }
            filter.owner = Some(p.party.clone());
            // A tenant-scoped customer lists its tenant only.
            filter.business_id = match (&p.business_id, asked_tenant) {
                (Some(home), Some(asked)) if *home != asked => {
                    return Err(ServiceError::Forbidden(
                        "this credential may not list that business",
                    ))
                }
                (Some(home), _) => Some(home.clone()),
                (None, asked) => asked,
            };
        }
        Role::Agent | Role::Service | Role::Admin => {
            let tenant = match (asked_tenant, p.role) {
                (Some(t), _) => Some(t),
                (None, Role::Admin) => p.business_id.clone(),
                (None, _) => Some(p.home_tenant()),
            };
            if let Some(t) = &tenant {
                if !authz::can_use_tenant(p, t) {
                    return Err(ServiceError::Forbidden(
                        "this credential may not list that business",
                    ));
                }
            }
            filter.business_id = tenant;
            filter.owner = asked_owner;
            filter.label_id = req
                .label_id
                .as_deref()
                .map(super::labels::label_id)
                .transpose()?;
        }
    }
    Ok((filter, page_size(limits, req.limit)?))
}

fn transition(session: &Session, to: SessionStatus) -> ServiceResult<StatusChange> {
    if session.status.can_become(to) {
        Ok(StatusChange {
            from: session.status,
            to,
        })
    } else {
        Err(ServiceError::conflict(
            "invalid_transition",
            format!("a {} session cannot become {}", session.status, to),
        ))
    }
}

pub(super) fn parse_opt<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    raw.map(parse).transpose()
}

fn parse_clearable<T>(
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<Option<T>>, Invalid> {
    raw.map(|inner| parse_opt(inner.as_deref(), &parse))
        .transpose()
}

fn metadata_object(raw: Option<serde_json::Value>) -> Result<Option<serde_json::Value>, Invalid> {
    match raw {
        None => Ok(None),
        Some(v @ serde_json::Value::Object(_)) if !storable(&v) => Err(Invalid::new(
            "metadata",
            "invalid_metadata",
            "metadata must not contain U+0000 in a key or a string, nor a number of 1e308 or more",
        )),
        Some(v @ serde_json::Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(Invalid::new(
            "metadata",
            "invalid_metadata",
            "metadata must be a JSON object",
        )),
    }
}

/// Whether every store keeps this JSON value and gives it back: PostgreSQL's `jsonb` refuses
/// U+0000, and gives a number next to f64's limit back in digits that no longer read as one.
fn storable(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Number(n) => n.as_f64().is_some_and(|f| f.abs() < 1e308),
        Value::Array(items) => items.iter().all(storable),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && storable(v)),
        Value::Null | Value::Bool(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::store::SessionStore;

    #[tokio::test]
    async fn an_open_session_is_resumed_and_force_new_starts_another() {
        let desk = desk();
        let ann = customer("ann");
        let first = desk.open(&ann).await;
        assert_eq!(desk.open(&ann).await.id, first.id, "resumed");
        let second = desk.open_new(&ann).await;
        assert_ne!(second.id, first.id);
        assert_eq!(desk.open(&ann).await.id, second.id, "the newest is resumed");
    }

    #[tokio::test]
    async fn anothers_session_is_not_found() {
        let desk = desk();
        let s = desk.open(&customer("ann")).await;
        let bob = customer("bob");
        for refused in [
            desk.sessions.get_session(&bob, s.id).await.map(drop),
            desk.sessions.end_session(&bob, s.id).await.map(drop),
            desk.sessions.delete_session(&bob, s.id).await,
        ] {
            assert!(
                matches!(refused, Err(ServiceError::NotFound(_))),
                "{refused:?}"
            );
        }
        assert!(
            desk.sessions.get_session(&agent("ada"), s.id).await.is_ok(),
            "staff see it"
        );
    }

    #[tokio::test]
    async fn ending_closes_once_and_notes_it() {
        let desk = desk();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let closed = desk.sessions.end_session(&ann, s.id).await.unwrap();
        assert_eq!(closed.status, SessionStatus::Closed);
        assert!(closed.ended_at.is_some());
        let again = desk.sessions.end_session(&ann, s.id).await.unwrap();
        assert_eq!(
            again.ended_at, closed.ended_at,
            "ending twice changes nothing"
        );
        // The system's note is the only message, and the session takes no more.
        let page = desk
            .messages
            .list_messages(&ann, s.id, MessageQuery::default())
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].sender_type, SenderType::System);
        let refused = desk.send(&ann, &s, "hello?").await;
        assert!(matches!(
            refused,
            Err(ServiceError::Conflict {
                code: "session_closed",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_bad_field_opens_nothing() {
        let desk = desk();
        let ann = customer("ann");
        let req = OpenSession {
            priority: Some("whenever".into()),
            ..OpenSession::default()
        };
        assert!(matches!(
            desk.sessions.open_session(&ann, req).await,
            Err(ServiceError::Invalid(_))
        ));
        let mine = SessionFilter {
            owner: Some(ann.party.clone()),
            ..SessionFilter::default()
        };
        assert_eq!(desk.store.count_sessions(&mine).await.unwrap(), 0);
    }
}
