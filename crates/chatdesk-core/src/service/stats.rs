//! Analytics for staff: a report over a time range, and one session's figures.

use super::sessions::listable;
use super::{Limits, ListSessions};
use crate::analytics::{self, Beat, Report, SessionStats};
use crate::authz;
use crate::clock;
use crate::domain::{Invalid, SessionId, UserId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Most sessions one report reads; a wider report says it was cut short.
pub const MAX_REPORT_SESSIONS: u32 = 10_000;

#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    /// RFC 3339; default a week before `to`.
    pub from: Option<String>,
    /// RFC 3339; default now.
    pub to: Option<String>,
    pub business_id: Option<String>,
    pub agent_id: Option<String>,
    pub department_id: Option<String>,
    /// Only sessions carrying this label.
    pub label_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StatsReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub report: Report,
    /// More sessions started in the range than one report reads.
    pub truncated: bool,
}

fn time(field: &'static str, raw: &str) -> Result<DateTime<Utc>, Invalid> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Invalid::new(
                field,
                "invalid_time",
                format!("{field} must be an RFC 3339 time"),
            )
        })
}

/// Reports over the sessions a caller may list, and one session's figures.
pub struct Stats {
    store: Arc<dyn Store>,
    limits: Limits,
}

impl Stats {
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> Self {
        Self { store, limits }
    }

    pub async fn stats(&self, p: &Principal, q: StatsQuery) -> ServiceResult<StatsReport> {
        if !p.is_staff() {
            return Err(ServiceError::Forbidden(
                "only agents, admins and services see analytics",
            ));
        }
        let to =
            q.to.as_deref()
                .map(|t| time("to", t))
                .transpose()?
                .unwrap_or_else(clock::now);
        let from = q
            .from
            .as_deref()
            .map(|t| time("from", t))
            .transpose()?
            .unwrap_or(to - Duration::days(7));
        if from >= to || to - from > Duration::days(366) {
            return Err(Invalid::new(
                "from",
                "invalid_range",
                "from must be before to, at most 366 days apart",
            )
            .into());
        }
        let (mut filter, _) = listable(
            p,
            &ListSessions {
                business_id: q.business_id,
                label_id: q.label_id,
                ..ListSessions::default()
            },
            &self.limits,
        )?;
        filter.started_from = Some(from);
        filter.started_before = Some(to);
        filter.agent_id = q.agent_id.as_deref().map(UserId::parse).transpose()?;
        filter.department_id = q.department_id;
        let sessions = self
            .store
            .list_sessions_offset(&filter, 0, MAX_REPORT_SESSIONS + 1)
            .await?;
        let truncated = sessions.len() > MAX_REPORT_SESSIONS as usize;
        let sessions = &sessions[..sessions.len().min(MAX_REPORT_SESSIONS as usize)];
        let mut beats: HashMap<SessionId, Vec<Beat>> = HashMap::new();
        let mut ratings: HashMap<SessionId, i64> = HashMap::new();
        for chunk in sessions.chunks(500) {
            let ids: Vec<SessionId> = chunk.iter().map(|s| s.id).collect();
            for (id, beat) in self.store.message_beats(&ids).await? {
                beats.entry(id).or_default().push(beat);
            }
            for r in self.store.ratings(&ids).await? {
                ratings.insert(r.session_id, r.score.get());
            }
        }
        let input: Vec<_> = sessions
            .iter()
            .map(|s| (s.clone(), beats.remove(&s.id).unwrap_or_default()))
            .collect();
        Ok(StatsReport {
            from,
            to,
            report: analytics::report(&input, &ratings),
            truncated,
        })
    }

    /// One session's figures, for anyone who may see the session.
    pub async fn session_stats(&self, p: &Principal, id: SessionId) -> ServiceResult<SessionStats> {
        let session = match self.store.get_session(id).await? {
            Some(s) if authz::can_see(p, &s) => s,
            _ => return Err(ServiceError::NotFound("session")),
        };
        let beats: Vec<Beat> = self
            .store
            .message_beats(&[session.id])
            .await?
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        Ok(analytics::session_stats(&session, &beats))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn a_report_covers_a_bounded_range_of_what_the_caller_may_list() {
        let desk = desk();
        let stats = Stats::new(desk.store.clone(), Limits::default());
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        desk.send(&ann, &s, "hello").await.unwrap();
        desk.send(&agent("ada"), &s, "hi").await.unwrap();
        let q = StatsQuery {
            from: Some("2020-01-01T00:00:00Z".into()),
            to: Some("2020-01-02T00:00:00Z".into()),
            ..StatsQuery::default()
        };
        let empty = stats.stats(&agent("ada"), q).await.unwrap();
        assert!(!empty.truncated);
        let wide = StatsQuery {
            from: Some("2020-01-01T00:00:00Z".into()),
            to: Some("2022-01-01T00:00:00Z".into()),
            ..StatsQuery::default()
        };
        assert!(matches!(
            stats.stats(&agent("ada"), wide).await,
            Err(ServiceError::Invalid(_))
        ));
        let one = stats.session_stats(&ann, s.id).await.unwrap();
        assert_eq!(one.messages, 2);
        assert!(matches!(
            stats.session_stats(&customer("bob"), s.id).await,
            Err(ServiceError::NotFound(_))
        ));
    }
}
