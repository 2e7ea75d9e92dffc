//! `convosim staff --per-interval`: a staffing vector for one pool so that every interval of
//! the report fold meets a delay-probability target, after the Iterative Staffing Algorithm
//! (Feldman, Mandelbaum, Massey & Whitt 2008).
//!
//! The full ISA reads P(L(t) ≥ n) off the number in system sampled inside the engine; this
//! version uses the interval metric itself (the share of contacts ready in the interval that
//! waited), which is what the planner's target is stated on. Each interval keeps the largest
//! count seen to miss and the smallest seen to meet; every iteration simulates the whole
//! vector (common random numbers), moves each interval by doubling until it meets and then by
//! bisection between its bounds, and stops when no interval changes. Intervals interact (a
//! backlog carries over), so a bound contradicted by a later simulation is dropped, not kept.

use crate::gate::Assertion;
use crate::metrics::MetricSummary;

/// Simulations of the whole vector before the search stops without a fixed point.
pub const MAX_ITERATIONS: usize = 20;

/// What is known about one interval's count.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    /// The largest count seen to miss (0: none; zero agents serve no one).
    lo: u32,
    /// The smallest count seen to meet.
    hi: Option<u32>,
    /// Whether any count has met: after that, a miss raises by one instead of doubling.
    met_once: bool,
}

/// One simulated vector: the counts, each interval's target metric and whether it meets.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    /// Agents on shift per interval.
    pub staffing: Vec<u32>,
    /// The target metric per interval.
    pub summaries: Vec<MetricSummary>,
    /// Whether each interval meets the target.
    pub meets: Vec<bool>,
}

impl Iteration {
    /// Intervals that miss.
    pub fn misses(&self) -> usize {
        self.meets.iter().filter(|m| !**m).count()
    }
}

/// The outcome: the vector chosen and every vector simulated, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PerInterval {
    /// The staffing vector chosen.
    pub staffing: Vec<u32>,
    /// Every simulation of the search.
    pub iterations: Vec<Iteration>,
    /// Whether the search reached a vector no interval wanted to leave (else it stopped after
    /// [`MAX_ITERATIONS`]); either way `staffing` is the cheapest simulated vector that met
    /// everywhere, if any did.
    pub converged: bool,
}

/// Whether an interval's summary meets `target`. An interval where the metric is defined in
/// no replication (no contact ready there) has nothing to serve, so it meets.
pub fn interval_meets(target: &Assertion, summary: &MetricSummary) -> bool {
    summary.mean.is_none() || target.check(summary).holds()
}

/// Searches a staffing vector from `start` (one count per interval) whose every interval meets
/// `target`; no count goes above `max_agents`. `evaluate` simulates a vector and returns the
/// target metric per interval; `on_iteration` sees each simulation, for progress.
pub fn search<E>(
    target: &Assertion,
    start: Vec<u32>,
    max_agents: u32,
    mut evaluate: impl FnMut(&[u32]) -> Result<Vec<MetricSummary>, E>,
    mut on_iteration: impl FnMut(&Iteration),
) -> Result<PerInterval, E> {
    let max_agents = max_agents.max(1);
    let mut current: Vec<u32> = start.into_iter().map(|n| n.clamp(1, max_agents)).collect();
    let mut bounds = vec![Bounds { lo: 0, hi: None, met_once: false }; current.len()];
    // The last vector no interval wanted to leave.
    let mut settled: Option<Vec<u32>> = None;
    // Slack rounds in a row that lowered nothing for good.
    let mut idle_rounds = 0;
    let mut round = 0;
    let mut iterations = Vec::new();
    while iterations.len() < MAX_ITERATIONS {
        let summaries = evaluate(&current)?;
        let meets: Vec<bool> = summaries.iter().map(|s| interval_meets(target, s)).collect();
        let next: Vec<u32> = bounds
            .iter_mut()
            .zip(&current)
            .zip(&meets)
            .map(|((b, &count), &met)| {
                learn(b, count, met);
                next_count(b, max_agents)
            })
            .collect();
        let iteration = Iteration { staffing: current.clone(), summaries, meets };
        on_iteration(&iteration);
        iterations.push(iteration);
        if next != current {
            current = next;
            continue;
        }
        // A fixed point. Misses recorded while a neighbour was short may be stale, so intervals
        // try one agent less (the ISA's slack step): even intervals, then odd ones, so a
        // neighbour's cut does not hide an interval's slack. Done when both change nothing.
        idle_rounds = if settled.as_ref() == Some(&current) { idle_rounds + 1 } else { 0 };
        settled = Some(current.clone());
        let parity = round % 2;
        round += 1;
        let lowered: Vec<u32> = bounds
            .iter_mut()
            .zip(&current)
            .enumerate()
            .map(|(k, (b, &n))| if k % 2 == parity { slack_step(b, n) } else { n })
            .collect();
        if idle_rounds >= 2 || lowered == current && idle_rounds >= 1 {
            let staffing = cheapest_meeting(&iterations).unwrap_or(current);
            return Ok(PerInterval { staffing, iterations, converged: true });
        }
        current = lowered;
    }
    let staffing = cheapest_meeting(&iterations).unwrap_or(current);
    Ok(PerInterval { staffing, iterations, converged: false })
}

