//! Stored rows → domain values, once for every backend. A store implements [`Columns`] for
//! its row type (how to read a text, integer, UUID, time or JSON column); the parsing into
//! domain types, and what counts as a corrupt row, lives here.

use crate::domain::*;
use crate::identity::Role;
use crate::store::{Account, ApiKey, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Read one column of the current row. `None` is SQL NULL.
pub trait Columns {
    fn text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn uuid(&self, col: &str) -> StoreResult<Option<Uuid>>;
    fn time(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>>;
    fn json(&self, col: &str) -> StoreResult<Option<serde_json::Value>>;
}

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn required<T>(col: &str, v: Option<T>) -> StoreResult<T> {
    v.ok_or_else(|| corrupt(format!("{col} is NULL")))
}

fn parsed<T>(
    r: &impl Columns,
    col: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> StoreResult<T> {
    parse(&required(col, r.text(col)?)?).map_err(corrupt)
}

fn parsed_opt<T>(
    r: &impl Columns,
    col: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> StoreResult<Option<T>> {
    r.text(col)?
        .as_deref()
        .map(parse)
        .transpose()
        .map_err(corrupt)
}

fn int(r: &impl Columns, col: &str) -> StoreResult<i64> {
    required(col, r.int(col)?)
}

fn time(r: &impl Columns, col: &str) -> StoreResult<DateTime<Utc>> {
    required(col, r.time(col)?)
}

fn uuid(r: &impl Columns, col: &str) -> StoreResult<Uuid> {
    required(col, r.uuid(col)?)
}

// The column lists below are in the order their parsers read them: a row that finds
// columns by name (SQLite's `DirectRow`) looks next to the column it found last first.

pub const SESSION_COLUMNS: &str = "id, number, business_id, location_id, owner, session_type, \
    topic, title, priority, status, agent_id, department_id, metadata, last_seq, message_count, \
    activity_messages_sent, activity_conversations, response_time_total_ms, response_count, \
    started_at, ended_at, last_activity_at, last_message_at, created_at, updated_at";

pub const MESSAGE_COLUMNS: &str =
    "id, session_id, seq, sender, sender_type, content, client_msg_id, created_at, edited_at, deleted_at, \
    attachments";

pub fn session(r: &impl Columns) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_uuid(uuid(r, "id")?),
        number: int(r, "number")?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        location_id: parsed_opt(r, "location_id", LocationId::parse)?,
        owner: parsed(r, "owner", Party::from_key)?,
        session_type: parsed(r, "session_type", SessionType::parse)?,
        topic: parsed_opt(r, "topic", Topic::parse)?,
        title: parsed_opt(r, "title", Title::parse)?,
        priority: parsed(r, "priority", Priority::parse)?,
        status: parsed(r, "status", SessionStatus::parse)?,
        agent_id: parsed_opt(r, "agent_id", UserId::parse)?,
        department_id: r.text("department_id")?,
        metadata: required("metadata", r.json("metadata")?)?,
        last_seq: int(r, "last_seq")?,
        message_count: int(r, "message_count")?,
        activity: ActivityCounters {
            messages_sent: int(r, "activity_messages_sent")?,
            conversations: int(r, "activity_conversations")?,
            response_time_total_ms: int(r, "response_time_total_ms")?,
            response_count: int(r, "response_count")?,
        },
        started_at: time(r, "started_at")?,
        ended_at: r.time("ended_at")?,
        last_activity_at: time(r, "last_activity_at")?,
        last_message_at: r.time("last_message_at")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub fn message(r: &impl Columns) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId::from_uuid(uuid(r, "id")?),
        session_id: SessionId::from_uuid(uuid(r, "session_id")?),
        seq: int(r, "seq")?,
        sender: parsed(r, "sender", Party::from_key)?,
        sender_type: parsed(r, "sender_type", SenderType::parse)?,
        content: required("content", r.text("content")?)?,
        client_msg_id: parsed_opt(r, "client_msg_id", ClientMsgId::parse)?,
        created_at: time(r, "created_at")?,
        edited_at: r.time("edited_at")?,
        deleted_at: r.time("deleted_at")?,
        attachments: match r.text("attachments")? {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("messages.attachments: {e}")))?,
        },
    })
}

/// A message's files as its `attachments` column keeps them (NULL: none).
pub fn attachments_json(list: &[AttachmentRef]) -> Option<String> {
    (!list.is_empty()).then(|| serde_json::to_string(list).expect("attachment refs serialize"))
}

