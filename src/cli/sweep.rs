//! The pipelines of `sweep`, `merge` and `compare`.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::gates::{check_assertions, parse_assertions, require_replications};
use super::{thread_pool, CompareArgs, MergeArgs, SweepArgs};
use crate::compare::{compare as compare_tables, render, CompareOptions};
use crate::sweep::{
    execute, finalize, load_sweep, read_summary, shard_tasks, ResultsWriter, RunInfo, Shard, SummaryTable,
    SweepSpec,
};

pub(super) fn sweep(args: &SweepArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts)?;
    let shard: Shard = match &args.shard {
        Some(text) => text.parse()?,
        None => Shard::WHOLE,
    };
    let spec = load_sweep(&args.sweep)?;
    let source = "the sweep's `replications` (or its base scenario's)";
    require_replications(&assertions, spec.replications.into(), source)?;
    // Every point is built and validated before anything runs.
    let points = spec.points()?;
    let tasks = shard_tasks(spec.point_count(), spec.replications, shard);
    let out = args.out.clone().unwrap_or_else(|| default_out(&spec, shard));
    super::interrupt::writing_to(&out);
    let pool = thread_pool(args.threads)?;

    let progress = progress_bar(tasks.len() as u64, args.quiet);
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut writer = ResultsWriter::create(&out, &spec.axes, &points)?;
    pool.install(|| {
        execute(&points, spec.seed, spec.replications, &tasks, |result| {
            writer.push(&result)?;
            // Tasks arrive in point-major order: the current point tells how far the sweep is.
            progress.set_message(format!("point {}/{}", result.point + 1, points.len()));
            progress.inc(1);
            Ok(())
        })
    })?;
    progress.finish_and_clear();
    let info = RunInfo {
        convosim_version: env!("CARGO_PKG_VERSION").to_string(),
        sweep: spec.name.clone(),
        sweep_file: spec.file.display().to_string(),
        content_hash: spec.content_hash.clone(),
        seed: spec.seed,
        replications: spec.replications,
        points: spec.point_count(),
        axes: RunInfo::axes_of(&spec.axes),
        shard: [shard.index, shard.count],
        tasks: 0,
        threads: pool.current_num_threads(),
        started: humantime::format_rfc3339_seconds(started).to_string(),
        ended: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        wall_s: clock.elapsed().as_secs_f64(),
        events: 0,
        events_per_s: 0.0,
        contacts: 0,
        contacts_per_s: 0.0,
        merged_from: Vec::new(),
    };
    let info = writer.finish(info)?;
    eprintln!(
        "{} task(s) in {:.2} s on {} thread(s): {:.2} M events/s, {:.0} contacts/s",
        info.tasks,
        info.wall_s,
        info.threads,
        info.events_per_s / 1e6,
        info.contacts_per_s
    );
    if shard != Shard::WHOLE {
        eprintln!(
            "wrote shard {}/{} to {}; when all shards are done: convosim merge <shard dirs> --out DIR",
            shard.index,
            shard.count,
            out.display()
        );
        return Ok(0);
    }
    let table = finalize(std::slice::from_ref(&out), &out)?;
    print!("{}", crate::table::render_sweep(&table));
    eprintln!("wrote {}", out.display());
    gates(&assertions, &table)
}

fn default_out(spec: &SweepSpec, shard: Shard) -> PathBuf {
    let base = Path::new("results").join(&spec.name);
    if shard == Shard::WHOLE {
        base
    } else {
        base.join(format!("shard-{}-of-{}", shard.index, shard.count))
    }
}

fn progress_bar(tasks: u64, quiet: bool) -> ProgressBar {
    // indicatif draws nothing when stderr is not a terminal.
    let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let bar = ProgressBar::with_draw_target(Some(tasks), target);
    let style =
        ProgressStyle::with_template("{bar:40} {msg} · {pos}/{len} replications · {per_sec} · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn fewest_replications(table: &SummaryTable) -> u64 {
    table.rows.iter().map(|r| r.replications as u64).min().unwrap_or(0)
}

/// Exit status 1 if an assertion fails at a point; an error if the table cannot be gated.
fn gates(assertions: &[crate::gate::Assertion], table: &SummaryTable) -> Result<i32> {
    require_replications(assertions, fewest_replications(table), "the results' replications per point")?;
    let points: Vec<_> = table.rows.iter().map(|r| (r.describe(), r.metrics.clone())).collect();
    Ok(i32::from(check_assertions(assertions, &points) > 0))
}

pub(super) fn merge(args: &MergeArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts)?;
    let table = finalize(&args.shards, &args.out)?;
    // Known only once merged: refuse before printing, so the refusal is the one line.
    require_replications(
        &assertions,
        fewest_replications(&table),
        "the merged result's replications per point",
    )?;
    print!("{}", crate::table::render_sweep(&table));
    eprintln!("merged {} shard(s) into {}", args.shards.len(), args.out.display());
    gates(&assertions, &table)
}

/// Exit status 1 on a regression; an error (status 2) when the folders cannot be compared
/// point for point.
pub(super) fn compare(args: &CompareArgs) -> Result<i32> {
    let mut options = CompareOptions::new(args.tolerance).with_floors(&args.floors)?;
    if let Some(list) = &args.metrics {
        options = options.with_metrics(list)?;
    }
    let baseline = read_summary(&args.baseline)?;
    let candidate = read_summary(&args.candidate)?;
    let comparison = compare_tables(&baseline, &candidate, &options)
        .with_context(|| format!("compare {} {}", args.baseline.display(), args.candidate.display()))?;
    print!("{}", render(&comparison, &options));
    Ok(i32::from(comparison.has_regression()))
}
