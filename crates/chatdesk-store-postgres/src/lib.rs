//! chatdesk's `Store` on PostgreSQL, for production and for several nodes sharing one database.
//!
//! Cross-node ordering comes from the database itself: appends bump `sessions.last_seq` under
//! the session's row lock, and resume-or-create holds a transaction-scoped advisory lock on
//! the (owner, tenant) pair.

mod accounts;
mod append;
mod attachments;
mod canned;
mod contacts;
mod hours;
mod labels;
mod messages;
mod notes;
mod outbox;
mod ratings;
mod routing;
mod rows;
mod sessions;
mod webhooks;

use async_trait::async_trait;
use chatdesk_core::analytics::Beat;
use chatdesk_core::domain::{
    ActivityKind, Agent, BusinessId, Contact, Department, DepartmentName, Email, Message, Party,
    Presence, SearchQuery, Session, SessionId, UserId, VisitorId, WebhookEvent, WebhookUrl,
};
use chatdesk_core::query::{Arg, QueryText};
use chatdesk_core::rows::{corrupt, qualified};
use chatdesk_core::store::*;
use chrono::{DateTime, Utc};
use rows::{CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connect to `url` and bring the schema up to date. With `schema`, every connection
    /// works in that schema (created if missing): tests use one per test and drop it after.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        reachable(&options).await?;
        if let Some(schema) = schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(unavailable)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&admin)
                .await
                .map_err(db)?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn members(&self, id: uuid::Uuid) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT agent_id FROM department_members WHERE department_id = $1 ORDER BY agent_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        ids.iter()
            .map(|a| UserId::parse(a).map_err(corrupt))
            .collect()
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
    }

    /// Drop a schema made by `connect(url, Some(schema))`, with everything in it.
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&admin)
            .await
            .map_err(db)?;
        admin.close().await;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One plain connection first, so that a server that cannot be reached is reported with
/// where and why (the pool would only say that it timed out waiting for a connection).
async fn reachable(options: &PgConnectOptions) -> Result<(), StoreError> {
    use sqlx::{ConnectOptions, Connection};
    let connected = tokio::time::timeout(Duration::from_secs(10), options.connect()).await;
    let place = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    match connected {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL at {place}: {e}"
        ))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL at {place}: no answer within 10 s"
        ))),
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => unavailable(e),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// A statement written by `chatdesk_core::query`: times bound as `timestamptz`, UUIDs as
/// `uuid`, JSON as `jsonb`.
struct Pg<'q, 'a>(&'q mut QueryBuilder<'a, Postgres>);

impl QueryText for Pg<'_, '_> {
    fn push(&mut self, sql: &str) {
        self.0.push(sql);
    }

    fn bind(&mut self, value: Arg) {
        match value {
            Arg::Text(t) => self.0.push_bind(t),
            Arg::Int(i) => self.0.push_bind(i),
            Arg::Time(t) => self.0.push_bind(t),
            Arg::Uuid(u) => self.0.push_bind(u),
            Arg::Json(j) => self.0.push_bind(j),
        };
    }
}

/// `AND …` for each condition of `filter`.
fn push_filter(q: &mut QueryBuilder<'_, Postgres>, filter: &SessionFilter) {
    chatdesk_core::query::push_filter(&mut Pg(q), filter);
}

fn unread_row(r: &sqlx::postgres::PgRow) -> StoreResult<UnreadCount> {
    Ok(UnreadCount {
        session_id: SessionId::from_uuid(r.try_get("id").map_err(corrupt)?),
        number: r.try_get("number").map_err(corrupt)?,
        unread: r.try_get("unread").map_err(corrupt)?,
        last_read_seq: r.try_get("last_read_seq").map_err(corrupt)?,
    })
}

async fn session_in(conn: &mut PgConnection, id: SessionId) -> StoreResult<Option<Session>> {
    let sql =
        format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1 AND deleted_at IS NULL");
    let row = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    row.as_ref()
        .map(|r| rows::session(&rows::PgRowRef(r)))
        .transpose()
}
