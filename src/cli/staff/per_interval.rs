//! `convosim staff --per-interval`: the command-line side of [`crate::staff::interval`]. Every
//! vector tried is the input table with the pool's `count` and `shifts` replaced by a
//! `staffing` vector at the scenario's report interval, run on the same seeds; the vector
//! chosen then runs once more on fresh seeds and the intervals that still miss are listed.

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};
use toml::{Table, Value};

use super::{Format, Setup};
use crate::gate::{Assertion, Op};
use crate::metrics::catalog::{scope_metrics, Scope};
use crate::metrics::MetricSummary;
use crate::runner::{stream_replications, RunTotals};
use crate::scenario::{scenario_from_table, LoadEstimate};
use crate::staff::interval::{agent_hours_per_week, interval_meets, search, Iteration, PerInterval};
use crate::staff::{format_summary, fresh_seed};

/// The interval targets the search supports so far: delay probabilities, whose per-interval
/// rule (fewest agents with P(wait) ≤ α) is the ISA's.
const DELAY_METRICS: [&str; 2] = ["waited_first_share", "waited_resumed_share"];

/// Largest count per interval the search tries.
const MAX_PER_INTERVAL: u32 = 100_000;

/// Runs the per-interval search for `setup` and prints (and writes) the answer.
pub(super) fn staff(setup: &Setup<'_>) -> Result<i32> {
    let target = delay_target(setup)?;
    let column = scope_metrics(Scope::Interval)
        .iter()
        .position(|m| m.name == target.metric)
        .with_context(|| format!("--target {target}: not an interval metric"))?;
    let report = setup.base.report;
    let rows = report.rows();
    let start = start_vector(setup, rows)?;
    let found = search(
        &target,
        start,
        MAX_PER_INTERVAL,
        |staffing| evaluate(setup, staffing, setup.seed, column),
        |i| {
            // Progress only for a person watching; stdout carries the answer.
            if std::io::stderr().is_terminal() {
                eprintln!("staff --per-interval: {}", progress_line(i));
            }
        },
    )?;
    let achieved = evaluate(setup, &found.staffing, fresh_seed(setup.seed), column)?;
    let meets: Vec<bool> = achieved.iter().map(|s| interval_meets(&target, s)).collect();
    let answer = Answer { target, found, achieved, meets };
    if setup.args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&answer.to_json(setup))?);
    } else {
        answer.print(setup);
    }
    if let Some(dir) = &setup.args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--out {}: cannot create the directory", dir.display()))?;
        let path = dir.join("staffed.toml");
        let text = toml::to_string(&table_with(setup, &answer.found.staffing)?)
            .context("cannot write the staffed scenario as TOML")?;
        std::fs::write(&path, text).with_context(|| format!("--out: cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(0)
}

/// The one target, if it is a delay probability bounded above.
fn delay_target(setup: &Setup<'_>) -> Result<Assertion> {
    if !setup.args.policies.is_empty() {
        bail!("--policies: not yet available with --per-interval; run one policy at a time with --set policy=NAME");
    }
    let [target] = setup.targets.as_slice() else {
        bail!("--target: --per-interval takes exactly one target for now, got {}", setup.targets.len());
    };
    if !DELAY_METRICS.contains(&target.metric) || !matches!(target.op, Op::Less | Op::LessEq) {
        bail!(
            "--target '{target}': --per-interval supports delay-probability targets only for now \
             (waited_first_share<=ALPHA or waited_resumed_share<=ALPHA)"
        );
    }
    Ok(target.clone())
}

/// Ample staff to start from: twice the pool's share of the average offered load, in agents,
/// in every interval (busy intervals double further until they meet).
fn start_vector(setup: &Setup<'_>, rows: usize) -> Result<Vec<u32>> {
    let one = LoadEstimate::of(&scenario_with(setup, &vec![1; rows])?);
    let two = LoadEstimate::of(&scenario_with(setup, &vec![2; rows])?);
    let per_agent = two.on_shift_slots - one.on_shift_slots;
    let others = one.on_shift_slots - per_agent;
    let agents = crate::staff::start_count(one.offered_slots, others, per_agent);
    Ok(vec![agents.saturating_mul(2); rows])
}

/// The input table with the pool staffed by `staffing` at the report interval.
fn table_with(setup: &Setup<'_>, staffing: &[u32]) -> Result<Table> {
    let mut table = setup.table.clone();
    let pool = &setup.args.pool;
    let entry = table
        .get_mut("agents")
        .and_then(Value::as_array_mut)
        .and_then(|pools| {
            pools.iter_mut().find(|p| p.get("name").and_then(Value::as_str) == Some(pool.as_str()))
        })
        .and_then(Value::as_table_mut)
        .with_context(|| format!("--pool {pool}: no [[agents]] table with that name"))?;
    for key in ["count", "shifts", "staffing_scale"] {
        entry.remove(key);
    }
    let vector = staffing.iter().map(|n| Value::Integer(i64::from(*n))).collect();
    entry.insert("staffing".into(), Value::Array(vector));
    let width = setup.base.report.interval_s;
    entry.insert("staffing_interval".into(), Value::String(format!("{width:.0}s")));
    Ok(table)
}

/// The validated scenario with `staffing`; the overload refusal is lifted as in level mode.
fn scenario_with(setup: &Setup<'_>, staffing: &[u32]) -> Result<crate::scenario::Scenario> {
    let mut table = table_with(setup, staffing)?;
    table.insert("allow_overload".into(), Value::Boolean(true));
    scenario_from_table(&table, &setup.args.scenario)
        .with_context(|| format!("--pool {} with staffing {staffing:?}", setup.args.pool))
}

/// The target metric per interval over the replications from master seed `seed`.
fn evaluate(setup: &Setup<'_>, staffing: &[u32], seed: u64, column: usize) -> Result<Vec<MetricSummary>> {
    let scenario = scenario_with(setup, staffing)?;
    let mut totals = RunTotals::new(setup.replications);
    stream_replications(&scenario, seed, 0, setup.replications, |r| {
        totals.add(&r.output);
        Ok::<(), crate::runner::ReplicationError>(())
    })?;
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    Ok(totals.interval_summaries().iter().map(|row| row.get(column).copied().unwrap_or(missing)).collect())
}

fn progress_line(i: &Iteration) -> String {
    let total: u64 = i.staffing.iter().map(|n| u64::from(*n)).sum();
    format!("{} agent-intervals, {} interval(s) miss", total, i.misses())
}

/// The search's result and its fresh-seed check.
struct Answer {
    target: Assertion,
    found: PerInterval,
    /// The target metric per interval on fresh seeds.
    achieved: Vec<MetricSummary>,
    meets: Vec<bool>,
}

impl Answer {
    fn missed(&self) -> Vec<usize> {
        self.meets.iter().enumerate().filter(|(_, m)| !**m).map(|(k, _)| k).collect()
    }

    fn agent_hours(&self, setup: &Setup<'_>) -> f64 {
        agent_hours_per_week(&self.found.staffing, setup.base.report.interval_s)
    }

    fn to_json(&self, setup: &Setup<'_>) -> Json {
        let report = setup.base.report;
        let rows: Vec<Json> = (0..self.found.staffing.len())
            .map(|k| {
                let s = self.achieved.get(k);
                json!({
                    "index": k,
                    "start": report.start_label(k),
                    "agents": self.found.staffing[k],
                    "achieved": {"mean": s.and_then(|s| s.mean), "ci95": s.and_then(|s| s.ci95)},
                    "meets": self.meets.get(k).copied().unwrap_or(false),
                })
            })
            .collect();
        json!({
            "pool": setup.args.pool,
            "mode": "per_interval",
            "target": self.target.to_string(),
            "fold": report.fold.name(),
            "interval_s": report.interval_s,
            "staffing": self.found.staffing,
            "agent_hours_per_week": self.agent_hours(setup),
            "iterations": self.found.iterations.len(),
            "converged": self.found.converged,
            "intervals": rows,
            "missed": self.missed(),
        })
    }

    fn print(&self, setup: &Setup<'_>) {
        let report = setup.base.report;
        println!(
            "pool {} per interval ({} fold), {} replication(s) per vector, seed {}: {}",
            setup.args.pool,
            report.fold.name(),
            setup.replications,
            setup.seed,
            self.target
        );
        for (n, i) in self.found.iterations.iter().enumerate() {
            println!("  iteration {}: {}", n + 1, progress_line(i));
        }
        println!("{:<10}  {:>6}  achieved on fresh seeds", "interval", "agents");
        for (k, agents) in self.found.staffing.iter().enumerate() {
            let s = self.achieved.get(k).map_or_else(|| "undefined".to_string(), format_summary);
            let mark = if self.meets.get(k).copied().unwrap_or(false) { "" } else { "  (misses)" };
            println!("{:<10}  {agents:>6}  {s}{mark}", report.start_label(k));
        }
        let converged = if self.found.converged { "" } else { " (stopped after the iteration limit)" };
        println!("{:.1} agent-hours per week{converged}", self.agent_hours(setup));
        let missed: Vec<String> = self.missed().iter().map(|k| report.start_label(*k)).collect();
        if !missed.is_empty() {
            println!("  note: on fresh seeds {} misses in: {}", self.target, missed.join(", "));
        }
    }
}
