//! The summary of a results directory: one row per point with every metric's mean and 95% CI,
//! written as `summary.csv` and `summary.json` from the per-replication rows, and read back for
//! `compare`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::files::{
    column_difference, create, histogram_fields, number, results_error, write_error, Layout, PointHistograms,
    RunInfo, FIXED_COLUMNS, SUMMARY_FIXED_COLUMNS,
};
use super::folder::{verify, HISTOGRAMS, SUMMARY_CSV, SUMMARY_JSON};
use super::merge::RepRow;
use super::SweepError;
use crate::metrics::{summarize, MetricSummary, METRICS};

/// One point of a summary: its axis cells, policy and every metric's mean and CI.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Point index.
    pub point: u64,
    /// `(axis path, value)` pairs.
    pub axes: Vec<(String, String)>,
    /// The policy label.
    pub policy: String,
    /// Replications summarised.
    pub replications: usize,
    /// In [`METRICS`] order.
    pub metrics: Vec<MetricSummary>,
}

impl SummaryRow {
    /// `policy="sticky", agents.team.count=12` (or the policy alone without axes).
    pub fn describe(&self) -> String {
        if self.axes.is_empty() {
            return self.policy.clone();
        }
        self.axes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }

    /// The summary of the metric named `name`.
    pub fn metric(&self, name: &str) -> Option<MetricSummary> {
        crate::metrics::catalog::index_of(name).map(|i| self.metrics[i])
    }
}

/// A sweep's summary: one row per point.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    /// Rows in point order.
    pub rows: Vec<SummaryRow>,
    /// The columns of `summary.csv` after `point` and the axes, as its manifest records them
    /// (`compare` refuses two summaries whose columns differ).
    pub columns: Vec<String>,
}

impl SummaryTable {
    /// A summary with this convosim's columns.
    pub fn new(rows: Vec<SummaryRow>) -> Self {
        Self { rows, columns: Layout::current().summary_csv }
    }

    /// The first column where this summary (`ours`) and `other` (`theirs`) differ, in words.
    pub fn column_difference(&self, other: &SummaryTable, ours: &str, theirs: &str) -> Option<String> {
        column_difference(SUMMARY_CSV, &self.columns, &other.columns, ours, theirs)
    }
}

/// Writes `summary.csv` and `summary.json` point by point.
pub(super) struct SummaryWriter<'a> {
    out: PathBuf,
    info: &'a RunInfo,
    csv: csv::Writer<BufWriter<File>>,
    json: BufWriter<File>,
    axis_names: Vec<String>,
    rows: Vec<SummaryRow>,
}

impl<'a> SummaryWriter<'a> {
    pub(super) fn create(
        out: &Path,
        info: &'a RunInfo,
        rep_header: &csv::StringRecord,
    ) -> Result<Self, SweepError> {
        let axis_names: Vec<String> =
            rep_header.iter().skip(1).take(info.axes.len()).map(String::from).collect();
        let csv_path = out.join(SUMMARY_CSV);
        let mut csv = csv::Writer::from_writer(create(&csv_path)?);
        let header = std::iter::once("point".to_string())
            .chain(axis_names.iter().cloned())
            .chain(Layout::current().summary_csv);
        csv.write_record(header).map_err(|e| results_error(&csv_path, e.to_string()))?;
        let json_path = out.join(SUMMARY_JSON);
        let mut json = create(&json_path)?;
        let head = json!({
            "sweep": info.sweep,
            "seed": info.seed,
            "replications": info.replications,
            "axes": info.axes.iter().map(|a| a.path.clone()).collect::<Vec<_>>(),
            "histogram_encoding": "HdrHistogram V2 compressed, base64; values in milliseconds",
        });
        // Stream the points: the head's fields, then a "points" array filled one point at a time.
        let head = head.to_string();
        write!(json, "{},\"points\":[", &head[..head.len() - 1]).map_err(write_error(&json_path))?;
        Ok(Self { out: out.to_path_buf(), info, csv, json, axis_names, rows: Vec::new() })
    }

