//! The schema, brought up to date at start.
//!
//! Applied migrations are recorded in `_sqlx_migrations`, the table (and the checksums) of
//! the migrator earlier versions used, so their databases carry on where they were.

use crate::error::error;
use chatdesk_core::store::{StoreError, StoreResult};
use rusqlite::{params, Connection, TransactionBehavior};
use sha2::{Digest, Sha384};
use std::collections::HashSet;
use std::time::Instant;

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order (`build.rs`).
pub const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Apply, each in its own transaction, the migrations `conn`'s database has not had.
pub fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, \
         description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )
    .map_err(error)?;
    let applied: HashSet<i64> = conn
        .prepare("SELECT version FROM _sqlx_migrations WHERE success")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(error)?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let started = Instant::now();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(error)?;
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::Backend(format!("migration {} failed: {e}", m.version)))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            params![
                m.version,
                m.description,
                Sha384::digest(m.sql.as_bytes()).to_vec(),
                started.elapsed().as_nanos() as i64
            ],
        )
        .map_err(error)?;
        tx.commit().map_err(error)?;
    }
    Ok(())
}
