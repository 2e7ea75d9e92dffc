//! Runs that could not finish are refused before they start, with one keyed line and exit
//! status 2: zero handle times and gaps with a huge exchange count (the clock would never
//! move), arrival rates too fast for the clock. At the loader's limits the same scenarios run
//! to their horizon. (The engine's own guards, for what gets past the loader, are unit tests in
//! `engine`.)

use predicates::prelude::*;

use crate::cli::{assert_one_line_error, convosim};

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
    convosim().args(["run", file.to_str().expect("utf-8 path"), "--format", "csv"]).assert()
}

fn refused(text: &str, key: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stall.toml");
    std::fs::write(&file, text).expect("write");
    assert_one_line_error(convosim().args(["run", file.to_str().expect("utf-8 path")]), &[key]);
}

#[test]
fn scenarios_whose_clock_could_not_move_are_refused_with_one_line() {
    refused(&scenario("4000000000", "1"), "conversation.exchanges.value");
    refused(&scenario("1", "1e300"), "arrivals.rate_per_hour");
}

#[test]
fn at_the_loaders_limits_zero_time_exchanges_still_finish() {
    run(&scenario("1000000", "3")).success().stdout(predicate::str::contains("contacts_first"));
}
