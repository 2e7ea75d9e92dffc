//! Which intervals a per-interval staffing search may judge: the observation rule.
//!
//! A target is checked on the conservative end of a 95% confidence interval over
//! replications, so an interval holding one contact in one replication has no interval at all
//! and "misses" at every count: a search would climb it to its limit. Before searching, the
//! first simulation (ample staff) decides each interval's standing, per target:
//!
//! - **judged**: at least [`MIN_CONTACTS`] contacts of the target's kind (first contacts for
//!   `*_first_*`, resumed for `*_resumed_*`, both for the queue) were ready there, summed over
//!   the replications, and the metric is defined in at least [`MIN_REPLICATIONS`] of them;
//! - **no arrivals**: the scenario offers no new conversations there (an hour-profile or
//!   weekday value of 0) and fewer contacts than that were ready: the search does not judge
//!   it, keeps the fewest agents a vector holds (1), and says so in its output;
//! - otherwise the search refuses, naming the intervals and what to change: intervals the
//!   statistics window `[warm-up, horizon)` never reaches need a longer horizon; intervals with
//!   too few contacts need more replications (the count needed is estimated) or a longer
//!   horizon. A target whose kind of contact is ready in no interval at all is undefined and
//!   refused as such.

use crate::gate::Assertion;
use crate::metrics::MetricSummary;
use crate::scenario::{Arrivals, ReportSpec, Scenario, DAY_S};

/// Contacts of a target's kind an interval needs, over all replications, to be judged.
pub const MIN_CONTACTS: f64 = 30.0;
/// Replications in which an interval's metric must be defined to be judged (a confidence
/// interval needs two values).
pub const MIN_REPLICATIONS: usize = 2;

/// What the first simulation saw of one target in one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// Contacts of the target's kind ready there, summed over the replications.
    pub contacts: f64,
    /// The target's metric there (its `n`: replications where it is defined).
    pub summary: MetricSummary,
}

/// What the scenario says of each interval, whatever is simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Whether the statistics window `[warm-up, horizon)` reaches the interval at all.
    pub window: Vec<bool>,
    /// Per target: whether new conversations of its channel (any channel, for a whole-center
    /// target) are offered in the interval.
    pub arrivals: Vec<Vec<bool>>,
    /// The report's intervals, for labels.
    pub report: ReportSpec,
    /// Warm-up, seconds.
    pub warmup: f64,
    /// Horizon, seconds.
    pub horizon: f64,
    /// Replications per simulation.
    pub replications: u32,
}

/// Why a search cannot start: one line, naming the intervals and what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotObserved {
    /// No contact of the target's kind was ready anywhere.
    #[error(
        "--target '{target}': no {kind} was ready in any interval in {replications} replication(s) \
         at ample staff, so {metric} is undefined and no staffing can meet it{hint}"
    )]
    Undefined {
        /// The target as given.
        target: String,
        /// The contacts it is measured on.
        kind: &'static str,
        /// Its metric.
        metric: &'static str,
        /// Replications simulated.
        replications: u32,
        /// Why there may be none.
        hint: &'static str,
    },
    /// Intervals outside the statistics window of every replication.
    #[error(
        "--per-interval: interval(s) {intervals} of the {fold} fold are never observed: statistics \
         cover [{warmup}, {horizon}) of each replication (warmup to horizon); set horizon to at \
         least {needed} so that every interval is observed"
    )]
    OutsideWindow {
        /// The intervals, as labels.
        intervals: String,
        /// The fold's name.
        fold: &'static str,
        /// The warm-up, as a duration.
        warmup: String,
        /// The horizon, as a duration.
        horizon: String,
        /// The shortest horizon that observes every interval.
        needed: String,
    },
    /// Intervals with too few contacts to judge.
    #[error(
        "--target '{target}': interval(s) {intervals} saw too few {kind}s to judge (fewest: \
         {fewest} in {replications} replication(s)); judging an interval takes at least \
         {min} in at least {min_reps} replications: raise --replications to about {needed}, or \
         lengthen the horizon"
    )]
    Sparse {
        /// The target as given.
        target: String,
        /// The intervals, as labels.
        intervals: String,
        /// The contacts it is measured on.
        kind: &'static str,
        /// The fewest contacts seen in one of them, over the replications.
        fewest: f64,
        /// Replications simulated.
        replications: u32,
        /// [`MIN_CONTACTS`].
        min: f64,
        /// [`MIN_REPLICATIONS`].
        min_reps: usize,
        /// Replications that would see enough (an estimate).
        needed: u64,
    },
}

