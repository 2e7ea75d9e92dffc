//! The command line: its definition (reused by tests) and the commands' pipelines.
//!
//! This is the edge where errors get their context and become one line on stderr: usage
//! errors in [`usage`], Ctrl-C in [`interrupt`], everything else in `main`. Every print goes
//! through [`output`], so a closed pipe or a full disk never panics.

// First, so that its macros are in scope in every module below.
#[macro_use]
pub mod output;
mod check;
mod gates;
pub mod interrupt;
mod report;
mod staff;
mod sweep;
pub mod usage;

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::report::RunReport;
use crate::runner::{stream_replications, RunTotals};
use crate::scenario::{load_policy, load_scenario, load_scenario_with, preset_summaries, Scenario, Setting};
use crate::sweep::{
    content_hash, summarize_in_place, OutputFolder, Point, ResultsWriter, RunInfo, SweepError, TaskResult,
};
use gates::{check_assertions, check_scenario_channels, measured, parse_assertions, require_replications};
use usage::{parse_replications, parse_seed, parse_threads};

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
        /// Change one key of the scenario first, as in `run --set`. Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_setting)]
        sets: Vec<Setting>,
    },
    /// List the bundled policy presets (and those in ./policies).
    Policies,
    /// List the bundled capacity presets (`capacity = "zendesk"`: vendors' messaging semantics).
    Capacities,
    /// Run a parameter sweep (all points × replications, in parallel).
    Sweep(SweepArgs),
    /// Merge shard directories of one sweep into one result.
    Merge(MergeArgs),
    /// Flag metrics that got significantly worse between two results directories.
    Compare(CompareArgs),
    /// Find the fewest agents of one pool that meet every target.
    Staff(StaffArgs),
    /// Write one self-contained HTML page of plots from a results folder.
    Report(report::ReportArgs),
}

/// Arguments of `convosim staff`.
#[derive(Debug, clap::Args)]
pub struct StaffArgs {
    /// The scenario TOML file.
    pub scenario: PathBuf,
    /// The pool whose `count` is searched.
    #[arg(long, value_name = "NAME")]
    pub pool: String,
    /// A condition to meet, as in `run --assert`, e.g. 'sl_first_share>=0.8' (checked on the
    /// conservative end of the 95% CI). Repeatable; every one must hold.
    #[arg(long = "target", value_name = "COND", required = true)]
    pub targets: Vec<String>,
    /// Run the search for each of these policy presets and compare them (comma-separated).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Replications per count tried (at least 2), instead of the scenario's.
    #[arg(long, value_name = "R", allow_negative_numbers = true, value_parser = parse_replications)]
    pub replications: Option<u32>,
    /// Master seed, instead of the scenario's: every count runs on the same seeds.
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Change one key of the scenario first, as in `run --set`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub sets: Vec<Setting>,
    /// Output format on stdout.
    #[arg(long, value_name = "FORMAT", default_value = "table", value_parser = table_or_json())]
    pub format: Format,
    /// Write the staffed scenario (staffed.toml, or staffed-<policy>.toml per policy) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Find the pool's staffing vector, one count per interval of the scenario's [report]
    /// fold, so that every interval meets every target: waited share, service level,
    /// abandonment, mean wait or queue length (the ISA's rule for delay targets on a pooled
    /// center, else re-staffing the intervals that miss or have slack).
    #[arg(long)]
    pub per_interval: bool,
    /// Also write the HTML report (plots) as report.html in the --out folder.
    #[arg(long, requires = "out")]
    pub report: bool,
    /// Search even when the estimated work passes the budget (a billion contacts simulated).
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `convosim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep TOML file.
    pub sweep: PathBuf,
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_threads)]
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
    /// Continue an interrupted sweep from its partial folder (DIR.partial), reusing every task
    /// it finished; the result is byte-identical to an uninterrupted run. Starts from the
    /// first task if there is nothing to resume.
    #[arg(long)]
    pub resume: bool,
    /// Also write the HTML report (plots) as report.html in the results folder.
    #[arg(long)]
    pub report: bool,
    /// A condition every point must meet, e.g. 'wait_first_p90_s<=60' (checked on the
    /// conservative end of the 95% CI); exit status 1 if any fails. Repeatable.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
    /// Also show each channel's own table after the blended one (the default when a point has
    /// several channels).
    #[arg(long, value_enum, value_name = "channel")]
    pub by: Option<SweepBy>,
}

/// Breakdown tables of `sweep --by` and `merge --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepBy {
    /// One table per channel, a row per point (from channels.csv).
    Channel,
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
    /// Also write the HTML report (plots) as report.html in the merged folder.
    #[arg(long)]
    pub report: bool,
    /// Conditions to check on the merged result, as in `sweep --assert`.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
    /// Also show each channel's own table, as in `sweep --by` (the default when a point has
    /// several channels).
    #[arg(long, value_enum, value_name = "channel")]
    pub by: Option<SweepBy>,
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

/// `staff --format`: a table or json (a search has no metric rows for csv), listed as such
/// in `--help` and refused otherwise by clap like any bad value.
fn table_or_json() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["table", "json"]).map(|name| {
        if name == "json" {
            Format::Json
        } else {
            Format::Table
        }
    })
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

/// Breakdown tables of `run --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// One row per interval of the day or week (`[report]` interval and fold).
    Interval,
    /// One row per agent pool.
    Pool,
    /// One row per channel (with several `[[channels]]`).
    Channel,
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
    #[arg(long, value_name = "R", allow_negative_numbers = true, value_parser = parse_replications)]
    pub replications: Option<u32>,
    /// Master seed, instead of the scenario's.
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Change one key of the scenario before it is validated, by the dotted path a sweep axis
    /// uses, e.g. `policy.timeout=7m` or `agents.team.count=14`. Repeatable; applied in order,
    /// before --policy, --replications and --seed.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub sets: Vec<Setting>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// With the table format, also show a breakdown table (JSON always has both).
    #[arg(long, value_enum, value_name = "interval|pool|channel")]
    pub by: Option<By>,
    /// Also write results files (summary.csv, summary.json, replications.csv, histograms,
    /// manifest) into this directory, in the same form as a sweep's.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads for replications, 1 to 256 (default: all cores).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Also write the HTML report (plots) as report.html in the --out folder.
    #[arg(long, requires = "out")]
    pub report: bool,
    /// A condition the run must meet, e.g. 'abandon_first_share<0.05' (checked on the
    /// conservative end of the 95% CI); exit status 1 if any fails. Repeatable.
    #[arg(long = "assert", value_name = "COND")]
    pub asserts: Vec<String>,
}

