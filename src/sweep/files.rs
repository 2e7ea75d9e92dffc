//! What a run or shard streams to its (partial) folder, and the manifest that describes it.
//!
//! A run (or shard) writes `replications.csv` (one row per task, in task order) and
//! `histograms.jsonl` (each point's merged wait histograms) through [`ResultsWriter`], which
//! can checkpoint its progress between windows of tasks and resume from a checkpoint. The
//! manifest records the files' column [`Layout`], declared here once for every writer; the
//! summary is written by `merge.rs`, the manifest and the move into place by `folder.rs`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::breakdowns::{
    fixed_columns, metric_columns, task_line, BreakdownWriter, PointBreakdown, BREAKDOWNS,
};
use super::checkpoint::{Checkpoint, FilePrefix, HashedWriter, OpenPoint};
use super::folder::{HISTOGRAMS, MANIFEST, REPLICATIONS};
use super::{Axis, Point, SweepError, TaskResult};
use crate::metrics::catalog::Scope;
use crate::metrics::{
    decode_histogram, encode_histogram, new_wait_histogram, Histograms, METRICS, WAIT_FIRST, WAIT_KEYS,
    WAIT_RESUMED,
};
use hdrhistogram::Histogram;

/// Columns of `replications.csv` after the axes, before the metrics.
pub(super) const FIXED_COLUMNS: [&str; 5] = ["policy_label", "replication", "seed", "events", "contacts"];
/// Columns of `summary.csv` after the axes, before the metrics.
pub(super) const SUMMARY_FIXED_COLUMNS: [&str; 2] = ["policy_label", "replications"];
/// A histogram's field in `histograms.jsonl` and `summary.json` is its key and this unit.
const HISTOGRAM_FIELD_SUFFIX: &str = "_ms";

/// Each point's merged wait histograms.
pub(super) type PointHistograms = BTreeMap<u64, Histograms>;

/// The column layout of a results folder, recorded in its manifest so that `merge` and
/// `compare` never combine or set side by side files whose columns mean different things.
/// Each list starts after `point` and the axis columns (the manifest's `axes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// The columns of `replications.csv`.
    pub replications_csv: Vec<String>,
    /// The columns of `summary.csv`.
    pub summary_csv: Vec<String>,
    /// The histogram fields of each `histograms.jsonl` line (after `point`) and of each
    /// point's `histograms` in `summary.json`.
    pub histograms: Vec<String>,
    /// The columns of `intervals.csv` (absent before breakdowns were written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervals_csv: Vec<String>,
    /// The columns of `pools.csv` (absent before breakdowns were written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools_csv: Vec<String>,
    /// The columns of `channels.csv` (absent before channels were written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels_csv: Vec<String>,
    /// The columns of `channel_intervals.csv` (absent before it was written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_intervals_csv: Vec<String>,
}

impl Layout {
    /// The layout this convosim writes.
    pub fn current() -> Self {
        let strings = |names: &[&str]| names.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let mut replications_csv = strings(&FIXED_COLUMNS);
        replications_csv.extend(METRICS.iter().map(|m| m.name.to_string()));
        let mut summary_csv = strings(&SUMMARY_FIXED_COLUMNS);
        summary_csv
            .extend(METRICS.iter().flat_map(|m| [format!("{}_mean", m.name), format!("{}_ci95", m.name)]));
        let histograms = WAIT_KEYS.iter().map(|k| histogram_field(k)).collect();
        let breakdown = |scope| {
            let mut columns = strings(fixed_columns(scope));
            columns.extend(metric_columns(scope));
            columns
        };
        let (intervals_csv, pools_csv) = (breakdown(Scope::Interval), breakdown(Scope::Pool));
        let (channels_csv, channel_intervals_csv) =
            (breakdown(Scope::Channel), breakdown(Scope::ChannelInterval));
        Self {
            replications_csv,
            summary_csv,
            histograms,
            intervals_csv,
            pools_csv,
            channels_csv,
            channel_intervals_csv,
        }
    }

