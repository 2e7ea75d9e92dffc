//! `convosim staff` in level mode: on M/M/c with a delay target the count found is Erlang C's
//! minimum staffing; the JSON shape; `--out` writes a scenario that loads with that count;
//! `--policies` prints one row per policy; keyed one-line errors.

use std::path::Path;

use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};
use crate::common::ErlangC;

/// M/M/c: 60 arrivals per hour, exponential 5-minute handle times (a = 5 Erlangs), one
/// exchange, next_available, no patience, concurrency 1.
const MMC: &str = r#"
name = "mmc"
horizon = "20d"
warmup = "1d"
seed = 11
replications = 4

[arrivals]
rate_per_hour = 60

[conversation]
exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "5m" }

[[agents]]
name = "team"
count = 3

[policy]
kind = "next_available"
"#;

/// Delay target: P(wait) ≤ 0.22. Erlang C at a = 5 gives about 0.30 at 7 agents and 0.16
/// at 8, so the minimum staffing is 8 and the CI (about ±0.01) cannot blur it.
const ALPHA: f64 = 0.22;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the scenario is written");
    path.display().to_string()
}

fn staff_json(args: &[&str]) -> Value {
    let output = convosim().arg("staff").args(args).args(["--format", "json"]).output().expect("staff runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice(&output.stdout).expect("staff --format json prints JSON")
}

/// Erlang C's minimum staffing for P(wait) ≤ α, with the margins on either side.
fn erlang_minimum(lambda_per_hour: f64, mean_service_s: f64, alpha: f64) -> (u32, f64, f64) {
    let a = lambda_per_hour / 3600.0 * mean_service_s;
    let mut c = a.floor() as u32 + 1;
    while ErlangC::new(c, lambda_per_hour, mean_service_s).p_wait() > alpha {
        c += 1;
    }
    let below = if f64::from(c - 1) > a {
        ErlangC::new(c - 1, lambda_per_hour, mean_service_s).p_wait()
    } else {
        1.0
    };
    (c, ErlangC::new(c, lambda_per_hour, mean_service_s).p_wait(), below)
}

#[test]
fn level_mode_finds_erlang_c_minimum_staffing() {
    let (c_star, at, below) = erlang_minimum(60.0, 300.0, ALPHA);
    // The choice of λ, μ, α leaves no room for the CI to move the answer.
    assert!(at < ALPHA - 0.04 && below > ALPHA + 0.04, "c* {c_star}: P_C {at:.4}, at c*-1 {below:.4}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "mmc.toml", MMC);
    let target = format!("waited_first_share<={ALPHA}");
    let doc = staff_json(&[&scenario, "--pool", "team", "--target", &target, "--threads", "2"]);
    let count = doc["count"].as_u64().expect("a count");
    let achieved = doc["achieved"]["waited_first_share"]["mean"].as_f64().expect("achieved P(wait)");
    println!("staff level: count {count} vs Erlang C c* {c_star}; P(wait) {achieved:.4} vs theory {at:.4}");
    assert_eq!(count, u64::from(c_star));
    assert!((achieved - at).abs() < 0.03, "achieved {achieved} vs Erlang C {at}");
}

#[test]
fn json_has_the_documented_shape() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "mmc.toml", MMC);
    let doc = staff_json(&[
        &scenario,
        "--pool",
        "team",
        "--target",
        "waited_first_share<=0.22",
        "--set",
        "horizon=5d",
    ]);
    assert_eq!(doc["pool"], "team");
    assert_eq!(doc["mode"], "level");
    let count = doc["count"].as_u64().expect("count");
    assert_eq!(doc["agent_hours_per_week"].as_f64(), Some(count as f64 * 168.0));
    assert!(doc["achieved"]["waited_first_share"]["ci95"].as_f64().is_some(), "{doc}");
    let evaluations = doc["evaluations"].as_array().expect("evaluations");
    let find = |n: u64| evaluations.iter().find(|e| e["count"].as_u64() == Some(n));
    assert_eq!(find(count).expect("the answer was evaluated")["meets"], true);
    assert_eq!(find(count - 1).expect("one fewer was evaluated")["meets"], false);
    for e in evaluations {
        assert!(e["metrics"]["waited_first_share"]["mean"].as_f64().is_some(), "{e}");
    }
}

