//! Routing: departments, agents, tenant settings, queues and the next assignment.

use super::*;
use chatdesk_core::domain::QUEUE_RANK_SQL;
use chatdesk_core::routing::{self, Candidate};

/// The first waiting session of the tenant, in queue order, that `routing::choose` gives an
/// agent, and that agent.
async fn pick(
    tx: &mut PgConnection,
    tenant: &BusinessId,
    open: &routing::OpenQueues,
) -> StoreResult<Option<(SessionId, UserId)>> {
    let rows = sqlx::query(
        "SELECT a.agent_id, a.presence, a.connections, a.max_concurrent, \
         (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id AND x.agent_id = a.agent_id \
          AND x.status <> 'closed' AND x.deleted_at IS NULL) AS load \
         FROM agents a WHERE a.business_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let agents = rows
        .iter()
        .map(|r| {
            let text = |col: &str| r.try_get::<String, _>(col).map_err(corrupt);
            let int = |col: &str| r.try_get::<i64, _>(col).map_err(corrupt);
            Ok(Candidate {
                agent_id: UserId::parse(&text("agent_id")?).map_err(corrupt)?,
                presence: Presence::parse(&text("presence")?).map_err(corrupt)?,
                connections: int("connections")?,
                max_concurrent: int("max_concurrent")?,
                load: int("load")?,
                departments: Vec::new(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    if !agents.iter().any(Candidate::available) {
        return Ok(None);
    }
    let members: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "SELECT department_id, agent_id FROM department_members \
         WHERE agent_id IN (SELECT agent_id FROM agents WHERE business_id = $1)",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let agents = routing::with_memberships(agents, members);
    let page = format!(
        "SELECT id, {QUEUE_RANK_SQL}::BIGINT AS queue_rank, number, department_id FROM sessions \
         WHERE business_id = $1 AND status = 'waiting' AND deleted_at IS NULL AND agent_id IS NULL \
         AND ({QUEUE_RANK_SQL}, number) > ($2, $3) ORDER BY {QUEUE_RANK_SQL}, number LIMIT $4"
    );
    let mut after = (-1i64, 0i64);
    loop {
        let waiting: Vec<(uuid::Uuid, i64, i64, Option<String>)> = sqlx::query_as(&page)
            .bind(tenant.as_str())
            .bind(after.0)
            .bind(after.1)
            .bind(i64::from(routing::WAITING_PAGE))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        for (id, _, _, department) in waiting
            .iter()
            .filter(|(_, _, _, d)| open.serves(d.as_deref()))
        {
            if let Some(agent) = routing::choose(department.as_deref(), &agents) {
                return Ok(Some((SessionId::from_uuid(*id), agent.clone())));
            }
        }
        match waiting.last() {
            Some((_, rank, number, _)) if waiting.len() == routing::WAITING_PAGE as usize => {
                after = (*rank, *number)
            }
            _ => return Ok(None),
        }
    }
}

#[async_trait]
impl RoutingStore for PgStore {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let row = sqlx::query(
            "INSERT INTO departments (id, business_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, business_id, name, created_at, updated_at",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(business_id.as_str())
        .bind(name.as_str())
        .bind(at)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        rows::department(&rows::PgRowRef(&row), Vec::new())
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = $1 AND deleted_at IS NULL ORDER BY name",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get("id").map_err(corrupt)?;
            out.push(rows::department(
                &rows::PgRowRef(r),
                self.members(id).await?,
            )?);
        }
        Ok(out)
    }

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<Department>> {
        let row = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some(r) => Ok(Some(rows::department(
                &rows::PgRowRef(&r),
                self.members(id).await?,
            )?)),
            None => Ok(None),
        }
    }

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Department>> {
        let done = sqlx::query("UPDATE departments SET name = $1, updated_at = $2 WHERE business_id = $3 AND id = $4 AND deleted_at IS NULL")
            .bind(name.as_str())
            .bind(at)
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_department(business_id, id).await
    }

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE departments SET deleted_at = $1 WHERE business_id = $2 AND id = $3 AND deleted_at IS NULL")
            .bind(at)
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<Department>> {
        if self.get_department(business_id, id).await?.is_none() {
            return Ok(None);
        }
        let sql = if member {
            "INSERT INTO department_members (department_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM department_members WHERE department_id = $1 AND agent_id = $2"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(agent.as_str())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        self.get_department(business_id, id).await
    }

    async fn node_alive(&self, node: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(NODE_ALIVE)
            .bind(node)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn forget_silent_nodes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Locked, so that two nodes forgetting at once take each count off once.
        let silent: Vec<String> = sqlx::query_scalar(
            "SELECT node_id FROM nodes WHERE seen_at < $1 ORDER BY node_id FOR UPDATE SKIP LOCKED",
        )
        .bind(before)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if silent.is_empty() {
            return Ok(0);
        }
        sqlx::query(
            "UPDATE agents a SET connections = GREATEST(a.connections - gone.n, 0) \
             FROM (SELECT business_id, agent_id, SUM(connections) AS n FROM node_connections \
                   WHERE node_id = ANY($1) GROUP BY business_id, agent_id) gone \
             WHERE a.business_id = gone.business_id AND a.agent_id = gone.agent_id",
        )
        .bind(&silent)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM node_connections WHERE node_id = ANY($1)")
            .bind(&silent)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM nodes WHERE node_id = ANY($1)")
            .bind(&silent)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The node's rows before the agent's, in the order `forget_silent_nodes` locks them.
        let applied = match connections.delta {
            0 => 0,
            _ => count_on_node(&mut tx, connections, business_id, agent, at).await?,
        };
        sqlx::query(
            "INSERT INTO agents (business_id, agent_id, presence, updated_at) VALUES ($1, $2, \
             COALESCE((SELECT initial_presence FROM tenant_settings WHERE business_id = $1), 'online'), $3) \
             ON CONFLICT DO NOTHING",
        )
            .bind(business_id.as_str())
            .bind(agent.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE agents SET max_concurrent = COALESCE($1::bigint, max_concurrent), presence = COALESCE($2::text, presence), \
             connections = GREATEST(connections + $3, 0), updated_at = $4 WHERE business_id = $5 AND agent_id = $6",
        )
        .bind(max_concurrent)
        .bind(presence.map(Presence::as_str))
        .bind(applied)
        .bind(at)
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = $1 AND a.agent_id = $2",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let out = rows::agent(&rows::PgRowRef(&row))?;
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = $1 ORDER BY a.agent_id",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::agent(&rows::PgRowRef(r)))
            .collect()
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        let row =
            sqlx::query("SELECT routing, allow_reopen, idle_timeout_secs, initial_presence FROM tenant_settings WHERE business_id = $1")
                .bind(business_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        match row {
            None => Ok(TenantSettings::default()),
            Some(r) => Ok(TenantSettings {
                auto_routing: r.try_get::<String, _>("routing").map_err(corrupt)? == "auto",
                allow_reopen: r.try_get("allow_reopen").map_err(corrupt)?,
                idle_timeout_secs: r.try_get("idle_timeout_secs").map_err(corrupt)?,
                initial_presence: Presence::parse(
                    &r.try_get::<String, _>("initial_presence")
                        .map_err(corrupt)?,
                )
                .map_err(corrupt)?,
            }),
        }
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        let rows = sqlx::query("SELECT business_id, idle_timeout_secs FROM tenant_settings WHERE idle_timeout_secs IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let b: String = r.try_get("business_id").map_err(corrupt)?;
                Ok((
                    BusinessId::parse(&b).map_err(corrupt)?,
                    r.try_get("idle_timeout_secs").map_err(corrupt)?,
                ))
            })
            .collect()
    }

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings> {
        sqlx::query(
            "INSERT INTO tenant_settings (business_id, routing, allow_reopen, idle_timeout_secs, initial_presence, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (business_id) DO UPDATE SET routing = excluded.routing, \
             allow_reopen = excluded.allow_reopen, idle_timeout_secs = excluded.idle_timeout_secs, \
             initial_presence = excluded.initial_presence, updated_at = excluded.updated_at",
        )
        .bind(business_id.as_str())
        .bind(if settings.auto_routing { "auto" } else { "manual" })
        .bind(settings.allow_reopen)
        .bind(settings.idle_timeout_secs)
        .bind(settings.initial_presence.as_str())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        open: &routing::OpenQueues,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // One routing step at a time per tenant, across connections and nodes.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 2))")
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let Some((session, agent)) = pick(&mut tx, business_id, open).await? else {
            return Ok(None);
        };
        let (session, agent) = (session.as_uuid(), agent.as_str().to_owned());
        let row = sqlx::query(&format!(
            "UPDATE sessions SET agent_id = $1, status = 'active', updated_at = $2 \
             WHERE id = $3 AND status = 'waiting' AND agent_id IS NULL RETURNING {SESSION_COLUMNS}"
        ))
        .bind(&agent)
        .bind(at)
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let assigned = row
            .as_ref()
            .map(|r| rows::session(&rows::PgRowRef(r)))
            .transpose()?;
        if let Some(s) = &assigned {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionAssigned, None, at).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(assigned)
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        let (rank, number) = session.queue_key();
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM sessions WHERE business_id = $1 AND status = 'waiting' AND deleted_at IS NULL \
             AND COALESCE(department_id, '') = COALESCE($2, '') AND ({QUEUE_RANK_SQL}, number) <= ($3, $4)"
        ))
        .bind(session.business_id.as_str())
        .bind(session.department_id.clone())
        .bind(rank)
        .bind(number)
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, ROW_NUMBER() OVER (PARTITION BY COALESCE(s.department_id, '') \
             ORDER BY {QUEUE_RANK_SQL}, s.number) AS position \
             FROM sessions s WHERE s.business_id = $1 AND s.status = 'waiting' AND s.deleted_at IS NULL \
             ORDER BY {QUEUE_RANK_SQL}, s.number LIMIT $2",
            qualified(SESSION_COLUMNS, "s")
        ))
        .bind(business_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    rows::session(&rows::PgRowRef(r))?,
                    r.try_get::<i64, _>("position").map_err(corrupt)?,
                ))
            })
            .collect()
    }
}