    /// True for a manifest written before layouts were recorded.
    pub fn is_unrecorded(&self) -> bool {
        self.replications_csv.is_empty() && self.summary_csv.is_empty() && self.histograms.is_empty()
    }

    /// The first difference from `other`, in words: `summary.csv has "a" where OTHER has "b"`
    /// (`ours` and `theirs` name the two sides); `None` when the layouts are the same.
    pub fn difference(&self, other: &Layout, ours: &str, theirs: &str) -> Option<String> {
        let lists = [
            ("replications.csv", &self.replications_csv, &other.replications_csv),
            ("summary.csv", &self.summary_csv, &other.summary_csv),
            ("histograms.jsonl", &self.histograms, &other.histograms),
            ("intervals.csv", &self.intervals_csv, &other.intervals_csv),
            ("pools.csv", &self.pools_csv, &other.pools_csv),
            ("channels.csv", &self.channels_csv, &other.channels_csv),
            ("channel_intervals.csv", &self.channel_intervals_csv, &other.channel_intervals_csv),
        ];
        lists.into_iter().find_map(|(file, a, b)| column_difference(file, a, b, ours, theirs))
    }
}

/// The first column where `a` (ours) and `b` (theirs) differ, in words.
pub(super) fn column_difference(
    file: &str,
    a: &[String],
    b: &[String],
    ours: &str,
    theirs: &str,
) -> Option<String> {
    let at = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))?;
    Some(match (a.get(at), b.get(at)) {
        (Some(x), Some(y)) => format!("{file} has column \"{x}\" in {ours} where {theirs} has \"{y}\""),
        (Some(x), None) => format!("{file} has column \"{x}\" in {ours} only"),
        (None, Some(y)) => format!("{file} has column \"{y}\" in {theirs} only"),
        (None, None) => return None,
    })
}

/// The field of histogram `key` in results files (`wait_first` → `wait_first_ms`).
fn histogram_field(key: &str) -> String {
    format!("{key}{HISTOGRAM_FIELD_SUFFIX}")
}

/// Histograms as JSON fields, in key order: `{"wait_first_ms": "...", "wait_resumed_ms": "..."}`.
pub(super) fn histogram_fields(histograms: &Histograms) -> Map<String, Json> {
    histograms.iter().map(|(key, h)| (histogram_field(key), Json::String(encode_histogram(h)))).collect()
}

/// Reads the histogram `fields` of a JSON object (others, like `point`, are left alone): each
/// must be there and decode.
pub(super) fn read_histogram_fields(object: &Json, fields: &[String]) -> Result<Histograms, String> {
    let mut histograms = Histograms::default();
    for field in fields {
        let key = field.strip_suffix(HISTOGRAM_FIELD_SUFFIX).unwrap_or(field);
        let text = object[field.as_str()].as_str().ok_or_else(|| format!("no {field}"))?;
        let decoded = decode_wait_histogram(text).map_err(|m| format!("{field}: {m}"))?;
        // Adding to a fresh histogram of the same precision cannot fail.
        let _ = histograms.entry(key.to_string()).add(&decoded);
    }
    Ok(histograms)
}

/// An axis as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisInfo {
    /// Dotted path.
    pub path: String,
    /// Values, as JSON.
    pub values: Vec<Json>,
}

