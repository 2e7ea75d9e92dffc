//! Reports: a run's results as a terminal table, JSON or CSV. Bytes out, no I/O here; the CLI
//! decides where they go.

use serde_json::{json, Map, Value};

use crate::metrics::{MetricSummary, METRICS};
use crate::runner::{mean_concurrency_shares, summarize_metrics, total_audit, total_stats, Replication};
use crate::scenario::Scenario;

/// The results of one `convosim run`.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Policy label, e.g. `hybrid(timeout=10m)`.
    pub policy: String,
    /// Master seed.
    pub seed: u64,
    /// Replications, in order.
    pub replications: Vec<Replication>,
    /// Mean and CI of every metric, catalog order.
    pub metrics: Vec<(&'static str, MetricSummary)>,
    /// Wall time of all replications, seconds (they ran in parallel).
    pub wall_s: f64,
    /// Agents and slots, for the header.
    pub agents: usize,
    /// Total slots.
    pub slots: usize,
}

impl RunReport {
    /// Collects the report of `replications` of `scenario`.
    pub fn new(scenario: &Scenario, seed: u64, replications: Vec<Replication>, wall_s: f64) -> Self {
        let metrics = summarize_metrics(&replications);
        Self {
            scenario: scenario.name.clone(),
            policy: scenario.policy.label(),
            seed,
            metrics,
            wall_s,
            agents: scenario.agent_count(),
            slots: scenario.pools.iter().map(|p| (p.count * p.concurrency) as usize).sum(),
            replications,
        }
    }

    /// The summary of the metric named `name`.
    pub fn metric(&self, name: &str) -> Option<MetricSummary> {
        self.metrics.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// Logical events over all replications.
    pub fn events(&self) -> u64 {
        total_stats(&self.replications).events
    }

    /// The JSON document of `--format json`.
    pub fn to_json(&self) -> Value {
        let metrics: Map<String, Value> = self
            .metrics
            .iter()
            .map(|(name, s)| (name.to_string(), json!({ "mean": s.mean, "ci95": s.ci95 })))
            .collect();
        let stats = total_stats(&self.replications);
        let events = stats.events;
        let audit = total_audit(&self.replications);
        json!({
            "scenario": self.scenario,
            "policy": self.policy,
            "seed": self.seed,
            "replications": self.replications.len(),
            "metrics": metrics,
            "concurrency_shares": mean_concurrency_shares(&self.replications),
            "engine": {
                "events": events,
                "wall_s": self.wall_s,
                "events_per_s": events as f64 / self.wall_s.max(1e-9),
                "contacts": audit.ready,
                "contacts_per_s": audit.ready as f64 / self.wall_s.max(1e-9),
                "stale_timers": stats.stale_timers,
            },
            "audit": {
                "ready": audit.ready,
                "picked": audit.picked,
                "abandoned": audit.abandoned,
                "waiting_at_horizon": audit.waiting_at_horizon,
                "over_concurrency": audit.over_concurrency,
                "off_shift_pickups": audit.off_shift_pickups,
                "time_reversals": audit.time_reversals,
            },
        })
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

    /// One row per replication: `replication,seed,events,<every metric>`.
    pub fn to_replications_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = ["replication", "seed", "events"].into_iter().map(String::from);
        let _ = writer.write_record(header.chain(METRICS.iter().map(|m| m.name.to_string())));
        for r in &self.replications {
            let fixed = [r.index.to_string(), r.seed.to_string(), r.output.stats.events.to_string()];
            let values = r.output.metrics.values.iter().map(|v| number(*v));
            let _ = writer.write_record(fixed.into_iter().chain(values));
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// A table for an 100-column terminal.
    pub fn to_table(&self) -> String {
        crate::table::render(self)
    }
}

/// A number for CSV: empty when undefined, shortest round-trip form otherwise.
fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}
