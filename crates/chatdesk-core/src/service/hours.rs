//! Business hours and the offline form. Admins set when the tenant (or a department)
//! answers; outside those hours opening a session says so (`Availability`), automatic
//! routing assigns nothing from that queue (when hours begin it resumes with the next
//! change: an agent connecting, a session opening or closing), and visitors may leave a
//! message instead: a new session of type `offline` with their contact details. A
//! department with a schedule of its own is served by it; the rest by the tenant's.

use super::kernel::Kernel;
use super::{managed_tenant, Messages, OpenSession, Sessions, SetContact};
use crate::clock;
use crate::domain::{BusinessHours, BusinessId, Content, Session};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::routing::OpenQueues;
use crate::store::NewContact;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node keeps a tenant's schedules before reading them again: a change made on
/// another node is seen within this.
const REMEMBERED_FOR: Duration = Duration::from_secs(5);

/// The session type of what the offline form leaves.
pub const OFFLINE_SESSION_TYPE: &str = "offline";

/// Whether a tenant (or department) answers now, and what to say when it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub open: bool,
    pub away_message: Option<String>,
}

type Schedules = Arc<Vec<(Option<String>, BusinessHours)>>;

/// The tenants' schedules as this node last read them.
#[derive(Default)]
pub(super) struct RememberedHours(Mutex<HashMap<BusinessId, (Instant, Schedules)>>);

impl Kernel {
    async fn schedules(&self, tenant: &BusinessId) -> ServiceResult<Schedules> {
        if let Some((at, s)) = self.hours.0.lock().expect("hours lock").get(tenant) {
            if at.elapsed() < REMEMBERED_FOR {
                return Ok(s.clone());
            }
        }
        let read = Arc::new(self.store.hours(tenant).await?);
        self.hours
            .0
            .lock()
            .expect("hours lock")
            .insert(tenant.clone(), (Instant::now(), read.clone()));
        Ok(read)
    }

    /// The department's schedule if it has one, else the tenant's.
    async fn schedule_for(
        &self,
        tenant: &BusinessId,
        department: Option<&str>,
    ) -> ServiceResult<Option<BusinessHours>> {
        let schedules = self.schedules(tenant).await?;
        let own = department.and_then(|d| schedules.iter().find(|(x, _)| x.as_deref() == Some(d)));
        let hours = own.or_else(|| schedules.iter().find(|(x, _)| x.is_none()));
        Ok(hours.map(|(_, h)| h.clone()))
    }

    /// The queues routing may serve now: the tenant's (by its schedule; none: open) and
    /// each department's with a schedule of its own.
    pub(super) async fn open_queues(&self, tenant: &BusinessId) -> ServiceResult<OpenQueues> {
        let now = clock::now();
        let schedules = self.schedules(tenant).await?;
        let mut open = OpenQueues::all();
        for (department, hours) in schedules.iter() {
            match department {
                None => open.tenant = hours.is_open(now),
                Some(d) => open.departments.push((d.clone(), hours.is_open(now))),
            }
        }
        Ok(open)
    }

    /// Whether it answers now (the department's schedule, else the tenant's; none: open).
    pub(super) async fn availability(
        &self,
        tenant: &BusinessId,
        department: Option<&str>,
    ) -> ServiceResult<Availability> {
        let hours = self.schedule_for(tenant, department).await?;
        Ok(match hours {
            Some(h) if !h.is_open(clock::now()) => Availability {
                open: false,
                away_message: h.away_message.clone(),
            },
            _ => Availability {
                open: true,
                away_message: None,
            },
        })
    }
}

/// The offline form as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct OfflineMessage {
    pub business_id: Option<String>,
    pub department_id: Option<String>,
    pub name: String,
    pub email: String,
    pub message: String,
}

#[derive(Clone)]
pub struct Hours {
    k: Arc<Kernel>,
    sessions: Sessions,
    messages: Messages,
}

impl Hours {
    pub(super) fn new(k: Arc<Kernel>, sessions: Sessions, messages: Messages) -> Self {
        Self {
            k,
            sessions,
            messages,
        }
    }

    /// Set (or with `None`, remove) the tenant's schedule, or a department's.
    pub async fn set(
        &self,
        p: &Principal,
        business: Option<&str>,
        department: Option<&str>,
        hours: Option<serde_json::Value>,
    ) -> ServiceResult<Option<BusinessHours>> {
        let tenant = managed_tenant(p, business)?;
        let department = match department {
            Some(raw) => Some(self.k.existing_department(&tenant, raw).await?.to_string()),
            None => None,
        };
        let hours = hours.map(BusinessHours::parse).transpose()?;
        self.k
            .store
            .set_hours(&tenant, department.as_deref(), hours.as_ref(), clock::now())
            .await?;
        self.k.hours.0.lock().expect("hours lock").remove(&tenant);
        // A schedule that opens a queue now lets its waiting sessions be routed now.
        self.k.reroute(&tenant).await;
        Ok(hours)
    }

