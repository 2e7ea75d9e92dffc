//! The breakdown files of a results folder: `breakdowns.jsonl` (one line per task, in task
//! order: each replication's values by interval, by pool and, with several channels, by
//! channel) and, summarised from it per point, `intervals.csv`, `pools.csv` and `channels.csv`
//! (one row per point × interval / pool / channel, `_mean` and `_ci95` per metric, as
//! summary.csv) and `channel_intervals.csv` (one row per point × channel × interval); the
//! channel files have rows only for points with several channels.
//!
//! The summaries are always computed from the per-task lines in (point, replication) order, so a
//! merge of shards gives the bytes of a single run; a resumed run cuts the lines back to the
//! checkpoint's length once their checksum is checked.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::checkpoint::{FilePrefix, HashedWriter};
use super::files::{create, number, results_error, write_error, RunInfo};
use super::folder::verify;
use super::{SweepError, TaskResult};
use crate::metrics::catalog::{scope_metrics, Scope};
use crate::metrics::{MetricSummary, RowValues};
use crate::scenario::{Fold, ReportSpec};

/// Per-task breakdown values.
pub(super) const BREAKDOWNS: &str = "breakdowns.jsonl";
/// Per point × interval summaries.
pub const INTERVALS_CSV: &str = "intervals.csv";
/// Per point × pool summaries.
pub const POOLS_CSV: &str = "pools.csv";
/// Per point × channel summaries.
pub const CHANNELS_CSV: &str = "channels.csv";
/// Per point × channel × interval summaries.
pub const CHANNEL_INTERVALS_CSV: &str = "channel_intervals.csv";

/// What a point's breakdown lines name: how its intervals are cut, its pools and channels.
pub(super) struct PointBreakdown {
    pub(super) report: ReportSpec,
    pub(super) pools: Vec<String>,
    pub(super) channels: Vec<String>,
}

/// Columns of a breakdown file after `point` and the axes, before the metrics.
pub(super) fn fixed_columns(scope: Scope) -> &'static [&'static str] {
    match scope {
        Scope::Pool => &["pool", "pool_index", "replications"],
        Scope::Channel => &["channel", "channel_index", "replications"],
        Scope::ChannelInterval => &["channel", "channel_index", "interval", "start", "replications"],
        Scope::Run | Scope::Interval => &["interval", "start", "replications"],
    }
}

/// The metric columns of a breakdown file of `scope`.
pub(super) fn metric_columns(scope: Scope) -> Vec<String> {
    scope_metrics(scope)
        .iter()
        .flat_map(|m| [format!("{}_mean", m.name), format!("{}_ci95", m.name)])
        .collect()
}

/// One task's line: point, replication, how its intervals are cut, pool names, the values
/// (and channel names and values with several channels; a single-channel line keeps its bytes).
/// Written as text directly, in the bytes `serde_json` gives the same object: a value per
/// metric and row as a JSON tree would take gigabytes for a breakdown by second.
pub(super) fn task_line(result: &TaskResult, point: &PointBreakdown) -> String {
    let metrics = &result.output.metrics;
    let mut line = format!(
        "{{\"point\":{},\"replication\":{},\"fold\":{},\"width_s\":{},\"pools\":{}",
        result.point,
        result.replication,
        json(&point.report.fold.name()),
        json(&point.report.interval_s),
        json(&point.pools),
    );
    push_rows(&mut line, "intervals", &metrics.intervals);
    push_rows(&mut line, "pool_values", &metrics.pools);
    if !metrics.channels.is_empty() {
        line.push_str(&format!(",\"channels\":{}", json(&point.channels)));
        push_rows(&mut line, "channel_values", &metrics.channels);
        push_rows(&mut line, "channel_interval_values", &metrics.channel_intervals);
    }
    line.push('}');
    line
}

/// Appends `,"key":[[...],...]` to `line`: each value as its shortest round-trip text ("" where
/// undefined), parsed back with `str::parse`, exact, so the summaries match the run's bit for
/// bit. The texts are digits, signs, points and letters: nothing to escape.
fn push_rows(line: &mut String, key: &str, rows: &[Vec<Option<f64>>]) {
    line.push_str(&format!(",\"{key}\":["));
    for (r, row) in rows.iter().enumerate() {
        line.push_str(if r == 0 { "[" } else { ",[" });
        for (c, value) in row.iter().enumerate() {
            line.push_str(if c == 0 { "\"" } else { ",\"" });
            line.push_str(&number(*value));
            line.push('"');
        }
        line.push(']');
    }
    line.push(']');
}

