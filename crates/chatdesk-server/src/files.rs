//! Where attachments' bytes are kept: a directory on local disk, or an S3-compatible bucket
//! through `object_store`.

use crate::config::{AttachmentSettings, Settings};
use async_trait::async_trait;
use chatdesk_core::files::{Files, FilesError};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The store the settings name: the bucket when one is set, else the directory.
pub fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Files>> {
    let a = &settings.attachments;
    match &a.s3_bucket {
        Some(bucket) => Ok(Arc::new(Bucket::open(a, bucket)?)),
        None => Ok(Arc::new(Directory::new(directory(settings)))),
    }
}

/// The configured directory, or one beside the SQLite database it belongs with.
fn directory(settings: &Settings) -> PathBuf {
    if let Some(dir) = &settings.attachments.dir {
        return dir.clone();
    }
    match settings.database_url.strip_prefix("sqlite://") {
        Some(db) if !db.is_empty() && !db.contains(":memory:") => {
            let db = db.split('?').next().unwrap_or(db);
            PathBuf::from(format!("{db}.files"))
        }
        _ => PathBuf::from("chatdesk-files"),
    }
}

/// Files under a directory, created as they are first written. A file is written whole to
/// a temporary name, then renamed: a reader never sees half of one.
pub struct Directory {
    root: PathBuf,
}

impl Directory {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Keys are the core's (`tenant/session/id`), and a tenant id may hold any character
    /// but `/`: each segment is hex-encoded so that no key names a path outside the root.
    fn path(&self, key: &str) -> PathBuf {
        key.split('/')
            .fold(self.root.clone(), |p, segment| p.join(hex::encode(segment)))
    }
}

#[async_trait]
impl Files for Directory {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        let path = self.path(key);
        let parent = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
        let partial = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FilesError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }
}

fn io(e: std::io::Error) -> FilesError {
    FilesError(e.to_string())
}

/// Files in an S3-compatible bucket.
pub struct Bucket {
    store: Box<dyn ObjectStore>,
}

impl Bucket {
    fn open(a: &AttachmentSettings, bucket: &str) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&a.s3_region)
            .with_allow_http(a.s3_allow_http);
        if let Some(endpoint) = &a.s3_endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&a.s3_access_key_id, &a.s3_secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("attachments.s3_bucket {bucket}: {e}"))?;
        Ok(Self {
            store: Box::new(store),
        })
    }
}

#[async_trait]
impl Files for Bucket {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(s3)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        match self.store.get(&ObjectPath::from(key)).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(s3)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FilesError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3(e)),
        }
    }
}

fn s3(e: object_store::Error) -> FilesError {
    FilesError(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_keeps_files_under_its_root_whatever_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let files = Directory::new(dir.path().join("files"));
        files.put("../evil/x", b"one".to_vec()).await.unwrap();
        assert_eq!(files.get("../evil/x").await.unwrap().unwrap(), b"one");
        assert!(files
            .path("../evil/x")
            .starts_with(dir.path().join("files")));
        assert_eq!(files.get("other").await.unwrap(), None);
        files.delete("../evil/x").await.unwrap();
        files.delete("../evil/x").await.unwrap();
        assert_eq!(files.get("../evil/x").await.unwrap(), None);
    }

    #[test]
    fn files_live_beside_the_sqlite_database_unless_told() {
        let mut s = Settings::for_database("sqlite:///var/lib/chatdesk/chat.db?mode=rwc");
        assert_eq!(
            directory(&s),
            PathBuf::from("/var/lib/chatdesk/chat.db.files")
        );
        s.database_url = "postgres://db/chat".into();
        assert_eq!(directory(&s), PathBuf::from("chatdesk-files"));
        s.attachments.dir = Some("/srv/files".into());
        assert_eq!(directory(&s), PathBuf::from("/srv/files"));
    }
}
