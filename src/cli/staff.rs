//! `convosim staff`: the command-line side of the level search in [`crate::staff`]. Every
//! count is the input table with the pool's `count` set, validated again and run on the same
//! seeds (point 0 of the master seed); the chosen count then runs once more on fresh seeds.

mod per_interval;
mod progress;

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value as Json};
use toml::{Table, Value};

use super::gates::{check_scenario_channels, measured, parse_assertions, require_replications};
use super::{check_output_dir, interrupt, load_with_settings, thread_pool, Format, StaffArgs};
use crate::gate::{Assertion, Measured};
use crate::metrics::catalog::index_of;
use crate::metrics::MetricSummary;
use crate::runner::{stream_replications, RunTotals};
use crate::scenario::{
    compact, parse_toml, read_text, scenario_from_table, set_path, LoadEstimate, Scenario,
};
use crate::staff::{fresh_seed, search, start_from, target_metrics, Evaluation, Search};
use crate::sweep::OutputFolder;
use progress::Progress;

/// What a search needs that does not change with the count.
struct Setup<'a> {
    args: &'a StaffArgs,
    /// The input table after `--set`.
    table: Table,
    targets: Vec<Assertion>,
    replications: u32,
    seed: u64,
    /// The pool's concurrency, for agent-hours.
    concurrency: u32,
    /// The scenario as loaded (after `--set`).
    base: Scenario,
    /// With `--out`: the results folder, locked before the search (see [`lock_out`]).
    folder: Option<OutputFolder>,
}

/// One policy's answer.
struct Answer {
    /// Its name in headings, file names and JSON (see [`policy_name`]).
    policy: String,
    /// Its label, every parameter said: `hybrid(timeout=10m)`.
    label: String,
    search: Search,
    /// Slots one agent brings on average over the week (concurrency × share on shift).
    slots_per_agent: f64,
    /// Every metric at the chosen count, on fresh seeds.
    achieved: Measured,
    /// The staffed scenario table.
    staffed: Table,
}

/// Runs `convosim staff`.
pub(super) fn staff(args: &StaffArgs) -> Result<i32> {
    if let Some(dir) = &args.out {
        check_output_dir(dir)?;
    }
    interrupt::leaves_incomplete("the staffing search stopped before an answer; nothing was written".into());
    let mut setup = prepare(args)?;
    setup.folder = args.out.as_deref().map(|dir| lock_out(dir, &args.scenario)).transpose()?;
    let pool = thread_pool(args.threads)?;
    if args.per_interval {
        return pool.install(|| per_interval::staff(&setup));
    }
    let progress = Progress::new(policy_list(args).len());
    let mut answers = Vec::new();
    for policy in policy_list(args) {
        answers.push(pool.install(|| solve(&setup, policy, &progress))?);
    }
    progress.finish();
    print_answers(&setup, &answers)?;
    if let Some(folder) = &setup.folder {
        let staffed: Vec<(String, Table)> =
            answers.iter().map(|a| (a.policy.clone(), a.staffed.clone())).collect();
        let docs = answers.iter().map(|a| a.to_json(&setup)).collect();
        write_results(&setup, folder, "level", &staffed, docs)?;
    }
    Ok(0)
}

/// The one name of a policy in staff's output (headings, `staffed-<name>.toml`, JSON
/// `policy`), in both modes: the preset as given (in `--policies`, else the scenario's `policy =
/// "..."`; a preset file by its file name without `.toml`), else a slug of the `[policy]`
/// table's label (`hybrid(timeout=10m)` → `hybrid-timeout-10m`). Shell-safe: letters, digits,
/// `.`, `_` and `-` only.
fn policy_name(setup: &Setup<'_>, policy: Option<&str>) -> String {
    let given = policy.or_else(|| setup.table.get("policy").and_then(Value::as_str));
    let text = match given {
        Some(path) if path.contains(['/', '\\']) || path.ends_with(".toml") => {
            Path::new(path).file_stem().map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
        }
        Some(name) => name.to_string(),
        None => setup.base.policy.label(),
    };
    let mut slug = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' };
        if !(c == '-' && (slug.is_empty() || slug.ends_with('-'))) {
            slug.push(c);
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "policy".to_string()
    } else {
        slug.to_string()
    }
}

