//! Tokens already verified, so a client's next request with the same token skips the
//! signature check and the claims' parsing (a tenth of a session GET's CPU).
//!
//! Only a token that passed full verification with this server's keys gets in, keyed by its
//! exact text, and it is believed only until its `exp` (stricter than verification, which
//! allows a minute of clock skew: a token in that minute is simply verified again). The keys
//! never change while the server runs, so nothing else can make a verified token wrong.

use chatdesk_core::identity::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Tokens kept at most; when full the cache starts over (clients re-verify once each).
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<Box<str>, (Principal, u64)>>,
}

impl VerifiedTokens {
    /// The principal of a token verified before that has not expired since.
    pub fn get(&self, token: &str) -> Option<Principal> {
        let now = now_secs();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(token) {
            Some((principal, exp)) if now < *exp => Some(principal.clone()),
            Some(_) => {
                tokens.remove(token);
                None
            }
            None => None,
        }
    }

    /// Remember a token that has just been verified, with its `exp` (seconds since the epoch).
    pub fn insert(&self, token: &str, principal: &Principal, exp: u64) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(token.into(), (principal.clone(), exp));
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::domain::UserId;
    use chatdesk_core::identity::Role;

    fn someone() -> Principal {
        Principal::user(UserId::parse("u1").unwrap(), Role::Customer, None)
    }

    #[test]
    fn a_token_is_believed_until_its_exp_and_only_by_its_exact_text() {
        let cache = VerifiedTokens::default();
        let now = now_secs();
        cache.insert("a.b.c", &someone(), now + 60);
        assert_eq!(cache.get("a.b.c"), Some(someone()));
        assert_eq!(cache.get("a.b.c "), None);
        assert_eq!(cache.get("a.b.d"), None);
        cache.insert("old", &someone(), now);
        assert_eq!(cache.get("old"), None, "expired at its exp second");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = VerifiedTokens::default();
        let exp = now_secs() + 60;
        for i in 0..CAPACITY {
            cache.insert(&format!("t{i}"), &someone(), exp);
        }
        cache.insert("one more", &someone(), exp);
        assert_eq!(cache.get("t0"), None);
        assert_eq!(cache.get("one more"), Some(someone()));
    }
}
