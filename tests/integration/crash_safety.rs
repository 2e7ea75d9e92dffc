//! Results folders are complete or clearly absent, merges refuse what does not belong, and an
//! interrupted sweep resumes to the bytes of an uninterrupted one.
//!
//! Sweeps are spawned as child processes and stopped with SIGINT or SIGKILL once their
//! checkpoint shows enough progress; every wait is bounded by [`PATIENCE`]. A run that ends
//! before it could be stopped still has to leave identical bytes, so no outcome is flaky.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim, PATIENCE, SMALL_CENTER};

/// 12 points × 50 replications: about a second in a release build on one thread, several
/// in a debug build; checkpoints every 8 tasks.
pub(crate) const LONG_SWEEP: &str = r#"
name = "crash"
base = "base.toml"
replications = 50
seed = 5
[axes]
"policy.timeout" = ["30s", "10m", "1h"]
"agents.team.count" = [3, 4, 5, 6]
"#;

/// A small sweep for shards and tampering: 6 points × 3 replications.
const SMALL_SWEEP: &str = r#"
name = "small"
base = "base.toml"
replications = 3
seed = 11
[axes]
policy = ["hybrid-1m", "sticky"]
"agents.team.count" = { from = 3, to = 5, step = 1 }
"#;

const DATA_FILES: [&str; 4] = ["summary.csv", "summary.json", "replications.csv", "histograms.jsonl"];

/// A temporary folder with base.toml and sweep.toml.
pub(crate) fn workspace(sweep: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    fs::write(dir.path().join("base.toml"), SMALL_CENTER).expect("base.toml");
    let file = dir.path().join("sweep.toml");
    fs::write(&file, sweep).expect("sweep.toml");
    (dir, file)
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Runs `convosim sweep FILE --quiet --out OUT EXTRA...` to the end.
pub(crate) fn sweep(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    convosim().args(["sweep", path(file), "--quiet", "--out", path(out)]).args(extra).output().expect("runs")
}

pub(crate) fn assert_success(output: &std::process::Output) {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Every data file's bytes, and the manifest without its wall-clock fields.
pub(crate) fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = DATA_FILES
        .iter()
        .filter(|n| dir.join(n).exists())
        .map(|n| (n.to_string(), fs::read_to_string(dir.join(n)).expect("readable")))
        .collect();
    let mut manifest: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).expect("a manifest"))
            .expect("JSON");
    for key in ["started", "ended", "wall_s", "events_per_s", "contacts_per_s"] {
        manifest.as_object_mut().expect("an object").remove(key);
    }
    files.push(("manifest.json".into(), manifest.to_string()));
    files
}

fn assert_same(a: &[(String, String)], b: &[(String, String)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: different files");
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{what}: {name} differs");
    }
}