/// `manifest.json`: what ran, where, how fast. `Default` is a run not yet described, with its
/// counters at zero: callers set what identifies it and leave the rest to `..Default::default()`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// convosim's version.
    pub convosim_version: String,
    /// The sweep's (or scenario's) name.
    pub sweep: String,
    /// The sweep or scenario file.
    pub sweep_file: String,
    /// SHA-256 of the input files; shards of one sweep share it.
    pub content_hash: String,
    /// Master seed.
    pub seed: u64,
    /// A sweep's: whether replication r ran with one seed at every point (common random
    /// numbers) or with a seed per point; absent for a run, which is one point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_random_numbers: Option<bool>,
    /// Replications per point.
    pub replications: u32,
    /// Number of points.
    pub points: u64,
    /// Axes, outermost first.
    pub axes: Vec<AxisInfo>,
    /// This shard, `[index, count]` (1-based); `[1, 1]` for a whole sweep.
    pub shard: [u32; 2],
    /// Tasks run here.
    pub tasks: u64,
    /// Worker threads.
    pub threads: usize,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339.
    pub ended: String,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Logical events over all tasks.
    pub events: u64,
    /// Events per wall second.
    pub events_per_s: f64,
    /// Contacts that became ready, over all tasks.
    pub contacts: u64,
    /// Contacts per wall second.
    pub contacts_per_s: f64,
    /// The column layout of the data files (absent in manifests written before it was recorded).
    #[serde(default, skip_serializing_if = "Layout::is_unrecorded")]
    pub layout: Layout,
    /// For a merged result: the manifests of its shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<RunInfo>,
    /// SHA-256 of each data file, written last: a folder whose files do not match is refused.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

impl RunInfo {
    /// Axis info from the sweep's axes.
    pub fn axes_of(axes: &[Axis]) -> Vec<AxisInfo> {
        axes.iter()
            .map(|a| AxisInfo {
                path: a.path.clone(),
                values: a.values.iter().map(|v| serde_json::to_value(v).unwrap_or(Json::Null)).collect(),
            })
            .collect()
    }

    /// The JSON values of point `index` (last axis fastest).
    pub(super) fn point_values(&self, index: u64) -> Vec<Json> {
        let lengths: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        let positions = super::spec::value_positions(index, &lengths);
        self.axes.iter().zip(positions).map(|(axis, i)| axis.values[i].clone()).collect()
    }
}

/// A value as a CSV cell: strings bare, numbers as written.
pub(super) fn cell(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number as a CSV cell: empty when undefined, shortest exact form otherwise.
pub(super) fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub(super) fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Write { path: path.to_path_buf(), source }
}

pub(super) fn results_error(path: &Path, message: impl Into<String>) -> SweepError {
    SweepError::Results { path: path.to_path_buf(), message: message.into() }
}

pub(super) fn create(path: &Path) -> Result<BufWriter<File>, SweepError> {
    File::create(path).map(BufWriter::new).map_err(write_error(path))
}

/// The counts of a run so far, copied into its manifest or checkpoint.
fn fill_counts(info: &mut RunInfo, tasks: u64, events: u64, contacts: u64) {
    info.tasks = tasks;
    info.events = events;
    info.contacts = contacts;
    info.events_per_s = events as f64 / info.wall_s.max(1e-9);
    info.contacts_per_s = contacts as f64 / info.wall_s.max(1e-9);
}

/// Streams task results into a run or shard's partial folder, in task order.
pub struct ResultsWriter {
    dir: PathBuf,
    rows: csv::Writer<HashedWriter>,
    histograms: HashedWriter,
    /// Per point: axis cells and policy label.
    point_cells: Vec<(Vec<String>, String)>,
    /// Per point: how its intervals are cut and its pool names.
    point_breakdowns: Vec<PointBreakdown>,
    breakdowns: BreakdownWriter,
    /// The point whose tasks are arriving, with its histograms so far.
    current: Option<(u64, Histograms)>,
    events: u64,
    contacts: u64,
    tasks: u64,
}

/// Each point's interval cut, pool names and channel names, for its breakdown lines.
fn point_breakdowns(points: &[Point]) -> Vec<PointBreakdown> {
    points
        .iter()
        .map(|p| PointBreakdown {
            report: p.scenario.report,
            pools: p.scenario.pools.iter().map(|q| q.name.clone()).collect(),
            channels: p.scenario.channels.iter().map(|c| c.name.clone()).collect(),
        })
        .collect()
}

