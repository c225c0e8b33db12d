//! Webhooks: subscriptions, the outbox and the delivery queue.

use super::*;

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
        let row = sqlx::query(
            "INSERT INTO webhooks (business_id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(business_id.as_str())
        .bind(url.as_str())
        .bind(secret)
        .bind(events.join(","))
        .bind(micros(at))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::webhook(&rows::SqliteRowRef(&row))
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, business_id, url, secret, events, created_at FROM webhooks \
             WHERE business_id = ? AND deleted_at IS NULL ORDER BY id",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::webhook(&rows::SqliteRowRef(r)))
            .collect()
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
        let row = sqlx::query(
            "UPDATE webhooks SET url = COALESCE(?, url), events = COALESCE(?, events), \
             secret = COALESCE(?, secret) WHERE business_id = ? AND id = ? AND deleted_at IS NULL \
             RETURNING id, business_id, url, secret, events, created_at",
        )
        .bind(change.url.as_ref().map(|u| u.as_str()))
        .bind(events)
        .bind(change.secret.as_deref())
        .bind(business_id.as_str())
        .bind(id)
        .fetch_optional(&self.writer)
        .await
        .map_err(db)?;
        row.as_ref()
            .map(|r| rows::webhook(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let gone = sqlx::query("UPDATE webhooks SET deleted_at = ? WHERE id = ? AND business_id = ? AND deleted_at IS NULL")
            .bind(micros(at))
            .bind(id)
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected()
            == 1;
        if gone {
            sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = ?, last_error = 'subscription deleted' \
                 WHERE webhook_id = ? AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(micros(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(gone)
    }

    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM webhook_deliveries WHERE webhook_id = ? \
             ORDER BY created_at DESC, id DESC LIMIT ?",
            rows::DELIVERY_COLUMNS
        ))
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::delivery(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM webhook_outbox ORDER BY id LIMIT ?",
            chatdesk_core::rows::OUTBOX_COLUMNS
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::outbox_entry(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event, body, next_attempt_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(d.id)
            .bind(d.webhook_id)
            .bind(d.event.as_str())
            .bind(&d.body)
            .bind(micros(d.at))
            .bind(micros(d.at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        for id in done {
            sqlx::query("DELETE FROM webhook_outbox WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for id in ids {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = max(attempts - 1, 0), next_attempt_at = ? \
                 WHERE id = ? AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(micros(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL \
              AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?) RETURNING id",
        )
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            due.push(rows::due_delivery(&rows::SqliteRowRef(&row))?);
        }
        tx.commit().await.map_err(db)?;
        Ok(due)
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let query = match (&outcome, next_attempt_at) {
            (Ok(()), _) => sqlx::query(
                "UPDATE webhook_deliveries SET delivered_at = ?, last_error = NULL WHERE id = ?",
            )
            .bind(micros(at))
            .bind(id),
            (Err(e), Some(next)) => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(micros(next))
            .bind(e.clone())
            .bind(id),
            (Err(e), None) => sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(micros(at))
            .bind(e.clone())
            .bind(id),
        };
        query.execute(&self.writer).await.map_err(db)?;
        Ok(())
    }
}