/// Polls `probe` until it gives a value or [`PATIENCE`] runs out.
fn wait_until<T>(mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if let Some(value) = probe() {
            return Some(value);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// Tasks recorded in the checkpoint of `out`'s partial folder (0 without one).
pub(crate) fn checkpointed(out: &Path) -> u64 {
    let file =
        out.with_file_name(format!("{}.partial", out.file_name().and_then(|n| n.to_str()).unwrap_or("")));
    fs::read_to_string(file.join("checkpoint.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["run"]["tasks"].as_u64())
        .unwrap_or(0)
}

/// A spawned `convosim`, killed if a test fails before it exits.
struct Running(Child);

impl Running {
    fn start(args: &[&str]) -> Self {
        let child = Process::new(env!("CARGO_BIN_EXE_convosim"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("convosim starts");
        Running(child)
    }

    fn signal(&self, name: &str) {
        let sent = Process::new("kill").args([name, &self.0.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill {name} could not be sent");
    }

    fn exited(&mut self) -> bool {
        !matches!(self.0.try_wait(), Ok(None))
    }

    /// The exit status and stderr, within [`PATIENCE`].
    fn finish(mut self) -> (ExitStatus, String) {
        let status = wait_until(|| self.0.try_wait().ok().flatten()).expect("convosim exits");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        (status, stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `args`, waits until `out`'s checkpoint counts `tasks` tasks and sends `signal`.
/// Returns whether the run was stopped (false if it finished first).
pub(crate) fn stop_at(args: &[&str], out: &Path, tasks: u64, signal: &str) -> bool {
    let mut child = Running::start(args);
    let reached = wait_until(|| (child.exited() || checkpointed(out) >= tasks).then_some(()));
    assert!(reached.is_some(), "no progress within {PATIENCE:?}");
    let finished_first = child.exited();
    if !finished_first {
        child.signal(signal);
    }
    let (status, stderr) = child.finish();
    println!("{signal} at {tasks} tasks: finished first: {finished_first}, status {status}");
    if finished_first || status.success() {
        assert!(status.success(), "{stderr}");
        return false;
    }
    if signal == "-INT" {
        assert_eq!(status.code(), Some(130), "{stderr}");
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.starts_with("interrupted: ") && line.contains(" tasks done; resume with: convosim sweep "),
            "{stderr}"
        );
        assert!(line.contains(&format!("--resume --out {}", out.display())), "{stderr}");
    }
    true
}

#[test]
fn interrupted_and_killed_sweeps_keep_the_previous_result_and_resume_to_identical_bytes() {
    let (dir, file) = workspace(LONG_SWEEP);
    let whole = dir.path().join("whole");
    assert_success(&sweep(&file, &whole, &["--threads", "1"]));
    let expected = snapshot(&whole);

    // The folder first holds a complete result of another sweep: the "previous" result.
    let (other_dir, other_file) = workspace(&LONG_SWEEP.replace("replications = 50", "replications = 2"));
    let out = dir.path().join("out");
    assert_success(&sweep(&other_file, &out, &[]));
    drop(other_dir);
    let previous = snapshot(&out);

    let args = ["sweep", path(&file), "--quiet", "--threads", "1", "--out", path(&out)];
    let resume: Vec<&str> = args.iter().copied().chain(["--resume"]).collect();
    let plan = [
        (60, "-KILL", &args[..]),
        (210, "-INT", &resume[..]),
        (360, "-KILL", &resume[..]),
        (480, "-INT", &resume[..]),
    ];
    for (tasks, signal, command) in plan {
        if !stop_at(command, &out, tasks, signal) {
            break;
        }
        // Stopped mid-run: the folder still holds the previous complete result, untouched.
        assert_same(&snapshot(&out), &previous, &format!("after {signal} at {tasks} tasks"));
        convosim().args(["compare", path(&out), path(&out)]).assert().success();
    }
    let (status, stderr) = Running::start(&resume).finish();
    assert!(status.success(), "{stderr}");
    assert_same(&snapshot(&out), &expected, "resumed");
    assert!(!dir.path().join("out.partial").exists(), "the partial folder is gone once complete");
}

#[test]
fn a_killed_shard_rerun_keeps_its_complete_shard_and_resumes() {
    let (dir, file) = workspace(LONG_SWEEP);
    let shard = |k: &str, out: &Path| sweep(&file, out, &["--threads", "1", "--shard", k]);
    let (s1, s2) = (dir.path().join("s1"), dir.path().join("s2"));
    assert_success(&shard("1/2", &s1));
    assert_success(&shard("2/2", &s2));
    let before = snapshot(&s1);
    let args = ["sweep", path(&file), "--quiet", "--threads", "1", "--shard", "1/2", "--out", path(&s1)];
    if stop_at(&args, &s1, 100, "-KILL") {
        assert_same(&snapshot(&s1), &before, "shard after SIGKILL");
        // A resume that names another shard is refused: the checkpoint is of shard 1/2.
        assert_one_line_error(
            convosim().args(["sweep", path(&file), "--resume", "--shard", "2/2", "--out", path(&s1)]),
            &["--resume", "s1.partial", "holds shard 1/2, not 2/2"],
        );
        let resumed: Vec<&str> = args.iter().copied().chain(["--resume"]).collect();
        let (status, stderr) = Running::start(&resumed).finish();
        assert!(status.success(), "{stderr}");
    }
    assert_same(&snapshot(&s1), &before, "shard resumed");
    let merged = dir.path().join("merged");
    convosim().arg("merge").args([&s1, &s2]).args(["--out", path(&merged)]).assert().success();
}

#[test]
fn resume_refuses_a_checkpoint_of_other_inputs_and_starts_fresh_without_one() {
    let (dir, file) = workspace(LONG_SWEEP);
    let out = dir.path().join("out");
    let args = ["sweep", path(&file), "--quiet", "--threads", "1", "--out", path(&out)];
    if !stop_at(&args, &out, 20, "-KILL") {
        return;
    }
    fs::write(&file, LONG_SWEEP.replace("seed = 5", "seed = 6")).expect("an edit");
    assert_one_line_error(
        convosim().args(["sweep", path(&file), "--resume", "--out", path(&out)]),
        &["--resume", "out.partial", "another seed"],
    );
    fs::write(&file, LONG_SWEEP).expect("the original");
    fs::write(dir.path().join("base.toml"), SMALL_CENTER.replace("timeout = \"5m\"", "timeout = \"6m\""))
        .expect("an edit");
    assert_one_line_error(
        convosim().args(["sweep", path(&file), "--resume", "--out", path(&out)]),
        &["--resume", "out.partial", "other inputs"],
    );
    let small = dir.path().join("small.toml");
    fs::write(&small, SMALL_SWEEP).expect("small.toml");
    let output = sweep(&small, &dir.path().join("fresh"), &["--resume"]);
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to resume"));
}

#[test]
fn two_sweeps_into_one_folder_the_second_fails_at_once() {
    let (dir, file) = workspace(&LONG_SWEEP.replace("replications = 50", "replications = 500"));
    let out = dir.path().join("out");
    let first = Running::start(&["sweep", path(&file), "--quiet", "--threads", "1", "--out", path(&out)]);
    let started = wait_until(|| (checkpointed(&out) > 0).then_some(()));
    assert!(started.is_some(), "the first sweep did not get going");
    let clock = Instant::now();
    assert_one_line_error(
        convosim().args(["sweep", path(&file), "--quiet", "--out", path(&out)]),
        &[path(&out), "another convosim is writing this folder", ".out.lock"],
    );
    assert!(clock.elapsed() < Duration::from_secs(20), "the second sweep waited");
    // The first goes on undisturbed, and stops cleanly when asked.
    first.signal("-INT");
    let (status, stderr) = first.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("tasks done; resume with"), "{stderr}");
}

#[test]
fn a_sweep_name_cannot_leave_results() {
    for name in ["../../escaped", "a/b", "/tmp/abs", "x\\u0007y", ".."] {
        let (dir, file) = workspace(&SMALL_SWEEP.replace("name = \"small\"", &format!("name = \"{name}\"")));
        let mut cmd = convosim();
        cmd.current_dir(dir.path()).args(["sweep", path(&file), "--quiet"]);
        assert_one_line_error(&mut cmd, &["sweep.toml: name: expected a plain folder name"]);
        assert!(!dir.path().join("results").exists() && !dir.path().join("escaped").exists());
    }
}

/// Shards 1/2 and 2/2 of [`SMALL_SWEEP`], run with 1 and 2 threads.
fn small_shards(dir: &Path, file: &Path) -> (PathBuf, PathBuf) {
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    assert_success(&sweep(file, &s1, &["--shard", "1/2", "--threads", "1"]));
    assert_success(&sweep(file, &s2, &["--shard", "2/2", "--threads", "2"]));
    (s1, s2)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a folder");
    for entry in fs::read_dir(from).expect("readable") {
        let entry = entry.expect("an entry");
        fs::copy(entry.path(), to.join(entry.file_name())).expect("a copy");
    }
}

/// Sets the manifest's checksum of `name` to the file's current SHA-256, as a forger would.
fn reseal(dir: &Path, name: &str) {
    use sha2::{Digest, Sha256};
    let sum: String = Sha256::digest(fs::read(dir.join(name)).expect("readable"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("a manifest")).expect("JSON");
    manifest["files"][name] = Value::String(sum);
    fs::write(&path, manifest.to_string()).expect("written");
}

#[test]
fn tampered_shards_are_refused_one_by_one() {
    let (dir, file) = workspace(SMALL_SWEEP);
    let (s1, s2) = small_shards(dir.path(), &file);
    let out = dir.path().join("merged");
    let merge = |first: &Path, fragments: &[&str]| {
        assert_one_line_error(
            convosim().arg("merge").args([first, &s2]).args(["--out", path(&out)]),
            fragments,
        );
        assert!(!out.join("manifest.json").exists(), "a refused merge wrote a manifest");
    };
    type Tamper = fn(&Path, &Path);
    let cases: [(&str, Tamper, &[&str]); 6] = [
        (
            "swapped rows",
            |t, s2| {
                fs::copy(s2.join("replications.csv"), t.join("replications.csv")).map(|_| ()).expect("copied")
            },
            &["incomplete or modified: replications.csv"],
        ),
        (
            "missing histogram line",
            |t, _| {
                let text = fs::read_to_string(t.join("histograms.jsonl")).expect("readable");
                let kept: Vec<&str> = text.lines().skip(1).collect();
                fs::write(t.join("histograms.jsonl"), kept.join("\n") + "\n").expect("written");
            },
            &["incomplete or modified: histograms.jsonl"],
        ),
        ("NaN edit", |t, _| nan_edit(t), &["incomplete or modified: replications.csv"]),
        (
            "NaN edit, resealed",
            |t, _| {
                nan_edit(t);
                reseal(t, "replications.csv")
            },
            &["replications.csv", "expected a finite number or nothing"],
        ),
        (
            "other version",
            |t, _| {
                let path = t.join("manifest.json");
                let text = fs::read_to_string(&path)
                    .expect("readable")
                    .replace(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"0.0.9\"");
                fs::write(path, text).expect("written");
            },
            &["written by convosim 0.0.9, this is convosim"],
        ),
        (
            "no manifest",
            |t, _| fs::remove_file(t.join("manifest.json")).expect("removed"),
            &["incomplete or modified: manifest.json is missing"],
        ),
    ];
    for (what, tamper, fragments) in cases {
        let copy = dir.path().join(format!("t-{}", what.replace(' ', "-").replace(',', "")));
        copy_dir(&s1, &copy);
        tamper(&copy, &s2);
        merge(&copy, fragments);
    }
    // The untampered shards merge; the merged manifest counts the most threads, not the sum.
    convosim().arg("merge").args([&s1, &s2]).args(["--out", path(&out)]).assert().success();
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).expect("a manifest"))
            .expect("JSON");
    assert_eq!(manifest["threads"], 2);
    // compare checks the checksums too.
    let edited = fs::read_to_string(out.join("summary.csv")).expect("readable").replacen(",0.", ",1.", 1);
    fs::write(out.join("summary.csv"), edited).expect("written");
    assert_one_line_error(convosim().args(["compare", path(&s1), path(&out)]), &["incomplete or modified"]);
    assert_one_line_error(
        convosim().args(["compare", path(&out), path(&out)]),
        &["incomplete or modified: summary.csv"],
    );
}

/// Replaces the first metric cell that holds a number in the first data row with NaN.
fn nan_edit(dir: &Path) {
    let path = dir.join("replications.csv");
    let text = fs::read_to_string(&path).expect("readable");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let cells: Vec<&str> = lines[1].split(',').collect();
    let at = cells.iter().rposition(|c| c.contains('.')).expect("a decimal cell");
    let mut edited: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
    edited[at] = "NaN".into();
    lines[1] = edited.join(",");
    fs::write(&path, lines.join("\n") + "\n").expect("written");
}

#[test]
fn merge_refuses_an_out_among_its_inputs_and_shards_run_with_other_policies() {
    let (dir, file) = workspace(SMALL_SWEEP);
    let (s1, s2) = small_shards(dir.path(), &file);
    let before = snapshot(&s1);
    assert_one_line_error(
        convosim().arg("merge").args([&s1, &s2]).args(["--out", path(&s1)]),
        &["--out", "is one of the inputs"],
    );
    assert_one_line_error(
        convosim().arg("merge").args([&s1, &s2]).args(["--out", path(&s2.join("inner"))]),
        &["--out", "is inside the input"],
    );
    assert_same(&snapshot(&s1), &before, "an input of a refused merge");

    // Shard 2 run where ./policies overrides the hybrid-1m preset: same sweep and base text.
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("policies")).expect("a folder");
    fs::write(elsewhere.join("policies/hybrid-1m.toml"), "description = \"x\"\nkind = \"next_available\"\n")
        .expect("a preset");
    let foreign = dir.path().join("foreign");
    let mut cmd = convosim();
    cmd.current_dir(&elsewhere).args([
        "sweep",
        path(&file),
        "--quiet",
        "--shard",
        "2/2",
        "--out",
        path(&foreign),
    ]);
    assert_success(&cmd.output().expect("runs"));
    assert_one_line_error(
        convosim().arg("merge").args([&s1, &foreign]).args(["--out", path(&dir.path().join("m"))]),
        &["different sweep"],
    );
}

#[test]
fn a_full_disk_leaves_nothing_that_looks_complete() {
    let (dir, file) = workspace(LONG_SWEEP);
    let disk = dir.path().join("disk");
    fs::create_dir(&disk).expect("a folder");
    let mounted =
        Process::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs", path(&disk)]).output();
    match mounted {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return println!("skipped: cannot mount a tmpfs: {}", String::from_utf8_lossy(&o.stderr).trim())
        }
        Err(e) => return println!("skipped: cannot run mount: {e}"),
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Process::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&disk);
    let out = disk.join("out");
    assert_one_line_error(
        convosim().args(["sweep", path(&file), "--quiet", "--out", path(&out)]),
        &["No space left on device"],
    );
    let run_out = disk.join("run");
    assert_one_line_error(
        convosim().args([
            "run",
            path(&dir.path().join("base.toml")),
            "--replications",
            "400",
            "--format",
            "csv",
            "--out",
            path(&run_out),
        ]),
        &["No space left on device"],
    );
    for folder in [&out, &run_out] {
        assert!(!folder.join("manifest.json").exists(), "{} looks complete", folder.display());
        assert_one_line_error(
            convosim().args(["compare", path(folder), path(folder)]),
            &["incomplete or modified"],
        );
    }
}

#[test]
fn run_out_killed_keeps_the_previous_result() {
    let (dir, _) = workspace(SMALL_SWEEP);
    let base = dir.path().join("base.toml");
    let out = dir.path().join("run");
    let output =
        convosim().args(["run", path(&base), "--format", "csv", "--out", path(&out)]).output().expect("runs");
    assert_success(&output);
    let before = snapshot(&out);
    let mut child = Running::start(&[
        "run",
        path(&base),
        "--replications",
        "1000000",
        "--threads",
        "1",
        "--out",
        path(&out),
    ]);
    let rows = dir.path().join("run.partial/replications.csv");
    let grew = wait_until(|| fs::metadata(&rows).ok().filter(|m| m.len() > 4096).map(|_| ()));
    assert!(grew.is_some() && !child.exited(), "the run did not get going");
    child.signal("-KILL");
    let _ = child.finish();
    assert_same(&snapshot(&out), &before, "run --out after SIGKILL");
    convosim().args(["compare", path(&out), path(&out)]).assert().success();
}

#[test]
fn shards_inside_the_merged_folder_merge_into_it_as_the_readme_shows() {
    let (dir, file) = workspace(SMALL_SWEEP);
    let whole = dir.path().join("whole");
    assert_success(&sweep(&file, &whole, &[]));
    let out = dir.path().join("results");
    for k in 1..=3 {
        assert_success(&sweep(&file, &out.join(format!("shard-{k}")), &["--shard", &format!("{k}/3")]));
    }
    // What the shell's `results/shard-*` gives: lock files are hidden, so not among them.
    let mut shards: Vec<PathBuf> = fs::read_dir(&out)
        .expect("readable")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("shard-")))
        .collect();
    shards.sort();
    assert_eq!(shards.len(), 3, "{shards:?}");
    convosim().arg("merge").args(&shards).args(["--out", path(&out)]).assert().success();
    let mut expected = snapshot(&whole);
    let mut merged = snapshot(&out);
    // The manifests differ in how they came about (merged_from, threads); the data may not.
    expected.pop();
    merged.pop();
    assert_same(&merged, &expected, "merged into the shards' parent");
    assert!(shards.iter().all(|s| s.join("manifest.json").exists()), "the shards stay");
}
