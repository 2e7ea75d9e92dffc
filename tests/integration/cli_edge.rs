//! The command-line edge end to end: usage errors are one line naming the flag (exit 2) while
//! `--help` and `--version` still work; `--out` and `--threads` are checked before anything
//! runs; Ctrl-C prints one line and exits 130; `--set` changes a scenario the way a sweep
//! axis does; and a run streams its replications, so a huge replication count runs instead
//! of aborting on an up-front allocation.
//!
//! Long runs are spawned as child processes and stopped with SIGINT; every wait is bounded and
//! a test that fails midway kills its child.

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{assert_one_line_error, convosim, PATIENCE};
use predicates::prelude::*;
use serde_json::Value;

/// A scenario whose replications take about a millisecond.
const QUICK: &str = r#"
name = "quick"
horizon = "2h"
warmup = "10m"
seed = 3
replications = 2

[arrivals]
rate_per_hour = 60

[conversation]
exchanges = { dist = "geometric", mean = 2 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "exponential", mean = "2m" }

[[agents]]
name = "team"
count = 4
concurrency = 2

[policy]
kind = "hybrid"
timeout = "10m"
"#;

/// Writes [`QUICK`] (after `edit`) into `dir` and returns its path.
fn quick_scenario(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let path = dir.join("quick.toml");
    std::fs::write(&path, edit(QUICK)).expect("the scenario is written");
    path
}

// ---- Usage errors: one line, exit 2 ----

#[test]
fn a_negative_seed_says_what_a_seed_is() {
    assert_one_line_error(
        convosim().args(["run", "scenarios/mmc.toml", "--seed", "-1"]),
        &["--seed", "expected a non-negative integer", "got \"-1\""],
    );
}

#[test]
fn structural_usage_errors_are_one_line_with_a_hint() {
    let cases: [(&[&str], &[&str]); 5] = [
        (&["run"], &["missing <SCENARIO>", "convosim run --help"]),
        (&["run", "scenarios/mmc.toml", "--formt", "json"], &["'--formt'", "did you mean '--format'?"]),
        (&["runn"], &["unknown command 'runn'", "did you mean 'run'?"]),
        (&[], &["a command is required", "convosim --help"]),
        (&["merge", "a"], &["missing --out", "convosim merge --help"]),
    ];
    for (args, fragments) in cases {
        assert_one_line_error(convosim().args(args), fragments);
    }
}

#[test]
fn help_and_version_still_print_and_succeed() {
    convosim().arg("--help").assert().success().stdout(predicate::str::contains("Usage: convosim"));
    convosim().args(["run", "--help"]).assert().success().stdout(predicate::str::contains("--set"));
    convosim().arg("--version").assert().success().stdout(predicate::str::starts_with("convosim "));
}

/// `staff --help` says what `--per-interval` staffs to now: every kind of interval target.
#[test]
fn staff_help_names_every_kind_of_per_interval_target() {
    let help = convosim().args(["staff", "--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&help.stdout);
    for kind in ["waited share", "service level", "abandonment", "mean wait", "queue length", "re-staffing"] {
        assert!(text.contains(kind), "staff --help does not name {kind}:\n{text}");
    }
    assert!(!text.contains("for now"), "{text}");
}

// ---- Output locations, checked before simulating ----

#[test]
fn out_that_is_a_file_fails_before_simulating() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("taken");
    std::fs::write(&file, "not a directory").expect("the file is written");
    // Enough replications that simulating first would blow the timeout.
    let mut run = convosim();
    run.args(["run", "scenarios/quickstart.toml", "--replications", "100000", "--out"]).arg(&file);
    assert_one_line_error(&mut run, &["--out", "taken", "expected a directory, but it is a file"]);
    let mut sweep = convosim();
    sweep.args(["sweep", "scenarios/sweeps/policy-frontier.toml", "--quiet", "--out"]).arg(&file);
    assert_one_line_error(&mut sweep, &["--out", "expected a directory, but it is a file"]);
    let mut merge = convosim();
    merge.args(["merge", "no/such/shard", "--out"]).arg(&file);
    assert_one_line_error(&mut merge, &["--out", "expected a directory, but it is a file"]);
    let mut nested = convosim();
    nested
        .args(["run", "scenarios/quickstart.toml", "--replications", "100000", "--out"])
        .arg(file.join("sub"));
    assert_one_line_error(&mut nested, &["--out", "cannot create the directory"]);
    assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("not a directory"));
    // Checked, not created: a run refused for bad input leaves no empty directory behind.
    let fresh = dir.path().join("fresh");
    let mut refused = convosim();
    refused.args(["run", "scenarios/mmc.toml", "--set", "agents.team.count=0", "--out"]).arg(&fresh);
    assert_one_line_error(&mut refused, &["agents[0].count"]);
    assert!(!fresh.exists());
}

// ---- Threads ----

