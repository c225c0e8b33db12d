//! Routing: waiting sessions go to agents — automatically where the tenant says so (the
//! oldest waiting session to the least-loaded online agent under its cap), or by hand
//! (assign, transfer, unassign) — and waiting visitors are told their place in the queue.

use super::kernel::Kernel;
use super::managed_tenant;
use crate::authz;
use crate::bus::Event;
use crate::clock;
use crate::domain::{BusinessId, Invalid, Presence, Session, SessionId, SessionStatus, UserId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::{SessionPatch, StatusChange, TenantSettings};
use std::sync::Arc;

/// Most assignments one routing pass makes, and most queue places it announces.
const MAX_PASS: usize = 500;

/// Routing settings, queue places, and staff moving sessions between agents and queues.
#[derive(Clone)]
pub struct Routing {
    k: Arc<Kernel>,
}

impl Routing {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    pub async fn tenant_settings(
        &self,
        p: &Principal,
        business: Option<&str>,
    ) -> ServiceResult<TenantSettings> {
        let tenant = managed_tenant(p, business)?;
        Ok(self.k.store.tenant_settings(&tenant).await?)
    }

    pub async fn set_tenant_settings(
        &self,
        p: &Principal,
        business: Option<&str>,
        routing: Option<&str>,
        allow_reopen: Option<bool>,
        idle_timeout_secs: Option<Option<i64>>,
        initial_presence: Option<&str>,
    ) -> ServiceResult<TenantSettings> {
        let tenant = managed_tenant(p, business)?;
        let mut settings = self.k.store.tenant_settings(&tenant).await?;
        if let Some(r) = routing {
            settings.auto_routing = match r {
                "auto" => true,
                "manual" => false,
                _ => {
                    return Err(Invalid::new(
                        "routing",
                        "invalid_routing",
                        "routing must be auto or manual",
                    )
                    .into())
                }
            };
        }
        if let Some(a) = allow_reopen {
            settings.allow_reopen = a;
        }
        if let Some(raw) = initial_presence {
            settings.initial_presence = match Presence::parse(raw) {
                Ok(p @ (Presence::Online | Presence::Away)) => p,
                _ => {
                    return Err(Invalid::new(
                        "initial_presence",
                        "invalid_presence",
                        "initial_presence must be online or away",
                    )
                    .into())
                }
            };
        }
        if let Some(idle) = idle_timeout_secs {
            if idle.is_some_and(|s| !(1..=30 * 86_400).contains(&s)) {
                return Err(Invalid::new(
                    "idle_timeout_secs",
                    "invalid_idle_timeout",
                    "idle_timeout_secs must be between 1 and 2592000 (30 days)",
                )
                .into());
            }
            settings.idle_timeout_secs = idle;
        }
        let saved = self
            .k
            .store
            .set_tenant_settings(&tenant, settings, clock::now())
            .await?;
        self.k.bus.publish(Event::TenantSettingsChanged {
            business_id: tenant.clone(),
        });
        self.k.reroute(&tenant).await;
        Ok(saved)
    }

    /// A waiting session's place in its queue; `None` once it is not waiting.
    pub async fn queue_position(
        &self,
        p: &Principal,
        id: SessionId,
    ) -> ServiceResult<(Session, Option<i64>)> {
        let session = self.k.visible(p, id).await?;
        if session.status != SessionStatus::Waiting {
            return Ok((session, None));
        }
        let queue = self.k.store.queue(&session.business_id, 10_000).await?;
        let position = queue
            .iter()
            .find(|(s, _)| s.id == session.id)
            .map(|(_, p)| *p);
        Ok((session, position))
    }

    /// Staff: give the session to an agent, or move it to a department's queue (without an
    /// agent), or both.
    pub async fn assign(
        &self,
        p: &Principal,
        id: SessionId,
        agent: Option<&str>,
        department: Option<&str>,
    ) -> ServiceResult<Session> {
        let session = self.managed_session(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "session_closed",
                "reopen the session first",
            ));
        }
        let agent = agent.map(UserId::parse).transpose()?;
        let department = match department {
            Some(raw) => {
                let d = self
                    .k
                    .existing_department(&session.business_id, raw)
                    .await?;
                Some(d)
            }
            None => None,
        };
        if agent.is_none() && department.is_none() {
            return Err(Invalid::new(
                "agent_id",
                "missing_field",
                "name an agent_id, a department_id, or both",
            )
            .into());
        }
        let to = if agent.is_some() {
            SessionStatus::Active
        } else {
            SessionStatus::Waiting
        };
        let patch = SessionPatch {
            agent_id: Some(agent.clone()),
            department_id: department.map(Some),
            status: Some(StatusChange {
                from: session.status,
                to,
            }),
            ..SessionPatch::default()
        };
        let tenant = session.business_id.clone();
        let updated = self.k.apply(session, patch).await?;
        if agent.is_some() {
            self.k.bus.publish(Event::SessionAssigned(updated.clone()));
            self.k
                .post_system(&updated, self.k.assigned_note(&updated).await)
                .await;
        } else {
            self.k.announce_queue(&tenant).await?;
            self.k
                .post_system(
                    &updated,
                    "Transferred to another department; waiting for an agent".into(),
                )
                .await;
        }
        self.k.reroute(&tenant).await;
        Ok(updated)
    }

    /// Staff: take the agent off the session; it waits (and is routed) again.
    pub async fn unassign(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.managed_session(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "session_closed",
                "the session is closed",
            ));
        }
        let patch = SessionPatch {
            agent_id: Some(None),
            status: Some(StatusChange {
                from: session.status,
                to: SessionStatus::Waiting,
            }),
            ..SessionPatch::default()
        };
        let tenant = session.business_id.clone();
        let updated = self.k.apply(session, patch).await?;
        self.k
            .post_system(&updated, "Unassigned; waiting for an agent".into())
            .await;
        self.k.announce_queue(&tenant).await?;
        self.k.reroute(&tenant).await;
        Ok(updated)
    }

    /// Reopen a closed session, where the tenant allows it: back with its agent, or waiting.
    pub async fn reopen(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.k.visible(p, id).await?;
        if session.status != SessionStatus::Closed {
            return Ok(session);
        }
        if !self
            .k
            .store
            .tenant_settings(&session.business_id)
            .await?
            .allow_reopen
        {
            return Err(ServiceError::conflict(
                "reopen_not_allowed",
                "this business does not reopen closed sessions",
            ));
        }
        let to = if session.agent_id.is_some() {
            SessionStatus::Active
        } else {
            SessionStatus::Waiting
        };
        let patch = SessionPatch {
            status: Some(StatusChange {
                from: SessionStatus::Closed,
                to,
            }),
            ..SessionPatch::default()
        };
        let tenant = session.business_id.clone();
        let updated = self.k.apply(session, patch).await?;
        if updated.status == SessionStatus::Waiting {
            self.k.announce_queue(&tenant).await?;
        }
        self.k.reroute(&tenant).await;
        Ok(updated)
    }

    async fn managed_session(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let session = self.k.visible(p, id).await?;
        if !authz::can_manage(p, &session) {
            return Err(ServiceError::Forbidden("only staff assign sessions"));
        }
        Ok(session)
    }
}

