//! Merging results folders: shards of one sweep into one result, and a finished run's rows
//! into its summary.
//!
//! Inputs are checked before anything is written: each must be a complete folder whose files
//! match its manifest's checksums, written by this convosim version, and together they must be
//! every shard of one sweep exactly once (same input hash, seed and replications), with this
//! convosim's column layout (recorded in each manifest). Rows are
//! merged in task order with a heap over the shards, and every metric cell must be a finite
//! number or empty.

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::breakdowns::write_breakdowns;
use super::files::{
    column_difference, create, histogram_line, read_histogram_fields, results_error, write_error, Layout,
    PointHistograms, RunInfo, FIXED_COLUMNS,
};
use super::folder::{resolved, verify, OutputFolder, HISTOGRAMS, REPLICATIONS};
use super::summary::{SummaryTable, SummaryWriter};
use super::SweepError;
use crate::metrics::METRICS;

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
        let columns: Vec<String> = header.iter().skip(1 + axes).map(String::from).collect();
        let expected = Layout::current().replications_csv;
        if let Some(difference) =
            column_difference(REPLICATIONS, &columns, &expected, "the file", "this convosim")
        {
            return Err(results_error(&path, format!("unexpected columns: {difference}")));
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
        let first_metric = 1 + axes + FIXED_COLUMNS.len();
        let finite = |cell: &str| cell.is_empty() || cell.parse::<f64>().is_ok_and(f64::is_finite);
        if let Some(m) = (0..METRICS.len()).find(|&m| !record.get(first_metric + m).is_some_and(finite)) {
            return Err(bad(&format!("{} (expected a finite number or nothing)", METRICS[m].name)));
        }
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

/// Every shard must record this convosim's column layout: rows or histograms of another layout
/// would be merged column by column into the wrong metrics.
fn check_layouts(dirs: &[PathBuf], infos: &[RunInfo]) -> Result<(), SweepError> {
    let rerun = "rerun it with this convosim";
    for (dir, info) in dirs.iter().zip(infos) {
        if info.layout.is_unrecorded() {
            return Err(results_error(
                dir,
                format!("manifest.json records no column layout (written by an earlier convosim); {rerun}"),
            ));
        }
    }
    let first = &infos[0].layout;
    for (dir, info) in dirs.iter().zip(infos).skip(1) {
        let theirs = format!("{}", dirs[0].display());
        if let Some(difference) = info.layout.difference(first, "this shard", &theirs) {
            return Err(results_error(
                dir,
                format!("column layout differs from another shard's: {difference}"),
            ));
        }
    }
    match first.difference(&Layout::current(), "the shard", "this convosim") {
        Some(difference) => {
            Err(results_error(&dirs[0], format!("column layout differs: {difference}; {rerun}")))
        }
        None => Ok(()),
    }
}

/// Each point's histograms over `dirs`, merged; every line holds `point` and exactly the
/// histogram `fields` of the layout.
fn read_histograms(dirs: &[PathBuf], fields: &[String]) -> Result<PointHistograms, SweepError> {
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
            let unknown = entry.as_object().and_then(|fields_here| {
                fields_here.keys().find(|k| *k != "point" && !fields.contains(k)).cloned()
            });
            if let Some(field) = unknown {
                return Err(results_error(&path, format!("point {point}: unexpected field \"{field}\"")));
            }
            let histograms = read_histogram_fields(&entry, fields)
                .map_err(|m| results_error(&path, format!("point {point}: {m}")))?;
            merged.entry(point).or_default().add(&histograms);
        }
    }
    Ok(merged)
}

