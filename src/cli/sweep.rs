//! The pipelines of `sweep`, `merge` and `compare`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::gates::{check_assertions, parse_assertions, require_replications};
use super::{interrupt, thread_pool, CompareArgs, MergeArgs, SweepArgs, SweepBy};
use crate::compare::{add_channels, channel_table, compare as compare_tables, render, CompareOptions};
use crate::gate::{addressable_channels, check_channels, Assertion, Measured, ONE_CHANNEL};
use crate::sweep::{
    check_inputs_kept, execute, load_sweep, merge as merge_folders, read_channel_summaries, read_summary,
    resume_command, shard_tasks, summarize_in_place, Checkpoint, OutputFolder, Point, PointChannels,
    ResultsWriter, RunInfo, Shard, Step, SummaryTable, SweepError, SweepSpec,
};

pub(super) fn sweep(args: &SweepArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts, "--assert")?;
    let shard: Shard = match &args.shard {
        Some(text) => text.parse()?,
        None => Shard::WHOLE,
    };
    if shard != Shard::WHOLE && !assertions.is_empty() {
        anyhow::bail!(
            "--assert with --shard: a shard holds only part of each point's replications; gate on \
             the merged result instead: convosim merge SHARD_DIRS --out DIR --assert COND"
        );
    }
    let spec = load_sweep(&args.sweep)?;
    let source = "the sweep's `replications` (or its base scenario's)";
    require_replications(&assertions, spec.replications.into(), source)?;
    // Every point is built and validated before anything runs.
    let points = spec.points()?;
    for (index, point) in points.iter().enumerate() {
        crate::scenario::check_breakdowns(&point.scenario, spec.replications).map_err(|e| {
            anyhow::anyhow!("{}: point {index}: {e} (at the sweep's `replications`)", args.sweep.display())
        })?;
    }
    // Every point's channels; a one-channel point's metrics are the run's (as in `run`).
    let mut known: Vec<&str> = points
        .iter()
        .flat_map(|p| {
            let names: Vec<&str> = p.scenario.channels.iter().map(|c| c.name.as_str()).collect();
            addressable_channels(&names)
        })
        .collect();
    known.sort_unstable();
    known.dedup();
    check_channels(&assertions, &known, "--assert", &args.sweep.display().to_string())
        .map_err(anyhow::Error::msg)?;
    let tasks = shard_tasks(spec.point_count(), spec.replications, shard);
    let out = args.out.clone().unwrap_or_else(|| default_out(&spec, shard));
    let pool = thread_pool(args.threads)?;
    let mut run = run_info(&spec, &points, shard, pool.current_num_threads());
    check_inputs_kept(&out, &[&spec.file, &spec.base])?;
    let folder = OutputFolder::lock(&out)?;
    let resume = resume_command(&args.sweep, &out, [shard.index, shard.count]);
    interrupt::leaves_incomplete(format!(
        "the sweep is incomplete; its last checkpoint is in {}; resume with: {resume}",
        folder.partial().display()
    ));
    let (mut writer, earlier_wall_s) = open_writer(args.resume, &folder, &spec, &points, &mut run)?;
    interrupt::stop_between_windows();

    let clock = Instant::now();
    let session = Session { pool: &pool, spec: &spec, points: &points, tasks: &tasks, quiet: args.quiet };
    if !session.run(&mut writer, &mut run, earlier_wall_s, folder.partial())? {
        errln!("interrupted: {} of {} tasks done; resume with: {resume}", writer.tasks(), tasks.len());
        return Ok(interrupt::INTERRUPTED_EXIT);
    }
    run.wall_s = earlier_wall_s + clock.elapsed().as_secs_f64();
    let code = complete(&folder, writer, run, shard, (&assertions, &points, args.by))?;
    if args.report {
        super::report::beside(folder.dir())?;
    }
    Ok(code)
}