/// The policies to search for: each of `--policies`, or the scenario's own (None).
fn policy_list(args: &StaffArgs) -> Vec<Option<&str>> {
    if args.policies.is_empty() {
        vec![None]
    } else {
        args.policies.iter().map(|p| Some(p.trim())).collect()
    }
}

/// Checks the arguments against the scenario before anything runs.
fn prepare(args: &StaffArgs) -> Result<Setup<'_>> {
    let targets = parse_assertions(&args.targets, "--target")?;
    let base = load_with_settings(&args.scenario, &args.sets)?;
    check_scenario_channels(&targets, &base, "--target", &args.scenario)?;
    let file = args.scenario.display();
    let Some(index) = base.pools.iter().position(|p| p.name == args.pool) else {
        let names: Vec<&str> = base.pools.iter().map(|p| p.name.as_str()).collect();
        let hint = match crate::suggest::suggest(&args.pool, &names) {
            Some(name) => format!("did you mean \"{name}\"?"),
            None => format!("expected one of: {}", names.join(", ")),
        };
        bail!("--pool {}: {file} has no pool named \"{}\"; {hint}", args.pool, args.pool);
    };
    let pool = &base.pools[index];
    if let Some(why) = targets.iter().find_map(|t| crate::staff::unreachable(t, &base, index)) {
        bail!("{why}");
    }
    if pool.staffing.is_some() && !args.per_interval {
        bail!(
            "--pool {}: {file}: agents.{}.staffing is a staffing vector; level mode searches a fixed \
             count, so remove the vector (staff --per-interval will handle staffing vectors)",
            args.pool,
            args.pool
        );
    }
    for policy in &args.policies {
        crate::scenario::load_policy(policy.trim())
            .map_err(|e| anyhow::anyhow!("--policies {policy}: {e}"))?;
    }
    let replications = args.replications.unwrap_or(base.replications);
    if args.replications.is_some() {
        super::check_breakdowns_at(&base, replications, &args.scenario)?;
    }
    let source = if args.replications.is_some() { "--replications" } else { "the scenario's `replications`" };
    require_replications(&targets, replications.into(), source)
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().replace("--assert", "--target")))?;
    let mut table = parse_toml(&read_text(&args.scenario)?, &args.scenario)?;
    for setting in &args.sets {
        // Already applied once by load_with_settings, so this cannot fail.
        set_path(&mut table, &setting.path, setting.value.clone(), &args.scenario)
            .map_err(|message| anyhow::anyhow!("--set {}: {message}", setting.path))?;
    }
    let setup = Setup {
        args,
        table,
        targets,
        replications,
        seed: args.seed.unwrap_or(base.seed),
        concurrency: pool.concurrency,
        base,
        folder: None,
    };
    check_vector_length(&setup)?;
    let evaluations = max_evaluations(&setup)?;
    check_work(&setup, evaluations)?;
    Ok(setup)
}

/// Intervals a per-interval search may staff: a minute over a week. Each costs about 5 KB
/// while a vector runs (the number in system sampled twelve times, the rows of every metric,
/// the vector in the scenario's table), and a vector longer than this is not a plan anyone
/// could staff.
const MAX_STAFFED_INTERVALS: usize = 10_080;

/// Refuses `--per-interval` on a report interval so narrow that its vector passes
/// [`MAX_STAFFED_INTERVALS`].
fn check_vector_length(setup: &Setup<'_>) -> Result<()> {
    let report = setup.base.report;
    let rows = report.rows();
    if !setup.args.per_interval || rows <= MAX_STAFFED_INTERVALS {
        return Ok(());
    }
    bail!(
        "--per-interval: {}: report.interval: {rows} intervals over a {} is a staffing vector of \
         {rows} values, more than the {MAX_STAFFED_INTERVALS} (a minute over a week) a search \
         staffs; use an interval of at least {}",
        setup.args.scenario.display(),
        report.fold.name(),
        crate::scenario::narrowest_interval(report, 1, MAX_STAFFED_INTERVALS)
    )
}

/// Contacts a search may simulate (contacts per replication × replications × evaluations at
/// most, every policy) without `--force`: at the few million contacts per second a run reaches
/// on two cores, minutes; past it, a typo in a rate or a horizon is likelier than a plan.
const MAX_SEARCH_CONTACTS: f64 = 1e9;

