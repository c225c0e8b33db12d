//! Rows → domain values. A row that does not parse is `StoreError::Corrupt`.

use chatdesk_core::domain::*;
use chatdesk_core::identity::Role;
use chatdesk_core::store::{Account, ApiKey, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

pub const SESSION_COLUMNS: &str = "number, id, business_id, location_id, owner, session_type, \
    topic, title, priority, status, agent_id, department_id, metadata, last_seq, message_count, \
    started_at, ended_at, last_activity_at, last_message_at, created_at, updated_at";

pub const MESSAGE_COLUMNS: &str =
    "session_id, seq, id, sender, sender_type, content, client_msg_id, created_at";

fn time(v: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
    Ok(v)
}

fn opt_time(v: Option<DateTime<Utc>>) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(v)
}

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> StoreResult<T> {
    row.try_get(col).map_err(corrupt)
}

fn parse_opt<T>(
    v: Option<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> StoreResult<Option<T>> {
    v.as_deref().map(parse).transpose().map_err(corrupt)
}

pub fn session(row: &PgRow) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_uuid(get::<Uuid>(row, "id")?),
        number: get(row, "number")?,
        business_id: BusinessId::parse(&get::<String>(row, "business_id")?).map_err(corrupt)?,
        location_id: parse_opt(get(row, "location_id")?, LocationId::parse)?,
        owner: Party::from_key(&get::<String>(row, "owner")?).map_err(corrupt)?,
        session_type: SessionType::parse(&get::<String>(row, "session_type")?).map_err(corrupt)?,
        topic: parse_opt(get(row, "topic")?, Topic::parse)?,
        title: parse_opt(get(row, "title")?, Title::parse)?,
        priority: Priority::parse(&get::<String>(row, "priority")?).map_err(corrupt)?,
        status: SessionStatus::parse(&get::<String>(row, "status")?).map_err(corrupt)?,
        agent_id: parse_opt(get(row, "agent_id")?, UserId::parse)?,
        department_id: get(row, "department_id")?,
        metadata: get(row, "metadata")?,
        last_seq: get(row, "last_seq")?,
        message_count: get(row, "message_count")?,
        started_at: time(get(row, "started_at")?)?,
        ended_at: opt_time(get(row, "ended_at")?)?,
        last_activity_at: time(get(row, "last_activity_at")?)?,
        last_message_at: opt_time(get(row, "last_message_at")?)?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
    })
}

pub fn message(row: &PgRow) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId::from_uuid(get::<Uuid>(row, "id")?),
        session_id: SessionId::from_uuid(get::<Uuid>(row, "session_id")?),
        seq: get(row, "seq")?,
        sender: Party::from_key(&get::<String>(row, "sender")?).map_err(corrupt)?,
        sender_type: SenderType::parse(&get::<String>(row, "sender_type")?).map_err(corrupt)?,
        content: get(row, "content")?,
        client_msg_id: parse_opt(get(row, "client_msg_id")?, ClientMsgId::parse)?,
        created_at: time(get(row, "created_at")?)?,
    })
}

pub fn account(row: &PgRow) -> StoreResult<Account> {
    Ok(Account {
        id: get(row, "id")?,
        email: Email::parse(&get::<String>(row, "email")?).map_err(corrupt)?,
        password_hash: get(row, "password_hash")?,
        role: Role::parse(&get::<String>(row, "role")?).map_err(corrupt)?,
        business_id: parse_opt(get(row, "business_id")?, BusinessId::parse)?,
        name: get(row, "name")?,
        created_at: time(get(row, "created_at")?)?,
    })
}

pub fn api_key(row: &PgRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: get(row, "id")?,
        name: get(row, "name")?,
        business_id: BusinessId::parse(&get::<String>(row, "business_id")?).map_err(corrupt)?,
        created_at: time(get(row, "created_at")?)?,
    })
}
