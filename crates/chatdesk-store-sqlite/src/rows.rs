//! How SQLite columns read: times are INTEGER microseconds, JSON is TEXT, UUIDs are BLOBs.
//! The parsing into domain values is shared: `chatdesk_core::rows`.

use chatdesk_core::rows::{corrupt, Columns};
use chatdesk_core::store::StoreResult;
use chrono::{DateTime, Utc};
use std::cell::Cell;
use std::sync::OnceLock;
use uuid::Uuid;

pub use chatdesk_core::rows::{
    account, agent, api_key, beat, contact, delivery, department, due_delivery, message, qualified,
    session, webhook, AGENT_COLUMNS, CONTACT_COLUMNS, DELIVERY_COLUMNS, MESSAGE_COLUMNS,
    SESSION_COLUMNS,
};

pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A statement's column names. rusqlite finds a column by name by asking SQLite for every
/// column's name and comparing case-insensitively, on every read of every row, which showed
/// in a session GET's profile. Copied (the rows borrow the statement mutably) into one
/// buffer.
#[derive(PartialEq, Debug)]
pub struct ColumnNames {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
}

impl ColumnNames {
    pub fn of(stmt: &rusqlite::Statement<'_>) -> Self {
        let mut names = Self {
            text: String::with_capacity(stmt.column_count() * 16),
            ends: Vec::with_capacity(stmt.column_count()),
        };
        for i in 0..stmt.column_count() {
            names.text += stmt.column_name(i).unwrap_or_default();
            names.ends.push(names.text.len());
        }
        names
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// The column names of one statement text, read from SQLite the first time it runs and
/// kept in a `static` beside the text: reading a session's names (and checking each is
/// UTF-8) on every run is work that never changes its answer.
pub struct StatementColumns(OnceLock<ColumnNames>);

impl StatementColumns {
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }

    fn of(&self, stmt: &rusqlite::Statement<'_>) -> &ColumnNames {
        let names = self.0.get_or_init(|| ColumnNames::of(stmt));
        // One `static` per statement text (or texts with the same columns): the tests run
        // with debug assertions and catch one shared by statements that differ.
        debug_assert_eq!(names, &ColumnNames::of(stmt), "a StatementColumns shared");
        names
    }
}

/// A row, readable by the shared parsers (`chatdesk_core::rows`).
pub struct DirectRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r ColumnNames,
    /// Columns before this one are not looked at: a join's second table reads as a row of
    /// its own, although both tables have an `id`.
    start: usize,
    /// Where the search for the next column begins: after the last one found. The parsers
    /// read columns in the order of the column lists (`chatdesk_core::rows`), so the next
    /// column is nearly always the first one looked at.
    next: Cell<usize>,
}

impl<'r, 's> DirectRow<'r, 's> {
    pub fn new(row: &'r rusqlite::Row<'s>, names: &'r ColumnNames) -> Self {
        Self {
            row,
            names,
            start: 0,
            next: Cell::new(0),
        }
    }

    /// The same row read from column `start` on.
    pub fn columns_from(&self, start: usize) -> Self {
        Self {
            start,
            next: Cell::new(start),
            ..*self
        }
    }

    fn index(&self, col: &str) -> StoreResult<usize> {
        let (start, end) = (self.start.min(self.names.len()), self.names.len());
        let next = self.next.get().clamp(start, end);
        let at = (next..end)
            .chain(start..next)
            .find(|&i| self.names.name(i) == col)
            .ok_or_else(|| corrupt(format!("no column {col}")))?;
        self.next.set(at + 1);
        Ok(at)
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> StoreResult<T> {
        self.row.get(self.index(col)?).map_err(corrupt)
    }

    /// A column that is never NULL.
    pub fn required<T: rusqlite::types::FromSql>(&self, col: &str) -> StoreResult<T> {
        self.get(col)
    }

    pub fn required_text(&self, col: &str) -> StoreResult<String> {
        self.get(col)
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

/// Every row `stmt` returns for `params`, parsed. `columns` is the statement text's own.
pub fn all<T>(
    stmt: &mut rusqlite::Statement<'_>,
    columns: &StatementColumns,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    all_named(stmt, columns.of(stmt), params, parse)
}

/// The first row `stmt` returns for `params`, parsed. `columns` is the statement text's own.
pub fn first<T>(
    stmt: &mut rusqlite::Statement<'_>,
    columns: &StatementColumns,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    first_named(stmt, columns.of(stmt), params, parse)
}

/// [`all`], with the statement's column names given.
pub fn all_named<T>(
    stmt: &mut rusqlite::Statement<'_>,
    names: &ColumnNames,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = stmt.query(params).map_err(crate::error::error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(crate::error::error)? {
        out.push(parse(&DirectRow::new(r, names))?);
    }
    Ok(out)
}

/// [`first`], with the statement's column names given.
pub fn first_named<T>(
    stmt: &mut rusqlite::Statement<'_>,
    names: &ColumnNames,
    params: impl rusqlite::Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut rows = stmt.query(params).map_err(crate::error::error)?;
    match rows.next().map_err(crate::error::error)? {
        Some(r) => parse(&DirectRow::new(r, names)).map(Some),
        None => Ok(None),
    }
}
