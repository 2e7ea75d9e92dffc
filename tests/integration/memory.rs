//! Memory stays bounded: whatever the scenario and the command line, a run ends in an answer
//! or one keyed line, well under a gigabyte (peak resident memory of the child process, from
//! `wait4`).

use std::io::Read;
use std::process::{Command, Stdio};

/// Peak memory a reproduction may reach (KiB): well under the 1 GiB the issue allows.
const PEAK_KIB: i64 = 700 * 1024;

/// What a finished `convosim` process left: its exit status, its stderr and its peak resident
/// memory in KiB.
struct Finished {
    code: i32,
    stderr: String,
    peak_kib: i64,
}

/// Runs `convosim ARGS` in the crate's folder, stdout discarded, and measures it.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which also gives its peak memory
fn measured(args: &[&str]) -> Finished {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("convosim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("convosim starts");
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("stderr is text");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: `rusage` is plain data, valid zeroed; `wait4` reaps our own child `pid` once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on the child");
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Finished { code, stderr, peak_kib: usage.ru_maxrss }
}

/// Asserts `finished` is one error line with every fragment, under [`PEAK_KIB`].
fn one_line_within_budget(finished: &Finished, fragments: &[&str]) {
    let Finished { code, stderr, peak_kib } = finished;
    assert_eq!(*code, 2, "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.lines().count() == 1, "{stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "{fragment:?} not in {stderr}");
    }
    assert!(*peak_kib < PEAK_KIB, "peak {peak_kib} KiB: {stderr}");
}

/// A scenario written to a temporary folder (kept alive by the returned guard).
fn written(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    let path = path.to_str().expect("utf-8 path").to_string();
    (dir, path)
}

/// Status-based held capacity with replies 1000 days apart: every conversation stays open, so
/// open conversations grow by the arrival rate until the budget stops the run.
const HELD: &str = r#"
name = "held"
horizon = "30d"
replications = 8
capacity = "salesforce"
allow_overload = true
[arrivals]
rate_per_hour = 1000000
[conversation]
exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "3m" }
gap = { dist = "fixed", value = "1000d" }
[[agents]]
name = "team"
count = 100
concurrency = 2
[policy]
kind = "next_available"
"#;

#[test]
fn open_conversations_have_one_budget_for_the_process_whatever_the_threads() {
    let (_dir, file) = written("held.toml", HELD);
    // Eight runs at once share the budget: each stops at an eighth of it.
    let shared = measured(&["run", &file, "--threads", "8"]);
    one_line_within_budget(&shared, &["more than 500000 conversations open", "shared by 8 run(s)"]);
    // One run alone has all of it, and stays as far under a gigabyte.
    let alone = measured(&["run", &file, "--threads", "1", "--replications", "1"]);
    one_line_within_budget(&alone, &["more than 4000000 conversations open", "shared by 1 run(s)"]);
}

/// The reference-like center at a million arrivals an hour: 72 million contacts a replication.
const HUGE_DEMAND: &str = r#"
name = "huge"
horizon = "1d"
replications = 4
[arrivals]
rate_per_hour = 1000000
[conversation]
exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "3m" }
gap = { dist = "exponential", mean = "5m" }
patience_first = { dist = "exponential", mean = "10m" }
[[agents]]
name = "team"
count = 6
concurrency = 2
[policy]
kind = "hybrid"
timeout = "10m"
"#;

#[test]
fn a_staffing_search_past_its_work_budget_is_refused_before_it_starts() {
    let (_dir, file) = written("huge.toml", HUGE_DEMAND);
    for mode in [None, Some("--per-interval")] {
        let mut args = vec!["staff", file.as_str(), "--pool", "team", "--target", "sl_first_share>=0.8"];
        args.extend(mode);
        let started = std::time::Instant::now();
        let refused = measured(&args);
        one_line_within_budget(
            &refused,
            &["huge.toml: staff would simulate up to 1.", "7.20e7 per replication", "--force"],
        );
        assert!(started.elapsed().as_secs() < 5, "{mode:?}: {:?}", started.elapsed());
    }
}

/// The reference-like center with `report` as its `[report]` table and `replications`.
fn center_with_report(report: &str, replications: u32) -> String {
    HUGE_DEMAND
        .replace("rate_per_hour = 1000000", "rate_per_hour = 60")
        .replace("replications = 4", &format!("replications = {replications}"))
        .replace("[policy]", &format!("[report]\n{report}\n[policy]"))
}

#[test]
fn a_report_interval_past_the_memory_budget_is_refused_at_load_naming_what_to_change() {
    let (_dir, file) = written("second.toml", &center_with_report("interval = \"1s\"\nfold = \"week\"", 4));
    let expected =
        ["second.toml: report.interval: 604800 intervals of 1s over a week", "budget of 100000", "8s"];
    one_line_within_budget(&measured(&["check", &file]), &expected);
    let out = format!("{file}.out");
    one_line_within_budget(&measured(&["run", &file, "--out", &out]), &expected);
    let staff = ["staff", &file, "--pool", "team", "--per-interval", "--target", "sl_first_share>=0.8"];
    one_line_within_budget(&measured(&staff), &expected);
    // A vector by the second over a day fits the breakdowns but is no staffing plan.
    let (_day, day) = written("day.toml", &center_with_report("interval = \"1s\"\nfold = \"day\"", 2));
    let staff = ["staff", &day, "--pool", "team", "--per-interval", "--target", "sl_first_share>=0.8"];
    one_line_within_budget(&measured(&staff), &["--per-interval: ", "86400 values", "at least 9s"]);
}

#[test]
fn rows_kept_over_replications_are_bounded_too() {
    let (_dir, file) = written("minute.toml", &center_with_report("interval = \"1m\"\nfold = \"week\"", 1));
    one_line_within_budget(
        &measured(&["run", &file, "--replications", "100"]),
        &[
            "--replications 100: ",
            "report.interval: 10080 intervals of 1m over a week",
            "at most 99 replications",
        ],
    );
}

#[test]
fn a_breakdown_by_second_within_the_budget_runs_to_its_results_well_under_a_gigabyte() {
    // 86,400 rows for 11 replications: 1.0 GB peak before the values were kept as numbers
    // and the window bounded by rows, 0.4 GB after.
    let (dir, file) = written("day.toml", &center_with_report("interval = \"1s\"\nfold = \"day\"", 11));
    let out = dir.path().join("out");
    let finished = measured(&["run", &file, "--out", out.to_str().expect("utf-8 path")]);
    assert_eq!(finished.code, 0, "{}", finished.stderr);
    assert!(finished.peak_kib < PEAK_KIB, "peak {} KiB", finished.peak_kib);
    let intervals = std::fs::read_to_string(out.join("intervals.csv")).expect("intervals.csv");
    assert_eq!(intervals.lines().count(), 86_401);
}