/// Writes the summary of a sweep whose tasks are all done (none for a shard), then its
/// manifest, and moves the result into place; the exit status of its gates.
fn complete(
    folder: &OutputFolder,
    writer: ResultsWriter,
    mut run: RunInfo,
    shard: Shard,
    (assertions, points, by): (&[Assertion], &[Point], Option<SweepBy>),
) -> Result<i32> {
    run.ended = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut info = writer.finish(run)?;
    errln!(
        "{} task(s) in {:.2} s on {} thread(s): {:.2} M events/s, {:.0} contacts/s",
        info.tasks,
        info.wall_s,
        info.threads,
        info.events_per_s / 1e6,
        info.contacts_per_s
    );
    let out = folder.dir();
    if shard != Shard::WHOLE {
        folder.commit(&mut info)?;
        errln!(
            "wrote shard {}/{} to {}; when all shards are done: convosim merge <shard dirs> --out DIR",
            shard.index,
            shard.count,
            out.display()
        );
        return Ok(0);
    }
    let table = summarize_in_place(folder.partial(), &info)?;
    folder.commit(&mut info)?;
    let several = points.iter().any(|p| p.scenario.channels.len() > 1);
    let channels = channel_rows(assertions, by.is_some() || several, out)?;
    print_tables(&table, &channels, by.is_some() || several);
    errln!("wrote {}", out.display());
    gates(assertions, &table, channels, points)
}

/// What one session of a sweep runs: the tasks of its shard, on its pool.
struct Session<'a> {
    pool: &'a rayon::ThreadPool,
    spec: &'a SweepSpec,
    points: &'a [Point],
    tasks: &'a [u64],
    quiet: bool,
}

impl Session<'_> {
    /// Runs the tasks `writer` has not written yet, checkpointing after every window and
    /// stopping after the window in which Ctrl-C was pressed; whether every task is done.
    /// `run.wall_s` counts `earlier_wall_s` plus this session.
    fn run(
        &self,
        writer: &mut ResultsWriter,
        run: &mut RunInfo,
        earlier_wall_s: f64,
        partial: &Path,
    ) -> Result<bool, SweepError> {
        let (tasks, points) = (self.tasks, self.points);
        let done = writer.tasks() as usize;
        if done > tasks.len() {
            let message = format!("the checkpoint counts {done} tasks, but this shard has {}", tasks.len());
            return Err(SweepError::Resume { partial: partial.to_path_buf(), message });
        }
        let progress = progress_bar(tasks.len() as u64, self.quiet);
        progress.set_position(done as u64);
        let clock = Instant::now();
        let finished = self.pool.install(|| {
            execute(points, self.spec.task_seeds(), self.spec.replications, &tasks[done..], |step| match step
            {
                Step::Task(result) => {
                    writer.push(result)?;
                    // Tasks arrive in point-major order: the current point tells how far it is.
                    progress.set_message(format!("point {}/{}", result.point + 1, points.len()));
                    progress.inc(1);
                    Ok(true)
                }
                Step::WindowEnd => {
                    run.wall_s = earlier_wall_s + clock.elapsed().as_secs_f64();
                    writer.checkpoint(run)?;
                    Ok(!interrupt::requested())
                }
            })
        })?;
        progress.finish_and_clear();
        Ok(finished)
    }
}

/// The manifest of this sweep before it runs: what it is, and its start.
fn run_info(spec: &SweepSpec, points: &[Point], shard: Shard, threads: usize) -> RunInfo {
    RunInfo {
        convosim_version: env!("CARGO_PKG_VERSION").to_string(),
        sweep: spec.name.clone(),
        sweep_file: spec.file.display().to_string(),
        content_hash: spec.input_hash(points),
        seed: spec.seed,
        common_random_numbers: Some(spec.common_random_numbers),
        replications: spec.replications,
        points: spec.point_count(),
        axes: RunInfo::axes_of(&spec.axes),
        shard: [shard.index, shard.count],
        threads,
        started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        ..Default::default()
    }
}

