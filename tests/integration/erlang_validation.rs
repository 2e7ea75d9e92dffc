//! The simulator against queueing theory (docs/model.md, "Validation against theory"): M/M/c
//! (Erlang C), M/M/c+M (Erlang A), the re-entrant Erlang-R model, concurrency as servers, and
//! sticky with dedicated first contacts as independent M/M/K queues.

use crate::common::{
    assert_matches_theory, assert_same_within_ci, run_summary, scenario, ErlangA, ErlangC, Summary,
};

/// Absolute slack added to the CI for shares and for mean waits (seconds).
const SHARE_SLACK: f64 = 0.005;
const MEAN_SLACK_S: f64 = 1.0;

/// One pool of `count` agents × `concurrency`, 24/7, Poisson arrivals, exponential handle time,
/// 30 days after a 1-day warm-up. `conversation` holds the extra `[conversation]` lines
/// (exchanges, gap, patience); `policy` is the `[policy]` table body.
fn center(
    name: &str,
    count: u32,
    concurrency: u32,
    rate_per_hour: f64,
    handle: &str,
    conversation: &str,
    policy: &str,
) -> String {
    format!(
        r#"
name = "{name}"
horizon = "31d"
warmup = "1d"

[arrivals]
rate_per_hour = {rate_per_hour}

[conversation]
handle_time = {{ dist = "exponential", mean = "{handle}" }}
{conversation}

[[agents]]
name = "team"
count = {count}
concurrency = {concurrency}

[policy]
{policy}
"#
    )
}

const ONE_EXCHANGE: &str = r#"exchanges = { dist = "fixed", value = 1 }"#;
const NEXT_AVAILABLE: &str = r#"kind = "next_available""#;

/// mmc.toml: M/M/12, λ = 120/h, mean handle 5 min (10 Erlangs, ρ = 0.833).
fn mmc_text() -> String {
    center("mmc", 12, 1, 120.0, "5m", ONE_EXCHANGE, NEXT_AVAILABLE)
}

fn mmc_theory() -> ErlangC {
    ErlangC::new(12, 120.0, 300.0)
}

/// P(wait > 0), mean wait and occupancy of first contacts against Erlang C.
fn check_erlang_c_first(s: &Summary, theory: &ErlangC) {
    assert_matches_theory("waited_first_share", s, theory.p_wait(), SHARE_SLACK);
    assert_matches_theory("wait_first_mean_s", s, theory.mean_wait(), MEAN_SLACK_S);
    assert_matches_theory("occupancy_share", s, theory.occupancy(), SHARE_SLACK);
}

#[test]
fn erlang_formulas_match_known_values() {
    // M/M/12 at 10 Erlangs: C = 0.4494, W = 67.41 s (the worked example in docs/model.md).
    let c = mmc_theory();
    assert!((c.p_wait() - 0.44936).abs() < 1e-4, "{}", c.p_wait());
    assert!((c.mean_wait() - 67.41).abs() < 0.01, "{}", c.mean_wait());
    assert!((c.wait_quantile(0.9) - 225.4).abs() < 0.1, "{}", c.wait_quantile(0.9));
    assert_eq!(c.wait_quantile(0.5), 0.0);
    // The birth-death chain without abandonment reproduces the closed form.
    let chain = ErlangA::new(12, 120.0, 300.0, f64::INFINITY);
    assert!((chain.p_wait - c.p_wait()).abs() < 1e-9);
    assert!((chain.mean_queue_time - c.mean_wait()).abs() < 1e-6);
    assert!((chain.occupancy - c.occupancy()).abs() < 1e-9);
    // M/M/12+M, patience 10 min: P(wait>0) 0.3415, P(ab) 0.0392, Lq/λ 23.51 s.
    let a = ErlangA::new(12, 120.0, 300.0, 600.0);
    assert!((a.p_wait - 0.3415).abs() < 1e-4, "{a:?}");
    assert!((a.p_abandon - 0.0392).abs() < 1e-4, "{a:?}");
    assert!((a.mean_queue_time - 23.51).abs() < 0.01, "{a:?}");
}

#[test]
fn mmc_matches_erlang_c() {
    let theory = mmc_theory();
    let s = run_summary(&scenario(&mmc_text()), 101, 30);
    check_erlang_c_first(&s, &theory);
    // Service level at 60 s (the scenario's default threshold) and Little's Lq.
    assert_matches_theory("sl_first_share", &s, theory.p_wait_at_most(60.0), SHARE_SLACK);
    assert_matches_theory("queue_length_mean", &s, theory.mean_queue_length(), 0.02);
    assert_eq!(s.mean("abandon_first_share"), 0.0);
}

#[test]
fn mmc_wait_percentiles_match_erlang_c_quantiles() {
    let theory = mmc_theory();
    let s = run_summary(&scenario(&mmc_text()), 102, 30);
    // C = 0.449 < 0.5: the median wait is 0 in every replication.
    assert_matches_theory("wait_first_p50_s", &s, theory.wait_quantile(0.5), 0.0);
    assert_matches_theory("wait_first_p90_s", &s, theory.wait_quantile(0.9), 3.0);
    assert_matches_theory("wait_first_p99_s", &s, theory.wait_quantile(0.99), 5.0);
}