/// Runs the parsed command line; the `Ok` value is the process exit code.
pub fn execute(cli: Cli) -> Result<i32> {
    // Output locations are checked before anything is loaded or simulated.
    if let Command::Sweep(SweepArgs { report: true, shard: Some(_), .. }) = &cli.command {
        bail!("--report: a shard has no summary to plot; merge the shards, then run `convosim report` on the merged folder");
    }
    match &cli.command {
        Command::Run(RunArgs { out: Some(dir), .. })
        | Command::Sweep(SweepArgs { out: Some(dir), .. })
        | Command::Merge(MergeArgs { out: dir, .. }) => {
            check_output_dir(dir)?;
            interrupt::writing_to(dir);
        }
        Command::Sweep(_) => interrupt::leaves_incomplete(
            "the sweep's results directory (results/<name>) is incomplete".into(),
        ),
        _ => {}
    }
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario, sets } => check::check(&scenario, &sets),
        Command::Policies => policies(),
        Command::Capacities => capacities(),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Compare(args) => sweep::compare(&args),
        Command::Staff(args) => staff::staff(&args),
        Command::Report(args) => report::report(&args),
    }
}

/// `--out DIR`: a directory that exists or can be made, checked before any work. Nothing is
/// created here, so a run refused later for bad input leaves no empty directory behind.
fn check_output_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--out {}: expected a directory, but it is a file", dir.display());
    }
    // The nearest part of the path that exists must be a directory for the rest to be made.
    let existing = dir.ancestors().skip(1).find(|a| a.as_os_str().is_empty() || a.exists());
    if let Some(parent) = existing.filter(|a| !a.as_os_str().is_empty() && !a.is_dir()) {
        bail!("--out {}: cannot create the directory: {} is a file", dir.display(), parent.display());
    }
    Ok(())
}

fn parse_setting(text: &str) -> Result<Setting, String> {
    text.parse()
}

/// The scenario file with its `--set` changes, validated.
fn load_with_settings(path: &Path, sets: &[Setting]) -> Result<Scenario> {
    if sets.is_empty() {
        Ok(load_scenario(path)?)
    } else {
        Ok(load_scenario_with(path, sets)?)
    }
}

/// Refuses `--replications` that would keep more breakdown rows than the budget
/// (`scenario::check_breakdowns`; the file's own count was checked when it loaded).
fn check_breakdowns_at(scenario: &Scenario, replications: u32, file: &Path) -> Result<()> {
    crate::scenario::check_breakdowns(scenario, replications)
        .map_err(|e| anyhow::anyhow!("--replications {replications}: {}: {e}", file.display()))
}

fn load_for_run(args: &RunArgs) -> Result<Scenario> {
    let mut scenario = load_with_settings(&args.scenario, &args.sets)?;
    if let Some(policy) = &args.policy {
        scenario.policy = load_policy(policy).with_context(|| format!("--policy {policy}"))?;
    }
    if let Some(replications) = args.replications {
        scenario.replications = replications;
        check_breakdowns_at(&scenario, replications, &args.scenario)?;
    }
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    Ok(scenario)
}

