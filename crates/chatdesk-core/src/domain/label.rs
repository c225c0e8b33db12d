//! Labels: a tenant's own tags for sessions ("refund", "vip"), to filter lists, search and
//! reports by.

use super::{BusinessId, Invalid};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    pub id: uuid::Uuid,
    pub business_id: BusinessId,
    pub name: LabelName,
    pub created_at: DateTime<Utc>,
}

/// 1 to 40 characters on one line, trimmed; unique in its tenant, whatever the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LabelName(String);

impl LabelName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "name",
                "invalid_label",
                "a label's name is 1 to 40 characters on one line",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
