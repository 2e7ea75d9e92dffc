//! A sweep's points channel by channel: after the blended table, one table per channel with
//! the same axis columns and that channel's own figures (from `channels.csv`), every metric
//! column titled with the channel's name, so `chat in SL` cannot be read as the blend.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{axis_columns, format_value, printable, render_columns, Column};
use crate::metrics::catalog::{scope_metrics, Scope};
use crate::sweep::{PointChannels, SummaryTable};

/// The metric columns of a channel's table: (group, title after the channel's name, metric).
/// Fewer than the blended table's, so a long channel name still fits about 100 columns.
const CHANNEL_SWEEP_COLUMNS: [(&str, &str, &str); 4] = [
    ("first contacts", "p90 wait", "wait_first_p90_s"),
    ("first contacts", "abandoned", "abandon_first_share"),
    ("first contacts", "in SL", "sl_first_share"),
    ("resumed contacts", "in SL", "sl_resumed_share"),
];

/// The channels of `channels`, in the order their points list them (a channel first met at a
/// later point comes after the others).
fn channel_names(channels: &BTreeMap<u64, PointChannels>) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in channels.values().flatten() {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

/// `sweep --by channel` (and the default with several channels): one table per channel, a
/// row per point (`—` where a point does not have the channel). `channels` holds each point's
/// channel summaries as `channels.csv` has them (points with one channel have none).
pub fn render_sweep_channels(table: &SummaryTable, channels: &BTreeMap<u64, PointChannels>) -> String {
    let names = channel_names(channels);
    if names.is_empty() {
        return "\nBy channel: every point has one channel (list [[channels]] to break results down)\n"
            .to_string();
    }
    let infos = scope_metrics(Scope::Channel);
    let mut out = String::new();
    for name in names {
        let shown = printable(name);
        let mut columns = axis_columns(table);
        for (group, title, metric) in CHANNEL_SWEEP_COLUMNS {
            let Some(i) = infos.iter().position(|m| m.name == metric) else { continue };
            let cells = table.rows.iter().map(|row| {
                let summaries = channels.get(&row.point).and_then(|c| c.iter().find(|(n, _)| n == name));
                let mean = summaries.and_then(|(_, values)| values.get(i)).and_then(|s| s.mean);
                mean.map_or("—".to_string(), |v| format_value(v, infos[i].unit))
            });
            columns.push(Column {
                group,
                title: format!("{shown} {title}"),
                cells: cells.collect(),
                left: false,
            });
        }
        let _ = writeln!(
            out,
            "\nChannel {shown} (means over replications; in SL: within {shown}'s own service level)"
        );
        out.push_str(&render_columns(&columns, table.rows.len()));
    }
    let _ = writeln!(out, "(each channel's every metric with its 95% CI is in channels.csv)");
    out
}
