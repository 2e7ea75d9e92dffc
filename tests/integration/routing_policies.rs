//! Routing policies against each other: the limits where hybrid becomes next_available or
//! sticky, one-exchange conversations, affinity and waits as the hybrid timeout moves, the
//! `select` rules, every preset, and sticky across shifts.

use convosim::scenario::{load_policy, PRESETS};
use convosim::Scenario;

use crate::common::{
    assert_clearly_below, assert_invariants, assert_matches_theory, assert_same_within_ci, run_summary,
    scenario, ErlangC, Summary, DAY,
};

/// A center of `count` agents × `concurrency`, 24/7, with the given `[conversation]` body and
/// `[policy]` body, 10 days after a 1-day warm-up.
fn center(
    name: &str,
    rate_per_hour: f64,
    count: u32,
    concurrency: u32,
    conversation: &str,
    policy: &str,
) -> Scenario {
    scenario(&format!(
        r#"
name = "{name}"
horizon = "11d"
warmup = "1d"

[arrivals]
rate_per_hour = {rate_per_hour}

[conversation]
{conversation}

[[agents]]
name = "team"
count = {count}
concurrency = {concurrency}

[policy]
{policy}
"#
    ))
}

/// Resumed conversations: geometric exchanges (mean 4), reference.toml's bimodal gap, patience.
const RESUMED: &str = r#"exchanges = { dist = "geometric", mean = 4 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "mixture", parts = [
  { weight = 0.7, dist = "exponential", mean = "2m" },
  { weight = 0.3, dist = "exponential", mean = "4h" } ] }
patience_first = { dist = "exponential", mean = "10m" }
patience_resumed = { dist = "exponential", mean = "2h" }"#;

/// One exchange per conversation (no resumed contacts), with patience.
const ONE_EXCHANGE: &str = r#"exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "5m" }
patience_first = { dist = "exponential", mean = "10m" }"#;

/// The metrics of a summary by name, for exact comparisons.
fn metric_values(s: &Summary) -> Vec<(&'static str, Option<f64>, Option<f64>)> {
    let mut all: Vec<_> = s.metrics.iter().map(|(name, m)| (*name, m.mean, m.ci95)).collect();
    all.sort_by_key(|(name, _, _)| *name);
    all
}

const WAIT_METRICS: [&str; 8] = [
    "wait_first_mean_s",
    "waited_first_share",
    "wait_first_p90_s",
    "abandon_first_share",
    "wait_resumed_mean_s",
    "waited_resumed_share",
    "wait_resumed_p90_s",
    "abandon_resumed_share",
];

