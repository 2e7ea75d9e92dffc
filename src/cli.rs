//! The command line: its definition (reused by tests) and the commands' pipelines.
//!
//! This is the edge where errors get their context and become one line on stderr.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::report::RunReport;
use crate::runner::run_replications;
use crate::scenario::{load_policy, load_scenario, preset_summaries, Scenario};

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
    /// Also write summary.json, summary.csv and replications.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads for replications (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Runs the parsed command line; the `Ok` value is the process exit code.
pub fn execute(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Policies => policies(),
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
    let scenario = load_for_run(args)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let started = Instant::now();
    let replications = pool.install(|| run_replications(&scenario, scenario.seed, 0, scenario.replications));
    let wall_s = started.elapsed().as_secs_f64();
    let report = RunReport::new(&scenario, scenario.seed, replications, wall_s);

    match args.format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
        Format::Csv => print!("{}", report.to_summary_csv()),
    }
    if let Some(dir) = &args.out {
        write_results(dir, &report)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(0)
}

fn write_results(dir: &Path, report: &RunReport) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the directory", dir.display()))?;
    let files = [
        ("summary.json", serde_json::to_string_pretty(&report.to_json())? + "\n"),
        ("summary.csv", report.to_summary_csv()),
        ("replications.csv", report.to_replications_csv()),
    ];
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
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
