//! Breakdowns by interval and by pool: interval counts add up exactly to the whole run's,
//! the fold follows the scenario (day, or week when something varies by weekday), night
//! intervals of a day-shift center have nobody on shift, and `--format json` has the shape the
//! model gives.

use convosim::metrics::catalog::{scope_metrics, Scope};
use convosim::runner::run_replications;
use convosim::Scenario;
use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim};
use crate::common::scenario;

/// A bundled scenario with its horizon cut to `days` (the counts must add up whatever it is).
fn bundled(file: &str, days: f64) -> Scenario {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("bundled scenario");
    let mut s = scenario(&text);
    s.horizon = s.horizon.min(days * 86_400.0);
    s.warmup = s.warmup.min(s.horizon / 4.0);
    s
}

fn column(scope: Scope, name: &str) -> usize {
    scope_metrics(scope).iter().position(|m| m.name == name).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn interval_counts_add_up_to_the_whole_run() {
    let scenarios = [
        bundled("quickstart.toml", 2.0),
        bundled("week-with-shifts.toml", 8.0),
        bundled("staffing-vector.toml", 2.0),
        bundled("mmc_a.toml", 1.0),
    ];
    for s in &scenarios {
        for r in run_replications(s, 5, 0, 2).expect("runs") {
            let m = &r.output.metrics;
            assert_eq!(m.intervals.len(), s.report.rows(), "{}", s.name);
            for name in
                ["contacts_first", "contacts_resumed", "conversations_abandoned", "unfinished_contacts"]
            {
                let c = column(Scope::Interval, name);
                let sum: f64 = m.intervals.iter().map(|row| row[c].unwrap_or(0.0)).sum();
                // Picked = contacts − abandoned − unfinished, so picked adds up too.
                assert_eq!(Some(sum), m.get(name), "{} {name} rep {}", s.name, r.index);
            }
            let handled = column(Scope::Pool, "contacts_handled");
            let pool_sum: f64 = m.pools.iter().map(|row| row[handled].unwrap_or(0.0)).sum();
            let finished = |n: &str| m.get(n).unwrap_or(0.0);
            let picked = finished("contacts_first") + finished("contacts_resumed")
                - finished("conversations_abandoned")
                - finished("unfinished_contacts");
            assert_eq!(pool_sum, picked, "{} pools handle every picked contact", s.name);
        }
    }
}

#[test]
fn the_fold_is_a_week_when_something_varies_by_weekday() {
    assert_eq!(bundled("quickstart.toml", 1.0).report.rows(), 24);
    let week = bundled("week-with-shifts.toml", 1.0);
    assert_eq!(week.report.fold.name(), "week");
    assert_eq!(week.report.rows(), 168);
    assert_eq!(week.report.start_label(24 + 9), "tue 09:00");
    let text =
        std::fs::read_to_string(format!("{}/scenarios/week-with-shifts.toml", env!("CARGO_MANIFEST_DIR")))
            .expect("bundled scenario");
    let day = scenario(&format!("{text}\n[report]\nfold = \"day\"\ninterval = \"15m\"\n"));
    assert_eq!(day.report.rows(), 96);
    assert_eq!(day.report.start_label(37), "09:15");
}

/// Daily 08:00–17:00 shifts of 4 agents; warmup a whole day so every hour is seen equally.
const DAY_SHIFT: &str = r#"
name = "day-shift"
horizon = "3d"
warmup = "1d"
[arrivals]
rate_per_hour = 10
[conversation]
exchanges = { dist = "geometric", mean = 2 }
handle_time = { dist = "exponential", mean = "5m" }
gap = { dist = "exponential", mean = "2m" }
patience_first = { dist = "exponential", mean = "30m" }
[[agents]]
name = "team"
count = 4
concurrency = 2
shifts = [{ days = "daily", start = "08:00", end = "17:00" }]
[policy]
kind = "sticky"
"#;

#[test]
fn night_intervals_have_nobody_on_shift() {
    let s = scenario(DAY_SHIFT);
    assert_eq!(s.report.fold.name(), "day", "daily shifts fold over a day");
    let on = column(Scope::Interval, "agents_on_shift_mean");
    let queue = column(Scope::Interval, "queue_length_mean");
    for r in run_replications(&s, 3, 0, 2).expect("runs") {
        let rows = &r.output.metrics.intervals;
        for (h, row) in rows.iter().enumerate() {
            let expected = if (8..17).contains(&h) { 4.0 } else { 0.0 };
            let got = row[on].expect("defined");
            assert!((got - expected).abs() < 1e-9, "hour {h}: {got} agents on shift");
        }
        // Contacts arriving at night wait for the morning.
        assert!(rows[3][queue].expect("defined") > 0.0);
    }
}

#[test]
fn json_has_intervals_and_pools() {
    let out = convosim()
        .args(["run", "scenarios/quickstart.toml", "--replications", "2", "--format", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let intervals = &json["intervals"];
    assert_eq!(intervals["fold"], "day");
    assert_eq!(intervals["width_s"], 3600);
    let rows = intervals["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0]["index"], 0);
    assert_eq!(rows[13]["start"], "13:00");
    for name in ["waited_first_share", "agents_on_shift_mean", "contacts_first", "queue_length_mean"] {
        assert!(rows[13]["metrics"][name]["mean"].is_number(), "{name}");
        assert!(rows[13]["metrics"][name].get("ci95").is_some(), "{name}");
    }
    let pool = &json["pools"]["team"]["metrics"];
    for name in ["occupancy_share", "utilization_share", "contacts_handled", "affinity_retention_share"] {
        assert!(pool[name]["mean"].is_number(), "{name}");
    }
}

#[test]
fn report_mistakes_are_one_keyed_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = std::fs::read_to_string(format!("{}/scenarios/quickstart.toml", env!("CARGO_MANIFEST_DIR")))
        .expect("bundled scenario");
    for (table, fragments) in [
        ("interval = \"7m\"", ["report.interval", "divides a day"]),
        ("interval = \"90s5\"", ["report.interval", "duration"]),
        ("fold = \"month\"", ["report.fold", "\"week\""]),
        ("width = \"1h\"", ["report.width", "interval"]),
    ] {
        let file = dir.path().join("s.toml");
        std::fs::write(&file, format!("{base}\n[report]\n{table}\n")).expect("write");
        assert_one_line_error(convosim().args(["check"]).arg(&file), &fragments);
    }
}

/// A sweep over the day-shift center: two team sizes and two interval widths, so points have
/// different numbers of interval rows.
const SWEEP: &str = r#"
name = "breakdowns"
base = "base.toml"
replications = 3
seed = 9
[axes]
"agents.team.count" = [3, 5]
"report.interval" = ["1h", "4h"]
"#;

fn run_ok(cmd: &mut assert_cmd::Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn sweep_into(file: &std::path::Path, out: &std::path::Path, extra: &[&str]) {
    run_ok(
        convosim()
            .args(["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
            .args(extra),
    );
}

#[test]
fn results_folders_hold_the_breakdowns_and_shards_merge_to_the_same_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("base.toml"), format!("{DAY_SHIFT}\n[report]\ninterval = \"1h\"\n"))
        .expect("write");
    let file = dir.path().join("sweep.toml");
    std::fs::write(&file, SWEEP).expect("write");
    let whole = dir.path().join("whole");
    sweep_into(&file, &whole, &[]);
    let shards: Vec<_> = (1..=2).map(|k| dir.path().join(format!("s{k}"))).collect();
    for (k, shard) in shards.iter().enumerate() {
        sweep_into(&file, shard, &["--shard", &format!("{}/2", k + 1)]);
    }
    let merged = dir.path().join("merged");
    run_ok(convosim().arg("merge").args(&shards).args(["--out", merged.to_str().unwrap()]));
    let read = |d: &std::path::Path, name: &str| std::fs::read_to_string(d.join(name)).expect(name);
    for name in ["intervals.csv", "pools.csv", "breakdowns.jsonl", "channels.csv", "channel_intervals.csv"] {
        assert_eq!(read(&whole, name), read(&merged, name), "{name} differs");
    }
    assert_eq!(read(&whole, "channel_intervals.csv").lines().count(), 1, "one channel: a header only");
    // One row per point × interval: 24 + 6 rows per team size; one per point × pool.
    let intervals = read(&whole, "intervals.csv");
    assert_eq!(intervals.lines().count(), 1 + 2 * (24 + 6));
    assert!(intervals.lines().next().is_some_and(|h| h.contains("agents_on_shift_mean_ci95")));
    assert!(intervals.contains(",4h,"), "the axis cell");
    assert_eq!(read(&whole, "pools.csv").lines().count(), 1 + 4);
    let manifest: Value = serde_json::from_str(&read(&merged, "manifest.json")).expect("manifest");
    for name in ["intervals.csv", "pools.csv", "breakdowns.jsonl"] {
        assert!(manifest["files"][name].is_string(), "{name} checksummed");
    }
    let header: Vec<String> =
        read(&whole, "pools.csv").lines().next().unwrap().split(',').map(String::from).collect();
    let layout: Vec<String> = manifest["layout"]["pools_csv"]
        .as_array()
        .expect("layout")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(header[3..], layout[..], "pools.csv columns after point and axes");
}

#[test]
fn run_out_breakdowns_match_the_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("q");
    let output = convosim()
        .args(["run", "scenarios/quickstart.toml", "--replications", "3", "--format", "json", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let pools = std::fs::read_to_string(out.join("pools.csv")).expect("pools.csv");
    let mut lines = pools.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    let mean = json["pools"]["team"]["metrics"]["occupancy_share"]["mean"].as_f64().unwrap();
    assert_eq!(at("occupancy_share_mean").parse::<f64>().unwrap(), mean, "bit for bit");
    let ci = json["pools"]["team"]["metrics"]["affinity_retention_share"]["ci95"].as_f64().unwrap();
    assert_eq!(at("affinity_retention_share_ci95").parse::<f64>().unwrap(), ci);
}

#[test]
fn run_by_tables_fit_in_100_columns() {
    for by in ["interval", "pool"] {
        let out = convosim()
            .args(["run", "scenarios/week-with-shifts.toml", "--replications", "2", "--by", by])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.contains(if by == "interval" { "sun 23:00" } else { "weekend" }), "{by}");
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{by}: {line}");
        }
    }
}
