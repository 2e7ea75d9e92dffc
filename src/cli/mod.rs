//! The command line: its definition (reused by tests) and the commands' pipelines.
//!
//! This is the edge where errors get their context and become one line on stderr.

mod gates;
mod sweep;

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::metrics::MetricSummary;
use crate::report::RunReport;
use crate::runner::run_replications;
use crate::scenario::{load_policy, load_scenario, preset_summaries, Scenario};
use crate::sweep::{content_hash, finalize, Point, ResultsWriter, RunInfo, TaskResult};
use gates::{check_assertions, parse_assertions, require_replications};

/// Simulate routing policies for resumed customer-service conversations.
#[derive(Debug, Parser)]
#[command(name = "convosim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario's replications and report the metrics.
    Run(RunArgs),
    /// Validate a scenario file without running it.
    Check {
        /// The scenario TOML file.
        scenario: PathBuf,
    },
    /// List the bundled policy presets (and those in ./policies).
    Policies,
    /// Run a parameter sweep (all points × replications, in parallel).
    Sweep(SweepArgs),
    /// Merge shard directories of one sweep into one result.
    Merge(MergeArgs),
    /// Flag metrics that got significantly worse between two results directories.
    Compare(CompareArgs),
}

/// Arguments of `convosim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep TOML file.
    pub sweep: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Results directory (default: results/<name>, or results/<name>/shard-K-of-N).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (1-based), for a job array; merge the shards afterwards.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// A condition every point must meet, e.g. 'wait_first_p90_s<=60' (checked on the
    /// conservative end of the 95% CI); exit status 1 if any fails. Repeatable.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
}

/// Arguments of `convosim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard directories written by `convosim sweep --shard K/N`.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Where to write the merged result.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Conditions to check on the merged result, as in `sweep --assert`.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
}

/// Arguments of `convosim compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline results directory (holds summary.csv).
    pub baseline: PathBuf,
    /// The candidate results directory (the same sweep: same axes, same points).
    pub candidate: PathBuf,
    /// Smallest relative change that counts, with its unit: 5% (absolute thresholds are
    /// per metric, with --floor).
    #[arg(long, default_value = "5%", value_parser = parse_tolerance)]
    pub tolerance: f64,
    /// Smallest absolute change of METRIC that counts, instead of the catalog's (1 s for
    /// waits, 0.005 for shares, 1 for counts, 0.01 otherwise). Repeatable.
    #[arg(long = "floor", value_name = "METRIC=VALUE")]
    pub floors: Vec<String>,
    /// Compare only these metrics (comma-separated names as in summary.csv).
    #[arg(long, value_name = "A,B,...")]
    pub metrics: Option<String>,
}

/// `5%` → 0.05. A bare number is refused: `5` would silently mean 500%.
fn parse_tolerance(text: &str) -> Result<f64, String> {
    let Some(number) = text.trim().strip_suffix('%') else {
        return Err(format!(
            "expected a relative tolerance with its unit, like 5%, got \"{text}\" \
             (for an absolute threshold on a metric use --floor METRIC=VALUE)"
        ));
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v / 100.0)
        .ok_or_else(|| format!("expected a non-negative percentage like 5%, got \"{text}\""))
}

/// Output formats of `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// One JSON document.
    Json,
    /// `metric,mean,ci95,meaning` rows.
    Csv,
}

/// Arguments of `convosim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario TOML file.
    pub scenario: PathBuf,
    /// A policy preset name (see `convosim policies`) or a preset file, instead of the
    /// scenario's.
    #[arg(long, value_name = "NAME|PATH")]
    pub policy: Option<String>,
    /// Number of replications, instead of the scenario's.
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..))]
    pub replications: Option<u32>,
    /// Master seed, instead of the scenario's.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write results files (summary.csv, summary.json, replications.csv, histograms,
    /// manifest) into this directory, in the same form as a sweep's.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads for replications (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// A condition the run must meet, e.g. 'abandon_first_share<0.05' (checked on the
    /// conservative end of the 95% CI); exit status 1 if any fails. Repeatable.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
}

/// Runs the parsed command line; the `Ok` value is the process exit code.
pub fn execute(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Policies => policies(),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Compare(args) => sweep::compare(&args),
    }
}

