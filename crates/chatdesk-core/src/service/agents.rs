//! Departments (admin CRUD and membership), agents' caps and presence. Agents see their
//! tenant's; admins and services change them.

use super::managed_tenant;
use super::SessionService;
use crate::clock;
use crate::domain::{
    max_concurrent, Agent, BusinessId, Department, DepartmentName, Invalid, Presence, UserId,
};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::StoreError;

fn department_id(raw: &str) -> Result<uuid::Uuid, Invalid> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| Invalid::new("department_id", "invalid_id", "a department id is a UUID"))
}

fn taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => {
            ServiceError::conflict("department_exists", "a department with that name exists")
        }
        other => other.into(),
    }
}

impl SessionService {
    /// A department id from a request, which must name a department of this tenant.
    pub(super) async fn existing_department(
        &self,
        tenant: &BusinessId,
        raw: &str,
    ) -> ServiceResult<uuid::Uuid> {
        let id = uuid::Uuid::parse_str(raw.trim()).map_err(|_| {
            Invalid::new(
                "department_id",
                "invalid_department",
                "department_id must be a department's id",
            )
        })?;
        match self.store.get_department(tenant, id).await? {
            Some(_) => Ok(id),
            None => Err(Invalid::new(
                "department_id",
                "invalid_department",
                "no such department in this business",
            )
            .into()),
        }
    }

    /// The tenant whose agents and departments `p` may look at: staff, their own (or, for an
    /// unscoped admin, the one asked for).
    fn staff_tenant(&self, p: &Principal, asked: Option<&str>) -> ServiceResult<BusinessId> {
        if !p.is_staff() {
            return Err(ServiceError::Forbidden(
                "only staff see agents and departments",
            ));
        }
        let tenant = match asked {
            Some(b) => BusinessId::parse(b)?,
            None => p.home_tenant(),
        };
        if !crate::authz::can_use_tenant(p, &tenant) {
            return Err(ServiceError::Forbidden(
                "this credential may not look at that business",
            ));
        }
        Ok(tenant)
    }

    pub async fn create_department(
        &self,
        p: &Principal,
        business: Option<&str>,
        name: &str,
    ) -> ServiceResult<Department> {
        let tenant = managed_tenant(p, business)?;
        let name = DepartmentName::parse(name)?;
        self.store
            .create_department(&tenant, &name, clock::now())
            .await
            .map_err(taken)
    }

    pub async fn departments(
        &self,
        p: &Principal,
        business: Option<&str>,
    ) -> ServiceResult<Vec<Department>> {
        let tenant = self.staff_tenant(p, business)?;
        Ok(self.store.list_departments(&tenant).await?)
    }

    pub async fn rename_department(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: &str,
        name: &str,
    ) -> ServiceResult<Department> {
        let tenant = managed_tenant(p, business)?;
        let (id, name) = (department_id(id)?, DepartmentName::parse(name)?);
        self.store
            .rename_department(&tenant, id, &name, clock::now())
            .await
            .map_err(taken)?
            .ok_or(ServiceError::NotFound("department"))
    }

    pub async fn delete_department(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: &str,
    ) -> ServiceResult<()> {
        let tenant = managed_tenant(p, business)?;
        if self
            .store
            .delete_department(&tenant, department_id(id)?, clock::now())
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("department"))
        }
    }

    /// Add an agent to a department, or with `member: false` take it out.
    pub async fn set_department_member(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: &str,
        agent: &str,
        member: bool,
    ) -> ServiceResult<Department> {
        let tenant = managed_tenant(p, business)?;
        let (id, agent) = (department_id(id)?, UserId::parse(agent)?);
        let department = self
            .store
            .set_department_member(&tenant, id, &agent, member)
            .await?
            .ok_or(ServiceError::NotFound("department"))?;
        if member {
            // The agent exists in the tenant from now on, with default cap and presence.
            self.store
                .update_agent(&tenant, &agent, None, None, 0, clock::now())
                .await?;
        }
        self.reroute(&tenant).await;
        Ok(department)
    }

    pub async fn agents(&self, p: &Principal, business: Option<&str>) -> ServiceResult<Vec<Agent>> {
        let tenant = self.staff_tenant(p, business)?;
        Ok(self.store.list_agents(&tenant).await?)
    }

    /// An admin sets how many chats an agent takes at once.
    pub async fn set_agent_cap(
        &self,
        p: &Principal,
        business: Option<&str>,
        agent: &str,
        cap: i64,
    ) -> ServiceResult<Agent> {
        let tenant = managed_tenant(p, business)?;
        let (agent, cap) = (UserId::parse(agent)?, max_concurrent(cap)?);
        let updated = self
            .store
            .update_agent(&tenant, &agent, Some(cap), None, 0, clock::now())
            .await?;
        self.reroute(&tenant).await;
        Ok(updated)
    }

    /// An agent says whether it is online, away or offline.
    pub async fn set_presence(&self, p: &Principal, status: &str) -> ServiceResult<Agent> {
        let me = self.staff_identity(p)?;
        let presence = Presence::parse(status)?;
        let updated = self
            .store
            .update_agent(&p.home_tenant(), &me, None, Some(presence), 0, clock::now())
            .await?;
        self.reroute(&p.home_tenant()).await;
        Ok(updated)
    }

    /// A staff member's real-time connection opened (+1) or closed (-1): presence follows.
    pub async fn staff_connection(&self, p: &Principal, delta: i64) -> ServiceResult<()> {
        if let Ok(me) = self.staff_identity(p) {
            self.store
                .update_agent(&p.home_tenant(), &me, None, None, delta, clock::now())
                .await?;
            // A connection coming or going changes who can take sessions.
            self.reroute(&p.home_tenant()).await;
        }
        Ok(())
    }

    fn staff_identity(&self, p: &Principal) -> ServiceResult<UserId> {
        match (p.is_staff(), p.party.user_id()) {
            (true, Some(u)) => Ok(u.clone()),
            _ => Err(ServiceError::Forbidden("only agents have presence")),
        }
    }
}
