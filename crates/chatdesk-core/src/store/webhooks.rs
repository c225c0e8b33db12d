//! Webhooks: subscriptions, the outbox and the delivery queue.

use super::*;

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &crate::domain::WebhookUrl,
        secret: &str,
        events: &[crate::domain::WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook>;

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>>;

    /// A tenant's webhooks, possibly as they were a few seconds ago: for hints (whether the
    /// outbox is worth reading now), never for what is delivered.
    async fn recent_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        self.list_webhooks(business_id).await
    }

    /// Change a live subscription of the tenant in place; `None` leaves a field alone.
    /// Deliveries already queued keep the body they were queued with and go to the new URL.
    /// `None` if the tenant has no such webhook.
    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>>;

    /// Stop a subscription (its queued deliveries are dropped). False if there was none.
    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// A webhook's most recent deliveries, newest first.
    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>>;

    /// Queue deliveries, all or none (a delivery whose id is queued already is left as it is).
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        self.dispatch_outbox(&[], deliveries).await
    }

    /// The oldest `limit` outbox entries, oldest first.
    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>>;

    /// Queue the deliveries made from outbox entries and drop the entries, all or none. A
    /// delivery whose id is already queued is left as it is, so two dispatchers that read
    /// the same entries queue each delivery once.
    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()>;

    /// Hand back attempts claimed but not finished (the server is stopping): due at `at`,
    /// and not counted as attempts.
    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()>;

    /// Claim up to `limit` deliveries due at `now` for one attempt each: their attempt count
    /// goes up and they are leased until `lease_until`, so a crashed attempt is retried and
    /// two workers never send the same attempt.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>>;

    /// Record an attempt: delivered, or failed with the next try (`None`: give up).
    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}
