//! `convosim staff` never answers with a vector it could not judge (issue 18, class 1): sparse
//! intervals, intervals the statistics window never reaches, undefined and unreachable targets
//! and intervals at the search's limit are one-line errors (exit 2); intervals where no
//! arrivals are offered are left alone and said so. docs/model.md, "Which intervals a
//! per-interval search judges", states the rule.

use std::path::Path;

use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim};

/// A 1-day center at 60/h (hour 3 at `night` times that), 6 agents of concurrency 2,
/// hybrid-10m, with patience: the issue's base.
fn center(night: &str, warmup: &str) -> String {
    let mut profile = vec!["1"; 24];
    profile[3] = night;
    format!(
        r#"
name = "base"
horizon = "1d"
warmup = "{warmup}"
seed = 1
replications = 2

[arrivals]
rate_per_hour = 60
profile = [{}]

[conversation]
exchanges = {{ dist = "geometric", mean = 3 }}
handle_time = {{ dist = "exponential", mean = "4m" }}
gap = {{ dist = "exponential", mean = "10m" }}
patience_first = {{ dist = "exponential", mean = "5m" }}

[[agents]]
name = "team"
count = 6
concurrency = 2

[policy]
kind = "hybrid"
timeout = "10m"

[report]
fold = "day"
interval = "1h"
"#,
        profile.join(", ")
    )
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("center.toml");
    std::fs::write(&path, text).expect("the scenario is written");
    path.display().to_string()
}

fn per_interval(file: &str, target: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = convosim();
    cmd.args(["staff", file, "--pool", "team", "--per-interval", "--target", target, "--threads", "2"]);
    cmd.args(extra);
    cmd
}

#[test]
fn a_sparse_interval_is_refused_with_the_replications_it_needs_then_answered() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &center("0.0167", "0s"));
    // Before: 03:00 climbed to 100,000 agents (701,253 agent-hours per week), exit 0.
    assert_one_line_error(
        &mut per_interval(&file, "sl_first_share>=0.8", &["--seed", "1"]),
        &["interval(s) 03:00 saw too few first contacts", "raise --replications to about"],
    );
    // With the replications it asks for (about 1 contact an hour: 33), an answer of a few
    // agents there.
    let output = per_interval(&file, "sl_first_share>=0.8", &["--seed", "1", "--replications", "40"])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let night = doc["staffing"][3].as_u64().expect("a count");
    assert!((1..=12).contains(&night), "03:00 gets {night} agents");
    assert_eq!(doc["intervals"][3]["judged"], true);
    assert_eq!(doc["not_judged"], serde_json::json!([]));
}

#[test]
fn intervals_the_window_never_reaches_are_refused_naming_the_horizon() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Before: 00:00–07:00 got 1 agent against 6 Erlangs, 08:00 got 253.
    let file = write(dir.path(), &center("1", "8h"));
    let target = "sl_first_share>=0.8";
    assert_one_line_error(
        &mut per_interval(&file, target, &[]),
        &["00:00–07:00 of the day fold are never observed", "horizon to at least 32h"],
    );
    // Three days of a week fold: the other four days are never observed.
    let mut cmd = convosim();
    cmd.args(["staff", "scenarios/week-with-shifts.toml", "--pool", "day", "--per-interval"]);
    cmd.args(["--target", target, "--set", "horizon=3d", "--replications", "2"]);
    assert_one_line_error(&mut cmd, &["thu 00:00–sun 23:00 of the week fold are never observed", "8d"]);
}

#[test]
fn an_interval_without_arrivals_is_not_judged_and_keeps_one_agent() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &center("0", "0s"));
    let output = per_interval(&file, "sl_first_share>=0.8", &["--replications", "4", "--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(doc["not_judged"], serde_json::json!([3]));
    assert_eq!(doc["intervals"][3]["judged"], false);
    assert_eq!(doc["staffing"][3], 1);
    assert!(doc["staffing"][4].as_u64().is_some_and(|n| n > 1), "{}", doc["staffing"]);
    // The table says so.
    let table = per_interval(&file, "sl_first_share>=0.8", &["--replications", "4"]).output().expect("runs");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("(no arrivals: not judged)") && text.contains("not judged against the targets: 03:00")
    );
}

#[test]
fn targets_no_staffing_can_meet_are_refused_before_searching() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &center("1", "0s"));
    for (target, fragment) in [
        ("wait_first_mean_s<0", "always 0 or more"),
        ("sl_first_share>1", "always from 0 to 1"),
        ("waited_first_share<-0.1", "always from 0 to 1"),
    ] {
        for mode in [&["--per-interval"][..], &[]] {
            let mut cmd = convosim();
            cmd.args(["staff", &file, "--pool", "team", "--target", target]).args(mode);
            assert_one_line_error(&mut cmd, &[target, fragment]);
        }
    }
    // A channel target for a pool that does not serve the channel (before: 2.2 M agent-hours).
    for mode in [&["--per-interval"][..], &[]] {
        let mut cmd = convosim();
        cmd.args(["staff", "scenarios/chat-messaging.toml", "--pool", "chat_team"]);
        cmd.args(["--target", "messaging.sl_first_share>=0.8"]).args(mode);
        assert_one_line_error(&mut cmd, &["pool \"chat_team\" does not serve messaging"]);
    }
}

#[test]
fn a_target_undefined_in_every_interval_is_refused() {
    // One exchange: no resumed contacts (before: 1 agent per hour for 10 Erlangs, exit 0).
    let mut cmd = convosim();
    cmd.args(["staff", "scenarios/mmc.toml", "--pool", "team", "--per-interval", "--set", "horizon=3d"]);
    cmd.args(["--target", "sl_resumed_share>=0.9", "--replications", "2"]);
    assert_one_line_error(&mut cmd, &["no resumed contact was ready in any interval", "undefined"]);
    // A bot that contains every conversation: no first contact reaches an agent.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bot = "bot = { containment = 1, time = { dist = \"fixed\", value = \"30s\" } }";
    let file = write(
        dir.path(),
        &center("1", "0s").replace("[conversation]\n", &format!("[conversation]\n{bot}\n")),
    );
    assert_one_line_error(
        &mut per_interval(&file, "sl_first_share>=0.8", &[]),
        &["no first contact was ready in any interval", "bot"],
    );
}

#[test]
fn an_interval_that_misses_at_the_limit_is_an_error_not_an_answer() {
    // The chat team cannot lift the whole center's service level when one generalist serves
    // messaging: every hour still misses at 1024 times ample staff.
    let mut cmd = convosim();
    cmd.args(["staff", "scenarios/chat-messaging.toml", "--pool", "chat_team", "--per-interval"]);
    cmd.args(["--target", "sl_first_share>=0.95", "--set", "agents.generalists.count=1"]);
    cmd.args(["--set", "horizon=2d", "--replications", "2", "--threads", "2"]);
    assert_one_line_error(
        &mut cmd,
        &["still miss at", "the search's limit", "more agents of this pool do not meet"],
    );
}
