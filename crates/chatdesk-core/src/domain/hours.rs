//! Business hours: when a tenant (or one of its departments) answers. A weekly schedule in a
//! time zone, with holidays; outside it, opening a session says so and routing waits.

use super::Invalid;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Days in the order the schedule names them.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Most opening intervals on one day, holidays in one schedule, characters in its message.
const MOST_INTERVALS: usize = 4;
const MOST_HOLIDAYS: usize = 366;
const MOST_MESSAGE_CHARS: usize = 500;

/// As clients send and read it:
/// `{"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]], …},
///   "holidays": ["2026-12-25"], "away_message": "…", "offline_email": "desk@shop.example"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub time_zone: String,
    #[serde(default)]
    pub weekly: std::collections::BTreeMap<String, Vec<[String; 2]>>,
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub away_message: Option<String>,
    /// Where the offline form is emailed (when the server has `smtp_url`).
    #[serde(default)]
    pub offline_email: Option<String>,
}

fn bad(message: impl Into<String>) -> Invalid {
    Invalid::new("business_hours", "invalid_hours", message)
}

fn time(raw: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| bad(format!("{raw:?} is not HH:MM")))
}

impl BusinessHours {
    /// A schedule from what a client sent, every part checked.
    pub fn parse(value: serde_json::Value) -> Result<Self, Invalid> {
        let hours: Self = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        hours.zone()?;
        for (day, intervals) in &hours.weekly {
            if !DAYS.contains(&day.as_str()) {
                return Err(bad(format!("{day:?} is not one of {}", DAYS.join(", "))));
            }
            if intervals.len() > MOST_INTERVALS {
                return Err(bad(format!("at most {MOST_INTERVALS} intervals a day")));
            }
            for [from, to] in intervals {
                if time(from)? >= time(to)? {
                    return Err(bad(format!(
                        "{from}–{to}: an interval ends after it starts, within the day"
                    )));
                }
            }
        }
        if hours.holidays.len() > MOST_HOLIDAYS {
            return Err(bad(format!("at most {MOST_HOLIDAYS} holidays")));
        }
        for day in &hours.holidays {
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map_err(|_| bad(format!("{day:?} is not YYYY-MM-DD")))?;
        }
        if let Some(m) = &hours.away_message {
            if m.chars().count() > MOST_MESSAGE_CHARS || m.contains('\0') {
                return Err(bad(format!(
                    "away_message is at most {MOST_MESSAGE_CHARS} characters"
                )));
            }
        }
        if let Some(to) = &hours.offline_email {
            super::Email::parse(to).map_err(|_| bad(format!("{to:?} is not an email address")))?;
        }
        Ok(hours)
    }

    fn zone(&self) -> Result<Tz, Invalid> {
        self.time_zone
            .parse()
            .map_err(|_| bad(format!("{:?} is not an IANA time zone", self.time_zone)))
    }

    /// Whether it is open at `at`: not a holiday there, and inside one of that day's intervals.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let Ok(zone) = self.zone() else {
            return true;
        };
        let local = at.with_timezone(&zone);
        let date = local.date_naive().format("%Y-%m-%d").to_string();
        if self.holidays.contains(&date) {
            return false;
        }
        let day = DAYS[local.weekday().num_days_from_monday() as usize];
        let now = local.time();
        self.weekly.get(day).is_some_and(|intervals| {
            intervals
                .iter()
                .any(|[from, to]| match (time(from), time(to)) {
                    (Ok(from), Ok(to)) => from <= now && now < to,
                    _ => false,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn open_inside_the_days_intervals_in_its_zone_and_not_on_holidays() {
        let h = BusinessHours::parse(json!({
            "time_zone": "Europe/Berlin",
            "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]},
            "holidays": ["2026-12-28"],
        }))
        .unwrap();
        // Monday 2026-12-07, 09:30 in Berlin is 08:30 UTC.
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 12, 7, 8, 30, 0).unwrap()));
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 12, 7, 7, 30, 0).unwrap()));
        assert!(
            !h.is_open(Utc.with_ymd_and_hms(2026, 12, 7, 11, 30, 0).unwrap()),
            "lunch"
        );
        assert!(
            !h.is_open(Utc.with_ymd_and_hms(2026, 12, 8, 8, 30, 0).unwrap()),
            "Tuesday"
        );
        assert!(
            !h.is_open(Utc.with_ymd_and_hms(2026, 12, 28, 8, 30, 0).unwrap()),
            "holiday"
        );
    }

    #[test]
    fn a_schedule_is_checked_whole() {
        for bad in [
            json!({"time_zone": "Mars/Base"}),
            json!({"time_zone": "UTC", "weekly": {"monday": []}}),
            json!({"time_zone": "UTC", "weekly": {"mon": [["17:00", "09:00"]]}}),
            json!({"time_zone": "UTC", "weekly": {"mon": [["9", "17:00"]]}}),
            json!({"time_zone": "UTC", "holidays": ["tomorrow"]}),
            json!({"time_zone": "UTC", "extra": 1}),
        ] {
            assert_eq!(
                BusinessHours::parse(bad.clone()).unwrap_err().code,
                "invalid_hours",
                "{bad}"
            );
        }
    }
}