/// Simulations a search runs at most, per policy, its fresh-seed check included: the level
/// search's doublings and bisection from its start, or the per-interval search's iterations.
fn max_evaluations(setup: &Setup<'_>) -> Result<u32> {
    if setup.args.per_interval {
        return Ok(crate::staff::interval::MAX_ITERATIONS as u32 + 1);
    }
    let (start, _) = start_from(
        &LoadEstimate::of(&scenario_at(setup, None, 1)?),
        &LoadEstimate::of(&scenario_at(setup, None, 2)?),
    );
    Ok(crate::staff::max_evaluations(start) + 1)
}

/// Refuses, before anything runs, a search whose estimated work passes
/// [`MAX_SEARCH_CONTACTS`], unless `--force`.
fn check_work(setup: &Setup<'_>, evaluations: u32) -> Result<()> {
    let per_replication = LoadEstimate::contacts_per_replication(&setup.base);
    let policies = policy_list(setup.args).len() as f64;
    let work = per_replication * f64::from(setup.replications) * f64::from(evaluations) * policies;
    if work <= MAX_SEARCH_CONTACTS || setup.args.force {
        return Ok(());
    }
    let per_policy = if policies > 1.0 { format!(" × {policies} policies") } else { String::new() };
    bail!(
        "{}: staff would simulate up to {} contacts ({} per replication × {} replication(s) × at \
         most {evaluations} evaluations{per_policy}), more than the budget of {} (about 5 minutes \
         at a few million contacts per second); reduce the rate, the horizon or --replications, or pass \
         --force to search anyway",
        setup.args.scenario.display(),
        compact(work),
        compact(per_replication),
        setup.replications,
        compact(MAX_SEARCH_CONTACTS),
    )
}

/// The table for `policy` (None: the scenario's) with the pool at `count`.
fn table_at(setup: &Setup<'_>, policy: Option<&str>, count: u32) -> Result<Table> {
    let mut table = setup.table.clone();
    if let Some(name) = policy {
        table.insert("policy".into(), Value::String(name.into()));
    }
    let path = format!("agents.{}.count", setup.args.pool);
    set_path(&mut table, &path, Value::Integer(count.into()), &setup.args.scenario)
        .map_err(|m| anyhow::anyhow!("{path}: {m}"))?;
    Ok(table)
}

/// The validated scenario at `count`. Counts below the offered load are tried too, so the
/// overload refusal (a validation rule; it changes nothing simulated) is lifted for them.
fn scenario_at(setup: &Setup<'_>, policy: Option<&str>, count: u32) -> Result<Scenario> {
    let mut table = table_at(setup, policy, count)?;
    table.insert("allow_overload".into(), Value::Boolean(true));
    let scenario = scenario_from_table(&table, &setup.args.scenario)
        .with_context(|| format!("--pool {} at count {count}", setup.args.pool))?;
    Ok(scenario)
}

/// Every metric's summary, the whole run's and each channel's, over the replications of
/// `scenario` from master seed `seed`.
fn evaluate(scenario: &Scenario, seed: u64, replications: u32, progress: &Progress) -> Result<Measured> {
    let mut totals = RunTotals::new(replications);
    stream_replications(scenario, seed, 0, replications, |r| {
        totals.add(&r.output);
        progress.replication();
        Ok::<(), crate::runner::ReplicationError>(())
    })?;
    let names: Vec<String> = scenario.channels.iter().map(|c| c.name.clone()).collect();
    Ok(measured(&totals, &names))
}

