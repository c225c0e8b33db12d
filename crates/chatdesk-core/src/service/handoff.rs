//! Bot hand-off: a session an assistant holds (opened with `assistant`, outside the agents'
//! queue) is handed to people with a reason, and waits in the queue with everything the
//! assistant and the customer wrote; people can hand it back to the assistant.

use super::kernel::Kernel;
use crate::authz;
use crate::bus::Event;
use crate::domain::{Invalid, Session, SessionId, SessionStatus};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::{SessionPatch, StatusChange};
use std::sync::Arc;

/// Most characters a hand-off's reason holds.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Clone)]
pub struct Handoffs {
    k: Arc<Kernel>,
}

fn reason(raw: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_REASON_CHARS || text.chars().any(char::is_control) {
        return Err(Invalid::new(
            "reason",
            "invalid_reason",
            format!("reason must be at most {MAX_REASON_CHARS} characters, on one line"),
        )
        .into());
    }
    Ok(Some(text.to_owned()))
}

impl Handoffs {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    /// Staff (the assistant's service among them) hand an active session to people: it
    /// waits in the queue (of `department`, if named) without an agent.
    pub async fn hand_off(
        &self,
        p: &Principal,
        id: SessionId,
        why: Option<&str>,
        department: Option<&str>,
    ) -> ServiceResult<Session> {
        let why = reason(why)?;
        let session = self.managed(p, id).await?;
        if session.status != SessionStatus::Active {
            return Err(ServiceError::conflict(
                "invalid_transition",
                "only an active session is handed off",
            ));
        }
        let department = match department {
            Some(raw) => Some(
                self.k
                    .existing_department(&session.business_id, raw)
                    .await?,
            ),
            None => None,
        };
        let from = session.agent_id.clone();
        let patch = SessionPatch {
            status: Some(StatusChange {
                from: SessionStatus::Active,
                to: SessionStatus::Waiting,
            }),
            agent_id: Some(None),
            department_id: department.map(Some),
            handed_off: true,
            ..SessionPatch::default()
        };
        let updated = self.k.apply(session, patch).await?;
        self.k.bus.publish(Event::SessionHandedOff {
            session: updated.clone(),
            from,
            reason: why.clone(),
        });
        let note = match &why {
            Some(r) => format!("Handed off to a person: {r}"),
            None => "Handed off to a person".to_owned(),
        };
        self.k.post_system(&updated, note).await;
        self.k.announce_queue(&updated.business_id).await?;
        self.k.reroute(&updated.business_id).await;
        Ok(updated)
    }

    /// Staff give a session back to the assistant it was opened for.
    pub async fn hand_back(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.managed(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "session_closed",
                "reopen the session first",
            ));
        }
        let assistant = self
            .k
            .store
            .assistant_of(session.id)
            .await?
            .ok_or_else(|| {
                ServiceError::conflict("no_assistant", "no assistant held this session")
            })?;
        let patch = SessionPatch {
            status: Some(StatusChange {
                from: session.status,
                to: SessionStatus::Active,
            }),
            agent_id: Some(Some(assistant)),
            ..SessionPatch::default()
        };
        let was_waiting = session.status == SessionStatus::Waiting;
        let updated = self.k.apply(session, patch).await?;
        self.k.bus.publish(Event::SessionAssigned(updated.clone()));
        self.k
            .post_system(&updated, "Handed back to the assistant".into())
            .await;
        if was_waiting {
            self.k.announce_queue(&updated.business_id).await?;
        }
        // The person it came from has room again.
        self.k.reroute(&updated.business_id).await;
        Ok(updated)
    }

    async fn managed(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.k.visible(p, id).await?;
        if !authz::can_manage(p, &session) {
            return Err(ServiceError::Forbidden(
                "only staff and the session's assistant hand it over",
            ));
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::domain::{BusinessId, UserId};
    use crate::identity::Role;
    use crate::service::OpenSession;

    #[tokio::test]
    async fn an_assistant_session_skips_the_queue_until_handed_off() {
        let desk = desk();
        let bot = Principal::user(
            UserId::parse("apikey:1").unwrap(),
            Role::Service,
            Some(BusinessId::parse("shop").unwrap()),
        );
        let req = OpenSession {
            for_user: Some("ann".into()),
            assistant: true,
            ..OpenSession::default()
        };
        let (s, created) = desk.sessions.open_session(&bot, req).await.unwrap();
        assert!(created);
        assert_eq!(s.status, SessionStatus::Active);
        assert_eq!(s.agent_id.as_ref().map(UserId::as_str), Some("apikey:1"));
        // A customer cannot open one held by an assistant.
        let req = OpenSession {
            assistant: true,
            ..OpenSession::default()
        };
        assert!(desk
            .sessions
            .open_session(&customer("bob"), req)
            .await
            .is_err());

        let waiting = desk
            .handoffs
            .hand_off(&bot, s.id, Some("asks for a refund"), None)
            .await
            .unwrap();
        assert_eq!(
            (waiting.status, waiting.agent_id.clone()),
            (SessionStatus::Waiting, None)
        );
        assert!(desk
            .handoffs
            .hand_off(&bot, s.id, None, None)
            .await
            .is_err());
        assert!(desk
            .handoffs
            .hand_off(&customer("ann"), s.id, None, None)
            .await
            .is_err());
        let back = desk.handoffs.hand_back(&agent("ada"), s.id).await.unwrap();
        assert_eq!(back.agent_id.as_ref().map(UserId::as_str), Some("apikey:1"));
        let plain = desk.open(&customer("cy")).await;
        assert!(desk
            .handoffs
            .hand_back(&agent("ada"), plain.id)
            .await
            .is_err());
    }
}
