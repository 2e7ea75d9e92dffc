//! Plots of the breakdowns: by interval of the day or week (`intervals.csv`: service level,
//! mean wait, occupancy, agents on shift over time) and by channel and by pool (`channels.csv`,
//! `pools.csv`: one bar per point for each channel or pool), and each channel over the day or
//! week (`channel_intervals.csv`: one line per point and channel). One line or bar colour per
//! point; first contacts solid (filled), resumed dashed (open). A week of intervals also gets
//! a weekday × hour heat map (`heatmap`).

use super::chart::{self, Chart, Mark, Series, Style};
use super::data::Csv;
use super::page::{Block, Table};
use super::ReportError;

/// The column whose value makes a series: the point, or (by channel and interval) a number
/// given to each point × channel.
const SERIES: &str = "point";

/// Points drawn in one plot: the Okabe–Ito palette has 8 colours (the table has them all).
pub const MAX_POINTS: usize = 8;

/// One plotted column: its metric (the CSV has `<metric>_mean` and `<metric>_ci95`), and how
/// its series is named and drawn.
struct Column {
    metric: &'static str,
    kind: &'static str,
    style: Style,
}

struct Plot {
    id: &'static str,
    title: &'static str,
    question: &'static str,
    y_desc: &'static str,
    columns: &'static [Column],
}

const fn col(metric: &'static str, kind: &'static str, style: Style) -> Column {
    Column { metric, kind, style }
}

const INTERVAL_PLOTS: [Plot; 4] = [
    Plot {
        id: "interval-service-level",
        title: "Service level by interval",
        question: "When in the day or week do contacts miss the service-level threshold?",
        y_desc: "share answered within the threshold",
        columns: &[
            col("sl_first_share", "first", Style::Line),
            col("sl_resumed_share", "resumed", Style::Dashed),
        ],
    },
    Plot {
        id: "interval-wait",
        title: "Mean wait by interval",
        question: "When does the backlog build up, and how long do contacts ready in each interval wait?",
        y_desc: "mean wait (s)",
        columns: &[
            col("wait_first_mean_s", "first", Style::Line),
            col("wait_resumed_mean_s", "resumed", Style::Dashed),
        ],
    },
    Plot {
        id: "interval-occupancy",
        title: "Occupancy by interval",
        question: "How busy are the agents' slots over the day or week?",
        y_desc: "occupancy (busy slot-time / on-shift slot-time)",
        columns: &[col("occupancy_share", "", Style::Line)],
    },
    Plot {
        id: "interval-agents",
        title: "Agents on shift by interval",
        question: "How many agents are on shift in each interval (time average)?",
        y_desc: "agents on shift",
        columns: &[col("agents_on_shift_mean", "", Style::Step)],
    },
];

const CHANNEL_PLOTS: [Plot; 3] = [
    Plot {
        id: "channel-service-level",
        title: "Service level by channel",
        question: "Does each channel meet its own service level, for new conversations (first contacts) and for replies (resumed contacts)?",
        y_desc: "share within the channel's threshold",
        columns: &[
            col("sl_first_share", "first", Style::Points),
            col("sl_resumed_share", "resumed", Style::Hollow),
        ],
    },
    Plot {
        id: "channel-wait-first",
        title: "Mean first-contact wait by channel",
        question: "How long does a new conversation wait on each channel?",
        y_desc: "mean wait, first contacts (s)",
        columns: &[col("wait_first_mean_s", "", Style::Points)],
    },
    Plot {
        id: "channel-wait-resumed",
        title: "Mean resumed-contact wait by channel",
        question: "How long does a resumed contact wait on each channel?",
        y_desc: "mean wait, resumed contacts (s)",
        columns: &[col("wait_resumed_mean_s", "", Style::Points)],
    },
];

const CHANNEL_INTERVAL_PLOTS: [Plot; 2] = [
    Plot {
        id: "channel-interval-service-level",
        title: "Service level by channel and interval",
        question: "When in the day or week does each channel miss its own service level, for first and for resumed contacts?",
        y_desc: "share within the channel's threshold",
        columns: &[
            col("sl_first_share", "first", Style::Line),
            col("sl_resumed_share", "resumed", Style::Dashed),
        ],
    },
    Plot {
        id: "channel-interval-wait",
        title: "Mean first-contact wait by channel and interval",
        question: "When does each channel's backlog build up?",
        y_desc: "mean wait, first contacts (s)",
        columns: &[col("wait_first_mean_s", "", Style::Line)],
    },
];

