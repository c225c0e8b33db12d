//! Webhooks, the outbox and the delivery queue in memory.

use super::*;

impl State {
    fn webhook_mut(&mut self, tenant: &BusinessId, id: i64) -> Option<&mut Webhook> {
        self.webhooks
            .iter_mut()
            .find(|w| !w.deleted && w.value.id == id && &w.value.business_id == tenant)
            .map(|w| &mut w.value)
    }

    fn delivery_mut(&mut self, id: uuid::Uuid) -> Option<&mut StoredDelivery> {
        self.deliveries.iter_mut().find(|d| d.new.id == id)
    }
}

impl StoredDelivery {
    fn pending(&self) -> bool {
        self.delivered_at.is_none() && self.failed_at.is_none()
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &crate::domain::WebhookUrl,
        secret: &str,
        events: &[WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let mut state = self.lock();
        let webhook = Webhook {
            id: state.webhooks.len() as i64 + 1,
            business_id: business_id.clone(),
            url: url.clone(),
            secret: secret.to_owned(),
            events: events.to_vec(),
            created_at: at,
        };
        state.webhooks.push(Row::live(webhook.clone()));
        Ok(webhook)
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let state = self.lock();
        Ok(state
            .webhooks
            .iter()
            .filter(|w| !w.deleted && &w.value.business_id == business_id)
            .map(|w| w.value.clone())
            .collect())
    }

    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>> {
        let mut state = self.lock();
        let Some(w) = state.webhook_mut(business_id, id) else {
            return Ok(None);
        };
        if let Some(url) = &change.url {
            w.url = url.clone();
        }
        if let Some(events) = &change.events {
            w.events = events.clone();
        }
        if let Some(secret) = &change.secret {
            w.secret = secret.clone();
        }
        Ok(Some(w.clone()))
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let Some(row) = state
            .webhooks
            .iter_mut()
            .find(|w| !w.deleted && w.value.id == id && &w.value.business_id == business_id)
        else {
            return Ok(false);
        };
        row.deleted = true;
        for d in state
            .deliveries
            .iter_mut()
            .filter(|d| d.new.webhook_id == id && d.pending())
        {
            d.failed_at = Some(at);
            d.last_error = Some("subscription deleted".into());
        }
        Ok(true)
    }

    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let state = self.lock();
        let mut found: Vec<&StoredDelivery> = state
            .deliveries
            .iter()
            .filter(|d| d.new.webhook_id == webhook_id)
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse((d.new.at, d.new.id)));
        Ok(found
            .into_iter()
            .take(limit as usize)
            .map(|d| DeliveryRecord {
                id: d.new.id,
                event: d.new.event.as_str().to_owned(),
                attempts: d.attempts,
                created_at: d.new.at,
                next_attempt_at: d.next_attempt_at,
                delivered_at: d.delivered_at,
                failed_at: d.failed_at,
                last_error: d.last_error.clone(),
            })
            .collect())
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let state = self.lock();
        Ok(state
            .outbox
            .values()
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut state = self.lock();
        for d in deliveries {
            if state.delivery_mut(d.id).is_none() {
                state.deliveries.push(StoredDelivery {
                    new: d.clone(),
                    attempts: 0,
                    next_attempt_at: d.at,
                    delivered_at: None,
                    failed_at: None,
                    last_error: None,
                });
            }
        }
        for id in done {
            state.outbox.remove(id);
        }
        Ok(())
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.lock();
        for id in ids {
            if let Some(d) = state.delivery_mut(*id).filter(|d| d.pending()) {
                d.attempts = (d.attempts - 1).max(0);
                d.next_attempt_at = at;
            }
        }
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut state = self.lock();
        let mut due: Vec<(DateTime<Utc>, uuid::Uuid)> = state
            .deliveries
            .iter()
            .filter(|d| d.pending() && d.next_attempt_at <= now)
            .map(|d| (d.next_attempt_at, d.new.id))
            .collect();
        due.sort();
        due.truncate(limit as usize);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            let d = state.delivery_mut(id).ok_or_else(|| missing("delivery"))?;
            d.attempts += 1;
            d.next_attempt_at = lease_until;
            let (webhook_id, event, body, attempts) = (
                d.new.webhook_id,
                d.new.event,
                d.new.body.clone(),
                d.attempts,
            );
            let w = state
                .webhooks
                .iter()
                .find(|w| w.value.id == webhook_id)
                .ok_or_else(|| missing("webhook"))?;
            claimed.push(DueDelivery {
                id,
                event: event.as_str().to_owned(),
                body,
                attempts: attempts as i32,
                url: w.value.url.as_str().to_owned(),
                secret: w.value.secret.clone(),
            });
        }
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let d = state.delivery_mut(id).ok_or_else(|| missing("delivery"))?;
        match (outcome, next_attempt_at) {
            (Ok(()), _) => {
                d.delivered_at = Some(at);
                d.last_error = None;
            }
            (Err(e), Some(next)) => {
                d.next_attempt_at = next;
                d.last_error = Some(e);
            }
            (Err(e), None) => {
                d.failed_at = Some(at);
                d.last_error = Some(e);
            }
        }
        Ok(())
    }
}
