//! `convosim compare`: which metrics got significantly worse between two results directories.
//!
//! A change counts when the two 95% confidence intervals do not overlap, the change exceeds
//! the relative tolerance, and it exceeds the metric's absolute floor (declared in the metric
//! catalog, overridable with `--floor`); it is a regression when it goes the metric's worse
//! way ([`Better`]). Points are matched by their axis values, and every point must match: a
//! comparison that leaves points out, or compares folders of different sweeps, is an error,
//! never a pass. With several channels, each point's channels are compared too
//! ([`channels`]).

mod channels;

use std::collections::HashSet;
use std::fmt::Write;

pub use channels::{add_channels, channel_table, CHANNEL_KEY};

use crate::gate::metric_index;
use crate::metrics::catalog::Better;
use crate::metrics::{MetricSummary, METRICS};
use crate::sweep::{SummaryRow, SummaryTable};
use crate::table::{format_mean_ci, format_metric};

/// Why two results directories cannot be compared, or an option is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// The summaries have different axes: they come from different sweeps.
    #[error("different sweeps: the baseline's axes are {baseline}, the candidate's are {candidate}")]
    DifferentAxes {
        /// The baseline's axis names.
        baseline: String,
        /// The candidate's axis names.
        candidate: String,
    },
    /// The summaries have different columns: written by convosims with other metrics.
    #[error("different column layouts: {0}; compare results written by one convosim version")]
    DifferentColumns(String),
    /// Points present on one side only.
    #[error("the points do not match: {0}")]
    UnmatchedPoints(String),
    /// A point appears twice in one summary.
    #[error("the {side} has point ({point}) twice: not a summary convosim wrote")]
    DuplicatePoint {
        /// "baseline" or "candidate".
        side: &'static str,
        /// The point.
        point: String,
    },
    /// One side has several channels, the other one: different centers.
    #[error("different channels: the {several} has channels {names}, the {single} one channel; compare results of one center")]
    DifferentChannels {
        /// The side with several channels.
        several: &'static str,
        /// Their names.
        names: String,
        /// The other side.
        single: &'static str,
    },
    /// Nothing to compare.
    #[error("no point to compare: both summaries are empty")]
    NoPoints,
    /// Every chosen metric is undefined on both sides at every point.
    #[error(
        "nothing to compare: each chosen metric is undefined on both sides at every point (e.g. \
         resumed waits with one exchange per conversation); choose others with --metrics"
    )]
    NothingDefined,
    /// Too few replications for a confidence interval.
    #[error(
        "the {side} has {replications} replication(s) at ({point}); compare needs at least 2 per \
         point (the 95% CI is undefined with fewer)"
    )]
    TooFewReplications {
        /// "baseline" or "candidate".
        side: &'static str,
        /// The point.
        point: String,
        /// Its replications.
        replications: usize,
    },
    /// A malformed `--floor` or `--metrics`.
    #[error("{flag} {given}: {message}")]
    Option {
        /// The flag.
        flag: &'static str,
        /// What was given.
        given: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// What to compare and how large a change must be to count.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Smallest relative change that counts (0.05 for 5%).
    pub tolerance: f64,
    /// Smallest absolute change that counts, per metric in [`METRICS`] order.
    pub floors: Vec<f64>,
    /// Indices into [`METRICS`] of the metrics compared.
    pub metrics: Vec<usize>,
}

impl CompareOptions {
    /// Every metric with a better direction, the catalog's floors.
    pub fn new(tolerance: f64) -> Self {
        let metrics = (0..METRICS.len()).filter(|&i| METRICS[i].better != Better::Neither).collect();
        Self { tolerance, floors: METRICS.iter().map(|m| m.floor).collect(), metrics }
    }

