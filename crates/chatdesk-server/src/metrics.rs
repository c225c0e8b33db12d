//! Prometheus metrics, in a registry owned by the app (no global), rendered at `/metrics`.

use chatdesk_core::committer::CommitObserver;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub messages_appended: Counter,
    pub commit_batch_size: Histogram,
    pub commit_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chatdesk");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 18))
        });
        let messages_appended = Counter::default();
        let commit_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "messages_appended",
            "Messages durably appended",
            messages_appended.clone(),
        );
        registry.register(
            "commit_batch_size",
            "Messages per committed transaction",
            commit_batch_size.clone(),
        );
        registry.register(
            "commit_duration_seconds",
            "Time to commit one batch",
            commit_seconds.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            messages_appended,
            commit_batch_size,
            commit_seconds,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CommitObserver for Metrics {
    fn batch_committed(&self, size: usize, created: usize, took: Duration) {
        self.commit_batch_size.observe(size as f64);
        self.commit_seconds.observe(took.as_secs_f64());
        self.messages_appended.inc_by(created as u64);
    }
}
