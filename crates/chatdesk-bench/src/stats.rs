//! Latency samples and the results table.

use serde::Serialize;
use std::time::Duration;

#[derive(Default)]
pub struct Samples(Vec<u64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile in milliseconds.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.sort_unstable();
        let i = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        self.0[i] as f64 / 1000.0
    }
}

#[derive(Serialize, Clone)]
pub struct Row {
    pub scenario: String,
    pub metric: String,
    pub value: String,
    pub target: String,
    pub note: String,
}

pub fn row(scenario: &str, metric: &str, value: String, target: &str, note: String) -> Row {
    Row {
        scenario: scenario.into(),
        metric: metric.into(),
        value,
        target: target.into(),
        note,
    }
}

pub fn print_table(rows: &[Row]) {
    let w = |f: fn(&Row) -> &str, h: &str| {
        rows.iter()
            .map(|r| f(r).len())
            .max()
            .unwrap_or(0)
            .max(h.len())
    };
    let (a, b, c, d) = (
        w(|r| &r.scenario, "scenario"),
        w(|r| &r.metric, "metric"),
        w(|r| &r.value, "value"),
        w(|r| &r.target, "target"),
    );
    println!(
        "| {:a$} | {:b$} | {:c$} | {:d$} | note",
        "scenario", "metric", "value", "target"
    );
    println!(
        "|{}|{}|{}|{}|------",
        "-".repeat(a + 2),
        "-".repeat(b + 2),
        "-".repeat(c + 2),
        "-".repeat(d + 2)
    );
    for r in rows {
        println!(
            "| {:a$} | {:b$} | {:c$} | {:d$} | {}",
            r.scenario, r.metric, r.value, r.target, r.note
        );
    }
}
