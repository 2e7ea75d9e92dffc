//! `convosim staff`, level mode: the smallest head count of one pool that meets every target.
//!
//! The search only sees a function from a count to the metrics' summaries, so it does not
//! know how they are simulated; the caller runs every count on the same seeds (common random
//! numbers), which makes neighbouring counts differ by the staffing alone and keeps the
//! search from wandering on noise. It doubles from a start until a count meets the targets,
//! then bisects between the largest count known to miss and the smallest known to meet.

pub mod interval;
pub mod observed;
pub mod restaff;

use crate::gate::{Assertion, Measured, Op};
use crate::metrics::catalog::{index_of, Unit, METRICS};
use crate::metrics::MetricSummary;
use crate::rng::derive_seed;
use crate::scenario::{LoadEstimate, Scenario};

/// Doublings past the start before the search gives up: 2^10 times the offered load in
/// agents is far past the point where more agents change anything.
pub const MAX_DOUBLINGS: u32 = 10;

/// One count tried: the targets' summaries (in target order) and whether all of them hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The pool's head count.
    pub count: u32,
    /// Each target's metric (`channel.metric` for a channel's) and its summary, in the order
    /// the targets were given.
    pub metrics: Vec<(String, MetricSummary)>,
    /// Whether every target holds on its conservative 95% bound.
    pub meets: bool,
}

/// The outcome of a search: the answer and every count tried, in the order tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The smallest count found to meet every target.
    pub count: u32,
    /// Every evaluation, in the order it ran.
    pub evaluations: Vec<Evaluation>,
}

/// No count up to the search's limit meets a target.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--target '{target}': not met at any count up to {limit} ({why}); best value reached: {best}")]
pub struct NotMet {
    /// The first target that still misses at the largest count.
    pub target: String,
    /// The largest count tried.
    pub limit: u32,
    /// Why the search stopped there: the doublings ran out, or the scenario's limits refuse
    /// the next count.
    pub why: String,
    /// That target's best summary over the counts tried, as `mean ± ci (at count n)`.
    pub best: String,
}

/// The first count to try: the pool's share of the offered load in agents, rounded up, at
/// least 1. `others_slots` are the slots the other pools bring; `slots_per_agent` is one
/// agent's concurrency times its share of the week on shift.
pub fn start_count(offered_slots: f64, others_slots: f64, slots_per_agent: f64) -> u32 {
    let agents = ((offered_slots - others_slots) / slots_per_agent).ceil();
    // NaN, negative and huge values all end up in range; `as` saturates.
    if agents.is_finite() {
        (agents as u32).max(1)
    } else {
        1
    }
}

/// The first count to try and one agent's slots (its concurrency times its share of the week
/// on shift), from the load estimates with the pool at one agent and at two, all else equal:
/// the pool's slots grow linearly with its count.
pub fn start_from(one: &LoadEstimate, two: &LoadEstimate) -> (u32, f64) {
    let slots_per_agent = two.on_shift_slots - one.on_shift_slots;
    let others = one.on_shift_slots - slots_per_agent;
    (start_count(one.offered_slots, others, slots_per_agent), slots_per_agent)
}

/// The master seed of the final evaluation: derived from the search's, but not one of its
/// replication seeds, so "achieved" is measured on customers the search never saw.
pub fn fresh_seed(master: u64) -> u64 {
    derive_seed(master, u64::MAX, u64::MAX)
}

/// The targets' names and summaries in `all`, in target order.
pub fn target_metrics(targets: &[Assertion], all: &Measured) -> Vec<(String, MetricSummary)> {
    let missing = MetricSummary { mean: None, ci95: None, n: 0 };
    targets.iter().map(|t| (t.name(), all.summary(t).unwrap_or(missing))).collect()
}

/// Whether every target holds on the summaries `metrics` (in target order).
fn meets(targets: &[Assertion], metrics: &[(String, MetricSummary)]) -> bool {
    targets.iter().zip(metrics).all(|(t, (_, s))| t.check(s).holds())
}

/// What `evaluate` says about a count: every metric's summary, the whole run's and each
/// channel's, or that the scenario's limits (agents, slots) refuse the count, with the
/// loader's reason.
pub type Outcome = Result<Measured, String>;

