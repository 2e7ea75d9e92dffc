//! The key numbers of each point (a table from `summary.csv`) and, for a sweep, the
//! affinity–wait frontier: what affinity retention each point buys against its mean and p90
//! resumed wait, with 95% CI whiskers both ways.

use super::chart::{self, Chart, Mark, Series, Style};
use super::data::point_label;
use super::page::{Block, Table};
use crate::metrics::catalog::index_of;
use crate::metrics::MetricSummary;
use crate::sweep::SummaryRow;

/// The summary's metrics shown in the key-numbers tables: (metric, column title), waits in
/// one table and shares in another, so that each fits the page (no column cut off).
const KEY_WAITS: [(&str, &str); 3] = [
    ("wait_first_mean_s", "first wait, mean (s)"),
    ("wait_resumed_mean_s", "resumed wait, mean (s)"),
    ("wait_resumed_p90_s", "resumed wait, p90 (s)"),
];
const KEY_SHARES: [(&str, &str); 5] = [
    ("sl_first_share", "first within SL"),
    ("sl_resumed_share", "resumed within SL"),
    ("abandon_resumed_share", "resumed abandoned"),
    ("affinity_retention_share", "affinity retention"),
    ("occupancy_share", "occupancy"),
];

/// Metric `name` of a summary row (undefined if the name is not in the catalog).
pub fn metric(row: &SummaryRow, name: &str) -> MetricSummary {
    index_of(name).and_then(|i| row.metrics.get(i)).copied().unwrap_or(MetricSummary {
        mean: None,
        ci95: None,
        n: 0,
    })
}

/// `mean ± ci` as a cell, shares in percent; "–" when undefined.
pub fn cell(s: &MetricSummary, share: bool) -> String {
    let scale = if share { 100.0 } else { 1.0 };
    let unit = if share { "%" } else { "" };
    match (s.mean, s.ci95) {
        (Some(m), Some(c)) => {
            format!("{}{unit} ± {}{unit}", chart::number(m * scale), chart::number(c * scale))
        }
        (Some(m), None) => format!("{}{unit}", chart::number(m * scale)),
        _ => "–".into(),
    }
}

/// The key numbers in two tables: the waits (with each point's policy and replications), then
/// the shares (service level, abandonment, affinity, occupancy).
pub fn key_numbers(rows: &[SummaryRow]) -> Vec<Block> {
    // A run (or a sweep over the policy) names its points by their policy: no second column.
    let policy_column = rows.iter().any(|r| point_label(r) != r.policy);
    let mut header = vec!["point".to_string()];
    if policy_column {
        header.push("policy".into());
    }
    header.push("replications".into());
    header.extend(KEY_WAITS.iter().map(|(_, t)| t.to_string()));
    let cells = |r: &SummaryRow, metrics: &[(&str, &str)]| -> Vec<String> {
        metrics.iter().map(|(m, _)| cell(&metric(r, m), m.ends_with("_share"))).collect()
    };
    let waits = rows
        .iter()
        .map(|r| {
            let mut row = vec![point_label(r)];
            if policy_column {
                row.push(r.policy.clone());
            }
            row.push(r.replications.to_string());
            row.extend(cells(r, &KEY_WAITS));
            row
        })
        .collect();
    let mut shares_header = vec!["point".to_string()];
    shares_header.extend(KEY_SHARES.iter().map(|(_, t)| t.to_string()));
    let shares =
        rows.iter().map(|r| std::iter::once(point_label(r)).chain(cells(r, &KEY_SHARES)).collect()).collect();
    let block = |id: &str, title: &str, question: &str, table| Block {
        id: id.into(),
        title: title.into(),
        question: format!("{question} (mean ± 95% CI half-width over replications, from summary.csv)"),
        svg: String::new(),
        table,
        note: String::new(),
    };
    vec![
        block("key-numbers", "Key numbers: waits", "How long does each point's customers wait?", Table { header, rows: waits }),
        block(
            "key-numbers-shares",
            "Key numbers: service level, affinity and load",
            "What share of contacts does each point answer in time, keep with their owner, lose, and how busy are its agents?",
            Table { header: shares_header, rows: shares },
        ),
    ]
}

