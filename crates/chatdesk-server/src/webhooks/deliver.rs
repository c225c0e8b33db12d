//! The deliverer: claims due deliveries, POSTs them signed, records the outcome, and
//! schedules retries with exponential backoff.

use super::egress::EgressPolicy;
use chatdesk_core::service::Webhooks;
use chatdesk_core::store::DueDelivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(Clone)]
pub struct Deliverer {
    pub webhooks: Arc<Webhooks>,
    pub client: reqwest::Client,
    /// How long a claimed attempt is this worker's.
    lease: Duration,
    /// Attempts claimed and not yet recorded: handed back if the server stops first.
    in_flight: Arc<Mutex<HashSet<uuid::Uuid>>>,
    pub retry_base: Duration,
    pub max_attempts: u32,
    pub wake: Arc<Notify>,
    pub egress: EgressPolicy,
}

/// Beyond its request timeout, how long a claimed attempt is left to its worker before
/// another may retry it (a worker that crashed mid-attempt).
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// With nothing due, look again this often (new deliveries wake the deliverer at once).
const IDLE_POLL: Duration = Duration::from_millis(500);

impl Deliverer {
    pub fn new(
        webhooks: Arc<Webhooks>,
        timeout: Duration,
        retry_base: Duration,
        max_attempts: u32,
        wake: Arc<Notify>,
        egress: EgressPolicy,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .dns_resolver(egress.clone().resolver())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("chatdesk-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a plain HTTP client builds");
        Self {
            webhooks,
            client,
            lease: timeout + LEASE_MARGIN,
            in_flight: Arc::default(),
            retry_base,
            max_attempts: max_attempts.max(1),
            wake,
            egress,
        }
    }

    pub fn spawn(self) -> DelivererTask {
        let (webhooks, in_flight) = (self.webhooks.clone(), self.in_flight.clone());
        let task = tokio::spawn(async move {
            let lease = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::MAX);
            loop {
                let due = match self.webhooks.claim_deliveries(lease, 32).await {
                    Ok(d) => {
                        let mut held = self.in_flight.lock().expect("in flight");
                        held.extend(d.iter().map(|d| d.id));
                        d
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim webhook deliveries");
                        Vec::new()
                    }
                };
                if due.is_empty() {
                    tokio::select! {
                        () = self.wake.notified() => {},
                        () = tokio::time::sleep(IDLE_POLL) => {},
                    }
                    continue;
                }
                futures::future::join_all(due.into_iter().map(|d| self.attempt(d))).await;
            }
        });
        DelivererTask {
            task,
            webhooks,
            in_flight,
        }
    }

    /// The wait before attempt `n + 1` after `n` failed ones: base, 2×base, 4×base… ≤ 1 h.
    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0));
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600))
    }

    async fn attempt(&self, d: DueDelivery) {
        let now = chrono::Utc::now();
        let outcome = if self.egress.refuses_literal(&d.url) {
            Err("refused: the address is private, loopback or link-local".to_owned())
        } else {
            self.post(&d, now).await
        };
        self.record(d, outcome).await;
    }

    async fn post(
        &self,
        d: &DueDelivery,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        let result = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-chatdesk-event", &d.event)
            .header("x-chatdesk-delivery", d.id.to_string())
            .header(
                "x-chatdesk-signature",
                sign(&d.secret, now.timestamp(), &d.body),
            )
            .body(d.body.clone())
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
            // The whole chain: "error sending request" alone hides a refused address.
            Err(e) => Err(error_chain(&e)),
        }
    }

    async fn record(&self, d: DueDelivery, outcome: Result<(), String>) {
        let retry_at = match &outcome {
            Err(_) if u32::try_from(d.attempts).unwrap_or(u32::MAX) < self.max_attempts => Some(
                chrono::Utc::now()
                    + chrono::Duration::from_std(self.backoff(d.attempts))
                        .expect("at most an hour"),
            ),
            _ => None,
        };
        if let Err(e) = &outcome {
            tracing::info!(delivery = %d.id, attempt = d.attempts, error = %e, retry = retry_at.is_some(), "webhook delivery failed");
        }
        if let Err(e) = self.webhooks.finish_delivery(d.id, outcome, retry_at).await {
            tracing::warn!(error = %e, "could not record a webhook attempt; it will be retried after its lease");
        }
        self.in_flight.lock().expect("in flight").remove(&d.id);
    }
}

/// The running deliverer.
pub struct DelivererTask {
    task: JoinHandle<()>,
    webhooks: Arc<Webhooks>,
    in_flight: Arc<Mutex<HashSet<uuid::Uuid>>>,
}

impl DelivererTask {
    /// Stop, and hand back the attempts it was making: they are due again at once, on the
    /// next start (or another node), not when their lease would have run out.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        let held: Vec<uuid::Uuid> = self.in_flight.lock().expect("in flight").drain().collect();
        if held.is_empty() {
            return;
        }
        if let Err(e) = self.webhooks.release_deliveries(&held).await {
            tracing::warn!(error = %e, "could not hand back interrupted webhook attempts; they are retried after their lease");
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_of_timestamp_and_body() {
        let s = super::sign("whsec_0123456789abcdef", 1_700_000_000, "{\"a\":1}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(
            s,
            super::sign("another secret value", 1_700_000_000, "{\"a\":1}")
        );
    }
}
