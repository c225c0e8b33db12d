//! Canned responses: a tenant's (or one department's) ready answers, found by a short code,
//! with placeholders such as `{{contact.name}}` and `{{agent.name}}`.

use super::{BusinessId, Invalid};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Most characters a canned response's text holds.
pub const MAX_CANNED_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CannedResponse {
    pub id: uuid::Uuid,
    pub business_id: BusinessId,
    /// Offered only in this department's conversations; `None`: in every one.
    pub department_id: Option<String>,
    pub code: ShortCode,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// 1 to 32 of `a-z`, `0-9`, `-`, `_` (taken lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ShortCode(String);

impl ShortCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_lowercase();
        let fits = (1..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !fits {
            return Err(Invalid::new(
                "code",
                "invalid_code",
                "code must be 1 to 32 of a-z, 0-9, - and _",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A canned response's text: not blank, at most [`MAX_CANNED_CHARS`], no U+0000.
pub fn canned_text(raw: &str) -> Result<String, Invalid> {
    if raw.trim().is_empty() || raw.chars().count() > MAX_CANNED_CHARS || raw.contains('\0') {
        return Err(Invalid::new(
            "text",
            "invalid_text",
            format!("text must be 1 to {MAX_CANNED_CHARS} characters, without U+0000"),
        ));
    }
    Ok(raw.to_owned())
}

/// The placeholders a render fills in.
pub const PLACEHOLDERS: [&str; 6] = [
    "contact.name",
    "contact.email",
    "contact.company",
    "agent.name",
    "session.number",
    "session.topic",
];

/// `text` with each known `{{ placeholder }}` replaced by its value (empty when there is
/// none); anything else between braces is left as written.
pub fn render(text: &str, values: &HashMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        let name = rest[open + 2..open + 2 + close].trim();
        out.push_str(&rest[..open]);
        if PLACEHOLDERS.contains(&name) {
            out.push_str(values.get(name).map_or("", String::as_str));
        } else {
            out.push_str(&rest[open..open + 2 + close + 2]);
        }
        rest = &rest[open + 2 + close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_the_rest_left_alone() {
        let values = HashMap::from([("contact.name", "Ann".to_owned())]);
        assert_eq!(
            render(
                "Hi {{contact.name}}, I am {{ agent.name }}. {{other}} {{",
                &values
            ),
            "Hi Ann, I am . {{other}} {{"
        );
    }

    #[test]
    fn codes_are_short_and_plain() {
        assert_eq!(ShortCode::parse(" Refund-2 ").unwrap().as_str(), "refund-2");
        for bad in ["", "has space", "é", &"x".repeat(33)] {
            assert!(ShortCode::parse(bad).is_err(), "{bad}");
        }
    }
}
