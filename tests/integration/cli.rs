//! Helpers for the end-to-end tests of the `convosim` binary: the command, the one-line error
//! contract, and a small scenario that sweeps and gates build on.

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

/// A small, fast, stable center (2 days, 4 agents × 2 slots at about half load, hybrid 5m).
pub const SMALL_CENTER: &str = r#"
name = "tiny"
horizon = "2d"
warmup = "4h"
seed = 3
replications = 2

[arrivals]
rate_per_hour = 20

[conversation]
exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "mixture", parts = [
  { weight = 0.7, dist = "exponential", mean = "2m" },
  { weight = 0.3, dist = "exponential", mean = "2h" } ] }
patience_resumed = { dist = "exponential", mean = "1h" }

[[agents]]
name = "team"
count = 4
concurrency = 2

[policy]
kind = "hybrid"
timeout = "5m"
"#;

/// Longest any command may take: generous, because the machine's cores are shared, and
/// bounded, so a regression that hangs fails instead.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// `convosim` with the crate root as its current directory, killed after [`PATIENCE`].
/// `staff` prints a progress line every 5 s when stderr is not a terminal: whether a test's
/// search takes that long depends on the machine, so tests get none unless they ask (by
/// setting `CONVOSIM_PROGRESS_EVERY` again), and what they read on stderr is deterministic.
pub fn convosim() -> Command {
    let mut cmd = Command::cargo_bin("convosim").expect("the convosim binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).timeout(PATIENCE).env("CONVOSIM_PROGRESS_EVERY", "1e9");
    cmd
}

/// The input-error contract: exit status 2, nothing on stdout, exactly one stderr line that
/// starts with `error: `, is not a panic, and contains every fragment.
pub fn assert_one_line_error(cmd: &mut Command, fragments: &[&str]) {
    let mut assert = cmd
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("panicked").not())
        .stderr(predicate::function(|s: &str| s.ends_with('\n') && s.lines().count() == 1));
    for fragment in fragments {
        assert = assert.stderr(predicate::str::contains(*fragment));
    }
}
