//! Terminal tables: a run's metrics (mean ± 95% CI half-width, grouped for reading, under 100
//! columns) and a sweep's points (one column per axis, the central trade-off's means, overloaded
//! points flagged, then each channel's own figures in `sweep_channels`); and how a metric's
//! value is written for a reader.

mod sweep_channels;

use std::fmt::Write;

use crate::metrics::catalog::{index_of, scope_metrics, Scope, Unit};
use crate::metrics::{MetricSummary, METRICS};
use crate::report::RunReport;
use crate::sweep::{SummaryRow, SummaryTable};
pub use sweep_channels::render_sweep_channels;

/// A metric's value in its unit, for a reader: seconds in a readable unit, shares as
/// percentages.
pub fn format_metric(value: f64, unit: Unit) -> String {
    format_value(value, unit)
}

fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => format_seconds(value),
        Unit::Share => format!("{:.2}%", value * 100.0),
        Unit::Count => format!("{value:.0}"),
        Unit::Number => format!("{value:.3}"),
    }
}

/// The scale, name and decimals for a number of seconds of this size.
fn seconds_unit(s: f64) -> (f64, &'static str, usize) {
    if s < 10.0 {
        (1.0, "s", 2)
    } else if s < 600.0 {
        (1.0, "s", 1)
    } else if s < 36_000.0 {
        (60.0, "min", 1)
    } else {
        (3600.0, "h", 1)
    }
}

fn format_seconds(s: f64) -> String {
    if s == 0.0 {
        return "0 s".to_string();
    }
    let (scale, name, decimals) = seconds_unit(s);
    format!("{:.decimals$} {name}", s / scale)
}

fn cell(summary: Option<MetricSummary>, unit: Unit) -> String {
    match summary.and_then(|s| s.mean.map(|m| (m, s.ci95))) {
        None => "—".to_string(),
        Some((mean, None)) => format_value(mean, unit),
        Some((mean, Some(ci))) => format_mean_ci(mean, ci, unit),
    }
}

/// `mean ± half-width`, the half-width in the mean's unit so the two read together.
pub fn format_mean_ci(mean: f64, ci: f64, unit: Unit) -> String {
    if matches!(unit, Unit::Seconds) && mean != 0.0 {
        let (scale, name, decimals) = seconds_unit(mean);
        format!("{:.decimals$} ± {:.decimals$} {name}", mean / scale, ci / scale)
    } else {
        format!("{} ± {}", format_value(mean, unit), format_value(ci, unit))
    }
}

/// Columns of `run --by interval`: (metric, header). Means only, so 24 or 168 rows stay
/// readable in 100 columns; `--format json` has the confidence intervals.
const INTERVAL_COLUMNS: &[(&str, &str)] = &[
    ("contacts_first", "first"),
    ("wait_first_mean_s", "wait 1st"),
    ("sl_first_share", "SL 1st"),
    ("abandon_first_share", "aband 1st"),
    ("sl_resumed_share", "SL res"),
    ("affinity_retention_share", "affinity"),
    ("occupancy_share", "occup"),
    ("agents_on_shift_mean", "agents"),
    ("queue_length_mean", "queue"),
];

/// Columns of `run --by pool`.
const POOL_COLUMNS: &[(&str, &str)] = &[
    ("contacts_handled", "handled"),
    ("occupancy_share", "occupancy"),
    ("utilization_share", "utilization"),
    ("agents_on_shift_mean", "agents"),
    ("affinity_retention_share", "affinity"),
];

const CHANNEL_COLUMNS: &[(&str, &str)] = &[
    ("contacts_first", "first"),
    ("wait_first_mean_s", "wait first"),
    ("sl_first_share", "SL first"),
    ("abandon_first_share", "abandoned"),
    ("wait_resumed_mean_s", "wait resumed"),
    ("sl_resumed_share", "SL resumed"),
    ("affinity_retention_share", "affinity"),
];

