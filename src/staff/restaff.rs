//! Re-staffing, the per-interval search for targets the ISA's rule does not cover (service
//! level, abandonment, mean wait) and for policies that route to owners.
//!
//! The first simulation is of ample staff with the number in system sampled; the pooled rule
//! (smallest n with P(L(t) ≥ n) ≤ α, α guessed from the targets) gives a first guess close to
//! the answer. From there each interval gallops (one agent, then two, four, ...) away from
//! its last result until the result flips, then bisects between the largest count seen to
//! miss and the smallest seen to meet; every iteration simulates the whole vector on the same
//! seeds. Intervals interact (a backlog carries over), so a bound a later simulation
//! contradicts is dropped, and at a fixed point each interval tries one agent less once per
//! count (a miss seen while a neighbour was short may be stale). With common random numbers a
//! vector's results are a function of the vector, so the search stops when the next vector
//! was already simulated: going on could only repeat what it saw.

use std::collections::HashSet;

use super::interval::{Evaluation, Iteration, Method, PerInterval, MAX_ITERATIONS};
use crate::gate::{Assertion, Op};

/// What is known about one interval's count.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    /// The largest count seen to miss (0: none; zero agents serve no one).
    lo: u32,
    /// The smallest count seen to meet.
    hi: Option<u32>,
    /// The next gallop's stride.
    step: u32,
    /// The count at which one agent less was last tried at a fixed point.
    slack_tried: Option<u32>,
}

impl Bounds {
    const UNKNOWN: Self = Self { lo: 0, hi: None, step: 1, slack_tried: None };
}

/// The α whose pooled staffing makes the first guess: for a service level p the chance of
/// waiting 1 − p (those who do not wait are within any threshold), for a delay target its
/// bound, otherwise one half; the smallest over the targets.
pub fn guess_alpha(targets: &[Assertion]) -> f64 {
    targets
        .iter()
        .map(|t| match (t.metric, t.op) {
            (m, Op::Greater | Op::GreaterEq) if m.starts_with("sl_") => 1.0 - t.bound,
            (m, Op::Less | Op::LessEq) if m.starts_with("waited_") => t.bound,
            _ => 0.5,
        })
        .fold(0.5_f64, f64::min)
        .clamp(0.001, 0.999)
}

/// Searches a vector whose every interval meets every target, from `ample` (one count per
/// interval), with `concurrency` slots per agent and no count above `max_agents`. `evaluate`
/// simulates a vector (sampling the number in system when asked, for the first guess);
/// `on_iteration` sees each simulation, for progress.
pub fn search<E>(
    targets: &[Assertion],
    ample: Vec<u32>,
    concurrency: u32,
    max_agents: u32,
    mut evaluate: impl FnMut(&[u32], bool) -> Result<Evaluation, E>,
    mut on_iteration: impl FnMut(&Iteration),
) -> Result<PerInterval, E> {
    let max_agents = max_agents.max(1);
    let mut current: Vec<u32> = ample.into_iter().map(|n| n.clamp(1, max_agents)).collect();
    let mut bounds = vec![Bounds::UNKNOWN; current.len()];
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut iterations: Vec<Iteration> = Vec::new();
    let mut round = 0;
    // The fixed point a slack probe lowered from, while that probe is being simulated.
    let mut probe_base: Option<Vec<u32>> = None;
    while iterations.len() < MAX_ITERATIONS {
        let first = iterations.is_empty();
        let evaluation = evaluate(&current, first)?;
        let guess =
            evaluation.in_system.as_ref().filter(|_| first).map(|s| s.slots_for(guess_alpha(targets)));
        let iteration = Iteration::new(targets, current.clone(), evaluation.summaries);
        on_iteration(&iteration);
        seen.insert(current.clone());
        let mut next = match probe_base.take() {
            Some(base) => resolve_probe(&mut bounds, &base, &current, &iteration.meets),
            None => bounds
                .iter_mut()
                .zip(&current)
                .zip(&iteration.meets)
                .map(|((b, &count), &met)| {
                    learn(b, count, met);
                    next_count(b, max_agents)
                })
                .collect(),
        };
        iterations.push(iteration);
        if let Some(slots) = guess {
            // Where the ample count met, start from the pooled guess below it instead.
            for ((n, b), s) in next.iter_mut().zip(bounds.iter_mut()).zip(slots) {
                let guessed = s.div_ceil(concurrency.max(1)).clamp(1, max_agents);
                if b.hi.is_some_and(|h| guessed < h) {
                    *n = guessed;
                    b.step = 1;
                }
            }
        }
        if next == current {
            next = slack_round(&mut bounds, &current, &seen, round);
            round += 1;
            if next != current {
                probe_base = Some(current.clone());
            }
        }
        if next == current || seen.contains(&next) {
            return Ok(done(iterations, next, true));
        }
        current = next;
    }
    Ok(done(iterations, current, false))
}