#[test]
fn loaded_mmc_wait_percentiles_with_positive_median() {
    // M/M/4 at 3.4 Erlangs (ρ = 0.85): C > 0.5, so the median wait is positive.
    let theory = ErlangC::new(4, 40.8, 300.0);
    assert!(theory.p_wait() > 0.55, "{}", theory.p_wait());
    let s = run_summary(&scenario(&center("mm4", 4, 1, 40.8, "5m", ONE_EXCHANGE, NEXT_AVAILABLE)), 103, 30);
    assert_matches_theory("waited_first_share", &s, theory.p_wait(), SHARE_SLACK);
    assert_matches_theory("wait_first_p50_s", &s, theory.wait_quantile(0.5), 3.0);
    assert_matches_theory("wait_first_p90_s", &s, theory.wait_quantile(0.9), 5.0);
    assert_matches_theory("wait_first_p99_s", &s, theory.wait_quantile(0.99), 10.0);
}

#[test]
fn mmc_with_exponential_patience_matches_erlang_a() {
    let text = center(
        "mmc_a",
        12,
        1,
        120.0,
        "5m",
        r#"exchanges = { dist = "fixed", value = 1 }
patience_first = { dist = "exponential", mean = "10m" }"#,
        NEXT_AVAILABLE,
    );
    let theory = ErlangA::new(12, 120.0, 300.0, 600.0);
    let s = run_summary(&scenario(&text), 104, 30);
    assert_matches_theory("abandon_first_share", &s, theory.p_abandon, SHARE_SLACK);
    assert_matches_theory("waited_first_share", &s, theory.p_wait, SHARE_SLACK);
    assert_matches_theory("queue_time_first_all_mean_s", &s, theory.mean_queue_time, MEAN_SLACK_S);
    assert_matches_theory("occupancy_share", &s, theory.occupancy, SHARE_SLACK);
    assert_matches_theory("queue_length_mean", &s, theory.mean_queue_time * 120.0 / 3600.0, 0.02);
}

/// Erlang-R: geometric exchanges (mean 4), a gap of any distribution, next_available, 12 agents
/// × 3: the 36 slots are an M/M/36 fed at λ·E[exchanges] = 480/h, mean handle 4 min.
fn check_erlang_r(name: &str, gap: &str, seed: u64) {
    let conversation = format!("exchanges = {{ dist = \"geometric\", mean = 4 }}\ngap = {gap}");
    let s =
        run_summary(&scenario(&center(name, 12, 3, 120.0, "4m", &conversation, NEXT_AVAILABLE)), seed, 24);
    let theory = ErlangC::new(36, 480.0, 240.0);
    check_erlang_c_first(&s, &theory);
    assert_matches_theory("waited_resumed_share", &s, theory.p_wait(), SHARE_SLACK);
    assert_matches_theory("wait_resumed_mean_s", &s, theory.mean_wait(), MEAN_SLACK_S);
}

#[test]
fn erlang_r_with_exponential_gaps() {
    check_erlang_r("erlang_r_exp", r#"{ dist = "exponential", mean = "30m" }"#, 105);
}

#[test]
fn erlang_r_with_bimodal_mixture_gaps() {
    // reference.toml's gap: 0.7·exp(2m) + 0.3·exp(4h); BCMP insensitivity of the gap station.
    let gap = r#"{ dist = "mixture", parts = [
  { weight = 0.7, dist = "exponential", mean = "2m" },
  { weight = 0.3, dist = "exponential", mean = "4h" } ] }"#;
    check_erlang_r("erlang_r_mixture", gap, 106);
}

#[test]
fn concurrency_slots_act_as_servers() {
    // 4 agents × 3 slots without slow-down is the same M/M/12 as 12 agents × 1.
    let theory = mmc_theory();
    let multi =
        run_summary(&scenario(&center("mmc_4x3", 4, 3, 120.0, "5m", ONE_EXCHANGE, NEXT_AVAILABLE)), 107, 30);
    let single = run_summary(
        &scenario(&center("mmc_12x1", 12, 1, 120.0, "5m", ONE_EXCHANGE, NEXT_AVAILABLE)),
        107,
        30,
    );
    for s in [&multi, &single] {
        check_erlang_c_first(s, &theory);
    }
    for name in ["waited_first_share", "wait_first_mean_s", "occupancy_share"] {
        assert_same_within_ci(name, &multi, &single, 0.0);
    }
}

#[test]
fn sticky_random_agent_is_independent_mmk_queues() {
    // c = 8 agents × K = 3, geometric exchanges mean 4 (p = 3/4), λ = 63/h: each agent is an
    // M/M/3 fed at λ / (c (1 − p)) = 31.5/h with mean handle 4 min (2.1 Erlangs, ρ = 0.7).
    let conversation = r#"exchanges = { dist = "geometric", mean = 4 }
gap = { dist = "exponential", mean = "20m" }"#;
    let policy = r#"kind = "sticky"
first_contact = "random_agent""#;
    let s = run_summary(&scenario(&center("sticky_mmk", 8, 3, 63.0, "4m", conversation, policy)), 108, 24);
    let per_agent = ErlangC::new(3, 63.0 / (8.0 * 0.25), 240.0);
    assert_matches_theory("waited_first_share", &s, per_agent.p_wait(), SHARE_SLACK);
    assert_matches_theory("waited_resumed_share", &s, per_agent.p_wait(), SHARE_SLACK);
    assert_matches_theory("wait_first_mean_s", &s, per_agent.mean_wait(), MEAN_SLACK_S);
    assert_matches_theory("wait_resumed_mean_s", &s, per_agent.mean_wait(), MEAN_SLACK_S);
    assert_matches_theory("occupancy_share", &s, per_agent.occupancy(), SHARE_SLACK);
    assert_eq!(s.mean("affinity_retention_share"), 1.0);
}