/// A breakdown as a table: one row per label, the means of `columns` of `scope`.
fn breakdown_table(
    title: &str,
    scope: Scope,
    columns: &[(&str, &str)],
    rows: &[(String, Vec<MetricSummary>)],
) -> String {
    let infos = scope_metrics(scope);
    let position = |name: &str| infos.iter().position(|m| m.name == name);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, row)| {
            let mut line = vec![printable(label)];
            line.extend(columns.iter().map(|(name, _)| {
                let cell = position(name).and_then(|i| row.get(i).and_then(|s| s.mean).map(|m| (i, m)));
                cell.map_or("—".to_string(), |(i, m)| format_value(m, infos[i].unit))
            }));
            line
        })
        .collect();
    let header: Vec<String> =
        std::iter::once(String::new()).chain(columns.iter().map(|c| c.1.to_string())).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = format!("\n{title}\n");
    out.push_str(&line(&header));
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

/// `run --by interval`: one row per interval (means over replications).
pub fn render_intervals(report: &RunReport) -> String {
    let spec = report.breakdown;
    let rows: Vec<(String, Vec<MetricSummary>)> = report
        .totals
        .interval_summaries()
        .into_iter()
        .enumerate()
        .map(|(i, row)| (spec.start_label(i), row))
        .collect();
    let title = format!(
        "By interval ({} fold, {} per row; contacts by ready time, means over replications)",
        spec.fold.name(),
        format_seconds(spec.interval_s)
    );
    breakdown_table(&title, Scope::Interval, INTERVAL_COLUMNS, &rows)
}

/// `run --by pool`: one row per agent pool (means over replications).
pub fn render_pools(report: &RunReport) -> String {
    let rows: Vec<(String, Vec<MetricSummary>)> =
        report.pool_names.iter().cloned().zip(report.totals.pool_summaries()).collect();
    breakdown_table("By pool (means over replications)", Scope::Pool, POOL_COLUMNS, &rows)
}

/// `run --by channel`: one row per channel (means over replications; service levels against
/// each channel's own thresholds). A scenario with one channel has no such breakdown.
pub fn render_channels(report: &RunReport) -> String {
    let rows: Vec<(String, Vec<MetricSummary>)> =
        report.channel_names.iter().cloned().zip(report.totals.channel_summaries()).collect();
    if rows.is_empty() {
        return "\nBy channel: the scenario has one channel (list [[channels]] to break results down)\n"
            .to_string();
    }
    breakdown_table("By channel (means over replications)", Scope::Channel, CHANNEL_COLUMNS, &rows)
}

/// A labelled metric and how to show it.
type Row = (&'static str, &'static str, Unit);