/// After a slack probe (`probe`, lowered from the fixed point `base`): a lowered interval
/// that met keeps its cut; one that missed, or whose successor missed (its backlog carries
/// over, and only cuts changed), goes back up. Intervals not lowered learn nothing: a miss
/// there says which cut to undo, not that they need more.
fn resolve_probe(bounds: &mut [Bounds], base: &[u32], probe: &[u32], meets: &[bool]) -> Vec<u32> {
    let n = base.len();
    let lowered = |k: usize| probe[k] < base[k];
    let mut undo = vec![false; n];
    for k in (0..n).filter(|&k| !meets[k]) {
        if lowered(k) {
            undo[k] = true;
        } else if let Some(culprit) = (1..n).map(|d| (k + n - d) % n).find(|&j| lowered(j)) {
            // The nearest cut before it.
            undo[culprit] = true;
        }
    }
    (0..n)
        .map(|k| {
            let b = &mut bounds[k];
            if !lowered(k) {
                base[k]
            } else if undo[k] {
                b.lo = b.lo.max(probe[k]);
                base[k]
            } else {
                b.hi = Some(probe[k]);
                probe[k]
            }
        })
        .collect()
}

/// At a fixed point, one agent less in the intervals of one parity (even, then odd: a
/// neighbour's cut would hide an interval's slack) that meet and have not tried it at this
/// count; the other parity if that vector was seen or changes nothing.
fn slack_round(bounds: &mut [Bounds], current: &[u32], seen: &HashSet<Vec<u32>>, round: usize) -> Vec<u32> {
    for parity in [round % 2, (round + 1) % 2] {
        let lowered: Vec<u32> = bounds
            .iter()
            .zip(current)
            .enumerate()
            .map(|(k, (b, &n))| if k % 2 == parity && can_slack(b, n) { n - 1 } else { n })
            .collect();
        if lowered != current && !seen.contains(&lowered) {
            for ((b, &n), &m) in bounds.iter_mut().zip(current).zip(&lowered) {
                if m < n {
                    b.slack_tried = Some(n);
                    b.lo = b.lo.min(m - 1);
                }
            }
            return lowered;
        }
    }
    current.to_vec()
}

fn can_slack(b: &Bounds, count: u32) -> bool {
    b.hi == Some(count) && count > 1 && b.slack_tried != Some(count)
}

/// The simulated vector with the fewest agent-intervals among those where every interval
/// met (the earliest on a tie), else `settled`, where the search stopped.
fn done(iterations: Vec<Iteration>, settled: Vec<u32>, converged: bool) -> PerInterval {
    let staffing = iterations
        .iter()
        .filter(|i| i.misses() == 0)
        .min_by_key(|i| i.agent_intervals())
        .map_or(settled, |i| i.staffing.clone());
    PerInterval { staffing, iterations, converged, method: Method::Restaff }
}

/// Records that `count` met or missed; drops the bound the result contradicts.
fn learn(b: &mut Bounds, count: u32, met: bool) {
    if met {
        b.hi = Some(b.hi.map_or(count, |h| h.min(count)));
        if b.lo >= count {
            b.lo = count - 1;
            b.step = 1;
        }
    } else {
        b.lo = b.lo.max(count);
        if b.hi.is_some_and(|h| h <= count) {
            b.hi = None;
            b.step = 1;
        }
    }
}