fn load_for_run(args: &RunArgs) -> Result<Scenario> {
    let mut scenario = load_scenario(&args.scenario)?;
    if let Some(policy) = &args.policy {
        scenario.policy = load_policy(policy)?;
    }
    if let Some(replications) = args.replications {
        scenario.replications = replications;
    }
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    Ok(scenario)
}

fn run(args: &RunArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts)?;
    let scenario = load_for_run(args)?;
    let source = "the scenario's `replications` (or --replications)";
    require_replications(&assertions, scenario.replications.into(), source)?;
    let pool = thread_pool(args.threads)?;
    let started = SystemTime::now();
    let clock = Instant::now();
    let replications =
        pool.install(|| run_replications(&scenario, scenario.seed, 0, scenario.replications))?;
    let wall_s = clock.elapsed().as_secs_f64();
    let report = RunReport::new(&scenario, scenario.seed, replications, wall_s);

    match args.format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
        Format::Csv => print!("{}", report.to_summary_csv()),
    }
    if let Some(dir) = &args.out {
        let run = RunMeta { args, started, threads: pool.current_num_threads() };
        write_results(dir, &scenario, &report, &run)?;
        eprintln!("wrote {}", dir.display());
    }
    let metrics: Vec<MetricSummary> = report.metrics.iter().map(|(_, s)| *s).collect();
    let failures = check_assertions(&assertions, &[(report.policy.clone(), metrics)]);
    Ok(i32::from(failures > 0))
}

/// What `run --out` records about the run in its manifest.
struct RunMeta<'a> {
    args: &'a RunArgs,
    started: SystemTime,
    threads: usize,
}

/// Writes a run's results in the same form as a one-point sweep's.
fn write_results(dir: &Path, scenario: &Scenario, report: &RunReport, run: &RunMeta<'_>) -> Result<()> {
    let point = Point { index: 0, values: Vec::new(), scenario: scenario.clone() };
    let mut writer = ResultsWriter::create(dir, &[], std::slice::from_ref(&point))?;
    for r in &report.replications {
        let task = TaskResult { point: 0, replication: r.index, seed: r.seed, output: r.output.clone() };
        writer.push(&task)?;
    }
    let text = std::fs::read(&run.args.scenario).unwrap_or_default();
    let identity = format!(
        "{:?}|{}|{}|{}",
        run.args.policy,
        scenario.seed,
        scenario.replications,
        scenario.policy.label()
    );
    let info = RunInfo {
        convosim_version: env!("CARGO_PKG_VERSION").to_string(),
        sweep: scenario.name.clone(),
        sweep_file: run.args.scenario.display().to_string(),
        content_hash: content_hash(&[text.as_slice(), identity.as_bytes()]),
        seed: scenario.seed,
        replications: scenario.replications,
        points: 1,
        axes: Vec::new(),
        shard: [1, 1],
        tasks: 0,
        threads: run.threads,
        started: humantime::format_rfc3339_seconds(run.started).to_string(),
        ended: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        wall_s: report.wall_s,
        events: 0,
        events_per_s: 0.0,
        contacts: 0,
        contacts_per_s: 0.0,
        merged_from: Vec::new(),
    };
    writer.finish(info)?;
    finalize(&[dir.to_path_buf()], dir)?;
    Ok(())
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")
}

fn check(path: &Path) -> Result<i32> {
    let scenario = load_scenario(path)?;
    println!(
        "{}: ok: scenario \"{}\", {} pool(s), {} agents, policy {}, horizon {}, warm-up {}, {} replication(s)",
        path.display(),
        scenario.name,
        scenario.pools.len(),
        scenario.agent_count(),
        scenario.policy.label(),
        crate::duration::format_duration(scenario.horizon),
        crate::duration::format_duration(scenario.warmup),
        scenario.replications
    );
    Ok(0)
}

fn policies() -> Result<i32> {
    let presets = preset_summaries();
    let width = presets.iter().map(|(name, _, _)| name.len()).max().unwrap_or(0);
    for (name, label, description) in presets {
        println!("{name:<width$}  {label:<34} {description}");
    }
    Ok(0)
}
