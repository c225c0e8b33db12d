//! Reported activity (seed 003) and closing idle sessions (seed 003's cleanup, and the
//! background job).

use super::kernel::Kernel;
use super::Sessions;
use crate::bus::Event;
use crate::clock;
use crate::domain::{response_time_ms, ActivityKind, Party, Session, SessionId, SessionStatus};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{Principal, Role};
use crate::store::SessionFilter;
use std::sync::Arc;
use std::time::Duration;

/// Reported activity and closing idle sessions.
#[derive(Clone)]
pub struct Activity {
    k: Arc<Kernel>,
    sessions: Sessions,
}

impl Activity {
    pub(super) fn new(k: Arc<Kernel>, sessions: Sessions) -> Self {
        Self { k, sessions }
    }

    /// Count one reported activity on an open session the caller may see.
    pub async fn record_activity(
        &self,
        p: &Principal,
        id: SessionId,
        activity_type: &str,
        response_time_secs: Option<f64>,
    ) -> ServiceResult<Session> {
        let kind = ActivityKind::parse(activity_type)?;
        let response_ms = response_time_secs.map(response_time_ms).transpose()?;
        let session = self.k.visible(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Err(closed());
        }
        match self
            .k
            .store
            .record_activity(id, kind, response_ms, clock::now())
            .await?
        {
            Some(s) => Ok(s),
            // Closed or deleted between the look-up and the update.
            None => Err(closed()),
        }
    }

    /// Close the caller's open sessions idle for longer than `idle` (staff: their tenant's).
    pub async fn close_idle_sessions(
        &self,
        p: &Principal,
        idle: Duration,
    ) -> ServiceResult<Vec<Session>> {
        let filter = match p.role {
            Role::Customer => SessionFilter {
                owner: Some(p.party.clone()),
                ..SessionFilter::default()
            },
            Role::Admin if p.business_id.is_none() => SessionFilter::default(),
            _ => SessionFilter {
                business_id: Some(p.home_tenant()),
                ..SessionFilter::default()
            },
        };
        self.close_idle(&filter, idle).await
    }

    /// The scheduled job: close open sessions idle longer than their tenant's timeout, or
    /// than `default_idle` for tenants without one.
    pub async fn close_idle_everywhere(
        &self,
        default_idle: Duration,
    ) -> ServiceResult<Vec<Session>> {
        let own = self.k.store.tenant_idle_timeouts().await?;
        let mut closed = Vec::new();
        for (tenant, secs) in &own {
            let filter = SessionFilter {
                business_id: Some(tenant.clone()),
                ..SessionFilter::default()
            };
            closed.extend(
                self.close_idle(
                    &filter,
                    Duration::from_secs(u64::try_from(*secs).unwrap_or(0)),
                )
                .await?,
            );
        }
        let others = SessionFilter {
            exclude_business: own.into_iter().map(|(t, _)| t).collect(),
            ..SessionFilter::default()
        };
        closed.extend(self.close_idle(&others, default_idle).await?);
        Ok(closed)
    }

    async fn close_idle(
        &self,
        filter: &SessionFilter,
        idle: Duration,
    ) -> ServiceResult<Vec<Session>> {
        let now = clock::now();
        let idle =
            chrono::Duration::from_std(idle).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let closed = self
            .k
            .store
            .close_idle_sessions(filter, now - idle, now)
            .await?;
        let mut tenants = std::collections::BTreeSet::new();
        for s in &closed {
            self.k.bus.publish(Event::SessionUpdated(s.clone()));
            self.k.bus.publish(Event::SessionClosed(s.clone()));
            self.k
                .post_system(s, "Conversation closed after inactivity".into())
                .await;
            tenants.insert(s.business_id.clone());
        }
        for t in &tenants {
            // Idle waiting sessions left their queues: the rest move up.
            self.k.announce_queue(t).await?;
            self.k.reroute(t).await;
        }
        Ok(closed)
    }

    /// The owner's most recently active open session in the caller's tenant, if any.
    pub async fn current_session(
        &self,
        p: &Principal,
        owner: &Party,
    ) -> ServiceResult<Option<Session>> {
        let page = self
            .sessions
            .list_sessions(
                p,
                super::ListSessions {
                    user_id: owner.user_id().map(|u| u.to_string()),
                    open_only: true,
                    limit: Some(1),
                    ..super::ListSessions::default()
                },
            )
            .await?;
        Ok(page.sessions.into_iter().next())
    }
}

fn closed() -> ServiceError {
    ServiceError::conflict("session_closed", "the session has ended")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::MessageQuery;
    use super::*;
    use crate::domain::SenderType;

    #[tokio::test]
    async fn activity_counts_on_open_sessions_only() {
        let desk = desk();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        desk.activity
            .record_activity(&ann, s.id, "message_sent", None)
            .await
            .unwrap();
        let now = desk
            .activity
            .record_activity(&ann, s.id, "response_received", Some(1.5))
            .await
            .unwrap();
        assert_eq!(now.activity.messages_sent, 1);
        assert_eq!(
            (
                now.activity.response_count,
                now.activity.response_time_total_ms
            ),
            (1, 1500)
        );
        assert!(matches!(
            desk.activity
                .record_activity(&ann, s.id, "dancing", None)
                .await,
            Err(ServiceError::Invalid(_))
        ));
        desk.sessions.end_session(&ann, s.id).await.unwrap();
        assert!(matches!(
            desk.activity
                .record_activity(&ann, s.id, "message_sent", None)
                .await,
            Err(ServiceError::Conflict { .. })
        ));
    }

    #[tokio::test]
    async fn idle_sessions_close_once_with_one_note_and_only_the_callers() {
        let desk = desk();
        let (ann, bob) = (customer("ann"), customer("bob"));
        let hers = desk.open(&ann).await;
        let his = desk.open(&bob).await;
        let long = Duration::from_secs(3600);
        assert!(desk
            .activity
            .close_idle_sessions(&ann, long)
            .await
            .unwrap()
            .is_empty());
        let closed = desk
            .activity
            .close_idle_sessions(&ann, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(closed.iter().map(|s| s.id).collect::<Vec<_>>(), [hers.id]);
        assert!(desk
            .activity
            .close_idle_sessions(&ann, Duration::ZERO)
            .await
            .unwrap()
            .is_empty());
        let notes = desk
            .messages
            .list_messages(&ann, hers.id, MessageQuery::default())
            .await
            .unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].sender_type, SenderType::System);
        let his = desk.sessions.get_session(&bob, his.id).await.unwrap();
        assert_ne!(his.status, SessionStatus::Closed, "not hers to close");
    }
}
