//! Routing: departments, agents, tenant settings, queues and the next assignment.

use super::*;
use chatdesk_core::domain::QUEUE_RANK_SQL;
use chatdesk_core::routing::{self, Candidate};

const DEPARTMENT_COLUMNS: &str = "id, business_id, name, created_at, updated_at";

/// A department of the tenant, with its members.
fn department(c: &Connection, business: &str, id: uuid::Uuid) -> StoreResult<Option<Department>> {
    let found = sql::first(
        c,
        &format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments \
             WHERE business_id = ?1 AND id = ?2 AND deleted_at IS NULL"
        ),
        params![business, sql::uuid(id)],
        |r| rows::department(r, members(c, id)?),
    )?;
    Ok(found)
}

fn members(c: &Connection, department: uuid::Uuid) -> StoreResult<Vec<UserId>> {
    sql::all(
        c,
        "SELECT agent_id FROM department_members WHERE department_id = ?1 ORDER BY agent_id",
        [sql::uuid(department)],
        |r| UserId::parse(&r.required_text("agent_id")?).map_err(corrupt),
    )
}

/// The first waiting session of the tenant, in queue order, that `routing::choose` gives an
/// agent, and that agent.
fn pick(
    c: &Connection,
    tenant: &str,
    open: &routing::OpenQueues,
) -> StoreResult<Option<(SessionId, UserId)>> {
    let agents = sql::all(
        c,
        "SELECT a.agent_id, a.presence, a.connections, a.max_concurrent, \
         (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id AND x.agent_id = a.agent_id \
          AND x.status <> 'closed' AND x.deleted_at IS NULL) AS load \
         FROM agents a WHERE a.business_id = ?1",
        [tenant],
        |r| {
            Ok(Candidate {
                agent_id: UserId::parse(&r.required_text("agent_id")?).map_err(corrupt)?,
                presence: Presence::parse(&r.required_text("presence")?).map_err(corrupt)?,
                connections: r.required("connections")?,
                max_concurrent: r.required("max_concurrent")?,
                load: r.required("load")?,
                departments: Vec::new(),
            })
        },
    )?;
    if !agents.iter().any(Candidate::available) {
        return Ok(None);
    }
    let members = sql::all(
        c,
        "SELECT department_id, agent_id FROM department_members \
         WHERE agent_id IN (SELECT agent_id FROM agents WHERE business_id = ?1)",
        [tenant],
        |r| {
            use chatdesk_core::rows::Columns;
            let department = r
                .uuid("department_id")?
                .ok_or_else(|| corrupt("department_id is NULL"))?;
            Ok((department, r.required_text("agent_id")?))
        },
    )?;
    let agents = routing::with_memberships(agents, members);
    let page = format!(
        "SELECT id, {QUEUE_RANK_SQL} AS queue_rank, number, department_id FROM sessions \
         WHERE business_id = ?1 AND status = 'waiting' AND deleted_at IS NULL AND agent_id IS NULL \
         AND ({QUEUE_RANK_SQL}, number) > (?2, ?3) ORDER BY {QUEUE_RANK_SQL}, number LIMIT ?4"
    );
    let mut after = (-1i64, 0i64);
    loop {
        let waiting = sql::all(
            c,
            &page,
            params![tenant, after.0, after.1, routing::WAITING_PAGE],
            |r| {
                use chatdesk_core::rows::Columns;
                let id = r.uuid("id")?.ok_or_else(|| corrupt("id is NULL"))?;
                Ok((
                    SessionId::from_uuid(id),
                    (
                        r.required::<i64>("queue_rank")?,
                        r.required::<i64>("number")?,
                    ),
                    r.text("department_id")?,
                ))
            },
        )?;
        for (id, _, department) in waiting.iter().filter(|(_, _, d)| open.serves(d.as_deref())) {
            if let Some(agent) = routing::choose(department.as_deref(), &agents) {
                return Ok(Some((*id, agent.clone())));
            }
        }
        match waiting.last() {
            Some((_, key, _)) if waiting.len() == routing::WAITING_PAGE as usize => after = *key,
            _ => return Ok(None),
        }
    }
}