/// Points that land on one spot (policies that behave the same on this load) get one label,
/// their names joined, so that labels never print over each other there.
fn merge_close_labels(marks: &mut [Mark], x_span: f64, y_span: f64) {
    for i in 1..marks.len() {
        let (head, tail) = marks.split_at_mut(i);
        let m = &mut tail[0];
        let near = |o: &&mut Mark| (o.x - m.x).abs() < x_span * 0.015 && (o.y - m.y).abs() < y_span * 0.015;
        if let Some(first) = head.iter_mut().find(|o| o.label.is_some() && near(o)) {
            let joined =
                format!("{}, {}", first.label.take().unwrap_or_default(), m.label.take().unwrap_or_default());
            first.label = Some(joined);
        }
    }
}

/// The frontier, for two or more points with resumed waits and affinity defined.
pub fn frontier(rows: &[SummaryRow]) -> Result<Option<Block>, String> {
    let usable: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| {
            metric(r, "affinity_retention_share").mean.is_some()
                && metric(r, "wait_resumed_mean_s").mean.is_some()
        })
        .collect();
    if usable.len() < 2 {
        return Ok(None);
    }
    let mark = |r: &SummaryRow, wait: &str, labelled: bool| {
        let (w, a) = (metric(r, wait), metric(r, "affinity_retention_share"));
        Mark {
            x: w.mean.unwrap_or(0.0),
            y: a.mean.unwrap_or(0.0),
            x_ci: w.ci95,
            y_ci: a.ci95,
            label: labelled.then(|| point_label(r)),
        }
    };
    let mut c = Chart::new(
        "Affinity–wait frontier",
        "resumed-contact wait (s)",
        "affinity retention (owner picked up)",
    );
    let series = |label: &str, colour, wait, labelled| Series {
        label: label.into(),
        colour,
        style: Style::Points,
        marks: usable.iter().map(|r| mark(r, wait, labelled)).collect(),
    };
    c.series.push(series("mean wait", 0, "wait_resumed_mean_s", true));
    c.series.push(series("p90 wait", 3, "wait_resumed_p90_s", false));
    c.fit(false);
    c.x.start = c.x.start.min(0.0);
    merge_close_labels(&mut c.series[0].marks, c.x.end - c.x.start, c.y.end - c.y.start);
    c.y_percent = true;
    let header = ["point", "affinity retention", "resumed wait, mean (s)", "resumed wait, p90 (s)"];
    let table_rows = usable
        .iter()
        .map(|r| {
            vec![
                point_label(r),
                cell(&metric(r, "affinity_retention_share"), true),
                cell(&metric(r, "wait_resumed_mean_s"), false),
                cell(&metric(r, "wait_resumed_p90_s"), false),
            ]
        })
        .collect();
    Ok(Some(Block {
        id: "frontier".into(),
        title: "Affinity–wait frontier".into(),
        question: "What does each point of the sweep buy in affinity (resumed contacts answered by their owner) for what it costs in resumed-contact wait?".into(),
        svg: chart::svg(&c)?,
        table: Table { header: header.iter().map(|h| h.to_string()).collect(), rows: table_rows },
        note: "Each point twice: its mean resumed wait (blue, labelled by its axis values) and its p90 (vermillion), at its affinity retention; whiskers are 95% CIs over replications. Up and to the left is better.".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_one_spot_share_one_label() {
        let mark = |x: f64, label: &str| Mark { label: Some(label.into()), ..Mark::at(x, 1.0) };
        let mut marks = vec![mark(10.0, "a"), mark(50.0, "b"), mark(10.1, "c")];
        merge_close_labels(&mut marks, 100.0, 1.0);
        let labels: Vec<Option<&str>> = marks.iter().map(|m| m.label.as_deref()).collect();
        assert_eq!(labels, [Some("a, c"), Some("b"), None]);
    }
}
