//! Golden snapshots and common random numbers across sweep points.
//!
//! The snapshots pin the exact bytes of `replications.csv` (SHA-256) for the bundled
//! quickstart, a scenario whose routing draws random numbers, and a small sweep, so that a new
//! feature left off provably changes nothing.
//!
//! **Updating a constant.** Only when a change is MEANT to change results for a given seed
//! (a modelling decision, a new random draw, a changed stream): run
//! `cargo test --test integration golden -- --nocapture`, check that the differences are the
//! intended ones (diff the old and new `replications.csv`), paste the printed hash over the
//! constant, and say in the change's closing note which results changed and why. A hash that
//! changes for any other reason is a bug, not a constant to update.
//!
//! The common-random-numbers tests read `replications.csv` of small sweeps: replication r runs
//! with one seed at every point, so points that differ only in policy see the same customers.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cli::{convosim, SMALL_CENTER};

/// `replications.csv` of `convosim run scenarios/quickstart.toml --out DIR`: the whole file,
/// the file without [`NEW_IN_ISSUE_12`]'s columns (the bytes before they were added), and
/// without those of [`NEW_IN_ISSUE_11`] too.
const QUICKSTART: Golden = Golden {
    now: "713be9cc72dc7aebb282d5220560926cb3af157b16feaf9ba0d2deb3067b8113",
    before_issue_12: "a10b0fe1f305a4028defeb886c62bb9c937b6746b71e03a9152b722ca7d82716",
    before_issue_11: "70ca7fd6cedfd1821169899f4be64515115a3e9a32cf9ac0d86ef6c493c282ea",
};
/// `replications.csv` of [`RANDOM_ROUTING`] run with `--out`.
const RANDOM_ROUTING_RUN: Golden = Golden {
    now: "e584bef9f9bb1eaaeb6b83afecd0a1c4588eb9c0370c254433339d3bd09f582d",
    before_issue_12: "3490696f7a4c5337d520f81dc7a7a6d1f5b60112f6aa5a9eeb3b892621464b95",
    before_issue_11: "91712785d6b4787aeabbcdbc884781c3df2de9bd611097156fbb4d974d043065",
};
/// `replications.csv` of [`SWEEP`] (common random numbers, the default).
const SWEEP_CRN: Golden = Golden {
    now: "2e6dc02cc20fdb17193caf5a6f49e76c04a4e3eaa4ef7f538d5bede4afd227b0",
    before_issue_12: "86e66c03cd4ed22290cce4ad5ae2a2de4b93893012981d3371ad9fd6b6952f9f",
    before_issue_11: "63831de1e012f9a91cabb30083472c854f07145e6302eb0bfdd902f63bfe2770",
};
/// `replications.csv` of [`SWEEP`] with `common_random_numbers = false`: independent seeds per
/// point, the bytes every sweep wrote before common random numbers.
const SWEEP_INDEPENDENT: Golden = Golden {
    now: "dca6af012b49fc8418b41f49335a294eec9e9427bd35b848583d5490acb795cd",
    before_issue_12: "51519b7b3093ceec8eb08208400d32460c81c162a858f3eff6c8a25847f7f7b4",
    before_issue_11: "a5440f346751ee2b1728ee43617d545053a443d8278cbd98738512c6244f78e7",
};

/// The metrics added with the bot tier, typing preview and response times: every other column
/// keeps the bytes it had before them.
const NEW_IN_ISSUE_11: [&str; 7] = [
    "response_first_mean_s",
    "response_first_p90_s",
    "response_resumed_mean_s",
    "response_resumed_p90_s",
    "time_to_human_mean_s",
    "bot_contained_share",
    "bot_time_mean_s",
];

/// The metrics added with capacity held between contacts (`[capacity]`): every other column
/// keeps the bytes it had before them.
const NEW_IN_ISSUE_12: [&str; 4] = [
    "occupancy_handling_share",
    "occupancy_held_share",
    "reactivations_over_capacity",
    "closed_by_inactivity_share",
];

/// A golden file: its hash now, and the hashes of the file without the columns added since.
struct Golden {
    now: &'static str,
    before_issue_12: &'static str,
    before_issue_11: &'static str,
}

/// The small center with random choices in routing: first contacts go to a random agent, and
/// pool routing (after a hybrid fallback) picks a random free agent.
fn random_routing() -> String {
    SMALL_CENTER.replace(
        "timeout = \"5m\"",
        "timeout = \"5m\"\nselect = \"random\"\nfirst_contact = \"random_agent\"",
    )
}
const RANDOM_ROUTING: &str = "the small center with select = \"random\" and first_contact = \"random_agent\"";

/// Three points that differ only in policy.
const SWEEP: &str = r#"
name = "golden"
base = "base.toml"
replications = 3
seed = 5
[axes]
policy = ["hybrid-1m", "sticky", "next-available"]
"#;