/// The routing pass, which every change that adds or frees capacity runs.
impl Kernel {
    /// After anything that changes who can take what: assign what can be assigned (if the
    /// tenant routes automatically), then tell every waiting visitor its place. Failures are
    /// logged: routing catches up on the next change.
    /// Returns how many sessions it assigned.
    pub(super) async fn reroute(&self, tenant: &BusinessId) -> usize {
        match self.try_reroute(tenant).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, tenant = %tenant, "routing pass failed");
                0
            }
        }
    }

    /// "Assigned to Ann Smith": people read names; a built-in account's name, else its id.
    async fn assigned_note(&self, s: &Session) -> String {
        let Some(agent) = &s.agent_id else {
            return "Assigned".into();
        };
        match self.staff_account(agent).await {
            Ok(Some(account)) => match account.name {
                Some(name) => format!("Assigned to {name}"),
                None => format!("Assigned to {}", account.email.as_str()),
            },
            _ => format!("Assigned to {agent}"),
        }
    }

    async fn try_reroute(&self, tenant: &BusinessId) -> ServiceResult<usize> {
        let mut assigned = 0;
        if self.store.tenant_settings(tenant).await?.auto_routing {
            // Outside business hours a queue's sessions are given to nobody.
            let open = self.open_queues(tenant).await?;
            for _ in 0..MAX_PASS {
                if open.none() {
                    break;
                }
                let Some(s) = self.store.assign_next(tenant, &open, clock::now()).await? else {
                    break;
                };
                self.bus.publish(Event::SessionUpdated(s.clone()));
                self.bus.publish(Event::SessionAssigned(s.clone()));
                self.post_system(&s, self.assigned_note(&s).await).await;
                assigned += 1;
            }
        }
        // Places move only when sessions leave a queue.
        if assigned > 0 {
            self.announce_queue(tenant).await?;
        }
        Ok(assigned)
    }

    /// Tell one waiting session its place (a new arrival: nobody else's place changed), as
    /// `known` by the store when it opened the session, else read now.
    pub(super) async fn announce_place(
        &self,
        s: &Session,
        known: Option<i64>,
    ) -> ServiceResult<()> {
        if s.status == SessionStatus::Waiting {
            let position = match known {
                Some(place) => place,
                None => self.store.queue_position(s).await?,
            };
            self.bus.publish(queue_event(s, position));
        }
        Ok(())
    }

    /// Tell every waiting session of the tenant its place (after sessions left or re-entered
    /// a queue).
    pub(super) async fn announce_queue(&self, tenant: &BusinessId) -> ServiceResult<()> {
        for (s, position) in self.store.queue(tenant, MAX_PASS as u32).await? {
            self.bus.publish(queue_event(&s, position));
        }
        Ok(())
    }
}