fn point_cells(points: &[Point]) -> Vec<(Vec<String>, String)> {
    points
        .iter()
        .map(|p| {
            let cells =
                p.values.iter().map(|v| cell(&serde_json::to_value(v).unwrap_or(Json::Null))).collect();
            (cells, p.scenario.policy_label())
        })
        .collect()
}

impl ResultsWriter {
    /// Creates the files in `dir` (which exists) for a sweep with these axes and points.
    pub fn create(dir: &Path, axes: &[Axis], points: &[Point]) -> Result<Self, SweepError> {
        let rows_path = dir.join(REPLICATIONS);
        let mut rows = csv::Writer::from_writer(HashedWriter::create(&rows_path)?);
        let header = std::iter::once("point".to_string())
            .chain(axes.iter().map(|a| a.path.clone()))
            .chain(Layout::current().replications_csv);
        rows.write_record(header).map_err(|e| results_error(&rows_path, e.to_string()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            rows,
            histograms: HashedWriter::create(&dir.join(HISTOGRAMS))?,
            point_cells: point_cells(points),
            point_breakdowns: point_breakdowns(points),
            breakdowns: BreakdownWriter::create(dir)?,
            current: None,
            events: 0,
            contacts: 0,
            tasks: 0,
        })
    }

    /// Reopens the files in `dir` where `checkpoint` left them: each checked against the
    /// checksum it recorded, then cut back to its length (whatever was written after it is
    /// redone), with the open point's histograms and the counts restored.
    pub fn resume(dir: &Path, points: &[Point], checkpoint: &Checkpoint) -> Result<Self, SweepError> {
        // Every file is checked before any is cut: a refusal leaves the partial folder as it was.
        let checked = |name: &str| HashedWriter::checked(&dir.join(name), checkpoint.prefix(dir, name)?);
        let (mut rows, mut histograms, mut breakdowns) =
            (checked(REPLICATIONS)?, checked(HISTOGRAMS)?, checked(BREAKDOWNS)?);
        for file in [&mut rows, &mut histograms, &mut breakdowns] {
            file.cut()?;
        }
        let rows = csv::Writer::from_writer(rows);
        let current = match &checkpoint.open_point {
            Some(open) => {
                let (point, first, resumed) =
                    open.decode().map_err(|m| results_error(dir, format!("checkpoint: {m}")))?;
                let mut histograms = Histograms::waits();
                histograms.entry(WAIT_FIRST.into()).add(&first).ok();
                histograms.entry(WAIT_RESUMED.into()).add(&resumed).ok();
                Some((point, histograms))
            }
            None => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            rows,
            histograms,
            point_cells: point_cells(points),
            point_breakdowns: point_breakdowns(points),
            breakdowns: BreakdownWriter::resume(breakdowns),
            current,
            events: checkpoint.run.events,
            contacts: checkpoint.run.contacts,
            tasks: checkpoint.run.tasks,
        })
    }

    /// Tasks written so far (including those of earlier sessions).
    pub fn tasks(&self) -> u64 {
        self.tasks
    }

    /// Appends one task's row and merges its histograms into its point's.
    pub fn push(&mut self, result: &TaskResult) -> Result<(), SweepError> {
        let (cells, policy) = &self.point_cells[result.point as usize];
        let output = &result.output;
        let record = std::iter::once(result.point.to_string())
            .chain(cells.iter().cloned())
            .chain([
                policy.clone(),
                result.replication.to_string(),
                result.seed.to_string(),
                output.stats.events.to_string(),
                output.audit.ready.to_string(),
            ])
            .chain(output.metrics.values.iter().map(|v| number(*v)));
        let path = self.dir.join(REPLICATIONS);
        self.rows.write_record(record).map_err(|e| results_error(&path, e.to_string()))?;
        self.breakdowns.push(&task_line(result, &self.point_breakdowns[result.point as usize]))?;
        if self.current.as_ref().is_some_and(|(p, _)| *p != result.point) {
            self.flush_point()?;
        }
        let (_, histograms) = self.current.get_or_insert_with(|| (result.point, Histograms::waits()));
        histograms.add(&output.metrics.histograms);
        self.events += output.stats.events;
        self.contacts += output.audit.ready;
        self.tasks += 1;
        Ok(())
    }

    fn flush_point(&mut self) -> Result<(), SweepError> {
        if let Some((point, histograms)) = self.current.take() {
            let path = self.dir.join(HISTOGRAMS);
            writeln!(self.histograms, "{}", histogram_line(point, &histograms))
                .map_err(write_error(&path))?;
        }
        Ok(())
    }

    /// Flushes the data files; what each holds, by name.
    fn flush_files(&mut self) -> Result<BTreeMap<String, FilePrefix>, SweepError> {
        let rows_path = self.dir.join(REPLICATIONS);
        self.rows.flush().map_err(write_error(&rows_path))?;
        let hist_path = self.dir.join(HISTOGRAMS);
        self.histograms.flush().map_err(write_error(&hist_path))?;
        self.breakdowns.flush()?;
        Ok(BTreeMap::from([
            (REPLICATIONS.to_string(), self.rows.get_ref().prefix()),
            (HISTOGRAMS.to_string(), self.histograms.prefix()),
            (BREAKDOWNS.to_string(), self.breakdowns.prefix()),
        ]))
    }

    /// Records how far the run is: the files are flushed first, so they are never shorter
    /// than what the checkpoint says. `run` gives the identity, start and wall time so far.
    pub fn checkpoint(&mut self, run: &RunInfo) -> Result<(), SweepError> {
        let files = self.flush_files()?;
        let mut run = run.clone();
        fill_counts(&mut run, self.tasks, self.events, self.contacts);
        // The checkpoint holds the two wait histograms by name (see checkpoint.rs).
        let open_point = self.current.as_ref().map(|(point, histograms)| {
            let empty = new_wait_histogram();
            let get = |key| histograms.get(key).unwrap_or(&empty);
            OpenPoint::encode(*point, get(WAIT_FIRST), get(WAIT_RESUMED))
        });
        Checkpoint { run, files, open_point }.save(&self.dir)
    }

    /// Flushes the files; `info` with the task, event and contact counts filled in.
    pub fn finish(mut self, mut info: RunInfo) -> Result<RunInfo, SweepError> {
        self.flush_point()?;
        self.flush_files()?;
        fill_counts(&mut info, self.tasks, self.events, self.contacts);
        info.layout = Layout::current();
        Ok(info)
    }
}

