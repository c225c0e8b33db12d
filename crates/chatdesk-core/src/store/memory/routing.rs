//! Departments, agents, tenant settings and queues in memory.

use super::*;
use crate::domain::{Agent, DepartmentName};
use crate::routing::{self, Candidate};

impl State {
    fn department(&self, tenant: &BusinessId, id: uuid::Uuid) -> Option<Department> {
        let row = self
            .departments
            .iter()
            .find(|d| !d.deleted && d.value.id == id && &d.value.business_id == tenant)?;
        let agents = self
            .members
            .range((id, String::new())..)
            .take_while(|(d, _)| *d == id)
            .filter_map(|(_, a)| UserId::parse(a).ok())
            .collect();
        Some(Department {
            agents,
            ..row.value.clone()
        })
    }

    fn name_taken(&self, tenant: &BusinessId, name: &DepartmentName, by_other: uuid::Uuid) -> bool {
        self.departments.iter().any(|d| {
            !d.deleted
                && &d.value.business_id == tenant
                && d.value.name == *name
                && d.value.id != by_other
        })
    }

    fn agent(&self, tenant: &str, agent: &str) -> Option<Agent> {
        let a = self.agents.get(&(tenant.to_owned(), agent.to_owned()))?;
        Some(Agent {
            business_id: BusinessId::parse(tenant).ok()?,
            agent_id: UserId::parse(agent).ok()?,
            max_concurrent: a.max_concurrent,
            presence: a.presence,
            connections: a.connections,
            active_sessions: self.load(tenant, agent),
            updated_at: a.updated_at,
        })
    }

    fn settings_of(&self, tenant: &BusinessId) -> TenantSettings {
        self.settings.get(tenant).copied().unwrap_or_default()
    }

    /// Sessions waiting in `s`'s queue up to and including it.
    fn place(&self, s: &Session) -> i64 {
        self.live_sessions()
            .filter(|o| {
                o.status == SessionStatus::Waiting
                    && o.business_id == s.business_id
                    && o.department_id == s.department_id
                    && o.queue_key() <= s.queue_key()
            })
            .count() as i64
    }
}

fn taken(name: &DepartmentName) -> StoreError {
    StoreError::Conflict(format!("a department is named {}", name.as_str()))
}