#[test]
fn thread_counts_out_of_range_are_refused_at_once() {
    for count in ["100000", "0", "-2", "many"] {
        assert_one_line_error(
            convosim().args(["run", "scenarios/mmc.toml", "--threads", count]),
            &["--threads", "expected a number of worker threads from 1 to 256", &format!("got \"{count}\"")],
        );
    }
    assert_one_line_error(
        convosim().args(["sweep", "scenarios/sweeps/policy-frontier.toml", "--threads", "257"]),
        &["--threads", "from 1 to 256"],
    );
}

// ---- Long runs: Ctrl-C and replications that stream ----

/// A spawned `convosim`, killed if a test fails before it exits.
struct Running(Child);

impl Running {
    fn start(args: &[&str], scenario: &Path, out: &Path) -> Self {
        let child = Process::new(env!("CARGO_BIN_EXE_convosim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .arg(scenario)
            .arg("--out")
            .arg(out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("convosim starts");
        Running(child)
    }

    fn interrupt(&self) {
        let sent = Process::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGINT could not be sent");
    }

    /// The exit status and stderr, within [`PATIENCE`].
    fn finish(mut self) -> (ExitStatus, String) {
        let status = wait_until(|| self.0.try_wait().ok().flatten()).expect("convosim exits after SIGINT");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        (status, stderr)
    }

    fn still_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.still_running() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Polls `probe` until it gives a value or [`PATIENCE`] runs out.
fn wait_until<T>(mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if let Some(value) = probe() {
            return Some(value);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn ctrl_c_prints_one_line_and_exits_130() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = quick_scenario(dir.path(), str::to_string);
    let out = dir.path().join("results");
    let child = Running::start(&["run", "--replications", "1000000", "--threads", "1"], &scenario, &out);
    // The handler is in place before the partial folder beside the output is made.
    let partial = dir.path().join("results.partial");
    assert!(wait_until(|| partial.is_dir().then_some(())).is_some(), "the run never started");
    child.interrupt();
    let (status, stderr) = child.finish();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("interrupted: "), "stderr: {stderr}");
    assert!(stderr.contains(&out.display().to_string()) && stderr.contains("incomplete"), "stderr: {stderr}");
}

#[test]
fn a_huge_replication_count_streams_instead_of_aborting() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = quick_scenario(dir.path(), str::to_string);
    let out = dir.path().join("results");
    // Rows stream into the partial folder beside --out until the run is complete.
    let rows = dir.path().join("results.partial").join("replications.csv");
    let mut child = Running::start(&["run", "--replications", "1000000", "--threads", "2"], &scenario, &out);
    // Rows reach the file while the run goes on: nothing was reserved for all replications.
    let header_and_rows = 16 * 1024;
    let grew = wait_until(|| std::fs::metadata(&rows).ok().filter(|m| m.len() > header_and_rows));
    assert!(grew.is_some(), "replications.csv did not grow");
    assert!(child.still_running(), "the run stopped early");
    child.interrupt();
    let (status, stderr) = child.finish();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
}

// ---- --set ----

/// The JSON report of `run`, without its wall-clock fields.
fn report(args: &[&str], scenario: &Path) -> Value {
    let output =
        convosim().args(["run", "--format", "json"]).args(args).arg(scenario).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut json: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let engine = json["engine"].as_object_mut().expect("an engine section");
    for key in ["wall_s", "events_per_s", "contacts_per_s"] {
        engine.remove(key);
    }
    json
}

#[test]
fn set_changes_the_scenario_like_an_edit_of_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = quick_scenario(dir.path(), str::to_string);
    let edited_dir = dir.path().join("edited");
    std::fs::create_dir(&edited_dir).expect("a directory");
    let edited = quick_scenario(&edited_dir, |text| {
        text.replace("count = 4", "count = 3")
            .replace("timeout = \"10m\"", "timeout = \"7m\"")
            .replace("rate_per_hour = 60", "rate_per_hour = 75.5")
    });
    let sets = [
        "--set",
        "agents.team.count=3",
        "--set",
        "policy.timeout=7m",
        "--set",
        "arrivals.rate_per_hour=75.5",
    ];
    assert_eq!(report(&sets, &scenario), report(&[], &edited));
    assert_ne!(report(&[], &scenario), report(&[], &edited));
    convosim().arg("check").arg(&scenario).args(sets).assert().success();
}

#[test]
fn set_errors_name_the_key_and_what_is_expected() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let scenario = quick_scenario(dir.path(), str::to_string);
    let cases: [(&str, &[&str]); 4] = [
        ("agents.nobody.count=3", &["--set agents.nobody.count", "no element named \"nobody\""]),
        ("policy.timeout.x=1", &["--set policy.timeout.x", "`policy.timeout` is \"10m\", not a table"]),
        ("agents.team.count", &["--set", "expected KEY=VALUE", "got \"agents.team.count\""]),
        (
            "agents.team.count=0",
            &["quick.toml", "agents[0].count", "expected an integer", "(with --set agents.team.count=0)"],
        ),
    ];
    for (setting, fragments) in cases {
        assert_one_line_error(convosim().args(["run", "--set", setting]).arg(&scenario), fragments);
        assert_one_line_error(convosim().args(["check", "--set", setting]).arg(&scenario), fragments);
    }
}
