//! Sweeps end to end through the CLI: determinism across threads, exact shard merge, axis
//! errors before anything runs, CI gates and regression comparison.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::{convosim, SMALL_CENTER};

const SWEEP: &str = r#"
name = "tiny-sweep"
base = "base.toml"
replications = 3
seed = 11
[axes]
"policy.timeout" = ["30s", "10m"]
"agents.team.count" = { from = 3, to = 5, step = 1 }
"#;

/// A temp dir holding base.toml and sweep.toml (`sweep` replaces the sweep text).
fn workspace(sweep: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("base.toml"), SMALL_CENTER).unwrap();
    let file = dir.path().join("sweep.toml");
    fs::write(&file, sweep).unwrap();
    (dir, file)
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    convosim()
        .args(["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("runs")
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn results_are_identical_on_one_thread_and_four() {
    let (dir, file) = workspace(SWEEP);
    let (one, four) = (dir.path().join("t1"), dir.path().join("t4"));
    assert!(sweep(&file, &one, &["--threads", "1"]).status.success());
    assert!(sweep(&file, &four, &["--threads", "4"]).status.success());
    for name in ["summary.csv", "replications.csv", "summary.json", "histograms.jsonl"] {
        assert_eq!(read(one.join(name)), read(four.join(name)), "{name} differs");
    }
    let manifest: serde_json::Value = serde_json::from_str(&read(four.join("manifest.json"))).unwrap();
    assert_eq!(manifest["threads"], 4);
    assert_eq!(manifest["tasks"], 18);
}

#[test]
fn three_merged_shards_equal_the_whole_sweep_byte_for_byte() {
    let (dir, file) = workspace(SWEEP);
    let whole = dir.path().join("whole");
    assert!(sweep(&file, &whole, &[]).status.success());
    let shards: Vec<PathBuf> = (1..=3).map(|k| dir.path().join(format!("shard-{k}"))).collect();
    for (k, shard) in shards.iter().enumerate() {
        let out = sweep(&file, shard, &["--shard", &format!("{}/3", k + 1)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!shard.join("summary.csv").exists(), "a shard writes no summary of its own");
    }
    let merged = dir.path().join("merged");
    let out =
        convosim().arg("merge").args(&shards).args(["--out", merged.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(read(whole.join("summary.csv")), read(merged.join("summary.csv")));
    assert_eq!(read(whole.join("replications.csv")), read(merged.join("replications.csv")));
    assert_eq!(read(whole.join("summary.json")), read(merged.join("summary.json")));
}

#[test]
fn missing_duplicated_or_foreign_shards_are_refused() {
    let (dir, file) = workspace(SWEEP);
    let shard = |k: u32| {
        let path = dir.path().join(format!("s{k}"));
        assert!(sweep(&file, &path, &["--shard", &format!("{k}/2")]).status.success());
        path
    };
    let (s1, s2) = (shard(1), shard(2));
    let merge = |dirs: &[&Path]| {
        let out = convosim()
            .arg("merge")
            .args(dirs)
            .args(["--out", dir.path().join("m").to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(merge(&[&s1]).contains("missing shard(s) 2/2"));
    assert!(merge(&[&s1, &s1, &s2]).contains("given twice"));

    let other_sweep = SWEEP.replace("seed = 11", "seed = 12");
    let (other_dir, other_file) = workspace(&other_sweep);
    let foreign = other_dir.path().join("s2");
    assert!(sweep(&other_file, &foreign, &["--shard", "2/2"]).status.success());
    assert!(merge(&[&s1, &foreign]).contains("different sweep"));
}

#[test]
fn a_bad_axis_is_reported_with_the_point_before_anything_runs() {
    let cases = [
        (r#""agents.night.count" = [1, 2]"#, r#"axis "agents.night.count""#, "no element named \"night\""),
        (r#""policy.timeout" = ["5m", "soon"]"#, "at point (policy.timeout=\"soon\")", "policy.timeout"),
        (r#""agents.team.count" = [2, "many"]"#, "agents.team.count=\"many\"", "agents[0].count"),
        (r#""agents.team.count" = [2, [3]]"#, "agents.team.count=[3]", "agents[0].count"),
    ];
    for (axis, point, key) in cases {
        let text = format!("name = \"bad\"\nbase = \"base.toml\"\n[axes]\n{axis}\n");
        let (dir, file) = workspace(&text);
        let out_dir = dir.path().join("out");
        let out = sweep(&file, &out_dir, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(point) && stderr.contains(key), "{stderr}");
        assert!(stderr.contains("sweep.toml"), "{stderr}");
        assert!(!out_dir.exists(), "nothing runs before every point is valid");
    }
}

#[test]
fn assertions_gate_on_the_conservative_bound() {
    let (dir, file) = workspace(SWEEP);
    let out = sweep(
        &file,
        &dir.path().join("a"),
        &["--assert", "occupancy_share<=1", "--assert", "wait_resumed_p90_s<0.001"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "assertion failed: wait_resumed_p90_s<0.001 at (policy.timeout=10m, agents.team.count=3)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("occupancy_share"), "{stderr}");
    let ok = sweep(&file, &dir.path().join("b"), &["--assert", "abandon_first_share<=1"]);
    assert_eq!(ok.status.code(), Some(0));
    let bad = sweep(&file, &dir.path().join("c"), &["--assert", "wait_frist_p90_s<=1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean \"wait_first_p90_s\""));
}

#[test]
fn compare_flags_a_significant_regression_only() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, policy: &str| {
        let out_dir = dir.path().join(name);
        let out = convosim()
            .args([
                "run",
                "scenarios/reference.toml",
                "--replications",
                "6",
                "--policy",
                policy,
                "--format",
                "csv",
            ])
            .args(["--out", out_dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out_dir
    };
    let (pooled, sticky) = (run("pooled", "next-available"), run("sticky", "sticky"));
    let compare = |a: &Path, b: &Path| {
        convosim().args(["compare", a.to_str().unwrap(), b.to_str().unwrap()]).output().unwrap()
    };
    let worse = compare(&pooled, &sticky);
    assert_eq!(worse.status.code(), Some(1));
    let table = String::from_utf8_lossy(&worse.stdout);
    assert!(table.contains("REGRESSION") && table.contains("wait_resumed_mean_s"), "{table}");
    let better = compare(&sticky, &pooled);
    assert_eq!(better.status.code(), Some(1), "affinity falls the other way round");
    assert!(String::from_utf8_lossy(&better.stdout).contains("affinity_retention_share"));
    assert_eq!(compare(&sticky, &sticky).status.code(), Some(0));
}

#[test]
fn summary_csv_loads_without_cleaning() {
    let (dir, file) = workspace(SWEEP);
    let out_dir = dir.path().join("out");
    assert!(sweep(&file, &out_dir, &[]).status.success());
    let mut reader = csv::Reader::from_path(out_dir.join("summary.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let names: std::collections::HashSet<&str> = header.iter().collect();
    assert_eq!(names.len(), header.len(), "column names are unique");
    assert!(
        names.contains("policy.timeout")
            && names.contains("wait_first_p90_s_mean")
            && names.contains("wait_first_p90_s_ci95")
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 6);
    for row in &rows {
        assert_eq!(row.len(), header.len());
        for (name, cell) in header.iter().zip(row.iter()) {
            if name.ends_with("_mean") || name.ends_with("_ci95") {
                assert!(cell.is_empty() || cell.parse::<f64>().is_ok(), "{name} = {cell:?}");
            }
        }
    }
}
