//! `convosim staff --per-interval`: the command-line side of [`crate::staff::interval`]. Every
//! vector tried is the input table with the pool's `count` and `shifts` replaced by a
//! `staffing` vector at the scenario's report interval, run on the same seeds; the vector
//! chosen then runs once more on fresh seeds and the intervals that still miss are listed.
//! With `--policies`, each policy gets its own search and the answers are compared.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};
use toml::{Table, Value};

use super::progress::Progress;
use super::{policy_list, policy_name, Format, Setup};
use crate::engine::RunOptions;
use crate::gate::Op;
use crate::metrics::catalog::{scope_metrics, Scope};
use crate::metrics::{InSystemSamples, MetricSummary};
use crate::policy::FirstContact;
use crate::runner::{stream_replications_with, RunTotals};
use crate::scenario::{scenario_from_table, LoadEstimate, Scenario};
use crate::staff::interval::{
    agent_hours_per_week, check_answer, delay_alpha, isa, limit, meets_per_interval, Evaluation, Iteration,
    Method, PerInterval, MAX_ITERATIONS, STAFFABLE_METRICS,
};
use crate::staff::observed::{counted_by, judge, Facts, Seen};
use crate::staff::restaff::search;
use crate::staff::{format_summary, fresh_seed};

/// Samples of the number in system per report interval, for the ISA's rule.
const SAMPLES_PER_INTERVAL: u32 = 12;

/// Runs the per-interval search for `setup`, per policy, and prints (and writes) the answers.
pub(super) fn staff(setup: &Setup<'_>) -> Result<i32> {
    let columns = target_columns(setup)?;
    let progress = Progress::new(policy_list(setup.args).len());
    let mut answers = Vec::new();
    for policy in policy_list(setup.args) {
        answers.push(solve(setup, policy, &columns, &progress)?);
    }
    progress.finish();
    if setup.args.format == Format::Json {
        let docs: Vec<Json> = answers.iter().map(|a| a.to_json(setup)).collect();
        let doc =
            if setup.args.policies.is_empty() { docs.into_iter().next() } else { Some(Json::Array(docs)) };
        outln!("{}", serde_json::to_string_pretty(&doc.unwrap_or_default())?);
    } else {
        for answer in &answers {
            answer.print(setup, answers.len() == 1);
        }
        if answers.len() > 1 {
            print_policies(setup, &answers);
        }
    }
    if let Some(folder) = &setup.folder {
        let staffed: Result<Vec<(String, Table)>> = answers
            .iter()
            .map(|a| Ok((a.policy.clone(), table_with(setup, a.policy_key.as_deref(), &a.found.staffing)?)))
            .collect();
        let docs = answers.iter().map(|a| a.to_json(setup)).collect();
        super::write_results(setup, folder, "per_interval", &staffed?, docs)?;
    }
    Ok(0)
}

/// Where a target's per-interval values are: a column of the interval breakdown, or of one
/// channel's rows of the breakdown by channel and interval.
#[derive(Debug, Clone)]
struct TargetColumn {
    /// The channel's index, with several channels; `None`: the whole center.
    channel: Option<usize>,
    /// The column in `scope_metrics` of the interval (or channel-interval) scope.
    column: usize,
    /// The columns of the counts of the contacts it is measured on (see
    /// [`crate::staff::observed::counted_by`]), in the same scope.
    counted: Vec<usize>,
}

