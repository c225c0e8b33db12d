//! Files uploaded into sessions: their records (the bytes live in `crate::files`).

use super::*;
use crate::domain::{Attachment, AttachmentId};

#[async_trait]
pub trait AttachmentStore: Send + Sync + 'static {
    /// Record an uploaded file, unless its tenant's files would then take more than
    /// `quota_bytes`: false, and nothing recorded. Two uploads at once cannot both pass.
    async fn insert_attachment(&self, a: &Attachment, quota_bytes: i64) -> StoreResult<bool>;

    /// A file of a session that is not deleted.
    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>>;

    /// Files of sessions deleted before `cutoff`, at most `limit`.
    async fn attachments_of_deleted_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>>;

    /// Drop a file's record (its bytes are removed first).
    async fn forget_attachment(&self, id: AttachmentId) -> StoreResult<()>;
}