    /// Applies `--floor METRIC=VALUE` values.
    pub fn with_floors(mut self, floors: &[String]) -> Result<Self, CompareError> {
        for given in floors {
            let fail =
                |message: String| CompareError::Option { flag: "--floor", given: given.clone(), message };
            let (name, value) = given
                .split_once('=')
                .ok_or_else(|| fail("expected METRIC=VALUE, e.g. wait_first_p90_s=2".into()))?;
            let index = metric_index(name.trim()).map_err(fail)?;
            let floor =
                value.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                    fail(format!("expected a non-negative number after =, got \"{value}\""))
                })?;
            self.floors[index] = floor;
        }
        Ok(self)
    }

    /// Applies `--metrics a,b,c`: only these are compared.
    pub fn with_metrics(mut self, list: &str) -> Result<Self, CompareError> {
        let fail = |message: String| CompareError::Option { flag: "--metrics", given: list.into(), message };
        let mut chosen = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let index = metric_index(name).map_err(fail)?;
            if METRICS[index].better == Better::Neither {
                return Err(fail(format!(
                    "\"{name}\" has no better direction (a volume or a load), so it cannot regress"
                )));
            }
            if !chosen.contains(&index) {
                chosen.push(index);
            }
        }
        if chosen.is_empty() {
            return Err(fail(
                "expected comma-separated metric names, e.g. wait_first_p90_s,sl_first_share".into(),
            ));
        }
        self.metrics = chosen;
        Ok(self)
    }
}

/// One significant change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The point, described by its axis values.
    pub point: String,
    /// The metric's index in [`METRICS`].
    pub metric: usize,
    /// Baseline mean and CI.
    pub baseline: (f64, f64),
    /// Candidate mean and CI.
    pub candidate: (f64, f64),
    /// Worse (true) or better (false).
    pub regression: bool,
}

impl Change {
    /// Relative change, candidate vs baseline; `None` when the baseline is 0.
    pub fn relative(&self) -> Option<f64> {
        let (b, c) = (self.baseline.0, self.candidate.0);
        (b != 0.0).then(|| (c - b) / b.abs())
    }
}

/// The result of a comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Significant changes, regressions first.
    pub changes: Vec<Change>,
    /// Points compared.
    pub compared: usize,
    /// Point × channel rows compared (0 without several channels).
    pub channel_rows: usize,
    /// Metrics compared per channel row.
    pub channel_metrics: usize,
    /// Metric values left out because the mean is undefined on both sides.
    pub undefined: usize,
    /// Metric values defined in the baseline but undefined in the candidate, or the other way
    /// round: (point, metric index, baseline mean, candidate mean).
    pub lost: Vec<(String, usize, Option<f64>, Option<f64>)>,
}

impl Comparison {
    /// Whether any metric got significantly worse.
    pub fn has_regression(&self) -> bool {
        self.changes.iter().any(|c| c.regression) || self.lost.iter().any(|(_, _, b, _)| b.is_some())
    }
}

fn axis_names(table: &SummaryTable) -> Option<Vec<&str>> {
    table.rows.first().map(|r| r.axes.iter().map(|(name, _)| name.as_str()).collect())
}

fn describe_axes(names: &[&str]) -> String {
    if names.is_empty() {
        "none (a single run)".to_string()
    } else {
        names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
    }
}

/// Points by their axis values.
type PointKeys<'t> = HashSet<&'t [(String, String)]>;

/// Each point's key, checking there are no duplicates and enough replications.
fn keys<'t>(table: &'t SummaryTable, side: &'static str) -> Result<PointKeys<'t>, CompareError> {
    let mut seen = HashSet::new();
    for row in &table.rows {
        if !seen.insert(row.axes.as_slice()) {
            return Err(CompareError::DuplicatePoint { side, point: row.describe() });
        }
        if row.replications < 2 {
            let replications = row.replications;
            return Err(CompareError::TooFewReplications { side, point: row.describe(), replications });
        }
    }
    // Two single runs (no axes) match each other whatever their policies.
    Ok(seen)
}

