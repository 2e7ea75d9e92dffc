//! `convosim report` and `--report`: the page is well-formed, has each expected plot (by id)
//! with the numbers of the results files in its tables, for a sweep, merged shards (the same
//! plots as the whole sweep), a staffing run and a multi-channel run; bad input is one line.
//! What a planner sees in a browser is checked in `report_browser` (headless Chromium).

use std::path::{Path, PathBuf};

use crate::cli::{assert_one_line_error, convosim};

/// A 3-point policy sweep of the quickstart center, 2 replications (quick in debug builds).
pub(crate) fn sweep_file(dir: &Path) -> PathBuf {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let text = format!(
        "name = \"report-test\"\nbase = \"{}\"\nreplications = 2\nseed = 5\n\n[axes]\npolicy = [\"next-available\", \"hybrid-5m\", \"sticky\"]\n",
        base.display()
    );
    let path = dir.join("sweep.toml");
    std::fs::write(&path, text).expect("the sweep file is written");
    path
}

pub(crate) fn run_ok(args: &[&str]) {
    let output = convosim().args(args).output().expect("convosim runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `sweep FILE --out OUT --quiet --report`, which must succeed.
pub(crate) fn sweep_with_report(file: &Path, out: &Path) {
    run_ok(&[
        "sweep",
        &file.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--quiet",
        "--report",
    ]);
}

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Tags balance (XML-style: every element closed, `<x/>` self-closed), no stray `<` in text.
pub(crate) fn assert_well_formed(html: &str) {
    let body = html.strip_prefix("<!DOCTYPE html>\n").expect("a doctype first");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("every tag is closed") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "a '<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(top, name, "</{name}> closes <{top}>");
        } else if !tag.ends_with('/') && !tag.starts_with('!') && !tag.starts_with('?') {
            stack.push(tag.split_whitespace().next().unwrap_or_default().to_string());
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    // Self-contained: no script, nothing loaded from elsewhere (SVG's xmlns is a name, not a load).
    for loads in ["<script", "src=", "href=\"http", "url(", "@import", "<link"] {
        assert!(!html.contains(loads), "the page has {loads}");
    }
}

/// The rows of the table under plot `id` (header first), cells unescaped.
pub(crate) fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start =
        html.find(&format!("<table id=\"table-{id}\">")).unwrap_or_else(|| panic!("no table for {id}"));
    let end = html[start..].find("</table>").expect("the table ends") + start;
    html[start..end]
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split(['<'])
                .filter_map(|piece| piece.strip_prefix("td>").or_else(|| piece.strip_prefix("th>")))
                .map(|cell| {
                    cell.replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&quot;", "\"")
                        .replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

/// The texts drawn in the SVG of figure `id` (tick labels, titles, point labels), in order.
pub(crate) fn svg_texts(html: &str, id: &str) -> Vec<String> {
    let start = html.find(&format!("<figure id=\"{id}\"")).unwrap_or_else(|| panic!("no figure {id}"));
    let figure = &html[start..start + html[start..].find("</svg>").expect("the SVG ends")];
    figure
        .split("<text")
        .skip(1)
        .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim().replace("&amp;", "&")))
        .collect()
}

/// The percentages among `texts` (a share axis' tick labels), in percent.
pub(crate) fn percent_ticks(texts: &[String]) -> Vec<f64> {
    texts.iter().filter_map(|t| t.strip_suffix('%')?.parse::<f64>().ok()).collect()
}

/// The mean of a `mean ± ci` cell (shares in percent back to shares).
fn cell_mean(cell: &str) -> f64 {
    let mean = cell.split(" ± ").next().expect("a mean");
    match mean.strip_suffix('%') {
        Some(p) => p.parse::<f64>().expect("a number") / 100.0,
        None => mean.parse().unwrap_or_else(|_| panic!("not a number: {cell}")),
    }
}

/// A CSV file as header and rows.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut lines = text.lines().map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
    let header = lines.next().expect("a header");
    (header, lines.collect())
}

