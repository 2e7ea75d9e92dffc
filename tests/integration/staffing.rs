//! Time-varying staffing vectors: a vector that describes what `count` or `shifts` already say
//! gives bit-identical results; agents 0..n of the pool are the ones on shift; `staffing_scale`
//! works from `--set`; and every mistake is one keyed line.

use convosim::runner::{run_replications, Replication};
use convosim::Scenario;
use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim};
use crate::common::{run_summary, scenario, MESSAGING_DAY};

/// A two-day center with random routing choices (so any change in agent order shows), with
/// `POOL` standing for the `[[agents]]` tables under test.
const CENTER: &str = r#"
name = "staffed"
horizon = "2d"
warmup = "6h"

[arrivals]
rate_per_hour = 24
MESSAGING_DAY

POOL

[policy]
kind = "hybrid"
timeout = "5m"
select = "random"
owner_offline = "fallback"
"#;

fn center(pools: &str) -> Scenario {
    scenario(&CENTER.replace("MESSAGING_DAY", MESSAGING_DAY).replace("POOL", pools))
}

/// A vector as TOML: `(value, repeat)` runs.
fn vector(runs: &[(u32, usize)]) -> String {
    let values: Vec<String> = runs.iter().flat_map(|&(v, n)| std::iter::repeat_n(v.to_string(), n)).collect();
    format!("[{}]", values.join(", "))
}

fn runs(s: &Scenario) -> Vec<Replication> {
    run_replications(s, 11, 0, 3).expect("runs")
}

/// Every number a replication produces, bit for bit.
fn assert_bit_identical(a: &Scenario, b: &Scenario) {
    for (x, y) in runs(a).iter().zip(&runs(b)) {
        assert_eq!(x.output.metrics.values, y.output.metrics.values, "rep {}", x.index);
        for key in ["wait_first", "wait_resumed"] {
            assert_eq!(x.output.metrics.histograms.get(key), y.output.metrics.histograms.get(key), "{key}");
        }
        assert_eq!(x.output.metrics.concurrency_shares, y.output.metrics.concurrency_shares);
        assert_eq!(x.output.audit, y.output.audit);
        assert_eq!(x.output.stats, y.output.stats);
    }
}

#[test]
fn a_constant_vector_is_count_without_shifts() {
    let counted = center("[[agents]]\nname = \"team\"\ncount = 4\nconcurrency = 2");
    for (values, interval) in
        [(vector(&[(4, 24)]), "1h"), (vector(&[(4, 168)]), "1h"), (vector(&[(4, 96)]), "15m")]
    {
        let staffed = center(&format!(
            "[[agents]]\nname = \"team\"\nstaffing = {values}\nstaffing_interval = \"{interval}\"\nconcurrency = 2"
        ));
        assert_eq!(staffed.pools[0].count, 4);
        assert_bit_identical(&counted, &staffed);
    }
}

#[test]
fn a_vector_shaped_like_a_shift_is_that_shift() {
    let always = "[[agents]]\nname = \"night\"\ncount = 2\nconcurrency = 2\n";
    let daily = format!(
        "{always}[[agents]]\nname = \"day\"\ncount = 5\nconcurrency = 2\n\
         shifts = [{{ days = \"daily\", start = \"08:00\", end = \"17:00\" }}]"
    );
    let daily_vector = format!(
        "{always}[[agents]]\nname = \"day\"\nconcurrency = 2\nstaffing = {}",
        vector(&[(0, 8), (5, 9), (0, 7)])
    );
    assert_bit_identical(&center(&daily), &center(&daily_vector));
    // Weekdays only, as a week-long vector (the run starts on Monday).
    let weekdays = daily.replace("\"daily\"", "\"mon-fri\"");
    let day = [(0, 8), (5, 9), (0, 7)];
    let week: Vec<(u32, usize)> = day.repeat(5).into_iter().chain([(0, 48)]).collect();
    let weekday_vector =
        format!("{always}[[agents]]\nname = \"day\"\nconcurrency = 2\nstaffing = {}", vector(&week));
    assert_bit_identical(&center(&weekdays), &center(&weekday_vector));
}

#[test]
fn agents_zero_to_n_are_the_ones_on_shift() {
    // One pool whose agent 0 works around the clock and agents 1 and 2 from 08:00 to 24:00 is
    // the same center as a one-agent pool and a two-agent pool on that shift: the same agent
    // numbers on shift at every instant, so the same occupancy and utilization denominators.
    let split = "[[agents]]\nname = \"always\"\ncount = 1\nconcurrency = 2\n\
                 [[agents]]\nname = \"late\"\ncount = 2\nconcurrency = 2\n\
                 shifts = [{ days = \"daily\", start = \"08:00\", end = \"24:00\" }]";
    let staffed =
        format!("[[agents]]\nname = \"team\"\nconcurrency = 2\nstaffing = {}", vector(&[(1, 8), (3, 16)]));
    assert_bit_identical(&center(split), &center(&staffed));
}

