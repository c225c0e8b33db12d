//! Password hashing for built-in accounts (argon2id, PHC strings).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::LazyLock;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checked against when the email is unknown, so that a login for a missing account takes as
/// long as one with a wrong password (no account enumeration by timing).
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash("not a real password"));

/// Passwords as the core's account rules use them: argon2id.
pub struct Argon2Passwords;

impl chatdesk_core::accounts::Passwords for Argon2Passwords {
    fn hash(&self, plain: &str) -> String {
        hash(plain)
    }
    fn verify(&self, plain: &str, hash: &str) -> bool {
        verify(plain, hash)
    }
    fn dummy_hash(&self) -> &str {
        DUMMY_HASH.as_str()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("hunter2");
        assert!(super::verify("hunter2", &h));
        assert!(!super::verify("hunter3", &h));
        assert!(!super::verify("x", "not a phc string"));
    }
}
