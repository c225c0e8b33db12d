//! What the use cases share: the ports, reading a session the caller may see, and applying a
//! change to a session with everything that follows it (events, a system note, routing).

use super::{page_size, Limits, SYSTEM_SENDER};
use crate::authz;
use crate::bus::{Bus, Event};
use crate::clock;
use crate::committer::{Audience, Committer};
use crate::domain::{
    BusinessId, Invalid, MessageId, Party, SenderType, Session, SessionId, SessionStatus, UserId,
};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::{Account, NewMessage, PatchOutcome, SessionPatch, Store};
use std::sync::Arc;

pub(super) struct Kernel {
    pub(super) store: Arc<dyn Store>,
    pub(super) bus: Arc<dyn Bus>,
    pub(super) committer: Committer,
    pub(super) limits: Limits,
    /// This process, as the store counts agents' connections (`Connections`).
    pub(super) node: String,
    /// Tenants' business hours, as this node last read them.
    pub(super) hours: super::hours::RememberedHours,
}

impl Kernel {
    /// A session the caller may see. Others' sessions are "not found".
    pub(super) async fn visible(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        match self.store.get_session(id).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    /// The session a send goes to, if the caller may see it (`SessionStore::send_target`).
    pub(super) async fn send_target(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        match self.store.send_target(id).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    pub(super) fn page_size(&self, asked: Option<u32>) -> ServiceResult<u32> {
        page_size(&self.limits, asked)
    }

    /// A staff member's name and email, when they are a built-in account (numeric id).
    pub(super) async fn staff_account(&self, id: &UserId) -> ServiceResult<Option<Account>> {
        match id.as_str().parse::<i64>() {
            Ok(n) => Ok(self.store.find_account(n).await?),
            Err(_) => Ok(None),
        }
    }

    /// A department id from a request, which must name a department of this tenant.
    pub(super) async fn existing_department(
        &self,
        tenant: &BusinessId,
        raw: &str,
    ) -> ServiceResult<uuid::Uuid> {
        let unknown = |why: &'static str| Invalid::new("department_id", "invalid_department", why);
        let id = uuid::Uuid::parse_str(raw.trim())
            .map_err(|_| unknown("department_id must be a department's id"))?;
        match self.store.get_department(tenant, id).await? {
            Some(_) => Ok(id),
            None => Err(unknown("no such department in this business").into()),
        }
    }

    /// Write a change to a session and what follows it: the events, and when it closes, a
    /// note in the conversation, the queue moving up and the freed capacity routed.
    pub(super) async fn apply(
        &self,
        session: Session,
        patch: SessionPatch,
    ) -> ServiceResult<Session> {
        if patch.is_empty() {
            return Ok(session);
        }
        match self
            .store
            .update_session(session.id, &patch, clock::now())
            .await?
        {
            PatchOutcome::Updated(s) => {
                self.bus.publish(Event::SessionUpdated(s.clone()));
                // A waiting session's new priority moves it (and others) in its queue.
                if patch.priority.is_some() && s.status == SessionStatus::Waiting {
                    self.announce_queue(&s.business_id).await?;
                }
                if patch.status.is_some_and(|c| c.closes()) {
                    self.bus.publish(Event::SessionClosed(s.clone()));
                    self.post_system(&s, "Conversation closed".into()).await;
                    // A waiting session leaving its queue moves everyone behind it up.
                    if patch
                        .status
                        .is_some_and(|c| c.from == SessionStatus::Waiting)
                    {
                        self.announce_queue(&s.business_id).await?;
                    }
                    // Capacity freed: the next waiting session may go to this agent.
                    self.reroute(&s.business_id).await;
                }
                Ok(s)
            }
            PatchOutcome::NotFound => Err(ServiceError::NotFound("session")),
            PatchOutcome::StatusChanged(now) => Err(ServiceError::conflict(
                "status_changed",
                format!(
                    "the session's status changed to {} meanwhile; nothing was written",
                    now.status
                ),
            )),
        }
    }

    /// Note in the conversation what happened to it (closed, assigned, …): a `system`
    /// message, through the same write path as any other. A failure is logged, not raised:
    /// the change itself has happened.
    pub(super) async fn post_system(&self, session: &Session, text: String) {
        let message = NewMessage {
            id: MessageId::generate(),
            session_id: session.id,
            sender: Party::User(UserId::parse(SYSTEM_SENDER).expect("valid id")),
            sender_type: SenderType::System,
            content: text,
            client_msg_id: None,
            claim_for_agent: None,
            attachments: Vec::new(),
            at: clock::now(),
        };
        let audience = Audience {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_number: session.number,
        };
        if let Err(e) = self.committer.append(message, audience).await {
            tracing::warn!(error = %e, session = %session.id, "could not post a system message");
        }
    }
}
