//! SQL that both stores build the same way. The dialects differ only in how a value is
//! bound (placeholders, and how times, UUIDs and JSON are stored), which each store's
//! [`QueryText`] decides.

use crate::domain::SessionId;
use crate::store::{SessionFilter, SessionPatch};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A value bound into a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(i64),
    Time(DateTime<Utc>),
    Uuid(Uuid),
    Json(serde_json::Value),
}

/// A statement being written: text, and values bound in order.
pub trait QueryText {
    fn push(&mut self, sql: &str);
    fn bind(&mut self, value: Arg);
}

fn text(value: &str) -> Arg {
    Arg::Text(Some(value.to_owned()))
}

/// `AND …` for each condition of `filter`, on the `sessions` table's columns.
pub fn push_filter(q: &mut impl QueryText, filter: &SessionFilter) {
    let equals = |q: &mut dyn QueryText, column: &str, value: Arg| {
        q.push(&format!(" AND {column} = "));
        q.bind(value);
    };
    if let Some(owner) = &filter.owner {
        equals(q, "owner", Arg::Text(Some(owner.key())));
    }
    if let Some(b) = &filter.business_id {
        equals(q, "business_id", text(b.as_str()));
    }
    if let Some(l) = &filter.location_id {
        equals(q, "location_id", text(l.as_str()));
    }
    match filter.status {
        Some(s) => equals(q, "status", text(s.as_str())),
        None if filter.open_only => q.push(" AND status <> 'closed'"),
        None => {}
    }
    if !filter.exclude_business.is_empty() {
        q.push(" AND business_id NOT IN (");
        for (i, b) in filter.exclude_business.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(text(b.as_str()));
        }
        q.push(")");
    }
    if let Some(t) = filter.started_from {
        q.push(" AND started_at >= ");
        q.bind(Arg::Time(t));
    }
    if let Some(t) = filter.started_before {
        q.push(" AND started_at < ");
        q.bind(Arg::Time(t));
    }
    if let Some(a) = &filter.agent_id {
        equals(q, "agent_id", text(a.as_str()));
    }
    if let Some(d) = &filter.department_id {
        equals(q, "department_id", text(d));
    }
    if let Some(label) = filter.label_id {
        // By `number`, a column only sessions have, so that the clause reads the same in a
        // query that joins messages.
        q.push(
            " AND number IN (SELECT x.number FROM session_labels l JOIN sessions x \
             ON x.id = l.session_id WHERE l.label_id = ",
        );
        q.bind(text(&label.to_string()));
        q.push(")");
    }
}

/// `UPDATE sessions SET …` for `patch` at `at`, of live session `id`, and only while its
/// status is still the one the patch changes it from. A session closing gets its
/// `ended_at`; one reopened loses it.
pub fn push_patch(q: &mut impl QueryText, id: SessionId, patch: &SessionPatch, at: DateTime<Utc>) {
    q.push("UPDATE sessions SET updated_at = ");
    q.bind(Arg::Time(at));
    let set = |q: &mut dyn QueryText, column: &str, value: Arg| {
        q.push(&format!(", {column} = "));
        q.bind(value);
    };
    if let Some(topic) = &patch.topic {
        set(
            q,
            "topic",
            Arg::Text(topic.as_ref().map(|t| t.as_str().to_owned())),
        );
    }
    if let Some(title) = &patch.title {
        set(
            q,
            "title",
            Arg::Text(title.as_ref().map(|t| t.as_str().to_owned())),
        );
    }
    if let Some(loc) = &patch.location_id {
        set(
            q,
            "location_id",
            Arg::Text(loc.as_ref().map(|l| l.as_str().to_owned())),
        );
    }
    if let Some(p) = patch.priority {
        set(q, "priority", text(p.as_str()));
    }
    if let Some(m) = &patch.metadata {
        set(q, "metadata", Arg::Json(m.clone()));
    }
    if let Some(change) = patch.status {
        set(q, "status", text(change.to.as_str()));
        if change.closes() {
            set(q, "ended_at", Arg::Time(at));
        } else if change.reopens() {
            q.push(", ended_at = NULL");
        }
    }
    if let Some(agent) = &patch.agent_id {
        set(
            q,
            "agent_id",
            Arg::Text(agent.as_ref().map(|a| a.as_str().to_owned())),
        );
    }
    if let Some(department) = &patch.department_id {
        set(
            q,
            "department_id",
            Arg::Text(department.map(|d| d.to_string())),
        );
    }
    q.push(" WHERE id = ");
    q.bind(Arg::Uuid(id.as_uuid()));
    q.push(" AND deleted_at IS NULL");
    if let Some(change) = patch.status {
        q.push(" AND status = ");
        q.bind(text(change.from.as_str()));
    }
}

/// `UPDATE sessions SET …` closing every open session of `filter` idle since before
/// `idle_before`, at `at`: closing gives a session its `ended_at`, as [`push_patch`] does.
pub fn push_close_idle(
    q: &mut impl QueryText,
    filter: &SessionFilter,
    idle_before: DateTime<Utc>,
    at: DateTime<Utc>,
) {
    q.push("UPDATE sessions SET status = 'closed', ended_at = ");
    q.bind(Arg::Time(at));
    q.push(", updated_at = ");
    q.bind(Arg::Time(at));
    q.push(" WHERE deleted_at IS NULL AND status <> 'closed' AND last_activity_at < ");
    q.bind(Arg::Time(idle_before));
    push_filter(q, filter);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BusinessId, SessionStatus};
    use crate::store::StatusChange;

    /// Placeholders as `?`, values listed.
    #[derive(Default)]
    struct Written(String, Vec<Arg>);

    impl QueryText for Written {
        fn push(&mut self, sql: &str) {
            self.0 += sql;
        }
        fn bind(&mut self, value: Arg) {
            self.0 += "?";
            self.1.push(value);
        }
    }

    #[test]
    fn closing_sets_ended_at_and_reopening_clears_it() {
        let (id, at) = (SessionId::generate(), crate::clock::now());
        let close = SessionPatch {
            status: Some(StatusChange {
                from: SessionStatus::Active,
                to: SessionStatus::Closed,
            }),
            ..SessionPatch::default()
        };
        let mut q = Written::default();
        push_patch(&mut q, id, &close, at);
        assert_eq!(
            q.0,
            "UPDATE sessions SET updated_at = ?, status = ?, ended_at = ? \
             WHERE id = ? AND deleted_at IS NULL AND status = ?"
        );
        assert_eq!(q.1[2], Arg::Time(at));
        let reopen = SessionPatch {
            status: Some(StatusChange {
                from: SessionStatus::Closed,
                to: SessionStatus::Active,
            }),
            ..SessionPatch::default()
        };
        let mut q = Written::default();
        push_patch(&mut q, id, &reopen, at);
        assert!(q.0.contains(", ended_at = NULL"), "{}", q.0);
    }

    #[test]
    fn a_filter_binds_every_value_it_names() {
        let filter = SessionFilter {
            business_id: Some(BusinessId::parse("shop").unwrap()),
            open_only: true,
            exclude_business: vec![
                BusinessId::parse("a").unwrap(),
                BusinessId::parse("b").unwrap(),
            ],
            ..SessionFilter::default()
        };
        let mut q = Written::default();
        push_filter(&mut q, &filter);
        assert_eq!(
            q.0,
            " AND business_id = ? AND status <> 'closed' AND business_id NOT IN (?, ?)"
        );
        assert_eq!(q.1.len(), 3);
    }
}