#[async_trait]
impl RoutingStore for SqliteStore {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let (business, name) = (business_id.as_str().to_owned(), name.as_str().to_owned());
        self.write(move |c| {
            sql::first(
                c,
                &format!(
                    "INSERT INTO departments (id, business_id, name, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?4) RETURNING {DEPARTMENT_COLUMNS}"
                ),
                params![sql::uuid(uuid::Uuid::now_v7()), business, name, micros(at)],
                |r| rows::department(r, Vec::new()),
            )?
            .ok_or_else(|| corrupt("an inserted department was not returned"))
        })
        .await
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let business = business_id.as_str().to_owned();
        self.read(move |c| {
            let ids = sql::all(
                c,
                "SELECT id FROM departments WHERE business_id = ?1 AND deleted_at IS NULL ORDER BY name",
                [&business],
                |r| {
                    use chatdesk_core::rows::Columns;
                    r.uuid("id")?.ok_or_else(|| corrupt("id is NULL"))
                },
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(department(c, &business, id)?);
            }
            Ok(out)
        })
        .await
    }

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<Department>> {
        let business = business_id.as_str().to_owned();
        self.read(move |c| department(c, &business, id)).await
    }

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Department>> {
        let (business, name) = (business_id.as_str().to_owned(), name.as_str().to_owned());
        self.write(move |c| {
            let renamed = sql::execute(
                c,
                "UPDATE departments SET name = ?1, updated_at = ?2 \
                 WHERE business_id = ?3 AND id = ?4 AND deleted_at IS NULL",
                params![name, micros(at), business, sql::uuid(id)],
            )?;
            if renamed == 0 {
                return Ok(None);
            }
            department(c, &business, id)
        })
        .await
    }

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let business = business_id.as_str().to_owned();
        self.write(move |c| {
            sql::execute(
                c,
                "UPDATE departments SET deleted_at = ?1 WHERE business_id = ?2 AND id = ?3 AND deleted_at IS NULL",
                params![micros(at), business, sql::uuid(id)],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<Department>> {
        let (business, agent) = (business_id.as_str().to_owned(), agent.as_str().to_owned());
        self.write(move |c| {
            if department(c, &business, id)?.is_none() {
                return Ok(None);
            }
            let change = if member {
                "INSERT INTO department_members (department_id, agent_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
            } else {
                "DELETE FROM department_members WHERE department_id = ?1 AND agent_id = ?2"
            };
            sql::execute(c, change, params![sql::uuid(id), agent])?;
            department(c, &business, id)
        })
        .await
    }

    async fn node_alive(&self, node: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let node = node.to_owned();
        self.write(move |c| sql::execute(c, NODE_ALIVE, params![node, micros(at)]).map(drop))
            .await
    }

    async fn forget_silent_nodes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.transaction(move |tx| {
            let before = micros(before);
            // Almost always none: then no agent row is read.
            let silent: i64 = sql::value(
                tx,
                "SELECT count(*) FROM nodes WHERE seen_at < ?1",
                params![before],
            )?;
            if silent == 0 {
                return Ok(0);
            }
            sql::execute(
                tx,
                "UPDATE agents SET connections = MAX(connections - (SELECT SUM(nc.connections) \
                 FROM node_connections nc JOIN nodes n ON n.node_id = nc.node_id \
                 WHERE n.seen_at < ?1 AND nc.business_id = agents.business_id \
                 AND nc.agent_id = agents.agent_id), 0) \
                 WHERE EXISTS (SELECT 1 FROM node_connections nc JOIN nodes n ON n.node_id = nc.node_id \
                 WHERE n.seen_at < ?1 AND nc.business_id = agents.business_id AND nc.agent_id = agents.agent_id)",
                params![before],
            )?;
            sql::execute(
                tx,
                "DELETE FROM node_connections WHERE node_id IN (SELECT node_id FROM nodes WHERE seen_at < ?1)",
                params![before],
            )?;
            let forgotten = sql::execute(tx, "DELETE FROM nodes WHERE seen_at < ?1", params![before])?;
            Ok(forgotten as u64)
        })
        .await
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
        let (business, agent) = (business_id.as_str().to_owned(), agent.as_str().to_owned());
        let (node, delta) = (connections.node.to_owned(), connections.delta);
        self.transaction(move |tx| {
            let applied = match delta {
                0 => 0,
                _ => count_on_node(tx, &node, &business, &agent, delta, micros(at))?,
            };
            sql::execute(
                tx,
                "INSERT INTO agents (business_id, agent_id, presence, updated_at) VALUES (?1, ?2, \
                 COALESCE((SELECT initial_presence FROM tenant_settings WHERE business_id = ?1), 'online'), ?3) \
                 ON CONFLICT DO NOTHING",
                params![business, agent, micros(at)],
            )?;
            sql::execute(
                tx,
                "UPDATE agents SET max_concurrent = COALESCE(?1, max_concurrent), presence = COALESCE(?2, presence), \
                 connections = MAX(connections + ?3, 0), updated_at = ?4 WHERE business_id = ?5 AND agent_id = ?6",
                params![
                    max_concurrent,
                    presence.map(Presence::as_str),
                    applied,
                    micros(at),
                    business,
                    agent
                ],
            )?;
            sql::first(
                tx,
                &format!(
                    "SELECT {} FROM agents a WHERE a.business_id = ?1 AND a.agent_id = ?2",
                    rows::AGENT_COLUMNS
                ),
                params![business, agent],
                |r| rows::agent(r),
            )?
            .ok_or_else(|| corrupt("an agent just written was not found"))
        })
        .await
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let business = business_id.as_str().to_owned();
        self.read(move |c| {
            sql::all(
                c,
                &format!(
                    "SELECT {} FROM agents a WHERE a.business_id = ?1 ORDER BY a.agent_id",
                    rows::AGENT_COLUMNS
                ),
                [business],
                |r| rows::agent(r),
            )
        })
        .await
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        let business = business_id.clone();
        self.read(move |c| reader::tenant_settings(c, &business))
            .await
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        self.read(|c| {
            sql::all(
                c,
                "SELECT business_id, idle_timeout_secs FROM tenant_settings WHERE idle_timeout_secs IS NOT NULL",
                [],
                |r| {
                    let business = BusinessId::parse(&r.required_text("business_id")?).map_err(corrupt)?;
                    Ok((business, r.required("idle_timeout_secs")?))
                },
            )
        })
        .await
    }

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings> {
        let business = business_id.as_str().to_owned();
        self.write(move |c| {
            sql::execute(
                c,
                "INSERT INTO tenant_settings (business_id, routing, allow_reopen, idle_timeout_secs, initial_presence, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (business_id) DO UPDATE SET routing = excluded.routing, \
                 allow_reopen = excluded.allow_reopen, idle_timeout_secs = excluded.idle_timeout_secs, \
                 initial_presence = excluded.initial_presence, updated_at = excluded.updated_at",
                params![
                    business,
                    if settings.auto_routing { "auto" } else { "manual" },
                    settings.allow_reopen,
                    settings.idle_timeout_secs,
                    settings.initial_presence.as_str(),
                    micros(at)
                ],
            )
        })
        .await?;
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        open: &routing::OpenQueues,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let business = business_id.as_str().to_owned();
        let open = open.clone();
        self.transaction(move |tx| {
            let Some((session, agent)) = pick(tx, &business, &open)? else {
                return Ok(None);
            };
            let assigned = sql::first(
                tx,
                &format!(
                    "UPDATE sessions SET agent_id = ?1, status = 'active', updated_at = ?2 \
                     WHERE id = ?3 AND status = 'waiting' AND agent_id IS NULL RETURNING {SESSION_COLUMNS}"
                ),
                params![agent.as_str(), micros(at), sql::uuid(session.as_uuid())],
                |r| rows::session(r),
            )?;
            if assigned.is_some() {
                let id = session.as_uuid().into_bytes();
                outbox::queue(tx, &id, WebhookEvent::SessionAssigned, None, at)?;
            }
            Ok(assigned)
        })
        .await
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        let session = session.clone();
        self.read(move |c| reader::queue_position(c, &session))
            .await
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let business = business_id.as_str().to_owned();
        self.read(move |c| {
            sql::all(
                c,
                &format!(
                    "SELECT {}, ROW_NUMBER() OVER (PARTITION BY COALESCE(s.department_id, '') \
                     ORDER BY {QUEUE_RANK_SQL}, s.number) AS position \
                     FROM sessions s WHERE s.business_id = ?1 AND s.status = 'waiting' AND s.deleted_at IS NULL \
                     ORDER BY {QUEUE_RANK_SQL}, s.number LIMIT ?2",
                    qualified(SESSION_COLUMNS, "s")
                ),
                params![business, limit],
                |r| Ok((rows::session(r)?, r.required::<i64>("position")?)),
            )
        })
        .await
    }
}

/// Record a node's sign of life (never moving it back).
const NODE_ALIVE: &str = "INSERT INTO nodes (node_id, seen_at) VALUES (?1, ?2) \
     ON CONFLICT (node_id) DO UPDATE SET seen_at = MAX(seen_at, excluded.seen_at)";

/// Change an agent's connections on one node (never below zero there); how much it changed.
fn count_on_node(
    tx: &rusqlite::Transaction<'_>,
    node: &str,
    business: &str,
    agent: &str,
    delta: i64,
    at: i64,
) -> StoreResult<i64> {
    sql::execute(tx, NODE_ALIVE, params![node, at])?;
    let before: i64 = sql::value(
        tx,
        "SELECT COALESCE((SELECT connections FROM node_connections \
         WHERE node_id = ?1 AND business_id = ?2 AND agent_id = ?3), 0)",
        params![node, business, agent],
    )?;
    let after = (before + delta).max(0);
    sql::execute(
        tx,
        "INSERT INTO node_connections (node_id, business_id, agent_id, connections) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (node_id, business_id, agent_id) DO UPDATE SET connections = excluded.connections",
        params![node, business, agent, after],
    )?;
    Ok(after - before)
}