const POOL_PLOTS: [Plot; 3] = [
    Plot {
        id: "pool-occupancy",
        title: "Occupancy by pool",
        question: "Which pool carries the load?",
        y_desc: "occupancy",
        columns: &[col("occupancy_share", "", Style::Points)],
    },
    Plot {
        id: "pool-agents",
        title: "Agents on shift by pool",
        question: "How many agents of each pool are on shift on average?",
        y_desc: "agents on shift (time average)",
        columns: &[col("agents_on_shift_mean", "", Style::Points)],
    },
    Plot {
        id: "pool-affinity",
        title: "Affinity retention by pool",
        question: "How often do the resumed contacts of each pool's agents reach their owner?",
        y_desc: "affinity retention",
        columns: &[col("affinity_retention_share", "", Style::Points)],
    },
];

/// A breakdown file's rows grouped by point (point order), each with its row key (the
/// interval's start label, the channel's or pool's name).
struct Grouped<'a> {
    keys: Vec<String>,
    /// (point, rows of that point in key order).
    points: Vec<(u64, Vec<&'a Vec<String>>)>,
}

fn group<'a>(csv: &'a Csv, key: &str) -> Result<Grouped<'a>, ReportError> {
    let (point_col, key_col) = (csv.column(SERIES)?, csv.column(key)?);
    let mut points: Vec<(u64, Vec<&Vec<String>>)> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for row in &csv.rows {
        let point = Csv::number(row, point_col).ok_or_else(|| ReportError::File {
            path: csv.path.clone(),
            message: "expected a point number in every row".into(),
        })? as u64;
        match points.last_mut() {
            Some((p, rows)) if *p == point => rows.push(row),
            _ => points.push((point, vec![row])),
        }
        let name = row.get(key_col).cloned().unwrap_or_default();
        if !keys.contains(&name) {
            keys.push(name);
        }
    }
    Ok(Grouped { keys, points })
}

fn percent(metric: &str) -> bool {
    metric.ends_with("_share")
}

/// `mean ± ci` of `metric` in `row`, shares in percent.
fn cell(csv: &Csv, row: &[String], metric: &str) -> Result<String, ReportError> {
    let (m, c) = (csv.column(&format!("{metric}_mean"))?, csv.column(&format!("{metric}_ci95"))?);
    let summary =
        crate::metrics::MetricSummary { mean: Csv::number(row, m), ci95: Csv::number(row, c), n: 0 };
    Ok(super::frontier::cell(&summary, percent(metric)))
}

/// The plots of one breakdown file: `key` is its row-key column, `labels` the points' names.
fn plots(
    csv: &Csv,
    key: &str,
    labels: &dyn Fn(u64) -> String,
    specs: &[Plot],
    over_time: bool,
) -> Result<Vec<Block>, ReportError> {
    let grouped = group(csv, key)?;
    let key_col = csv.column(key)?;
    let drawn = &grouped.points[..grouped.points.len().min(MAX_POINTS)];
    let mut blocks = Vec::new();
    for spec in specs {
        let mut c = Chart::new(spec.title, if over_time { "interval start" } else { key }, spec.y_desc);
        c.x_names = Some(grouped.keys.clone());
        c.x_ticks = if over_time { 12 } else { grouped.keys.len() + 1 };
        c.y_percent = spec.columns.iter().all(|col| percent(col.metric));
        // Side by side at each name: every point's columns (first, then resumed).
        let side_by_side = (drawn.len() * spec.columns.len()) as f64;
        for (slot, (point, rows)) in drawn.iter().enumerate() {
            for (k, column) in spec.columns.iter().enumerate() {
                let place = (slot * spec.columns.len() + k) as f64;
                let (m, ci) = (
                    csv.column(&format!("{}_mean", column.metric))?,
                    csv.column(&format!("{}_ci95", column.metric))?,
                );
                let marks = rows
                    .iter()
                    .filter_map(|row| {
                        let x = grouped.keys.iter().position(|k| Some(k) == row.get(key_col))? as f64;
                        let x = if over_time {
                            x
                        } else {
                            x + (place - (side_by_side - 1.0) / 2.0) * 0.8 / side_by_side
                        };
                        Some(Mark {
                            x,
                            y: Csv::number(row, m)?,
                            x_ci: None,
                            y_ci: Csv::number(row, ci),
                            label: None,
                        })
                    })
                    .collect();
                let label = match (drawn.len(), column.kind) {
                    (1, "") => labels(*point),
                    (1, kind) => format!("{kind} contacts"),
                    (_, "") => labels(*point),
                    (_, kind) => format!("{} · {kind}", labels(*point)),
                };
                c.series.push(Series { label, colour: slot, style: column.style, marks });
            }
        }
        // Shares get their range (0–100% or a labelled zoom) when drawn.
        c.fit(true);
        if !over_time {
            c.x = -0.6..grouped.keys.len() as f64 - 0.4;
        }
        let rows = table_rows(csv, &grouped, spec, key_col)?;
        let mut note = String::from("Mean over replications with 95% CI whiskers.");
        if grouped.points.len() > MAX_POINTS {
            note += &format!(
                " The plot shows the first {MAX_POINTS} points; the table has all {}.",
                grouped.points.len()
            );
        }
        blocks.push(Block {
            id: spec.id.into(),
            title: spec.title.into(),
            question: spec.question.into(),
            svg: chart::svg(&c).map_err(ReportError::Draw)?,
            table: Table { header: table_header(key, spec), rows },
            note,
        });
    }
    Ok(blocks)
}

