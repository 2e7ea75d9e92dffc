//! `convosim staff --per-interval`: a staffing vector for one pool so that every interval of
//! the report fold meets the targets.
//!
//! Two methods, after the Iterative Staffing Algorithm (Feldman, Mandelbaum, Massey & Whitt
//! 2008). For a delay-probability target on a pooled center, [`isa`] applies the ISA's rule to
//! the number in system sampled in the engine. For every other target (service level,
//! abandonment, mean wait) and for policies that route to owners, [`super::restaff::search`]
//! re-staffs the intervals that miss or have slack. This module holds what both share.

use crate::gate::{Assertion, Op};
use crate::metrics::{InSystemSamples, MetricSummary};

/// Interval metrics a per-interval target may name: the ones more agents improve.
pub const STAFFABLE_METRICS: [&str; 9] = [
    "waited_first_share",
    "waited_resumed_share",
    "sl_first_share",
    "sl_resumed_share",
    "abandon_first_share",
    "abandon_resumed_share",
    "wait_first_mean_s",
    "wait_resumed_mean_s",
    "queue_length_mean",
];

/// Delay probabilities: the targets the ISA's rule P(L(t) ≥ n) ≤ α is stated for.
pub const DELAY_METRICS: [&str; 2] = ["waited_first_share", "waited_resumed_share"];

/// The α of the ISA's rule when every target is a delay probability bounded above: the
/// smallest bound. None if any target is of another kind.
pub fn delay_alpha(targets: &[Assertion]) -> Option<f64> {
    // The rule reads the whole center's number in system: a channel's target is not one.
    let delays = targets.iter().all(|t| {
        t.channel.is_none() && DELAY_METRICS.contains(&t.metric) && matches!(t.op, Op::Less | Op::LessEq)
    });
    (delays && !targets.is_empty()).then(|| targets.iter().map(|t| t.bound).fold(f64::INFINITY, f64::min))
}

/// How a vector was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The ISA's rule on the sampled number in system.
    Isa,
    /// Re-staffing the intervals that miss or have slack.
    Restaff,
}

impl Method {
    /// The name in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Isa => "isa",
            Self::Restaff => "restaff",
        }
    }
}

/// What one simulation of a vector says: each target's metric per interval (target order,
/// then interval order), and the number in system if it was sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `summaries[target][interval]`.
    pub summaries: Vec<Vec<MetricSummary>>,
    /// Samples of L(t), for [`isa`].
    pub in_system: Option<InSystemSamples>,
    /// Which intervals are judged (see [`super::observed`]); one not judged meets whatever
    /// its values.
    pub judged: Vec<bool>,
}

/// Simulations of the whole vector before a search stops without a fixed point.
pub const MAX_ITERATIONS: usize = 40;

/// The most agents any interval is given, whatever the start.
pub const MAX_PER_INTERVAL: u32 = 100_000;

/// How far above ample staff (the start) an interval may climb: 2^10 times, as level mode's
/// ten doublings. An interval that still misses there will not meet at any count.
pub const LIMIT_FACTOR: u32 = 1024;

/// The most agents a search gives an interval, from its start vector.
pub fn limit(start: &[u32]) -> u32 {
    let ample = start.iter().copied().max().unwrap_or(1).max(1);
    ample.saturating_mul(LIMIT_FACTOR).min(MAX_PER_INTERVAL)
}

/// A search that ended without an answer: reaching the limit is never one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoAnswer {
    /// Intervals that still miss at the most agents the search gives.
    #[error(
        "--per-interval: interval(s) {intervals} still miss at {limit} agents, the search's limit \
         ({LIMIT_FACTOR} times ample staff, at most {MAX_PER_INTERVAL}); {best}: more agents of \
         this pool do not meet the target there"
    )]
    AtLimit {
        /// The intervals, as labels.
        intervals: String,
        /// The most agents the search gives an interval.
        limit: u32,
        /// The first one's values there.
        best: String,
    },
    /// Re-staffing found no vector meeting every interval.
    #[error(
        "--per-interval: no vector met every interval in {simulations} simulations; interval(s) \
         {intervals} still miss{best}; try more --replications (a target close to what the pool \
         can reach needs narrow confidence intervals)"
    )]
    Unmet {
        /// The intervals, as labels.
        intervals: String,
        /// Simulations run.
        simulations: usize,
        /// The first one's values in the vector chosen.
        best: String,
    },
}