/// The count to simulate next: settled on the smallest count known to meet; else a gallop
/// away from the known side (stride doubling); else bisection; never past `max_agents`.
fn next_count(b: &mut Bounds, max_agents: u32) -> u32 {
    let next = match b.hi {
        Some(h) if h <= b.lo + 1 => return h,
        Some(h) if h > b.lo + b.step => h - b.step,
        Some(h) => b.lo + (h - b.lo) / 2,
        None => b.lo.saturating_add(b.step).min(max_agents),
    };
    b.step = b.step.saturating_mul(2);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricSummary;

    /// Interval k needs `need[k]` agents, plus one more if interval k-1 is understaffed (a
    /// backlog carries over); the CI is fixed.
    fn fake(need: &[u32]) -> impl FnMut(&[u32], bool) -> Result<Evaluation, ()> + '_ {
        move |staffing: &[u32], _| {
            let n = staffing.len();
            let per_interval = (0..n)
                .map(|k| {
                    let prev_short = staffing[(k + n - 1) % n] < need[(k + n - 1) % n];
                    let required = need[k] + u32::from(prev_short);
                    let mean = if staffing[k] >= required { 0.1 } else { 0.5 };
                    MetricSummary { mean: Some(mean), ci95: Some(0.01), n: 4 }
                })
                .collect();
            Ok(Evaluation { summaries: vec![per_interval], in_system: None })
        }
    }

    fn targets() -> Vec<Assertion> {
        vec!["waited_first_share<=0.2".parse().unwrap()]
    }

    #[test]
    fn finds_each_intervals_smallest_count_from_below_and_above() {
        let need = [1, 3, 7, 12, 5, 2];
        for start in [1, 4, 20] {
            let found = search(&targets(), vec![start; need.len()], 1, 100, fake(&need), |_| {}).unwrap();
            assert_eq!(found.staffing, need, "start {start}");
            assert!(found.converged, "start {start}");
            assert!(found.iterations.len() < MAX_ITERATIONS, "start {start}: {}", found.iterations.len());
        }
    }

    #[test]
    fn a_limit_stops_the_raise_and_the_interval_still_misses() {
        let need = [2, 9];
        let found = search(&targets(), vec![1, 1], 1, 6, fake(&need), |_| {}).unwrap();
        // Interval 1 stays short, so interval 0 carries its backlog and needs one more.
        assert_eq!(found.staffing, vec![3, 6]);
        let settled = found.iterations.iter().find(|i| i.staffing == found.staffing).unwrap();
        assert_eq!(settled.meets, vec![true, false]);
    }

    #[test]
    fn a_good_first_guess_ends_the_search_in_a_few_simulations() {
        let need = [2, 4, 9, 14, 6, 3];
        let spec = crate::scenario::ReportSpec { interval_s: 14_400.0, fold: crate::scenario::Fold::Day };
        let mut inner = fake(&need);
        let with_guess = |staffing: &[u32], sample: bool| {
            let mut e: Evaluation = inner(staffing, sample)?;
            if sample {
                // Three slots per agent; the pooled rule is off by a slot here and there.
                let mut samples = crate::metrics::InSystemSamples::new(spec, 1);
                for (k, n) in need.iter().enumerate() {
                    samples.record(k as u64, u64::from(n * 3 - 2));
                }
                e.in_system = Some(samples);
            }
            Ok::<Evaluation, ()>(e)
        };
        let found = search(&targets(), vec![30; 6], 3, 100, with_guess, |_| {}).unwrap();
        assert_eq!(found.staffing, need);
        assert!(found.iterations.len() <= 5, "{}", found.iterations.len());
    }

    #[test]
    fn bounds_gallop_then_bisect_and_recover_from_contradictions() {
        let mut b = Bounds::UNKNOWN;
        learn(&mut b, 10, true);
        assert_eq!(next_count(&mut b, 100), 9);
        learn(&mut b, 9, true);
        assert_eq!(next_count(&mut b, 100), 7);
        learn(&mut b, 7, false);
        assert_eq!(next_count(&mut b, 100), 8);
        learn(&mut b, 8, true);
        assert_eq!(next_count(&mut b, 100), 8);
        // A later simulation contradicts the miss at 7 (a neighbour was short then).
        learn(&mut b, 6, true);
        assert_eq!((b.lo, b.hi), (5, Some(6)));
        learn(&mut b, 6, false);
        assert_eq!((b.lo, b.hi, b.step), (6, None, 1));
        assert_eq!(next_count(&mut b, 100), 7);
        assert_eq!(next_count(&mut Bounds { lo: 10, ..Bounds::UNKNOWN }, 10), 10);
    }

    #[test]
    fn the_first_guess_reads_the_targets() {
        let parse = |list: &[&str]| list.iter().map(|t| t.parse().unwrap()).collect::<Vec<Assertion>>();
        assert!((guess_alpha(&parse(&["sl_first_share>=0.8"])) - 0.2).abs() < 1e-12);
        assert_eq!(guess_alpha(&parse(&["waited_first_share<=0.1", "sl_first_share>=0.8"])), 0.1);
        assert_eq!(guess_alpha(&parse(&["abandon_first_share<=0.05"])), 0.5);
    }
}
