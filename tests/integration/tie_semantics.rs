//! Exact ties and small semantics, with fixed durations where ties are common: a pickup wins
//! over a patience or hybrid timer at the same instant; agents coming on shift share the
//! backlog in `select` order; owner-offline reroutes are counted apart from timeouts;
//! `waited_*_share` is wait > 0 or abandoned.

use convosim::Scenario;

use crate::common::{run_summary, scenario, Summary};

/// One agent, one slot, conversations of 40 exchanges of exactly 60 s with no gap: the agent
/// works on a 60 s grid, so a contact waiting behind two others becomes due exactly when its
/// patience (or hybrid timeout) of 120 s runs out. `personal_first = false` makes the agent
/// take new conversations before its waiting owners, so such queues form.
fn grid_center(conversation_extra: &str, policy: &str) -> Scenario {
    scenario(&format!(
        r#"
name = "grid"
horizon = "20d"
warmup = "0s"

[arrivals]
rate_per_hour = 2

[conversation]
exchanges = {{ dist = "fixed", value = 40 }}
handle_time = {{ dist = "fixed", value = "60s" }}
gap = {{ dist = "fixed", value = 0 }}
{conversation_extra}

[[agents]]
name = "solo"
count = 1
concurrency = 1

[policy]
{policy}
personal_first = false
"#
    ))
}

/// The metrics that tell who was picked up, abandoned or rerouted, and how long they waited.
const OUTCOMES: [&str; 8] = [
    "contacts_resumed",
    "abandon_resumed_share",
    "wait_resumed_mean_s",
    "wait_resumed_max_s",
    "affinity_retention_share",
    "fallbacks_fired",
    "conversations_resolved",
    "conversations_abandoned",
];

fn outcomes(s: &Summary) -> Vec<(&'static str, Option<f64>)> {
    OUTCOMES.iter().map(|&m| (m, s.get(m).mean)).collect()
}

#[test]
fn a_pickup_at_the_instant_patience_runs_out_wins() {
    let with = |patience: &str| {
        let extra = format!(r#"patience_resumed = {{ dist = "fixed", value = {patience} }}"#);
        outcomes(&run_summary(&grid_center(&extra, r#"kind = "sticky""#), 3, 3))
    };
    let (exact, longer, shorter) = (with("120"), with("120.001"), with("119.999"));
    // Waits of exactly 120 s do not exceed a patience of 120 s: the contact is picked up, as
    // with a patience a hair longer.
    assert_eq!(exact, longer);
    // The ties are real: a hair shorter and those contacts abandon instead.
    assert_ne!(exact, shorter);
    let max_wait = exact.iter().find(|(m, _)| *m == "wait_resumed_max_s").and_then(|(_, v)| *v);
    assert!((max_wait.expect("resumed contacts were picked up") - 120.0).abs() < 1e-6);
}

#[test]
fn a_hybrid_timeout_fires_only_if_the_owner_has_not_picked_up_by_then() {
    let with = |timeout: &str| {
        let policy = format!("kind = \"hybrid\"\ntimeout = {timeout}");
        outcomes(&run_summary(&grid_center("", &policy), 5, 3))
    };
    let (exact, longer, shorter) = (with("120"), with("120.001"), with("119.999"));
    assert_eq!(exact, longer);
    let fired =
        |o: &[(&str, Option<f64>)]| o.iter().find(|(m, _)| *m == "fallbacks_fired").and_then(|(_, v)| *v);
    // With a hair less, the timer beats the pickup due at 120 s and fires more often.
    assert!(fired(&shorter) > fired(&exact), "{shorter:?} vs {exact:?}");
}

/// Work arrives only at night (00:00-08:00); two agents with 20 slots each come on at 08:00
/// and find the whole night's backlog (about 8 contacts) waiting.
fn night_backlog(select: &str) -> Scenario {
    let mut profile = vec!["0"; 24];
    profile[..8].fill("1");
    scenario(&format!(
        r#"
name = "night-backlog"
horizon = "30d"
warmup = "1d"

[arrivals]
rate_per_hour = 1
profile = [{}]

[conversation]
exchanges = {{ dist = "fixed", value = 1 }}
handle_time = {{ dist = "fixed", value = "30m" }}

[[agents]]
name = "day"
count = 2
concurrency = 20
shifts = [{{ days = "daily", start = "08:00", end = "20:00" }}]

[policy]
kind = "next_available"
select = "{select}"
"#,
        profile.join(", ")
    ))
}

#[test]
fn agents_coming_on_shift_take_the_backlog_one_contact_at_a_time() {
    for select in ["least_loaded", "round_robin"] {
        let s = run_summary(&night_backlog(select), 11, 4);
        // One agent filling its 20 slots first would leave the other idle all day (occupancy 0);
        // taken one at a time, the two share the morning's work almost evenly.
        let (min, max) = (s.mean("agent_occupancy_min"), s.mean("agent_occupancy_max"));
        assert!(min > 0.8 * max, "{select}: agent occupancy {min} .. {max}");
        assert_eq!(s.mean("waited_first_share"), 1.0, "all work waited for the shift");
    }
}

#[test]
fn owner_offline_reroutes_are_counted_apart_from_timeouts() {
    let s = run_summary(
        &scenario(
            r#"
name = "office-hours"
horizon = "15d"
warmup = "1d"
[arrivals]
rate_per_hour = 20
[conversation]
exchanges = { dist = "fixed", value = 3 }
handle_time = { dist = "exponential", mean = "5m" }
gap = { dist = "exponential", mean = "6h" }
[[agents]]
name = "early"
count = 4
concurrency = 2
shifts = [{ days = "daily", start = "06:00", end = "14:00" }]
[[agents]]
name = "late"
count = 4
concurrency = 2
shifts = [{ days = "daily", start = "14:00", end = "22:00" }]
[[agents]]
name = "night"
count = 4
concurrency = 2
shifts = [{ days = "daily", start = "22:00", end = "06:00" }]
[policy]
kind = "hybrid"
timeout = "1000d"
owner_offline = "fallback"
"#,
        ),
        2,
        3,
    );
    // The timeout never fires; every contact whose owner went home is rerouted at once.
    assert_eq!(s.mean("fallbacks_fired"), 0.0);
    assert!(s.mean("owner_offline_reroutes") > 100.0, "{}", s.mean("owner_offline_reroutes"));
}

#[test]
fn waited_share_counts_waits_above_zero_and_abandonments() {
    // With no patience at all, a contact that finds every slot busy abandons at once with a
    // wait of 0; it still counts as having waited. Picked-up contacts all waited 0.
    let s = run_summary(
        &scenario(
            r#"
name = "no-patience"
horizon = "6d"
warmup = "1d"
[arrivals]
rate_per_hour = 60
[conversation]
exchanges = { dist = "fixed", value = 1 }
handle_time = { dist = "exponential", mean = "5m" }
patience_first = { dist = "fixed", value = 0 }
[[agents]]
name = "team"
count = 5
concurrency = 1
[policy]
kind = "next_available"
"#,
        ),
        4,
        3,
    );
    let abandoned = s.mean("abandon_first_share");
    assert!(abandoned > 0.1, "an Erlang-B center loses a share: {abandoned}");
    assert_eq!(s.mean("wait_first_max_s"), 0.0);
    for r in &s.reps {
        let m = &r.output.metrics;
        assert_eq!(m.get("waited_first_share"), m.get("abandon_first_share"));
    }
}