/// Each target's column among the interval metrics (a channel's target: among that channel's
/// interval metrics), once every target is one that more agents improve, stated the way that
/// improves it.
fn target_columns(setup: &Setup<'_>) -> Result<Vec<TargetColumn>> {
    let channels = &setup.base.channels;
    setup
        .targets
        .iter()
        .map(|t| {
            let higher = t.metric.starts_with("sl_");
            let upward = matches!(t.op, Op::Greater | Op::GreaterEq);
            if !STAFFABLE_METRICS.contains(&t.metric) || higher != upward {
                bail!(
                    "--target '{t}': --per-interval staffs for targets more agents meet: \
                     waited_*_share, abandon_*_share, wait_*_mean_s or queue_length_mean with <= \
                     (or <), sl_*_share with >= (or >)"
                );
            }
            // With one channel, its metrics are the whole center's.
            let channel = match &t.channel {
                Some(name) if channels.len() > 1 => Some(
                    channels
                        .iter()
                        .position(|c| &c.name == name)
                        .with_context(|| format!("--target '{t}': no channel \"{name}\""))?,
                ),
                _ => None,
            };
            let scope = if channel.is_some() { Scope::ChannelInterval } else { Scope::Interval };
            let position = |name: &str| scope_metrics(scope).iter().position(|m| m.name == name);
            let column = position(t.metric).with_context(|| {
                format!(
                    "--target '{t}': not a metric reported by interval{}",
                    if channel.is_some() { " for a channel" } else { "" }
                )
            })?;
            let counted = counted_by(t.metric).iter().filter_map(|name| position(name)).collect();
            Ok(TargetColumn { channel, column, counted })
        })
        .collect()
}

/// The search for one policy (None: the scenario's), then the fresh evaluation of its answer.
fn solve(
    setup: &Setup<'_>,
    policy: Option<&str>,
    columns: &[TargetColumn],
    progress: &Progress,
) -> Result<Answer> {
    let rows = setup.base.report.rows();
    let start = start_vector(setup, policy, rows)?;
    let scenario = scenario_with(setup, policy, &start)?;
    let (name, label) = (policy_name(setup, policy), scenario.policy.label());
    let pooled = scenario.pools.len() == 1
        && scenario.policy.policy.pooled()
        && scenario.policy.options.first_contact == FirstContact::Pool;
    let alpha = delay_alpha(&setup.targets).filter(|_| pooled);
    let limit = limit(&start);
    // The first simulation (ample staff, the number in system sampled as both searches want
    // first) decides which intervals are judged; intervals without arrivals start at the
    // fewest agents. The search then starts from there, reusing this simulation when the
    // vector is unchanged.
    let facts = Facts::of(&setup.base, &setup.targets, setup.replications);
    // The first simulation, at most MAX_ITERATIONS more, and the fresh-seed check.
    progress.start_policy(&name, MAX_ITERATIONS as u32 + 2);
    progress.evaluation("");
    let sampled = RunOptions { in_system_samples: SAMPLES_PER_INTERVAL, ..RunOptions::default() };
    let Simulated { evaluation: mut first, seen, .. } =
        evaluate(setup, policy, &start, setup.seed, columns, sampled, progress)?;
    let judged = judge(&setup.targets, &seen, &facts)?;
    let start: Vec<u32> = start.iter().zip(&judged).map(|(&n, &j)| if j { n } else { 1 }).collect();
    first.judged.clone_from(&judged);
    let mut cached = Some(first).filter(|_| judged.iter().all(|j| *j));
    let mut simulate = |staffing: &[u32], sample: bool| -> Result<Evaluation> {
        if let Some(first) = cached.take() {
            return Ok(first);
        }
        progress.evaluation("");
        let samples = if sample { SAMPLES_PER_INTERVAL } else { 0 };
        let options = RunOptions { in_system_samples: samples, ..RunOptions::default() };
        let mut evaluation =
            evaluate(setup, policy, staffing, setup.seed, columns, options, progress)?.evaluation;
        evaluation.judged.clone_from(&judged);
        Ok(evaluation)
    };
    let show =
        |i: &Iteration| progress.println(format!("staff --per-interval ({name}): {}", progress_line(i)));
    let found = match alpha {
        Some(alpha) => {
            let simulate = |staffing: &[u32]| simulate(staffing, true);
            isa(&setup.targets, alpha, setup.concurrency, start, limit, simulate, show)?
        }
        None => search(&setup.targets, start, setup.concurrency, limit, simulate, show)?,
    };
    check_answer(&setup.targets, &found, limit, setup.base.report)?;
    progress.evaluation(": fresh seeds");
    let Simulated { evaluation: fresh, whole, .. } = evaluate(
        setup,
        policy,
        &found.staffing,
        fresh_seed(setup.seed),
        columns,
        RunOptions::default(),
        progress,
    )?;
    let meets = meets_per_interval(&setup.targets, &fresh.summaries, &judged, rows);
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    let retention = whole.iter().find(|(n, _)| *n == "affinity_retention_share").map_or(missing, |(_, s)| *s);
    let policy_key = policy.map(str::to_string);
    Ok(Answer { policy: name, label, policy_key, found, achieved: fresh.summaries, meets, judged, retention })
}