#[async_trait]
impl RoutingStore for MemoryStore {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let mut state = self.lock();
        let id = uuid::Uuid::now_v7();
        if state.name_taken(business_id, name, id) {
            return Err(taken(name));
        }
        let department = Department {
            id,
            business_id: business_id.clone(),
            name: name.clone(),
            agents: Vec::new(),
            created_at: at,
            updated_at: at,
        };
        state.departments.push(Row::live(department.clone()));
        Ok(department)
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let state = self.lock();
        let mut found: Vec<Department> = state
            .departments
            .iter()
            .filter(|d| !d.deleted && &d.value.business_id == business_id)
            .filter_map(|d| state.department(business_id, d.value.id))
            .collect();
        found.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(found)
    }

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<Department>> {
        Ok(self.lock().department(business_id, id))
    }

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Department>> {
        let mut state = self.lock();
        if state.department(business_id, id).is_none() {
            return Ok(None);
        }
        if state.name_taken(business_id, name, id) {
            return Err(taken(name));
        }
        if let Some(d) = state
            .departments
            .iter_mut()
            .find(|d| !d.deleted && d.value.id == id)
        {
            d.value.name = name.clone();
            d.value.updated_at = at;
        }
        Ok(state.department(business_id, id))
    }

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        _at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let found = state
            .departments
            .iter_mut()
            .find(|d| !d.deleted && d.value.id == id && &d.value.business_id == business_id);
        Ok(found.map(|d| d.deleted = true).is_some())
    }

    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<Department>> {
        let mut state = self.lock();
        if state.department(business_id, id).is_none() {
            return Ok(None);
        }
        let key = (id, agent.as_str().to_owned());
        if member {
            state.members.insert(key);
        } else {
            state.members.remove(&key);
        }
        Ok(state.department(business_id, id))
    }

    async fn node_alive(&self, node: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.lock();
        let seen = state.nodes.entry(node.to_owned()).or_insert(at);
        *seen = (*seen).max(at);
        Ok(())
    }

    async fn forget_silent_nodes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut state = self.lock();
        let silent: Vec<String> = state
            .nodes
            .iter()
            .filter(|(_, seen)| **seen < before)
            .map(|(node, _)| node.clone())
            .collect();
        for node in &silent {
            state.nodes.remove(node);
            let theirs: Vec<_> = state
                .node_connections
                .keys()
                .filter(|(n, _, _)| n == node)
                .cloned()
                .collect();
            for key in theirs {
                let count = state.node_connections.remove(&key).unwrap_or(0);
                let (_, tenant, agent) = key;
                if let Some(a) = state.agents.get_mut(&(tenant, agent)) {
                    a.connections = (a.connections - count).max(0);
                }
            }
        }
        Ok(silent.len() as u64)
    }

    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<Presence>,
        connections: Connections<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<Agent> {
        let mut state = self.lock();
        let mut applied = 0;
        if connections.delta != 0 {
            let node = connections.node.to_owned();
            let seen = state.nodes.entry(node.clone()).or_insert(at);
            *seen = (*seen).max(at);
            let key = (
                node,
                business_id.as_str().to_owned(),
                agent.as_str().to_owned(),
            );
            let count = state.node_connections.entry(key).or_insert(0);
            let before = *count;
            *count = (before + connections.delta).max(0);
            applied = *count - before;
        }
        let initial = state.settings_of(business_id).initial_presence;
        let key = (business_id.as_str().to_owned(), agent.as_str().to_owned());
        let stored = state.agents.entry(key).or_insert(StoredAgent {
            max_concurrent: 5,
            presence: initial,
            connections: 0,
            updated_at: at,
        });
        if let Some(max) = max_concurrent {
            stored.max_concurrent = max;
        }
        if let Some(presence) = presence {
            stored.presence = presence;
        }
        stored.connections = (stored.connections + applied).max(0);
        stored.updated_at = at;
        state
            .agent(business_id.as_str(), agent.as_str())
            .ok_or_else(|| missing("agent"))
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let state = self.lock();
        Ok(state
            .agents
            .keys()
            .filter(|(tenant, _)| tenant == business_id.as_str())
            .filter_map(|(tenant, agent)| state.agent(tenant, agent))
            .collect())
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        Ok(self.lock().settings_of(business_id))
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        let state = self.lock();
        Ok(state
            .settings
            .iter()
            .filter_map(|(tenant, s)| Some((tenant.clone(), s.idle_timeout_secs?)))
            .collect())
    }

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        _at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings> {
        self.lock().settings.insert(business_id.clone(), settings);
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        open: &routing::OpenQueues,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let mut state = self.lock();
        let tenant = business_id.as_str();
        let agents = state
            .agents
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .filter_map(|((_, agent), a)| {
                Some(Candidate {
                    agent_id: UserId::parse(agent).ok()?,
                    presence: a.presence,
                    connections: a.connections,
                    max_concurrent: a.max_concurrent,
                    load: state.load(tenant, agent),
                    departments: Vec::new(),
                })
            })
            .collect();
        let members = state.members.iter().cloned();
        let agents = routing::with_memberships(agents, members);
        let mut waiting: Vec<&Session> = state
            .live_sessions()
            .filter(|s| {
                &s.business_id == business_id
                    && s.status == SessionStatus::Waiting
                    && s.agent_id.is_none()
                    && open.serves(s.department_id.as_deref())
            })
            .collect();
        waiting.sort_by_key(|s| s.queue_key());
        let pick = waiting.iter().find_map(|s| {
            let agent = routing::choose(s.department_id.as_deref(), &agents)?;
            Some((s.id, agent.clone()))
        });
        let Some((id, agent)) = pick else {
            return Ok(None);
        };
        let s = state.session_mut(id).ok_or_else(|| missing("session"))?;
        s.agent_id = Some(agent);
        s.status = SessionStatus::Active;
        s.updated_at = at;
        let assigned = s.clone();
        state.queue(id, WebhookEvent::SessionAssigned, None, at);
        Ok(Some(assigned))
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        Ok(self.lock().place(session))
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let state = self.lock();
        let mut waiting: Vec<&Session> = state
            .live_sessions()
            .filter(|s| &s.business_id == business_id && s.status == SessionStatus::Waiting)
            .collect();
        waiting.sort_by_key(|s| s.queue_key());
        Ok(waiting
            .into_iter()
            .take(limit as usize)
            .map(|s| (s.clone(), state.place(s)))
            .collect())
    }
}