/// The contacts a staffable metric is measured on: the interval metrics that count them.
pub fn counted_by(metric: &str) -> &'static [&'static str] {
    if metric.contains("_first_") {
        &["contacts_first"]
    } else if metric.contains("_resumed_") {
        &["contacts_resumed"]
    } else {
        &["contacts_first", "contacts_resumed"]
    }
}

fn kind(metric: &str) -> &'static str {
    match counted_by(metric) {
        ["contacts_first"] => "first contact",
        ["contacts_resumed"] => "resumed contact",
        _ => "contact",
    }
}

impl Facts {
    /// The facts of `scenario` (with `replications` per simulation) for `targets`.
    pub fn of(scenario: &Scenario, targets: &[Assertion], replications: u32) -> Self {
        let report = scenario.report;
        let window = window(report, scenario.warmup, scenario.horizon);
        let arrivals = targets
            .iter()
            .map(|t| {
                let channels: Vec<&Arrivals> = scenario
                    .channels
                    .iter()
                    .filter(|c| t.channel.as_ref().is_none_or(|name| *name == c.name))
                    .map(|c| &c.arrivals)
                    .collect();
                offers_arrivals(&channels, report)
            })
            .collect();
        Self { window, arrivals, report, warmup: scenario.warmup, horizon: scenario.horizon, replications }
    }
}

/// Whether `[warmup, horizon)` overlaps each interval of the fold in some period.
pub fn window(report: ReportSpec, warmup: f64, horizon: f64) -> Vec<bool> {
    let period = report.fold.period_s();
    let first = (warmup / period).floor() as u64;
    let last = (horizon / period).ceil() as u64;
    (0..report.rows())
        .map(|k| {
            let start = k as f64 * report.interval_s;
            (first..=last).any(|m| {
                let from = m as f64 * period + start;
                from < horizon && from + report.interval_s > warmup
            })
        })
        .collect()
}

/// Whether any of `arrivals` offers new conversations in each interval of the fold. Rates
/// change only on the hour (profile) and at midnight (weekday), so the interval's start,
/// each hour in it and its last second are enough; a day fold looks at every weekday.
pub fn offers_arrivals(arrivals: &[&Arrivals], report: ReportSpec) -> Vec<bool> {
    let days = match report.fold {
        crate::scenario::Fold::Day => 7,
        crate::scenario::Fold::Week => 1,
    };
    (0..report.rows())
        .map(|k| {
            let start = k as f64 * report.interval_s;
            let end = start + report.interval_s - 1.0;
            let hours = (report.interval_s / 3600.0).ceil() as usize;
            (0..days).any(|d| {
                let times = (0..hours).map(|h| start + h as f64 * 3600.0).chain([end]);
                times
                    .map(|t| t + f64::from(d) * DAY_S)
                    .any(|t| arrivals.iter().any(|a| a.rate_per_s_at(t) > 0.0))
            })
        })
        .collect()
}