    pub(super) fn point(
        &mut self,
        mut group: Vec<RepRow>,
        histograms: &PointHistograms,
    ) -> Result<(), SweepError> {
        group.sort_by_key(|r| r.replication);
        let point = group[0].point;
        let expected = self.info.replications as usize;
        let reps: Vec<u32> = group.iter().map(|r| r.replication).collect();
        if reps.len() != expected || reps.iter().enumerate().any(|(i, r)| *r as usize != i) {
            return Err(results_error(
                &self.out,
                format!("point {point} has {} of {expected} replications", reps.len()),
            ));
        }
        let axes = self.info.axes.len();
        let first_metric = 1 + axes + FIXED_COLUMNS.len();
        let metrics: Vec<MetricSummary> = (0..METRICS.len())
            .map(|m| {
                summarize(
                    group.iter().map(|r| r.record.get(first_metric + m).and_then(|s| s.parse::<f64>().ok())),
                )
            })
            .collect();
        let record0 = &group[0].record;
        let cells: Vec<String> =
            (0..axes).map(|a| record0.get(1 + a).unwrap_or_default().to_string()).collect();
        let policy = record0.get(1 + axes).unwrap_or_default().to_string();

        let csv_path = self.out.join(SUMMARY_CSV);
        let record = std::iter::once(point.to_string())
            .chain(cells.iter().cloned())
            .chain([policy.clone(), group.len().to_string()])
            .chain(metrics.iter().flat_map(|s| [number(s.mean), number(s.ci95)]));
        self.csv.write_record(record).map_err(|e| results_error(&csv_path, e.to_string()))?;

        let values: serde_json::Map<String, Json> =
            self.axis_names.iter().cloned().zip(self.info.point_values(point)).collect();
        let metric_json: serde_json::Map<String, Json> = METRICS
            .iter()
            .zip(&metrics)
            .map(|(m, s)| (m.name.to_string(), json!({ "mean": s.mean, "ci95": s.ci95 })))
            .collect();
        // Every point with rows has a histogram line: a missing one means a damaged file.
        let point_histograms = histograms
            .get(&point)
            .map(histogram_fields)
            .ok_or_else(|| results_error(&self.out, format!("point {point} has no line in {HISTOGRAMS}")))?;
        let entry = json!({
            "point": point,
            "values": values,
            "policy": policy,
            "replications": group.len(),
            "metrics": metric_json,
            "histograms": point_histograms,
        });
        let json_path = self.out.join(SUMMARY_JSON);
        let separator = if self.rows.is_empty() { "" } else { "," };
        write!(self.json, "{separator}{entry}").map_err(write_error(&json_path))?;
        self.rows.push(SummaryRow {
            point,
            axes: self.axis_names.iter().cloned().zip(cells).collect(),
            policy,
            replications: group.len(),
            metrics,
        });
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<SummaryTable, SweepError> {
        let csv_path = self.out.join(SUMMARY_CSV);
        self.csv.flush().map_err(write_error(&csv_path))?;
        let json_path = self.out.join(SUMMARY_JSON);
        writeln!(self.json, "]}}").map_err(write_error(&json_path))?;
        self.json.flush().map_err(write_error(&json_path))?;
        Ok(SummaryTable::new(self.rows))
    }
}

/// Reads `summary.csv` of a complete results directory (for `compare`), after checking every
/// file against the manifest's checksums.
pub fn read_summary(dir: &Path) -> Result<SummaryTable, SweepError> {
    let info = verify(dir, &[SUMMARY_CSV])?;
    let path = dir.join(SUMMARY_CSV);
    let file = File::open(&path).map_err(|e| {
        results_error(&path, format!("cannot read ({e}): run `convosim sweep` or `run --out` first"))
    })?;
    let mut reader = csv::Reader::from_reader(BufReader::new(file));
    let header = reader.headers().map_err(|e| results_error(&path, e.to_string()))?.clone();
    let Some(policy_col) = header.iter().position(|h| h == SUMMARY_FIXED_COLUMNS[0]) else {
        return Err(results_error(&path, "no `policy_label` column: not a convosim summary"));
    };
    let axis_names: Vec<String> = header.iter().skip(1).take(policy_col - 1).map(String::from).collect();
    let metric_cols: Vec<Option<(usize, usize)>> = METRICS
        .iter()
        .map(|m| {
            let mean = header.iter().position(|h| h == format!("{}_mean", m.name))?;
            let ci = header.iter().position(|h| h == format!("{}_ci95", m.name))?;
            Some((mean, ci))
        })
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| results_error(&path, e.to_string()))?;
        let get = |i: usize| record.get(i).and_then(|s| s.parse::<f64>().ok());
        rows.push(SummaryRow {
            point: record.get(0).and_then(|s| s.parse().ok()).unwrap_or(rows.len() as u64),
            axes: axis_names
                .iter()
                .cloned()
                .zip((1..policy_col).map(|i| record.get(i).unwrap_or_default().to_string()))
                .collect(),
            policy: record.get(policy_col).unwrap_or_default().to_string(),
            replications: record.get(policy_col + 1).and_then(|s| s.parse().ok()).unwrap_or(0),
            metrics: metric_cols
                .iter()
                .map(|cols| match cols {
                    Some((m, c)) => MetricSummary { mean: get(*m), ci95: get(*c), n: 0 },
                    None => MetricSummary { mean: None, ci95: None, n: 0 },
                })
                .collect(),
        });
    }
    // A folder written before layouts were recorded: its header says what its columns are.
    let columns = if info.layout.is_unrecorded() {
        header.iter().skip(policy_col).map(String::from).collect()
    } else {
        info.layout.summary_csv
    };
    Ok(SummaryTable { rows, columns })
}