/// Searches counts from `start` for the smallest one meeting every target. `evaluate` runs a
/// count; `on_evaluation` sees each result as it comes, for progress. Fails with [`NotMet`]
/// after [`MAX_DOUBLINGS`] doublings or at a count the scenario's limits refuse.
pub fn search<E: From<NotMet>>(
    targets: &[Assertion],
    start: u32,
    mut evaluate: impl FnMut(u32) -> Result<Outcome, E>,
    mut on_evaluation: impl FnMut(&Evaluation),
) -> Result<Search, E> {
    let mut evaluations = Vec::new();
    // Ok(None): the count is refused, with the reason.
    let mut run = |count: u32, evaluations: &mut Vec<Evaluation>| -> Result<Result<bool, String>, E> {
        let all = match evaluate(count)? {
            Ok(all) => all,
            Err(refused) => return Ok(Err(refused)),
        };
        let metrics = target_metrics(targets, &all);
        let evaluation = Evaluation { count, meets: meets(targets, &metrics), metrics };
        on_evaluation(&evaluation);
        let met = evaluation.meets;
        evaluations.push(evaluation);
        Ok(Ok(met))
    };
    let start = start.max(1);
    // `lo` misses (0 agents serve no one), `hi` meets.
    let (mut lo, mut hi) = (0, start);
    let mut doublings = 0;
    loop {
        let why = match run(hi, &mut evaluations)? {
            Ok(true) => break,
            Ok(false) if doublings < MAX_DOUBLINGS && hi < u32::MAX => None,
            Ok(false) => Some(format!("{MAX_DOUBLINGS} doublings from {start}")),
            Err(refused) => Some(format!("count {hi} is refused: {refused}")),
        };
        if let Some(why) = why {
            return Err(not_met(targets, &evaluations, why).into());
        }
        doublings += 1;
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        // Counts between two that ran are within the limits.
        if run(mid, &mut evaluations)?.unwrap_or(false) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Search { count: hi, evaluations })
}

/// Counts [`search`] evaluates at most from `start`: after `d` doublings (at most
/// [`MAX_DOUBLINGS`]) it has run `d + 1` counts and bisects an interval of `start × 2^(d-1)`
/// counts (of `start` if `d = 0`) in at most `d - 1 + ⌈log2 start⌉` more.
pub fn max_evaluations(start: u32) -> u32 {
    let start = start.max(1);
    let log2_start = u32::BITS - (start - 1).leading_zeros();
    2 * MAX_DOUBLINGS + log2_start
}

/// The error for a search that never met the targets: the first target missing at the largest
/// count, with its best conservative bound over every count tried.
fn not_met(targets: &[Assertion], evaluations: &[Evaluation], why: String) -> NotMet {
    let last = evaluations.last();
    let limit = last.map_or(0, |e| e.count);
    let position = last
        .and_then(|e| targets.iter().zip(&e.metrics).position(|(t, (_, s))| !t.check(s).holds()))
        .unwrap_or(0);
    let target = targets.get(position);
    let bound = |s: &MetricSummary| match target.map(|t| t.check(s)) {
        Some(crate::gate::Verdict::Holds { checked } | crate::gate::Verdict::Fails { checked }) => {
            Some(checked)
        }
        _ => None,
    };
    let lower_is_better = target.is_some_and(|t| t.side() == "upper");
    let best = evaluations
        .iter()
        .filter_map(|e| e.metrics.get(position).and_then(|(_, s)| bound(s).map(|b| (b, e.count, *s))))
        .min_by(|a, b| {
            let order = a.0.total_cmp(&b.0);
            if lower_is_better {
                order
            } else {
                order.reverse()
            }
        });
    NotMet {
        target: target.map(ToString::to_string).unwrap_or_default(),
        limit,
        why,
        best: match best {
            Some((_, count, s)) => format!("{} (at count {count})", format_summary(&s)),
            None => "undefined at every count".to_string(),
        },
    }
}

/// Why no count of pool `pool` can meet `target`, whatever is simulated: a bound past every
/// value the metric can take (no mean is below 0, no share above 1), or a channel's target for a
/// pool that does not serve that channel. `None`: a search may find out.
pub fn unreachable(target: &Assertion, scenario: &Scenario, pool: usize) -> Option<String> {
    let unit = METRICS[index_of(target.metric)?].unit;
    let below_zero = match target.op {
        Op::Less => target.bound <= 0.0,
        Op::LessEq => target.bound < 0.0,
        _ => false,
    };
    let above_one = unit == Unit::Share
        && match target.op {
            Op::Greater => target.bound >= 1.0,
            Op::GreaterEq => target.bound > 1.0,
            _ => false,
        };
    if below_zero || above_one {
        let range = if unit == Unit::Share { "from 0 to 1" } else { "0 or more" };
        return Some(format!(
            "--target '{target}': {} is always {range}, so no staffing can meet it",
            target.metric
        ));
    }
    let name = target.channel.as_ref()?;
    let channel = scenario.channels.iter().position(|c| &c.name == name)?;
    if scenario.channels.len() > 1 && !scenario.serves(pool, channel) {
        let pool = &scenario.pools[pool];
        let skills: Vec<&str> =
            pool.skills.iter().map(|s| scenario.channels[s.channel].name.as_str()).collect();
        return Some(format!(
            "--target '{target}': pool \"{}\" does not serve {name} (it serves {}), so its count cannot \
             change {name}'s figures; search a pool that serves {name}, or add it to this pool's skills",
            pool.name,
            skills.join(", ")
        ));
    }
    None
}