/// One line of `histograms.jsonl`: `{"point":P,"wait_first_ms":"...","wait_resumed_ms":"..."}`.
pub(super) fn histogram_line(point: u64, histograms: &Histograms) -> Json {
    let mut line = Map::new();
    line.insert("point".into(), Json::from(point));
    line.extend(histogram_fields(histograms));
    Json::Object(line)
}

pub(super) fn write_manifest(dir: &Path, info: &RunInfo) -> Result<(), SweepError> {
    let path = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(info).map_err(|e| results_error(&path, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(write_error(&path))
}

pub(super) fn read_manifest(dir: &Path) -> Result<RunInfo, SweepError> {
    let path = dir.join(MANIFEST);
    // Bounded like every file convosim reads (a manifest is a few kilobytes).
    let text = crate::scenario::read_text(&path).map_err(|e| {
        results_error(&path, format!("cannot read ({e}): is this a convosim results directory?"))
    })?;
    serde_json::from_str(&text).map_err(|e| results_error(&path, format!("not a convosim manifest: {e}")))
}

/// Decodes a histogram written by [`encode_histogram`] into a fresh wait histogram, so later
/// additions behave as if it had never been written.
pub(super) fn decode_wait_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let decoded = decode_histogram(text)?;
    let mut histogram = new_wait_histogram();
    histogram.add(&decoded).map_err(|e| format!("histogram out of range: {e:?}"))?;
    Ok(histogram)
}
