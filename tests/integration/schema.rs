//! The results schema: golden bytes (a feature that is off changes no byte of a run's results),
//! the column layout each manifest records, and `merge` and `compare` refusing folders whose
//! layouts differ.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};

/// The data files of a results folder whose bytes depend only on the inputs and the seed.
const DATA_FILES: [&str; 4] = ["replications.csv", "summary.csv", "histograms.jsonl", "summary.json"];

fn sha256(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `convosim run ARGS --out DIR`, which must succeed.
fn run_out(args: &[&str], out: &Path) {
    let output = convosim().arg("run").args(args).args(["--out", out.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Checks each data file of `dir` against its SHA-256 in `expected` (in [`DATA_FILES`] order),
/// reporting every file that differs at once.
fn assert_golden(dir: &Path, expected: [&str; 4], what: &str) {
    let differing: Vec<String> = DATA_FILES
        .iter()
        .zip(expected)
        .map(|(name, hash)| (name, sha256(&dir.join(name)), hash))
        .filter(|(_, got, hash)| got != hash)
        .map(|(name, got, _)| format!("{name}: now {got}"))
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: results changed for the same seed. If that is intended, say which results change \
         in the note and update these hashes:\n{}",
        differing.join("\n")
    );
}

/// The quickstart, seed 42, 4 replications: the bytes written before the metric catalog,
/// layouts and keyed histograms, and kept since, except the seven columns the bot tier and
/// response times added and the four of `[capacity]` (golden.rs proves every other column
/// kept its bytes; the histograms kept theirs).
#[test]
fn quickstart_results_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("qs");
    run_out(&["scenarios/quickstart.toml"], &out);
    assert_golden(
        &out,
        [
            "713be9cc72dc7aebb282d5220560926cb3af157b16feaf9ba0d2deb3067b8113",
            "3ef41131df0d2495b65164d21dbaec1cf7c3c110dc455edc7c94edd73ad2ecdb",
            "4cdccd7c326743826605d1eac09ba24e796756ab30a01a9279c0217d1066ca77",
            "eca0485c7e912072abccf105589c24d55732a25167b27cfb70f3ab558a426298",
        ],
        "quickstart",
    );
}

/// Random routing (`select = "random"`, which draws from the routing stream at every pickup)
/// on the reference center, seed 42, 3 replications. Its replications.csv without the four
/// `[capacity]` columns hashes to 5b9d8497…, the hash pinned before them.
#[test]
fn random_routing_results_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("random");
    run_out(&["scenarios/reference.toml", "--set", "policy.select=random", "--replications", "3"], &out);
    assert_golden(
        &out,
        [
            "5d78664209a111d8b98c21939b5b6a755c482a4526df5a48a7820f89b4685ddc",
            "ecd3cdfe14e31bfb024edd5176decf76d5c3b8f6f40ad644a834073d66993679",
            "92ca2a8fa66dae7d63ce42a3f919473d3f72cc9fdc2879bf0d7c090620fb639f",
            "19ce4312b53f92d89d966a932382a5ae7087c03cbdf4247aeaf358846d585bd6",
        ],
        "reference with random selection",
    );
}

fn manifest(dir: &Path) -> Json {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn strings(value: &Json) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// Rewrites `dir`'s manifest with `edit` (the data files and their checksums stay as they are).
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut Json)) {
    let mut json = manifest(dir);
    edit(&mut json);
    fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

const SWEEP: &str = r#"
name = "schema-sweep"
base = "base.toml"
replications = 2
seed = 5
[axes]
"agents.team.count" = [3, 4]
"#;

/// Two shards of a small sweep, in a temp dir.
fn two_shards() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("base.toml"), SMALL_CENTER).unwrap();
    let file = dir.path().join("sweep.toml");
    fs::write(&file, SWEEP).unwrap();
    let shard = |k: u32| {
        let out = dir.path().join(format!("s{k}"));
        let status = convosim()
            .args(["sweep", file.to_str().unwrap(), "--quiet", "--shard", &format!("{k}/2")])
            .args(["--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        out
    };
    let (s1, s2) = (shard(1), shard(2));
    (dir, s1, s2)
}

#[test]
fn the_manifest_records_the_columns_the_files_have() {
    let (dir, s1, s2) = two_shards();
    let merged = dir.path().join("merged");
    convosim().arg("merge").args([&s1, &s2]).arg("--out").arg(&merged).assert().success();
    let layout = &manifest(&merged)["layout"];
    let header = |name: &str| -> Vec<String> {
        let mut reader = csv::Reader::from_path(merged.join(name)).unwrap();
        // After `point` and the one axis.
        reader.headers().unwrap().iter().skip(2).map(String::from).collect()
    };
    assert_eq!(header("replications.csv"), strings(&layout["replications_csv"]));
    assert_eq!(header("summary.csv"), strings(&layout["summary_csv"]));
    let text = fs::read_to_string(merged.join("histograms.jsonl")).unwrap();
    let line: serde_json::Map<String, Json> = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let fields: Vec<String> = line.keys().skip(1).cloned().collect();
    assert_eq!(fields, strings(&layout["histograms"]));
    assert_eq!(fields, ["wait_first_ms", "wait_resumed_ms"]);
    let summary: Json =
        serde_json::from_str(&fs::read_to_string(merged.join("summary.json")).unwrap()).unwrap();
    let in_summary: Vec<&String> = summary["points"][0]["histograms"].as_object().unwrap().keys().collect();
    assert_eq!(in_summary, ["wait_first_ms", "wait_resumed_ms"]);
    assert_eq!(strings(&layout["replications_csv"])[..2], ["policy_label", "replication"]);
    assert!(strings(&layout["summary_csv"]).contains(&"wait_first_p90_s_ci95".to_string()));
}

#[test]
fn merge_refuses_a_shard_with_another_layout() {
    let (dir, s1, s2) = two_shards();
    let merge = |name: &str| {
        let mut cmd = convosim();
        cmd.arg("merge").args([&s1, &s2]).arg("--out").arg(dir.path().join(name));
        cmd
    };
    let rename = |json: &mut Json| json["layout"]["replications_csv"][6] = Json::from("wait_first_p51_s");
    // One shard differs from the other.
    edit_manifest(&s2, rename);
    assert_one_line_error(
        &mut merge("a"),
        &[
            "s2",
            "column layout differs from another shard's",
            "replications.csv has column \"wait_first_p51_s\" in this shard",
            "\"wait_first_p50_s\"",
        ],
    );
    // Both differ from this convosim's.
    edit_manifest(&s1, rename);
    assert_one_line_error(
        &mut merge("b"),
        &[
            "column layout differs",
            "\"wait_first_p51_s\" in the shard where this convosim has \"wait_first_p50_s\"",
        ],
    );
    // A shard written before layouts were recorded.
    edit_manifest(&s1, |json| {
        json.as_object_mut().unwrap().remove("layout");
    });
    assert_one_line_error(&mut merge("c"), &["s1", "records no column layout"]);
    assert!(!dir.path().join("c").join("summary.csv").exists());
}

#[test]
fn compare_refuses_summaries_with_other_columns() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    fs::write(&base, SMALL_CENTER).unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_out(&[base.to_str().unwrap()], &a);
    run_out(&[base.to_str().unwrap()], &b);
    let compare = || {
        let mut cmd = convosim();
        cmd.arg("compare").args([&a, &b]);
        cmd
    };
    compare().assert().code(0);
    // A manifest without a layout (an older folder): its summary.csv header is its layout.
    edit_manifest(&a, |json| {
        json.as_object_mut().unwrap().remove("layout");
    });
    compare().assert().code(0);
    edit_manifest(&b, |json| json["layout"]["summary_csv"][2] = Json::from("wait_first_median_s_mean"));
    assert_one_line_error(
        &mut compare(),
        &[
            "different column layouts",
            "summary.csv has column \"wait_first_mean_s_mean\" in the baseline where the candidate has \"wait_first_median_s_mean\"",
        ],
    );
}
