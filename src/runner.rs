//! Replications: many independent runs of one scenario, in parallel, in a fixed order.
//!
//! Each replication's seed is derived from (master seed, point, replication), so the results
//! are bit-identical whatever the number of threads.

use rayon::prelude::*;

use crate::engine::{self, Audit, EngineStats, RunError, RunOutput};
use crate::metrics::{summarize, MetricSummary, METRICS};
use crate::rng::derive_seed;
use crate::scenario::Scenario;

/// One replication's seed and output.
#[derive(Debug, Clone)]
pub struct Replication {
    /// Index from 0.
    pub index: u32,
    /// The seed it ran with.
    pub seed: u64,
    /// What it produced.
    pub output: RunOutput,
}

/// Runs `replications` replications of `scenario` for sweep point `point` (0 for a single
/// run), in parallel on the current rayon pool; returned in replication order.
pub fn run_replications(
    scenario: &Scenario,
    master_seed: u64,
    point: u64,
    replications: u32,
) -> Result<Vec<Replication>, RunError> {
    (0..replications)
        .into_par_iter()
        .map(|index| {
            let seed = derive_seed(master_seed, point, u64::from(index));
            engine::run(scenario, seed).map(|output| Replication { index, seed, output })
        })
        .collect()
}

/// Every metric's mean and 95% confidence half-width over `replications`, in catalog order.
pub fn summarize_metrics(replications: &[Replication]) -> Vec<(&'static str, MetricSummary)> {
    METRICS
        .iter()
        .enumerate()
        .map(|(i, info)| (info.name, summarize(replications.iter().map(|r| r.output.metrics.values[i]))))
        .collect()
}

/// Event counts summed over replications.
pub fn total_stats(replications: &[Replication]) -> EngineStats {
    replications.iter().fold(EngineStats::default(), |acc, r| EngineStats {
        events: acc.events + r.output.stats.events,
        stale_timers: acc.stale_timers + r.output.stats.stale_timers,
    })
}

/// Invariant counters summed over replications.
pub fn total_audit(replications: &[Replication]) -> Audit {
    replications.iter().fold(Audit::default(), |acc, r| {
        let a = r.output.audit;
        Audit {
            ready: acc.ready + a.ready,
            picked: acc.picked + a.picked,
            abandoned: acc.abandoned + a.abandoned,
            waiting_at_horizon: acc.waiting_at_horizon + a.waiting_at_horizon,
            over_concurrency: acc.over_concurrency + a.over_concurrency,
            off_shift_pickups: acc.off_shift_pickups + a.off_shift_pickups,
            time_reversals: acc.time_reversals + a.time_reversals,
        }
    })
}

/// Mean share of on-shift agent time at each load, over replications.
pub fn mean_concurrency_shares(replications: &[Replication]) -> Vec<f64> {
    let width = replications.iter().map(|r| r.output.metrics.concurrency_shares.len()).max().unwrap_or(0);
    let mut shares = vec![0.0; width];
    for r in replications {
        for (total, share) in shares.iter_mut().zip(&r.output.metrics.concurrency_shares) {
            *total += share / replications.len() as f64;
        }
    }
    shares
}