/// A scalar or a list of names as `serde_json` writes it.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Appends task lines to `breakdowns.jsonl`.
pub(super) struct BreakdownWriter {
    file: HashedWriter,
}

impl BreakdownWriter {
    pub(super) fn create(dir: &Path) -> Result<Self, SweepError> {
        Ok(Self { file: HashedWriter::create(&dir.join(BREAKDOWNS))? })
    }

    /// Continues the file a resume has checked and cut back to its checkpoint.
    pub(super) fn resume(file: HashedWriter) -> Self {
        Self { file }
    }

    pub(super) fn push(&mut self, line: &str) -> Result<(), SweepError> {
        writeln!(self.file, "{line}").map_err(write_error(self.file.path()))
    }

    pub(super) fn flush(&mut self) -> Result<(), SweepError> {
        self.file.flush().map_err(write_error(self.file.path()))
    }

    /// What has been written so far, for a checkpoint (after [`Self::flush`]).
    pub(super) fn prefix(&self) -> FilePrefix {
        self.file.prefix()
    }
}

/// One parsed line.
struct TaskLine {
    point: u64,
    replication: u64,
    text: String,
    value: LineValues,
}

/// What a task line holds, its values as numbers (undefined: `None`).
#[derive(serde::Deserialize)]
struct LineValues {
    point: u64,
    replication: u64,
    #[serde(default)]
    fold: String,
    width_s: Option<f64>,
    #[serde(default)]
    pools: Vec<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    intervals: Vec<Vec<Cell>>,
    #[serde(default)]
    pool_values: Vec<Vec<Cell>>,
    #[serde(default)]
    channel_values: Vec<Vec<Cell>>,
    #[serde(default)]
    channel_interval_values: Vec<Vec<Cell>>,
}

/// One value of a task line: its text parsed (anything else, or text that is no number, is
/// undefined), read without building a JSON tree.
struct Cell(Option<f64>);

