//! `convosim compare`: which metrics got significantly worse between two results directories.
//!
//! A change is significant when the two 95% confidence intervals do not overlap and the
//! relative change exceeds the tolerance; it is a regression when it goes the metric's worse
//! way ([`Better`]). Points are matched by their axis values.

use std::fmt::Write;

use crate::metrics::catalog::Better;
use crate::metrics::{MetricSummary, METRICS};
use crate::sweep::{SummaryRow, SummaryTable};

/// One significant change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The point, described by its axis values.
    pub point: String,
    /// The metric.
    pub metric: &'static str,
    /// Baseline mean and CI.
    pub baseline: (f64, f64),
    /// Candidate mean and CI.
    pub candidate: (f64, f64),
    /// Relative change, candidate vs baseline.
    pub relative: f64,
    /// Worse (true) or better (false).
    pub regression: bool,
}

/// The result of a comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Significant changes, regressions first.
    pub changes: Vec<Change>,
    /// Candidate points with no baseline point of the same axis values.
    pub unmatched: Vec<String>,
    /// Points compared.
    pub compared: usize,
}

impl Comparison {
    /// Whether any metric got significantly worse.
    pub fn has_regression(&self) -> bool {
        self.changes.iter().any(|c| c.regression)
    }
}

/// Points match by their axis values; two single runs (no axes) match each other.
fn key(row: &SummaryRow) -> &[(String, String)] {
    &row.axes
}

fn significant(
    base: MetricSummary,
    cand: MetricSummary,
    tolerance: f64,
) -> Option<(f64, f64, f64, f64, f64)> {
    let (b, c) = (base.mean?, cand.mean?);
    let (bc, cc) = (base.ci95.unwrap_or(0.0), cand.ci95.unwrap_or(0.0));
    let disjoint = c - cc > b + bc || c + cc < b - bc;
    let scale = b.abs().max(c.abs());
    let relative = if scale > 0.0 { (c - b) / b.abs().max(f64::MIN_POSITIVE) } else { 0.0 };
    let beyond_tolerance = scale > 0.0 && (c - b).abs() > tolerance * b.abs();
    (disjoint && beyond_tolerance).then_some((b, bc, c, cc, relative))
}

/// Compares `candidate` against `baseline`; `tolerance` is relative (0.05 for 5%).
pub fn compare(baseline: &SummaryTable, candidate: &SummaryTable, tolerance: f64) -> Comparison {
    let mut result = Comparison::default();
    for cand in &candidate.rows {
        let Some(base) = baseline.rows.iter().find(|b| key(b) == key(cand)) else {
            result.unmatched.push(cand.describe());
            continue;
        };
        result.compared += 1;
        for (i, info) in METRICS.iter().enumerate() {
            if info.better == Better::Neither {
                continue;
            }
            if let Some((b, bc, c, cc, relative)) = significant(base.metrics[i], cand.metrics[i], tolerance) {
                let worse = match info.better {
                    Better::Lower => c > b,
                    Better::Higher => c < b,
                    Better::Neither => false,
                };
                result.changes.push(Change {
                    point: cand.describe(),
                    metric: info.name,
                    baseline: (b, bc),
                    candidate: (c, cc),
                    relative,
                    regression: worse,
                });
            }
        }
    }
    result.changes.sort_by_key(|c| !c.regression);
    result
}

/// The comparison as a table.
pub fn render(comparison: &Comparison, tolerance: f64) -> String {
    let mut out = String::new();
    let regressions = comparison.changes.iter().filter(|c| c.regression).count();
    let _ = writeln!(
        out,
        "{} point(s) compared; {} regression(s), {} improvement(s) beyond {:.1}% with disjoint 95% CIs",
        comparison.compared,
        regressions,
        comparison.changes.len() - regressions,
        tolerance * 100.0
    );
    if !comparison.changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<11} {:<30} {:>22} {:>22} {:>9}  point",
            "verdict", "metric", "baseline", "candidate", "change"
        );
        for c in &comparison.changes {
            let verdict = if c.regression { "REGRESSION" } else { "better" };
            let _ = writeln!(
                out,
                "{:<11} {:<30} {:>22} {:>22} {:>8.1}%  {}",
                verdict,
                c.metric,
                format!("{:.4} ± {:.4}", c.baseline.0, c.baseline.1),
                format!("{:.4} ± {:.4}", c.candidate.0, c.candidate.1),
                c.relative * 100.0,
                c.point
            );
        }
    }
    for point in &comparison.unmatched {
        let _ = writeln!(out, "note: no baseline point for ({point})");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(wait: (f64, f64), sl: (f64, f64)) -> SummaryTable {
        let mut metrics = vec![MetricSummary { mean: None, ci95: None, n: 0 }; METRICS.len()];
        let at = |name| crate::metrics::catalog::index_of(name).unwrap();
        metrics[at("wait_first_p90_s")] = MetricSummary { mean: Some(wait.0), ci95: Some(wait.1), n: 10 };
        metrics[at("sl_first_share")] = MetricSummary { mean: Some(sl.0), ci95: Some(sl.1), n: 10 };
        let row = SummaryRow {
            point: 0,
            axes: vec![("policy".into(), "sticky".into())],
            policy: "sticky".into(),
            replications: 10,
            metrics,
        };
        SummaryTable { rows: vec![row] }
    }

    #[test]
    fn flags_only_significant_changes_the_worse_way() {
        let base = table((60.0, 2.0), (0.90, 0.01));
        // Wait up 20% with disjoint CIs: regression. Service level up: improvement.
        let worse = compare(&base, &table((72.0, 2.0), (0.95, 0.01)), 0.05);
        assert!(worse.has_regression());
        assert_eq!(worse.changes[0].metric, "wait_first_p90_s");
        assert!(worse.changes.iter().any(|c| c.metric == "sl_first_share" && !c.regression));
        // Overlapping CIs: nothing.
        assert!(compare(&base, &table((63.0, 2.0), (0.90, 0.01)), 0.05).changes.is_empty());
        // Disjoint but within tolerance: nothing.
        assert!(compare(&base, &table((62.5, 0.1), (0.90, 0.01)), 0.05).changes.is_empty());
    }
}
