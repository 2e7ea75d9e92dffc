//! Before a human answers, against theory: a bot of containment c in front of M/M/c hands over
//! a Poisson stream at (1 − c)λ (random delays keep a Poisson stream Poisson), so human waits
//! are Erlang C's at that rate and the time to a human is the bot time plus that wait. Without
//! typing, response = wait + handle time. On an idle center with preview, exponential typing
//! (mean t) and handle time (mean η), the agent watches the whole typing time T and saves
//! min(T, h·H): E[min] = 1 / (1/t + 1/(hη)), the minimum of two independent exponentials
//! (1 / (1/t + 2/η) at h = ½); watching costs a slot for T − min(T, hH) more, so occupancy rises.

use crate::common::{assert_clearly_below, assert_matches_theory, run_summary, scenario, ErlangC};

/// One exchange, exponential handle times (5 minutes), `agents` agents, no patience.
fn mmc(rate_per_hour: f64, agents: u32, conversation_extra: &str) -> String {
    format!(
        r#"
name = "front"
horizon = "31d"
warmup = "1d"
[arrivals]
rate_per_hour = {rate_per_hour}
[conversation]
exchanges = {{ dist = "fixed", value = 1 }}
handle_time = {{ dist = "exponential", mean = "5m" }}
{conversation_extra}
[[agents]]
name = "team"
count = {agents}
[policy]
kind = "next_available"
"#
    )
}

#[test]
fn a_bot_hands_over_a_poisson_stream_that_waits_as_erlang_c_says() {
    let bot = "bot = { containment = 0.35, time = { dist = \"lognormal\", mean = \"90s\", cv = 1.0 } }";
    let summary = run_summary(&scenario(&mmc(100.0, 7, bot)), 31, 10);
    let theory = ErlangC::new(7, 100.0 * 0.65, 300.0);
    assert_matches_theory("bot_contained_share", &summary, 0.35, 0.003);
    assert_matches_theory("bot_time_mean_s", &summary, 90.0, 0.5);
    assert_matches_theory("waited_first_share", &summary, theory.p_wait(), 0.005);
    assert_matches_theory("wait_first_mean_s", &summary, theory.mean_wait(), 1.0);
    assert_matches_theory("time_to_human_mean_s", &summary, 90.0 + theory.mean_wait(), 1.5);
    assert_matches_theory("occupancy_share", &summary, theory.occupancy(), 0.003);
}

#[test]
fn a_zero_time_bot_that_contains_nothing_is_no_bot_bit_for_bit() {
    let reference = include_str!("../../scenarios/reference.toml");
    let with_bot = reference.replace(
        "[conversation]\n",
        "[conversation]\nbot = { containment = 0, time = { dist = \"fixed\", value = 0 } }\n",
    );
    assert_ne!(with_bot, reference, "the reference scenario's [conversation] moved");
    let (plain, bot) = (scenario(reference), scenario(&with_bot));
    for seed in [1, 2, 3] {
        let a = convosim::run(&plain, seed).expect("runs");
        let b = convosim::run(&bot, seed).expect("runs");
        for (info, (x, y)) in
            convosim::metrics::METRICS.iter().zip(a.metrics.values.iter().zip(&b.metrics.values))
        {
            if info.name.starts_with("bot_") {
                continue;
            }
            assert_eq!(x.map(f64::to_bits), y.map(f64::to_bits), "{} differs with seed {seed}", info.name);
        }
        assert_eq!(a.metrics.intervals, b.metrics.intervals);
        assert_eq!(a.audit, b.audit);
        assert_eq!(b.metrics.get("bot_contained_share"), Some(0.0));
        assert_eq!(a.metrics.get("bot_contained_share"), None);
    }
}

#[test]
fn without_typing_the_response_is_the_wait_plus_the_handle_time() {
    let summary = run_summary(&scenario(&mmc(70.0, 7, "")), 32, 10);
    let theory = ErlangC::new(7, 70.0, 300.0);
    assert_matches_theory("response_first_mean_s", &summary, theory.mean_wait() + 300.0, 2.0);
    let (response, wait) = (summary.values("response_first_mean_s"), summary.values("wait_first_mean_s"));
    for (r, w) in response.iter().zip(&wait) {
        // Per replication, up to the handle-time noise of some 80,000 contacts.
        assert!((r - w - 300.0).abs() < 4.0, "response {r} vs wait {w} + 300");
    }
    assert!(summary.mean("response_first_p90_s") > summary.mean("response_first_mean_s"));
    // Typing without preview only moves the send: the same response on an idle center.
    let typed = "typing = { time = { dist = \"exponential\", mean = \"40s\" } }";
    let idle = run_summary(&scenario(&mmc(30.0, 30, typed)), 33, 6);
    assert_matches_theory("response_first_mean_s", &idle, 300.0, 1.0);
    assert_matches_theory("wait_first_mean_s", &idle, 0.0, 0.01);
}

/// An idle center (30 agents for 30 conversations an hour) with typing of mean 40 s, handle
/// times of mean 240 s, and preview with head start `head`.
fn previewed(head: Option<f64>) -> String {
    let typing = match head {
        Some(h) => format!("typing = {{ time = {{ dist = \"exponential\", mean = \"40s\" }}, preview = true, head_start = {h} }}"),
        None => "typing = { time = { dist = \"exponential\", mean = \"40s\" } }".to_string(),
    };
    mmc(30.0, 30, &typing).replace("mean = \"5m\"", "mean = \"4m\"")
}

#[test]
fn watching_the_typing_saves_the_expected_minimum_and_costs_occupancy() {
    let (t, eta) = (40.0, 240.0);
    let without = run_summary(&scenario(&previewed(None)), 34, 8);
    assert_matches_theory("response_first_mean_s", &without, eta, 1.0);
    for head in [0.5, 1.0, 0.25] {
        let summary = run_summary(&scenario(&previewed(Some(head))), 34, 8);
        let saving = 1.0 / (1.0 / t + 1.0 / (head * eta));
        if head == 0.5 {
            assert!((saving - 1.0 / (1.0 / t + 2.0 / eta)).abs() < 1e-12);
        }
        assert_matches_theory("response_first_mean_s", &summary, eta - saving, 1.0);
        assert_matches_theory("wait_first_mean_s", &summary, 0.0, 0.01);
        // Slot time per contact: H + T − min(T, hH); occupancy = λ E[slot time] / agents.
        let per_contact = eta + t - saving;
        assert_matches_theory("occupancy_share", &summary, 30.0 / 3600.0 * per_contact / 30.0, 0.0005);
        assert_clearly_below("occupancy_share", &without, &summary);
    }
}
