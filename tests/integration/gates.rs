//! Gates that can fail, end to end: `compare` refuses folders whose points do not match and
//! reads changes sensibly, `--tolerance` needs its unit, `--assert` refuses to gate where the
//! 95% CI cannot exist, sweep axes that would silently run nothing (or something else) are
//! keyed errors, and the sweep table shows every axis value in full.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::cli::{convosim, SMALL_CENTER};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temp dir holding base.toml.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("base.toml"), SMALL_CENTER.replace("replications = 2", "replications = 3"))
        .unwrap();
    dir
}

/// Writes a sweep file `name.toml` with these lines after `base`, runs it into `dir/name`.
fn sweep(dir: &Path, name: &str, body: &str, extra: &[&str]) -> (Output, PathBuf) {
    let file = dir.join(format!("{name}.toml"));
    fs::write(&file, format!("name = \"{name}\"\nbase = \"base.toml\"\n{body}")).unwrap();
    let out_dir = dir.join(name);
    let output = convosim()
        .args(["sweep", file.to_str().unwrap(), "--quiet", "--out", out_dir.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("runs");
    (output, out_dir)
}

fn compare(baseline: &Path, candidate: &Path, extra: &[&str]) -> Output {
    convosim()
        .args(["compare", baseline.to_str().unwrap(), candidate.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("runs")
}

/// One `error: ` line on stderr, exit status 2, and the line, for further checks.
fn refused(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stdout: {}\nstderr: {stderr}", text(&output.stdout));
    assert!(stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A run of the base with `policy` into `dir/name`.
fn run(dir: &Path, name: &str, policy: &str, replications: &str) -> PathBuf {
    let out_dir = dir.join(name);
    let output = convosim()
        .args(["run", dir.join("base.toml").to_str().unwrap(), "--format", "csv"])
        .args(["--policy", policy, "--replications", replications, "--out", out_dir.to_str().unwrap()])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    out_dir
}

#[test]
fn compare_refuses_points_missing_on_either_side_and_other_sweeps() {
    let dir = workspace();
    let axis = |counts: &str| format!("replications = 2\n[axes]\n\"agents.team.count\" = [{counts}]\n");
    let (ok, base) = sweep(dir.path(), "baseline", &axis("4, 5"), &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let (_, fewer) = sweep(dir.path(), "fewer", &axis("4"), &[]);
    let (_, other) = sweep(dir.path(), "other", &axis("4, 6"), &[]);
    let (_, timeout) =
        sweep(dir.path(), "timeout", "replications = 2\n[axes]\n\"policy.timeout\" = [\"1m\"]\n", &[]);

    // The candidate lacks a baseline point: once skipped silently with exit 0.
    let stderr = refused(&compare(&base, &fewer, &[]));
    assert!(stderr.contains("1 point(s) missing in the candidate: (agents.team.count=5)"), "{stderr}");
    let stderr = refused(&compare(&fewer, &base, &[]));
    assert!(stderr.contains("1 point(s) missing in the baseline: (agents.team.count=5)"), "{stderr}");
    let stderr = refused(&compare(&base, &other, &[]));
    assert!(
        stderr.contains("missing in the candidate") && stderr.contains("missing in the baseline"),
        "{stderr}"
    );
    // Unrelated folders: once "0 point(s) compared" and exit 0.
    let stderr = refused(&compare(&base, &timeout, &[]));
    assert!(stderr.contains("different sweeps") && stderr.contains("\"policy.timeout\""), "{stderr}");
    let single = run(dir.path(), "single", "sticky", "2");
    assert!(refused(&compare(&base, &single, &[])).contains("a single run"));
    // The same sweep compares (and is no regression against itself).
    assert_eq!(compare(&base, &base, &[]).status.code(), Some(0));
}

#[test]
fn compare_needs_a_unit_on_the_tolerance_and_known_metric_names() {
    let dir = workspace();
    let a = run(dir.path(), "a", "sticky", "2");
    // `--tolerance 5` once meant 500%.
    for bare in ["5", "0.05"] {
        let output = compare(&a, &a, &["--tolerance", bare]);
        assert_eq!(output.status.code(), Some(2));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("like 5%") && stderr.contains("--floor"), "{stderr}");
    }
    assert_eq!(compare(&a, &a, &["--tolerance", "5%"]).status.code(), Some(0));
    let stderr = refused(&compare(&a, &a, &["--metrics", "wait_first_p90_s,afinity_retention_share"]));
    assert!(
        stderr.contains("--metrics") && stderr.contains("did you mean \"affinity_retention_share\""),
        "{stderr}"
    );
    let stderr = refused(&compare(&a, &a, &["--floor", "wait_frist_mean_s=2"]));
    assert!(stderr.contains("--floor wait_frist_mean_s=2") && stderr.contains("did you mean"), "{stderr}");
    assert!(refused(&compare(&a, &a, &["--floor", "wait_first_mean_s"])).contains("METRIC=VALUE"));
}

#[test]
fn compare_chooses_metrics_and_prints_zero_baselines_as_absolute_changes() {
    let dir = workspace();
    let pooled = run(dir.path(), "pooled", "next-available", "4");
    let sticky = run(dir.path(), "sticky", "sticky", "4");
    let all = compare(&pooled, &sticky, &[]);
    assert_eq!(all.status.code(), Some(1), "{}", text(&all.stdout));
    let table = text(&all.stdout);
    // next-available answers resumed contacts at once: p90 0 s, so no percentage exists.
    let line = table.lines().find(|l| l.contains("wait_resumed_p90_s")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("REGRESSION") && line.contains("(was 0)"), "{table}");
    assert!(!table.contains("inf") && !table.contains("NaN"), "{table}");
    // Only affinity, which sticky improves: no regression.
    let chosen = compare(&pooled, &sticky, &["--metrics", "affinity_retention_share"]);
    assert_eq!(chosen.status.code(), Some(0), "{}", text(&chosen.stdout));
    assert!(text(&chosen.stdout).contains("1 metric(s) compared"), "{}", text(&chosen.stdout));
    // A floor above the change silences the wait regression.
    let floors = ["--metrics", "wait_resumed_p90_s", "--floor", "wait_resumed_p90_s=100000"];
    assert_eq!(compare(&pooled, &sticky, &floors).status.code(), Some(0));
}

#[test]
fn compare_refuses_one_replication() {
    let dir = workspace();
    let one = run(dir.path(), "one", "sticky", "1");
    assert!(refused(&compare(&one, &one, &[])).contains("at least 2"));
}

#[test]
fn assert_on_a_shard_is_refused_for_the_merge_to_gate() {
    let dir = workspace();
    let (output, out_dir) =
        sweep(dir.path(), "half", "", &["--shard", "1/2", "--assert", "wait_first_p90_s<=0"]);
    let stderr = refused(&output);
    assert!(stderr.contains("--assert with --shard") && stderr.contains("convosim merge"), "{stderr}");
    assert!(!out_dir.exists(), "nothing runs");
}

#[test]
fn assert_refuses_to_gate_on_one_replication() {
    let dir = workspace();
    // run: refused before anything runs.
    let output = convosim()
        .args(["run", dir.path().join("base.toml").to_str().unwrap(), "--replications", "1"])
        .args(["--assert", "wait_first_p90_s<=1000000"])
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(stderr.contains("--assert needs at least 2 replications"), "{stderr}");
    assert!(output.stdout.is_empty());
    // sweep: refused before anything runs or is written.
    let (output, out_dir) =
        sweep(dir.path(), "one", "replications = 1\n", &["--assert", "occupancy_share<=1"]);
    assert!(refused(&output).contains("at least 2 replications"));
    assert!(!out_dir.exists());
    // merge: the merged result has 1 replication per point.
    let (ok, shard) = sweep(dir.path(), "shard", "replications = 1\n", &["--shard", "1/1"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let merged = dir.path().join("merged");
    let output = convosim()
        .args(["merge", shard.to_str().unwrap(), "--out", merged.to_str().unwrap()])
        .args(["--assert", "occupancy_share<=1"])
        .output()
        .unwrap();
    assert!(refused(&output).contains("at least 2 replications"));
    // Without --assert, one replication is fine.
    let (ok, _) = sweep(dir.path(), "plain", "replications = 1\n", &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn axes_that_would_run_nothing_or_be_ignored_are_keyed_errors() {
    let dir = workspace();
    let cases = [
        // Once overflowed to 0 points, and `--assert` then "held at 0 points".
        (
            "\"arrivals.rate_per_hour\" = { from = 60, to = 61, step = 1e-300 }",
            "axes.\"arrivals.rate_per_hour\"",
            "at most 100000",
        ),
        (
            "\"agents.team.count\" = { from = 1, to = 9223372036854775807, step = 1 }",
            "axes.\"agents.team.count\"",
            "at most 100000",
        ),
        ("\"arrivals.rate_per_hour\" = { from = 60, to = nan, step = 1 }", ".to", "finite"),
        (
            "\"agents.team.count\" = { from = 5, to = 3, step = 1 }",
            "axes.\"agents.team.count\"",
            "from <= to",
        ),
        // Once silently ignored, with a duplicated `seed` CSV column.
        ("seed = [1, 2]", "axes.\"seed\"", "the sweep controls `seed`"),
        ("replications = [2, 3]", "axes.\"replications\"", "the sweep controls `replications`"),
        ("\"agents.team.count\" = [3]\n\"agents.0.count\" = [4]", "axes.\"agents.0.count\"", "same key"),
        (
            "a = { from = 1, to = 1000, step = 1 }\nb = { from = 1, to = 1001, step = 1 }",
            "axes",
            "points is too many",
        ),
    ];
    for (i, (axes, key, expected)) in cases.iter().enumerate() {
        let (output, out_dir) = sweep(
            dir.path(),
            &format!("bad{i}"),
            &format!("[axes]\n{axes}\n"),
            &["--assert", "occupancy_share<=1"],
        );
        let stderr = refused(&output);
        assert!(stderr.contains(&format!("bad{i}.toml: ")), "{stderr}");
        assert!(stderr.contains(key) && stderr.contains(expected), "{axes}: {stderr}");
        assert!(!out_dir.exists(), "nothing runs: {axes}");
    }
}

#[test]
fn the_sweep_table_shows_one_column_per_axis_in_full() {
    let dir = workspace();
    let body =
        "replications = 2\n[axes]\n\"policy.timeout\" = [\"30s\", \"10m\"]\n\"agents.team.count\" = [3, 4]\n";
    let (output, _) = sweep(dir.path(), "table", body, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[1].starts_with("policy.timeout agents.team.count"), "{stdout}");
    let rows = &lines[2..6];
    let cells: Vec<Vec<&str>> = rows.iter().map(|l| l.split_whitespace().take(2).collect()).collect();
    assert_eq!(cells, [["30s", "3"], ["30s", "4"], ["10m", "3"], ["10m", "4"]], "{stdout}");
    for title in ["first contacts", "resumed contacts"] {
        assert!(lines[0].contains(title), "{stdout}");
    }
    assert_eq!(lines[1].matches("abandoned").count(), 2, "{stdout}");
    assert_eq!(lines[1].matches("in SL").count(), 2, "{stdout}");
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "{stdout}");
}
