//! The terminal table of a run: mean ± 95% CI half-width, grouped for reading, under 100
//! columns.

use std::fmt::Write;

use crate::metrics::MetricSummary;
use crate::report::RunReport;

#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Share,
    Count,
    Number,
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
        Some((mean, Some(ci))) if matches!(unit, Unit::Seconds) && mean != 0.0 => {
            // The half-width in the mean's unit, so the two read together.
            let (scale, name, decimals) = seconds_unit(mean);
            format!("{:.decimals$} ± {:.decimals$} {name}", mean / scale, ci / scale)
        }
        Some((mean, Some(ci))) => format!("{} ± {}", format_value(mean, unit), format_value(ci, unit)),
    }
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

/// A sweep's summary: one line per point with the metrics of the central trade-off.
pub fn render_sweep(table: &crate::sweep::SummaryTable) -> String {
    let mut out = String::new();
    let columns: [(&str, &str, Unit); 6] = [
        ("p90 first", "wait_first_p90_s", Unit::Seconds),
        ("mean resumed", "wait_resumed_mean_s", Unit::Seconds),
        ("p90 resumed", "wait_resumed_p90_s", Unit::Seconds),
        ("affinity", "affinity_retention_share", Unit::Share),
        ("abandoned", "abandon_resumed_share", Unit::Share),
        ("occupancy", "occupancy_share", Unit::Share),
    ];
    let label_width = table.rows.iter().map(|r| r.describe().chars().count()).max().unwrap_or(5).clamp(5, 36);
    let _ = write!(out, "{:<label_width$}", "point");
    for (title, _, _) in &columns {
        let _ = write!(out, " {title:>12}");
    }
    let _ = writeln!(out);
    for row in &table.rows {
        let mut label = row.describe();
        if label.chars().count() > label_width {
            label = label.chars().take(label_width - 1).collect::<String>() + "…";
        }
        let _ = write!(out, "{label:<label_width$}");
        for (_, name, unit) in &columns {
            let value =
                row.metric(name).and_then(|s| s.mean).map_or("—".to_string(), |v| format_value(v, *unit));
            let _ = write!(out, " {value:>12}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "(means over replications; every metric with its 95% CI is in summary.csv)");
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
}
