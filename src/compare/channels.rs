//! Comparing channels: each point's channels (from `channels.csv`) become rows of their own,
//! keyed by the point's axes and the channel's name, and go through the same test as whole
//! points, so a regression in one channel is not averaged away by the others.

use std::collections::BTreeMap;

use super::{compare, CompareError, CompareOptions, Comparison};
use crate::metrics::catalog::{index_of, scope_metrics, Scope};
use crate::metrics::{MetricSummary, METRICS};
use crate::sweep::{PointChannels, SummaryRow, SummaryTable};

/// The key a channel row adds after its point's axes.
pub const CHANNEL_KEY: &str = "channel";

/// One row per point × channel of `summary`'s points: the point's axes plus `channel=NAME`,
/// the channel's metrics at their catalog places (the others undefined).
pub fn channel_table(summary: &SummaryTable, channels: &BTreeMap<u64, PointChannels>) -> SummaryTable {
    let places: Vec<Option<usize>> = scope_metrics(Scope::Channel).iter().map(|m| index_of(m.name)).collect();
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    let mut rows = Vec::new();
    for point in &summary.rows {
        for (name, values) in channels.get(&point.point).into_iter().flatten() {
            let mut metrics = vec![missing; METRICS.len()];
            for (place, value) in places.iter().zip(values) {
                if let Some(i) = place {
                    metrics[*i] = *value;
                }
            }
            let mut axes = point.axes.clone();
            axes.push((CHANNEL_KEY.to_string(), name.clone()));
            rows.push(SummaryRow {
                point: point.point,
                axes,
                policy: point.policy.clone(),
                replications: point.replications,
                metrics,
            });
        }
    }
    SummaryTable { rows, columns: summary.columns.clone() }
}

/// Adds the comparison of the two sides' channel rows to `whole`: their changes, lost values
/// and undefined counts, and how many rows and metrics were compared. Nothing happens when
/// neither side has several channels, or when no chosen metric is reported per channel.
pub fn add_channels(
    whole: &mut Comparison,
    baseline: &SummaryTable,
    candidate: &SummaryTable,
    options: &CompareOptions,
) -> Result<(), CompareError> {
    if baseline.rows.is_empty() && candidate.rows.is_empty() {
        return Ok(());
    }
    for (several, rows, single, other) in
        [("baseline", baseline, "candidate", candidate), ("candidate", candidate, "baseline", baseline)]
    {
        if other.rows.is_empty() {
            let mut names: Vec<&str> =
                rows.rows.iter().filter_map(|r| r.axes.last().map(|(_, name)| name.as_str())).collect();
            names.dedup();
            return Err(CompareError::DifferentChannels { several, names: names.join(", "), single });
        }
    }
    let channel_scope: Vec<usize> =
        scope_metrics(Scope::Channel).iter().filter_map(|m| index_of(m.name)).collect();
    let metrics: Vec<usize> = options.metrics.iter().copied().filter(|i| channel_scope.contains(i)).collect();
    if metrics.is_empty() {
        return Ok(());
    }
    let options = CompareOptions { metrics, ..options.clone() };
    let channels = compare(baseline, candidate, &options)?;
    whole.channel_rows = channels.compared;
    whole.channel_metrics = options.metrics.len();
    whole.undefined += channels.undefined;
    whole.changes.extend(channels.changes);
    whole.changes.sort_by_key(|c| !c.regression);
    whole.lost.extend(channels.lost);
    Ok(())
}