/// Renders the report as text.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let m = |name: &str| report.metric(name);
    let _ = writeln!(
        out,
        "{} · {} · {} agents / {} slots · {} replications · seed {}",
        report.scenario,
        report.policy,
        report.agents,
        report.slots,
        report.replications.len(),
        report.seed
    );
    let _ = writeln!(out, "mean ± 95% CI half-width over replications\n");

    let _ = writeln!(out, "{:<26}{:>30}{:>30}", "WAITS", "first contacts", "resumed contacts");
    let paired: [(&str, &str, &str, Unit); 10] = [
        ("mean", "wait_first_mean_s", "wait_resumed_mean_s", Unit::Seconds),
        ("p50", "wait_first_p50_s", "wait_resumed_p50_s", Unit::Seconds),
        ("p90", "wait_first_p90_s", "wait_resumed_p90_s", Unit::Seconds),
        ("p95", "wait_first_p95_s", "wait_resumed_p95_s", Unit::Seconds),
        ("p99", "wait_first_p99_s", "wait_resumed_p99_s", Unit::Seconds),
        ("max", "wait_first_max_s", "wait_resumed_max_s", Unit::Seconds),
        ("waited (not at once)", "waited_first_share", "waited_resumed_share", Unit::Share),
        ("within service level", "sl_first_share", "sl_resumed_share", Unit::Share),
        ("abandoned", "abandon_first_share", "abandon_resumed_share", Unit::Share),
        ("contacts", "contacts_first", "contacts_resumed", Unit::Count),
    ];
    for (label, first, resumed, unit) in paired {
        let _ = writeln!(out, "  {:<24}{:>30}{:>30}", label, cell(m(first), unit), cell(m(resumed), unit));
    }

    let sections: [(&str, &[Row]); 3] = [
        (
            "AFFINITY",
            &[
                ("retention (owner picked up)", "affinity_retention_share", Unit::Share),
                ("handoffs per conversation", "handoffs_per_conversation", Unit::Number),
                ("single-agent conversations", "single_agent_conversation_share", Unit::Share),
                ("timeouts fired (to the pool)", "fallbacks_fired", Unit::Count),
                ("owner off shift (to the pool)", "owner_offline_reroutes", Unit::Count),
            ],
        ),
        (
            "AGENT LOAD",
            &[
                ("occupancy (slots busy)", "occupancy_share", Unit::Share),
                ("utilization (≥1 contact)", "utilization_share", Unit::Share),
                ("occupancy min / agent", "agent_occupancy_min", Unit::Share),
                ("occupancy max / agent", "agent_occupancy_max", Unit::Share),
                ("occupancy CV across agents", "agent_occupancy_cv", Unit::Number),
                ("queue length, mean", "queue_length_mean", Unit::Number),
                ("queue length, max", "queue_length_max", Unit::Count),
                ("personal queues, mean", "personal_queue_length_mean", Unit::Number),
                ("longest personal queue", "personal_queue_length_max", Unit::Count),
            ],
        ),
        (
            "CONVERSATIONS",
            &[
                ("resolved", "conversations_resolved", Unit::Count),
                ("abandoned", "conversations_abandoned", Unit::Count),
                ("duration, mean", "conversation_duration_mean_s", Unit::Seconds),
                ("contacts unfinished", "unfinished_contacts", Unit::Count),
            ],
        ),
    ];
    for (title, rows) in sections {
        let _ = writeln!(out, "\n{title}");
        for (label, name, unit) in rows {
            let _ = writeln!(out, "  {:<32}{:>30}", label, cell(m(name), *unit));
        }
    }
    // Capacity held between contacts: shown only when something was held, closed or went past
    // capacity, so that runs without `[capacity]` print what they always did.
    let capacity: [Row; 4] = [
        ("occupancy in handling", "occupancy_handling_share", Unit::Share),
        ("occupancy held (silent)", "occupancy_held_share", Unit::Share),
        ("reactivations past capacity", "reactivations_over_capacity", Unit::Count),
        ("closed for inactivity", "closed_by_inactivity_share", Unit::Share),
    ];
    if capacity[1..].iter().any(|(_, name, _)| m(name).and_then(|s| s.mean).is_some_and(|v| v > 0.0)) {
        let _ = writeln!(out, "\nCAPACITY HELD BETWEEN CONTACTS");
        for (label, name, unit) in capacity {
            let _ = writeln!(out, "  {:<32}{:>30}", label, cell(m(name), unit));
        }
    }
    let events = report.events();
    let _ = writeln!(
        out,
        "\nENGINE  {} events in {:.3} s wall ({:.2} M events/s over all threads)",
        events,
        report.wall_s,
        events as f64 / report.wall_s.max(1e-9) / 1e6
    );
    out
}

/// The metric columns of a sweep table: (group, title, metric).
const SWEEP_COLUMNS: [(&str, &str, &str); 9] = [
    ("first contacts", "p90 wait", "wait_first_p90_s"),
    ("first contacts", "abandoned", "abandon_first_share"),
    ("first contacts", "in SL", "sl_first_share"),
    ("resumed contacts", "mean wait", "wait_resumed_mean_s"),
    ("resumed contacts", "p90 wait", "wait_resumed_p90_s"),
    ("resumed contacts", "abandoned", "abandon_resumed_share"),
    ("resumed contacts", "in SL", "sl_resumed_share"),
    ("", "affinity", "affinity_retention_share"),
    ("", "occupancy", "occupancy_share"),
];

/// Mean occupancy at or above which a point is flagged as overloaded: agents never idle.
const OVERLOAD_OCCUPANCY: f64 = 0.98;
/// Share of the window's contacts still waiting at the horizon above which a point is flagged:
/// the queue grew during the run instead of draining.
const OVERLOAD_UNFINISHED: f64 = 0.05;
/// Marks an overloaded point, after its occupancy.
const OVERLOAD_MARK: &str = " *";