/// Up to three points missing from `side`, and how many in all.
fn missing(rows: &[&SummaryRow], side: &str) -> Option<String> {
    let shown: Vec<String> = rows.iter().take(3).map(|r| format!("({})", r.describe())).collect();
    let more = if rows.len() > 3 { format!(" and {} more", rows.len() - 3) } else { String::new() };
    (!rows.is_empty())
        .then(|| format!("{} point(s) missing in the {side}: {}{more}", rows.len(), shown.join(", ")))
}

/// The rows of `table` whose point is not among `keys`.
fn absent<'t>(table: &'t SummaryTable, keys: &PointKeys<'_>) -> Vec<&'t SummaryRow> {
    table.rows.iter().filter(|r| !keys.contains(&r.axes.as_slice())).collect()
}

/// Checks that the two summaries hold the same sweep's points, one for one.
fn check_layout(baseline: &SummaryTable, candidate: &SummaryTable) -> Result<(), CompareError> {
    let (base_keys, cand_keys) = (keys(baseline, "baseline")?, keys(candidate, "candidate")?);
    if base_keys.is_empty() && cand_keys.is_empty() {
        return Err(CompareError::NoPoints);
    }
    if let (Some(b), Some(c)) = (axis_names(baseline), axis_names(candidate)) {
        if b != c {
            return Err(CompareError::DifferentAxes {
                baseline: describe_axes(&b),
                candidate: describe_axes(&c),
            });
        }
    }
    let problems: Vec<String> = [
        missing(&absent(baseline, &cand_keys), "candidate"),
        missing(&absent(candidate, &base_keys), "baseline"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CompareError::UnmatchedPoints(problems.join("; ")))
    }
}

/// Whether the change from `base` to `cand` counts: disjoint CIs, beyond the tolerance and
/// beyond the floor. `None` when a mean or CI is undefined (never taken as 0).
fn significant(base: MetricSummary, cand: MetricSummary, tolerance: f64, floor: f64) -> Option<bool> {
    let (b, bc, c, cc) = (base.mean?, base.ci95?, cand.mean?, cand.ci95?);
    let disjoint = c - cc > b + bc || c + cc < b - bc;
    let change = (c - b).abs();
    Some(disjoint && change > tolerance * b.abs() && change >= floor && change > 0.0)
}

/// Compares `candidate` against `baseline`: an error unless both hold the same points.
pub fn compare(
    baseline: &SummaryTable,
    candidate: &SummaryTable,
    options: &CompareOptions,
) -> Result<Comparison, CompareError> {
    // Metrics are matched by position in the catalog: columns that differ would compare
    // one metric with another.
    if let Some(difference) = baseline.column_difference(candidate, "the baseline", "the candidate") {
        return Err(CompareError::DifferentColumns(difference));
    }
    check_layout(baseline, candidate)?;
    let mut result = Comparison::default();
    for cand in &candidate.rows {
        let Some(base) = baseline.rows.iter().find(|b| b.axes == cand.axes) else { continue };
        result.compared += 1;
        for &i in &options.metrics {
            let (b, c) = (base.metrics[i], cand.metrics[i]);
            if b.mean.is_some() != c.mean.is_some() {
                // A metric that stops being measurable is a change a gate must see, never a
                // silent pass (a regression when the baseline had it).
                result.lost.push((cand.describe(), i, b.mean, c.mean));
                continue;
            }
            match significant(b, c, options.tolerance, options.floors[i]) {
                None => result.undefined += 1,
                Some(false) => {}
                Some(true) => {
                    let (bm, cm) = (b.mean.unwrap_or_default(), c.mean.unwrap_or_default());
                    let regression = match METRICS[i].better {
                        Better::Lower => cm > bm,
                        Better::Higher => cm < bm,
                        Better::Neither => false,
                    };
                    result.changes.push(Change {
                        point: cand.describe(),
                        metric: i,
                        baseline: (bm, b.ci95.unwrap_or_default()),
                        candidate: (cm, c.ci95.unwrap_or_default()),
                        regression,
                    });
                }
            }
        }
    }
    result.changes.sort_by_key(|c| !c.regression);
    let values = result.compared * options.metrics.len();
    if values > 0 && result.undefined == values {
        return Err(CompareError::NothingDefined);
    }
    Ok(result)
}

