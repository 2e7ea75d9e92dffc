//! Output that cannot be written never panics: every command and format, with stdout a pipe
//! whose reader is gone (`| head -1`: quiet, the command's own exit status) or a full device
//! (`> /dev/full`: one `error:` line, exit status 2); a closed stderr changes nothing.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;

use crate::cli::SMALL_CENTER;

const SWEEP: &str = r#"
name = "tiny-sweep"
base = "base.toml"
replications = 2
seed = 11
[axes]
"agents.team.count" = [4, 5]
"#;

/// `convosim ARGS` from the crate root, with stdout and stderr as given.
fn spawn(args: &[String], stdout: Stdio, stderr: Stdio) -> Output {
    let mut cmd = Command::cargo_bin("convosim").expect("the convosim binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).stdin(Stdio::null());
    cmd.stdout(stdout).stderr(stderr).output().expect("convosim starts")
}

/// A pipe whose read end is closed before the command starts, so its first write fails.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every command, in every format, as argument lists; `dir` holds the inputs they read.
fn commands(dir: &Path) -> Vec<Vec<String>> {
    let p = |name: &str| dir.join(name).display().to_string();
    let (base, sweep, whole) = (p("base.toml"), p("sweep.toml"), p("whole"));
    let staff = ["staff", &base, "--pool", "team", "--target", "wait_first_mean_s<=600"];
    let mut list: Vec<Vec<&str>> = vec![
        vec!["run", &base],
        vec!["run", &base, "--format", "json"],
        vec!["run", &base, "--format", "csv"],
        vec!["run", &base, "--by", "interval"],
        vec!["check", &base],
        vec!["policies"],
        vec!["capacities"],
        vec!["compare", &whole, &whole],
        vec!["report", &whole],
    ];
    let staff_json = [&staff[..], &["--format", "json"]].concat();
    let per_interval = [&staff[..], &["--per-interval", "--target", "sl_first_share>=0.5"]].concat();
    let per_interval_json = [&per_interval[..], &["--format", "json"]].concat();
    list.extend([staff.to_vec(), staff_json, per_interval, per_interval_json]);
    let mut owned: Vec<Vec<String>> =
        list.into_iter().map(|args| args.into_iter().map(String::from).collect()).collect();
    let sweep_out = p("sweep-out");
    owned.push(["sweep", &sweep, "--quiet", "--out", &sweep_out].map(String::from).to_vec());
    let merged = p("merged");
    let shards = [p("shard-1"), p("shard-2")];
    owned.push(["merge", &shards[0], &shards[1], "--out", &merged].map(String::from).to_vec());
    owned
}

/// base.toml, sweep.toml, a whole sweep and its two shards, in a temp dir.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("base.toml"), SMALL_CENTER).unwrap();
    fs::write(dir.path().join("sweep.toml"), SWEEP).unwrap();
    let sweep = dir.path().join("sweep.toml").display().to_string();
    for (out, shard) in [("whole", None), ("shard-1", Some("1/2")), ("shard-2", Some("2/2"))] {
        let mut args = vec!["sweep".to_string(), sweep.clone(), "--quiet".into(), "--out".into()];
        args.push(dir.path().join(out).display().to_string());
        args.extend(shard.map(|s| ["--shard".to_string(), s.to_string()]).into_iter().flatten());
        let output = spawn(&args, Stdio::null(), Stdio::piped());
        assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
    }
    dir
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_its_own_status() {
    let dir = workspace();
    for args in commands(dir.path()) {
        let output = spawn(&args, closed_pipe(), Stdio::piped());
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_full_stdout_is_one_error_line_and_status_2() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not on this system
    };
    let dir = workspace();
    for args in commands(dir.path()) {
        let output = spawn(&args, full.try_clone().unwrap().into(), Stdio::piped());
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args[0] == "report" {
            // It prints nothing on stdout.
            assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
            continue;
        }
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(
            errors,
            ["error: cannot write to stdout: No space left on device (os error 28)"],
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_stderr_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("base.toml");
    fs::write(&base, SMALL_CENTER).unwrap();
    let out = dir.path().join("out");
    let args = ["run", base.to_str().unwrap(), "--out", out.to_str().unwrap()].map(String::from);
    let output = spawn(&args, Stdio::piped(), closed_pipe());
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("mean ± 95% CI"), "{}", text(&output.stdout));
    assert!(out.join("manifest.json").is_file(), "the results folder is written");
    // An input error keeps its status when its line cannot be written.
    let missing = ["run".to_string(), dir.path().join("missing.toml").display().to_string()];
    assert_eq!(spawn(&missing, Stdio::piped(), closed_pipe()).status.code(), Some(2));
}
