//! Analytics, computed once from stored facts: per session (first response, average
//! response, resolution, message counts) and over many sessions (per tenant, agent and
//! department: counts, average and median first response, average resolution, busiest hours).

use crate::domain::{SenderType, Session, SessionId};
use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One message as analytics sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beat {
    pub seq: i64,
    pub sender_type: SenderType,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStats {
    pub messages: i64,
    pub customer_messages: i64,
    pub staff_messages: i64,
    /// From the first customer message to the first answer (agent or assistant).
    pub first_response_secs: Option<f64>,
    /// Mean over every customer turn of the wait until the next answer.
    pub average_response_secs: Option<f64>,
    /// From start to close, for closed sessions.
    pub resolution_secs: Option<f64>,
}

fn answers(t: SenderType) -> bool {
    matches!(t, SenderType::Agent | SenderType::Assistant)
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

/// A session's figures from its messages in `seq` order. The system's own notes ("closed",
/// "assigned to …") are not conversation and are not counted.
pub fn session_stats(session: &Session, beats: &[Beat]) -> SessionStats {
    let beats: Vec<Beat> = beats
        .iter()
        .copied()
        .filter(|b| b.sender_type != SenderType::System)
        .collect();
    let beats = beats.as_slice();
    let mut waits = Vec::new();
    let mut waiting_since: Option<DateTime<Utc>> = None;
    for b in beats {
        match b.sender_type {
            SenderType::Customer => {
                waiting_since.get_or_insert(b.at);
            }
            t if answers(t) => {
                if let Some(since) = waiting_since.take() {
                    waits.push(secs(since, b.at));
                }
            }
            _ => {}
        }
    }
    let customer = beats
        .iter()
        .filter(|b| b.sender_type == SenderType::Customer)
        .count() as i64;
    let staff = beats.iter().filter(|b| answers(b.sender_type)).count() as i64;
    SessionStats {
        messages: beats.len() as i64,
        customer_messages: customer,
        staff_messages: staff,
        first_response_secs: waits.first().copied(),
        average_response_secs: mean(&waits),
        resolution_secs: session
            .ended_at
            .map(|_| duration_secs(session, session.started_at)),
    }
}

/// How long a session has lasted: to its end, or to `now` while open.
pub fn duration_secs(session: &Session, now: DateTime<Utc>) -> f64 {
    secs(session.started_at, session.ended_at.unwrap_or(now))
}

/// Seed 003's summary of reported activity over sessions: the same durations and means as
/// every other report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivitySummary {
    pub total_duration_secs: f64,
    pub total_messages_sent: i64,
    pub total_conversations: i64,
    /// Mean session duration, 0 with no sessions.
    pub average_session_secs: f64,
}

pub fn activity_summary(sessions: &[Session], now: DateTime<Utc>) -> ActivitySummary {
    let durations: Vec<f64> = sessions.iter().map(|s| duration_secs(s, now)).collect();
    ActivitySummary {
        total_duration_secs: durations.iter().sum(),
        total_messages_sent: sessions.iter().map(|s| s.activity.messages_sent).sum(),
        total_conversations: sessions.iter().map(|s| s.activity.conversations).sum(),
        average_session_secs: mean(&durations).unwrap_or(0.0),
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// Figures over a group of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Summary {
    pub sessions: i64,
    pub closed_sessions: i64,
    pub messages: i64,
    pub average_first_response_secs: Option<f64>,
    pub median_first_response_secs: Option<f64>,
    pub average_resolution_secs: Option<f64>,
    /// Sessions their customer rated, and the mean of those ratings (1–5).
    pub rated_sessions: i64,
    pub average_rating: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourCount {
    /// Hour of the day, UTC.
    pub hour: u32,
    pub messages: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub overall: Summary,
    /// Busiest first; hours without messages are left out.
    pub busiest_hours: Vec<HourCount>,
    pub by_agent: BTreeMap<String, Summary>,
    pub by_department: BTreeMap<String, Summary>,
}

fn summarise(items: &[(&Session, &SessionStats)], ratings: &HashMap<SessionId, i64>) -> Summary {
    let scores: Vec<f64> = items
        .iter()
        .filter_map(|(s, _)| ratings.get(&s.id).map(|r| *r as f64))
        .collect();
    let mut first: Vec<f64> = items
        .iter()
        .filter_map(|(_, s)| s.first_response_secs)
        .collect();
    let resolution: Vec<f64> = items
        .iter()
        .filter_map(|(_, s)| s.resolution_secs)
        .collect();
    Summary {
        sessions: items.len() as i64,
        closed_sessions: resolution.len() as i64,
        messages: items.iter().map(|(_, s)| s.messages).sum(),
        average_first_response_secs: mean(&first),
        median_first_response_secs: median(&mut first),
        average_resolution_secs: mean(&resolution),
        rated_sessions: scores.len() as i64,
        average_rating: mean(&scores),
    }
}

/// The report over sessions, their messages and their ratings (score by session).
pub fn report(sessions: &[(Session, Vec<Beat>)], ratings: &HashMap<SessionId, i64>) -> Report {
    let stats: Vec<(&Session, SessionStats)> = sessions
        .iter()
        .map(|(s, b)| (s, session_stats(s, b)))
        .collect();
    let all: Vec<(&Session, &SessionStats)> = stats.iter().map(|(s, st)| (*s, st)).collect();
    let group = |key: &dyn Fn(&Session) -> Option<String>| {
        let mut groups: BTreeMap<String, Vec<(&Session, &SessionStats)>> = BTreeMap::new();
        for (s, st) in &all {
            if let Some(k) = key(s) {
                groups.entry(k).or_default().push((s, st));
            }
        }
        groups
            .into_iter()
            .map(|(k, v)| (k, summarise(&v, ratings)))
            .collect::<BTreeMap<_, _>>()
    };
    let mut hours = [0i64; 24];
    for (_, beats) in sessions {
        for b in beats.iter().filter(|b| b.sender_type != SenderType::System) {
            hours[b.at.hour() as usize] += 1;
        }
    }
    let mut busiest: Vec<HourCount> = hours
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(h, n)| HourCount {
            hour: h as u32,
            messages: *n,
        })
        .collect();
    busiest.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.hour.cmp(&b.hour)));
    Report {
        overall: summarise(&all, ratings),
        busiest_hours: busiest,
        by_agent: group(&|s| s.agent_id.as_ref().map(ToString::to_string)),
        by_department: group(&|s| s.department_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use chrono::{Duration, TimeZone};

    fn session(start: DateTime<Utc>, end: Option<DateTime<Utc>>, agent: Option<&str>) -> Session {
        Session {
            id: SessionId::generate(),
            number: 1,
            business_id: BusinessId::default_tenant(),
            location_id: None,
            owner: Party::User(UserId::parse("c").unwrap()),
            session_type: SessionType::general(),
            topic: None,
            title: None,
            priority: Priority::Normal,
            status: if end.is_some() {
                SessionStatus::Closed
            } else {
                SessionStatus::Active
            },
            agent_id: agent.map(|a| UserId::parse(a).unwrap()),
            department_id: None,
            metadata: serde_json::json!({}),
            last_seq: 0,
            message_count: 0,
            activity: ActivityCounters::default(),
            started_at: start,
            ended_at: end,
            last_activity_at: start,
            last_message_at: None,
            created_at: start,
            updated_at: start,
        }
    }

    #[test]
    fn response_times_follow_customer_turns() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let at = |s: i64| t0 + Duration::seconds(s);
        let beats = [
            Beat {
                seq: 1,
                sender_type: SenderType::Customer,
                at: at(0),
            },
            Beat {
                seq: 2,
                sender_type: SenderType::Customer,
                at: at(5),
            },
            Beat {
                seq: 3,
                sender_type: SenderType::Agent,
                at: at(30),
            },
            Beat {
                seq: 4,
                sender_type: SenderType::Agent,
                at: at(40),
            },
            Beat {
                seq: 5,
                sender_type: SenderType::Customer,
                at: at(100),
            },
            Beat {
                seq: 6,
                sender_type: SenderType::System,
                at: at(105),
            },
            Beat {
                seq: 7,
                sender_type: SenderType::Assistant,
                at: at(110),
            },
        ];
        let s = session_stats(&session(t0, Some(at(600)), Some("a")), &beats);
        assert_eq!(
            s.first_response_secs,
            Some(30.0),
            "from the first unanswered customer message"
        );
        assert_eq!(s.average_response_secs, Some(20.0), "(30 + 10) / 2");
        assert_eq!(s.resolution_secs, Some(600.0));
        assert_eq!(
            (s.messages, s.customer_messages, s.staff_messages),
            (6, 3, 3),
            "the system's note is not conversation"
        );
        let unanswered = session_stats(&session(t0, None, None), &beats[..2]);
        assert_eq!(
            (unanswered.first_response_secs, unanswered.resolution_secs),
            (None, None)
        );
    }

    #[test]
    fn report_groups_and_medians() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mk = |wait: i64, agent: &str, hour: u32| {
            let start = t0.with_hour(hour).unwrap();
            let beats = vec![
                Beat {
                    seq: 1,
                    sender_type: SenderType::Customer,
                    at: start,
                },
                Beat {
                    seq: 2,
                    sender_type: SenderType::Agent,
                    at: start + Duration::seconds(wait),
                },
            ];
            (
                session(start, Some(start + Duration::seconds(100)), Some(agent)),
                beats,
            )
        };
        let sessions = [mk(10, "a", 9), mk(20, "a", 9), mk(60, "b", 14)];
        let ratings = HashMap::from([(sessions[0].0.id, 4), (sessions[2].0.id, 1)]);
        let r = report(&sessions, &ratings);
        assert_eq!(
            (r.overall.rated_sessions, r.overall.average_rating),
            (2, Some(2.5))
        );
        assert_eq!(r.by_agent["a"].average_rating, Some(4.0));
        assert_eq!(r.by_agent["b"].average_rating, Some(1.0));
        assert_eq!(r.overall.sessions, 3);
        assert_eq!(r.overall.messages, 6);
        assert_eq!(r.overall.average_first_response_secs, Some(30.0));
        assert_eq!(r.overall.median_first_response_secs, Some(20.0));
        assert_eq!(r.overall.average_resolution_secs, Some(100.0));
        assert_eq!(r.by_agent["a"].median_first_response_secs, Some(15.0));
        assert_eq!(r.by_agent["b"].sessions, 1);
        assert_eq!(
            r.busiest_hours[0],
            HourCount {
                hour: 9,
                messages: 4
            }
        );
        assert_eq!(r.busiest_hours.len(), 2);
        assert!(r.by_department.is_empty());
    }
}
