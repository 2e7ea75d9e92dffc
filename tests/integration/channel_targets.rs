//! A channel's metric as a condition, `CHANNEL.METRIC`: `run`, `sweep` and `merge --assert`
//! read it from the channel's breakdown (a sweep's and a merge's from `channels.csv`), `staff
//! --target` sizes a pool that serves several channels for it (one level, or per interval from
//! the channel's breakdown by interval), and every mistake (an unknown channel, a metric
//! without a channel scope) is one keyed line.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};

/// The bundled chat + messaging scenario over 3 days with 3 replications, as `base.toml` in
/// `dir`, and a sweep `sw.toml` over chat's priority for the generalists.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = fs::read_to_string("scenarios/chat-messaging.toml").unwrap();
    let base =
        base.replace("horizon = \"8d\"", "horizon = \"3d\"").replace("replications = 4", "replications = 3");
    fs::write(dir.path().join("base.toml"), base).unwrap();
    let sweep = "name = \"sw\"\nbase = \"base.toml\"\n[axes]\n\"agents.generalists.skills.chat\" = [1, 3]\n";
    fs::write(dir.path().join("sw.toml"), sweep).unwrap();
    dir
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// Chat brings 100 new conversations an hour, messaging 70: over the 2 days after warm-up
// about 4,800 and 3,360 first contacts, so a bound of 4,000 tells the two channels apart.
const CHAT_HOLDS: &str = "chat.contacts_first>=4000";
const MESSAGING_FAILS: &str = "messaging.contacts_first>=4000";

#[test]
fn run_gates_on_each_channels_own_metrics() {
    let dir = workspace();
    let base = path(dir.path(), "base.toml");
    let run = |asserts: &[&str]| {
        let mut cmd = convosim();
        cmd.args(["run", &base, "--format", "csv"]);
        for a in asserts {
            cmd.args(["--assert", a]);
        }
        cmd.output().unwrap()
    };
    assert_eq!(run(&[CHAT_HOLDS]).status.code(), Some(0));
    let failed = run(&[CHAT_HOLDS, MESSAGING_FAILS]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("assertion failed: messaging.contacts_first>=4000"),
        "{}",
        stderr(&failed)
    );
    assert!(!stderr(&failed).contains("chat.contacts_first"), "{}", stderr(&failed));
    // One channel: its metrics are the whole run's, under its name.
    let tiny = path(dir.path(), "tiny.toml");
    fs::write(&tiny, SMALL_CENTER).unwrap();
    let single = convosim()
        .args(["run", &tiny, "--format", "csv", "--assert", "default.contacts_first>=1"])
        .output()
        .unwrap();
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));
}

#[test]
fn sweep_and_merge_gate_on_channels_csv() {
    let dir = workspace();
    let sweep = path(dir.path(), "sw.toml");
    let gates = ["--assert", CHAT_HOLDS, "--assert", MESSAGING_FAILS];
    let whole = convosim()
        .args(["sweep", &sweep, "--quiet", "--out", &path(dir.path(), "whole")])
        .args(gates)
        .output()
        .unwrap();
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    let failures: Vec<String> =
        stderr(&whole).lines().filter(|l| l.starts_with("assertion failed")).map(String::from).collect();
    assert_eq!(failures.len(), 2, "messaging misses at both points: {failures:?}");
    assert!(failures.iter().all(|l| l.contains(MESSAGING_FAILS)), "{failures:?}");
    for shard in ["1/2", "2/2"] {
        let out = path(dir.path(), &format!("shard{}", &shard[..1]));
        let status = convosim().args(["sweep", &sweep, "--quiet", "--shard", shard, "--out", &out]).output();
        assert!(status.unwrap().status.success());
    }
    let merge = |asserts: &[&str], out: &str| {
        let mut cmd = convosim();
        cmd.args(["merge", &path(dir.path(), "shard1"), &path(dir.path(), "shard2"), "--out"])
            .arg(path(dir.path(), out))
            .args(asserts);
        cmd
    };
    let merged = merge(&gates, "merged").output().unwrap();
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    let merged_failures: Vec<String> =
        stderr(&merged).lines().filter(|l| l.starts_with("assertion failed")).map(String::from).collect();
    assert_eq!(merged_failures, failures, "a merge gates exactly like the whole sweep");
    for name in ["channels.csv", "channel_intervals.csv"] {
        let read = |folder: &str| fs::read(dir.path().join(folder).join(name)).unwrap();
        assert_eq!(read("whole"), read("merged"), "{name}: merged shards give the whole sweep's bytes");
    }
    assert_one_line_error(
        &mut merge(&["--assert", "chatt.contacts_first>=1"], "merged2"),
        &["--assert 'chatt.contacts_first>=1'", "the merged results", "did you mean \"chat\"?"],
    );
}

