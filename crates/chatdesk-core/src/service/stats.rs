//! Analytics for staff: a report over a time range, and one session's figures.

use super::{ListSessions, SessionService};
use crate::analytics::{self, Beat, Report, SessionStats};
use crate::clock;
use crate::domain::{Invalid, SessionId, UserId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

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

impl SessionService {
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
        let (mut filter, _) = self.filter_for(
            p,
            &ListSessions {
                business_id: q.business_id,
                ..ListSessions::default()
            },
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
        for chunk in sessions.chunks(500) {
            let ids: Vec<SessionId> = chunk.iter().map(|s| s.id).collect();
            for (id, beat) in self.store.message_beats(&ids).await? {
                beats.entry(id).or_default().push(beat);
            }
        }
        let input: Vec<_> = sessions
            .iter()
            .map(|s| (s.clone(), beats.remove(&s.id).unwrap_or_default()))
            .collect();
        Ok(StatsReport {
            from,
            to,
            report: analytics::report(&input),
            truncated,
        })
    }

    /// One session's figures, for anyone who may see the session.
    pub async fn session_stats(&self, p: &Principal, id: SessionId) -> ServiceResult<SessionStats> {
        let session = self.get_session(p, id).await?;
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