pub fn account(r: &impl Columns) -> StoreResult<Account> {
    Ok(Account {
        id: int(r, "id")?,
        email: parsed(r, "email", Email::parse)?,
        password_hash: required("password_hash", r.text("password_hash")?)?,
        role: parsed(r, "role", Role::parse)?,
        business_id: parsed_opt(r, "business_id", BusinessId::parse)?,
        name: r.text("name")?,
        created_at: time(r, "created_at")?,
    })
}

pub fn api_key(r: &impl Columns) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: int(r, "id")?,
        name: required("name", r.text("name")?)?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        created_at: time(r, "created_at")?,
    })
}

pub const CONTACT_COLUMNS: &str =
    "session_id, id, contact_name, contact_email, contact_phone, position, company_name, created_at, updated_at";

/// Joins `session_contacts c` to `sessions s`: a contact belongs to the person, so a session
/// shows its own contact, else the newest one its owner gave in the same tenant (carried to
/// their next session). Both dialects read it the same way.
pub const CONTACT_OF_SESSION: &str = "c.session_id = COALESCE(\
     (SELECT x.session_id FROM session_contacts x WHERE x.session_id = s.id), \
     (SELECT x.session_id FROM session_contacts x \
      WHERE x.business_id = s.business_id AND x.owner = s.owner \
      AND EXISTS (SELECT 1 FROM sessions o WHERE o.id = x.session_id AND o.deleted_at IS NULL) \
      ORDER BY x.updated_at DESC LIMIT 1))";

/// [`CONTACT_COLUMNS`] through [`CONTACT_OF_SESSION`]: `session_id` is the session asked about.
pub fn contact_columns_of_session() -> String {
    format!(
        "s.id AS session_id, {}",
        qualified(CONTACT_COLUMNS.trim_start_matches("session_id, "), "c")
    )
}

pub fn contact(r: &impl Columns) -> StoreResult<(SessionId, Contact)> {
    Ok((
        SessionId::from_uuid(uuid(r, "session_id")?),
        Contact {
            id: uuid(r, "id")?,
            name: parsed(r, "contact_name", ContactText::parse)?,
            email: parsed(r, "contact_email", Email::parse)?,
            phone: parsed_opt(r, "contact_phone", Phone::parse)?,
            position: parsed_opt(r, "position", ContactText::parse)?,
            company_name: parsed_opt(r, "company_name", ContactText::parse)?,
            created_at: time(r, "created_at")?,
            updated_at: time(r, "updated_at")?,
        },
    ))
}

pub const CANNED_COLUMNS: &str =
    "id, business_id, department_id, code, text, created_at, updated_at";

pub fn canned(r: &impl Columns) -> StoreResult<CannedResponse> {
    Ok(CannedResponse {
        id: uuid(r, "id")?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        department_id: r.text("department_id")?,
        code: parsed(r, "code", ShortCode::parse)?,
        text: required("text", r.text("text")?)?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

/// A label's id is kept as text (as `session_labels.label_id` and the list filter bind it).
pub const LABEL_COLUMNS: &str = "id, business_id, name, created_at";

pub fn label(r: &impl Columns) -> StoreResult<Label> {
    Ok(Label {
        id: parsed(r, "id", |raw| {
            Uuid::parse_str(raw).map_err(|_| Invalid::new("id", "invalid_id", "not a UUID"))
        })?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        name: parsed(r, "name", LabelName::parse)?,
        created_at: time(r, "created_at")?,
    })
}

pub const RATING_COLUMNS: &str = "session_id, score, comment, rated_at";

pub fn rating(r: &impl Columns) -> StoreResult<Rating> {
    Ok(Rating {
        session_id: SessionId::from_uuid(uuid(r, "session_id")?),
        score: Score::parse(int(r, "score")?).map_err(corrupt)?,
        comment: r.text("comment")?,
        rated_at: time(r, "rated_at")?,
    })
}

pub const ATTACHMENT_COLUMNS: &str =
    "id, business_id, session_id, uploader, name, content_type, size, thumbnail_size, created_at";

/// An attachment's row (`thumbnail_size`: the thumbnail's bytes, NULL without one).
pub fn attachment(r: &impl Columns) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: AttachmentId::from_uuid(uuid(r, "id")?),
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        session_id: SessionId::from_uuid(uuid(r, "session_id")?),
        uploader: parsed(r, "uploader", Party::from_key)?,
        name: required("name", r.text("name")?)?,
        content_type: required("content_type", r.text("content_type")?)?,
        size: int(r, "size")?,
        thumbnail_size: r.int("thumbnail_size")?,
        created_at: time(r, "created_at")?,
    })
}

