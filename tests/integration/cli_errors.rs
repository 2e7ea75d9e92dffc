//! The `convosim` binary end to end: bad input is refused with one `error: ` line on stderr that
//! names the file, the key and what was expected and got, nothing on stdout, exit status 2 and
//! never a panic; and the happy paths (`check`, `policies`, `run` in its three formats) print
//! what they promise.
//!
//! Bad scenarios are written inline into a temporary directory: each case is a small edit of
//! [`VALID`], checked through one helper, [`rejects`], with both `check` and `run`.

use std::path::{Path, PathBuf};

use crate::cli::{assert_one_line_error, convosim};
use predicates::prelude::*;
use serde_json::Value;

/// A tiny valid scenario that every bad case edits.
const VALID: &str = r#"
name = "tiny"
horizon = "2h"
warmup = "10m"
seed = 7
replications = 1

[arrivals]
rate_per_hour = 60

[conversation]
exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "4m" }

[[agents]]
name = "team"
count = 3
concurrency = 1

[policy]
kind = "next_available"
"#;

/// Every metric the issue requires in a run's report.
const REQUIRED_METRICS: &[&str] = &[
    "wait_first_mean_s",
    "wait_first_p50_s",
    "wait_first_p90_s",
    "wait_first_p99_s",
    "wait_first_max_s",
    "waited_first_share",
    "sl_first_share",
    "wait_resumed_mean_s",
    "wait_resumed_p50_s",
    "wait_resumed_p90_s",
    "wait_resumed_p99_s",
    "wait_resumed_max_s",
    "waited_resumed_share",
    "sl_resumed_share",
    "abandon_first_share",
    "abandon_resumed_share",
    "affinity_retention_share",
    "handoffs_per_conversation",
    "single_agent_conversation_share",
    "occupancy_share",
    "utilization_share",
    "agent_occupancy_cv",
    "conversations_resolved",
    "contacts_first",
    "contacts_resumed",
    "unfinished_contacts",
    "conversation_duration_mean_s",
    "queue_length_mean",
    "queue_length_max",
];

/// [`VALID`] with the first `from` replaced by `to`; panics if `from` is not there, so that an
/// edit of `VALID` cannot silently turn a bad case into a good one.
fn edit(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "VALID has no {from:?}");
    VALID.replacen(from, to, 1)
}

/// Writes `text` to `file_name` in a fresh temporary directory and checks that both
/// `convosim check` and `convosim run` refuse it with one line naming the file and containing
/// every fragment (the key and the expected/got text).
fn rejects(file_name: &str, text: &str, fragments: &[&str]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(file_name);
    std::fs::write(&path, text).expect("the scenario is written");
    rejects_path(&path, fragments);
}

/// Like [`rejects`], for a path that already exists (or deliberately does not).
fn rejects_path(path: &Path, fragments: &[&str]) {
    let file_name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
    let mut all = vec![file_name];
    all.extend_from_slice(fragments);
    assert_one_line_error(convosim().arg("check").arg(path), &all);
    assert_one_line_error(convosim().args(["run", "--replications", "1"]).arg(path), &all);
}

// ---- Files that cannot be read or parsed ----

#[test]
fn missing_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    rejects_path(&dir.path().join("no_such_scenario.toml"), &["cannot read the file"]);
}

#[test]
fn unreadable_file_is_refused() {
    // A directory cannot be read as a file, even by root (who ignores permission bits).
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path: PathBuf = dir.path().join("a_directory.toml");
    std::fs::create_dir(&path).expect("the directory is made");
    rejects_path(&path, &["cannot read the file"]);
}

#[test]
fn non_utf8_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("binary.toml");
    std::fs::write(&path, b"\xff\xfe\x00binary").expect("the file is written");
    rejects_path(&path, &["cannot read the file"]);
}

#[test]
fn non_toml_file_is_refused() {
    rejects("not_toml.toml", "this is [not toml\n", &["not valid TOML", "line 1, column 6"]);
    rejects("json.toml", "{\"name\": \"tiny\"}\n", &["not valid TOML", "line 1, column 1"]);
}

