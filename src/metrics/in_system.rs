//! The number of contacts in the system L(t) (in handling or waiting), sampled at fixed times
//! of the report fold: what the Iterative Staffing Algorithm reads P(L(t) ≥ n) from.
//!
//! Each report interval holds `per_interval` sample times, at the middle of equal
//! sub-intervals (never on a boundary, where staffing changes). A sample is a count in a
//! histogram per sample time of the fold, so replications and days add up exactly.

use crate::scenario::ReportSpec;

/// Samples of L(t) per sample time of the fold, summed over days and replications.
#[derive(Debug, Clone, PartialEq)]
pub struct InSystemSamples {
    step_s: f64,
    per_interval: usize,
    /// `counts[slot][n]`: samples at sample time `slot` of the fold that found `n` contacts.
    counts: Vec<Vec<u64>>,
}

impl InSystemSamples {
    /// Empty histograms for `per_interval` (at least 1) sample times per interval of `report`.
    pub fn new(report: ReportSpec, per_interval: u32) -> Self {
        let per_interval = per_interval.max(1) as usize;
        let slots = report.rows().max(1) * per_interval;
        Self {
            step_s: report.interval_s / per_interval as f64,
            per_interval,
            counts: vec![Vec::new(); slots],
        }
    }

    /// The time of sample `k` (counted from time 0).
    #[inline]
    pub fn time_of(&self, k: u64) -> f64 {
        (k as f64 + 0.5) * self.step_s
    }

    /// The first sample at or after `t`.
    pub fn first_at_or_after(&self, t: f64) -> u64 {
        let k = (t / self.step_s - 0.5).ceil().max(0.0) as u64;
        // Guard against rounding: step back while the previous sample is still at or after t.
        if k > 0 && self.time_of(k - 1) >= t {
            k - 1
        } else {
            k
        }
    }

    /// Sample `k` found `in_system` contacts.
    pub fn record(&mut self, k: u64, in_system: u64) {
        let slot = (k % self.counts.len() as u64) as usize;
        let n = usize::try_from(in_system).unwrap_or(usize::MAX);
        let counts = &mut self.counts[slot];
        if counts.len() <= n {
            counts.resize(n + 1, 0);
        }
        counts[n] += 1;
    }

    /// Adds another run's samples (same report and sampling).
    pub fn add(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), 0);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// Per report interval, the fewest slots `n` with P(L(t) ≥ n) ≤ `alpha` at every sample
    /// time `t` of the interval (0 for an interval never sampled).
    pub fn slots_for(&self, alpha: f64) -> Vec<u32> {
        self.counts
            .chunks(self.per_interval)
            .map(|times| times.iter().map(|counts| fewest_slots(counts, alpha)).max().unwrap_or(0))
            .collect()
    }
}

/// The smallest `n` with (samples ≥ n) ≤ `alpha` × samples, from a histogram of counts.
fn fewest_slots(counts: &[u64], alpha: f64) -> u32 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let allowed = alpha * total as f64;
    // Walk down from the top: `at_least` is the number of samples ≥ n.
    let mut at_least = 0u64;
    for n in (0..counts.len()).rev() {
        at_least += counts[n];
        if at_least as f64 > allowed {
            // n itself is too few; n + 1 is the smallest that meets.
            return u32::try_from(n + 1).unwrap_or(u32::MAX);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Fold;

    fn hourly_day() -> ReportSpec {
        ReportSpec { interval_s: 3600.0, fold: Fold::Day }
    }

    #[test]
    fn sample_times_sit_mid_step_and_fold_over_the_day() {
        let s = InSystemSamples::new(hourly_day(), 4);
        assert_eq!(s.time_of(0), 450.0);
        assert_eq!(s.time_of(5), 5.5 * 900.0);
        assert_eq!(s.first_at_or_after(0.0), 0);
        assert_eq!(s.first_at_or_after(450.0), 0);
        assert_eq!(s.first_at_or_after(450.1), 1);
        assert_eq!(s.first_at_or_after(86_400.0), 96);
        assert_eq!(s.counts.len(), 96);
    }

    #[test]
    fn the_fewest_slots_bound_the_tail_by_alpha() {
        // L = 0..=9 once each: P(L ≥ n) = (10 - n) / 10.
        let counts = vec![1; 10];
        assert_eq!(fewest_slots(&counts, 0.2), 8);
        assert_eq!(fewest_slots(&counts, 0.25), 8);
        assert_eq!(fewest_slots(&counts, 0.0), 10);
        assert_eq!(fewest_slots(&counts, 1.0), 0);
        assert_eq!(fewest_slots(&[], 0.1), 0);
    }

    #[test]
    fn an_interval_takes_its_worst_sample_time_and_runs_add_up() {
        let mut a = InSystemSamples::new(hourly_day(), 2);
        // Interval 0: the first sample time always finds 3, the second 5.
        a.record(0, 3);
        a.record(1, 5);
        // The same sample time a day later folds onto the first.
        a.record(48, 3);
        let mut b = a.clone();
        b.record(2, 1);
        a.add(&b);
        assert_eq!(a.counts[0], vec![0, 0, 0, 4]);
        let slots = a.slots_for(0.1);
        assert_eq!(slots[0], 6);
        assert_eq!(slots[1], 2);
        assert_eq!(slots[2], 0);
        assert_eq!(slots.len(), 24);
    }
}