/// The writer of the partial folder, fresh or (with `--resume` and a checkpoint there) where
/// the checkpoint left it, after checking it belongs to this sweep; also the wall time spent
/// in earlier sessions. `--resume` with no checkpoint starts from the first task (so a job
/// script can always pass it), and says so.
fn open_writer(
    resume: bool,
    folder: &OutputFolder,
    spec: &SweepSpec,
    points: &[Point],
    run: &mut RunInfo,
) -> Result<(ResultsWriter, f64), SweepError> {
    let partial = folder.partial();
    if resume {
        match Checkpoint::load(partial)? {
            Some(checkpoint) => {
                checkpoint
                    .check_belongs_to(run)
                    .map_err(|message| SweepError::Resume { partial: partial.to_path_buf(), message })?;
                run.started = checkpoint.run.started.clone();
                let writer = ResultsWriter::resume(partial, points, &checkpoint)?;
                return Ok((writer, checkpoint.run.wall_s));
            }
            None => errln!("nothing to resume in {}: starting from the first task", partial.display()),
        }
    }
    folder.start_fresh()?;
    Ok((ResultsWriter::create(partial, &spec.axes, points)?, 0.0))
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

/// Each point's channel summaries from the complete folder `dir`, read only when they are
/// shown or a condition names a channel (reading verifies the whole folder again).
fn channel_rows(assertions: &[Assertion], shown: bool, dir: &Path) -> Result<BTreeMap<u64, PointChannels>> {
    if !shown && assertions.iter().all(|a| a.channel.is_none()) {
        return Ok(BTreeMap::new());
    }
    Ok(read_channel_summaries(dir)?)
}

/// The blended table, then (when `by_channel`) each channel's own.
fn print_tables(table: &SummaryTable, channels: &BTreeMap<u64, PointChannels>, by_channel: bool) {
    out!("{}", crate::table::render_sweep(table));
    if by_channel {
        out!("{}", crate::table::render_sweep_channels(table, channels));
    }
}

/// Exit status 1 if an assertion fails at a point; an error if the table cannot be gated.
/// `channels` holds the per-channel summaries of the points that have them (several
/// channels); the others have one, whose metrics are the point's, named as in `points` (a
/// merge has none: `default`).
fn gates(
    assertions: &[Assertion],
    table: &SummaryTable,
    mut channels: BTreeMap<u64, PointChannels>,
    points: &[Point],
) -> Result<i32> {
    require_replications(assertions, fewest_replications(table), "the results' replications per point")?;
    let points: Vec<_> = table
        .rows
        .iter()
        .map(|r| {
            let measured = match channels.remove(&r.point) {
                Some(channels) => Measured { run: r.metrics.clone(), channels },
                None => Measured::one_channel(r.metrics.clone(), one_channel_name(points, r.point)),
            };
            (r.describe(), measured)
        })
        .collect();
    Ok(i32::from(check_assertions(assertions, &points) > 0))
}

/// The name of point `index`'s one channel, as its scenario says (`default` when unknown).
fn one_channel_name(points: &[Point], index: u64) -> &str {
    match points.iter().find(|p| p.index == index).map(|p| &p.scenario.channels[..]) {
        Some([only]) => &only.name,
        _ => ONE_CHANNEL,
    }
}

pub(super) fn merge(args: &MergeArgs) -> Result<i32> {
    let assertions = parse_assertions(&args.asserts, "--assert")?;
    let table = merge_folders(&args.shards, &args.out)?;
    // Known only once merged: refuse before printing, so the refusal is the one line.
    require_replications(
        &assertions,
        fewest_replications(&table),
        "the merged result's replications per point",
    )?;
    // Merged points do not say how many channels they have: channels.csv does.
    let channels = channel_rows(&assertions, true, &args.out)?;
    let mut known: Vec<&str> = channels.values().flatten().map(|(name, _)| name.as_str()).collect();
    if table.rows.iter().any(|r| !channels.contains_key(&r.point)) {
        known.push(ONE_CHANNEL);
    }
    known.sort_unstable();
    known.dedup();
    let whose = format!("the merged results ({})", args.out.display());
    check_channels(&assertions, &known, "--assert", &whose).map_err(anyhow::Error::msg)?;
    print_tables(&table, &channels, args.by.is_some() || !channels.is_empty());
    errln!("merged {} shard(s) into {}", args.shards.len(), args.out.display());
    if args.report {
        super::report::beside(&args.out)?;
    }
    gates(&assertions, &table, channels, &[])
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
    let context = || format!("compare {} {}", args.baseline.display(), args.candidate.display());
    let mut comparison = compare_tables(&baseline, &candidate, &options).with_context(context)?;
    let base_channels = channel_table(&baseline, &read_channel_summaries(&args.baseline)?);
    let cand_channels = channel_table(&candidate, &read_channel_summaries(&args.candidate)?);
    add_channels(&mut comparison, &base_channels, &cand_channels, &options).with_context(context)?;
    out!("{}", render(&comparison, &options));
    Ok(i32::from(comparison.has_regression()))
}