/// A temp dir holding base.toml (`base`) and sweep.toml (`sweep`).
fn workspace(base: &str, sweep: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("base.toml"), base).unwrap();
    let file = dir.path().join("sweep.toml");
    fs::write(&file, sweep).unwrap();
    (dir, file)
}

fn succeed(cmd: &mut assert_cmd::Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `convosim sweep FILE --out OUT EXTRA...` and returns OUT.
fn sweep(file: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    succeed(
        convosim()
            .args(["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
            .args(extra),
    );
    out.to_path_buf()
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `DIR/replications.csv` without the columns named in `drop`, written back as CSV.
fn without_columns(dir: &Path, drop: &[&str]) -> Vec<u8> {
    let mut reader = csv::Reader::from_path(dir.join("replications.csv")).expect("replications.csv");
    let header = reader.headers().expect("a header").clone();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| !drop.contains(&&header[i])).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(keep.iter().map(|&i| &header[i])).unwrap();
    for record in reader.records() {
        let record = record.expect("a row");
        writer.write_record(keep.iter().map(|&i| &record[i])).unwrap();
    }
    writer.into_inner().expect("written")
}

fn assert_golden(what: &str, dir: &Path, expected: &Golden) {
    let actual = hex_sha256(read(dir.join("replications.csv")).as_bytes());
    let before_12 = hex_sha256(&without_columns(dir, &NEW_IN_ISSUE_12));
    let both: Vec<&str> = NEW_IN_ISSUE_11.iter().chain(&NEW_IN_ISSUE_12).copied().collect();
    let before = hex_sha256(&without_columns(dir, &both));
    println!(
        "golden {what}: {actual} (without the columns of issue 12: {before_12}; of issues 11 and 12: {before})"
    );
    assert_eq!(
        before_12, expected.before_issue_12,
        "{what}: a column that existed before issue 12 changed; see the module docs"
    );
    assert_eq!(
        before, expected.before_issue_11,
        "{what}: a column that existed before issue 11 changed; see the module docs"
    );
    assert_eq!(
        actual, expected.now,
        "{what}: replications.csv changed; see the module docs before updating the constant"
    );
}

#[test]
fn quickstart_rows_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    succeed(convosim().args(["run", "scenarios/quickstart.toml", "--out", out.to_str().unwrap()]));
    assert_golden("quickstart", &out, &QUICKSTART);
}

#[test]
fn random_routing_rows_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("random.toml");
    let text = random_routing();
    assert!(text.contains("select = \"random\""), "the small center's policy table moved");
    fs::write(&scenario, text).unwrap();
    let out = dir.path().join("r");
    succeed(convosim().args(["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    assert_golden(RANDOM_ROUTING, &out, &RANDOM_ROUTING_RUN);
}

#[test]
fn sweep_rows_are_unchanged_with_and_without_common_random_numbers() {
    let (dir, file) = workspace(SMALL_CENTER, SWEEP);
    assert_golden("sweep", &sweep(&file, &dir.path().join("crn"), &[]), &SWEEP_CRN);
    let off = dir.path().join("off.toml");
    fs::write(&off, format!("common_random_numbers = false\n{SWEEP}")).unwrap();
    assert_golden("sweep without CRN", &sweep(&off, &dir.path().join("off"), &[]), &SWEEP_INDEPENDENT);
}

/// `replications.csv` as (header, rows), every cell a string.
fn rows(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(dir.join("replications.csv")).expect("replications.csv");
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

/// The column `name` of `rows`, as (point, replication, value).
fn column(dir: &Path, name: &str) -> Vec<(String, String, String)> {
    let (header, rows) = rows(dir);
    let at = |n: &str| header.iter().position(|h| h == n).unwrap_or_else(|| panic!("no column {n}"));
    let (p, r, c) = (at("point"), at("replication"), at(name));
    rows.iter().map(|row| (row[p].clone(), row[r].clone(), row[c].clone())).collect()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(dir.join("manifest.json"))).expect("manifest.json")
}

#[test]
fn with_common_random_numbers_replication_r_has_one_seed_and_the_same_customers_everywhere() {
    let (dir, file) = workspace(SMALL_CENTER, SWEEP);
    let out = sweep(&file, &dir.path().join("crn"), &[]);
    assert_eq!(manifest(&out)["common_random_numbers"], true);
    let seeds = column(&out, "seed");
    let firsts = column(&out, "contacts_first");
    assert_eq!(seeds.len(), 9, "3 points × 3 replications");
    for (i, (point, replication, seed)) in seeds.iter().enumerate() {
        let (_, _, first_seed) = &seeds[i % 3];
        assert_eq!(seed, first_seed, "point {point}, replication {replication}: another seed than point 0");
        // The same arrivals: sticky, hybrid and next-available meet the same new conversations.
        assert_eq!(firsts[i].2, firsts[i % 3].2, "point {point}, replication {replication}: other arrivals");
    }
    let distinct: std::collections::HashSet<_> = seeds.iter().map(|s| &s.2).collect();
    assert_eq!(distinct.len(), 3, "replications must still differ");
    // `run` is point 0: the base scenario run with the sweep's seed has the same seeds.
    let run = dir.path().join("run");
    let base = dir.path().join("base.toml");
    succeed(convosim().args(["run", base.to_str().unwrap(), "--seed", "5", "--replications", "3"]).args([
        "--policy",
        "hybrid-1m",
        "--out",
        run.to_str().unwrap(),
    ]));
    assert!(manifest(&run).get("common_random_numbers").is_none(), "a run is one point");
    let run_seeds: Vec<_> = column(&run, "seed").into_iter().map(|s| s.2).collect();
    let point0: Vec<_> = seeds[..3].iter().map(|s| s.2.clone()).collect();
    assert_eq!(run_seeds, point0);
    // Apart from the sweep's axis column, run's rows are point 0's.
    let without_axis = |row: &Vec<String>| [&row[..1], &row[2..]].concat();
    let point0_rows: Vec<_> = rows(&out).1[..3].iter().map(without_axis).collect();
    assert_eq!(rows(&run).1, point0_rows, "run and point 0 are the same tasks");
}

#[test]
fn without_common_random_numbers_every_point_has_its_own_seeds() {
    let (dir, _) = workspace(SMALL_CENTER, SWEEP);
    let file = dir.path().join("off.toml");
    fs::write(&file, format!("common_random_numbers = false\n{SWEEP}")).unwrap();
    let out = sweep(&file, &dir.path().join("off"), &[]);
    assert_eq!(manifest(&out)["common_random_numbers"], false);
    let seeds: std::collections::HashSet<_> = column(&out, "seed").into_iter().map(|s| s.2).collect();
    assert_eq!(seeds.len(), 9, "3 points × 3 replications, each with its own seed");
    let expected: std::collections::HashSet<_> =
        (0..3).flat_map(|p| (0..3).map(move |r| convosim::rng::derive_seed(5, p, r).to_string())).collect();
    assert_eq!(seeds, expected);
}

#[test]
fn common_random_numbers_must_be_a_boolean() {
    let (dir, _) = workspace(SMALL_CENTER, SWEEP);
    let file = dir.path().join("bad.toml");
    fs::write(&file, format!("common_random_numbers = \"yes\"\n{SWEEP}")).unwrap();
    crate::cli::assert_one_line_error(
        convosim().args(["sweep", file.to_str().unwrap(), "--quiet"]),
        &["bad.toml: common_random_numbers: expected true or false, got \"yes\""],
    );
}

#[test]
fn reporting_only_keys_never_change_what_is_simulated() {
    let text = "name = \"sl\"\nbase = \"base.toml\"\nreplications = 2\nseed = 9\n[axes]\n\
                \"service_level.first\" = [\"10s\", \"2m\"]\n\"service_level.resumed\" = [\"1m\", \"1h\"]\n";
    let base = format!("{SMALL_CENTER}\n[service_level]\nfirst = \"60s\"\nresumed = \"5m\"\n");
    let (dir, file) = workspace(&base, text);
    let (header, rows) = rows(&sweep(&file, &dir.path().join("sl"), &[]));
    let simulated: Vec<usize> = (0..header.len())
        .filter(|&c| !header[c].starts_with("sl_") && !header[c].starts_with("service_level.") && c > 0)
        .collect();
    let cells = |row: &Vec<String>| simulated.iter().map(|&c| row[c].clone()).collect::<Vec<_>>();
    assert_eq!(rows.len(), 8, "4 points × 2 replications");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(cells(row), cells(&rows[i % 2]), "row {i}: more than the sl_* columns changed");
    }
    let sl = header.iter().position(|h| h == "sl_resumed_share").unwrap();
    assert_ne!(rows[0][sl], rows[2][sl], "the thresholds must change the sl_* columns");
}

#[test]
fn a_sharded_common_random_numbers_sweep_merges_to_the_whole_byte_for_byte() {
    let (dir, file) = workspace(SMALL_CENTER, SWEEP);
    let whole = sweep(&file, &dir.path().join("whole"), &[]);
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| sweep(&file, &dir.path().join(format!("s{k}")), &["--shard", &format!("{k}/2")]))
        .collect();
    let merged = dir.path().join("merged");
    succeed(convosim().arg("merge").args(&shards).args(["--out", merged.to_str().unwrap()]));
    for name in ["replications.csv", "summary.csv", "summary.json", "histograms.jsonl"] {
        assert_eq!(read(whole.join(name)), read(merged.join(name)), "{name} differs");
    }
    assert_eq!(manifest(&merged)["common_random_numbers"], true);
}
