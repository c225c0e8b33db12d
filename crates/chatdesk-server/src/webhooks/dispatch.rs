//! From the Bus to the delivery queue: one delivery per matching subscription.

use crate::http::v1::views::{MessageView, SessionView};
use chatdesk_core::bus::{Bus, Event};
use chatdesk_core::domain::{BusinessId, Message, Session, WebhookEvent};
use chatdesk_core::service::SessionService;
use chatdesk_core::store::NewDelivery;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;

/// What a webhook's `data` is made of, rendered only when someone subscribed.
enum Data<'a> {
    Session(&'a Session),
    Message(&'a Message, i64),
}

impl Data<'_> {
    fn to_json(&self) -> Value {
        match self {
            Data::Session(s) => json!({"session": SessionView::from(*s)}),
            Data::Message(m, number) => {
                json!({"message": MessageView::from(*m), "session_number": number})
            }
        }
    }
}

/// Which webhook event a bus event is, for which tenant, about what.
fn webhook_event(event: &Event) -> Option<(WebhookEvent, &BusinessId, Data<'_>)> {
    match event {
        Event::SessionCreated(s) => Some((
            WebhookEvent::SessionCreated,
            &s.business_id,
            Data::Session(s),
        )),
        Event::SessionAssigned(s) => Some((
            WebhookEvent::SessionAssigned,
            &s.business_id,
            Data::Session(s),
        )),
        Event::SessionClosed(s) => Some((
            WebhookEvent::SessionClosed,
            &s.business_id,
            Data::Session(s),
        )),
        Event::MessageCreated {
            business_id,
            session_number,
            message,
            ..
        } => Some((
            WebhookEvent::MessageCreated,
            business_id,
            Data::Message(message, *session_number),
        )),
        _ => None,
    }
}

pub fn spawn_dispatcher(
    bus: &dyn Bus,
    sessions: Arc<SessionService>,
    wake: Arc<Notify>,
) -> JoinHandle<()> {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::error!(
                        missed = n,
                        "webhook dispatcher fell behind the bus: some deliveries were not queued"
                    );
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let Some((kind, tenant, data)) = webhook_event(&event) else {
                continue;
            };
            let hooks = match sessions.subscribers(tenant, kind).await {
                Ok(h) if !h.is_empty() => h,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look up webhooks");
                    continue;
                }
            };
            // Rendered once, and only for events somebody subscribed to: most messages have
            // no webhook, and JSON for each of them made this task fall behind the bus.
            let data = data.to_json();
            let at = chatdesk_core::clock::now();
            let deliveries: Vec<NewDelivery> = hooks
                .iter()
                .map(|h| {
                    let id = uuid::Uuid::now_v7();
                    let body =
                        json!({"id": id, "event": kind.as_str(), "created_at": at, "data": data})
                            .to_string();
                    NewDelivery {
                        id,
                        webhook_id: h.id,
                        event: kind,
                        body,
                        at,
                    }
                })
                .collect();
            match sessions.enqueue_deliveries(&deliveries).await {
                Ok(()) => wake.notify_one(),
                Err(e) => tracing::error!(error = %e, "could not queue webhook deliveries"),
            }
        }
    })
}
