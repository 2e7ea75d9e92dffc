//! Runs that could not finish are refused before they start, with one keyed line and exit
//! status 2: zero handle times and gaps with a huge exchange count (the clock would never
//! move), arrival rates too fast for the clock. At the loader's limits the same scenarios run
//! to their horizon. (The engine's own guards, for what gets past the loader, are unit tests in
//! `engine`.)

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

fn scenario(exchanges: &str, rate_per_hour: &str) -> String {
    format!(
        r#"
name = "stall"
horizon = "2h"
replications = 2
[arrivals]
rate_per_hour = {rate_per_hour}
[conversation]
exchanges = {{ dist = "fixed", value = {exchanges} }}
handle_time = {{ dist = "fixed", value = 0 }}
gap = {{ dist = "fixed", value = 0 }}
[[agents]]
name = "a"
count = 1
[policy]
kind = "next_available"
"#
    )
}

fn run(text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stall.toml");
    std::fs::write(&file, text).expect("write");
    Command::cargo_bin("convosim")
        .expect("binary")
        .args(["run", file.to_str().expect("utf-8 path"), "--format", "csv"])
        .timeout(Duration::from_secs(120))
        .assert()
}

fn one_line_error(assert: assert_cmd::assert::Assert, key: &str) {
    let out = assert.code(2).stdout(predicate::str::is_empty()).stderr(predicate::str::contains(key));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn scenarios_whose_clock_could_not_move_are_refused_with_one_line() {
    one_line_error(run(&scenario("4000000000", "1")), "conversation.exchanges.value");
    one_line_error(run(&scenario("1", "1e300")), "arrivals.rate_per_hour");
}

#[test]
fn at_the_loaders_limits_zero_time_exchanges_still_finish() {
    run(&scenario("1000000", "3")).success().stdout(predicate::str::contains("contacts_first"));
}
