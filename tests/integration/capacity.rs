//! Capacity held between contacts (`[capacity]`): `hold = "none"` is the model before it, bit
//! for bit; capacity counted in units equals capacity counted in contacts when nothing is held;
//! a whole slot held until resolution gives every resumed contact to its owner at once; the
//! holding pool against Erlang C with the holding time as service time; closes for inactivity
//! against their probability; reactivations past capacity are the only pickups past it, and
//! are counted.

use convosim::engine::RunOutput;
use convosim::runner::{total_audit, RunTotals};
use convosim::Scenario;

use crate::cli::{assert_one_line_error, convosim};
use crate::common::{assert_invariants, assert_matches_theory, run_summary, scenario, ErlangC};

fn reference_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/reference.toml"))
        .expect("reference")
}

/// The reference center with `top` (top-level keys) put first and the horizon cut to 4 days.
fn reference_with(top: &str) -> Scenario {
    let text = reference_text().replace("horizon = \"8d\"", "horizon = \"4d\"");
    assert!(text.contains("horizon = \"4d\""), "reference.toml's horizon moved");
    scenario(&format!("{top}\n{text}"))
}

fn run(s: &Scenario, seed: u64) -> RunOutput {
    let out = convosim::run(s, seed).expect("runs");
    assert_invariants(&out.audit, &s.name);
    out
}

/// Every recorded number of a run, in a form where two runs are equal iff their bits are.
fn everything(out: &RunOutput, skip: &[&str]) -> String {
    let values: Vec<String> = convosim::metrics::METRICS
        .iter()
        .zip(&out.metrics.values)
        .filter(|(m, _)| !skip.contains(&m.name))
        .map(|(m, v)| format!("{}={v:?}", m.name))
        .collect();
    let m = &out.metrics;
    format!(
        "{values:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        m.intervals, m.pools, m.channels, m.concurrency_shares, out.audit, out.stats
    )
}

#[test]
fn hold_none_is_the_model_before_capacity_bit_for_bit() {
    let before = run(&reference_with(""), 42);
    let explicit = run(&reference_with("capacity = { hold = \"none\", weight = 1 }"), 42);
    assert_eq!(everything(&before, &[]), everything(&explicit, &[]));
    let held = before.metrics.get("occupancy_held_share");
    assert_eq!(held, Some(0.0));
    assert_eq!(before.metrics.get("occupancy_handling_share"), before.metrics.get("occupancy_share"));
    assert_eq!(before.metrics.get("reactivations_over_capacity"), Some(0.0));
    assert_eq!(before.metrics.get("closed_by_inactivity_share"), Some(0.0));
}

/// A close time past the horizon makes the engine count capacity in units, and nothing is held
/// or closed: every decision, for every `select` rule, is the one made counting contacts.
#[test]
fn capacity_in_units_decides_as_counting_contacts_when_nothing_is_held() {
    for select in ["least_loaded", "longest_idle", "round_robin", "random"] {
        let set = format!("timeout = \"10m\"\nselect = \"{select}\"");
        let text = reference_text()
            .replace("horizon = \"8d\"", "horizon = \"3d\"")
            .replace("timeout = \"10m\"", &set);
        assert!(text.contains(&set), "reference.toml's policy table moved");
        let plain = run(&scenario(&text), 7);
        let units = run(&scenario(&format!("capacity = {{ close_after = \"1000d\" }}\n{text}")), 7);
        // Occupancy in handling is the same share integrated in units: equal up to rounding.
        let skip = ["occupancy_handling_share"];
        assert_eq!(everything(&plain, &skip), everything(&units, &skip), "select = {select}");
        let (a, b) = (
            plain.metrics.get("occupancy_share").unwrap(),
            units.metrics.get("occupancy_handling_share").unwrap(),
        );
        assert!((a - b).abs() < 1e-12, "{select}: {a} vs {b}");
    }
}