/// A waiting session's place, for its visitor.
fn queue_event(s: &Session, position: i64) -> Event {
    Event::QueuePosition {
        business_id: s.business_id.clone(),
        owner: s.owner.clone(),
        session_id: s.id,
        session_number: s.number,
        position,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::store::RoutingStore;

    /// A tenant that routes automatically, with these agents connected.
    async fn routed(desk: &Desk, agents: &[&str]) {
        let boss = admin("boss");
        desk.routing
            .set_tenant_settings(&boss, None, Some("auto"), None, None, None)
            .await
            .unwrap();
        for name in agents {
            desk.directory
                .staff_connection(&agent(name), 1)
                .await
                .unwrap();
        }
    }

    fn assignee(s: &Session) -> Option<&str> {
        s.agent_id.as_ref().map(UserId::as_str)
    }

    #[tokio::test]
    async fn new_sessions_go_to_the_least_loaded_agent() {
        let desk = desk();
        routed(&desk, &["ada", "bo"]).await;
        let mut taken = Vec::new();
        for name in ["c1", "c2", "c3", "c4"] {
            let s = desk.open(&customer(name)).await;
            let now = desk
                .sessions
                .get_session(&customer(name), s.id)
                .await
                .unwrap();
            assert_eq!(now.status, SessionStatus::Active);
            taken.push(assignee(&now).unwrap().to_owned());
        }
        // Ties go to the first by id; then each takes its turn.
        assert_eq!(taken, ["ada", "bo", "ada", "bo"]);
    }

    #[tokio::test]
    async fn nobody_is_given_more_than_their_cap() {
        let desk = desk();
        routed(&desk, &["ada"]).await;
        desk.directory
            .set_agent_cap(&admin("boss"), None, "ada", 1)
            .await
            .unwrap();
        let (c1, c2) = (customer("c1"), customer("c2"));
        let first = desk.open(&c1).await;
        let second = desk.open(&c2).await;
        let first = desk.sessions.get_session(&c1, first.id).await.unwrap();
        let second_now = desk.sessions.get_session(&c2, second.id).await.unwrap();
        assert_eq!(assignee(&first), Some("ada"));
        assert_eq!(
            second_now.status,
            SessionStatus::Waiting,
            "ada is at her cap"
        );
        // Closing her chat frees the place: the waiting one is hers now.
        desk.sessions.end_session(&c1, first.id).await.unwrap();
        let second_now = desk.sessions.get_session(&c2, second.id).await.unwrap();
        assert_eq!(assignee(&second_now), Some("ada"));
    }

    #[tokio::test]
    async fn an_away_or_disconnected_agent_takes_nothing() {
        let desk = desk();
        routed(&desk, &["ada"]).await;
        desk.directory
            .set_presence(&agent("ada"), "away")
            .await
            .unwrap();
        let s = desk.open(&customer("c1")).await;
        assert_eq!(s.status, SessionStatus::Waiting);
        desk.directory
            .staff_connection(&agent("ada"), -1)
            .await
            .unwrap();
        desk.directory
            .set_presence(&agent("ada"), "online")
            .await
            .unwrap();
        let now = desk
            .sessions
            .get_session(&customer("c1"), s.id)
            .await
            .unwrap();
        assert_eq!(
            now.status,
            SessionStatus::Waiting,
            "online but not connected"
        );
        desk.directory
            .staff_connection(&agent("ada"), 1)
            .await
            .unwrap();
        let now = desk
            .sessions
            .get_session(&customer("c1"), s.id)
            .await
            .unwrap();
        assert_eq!(assignee(&now), Some("ada"));
    }

    #[tokio::test]
    async fn a_customer_cannot_change_routing() {
        let desk = desk();
        let refused = desk
            .routing
            .set_tenant_settings(&customer("ann"), None, Some("auto"), None, None, None)
            .await;
        assert!(
            matches!(refused, Err(ServiceError::Forbidden(_))),
            "{refused:?}"
        );
        let settings = desk
            .store
            .tenant_settings(&BusinessId::parse("shop").unwrap())
            .await;
        assert!(!settings.unwrap().auto_routing);
    }
}