/// Ample staff to start from: twice the pool's share of the average offered load, in agents,
/// in every interval (busy intervals rise further until they meet).
fn start_vector(setup: &Setup<'_>, policy: Option<&str>, rows: usize) -> Result<Vec<u32>> {
    let one = LoadEstimate::of(&scenario_with(setup, policy, &vec![1; rows])?);
    let two = LoadEstimate::of(&scenario_with(setup, policy, &vec![2; rows])?);
    let (agents, _) = crate::staff::start_from(&one, &two);
    Ok(vec![agents.saturating_mul(2); rows])
}

/// The input table (with `policy`, if given) with the pool staffed by `staffing` at the
/// report interval.
fn table_with(setup: &Setup<'_>, policy: Option<&str>, staffing: &[u32]) -> Result<Table> {
    let mut table = setup.table.clone();
    if let Some(name) = policy {
        table.insert("policy".into(), Value::String(name.into()));
    }
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
fn scenario_with(setup: &Setup<'_>, policy: Option<&str>, staffing: &[u32]) -> Result<Scenario> {
    let mut table = table_with(setup, policy, staffing)?;
    table.insert("allow_overload".into(), Value::Boolean(true));
    scenario_from_table(&table, &setup.args.scenario)
        .with_context(|| format!("--pool {} with staffing {staffing:?}", setup.args.pool))
}

/// The target metrics per interval over the replications from master seed `seed` (and the
/// number in system, if `options` sample it), every whole-run metric, and what was seen of
/// each target per interval (for [`judge`]). Every interval is judged here; the search's
/// caller says which are not.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    setup: &Setup<'_>,
    policy: Option<&str>,
    staffing: &[u32],
    seed: u64,
    columns: &[TargetColumn],
    options: RunOptions,
    progress: &Progress,
) -> Result<Simulated> {
    let scenario = scenario_with(setup, policy, staffing)?;
    let mut totals = RunTotals::new(setup.replications);
    let mut in_system: Option<InSystemSamples> = None;
    stream_replications_with(&scenario, seed, 0, setup.replications, options, |r| {
        totals.add(&r.output);
        if let Some(samples) = &r.output.in_system {
            match &mut in_system {
                Some(all) => all.add(samples),
                None => in_system = Some(samples.clone()),
            }
        }
        progress.replication();
        Ok::<(), crate::runner::ReplicationError>(())
    })?;
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    let (whole, by_channel) = (totals.interval_summaries(), totals.channel_interval_summaries());
    let intervals = whole.len();
    let rows_of = |target: &TargetColumn| match target.channel {
        None => &whole[..],
        Some(c) => by_channel.get(c * intervals..(c + 1) * intervals).unwrap_or_default(),
    };
    let summaries: Vec<Vec<MetricSummary>> = columns
        .iter()
        .map(|target| {
            rows_of(target).iter().map(|row| row.get(target.column).copied().unwrap_or(missing)).collect()
        })
        .collect();
    let seen = columns
        .iter()
        .zip(&summaries)
        .map(|(target, per)| {
            rows_of(target)
                .iter()
                .zip(per)
                .map(|(row, summary)| {
                    let total = |c: &usize| row.get(*c).map_or(0.0, |s| s.mean.unwrap_or(0.0) * s.n as f64);
                    Seen { contacts: target.counted.iter().map(total).sum(), summary: *summary }
                })
                .collect()
        })
        .collect();
    let judged = vec![true; intervals];
    Ok(Simulated { evaluation: Evaluation { summaries, in_system, judged }, whole: totals.summaries(), seen })
}

