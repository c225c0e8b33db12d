//! What the SQLite store's own tests share.

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::store::NewSession;

/// A new general session of `owner` in the default tenant.
pub fn new_session(owner: &Party) -> NewSession {
    NewSession::general(BusinessId::default_tenant(), owner.clone(), clock::now())
}