/// Concurrency 4 and concurrency 1 with contacts of weight 0.25 are the same capacity: the
/// same agents are free, in the same `least_loaded` order, so every wait is the same.
#[test]
fn a_weight_of_one_quarter_is_a_concurrency_of_four() {
    let four = reference_text().replace("concurrency = 3", "concurrency = 4");
    let quarter = reference_text().replace("concurrency = 3", "concurrency = 1");
    assert!(four.contains("concurrency = 4") && quarter.contains("concurrency = 1"));
    let four = run(&scenario(&four), 3);
    let quarter = run(&scenario(&format!("capacity = {{ weight = 0.25 }}\n{quarter}")), 3);
    for name in [
        "wait_first_mean_s",
        "wait_first_p90_s",
        "wait_resumed_mean_s",
        "wait_resumed_max_s",
        "abandon_first_share",
        "affinity_retention_share",
        "contacts_resumed",
        "queue_length_mean",
    ] {
        assert_eq!(four.metrics.get(name), quarter.metrics.get(name), "{name}");
    }
    let (a, b) = (
        four.metrics.get("occupancy_share").unwrap(),
        quarter.metrics.get("occupancy_handling_share").unwrap(),
    );
    assert!((a - b).abs() < 1e-12, "occupancy in handling {a} vs {b}");
}

/// A light messaging center (24/7) whose conversations hold a whole slot until resolved.
fn held_center(policy: &str, capacity: &str, exchanges: &str) -> Scenario {
    scenario(&format!(
        r#"
name = "held"
horizon = "6d"
warmup = "1d"
capacity = {capacity}

[arrivals]
rate_per_hour = 10

[conversation]
exchanges = {exchanges}
handle_time = {{ dist = "exponential", mean = "4m" }}
gap = {{ dist = "mixture", parts = [
  {{ weight = 0.7, dist = "exponential", mean = "2m" }},
  {{ weight = 0.3, dist = "exponential", mean = "4h" }} ] }}
patience_first = {{ dist = "exponential", mean = "10m" }}
patience_resumed = {{ dist = "exponential", mean = "2h" }}

[[agents]]
name = "team"
count = 16
concurrency = 3

[policy]
{policy}
"#
    ))
}

#[test]
fn a_slot_held_until_resolved_gives_every_resumed_contact_to_its_owner_at_once() {
    let hold = "{ hold = \"until_closed\", reactivation = \"holder\" }";
    let geometric = "{ dist = \"geometric\", mean = 4 }";
    for policy in ["kind = \"next_available\"", "kind = \"hybrid\"\ntimeout = \"1m\"", "kind = \"sticky\""] {
        let s = held_center(policy, hold, geometric);
        let summary = run_summary(&s, 11, 3);
        for r in &summary.reps {
            let m = &r.output.metrics;
            assert!(m.get("contacts_resumed").unwrap() > 100.0, "{policy}: resumed contacts");
            assert_eq!(m.get("wait_resumed_max_s"), Some(0.0), "{policy}: a resumed contact waited");
            assert_eq!(m.get("waited_resumed_share"), Some(0.0), "{policy}");
            assert_eq!(m.get("affinity_retention_share"), Some(1.0), "{policy}");
            assert_eq!(
                m.get("reactivations_over_capacity"),
                Some(0.0),
                "{policy}: the held slot was its own"
            );
            assert_eq!(r.output.audit.reactivations_over_capacity, 0, "{policy}");
            assert!(
                m.get("occupancy_held_share").unwrap() > 0.2,
                "{policy}: slots are held between contacts"
            );
        }
    }
    // An inactive weight of 1 is the same hold (the go-inactive timer changes nothing, so none
    // is set): the same run, bit for bit.
    let closed = run(&held_center("kind = \"sticky\"", hold, geometric), 5);
    let inactive_at_one = "{ hold = \"until_inactive\", inactive_after = \"5m\", inactive_weight = 1 }";
    let inactive = run(&held_center("kind = \"sticky\"", inactive_at_one, geometric), 5);
    assert_eq!(everything(&closed, &[]), everything(&inactive, &[]));
}

