//! Routing: departments, agents, tenant settings, queues and the next assignment.

use super::*;

#[async_trait]
impl RoutingStore for SqliteStore {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Department> {
        let row = sqlx::query(
            "INSERT INTO departments (id, business_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING id, business_id, name, created_at, updated_at",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(business_id.as_str())
        .bind(name.as_str())
        .bind(micros(at))
        .bind(micros(at))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::department(&rows::SqliteRowRef(&row), Vec::new())
    }

    async fn list_departments(&self, business_id: &BusinessId) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, business_id, name, created_at, updated_at FROM departments \
             WHERE business_id = ? AND deleted_at IS NULL ORDER BY name",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get("id").map_err(corrupt)?;
            out.push(rows::department(
                &rows::SqliteRowRef(r),
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
             WHERE business_id = ? AND id = ? AND deleted_at IS NULL",
        )
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?;
        match row {
            Some(r) => Ok(Some(rows::department(
                &rows::SqliteRowRef(&r),
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
        let done = sqlx::query("UPDATE departments SET name = ?, updated_at = ? WHERE business_id = ? AND id = ? AND deleted_at IS NULL")
            .bind(name.as_str())
            .bind(micros(at))
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.writer)
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
        let done = sqlx::query("UPDATE departments SET deleted_at = ? WHERE business_id = ? AND id = ? AND deleted_at IS NULL")
            .bind(micros(at))
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.writer)
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
            "INSERT INTO department_members (department_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM department_members WHERE department_id = ? AND agent_id = ?"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(agent.as_str())
            .execute(&self.writer)
            .await
            .map_err(db)?;
        self.get_department(business_id, id).await
    }

    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<Presence>,
        connections_delta: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Agent> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO agents (business_id, agent_id, presence, updated_at) VALUES (?1, ?2, \
             COALESCE((SELECT initial_presence FROM tenant_settings WHERE business_id = ?1), 'online'), ?3) \
             ON CONFLICT DO NOTHING",
        )
            .bind(business_id.as_str())
            .bind(agent.as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "UPDATE agents SET max_concurrent = COALESCE(?, max_concurrent), presence = COALESCE(?, presence), \
             connections = MAX(connections + ?, 0), updated_at = ? WHERE business_id = ? AND agent_id = ?",
        )
        .bind(max_concurrent)
        .bind(presence.map(Presence::as_str))
        .bind(connections_delta)
        .bind(micros(at))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = ? AND a.agent_id = ?",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .bind(agent.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let out = rows::agent(&rows::SqliteRowRef(&row))?;
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn list_agents(&self, business_id: &BusinessId) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM agents a WHERE a.business_id = ? ORDER BY a.agent_id",
            rows::AGENT_COLUMNS
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::agent(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        // Read for every new session (routing).
        let ticket = match self.settings.get(business_id) {
            Ok(known) => return Ok(known),
            Err(ticket) => ticket,
        };
        let read = self
            .hot_reads
            .read(|c| reader::tenant_settings(c, business_id))
            .await?;
        self.settings.learn(business_id, read, ticket);
        Ok(read)
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        let rows = sqlx::query("SELECT business_id, idle_timeout_secs FROM tenant_settings WHERE idle_timeout_secs IS NOT NULL")
            .fetch_all(&self.reader)
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
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (business_id) DO UPDATE SET routing = excluded.routing, \
             allow_reopen = excluded.allow_reopen, idle_timeout_secs = excluded.idle_timeout_secs, \
             initial_presence = excluded.initial_presence, updated_at = excluded.updated_at",
        )
        .bind(business_id.as_str())
        .bind(if settings.auto_routing { "auto" } else { "manual" })
        .bind(settings.allow_reopen)
        .bind(settings.idle_timeout_secs)
        .bind(settings.initial_presence.as_str())
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(db)?;
        self.settings.written(business_id, settings);
        Ok(settings)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let pick = sqlx::query(
            "SELECT s.id AS session_id, a.agent_id AS agent_id FROM sessions s \
             JOIN agents a ON a.business_id = s.business_id \
             WHERE s.business_id = ? AND s.status = 'waiting' AND s.agent_id IS NULL AND s.deleted_at IS NULL \
               AND a.presence = 'online' AND a.connections > 0 \
               AND (s.department_id IS NULL OR EXISTS (SELECT 1 FROM department_members m \
                    WHERE lower(hex(m.department_id)) = replace(s.department_id, '-', '') AND m.agent_id = a.agent_id)) \
               AND (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id AND x.agent_id = a.agent_id \
                    AND x.status <> 'closed' AND x.deleted_at IS NULL) < a.max_concurrent \
             ORDER BY s.number, (SELECT COUNT(*) FROM sessions x WHERE x.business_id = a.business_id \
                    AND x.agent_id = a.agent_id AND x.status <> 'closed' AND x.deleted_at IS NULL), a.agent_id \
             LIMIT 1",
        )
        .bind(business_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(pick) = pick else { return Ok(None) };
        let session: uuid::Uuid = pick.try_get("session_id").map_err(corrupt)?;
        let agent: String = pick.try_get("agent_id").map_err(corrupt)?;
        let row = sqlx::query(&format!(
            "UPDATE sessions SET agent_id = ?, status = 'active', updated_at = ? \
             WHERE id = ? AND status = 'waiting' AND agent_id IS NULL RETURNING {SESSION_COLUMNS}"
        ))
        .bind(&agent)
        .bind(micros(at))
        .bind(session)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let assigned = row
            .as_ref()
            .map(|r| rows::session(&rows::SqliteRowRef(r)))
            .transpose()?;
        if let Some(s) = &assigned {
            outbox::queue(&mut tx, s.id, WebhookEvent::SessionAssigned, at).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(assigned)
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        self.hot_reads
            .read(|c| reader::queue_position(c, session))
            .await
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, ROW_NUMBER() OVER (PARTITION BY COALESCE(s.department_id, '') ORDER BY s.number) AS position \
             FROM sessions s WHERE s.business_id = ? AND s.status = 'waiting' AND s.deleted_at IS NULL \
             ORDER BY s.number LIMIT ?",
            qualified(SESSION_COLUMNS, "s")
        ))
        .bind(business_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    rows::session(&rows::SqliteRowRef(r))?,
                    r.try_get::<i64, _>("position").map_err(corrupt)?,
                ))
            })
            .collect()
    }
}