/// A signed number with `digits` significant digits, e.g. `+373%`, `-1.24%`, `+0.0521%`.
fn signed_significant(value: f64, digits: i32) -> String {
    let magnitude = if value == 0.0 { 0 } else { value.abs().log10().floor() as i32 };
    let decimals = (digits - 1 - magnitude).clamp(0, 12) as usize;
    format!("{value:+.decimals$}")
}

/// Beyond this relative change (10,000%) a percentage says less than the absolute change.
const LARGEST_PERCENTAGE: f64 = 100.0;

/// The change as read: a percentage with 3 significant digits, or the absolute change in the
/// metric's unit when the baseline is 0 or tiny (a percentage of almost nothing is noise).
pub fn describe_change(change: &Change) -> String {
    match change.relative().filter(|r| r.abs() <= LARGEST_PERCENTAGE) {
        Some(relative) => format!("{}%", signed_significant(relative * 100.0, 3)),
        None => {
            let unit = METRICS[change.metric].unit;
            let delta = change.candidate.0 - change.baseline.0;
            let sign = if delta < 0.0 { "-" } else { "+" };
            let base = change.baseline.0;
            let was = if base == 0.0 { "0".to_string() } else { format_metric(base, unit) };
            format!("{sign}{} (was {was})", format_metric(delta.abs(), unit))
        }
    }
}

