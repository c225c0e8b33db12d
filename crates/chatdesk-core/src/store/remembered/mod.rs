//! The store, remembering what is read often and changes seldom: a decorator around any
//! `Store`, so the use cases hold no cache of their own and a deployment can run without
//! one (wrap the store or not). Every cache here is bounded, and a write made through this
//! store updates or clears what it remembered at once.
//!
//! - send targets ([`SessionStore::send_target`]): the session a message goes to;
//! - tenants' webhooks ([`WebhookStore::recent_webhooks`]), for [`WEBHOOKS_FOR`];
//! - tenants' settings ([`RoutingStore::tenant_settings`]), for [`settings::FOR`].
//!
//! What another process writes is seen when a remembered value expires (webhooks, settings),
//! or at once where the bus says so ([`Remembered::heard`]: a tenant's new settings, a
//! visitor linked to an account). Send targets hold only what does not change but for the
//! owner, and the write itself refuses a visitor that no longer owns the session.

mod forward;
mod settings;
mod targets;

use super::*;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a tenant's webhooks are believed.
pub const WEBHOOKS_FOR: Duration = Duration::from_secs(5);
/// Tenants whose webhooks are remembered at most; past it the memory starts over.
const WEBHOOK_TENANTS: usize = 10_000;

pub struct Remembered {
    inner: Arc<dyn Store>,
    targets: Mutex<targets::SendTargets>,
    webhooks: Mutex<HashMap<BusinessId, (Instant, Vec<Webhook>)>>,
    settings: settings::Remembered,
}

