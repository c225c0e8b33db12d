//! Files uploaded into a session and sent with messages: their names, what their bytes say
//! they are (the declared type is never trusted), and the rules a deployment sets on them.

use super::{AttachmentId, BusinessId, Invalid, Party, SessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Most files one message carries.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// Thumbnails are PNG, at most this many pixels on their longer side.
pub const THUMBNAIL_TYPE: &str = "image/png";
const THUMBNAIL_SIDE: u32 = 256;
/// An image larger than this on either side is kept, but gets no thumbnail.
const MAX_THUMBNAIL_SOURCE_SIDE: u32 = 8_192;
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;

/// What a message carries of a file: enough to show it and fetch it. Kept with the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: AttachmentId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// A small PNG of it exists (images only).
    pub thumbnail: bool,
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub business_id: BusinessId,
    pub session_id: SessionId,
    pub uploader: Party,
    pub name: String,
    /// What its content was sniffed as.
    pub content_type: String,
    pub size: i64,
    /// The size of its thumbnail, where it has one.
    pub thumbnail_size: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    pub fn reference(&self) -> AttachmentRef {
        AttachmentRef {
            id: self.id,
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            thumbnail: self.thumbnail_size.is_some(),
        }
    }

    /// Where its bytes are kept: grouped by tenant and session, so that an operator can find
    /// and remove a tenant's or a conversation's files.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.business_id, self.session_id, self.id)
    }

    pub fn thumbnail_key(&self) -> String {
        format!("{}.thumb", self.key())
    }
}

/// What a deployment allows.
#[derive(Debug, Clone)]
pub struct FileRules {
    pub max_bytes: u64,
    /// Sniffed types accepted: exact (`application/pdf`) or a family (`image/*`).
    pub allowed_types: Vec<String>,
    /// Bytes of files one tenant may keep.
    pub quota_bytes_per_tenant: u64,
    /// How long a deleted session's files are kept before they are removed.
    pub retention_secs: i64,
}

impl Default for FileRules {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            allowed_types: [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "application/pdf",
                "text/plain",
            ]
            .map(String::from)
            .to_vec(),
            quota_bytes_per_tenant: 1024 * 1024 * 1024,
            retention_secs: 30 * 24 * 3600,
        }
    }
}

impl FileRules {
    pub fn allows(&self, content_type: &str) -> bool {
        self.allowed_types
            .iter()
            .any(|allowed| match allowed.strip_suffix("/*") {
                Some(family) => content_type
                    .split_once('/')
                    .is_some_and(|(f, _)| f == family),
                None => allowed == content_type,
            })
    }
}

/// A file's name as shown and offered for download: its last path segment, no control
/// characters, not blank, at most `MAX_FILE_NAME_CHARS`.
pub fn file_name(raw: &str) -> Result<String, Invalid> {
    let invalid = |why: &str| Invalid::new("file", "invalid_file_name", why.to_owned());
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(invalid("the file needs a name"));
    }
    if base.chars().any(char::is_control) {
        return Err(invalid("a file name must not contain control characters"));
    }
    if base.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(invalid("a file name must be at most 255 characters"));
    }
    Ok(base.to_owned())
}

/// What the bytes are, by their signature; text when they are UTF-8 without control
/// characters other than whitespace; else `application/octet-stream`.
pub fn sniff(bytes: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type();
    }
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            "text/plain"
        }
        _ => "application/octet-stream",
    }
}

/// A small PNG of an image, or `None` when it is not an image this server decodes, is too
/// large to decode safely, or is broken. CPU-bound: run it off the async workers.
pub fn thumbnail(bytes: &[u8], content_type: &str) -> Option<Vec<u8>> {
    let format = match content_type {
        "image/png" => image::ImageFormat::Png,
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/gif" => image::ImageFormat::Gif,
        "image/webp" => image::ImageFormat::WebP,
        _ => return None,
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_THUMBNAIL_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_THUMBNAIL_SOURCE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let small = reader
        .decode()
        .ok()?
        .thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut png = Vec::new();
    small
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn names_keep_their_last_segment_only() {
        assert_eq!(file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\cv.pdf").unwrap(), "cv.pdf");
        assert_eq!(file_name(" a b.txt ").unwrap(), "a b.txt");
        assert!(file_name("dir/").is_err());
        assert!(file_name("..").is_err());
        assert!(file_name("a\u{7}.txt").is_err());
        assert!(file_name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(&png(2, 2)), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff("héllo\nworld\t!".as_bytes()), "text/plain");
        assert_eq!(
            sniff(b"MZ\x90\x00\x03\x00\x00\x00"),
            "application/vnd.microsoft.portable-executable"
        );
        assert_eq!(sniff(b"\x00\x01\x02"), "application/octet-stream");
        assert_eq!(sniff(b""), "application/octet-stream");
    }

    #[test]
    fn rules_take_exact_types_and_families() {
        let rules = FileRules {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            ..FileRules::default()
        };
        assert!(rules.allows("image/webp"));
        assert!(rules.allows("application/pdf"));
        assert!(!rules.allows("application/vnd.microsoft.portable-executable"));
        assert!(!rules.allows("imagex/png"));
    }

    #[test]
    fn thumbnails_are_small_pngs_of_images_only() {
        let thumb = thumbnail(&png(1000, 500), "image/png").unwrap();
        let back = image::load_from_memory(&thumb).unwrap();
        assert_eq!((back.width(), back.height()), (256, 128));
        assert!(thumbnail(b"%PDF-1.7", "application/pdf").is_none());
        assert!(thumbnail(b"\x89PNG\r\n\x1a\nbroken", "image/png").is_none());
    }
}
