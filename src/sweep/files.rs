//! The results directory: what a run or shard writes, and how shards become one summary.
//!
//! A run (or shard) directory holds `replications.csv` (one row per task, in task order),
//! `histograms.jsonl` (each point's merged wait histograms) and `manifest.json`. [`finalize`]
//! reads one or more of them, checks they are the shards of one sweep, and writes
//! `summary.csv`, `summary.json`, the merged `replications.csv` and `manifest.json`.

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::summary::{SummaryTable, SummaryWriter};
use super::{Axis, Point, SweepError, TaskResult};
use crate::metrics::{decode_histogram, encode_histogram, new_wait_histogram, METRICS};

const REPLICATIONS: &str = "replications.csv";
const HISTOGRAMS: &str = "histograms.jsonl";
const MANIFEST: &str = "manifest.json";
pub(super) const SUMMARY_CSV: &str = "summary.csv";
pub(super) const SUMMARY_JSON: &str = "summary.json";
/// Columns of `replications.csv` after the axes.
pub(super) const FIXED_COLUMNS: [&str; 5] = ["policy_label", "replication", "seed", "events", "contacts"];

/// Each point's merged wait histograms (first, resumed).
pub(super) type PointHistograms = BTreeMap<u64, (Histogram<u64>, Histogram<u64>)>;

/// An axis as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisInfo {
    /// Dotted path.
    pub path: String,
    /// Values, as JSON.
    pub values: Vec<Json>,
}

/// `manifest.json`: what ran, where, how fast.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// For a merged result: the manifests of its shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<RunInfo>,
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
fn cell(value: &Json) -> String {
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

/// Streams task results into a run or shard directory.
pub struct ResultsWriter {
    dir: PathBuf,
    rows: csv::Writer<BufWriter<File>>,
    histograms: BufWriter<File>,
    /// Per point: axis cells and policy label.
    point_cells: Vec<(Vec<String>, String)>,
    current: Option<(u64, Histogram<u64>, Histogram<u64>)>,
    events: u64,
    contacts: u64,
    tasks: u64,
}

impl ResultsWriter {
    /// Creates `dir` and its files for a sweep with these axes and points.
    pub fn create(dir: &Path, axes: &[Axis], points: &[Point]) -> Result<Self, SweepError> {
        std::fs::create_dir_all(dir).map_err(write_error(dir))?;
        let rows_path = dir.join(REPLICATIONS);
        let mut rows = csv::Writer::from_writer(create(&rows_path)?);
        let header = std::iter::once("point".to_string())
            .chain(axes.iter().map(|a| a.path.clone()))
            .chain(FIXED_COLUMNS.iter().map(|c| c.to_string()))
            .chain(METRICS.iter().map(|m| m.name.to_string()));
        rows.write_record(header).map_err(|e| results_error(&rows_path, e.to_string()))?;
        let point_cells = points
            .iter()
            .map(|p| {
                let cells =
                    p.values.iter().map(|v| cell(&serde_json::to_value(v).unwrap_or(Json::Null))).collect();
                (cells, p.scenario.policy.label())
            })
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            rows,
            histograms: create(&dir.join(HISTOGRAMS))?,
            point_cells,
            current: None,
            events: 0,
            contacts: 0,
            tasks: 0,
        })
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
        if self.current.as_ref().is_some_and(|(p, _, _)| *p != result.point) {
            self.flush_point()?;
        }
        let (_, first, resumed) =
            self.current.get_or_insert_with(|| (result.point, new_wait_histogram(), new_wait_histogram()));
        // Auto-resizing histograms of the same precision always add.
        let _ = first.add(&output.metrics.wait_first);
        let _ = resumed.add(&output.metrics.wait_resumed);
        self.events += output.stats.events;
        self.contacts += output.audit.ready;
        self.tasks += 1;
        Ok(())
    }

    fn flush_point(&mut self) -> Result<(), SweepError> {
        if let Some((point, first, resumed)) = self.current.take() {
            let line = json!({
                "point": point,
                "wait_first_ms": encode_histogram(&first),
                "wait_resumed_ms": encode_histogram(&resumed),
            });
            let path = self.dir.join(HISTOGRAMS);
            writeln!(self.histograms, "{line}").map_err(write_error(&path))?;
        }
        Ok(())
    }

    /// Flushes the files and writes `manifest.json` from `info` (whose task, event and
    /// contact counts are filled in here).
    pub fn finish(mut self, mut info: RunInfo) -> Result<RunInfo, SweepError> {
        self.flush_point()?;
        let path = self.dir.join(REPLICATIONS);
        self.rows.flush().map_err(write_error(&path))?;
        let path = self.dir.join(HISTOGRAMS);
        self.histograms.flush().map_err(write_error(&path))?;
        info.tasks = self.tasks;
        info.events = self.events;
        info.contacts = self.contacts;
        info.events_per_s = self.events as f64 / info.wall_s.max(1e-9);
        info.contacts_per_s = self.contacts as f64 / info.wall_s.max(1e-9);
        write_manifest(&self.dir, &info)?;
        Ok(info)
    }
}