    /// Route every tenant with a schedule: run now and then, so that sessions waiting in a
    /// queue its hours have just opened are assigned without waiting for another change.
    /// How many were assigned.
    pub async fn route_open_queues(&self) -> ServiceResult<usize> {
        let mut assigned = 0;
        for tenant in self.k.store.tenants_with_hours().await? {
            assigned += self.k.reroute(&tenant).await;
        }
        Ok(assigned)
    }

    /// The tenant's schedules (its own: `None`), for staff.
    pub async fn list(&self, p: &Principal) -> ServiceResult<Vec<(Option<String>, BusinessHours)>> {
        if !p.is_staff() {
            return Err(ServiceError::Forbidden("business hours are set by staff"));
        }
        Ok(self.k.store.hours(&p.home_tenant()).await?)
    }

    /// Whether the tenant (or department) answers now: anyone may ask, as the widget does
    /// before it opens a conversation.
    pub async fn availability(
        &self,
        p: &Principal,
        business: Option<&str>,
        department: Option<&str>,
    ) -> ServiceResult<Availability> {
        let tenant = match business {
            Some(b) => BusinessId::parse(b)?,
            None => p.home_tenant(),
        };
        self.k.availability(&tenant, department).await
    }

    /// Where the offline form of a session's tenant (or department) is emailed, if anywhere.
    pub async fn offline_email(&self, s: &Session) -> ServiceResult<Option<String>> {
        let hours = self
            .k
            .schedule_for(&s.business_id, s.department_id.as_deref())
            .await?;
        Ok(hours.and_then(|h| h.offline_email))
    }

    /// Whether a session's tenant (or department) answers now.
    pub async fn for_session(&self, s: &Session) -> ServiceResult<Availability> {
        self.k
            .availability(&s.business_id, s.department_id.as_deref())
            .await
    }

    /// The offline form: a new session of type `offline` with the sender's contact and
    /// message, all checked before anything is written.
    pub async fn leave_message(
        &self,
        p: &Principal,
        form: OfflineMessage,
    ) -> ServiceResult<Session> {
        let content = Content::parse(&form.message, self.k.limits.max_content_chars)?;
        let contact = super::contacts::new_contact(SetContact {
            name: form.name,
            email: form.email,
            ..SetContact::default()
        })?;
        let req = OpenSession {
            business_id: form.business_id,
            department_id: form.department_id,
            session_type: Some(OFFLINE_SESSION_TYPE.into()),
            force_new: true,
            ..OpenSession::default()
        };
        let (session, _) = self.sessions.open_session(p, req).await?;
        self.write_down(p, &session, contact, content).await?;
        Ok(session)
    }

    async fn write_down(
        &self,
        p: &Principal,
        session: &Session,
        contact: NewContact,
        content: Content,
    ) -> ServiceResult<()> {
        self.k
            .store
            .upsert_contact(session.id, contact, clock::now())
            .await?;
        self.messages
            .append(p, session, content, None, Vec::new())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::domain::{SessionStatus, UserId};
    use crate::store::HoursStore;

    /// Open all week in UTC, or closed today by a holiday.
    fn schedule(closed_today: bool) -> BusinessHours {
        let all_day = serde_json::json!([["00:00", "23:59"]]);
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let holidays = match closed_today {
            true => vec![clock::now().format("%Y-%m-%d").to_string()],
            false => Vec::new(),
        };
        BusinessHours::parse(serde_json::json!({
            "time_zone": "UTC",
            "weekly": days.map(|d| (d.to_owned(), all_day.clone())).into_iter().collect::<serde_json::Map<_, _>>(),
            "holidays": holidays,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn sessions_waiting_while_closed_are_routed_once_hours_begin() {
        let desk = desk();
        let shop = BusinessId::parse("shop").unwrap();
        desk.routing
            .set_tenant_settings(&admin("boss"), None, Some("auto"), None, None, None)
            .await
            .unwrap();
        let closed = serde_json::to_value(schedule(true)).unwrap();
        desk.hours
            .set(&admin("boss"), None, None, Some(closed))
            .await
            .unwrap();
        desk.directory
            .staff_connection(&agent("ada"), 1)
            .await
            .unwrap();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let s = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!(
            s.status,
            SessionStatus::Waiting,
            "closed: nobody is given it"
        );
        assert_eq!(desk.hours.route_open_queues().await.unwrap(), 0);
        // The hours begin: the stored schedule now says open, as the clock would, once this
        // node's remembered copy has lapsed.
        desk.store
            .set_hours(&shop, None, Some(&schedule(false)), clock::now())
            .await
            .unwrap();
        desk.hours.k.hours.0.lock().unwrap().clear();
        assert_eq!(desk.hours.route_open_queues().await.unwrap(), 1);
        let now = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!(now.agent_id.as_ref().map(UserId::as_str), Some("ada"));
    }
}