impl Remembered {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            targets: Mutex::default(),
            webhooks: Mutex::default(),
            settings: settings::Remembered::default(),
        }
    }

    /// Forget what an event from any node makes stale.
    pub fn heard(&self, event: &crate::bus::Event) {
        use crate::bus::Event;
        match event {
            Event::VisitorLinked { .. } => lock(&self.targets).clear(),
            Event::TenantSettingsChanged { business_id } => {
                self.settings.changed_elsewhere(business_id)
            }
            _ => {}
        }
    }

    /// Forget everything (events were missed: any of them could have made something stale).
    pub fn forget_all(&self) {
        lock(&self.targets).clear();
        lock(&self.webhooks).clear();
        self.settings.clear();
    }

    async fn send_target(&self, id: SessionId) -> StoreResult<Option<Session>> {
        if let Some(known) = lock(&self.targets).get(id) {
            return Ok(Some(known));
        }
        let read = self.inner.send_target(id).await?;
        if let Some(s) = &read {
            lock(&self.targets).remember(s.clone());
        }
        Ok(read)
    }

    async fn recent_webhooks(&self, tenant: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let known = lock(&self.webhooks)
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < WEBHOOKS_FOR)
            .map(|(_, hooks)| hooks.clone());
        if let Some(hooks) = known {
            return Ok(hooks);
        }
        let read = self.inner.recent_webhooks(tenant).await?;
        let mut webhooks = lock(&self.webhooks);
        if webhooks.len() >= WEBHOOK_TENANTS && !webhooks.contains_key(tenant) {
            webhooks.clear();
        }
        webhooks.insert(tenant.clone(), (Instant::now(), read.clone()));
        Ok(read)
    }

    fn webhooks_changed(&self, tenant: &BusinessId) {
        lock(&self.webhooks).remove(tenant);
    }

    async fn tenant_settings(&self, tenant: &BusinessId) -> StoreResult<TenantSettings> {
        let ticket = match self.settings.get(tenant) {
            Ok(known) => return Ok(known),
            Err(ticket) => ticket,
        };
        let read = self.inner.tenant_settings(tenant).await?;
        self.settings.learn(tenant, read, ticket);
        Ok(read)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;
    use crate::domain::{Party, UserId, VisitorId, WebhookEvent, WebhookUrl};
    use crate::store::memory::MemoryStore;

    fn shop() -> BusinessId {
        BusinessId::parse("shop").unwrap()
    }

    /// The decorator and, beside it, the store it wraps (written to as another node would).
    fn stores() -> (Remembered, Arc<MemoryStore>) {
        let inner = Arc::new(MemoryStore::new());
        (Remembered::new(inner.clone()), inner)
    }

    #[tokio::test]
    async fn a_send_target_is_read_once_and_forgotten_when_its_owner_changes() {
        let (store, inner) = stores();
        let visitor = VisitorId::from_uuid(uuid::Uuid::new_v4());
        let new = NewSession::general(shop(), Party::Visitor(visitor), clock::now());
        let (s, _) = store.open_session(new, false).await.unwrap();
        assert_eq!(
            store.send_target(s.id).await.unwrap().unwrap().owner,
            s.owner
        );
        // Deleted behind its back: the remembered target is still given (the write refuses).
        inner.delete_session(s.id, clock::now()).await.unwrap();
        assert!(
            store.send_target(s.id).await.unwrap().is_some(),
            "remembered"
        );
        assert!(
            store.get_session(s.id).await.unwrap().is_none(),
            "reads are not cached"
        );
        // A link through the decorator changes owners: nothing remembered survives it.
        let (t, _) = store
            .open_session(
                NewSession::general(shop(), Party::Visitor(visitor), clock::now()),
                false,
            )
            .await
            .unwrap();
        store.send_target(t.id).await.unwrap();
        let ann = UserId::parse("ann").unwrap();
        store
            .link_visitor(visitor, &ann, clock::now())
            .await
            .unwrap();
        let now = store.send_target(t.id).await.unwrap().unwrap();
        assert_eq!(now.owner, Party::User(ann));
    }

    #[tokio::test]
    async fn webhooks_written_here_are_seen_at_once() {
        let (store, inner) = stores();
        let url = WebhookUrl::parse("https://example.com/hook").unwrap();
        let events = [WebhookEvent::MessageCreated];
        assert!(store.recent_webhooks(&shop()).await.unwrap().is_empty());
        let at = clock::now();
        let hook = store
            .create_webhook(&shop(), &url, "0123456789abcdef", &events, at)
            .await
            .unwrap();
        assert_eq!(
            store.recent_webhooks(&shop()).await.unwrap(),
            vec![hook.clone()]
        );
        // Written elsewhere: believed for a while, as documented.
        inner.delete_webhook(&shop(), hook.id, at).await.unwrap();
        assert_eq!(store.recent_webhooks(&shop()).await.unwrap().len(), 1);
        assert!(
            store.list_webhooks(&shop()).await.unwrap().is_empty(),
            "lists are not"
        );
        store.delete_webhook(&shop(), hook.id, at).await.unwrap();
        assert!(store.recent_webhooks(&shop()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn settings_written_here_are_seen_at_once() {
        let (store, _) = stores();
        assert!(!store.tenant_settings(&shop()).await.unwrap().auto_routing);
        let auto = TenantSettings {
            auto_routing: true,
            ..TenantSettings::default()
        };
        store
            .set_tenant_settings(&shop(), auto, clock::now())
            .await
            .unwrap();
        assert!(store.tenant_settings(&shop()).await.unwrap().auto_routing);
    }

    #[tokio::test]
    async fn what_another_node_changed_is_forgotten_when_the_bus_says_so() {
        let (store, inner) = stores();
        let visitor = VisitorId::from_uuid(uuid::Uuid::new_v4());
        let new = NewSession::general(shop(), Party::Visitor(visitor), clock::now());
        let (s, _) = store.open_session(new, false).await.unwrap();
        store.send_target(s.id).await.unwrap();
        assert!(!store.tenant_settings(&shop()).await.unwrap().auto_routing);
        // Another node links the visitor and turns routing on.
        let ann = UserId::parse("ann").unwrap();
        inner
            .link_visitor(visitor, &ann, clock::now())
            .await
            .unwrap();
        let auto = TenantSettings {
            auto_routing: true,
            ..TenantSettings::default()
        };
        inner
            .set_tenant_settings(&shop(), auto, clock::now())
            .await
            .unwrap();
        let stale = store.send_target(s.id).await.unwrap().unwrap();
        assert_eq!(stale.owner, Party::Visitor(visitor), "not told yet");
        store.heard(&crate::bus::Event::VisitorLinked {
            visitor,
            user: ann.clone(),
        });
        store.heard(&crate::bus::Event::TenantSettingsChanged {
            business_id: shop(),
        });
        let now = store.send_target(s.id).await.unwrap().unwrap();
        assert_eq!(now.owner, Party::User(ann));
        assert!(store.tenant_settings(&shop()).await.unwrap().auto_routing);
    }
}
