//! Latency samples, measured figures with their targets, medians over runs, and the table.

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

    /// (percentile, milliseconds) from the 1st to the 100th, with 99.5 and 99.9: what the
    /// latency plot draws.
    pub fn distribution(&mut self) -> Vec<(f64, f64)> {
        let mut at: Vec<f64> = (1..=99).map(f64::from).collect();
        at.extend([99.5, 99.9, 100.0]);
        at.into_iter().map(|p| (p, self.percentile_ms(p))).collect()
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

/// What a figure is held to.
#[derive(Serialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
    /// No fixed goal: the figure is reported.
    Report,
}

impl Target {
    fn met(self, value: f64) -> Option<bool> {
        match self {
            Target::AtLeast(t) => Some(value >= t),
            Target::AtMost(t) => Some(value <= t),
            Target::Report => None,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Target::AtLeast(t) => format!("≥ {} {unit}", group(t)),
            Target::AtMost(t) => format!("≤ {} {unit}", group(t)),
            Target::Report => "report".into(),
        }
    }
}

/// One measured figure of one run.
#[derive(Serialize, Clone)]
pub struct Row {
    pub scenario: String,
    pub metric: String,
    /// The median over `runs`.
    pub value: f64,
    pub unit: String,
    pub target: Target,
    /// `Some(true)` when the value meets the target.
    pub met: Option<bool>,
    /// Every run's value, in run order.
    pub runs: Vec<f64>,
    pub note: String,
    /// A latency row's (percentile, ms) curve, of the run whose value is the median.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub distribution: Vec<(f64, f64)>,
}

pub fn row(
    scenario: &str,
    metric: &str,
    value: f64,
    unit: &str,
    target: Target,
    note: String,
) -> Row {
    Row {
        scenario: scenario.into(),
        metric: metric.into(),
        value,
        unit: unit.into(),
        target,
        met: target.met(value),
        runs: vec![value],
        note,
        distribution: Vec::new(),
    }
}

/// Fold several runs of the same scenario into one row per metric: the median value, every
/// run's value, and the note of the run whose value is the median.
pub fn median(runs: Vec<Vec<Row>>) -> Vec<Row> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let mut merged = Vec::new();
    for (i, template) in first.iter().enumerate() {
        let mut same: Vec<&Row> = runs.iter().filter_map(|r| r.get(i)).collect();
        let values: Vec<f64> = same.iter().map(|r| r.value).collect();
        same.sort_by(|a, b| a.value.total_cmp(&b.value));
        let mid = same[same.len() / 2];
        merged.push(Row {
            value: mid.value,
            met: template.target.met(mid.value),
            runs: values,
            note: mid.note.clone(),
            distribution: mid.distribution.clone(),
            ..template.clone()
        });
    }
    merged
}

/// 12345.6 → "12,346"; small numbers keep two decimals.
fn group(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v.abs() < 100.0 {
        return format!("{v:.2}");
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        out.insert(0, '-');
    }
    out
}

pub fn print_table(rows: &[Row]) {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let runs = r.runs.iter().map(|v| group(*v)).collect::<Vec<_>>();
            [
                r.scenario.clone(),
                r.metric.clone(),
                format!("{} {}", group(r.value), r.unit),
                r.target.describe(&r.unit),
                match r.met {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "-".into(),
                },
                format!("runs: {}; {}", runs.join(", "), r.note),
            ]
        })
        .collect();
    let heads = ["scenario", "metric", "median", "target", "met", "note"];
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([heads[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |c: &[String]| {
        let mut s = String::from("|");
        for (i, w) in widths.iter().enumerate() {
            let pad = w - c[i].chars().count();
            s.push_str(&format!(" {}{} |", c[i], " ".repeat(pad)));
        }
        format!("{s} {}", c[5])
    };
    println!("{}", line(&heads.map(String::from)));
    let rule: String = widths
        .iter()
        .map(|w| format!("|{}", "-".repeat(w + 2)))
        .collect();
    println!("{rule}|------");
    for c in &cells {
        println!("{}", line(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_run_and_keeps_every_value() {
        let runs = vec![
            vec![row("s", "m", 30.0, "x", Target::AtLeast(20.0), "a".into())],
            vec![row("s", "m", 10.0, "x", Target::AtLeast(20.0), "b".into())],
            vec![row("s", "m", 20.0, "x", Target::AtLeast(20.0), "c".into())],
        ];
        let m = median(runs);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].value, 20.0);
        assert_eq!(m[0].runs, vec![30.0, 10.0, 20.0]);
        assert_eq!(m[0].note, "c");
        assert_eq!(m[0].met, Some(true));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(1234567.4), "1,234,567");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(5.123), "5.12");
    }
}
