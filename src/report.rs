//! Reports: a run's results as a terminal table, JSON or CSV. Bytes out, no I/O here; the CLI
//! decides where they go.

use serde_json::{json, Map, Value};

use crate::metrics::catalog::{scope_metrics, Scope};
use crate::metrics::{MetricSummary, METRICS};
use crate::runner::{Replication, RunTotals};
use crate::scenario::{ReportSpec, Scenario};

/// How many replications a report covers. A run streams its replications into [`RunTotals`]
/// and keeps none of them; `len` lets renderers read the count as they read the list before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationCount(pub u32);

impl ReplicationCount {
    /// The number of replications.
    pub fn len(&self) -> usize {
        self.0 as usize
    }

    /// True when the report covers no replication.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// The results of one `convosim run`.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Policy label, e.g. `hybrid(timeout=10m)`.
    pub policy: String,
    /// Master seed.
    pub seed: u64,
    /// How many replications the report covers.
    pub replications: ReplicationCount,
    /// Their running totals (metric values, event and audit counts, concurrency shares).
    pub totals: RunTotals,
    /// Mean and CI of every metric, catalog order.
    pub metrics: Vec<(&'static str, MetricSummary)>,
    /// Wall time of all replications, seconds (they ran in parallel).
    pub wall_s: f64,
    /// Agents and slots, for the header.
    pub agents: usize,
    /// Total slots.
    pub slots: usize,
    /// How the breakdown by interval is cut.
    pub breakdown: ReportSpec,
    /// Pool names, in scenario order (the rows of the breakdown by pool).
    pub pool_names: Vec<String>,
    /// Channel names, in scenario order (the rows of the breakdown by channel, reported only
    /// with several channels).
    pub channel_names: Vec<String>,
}

impl RunReport {
    /// The report of `replications` of `scenario`, all in memory (fine for a few).
    pub fn new(scenario: &Scenario, seed: u64, replications: Vec<Replication>, wall_s: f64) -> Self {
        Self::from_totals(scenario, seed, RunTotals::of(&replications), wall_s)
    }

    /// The report of replications of `scenario` accumulated into `totals`.
    pub fn from_totals(scenario: &Scenario, seed: u64, totals: RunTotals, wall_s: f64) -> Self {
        Self {
            scenario: scenario.name.clone(),
            policy: scenario.policy_label(),
            seed,
            metrics: totals.summaries(),
            wall_s,
            agents: scenario.agent_count(),
            slots: scenario.pools.iter().map(|p| (p.count * p.concurrency) as usize).sum(),
            replications: ReplicationCount(totals.replications()),
            breakdown: scenario.report,
            pool_names: scenario.pools.iter().map(|p| p.name.clone()).collect(),
            channel_names: scenario.channels.iter().map(|c| c.name.clone()).collect(),
            totals,
        }
    }

    /// The summary of the metric named `name`.
    pub fn metric(&self, name: &str) -> Option<MetricSummary> {
        self.metrics.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// Logical events over all replications.
    pub fn events(&self) -> u64 {
        self.totals.stats().events
    }

    /// The JSON document of `--format json`.
    pub fn to_json(&self) -> Value {
        let metrics: Map<String, Value> = self
            .metrics
            .iter()
            .map(|(name, s)| (name.to_string(), json!({ "mean": s.mean, "ci95": s.ci95 })))
            .collect();
        let stats = self.totals.stats();
        let events = stats.events;
        let audit = self.totals.audit();
        let mut document = json!({
            "scenario": self.scenario,
            "policy": self.policy,
            "seed": self.seed,
            "replications": self.replications.len(),
            "metrics": metrics,
            "concurrency_shares": self.totals.concurrency_shares(),
            "engine": {
                "events": events,
                "wall_s": self.wall_s,
                "events_per_s": events as f64 / self.wall_s.max(1e-9),
                "contacts": audit.ready,
                "contacts_per_s": audit.ready as f64 / self.wall_s.max(1e-9),
                "stale_timers": stats.stale_timers,
            },
            "intervals": self.intervals_json(),
            "pools": self.pools_json(),
            "audit": audit,
        });
        // A single-channel report keeps its bytes: "channels" appears only with several.
        if let (Some(object), Some(channels)) = (document.as_object_mut(), self.channels_json()) {
            object.insert("channels".to_string(), channels);
        }
        document
    }

    /// `"intervals"` of `--format json`: the fold, the width and one row per interval.
    pub fn intervals_json(&self) -> Value {
        let rows = self.interval_rows_json(Scope::Interval, &self.totals.interval_summaries());
        json!({ "fold": self.breakdown.fold.name(), "width_s": self.breakdown.interval_s as u64, "rows": rows })
    }

    /// One JSON row per interval: its index, start and metrics (columns of `scope`).
    fn interval_rows_json(&self, scope: Scope, rows: &[Vec<MetricSummary>]) -> Vec<Value> {
        rows.iter()
            .enumerate()
            .map(|(index, row)| {
                json!({
                    "index": index,
                    "start": self.breakdown.start_label(index),
                    "metrics": scoped_json(scope, row),
                })
            })
            .collect()
    }

    /// `"pools"` of `--format json`: each pool's metrics by name.
    pub fn pools_json(&self) -> Value {
        let pools: Map<String, Value> = self
            .pool_names
            .iter()
            .zip(self.totals.pool_summaries())
            .map(|(name, row)| (name.clone(), json!({ "metrics": scoped_json(Scope::Pool, &row) })))
            .collect();
        Value::Object(pools)
    }

    /// `"channels"` of `--format json`: each channel's metrics by name, and its per-contact
    /// metrics by interval (`"intervals": {"rows": [...]}`, the fold and width as the run's);
    /// `None` with one channel.
    pub fn channels_json(&self) -> Option<Value> {
        let rows = self.totals.channel_summaries();
        if rows.is_empty() {
            return None;
        }
        let by_interval = self.totals.channel_interval_summaries();
        let per_channel = by_interval.len() / rows.len();
        let channels: Map<String, Value> = self
            .channel_names
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(c, (name, row))| {
                let intervals = by_interval.get(c * per_channel..(c + 1) * per_channel).unwrap_or_default();
                let channel = json!({
                    "metrics": scoped_json(Scope::Channel, &row),
                    "intervals": { "rows": self.interval_rows_json(Scope::ChannelInterval, intervals) },
                });
                (name.clone(), channel)
            })
            .collect();
        Some(Value::Object(channels))
    }

    /// `metric,mean,ci95,meaning`, one row per metric.
    pub fn to_summary_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(["metric", "mean", "ci95", "meaning"]);
        for ((name, s), info) in self.metrics.iter().zip(METRICS) {
            let _ = writer.write_record([
                name.to_string(),
                number(s.mean),
                number(s.ci95),
                info.meaning.to_string(),
            ]);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// One breakdown row as `{name: {mean, ci95}}`, columns of `scope` in order.
fn scoped_json(scope: Scope, row: &[MetricSummary]) -> Value {
    let metrics: Map<String, Value> = scope_metrics(scope)
        .iter()
        .zip(row)
        .map(|(info, s)| (info.name.to_string(), json!({ "mean": s.mean, "ci95": s.ci95 })))
        .collect();
    Value::Object(metrics)
}

/// A number for CSV: empty when undefined, shortest round-trip form otherwise.
fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}
