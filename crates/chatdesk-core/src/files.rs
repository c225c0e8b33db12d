//! The file port: where attachments' bytes are kept (local disk or S3-compatible storage,
//! in the server), and the signed, expiring links that fetch them.

use crate::domain::AttachmentId;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, thiserror::Error)]
#[error("file storage: {0}")]
pub struct FilesError(pub String);

#[async_trait]
pub trait Files: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), FilesError>;
    /// `None`: nothing is kept under `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError>;
    /// Removing what is not there succeeds.
    async fn delete(&self, key: &str) -> Result<(), FilesError>;
}

/// Which of an attachment's files a link fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Thumbnail => "thumbnail",
        }
    }
}

/// Download links: whoever may see a session is given links to its files that work for
/// `ttl_secs` without credentials (an `<img>` cannot send a header), then never again.
#[derive(Clone)]
pub struct Links {
    /// Shared: every response that shows messages holds a copy.
    key: std::sync::Arc<[u8]>,
    pub ttl_secs: i64,
}

impl Links {
    pub fn new(key: &[u8], ttl_secs: i64) -> Self {
        Self {
            key: key.into(),
            ttl_secs,
        }
    }

    /// The path (with its query) that fetches `variant` of `id` until `now + ttl_secs`.
    pub fn path(&self, id: AttachmentId, variant: Variant, now: i64) -> String {
        let expires = now + self.ttl_secs;
        let tail = match variant {
            Variant::Original => "content",
            Variant::Thumbnail => "thumbnail",
        };
        format!(
            "/v1/attachments/{id}/{tail}?expires={expires}&sig={}",
            self.signature(id, variant, expires)
        )
    }

    /// The path that fetches `variant` of `id` from now until `ttl_secs` from now.
    pub fn fresh(&self, id: AttachmentId, variant: Variant) -> String {
        self.path(id, variant, crate::clock::now().timestamp())
    }

    /// Whether `sig` is this server's signature of `id`'s `variant` until `expires`, and
    /// `expires` is still ahead of `now`.
    pub fn verify(
        &self,
        id: AttachmentId,
        variant: Variant,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        expires > now && self.mac(id, variant, expires).verify_slice(&sig).is_ok()
    }

    fn signature(&self, id: AttachmentId, variant: Variant, expires: i64) -> String {
        hex::encode(self.mac(id, variant, expires).finalize().into_bytes())
    }

    fn mac(&self, id: AttachmentId, variant: Variant, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(format!("{id}:{}:{expires}", variant.as_str()).as_bytes());
        mac
    }
}

/// Files kept in this process's memory, for tests.
#[derive(Default)]
pub struct MemoryFiles {
    kept: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl Files for MemoryFiles {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        self.kept.lock().unwrap().insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, FilesError> {
        Ok(self.kept.lock().unwrap().get(key).cloned())
    }

    async fn delete(&self, key: &str) -> Result<(), FilesError> {
        self.kept.lock().unwrap().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_work_until_they_expire_and_only_as_signed() {
        let links = Links::new(b"secret", 60);
        let id = AttachmentId::generate();
        let path = links.path(id, Variant::Original, 1_000);
        let query = path.split_once('?').unwrap().1;
        let (expires, sig) = query.split_once('&').unwrap();
        let expires: i64 = expires.strip_prefix("expires=").unwrap().parse().unwrap();
        let sig = sig.strip_prefix("sig=").unwrap();
        assert_eq!(expires, 1_060);
        assert!(links.verify(id, Variant::Original, expires, sig, 1_059));
        assert!(!links.verify(id, Variant::Original, expires, sig, 1_060));
        assert!(!links.verify(id, Variant::Thumbnail, expires, sig, 1_000));
        assert!(!links.verify(id, Variant::Original, expires + 1, sig, 1_000));
        assert!(!links.verify(
            AttachmentId::generate(),
            Variant::Original,
            expires,
            sig,
            1_000
        ));
        assert!(!Links::new(b"other", 60).verify(id, Variant::Original, expires, sig, 1_000));
        assert!(!links.verify(id, Variant::Original, expires, "zz", 1_000));
    }
}