/// Merges the complete run or shard folders `dirs` into `out`: checks they belong together,
/// then writes the merged `replications.csv`, `histograms.jsonl`, `summary.csv`,
/// `summary.json` and, last, `manifest.json`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SummaryTable, SweepError> {
    if dirs.is_empty() {
        return Err(results_error(out, "no results directories given"));
    }
    let target = resolved(out);
    for dir in dirs {
        let input = resolved(dir);
        if target.starts_with(&input) {
            let what = if target == input { "is one of the inputs" } else { "is inside the input" };
            return Err(SweepError::OutFlag {
                out: out.to_path_buf(),
                message: format!("{what} {}; merge into another folder", dir.display()),
            });
        }
    }
    let folder = OutputFolder::lock(out)?;
    let infos: Vec<RunInfo> =
        dirs.iter().map(|d| verify(d, &[REPLICATIONS, HISTOGRAMS])).collect::<Result<_, _>>()?;
    let version = env!("CARGO_PKG_VERSION");
    if let Some((dir, info)) = dirs.iter().zip(&infos).find(|(_, i)| i.convosim_version != version) {
        return Err(results_error(
            dir,
            format!(
                "written by convosim {}, this is convosim {version}: rerun it with this version",
                info.convosim_version
            ),
        ));
    }
    check_shards(dirs, &infos)?;
    check_layouts(dirs, &infos)?;
    folder.start_fresh()?;
    let table = write_merged(dirs, &infos[0], folder.partial(), true)?;
    let mut merged = merge_infos(&infos);
    folder.commit(&mut merged)?;
    Ok(table)
}

/// Writes `summary.csv` and `summary.json` of the finished run or sweep whose rows and
/// histograms are in `partial` (described by `info`).
pub fn summarize_in_place(partial: &Path, info: &RunInfo) -> Result<SummaryTable, SweepError> {
    write_merged(&[partial.to_path_buf()], info, partial, false)
}

/// Reads the rows and histograms of `dirs` and writes the summary into `out` (and, with
/// `copy_data`, the merged rows and histograms).
fn write_merged(
    dirs: &[PathBuf],
    info: &RunInfo,
    out: &Path,
    copy_data: bool,
) -> Result<SummaryTable, SweepError> {
    let axes = info.axes.len();
    let mut sources = Vec::new();
    let mut header = csv::StringRecord::new();
    for dir in dirs {
        let (source, h) = RowSource::open(dir, axes)?;
        sources.push(source);
        header = h;
    }
    let histograms = read_histograms(dirs, &Layout::current().histograms)?;
    if let Some(point) = histograms.keys().find(|p| **p >= info.points) {
        return Err(results_error(&dirs[0].join(HISTOGRAMS), format!("point {point} is not in the sweep")));
    }
    let mut merged_rows = if copy_data {
        let path = out.join(REPLICATIONS);
        let mut writer = csv::Writer::from_writer(create(&path)?);
        writer.write_record(&header).map_err(|e| results_error(&path, e.to_string()))?;
        Some((path, writer))
    } else {
        None
    };
    let mut summary = SummaryWriter::create(out, info, &header)?;
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
    write_breakdowns(dirs, info, out, copy_data)?;
    if table.rows.len() as u64 != info.points {
        return Err(results_error(
            out,
            format!("{} of {} points have results", table.rows.len(), info.points),
        ));
    }
    Ok(table)
}

fn write_merged_histograms(out: &Path, histograms: &PointHistograms) -> Result<(), SweepError> {
    let path = out.join(HISTOGRAMS);
    let mut file = create(&path)?;
    for (point, set) in histograms {
        writeln!(file, "{}", histogram_line(*point, set)).map_err(write_error(&path))?;
    }
    file.flush().map_err(write_error(&path))
}

/// The manifest of a merge: counts summed over the shards, threads the most any shard used
/// (the shards ran side by side, not on one machine), wall time summed (CPU-ish time).
fn merge_infos(infos: &[RunInfo]) -> RunInfo {
    let mut merged = infos[0].clone();
    merged.shard = [1, 1];
    merged.tasks = infos.iter().map(|i| i.tasks).sum();
    merged.events = infos.iter().map(|i| i.events).sum();
    merged.contacts = infos.iter().map(|i| i.contacts).sum();
    merged.wall_s = infos.iter().map(|i| i.wall_s).sum();
    merged.threads = infos.iter().map(|i| i.threads).max().unwrap_or(1);
    merged.started = infos.iter().map(|i| i.started.clone()).min().unwrap_or_default();
    merged.ended = infos.iter().map(|i| i.ended.clone()).max().unwrap_or_default();
    merged.events_per_s = merged.events as f64 / merged.wall_s.max(1e-9);
    merged.contacts_per_s = merged.contacts as f64 / merged.wall_s.max(1e-9);
    merged.files = BTreeMap::new();
    merged.layout = Layout::current();
    let mut shards = infos.to_vec();
    shards.sort_by_key(|i| i.shard[0]);
    merged.merged_from = shards;
    merged
}
