//! Results that stay whole: `staff --out` writes its staffed scenarios into the results folder
//! (partial, manifest, commit) and never over its input; a rewrite leaves nothing of the
//! previous result; `--resume` refuses rows changed or cut since its checkpoint; the report
//! replaces its page whole and never writes into the results; an interrupted first sweep
//! leaves no empty folder, and readers say how to resume it.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};
use crate::crash_safety::{assert_success, path, stop_at, workspace, LONG_SWEEP};

/// M/M/c at 120/h with 5-minute handle times over two days: a staffing search in a second.
const MMC: &str = r#"# A comment the user keeps.
name = "mmc"
horizon = "2d"
warmup = "4h"
seed = 1
replications = 2

[arrivals]
rate_per_hour = 120

[conversation]
exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "5m" }

[[agents]]
name = "team"
count = 12

[policy]
kind = "next_available"
"#;

/// `convosim staff SCENARIO --pool team --target ... --out OUT EXTRA...`.
fn staff(scenario: &str, out: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = convosim();
    cmd.args(["staff", scenario, "--pool", "team", "--target", "waited_first_share<=0.3", "--out", out])
        .args(extra);
    cmd
}

fn run_ok(cmd: &mut assert_cmd::Command) {
    assert_success(&cmd.output().expect("convosim runs"));
}

/// The names in `dir` that are not hidden (the lock and a report's temporary file are).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn manifest_files(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string(dir.join("manifest.json")).expect("a manifest");
    let manifest: Value = serde_json::from_str(&text).expect("JSON");
    manifest["files"].as_object().expect("files").keys().cloned().collect()
}

#[test]
fn staff_out_writes_a_whole_results_folder_and_never_over_its_input() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let own = tmp.path().join("own");
    fs::create_dir(&own).expect("a folder");
    let input = own.join("staffed.toml");
    fs::write(&input, MMC).expect("the scenario");
    // Refused before any simulation (nothing on stdout), the input untouched.
    let fragments = ["--out", "holds the scenario", "staffed.toml"];
    assert_one_line_error(&mut staff(path(&input), path(&own), &[]), &fragments);
    assert_one_line_error(staff("staffed.toml", ".", &[]).current_dir(&own), &fragments);
    let run_into = ["run", path(&input), "--out", path(&own)];
    assert_one_line_error(convosim().args(run_into), &["--out", "would replace the input", "staffed.toml"]);
    assert_eq!(fs::read_to_string(&input).expect("the input"), MMC, "the input was overwritten");
    assert_eq!(listing(&own), ["staffed.toml"]);

    // The staffed scenarios are files of the results folder: in its manifest, moved in by
    // its commit, and a rewrite with other policies leaves none of the previous ones.
    let base = tmp.path().join("base.toml");
    fs::write(&base, MMC).expect("the scenario");
    let res = tmp.path().join("res");
    run_ok(&mut staff(path(&base), path(&res), &["--policies", "next-available,sticky"]));
    let both = ["staff.json", "staffed-next-available.toml", "staffed-sticky.toml"];
    assert_eq!(manifest_files(&res), both);
    assert!(!tmp.path().join("res.partial").exists());
    run_ok(convosim().args(["report", path(&res)]));
    run_ok(&mut staff(path(&base), path(&res), &["--policies", "sticky"]));
    assert_eq!(listing(&res), ["manifest.json", "staff.json", "staffed-sticky.toml"]);
    run_ok(&mut staff(path(&base), path(&res), &[]));
    assert_eq!(listing(&res), ["manifest.json", "staff.json", "staffed.toml"]);
    assert_eq!(manifest_files(&res), ["staff.json", "staffed.toml"]);
    // A staffed scenario changed since is caught like any results file.
    let staffed = res.join("staffed.toml");
    fs::write(&staffed, fs::read_to_string(&staffed).expect("staffed.toml") + "\n").expect("an edit");
    assert_one_line_error(
        convosim().args(["report", path(&res)]),
        &["incomplete or modified", "staffed.toml"],
    );
}

#[test]
fn resume_refuses_rows_changed_or_cut_since_its_checkpoint() {
    let (dir, file) = workspace(LONG_SWEEP);
    let out = dir.path().join("out");
    let args = ["sweep", path(&file), "--quiet", "--threads", "1", "--out", path(&out)];
    if !stop_at(&args, &out, 40, "-KILL") {
        return println!("skipped: the sweep finished before it could be stopped");
    }
    let resume = || {
        let mut cmd = convosim();
        cmd.args(args).arg("--resume");
        cmd
    };
    let partial = dir.path().join("out.partial");
    let rows = partial.join("replications.csv");
    let original = fs::read(&rows).expect("replications.csv");
    // One digit of the first row (well inside the 40 the checkpoint covers).
    let header_end = original.iter().position(|&b| b == b'\n').expect("a header");
    let digit =
        original[header_end + 3..].iter().position(u8::is_ascii_digit).expect("a digit") + header_end + 3;
    let mut changed = original.clone();
    changed[digit] = if changed[digit] == b'9' { b'0' } else { changed[digit] + 1 };
    fs::write(&rows, &changed).expect("an edit");
    let refusal = ["--resume", "replications.csv", "changed since the checkpoint", "run without --resume"];
    assert_one_line_error(&mut resume(), &refusal);
    fs::write(&rows, &original).expect("restored");

    let breakdowns = partial.join("breakdowns.jsonl");
    let lines = fs::read_to_string(&breakdowns).expect("breakdowns.jsonl");
    let two: String = lines.split_inclusive('\n').take(2).collect();
    fs::write(&breakdowns, two).expect("cut");
    assert_one_line_error(
        &mut resume(),
        &["--resume", "breakdowns.jsonl", "was cut", "run without --resume"],
    );
    fs::write(&breakdowns, lines).expect("restored");

    // The refusals changed nothing: the partial folder resumes to a complete result.
    run_ok(&mut resume());
    run_ok(convosim().args(["compare", path(&out), path(&out)]));
}