fn write_manifest(dir: &Path, info: &RunInfo) -> Result<(), SweepError> {
    let path = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(info).map_err(|e| results_error(&path, e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(write_error(&path))
}

fn read_manifest(dir: &Path) -> Result<RunInfo, SweepError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        results_error(&path, format!("cannot read ({e}): is this a convosim results directory?"))
    })?;
    serde_json::from_str(&text).map_err(|e| results_error(&path, format!("not a convosim manifest: {e}")))
}

/// One parsed row of `replications.csv`.
#[derive(Debug, Clone)]
pub(super) struct RepRow {
    pub(super) point: u64,
    pub(super) replication: u32,
    pub(super) record: csv::StringRecord,
}

impl PartialEq for RepRow {
    fn eq(&self, other: &Self) -> bool {
        (self.point, self.replication) == (other.point, other.replication)
    }
}
impl Eq for RepRow {}
impl PartialOrd for RepRow {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RepRow {
    /// Reversed: the heap pops the smallest (point, replication).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.point, other.replication).cmp(&(self.point, self.replication))
    }
}

struct RowSource {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
}

impl RowSource {
    fn open(dir: &Path, axes: usize) -> Result<(Self, csv::StringRecord), SweepError> {
        let path = dir.join(REPLICATIONS);
        let file = File::open(&path).map_err(|e| results_error(&path, format!("cannot read: {e}")))?;
        let mut reader = csv::Reader::from_reader(BufReader::new(file));
        let header = reader.headers().map_err(|e| results_error(&path, e.to_string()))?.clone();
        if header.len() != 1 + axes + FIXED_COLUMNS.len() + METRICS.len() {
            return Err(results_error(&path, "unexpected columns: written by another convosim version?"));
        }
        Ok((Self { path, reader }, header))
    }

    fn next(&mut self, axes: usize) -> Result<Option<RepRow>, SweepError> {
        let mut record = csv::StringRecord::new();
        let more =
            self.reader.read_record(&mut record).map_err(|e| results_error(&self.path, e.to_string()))?;
        if !more {
            return Ok(None);
        }
        let bad = |what: &str| {
            results_error(
                &self.path,
                format!("row {}: bad {what}", record.position().map_or(0, |p| p.line())),
            )
        };
        let point = record.get(0).and_then(|s| s.parse().ok()).ok_or_else(|| bad("point"))?;
        let replication =
            record.get(2 + axes).and_then(|s| s.parse().ok()).ok_or_else(|| bad("replication"))?;
        Ok(Some(RepRow { point, replication, record }))
    }
}

/// Checks that `infos` are all the shards of one sweep, exactly once each.
fn check_shards(dirs: &[PathBuf], infos: &[RunInfo]) -> Result<(), SweepError> {
    let first = &infos[0];
    for (dir, info) in dirs.iter().zip(infos) {
        if info.content_hash != first.content_hash
            || info.seed != first.seed
            || info.replications != first.replications
        {
            return Err(results_error(
                dir,
                format!(
                    "is a shard of a different sweep than {} (content hash, seed or replications differ)",
                    dirs[0].display()
                ),
            ));
        }
        if info.shard[1] != first.shard[1] {
            return Err(results_error(
                dir,
                format!(
                    "is shard {}/{}, but {} is shard {}/{}",
                    info.shard[0],
                    info.shard[1],
                    dirs[0].display(),
                    first.shard[0],
                    first.shard[1]
                ),
            ));
        }
    }
    let count = first.shard[1];
    let mut seen: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for (dir, info) in dirs.iter().zip(infos) {
        if let Some(previous) = seen.insert(info.shard[0], dir) {
            return Err(results_error(
                dir,
                format!("shard {}/{count} is given twice (also {})", info.shard[0], previous.display()),
            ));
        }
    }
    let missing: Vec<String> =
        (1..=count).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(results_error(&dirs[0], format!("missing shard(s) {}", missing.join(", "))));
    }
    Ok(())
}

fn read_histograms(dirs: &[PathBuf]) -> Result<PointHistograms, SweepError> {
    let mut merged = PointHistograms::new();
    for dir in dirs {
        let path = dir.join(HISTOGRAMS);
        let file = File::open(&path).map_err(|e| results_error(&path, format!("cannot read: {e}")))?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| results_error(&path, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: Json = serde_json::from_str(&line).map_err(|e| results_error(&path, e.to_string()))?;
            let point =
                entry["point"].as_u64().ok_or_else(|| results_error(&path, "a line without a point"))?;
            let decode = |key: &str| {
                entry[key]
                    .as_str()
                    .ok_or_else(|| format!("no {key}"))
                    .and_then(decode_histogram)
                    .map_err(|m| results_error(&path, m))
            };
            let (first, resumed) = (decode("wait_first_ms")?, decode("wait_resumed_ms")?);
            let slot = merged.entry(point).or_insert_with(|| (new_wait_histogram(), new_wait_histogram()));
            let _ = slot.0.add(&first);
            let _ = slot.1.add(&resumed);
        }
    }
    Ok(merged)
}