impl<'de> serde::Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Cell;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value as text")
            }
            fn visit_str<E>(self, text: &str) -> Result<Cell, E> {
                Ok(Cell(text.parse().ok()))
            }
            fn visit_unit<E>(self) -> Result<Cell, E> {
                Ok(Cell(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Cell, E> {
                Ok(Cell(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Cell, E> {
                Ok(Cell(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Cell, E> {
                Ok(Cell(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Cell, E> {
                Ok(Cell(None))
            }
        }
        deserializer.deserialize_any(Text)
    }
}

/// Lines of one folder's `breakdowns.jsonl`, in its (task) order.
struct Source {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    next: Option<TaskLine>,
}

impl Source {
    fn advance(&mut self) -> Result<(), SweepError> {
        self.next = match self.lines.next() {
            None => None,
            Some(line) => {
                let text = line.map_err(|e| results_error(&self.path, e.to_string()))?;
                let value: LineValues = serde_json::from_str(&text)
                    .map_err(|e| results_error(&self.path, format!("not a breakdown line: {e}")))?;
                Some(TaskLine { point: value.point, replication: value.replication, text, value })
            }
        };
        Ok(())
    }
}

/// Writes `intervals.csv`, `pools.csv`, `channels.csv` and `channel_intervals.csv` into `out` from the `breakdowns.jsonl` of `dirs`
/// (and with `copy_data`, the merged `breakdowns.jsonl`). Folders without the file (written
/// before breakdowns) give no breakdown files.
pub(super) fn write_breakdowns(
    dirs: &[PathBuf],
    info: &RunInfo,
    out: &Path,
    copy_data: bool,
) -> Result<(), SweepError> {
    let mut sources = Vec::new();
    for dir in dirs {
        let path = dir.join(BREAKDOWNS);
        let Ok(file) = File::open(&path) else { return Ok(()) };
        let mut source = Source { path, lines: BufReader::new(file).lines(), next: None };
        source.advance()?;
        sources.push(source);
    }
    let mut copy = if copy_data { Some(BreakdownWriter::create(out)?) } else { None };
    let mut intervals = Table::create(out, INTERVALS_CSV, Scope::Interval, info)?;
    let mut pools = Table::create(out, POOLS_CSV, Scope::Pool, info)?;
    let mut channels = Table::create(out, CHANNELS_CSV, Scope::Channel, info)?;
    let mut channel_intervals = Table::create(out, CHANNEL_INTERVALS_CSV, Scope::ChannelInterval, info)?;
    let mut group = PointValues::default();
    let mut group_point = None;
    loop {
        let best = (0..sources.len())
            .filter(|&i| sources[i].next.is_some())
            .min_by_key(|&i| sources[i].next.as_ref().map(|l| (l.point, l.replication)));
        let Some(i) = best else { break };
        let line = sources[i].next.take().ok_or_else(|| results_error(out, "lost a line"))?;
        sources[i].advance()?;
        if let Some(copy) = copy.as_mut() {
            copy.push(&line.text)?;
        }
        if group_point.is_some_and(|p| p != line.point) {
            let tables = [&mut intervals, &mut pools, &mut channels, &mut channel_intervals];
            write_point(tables, info, group_point.unwrap_or(0), &std::mem::take(&mut group))?;
        }
        group_point = Some(line.point);
        group.push(line.value);
    }
    if let Some(point) = group_point {
        write_point(
            [&mut intervals, &mut pools, &mut channels, &mut channel_intervals],
            info,
            point,
            &group,
        )?;
    }
    if let Some(mut copy) = copy {
        copy.flush()?;
    }
    intervals.finish()?;
    pools.finish()?;
    channels.finish()?;
    channel_intervals.finish()
}

/// A breakdown CSV being written.
struct Table {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl Table {
    fn create(dir: &Path, name: &str, scope: Scope, info: &RunInfo) -> Result<Self, SweepError> {
        let path = dir.join(name);
        let mut writer = csv::Writer::from_writer(create(&path)?);
        let header = std::iter::once("point".to_string())
            .chain(info.axes.iter().map(|a| a.path.clone()))
            .chain(fixed_columns(scope).iter().map(|c| c.to_string()))
            .chain(metric_columns(scope));
        writer.write_record(header).map_err(|e| results_error(&path, e.to_string()))?;
        Ok(Self { path, writer })
    }

    fn row(&mut self, cells: impl IntoIterator<Item = String>) -> Result<(), SweepError> {
        self.writer.write_record(cells).map_err(|e| results_error(&self.path, e.to_string()))
    }

    fn finish(mut self) -> Result<(), SweepError> {
        self.writer.flush().map_err(write_error(&self.path))
    }
}

/// The values of one point's task lines, kept as numbers (8 bytes each: the parsed JSON of
/// lines by minute over a week took gigabytes per point), and how its intervals are cut and
/// its pool and channel names (from its first line).
#[derive(Default)]
struct PointValues {
    report: Option<ReportSpec>,
    pools: Vec<String>,
    channels: Vec<String>,
    replications: usize,
    /// Indexed like [`VALUE_KEYS`].
    values: [RowValues; 4],
}

/// The keys of a task line that hold rows of values.
const VALUE_KEYS: [&str; 4] = ["intervals", "pool_values", "channel_values", "channel_interval_values"];

impl PointValues {
    fn push(&mut self, line: LineValues) {
        let rows = [line.intervals, line.pool_values, line.channel_values, line.channel_interval_values];
        for (values, rows) in self.values.iter_mut().zip(rows) {
            let rows: Vec<Vec<Option<f64>>> =
                rows.into_iter().map(|row| row.into_iter().map(|cell| cell.0).collect()).collect();
            values.push(&rows);
        }
        if self.report.is_none() {
            let fold = if line.fold == "week" { Fold::Week } else { Fold::Day };
            self.report = Some(ReportSpec { interval_s: line.width_s.unwrap_or(3600.0), fold });
            (self.pools, self.channels) = (line.pools, line.channels);
        }
        self.replications += 1;
    }

    /// The rows of `key`'s values per replication.
    fn rows(&self, key: &str) -> usize {
        VALUE_KEYS.iter().position(|k| *k == key).map_or(0, |i| self.values[i].rows())
    }

    /// The mean and CI of `key`'s `row`, each of its first `columns` columns, as cells.
    fn summaries(&self, key: &str, row: usize, columns: usize) -> Vec<String> {
        let Some(i) = VALUE_KEYS.iter().position(|k| *k == key) else { return Vec::new() };
        (0..columns)
            .flat_map(|c| {
                let s = self.values[i].summary(row, c);
                [number(s.mean), number(s.ci95)]
            })
            .collect()
    }
}

/// One point's rows of the interval, pool and channel files, from its replications' lines.
fn write_point(
    [intervals, pools, channels, channel_intervals]: [&mut Table; 4],
    info: &RunInfo,
    point: u64,
    lines: &PointValues,
) -> Result<(), SweepError> {
    let Some(spec) = lines.report else { return Ok(()) };
    let axes: Vec<String> = info.point_values(point).iter().map(super::files::cell).collect();
    let names = |key: &str| if key == "pools" { lines.pools.clone() } else { lines.channels.clone() };
    let reps = lines.replications.to_string();
    let summaries = |key: &str, row: usize, columns: usize| lines.summaries(key, row, columns);
    let count = |key: &str| lines.rows(key);
    let interval_columns = scope_metrics(Scope::Interval).len();
    let interval_rows = count("intervals");
    for row in 0..interval_rows {
        let fixed = [row.to_string(), spec.start_label(row), reps.clone()];
        let cells = std::iter::once(point.to_string()).chain(axes.iter().cloned()).chain(fixed);
        intervals.row(cells.chain(summaries("intervals", row, interval_columns)))?;
    }
    let channel_names = names("channels");
    let channel_interval_columns = scope_metrics(Scope::ChannelInterval).len();
    for row in 0..count("channel_interval_values") {
        let (channel, interval) = (row / interval_rows.max(1), row % interval_rows.max(1));
        let name = channel_names.get(channel).cloned().unwrap_or_default();
        let fixed =
            [name, channel.to_string(), interval.to_string(), spec.start_label(interval), reps.clone()];
        let cells = std::iter::once(point.to_string()).chain(axes.iter().cloned()).chain(fixed);
        channel_intervals.row(cells.chain(summaries(
            "channel_interval_values",
            row,
            channel_interval_columns,
        )))?;
    }
    for (table, scope, key, values) in [
        (pools, Scope::Pool, "pools", "pool_values"),
        (channels, Scope::Channel, "channels", "channel_values"),
    ] {
        let (names, columns) = (names(key), scope_metrics(scope).len());
        for row in 0..count(values) {
            let name = names.get(row).cloned().unwrap_or_default();
            let fixed = [name, row.to_string(), reps.clone()];
            let cells = std::iter::once(point.to_string()).chain(axes.iter().cloned()).chain(fixed);
            table.row(cells.chain(summaries(values, row, columns)))?;
        }
    }
    Ok(())
}

/// One point's channels as `channels.csv` holds them: each name with its summaries in
/// `scope_metrics(Scope::Channel)` order.
pub type PointChannels = Vec<(String, Vec<MetricSummary>)>;

/// Each point's channel summaries from the `channels.csv` of the complete folder `dir`, after
/// checking every file against the manifest. Points with one channel have no rows; a folder
/// written before channels has no file, hence no rows at all.
pub fn read_channel_summaries(dir: &Path) -> Result<BTreeMap<u64, PointChannels>, SweepError> {
    let info = verify(dir, &[])?;
    let mut points: BTreeMap<u64, PointChannels> = BTreeMap::new();
    if !info.files.contains_key(CHANNELS_CSV) {
        return Ok(points);
    }
    let path = dir.join(CHANNELS_CSV);
    let file = File::open(&path).map_err(|e| results_error(&path, format!("cannot read: {e}")))?;
    let mut reader = csv::Reader::from_reader(BufReader::new(file));
    let header = reader.headers().map_err(|e| results_error(&path, e.to_string()))?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let name_column = column(fixed_columns(Scope::Channel)[0])
        .ok_or_else(|| results_error(&path, "no `channel` column: not a convosim channels.csv"))?;
    // A column this binary knows but the file lacks reads as undefined, as in summary.csv.
    let metrics: Vec<Option<(usize, usize)>> = scope_metrics(Scope::Channel)
        .iter()
        .map(|m| Some((column(&format!("{}_mean", m.name))?, column(&format!("{}_ci95", m.name))?)))
        .collect();
    for record in reader.records() {
        let record = record.map_err(|e| results_error(&path, e.to_string()))?;
        let point = record
            .get(0)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| results_error(&path, "a row without a point number"))?;
        let get = |i: usize| record.get(i).and_then(|s| s.parse::<f64>().ok());
        let values = metrics
            .iter()
            .map(|cols| match cols {
                Some((m, c)) => MetricSummary { mean: get(*m), ci95: get(*c), n: 0 },
                None => MetricSummary { mean: None, ci95: None, n: 0 },
            })
            .collect();
        let name = record.get(name_column).unwrap_or_default().to_string();
        points.entry(point).or_default().push((name, values));
    }
    Ok(points)
}
