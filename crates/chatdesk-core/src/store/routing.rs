//! Routing: departments, agents, tenant settings, queues and the next assignment.

use super::*;

#[async_trait]
pub trait RoutingStore: Send + Sync + 'static {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Department>;

    async fn list_departments(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::Department>>;

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<crate::domain::Department>>;

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::domain::Department>>;

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Add (or with `member: false`, remove) an agent. `None` if there is no such department.
    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<crate::domain::Department>>;

    /// Create the agent's record if needed (with its tenant's `initial_presence`) and apply
    /// the changes given: a new cap, a new presence, and a change in its open connections on
    /// one node (never below zero on that node; the agent's count is the sum over nodes).
    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<crate::domain::Presence>,
        connections: Connections<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Agent>;

    /// `node` (one server process) is alive at `at`.
    async fn node_alive(&self, node: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Stop counting the connections of nodes not alive since `before` (a process killed
    /// without closing its connections): each is taken off its agents' counts once, even with
    /// several nodes asking at the same moment. Returns how many nodes were forgotten.
    async fn forget_silent_nodes(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// The tenant's agents with their current load.
    async fn list_agents(&self, business_id: &BusinessId)
        -> StoreResult<Vec<crate::domain::Agent>>;

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings>;

    /// Tenants with their own idle timeout, and that timeout in seconds.
    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>>;

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings>;

    /// One routing step, atomically: the first waiting session of the tenant in queue order
    /// (by priority, urgent first, then oldest first) that has an eligible agent goes to the least-loaded one (online by choice, connected, under its
    /// cap; a member of the session's department if it has one). The session becomes
    /// `active`. Only sessions of the queues `open` serves are offered. `None` when nothing
    /// can be assigned.
    async fn assign_next(
        &self,
        business_id: &BusinessId,
        open: &crate::routing::OpenQueues,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;

    /// A waiting session's place in its department's queue (1 = next), in queue order: by
    /// priority, then oldest first ([`Session::queue_key`]).
    async fn queue_position(&self, session: &Session) -> StoreResult<i64>;

    /// Waiting sessions of a tenant in queue order, with their place in their department's
    /// queue (1 = next).
    async fn queue(&self, business_id: &BusinessId, limit: u32)
        -> StoreResult<Vec<(Session, i64)>>;
}
