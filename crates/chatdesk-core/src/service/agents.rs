//! Departments (admin CRUD and membership), agents' caps and presence. Agents see their
//! tenant's; admins and services change them.

use super::kernel::Kernel;
use super::managed_tenant;
use crate::clock;
use crate::domain::{
    max_concurrent, Agent, BusinessId, Department, DepartmentName, Invalid, Presence, UserId,
};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::{Connections, StoreError};
use std::sync::Arc;

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

/// The directory of a tenant's staff: departments, agents' caps and presence, names, and
/// API keys (`api_keys.rs`).
#[derive(Clone)]
pub struct Directory {
    pub(super) k: Arc<Kernel>,
}

impl Directory {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
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
        self.k
            .store
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
        Ok(self.k.store.list_departments(&tenant).await?)
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
        self.k
            .store
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
            .k
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
            .k
            .store
            .set_department_member(&tenant, id, &agent, member)
            .await?
            .ok_or(ServiceError::NotFound("department"))?;
        if member {
            // The agent exists in the tenant from now on, with default cap and presence.
            self.k
                .store
                .update_agent(&tenant, &agent, None, None, Connections::NONE, clock::now())
                .await?;
        }
        self.k.reroute(&tenant).await;
        Ok(department)
    }

    pub async fn agents(&self, p: &Principal, business: Option<&str>) -> ServiceResult<Vec<Agent>> {
        let tenant = self.staff_tenant(p, business)?;
        Ok(self.k.store.list_agents(&tenant).await?)
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
            .k
            .store
            .update_agent(
                &tenant,
                &agent,
                Some(cap),
                None,
                Connections::NONE,
                clock::now(),
            )
            .await?;
        self.k.reroute(&tenant).await;
        Ok(updated)
    }

    /// An agent says whether it is online, away or offline.
    pub async fn set_presence(&self, p: &Principal, status: &str) -> ServiceResult<Agent> {
        let me = self.staff_identity(p)?;
        let presence = Presence::parse(status)?;
        let updated = self
            .k
            .store
            .update_agent(
                &p.home_tenant(),
                &me,
                None,
                Some(presence),
                Connections::NONE,
                clock::now(),
            )
            .await?;
        self.k.reroute(&p.home_tenant()).await;
        Ok(updated)
    }

    /// A staff member's real-time connection to this node opened (+1) or closed (-1):
    /// presence follows.
    pub async fn staff_connection(&self, p: &Principal, delta: i64) -> ServiceResult<()> {
        if let Ok(me) = self.staff_identity(p) {
            let connections = Connections {
                node: &self.k.node,
                delta,
            };
            self.k
                .store
                .update_agent(&p.home_tenant(), &me, None, None, connections, clock::now())
                .await?;
            // A connection coming or going changes who can take sessions.
            self.k.reroute(&p.home_tenant()).await;
        }
        Ok(())
    }

    /// Say this node is alive, and stop counting the connections of nodes silent for longer
    /// than `expiry` (killed without closing them). Returns how many nodes were forgotten.
    pub async fn heartbeat(&self, expiry: std::time::Duration) -> ServiceResult<u64> {
        let now = clock::now();
        self.k.store.node_alive(&self.k.node, now).await?;
        let expiry = chrono::Duration::from_std(expiry)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(self.k.store.forget_silent_nodes(now - expiry).await?)
    }

    /// This node's id: one per process, new at every start.
    pub fn node(&self) -> &str {
        &self.k.node
    }

    /// The names people read beside these ids: a built-in account's name, else its email.
    /// Ids that are no built-in account have none.
    pub async fn display_names<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a UserId>,
    ) -> ServiceResult<std::collections::HashMap<UserId, String>> {
        let mut names = std::collections::HashMap::new();
        let distinct: std::collections::BTreeSet<&UserId> = ids.into_iter().collect();
        for id in distinct {
            if let Some(account) = self.k.staff_account(id).await? {
                let name = account
                    .name
                    .unwrap_or_else(|| account.email.as_str().to_owned());
                names.insert(id.clone(), name);
            }
        }
        Ok(names)
    }

    /// A staff member's name and email, when they are a built-in account (numeric id).
    pub async fn staff_account(&self, id: &UserId) -> ServiceResult<Option<crate::store::Account>> {
        self.k.staff_account(id).await
    }

    fn staff_identity(&self, p: &Principal) -> ServiceResult<UserId> {
        match (p.is_staff(), p.party.user_id()) {
            (true, Some(u)) => Ok(u.clone()),
            _ => Err(ServiceError::Forbidden("only agents have presence")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::OpenSession;
    use super::*;
    use crate::domain::{Email, SessionStatus};
    use crate::identity::Role;
    use crate::store::{AccountStore, NewAccount};

    #[tokio::test]
    async fn admins_shape_departments_and_staff_only_look() {
        let desk = desk();
        let boss = admin("boss");
        let billing = desk
            .directory
            .create_department(&boss, None, "Billing")
            .await
            .unwrap();
        let seen = desk
            .directory
            .departments(&agent("ada"), None)
            .await
            .unwrap();
        assert_eq!(seen.iter().map(|d| d.id).collect::<Vec<_>>(), [billing.id]);
        assert!(matches!(
            desk.directory.departments(&customer("ann"), None).await,
            Err(ServiceError::Forbidden(_))
        ));
        assert!(matches!(
            desk.directory
                .create_department(&agent("ada"), None, "Sales")
                .await,
            Err(ServiceError::Forbidden(_))
        ));
        match desk
            .directory
            .create_department(&boss, None, "Billing")
            .await
        {
            Err(ServiceError::Conflict { code, .. }) => assert_eq!(code, "department_exists"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        let missing = uuid::Uuid::now_v7().to_string();
        assert!(matches!(
            desk.directory
                .rename_department(&boss, None, &missing, "Sales")
                .await,
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(
            desk.directory
                .delete_department(&boss, None, "not-a-uuid")
                .await,
            Err(ServiceError::Invalid(_))
        ));
        // Another tenant's admin does not see or touch this one's.
        let elsewhere = Principal::user(
            UserId::parse("eve").unwrap(),
            Role::Admin,
            Some(BusinessId::parse("other").unwrap()),
        );
        assert!(desk
            .directory
            .departments(&elsewhere, None)
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            desk.directory
                .delete_department(&elsewhere, Some("shop"), &billing.id.to_string())
                .await,
            Err(ServiceError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn a_department_session_waits_for_a_member_and_goes_to_one_who_joins() {
        let desk = desk();
        let boss = admin("boss");
        desk.routing
            .set_tenant_settings(&boss, None, Some("auto"), None, None, None)
            .await
            .unwrap();
        desk.directory
            .staff_connection(&agent("ada"), 1)
            .await
            .unwrap();
        let billing = desk
            .directory
            .create_department(&boss, None, "Billing")
            .await
            .unwrap();
        let ann = customer("ann");
        let req = OpenSession {
            department_id: Some(billing.id.to_string()),
            ..OpenSession::default()
        };
        let (s, _) = desk.sessions.open_session(&ann, req).await.unwrap();
        let waiting = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!(waiting.status, SessionStatus::Waiting, "ada is no member");
        desk.directory
            .set_department_member(&boss, None, &billing.id.to_string(), "ada", true)
            .await
            .unwrap();
        let taken = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!(taken.status, SessionStatus::Active);
        assert_eq!(taken.agent_id.as_ref().map(UserId::as_str), Some("ada"));
    }

    #[tokio::test]
    async fn presence_is_the_callers_own_and_only_staff_have_one() {
        let desk = desk();
        let ada = desk
            .directory
            .set_presence(&agent("ada"), "away")
            .await
            .unwrap();
        assert_eq!(ada.presence, Presence::Away);
        assert!(matches!(
            desk.directory
                .set_presence(&customer("ann"), "online")
                .await,
            Err(ServiceError::Forbidden(_))
        ));
        assert!(matches!(
            desk.directory.set_presence(&agent("ada"), "asleep").await,
            Err(ServiceError::Invalid(_))
        ));
        assert!(matches!(
            desk.directory
                .set_agent_cap(&agent("ada"), None, "ada", 50)
                .await,
            Err(ServiceError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn names_are_built_in_accounts_names_or_emails() {
        let desk = desk();
        let mut ids = Vec::new();
        for (email, name) in [
            ("ann@example.com", Some("Ann Smith")),
            ("bo@example.com", None),
        ] {
            let account = desk
                .store
                .create_account(NewAccount {
                    email: Email::parse(email).unwrap(),
                    password_hash: "x".into(),
                    role: Role::Agent,
                    business_id: None,
                    name: name.map(str::to_owned),
                })
                .await
                .unwrap();
            ids.push(UserId::parse(&account.id.to_string()).unwrap());
        }
        ids.push(UserId::parse("not-an-account").unwrap());
        let names = desk.directory.display_names(&ids).await.unwrap();
        assert_eq!(names.get(&ids[0]).map(String::as_str), Some("Ann Smith"));
        assert_eq!(
            names.get(&ids[1]).map(String::as_str),
            Some("bo@example.com")
        );
        assert!(!names.contains_key(&ids[2]));
    }
}