/// The search for one policy, then the fresh evaluation of its answer.
fn solve(setup: &Setup<'_>, policy: Option<&str>, progress: &Progress) -> Result<Answer> {
    // One agent's slots: the difference the pool makes between one and two agents (pools
    // without staffing vectors add slots linearly in their count).
    let one = LoadEstimate::of(&scenario_at(setup, policy, 1)?);
    let two = LoadEstimate::of(&scenario_at(setup, policy, 2)?);
    let (start, slots_per_agent) = start_from(&one, &two);
    let name = policy_name(setup, policy);
    // Its fresh-seed check included.
    progress.start_policy(&name, crate::staff::max_evaluations(start) + 1);
    let search = search(
        &setup.targets,
        start,
        |count| match scenario_at(setup, policy, count) {
            Ok(scenario) => {
                progress.evaluation("");
                evaluate(&scenario, setup.seed, setup.replications, progress).map(Ok)
            }
            // Counts 1 and 2 loaded above and nothing else changed: the count's limits refuse it.
            Err(error) => Ok(Err(format!("{error:#}"))),
        },
        |e| {
            // Progress only for a person watching: stdout lists every count anyway, and an
            // error must stay one line on stderr.
            progress.println(format!("staff ({name}): {}", progress_line(e)));
        },
    )?;
    let fresh = fresh_seed(setup.seed);
    progress.evaluation(": fresh seeds");
    let scenario = scenario_at(setup, policy, search.count)?;
    let achieved = evaluate(&scenario, fresh, setup.replications, progress)?;
    let staffed = table_at(setup, policy, search.count)?;
    let label = scenario.policy.label();
    Ok(Answer { policy: name, label, search, slots_per_agent, achieved, staffed })
}

fn progress_line(e: &Evaluation) -> String {
    let metrics: Vec<String> =
        e.metrics.iter().map(|(name, s)| format!("{name} {}", crate::staff::format_summary(s))).collect();
    format!("count {}: {} ({})", e.count, metrics.join(", "), if e.meets { "meets" } else { "misses" })
}

impl Answer {
    fn agent_hours_per_week(&self, concurrency: u32) -> f64 {
        f64::from(self.search.count) * self.slots_per_agent / f64::from(concurrency) * 168.0
    }

    fn retention(&self) -> MetricSummary {
        let missing = MetricSummary { mean: None, ci95: None, n: 0 };
        index_of("affinity_retention_share")
            .and_then(|i| self.achieved.run.get(i))
            .copied()
            .unwrap_or(missing)
    }

    fn to_json(&self, setup: &Setup<'_>) -> Json {
        let summary = |s: &MetricSummary| json!({"mean": s.mean, "ci95": s.ci95});
        let metrics = |list: &[(String, MetricSummary)]| {
            Json::Object(list.iter().map(|(n, s)| (n.clone(), summary(s))).collect::<Map<_, _>>())
        };
        let mut achieved = target_metrics(&setup.targets, &self.achieved);
        if !achieved.iter().any(|(n, _)| n == "affinity_retention_share") {
            achieved.push(("affinity_retention_share".to_string(), self.retention()));
        }
        let evaluations: Vec<Json> = self
            .search
            .evaluations
            .iter()
            .map(|e| json!({"count": e.count, "metrics": metrics(&e.metrics), "meets": e.meets}))
            .collect();
        json!({
            "pool": setup.args.pool,
            "policy": self.policy,
            "label": self.label,
            "mode": "level",
            "count": self.search.count,
            "agent_hours_per_week": self.agent_hours_per_week(setup.concurrency),
            "achieved": metrics(&achieved),
            "evaluations": evaluations,
        })
    }
}

