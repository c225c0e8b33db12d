//! Email addresses: a pragmatic check (one `@`, a dotted domain, no spaces), lower-cased.

use super::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_lowercase();
        let bad = || Invalid::new("email", "invalid_email", "email must be a valid address");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" User@Example.com ").unwrap().as_str(),
            "user@example.com"
        );
        for bad in ["", "a", "a@b", "@b.c", "a@b..c", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
