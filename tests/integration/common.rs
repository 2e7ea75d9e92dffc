//! Shared helpers: building scenarios from TOML text, running replications into a summary,
//! comparing a simulated metric with theory, and the exact Erlang C and Erlang A formulas.
//!
//! The formulas are written here, in Rust, so the tests need nothing outside the crate.

#![allow(dead_code)] // each test module uses a different subset

use std::collections::HashMap;
use std::path::Path;

use convosim::engine::Audit;
use convosim::metrics::MetricSummary;
use convosim::runner::{run_replications, summarize_metrics, total_audit, Replication};
use convosim::scenario::{parse_scenario, Scenario};

/// A messaging day: a time-of-day arrival profile and conversations with ping-pong and
/// hours-later resumptions, and patience for first contacts. Goes after `rate_per_hour` in
/// `[arrivals]`, and ends the `[conversation]` table.
pub const MESSAGING_DAY: &str = r#"profile = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.5, 1.6, 1.6,
           1.5, 1.4, 1.4, 1.4, 1.3, 1.2, 1.1, 1.1, 1.0, 0.8, 0.5, 0.3]

[conversation]
exchanges   = { dist = "geometric", mean = 3 }
handle_time = { dist = "lognormal", mean = "4m", cv = 0.8 }
gap = { dist = "mixture", parts = [
  { weight = 0.6, dist = "exponential", mean = "1m" },
  { weight = 0.4, dist = "exponential", mean = "3h" } ] }
patience_first = { dist = "exponential", mean = "30m" }"#;

/// Seconds in a day.
pub const DAY: f64 = 86_400.0;

/// A scenario from TOML text (docs/model.md's format); panics with the loader's message if invalid.
pub fn scenario(toml_text: &str) -> Scenario {
    parse_scenario(toml_text, Path::new("tests/integration/<inline>.toml"))
        .unwrap_or_else(|e| panic!("test scenario does not load: {e}\n{toml_text}"))
}

/// Means and 95% CI half-widths of every metric over some replications, plus the replications.
pub struct Summary {
    /// Names the run in printed lines: scenario name and policy label.
    pub label: String,
    /// Every metric by name.
    pub metrics: HashMap<&'static str, MetricSummary>,
    /// The replications themselves.
    pub reps: Vec<Replication>,
}

impl Summary {
    /// The summary of the metric `name`; panics if the catalog has no such metric.
    pub fn get(&self, name: &str) -> MetricSummary {
        *self.metrics.get(name).unwrap_or_else(|| panic!("no metric named {name}"))
    }

    /// The mean of `name` over replications; panics if it is never defined.
    pub fn mean(&self, name: &str) -> f64 {
        self.get(name)
            .mean
            .unwrap_or_else(|| panic!("[{}] {name} is undefined in every replication", self.label))
    }

    /// The 95% CI half-width of `name` (0 when undefined, e.g. all values equal is still defined).
    pub fn ci(&self, name: &str) -> f64 {
        self.get(name).ci95.unwrap_or(0.0)
    }

    /// The per-replication values of `name` (undefined values left out).
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.reps.iter().filter_map(|r| r.output.metrics.get(name)).collect()
    }

    /// The audit counters summed over replications.
    pub fn audit(&self) -> Audit {
        total_audit(&self.reps)
    }
}

/// Runs `reps` replications of `scenario` under `seed` (sweep point 0), checks the invariants
/// every run must keep, and summarises the metrics.
pub fn run_summary(scenario: &Scenario, seed: u64, reps: u32) -> Summary {
    let replications = run_replications(scenario, seed, 0, reps).expect("runs");
    for r in &replications {
        assert_invariants(&r.output.audit, &format!("{} seed {} rep {}", scenario.name, seed, r.index));
    }
    let metrics = summarize_metrics(&replications).into_iter().collect();
    Summary { label: format!("{} / {}", scenario.name, scenario.policy.label()), metrics, reps: replications }
}