#[test]
fn empty_file_names_the_first_missing_key() {
    rejects("empty.toml", "", &["name: missing: expected a string"]);
}

// ---- Values out of range ----

#[test]
fn negative_rate_is_refused() {
    rejects(
        "negative_rate.toml",
        &edit("rate_per_hour = 60", "rate_per_hour = -5"),
        &["arrivals.rate_per_hour", "expected a positive number of conversations per hour", "got -5"],
    );
}

#[test]
fn zero_rate_is_refused() {
    rejects(
        "zero_rate.toml",
        &edit("rate_per_hour = 60", "rate_per_hour = 0"),
        &["arrivals.rate_per_hour", "expected a positive number", "got 0"],
    );
}

#[test]
fn non_positive_cv_is_refused() {
    let lognormal = r#"handle_time = { dist = "lognormal", mean = "4m", cv = 0 }"#;
    rejects(
        "zero_cv.toml",
        &edit(r#"handle_time = { dist = "exponential", mean = "4m" }"#, lognormal),
        &["conversation.handle_time.cv", "expected a positive coefficient of variation", "got 0"],
    );
    let gamma = r#"handle_time = { dist = "gamma", mean = "4m", cv = -1 }"#;
    rejects(
        "negative_cv.toml",
        &edit(r#"handle_time = { dist = "exponential", mean = "4m" }"#, gamma),
        &["conversation.handle_time.cv", "expected a positive coefficient of variation", "got -1"],
    );
}

#[test]
fn weights_summing_to_zero_are_refused() {
    let empirical = r#"handle_time = { dist = "empirical", values = ["1m", "2m"], weights = [0, 0] }"#;
    rejects(
        "zero_weights.toml",
        &edit(r#"handle_time = { dist = "exponential", mean = "4m" }"#, empirical),
        &["conversation.handle_time.weights", "expected weights that sum to a positive number", "got [0, 0]"],
    );
    let mixture = r#"handle_time = { dist = "mixture", parts = [
        { weight = 0, dist = "exponential", mean = "2m" },
        { weight = 0, dist = "exponential", mean = "4m" } ] }"#;
    rejects(
        "zero_mixture_weights.toml",
        &edit(r#"handle_time = { dist = "exponential", mean = "4m" }"#, mixture),
        &[
            "conversation.handle_time.parts",
            "expected weights that sum to a positive number",
            "got weights [0, 0]",
        ],
    );
}

#[test]
fn zero_concurrency_is_refused() {
    rejects(
        "zero_concurrency.toml",
        &edit("concurrency = 1", "concurrency = 0"),
        &["agents[0].concurrency", "expected an integer from 1 to 10000", "got 0"],
    );
}

#[test]
fn warmup_not_shorter_than_horizon_is_refused() {
    rejects(
        "warmup_equal.toml",
        &edit(r#"warmup = "10m""#, r#"warmup = "2h""#),
        &["warmup", "expected a duration shorter than the horizon (\"2h\")", "got \"2h\""],
    );
    rejects(
        "warmup_longer.toml",
        &edit(r#"warmup = "10m""#, r#"warmup = "3h""#),
        &["warmup", "expected a duration shorter than the horizon (\"2h\")", "got \"3h\""],
    );
}

#[test]
fn negative_duration_is_refused() {
    rejects(
        "negative_duration.toml",
        &edit(r#"mean = "4m""#, r#"mean = "-3m""#),
        &["conversation.handle_time.mean", "expected a positive duration like \"4m\"", "got \"-3m\""],
    );
}

#[test]
fn bad_shift_time_is_refused() {
    let shift = |start: &str, end: &str| {
        edit(
            "concurrency = 1",
            &format!(
                "concurrency = 1\nshifts = [{{ days = \"mon-fri\", start = \"{start}\", end = \"{end}\" }}]"
            ),
        )
    };
    rejects(
        "shift_start_25h.toml",
        &shift("25:00", "17:00"),
        &["agents[0].shifts[0].start", "expected a time of day \"HH:MM\"", "got \"25:00\""],
    );
    rejects(
        "shift_start_8am.toml",
        &shift("8am", "17:00"),
        &["agents[0].shifts[0].start", "expected a time of day \"HH:MM\"", "got \"8am\""],
    );
    rejects(
        "shift_end_61min.toml",
        &shift("08:00", "17:61"),
        &["agents[0].shifts[0].end", "expected a time of day \"HH:MM\"", "got \"17:61\""],
    );
}

// ---- Unknown names, with a suggestion ----

#[test]
fn unknown_policy_kind_suggests_the_nearest() {
    rejects(
        "unknown_kind.toml",
        &edit(r#"kind = "next_available""#, r#"kind = "stiky""#),
        &["policy.kind", "unknown policy \"stiky\"", "did you mean \"sticky\"?", "expected one of"],
    );
}

#[test]
fn unknown_distribution_suggests_the_nearest() {
    rejects(
        "unknown_dist.toml",
        &edit(r#""exponential""#, r#""exponental""#),
        &[
            "conversation.handle_time.dist",
            "unknown distribution \"exponental\"",
            "did you mean \"exponential\"?",
            "expected one of",
        ],
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    rejects(
        "unknown_top_key.toml",
        &edit("seed = 7", "sed = 7"),
        &["sed: unknown key", "did you mean \"seed\"?", "expected one of"],
    );
    rejects(
        "unknown_pool_key.toml",
        &edit("concurrency = 1", "concurency = 1"),
        &["agents[0].concurency: unknown key", "did you mean \"concurrency\"?"],
    );
    rejects(
        "unknown_policy_key.toml",
        &edit(r#"kind = "next_available""#, "kind = \"hybrid\"\ntimout = \"10m\""),
        &["policy.timout", "unknown key for policy kind \"hybrid\"", "did you mean \"timeout\"?"],
    );
}

#[test]
fn unknown_preset_in_the_scenario_suggests_the_nearest() {
    let text = edit("seed = 7", "seed = 7\npolicy = \"hybrid-10\"")
        .replace("[policy]\nkind = \"next_available\"\n", "");
    rejects(
        "unknown_preset.toml",
        &text,
        &["policy: unknown policy preset \"hybrid-10\"", "did you mean \"hybrid-10m\"?"],
    );
}

#[test]
fn unknown_preset_on_the_command_line_suggests_the_nearest() {
    assert_one_line_error(
        convosim().args(["run", "scenarios/mmc.toml", "--replications", "1", "--policy", "hybrid-10"]),
        &["hybrid-10", "policy", "unknown policy preset \"hybrid-10\"", "did you mean \"hybrid-10m\"?"],
    );
}

#[test]
fn missing_preset_file_on_the_command_line_is_refused() {
    assert_one_line_error(
        convosim().args([
            "run",
            "scenarios/mmc.toml",
            "--replications",
            "1",
            "--policy",
            "no/such/preset.toml",
        ]),
        &["no/such/preset.toml", "cannot read the file"],
    );
}

// ---- Command-line errors (clap) ----

#[test]
fn zero_replications_is_a_usage_error() {
    convosim()
        .args(["run", "scenarios/mmc.toml", "--replications", "0"])
        .assert()
        .failure()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("--replications"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn unknown_format_is_a_usage_error() {
    convosim()
        .args(["run", "scenarios/mmc.toml", "--format", "xml"])
        .assert()
        .failure()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("--format"))
        .stderr(predicate::str::contains("panicked").not());
}

// ---- Happy paths ----

#[test]
fn check_accepts_the_quickstart() {
    convosim()
        .args(["check", "scenarios/quickstart.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"))
        .stdout(predicate::str::contains("quickstart.toml"))
        .stderr(predicate::str::is_empty());
}

#[test]
fn check_accepts_the_test_base_scenario() {
    // The bad cases above are edits of VALID: it must load as is.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("valid.toml");
    std::fs::write(&path, VALID).expect("the scenario is written");
    convosim().arg("check").arg(&path).assert().success().stdout(predicate::str::contains("ok"));
}

#[test]
fn policies_lists_every_preset_with_its_description() {
    let output = convosim().arg("policies").output().expect("convosim runs");
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    for (name, text) in convosim::scenario::PRESETS {
        let table: toml::Table = toml::from_str(text).expect("a built-in preset is valid TOML");
        let description = table
            .get("description")
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("preset {name} has no description"));
        let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!description.is_empty(), "preset {name} has an empty description");
        let line = stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(*name))
            .unwrap_or_else(|| panic!("`convosim policies` does not list {name}:\n{stdout}"));
        assert!(
            line.ends_with(&description),
            "{name}: expected its description {description:?}, got {line:?}"
        );
        assert!(!line.contains("invalid"), "{name} does not load: {line}");
    }
}

/// `convosim run <scenario> --replications 2 --format <format>`'s stdout, checked to succeed.
fn run_stdout(scenario: &str, format: &str) -> String {
    let output = convosim()
        .args(["run", scenario, "--replications", "2", "--format", format])
        .output()
        .expect("convosim runs");
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn run_json_has_the_documented_shape_and_every_required_metric() {
    let json: Value = serde_json::from_str(&run_stdout("scenarios/mmc.toml", "json")).expect("valid JSON");
    assert_eq!(json["scenario"], "mmc");
    assert!(json["policy"].is_string(), "policy: {}", json["policy"]);
    assert_eq!(json["seed"], 1);
    assert_eq!(json["replications"], 2);

    let metrics = json["metrics"].as_object().expect("metrics is an object");
    for (name, metric) in metrics {
        let metric = metric.as_object().unwrap_or_else(|| panic!("{name} is not an object"));
        for field in ["mean", "ci95"] {
            let value = metric.get(field).unwrap_or_else(|| panic!("{name} has no {field}"));
            assert!(value.is_number() || value.is_null(), "{name}.{field} = {value}");
        }
    }
    for name in REQUIRED_METRICS {
        assert!(metrics.contains_key(*name), "metrics lacks {name}");
    }
    assert!(metrics["wait_first_mean_s"]["mean"].is_number());

    let engine = &json["engine"];
    assert!(engine["events"].as_u64().is_some_and(|n| n > 0), "engine.events: {}", engine["events"]);
    assert!(engine["wall_s"].as_f64().is_some_and(|s| s >= 0.0), "engine.wall_s: {}", engine["wall_s"]);
    assert!(engine["events_per_s"].is_number(), "engine.events_per_s: {}", engine["events_per_s"]);
}

#[test]
fn run_json_defines_resumed_metrics_when_conversations_resume() {
    // mmc has single-exchange conversations, so its resumed metrics are null; quickstart's are not.
    let json: Value =
        serde_json::from_str(&run_stdout("scenarios/quickstart.toml", "json")).expect("valid JSON");
    for name in REQUIRED_METRICS {
        let mean = &json["metrics"][name]["mean"];
        assert!(mean.is_number(), "quickstart: {name}.mean = {mean}");
    }
}

#[test]
fn run_csv_has_the_documented_header_and_every_required_metric() {
    let csv = run_stdout("scenarios/mmc.toml", "csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("metric,mean,ci95,meaning"));
    let rows: Vec<&str> = lines.filter_map(|line| line.split(',').next()).collect();
    for name in REQUIRED_METRICS {
        assert!(rows.contains(name), "the CSV has no row {name}:\n{csv}");
    }
}

#[test]
fn run_table_fits_in_100_columns() {
    for scenario in ["scenarios/mmc.toml", "scenarios/quickstart.toml"] {
        let table = run_stdout(scenario, "table");
        assert!(!table.trim().is_empty(), "{scenario}: empty table");
        for line in table.lines() {
            let width = line.chars().count();
            assert!(width <= 100, "{scenario}: a {width}-column line:\n{line}");
        }
    }
}