/// The simulated vector with the fewest agent-intervals among those where every interval
/// met (the earliest on a tie): slack steps may wander after it.
fn cheapest_meeting(iterations: &[Iteration]) -> Option<Vec<u32>> {
    iterations
        .iter()
        .filter(|i| i.misses() == 0)
        .min_by_key(|i| i.staffing.iter().map(|n| u64::from(*n)).sum::<u64>())
        .map(|i| i.staffing.clone())
}

/// The slack step at a fixed point: one agent less where the interval meets and has more
/// than one, forgetting the miss recorded there.
fn slack_step(b: &mut Bounds, count: u32) -> u32 {
    if b.hi == Some(count) && count > 1 {
        b.lo = b.lo.min(count - 2);
        count - 1
    } else {
        count
    }
}

/// Records that `count` met or missed; drops the bound the result contradicts.
fn learn(b: &mut Bounds, count: u32, met: bool) {
    if met {
        b.met_once = true;
        b.hi = Some(b.hi.map_or(count, |h| h.min(count)));
        if b.lo >= count {
            b.lo = count - 1;
        }
    } else {
        b.lo = b.lo.max(count);
        if b.hi.is_some_and(|h| h <= count) {
            b.hi = None;
        }
    }
}

/// The count to simulate next: double past a miss, bisect between bounds, else stay on the
/// smallest count known to meet (or on the limit, which cannot be raised).
fn next_count(b: &Bounds, max_agents: u32) -> u32 {
    match b.hi {
        None if b.met_once => b.lo.saturating_add(1).min(max_agents),
        None => b.lo.saturating_mul(2).clamp(b.lo.saturating_add(1).min(max_agents), max_agents).max(1),
        Some(h) if h - b.lo > 1 => b.lo + (h - b.lo) / 2,
        Some(h) => h,
    }
}

/// Agent-hours per week of `staffing` with intervals of `interval_s` seconds; a vector covering
/// one day is repeated seven times.
pub fn agent_hours_per_week(staffing: &[u32], interval_s: f64) -> f64 {
    let hours: f64 = staffing.iter().map(|n| f64::from(*n) * interval_s / 3600.0).sum();
    let covered_days = staffing.len() as f64 * interval_s / 86_400.0;
    if covered_days > 0.0 {
        hours * 7.0 / covered_days
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interval k needs `need[k]` agents, plus one more if interval k-1 is understaffed (a
    /// backlog carries over); the CI is fixed.
    fn fake(need: &[u32]) -> impl FnMut(&[u32]) -> Result<Vec<MetricSummary>, ()> + '_ {
        move |staffing: &[u32]| {
            let n = staffing.len();
            Ok((0..n)
                .map(|k| {
                    let prev_short = staffing[(k + n - 1) % n] < need[(k + n - 1) % n];
                    let required = need[k] + u32::from(prev_short);
                    let mean = if staffing[k] >= required { 0.1 } else { 0.5 };
                    MetricSummary { mean: Some(mean), ci95: Some(0.01), n: 4 }
                })
                .collect())
        }
    }

    fn target() -> Assertion {
        "waited_first_share<=0.2".parse().unwrap()
    }

    #[test]
    fn finds_each_intervals_smallest_count_from_below_and_above() {
        let need = [1, 3, 7, 12, 5, 2];
        for start in [1, 4, 20] {
            let found = search(&target(), vec![start; need.len()], 100, fake(&need), |_| {}).unwrap();
            assert_eq!(found.staffing, need, "start {start}");
            assert!(found.iterations.iter().any(|i| i.staffing == need && i.misses() == 0));
        }
    }

    #[test]
    fn a_limit_stops_the_raise_and_the_interval_still_misses() {
        let need = [2, 9];
        let found = search(&target(), vec![1, 1], 6, fake(&need), |_| {}).unwrap();
        // Interval 1 stays short, so interval 0 carries its backlog and needs one more.
        assert_eq!(found.staffing, vec![3, 6]);
        let last = found.iterations.last().unwrap();
        assert_eq!(last.meets, vec![true, false]);
    }

    #[test]
    fn an_interval_without_contacts_meets_and_bounds_recover_from_contradictions() {
        let empty = MetricSummary { mean: None, ci95: None, n: 0 };
        assert!(interval_meets(&target(), &empty));
        let no_ci = MetricSummary { mean: Some(0.0), ci95: None, n: 1 };
        assert!(!interval_meets(&target(), &no_ci));
        let mut b = Bounds { lo: 5, hi: Some(6), met_once: true };
        learn(&mut b, 6, false);
        assert_eq!(b, Bounds { lo: 6, hi: None, met_once: true });
        assert_eq!(next_count(&b, 100), 7);
        learn(&mut b, 4, true);
        assert_eq!(b, Bounds { lo: 3, hi: Some(4), met_once: true });
        assert_eq!(next_count(&Bounds { lo: 0, hi: None, met_once: false }, 10), 1);
        assert_eq!(next_count(&Bounds { lo: 7, hi: None, met_once: false }, 10), 10);
        assert_eq!(next_count(&Bounds { lo: 10, hi: None, met_once: false }, 10), 10);
    }

    #[test]
    fn agent_hours_scale_a_day_to_a_week() {
        assert_eq!(agent_hours_per_week(&[2; 24], 3600.0), 2.0 * 168.0);
        assert_eq!(agent_hours_per_week(&[1; 168], 3600.0), 168.0);
        assert_eq!(agent_hours_per_week(&[3; 48], 1800.0), 3.0 * 168.0);
    }
}