fn close(shown: f64, exact: f64, what: &str) {
    // Cells show 3 decimals (no decimals from 100 up): half a unit of the last digit.
    let slack = if exact.abs() >= 100.0 { 0.5 } else { 0.0005 } + 1e-9;
    assert!((shown - exact).abs() <= slack * 1.0001 + 5e-6, "{what}: shown {shown}, file {exact}");
}

/// Every `mean ± ci` column of the table under `id` against the CSV's `<metric>_mean`, rows
/// matched by position; `key_cols` table columns are keys (point, start...).
fn assert_table_matches(html: &str, id: &str, csv: &Path, metrics: &[&str], key_cols: usize) {
    let rows = table(html, id);
    let (header, data) = csv_rows(csv);
    assert_eq!(rows.len() - 1, data.len(), "{id}: one table row per CSV row");
    for (row, record) in rows[1..].iter().zip(&data) {
        for (k, metric) in metrics.iter().enumerate() {
            let col = header.iter().position(|h| *h == format!("{metric}_mean")).expect("the column");
            let share = metric.ends_with("_share");
            let exact: f64 = record[col].parse().expect("a number");
            let shown = cell_mean(&row[key_cols + k]);
            close(
                if share { shown * 100.0 } else { shown },
                if share { exact * 100.0 } else { exact },
                &format!("{id} {metric}"),
            );
        }
    }
}

/// The page from the first `<nav>` on: the plots and tables, without the lines about the folder.
fn plots_part(html: &str) -> &str {
    &html[html.find("<nav>").expect("a contents list")..]
}

#[test]
fn a_sweep_report_has_every_plot_and_the_numbers_of_its_files() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let sweep = sweep_file(tmp.path());
    let out = tmp.path().join("whole");
    sweep_with_report(&sweep, &out);
    let html = read(&out.join("report.html"));
    assert_well_formed(&html);
    for id in [
        "key-numbers",
        "frontier",
        "wait-cdf-first",
        "wait-cdf-resumed",
        "interval-service-level",
        "interval-wait",
        "interval-occupancy",
        "interval-agents",
        "pool-occupancy",
        "pool-agents",
        "pool-affinity",
    ] {
        assert!(html.contains(&format!("id=\"section-{id}\"")), "no {id}");
    }
    for id in ["frontier", "wait-cdf-resumed", "interval-wait", "pool-occupancy"] {
        assert!(html.contains(&format!("<figure id=\"{id}\" class=\"plot\"><svg")), "{id} is an inline SVG");
    }
    // One channel: no channel plots.
    assert!(!html.contains("section-channel-"), "channel plots with one channel");
    // Points labelled by their axis values on the frontier (inside its SVG, not only its table).
    let figure = &html[html.find("<figure id=\"frontier\"").expect("the frontier")..];
    let figure = &figure[..figure.find("</figure>").expect("the figure ends")];
    for label in ["next-available", "hybrid-5m", "sticky"] {
        assert!(figure.contains(label), "the frontier labels {label}");
    }
    let summary = out.join("summary.csv");
    let waits = ["wait_first_mean_s", "wait_resumed_mean_s", "wait_resumed_p90_s"];
    assert_table_matches(&html, "key-numbers", &summary, &waits, 3);
    let shares = [
        "sl_first_share",
        "sl_resumed_share",
        "abandon_resumed_share",
        "affinity_retention_share",
        "occupancy_share",
    ];
    assert_table_matches(&html, "key-numbers-shares", &summary, &shares, 1);
    assert_table_matches(
        &html,
        "frontier",
        &summary,
        &["affinity_retention_share", "wait_resumed_mean_s", "wait_resumed_p90_s"],
        1,
    );
    let intervals = out.join("intervals.csv");
    assert_table_matches(
        &html,
        "interval-wait",
        &intervals,
        &["wait_first_mean_s", "wait_resumed_mean_s"],
        2,
    );
    assert_table_matches(&html, "interval-agents", &intervals, &["agents_on_shift_mean"], 2);
    assert_table_matches(&html, "pool-occupancy", &out.join("pools.csv"), &["occupancy_share"], 2);

    // Merged shards give the same plots and tables as the whole sweep.
    let sweep_arg = sweep.display().to_string();
    let shards: Vec<String> =
        (1..=2).map(|k| tmp.path().join(format!("shard-{k}")).display().to_string()).collect();
    for (k, shard) in shards.iter().enumerate() {
        run_ok(&["sweep", &sweep_arg, "--shard", &format!("{}/2", k + 1), "--out", shard, "--quiet"]);
    }
    let merged = tmp.path().join("merged");
    let merged_arg = merged.display().to_string();
    run_ok(&["merge", &shards[0], &shards[1], "--out", &merged_arg, "--report"]);
    let page = tmp.path().join("merged.html");
    run_ok(&["report", &merged_arg, "--out", &page.display().to_string()]);
    let merged_html = read(&page);
    assert_eq!(read(&merged.join("report.html")), merged_html, "merge --report writes what report does");
    assert!(merged_html.contains("merged sweep") && merged_html.contains("merged from 2 shards"));
    assert_eq!(plots_part(&merged_html), plots_part(&html), "merged shards plot as the whole sweep");
}