/// Whether a point's queue does not drain: its waits describe the horizon, not a steady state.
fn overloaded(row: &SummaryRow) -> bool {
    let mean = |name: &str| row.metric(name).and_then(|s| s.mean);
    let busy = mean("occupancy_share").is_some_and(|o| o >= OVERLOAD_OCCUPANCY);
    let contacts = mean("contacts_first").unwrap_or(0.0) + mean("contacts_resumed").unwrap_or(0.0);
    let unfinished = mean("unfinished_contacts").unwrap_or(0.0);
    busy || (contacts > 0.0 && unfinished > OVERLOAD_UNFINISHED * contacts)
}

/// Control characters escaped, so a value cannot rewrite the terminal or hide a row.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// A column of the sweep table: its group label, title, cells and alignment.
struct Column {
    group: &'static str,
    title: String,
    cells: Vec<String>,
    left: bool,
}

impl Column {
    fn width(&self) -> usize {
        self.cells.iter().chain([&self.title]).map(|c| c.chars().count()).max().unwrap_or(0)
    }
}

/// One column per axis with its values in full (the policy label when there are no axes).
fn axis_columns(table: &SummaryTable) -> Vec<Column> {
    let axis_names: Vec<String> = match table.rows.first() {
        Some(row) if !row.axes.is_empty() => row.axes.iter().map(|(name, _)| printable(name)).collect(),
        _ => vec!["policy".to_string()],
    };
    axis_names
        .into_iter()
        .enumerate()
        .map(|(a, title)| Column {
            group: "",
            title,
            cells: table
                .rows
                .iter()
                .map(|r| printable(r.axes.get(a).map_or(&r.policy, |(_, value)| value)))
                .collect(),
            left: true,
        })
        .collect()
}

/// The axis columns, then the metric columns.
fn sweep_columns(table: &SummaryTable) -> Vec<Column> {
    let mut columns = axis_columns(table);
    for (group, title, name) in SWEEP_COLUMNS {
        let unit = index_of(name).map_or(Unit::Number, |i| METRICS[i].unit);
        let cells = table.rows.iter().map(|row| {
            row.metric(name).and_then(|s| s.mean).map_or("—".to_string(), |v| format_value(v, unit))
        });
        let mut column = Column { group, title: title.to_string(), cells: cells.collect(), left: false };
        if name == "occupancy_share" {
            for (cell, row) in column.cells.iter_mut().zip(&table.rows) {
                cell.push_str(if overloaded(row) { OVERLOAD_MARK } else { "  " });
            }
            column.title.push_str("  ");
        }
        columns.push(column);
    }
    columns
}

fn starts_group(columns: &[Column], i: usize) -> bool {
    !columns[i].group.is_empty() && (i == 0 || columns[i - 1].group != columns[i].group)
}

/// The separator before column `i`: one space inside a group, two between groups.
fn gap(columns: &[Column], i: usize) -> &'static str {
    match i {
        0 => "",
        _ if columns[i].group == columns[i - 1].group => " ",
        _ => "  ",
    }
}

/// Each group's label over the first column of the group.
fn group_line(columns: &[Column], widths: &[usize]) -> String {
    let mut text = String::new();
    let mut at = 0;
    for (i, width) in widths.iter().enumerate() {
        at += gap(columns, i).len();
        if starts_group(columns, i) {
            let pad = at.saturating_sub(text.chars().count()).max(usize::from(!text.is_empty()));
            let _ = write!(text, "{:pad$}{}", "", columns[i].group);
        }
        at += width;
    }
    text
}

/// One line of the table: `cell(i)` for each column, aligned.
fn table_line(columns: &[Column], widths: &[usize], cell: impl Fn(&Column) -> String) -> String {
    let mut text = String::new();
    for (i, (column, width)) in columns.iter().zip(widths).enumerate() {
        let value = cell(column);
        let _ = if column.left {
            write!(text, "{}{value:<width$}", gap(columns, i))
        } else {
            write!(text, "{}{value:>width$}", gap(columns, i))
        };
    }
    text.trim_end().to_string()
}

/// The group line, the titles and `rows` lines of cells, aligned.
fn render_columns(columns: &[Column], rows: usize) -> String {
    let widths: Vec<usize> = columns.iter().map(Column::width).collect();
    let mut out = String::new();
    let _ = writeln!(out, "{}", group_line(columns, &widths));
    let _ = writeln!(out, "{}", table_line(columns, &widths, |c| c.title.clone()));
    for r in 0..rows {
        let _ = writeln!(out, "{}", table_line(columns, &widths, |c| c.cells[r].clone()));
    }
    out
}