/// docs/model.md: with `reactivation = "policy"` the returning contact is routed before its
/// released holder takes other waiting work. Six agents of concurrency 1, each conversation
/// holding its slot from its first pickup to its resolution (a = 4.5): first contacts queue, and
/// when a customer writes again the only free slot is the one its conversation held, so a
/// holder that served its queue first would leave the contact waiting.
#[test]
fn with_reactivation_by_policy_the_returning_contact_is_routed_before_the_queue() {
    for policy in ["kind = \"sticky\"", "kind = \"hybrid\"\ntimeout = \"1m\""] {
        let s = scenario(&format!(
            r#"
name = "released"
horizon = "4d"
warmup = "1d"
capacity = {{ hold = "until_closed", reactivation = "policy" }}
[arrivals]
rate_per_hour = 15
[conversation]
exchanges = {{ dist = "fixed", value = 2 }}
handle_time = {{ dist = "exponential", mean = "4m" }}
gap = {{ dist = "exponential", mean = "10m" }}
patience_first = {{ dist = "exponential", mean = "10m" }}
[[agents]]
name = "team"
count = 6
[policy]
{policy}
"#
        ));
        let m = run(&s, 8).metrics;
        assert!(m.get("waited_first_share").unwrap() > 0.1, "{policy}: first contacts queue");
        assert!(m.get("contacts_resumed").unwrap() > 500.0, "{policy}");
        assert_eq!(m.get("wait_resumed_max_s"), Some(0.0), "{policy}: a returning contact waited");
        assert_eq!(m.get("affinity_retention_share"), Some(1.0), "{policy}");
        assert_eq!(m.get("reactivations_over_capacity"), Some(0.0), "{policy}");
    }
}

#[test]
fn with_one_exchange_nothing_is_held_and_nothing_changes() {
    let one = "{ dist = \"fixed\", value = 1 }";
    let plain = run(&held_center("kind = \"sticky\"", "{ hold = \"none\" }", one), 9);
    for hold in ["{ hold = \"until_closed\" }", "\"zendesk\"", "\"liveperson\"", "\"genesys\""] {
        let held = run(&held_center("kind = \"sticky\"", hold, one), 9);
        assert_eq!(
            everything(&plain, &["occupancy_handling_share"]),
            everything(&held, &["occupancy_handling_share"]),
            "{hold}"
        );
        assert_eq!(held.metrics.get("occupancy_held_share"), Some(0.0), "{hold}");
    }
}

/// Two exchanges, handle time 0, exponential gaps: a first contact takes a slot, the slot is
/// held through the gap and the second contact is handled at once by its holder in no time.
/// So each slot is held exactly one gap per conversation, and the pool is M/M/c with service
/// time the gap: first contacts wait as in Erlang C, and the slots are held a share a/c of
/// the time, none of it in handling.
fn erlang_held(close_after: &str) -> Scenario {
    scenario(&format!(
        r#"
name = "erlang-held"
horizon = "31d"
warmup = "1d"
capacity = {{ hold = "until_closed"{close_after} }}

[arrivals]
rate_per_hour = 10

[conversation]
exchanges = {{ dist = "fixed", value = 2 }}
handle_time = {{ dist = "fixed", value = 0 }}
gap = {{ dist = "exponential", mean = "20m" }}

[[agents]]
name = "team"
count = 5

[policy]
kind = "next_available"
"#
    ))
}

#[test]
fn slots_held_through_the_gap_wait_as_erlang_c_with_the_gap_as_service_time() {
    let summary = run_summary(&erlang_held(""), 2024, 20);
    let theory = ErlangC::new(5, 10.0, 1200.0);
    assert_matches_theory("waited_first_share", &summary, theory.p_wait(), 0.005);
    assert_matches_theory("wait_first_mean_s", &summary, theory.mean_wait(), 1.0);
    assert_matches_theory("occupancy_held_share", &summary, theory.occupancy(), 0.005);
    assert_eq!(summary.mean("occupancy_handling_share"), 0.0);
    assert_eq!(summary.mean("wait_resumed_max_s"), 0.0);
    assert_eq!(summary.mean("affinity_retention_share"), 1.0);
}

