//! Attachments: files uploaded into a session, sent with a message, fetched through links
//! that expire, removed after their session's deletion has been kept for the retention.

use super::kernel::Kernel;
use crate::clock;
use crate::domain::{
    file_name, sniff, thumbnail, Attachment, AttachmentId, AttachmentRef, FileRules, Invalid,
    Session, SessionId, SessionStatus, MAX_ATTACHMENTS_PER_MESSAGE,
};
use crate::error::{ServiceError, ServiceResult};
use crate::files::{Files, Links, Variant};
use crate::identity::Principal;
use std::sync::Arc;

/// Most files one sweep of deleted sessions removes.
const PURGE_BATCH: u32 = 500;

/// Where files go and what is allowed of them.
#[derive(Clone)]
pub struct FileSetup {
    pub files: Arc<dyn Files>,
    pub rules: FileRules,
    pub links: Links,
}

impl FileSetup {
    /// Files in memory with the default rules, for tests.
    pub fn in_memory() -> Self {
        Self {
            files: Arc::new(crate::files::MemoryFiles::default()),
            rules: FileRules::default(),
            links: Links::new(b"tests", 900),
        }
    }
}

/// A file's bytes, ready to be served.
pub struct Download {
    pub attachment: Attachment,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct Attachments {
    k: Arc<Kernel>,
    setup: Arc<FileSetup>,
}

impl Attachments {
    pub(super) fn new(k: Arc<Kernel>, setup: FileSetup) -> Self {
        Self {
            k,
            setup: Arc::new(setup),
        }
    }

    pub fn rules(&self) -> &FileRules {
        &self.setup.rules
    }