/// A sweep's summary: one line per point with the metrics of the central trade-off.
pub fn render_sweep(table: &SummaryTable) -> String {
    let mut out = render_columns(&sweep_columns(table), table.rows.len());
    let _ =
        writeln!(out, "(means over replications; in SL: picked up within the service level; every metric");
    let _ = writeln!(out, " with its 95% CI is in summary.csv)");
    if table.rows.iter().any(overloaded) {
        let _ = writeln!(
            out,
            "{} overloaded: occupancy >= {:.0}% or over {:.0}% of the contacts still waiting at the horizon;",
            OVERLOAD_MARK.trim(),
            OVERLOAD_OCCUPANCY * 100.0,
            OVERLOAD_UNFINISHED * 100.0
        );
        let _ = writeln!(out, "  its waits grow with the horizon and describe no steady state");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_pick_a_readable_unit() {
        assert_eq!(format_seconds(0.0), "0 s");
        assert_eq!(format_seconds(1.234), "1.23 s");
        assert_eq!(format_seconds(67.41), "67.4 s");
        assert_eq!(format_seconds(900.0), "15.0 min");
        assert_eq!(format_seconds(86_400.0), "24.0 h");
    }

    fn sweep_row(axes: &[(&str, &str)], occupancy: f64, unfinished: f64) -> SummaryRow {
        let mut metrics = vec![MetricSummary { mean: None, ci95: None, n: 0 }; METRICS.len()];
        let mut set = |name: &str, value: f64| {
            metrics[index_of(name).unwrap()] = MetricSummary { mean: Some(value), ci95: Some(0.0), n: 2 }
        };
        set("occupancy_share", occupancy);
        set("unfinished_contacts", unfinished);
        set("contacts_first", 100.0);
        set("contacts_resumed", 100.0);
        set("abandon_first_share", 0.0123);
        set("sl_resumed_share", 0.9876);
        SummaryRow {
            point: 0,
            axes: axes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            policy: "sticky".into(),
            replications: 2,
            metrics,
        }
    }

    #[test]
    fn sweep_rows_show_every_axis_value_in_full() {
        // These labels once shared their first 35 characters and printed the same.
        let long = "policy.a_rather_long_option_name";
        let rows =
            ["x1", "x2"].map(|v| sweep_row(&[(long, "same-prefix"), ("agents.team.count", v)], 0.5, 0.0));
        let text = render_sweep(&SummaryTable::new(rows.to_vec()));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with(&format!("{long} agents.team.count")), "{text}");
        assert!(lines[2].starts_with("same-prefix") && lines[2].contains(" x1 "), "{text}");
        assert!(lines[3].contains(" x2 "), "{text}");
        assert!(lines[0].contains("first contacts") && lines[0].contains("resumed contacts"), "{text}");
        assert!(lines[2].contains("1.23%") && lines[2].contains("98.76%"), "{text}");
        assert!(!text.contains("overloaded"), "{text}");
    }

    #[test]
    fn overloaded_points_are_flagged_with_a_footnote() {
        let rows = vec![
            sweep_row(&[("x", "ok")], 0.60, 1.0),
            sweep_row(&[("x", "busy")], 0.99, 0.0),
            sweep_row(&[("x", "backlog")], 0.90, 30.0),
        ];
        let text = render_sweep(&SummaryTable::new(rows));
        let flagged: Vec<&str> = text.lines().filter(|l| l.ends_with(" *")).collect();
        assert_eq!(flagged.len(), 2, "{text}");
        assert!(flagged[0].starts_with("busy") && flagged[1].starts_with("backlog"), "{text}");
        assert!(text.contains("* overloaded: occupancy >= 98%"), "{text}");
    }

    #[test]
    fn control_characters_in_values_are_escaped() {
        let text = render_sweep(&SummaryTable::new(vec![sweep_row(&[("x", "a\u{1b}[2Jb")], 0.5, 0.0)]));
        assert!(text.contains("a\\u{1b}[2Jb") && !text.contains('\u{1b}'), "{text}");
    }
}
