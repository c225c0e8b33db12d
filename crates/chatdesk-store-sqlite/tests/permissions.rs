//! The database file holds secrets (the generated signing key, webhook secrets).

mod common;

use chatdesk_store_sqlite::Durability;

/// The database (signing key, webhook secrets) and its WAL are readable by their owner only,
/// and an existing file that others could read is narrowed.
#[tokio::test]
async fn database_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let store = common::file_store(&path, Durability::Normal).await;
    let owner = common::customer();
    common::open(&store, &owner).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("private.db-wal");
    assert_eq!(mode(&wal), 0o600);
    drop(store);

    let old = dir.path().join("old.db");
    std::fs::write(&old, b"").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = common::file_store(&old, Durability::Normal).await;
    assert_eq!(mode(&old), 0o600);
}
