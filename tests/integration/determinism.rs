//! A run is a pure function of the scenario and the seed: same seed, same JSON; another seed,
//! other numbers; and the same results whatever the number of rayon threads.

use convosim::report::RunReport;
use convosim::runner::{run_replications, Replication};
use convosim::Scenario;
use serde_json::Value;

use crate::common::{scenario, MESSAGING_DAY};

/// reference.toml: resumed conversations, bimodal gaps, patience, hybrid 10m.
const REFERENCE: &str = r#"
name = "ref"
horizon = "4d"
warmup = "1d"

[arrivals]
rate_per_hour = 120

[conversation]
exchanges   = { dist = "geometric", mean = 4 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "mixture", parts = [
  { weight = 0.7, dist = "exponential", mean = "2m" },
  { weight = 0.3, dist = "exponential", mean = "4h" } ] }
patience_first   = { dist = "exponential", mean = "10m" }
patience_resumed = { dist = "exponential", mean = "2h" }

[[agents]]
name = "team"
count = 16
concurrency = 3

[policy]
kind = "hybrid"
timeout = "10m"
"#;

/// Every random choice the engine makes: random select, random first agent, shifts, slow-down,
/// a time-of-day profile, two pools.
const RANDOM_ROUTING_TEMPLATE: &str = r#"
name = "random_routing"
horizon = "5d"
warmup = "12h"

[arrivals]
rate_per_hour = 50
MESSAGING_DAY

[[agents]]
name = "day"
count = 6
concurrency = 3
slowdown = 0.1
shifts = [{ days = "daily", start = "07:00", end = "19:00" }]

[[agents]]
name = "night"
count = 3
concurrency = 2
shifts = [{ days = "daily", start = "18:00", end = "08:00" }]

[policy]
kind = "sticky"
select = "random"
first_contact = "random_agent"
owner_offline = "fallback"
"#;

/// [`RANDOM_ROUTING_TEMPLATE`] with the messaging day filled in.
fn random_routing() -> String {
    RANDOM_ROUTING_TEMPLATE.replace("MESSAGING_DAY", MESSAGING_DAY)
}

/// The report's JSON without the wall-clock-dependent "engine" section.
fn report_json(s: &Scenario, seed: u64, reps: Vec<Replication>) -> Value {
    let mut json = RunReport::new(s, seed, reps, 1.0).to_json();
    json.as_object_mut().expect("a JSON object").remove("engine");
    json
}

fn run_json(s: &Scenario, seed: u64, reps: u32) -> Value {
    report_json(s, seed, run_replications(s, seed, 0, reps).expect("runs"))
}

#[test]
fn same_seed_gives_identical_json() {
    for text in [REFERENCE.to_string(), random_routing()] {
        let s = scenario(&text);
        let first = run_json(&s, 42, 4);
        let again = run_json(&s, 42, 4);
        assert_eq!(first, again, "{}", s.name);
        // The replications' own metrics, bit for bit (NaN-free: undefined values are None).
        let a = run_replications(&s, 42, 0, 2).expect("runs");
        let b = run_replications(&s, 42, 0, 2).expect("runs");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.seed, y.seed);
            assert_eq!(x.output.metrics.values, y.output.metrics.values);
            assert_eq!(x.output.audit, y.output.audit);
            assert_eq!(x.output.stats, y.output.stats);
        }
    }
}

#[test]
fn different_seeds_give_different_numbers() {
    for text in [REFERENCE.to_string(), random_routing()] {
        let s = scenario(&text);
        let a = run_json(&s, 1, 2);
        let b = run_json(&s, 2, 2);
        assert_ne!(a["metrics"], b["metrics"], "{}", s.name);
        assert_ne!(a["metrics"]["wait_resumed_mean_s"], b["metrics"]["wait_resumed_mean_s"], "{}", s.name);
        // Replications of one master seed differ from one another, too.
        let reps = run_replications(&s, 1, 0, 2).expect("runs");
        assert_ne!(reps[0].seed, reps[1].seed);
        assert_ne!(reps[0].output.metrics.values, reps[1].output.metrics.values);
        // And so do sweep points.
        let other_point = run_replications(&s, 1, 1, 1).expect("runs");
        assert_ne!(other_point[0].output.metrics.values, reps[0].output.metrics.values);
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for text in [REFERENCE.to_string(), random_routing()] {
        let s = scenario(&text);
        let on_threads = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("a rayon pool");
            pool.install(|| run_replications(&s, 9, 3, 6).expect("runs"))
        };
        let one = on_threads(1);
        let four = on_threads(4);
        assert_eq!(one.iter().map(|r| r.index).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        assert_eq!(four.iter().map(|r| r.index).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        assert_eq!(report_json(&s, 9, one), report_json(&s, 9, four), "{}", s.name);
    }
}

#[test]
fn single_run_equals_the_replication_with_its_seed() {
    let s = scenario(REFERENCE);
    let reps = run_replications(&s, 5, 0, 3).expect("runs");
    for r in &reps {
        let alone = convosim::run(&s, r.seed).expect("runs");
        assert_eq!(alone.metrics.values, r.output.metrics.values);
        assert_eq!(alone.audit, r.output.audit);
    }
}
