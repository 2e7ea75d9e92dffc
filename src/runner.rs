//! Replications: many independent runs of one scenario, in parallel, handed back in a fixed
//! order, and their running totals.
//!
//! Each replication's seed is derived from (master seed, point, replication), so the results
//! are bit-identical whatever the number of threads. [`stream_replications`] runs them in
//! windows of a few per thread and hands each to a callback in replication order, so memory
//! does not grow with their number; [`RunTotals`] accumulates what a report needs from them.

use rayon::prelude::*;

use crate::engine::{self, Audit, EngineStats, RunError, RunOptions, RunOutput};
use crate::metrics::{summarize, MetricSummary, RowValues, METRICS};
use crate::rng::derive_seed;
use crate::scenario::Scenario;

/// Tasks in flight per worker thread: enough to keep every thread busy while the slowest task
/// of a window finishes, few enough that results waiting for their turn stay small.
const TASKS_PER_THREAD: usize = 8;

/// Breakdown rows (intervals × tables, [`Scenario::breakdown_rows`]) the results of one window
/// may hold: each costs about 0.55 KB while its task runs and waits for its turn (the
/// recorder's counters, then a value per metric), so a window holds about 110 MB at most.
const ROWS_IN_FLIGHT: usize = 200_000;

/// Tasks per window on the current pool for tasks of `rows_per_task` breakdown rows each: a
/// few per thread, fewer (down to one) when their rows would pass [`ROWS_IN_FLIGHT`]. Results
/// come back in task order whatever the window, so it changes no result.
pub fn window(rows_per_task: usize) -> u64 {
    let by_threads = rayon::current_num_threads().max(1) * TASKS_PER_THREAD;
    let by_memory = ROWS_IN_FLIGHT / rows_per_task.max(1);
    by_threads.min(by_memory).max(1) as u64
}

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

/// Runs `task(0..count)` on the current rayon pool and calls `on_result` with each result in
/// index order; stops at the first error `on_result` returns. Tasks run in windows of `window`
/// tasks ([`window`]), so at most one window of results is held at a time.
pub fn for_each_in_order<T: Send, E>(
    count: u64,
    window: u64,
    task: impl Fn(u64) -> T + Sync,
    on_result: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    for_each_in_windows(count, window, task, on_result, || Ok(true)).map(|_| ())
}

/// [`for_each_in_order`], calling `at_window_end` after each window's results: a place to
/// checkpoint, and to stop early by returning `Ok(false)`. The result is `Ok(true)` if every
/// task ran.
pub fn for_each_in_windows<T: Send, E>(
    count: u64,
    window: u64,
    task: impl Fn(u64) -> T + Sync,
    mut on_result: impl FnMut(T) -> Result<(), E>,
    mut at_window_end: impl FnMut() -> Result<bool, E>,
) -> Result<bool, E> {
    let window = window.max(1);
    let mut start = 0;
    while start < count {
        let end = count.min(start + window);
        let results: Vec<T> = (start..end).into_par_iter().map(&task).collect();
        for result in results {
            on_result(result)?;
        }
        if !at_window_end()? {
            return Ok(end == count);
        }
        start = end;
    }
    Ok(true)
}

/// Runs in progress at once when `tasks` tasks run on the current rayon pool in windows of
/// `window`: its threads, or fewer tasks per window. They share the process's budget of open
/// conversations ([`RunOptions::concurrent_runs`]); from the thread, window and task counts
/// alone, so whether a run stops never depends on timing.
pub fn concurrent_runs(tasks: u64, window: u64) -> usize {
    let threads = rayon::current_num_threads().max(1);
    usize::try_from(tasks.min(window)).map_or(threads, |tasks| threads.min(tasks)).max(1)
}

/// Runs `replications` replications of `scenario` for sweep point `point` (0 for a single
/// run) on the current rayon pool and calls `on_replication` with each, in replication order.
pub fn stream_replications<E: From<ReplicationError>>(
    scenario: &Scenario,
    master_seed: u64,
    point: u64,
    replications: u32,
    on_replication: impl FnMut(Replication) -> Result<(), E>,
) -> Result<(), E> {
    stream_replications_with(
        scenario,
        master_seed,
        point,
        replications,
        RunOptions::default(),
        on_replication,
    )
}