/// Conservation (ready = picked + abandoned + waiting at the horizon), no agent over its
/// concurrency, no pickup off shift, no event out of time order.
pub fn assert_invariants(audit: &Audit, context: &str) {
    assert_eq!(
        audit.ready,
        audit.picked + audit.abandoned + audit.waiting_at_horizon,
        "{context}: conservation broken: {audit:?}"
    );
    assert_eq!(audit.over_concurrency, 0, "{context}: an agent went over its concurrency: {audit:?}");
    assert_eq!(audit.off_shift_pickups, 0, "{context}: an agent picked up off shift: {audit:?}");
    assert_eq!(audit.time_reversals, 0, "{context}: events went back in time: {audit:?}");
    assert_eq!(audit.unskilled_pickups, 0, "{context}: an agent served a channel it lacks: {audit:?}");
    assert_eq!(
        audit.ineligible_pickups, 0,
        "{context}: an agent took a contact its step does not reach: {audit:?}"
    );
}

/// Passes iff |sim mean − theory| <= CI half-width + `abs_slack`; prints the comparison.
pub fn assert_matches_theory(name: &str, summary: &Summary, theory: f64, abs_slack: f64) {
    let (mean, ci) = (summary.mean(name), summary.ci(name));
    let n = summary.get(name).n;
    let ok = (mean - theory).abs() <= ci + abs_slack;
    eprintln!(
        "[{}] {name}: sim {mean:.4} ± {ci:.4} vs theory {theory:.4} (slack {abs_slack}, n {n}){}",
        summary.label,
        if ok { "" } else { "  <-- FAIL" }
    );
    assert!(
        ok,
        "[{}] {name}: simulated {mean} ± {ci} (n = {n}) is not within CI + {abs_slack} of theory {theory}",
        summary.label
    );
}

/// Passes iff two simulated means differ by at most the sum of their CIs + `abs_slack`.
pub fn assert_same_within_ci(name: &str, a: &Summary, b: &Summary, abs_slack: f64) {
    let (ma, ca, mb, cb) = (a.mean(name), a.ci(name), b.mean(name), b.ci(name));
    let ok = (ma - mb).abs() <= ca + cb + abs_slack;
    eprintln!(
        "{name}: [{}] {ma:.4} ± {ca:.4} vs [{}] {mb:.4} ± {cb:.4}{}",
        a.label,
        b.label,
        if ok { "" } else { "  <-- FAIL" }
    );
    assert!(ok, "{name}: [{}] {ma} ± {ca} and [{}] {mb} ± {cb} differ beyond their CIs", a.label, b.label);
}

/// Asserts `lower` is below `higher` for metric `name` by more than both CIs together.
pub fn assert_clearly_below(name: &str, lower: &Summary, higher: &Summary) {
    let (ml, cl, mh, ch) = (lower.mean(name), lower.ci(name), higher.mean(name), higher.ci(name));
    eprintln!("{name}: [{}] {ml:.4} ± {cl:.4} < [{}] {mh:.4} ± {ch:.4}", lower.label, higher.label);
    assert!(
        mh - ml > cl + ch,
        "{name}: expected [{}] {ml} ± {cl} clearly below [{}] {mh} ± {ch}",
        lower.label,
        higher.label
    );
}

/// The M/M/c queue: `servers` exponential servers at rate `mu`, Poisson arrivals at `lambda`
/// (per second), FIFO, no abandonment. Closed forms (Erlang C).
#[derive(Debug, Clone, Copy)]
pub struct ErlangC {
    /// Number of servers c.
    pub servers: u32,
    /// Arrival rate, per second.
    pub lambda: f64,
    /// Service rate of one server, per second.
    pub mu: f64,
}

impl ErlangC {
    /// M/M/c with arrivals per hour and mean service time in seconds.
    pub fn new(servers: u32, lambda_per_hour: f64, mean_service_s: f64) -> Self {
        let e = Self { servers, lambda: lambda_per_hour / 3600.0, mu: 1.0 / mean_service_s };
        assert!(e.lambda < f64::from(servers) * e.mu, "unstable M/M/c: {e:?}");
        e
    }

    /// Offered load a = λ/μ, Erlangs.
    pub fn offered_load(&self) -> f64 {
        self.lambda / self.mu
    }

    /// Erlang B blocking probability, by the stable recursion B(k) = a B(k−1) / (k + a B(k−1)).
    pub fn erlang_b(&self) -> f64 {
        let a = self.offered_load();
        (1..=self.servers).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
    }

    /// P(wait > 0): the Erlang C formula.
    pub fn p_wait(&self) -> f64 {
        let b = self.erlang_b();
        let rho = self.occupancy();
        b / (1.0 - rho * (1.0 - b))
    }

