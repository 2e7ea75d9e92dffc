//! The HTML report: one self-contained page of plots (inline SVG drawn with plotters, inline
//! CSS, no script, no network) from a results folder: a run, a sweep, merged shards or a
//! staffing run. It reads the folder's files only (verified first, like every reader), never
//! the engine; `cli/report.rs` is its command line.
//!
//! `data` reads the folder, `waits`, `frontier`, `breakdowns` and `staff` turn it into plot
//! blocks (each with the numbers behind it), `chart` draws, `page` lays out the HTML.

mod axes;
mod breakdowns;
mod chart;
mod data;
mod frontier;
mod heatmap;
mod legend;
mod page;
mod staff;
mod waits;

use std::path::{Path, PathBuf};

use data::{point_label, Kind, Results};
use page::Block;

/// The report's file name when no other is given: `RESULTS_DIR/report.html`.
pub const REPORT_HTML: &str = crate::sweep::REPORT_HTML;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder is not a complete, verified results folder.
    #[error(transparent)]
    Results(#[from] crate::sweep::SweepError),
    /// A file of the folder does not hold what was expected.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// plotters failed to draw (an error of ours, not of the input).
    #[error("cannot draw a plot: {0}")]
    Draw(String),
    /// The page cannot be written.
    #[error("{}: cannot write the report: {source}", path.display())]
    Write {
        /// The report file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The report of the results folder `dir` as one HTML page.
pub fn render(dir: &Path) -> Result<String, ReportError> {
    let results = data::load(dir)?;
    let blocks = match &results.kind {
        Kind::Points(points) => point_blocks(points)?,
        Kind::Staff(doc) => staff::blocks(doc)?,
    };
    let kind = match &results.kind {
        Kind::Staff(_) => "staffing run",
        Kind::Points(_) if !results.info.merged_from.is_empty() => "merged sweep",
        Kind::Points(_) if results.info.axes.is_empty() => "run",
        Kind::Points(_) => "sweep",
    };
    let title = format!("convosim report · {} ({kind})", results.info.sweep);
    Ok(page::render(&title, &meta(&results), &blocks))
}

/// Writes the report of `dir` to `out` (default `dir/report.html`) and returns its path.
pub fn write(dir: &Path, out: Option<&Path>) -> Result<PathBuf, ReportError> {
    let html = render(dir)?;
    let path = out.map_or_else(|| dir.join(REPORT_HTML), Path::to_path_buf);
    replace_file(&path, html.as_bytes())
        .map_err(|source| ReportError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// Writes `bytes` to a temporary file beside `path` (beside the file a link at `path` points
/// to), then renames it over `path`: a failed write (a full disk) leaves the previous page
/// whole, never a truncated one in its place.
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or(REPORT_HTML.as_ref()));
    name.push(".new");
    let temporary = target.with_file_name(name);
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    });
    if written.is_err() && temporary.is_file() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn meta(results: &Results) -> Vec<String> {
    let info = &results.info;
    let mut lines = vec![format!(
        "{} · {} · seed {} · {} replication(s) per point · convosim {}",
        results.dir.display(),
        info.sweep_file,
        info.seed,
        info.replications,
        info.convosim_version
    )];
    let mut when = format!("ran {} to {}", info.started, info.ended);
    if !info.merged_from.is_empty() {
        when += &format!(", merged from {} shards", info.merged_from.len());
    }
    if !info.axes.is_empty() {
        let axes: Vec<String> =
            info.axes.iter().map(|a| format!("{} ({} values)", a.path, a.values.len())).collect();
        when += &format!("; {} point(s) over {}", info.points, axes.join(" × "));
    }
    lines.push(when);
    lines
}

fn point_blocks(points: &data::Points) -> Result<Vec<Block>, ReportError> {
    let label = |point: u64| {
        points.rows.iter().find(|r| r.point == point).map_or_else(|| format!("point {point}"), point_label)
    };
    let mut blocks = frontier::key_numbers(&points.rows);
    blocks.extend(frontier::frontier(&points.rows).map_err(ReportError::Draw)?);
    let histograms: Vec<(String, &crate::metrics::Histograms)> =
        points.histograms.iter().take(breakdowns::MAX_POINTS).map(|(p, h)| (label(*p), h)).collect();
    let mut cdfs = waits::blocks(&histograms).map_err(ReportError::Draw)?;
    if points.histograms.len() > breakdowns::MAX_POINTS {
        for block in &mut cdfs {
            block.note += &format!(
                " The first {} of {} points (colours run out); the key numbers have them all.",
                breakdowns::MAX_POINTS,
                points.histograms.len()
            );
        }
    }
    blocks.extend(cdfs);
    if let Some(csv) = &points.intervals {
        blocks.extend(breakdowns::intervals(csv, &label)?);
    }
    if let Some(csv) = &points.channels {
        blocks.extend(breakdowns::channels(csv, &label)?);
    }
    if let Some(csv) = &points.channel_intervals {
        blocks.extend(breakdowns::channel_intervals(csv, &label)?);
    }
    if let Some(csv) = &points.pools {
        blocks.extend(breakdowns::pools(csv, &label)?);
    }
    Ok(blocks)
}
