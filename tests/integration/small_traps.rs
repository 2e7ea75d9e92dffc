//! The small traps a new planner met (issue 19, item 6): presets named for any duration
//! (`hybrid-7m`, `sticky-window-2h`) wherever a preset is accepted, `--set` on a preset's key,
//! a top-level key written after a `[table]` header, one naming rule for staff's policies, and
//! staff's progress when stderr is not a terminal.

use std::fs;
use std::path::Path;

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};

/// The small center's `[policy]` table, replaced by a top-level `policy = "..."` line.
const POLICY_TABLE: &str = "[policy]\nkind = \"hybrid\"\ntimeout = \"5m\"\n";

/// The small center with `policy = "{policy}"` at the top, or with `[policy]` holding `table`.
fn center(policy: &str, table: &str) -> String {
    let text = SMALL_CENTER.replace(POLICY_TABLE, table);
    assert_ne!(text, SMALL_CENTER, "the small center has its [policy] table");
    if policy.is_empty() {
        text
    } else {
        text.replace("replications = 2\n", &format!("replications = 2\npolicy = \"{policy}\"\n"))
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn csv_of(args: &[&str]) -> String {
    let output = convosim().args(args).args(["--format", "csv"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn presets_named_for_any_duration_work_wherever_a_preset_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hybrid_7m = "[policy]\nkind = \"hybrid\"\ntimeout = \"7m\"\nowner_offline = \"fallback\"\n";
    let expected = csv_of(&["run", &write(d, "table.toml", &center("", hybrid_7m))]);
    let named = write(d, "named.toml", &center("hybrid-7m", ""));
    let preset_10m = write(d, "preset.toml", &center("hybrid-10m", ""));
    assert_eq!(csv_of(&["run", &named]), expected, "policy = \"hybrid-7m\" in the scenario");
    assert_eq!(csv_of(&["run", &preset_10m, "--set", "policy=hybrid-7m"]), expected, "--set policy=");
    assert_eq!(csv_of(&["run", &preset_10m, "--policy", "hybrid-7m"]), expected, "--policy");
    // --set on a preset's key: the preset becomes its table, then the key changes.
    assert_eq!(csv_of(&["run", &preset_10m, "--set", "policy.timeout=7m"]), expected, "policy.timeout");
    assert_ne!(csv_of(&["run", &preset_10m]), expected, "10m and 7m differ on this center");
    let window = "[policy]\nkind = \"sticky\"\naffinity_window = \"2h\"\n";
    let expected = csv_of(&["run", &write(d, "window.toml", &center("", window))]);
    assert_eq!(csv_of(&["run", &named, "--policy", "sticky-window-2h"]), expected, "sticky-window-2h");

    // A sweep axis, and staff --policies, take them too.
    let sweep =
        "name = \"fam\"\nbase = \"named.toml\"\n[axes]\npolicy = [\"hybrid-90s\", \"sticky-window-2h\"]\n";
    let sweep = write(d, "fam.toml", sweep);
    let out = d.join("fam");
    let swept =
        convosim().args(["sweep", &sweep, "--quiet", "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(swept.status.code(), Some(0), "{}", String::from_utf8_lossy(&swept.stderr));
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.contains("hybrid(timeout=1.5m)") && summary.contains("sticky(affinity_window=2h)"),
        "{summary}"
    );
    let staff =
        ["staff", &named, "--pool", "team", "--target", "sl_first_share>=0.5", "--policies", "hybrid-7m"];
    let staffed = convosim().args(staff).output().unwrap();
    assert_eq!(staffed.status.code(), Some(0), "{}", String::from_utf8_lossy(&staffed.stderr));

    // A name without a unit is no duration: still an unknown preset, now with the rule.
    assert_one_line_error(
        convosim().args(["run", &named, "--policy", "hybrid-10"]),
        &["unknown policy preset \"hybrid-10\"", "hybrid-<duration>, sticky-window-<duration>"],
    );
}

#[test]
fn a_top_level_key_after_a_table_header_says_where_it_went() {
    let dir = tempfile::tempdir().unwrap();
    // `policy` last, after [service_level]: it is the table's, and the top level has none.
    let text = center("", "") + "[service_level]\nfirst = \"1m\"\npolicy = \"sticky\"\n";
    assert_one_line_error(
        convosim().args(["check", &write(dir.path(), "late.toml", &text)]),
        &[
            "policy: missing",
            "found `service_level.policy`",
            "a top-level `policy` must come before the first [table]",
        ],
    );
    // `name` after [arrivals]; `replications` after [policy] (an unknown key there).
    let text = SMALL_CENTER
        .replace("name = \"tiny\"\n", "")
        .replace("rate_per_hour = 20\n", "rate_per_hour = 20\nname = \"t\"\n");
    assert_one_line_error(
        convosim().args(["check", &write(dir.path(), "name.toml", &text)]),
        &["name: missing", "found `arrivals.name`", "a top-level `name` must come before"],
    );
    let text = SMALL_CENTER.to_string() + "replications = 3\n";
    assert_one_line_error(
        convosim().args(["check", &write(dir.path(), "reps.toml", &text)]),
        &["policy.replications", "a top-level `replications` must come before"],
    );
    // A sweep file's `name` after [axes].
    write(dir.path(), "tiny.toml", SMALL_CENTER);
    let sweep = "base = \"tiny.toml\"\n[axes]\n\"agents.team.count\" = [3, 4]\nname = \"late\"\n";
    assert_one_line_error(
        convosim().args(["sweep", &write(dir.path(), "sw.toml", sweep), "--quiet"]),
        &["name: missing", "found `axes.name`", "a top-level `name` must come before"],
    );
}

/// A center with 6-hour intervals, so a per-interval search judges every interval quickly.
fn per_interval_center(policy: &str) -> String {
    let report = "[report]\nfold = \"day\"\ninterval = \"6h\"\n";
    if policy.is_empty() {
        format!("{SMALL_CENTER}{report}")
    } else {
        center(policy, report)
    }
}

fn staff_out(file: &str, out: &Path, extra: &[&str]) -> (String, String) {
    let mut cmd = convosim();
    cmd.args(["staff", file, "--pool", "team", "--target", "waited_first_share<=0.5", "--replications", "2"])
        .args(["--out", out.to_str().unwrap()])
        .args(extra);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

fn staffed_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("staffed"))
        .collect();
    names.sort();
    names
}

#[test]
fn staff_names_a_policy_the_same_way_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = write(d, "table.toml", &per_interval_center(""));
    let policies = ["--policies", "next-available,hybrid-7m"];
    for (mode, extra) in [("level", vec![]), ("per_interval", vec!["--per-interval"])] {
        let out = d.join(mode);
        let (stdout, _) = staff_out(&table, &out, &[policies.as_slice(), &extra].concat());
        assert_eq!(staffed_files(&out), ["staffed-hybrid-7m.toml", "staffed-next-available.toml"], "{mode}");
        assert!(
            stdout.contains("pool team (next-available)") && stdout.contains("pool team (hybrid-7m)"),
            "{stdout}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("staff.json")).unwrap()).unwrap();
        assert_eq!(doc["answers"][1]["policy"], "hybrid-7m", "{mode}");
        assert_eq!(doc["answers"][1]["label"], "hybrid(timeout=7m)", "{mode}");
        // The scenario's own [policy] table: a slug of its label.
        let own = d.join(format!("{mode}-own"));
        let (stdout, _) = staff_out(&table, &own, &extra);
        assert_eq!(staffed_files(&own), ["staffed.toml"], "{mode}");
        assert!(stdout.contains("pool team (hybrid-timeout-5m)"), "{mode}: {stdout}");
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(own.join("staff.json")).unwrap()).unwrap();
        assert_eq!(doc["answers"][0]["policy"], "hybrid-timeout-5m", "{mode}");
    }
}

#[test]
fn staff_reports_progress_with_counts_and_an_estimate_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", &per_interval_center("hybrid-10m"));
    let progress = |stderr: &str| -> Vec<String> {
        stderr.lines().filter(|l| l.starts_with("staff (")).map(String::from).collect()
    };
    // A search shorter than the period prints no progress line ...
    let (_, stderr) = staff_out(&file, &dir.path().join("a"), &["--policies", "next-available,sticky"]);
    assert!(progress(&stderr).is_empty(), "{stderr}");
    // ... and with the period at 0, a line at every step: the policy k of P, the evaluation
    // k of at most N, the replications, and at most how long is left.
    for extra in [vec![], vec!["--per-interval"]] {
        let mut cmd = convosim();
        cmd.env("CONVOSIM_PROGRESS_EVERY", "0")
            .args([
                "staff",
                &file,
                "--pool",
                "team",
                "--target",
                "waited_first_share<=0.5",
                "--replications",
                "2",
            ])
            .args(["--policies", "next-available,sticky"])
            .args(&extra);
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let lines = progress(&String::from_utf8_lossy(&output.stderr));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("staff (next-available, policy 1 of 2) · evaluation 1 of at most ")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("staff (sticky, policy 2 of 2) · evaluation 2 of at most ")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains(": fresh seeds · ") && l.contains(" replications · ")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.contains(" left")), "{lines:?}");
    }
}