    /// Keep a file in an open session the caller may write to. Its type is what its bytes
    /// say; images get a thumbnail. The tenant's quota is checked as the record is written.
    pub async fn upload(
        &self,
        p: &Principal,
        id: SessionId,
        declared_name: &str,
        bytes: Vec<u8>,
    ) -> ServiceResult<Attachment> {
        let name = file_name(declared_name)?;
        let rules = &self.setup.rules;
        if bytes.len() as u64 > rules.max_bytes {
            return Err(file_too_large(rules));
        }
        if bytes.is_empty() {
            return Err(Invalid::new("file", "empty_file", "the file is empty").into());
        }
        // Read fresh (a remembered send target's status may lag): a closed session takes no
        // files, where the append would refuse only the message that carries them.
        let session = self.k.visible(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "session_closed",
                "the session is closed; no more files can be added",
            ));
        }
        let content_type = sniff(&bytes);
        if !rules.allows(content_type) {
            return Err(ServiceError::UnsupportedType(format!(
                "files of type {content_type} are not accepted here"
            )));
        }
        let (bytes, small) = tokio::task::spawn_blocking(move || {
            let small = thumbnail(&bytes, content_type);
            (bytes, small)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let attachment = Attachment {
            id: AttachmentId::generate(),
            business_id: session.business_id.clone(),
            session_id: session.id,
            uploader: p.party.clone(),
            name,
            content_type: content_type.to_owned(),
            size: bytes.len() as i64,
            thumbnail_size: small.as_ref().map(|s| s.len() as i64),
            created_at: clock::now(),
        };
        // Bytes first: a record never points at nothing. Bytes without a record (a crash
        // between, or the quota refusing) are removed here or are unreachable.
        let files = &self.setup.files;
        files
            .put(&attachment.key(), bytes)
            .await
            .map_err(unavailable)?;
        if let Some(small) = small {
            files
                .put(&attachment.thumbnail_key(), small)
                .await
                .map_err(unavailable)?;
        }
        let quota = i64::try_from(rules.quota_bytes_per_tenant).unwrap_or(i64::MAX);
        if !self.k.store.insert_attachment(&attachment, quota).await? {
            self.remove_files(&attachment).await;
            return Err(ServiceError::TooLarge {
                code: "quota_exceeded",
                message: "this business has no room left for files".into(),
            });
        }
        Ok(attachment)
    }

    /// A file's record, for anyone who may see its session.
    pub async fn describe(&self, p: &Principal, id: AttachmentId) -> ServiceResult<Attachment> {
        let attachment = self.existing(id).await?;
        self.k.visible(p, attachment.session_id).await?;
        Ok(attachment)
    }

    /// A file's bytes for anyone who may see its session.
    pub async fn download(
        &self,
        p: &Principal,
        id: AttachmentId,
        variant: Variant,
    ) -> ServiceResult<Download> {
        let attachment = self.describe(p, id).await?;
        self.read(attachment, variant).await
    }

    /// A file's bytes through a link this server signed that has not expired.
    pub async fn download_signed(
        &self,
        id: AttachmentId,
        variant: Variant,
        expires: i64,
        sig: &str,
    ) -> ServiceResult<Download> {
        let now = clock::now().timestamp();
        if !self.setup.links.verify(id, variant, expires, sig, now) {
            return Err(ServiceError::Forbidden(
                "this link is not valid or has expired",
            ));
        }
        let attachment = self.existing(id).await?;
        self.read(attachment, variant).await
    }

    /// What makes the links that fetch files.
    pub fn links(&self) -> &Links {
        &self.setup.links
    }

    /// Remove the files of sessions deleted longer ago than the retention; how many.
    pub async fn purge_deleted(&self) -> ServiceResult<usize> {
        let cutoff = clock::now() - chrono::Duration::seconds(self.setup.rules.retention_secs);
        let due = self
            .k
            .store
            .attachments_of_deleted_sessions(cutoff, PURGE_BATCH)
            .await?;
        for attachment in &due {
            self.remove_files(attachment).await;
            self.k.store.forget_attachment(attachment.id).await?;
        }
        Ok(due.len())
    }

    async fn existing(&self, id: AttachmentId) -> ServiceResult<Attachment> {
        self.k
            .store
            .get_attachment(id)
            .await?
            .ok_or(ServiceError::NotFound("attachment"))
    }

    async fn read(&self, attachment: Attachment, variant: Variant) -> ServiceResult<Download> {
        let (key, content_type) = match variant {
            Variant::Original => (attachment.key(), attachment.content_type.clone()),
            Variant::Thumbnail if attachment.thumbnail_size.is_some() => (
                attachment.thumbnail_key(),
                crate::domain::THUMBNAIL_TYPE.to_owned(),
            ),
            Variant::Thumbnail => return Err(ServiceError::NotFound("thumbnail")),
        };
        let bytes = self
            .setup
            .files
            .get(&key)
            .await
            .map_err(unavailable)?
            .ok_or(ServiceError::NotFound("attachment"))?;
        Ok(Download {
            attachment,
            content_type,
            bytes,
        })
    }

    async fn remove_files(&self, attachment: &Attachment) {
        for key in [attachment.key(), attachment.thumbnail_key()] {
            if let Err(e) = self.setup.files.delete(&key).await {
                tracing::warn!(%key, error = %e, "a file could not be removed");
            }
        }
    }
}

/// The files a message is sent with: uploaded into its session by its sender.
pub(super) async fn attached(
    k: &Kernel,
    p: &Principal,
    session: &Session,
    ids: &[String],
) -> ServiceResult<Vec<AttachmentRef>> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(Invalid::new(
            "attachment_ids",
            "too_many_attachments",
            format!("a message carries at most {MAX_ATTACHMENTS_PER_MESSAGE} files"),
        )
        .into());
    }
    let mut refs: Vec<AttachmentRef> = Vec::with_capacity(ids.len());
    for raw in ids {
        let id = AttachmentId::parse(raw)?;
        let usable = k
            .store
            .get_attachment(id)
            .await?
            .filter(|a| a.session_id == session.id && a.uploader == p.party);
        let Some(attachment) = usable else {
            return Err(Invalid::new(
                "attachment_ids",
                "unknown_attachment",
                format!("{id} is not a file you uploaded into this session"),
            )
            .into());
        };
        if !refs.iter().any(|r| r.id == id) {
            refs.push(attachment.reference());
        }
    }
    Ok(refs)
}

/// A file over the size limit (also the door's answer when a body outgrows it as it is read).
pub fn file_too_large(rules: &FileRules) -> ServiceError {
    ServiceError::TooLarge {
        code: "file_too_large",
        message: format!("a file may be at most {} bytes", rules.max_bytes),
    }
}

fn unavailable(e: crate::files::FilesError) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}
