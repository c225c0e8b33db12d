//! Resume-or-create of a session, inside the writer's transaction (`crate::direct`).

use crate::direct::error;
use crate::micros;
use crate::rows::{self, SESSION_COLUMNS};
use chatdesk_core::domain::Session;
use chatdesk_core::rows::corrupt;
use chatdesk_core::store::{NewSession, StoreResult};
use rusqlite::{params, Transaction};

/// The owner's latest open session in the business when `resume` and there is one
/// (`false`: not created), else the new one (`true`).
pub fn open_session(
    tx: &Transaction<'_>,
    new: &NewSession,
    resume: bool,
) -> StoreResult<(Session, bool)> {
    if resume {
        let mut latest = tx
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE owner = ?1 AND business_id = ?2 AND status <> 'closed' AND deleted_at IS NULL \
                 ORDER BY last_activity_at DESC, id DESC LIMIT 1"
            ))
            .map_err(error)?;
        let found = rows::first(
            &mut latest,
            params![new.owner.key(), new.business_id.as_str()],
            |r| rows::session(r),
        )?;
        if let Some(session) = found {
            return Ok((session, false));
        }
    }
    let at = micros(new.at);
    let mut insert = tx
        .prepare_cached(&format!(
            "INSERT INTO sessions (id, business_id, location_id, owner, session_type, topic, title, \
             priority, status, metadata, department_id, started_at, last_activity_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'waiting', ?9, ?10, ?11, ?11, ?11, ?11) \
             RETURNING {SESSION_COLUMNS}"
        ))
        .map_err(error)?;
    let created = rows::first(
        &mut insert,
        params![
            &new.id.as_uuid().into_bytes()[..],
            new.business_id.as_str(),
            new.location_id.as_ref().map(|l| l.as_str()),
            new.owner.key(),
            new.session_type.as_str(),
            new.topic.as_ref().map(|t| t.as_str()),
            new.title.as_ref().map(|t| t.as_str()),
            new.priority.as_str(),
            new.metadata.to_string(),
            new.department_id.map(|d| d.to_string()),
            at,
        ],
        |r| rows::session(r),
    )?
    .ok_or_else(|| corrupt("INSERT … RETURNING returned no row"))?;
    Ok((created, true))
}
