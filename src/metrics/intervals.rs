//! The breakdown by interval of the day or week: contacts by the interval of their ready time,
//! time integrals split exactly at interval boundaries.
//!
//! Cheap in the hot loop: a contact's row is one division and one remainder of its ready time;
//! a time span inside the interval met last (the common case: spans are short, time moves
//! forward) costs two comparisons and one add per integral, and is split only when it crosses a
//! boundary.

use super::catalog::{scope_metrics, AnyMetric, BreakdownMetric, Metric, Scope};
use super::recorder::{class_values, ContactStats};
use crate::scenario::ReportSpec;

/// Contact counters by row, of first and resumed contacts: the part of an interval breakdown
/// that a channel's breakdown by interval has too.
#[derive(Debug, Clone)]
pub(super) struct ContactRows {
    first: Vec<ContactStats>,
    resumed: Vec<ContactStats>,
    resumed_by_owner: Vec<u64>,
}

impl ContactRows {
    pub(super) fn new(rows: usize) -> Self {
        Self {
            first: vec![ContactStats::default(); rows],
            resumed: vec![ContactStats::default(); rows],
            resumed_by_owner: vec![0; rows],
        }
    }

    /// The counters of first (or resumed) contacts of `row`.
    #[inline]
    pub(super) fn class(&mut self, first: bool, row: usize) -> &mut ContactStats {
        if first {
            &mut self.first[row]
        } else {
            &mut self.resumed[row]
        }
    }

    /// A contact of `row` was picked up after `wait` seconds.
    #[inline]
    pub(super) fn picked(
        &mut self,
        row: usize,
        first: bool,
        wait: f64,
        threshold: f64,
        response: f64,
        by_owner: bool,
    ) {
        self.class(first, row).add_pickup(wait, threshold, response);
        if !first {
            self.resumed_by_owner[row] += u64::from(by_owner);
        }
    }

    /// Rows kept.
    pub(super) fn len(&self) -> usize {
        self.first.len()
    }

    /// Calls `set` with each per-contact metric of `row`.
    pub(super) fn values(&self, row: usize, mut set: impl FnMut(Metric, Option<f64>)) {
        let (first, resumed) = (&self.first[row], &self.resumed[row]);
        for (m, v) in class_values(first, true).into_iter().chain(class_values(resumed, false)) {
            set(m, v);
        }
        let count = |n: u64| Some(n as f64);
        set(Metric::ContactsFirst, count(first.ready));
        set(Metric::ContactsResumed, count(resumed.ready));
        set(Metric::ConversationsAbandoned, count(first.abandoned + resumed.abandoned));
        set(Metric::UnfinishedContacts, count(first.unfinished + resumed.unfinished));
        let retention =
            (resumed.picked > 0).then(|| self.resumed_by_owner[row] as f64 / resumed.picked as f64);
        set(Metric::AffinityRetentionShare, retention);
    }
}

/// Per-row counters and integrals of one replication.
#[derive(Debug, Clone)]
pub(super) struct IntervalBreakdown {
    width: f64,
    rows: u64,
    pub(super) contacts: ContactRows,
    busy_slot_s: Vec<f64>,
    slot_s: Vec<f64>,
    on_shift_s: Vec<f64>,
    queue_area: Vec<f64>,
    /// The interval met last, `[start, end)`, and its row: most spans fall inside it.
    last: (f64, f64, usize),
}

impl IntervalBreakdown {
    pub(super) fn new(spec: ReportSpec) -> Self {
        let rows = spec.rows().max(1);
        Self {
            width: spec.interval_s,
            rows: rows as u64,
            contacts: ContactRows::new(rows),
            busy_slot_s: vec![0.0; rows],
            slot_s: vec![0.0; rows],
            on_shift_s: vec![0.0; rows],
            queue_area: vec![0.0; rows],
            last: (0.0, 0.0, 0),
        }
    }

    /// The row of time `t` (t >= 0).
    #[inline]
    pub(super) fn row(&self, t: f64) -> usize {
        let (start, end, row) = self.last;
        if t >= start && t < end {
            return row;
        }
        ((t / self.width) as u64 % self.rows) as usize
    }

    /// The counters of first (or resumed) contacts ready at `t`.
    #[inline]
    pub(super) fn class_at(&mut self, first: bool, t: f64) -> &mut ContactStats {
        let row = self.row(t);
        self.contacts.class(first, row)
    }

    /// A contact ready at `ready_at` was picked up after `wait` seconds.
    #[inline]
    pub(super) fn picked(
        &mut self,
        first: bool,
        ready_at: f64,
        wait: f64,
        threshold: f64,
        response: f64,
        by_owner: bool,
    ) {
        let row = self.row(ready_at);
        self.contacts.picked(row, first, wait, threshold, response, by_owner);
    }