#[test]
fn a_multi_channel_run_has_channel_plots_with_the_numbers_of_channels_csv() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("run");
    let out_arg = out.display().to_string();
    run_ok(&["run", "scenarios/chat-messaging.toml", "--replications", "2", "--out", &out_arg, "--report"]);
    let html = read(&out.join("report.html"));
    assert_well_formed(&html);
    for id in [
        "channel-service-level",
        "channel-wait-first",
        "channel-wait-resumed",
        "channel-interval-service-level",
        "channel-interval-wait",
        "wait-cdf-first",
        "pool-agents",
    ] {
        assert!(html.contains(&format!("<figure id=\"{id}\" class=\"plot\"><svg")), "no {id}");
    }
    assert!(!html.contains("id=\"frontier\""), "no frontier for a single point");
    let channels = out.join("channels.csv");
    // Service level of first and resumed contacts (chat replies) per channel.
    let both = ["sl_first_share", "sl_resumed_share"];
    assert_table_matches(&html, "channel-service-level", &channels, &both, 2);
    assert_table_matches(&html, "channel-wait-resumed", &channels, &["wait_resumed_mean_s"], 2);
    // Each channel over the day: rows in channel_intervals.csv's order, named by the channel.
    let by_interval = out.join("channel_intervals.csv");
    assert_table_matches(&html, "channel-interval-service-level", &by_interval, &both, 2);
    assert_table_matches(&html, "channel-interval-wait", &by_interval, &["wait_first_mean_s"], 2);
    let rows = table(&html, "channel-interval-wait");
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), ("chat", "00:00"));
    assert_eq!((rows[25][0].as_str(), rows[25][1].as_str()), ("messaging", "00:00"));
    assert_table_matches(&html, "key-numbers", &out.join("summary.csv"), &["wait_first_mean_s"], 2);
}