/// Whether `found` is an answer: the vector chosen met every interval on the search's seeds,
/// or (the ISA, whose rule is an approximation reported honestly on fresh seeds) misses only
/// below the limit.
pub fn check_answer(
    targets: &[Assertion],
    found: &PerInterval,
    limit: u32,
    report: crate::scenario::ReportSpec,
) -> Result<(), NoAnswer> {
    let Some(last) =
        found.iterations.iter().rev().find(|i| i.staffing == found.staffing).or(found.iterations.last())
    else {
        return Ok(());
    };
    let missing: Vec<usize> = (0..last.meets.len()).filter(|&k| !last.meets[k]).collect();
    let best = |k: usize| -> String {
        let shown: Vec<String> = targets
            .iter()
            .zip(&last.summaries)
            .filter_map(|(t, per)| per.get(k).map(|s| format!("{} {}", t.name(), super::format_summary(s))))
            .collect();
        format!("at {} {}", report.start_label(k), shown.join(", "))
    };
    let at_limit: Vec<usize> = missing.iter().copied().filter(|&k| last.staffing[k] >= limit).collect();
    if let Some(&first) = at_limit.first() {
        let intervals = super::observed::labels(report, &at_limit);
        return Err(NoAnswer::AtLimit { intervals, limit, best: best(first) });
    }
    match (found.method, missing.first()) {
        (Method::Restaff, Some(&first)) => Err(NoAnswer::Unmet {
            intervals: super::observed::labels(report, &missing),
            simulations: found.iterations.len(),
            best: format!(" ({})", best(first)),
        }),
        _ => Ok(()),
    }
}

/// One simulated vector: the counts, each target's metric per interval and whether each
/// interval meets every target.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    /// Agents on shift per interval.
    pub staffing: Vec<u32>,
    /// `summaries[target][interval]`.
    pub summaries: Vec<Vec<MetricSummary>>,
    /// Whether each interval meets every target.
    pub meets: Vec<bool>,
}

impl Iteration {
    pub(crate) fn new(targets: &[Assertion], staffing: Vec<u32>, evaluation: Evaluation) -> Self {
        let meets = meets_per_interval(targets, &evaluation.summaries, &evaluation.judged, staffing.len());
        Self { staffing, summaries: evaluation.summaries, meets }
    }

    /// Intervals that miss.
    pub fn misses(&self) -> usize {
        self.meets.iter().filter(|m| !**m).count()
    }

    /// Agents summed over intervals.
    pub fn agent_intervals(&self) -> u64 {
        self.staffing.iter().map(|n| u64::from(*n)).sum()
    }
}

/// The outcome: the vector chosen and every vector simulated, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PerInterval {
    /// The staffing vector chosen.
    pub staffing: Vec<u32>,
    /// Every simulation of the search.
    pub iterations: Vec<Iteration>,
    /// Whether the search ended by itself (a fixed point, or every next vector already
    /// simulated) rather than after [`MAX_ITERATIONS`].
    pub converged: bool,
    /// How the vector was found.
    pub method: Method,
}

/// Whether an interval's summary meets `target`: one not `judged` (no arrivals offered there,
/// see [`super::observed`]) always does; a judged one needs the conservative bound to hold,
/// so a metric that is undefined there (or has no confidence interval) misses.
pub fn interval_meets(target: &Assertion, summary: &MetricSummary, judged: bool) -> bool {
    !judged || target.check(summary).holds()
}

/// Whether each of `rows` intervals meets every target (`summaries[target][interval]`);
/// `judged[k]` as in [`interval_meets`] (an interval past its end is judged).
pub fn meets_per_interval(
    targets: &[Assertion],
    summaries: &[Vec<MetricSummary>],
    judged: &[bool],
    rows: usize,
) -> Vec<bool> {
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    (0..rows)
        .map(|k| {
            let judged = judged.get(k).copied().unwrap_or(true);
            targets
                .iter()
                .zip(summaries)
                .all(|(t, per)| interval_meets(t, per.get(k).unwrap_or(&missing), judged))
        })
        .collect()
}