#[test]
fn hybrid_with_zero_timeout_waits_like_next_available() {
    // 12 × 3 slots at 0.89 load (Erlang-R), so that contacts do wait.
    let next = run_summary(&center("erlang_r", 120.0, 12, 3, RESUMED, r#"kind = "next_available""#), 201, 16);
    let hybrid =
        run_summary(&center("erlang_r", 120.0, 12, 3, RESUMED, "kind = \"hybrid\"\ntimeout = 0"), 201, 16);
    for name in WAIT_METRICS {
        assert_same_within_ci(name, &hybrid, &next, 1e-9);
    }
    // Affinity is where they differ: hybrid(0) still gives a free owner the contact.
    assert_clearly_below("affinity_retention_share", &next, &hybrid);
}

#[test]
fn hybrid_with_huge_timeout_is_sticky() {
    let sticky = run_summary(&center("ref", 120.0, 16, 3, RESUMED, r#"kind = "sticky""#), 202, 8);
    let hybrid =
        run_summary(&center("ref", 120.0, 16, 3, RESUMED, "kind = \"hybrid\"\ntimeout = \"1000d\""), 202, 8);
    assert!(sticky.mean("wait_resumed_mean_s") > 1.0, "owners must be busy sometimes for this test to bite");
    assert_eq!(metric_values(&hybrid), metric_values(&sticky));
    assert_eq!(hybrid.audit(), sticky.audit());
    eprintln!(
        "hybrid(1000d) = sticky exactly: wait_resumed_mean_s {:.4}, affinity_retention_share {:.4}",
        hybrid.mean("wait_resumed_mean_s"),
        hybrid.mean("affinity_retention_share")
    );
}

#[test]
fn with_one_exchange_every_policy_is_next_available() {
    let policies = [
        r#"kind = "next_available""#,
        r#"kind = "sticky""#,
        "kind = \"hybrid\"\ntimeout = \"1m\"",
        "kind = \"hybrid\"\ntimeout = 0",
        "kind = \"sticky\"\naffinity_window = \"1h\"\nowner_offline = \"fallback\"",
    ];
    let runs: Vec<Summary> = policies
        .iter()
        .map(|p| run_summary(&center("one_exchange", 130.0, 12, 1, ONE_EXCHANGE, p), 203, 6))
        .collect();
    let reference = &runs[0];
    assert!(reference.mean("waited_first_share") > 0.2, "the center must be loaded for this test to bite");
    for other in &runs[1..] {
        assert_eq!(metric_values(other), metric_values(reference), "{} differs", other.label);
        assert_eq!(other.audit(), reference.audit());
        assert_eq!(other.get("contacts_resumed").mean, Some(0.0));
    }
}

/// A loaded center where resumed contacts often find their owner busy: 10 agents × 2,
/// 3 exchanges of 5 min, hour-long gaps, 0.85 load.
fn owner_busy_center(policy: &str) -> Scenario {
    let conversation = r#"exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "5m" }
gap = { dist = "exponential", mean = "1h" }"#;
    center("owner_busy", 68.0, 10, 2, conversation, policy)
}

#[test]
fn pure_sticky_keeps_every_resumed_contact_with_its_owner() {
    let s = run_summary(&owner_busy_center(r#"kind = "sticky""#), 204, 8);
    for value in s.values("affinity_retention_share") {
        assert_eq!(value, 1.0);
    }
    assert_eq!(s.mean("handoffs_per_conversation"), 0.0);
    assert_eq!(s.mean("single_agent_conversation_share"), 1.0);
    assert_eq!(s.mean("fallbacks_fired"), 0.0);
}

#[test]
fn shorter_hybrid_timeouts_trade_affinity_for_shorter_resumed_waits() {
    let runs: Vec<Summary> = ["30s", "2m", "10m"]
        .iter()
        .map(|t| run_summary(&owner_busy_center(&format!("kind = \"hybrid\"\ntimeout = \"{t}\"")), 205, 12))
        .chain([run_summary(&owner_busy_center(r#"kind = "sticky""#), 205, 12)])
        .collect();
    for pair in runs.windows(2) {
        // Longer timeout: more affinity, longer resumed waits.
        assert_clearly_below("affinity_retention_share", &pair[0], &pair[1]);
        assert_clearly_below("wait_resumed_mean_s", &pair[0], &pair[1]);
    }
    for pair in runs[..3].windows(2) {
        assert_clearly_below("fallbacks_fired", &pair[1], &pair[0]);
    }
}

#[test]
fn select_rules_do_not_change_mmc_waits() {
    let theory = ErlangC::new(12, 120.0, 300.0);
    let conversation = r#"exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "5m" }"#;
    for rule in ["least_loaded", "longest_idle", "round_robin", "random"] {
        let policy = format!("kind = \"next_available\"\nselect = \"{rule}\"");
        let mut s = run_summary(&center("mmc", 120.0, 12, 1, conversation, &policy), 206, 20);
        s.label = format!("mmc / select={rule}");
        assert_matches_theory("waited_first_share", &s, theory.p_wait(), 0.005);
        assert_matches_theory("wait_first_mean_s", &s, theory.mean_wait(), 1.0);
        // Identical agents: every rule keeps them about equally busy.
        assert!(s.mean("agent_occupancy_cv") < 0.05, "{rule}: {}", s.mean("agent_occupancy_cv"));
    }
}

#[test]
fn every_preset_runs_and_keeps_the_invariants() {
    // Two pools, one on office hours, so that owner_offline and the shift code are exercised.
    let base = scenario(
        r#"
name = "presets"
horizon = "4d"
warmup = "6h"

[arrivals]
rate_per_hour = 40

[conversation]
exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "mixture", parts = [
  { weight = 0.6, dist = "exponential", mean = "1m" },
  { weight = 0.4, dist = "exponential", mean = "5h" } ] }
patience_first = { dist = "exponential", mean = "20m" }
patience_resumed = { dist = "exponential", mean = "4h" }

[[agents]]
name = "day"
count = 3
concurrency = 2
slowdown = 0.2
shifts = [{ days = "mon-fri", start = "09:00", end = "17:00" }]

[[agents]]
name = "always"
count = 2
concurrency = 3

[policy]
kind = "next_available"
"#,
    );
    // The built-in list holds every file of the crate's policies/ directory.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for entry in std::fs::read_dir(&dir).expect("policies/ exists") {
        let path = entry.expect("a directory entry").path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if path.extension().is_some_and(|e| e == "toml") {
            assert!(PRESETS.iter().any(|(name, _)| *name == stem), "{} is not in PRESETS", path.display());
        }
    }
    for (name, _) in PRESETS {
        let mut s = base.clone();
        s.policy = load_policy(name).unwrap_or_else(|e| panic!("preset {name}: {e}"));
        let summary = run_summary(&s, 207, 3);
        assert!(summary.audit().picked > 1000, "{name}: {:?}", summary.audit());
        for share in
            ["waited_first_share", "abandon_resumed_share", "occupancy_share", "affinity_retention_share"]
        {
            let v = summary.mean(share);
            assert!((0.0..=1.0).contains(&v), "{name}: {share} = {v}");
        }
    }
}

#[test]
fn sticky_owners_on_office_hours_keep_friday_contacts_over_the_weekend() {
    // Mon-Fri 09:00-17:00 agents, customers write around the clock; time 0 is a Monday.
    let s = scenario(
        r#"
name = "office_hours"
horizon = "10d"

[arrivals]
rate_per_hour = 4

[conversation]
exchanges = { dist = "geometric", mean = 3 }
handle_time = { dist = "exponential", mean = "5m" }
gap = { dist = "exponential", mean = "3h" }

[[agents]]
name = "office"
count = 4
concurrency = 2
shifts = [{ days = "mon-fri", start = "09:00", end = "17:00" }]

[policy]
kind = "sticky"
owner_offline = "wait"
"#,
    );
    let summary = run_summary(&s, 208, 4);
    assert_eq!(summary.audit().off_shift_pickups, 0);
    for r in &summary.reps {
        assert_invariants(&r.output.audit, "office_hours");
        let max = r.output.metrics.get("wait_resumed_max_s").expect("resumed contacts were picked up");
        eprintln!("office_hours rep {}: wait_resumed_max_s {:.1} h", r.index, max / 3600.0);
        // Written after Friday 17:00, picked up on Monday 09:00 at the earliest.
        assert!(max > 2.0 * DAY, "rep {}: longest resumed wait {max} s", r.index);
        assert_eq!(r.output.metrics.get("affinity_retention_share"), Some(1.0));
    }
}