#[test]
fn a_staffing_run_has_its_curve_and_agent_hours() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("staff");
    let out_arg = out.display().to_string();
    run_ok(&[
        "staff",
        "scenarios/mmc.toml",
        "--pool",
        "team",
        "--target",
        "waited_first_share<=0.3",
        "--policies",
        "next-available,sticky",
        "--replications",
        "2",
        "--out",
        &out_arg,
        "--report",
    ]);
    assert!(out.join("staffed-sticky.toml").is_file() && out.join("manifest.json").is_file());
    let html = read(&out.join("report.html"));
    assert_well_formed(&html);
    for id in ["staff-curve-waited_first_share", "staff-agent-hours"] {
        assert!(html.contains(&format!("<figure id=\"{id}\" class=\"plot\"><svg")), "no {id}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&read(&out.join("staff.json"))).expect("staff.json is JSON");
    let rows = table(&html, "staff-agent-hours");
    let answers = doc["answers"].as_array().expect("answers");
    assert_eq!(rows.len() - 1, answers.len());
    for (row, answer) in rows[1..].iter().zip(answers) {
        assert_eq!(row[0], answer["policy"].as_str().unwrap_or_default());
        assert_eq!(row[1], answer["count"].to_string());
        close(
            row[2].parse().expect("agent-hours"),
            answer["agent_hours_per_week"].as_f64().expect("a number"),
            "agent-hours",
        );
    }
    // The folder is verified like any results folder: a changed staff.json is refused.
    std::fs::write(out.join("staff.json"), "{}").expect("tampered");
    assert_one_line_error(convosim().args(["report", &out_arg]), &["staff.json", "SHA-256"]);
}

#[test]
fn a_per_interval_staffing_run_has_its_vector_and_achieved_plots() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("staff");
    let out_arg = out.display().to_string();
    run_ok(&[
        "staff",
        "scenarios/staffing-vector.toml",
        "--pool",
        "team",
        "--per-interval",
        "--target",
        "sl_first_share>=0.8",
        "--replications",
        "2",
        "--out",
        &out_arg,
        "--report",
    ]);
    let html = read(&out.join("report.html"));
    assert_well_formed(&html);
    for id in ["staff-vector", "staff-achieved-sl_first_share", "staff-agent-hours"] {
        assert!(html.contains(&format!("<figure id=\"{id}\" class=\"plot\"><svg")), "no {id}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&read(&out.join("staff.json"))).expect("staff.json is JSON");
    let answer = &doc["answers"][0];
    let rows = table(&html, "staff-vector");
    let intervals = answer["intervals"].as_array().expect("intervals");
    assert_eq!(rows.len() - 1, intervals.len());
    for (row, interval) in rows[1..].iter().zip(intervals) {
        assert_eq!(row[0], interval["start"].as_str().unwrap_or_default());
        assert_eq!(row[1], interval["agents"].to_string());
    }
    // A share's axis stays within [0, 100%] (it ran below 0%, an unlabelled tick, to make room
    // for a legend), and the agent-hours bars say what affinity each policy keeps.
    let ticks = percent_ticks(&svg_texts(&html, "staff-achieved-sl_first_share"));
    assert!(ticks.len() >= 3 && ticks.iter().all(|t| (0.0..=100.0).contains(t)), "{ticks:?}");
    let bars = svg_texts(&html, "staff-agent-hours");
    assert!(bars.iter().any(|t| t.starts_with("affinity ") && t.ends_with('%')), "{bars:?}");
    let achieved = table(&html, "staff-achieved-sl_first_share");
    for (row, interval) in achieved[1..].iter().zip(intervals) {
        let exact = interval["achieved"]["sl_first_share"]["mean"].as_f64().expect("a mean");
        close(cell_mean(&row[3]) * 100.0, exact * 100.0, "achieved");
    }
}

#[test]
fn bad_input_is_one_line() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let missing = tmp.path().join("nothing").display().to_string();
    assert_one_line_error(convosim().args(["report", &missing]), &["no such results folder"]);
    let empty = tmp.path().display().to_string();
    assert_one_line_error(convosim().args(["report", &empty]), &["manifest.json is missing"]);
    assert_one_line_error(convosim().args(["report", "scenarios"]), &["scenarios", "manifest.json"]);
    let file = "scenarios/mmc.toml";
    assert_one_line_error(convosim().args(["report", file]), &[file, "no such results folder"]);
    assert_one_line_error(convosim().args(["run", file, "--report"]), &["--out"]);
    assert_one_line_error(convosim().args(["report", &empty, "--out", &empty]), &["--out", "folder"]);
    assert_one_line_error(convosim().args(["report", &empty, "--out", "x.txt"]), &["--out", ".html"]);
    // A manifest that lists a file no results folder has.
    let out = tmp.path().join("run");
    let out_arg = out.display().to_string();
    run_ok(&["run", "scenarios/mmc.toml", "--replications", "2", "--out", &out_arg]);
    let manifest = read(&out.join("manifest.json")).replacen(
        "\"files\": {",
        "\"files\": {\n    \"extra.csv\": \"00\",",
        1,
    );
    std::fs::write(out.join("manifest.json"), manifest).expect("manifest changed");
    assert_one_line_error(convosim().args(["report", &out_arg]), &["unknown file", "extra.csv"]);
}