/// The ISA for a delay target `alpha` on a pooled center: from `start` (ample staff),
/// simulate; set each interval's slots to the smallest n with P(L(t) ≥ n) ≤ `alpha` at every
/// sample time of the interval and its agents to ceil(n / `concurrency`) (at most
/// `max_agents`); repeat until no interval changes. `evaluate` must sample the number in
/// system. A vector that comes back (noise between two neighbours) ends the search with the
/// larger count of the cycle in each interval.
pub fn isa<E>(
    targets: &[Assertion],
    alpha: f64,
    concurrency: u32,
    start: Vec<u32>,
    max_agents: u32,
    mut evaluate: impl FnMut(&[u32]) -> Result<Evaluation, E>,
    mut on_iteration: impl FnMut(&Iteration),
) -> Result<PerInterval, E> {
    let concurrency = concurrency.max(1);
    let mut current = start;
    let mut iterations: Vec<Iteration> = Vec::new();
    while iterations.len() < MAX_ITERATIONS {
        let evaluation = evaluate(&current)?;
        let slots = evaluation.in_system.as_ref().map(|s| s.slots_for(alpha)).unwrap_or_default();
        let next: Vec<u32> = current
            .iter()
            .enumerate()
            .map(|(k, &n)| slots.get(k).map_or(n, |slots| slots.div_ceil(concurrency).min(max_agents)))
            .collect();
        let iteration = Iteration::new(targets, current.clone(), evaluation);
        on_iteration(&iteration);
        iterations.push(iteration);
        if next == current {
            return Ok(PerInterval { staffing: current, iterations, converged: true, method: Method::Isa });
        }
        if let Some(first) = iterations.iter().position(|i| i.staffing == next) {
            let staffing = elementwise_max(iterations[first..].iter().map(|i| i.staffing.as_slice()));
            return Ok(PerInterval { staffing, iterations, converged: true, method: Method::Isa });
        }
        current = next;
    }
    Ok(PerInterval { staffing: current, iterations, converged: false, method: Method::Isa })
}