    /// Calls `f(row, seconds)` for the part of `[from, to)` in each interval it touches.
    #[inline]
    fn split(&mut self, from: f64, to: f64, mut f: impl FnMut(&mut Self, usize, f64)) {
        let (last_start, last_end, last_row) = self.last;
        if from >= last_start && to <= last_end {
            return f(self, last_row, to - from);
        }
        // Times are non-negative, so truncation is the floor (and needs no libm call).
        let mut k = (from / self.width) as u64;
        let mut start = from;
        while start < to {
            let interval_start = k as f64 * self.width;
            let interval_end = (k + 1) as f64 * self.width;
            let row = (k % self.rows) as usize;
            let end = interval_end.min(to);
            f(self, row, end - start);
            self.last = (interval_start, interval_end, row);
            start = end;
            k += 1;
        }
    }

    /// An on-shift agent held `load` of its `concurrency` slots over `[from, to)` (in window).
    #[inline]
    pub(super) fn agent_span(&mut self, from: f64, to: f64, load: u32, concurrency: u32) {
        self.split(from, to, |s, row, span| {
            s.on_shift_s[row] += span;
            s.slot_s[row] += span * f64::from(concurrency);
            s.busy_slot_s[row] += span * f64::from(load);
        });
    }

    /// `waiting` contacts waited over `[from, to)` (in window).
    #[inline]
    pub(super) fn queue_span(&mut self, from: f64, to: f64, waiting: u64) {
        if waiting > 0 {
            self.split(from, to, |s, row, span| s.queue_area[row] += span * waiting as f64);
        }
    }

    /// Seconds of the window `[warmup, horizon)` in each row.
    fn exposure(&mut self, warmup: f64, horizon: f64) -> Vec<f64> {
        let mut seconds = vec![0.0; self.rows as usize];
        self.split(warmup, horizon, |_, row, span| seconds[row] += span);
        seconds
    }

    /// Each row's values, in [`scope_metrics`]`(Scope::Interval)` order.
    pub(super) fn finish(mut self, warmup: f64, horizon: f64) -> Vec<Vec<Option<f64>>> {
        let columns = scope_metrics(Scope::Interval);
        let exposure = self.exposure(warmup, horizon);
        (0..self.rows as usize)
            .map(|r| {
                let mut values = vec![None; columns.len()];
                let mut set = |m: AnyMetric, v: Option<f64>| {
                    let name = m.info().name;
                    if let Some(i) = columns.iter().position(|c| c.name == name) {
                        values[i] = v.filter(|x| x.is_finite());
                    }
                };
                let per_second = |area: f64| (exposure[r] > 0.0).then(|| area / exposure[r]);
                self.contacts.values(r, |m, v| set(AnyMetric::Run(m), v));
                let occupancy = (self.slot_s[r] > 0.0).then(|| self.busy_slot_s[r] / self.slot_s[r]);
                set(AnyMetric::Run(Metric::OccupancyShare), occupancy);
                set(AnyMetric::Run(Metric::QueueLengthMean), per_second(self.queue_area[r]));
                set(AnyMetric::Breakdown(BreakdownMetric::AgentsOnShiftMean), per_second(self.on_shift_s[r]));
                values
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Fold;

    fn hourly(fold: Fold) -> IntervalBreakdown {
        IntervalBreakdown::new(ReportSpec { interval_s: 3600.0, fold })
    }

    #[test]
    fn rows_fold_the_day_or_the_week() {
        let day = hourly(Fold::Day);
        assert_eq!(day.row(0.0), 0);
        assert_eq!(day.row(3599.9), 0);
        assert_eq!(day.row(3600.0), 1);
        assert_eq!(day.row(86_400.0 + 7200.0), 2);
        let week = hourly(Fold::Week);
        assert_eq!(week.row(86_400.0 + 7200.0), 26);
        assert_eq!(week.row(7.0 * 86_400.0), 0);
    }

    #[test]
    fn a_span_is_split_exactly_at_boundaries() {
        let mut b = hourly(Fold::Day);
        b.agent_span(3000.0, 7800.0, 1, 2);
        assert_eq!(b.on_shift_s[0], 600.0);
        assert_eq!(b.on_shift_s[1], 3600.0);
        assert_eq!(b.on_shift_s[2], 600.0);
        assert_eq!(b.slot_s[1], 7200.0);
        assert_eq!(b.busy_slot_s[2], 600.0);
        b.queue_span(86_000.0, 86_800.0, 3);
        assert_eq!(b.queue_area[23], 1200.0);
        assert_eq!(b.queue_area[0], 1200.0);
        let exposure = b.exposure(1800.0, 2.0 * 86_400.0);
        assert_eq!(exposure[0], 5400.0);
        assert_eq!(exposure[5], 7200.0);
    }
}
