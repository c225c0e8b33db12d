//! Pictures of a run (`--plot DIR`), drawn as SVG with no dependency: `rows.svg`, each
//! row's median against its target, and `latency.svg`, the send→deliver latency
//! distribution of every paced run.

use crate::stats::{Row, Target};
use std::fmt::Write;
use std::path::Path;

const WIDTH: f64 = 900.0;
const COLOURS: [&str; 6] = [
    "#1f5fbf", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085",
];

pub fn draw(rows: &[Row], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("rows.svg"), against_targets(rows))?;
    std::fs::write(dir.join("latency.svg"), latency(rows))?;
    Ok(())
}

/// How far a value is from its target as a share of it: 1 is just met, above is better.
fn score(r: &Row) -> Option<f64> {
    let s = match r.target {
        Target::AtLeast(t) => r.value / t,
        Target::AtMost(t) => t / r.value,
        Target::Report => return None,
    };
    s.is_finite().then_some(s)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One bar per row with a target; its length is the value as a share of the target (a
/// bound as the target over the value), drawn up to twice the target, with the target's line.
fn against_targets(rows: &[Row]) -> String {
    let scored: Vec<(&Row, f64)> = rows.iter().filter_map(|r| Some((r, score(r)?))).collect();
    let (left, bar, line_h) = (360.0, 380.0, 26.0);
    let height = 50.0 + line_h * scored.len() as f64;
    let mut svg = header(height);
    let _ = write!(
        svg,
        r#"<text x="10" y="22" font-weight="bold">Each row's median as a share of its target (the line: just met; a bound: target ÷ value)</text>"#
    );
    let target_x = left + bar / 2.0;
    for (i, (r, s)) in scored.iter().enumerate() {
        let y = 40.0 + line_h * i as f64;
        let len = (s.min(2.0) / 2.0) * bar;
        let colour = if *s >= 1.0 { "#27ae60" } else { "#c0392b" };
        let label = format!("{} · {}", r.scenario, r.metric);
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{label}</text><rect x="{left}" y="{y}" width="{len:.1}" height="16" fill="{colour}"/><text x="{vx}" y="{ty}">{value} {unit} ({pct:.0} %)</text>"#,
            x = left - 8.0,
            ty = y + 13.0,
            label = escape(&label),
            vx = left + bar + 8.0,
            value = short(r.value),
            unit = escape(&r.unit),
            pct = s * 100.0,
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{target_x}" y1="32" x2="{target_x}" y2="{bottom}" stroke="#333" stroke-dasharray="4 3"/></svg>"##,
        bottom = height - 8.0
    );
    svg
}

/// The paced runs' latency by percentile, on a scale that spreads the tail: 90, 99 and 99.9
/// are equally far apart.
fn latency(rows: &[Row]) -> String {
    let series: Vec<&Row> = rows.iter().filter(|r| !r.distribution.is_empty()).collect();
    let (left, top, plot_w, plot_h) = (70.0, 40.0, WIDTH - 100.0, 320.0);
    let height = top + plot_h + 60.0 + 18.0 * series.len() as f64;
    let nines = |p: f64| -(1.0 - p.min(99.9) / 100.0).log10();
    let max_x = nines(99.9);
    let max_ms = series
        .iter()
        .flat_map(|r| r.distribution.iter().map(|(_, ms)| *ms))
        .filter(|ms| ms.is_finite())
        .fold(1.0_f64, f64::max);
    let x = |p: f64| left + nines(p) / max_x * plot_w;
    let y = |ms: f64| top + plot_h - ms.min(max_ms) / max_ms * plot_h;
    let mut svg = header(height);
    let _ = write!(
        svg,
        r##"<text x="10" y="22" font-weight="bold">send→deliver latency by percentile (paced runs, the median run of each)</text><rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>"##
    );
    for p in [50.0, 90.0, 99.0, 99.9] {
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{bottom}" stroke="#ddd"/><text x="{px:.1}" y="{ly}" text-anchor="middle">p{p}</text>"##,
            px = x(p),
            bottom = top + plot_h,
            ly = top + plot_h + 16.0,
        );
    }
    for k in 0..=4 {
        let ms = max_ms * f64::from(k) / 4.0;
        let _ = write!(
            svg,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end">{ms:.1} ms</text>"#,
            tx = left - 6.0,
            ty = y(ms) + 4.0,
        );
    }
    for (i, r) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = r
            .distribution
            .iter()
            .filter(|(p, ms)| *p <= 99.9 && ms.is_finite())
            .map(|(p, ms)| format!("{:.1},{:.1}", x(*p), y(*ms)))
            .collect();
        let ly = top + plot_h + 40.0 + 18.0 * i as f64;
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/><rect x="{left}" y="{ry}" width="12" height="12" fill="{colour}"/><text x="{tx}" y="{ly}">{} · {}: p99 {} ms</text>"#,
            points.join(" "),
            escape(&r.scenario),
            escape(&r.metric),
            short(r.value),
            ry = ly - 10.0,
            tx = left + 18.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn header(height: f64) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>"##
    )
}

fn short(v: f64) -> String {
    match v.abs() {
        v if v >= 1000.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::row;

    #[test]
    fn rows_with_targets_become_bars_and_paced_runs_curves() {
        let mut paced = row(
            "fanout",
            "p99",
            8.0,
            "ms",
            Target::AtMost(10.0),
            String::new(),
        );
        paced.distribution = vec![(50.0, 2.0), (99.0, 8.0), (99.9, 12.0), (100.0, 30.0)];
        let rows = vec![
            row(
                "fanout",
                "rate",
                30_000.0,
                "msgs/s",
                Target::AtLeast(50_000.0),
                String::new(),
            ),
            row(
                "rest",
                "healthz",
                80_000.0,
                "req/s",
                Target::Report,
                String::new(),
            ),
            paced,
        ];
        let bars = against_targets(&rows);
        assert_eq!(bars.matches("<rect x=\"360\"").count(), 2, "{bars}");
        assert!(bars.contains("(60 %)") && bars.contains("(125 %)"));
        let curves = latency(&rows);
        assert_eq!(curves.matches("<polyline").count(), 1);
        assert!(curves.contains("p99 8.00 ms"));
    }
}