/// The intervals the search judges (`true`) or leaves alone for want of arrivals (`false`),
/// from what the first simulation saw (`seen[target][interval]`), or why it cannot start.
pub fn judge(targets: &[Assertion], seen: &[Vec<Seen>], facts: &Facts) -> Result<Vec<bool>, NotObserved> {
    let rows = facts.report.rows();
    let enough = |s: &Seen| s.contacts >= MIN_CONTACTS && s.summary.n >= MIN_REPLICATIONS;
    for (t, per) in targets.iter().zip(seen) {
        if per.iter().all(|s| s.contacts <= 0.0) {
            let hint = match counted_by(t.metric) {
                ["contacts_resumed"] => {
                    " (conversations of one exchange, or a bot that contains them all, leave none)"
                }
                ["contacts_first"] => " (a bot that contains every conversation leaves none)",
                _ => "",
            };
            return Err(NotObserved::Undefined {
                target: t.to_string(),
                kind: kind(t.metric),
                metric: t.metric,
                replications: facts.replications,
                hint,
            });
        }
    }
    let unseen: Vec<usize> = (0..rows).filter(|&k| !facts.window.get(k).copied().unwrap_or(false)).collect();
    if !unseen.is_empty() {
        let period = facts.report.fold.period_s();
        return Err(NotObserved::OutsideWindow {
            intervals: labels(facts.report, &unseen),
            fold: facts.report.fold.name(),
            warmup: crate::duration::format_duration(facts.warmup),
            horizon: crate::duration::format_duration(facts.horizon),
            needed: crate::duration::format_duration(facts.warmup + period),
        });
    }
    let mut judged = vec![true; rows];
    for (t, (per, arrivals)) in targets.iter().zip(seen.iter().zip(&facts.arrivals)) {
        let mut sparse = Vec::new();
        for (k, s) in per.iter().enumerate().take(rows) {
            if enough(s) {
                continue;
            }
            if arrivals.get(k).copied().unwrap_or(true) {
                sparse.push(k);
            } else {
                judged[k] = false;
            }
        }
        if !sparse.is_empty() {
            let fewest = sparse.iter().map(|&k| per[k].contacts).fold(f64::INFINITY, f64::min);
            return Err(NotObserved::Sparse {
                target: t.to_string(),
                intervals: labels(facts.report, &sparse),
                kind: kind(t.metric),
                fewest,
                replications: facts.replications,
                min: MIN_CONTACTS,
                min_reps: MIN_REPLICATIONS,
                needed: replications_needed(fewest, facts.replications),
            });
        }
    }
    Ok(judged)
}

/// Replications that would bring an interval that saw `fewest` contacts in `replications` to
/// [`MIN_CONTACTS`] (with a tenth to spare); at least 2 more than now.
fn replications_needed(fewest: f64, replications: u32) -> u64 {
    let have = f64::from(replications.max(1));
    let per_replication = (fewest / have).max(0.1 / have);
    let needed = (MIN_CONTACTS * 1.1 / per_replication).ceil();
    (needed as u64).max(u64::from(replications) + 2).max(MIN_REPLICATIONS as u64)
}

