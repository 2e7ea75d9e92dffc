//! A results folder as the report reads it: verified first (`sweep::verify`, as every reader
//! does), then its summary, merged wait histograms and breakdown tables, or a staffing run's
//! `staff.json`. Only files are read here, never the engine.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::ReportError;
use crate::metrics::{decode_histogram, Histograms};
use crate::sweep::{
    read_summary, verify, RunInfo, SummaryRow, CHANNELS_CSV, CHANNEL_INTERVALS_CSV, HISTOGRAMS,
    INTERVALS_CSV, POOLS_CSV, STAFF_JSON, SUMMARY_CSV,
};

/// A CSV file with its header, read whole (breakdowns are small: rows × points).
pub struct Csv {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(path: &Path) -> Result<Self, ReportError> {
        let bad = |m: String| ReportError::File { path: path.to_path_buf(), message: m };
        let mut reader = csv::Reader::from_path(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let header = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(String::from).collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record.map_err(|e| bad(e.to_string()))?.iter().map(String::from).collect());
        }
        Ok(Self { path: path.to_path_buf(), header, rows })
    }

    /// The position of `name`, or an error naming the file and the column expected.
    pub fn column(&self, name: &str) -> Result<usize, ReportError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| ReportError::File {
            path: self.path.clone(),
            message: format!("expected a column \"{name}\""),
        })
    }

    /// Cell `col` of `row` as a number (`None` when empty: undefined).
    pub fn number(row: &[String], col: usize) -> Option<f64> {
        row.get(col).and_then(|s| s.parse::<f64>().ok()).filter(|v| v.is_finite())
    }
}

/// What the report plots from one results folder.
pub struct Results {
    pub dir: PathBuf,
    pub info: RunInfo,
    pub kind: Kind,
}

pub enum Kind {
    /// A run, sweep or merged sweep.
    Points(Box<Points>),
    /// `staff --out`: the answers as `staff --format json` prints them, with the targets.
    Staff(Json),
}

pub struct Points {
    /// `summary.csv`, in point order.
    pub rows: Vec<SummaryRow>,
    /// Each point's merged histograms, in point order.
    pub histograms: Vec<(u64, Histograms)>,
    pub intervals: Option<Csv>,
    pub pools: Option<Csv>,
    pub channels: Option<Csv>,
    /// `channel_intervals.csv` (rows only with several channels).
    pub channel_intervals: Option<Csv>,
}

/// Verifies `dir` and reads what the report needs from it.
pub fn load(dir: &Path) -> Result<Results, ReportError> {
    let info = verify(dir, &[])?;
    let [index, count] = info.shard;
    if count > 1 {
        // A shard is complete but has no summary: say so rather than "incomplete or modified".
        return Err(ReportError::File {
            path: dir.join(crate::sweep::MANIFEST),
            message: format!(
                "this is shard {index}/{count} of a sweep: it has no summary to plot; expected a whole \
                 results folder (merge the shards with `convosim merge`, then report on the merged folder)"
            ),
        });
    }
    let kind = if info.files.contains_key(STAFF_JSON) {
        Kind::Staff(read_staff(&dir.join(STAFF_JSON))?)
    } else {
        verify(dir, &[SUMMARY_CSV, HISTOGRAMS])?;
        let table = read_summary(dir)?;
        let optional = |name: &str| -> Result<Option<Csv>, ReportError> {
            info.files.contains_key(name).then(|| Csv::read(&dir.join(name))).transpose()
        };
        Kind::Points(Box::new(Points {
            rows: table.rows,
            histograms: read_histograms(&dir.join(HISTOGRAMS))?,
            intervals: optional(INTERVALS_CSV)?,
            pools: optional(POOLS_CSV)?,
            channels: optional(CHANNELS_CSV)?,
            channel_intervals: optional(CHANNEL_INTERVALS_CSV)?,
        }))
    };
    Ok(Results { dir: dir.to_path_buf(), info, kind })
}

fn read_staff(path: &Path) -> Result<Json, ReportError> {
    let bad = |m: String| ReportError::File { path: path.to_path_buf(), message: m };
    let text = fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let doc: Json = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if !doc["answers"].is_array() {
        return Err(bad("expected an object with an \"answers\" list (written by `staff --out`)".into()));
    }
    Ok(doc)
}

/// `histograms.jsonl`: one line per point, `{"point": N, "<key>_ms": "<base64 V2>", ...}`.
fn read_histograms(path: &Path) -> Result<Vec<(u64, Histograms)>, ReportError> {
    let bad = |line: usize, m: String| ReportError::File {
        path: path.to_path_buf(),
        message: format!("line {line}: {m}"),
    };
    let text = fs::read_to_string(path).map_err(|e| bad(0, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let object: Json = serde_json::from_str(line).map_err(|e| bad(i + 1, format!("not JSON: {e}")))?;
        let point =
            object["point"].as_u64().ok_or_else(|| bad(i + 1, "expected a \"point\" number".into()))?;
        let mut histograms = Histograms::default();
        for (field, value) in object.as_object().into_iter().flatten() {
            let Some(key) = field.strip_suffix("_ms") else { continue };
            let text = value.as_str().ok_or_else(|| bad(i + 1, format!("{field}: expected a string")))?;
            let decoded = decode_histogram(text).map_err(|m| bad(i + 1, format!("{field}: {m}")))?;
            // Adding to a fresh auto-resizing histogram cannot fail.
            let _ = histograms.entry(key.to_string()).add(&decoded);
        }
        out.push((point, histograms));
    }
    Ok(out)
}

/// A point's short name: its axis values (`hybrid-5m`, or `count=12, timeout=5m` with several
/// axes, each axis named by the shortest end of its key that no other axis shares:
/// `chat_team.skills=…, generalists.skills=…`), or the policy of a run without axes.
pub fn point_label(row: &SummaryRow) -> String {
    match row.axes.len() {
        0 => row.policy.clone(),
        1 => row.axes[0].1.clone(),
        _ => {
            let keys: Vec<&str> = row.axes.iter().map(|(k, _)| k.as_str()).collect();
            let names = axis_names(&keys);
            row.axes
                .iter()
                .zip(names)
                .map(|((_, v), name)| format!("{name}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Each dotted key's shortest tail (whole dotted segments) that no other key ends with.
pub fn axis_names(keys: &[&str]) -> Vec<String> {
    let ends_with = |key: &str, tail: &str| key == tail || key.ends_with(&format!(".{tail}"));
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let segments: Vec<&str> = key.split('.').collect();
            (1..=segments.len())
                .map(|n| segments[segments.len() - n..].join("."))
                .find(|tail| keys.iter().enumerate().all(|(j, other)| j == i || !ends_with(other, tail)))
                .unwrap_or_else(|| key.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_named_by_their_shortest_unambiguous_tail() {
        let keys = ["agents.chat_team.skills", "agents.generalists.skills", "policy.timeout"];
        assert_eq!(axis_names(&keys), ["chat_team.skills", "generalists.skills", "timeout"]);
        assert_eq!(axis_names(&["a.count", "b.a.count"]), ["a.count", "b.a.count"]);
    }
}
