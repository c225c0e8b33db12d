//! Statements built at run time, and reading rows into domain values.

use crate::error::error;
use crate::rows::{self, ColumnNames, DirectRow};
use chatdesk_core::query::{Arg, QueryText};
use chatdesk_core::store::StoreResult;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Params};

/// A statement's text and the values bound to its `?`s, in order.
#[derive(Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Value>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text += sql;
        self
    }

    pub fn value(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.args.push(value.into());
        self
    }

    /// `?, ?, …` for each of `values`.
    pub fn list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text += ", ";
            }
            self.value(v);
        }
        self
    }

    pub fn all<T>(
        &self,
        c: &Connection,
        parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        all(c, &self.text, params_from_iter(&self.args), parse)
    }

    pub fn first<T>(
        &self,
        c: &Connection,
        parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        first(c, &self.text, params_from_iter(&self.args), parse)
    }
}

/// Times are INTEGER microseconds, UUIDs BLOBs, JSON TEXT.
impl QueryText for Sql {
    fn push(&mut self, sql: &str) {
        self.text += sql;
    }

    fn bind(&mut self, value: Arg) {
        let value = match value {
            Arg::Text(t) => t.map_or(Value::Null, Value::Text),
            Arg::Int(i) => Value::Integer(i),
            Arg::Time(t) => Value::Integer(t.timestamp_micros()),
            Arg::Uuid(u) => Value::Blob(u.as_bytes().to_vec()),
            Arg::Json(j) => Value::Text(j.to_string()),
        };
        self.value(value);
    }
}

/// A UUID as SQLite stores it.
pub fn uuid(id: uuid::Uuid) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

/// Every row `sql` returns for `params`, parsed.
pub fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(error)?;
    let names = ColumnNames::of(&stmt);
    rows::all_named(&mut stmt, &names, params, parse)
}

/// The first row `sql` returns for `params`, parsed.
pub fn first<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    parse: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(error)?;
    let names = ColumnNames::of(&stmt);
    rows::first_named(&mut stmt, &names, params, parse)
}

/// Run `sql` once; how many rows it changed.
pub fn execute(c: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    c.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(error)
}

/// The single value `sql` returns.
pub fn value<T: rusqlite::types::FromSql>(
    c: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<T> {
    c.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, |r| r.get(0)))
        .map_err(error)
}