/// With `close_after = T` a conversation whose gap exceeds T closes (probability
/// q = e^(−T/g)); its second message opens a new conversation. Per conversation that arrives,
/// 1 + q first contacts and 1 − q resumed ones, and of the conversations that end, q/(1 + q)
/// end by a close.
#[test]
fn conversations_close_for_inactivity_with_the_probability_of_a_longer_gap() {
    let summary = run_summary(&erlang_held(", close_after = \"30m\""), 77, 10);
    let q = (-30.0f64 / 20.0).exp();
    assert_matches_theory("closed_by_inactivity_share", &summary, q / (1.0 + q), 0.005);
    let ratio: Vec<f64> = summary
        .reps
        .iter()
        .map(|r| {
            r.output.metrics.get("contacts_resumed").unwrap()
                / r.output.metrics.get("contacts_first").unwrap()
        })
        .collect();
    let mean = ratio.iter().sum::<f64>() / ratio.len() as f64;
    let expected = (1.0 - q) / (1.0 + q);
    eprintln!("resumed / first contacts: sim {mean:.4} vs theory {expected:.4}");
    assert!((mean - expected).abs() < 0.01, "resumed / first {mean} vs {expected}");
    assert_eq!(summary.mean("affinity_retention_share"), 1.0, "a resumed contact goes to its holder");
}

/// Zendesk's inactive conversations hold nothing, so their reactivations go past capacity:
/// those are the only pickups past it, and each is counted.
#[test]
fn over_capacity_only_through_counted_reactivations() {
    for preset in ["zendesk", "liveperson"] {
        let s = reference_with(&format!("capacity = \"{preset}\""));
        let out = run(&s, 42);
        assert_eq!(out.audit.over_concurrency, 0, "{preset}");
        assert!(out.audit.reactivations_over_capacity > 0, "{preset}: no reactivation went past capacity");
        let counted = out.metrics.get("reactivations_over_capacity").unwrap();
        assert!(counted > 0.0 && counted <= out.audit.reactivations_over_capacity as f64, "{preset}");
        assert!(out.metrics.concurrency_shares.len() > 4, "{preset}: loads past concurrency 3 are recorded");
        // With reactivation by the policy nothing goes past capacity.
        let policy = reference_with(
            "capacity = { hold = \"until_inactive\", inactive_after = \"10m\", reactivation = \"policy\" }",
        );
        let out = run(&policy, 42);
        assert_eq!(out.audit.reactivations_over_capacity, 0);
        assert_eq!(out.metrics.get("reactivations_over_capacity"), Some(0.0));
    }
}

/// The totals over replications, and their JSON, hold every audit counter summed, the
/// reactivations past capacity among them (they were once left at 0).
#[test]
fn run_totals_sum_every_audit_counter_over_replications() {
    let s = reference_with("capacity = \"zendesk\"");
    let reps = convosim::runner::run_replications(&s, 42, 0, 3).expect("runs");
    let report = convosim::report::RunReport::from_totals(&s, 42, RunTotals::of(&reps), 1.0);
    let totals = report.to_json()["audit"].clone();
    let per_rep: Vec<serde_json::Value> =
        reps.iter().map(|r| serde_json::to_value(r.output.audit).expect("audit as JSON")).collect();
    let keys = per_rep[0].as_object().expect("an object").keys();
    assert_eq!(totals.as_object().expect("an object").len(), keys.len(), "{totals}");
    for key in keys {
        let sum: u64 = per_rep.iter().map(|a| a[key].as_u64().expect("a count")).sum();
        assert_eq!(totals[key].as_u64(), Some(sum), "{key}");
    }
    assert!(totals["reactivations_over_capacity"].as_u64() > Some(0), "{totals}");
    assert_eq!(
        total_audit(&reps).reactivations_over_capacity,
        totals["reactivations_over_capacity"].as_u64().unwrap()
    );
}