/// [`stream_replications`], each run recording what `options` ask for.
pub fn stream_replications_with<E: From<ReplicationError>>(
    scenario: &Scenario,
    master_seed: u64,
    point: u64,
    replications: u32,
    options: RunOptions,
    mut on_replication: impl FnMut(Replication) -> Result<(), E>,
) -> Result<(), E> {
    let window = window(scenario.breakdown_rows());
    let options = RunOptions { concurrent_runs: concurrent_runs(replications.into(), window), ..options };
    let run_one = |index: u64| {
        let seed = derive_seed(master_seed, point, index);
        // `index` < `replications`, a u32.
        let replication = index as u32;
        engine::run_with(scenario, seed, options)
            .map(|output| Replication { index: replication, seed, output })
            .map_err(|error| ReplicationError { point, replication, seed, error })
    };
    for_each_in_order(u64::from(replications), window, run_one, |result| on_replication(result?))
}

/// A replication that could not finish, with what it takes to rerun it alone.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("point {point}, replication {replication} (seed {seed}): {error}")]
pub struct ReplicationError {
    /// The sweep point (0 for a single run).
    pub point: u64,
    /// The replication's index.
    pub replication: u32,
    /// Its seed.
    pub seed: u64,
    /// Why it stopped.
    pub error: RunError,
}

/// Runs `replications` replications of `scenario` for sweep point `point` (0 for a single
/// run), in parallel on the current rayon pool; returned in replication order. Holds every
/// output: for many replications, use [`stream_replications`].
pub fn run_replications(
    scenario: &Scenario,
    master_seed: u64,
    point: u64,
    replications: u32,
) -> Result<Vec<Replication>, ReplicationError> {
    let mut all = Vec::new();
    stream_replications(scenario, master_seed, point, replications, |r| {
        all.push(r);
        Ok::<(), ReplicationError>(())
    })?;
    Ok(all)
}

/// What a report needs from replications, accumulated one replication at a time in
/// replication order: per metric one `f64` per replication (the 95% CI needs the mean before
/// the squared deviations, and this keeps the numbers bit-identical to a two-pass sum over all
/// outputs), and sums of the rest. 8 bytes per metric (and breakdown cell) and replication; no
/// histograms.
#[derive(Debug, Clone)]
pub struct RunTotals {
    /// Replications the concurrency shares are averaged over (known up front).
    planned: u32,
    /// Replications added so far.
    added: u32,
    /// Per metric, in catalog order: each replication's value, NaN where undefined (the
    /// summary skips non-finite values, so NaN and `None` count the same).
    values: Vec<Vec<f64>>,
    /// Per load level: the running mean share of on-shift agent time.
    concurrency_shares: Vec<f64>,
    /// Per interval row, per column of the interval scope: each replication's value.
    intervals: RowValues,
    /// Per pool, per column of the pool scope: each replication's value.
    pools: RowValues,
    /// Per channel (several channels only), per column of the channel scope: each
    /// replication's value.
    channels: RowValues,
    /// Per channel and interval (channel after channel), per column of that scope: each
    /// replication's value.
    channel_intervals: RowValues,
    stats: EngineStats,
    audit: Audit,
}

impl RunTotals {
    /// Empty totals for a run of `planned` replications.
    pub fn new(planned: u32) -> Self {
        Self {
            planned,
            added: 0,
            values: vec![Vec::new(); METRICS.len()],
            concurrency_shares: Vec::new(),
            intervals: RowValues::default(),
            pools: RowValues::default(),
            channels: RowValues::default(),
            channel_intervals: RowValues::default(),
            stats: EngineStats::default(),
            audit: Audit::default(),
        }
    }

    /// The totals of `replications`, in their order.
    pub fn of(replications: &[Replication]) -> Self {
        let planned = u32::try_from(replications.len()).unwrap_or(u32::MAX);
        let mut totals = Self::new(planned);
        for r in replications {
            totals.add(&r.output);
        }
        totals
    }