/// `mean ± ci`, or `undefined`.
pub fn format_summary(s: &MetricSummary) -> String {
    match (s.mean, s.ci95) {
        (Some(mean), Some(ci)) => format!("{mean:.4} ± {ci:.4}"),
        (Some(mean), None) => format!("{mean:.4} ± ?"),
        _ => "undefined".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::index_of;
    use crate::metrics::METRICS;

    /// A fake evaluation: waited_first_share falls as 1/count, with a fixed CI; one channel,
    /// "default", whose metrics are the run's.
    fn fake(count: u32) -> Result<Outcome, NotMet> {
        let mut all = vec![MetricSummary { mean: None, ci95: None, n: 0 }; METRICS.len()];
        let i = index_of("waited_first_share").unwrap();
        all[i] = MetricSummary { mean: Some(1.0 / f64::from(count)), ci95: Some(0.001), n: 10 };
        Ok(Ok(Measured::one_channel(all, "default")))
    }

    fn target(text: &str) -> Vec<Assertion> {
        vec![text.parse().unwrap()]
    }

    #[test]
    fn finds_the_smallest_count_from_below_and_from_above() {
        // 1/count + 0.001 <= 0.1 first holds at count 11.
        for start in [1, 3, 11, 12, 40] {
            let found = search(&target("waited_first_share<=0.1"), start, fake, |_| {}).unwrap();
            assert_eq!(found.count, 11, "start {start}");
            assert!(found.evaluations.iter().any(|e| e.count == 10 && !e.meets), "start {start}");
        }
    }

    #[test]
    fn a_search_never_runs_more_counts_than_its_bound() {
        // Met first at every count up to 2^10 × 40, from several starts.
        for start in [1, 2, 3, 11, 40] {
            for bound in [1.0, 0.5, 0.1, 0.01, 1e-3, 1e-4, 3e-5, 2.6e-5] {
                let found = search(&target(&format!("waited_first_share<={bound}")), start, fake, |_| {});
                let tried = found.map_or(MAX_DOUBLINGS as usize + 1, |f| f.evaluations.len());
                assert!(tried as u32 <= max_evaluations(start), "start {start}, bound {bound}: {tried}");
            }
        }
        assert_eq!(max_evaluations(40), 26);
    }

    #[test]
    fn a_channel_target_is_searched_like_a_whole_run_one() {
        let found = search(&target("default.waited_first_share<=0.1"), 3, fake, |_| {}).unwrap();
        assert_eq!(found.count, 11);
        assert_eq!(found.evaluations[0].metrics[0].0, "default.waited_first_share");
    }

    #[test]
    fn each_count_is_tried_once_and_reported() {
        let mut seen = Vec::new();
        let found = search(&target("waited_first_share<=0.1"), 2, fake, |e| seen.push(e.count)).unwrap();
        let tried: Vec<u32> = found.evaluations.iter().map(|e| e.count).collect();
        assert_eq!(seen, tried);
        let mut unique = tried.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), tried.len(), "{tried:?}");
    }

    #[test]
    fn a_target_never_met_names_the_best_value() {
        let error = search(&target("waited_first_share<=0"), 4, fake, |_| {}).unwrap_err();
        assert_eq!(error.limit, 4 << MAX_DOUBLINGS);
        assert!(error.to_string().contains("waited_first_share<=0"), "{error}");
        assert!(error.best.contains(&format!("at count {}", 4 << MAX_DOUBLINGS)), "{error}");
    }

    #[test]
    fn a_refused_count_ends_the_search_with_the_best_value() {
        let limited = |count: u32| if count > 50 { Ok(Err("at most 50".to_string())) } else { fake(count) };
        let error = search(&target("waited_first_share<=0.001"), 4, limited, |_| {}).unwrap_err();
        assert_eq!(error.limit, 32);
        assert!(error.why.contains("count 64 is refused: at most 50"), "{error}");
        assert!(error.best.contains("at count 32"), "{error}");
    }

    #[test]
    fn the_start_is_at_least_one_agent() {
        assert_eq!(start_count(5.2, 0.0, 1.0), 6);
        assert_eq!(start_count(5.2, 0.0, 2.0), 3);
        assert_eq!(start_count(1.0, 4.0, 1.0), 1);
        assert_eq!(start_count(f64::NAN, 0.0, 1.0), 1);
        assert_ne!(fresh_seed(7), derive_seed(7, 0, 0));
    }
}