fn run(args: &RunArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts, "--assert")?;
    let scenario = load_for_run(args)?;
    check_scenario_channels(&assertions, &scenario, "--assert", &args.scenario)?;
    let source = "the scenario's `replications` (or --replications)";
    require_replications(&assertions, scenario.replications.into(), source)?;
    let pool = thread_pool(args.threads)?;
    let started = SystemTime::now();
    let clock = Instant::now();
    if let Some(dir) = &args.out {
        crate::sweep::check_inputs_kept(dir, &[&args.scenario])?;
    }
    let folder = args.out.as_deref().map(OutputFolder::lock).transpose()?;
    let mut writer = match &folder {
        Some(folder) => {
            folder.start_fresh()?;
            Some(ResultsWriter::create(folder.partial(), &[], &[one_point(&scenario)])?)
        }
        None => None,
    };
    let totals = pool.install(|| simulate(&scenario, writer.as_mut()))?;
    let report = RunReport::from_totals(&scenario, scenario.seed, totals, clock.elapsed().as_secs_f64());

    match args.format {
        Format::Table => {
            out!("{}", crate::table::render(&report));
            match args.by {
                Some(By::Interval) => out!("{}", crate::table::render_intervals(&report)),
                Some(By::Pool) => out!("{}", crate::table::render_pools(&report)),
                Some(By::Channel) => out!("{}", crate::table::render_channels(&report)),
                None => {}
            }
        }
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report.to_json())?),
        Format::Csv => out!("{}", report.to_summary_csv()),
    }
    if let (Some(folder), Some(writer)) = (&folder, writer) {
        let run = RunMeta { args, started, threads: pool.current_num_threads() };
        finish_results(folder, writer, &scenario, &report, &run)?;
        errln!("wrote {}", folder.dir().display());
        if args.report {
            report::beside(folder.dir())?;
        }
    }
    let measured = measured(&report.totals, &report.channel_names);
    let failures = check_assertions(&assertions, &[(report.policy.clone(), measured)]);
    Ok(i32::from(failures > 0))
}

/// Runs the scenario's replications on the current pool, streaming each into the totals and,
/// with `--out`, into the results files, so memory does not grow with replications.
fn simulate(scenario: &Scenario, mut writer: Option<&mut ResultsWriter>) -> Result<RunTotals, SweepError> {
    let mut totals = RunTotals::new(scenario.replications);
    stream_replications(scenario, scenario.seed, 0, scenario.replications, |r| {
        totals.add(&r.output);
        match writer.as_deref_mut() {
            Some(writer) => {
                writer.push(&TaskResult { point: 0, replication: r.index, seed: r.seed, output: r.output })
            }
            None => Ok(()),
        }
    })?;
    Ok(totals)
}

/// A run, written as a sweep of one point with no axes.
fn one_point(scenario: &Scenario) -> Point {
    Point { index: 0, values: Vec::new(), scenario: scenario.clone() }
}

/// What `run --out` records about the run in its manifest.
struct RunMeta<'a> {
    args: &'a RunArgs,
    started: SystemTime,
    threads: usize,
}

/// Writes the summary and then the manifest of a run whose replications `writer` has
/// streamed, in the same form as a one-point sweep's, and moves them into place.
fn finish_results(
    folder: &OutputFolder,
    writer: ResultsWriter,
    scenario: &Scenario,
    report: &RunReport,
    run: &RunMeta<'_>,
) -> Result<()> {
    // The file as written (read through the loader's bounded reader; a failure is an error,
    // never an empty input hashed in silence).
    let text = crate::scenario::read_text(&run.args.scenario)?;
    // The resolved scenario (after --set, --policy, --seed and --replications, with its
    // policy read from a preset file or ./policies) is what shaped the numbers.
    let resolved = format!("{scenario:?}");
    let info = RunInfo {
        convosim_version: env!("CARGO_PKG_VERSION").to_string(),
        sweep: scenario.name.clone(),
        sweep_file: run.args.scenario.display().to_string(),
        content_hash: content_hash(&[text.as_bytes(), resolved.as_bytes()]),
        seed: scenario.seed,
        replications: scenario.replications,
        points: 1,
        axes: Vec::new(),
        shard: [1, 1],
        threads: run.threads,
        started: humantime::format_rfc3339_seconds(run.started).to_string(),
        ended: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        wall_s: report.wall_s,
        ..Default::default()
    };
    let mut info = writer.finish(info)?;
    summarize_in_place(folder.partial(), &info)?;
    folder.commit(&mut info)?;
    Ok(())
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")
}

fn capacities() -> Result<i32> {
    let presets = crate::scenario::capacity_summaries();
    let width = presets.iter().map(|(name, _, _)| name.len()).max().unwrap_or(0);
    for (name, label, description) in presets {
        outln!("{name:<width$}  {label}\n{:width$}  {description}", "");
    }
    Ok(0)
}

fn policies() -> Result<i32> {
    let presets = preset_summaries();
    let width = presets.iter().map(|(name, _, _)| name.len()).max().unwrap_or(0);
    for (name, label, description) in presets {
        outln!("{name:<width$}  {label:<34} {description}");
    }
    // Presets named for a duration take any duration.
    outln!();
    for f in crate::scenario::preset_families() {
        let (family, preset, key) = (f.family, f.preset, &f.key);
        outln!("{family}-<duration>: {preset} with its {key} set to any duration with its unit, e.g. {family}-7m");
    }
    // The kinds a `[policy]` table may name, with their own keys.
    outln!();
    for entry in crate::policy::REGISTRY {
        outln!("kind {:<15} {}", entry.kind, entry.summary);
    }
    Ok(0)
}