fn elementwise_max<'a>(vectors: impl Iterator<Item = &'a [u32]>) -> Vec<u32> {
    let mut max: Vec<u32> = Vec::new();
    for v in vectors {
        max.resize(max.len().max(v.len()), 0);
        for (m, &x) in max.iter_mut().zip(v) {
            *m = (*m).max(x);
        }
    }
    max
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

    fn target() -> Assertion {
        "waited_first_share<=0.2".parse().unwrap()
    }

    fn targets() -> Vec<Assertion> {
        vec![target()]
    }

    #[test]
    fn only_delay_targets_bounded_above_have_an_isa_alpha() {
        let parse = |list: &[&str]| list.iter().map(|t| t.parse().unwrap()).collect::<Vec<Assertion>>();
        assert_eq!(delay_alpha(&parse(&["waited_first_share<=0.2", "waited_resumed_share<0.1"])), Some(0.1));
        assert_eq!(delay_alpha(&parse(&["waited_first_share<=0.2", "sl_first_share>=0.8"])), None);
        assert_eq!(delay_alpha(&parse(&["waited_first_share>=0.2"])), None);
        assert_eq!(delay_alpha(&[]), None);
    }

    /// Samples where interval k always finds `present[k] + extra` in the system, `extra`
    /// being the agents short in interval k (those waiting).
    fn sampled(present: &[u32]) -> impl FnMut(&[u32]) -> Result<Evaluation, ()> + '_ {
        move |staffing: &[u32]| {
            let spec = crate::scenario::ReportSpec { interval_s: 3600.0, fold: crate::scenario::Fold::Day };
            let mut samples = InSystemSamples::new(spec, 1);
            for (k, (&p, &s)) in present.iter().zip(staffing).enumerate() {
                samples.record(k as u64, u64::from(p + p.saturating_sub(s * 2)));
            }
            let summaries =
                vec![vec![MetricSummary { mean: Some(0.0), ci95: Some(0.0), n: 2 }; staffing.len()]];
            Ok(Evaluation { summaries, in_system: Some(samples), judged: vec![true; staffing.len()] })
        }
    }

    #[test]
    fn the_isa_sets_slots_from_the_number_in_system_until_nothing_changes() {
        let mut present = vec![1u32; 24];
        present[9] = 7;
        present[10] = 12;
        // Concurrency 2: ceil((present + 1) / 2) agents, the count that keeps P(L ≥ n) ≤ α.
        let want: Vec<u32> = present.iter().map(|p| (p + 1).div_ceil(2)).collect();
        let found = isa(&targets(), 0.2, 2, vec![1; 24], 100, sampled(&present), |_| {}).unwrap();
        assert_eq!(found.staffing, want);
        assert!(found.converged);
        assert_eq!(found.method, Method::Isa);
        // Short at first: the first vector sees the waiting too, then the rule settles.
        assert!(found.iterations.len() >= 3, "{}", found.iterations.len());
        let from_ample = isa(&targets(), 0.2, 2, vec![50; 24], 100, sampled(&present), |_| {}).unwrap();
        assert_eq!(from_ample.staffing, want);
        assert_eq!(from_ample.iterations.len(), 2);
    }

    #[test]
    fn an_interval_not_judged_meets_and_a_judged_one_needs_its_bound() {
        let empty = MetricSummary { mean: None, ci95: None, n: 0 };
        assert!(interval_meets(&target(), &empty, false));
        // Judged, a metric undefined there (or with no confidence interval) misses: the
        // search may not read "no contacts left" as "met".
        assert!(!interval_meets(&target(), &empty, true));
        let no_ci = MetricSummary { mean: Some(0.0), ci95: None, n: 1 };
        assert!(!interval_meets(&target(), &no_ci, true));
        assert!(interval_meets(&target(), &no_ci, false));
        let met = MetricSummary { mean: Some(0.1), ci95: Some(0.05), n: 3 };
        let sl: Assertion = "sl_first_share>=0.9".parse().unwrap();
        let summaries = vec![vec![met, no_ci, met], vec![empty, empty, empty]];
        assert_eq!(meets_per_interval(&[target()], &summaries[..1], &[true; 3], 3), vec![true, false, true]);
        assert_eq!(
            meets_per_interval(&[target(), sl], &summaries, &[true, false, false], 3),
            vec![false, true, true]
        );
    }

    fn iteration(staffing: Vec<u32>, meets: Vec<bool>) -> Iteration {
        let summary = MetricSummary { mean: Some(0.5), ci95: Some(0.01), n: 2 };
        Iteration { summaries: vec![vec![summary; staffing.len()]], staffing, meets }
    }

    #[test]
    fn a_vector_that_misses_at_the_limit_is_no_answer() {
        let report = crate::scenario::ReportSpec { interval_s: 3600.0, fold: crate::scenario::Fold::Day };
        let found = |staffing: Vec<u32>, meets: Vec<bool>, method| PerInterval {
            staffing: staffing.clone(),
            iterations: vec![
                iteration(vec![9; staffing.len()], vec![true; staffing.len()]),
                iteration(staffing, meets),
            ],
            converged: true,
            method,
        };
        let at_limit = found(vec![3, 64, 3], vec![true, false, true], Method::Restaff);
        let err = check_answer(&targets(), &at_limit, 64, report).unwrap_err();
        assert!(matches!(err, NoAnswer::AtLimit { .. }), "{err}");
        assert!(err.to_string().contains("interval(s) 01:00 still miss at 64 agents"), "{err}");
        // The ISA too: the limit is never an answer.
        assert!(check_answer(
            &targets(),
            &found(vec![3, 64, 3], vec![true, false, true], Method::Isa),
            64,
            report
        )
        .is_err());
        // Below the limit, the ISA's misses are for the fresh seeds to report; re-staffing that
        // met nowhere everywhere has no answer.
        let below = |method| found(vec![3, 5, 3], vec![true, false, true], method);
        assert_eq!(check_answer(&targets(), &below(Method::Isa), 64, report), Ok(()));
        let err = check_answer(&targets(), &below(Method::Restaff), 64, report).unwrap_err();
        assert!(matches!(err, NoAnswer::Unmet { .. }), "{err}");
        assert_eq!(
            check_answer(&targets(), &found(vec![3, 5, 3], vec![true; 3], Method::Restaff), 64, report),
            Ok(())
        );
        assert_eq!(limit(&[4, 12, 6]), 12 * LIMIT_FACTOR);
        assert_eq!(limit(&[500, 1]), MAX_PER_INTERVAL);
    }

    #[test]
    fn agent_hours_scale_a_day_to_a_week() {
        assert_eq!(agent_hours_per_week(&[2; 24], 3600.0), 2.0 * 168.0);
        assert_eq!(agent_hours_per_week(&[1; 168], 3600.0), 168.0);
        assert_eq!(agent_hours_per_week(&[3; 48], 1800.0), 3.0 * 168.0);
    }
}
