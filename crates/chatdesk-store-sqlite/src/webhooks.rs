//! Webhooks: subscriptions, the outbox and the delivery queue.

use super::*;

const WEBHOOK_COLUMNS: &str = "id, business_id, url, secret, events, created_at";

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &WebhookUrl,
        secret: &str,
        events: &[WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        let values = (
            business_id.as_str().to_owned(),
            url.as_str().to_owned(),
            secret.to_owned(),
            events.join(","),
        );
        self.write(move |c| {
            let (business, url, secret, events) = values;
            sql::first(
                c,
                &format!(
                    "INSERT INTO webhooks (business_id, url, secret, events, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {WEBHOOK_COLUMNS}"
                ),
                params![business, url, secret, events, micros(at)],
                |r| rows::webhook(r),
            )?
            .ok_or_else(|| corrupt("an inserted webhook was not returned"))
        })
        .await
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let business = business_id.as_str().to_owned();
        self.read(move |c| {
            sql::all(
                c,
                &format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks \
                     WHERE business_id = ?1 AND deleted_at IS NULL ORDER BY id"
                ),
                [business],
                |r| rows::webhook(r),
            )
        })
        .await
    }

    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>> {
        let events = change
            .events
            .as_ref()
            .map(|e| e.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(","));
        let values = (
            change.url.as_ref().map(|u| u.as_str().to_owned()),
            events,
            change.secret.clone(),
            business_id.as_str().to_owned(),
        );
        self.write(move |c| {
            let (url, events, secret, business) = values;
            sql::first(
                c,
                &format!(
                    "UPDATE webhooks SET url = COALESCE(?1, url), events = COALESCE(?2, events), \
                     secret = COALESCE(?3, secret) WHERE business_id = ?4 AND id = ?5 AND deleted_at IS NULL \
                     RETURNING {WEBHOOK_COLUMNS}"
                ),
                params![url, events, secret, business, id],
                |r| rows::webhook(r),
            )
        })
        .await
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let business = business_id.as_str().to_owned();
        self.transaction(move |tx| {
            let gone = sql::execute(
                tx,
                "UPDATE webhooks SET deleted_at = ?1 WHERE id = ?2 AND business_id = ?3 AND deleted_at IS NULL",
                params![micros(at), id, business],
            )? == 1;
            if gone {
                sql::execute(
                    tx,
                    "UPDATE webhook_deliveries SET failed_at = ?1, last_error = 'subscription deleted' \
                     WHERE webhook_id = ?2 AND delivered_at IS NULL AND failed_at IS NULL",
                    params![micros(at), id],
                )?;
            }
            Ok(gone)
        })
        .await
    }

    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.read(move |c| {
            sql::all(
                c,
                &format!(
                    "SELECT {} FROM webhook_deliveries WHERE webhook_id = ?1 \
                     ORDER BY created_at DESC, id DESC LIMIT ?2",
                    rows::DELIVERY_COLUMNS
                ),
                params![webhook_id, limit],
                |r| rows::delivery(r),
            )
        })
        .await
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        self.read(move |c| {
            sql::all(
                c,
                &format!(
                    "SELECT {} FROM webhook_outbox ORDER BY id LIMIT ?1",
                    chatdesk_core::rows::OUTBOX_COLUMNS
                ),
                [limit],
                |r| chatdesk_core::rows::outbox_entry(r),
            )
        })
        .await
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        let (done, deliveries) = (done.to_vec(), deliveries.to_vec());
        self.transaction(move |tx| {
            for d in &deliveries {
                sql::execute(
                    tx,
                    "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO NOTHING",
                    params![
                        sql::uuid(d.id),
                        d.webhook_id,
                        d.event.as_str(),
                        d.body,
                        micros(d.at)
                    ],
                )?;
            }
            for id in &done {
                sql::execute(tx, "DELETE FROM webhook_outbox WHERE id = ?1", [id])?;
            }
            Ok(())
        })
        .await
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.transaction(move |tx| {
            for id in ids {
                sql::execute(
                    tx,
                    "UPDATE webhook_deliveries SET attempts = max(attempts - 1, 0), next_attempt_at = ?1 \
                     WHERE id = ?2 AND delivered_at IS NULL AND failed_at IS NULL",
                    params![micros(at), sql::uuid(id)],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.transaction(move |tx| {
            let ids: Vec<Vec<u8>> = tx
                .prepare_cached(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?1 WHERE id IN \
                     (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL \
                      AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT ?3) RETURNING id",
                )
                .and_then(|mut stmt| {
                    stmt.query_map(params![micros(lease_until), micros(now), limit], |r| r.get(0))?
                        .collect()
                })
                .map_err(error)?;
            let mut due = Vec::with_capacity(ids.len());
            for id in ids {
                let found = sql::first(
                    tx,
                    "SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d \
                     JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?1",
                    [id],
                    |r| rows::due_delivery(r),
                )?;
                due.push(found.ok_or_else(|| corrupt("a claimed delivery was not found"))?);
            }
            Ok(due)
        })
        .await
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let id = sql::uuid(id);
        self.write(move |c| {
            match (outcome, next_attempt_at) {
                (Ok(()), _) => sql::execute(
                    c,
                    "UPDATE webhook_deliveries SET delivered_at = ?1, last_error = NULL WHERE id = ?2",
                    params![micros(at), id],
                ),
                (Err(e), Some(next)) => sql::execute(
                    c,
                    "UPDATE webhook_deliveries SET next_attempt_at = ?1, last_error = ?2 WHERE id = ?3",
                    params![micros(next), e, id],
                ),
                (Err(e), None) => sql::execute(
                    c,
                    "UPDATE webhook_deliveries SET failed_at = ?1, last_error = ?2 WHERE id = ?3",
                    params![micros(at), e, id],
                ),
            }
            .map(drop)
        })
        .await
    }
}