#[test]
fn the_answer_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "small.toml", SMALL_CENTER);
    let run = |threads: &str| {
        staff_json(&[&scenario, "--pool", "team", "--target", "sl_first_share>=0.8", "--threads", threads])
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert!(one["evaluations"].as_array().is_some_and(|e| e.len() >= 2), "{one}");
}

#[test]
fn out_writes_a_scenario_with_the_count() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "mmc.toml", MMC);
    let out = dir.path().join("staffed");
    let out_arg = out.display().to_string();
    let doc = staff_json(&[
        &scenario,
        "--pool",
        "team",
        "--target",
        "waited_first_share<=0.22",
        "--set",
        "horizon=5d",
        "--out",
        &out_arg,
    ]);
    let staffed = convosim::scenario::load_scenario(&out.join("staffed.toml")).expect("staffed.toml loads");
    assert_eq!(u64::from(staffed.pools[0].count), doc["count"].as_u64().expect("count"));
    assert_eq!(staffed.horizon, 5.0 * 86_400.0, "the --set changes are kept");
}

#[test]
fn policies_print_one_row_each() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "small.toml", SMALL_CENTER);
    let output = convosim()
        .args(["staff", &scenario, "--pool", "team", "--target", "sl_first_share>=0.8"])
        .args(["--policies", "next-available,sticky,hybrid-5m", "--set", "horizon=1d"])
        .output()
        .expect("staff runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let header = stdout.lines().position(|l| l.starts_with("policy ")).expect("a policy table");
    let rows: Vec<&str> = stdout.lines().skip(header + 1).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for (row, policy) in rows.iter().zip(["next-available", "sticky", "hybrid-5m"]) {
        assert!(row.starts_with(policy), "{row}");
    }
    // Sticky keeps every resumed contact with its owner.
    assert!(rows[1].contains("1.0000 ± 0.0000"), "{}", rows[1]);
}

#[test]
fn bad_input_is_one_keyed_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = write(dir.path(), "mmc.toml", MMC);
    let staff = |extra: &[&str]| {
        let mut cmd = convosim();
        cmd.args(["staff", &scenario]).args(extra);
        cmd
    };
    let target = ["--target", "waited_first_share<=0.2"];
    assert_one_line_error(staff(&["--pool", "teem"]).args(target), &["--pool teem", "did you mean \"team\""]);
    assert_one_line_error(
        &mut staff(&["--pool", "team", "--target", "waited_frist_share<=0.2"]),
        &["waited_frist_share", "did you mean \"waited_first_share\""],
    );
    assert_one_line_error(
        staff(&["--pool", "team", "--replications", "1"]).args(target),
        &["--target", "2 replications"],
    );
    assert_one_line_error(
        staff(&["--pool", "team", "--policies", "stiky"]).args(target),
        &["--policies stiky"],
    );
    assert_one_line_error(
        &mut staff(&["--pool", "team", "--target", "waited_first_share<0", "--set", "horizon=2d"]),
        &["--target 'waited_first_share<0'", "always from 0 to 1"],
    );
    // One exchange: retention is undefined at every count, so the doublings run out.
    assert_one_line_error(
        &mut staff(&["--pool", "team", "--target", "affinity_retention_share>=0.5", "--set", "horizon=2d"]),
        &["--target 'affinity_retention_share>=0.5'", "best value reached: undefined at every count"],
    );
    let huge = MMC.replace("count = 3", "count = 3\nconcurrency = 10000");
    let huge = write(dir.path(), "huge.toml", &huge);
    assert_one_line_error(
        convosim().args([
            "staff",
            &huge,
            "--pool",
            "team",
            "--target",
            "affinity_retention_share>=0.5",
            "--set",
            "horizon=2d",
        ]),
        &["--target 'affinity_retention_share>=0.5'", "count 128 is refused", "slots", "best value reached"],
    );
    let vector = MMC.replace("count = 3", &format!("staffing = {:?}", [3; 24]));
    let staffed = write(dir.path(), "vector.toml", &vector);
    assert_one_line_error(
        convosim().args(["staff", &staffed, "--pool", "team"]).args(target),
        &["agents.team.staffing", "--per-interval"],
    );
}
