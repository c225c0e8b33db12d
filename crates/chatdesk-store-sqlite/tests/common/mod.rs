//! What the SQLite store's own tests share.

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::store::NewSession;

/// A new general session of `owner` in the default tenant.
pub fn new_session(owner: &Party) -> NewSession {
    NewSession {
        id: SessionId::generate(),
        business_id: BusinessId::default_tenant(),
        location_id: None,
        owner: owner.clone(),
        session_type: SessionType::general(),
        topic: None,
        title: None,
        priority: Priority::Normal,
        metadata: serde_json::json!({}),
        department_id: None,
        at: clock::now(),
    }
}