#[test]
fn report_replaces_its_page_whole_and_never_writes_into_the_results() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let base = tmp.path().join("base.toml");
    fs::write(&base, SMALL_CENTER).expect("the scenario");
    let res = tmp.path().join("res");
    run_ok(convosim().args(["run", path(&base), "--format", "csv", "--out", path(&res), "--report"]));
    let page = fs::read_to_string(res.join("report.html")).expect("the report");
    // A write that fails (the temporary file beside the page cannot be made: its name is
    // taken by a folder, as a full disk would fail it) leaves the previous page whole.
    let blocker = res.join(".report.html.new");
    fs::create_dir(&blocker).expect("a folder");
    assert_one_line_error(
        convosim().args(["report", path(&res)]),
        &["report.html", "cannot write the report"],
    );
    assert_eq!(fs::read_to_string(res.join("report.html")).expect("the report"), page);
    fs::remove_dir(&blocker).expect("removed");

    // An --out that is, or resolves into, a file of the results folder is refused.
    let summary = fs::read_to_string(res.join("summary.csv")).expect("summary.csv");
    let link = tmp.path().join("link.html");
    std::os::unix::fs::symlink(res.join("summary.csv"), &link).expect("a link");
    let into = ["--out", "link.html", "summary.csv", "in the results folder"];
    assert_one_line_error(convosim().args(["report", path(&res), "--out", path(&link)]), &into);
    let other = res.join("other.html");
    assert_one_line_error(
        convosim().args(["report", path(&res), "--out", path(&other)]),
        &["in the results folder"],
    );
    assert_eq!(fs::read_to_string(res.join("summary.csv")).expect("summary.csv"), summary);
    run_ok(convosim().args(["compare", path(&res), path(&res)]));
    // Its own report is fine, and a link outside is written through, staying a link.
    run_ok(convosim().args(["report", path(&res), "--out", path(&res.join("report.html"))]));
    let (real, outside) = (tmp.path().join("real.html"), tmp.path().join("outside.html"));
    fs::write(&real, "old").expect("a file");
    std::os::unix::fs::symlink(&real, &outside).expect("a link");
    run_ok(convosim().args(["report", path(&res), "--out", path(&outside)]));
    assert!(fs::symlink_metadata(&outside).expect("the link").file_type().is_symlink());
    assert!(fs::read_to_string(&real).expect("the page").starts_with("<!DOCTYPE html>"));
}

#[test]
fn a_rewrite_leaves_nothing_of_the_previous_result() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (center, mmc) = (tmp.path().join("center.toml"), tmp.path().join("mmc.toml"));
    fs::write(&center, SMALL_CENTER).expect("the scenario");
    fs::write(&mmc, MMC).expect("the scenario");
    let res = tmp.path().join("res");
    let run = ["run", path(&center), "--format", "csv", "--out", path(&res)];
    run_ok(convosim().args(run).arg("--report"));
    assert!(res.join("report.html").is_file());
    run_ok(convosim().args(run));
    let run_files = listing(&res);
    assert!(!run_files.contains(&"report.html".to_string()), "a stale report: {run_files:?}");
    // A staffing result over a run's, then a run's over the staffing result: no file of the
    // other survives.
    run_ok(&mut staff(path(&mmc), path(&res), &["--report"]));
    assert_eq!(listing(&res), ["manifest.json", "report.html", "staff.json", "staffed.toml"]);
    run_ok(convosim().args(run));
    assert_eq!(listing(&res), run_files);
}

#[test]
fn an_interrupted_first_sweep_leaves_no_folder_and_readers_say_how_to_resume() {
    let (dir, file) = workspace(LONG_SWEEP);
    let out = dir.path().join("out");
    let args = ["sweep", path(&file), "--quiet", "--threads", "1", "--out", path(&out)];
    if !stop_at(&args, &out, 8, "-KILL") {
        return println!("skipped: the sweep finished before it could be stopped");
    }
    assert!(!out.exists(), "an empty folder that looks like a result");
    let how = [
        "out: incomplete or modified: the run that writes it did not finish (interrupted",
        "out.partial",
        "resume with `convosim sweep",
        "--resume --out",
    ];
    assert_one_line_error(convosim().args(["report", path(&out)]), &how);
    assert_one_line_error(convosim().args(["compare", path(&out), path(&out)]), &how);
}
