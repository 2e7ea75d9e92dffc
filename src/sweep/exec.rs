//! Running a sweep's tasks in parallel and handing results back in task order, window by
//! window, with a chance to checkpoint and stop between windows.

use std::str::FromStr;

use super::{Point, SweepError};
use crate::engine::{self, RunOptions, RunOutput};
use crate::rng::TaskSeeds;
use crate::runner::{concurrent_runs, for_each_in_windows, window, ReplicationError};

/// A slice of the tasks: shard `index` of `count` (1-based), as in `--shard 3/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };
}

impl FromStr for Shard {
    type Err = SweepError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SweepError::ShardSpec { given: text.to_string() };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The task indices of `shard`: task `t = point·replications + replication` belongs to shard
/// `t mod count + 1`, which spreads every point's replications over the shards.
pub fn shard_tasks(points: u64, replications: u32, shard: Shard) -> Vec<u64> {
    let total = points * u64::from(replications);
    (u64::from(shard.index - 1)..total).step_by(shard.count as usize).collect()
}

/// One finished task.
#[derive(Debug)]
pub struct TaskResult {
    /// The point's index.
    pub point: u64,
    /// The replication's index.
    pub replication: u32,
    /// The seed it ran with.
    pub seed: u64,
    /// What it produced.
    pub output: RunOutput,
}

/// What [`execute`] hands back: a finished task, or the end of a window of tasks (a point at
/// which the caller may checkpoint and stop).
#[derive(Debug)]
pub enum Step<'a> {
    /// The next task in task order.
    Task(&'a TaskResult),
    /// Every task so far has been handed back.
    WindowEnd,
}

/// Runs `tasks` on the current rayon pool and calls `on_step` for each result, in task order,
/// and at the end of each window of a few tasks per thread (so memory stays flat however many
/// there are). Each task runs with `seeds.seed(point, replication)`. `on_step` returns
/// `Ok(false)` at a window's end to stop there; the result is `Ok(true)` if every task ran.
pub fn execute(
    points: &[Point],
    seeds: TaskSeeds,
    replications: u32,
    tasks: &[u64],
    on_step: impl FnMut(Step<'_>) -> Result<bool, SweepError>,
) -> Result<bool, SweepError> {
    let rows = points.iter().map(|p| p.scenario.breakdown_rows()).max().unwrap_or(1);
    let window = window(rows);
    let options =
        RunOptions { concurrent_runs: concurrent_runs(tasks.len() as u64, window), ..RunOptions::default() };
    let run_task = |i: u64| {
        let task = tasks[i as usize];
        let point = task / u64::from(replications);
        let replication = (task % u64::from(replications)) as u32;
        let seed = seeds.seed(point, u64::from(replication));
        engine::run_with(&points[point as usize].scenario, seed, options)
            .map(|output| TaskResult { point, replication, seed, output })
            .map_err(|error| SweepError::from(ReplicationError { point, replication, seed, error }))
    };
    // Both hooks call `on_step`, one after the other, never at once.
    let on_step = std::cell::RefCell::new(on_step);
    for_each_in_windows(
        tasks.len() as u64,
        window,
        run_task,
        |result| (on_step.borrow_mut())(Step::Task(&result?)).map(|_| ()),
        || (on_step.borrow_mut())(Step::WindowEnd),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_tasks() {
        let mut all: Vec<u64> =
            (1..=3).flat_map(|k| shard_tasks(5, 4, Shard { index: k, count: 3 })).collect();
        all.sort();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard { index: 2, count: 3 });
    }
}
