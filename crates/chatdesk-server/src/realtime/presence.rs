//! A staff member's open real-time connection counts towards its presence for as long as the
//! connection lives: +1 when opened, -1 when this guard is dropped.

use chatdesk_core::identity::Principal;
use chatdesk_core::service::Directory;

pub struct PresenceGuard {
    directory: Directory,
    principal: Principal,
}

impl PresenceGuard {
    /// `None` for customers and visitors, who have no presence.
    pub async fn open(directory: &Directory, p: &Principal) -> Option<Self> {
        if !p.is_staff() || p.party.user_id().is_none() {
            return None;
        }
        if let Err(e) = directory.staff_connection(p, 1).await {
            tracing::warn!(error = %e, "could not record an agent connection");
        }
        Some(Self {
            directory: directory.clone(),
            principal: p.clone(),
        })
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let (directory, p) = (self.directory.clone(), self.principal.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = directory.staff_connection(&p, -1).await {
                    tracing::warn!(error = %e, "could not record an agent disconnection");
                }
            });
        }
    }
}