#[test]
fn channel_condition_mistakes_are_one_keyed_line() {
    let dir = workspace();
    let (base, sweep) = (path(dir.path(), "base.toml"), path(dir.path(), "sw.toml"));
    assert_one_line_error(
        convosim().args(["run", &base, "--assert", "caht.sl_first_share>=0.8"]),
        &[
            "--assert 'caht.sl_first_share>=0.8'",
            "base.toml has no channel \"caht\"",
            "did you mean \"chat\"?",
        ],
    );
    assert_one_line_error(
        convosim().args(["run", &base, "--assert", "chat.occupancy_share<=0.9"]),
        &["--assert 'chat.occupancy_share<=0.9'", "not reported per channel", "channels.csv"],
    );
    assert_one_line_error(
        convosim().args(["run", &base, "--assert", "chat.sl_frist_share>=0.8"]),
        &["did you mean \"sl_first_share\"?"],
    );
    assert_one_line_error(
        convosim().args(["sweep", &sweep, "--quiet", "--assert", "sms.sl_first_share>=0.8"]),
        &[
            "--assert 'sms.sl_first_share>=0.8'",
            "sw.toml has no channel \"sms\"",
            "expected one of: chat, messaging",
        ],
    );
    let staff = |target: &str, extra: &[&str]| {
        let mut cmd = convosim();
        cmd.args(["staff", &base, "--pool", "generalists", "--target", target]).args(extra);
        cmd
    };
    assert_one_line_error(
        &mut staff("caht.sl_first_share>=0.9", &[]),
        &["--target 'caht.", "did you mean \"chat\"?"],
    );
    assert_one_line_error(
        &mut staff("chat.utilization_share>=0.9", &[]),
        &["--target 'chat.utilization_share"],
    );
    assert_one_line_error(
        &mut staff("chat.sl_first_share<=0.9", &["--per-interval"]),
        &["--target 'chat.sl_first_share<=0.9'", "more agents meet"],
    );
    // A one-channel sweep's one channel is `default` (as in run): another name is refused.
    fs::write(dir.path().join("tiny.toml"), SMALL_CENTER).unwrap();
    let one = "name = \"one\"\nbase = \"tiny.toml\"\n[axes]\n\"agents.team.count\" = [4, 5]\n";
    fs::write(dir.path().join("one.toml"), one).unwrap();
    assert_one_line_error(
        convosim().args(["sweep", &path(dir.path(), "one.toml"), "--assert", "dflt.sl_first_share>=0.8"]),
        &["no channel \"dflt\"", "expected one of: default"],
    );
}

