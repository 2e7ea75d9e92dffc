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

/// `replications.csv` of `convosim run scenarios/quickstart.toml --out DIR`.
const QUICKSTART: &str = "70ca7fd6cedfd1821169899f4be64515115a3e9a32cf9ac0d86ef6c493c282ea";
/// `replications.csv` of [`RANDOM_ROUTING`] run with `--out`.
const RANDOM_ROUTING_RUN: &str = "91712785d6b4787aeabbcdbc884781c3df2de9bd611097156fbb4d974d043065";
/// `replications.csv` of [`SWEEP`] (common random numbers, the default).
const SWEEP_CRN: &str = "63831de1e012f9a91cabb30083472c854f07145e6302eb0bfdd902f63bfe2770";
/// `replications.csv` of [`SWEEP`] with `common_random_numbers = false`: independent seeds per
/// point, the bytes every sweep wrote before common random numbers.
const SWEEP_INDEPENDENT: &str = "a5440f346751ee2b1728ee43617d545053a443d8278cbd98738512c6244f78e7";

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

/// SHA-256 of `DIR/replications.csv`, hex.
fn rows_hash(dir: &Path) -> String {
    let bytes = read(dir.join("replications.csv"));
    Sha256::digest(bytes.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_golden(what: &str, dir: &Path, expected: &str) {
    let actual = rows_hash(dir);
    println!("golden {what}: {actual}");
    assert_eq!(
        actual, expected,
        "{what}: replications.csv changed; see the module docs before updating the constant"
    );
}

#[test]
fn quickstart_rows_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    succeed(convosim().args(["run", "scenarios/quickstart.toml", "--out", out.to_str().unwrap()]));
    assert_golden("quickstart", &out, QUICKSTART);
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
    assert_golden(RANDOM_ROUTING, &out, RANDOM_ROUTING_RUN);
}

#[test]
fn sweep_rows_are_unchanged_with_and_without_common_random_numbers() {
    let (dir, file) = workspace(SMALL_CENTER, SWEEP);
    assert_golden("sweep", &sweep(&file, &dir.path().join("crn"), &[]), SWEEP_CRN);
    let off = dir.path().join("off.toml");
    fs::write(&off, format!("common_random_numbers = false\n{SWEEP}")).unwrap();
    assert_golden("sweep without CRN", &sweep(&off, &dir.path().join("off"), &[]), SWEEP_INDEPENDENT);
}
