//! Tenants' settings, remembered: they are read for every new session (routing) and change
//! only through this store (one process owns the database file), so a read under the
//! writer's load — a read transaction, its WAL locks and, when the WAL moved, SQLite dropping
//! its page cache and file mapping — was a tenth of `POST /v1/sessions`' server time.

use chatdesk_core::domain::BusinessId;
use chatdesk_core::store::TenantSettings;
use std::collections::HashMap;
use std::sync::Mutex;

/// Tenants remembered at most; past it the memory starts over (tenants are few; this
/// only bounds a flood of made-up ones).
const MOST: usize = 10_000;

#[derive(Default)]
pub struct Remembered(Mutex<State>);

#[derive(Default)]
struct State {
    known: HashMap<BusinessId, TenantSettings>,
    /// Bumped by every write: a read that started before a write must not remember what it
    /// read (it may be the old value, landing after the write's new one).
    writes: u64,
}

/// What a read saw when it started: pass it back to [`Remembered::learn`].
pub struct Ticket(u64);

impl Remembered {
    /// The tenant's settings if known; otherwise a ticket for remembering what is read.
    pub fn get(&self, tenant: &BusinessId) -> Result<TenantSettings, Ticket> {
        let state = self.lock();
        state.known.get(tenant).copied().ok_or(Ticket(state.writes))
    }

    /// Remember what was read, unless a write came in since the read's ticket.
    pub fn learn(&self, tenant: &BusinessId, settings: TenantSettings, ticket: Ticket) {
        let mut state = self.lock();
        if state.writes == ticket.0 {
            state.remember(tenant, settings);
        }
    }

    /// A write was committed: this is now the tenant's value.
    pub fn written(&self, tenant: &BusinessId, settings: TenantSettings) {
        let mut state = self.lock();
        state.writes += 1;
        state.remember(tenant, settings);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn remember(&mut self, tenant: &BusinessId, settings: TenantSettings) {
        if self.known.len() >= MOST && !self.known.contains_key(tenant) {
            self.known.clear();
        }
        self.known.insert(tenant.clone(), settings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> BusinessId {
        BusinessId::parse(name).unwrap()
    }

    fn manual() -> TenantSettings {
        TenantSettings::default()
    }

    fn auto() -> TenantSettings {
        TenantSettings {
            auto_routing: true,
            ..TenantSettings::default()
        }
    }

    #[test]
    fn a_read_is_remembered() {
        let r = Remembered::default();
        let ticket = r.get(&tenant("acme")).unwrap_err();
        r.learn(&tenant("acme"), auto(), ticket);
        assert_eq!(r.get(&tenant("acme")).ok(), Some(auto()));
        assert!(r.get(&tenant("other")).is_err());
    }

    #[test]
    fn a_read_overtaken_by_a_write_is_not_remembered() {
        let r = Remembered::default();
        // The read starts, sees the old value; the write commits and lands first.
        let ticket = r.get(&tenant("acme")).unwrap_err();
        r.written(&tenant("acme"), auto());
        r.learn(&tenant("acme"), manual(), ticket);
        assert_eq!(r.get(&tenant("acme")).ok(), Some(auto()));
    }

    #[test]
    fn a_flood_of_tenants_starts_over() {
        let r = Remembered::default();
        for i in 0..MOST {
            r.written(&tenant(&format!("t{i}")), manual());
        }
        r.written(&tenant("t0"), auto());
        assert_eq!(
            r.get(&tenant("t1")).ok(),
            Some(manual()),
            "an update keeps the rest"
        );
        r.written(&tenant("one-more"), auto());
        assert!(r.get(&tenant("t1")).is_err());
        assert_eq!(r.get(&tenant("one-more")).ok(), Some(auto()));
    }
}