#[test]
fn staff_sizes_a_pool_serving_two_channels_for_one_channels_target() {
    let dir = workspace();
    let base = path(dir.path(), "base.toml");
    let target = "chat.sl_first_share>=0.9";
    let output = convosim()
        .args(["staff", &base, "--pool", "generalists", "--target", target, "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = doc["count"].as_u64().expect("a count");
    assert!(doc["achieved"]["chat.sl_first_share"]["mean"].is_number(), "{doc}");
    let meets = |n: u64| {
        doc["evaluations"].as_array().unwrap().iter().find(|e| e["count"] == n).map(|e| e["meets"] == true)
    };
    assert_eq!(meets(count), Some(true), "{doc}");
    assert_eq!(meets(count - 1), Some(false), "the count below misses: {doc}");
    // The search ran each count on the run's seeds: `run --assert` agrees at both counts.
    for (n, code) in [(count, 0), (count - 1, 1)] {
        let run = convosim()
            .args(["run", &base, "--format", "csv", "--assert", target, "--set"])
            .arg(format!("agents.generalists.count={n}"))
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(code), "count {n}: {}", stderr(&run));
    }
}

#[test]
fn staff_per_interval_sizes_for_a_channels_intervals() {
    let dir = workspace();
    let (base, out) = (path(dir.path(), "base.toml"), path(dir.path(), "staffed"));
    let target = "chat.sl_first_share>=0.9";
    let output = convosim()
        .args(["staff", &base, "--pool", "generalists", "--per-interval", "--target", target])
        .args(["--seed", "5", "--format", "json", "--out", &out])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["method"], "restaff", "the ISA's rule is for the whole center, not a channel: {doc}");
    // "Achieved" is the chat channel's own interval rows: a run of the staffed scenario on the
    // fresh seeds gives the same numbers (not messaging's, not the whole center's).
    let fresh = convosim::staff::fresh_seed(5).to_string();
    let run = convosim()
        .args(["run", &path(Path::new(&out), "staffed.toml"), "--seed", &fresh, "--format", "json"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let run: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let rows = run["channels"]["chat"]["intervals"]["rows"].as_array().expect("chat by interval");
    let intervals = doc["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), intervals.len());
    for (row, interval) in rows.iter().zip(intervals) {
        let achieved = &interval["achieved"]["chat.sl_first_share"];
        let (a, b) =
            (achieved["mean"].as_f64().unwrap(), row["metrics"]["sl_first_share"]["mean"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-12, "{}: staff {a}, run {b}", row["start"]);
        let lower = a - achieved["ci95"].as_f64().unwrap();
        assert_eq!(interval["meets"] == true, lower >= 0.9, "{interval}");
    }
}

#[test]
fn compare_flags_a_channels_regression_beside_the_whole_runs() {
    let dir = workspace();
    let base = path(dir.path(), "base.toml");
    let run = |out: &str, sets: &[&str]| {
        let mut cmd = convosim();
        cmd.args(["run", &base, "--out", &path(dir.path(), out)]);
        for set in sets {
            cmd.args(["--set", set]);
        }
        assert!(cmd.output().unwrap().status.success());
    };
    run("generalists", &[]);
    run("dedicated", &[r#"agents.generalists.skills=["messaging"]"#]);
    let compare = |metrics: &str| {
        convosim()
            .args([
                "compare",
                &path(dir.path(), "generalists"),
                &path(dir.path(), "dedicated"),
                "--metrics",
                metrics,
            ])
            .output()
            .unwrap()
    };
    let output = compare("sl_first_share,wait_first_mean_s");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("2 point × channel row(s) × 2 channel metric(s)"), "{text}");
    let line = |verdict: &str, metric: &str, channel: &str| {
        text.lines().any(|l| {
            l.starts_with(verdict) && l.contains(metric) && l.ends_with(&format!("channel={channel}"))
        })
    };
    // A dedicated chat team: chat loses its service level, messaging waits less.
    assert!(line("REGRESSION", "sl_first_share", "chat"), "{text}");
    assert!(line("better", "wait_first_mean_s", "messaging"), "{text}");
    // A metric without a channel scope compares the whole run only.
    let text = String::from_utf8_lossy(&compare("occupancy_share").stdout).into_owned();
    assert!(!text.contains("channel"), "{text}");
    // A one-channel center against a two-channel one: refused, naming the channels.
    let tiny = path(dir.path(), "tiny.toml");
    fs::write(&tiny, SMALL_CENTER).unwrap();
    let one = path(dir.path(), "one");
    assert!(convosim()
        .args(["run", &tiny, "--replications", "3", "--out", &one])
        .output()
        .unwrap()
        .status
        .success());
    assert_one_line_error(
        convosim().args(["compare", &one, &path(dir.path(), "generalists")]),
        &["different channels", "the candidate has channels chat, messaging", "the baseline one channel"],
    );
}