/// One simulation of a vector: what the search reads, every whole-run metric, and what was
/// seen of each target per interval.
struct Simulated {
    evaluation: Evaluation,
    whole: Vec<(&'static str, MetricSummary)>,
    /// `seen[target][interval]`, for [`judge`].
    seen: Vec<Vec<Seen>>,
}

fn progress_line(i: &Iteration) -> String {
    format!("{} agent-intervals, {} interval(s) miss", i.agent_intervals(), i.misses())
}

/// One policy's search and its fresh-seed check.
struct Answer {
    /// Its name in headings, file names and JSON (see [`policy_name`]).
    policy: String,
    /// Its label, every parameter said: `hybrid(timeout=10m)`.
    label: String,
    /// The preset named in `--policies`, if any.
    policy_key: Option<String>,
    found: PerInterval,
    /// `achieved[target][interval]` on fresh seeds.
    achieved: Vec<Vec<MetricSummary>>,
    meets: Vec<bool>,
    /// Whether each interval was judged (else no arrivals are offered there: see
    /// [`crate::staff::observed`]).
    judged: Vec<bool>,
    /// Whole-run affinity retention on fresh seeds: what the policy buys.
    retention: MetricSummary,
}

impl Answer {
    fn missed(&self) -> Vec<usize> {
        self.meets.iter().enumerate().filter(|(_, m)| !**m).map(|(k, _)| k).collect()
    }

    /// Intervals left alone: no arrivals offered there (see [`crate::staff::observed`]).
    fn not_judged(&self) -> Vec<usize> {
        self.judged.iter().enumerate().filter(|(_, j)| !**j).map(|(k, _)| k).collect()
    }

    fn agent_hours(&self, setup: &Setup<'_>) -> f64 {
        agent_hours_per_week(&self.found.staffing, setup.base.report.interval_s)
    }

    fn to_json(&self, setup: &Setup<'_>) -> Json {
        let report = setup.base.report;
        let summary = |s: Option<&MetricSummary>| json!({"mean": s.and_then(|s| s.mean), "ci95": s.and_then(|s| s.ci95)});
        let rows: Vec<Json> = (0..self.found.staffing.len())
            .map(|k| {
                let achieved: serde_json::Map<String, Json> = setup
                    .targets
                    .iter()
                    .zip(&self.achieved)
                    .map(|(t, per)| (t.name(), summary(per.get(k))))
                    .collect();
                json!({
                    "index": k,
                    "start": report.start_label(k),
                    "agents": self.found.staffing[k],
                    "achieved": achieved,
                    "meets": self.meets.get(k).copied().unwrap_or(false),
                    "judged": self.judged.get(k).copied().unwrap_or(true),
                })
            })
            .collect();
        let evaluations: Vec<Json> = self
            .found
            .iterations
            .iter()
            .map(|i| json!({"staffing": i.staffing, "misses": i.misses()}))
            .collect();
        let targets: Vec<String> = setup.targets.iter().map(ToString::to_string).collect();
        json!({
            "pool": setup.args.pool,
            "policy": self.policy,
            "label": self.label,
            "mode": "per_interval",
            "method": self.found.method.name(),
            "targets": targets,
            "fold": report.fold.name(),
            "interval_s": report.interval_s,
            "staffing": self.found.staffing,
            "agent_hours_per_week": self.agent_hours(setup),
            "achieved": {"affinity_retention_share": summary(Some(&self.retention))},
            "converged": self.found.converged,
            "evaluations": evaluations,
            "intervals": rows,
            "missed": self.missed(),
            "not_judged": self.not_judged(),
        })
    }