/// Record a node's sign of life (never moving it back).
const NODE_ALIVE: &str = "INSERT INTO nodes (node_id, seen_at) VALUES ($1, $2) \
     ON CONFLICT (node_id) DO UPDATE SET seen_at = GREATEST(nodes.seen_at, EXCLUDED.seen_at)";

/// Change an agent's connections on one node (never below zero there); how much it changed.
async fn count_on_node(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    connections: Connections<'_>,
    business_id: &BusinessId,
    agent: &UserId,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    sqlx::query(NODE_ALIVE)
        .bind(connections.node)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query(
        "INSERT INTO node_connections (node_id, business_id, agent_id, connections) \
         VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
    )
    .bind(connections.node)
    .bind(business_id.as_str())
    .bind(agent.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    // The row locked, changed, and the change read back in one statement.
    sqlx::query_scalar(
        "UPDATE node_connections nc SET connections = GREATEST(nc.connections + $4, 0) \
         FROM (SELECT connections AS before FROM node_connections \
               WHERE node_id = $1 AND business_id = $2 AND agent_id = $3 FOR UPDATE) old \
         WHERE nc.node_id = $1 AND nc.business_id = $2 AND nc.agent_id = $3 \
         RETURNING nc.connections - old.before",
    )
    .bind(connections.node)
    .bind(business_id.as_str())
    .bind(agent.as_str())
    .bind(connections.delta)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)
}
