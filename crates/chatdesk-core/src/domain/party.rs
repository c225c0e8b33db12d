//! A party is whoever owns a session or writes a message: a visitor or a signed-in user.
//! It is stored as one text key, `visitor:<uuid>` or `user:<id>`.

use super::{Invalid, UserId, VisitorId};
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Party {
    Visitor(VisitorId),
    User(UserId),
}

impl Party {
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Parse a stored key back.
    pub fn from_key(key: &str) -> Result<Self, Invalid> {
        match key.split_once(':') {
            Some(("visitor", id)) => VisitorId::parse(id).map(Self::Visitor),
            Some(("user", id)) => UserId::parse(id).map(Self::User),
            _ => Err(Invalid::new("party", "invalid_party", "not a party key")),
        }
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Self::User(u) => Some(u),
            Self::Visitor(_) => None,
        }
    }

    pub fn visitor_id(&self) -> Option<VisitorId> {
        match self {
            Self::Visitor(v) => Some(*v),
            Self::User(_) => None,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Visitor(v) => write!(f, "visitor:{v}"),
            Self::User(u) => write!(f, "user:{u}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Party {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Party::from_key(&key).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl Serialize for Party {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let v = Party::Visitor(VisitorId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap());
        assert_eq!(Party::from_key(&v.key()).unwrap(), v);
        let u = Party::User(UserId::parse("a:b").unwrap());
        assert_eq!(u.key(), "user:a:b");
        assert_eq!(Party::from_key("user:a:b").unwrap(), u);
        assert!(Party::from_key("robot:x").is_err());
    }
}