    /// Adds the next replication's output.
    pub fn add(&mut self, output: &RunOutput) {
        self.added += 1;
        for (values, value) in self.values.iter_mut().zip(&output.metrics.values) {
            values.push(value.unwrap_or(f64::NAN));
        }
        self.intervals.push(&output.metrics.intervals);
        self.pools.push(&output.metrics.pools);
        self.channels.push(&output.metrics.channels);
        self.channel_intervals.push(&output.metrics.channel_intervals);
        let shares = &output.metrics.concurrency_shares;
        if self.concurrency_shares.len() < shares.len() {
            self.concurrency_shares.resize(shares.len(), 0.0);
        }
        for (total, share) in self.concurrency_shares.iter_mut().zip(shares) {
            *total += share / f64::from(self.planned);
        }
        self.stats.events += output.stats.events;
        self.stats.stale_timers += output.stats.stale_timers;
        self.audit += &output.audit;
    }

    /// Replications added so far.
    pub fn replications(&self) -> u32 {
        self.added
    }

    /// Every metric's mean and 95% confidence half-width, in catalog order.
    pub fn summaries(&self) -> Vec<(&'static str, MetricSummary)> {
        METRICS
            .iter()
            .zip(&self.values)
            .map(|(info, values)| (info.name, summarize(values.iter().map(|v| Some(*v)))))
            .collect()
    }

    /// The breakdown by interval: per row of the fold, the mean and CI of each column of
    /// `scope_metrics(Scope::Interval)`.
    pub fn interval_summaries(&self) -> Vec<Vec<MetricSummary>> {
        self.intervals.summaries()
    }

    /// The breakdown by pool: per pool in scenario order, the mean and CI of each column of
    /// `scope_metrics(Scope::Pool)`.
    pub fn pool_summaries(&self) -> Vec<Vec<MetricSummary>> {
        self.pools.summaries()
    }

    /// The breakdown by channel (empty with one channel): per channel in scenario order, the
    /// mean and CI of each column of `scope_metrics(Scope::Channel)`.
    pub fn channel_summaries(&self) -> Vec<Vec<MetricSummary>> {
        self.channels.summaries()
    }

    /// The breakdown by channel and interval (empty with one channel): channel after channel,
    /// one row per interval, the mean and CI of each column of
    /// `scope_metrics(Scope::ChannelInterval)`.
    pub fn channel_interval_summaries(&self) -> Vec<Vec<MetricSummary>> {
        self.channel_intervals.summaries()
    }

    /// Mean share of on-shift agent time at each load (index = contacts in handling).
    pub fn concurrency_shares(&self) -> &[f64] {
        &self.concurrency_shares
    }

    /// Event counts summed over replications.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Invariant counters summed over replications.
    pub fn audit(&self) -> Audit {
        self.audit
    }
}

/// Every metric's mean and 95% confidence half-width over `replications`, in catalog order.
pub fn summarize_metrics(replications: &[Replication]) -> Vec<(&'static str, MetricSummary)> {
    RunTotals::of(replications).summaries()
}

/// Event counts summed over replications.
pub fn total_stats(replications: &[Replication]) -> EngineStats {
    RunTotals::of(replications).stats()
}

/// Invariant counters summed over replications.
pub fn total_audit(replications: &[Replication]) -> Audit {
    RunTotals::of(replications).audit()
}

/// Mean share of on-shift agent time at each load, over replications.
pub fn mean_concurrency_shares(replications: &[Replication]) -> Vec<f64> {
    RunTotals::of(replications).concurrency_shares().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_the_window() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let mut seen = Vec::new();
        let done: Result<(), ()> = pool.install(|| {
            for_each_in_order(
                100,
                window(1),
                |i| i * 2,
                |v| {
                    seen.push(v);
                    Ok(())
                },
            )
        });
        assert_eq!(done, Ok(()));
        assert_eq!(seen, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_stops_the_stream() {
        let mut seen = 0;
        let done = for_each_in_order(
            1_000,
            window(1),
            |i| i,
            |v| {
                seen += 1;
                if v == 5 {
                    Err(v)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(done, Err(5));
        assert_eq!(seen, 6);
    }

    #[test]
    fn nothing_runs_for_zero_tasks() {
        let done: Result<(), ()> = for_each_in_order(0, window(1), |_| panic!("no task"), |_: ()| Ok(()));
        assert_eq!(done, Ok(()));
    }
}