pub const NOTE_COLUMNS: &str = "session_id, number, author, content, created_at";

pub fn note(r: &impl Columns) -> StoreResult<Note> {
    Ok(Note {
        session_id: SessionId::from_uuid(uuid(r, "session_id")?),
        number: int(r, "number")?,
        author: parsed(r, "author", UserId::parse)?,
        content: required("content", r.text("content")?)?,
        created_at: time(r, "created_at")?,
    })
}

/// A column list with every column prefixed by a table name or alias.
pub fn qualified(columns: &str, table: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub const DELIVERY_COLUMNS: &str =
    "id, event, attempts, created_at, next_attempt_at, delivered_at, failed_at, last_error";

pub fn delivery(r: &impl Columns) -> StoreResult<crate::store::DeliveryRecord> {
    Ok(crate::store::DeliveryRecord {
        id: uuid(r, "id")?,
        event: required("event", r.text("event")?)?,
        attempts: int(r, "attempts")?,
        created_at: time(r, "created_at")?,
        next_attempt_at: time(r, "next_attempt_at")?,
        delivered_at: r.time("delivered_at")?,
        failed_at: r.time("failed_at")?,
        last_error: r.text("last_error")?,
    })
}

pub fn webhook(r: &impl Columns) -> StoreResult<crate::store::Webhook> {
    let events = required("events", r.text("events")?)?;
    Ok(crate::store::Webhook {
        id: int(r, "id")?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        url: parsed(r, "url", WebhookUrl::parse)?,
        secret: required("secret", r.text("secret")?)?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(WebhookEvent::parse)
            .collect::<Result<_, _>>()
            .map_err(corrupt)?,
        created_at: time(r, "created_at")?,
    })
}

pub fn due_delivery(r: &impl Columns) -> StoreResult<crate::store::DueDelivery> {
    Ok(crate::store::DueDelivery {
        id: uuid(r, "id")?,
        event: required("event", r.text("event")?)?,
        body: required("body", r.text("body")?)?,
        attempts: int(r, "attempts")? as i32,
        url: required("url", r.text("url")?)?,
        secret: required("secret", r.text("secret")?)?,
    })
}

pub const OUTBOX_COLUMNS: &str = "id, business_id, event, session_id, seq, at";

pub fn outbox_entry(r: &impl Columns) -> StoreResult<crate::store::OutboxEntry> {
    Ok(crate::store::OutboxEntry {
        id: int(r, "id")?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        event: parsed(r, "event", WebhookEvent::parse)?,
        session_id: SessionId::from_uuid(uuid(r, "session_id")?),
        seq: r.int("seq")?,
        at: time(r, "at")?,
    })
}

pub fn beat(r: &impl Columns) -> StoreResult<(SessionId, crate::analytics::Beat)> {
    Ok((
        SessionId::from_uuid(uuid(r, "session_id")?),
        crate::analytics::Beat {
            seq: int(r, "seq")?,
            sender_type: parsed(r, "sender_type", SenderType::parse)?,
            at: time(r, "created_at")?,
        },
    ))
}

/// A department row (`id, business_id, name, created_at, updated_at`) and its members.
pub fn department(r: &impl Columns, agents: Vec<UserId>) -> StoreResult<Department> {
    Ok(Department {
        id: uuid(r, "id")?,
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        name: parsed(r, "name", DepartmentName::parse)?,
        agents,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub const AGENT_COLUMNS: &str = "a.business_id, a.agent_id, a.max_concurrent, a.presence, a.connections, a.updated_at, \
    (SELECT COUNT(*) FROM sessions s WHERE s.business_id = a.business_id AND s.agent_id = a.agent_id \
     AND s.status <> 'closed' AND s.deleted_at IS NULL) AS active_sessions";

pub fn agent(r: &impl Columns) -> StoreResult<Agent> {
    Ok(Agent {
        business_id: parsed(r, "business_id", BusinessId::parse)?,
        agent_id: parsed(r, "agent_id", UserId::parse)?,
        max_concurrent: int(r, "max_concurrent")?,
        presence: parsed(r, "presence", Presence::parse)?,
        connections: int(r, "connections")?,
        active_sessions: int(r, "active_sessions")?,
        updated_at: time(r, "updated_at")?,
    })
}