    /// The search and, with `detail`, every iteration and the table by interval (with several
    /// policies the curves are printed side by side instead).
    fn print(&self, setup: &Setup<'_>, detail: bool) {
        let report = setup.base.report;
        let targets: Vec<String> = setup.targets.iter().map(ToString::to_string).collect();
        let how = match self.found.method {
            Method::Isa => "the ISA's rule on the number in system",
            Method::Restaff => "re-staffing the intervals that miss or have slack",
        };
        outln!(
            "pool {} ({}) per interval ({} fold), {} replication(s) per vector, seed {}: {}",
            setup.args.pool,
            self.policy,
            report.fold.name(),
            setup.replications,
            setup.seed,
            targets.join(", ")
        );
        outln!("  method: {how}; {} simulations of the {}", self.found.iterations.len(), report.fold.name());
        if detail {
            self.print_detail(setup);
        }
        let converged = if self.found.converged { "" } else { " (stopped after the iteration limit)" };
        outln!("{:.1} agent-hours per week{converged}", self.agent_hours(setup));
        let missed: Vec<String> = self.missed().iter().map(|k| report.start_label(*k)).collect();
        if !missed.is_empty() {
            outln!("  note: on fresh seeds {} interval(s) miss: {}", missed.len(), missed.join(", "));
        }
        let alone = self.not_judged();
        if !alone.is_empty() {
            outln!(
                "  note: no arrivals are offered in {} interval(s), so they are not judged against the \
                 targets: {}",
                alone.len(),
                crate::staff::observed::labels(report, &alone)
            );
        }
        outln!();
    }

    fn print_detail(&self, setup: &Setup<'_>) {
        let report = setup.base.report;
        for (n, i) in self.found.iterations.iter().enumerate() {
            outln!("  iteration {}: {}", n + 1, progress_line(i));
        }
        outln!("{:<10}  {:>6}  achieved on fresh seeds", "interval", "agents");
        for (k, agents) in self.found.staffing.iter().enumerate() {
            let achieved: Vec<String> = setup
                .targets
                .iter()
                .zip(&self.achieved)
                .map(|(t, per)| {
                    let s = per.get(k).map_or_else(|| "undefined".to_string(), format_summary);
                    if setup.targets.len() > 1 {
                        format!("{} {s}", t.name())
                    } else {
                        s
                    }
                })
                .collect();
            let mark = match (self.judged.get(k), self.meets.get(k)) {
                (Some(false), _) => "  (no arrivals: not judged)",
                (_, Some(true)) => "",
                _ => "  (misses)",
            };
            outln!("{:<10}  {agents:>6}  {}{mark}", report.start_label(k), achieved.join(", "));
        }
    }
}

/// The staffing curve side by side, then agent-hours and affinity per policy.
fn print_policies(setup: &Setup<'_>, answers: &[Answer]) {
    let report = setup.base.report;
    let width = answers.iter().map(|a| a.policy.len()).max().unwrap_or(0).max(8);
    let header: Vec<String> = answers.iter().map(|a| format!("{:>width$}", a.policy)).collect();
    outln!("agents per interval");
    outln!("{:<10}  {}", "interval", header.join("  "));
    for k in 0..report.rows() {
        let cells: Vec<String> = answers
            .iter()
            .map(|a| {
                let mark = if a.meets.get(k).copied().unwrap_or(false) { " " } else { "*" };
                format!("{:>w$}{mark}", a.found.staffing.get(k).copied().unwrap_or(0), w = width - 1)
            })
            .collect();
        outln!("{:<10}  {}", report.start_label(k), cells.join("  "));
    }
    if answers.iter().any(|a| !a.missed().is_empty()) {
        outln!("(* misses on fresh seeds)");
    }
    outln!();
    outln!(
        "{:<width$}  {:>8}  {:>16}  {:>7}  affinity_retention_share",
        "policy",
        "method",
        "agent-hours/week",
        "misses"
    );
    for a in answers {
        outln!(
            "{:<width$}  {:>8}  {:>16.1}  {:>7}  {}",
            a.policy,
            a.found.method.name(),
            a.agent_hours(setup),
            a.missed().len(),
            format_summary(&a.retention)
        );
    }
}