/// The comparison as a table.
pub fn render(comparison: &Comparison, options: &CompareOptions) -> String {
    let mut out = String::new();
    let regressions = comparison.changes.iter().filter(|c| c.regression).count();
    let _ = writeln!(
        out,
        "{} point(s) × {} metric(s) compared; {} regression(s), {} improvement(s) beyond {}% and the \
         metrics' floors, with disjoint 95% CIs",
        comparison.compared,
        options.metrics.len(),
        regressions,
        comparison.changes.len() - regressions,
        options.tolerance * 100.0
    );
    if comparison.channel_rows > 0 {
        let _ = writeln!(
            out,
            "(counted with {} point × channel row(s) × {} channel metric(s): a change in one channel \
             shows with `channel=NAME`)",
            comparison.channel_rows, comparison.channel_metrics
        );
    }
    if !comparison.changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<11} {:<30} {:>20} {:>20} {:>18}  point",
            "verdict", "metric", "baseline", "candidate", "change"
        );
        for c in &comparison.changes {
            let info = &METRICS[c.metric];
            let cell = |(mean, ci): (f64, f64)| format_mean_ci(mean, ci, info.unit);
            let verdict = if c.regression { "REGRESSION" } else { "better" };
            let _ = writeln!(
                out,
                "{verdict:<11} {:<30} {:>20} {:>20} {:>18}  {}",
                info.name,
                cell(c.baseline),
                cell(c.candidate),
                describe_change(c),
                c.point
            );
        }
    }
    for (point, metric, base, cand) in &comparison.lost {
        let info = &METRICS[*metric];
        let shown = |v: &Option<f64>| v.map_or("undefined".to_string(), |m| format_metric(m, info.unit));
        let verdict = if base.is_some() { "REGRESSION" } else { "now defined" };
        let _ =
            writeln!(out, "{verdict:<11} {:<30} {:>20} {:>20}  {point}", info.name, shown(base), shown(cand));
    }
    if comparison.undefined > 0 {
        let _ = writeln!(
            out,
            "note: {} metric value(s) not compared: undefined on both sides, or a 95% CI undefined",
            comparison.undefined
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(axes: &[(&str, &str)], wait: (f64, f64), sl: (f64, f64)) -> SummaryRow {
        let mut metrics = vec![MetricSummary { mean: None, ci95: None, n: 0 }; METRICS.len()];
        let at = |name| crate::metrics::catalog::index_of(name).unwrap();
        metrics[at("wait_first_p90_s")] = MetricSummary { mean: Some(wait.0), ci95: Some(wait.1), n: 10 };
        metrics[at("sl_first_share")] = MetricSummary { mean: Some(sl.0), ci95: Some(sl.1), n: 10 };
        SummaryRow {
            point: 0,
            axes: axes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            policy: "sticky".into(),
            replications: 10,
            metrics,
        }
    }

    fn table(wait: (f64, f64), sl: (f64, f64)) -> SummaryTable {
        SummaryTable::new(vec![row(&[("policy", "sticky")], wait, sl)])
    }

    fn options() -> CompareOptions {
        CompareOptions::new(0.05)
    }

    #[test]
    fn flags_only_significant_changes_the_worse_way() {
        let base = table((60.0, 2.0), (0.90, 0.01));
        // Wait up 20% with disjoint CIs: regression. Service level up: improvement.
        let worse = compare(&base, &table((72.0, 2.0), (0.95, 0.01)), &options()).unwrap();
        assert!(worse.has_regression());
        assert_eq!(METRICS[worse.changes[0].metric].name, "wait_first_p90_s");
        assert!(worse.changes.iter().any(|c| METRICS[c.metric].name == "sl_first_share" && !c.regression));
        // Overlapping CIs: nothing.
        assert!(compare(&base, &table((63.0, 2.0), (0.90, 0.01)), &options()).unwrap().changes.is_empty());
        // Disjoint but within tolerance: nothing.
        assert!(compare(&base, &table((62.5, 0.1), (0.90, 0.01)), &options()).unwrap().changes.is_empty());
    }

    #[test]
    fn changes_under_the_floor_never_regress() {
        // 0.07 s → 0.35 s is +400% with disjoint CIs, but under the 1 s floor for waits.
        // A share 0.014 → 0.010 is -29% with disjoint CIs, under the 0.005 floor for shares.
        let base = table((0.07, 0.01), (0.014, 0.0005));
        let cand = table((0.35, 0.01), (0.010, 0.0005));
        let quiet = compare(&base, &cand, &options()).unwrap();
        assert!(!quiet.has_regression(), "{:?}", quiet.changes);
        // A floor lowered with --floor makes both count.
        let strict =
            options().with_floors(&["wait_first_p90_s=0.1".into(), "sl_first_share = 0.001".into()]).unwrap();
        let loud = compare(&base, &cand, &strict).unwrap();
        assert_eq!(loud.changes.iter().filter(|c| c.regression).count(), 2);
    }

    #[test]
    fn metrics_choose_what_is_compared() {
        let base = table((60.0, 2.0), (0.90, 0.01));
        let only_sl = options().with_metrics("sl_first_share").unwrap();
        let result = compare(&base, &table((72.0, 2.0), (0.90, 0.01)), &only_sl).unwrap();
        assert!(!result.has_regression());
        let typo = options().with_metrics("wait_first_p90_s,sl_frist_share").unwrap_err().to_string();
        assert!(typo.starts_with("--metrics") && typo.contains("did you mean \"sl_first_share\""), "{typo}");
        assert!(options()
            .with_metrics("occupancy_share")
            .unwrap_err()
            .to_string()
            .contains("cannot regress"));
        assert!(options().with_metrics(" , ").is_err());
        let floor = options().with_floors(&["wait_first_p90_s".into()]).unwrap_err().to_string();
        assert!(floor.contains("METRIC=VALUE"), "{floor}");
        assert!(options().with_floors(&["wait_first_p90_s=-1".into()]).is_err());
    }

    #[test]
    fn a_metric_that_becomes_undefined_is_a_regression_and_all_undefined_is_an_error() {
        let base = table((60.0, 2.0), (0.90, 0.01));
        let mut cand = table((60.0, 2.0), (0.90, 0.01));
        let at = crate::metrics::catalog::index_of("wait_first_p90_s").unwrap();
        cand.rows[0].metrics[at] = MetricSummary { mean: None, ci95: None, n: 0 };
        let result = compare(&base, &cand, &options()).unwrap();
        assert!(result.has_regression(), "{result:?}");
        assert!(render(&result, &options()).contains("REGRESSION  wait_first_p90_s"));
        // Undefined on both sides for every chosen metric: nothing was compared.
        let resumed = options().with_metrics("wait_resumed_p90_s").unwrap();
        assert_eq!(compare(&base, &base, &resumed).unwrap_err(), CompareError::NothingDefined);
    }

    #[test]
    fn points_must_match_on_both_sides() {
        let two = |a: &str, b: &str| {
            SummaryTable::new(vec![
                row(&[("x", a)], (1.0, 0.1), (0.9, 0.0)),
                row(&[("x", b)], (1.0, 0.1), (0.9, 0.0)),
            ])
        };
        let error = compare(&two("1", "2"), &two("1", "3"), &options()).unwrap_err().to_string();
        assert!(error.contains("1 point(s) missing in the candidate: (x=2)"), "{error}");
        assert!(error.contains("1 point(s) missing in the baseline: (x=3)"), "{error}");
        let other = SummaryTable::new(vec![row(&[("y", "1")], (1.0, 0.1), (0.9, 0.0))]);
        let error = compare(&two("1", "2"), &other, &options()).unwrap_err();
        assert!(matches!(error, CompareError::DifferentAxes { .. }), "{error}");
        let empty = SummaryTable::new(Vec::new());
        assert_eq!(compare(&empty, &empty, &options()).unwrap_err(), CompareError::NoPoints);
        assert!(compare(&empty, &two("1", "2"), &options()).is_err());
        assert!(compare(&two("1", "1"), &two("1", "1"), &options())
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn summaries_with_other_columns_are_refused_naming_the_column() {
        let base = table((60.0, 2.0), (0.90, 0.01));
        let mut renamed = base.clone();
        renamed.columns[4] = "wait_first_p51_s_mean".into();
        let error = compare(&base, &renamed, &options()).unwrap_err().to_string();
        assert!(
            error.contains("summary.csv has column \"wait_first_p50_s_mean\" in the baseline where the candidate has \"wait_first_p51_s_mean\""),
            "{error}"
        );
        let mut longer = base.clone();
        longer.columns.push("bot_time_mean_s_mean".into());
        let error = compare(&base, &longer, &options()).unwrap_err().to_string();
        assert!(error.contains("\"bot_time_mean_s_mean\" in the candidate only"), "{error}");
        assert!(compare(&base, &base, &options()).is_ok());
    }

    #[test]
    fn one_replication_cannot_be_compared() {
        let mut single = table((60.0, 2.0), (0.90, 0.01));
        single.rows[0].replications = 1;
        let error = compare(&single, &table((60.0, 2.0), (0.90, 0.01)), &options()).unwrap_err();
        assert!(error.to_string().contains("at least 2"), "{error}");
    }

    #[test]
    fn zero_baselines_and_large_changes_read_well() {
        let change = |metric: &str, base: f64, cand: f64| Change {
            point: String::new(),
            metric: crate::metrics::catalog::index_of(metric).unwrap(),
            baseline: (base, 0.0),
            candidate: (cand, 0.0),
            regression: true,
        };
        assert_eq!(describe_change(&change("wait_first_mean_s", 0.0, 1.35)), "+1.35 s (was 0)");
        assert_eq!(describe_change(&change("abandon_first_share", 0.0, 0.012)), "+1.20% (was 0)");
        assert_eq!(describe_change(&change("wait_first_mean_s", 0.07, 0.35)), "+400%");
        assert_eq!(describe_change(&change("wait_first_mean_s", 60.0, 72.5)), "+20.8%");
        assert_eq!(describe_change(&change("sl_first_share", 0.9, 0.8991)), "-0.100%");
        assert_eq!(describe_change(&change("wait_first_mean_s", 1e-300, 5.0)), "+5.00 s (was 0.00 s)");
        assert_eq!(describe_change(&change("queue_length_max", 0.0, 3.0)), "+3 (was 0)");
    }
}
