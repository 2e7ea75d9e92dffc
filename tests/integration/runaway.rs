//! Runs that cannot finish stop with one line and exit status 2 instead of hanging: simulated
//! time that stops advancing (zero handle times and gaps with endless exchanges).

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn a_run_whose_clock_stops_exits_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stall.toml");
    std::fs::write(
        &file,
        r#"
name = "stall"
horizon = "2d"
replications = 2
[arrivals]
rate_per_hour = 1
[conversation]
exchanges = { dist = "fixed", value = 100000000 }
handle_time = { dist = "fixed", value = 0 }
gap = { dist = "fixed", value = 0 }
[[agents]]
name = "a"
count = 1
[policy]
kind = "next_available"
"#,
    )
    .expect("write");
    let out = Command::cargo_bin("convosim")
        .expect("binary")
        .args(["run", file.to_str().expect("utf-8 path")])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("simulated time stopped advancing"));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
