//! Tenants' settings, remembered for a moment: they are read for every new session (routing),
//! where a read under the writer's load is costly (docs/benchmarks.md). A write through the
//! same store replaces the remembered value at once; one made by another process is seen
//! within [`FOR`].

use crate::domain::BusinessId;
use crate::store::TenantSettings;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a remembered value is believed: one read a second per tenant instead of one per
/// new session.
pub const FOR: Duration = Duration::from_secs(1);

/// Tenants remembered at most; past it the memory starts over (tenants are few; this
/// only bounds a flood of made-up ones).
const MOST: usize = 10_000;

pub struct Remembered {
    state: Mutex<State>,
    believed_for: Duration,
}

#[derive(Default)]
struct State {
    known: HashMap<BusinessId, (TenantSettings, Instant)>,
    /// Bumped by every write: a read that started before a write must not remember what it
    /// read (it may be the old value, landing after the write's new one).
    writes: u64,
}

/// What a read saw when it started: pass it back to [`Remembered::learn`].
pub struct Ticket(u64);

/// Believed for [`FOR`].
impl Default for Remembered {
    fn default() -> Self {
        Self::new(FOR)
    }
}

impl Remembered {
    pub fn new(believed_for: Duration) -> Self {
        Self {
            state: Mutex::default(),
            believed_for,
        }
    }

    /// The tenant's settings if known lately; otherwise a ticket for remembering what is read.
    pub fn get(&self, tenant: &BusinessId) -> Result<TenantSettings, Ticket> {
        let state = self.lock();
        match state.known.get(tenant) {
            Some((settings, since)) if since.elapsed() < self.believed_for => Ok(*settings),
            _ => Err(Ticket(state.writes)),
        }
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

    /// Another process wrote the tenant's settings: forget them, and what reads already
    /// under way would remember.
    pub fn changed_elsewhere(&self, tenant: &BusinessId) {
        let mut state = self.lock();
        state.writes += 1;
        state.known.remove(tenant);
    }

    /// Forget every tenant's.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.writes += 1;
        state.known.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn remember(&mut self, tenant: &BusinessId, settings: TenantSettings) {
        if self.known.len() >= MOST && !self.known.contains_key(tenant) {
            self.known.clear();
        }
        self.known
            .insert(tenant.clone(), (settings, Instant::now()));
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
        let r = Remembered::new(FOR);
        let ticket = r.get(&tenant("acme")).unwrap_err();
        r.learn(&tenant("acme"), auto(), ticket);
        assert_eq!(r.get(&tenant("acme")).ok(), Some(auto()));
        assert!(r.get(&tenant("other")).is_err());
    }

    #[test]
    fn a_read_overtaken_by_a_write_is_not_remembered() {
        let r = Remembered::new(FOR);
        // The read starts, sees the old value; the write commits and lands first.
        let ticket = r.get(&tenant("acme")).unwrap_err();
        r.written(&tenant("acme"), auto());
        r.learn(&tenant("acme"), manual(), ticket);
        assert_eq!(r.get(&tenant("acme")).ok(), Some(auto()));
    }

    #[test]
    fn a_remembered_value_is_believed_only_for_a_while() {
        let r = Remembered::new(Duration::ZERO);
        let ticket = r.get(&tenant("acme")).unwrap_err();
        r.learn(&tenant("acme"), auto(), ticket);
        r.written(&tenant("other"), auto());
        assert!(r.get(&tenant("acme")).is_err(), "read again");
        assert!(r.get(&tenant("other")).is_err(), "read again");
    }

    #[test]
    fn a_flood_of_tenants_starts_over() {
        let r = Remembered::new(FOR);
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
