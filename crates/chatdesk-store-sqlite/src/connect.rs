//! Where the database is and how its connections are set up.

use crate::error::error;
use crate::Durability;
use chatdesk_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a `database_url` names.
#[derive(Debug, PartialEq, Eq)]
pub enum Location {
    Memory,
    File(PathBuf),
}

/// `sqlite://path`, `sqlite:path` or `sqlite::memory:`; a query string (`?mode=rwc`, as
/// earlier versions accepted) is ignored.
pub fn location(url: &str) -> StoreResult<Location> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| bad_url(url, "it must start with sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path == ":memory:" || rest.contains("mode=memory") {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(bad_url(url, "it names no file"));
    }
    Ok(Location::File(PathBuf::from(path)))
}

fn bad_url(url: &str, why: &str) -> StoreError {
    StoreError::Unavailable(format!("bad SQLite URL {url:?}: {why}"))
}

/// The writer's connection, at `durability`.
pub fn writer(at: &Location, durability: Durability) -> StoreResult<Connection> {
    let conn = match at {
        Location::Memory => Connection::open_in_memory(),
        Location::File(path) => {
            owner_only(path)?;
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
    }
    .map_err(error)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(error)?;
    let synchronous = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; PRAGMA temp_store = MEMORY;"
    ))
    .map_err(error)?;
    if let Location::File(_) = at {
        // WAL lets readers run while the writer commits; checkpoints are the
        // checkpointer's (`crate::checkpoint`); a bigger page cache than SQLite's default.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "SQLite would not use WAL mode (journal_mode is {mode})"
            )));
        }
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536;")
            .map_err(error)?;
        map_pages(&conn).map_err(error)?;
    }
    // A batch's statements and a session opening's, with room to spare.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Pages come from the mapped file, not read(2) into each connection's private cache.
pub fn map_pages(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA mmap_size = 268435456", [], |_| Ok(()))
}

/// The database holds the generated signing key and webhook secrets: it is created readable
/// by its owner only (SQLite gives its `-wal` and `-shm` files the database file's mode), and
/// an existing one that others could read is narrowed to that.
fn owner_only(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fail =
        |e: std::io::Error| StoreError::Unavailable(format!("cannot open {}: {e}", path.display()));
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(fail)
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(drop)
            .map_err(fail),
        Err(e) => Err(fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file_or_memory() {
        assert_eq!(location("sqlite::memory:").unwrap(), Location::Memory);
        assert_eq!(
            location("sqlite://data/chat.db?mode=rwc").unwrap(),
            Location::File("data/chat.db".into())
        );
        assert_eq!(
            location("sqlite:/var/chat.db").unwrap(),
            Location::File("/var/chat.db".into())
        );
        assert!(location("postgres://x").is_err());
        assert!(location("sqlite://").is_err());
    }
}