fn print_answers(setup: &Setup<'_>, answers: &[Answer]) -> Result<()> {
    if setup.args.format == Format::Json {
        let docs: Vec<Json> = answers.iter().map(|a| a.to_json(setup)).collect();
        let doc = if setup.args.policies.is_empty() {
            docs.into_iter().next().unwrap_or_default()
        } else {
            Json::Array(docs)
        };
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    for answer in answers {
        print_one(setup, answer);
    }
    if !setup.args.policies.is_empty() {
        print_policies(setup, answers);
    }
    Ok(())
}

fn print_one(setup: &Setup<'_>, answer: &Answer) {
    let targets: Vec<String> = setup.targets.iter().map(ToString::to_string).collect();
    outln!(
        "pool {} ({}), {} replication(s) per count, seed {}: {}",
        setup.args.pool,
        answer.policy,
        setup.replications,
        setup.seed,
        targets.join(", ")
    );
    for e in &answer.search.evaluations {
        outln!("  {}", progress_line(e));
    }
    let achieved: Vec<String> = target_metrics(&setup.targets, &answer.achieved)
        .iter()
        .map(|(n, s)| format!("{n} {}", crate::staff::format_summary(s)))
        .collect();
    outln!(
        "count {} ({:.1} agent-hours per week); achieved on fresh seeds: {}",
        answer.search.count,
        answer.agent_hours_per_week(setup.concurrency),
        achieved.join(", ")
    );
    // The fresh seeds are an honest check, not part of the search: a miss is said, not fixed.
    let fresh = target_metrics(&setup.targets, &answer.achieved);
    for (target, (_, summary)) in setup.targets.iter().zip(&fresh) {
        if !target.check(summary).holds() {
            outln!("  note: on fresh seeds {target} misses at count {}", answer.search.count);
        }
    }
}

fn print_policies(setup: &Setup<'_>, answers: &[Answer]) {
    let width = answers.iter().map(|a| a.policy.len()).max().unwrap_or(0).max(6);
    outln!();
    outln!("{:<width$}  {:>6}  {:>16}  affinity_retention_share", "policy", "count", "agent-hours/week");
    for a in answers {
        outln!(
            "{:<width$}  {:>6}  {:>16.1}  {}",
            a.policy,
            a.search.count,
            a.agent_hours_per_week(setup.concurrency),
            crate::staff::format_summary(&a.retention())
        );
    }
}

/// The `--out` folder, refused if it holds the scenario (its staffed scenario would replace
/// it), then locked: checked before the search, so a refusal costs no simulation.
fn lock_out(dir: &Path, scenario: &Path) -> Result<OutputFolder> {
    crate::sweep::check_input_outside(dir, scenario)?;
    Ok(OutputFolder::lock(dir)?)
}

/// The results folder of `staff --out`: `staff.json` and the staffed scenarios
/// (`staffed.toml`, or one `staffed-<policy>.toml` per policy, from (policy, table) pairs),
/// written beside it, then moved into place with its manifest like a run's, so `convosim
/// report` can read it and no file of a previous result survives; the report too with
/// `--report`. `docs` are the answers as `--format json` prints them.
fn write_results(
    setup: &Setup<'_>,
    folder: &OutputFolder,
    mode: &str,
    staffed: &[(String, Table)],
    docs: Vec<Json>,
) -> Result<()> {
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let targets: Vec<Json> = setup
        .targets
        .iter()
        .map(|t| {
            let metric = match &t.channel {
                Some(channel) => format!("{channel}.{}", t.metric),
                None => t.metric.to_string(),
            };
            json!({"text": t.to_string(), "metric": metric, "bound": t.bound})
        })
        .collect();
    let doc = json!({
        "scenario": setup.base.name,
        "pool": setup.args.pool,
        "mode": mode,
        "replications": setup.replications,
        "seed": setup.seed,
        "targets": targets,
        "answers": docs,
    });
    folder.start_fresh()?;
    let names = write_staffed(folder.partial(), staffed, !setup.args.policies.is_empty())?;
    let path = folder.partial().join(crate::sweep::STAFF_JSON);
    std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("--out: cannot write {}", path.display()))?;
    let text = read_text(&setup.args.scenario)?;
    let mut info = crate::sweep::RunInfo {
        convosim_version: env!("CARGO_PKG_VERSION").to_string(),
        sweep: setup.base.name.clone(),
        sweep_file: setup.args.scenario.display().to_string(),
        content_hash: crate::sweep::content_hash(&[text.as_bytes(), doc["targets"].to_string().as_bytes()]),
        seed: setup.seed,
        replications: setup.replications,
        points: doc["answers"].as_array().map_or(0, |a| a.len() as u64),
        shard: [1, 1],
        started,
        ended: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ..Default::default()
    };
    folder.commit(&mut info)?;
    let dir = folder.dir();
    for name in names.iter().map(String::as_str).chain([crate::sweep::STAFF_JSON]) {
        errln!("wrote {}", dir.join(name).display());
    }
    if setup.args.report {
        super::report::beside(dir)?;
    }
    Ok(())
}

/// Writes the staffed scenarios into `dir`; their file names.
fn write_staffed(dir: &Path, staffed: &[(String, Table)], per_policy: bool) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (policy, table) in staffed {
        let name = crate::sweep::staffed_file_name(per_policy.then_some(policy.as_str()));
        let path = dir.join(&name);
        let text = toml::to_string(table).context("cannot write the staffed scenario as TOML")?;
        std::fs::write(&path, text).with_context(|| format!("--out: cannot write {}", path.display()))?;
        names.push(name);
    }
    Ok(names)
}