/// Intervals as runs of labels: "00:00–07:00, 13:00", at most eight runs and a count of the rest.
pub fn labels(report: ReportSpec, intervals: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &k in intervals {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == k => *end = k,
            _ => runs.push((k, k)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(8)
        .map(|&(a, b)| {
            if a == b {
                report.start_label(a)
            } else {
                format!("{}–{}", report.start_label(a), report.start_label(b))
            }
        })
        .collect();
    let rest = runs.len().saturating_sub(8);
    if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Fold;

    const HOURLY_DAY: ReportSpec = ReportSpec { interval_s: 3600.0, fold: Fold::Day };

    fn seen(contacts: f64, n: usize) -> Seen {
        let summary = MetricSummary { mean: (n > 0).then_some(0.9), ci95: (n > 1).then_some(0.01), n };
        Seen { contacts, summary }
    }

    fn facts(window: Vec<bool>, arrivals: Vec<bool>) -> Facts {
        Facts {
            window,
            arrivals: vec![arrivals],
            report: HOURLY_DAY,
            warmup: 0.0,
            horizon: DAY_S,
            replications: 2,
        }
    }

    fn sl() -> Vec<Assertion> {
        vec!["sl_first_share>=0.8".parse().unwrap()]
    }

    #[test]
    fn the_window_reaches_the_intervals_after_warm_up() {
        let w = window(HOURLY_DAY, 8.0 * 3600.0, DAY_S);
        assert_eq!(w.iter().filter(|x| !**x).count(), 8);
        assert!(!w[7] && w[8] && w[23]);
        // A second day covers the warm-up hours of the first.
        assert!(window(HOURLY_DAY, 8.0 * 3600.0, 2.0 * DAY_S).iter().all(|x| *x));
        // Three days of a week fold leave four days unobserved.
        let week = ReportSpec { interval_s: 3600.0, fold: Fold::Week };
        assert_eq!(window(week, 0.0, 3.0 * DAY_S).iter().filter(|x| **x).count(), 72);
        // Part of an interval is enough.
        assert!(window(HOURLY_DAY, 1800.0, DAY_S)[0]);
    }

    #[test]
    fn arrivals_read_the_hour_profile_and_the_weekday() {
        let mut profile = [1.0; 24];
        profile[3] = 0.0;
        let a = Arrivals { rate_per_hour: 60.0, hour_profile: Some(profile), weekday: None };
        let by_hour = offers_arrivals(&[&a], HOURLY_DAY);
        assert_eq!(by_hour.iter().position(|x| !x), Some(3));
        assert_eq!(by_hour.iter().filter(|x| !**x).count(), 1);
        // A 2-hour interval holding hour 3 offers arrivals (hour 2 does).
        let two = ReportSpec { interval_s: 7200.0, fold: Fold::Day };
        assert!(offers_arrivals(&[&a], two).iter().all(|x| *x));
        // Closed on Sunday: a week fold sees it, a day fold does not (other days are open).
        let mut weekday = [1.0; 7];
        weekday[6] = 0.0;
        let b = Arrivals { rate_per_hour: 60.0, hour_profile: None, weekday: Some(weekday) };
        let week = ReportSpec { interval_s: 3600.0, fold: Fold::Week };
        assert_eq!(offers_arrivals(&[&b], week).iter().filter(|x| !**x).count(), 24);
        assert!(offers_arrivals(&[&b], HOURLY_DAY).iter().all(|x| *x));
        // Another channel open then is enough.
        let open = Arrivals { rate_per_hour: 1.0, hour_profile: None, weekday: None };
        assert!(offers_arrivals(&[&a, &open], HOURLY_DAY).iter().all(|x| *x));
    }

    #[test]
    fn enough_contacts_in_two_replications_are_judged() {
        let all = vec![seen(40.0, 2); 24];
        assert_eq!(judge(&sl(), &[all], &facts(vec![true; 24], vec![true; 24])), Ok(vec![true; 24]));
    }

    #[test]
    fn a_sparse_interval_is_refused_with_the_replications_it_needs() {
        let mut per = vec![seen(40.0, 2); 24];
        per[3] = seen(2.0, 1);
        let err = judge(&sl(), &[per.clone()], &facts(vec![true; 24], vec![true; 24])).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, NotObserved::Sparse { needed: 33, .. }), "{text}");
        assert!(text.contains("interval(s) 03:00 ") && text.contains("--replications to about 33"), "{text}");
        // Enough contacts but defined in one replication only: still too few to judge.
        per[3] = seen(35.0, 1);
        assert!(judge(&sl(), &[per], &facts(vec![true; 24], vec![true; 24])).is_err());
    }

    #[test]
    fn an_interval_without_arrivals_is_left_alone_not_refused() {
        let mut per = vec![seen(40.0, 2); 24];
        per[3] = seen(1.0, 1);
        let mut arrivals = vec![true; 24];
        arrivals[3] = false;
        let judged = judge(&sl(), &[per], &facts(vec![true; 24], arrivals)).unwrap();
        assert_eq!(judged.iter().position(|j| !j), Some(3));
        assert_eq!(judged.iter().filter(|j| !**j).count(), 1);
    }

    #[test]
    fn warm_up_intervals_are_refused_with_the_horizon_they_need() {
        let per = vec![seen(40.0, 2); 24];
        let mut f = facts(window(HOURLY_DAY, 8.0 * 3600.0, DAY_S), vec![true; 24]);
        f.warmup = 8.0 * 3600.0;
        let text = judge(&sl(), &[per], &f).unwrap_err().to_string();
        assert!(text.contains("00:00–07:00 of the day fold are never observed"), "{text}");
        assert!(
            text.contains("horizon to at least 1d 8h") || text.contains("horizon to at least 32h"),
            "{text}"
        );
    }

    #[test]
    fn a_target_seen_nowhere_is_undefined() {
        let per = vec![seen(0.0, 0); 24];
        let resumed: Vec<Assertion> = vec!["sl_resumed_share>=0.9".parse().unwrap()];
        let err = judge(&resumed, &[per], &facts(vec![true; 24], vec![true; 24])).unwrap_err();
        assert!(err.to_string().contains("no resumed contact was ready in any interval"), "{err}");
    }

    #[test]
    fn labels_join_runs_and_count_the_rest() {
        assert_eq!(labels(HOURLY_DAY, &[0, 1, 2, 5, 7, 8]), "00:00–02:00, 05:00, 07:00–08:00");
        let every_other: Vec<usize> = (0..24).step_by(2).collect();
        assert!(labels(HOURLY_DAY, &every_other).ends_with("and 4 more"));
    }
}