fn table_header(key: &str, spec: &Plot) -> Vec<String> {
    let mut header = vec!["point".to_string(), key.to_string()];
    header.extend(spec.columns.iter().map(|c| c.metric.to_string()));
    header
}

/// One table row per (point, key), every point (not only those drawn).
fn table_rows(
    csv: &Csv,
    grouped: &Grouped<'_>,
    spec: &Plot,
    key_col: usize,
) -> Result<Vec<Vec<String>>, ReportError> {
    let mut rows = Vec::new();
    for (point, point_rows) in &grouped.points {
        for row in point_rows {
            let mut cells = vec![point.to_string(), row.get(key_col).cloned().unwrap_or_default()];
            for column in spec.columns {
                cells.push(cell(csv, row, column.metric)?);
            }
            rows.push(cells);
        }
    }
    Ok(rows)
}

/// The plots over the day or week, and for a week the weekday × hour heat map.
pub fn intervals(csv: &Csv, labels: &dyn Fn(u64) -> String) -> Result<Vec<Block>, ReportError> {
    let mut blocks = plots(csv, "start", labels, &INTERVAL_PLOTS, true)?;
    let grouped = group(csv, "start")?;
    if super::axes::week_axis(&grouped.keys).is_some() {
        let (start, m) = (csv.column("start")?, csv.column("sl_first_share_mean")?);
        let points: Vec<super::heatmap::PointWeek> = grouped
            .points
            .iter()
            .map(|(point, rows)| {
                let cells = rows
                    .iter()
                    .map(|r| (r.get(start).cloned().unwrap_or_default(), Csv::number(r, m)))
                    .collect();
                (labels(*point), cells)
            })
            .collect();
        blocks.insert(1, super::heatmap::block(&points, MAX_POINTS / 2));
    }
    Ok(blocks)
}

/// The channel plots, when the results have more than one channel.
pub fn channels(csv: &Csv, labels: &dyn Fn(u64) -> String) -> Result<Vec<Block>, ReportError> {
    if group(csv, "channel")?.keys.len() < 2 {
        return Ok(Vec::new());
    }
    plots(csv, "channel", labels, &CHANNEL_PLOTS, false)
}

/// Each channel over the day or week, when the results have several channels: one series per
/// point × channel, named by both (by the channel alone for a single point); the tables name
/// the series the same way.
pub fn channel_intervals(csv: &Csv, labels: &dyn Fn(u64) -> String) -> Result<Vec<Block>, ReportError> {
    let (point_col, channel_col) = (csv.column("point")?, csv.column("channel")?);
    let mut series: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::new();
    for row in &csv.rows {
        let key = (
            row.get(point_col).cloned().unwrap_or_default(),
            row.get(channel_col).cloned().unwrap_or_default(),
        );
        let index = series.iter().position(|s| *s == key).unwrap_or_else(|| {
            series.push(key);
            series.len() - 1
        });
        let mut row = row.clone();
        row[point_col] = index.to_string();
        rows.push(row);
    }
    let points = series.iter().map(|(p, _)| p).collect::<std::collections::BTreeSet<_>>().len();
    if series.is_empty() {
        return Ok(Vec::new());
    }
    let name = |index: u64| {
        let (point, channel) = &series[index as usize];
        match point.parse::<u64>() {
            Ok(p) if points > 1 => format!("{} · {channel}", labels(p)),
            _ => channel.clone(),
        }
    };
    let renumbered = Csv { path: csv.path.clone(), header: csv.header.clone(), rows };
    let mut blocks = plots(&renumbered, "start", &name, &CHANNEL_INTERVAL_PLOTS, true)?;
    for block in &mut blocks {
        block.table.header[0] = "series".into();
        for row in &mut block.table.rows {
            if let Ok(index) = row[0].parse::<u64>() {
                row[0] = name(index);
            }
        }
    }
    Ok(blocks)
}

pub fn pools(csv: &Csv, labels: &dyn Fn(u64) -> String) -> Result<Vec<Block>, ReportError> {
    plots(csv, "pool", labels, &POOL_PLOTS, false)
}
