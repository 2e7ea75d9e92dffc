//! Before a human answers, against theory: a bot of containment c in front of M/M/c hands over
//! a Poisson stream at (1 − c)λ (random delays keep a Poisson stream Poisson), so human waits
//! are Erlang C's at that rate and the time to a human is the bot time plus that wait. Without
//! typing, response = wait + handle time. On an idle center with preview, exponential typing
//! (mean t) and handle time (mean η), the agent watches the whole typing time T and saves
//! min(T, h·H): E[min] = 1 / (1/t + 1/(hη)), the minimum of two independent exponentials
//! (1 / (1/t + 2/η) at h = ½); watching costs a slot for T − min(T, hH) more, so occupancy rises.
//! Then the counting rules docs/model.md states: time to a human runs from the arrival (the
//! start of typing), queues and the affinity window go by the start of typing with preview, and
//! the bot's metrics count conversations by arrival.

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

/// One exchange on an idle center (30 agents for 30 conversations an hour, handle times of mean
/// 4 minutes): no contact ever waits for an agent. Typing takes exactly 40 s.
fn idle_typed(preview: bool, bot: &str) -> convosim::Scenario {
    let typing =
        format!("typing = {{ time = {{ dist = \"fixed\", value = \"40s\" }}, preview = {preview} }}\n{bot}");
    scenario(&mmc(30.0, 30, &typing).replace("horizon = \"31d\"", "horizon = \"4d\""))
}

/// docs/model.md: time to a human runs from the conversation's arrival, which is when the
/// customer starts typing the first message (or meets the bot), not from the send.
#[test]
fn time_to_human_counts_from_when_typing_starts() {
    let value =
        |s: &convosim::Scenario, name: &str| convosim::run(s, 7).expect("runs").metrics.get(name).unwrap();
    // Without preview the send is 40 s after the arrival: no wait, yet 40 s to a human.
    let delayed = idle_typed(false, "");
    assert_eq!(value(&delayed, "wait_first_max_s"), 0.0);
    assert!((value(&delayed, "time_to_human_mean_s") - 40.0).abs() < 1e-6);
    // With preview a free agent picks the contact up when typing starts: 0 s to a human.
    let previewed = idle_typed(true, "");
    assert_eq!(value(&previewed, "wait_first_max_s"), 0.0);
    assert_eq!(value(&previewed, "time_to_human_mean_s"), 0.0);
    // A bot's handoff is not typed (the customer wrote to the bot): the bot time, either way.
    let bot = "bot = { containment = 0, time = { dist = \"fixed\", value = \"30s\" } }";
    for preview in [false, true] {
        let with_bot = idle_typed(preview, bot);
        assert!((value(&with_bot, "time_to_human_mean_s") - 30.0).abs() < 1e-6, "preview {preview}");
    }
}

/// docs/model.md: with preview a contact waits in its queue from when typing starts, so by
/// Little's law the mean queue length is the rate of first contacts times the mean time to a
/// human (typing start to pickup), not times the mean wait (send to pickup); without preview it
/// is the rate times the wait. A loaded center (a = 6.25 on 7 agents), typing of exactly 60 s.
#[test]
fn with_preview_queues_count_a_contact_from_when_typing_starts() {
    for preview in [false, true] {
        let typing =
            format!("typing = {{ time = {{ dist = \"fixed\", value = \"60s\" }}, preview = {preview} }}");
        let s = scenario(&mmc(75.0, 7, &typing).replace("horizon = \"31d\"", "horizon = \"8d\""));
        let m = convosim::run(&s, 3).expect("runs").metrics;
        let get = |name: &str| m.get(name).unwrap();
        let per_second = get("contacts_first") / (7.0 * 86_400.0);
        let queue = get("queue_length_mean");
        assert!(queue > 1.0, "the center is loaded: mean queue {queue}");
        let (by_typing_start, by_send) =
            (per_second * get("time_to_human_mean_s"), per_second * get("wait_first_mean_s"));
        let (little, other) = if preview { (by_typing_start, by_send) } else { (by_send, by_typing_start) };
        eprintln!(
            "preview {preview}: queue {queue:.4}, λ·time to human {by_typing_start:.4}, λ·wait {by_send:.4}"
        );
        assert!((queue - little).abs() < 0.01 * queue, "preview {preview}: queue {queue} vs Little {little}");
        assert!(
            (queue - other).abs() > 0.05 * queue,
            "preview {preview}: queue {queue} also matches {other}"
        );
    }
}

/// Two agents, conversations of two exchanges far apart, 10 s handle times, a 50 s gap and
/// typing of exactly 20 s; sticky with a 60 s affinity window.
fn window_center(preview: bool, window: &str) -> convosim::Scenario {
    scenario(&format!(
        r#"
name = "window"
horizon = "4d"
[arrivals]
rate_per_hour = 0.5
[conversation]
exchanges = {{ dist = "fixed", value = 2 }}
handle_time = {{ dist = "fixed", value = "10s" }}
gap = {{ dist = "fixed", value = "50s" }}
typing = {{ time = {{ dist = "fixed", value = "20s" }}, preview = {preview} }}
[[agents]]
name = "team"
count = 2
[policy]
kind = "sticky"
affinity_window = "{window}"
"#
    ))
}

/// docs/model.md: the affinity window ends at the time the contact is routed: the send without
/// preview (70 s after the reply here: outside a 60 s window, so the pool's longest-free agent,
/// not the owner, takes it), the start of typing with preview (50 s: inside).
#[test]
fn with_preview_the_affinity_window_ends_when_typing_starts() {
    let retention = |s: convosim::Scenario| {
        let m = convosim::run(&s, 5).expect("runs").metrics;
        assert!(m.get("contacts_resumed").unwrap() > 20.0);
        m.get("affinity_retention_share").unwrap()
    };
    assert_eq!(retention(window_center(true, "60s")), 1.0);
    let outside = retention(window_center(false, "60s"));
    assert!(outside < 0.2, "without preview the contact is 70 s after the reply: retention {outside}");
    assert_eq!(retention(window_center(false, "75s")), 1.0);
}

/// docs/model.md: the bot's share and time count conversations by arrival in the window; a
/// bot time that runs past the horizon counts in full. Half the bot times are 10 days on a
/// 3-day run: counted by the end of the bot, none of them would be.
#[test]
fn bot_metrics_count_conversations_by_arrival() {
    let bot = "bot = { containment = 0.5, time = { dist = \"mixture\", parts = [ \
               { weight = 0.5, dist = \"fixed\", value = \"60s\" }, \
               { weight = 0.5, dist = \"fixed\", value = \"10d\" } ] } }";
    let s = scenario(&mmc(30.0, 30, bot).replace("horizon = \"31d\"", "horizon = \"3d\""));
    let m = convosim::run(&s, 2).expect("runs").metrics;
    let mean = m.get("bot_time_mean_s").unwrap();
    assert!((mean - 432_030.0).abs() < 0.1 * 432_030.0, "bot time {mean}");
    let contained = m.get("bot_contained_share").unwrap();
    assert!((contained - 0.5).abs() < 0.1, "contained {contained}");
}
