//! From the outbox to the delivery queue: each entry (written in the transaction of the
//! change it describes) becomes one delivery per webhook of its tenant for its event.
//!
//! The bus only wakes the dispatcher early; it also looks every `OUTBOX_POLL`, which is how
//! entries left by a crash, or written on another node, go out.

use crate::wire::webhook::data;
use chatdesk_core::bus::{Bus, Event, Received};
use chatdesk_core::domain::{BusinessId, WebhookEvent};
use chatdesk_core::error::ServiceResult;
use chatdesk_core::files::Links;
use chatdesk_core::service::Webhooks;
use chatdesk_core::store::{NewDelivery, OutboxEntry, Webhook};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Entries turned into deliveries per transaction.
const OUTBOX_BATCH: u32 = 256;
/// How often the outbox is read when no event woke the dispatcher.
const OUTBOX_POLL: Duration = Duration::from_secs(1);

/// A delivery's id, the same however often its entry is read: two dispatchers that read one
/// entry queue its delivery once.
fn delivery_id(entry: &OutboxEntry, hook: &Webhook) -> uuid::Uuid {
    let name = format!("chatdesk-outbox/{}/{}", entry.id, hook.id);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
}

/// The webhook event a bus event may have queued, and for which tenant: worth an early look.
fn queued_by(event: &Event) -> Option<(WebhookEvent, &BusinessId)> {
    match event {
        Event::SessionCreated(s) => Some((WebhookEvent::SessionCreated, &s.business_id)),
        Event::SessionAssigned(s) => Some((WebhookEvent::SessionAssigned, &s.business_id)),
        Event::SessionClosed(s) => Some((WebhookEvent::SessionClosed, &s.business_id)),
        Event::MessageCreated { business_id, .. } => {
            Some((WebhookEvent::MessageCreated, business_id))
        }
        Event::NoteCreated { business_id, .. } => Some((WebhookEvent::NoteCreated, business_id)),
        Event::SessionRated { business_id, .. } => Some((WebhookEvent::SessionRated, business_id)),
        _ => None,
    }
}

pub fn spawn_dispatcher(
    bus: &dyn Bus,
    webhooks: Arc<Webhooks>,
    wake: Arc<Notify>,
    links: Links,
) -> JoinHandle<()> {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let mut poll = tokio::time::interval(OUTBOX_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Err(e) = drain(&webhooks, &wake, &links).await {
                tracing::warn!(error = %e, "could not dispatch the webhook outbox; will retry");
            }
            loop {
                let event = tokio::select! {
                    e = rx.recv() => e,
                    _ = poll.tick() => break,
                };
                match event {
                    // Most events' tenants have no webhook: no read of the outbox for them.
                    Received::Event(e) => {
                        if let Some((kind, tenant)) = queued_by(&e) {
                            let hooks = webhooks.subscribers(tenant, kind).await;
                            if hooks.is_ok_and(|h| !h.is_empty()) {
                                break;
                            }
                        }
                    }
                    Received::Missed(_) => break,
                    Received::Closed => return,
                }
            }
        }
    })
}

/// Turn every outbox entry into deliveries, a batch per transaction.
async fn drain(webhooks: &Webhooks, wake: &Notify, links: &Links) -> ServiceResult<()> {
    loop {
        let entries = webhooks.outbox(OUTBOX_BATCH).await?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut hooks: HashMap<BusinessId, Vec<Webhook>> = HashMap::new();
        let mut deliveries = Vec::new();
        for entry in &entries {
            if !hooks.contains_key(&entry.business_id) {
                let current = webhooks.current_webhooks(&entry.business_id).await?;
                hooks.insert(entry.business_id.clone(), current);
            }
            let subscribed: Vec<&Webhook> = hooks[&entry.business_id]
                .iter()
                .filter(|h| h.events.contains(&entry.event))
                .collect();
            if subscribed.is_empty() {
                continue;
            }
            let Some(subject) = webhooks.outbox_subject(entry).await? else {
                continue;
            };
            let data = data(&subject, links);
            deliveries.extend(subscribed.into_iter().map(|h| {
                let id = delivery_id(entry, h);
                let body = json!({
                    "id": id, "event": entry.event.as_str(), "created_at": entry.at, "data": data,
                })
                .to_string();
                NewDelivery {
                    id,
                    webhook_id: h.id,
                    event: entry.event,
                    body,
                    at: entry.at,
                }
            }));
        }
        let done: Vec<i64> = entries.iter().map(|e| e.id).collect();
        webhooks.dispatch_outbox(&done, &deliveries).await?;
        if !deliveries.is_empty() {
            wake.notify_one();
        }
        if entries.len() < OUTBOX_BATCH as usize {
            return Ok(());
        }
    }
}
