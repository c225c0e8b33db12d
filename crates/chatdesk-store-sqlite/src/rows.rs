//! How SQLite columns read: times are INTEGER microseconds, JSON is TEXT, UUIDs are BLOBs.
//! The parsing into domain values is shared: `chatdesk_core::rows`.

use chatdesk_core::rows::{corrupt, Columns};
use chatdesk_core::store::StoreResult;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

pub use chatdesk_core::rows::{
    account, agent, api_key, beat, contact, department, due_delivery, message, qualified, session,
    webhook, AGENT_COLUMNS, CONTACT_COLUMNS, MESSAGE_COLUMNS, SESSION_COLUMNS,
};

pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Columns for SqliteRowRef<'_> {
    fn text(&self, col: &str) -> StoreResult<Option<String>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        self.0.try_get(col).map_err(corrupt)
    }
    fn time(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        time(col, self.0.try_get(col).map_err(corrupt)?)
    }
    fn json(&self, col: &str) -> StoreResult<Option<serde_json::Value>> {
        json(self.0.try_get(col).map_err(corrupt)?)
    }
}

/// A statement's column names, read once. rusqlite finds a column by name by asking SQLite
/// for every column's name and comparing case-insensitively, on every read of every row:
/// that was a tenth of a session GET's profile.
pub struct ColumnNames(Vec<String>);

impl ColumnNames {
    pub fn of(stmt: &rusqlite::Statement<'_>) -> Self {
        Self(stmt.column_names().into_iter().map(str::to_owned).collect())
    }
}

/// A row read through rusqlite (`crate::direct`, `crate::reader`), readable by the same
/// parsers.
pub struct DirectRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r ColumnNames,
    /// Columns before this one are not looked at: a join's second table reads as a row of
    /// its own, although both tables have an `id`.
    start: usize,
}

impl<'r, 's> DirectRow<'r, 's> {
    pub fn new(row: &'r rusqlite::Row<'s>, names: &'r ColumnNames) -> Self {
        Self {
            row,
            names,
            start: 0,
        }
    }

    /// The same row read from column `start` on.
    pub fn columns_from(&self, start: usize) -> Self {
        Self { start, ..*self }
    }

    fn index(&self, col: &str) -> StoreResult<usize> {
        let at = self.names.0[self.start.min(self.names.0.len())..]
            .iter()
            .position(|n| n == col)
            .ok_or_else(|| corrupt(format!("no column {col}")))?;
        Ok(self.start + at)
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> StoreResult<T> {
        self.row.get(self.index(col)?).map_err(corrupt)
    }
}

impl Columns for DirectRow<'_, '_> {
    fn text(&self, col: &str) -> StoreResult<Option<String>> {
        self.get(col)
    }
    fn int(&self, col: &str) -> StoreResult<Option<i64>> {
        self.get(col)
    }
    fn uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        // Read in place: a message has two, and a page fifty messages.
        let blob = self.row.get_ref(self.index(col)?).map_err(corrupt)?;
        blob.as_blob_or_null()
            .map_err(corrupt)?
            .map(|b| Uuid::from_slice(b).map_err(corrupt))
            .transpose()
    }
    fn time(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        time(col, self.get(col)?)
    }
    fn json(&self, col: &str) -> StoreResult<Option<serde_json::Value>> {
        json(self.get(col)?)
    }
}

/// Times are stored as INTEGER microseconds since the epoch.
fn time(col: &str, micros: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    micros
        .map(|m| {
            DateTime::from_timestamp_micros(m).ok_or_else(|| corrupt(format!("{col}: time {m}")))
        })
        .transpose()
}

/// JSON is stored as TEXT.
fn json(text: Option<String>) -> StoreResult<Option<serde_json::Value>> {
    text.map(|s| serde_json::from_str(&s).map_err(corrupt))
        .transpose()
}

/// A borrowed SQLite row, readable by the shared parsers.
pub struct SqliteRowRef<'r>(pub &'r SqliteRow);

/// Every row of a result as a session.
pub fn sessions(rows: &[SqliteRow]) -> StoreResult<Vec<chatdesk_core::domain::Session>> {
    rows.iter().map(|r| session(&SqliteRowRef(r))).collect()
}

/// Every row of a result as a message.
pub fn messages(rows: &[SqliteRow]) -> StoreResult<Vec<chatdesk_core::domain::Message>> {
    rows.iter().map(|r| message(&SqliteRowRef(r))).collect()
}

/// Every row `stmt` returns for `params`, parsed.
pub fn all<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let names = ColumnNames::of(stmt);
    let mut rows = stmt.query(params).map_err(crate::direct::error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(crate::direct::error)? {
        out.push(parse(&DirectRow::new(r, &names))?);
    }
    Ok(out)
}

/// The first row `stmt` returns for `params`, parsed.
pub fn first<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let names = ColumnNames::of(stmt);
    let mut rows = stmt.query(params).map_err(crate::direct::error)?;
    match rows.next().map_err(crate::direct::error)? {
        Some(r) => parse(&DirectRow::new(r, &names)).map(Some),
        None => Ok(None),
    }
}