    /// Server occupancy ρ = λ / (cμ).
    pub fn occupancy(&self) -> f64 {
        self.lambda / (f64::from(self.servers) * self.mu)
    }

    /// cμ − λ: the rate of the exponential wait of those who wait.
    fn drain(&self) -> f64 {
        f64::from(self.servers) * self.mu - self.lambda
    }

    /// Mean wait, seconds: C / (cμ − λ).
    pub fn mean_wait(&self) -> f64 {
        self.p_wait() / self.drain()
    }

    /// P(wait <= t) = 1 − C exp(−(cμ − λ) t): the service level at threshold `t` seconds.
    pub fn p_wait_at_most(&self, t: f64) -> f64 {
        1.0 - self.p_wait() * (-self.drain() * t).exp()
    }

    /// Mean number waiting, Lq = λ W (Little).
    pub fn mean_queue_length(&self) -> f64 {
        self.lambda * self.mean_wait()
    }

    /// The p-quantile of the wait, seconds: 0 if p ≤ 1 − C, else ln(C / (1 − p)) / (cμ − λ).
    pub fn wait_quantile(&self, p: f64) -> f64 {
        let c = self.p_wait();
        if p <= 1.0 - c {
            0.0
        } else {
            (c / (1.0 - p)).ln() / self.drain()
        }
    }
}

/// Stationary values of the M/M/c+M queue (Erlang A), from its birth–death chain.
#[derive(Debug, Clone, Copy)]
pub struct ErlangA {
    /// P(an arrival finds every server busy).
    pub p_wait: f64,
    /// P(an arrival abandons) = θ Lq / λ.
    pub p_abandon: f64,
    /// Mean time in queue of all arrivals, abandoned ones until they leave: Lq / λ, seconds.
    pub mean_queue_time: f64,
    /// Server occupancy: E[min(k, c)] / c.
    pub occupancy: f64,
}

impl ErlangA {
    /// M/M/c+M with arrivals per hour, mean service and mean (exponential) patience in seconds.
    /// With `mean_patience_s = f64::INFINITY` this is M/M/c, which tests use as a cross-check.
    pub fn new(servers: u32, lambda_per_hour: f64, mean_service_s: f64, mean_patience_s: f64) -> Self {
        let (lambda, mu, theta) = (lambda_per_hour / 3600.0, 1.0 / mean_service_s, 1.0 / mean_patience_s);
        let log_pi = birth_death_log_weights(lambda, mu, servers, theta);
        let top = log_pi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = log_pi.iter().map(|lp| (lp - top).exp()).collect();
        let z: f64 = weights.iter().sum();
        let c = servers as usize;
        let pi = |k: usize| weights[k] / z;
        let p_wait = (c..weights.len()).map(pi).sum();
        let lq: f64 = (c + 1..weights.len()).map(|k| (k - c) as f64 * pi(k)).sum();
        let busy: f64 = (0..weights.len()).map(|k| k.min(c) as f64 * pi(k)).sum();
        Self {
            p_wait,
            p_abandon: theta * lq / lambda,
            mean_queue_time: lq / lambda,
            occupancy: busy / c as f64,
        }
    }
}

/// Unnormalised log π_k of the chain with birth rate λ and death rate min(k,c)μ + max(k−c,0)θ,
/// truncated once the remaining tail mass is below 1e-16 of the largest term.
fn birth_death_log_weights(lambda: f64, mu: f64, c: u32, theta: f64) -> Vec<f64> {
    assert!(theta > 0.0 || lambda < f64::from(c) * mu, "unstable chain");
    let mut log_pi = vec![0.0];
    let (mut lp, mut top) = (0.0_f64, 0.0_f64);
    for k in 1..50_000_000u64 {
        let death = f64::from(c.min(k as u32)) * mu + (k.saturating_sub(u64::from(c))) as f64 * theta;
        lp += lambda.ln() - death.ln();
        log_pi.push(lp);
        top = top.max(lp);
        if k > u64::from(c) && death > lambda {
            // Later ratios are at most r, so the tail beyond k is at most π_k r / (1 − r).
            let r = lambda / death;
            if lp - top + (r / (1.0 - r)).ln() < (1e-16_f64).ln() {
                return log_pi;
            }
        }
    }
    panic!("birth-death chain did not converge (load too close to 1?)");
}
