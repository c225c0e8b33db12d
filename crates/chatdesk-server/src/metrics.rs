//! Prometheus metrics, in a registry owned by the app (no global), rendered at `/metrics`.

use axum::http::Method;
use chatdesk_core::committer::CommitObserver;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::sync::RwLock;
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
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// The families' series again, by route template, so that counting a request finds its
    /// series without building label `String`s and SipHashing them twice on every request.
    /// Route templates are the server's own, so a fast hash is safe.
    http_series: RwLock<HashMap<Box<str>, Vec<RequestSeries>, FxBuildHasher>>,
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
            http_series: RwLock::default(),
            messages_appended,
            commit_batch_size,
            commit_seconds,
        }
    }

    /// Count one answered request and observe its latency. A method outside HTTP's own set
    /// is counted as `OTHER`: clients choose methods, and each new one would be a series.
    pub fn http_request(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let other;
        let method = if is_standard(method) {
            method
        } else {
            other = Method::from_bytes(b"OTHER").expect("a valid method token");
            &other
        };
        let found = |series: &[RequestSeries]| {
            series
                .iter()
                .find(|s| s.status == status && s.method == method)
                .cloned()
        };
        let known = self
            .http_series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .and_then(|series| found(series));
        let series = known.unwrap_or_else(|| {
            let mut by_route = self.http_series.write().unwrap_or_else(|e| e.into_inner());
            let series = by_route.entry(route.into()).or_default();
            found(series).unwrap_or_else(|| {
                let added = self.new_series(method, route, status);
                series.push(added.clone());
                added
            })
        });
        series.count.inc();
        series.latency.observe(seconds);
    }

    pub fn http_series(&self) -> usize {
        self.http_series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(Vec::len)
            .sum()
    }

    fn new_series(&self, method: &Method, route: &str, status: u16) -> RequestSeries {
        let (method_label, route_label) = (method.as_str().to_owned(), route.to_owned());
        RequestSeries {
            method: method.clone(),
            status,
            latency: self
                .latency
                .get_or_create(&RouteLabels {
                    method: method_label.clone(),
                    route: route_label.clone(),
                })
                .clone(),
            count: self
                .requests
                .get_or_create(&RequestLabels {
                    method: method_label,
                    route: route_label,
                    status,
                })
                .clone(),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

fn is_standard(m: &Method) -> bool {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ]
    .contains(m)
}

/// One (method, route, status)'s request counter, and its (method, route)'s latency histogram:
/// handles on the families' own series.
#[derive(Clone)]
struct RequestSeries {
    method: Method,
    status: u16,
    count: Counter,
    latency: Histogram,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_series() {
        let m = Metrics::new();
        for i in 0..1000 {
            let method = Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
            m.http_request(&method, "unmatched", 405, 0.001);
        }
        m.http_request(&Method::GET, "unmatched", 404, 0.001);
        assert_eq!(m.http_series(), 2);
        assert!(m.render().contains("method=\"OTHER\""));
    }
}
