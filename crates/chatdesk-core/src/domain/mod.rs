//! Domain types. Each one parses raw input into a value that is valid by construction.

mod activity;
mod agent;
mod attachment;
mod canned;
mod contact;
mod email;
#[cfg(test)]
mod fuzz;
mod hours;
mod ids;
mod invalid;
mod label;
mod message;
mod note;
mod party;
mod rating;
mod search;
mod session;
mod tenant;
pub(crate) mod text;
mod webhook;

pub use activity::{response_time_ms, ActivityCounters, ActivityKind};
pub use agent::{max_concurrent, Agent, Department, DepartmentName, Presence};
pub use attachment::{
    file_name, sniff, thumbnail, Attachment, AttachmentRef, FileRules, MAX_ATTACHMENTS_PER_MESSAGE,
    MAX_FILE_NAME_CHARS, THUMBNAIL_TYPE,
};
pub use canned::{
    canned_text, render as render_canned, CannedResponse, ShortCode, MAX_CANNED_CHARS, PLACEHOLDERS,
};
pub use contact::{Contact, ContactText, Phone};
pub use email::Email;
pub use hours::BusinessHours;
pub use ids::{AttachmentId, ClientMsgId, MessageId, SessionId, UserId, VisitorId};
pub use invalid::Invalid;
pub use label::{Label, LabelName};
pub use message::{Content, Message, Revision, SenderType};
pub use note::Note;
pub use party::Party;
pub use rating::{comment as rating_comment, Rating, Score, MAX_COMMENT_CHARS};
pub use search::SearchQuery;
pub use session::{Priority, Session, SessionStatus, SessionType, Title, Topic, QUEUE_RANK_SQL};
pub use tenant::{BusinessId, LocationId};
pub use webhook::{WebhookEvent, WebhookUrl};
