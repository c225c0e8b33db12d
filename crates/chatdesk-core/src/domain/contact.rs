//! A session's contact person (seed 002): who to get back to, which may differ from the
//! account holder.

use super::text::line_newtype;
use super::{Email, Invalid};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

line_newtype!(
    /// A person's or company's name, or a job title.
    ContactText, field = "contact", code = "invalid_contact", max = 255
);

/// A phone number: digits with an optional leading `+`, and spaces, dashes, dots or
/// parentheses between them; 6 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = || {
            Invalid::new(
                "contact_phone",
                "invalid_phone",
                "contact_phone must be a phone number",
            )
        };
        let body = s.strip_prefix('+').unwrap_or(s);
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || " -.()".contains(c))
        {
            return Err(bad());
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(6..=20).contains(&digits) {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: Uuid,
    pub name: ContactText,
    pub email: Email,
    pub phone: Option<Phone>,
    pub position: Option<ContactText>,
    pub company_name: Option<ContactText>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(Phone::parse("+6281234567890").is_ok());
        assert!(Phone::parse("(030) 123-4567").is_ok());
        assert_eq!(Phone::parse("call me").unwrap_err().code, "invalid_phone");
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("+1 234 567 890 123 456 789 012").is_err());
    }
}
