//! The integration tests of convosim, one binary (`cargo test --release --test integration`).
//!
//! Modules are named for the behaviour they check. Statistical checks print their simulated
//! and theoretical values; collect them with
//! `cargo test --release --test integration -- --nocapture --test-threads 1 2>&1 | grep 'vs theory'`.

mod breakdowns;
mod capacity;
mod channel_targets;
mod channels;
mod cli;
mod cli_edge;
mod cli_errors;
mod common;
mod crash_safety;
mod determinism;
mod erlang_validation;
mod front;
mod gates;
mod golden;
mod hostile;
mod html_report;
mod invariants;
mod memory;
mod messages;
mod output_failures;
/// The README's example policy (steps.rs checks its invariants, readme.rs what it prints).
#[path = "../../examples/owner_or_teammate.rs"]
mod owner_or_teammate;
mod readme;
mod report_browser;
mod routing_policies;
mod runaway;
mod schema;
mod small_traps;
mod staff;
mod staff_interval;
mod staff_judged;
mod staffing;
mod steps;
mod sweep_channels;
mod sweeps;
mod tie_semantics;
mod whole_results;