/// Chat contacts use a whole slot, messaging contacts half of one: an agent of concurrency 2
/// holds two chats, four messaging contacts, or one chat and two messaging contacts, never more.
#[test]
fn channel_weights_share_one_capacity_and_never_exceed_it() {
    let s = scenario(
        r#"
name = "weights"
horizon = "3d"
warmup = "4h"

[[channels]]
name = "chat"
capacity = { weight = 1 }
arrivals = { rate_per_hour = 30 }
conversation = { exchanges = { dist = "geometric", mean = 3 }, handle_time = { dist = "exponential", mean = "4m" }, gap = { dist = "exponential", mean = "1m" }, patience_first = { dist = "exponential", mean = "5m" } }

[[channels]]
name = "messaging"
capacity = { weight = 0.5, hold = "until_inactive", inactive_after = "5m", inactive_weight = 0.2, close_after = "1d", reactivation = "policy" }
arrivals = { rate_per_hour = 40 }
conversation = { exchanges = { dist = "geometric", mean = 3 }, handle_time = { dist = "exponential", mean = "6m" }, gap = { dist = "exponential", mean = "2h" } }

[[agents]]
name = "team"
count = 8
concurrency = 2
skills = { chat = 1, messaging = 2 }

[policy]
kind = "sticky"
"#,
    );
    let out = run(&s, 1);
    assert!(out.audit.picked > 1000);
    assert_eq!(out.audit.reactivations_over_capacity, 0, "reactivation by the policy never goes past");
    assert!(out.metrics.get("occupancy_held_share").unwrap() > 0.0);
    let handling = out.metrics.get("occupancy_handling_share").unwrap();
    let held = out.metrics.get("occupancy_held_share").unwrap();
    assert!(handling + held <= 1.0 + 1e-9, "{handling} + {held} past capacity without reactivations");
}

#[test]
fn a_misspelt_capacity_preset_is_one_keyed_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, format!("capacity = \"zendsk\"\n{}", reference_text())).unwrap();
    assert_one_line_error(
        convosim().args(["run", file.to_str().unwrap()]),
        &["bad.toml", "capacity: unknown capacity preset \"zendsk\"", "zendesk"],
    );
    let weight = dir.path().join("weight.toml");
    std::fs::write(&weight, format!("capacity = {{ weight = 0.1234 }}\n{}", reference_text())).unwrap();
    assert_one_line_error(
        convosim().args(["run", weight.to_str().unwrap()]),
        &["weight.toml", "capacity.weight: expected a number in (0, 1] with at most 3 decimals"],
    );
}

#[test]
fn capacities_lists_every_preset() {
    let out = convosim().arg("capacities").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["zendesk", "liveperson", "genesys", "salesforce"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(text.contains("inactive_weight=0.1"), "{text}");
}

#[test]
fn routing_steps_respect_channel_weights_and_team_indexes_count_units() {
    // Two teams serving both channels, a half-slot messaging weight held between messages, and
    // steps that reach the owner's team: every step's pick (the owner, a teammate from the
    // team index, a team queue's head) must fit the contact's own weight.
    let s = scenario(
        r#"
name = "steps-weights"
horizon = "3d"
warmup = "4h"

[[channels]]
name = "chat"
capacity = { weight = 1 }
arrivals = { rate_per_hour = 40 }
conversation = { exchanges = { dist = "geometric", mean = 3 }, handle_time = { dist = "exponential", mean = "4m" }, gap = { dist = "exponential", mean = "1m" }, patience_first = { dist = "exponential", mean = "5m" } }

[[channels]]
name = "messaging"
capacity = { weight = 0.5, hold = "until_inactive", inactive_after = "5m", inactive_weight = 0.5, close_after = "1d", reactivation = "policy" }
arrivals = { rate_per_hour = 50 }
conversation = { exchanges = { dist = "geometric", mean = 3 }, handle_time = { dist = "exponential", mean = "6m" }, gap = { dist = "exponential", mean = "20m" }, patience_first = { dist = "exponential", mean = "30m" } }

[[agents]]
name = "a"
count = 5
concurrency = 2
skills = { chat = 1, messaging = 2 }

[[agents]]
name = "b"
count = 5
concurrency = 3
skills = { messaging = 1, chat = 2 }

[policy]
kind = "steps"
steps = [ { to = "owner", for = "1m" }, { to = "team", for = "3m" }, { to = "anyone" } ]
"#,
    );
    for seed in 1..=3 {
        let out = run(&s, seed);
        assert!(out.audit.picked > 1000);
        assert_invariants(&out.audit, &format!("seed {seed}"));
        assert_eq!(out.audit.reactivations_over_capacity, 0, "reactivation by the policy never goes past");
        let (handling, held) = (
            out.metrics.get("occupancy_handling_share").unwrap(),
            out.metrics.get("occupancy_held_share").unwrap(),
        );
        assert!(held > 0.0 && handling + held <= 1.0 + 1e-9, "{handling} + {held}");
    }
}