/// Merges the run or shard directories `dirs` into `out`: checks they belong together, writes
/// `summary.csv`, `summary.json`, `manifest.json` and (unless `out` is the only input) the
/// merged `replications.csv` and `histograms.jsonl`.
pub fn finalize(dirs: &[PathBuf], out: &Path) -> Result<SummaryTable, SweepError> {
    if dirs.is_empty() {
        return Err(results_error(out, "no results directories given"));
    }
    let infos: Vec<RunInfo> = dirs.iter().map(|d| read_manifest(d)).collect::<Result<_, _>>()?;
    check_shards(dirs, &infos)?;
    let info = &infos[0];
    let axes = info.axes.len();
    std::fs::create_dir_all(out).map_err(write_error(out))?;
    let in_place = dirs.len() == 1 && same_dir(&dirs[0], out);

    let mut sources = Vec::new();
    let mut header = csv::StringRecord::new();
    for dir in dirs {
        let (source, h) = RowSource::open(dir, axes)?;
        sources.push(source);
        header = h;
    }
    let histograms = read_histograms(dirs)?;
    let mut merged_rows = if in_place {
        None
    } else {
        let path = out.join(REPLICATIONS);
        let mut writer = csv::Writer::from_writer(create(&path)?);
        writer.write_record(&header).map_err(|e| results_error(&path, e.to_string()))?;
        Some((path, writer))
    };

    let summary = SummaryWriter::create(out, info, &header)?;
    let mut summary = summary;
    let mut heap = BinaryHeap::new();
    for (i, source) in sources.iter_mut().enumerate() {
        if let Some(row) = source.next(axes)? {
            heap.push((row, std::cmp::Reverse(i)));
        }
    }
    let mut group: Vec<RepRow> = Vec::new();
    while let Some((row, std::cmp::Reverse(i))) = heap.pop() {
        if let Some(next) = sources[i].next(axes)? {
            heap.push((next, std::cmp::Reverse(i)));
        }
        if let Some((path, writer)) = merged_rows.as_mut() {
            writer.write_record(&row.record).map_err(|e| results_error(path, e.to_string()))?;
        }
        if group.first().is_some_and(|g| g.point != row.point) {
            summary.point(std::mem::take(&mut group), &histograms)?;
        }
        group.push(row);
    }
    if !group.is_empty() {
        summary.point(group, &histograms)?;
    }
    if let Some((path, mut writer)) = merged_rows {
        writer.flush().map_err(write_error(&path))?;
        write_merged_histograms(out, &histograms)?;
    }
    let table = summary.finish()?;
    if table.rows.len() as u64 != info.points {
        return Err(results_error(
            out,
            format!("{} of {} points have results", table.rows.len(), info.points),
        ));
    }
    let merged_info = merge_infos(&infos, in_place);
    write_manifest(out, &merged_info)?;
    Ok(table)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn write_merged_histograms(out: &Path, histograms: &PointHistograms) -> Result<(), SweepError> {
    let path = out.join(HISTOGRAMS);
    let mut file = create(&path)?;
    for (point, (first, resumed)) in histograms {
        let line = json!({ "point": point, "wait_first_ms": encode_histogram(first), "wait_resumed_ms": encode_histogram(resumed) });
        writeln!(file, "{line}").map_err(write_error(&path))?;
    }
    file.flush().map_err(write_error(&path))
}

fn merge_infos(infos: &[RunInfo], in_place: bool) -> RunInfo {
    if in_place {
        return infos[0].clone();
    }
    let mut merged = infos[0].clone();
    merged.shard = [1, 1];
    merged.tasks = infos.iter().map(|i| i.tasks).sum();
    merged.events = infos.iter().map(|i| i.events).sum();
    merged.contacts = infos.iter().map(|i| i.contacts).sum();
    merged.wall_s = infos.iter().map(|i| i.wall_s).sum();
    merged.threads = infos.iter().map(|i| i.threads).sum();
    merged.started = infos.iter().map(|i| i.started.clone()).min().unwrap_or_default();
    merged.ended = infos.iter().map(|i| i.ended.clone()).max().unwrap_or_default();
    merged.events_per_s = merged.events as f64 / merged.wall_s.max(1e-9);
    merged.contacts_per_s = merged.contacts as f64 / merged.wall_s.max(1e-9);
    let mut shards = infos.to_vec();
    shards.sort_by_key(|i| i.shard[0]);
    merged.merged_from = shards;
    merged
}