/// Conversations only between 00:00 and 06:00, a minute apart: with the vector, one agent is
/// on at night and takes every contact, so each resumed contact reaches its owner.
const NIGHT: &str = r#"
name = "night"
horizon = "3d"
seed = 5
[arrivals]
rate_per_hour = 6
profile = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
[conversation]
exchanges = { dist = "fixed", value = 3 }
handle_time = { dist = "fixed", value = "2m" }
gap = { dist = "fixed", value = "1m" }
[[agents]]
name = "team"
concurrency = 3
POOL
[policy]
kind = "next_available"
"#;

#[test]
fn only_agent_zero_works_the_night_and_handles_everything() {
    let night = |pool: &str| run_summary(&scenario(&NIGHT.replace("POOL", pool)), 5, 4);
    let staffed = night(&format!("staffing = {}", vector(&[(1, 8), (3, 16)])));
    let audit = staffed.audit();
    assert!(audit.ready > 100, "{audit:?}");
    assert_eq!((audit.picked, audit.waiting_at_horizon, audit.abandoned), (audit.ready, 0, 0), "{audit:?}");
    assert_eq!(staffed.mean("affinity_retention_share"), 1.0);
    // With all three on, next-available spreads the resumed contacts over them.
    let counted = night("count = 3");
    assert!(counted.mean("affinity_retention_share") < 0.8, "{}", counted.mean("affinity_retention_share"));
}

/// A small file with a staffing vector, for the command line.
fn staffed_file(dir: &std::path::Path, name: &str, values: &str) -> std::path::PathBuf {
    let text = crate::cli::SMALL_CENTER.replace("count = 4", &format!("staffing = {values}"));
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writes");
    path
}

fn run_json(args: &[&str]) -> Value {
    let out = convosim().args(["run", "--format", "json"]).args(args).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json.as_object_mut().expect("an object").remove("engine");
    json
}

#[test]
fn staffing_scale_from_the_command_line_scales_the_vector() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let base = staffed_file(dir.path(), "base.toml", &vector(&[(2, 8), (3, 16)]));
    let doubled = staffed_file(dir.path(), "doubled.toml", &vector(&[(4, 8), (6, 16)]));
    let file = |p: &std::path::Path| p.to_str().expect("UTF-8").to_string();
    let scaled = run_json(&[&file(&base), "--set", "agents.team.staffing_scale=2"]);
    assert_eq!(scaled, run_json(&[&file(&doubled)]));
    assert_ne!(scaled, run_json(&[&file(&base)]));
}

#[test]
fn staffing_mistakes_are_one_keyed_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ones = vector(&[(1, 24)]);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("{ones}\ncount = 3"), vec!["agents[0].staffing: expected either `count`", "not both"]),
        (
            vector(&[(1, 25)]),
            vec!["agents[0].staffing: expected 24 values (one day) or 168", "got 25 values"],
        ),
        (
            format!("[-1, {}]", vec!["1"; 23].join(", ")),
            vec!["agents[0].staffing[0]: expected an integer from 0"],
        ),
        (format!("[1.5, {}]", vec!["1"; 23].join(", ")), vec!["agents[0].staffing[0]: expected an integer"]),
        (vector(&[(0, 24)]), vec!["agents[0].staffing: expected at least one interval", "all zeros"]),
        (
            format!("{ones}\nstaffing_interval = \"7m\""),
            vec!["agents[0].staffing_interval: expected a whole", "\"7m\""],
        ),
        (
            format!("{ones}\nstaffing_scale = -1"),
            vec!["agents[0].staffing_scale: expected a positive number"],
        ),
    ];
    for (i, (values, fragments)) in cases.iter().enumerate() {
        let path = staffed_file(dir.path(), &format!("bad{i}.toml"), values);
        let mut fragments = fragments.clone();
        let name = format!("bad{i}.toml");
        fragments.push(&name);
        assert_one_line_error(convosim().arg("check").arg(&path), &fragments);
    }
    let base = staffed_file(dir.path(), "ok.toml", &ones);
    assert_one_line_error(
        convosim().arg("check").arg(&base).args(["--set", "agents.team.staffing_scale=0.1"]),
        &["agents[0].staffing_scale: expected a scale that leaves at least one interval", "--set"],
    );
}

#[test]
fn the_bundled_staffing_scenario_loads_and_runs_clean() {
    let bundled = scenario(include_str!("../../scenarios/staffing-vector.toml"));
    let staffing = bundled.pools[0].staffing.as_ref().expect("a staffing vector");
    assert_eq!((bundled.pools[0].count, staffing.values().len()), (13, 24));
    let mut short = bundled.clone();
    short.horizon = 2.0 * crate::common::DAY;
    let summary = run_summary(&short, 7, 2);
    assert!(summary.audit().picked > 1000, "{:?}", summary.audit());
}
