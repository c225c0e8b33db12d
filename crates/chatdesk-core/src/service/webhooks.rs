//! Webhook subscriptions (per tenant, managed by its admins and services) and the delivery
//! queue the server's deliverer works through.

use super::{managed_tenant, page_size, Limits};
use crate::clock;
use crate::domain::{BusinessId, Invalid, WebhookEvent, WebhookUrl};
use crate::domain::{Message, Note, Rating, Session};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::Store;
use crate::store::{
    DeliveryRecord, DueDelivery, MessageRange, NewDelivery, OutboxEntry, Webhook, WebhookChange,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What an outbox entry is about: a session, or one of its messages or notes.
pub enum Subject {
    Session(Session),
    Message(Session, Message),
    Note(Session, Note),
    Rated(Session, Rating),
}

/// Webhook use cases: tenants' subscriptions, and the outbox and delivery queue the server's
/// dispatcher and deliverer work through.
pub struct Webhooks {
    store: Arc<dyn Store>,
    limits: Limits,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> Self {
        Self { store, limits }
    }

    pub async fn create_webhook(
        &self,
        p: &Principal,
        business: Option<&str>,
        url: &str,
        events: &[String],
        secret: String,
    ) -> ServiceResult<Webhook> {
        let tenant = managed_tenant(p, business)?;
        let url = WebhookUrl::parse(url)?;
        let parsed = subscribed_events(events)?;
        check_secret(&secret)?;
        if self.store.list_webhooks(&tenant).await?.len() >= self.limits.max_webhooks_per_tenant {
            return Err(ServiceError::conflict(
                "webhook_limit_reached",
                format!(
                    "a tenant may have at most {} webhooks; delete one first",
                    self.limits.max_webhooks_per_tenant
                ),
            ));
        }
        let created = self
            .store
            .create_webhook(&tenant, &url, &secret, &parsed, clock::now())
            .await?;
        Ok(created)
    }

    /// Change a webhook in place: its URL, events or secret (each left alone when `None`).
    pub async fn update_webhook(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
        url: Option<&str>,
        events: Option<&[String]>,
        secret: Option<String>,
    ) -> ServiceResult<Webhook> {
        let tenant = managed_tenant(p, business)?;
        let change = WebhookChange {
            url: url.map(WebhookUrl::parse).transpose()?,
            events: events.map(subscribed_events).transpose()?,
            secret: secret.map(|s| check_secret(&s).map(|()| s)).transpose()?,
        };
        let updated = self
            .store
            .update_webhook(&tenant, id, &change)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        Ok(updated)
    }

    pub async fn webhooks(
        &self,
        p: &Principal,
        business: Option<&str>,
    ) -> ServiceResult<Vec<Webhook>> {
        let tenant = managed_tenant(p, business)?;
        Ok(self.store.list_webhooks(&tenant).await?)
    }

    /// One of the tenant's webhooks (another tenant's is not found).
    pub async fn webhook(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
    ) -> ServiceResult<Webhook> {
        self.webhooks(p, business)
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or(ServiceError::NotFound("webhook"))
    }

    /// A webhook's most recent deliveries (at most `limit`, newest first): what was sent,
    /// what failed and why.
    pub async fn webhook_deliveries(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<DeliveryRecord>> {
        let hook = self.webhook(p, business, id).await?;
        let limit = page_size(&self.limits, limit)?;
        Ok(self.store.list_deliveries(hook.id, limit).await?)
    }

    /// Queue a `ping` delivery to the webhook, signed and retried like any other.
    pub async fn ping_webhook(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
    ) -> ServiceResult<uuid::Uuid> {
        let hook = self.webhook(p, business, id).await?;
        let at = clock::now();
        let delivery = uuid::Uuid::now_v7();
        let body = serde_json::json!({
            "id": delivery,
            "event": WebhookEvent::Ping.as_str(),
            "created_at": at,
            "data": {"webhook_id": hook.id, "business_id": hook.business_id},
        })
        .to_string();
        self.store
            .enqueue_deliveries(&[NewDelivery {
                id: delivery,
                webhook_id: hook.id,
                event: WebhookEvent::Ping,
                body,
                at,
            }])
            .await?;
        Ok(delivery)
    }

    pub async fn delete_webhook(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
    ) -> ServiceResult<()> {
        let tenant = managed_tenant(p, business)?;
        let deleted = self.store.delete_webhook(&tenant, id, clock::now()).await?;
        if deleted {
            Ok(())
        } else {
            Err(ServiceError::NotFound("webhook"))
        }
    }

    /// Subscriptions of a tenant to one event (for the dispatcher, which acts for no caller).
    /// Asked for every committed event, so a store may answer from memory
    /// (`WebhookStore::recent_webhooks`).
    pub async fn subscribers(
        &self,
        tenant: &BusinessId,
        event: WebhookEvent,
    ) -> ServiceResult<Vec<Webhook>> {
        let hooks = self.store.recent_webhooks(tenant).await?;
        Ok(hooks
            .into_iter()
            .filter(|w| w.events.contains(&event))
            .collect())
    }

    /// The oldest `limit` outbox entries (for the dispatcher).
    pub async fn outbox(&self, limit: u32) -> ServiceResult<Vec<OutboxEntry>> {
        Ok(self.store.outbox(limit).await?)
    }

    /// A tenant's webhooks as stored now: the dispatcher must not miss one made on another
    /// node moments ago, as [`Webhooks::subscribers`] may.
    pub async fn current_webhooks(&self, tenant: &BusinessId) -> ServiceResult<Vec<Webhook>> {
        Ok(self.store.list_webhooks(tenant).await?)
    }

    /// What an outbox entry is about, as it is now: its session and, for `message.created`,
    /// its message. `None` when the session (or message) is gone.
    pub async fn outbox_subject(&self, entry: &OutboxEntry) -> ServiceResult<Option<Subject>> {
        let Some(session) = self.store.get_session(entry.session_id).await? else {
            return Ok(None);
        };
        if entry.event == WebhookEvent::SessionRated {
            let rating = self.store.ratings(&[session.id]).await?.pop();
            return Ok(rating.map(|r| Subject::Rated(session, r)));
        }
        let Some(seq) = entry.seq else {
            return Ok(Some(Subject::Session(session)));
        };
        if entry.event == WebhookEvent::NoteCreated {
            let note = self.store.get_note(entry.session_id, seq).await?;
            return Ok(note.map(|n| Subject::Note(session, n)));
        }
        let range = MessageRange::After {
            after: seq - 1,
            limit: 1,
        };
        let message = self
            .store
            .list_messages(entry.session_id, range)
            .await?
            .into_iter()
            .find(|m| m.seq == seq);
        Ok(message.map(|m| Subject::Message(session, m)))
    }

    pub async fn dispatch_outbox(
        &self,
        done: &[i64],
        deliveries: &[NewDelivery],
    ) -> ServiceResult<()> {
        Ok(self.store.dispatch_outbox(done, deliveries).await?)
    }

    /// Attempts this node claimed and did not finish (it is stopping): due again at once.
    pub async fn release_deliveries(&self, ids: &[uuid::Uuid]) -> ServiceResult<()> {
        Ok(self.store.release_deliveries(ids, clock::now()).await?)
    }

    pub async fn claim_deliveries(
        &self,
        lease: chrono::Duration,
        limit: u32,
    ) -> ServiceResult<Vec<DueDelivery>> {
        let now = clock::now();
        Ok(self.store.claim_deliveries(now, now + lease, limit).await?)
    }

    pub async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> ServiceResult<()> {
        Ok(self
            .store
            .finish_delivery(id, outcome, retry_at, clock::now())
            .await?)
    }
}

/// The events a webhook subscribes to: at least one, each known, no repeats.
fn subscribed_events(events: &[String]) -> ServiceResult<Vec<WebhookEvent>> {
    if events.is_empty() {
        return Err(
            Invalid::new("events", "invalid_event", "subscribe to at least one event").into(),
        );
    }
    let mut parsed: Vec<WebhookEvent> = events
        .iter()
        .map(|e| WebhookEvent::parse(e))
        .collect::<Result<_, _>>()?;
    parsed.dedup();
    Ok(parsed)
}

fn check_secret(secret: &str) -> ServiceResult<()> {
    if secret.chars().count() < 16 {
        return Err(Invalid::new(
            "secret",
            "weak_secret",
            "secret must be at least 16 characters",
        )
        .into());
    }
    // Control characters (U+0000 above all, which PostgreSQL cannot store) and an unbounded
    // length are no part of a key a receiver types into its config.
    if secret.chars().count() > MAX_SECRET_CHARS || secret.chars().any(char::is_control) {
        return Err(Invalid::new(
            "secret",
            "invalid_secret",
            format!("secret must be at most {MAX_SECRET_CHARS} characters, none of them control characters"),
        )
        .into());
    }
    Ok(())
}

const MAX_SECRET_CHARS: usize = 256;

#[cfg(test)]
mod tests {
    use super::super::testing::{admin, agent, customer};
    use super::*;
    use crate::store::memory::MemoryStore;

    fn webhooks(most: usize) -> Webhooks {
        let limits = Limits {
            max_webhooks_per_tenant: most,
            ..Limits::default()
        };
        Webhooks::new(Arc::new(MemoryStore::new()), limits)
    }

    async fn create(w: &Webhooks, p: &Principal, secret: &str) -> ServiceResult<Webhook> {
        let events = ["message.created".to_owned()];
        w.create_webhook(p, None, "https://example.com/hook", &events, secret.into())
            .await
    }

    #[tokio::test]
    async fn only_admins_and_services_manage_webhooks() {
        let w = webhooks(5);
        for p in [customer("ann"), agent("ada")] {
            assert!(matches!(
                create(&w, &p, "0123456789abcdef").await,
                Err(ServiceError::Forbidden(_))
            ));
        }
        create(&w, &admin("boss"), "0123456789abcdef")
            .await
            .unwrap();
        assert!(matches!(
            w.webhooks(&agent("ada"), None).await,
            Err(ServiceError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn a_tenant_has_a_bounded_number_with_strong_secrets() {
        let w = webhooks(1);
        let boss = admin("boss");
        assert!(matches!(
            create(&w, &boss, "short").await,
            Err(ServiceError::Invalid(_))
        ));
        create(&w, &boss, "0123456789abcdef").await.unwrap();
        assert!(matches!(
            create(&w, &boss, "0123456789abcdef").await,
            Err(ServiceError::Conflict {
                code: "webhook_limit_reached",
                ..
            })
        ));
    }
}
