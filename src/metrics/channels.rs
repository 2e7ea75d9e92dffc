//! The breakdown by channel: every per-contact metric (contacts, waits and their percentiles,
//! waited share, service level against the channel's own thresholds, abandonment, unfinished,
//! affinity retention) for each channel, from the same counters as the whole run, and each
//! channel's per-contact metrics by interval of the day or week.

use hdrhistogram::Histogram;

use super::catalog::{scope_metrics, Metric, Scope};
use super::intervals::ContactRows;
use super::recorder::{class_values, ContactStats};
use super::{histogram_units, new_wait_histogram, HISTOGRAM_UNIT_S};

/// One channel's counters, of contacts ready in the window.
#[derive(Debug, Clone)]
struct ChannelCounts {
    /// First and resumed contacts.
    class: [ContactStats; 2],
    /// Waits of picked-up first and resumed contacts.
    waits: [Histogram<u64>; 2],
    resumed_by_owner: u64,
    /// The same contacts by interval of their ready time.
    by_interval: ContactRows,
}

/// Per-channel counters; kept only when a scenario has several channels.
#[derive(Debug, Clone)]
pub(super) struct ChannelBreakdown {
    channels: Vec<ChannelCounts>,
}

impl ChannelBreakdown {
    /// Counters for `channels` channels, each also by `rows` intervals.
    pub(super) fn new(channels: usize, rows: usize) -> Self {
        let counts = ChannelCounts {
            class: Default::default(),
            waits: [new_wait_histogram(), new_wait_histogram()],
            resumed_by_owner: 0,
            by_interval: ContactRows::new(rows),
        };
        Self { channels: vec![counts; channels] }
    }

    /// Calls `f` with the counters of `channel`'s first (or resumed) contacts, over the window
    /// and in interval `row`.
    #[inline]
    pub(super) fn count(&mut self, channel: usize, first: bool, row: usize, f: impl Fn(&mut ContactStats)) {
        let counts = &mut self.channels[channel];
        f(&mut counts.class[usize::from(!first)]);
        f(counts.by_interval.class(first, row));
    }

    /// A contact of `channel` ready in interval `row` was picked up after `wait` seconds. Out
    /// of line: the recorder's pickup stays small enough to inline its own histogram record,
    /// which a one-channel run (no breakdown by channel) pays for on every pickup.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)] // the recorder's pickup, spelled out
    pub(super) fn picked(
        &mut self,
        channel: usize,
        row: usize,
        first: bool,
        wait: f64,
        threshold: f64,
        response: f64,
        by_owner: bool,
    ) {
        let counts = &mut self.channels[channel];
        counts.class[usize::from(!first)].add_pickup(wait, threshold, response);
        counts.by_interval.picked(row, first, wait, threshold, response, by_owner);
        // An auto-resizing histogram only fails on values beyond u64, which a wait cannot reach.
        let _ = counts.waits[usize::from(!first)].record(histogram_units(wait));
        if !first {
            counts.resumed_by_owner += u64::from(by_owner);
        }
    }

    /// Each channel's values by interval, channel after channel (the row of channel `c` and
    /// interval `i` is `c * rows + i`), in [`scope_metrics`]`(Scope::ChannelInterval)` order.
    pub(super) fn finish_intervals(&self) -> Vec<Vec<Option<f64>>> {
        let columns = scope_metrics(Scope::ChannelInterval);
        let mut rows = Vec::new();
        for counts in &self.channels {
            for row in 0..counts.by_interval.len() {
                let mut values = vec![None; columns.len()];
                counts.by_interval.values(row, |m, v| {
                    let name = super::METRICS[m as usize].name;
                    if let Some(i) = columns.iter().position(|c| c.name == name) {
                        values[i] = v.filter(|x| x.is_finite());
                    }
                });
                rows.push(values);
            }
        }
        rows
    }

    /// Each channel's values, in [`scope_metrics`]`(Scope::Channel)` order.
    pub(super) fn finish(&self) -> Vec<Vec<Option<f64>>> {
        let columns = scope_metrics(Scope::Channel);
        self.channels
            .iter()
            .map(|counts| {
                let mut values = vec![None; columns.len()];
                let mut set = |m: Metric, v: Option<f64>| {
                    let name = super::METRICS[m as usize].name;
                    if let Some(i) = columns.iter().position(|c| c.name == name) {
                        values[i] = v.filter(|x| x.is_finite());
                    }
                };
                for (first, stats) in [(true, &counts.class[0]), (false, &counts.class[1])] {
                    for (metric, value) in class_values(stats, first) {
                        set(metric, value);
                    }
                    let hist = &counts.waits[usize::from(!first)];
                    let at = |q: f64| {
                        (!hist.is_empty()).then(|| hist.value_at_quantile(q) as f64 * HISTOGRAM_UNIT_S)
                    };
                    let m = |f: Metric, r: Metric| if first { f } else { r };
                    set(m(Metric::WaitFirstP50, Metric::WaitResumedP50), at(0.50));
                    set(m(Metric::WaitFirstP90, Metric::WaitResumedP90), at(0.90));
                    set(m(Metric::WaitFirstP95, Metric::WaitResumedP95), at(0.95));
                    set(m(Metric::WaitFirstP99, Metric::WaitResumedP99), at(0.99));
                    set(m(Metric::WaitFirstMax, Metric::WaitResumedMax), stats.max_wait());
                    set(m(Metric::ContactsFirst, Metric::ContactsResumed), Some(stats.ready as f64));
                }
                let [first, resumed] = &counts.class;
                set(Metric::QueueTimeFirstAllMean, first.queue_time_all_mean());
                let retention =
                    (resumed.picked > 0).then(|| counts.resumed_by_owner as f64 / resumed.picked as f64);
                set(Metric::AffinityRetentionShare, retention);
                set(Metric::UnfinishedContacts, Some((first.unfinished + resumed.unfinished) as f64));
                set(Metric::ConversationsAbandoned, Some((first.abandoned + resumed.abandoned) as f64));
                values
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_counts_its_own_contacts() {
        let mut b = ChannelBreakdown::new(2, 3);
        b.count(0, true, 0, |c| c.ready += 1);
        b.count(0, true, 2, |c| c.ready += 1);
        b.picked(0, 0, true, 0.0, 30.0, 0.0, false);
        b.picked(0, 2, true, 40.0, 30.0, 0.0, false);
        b.count(1, false, 1, |c| c.ready += 1);
        b.picked(1, 1, false, 10.0, 60.0, 0.0, true);
        let rows = b.finish();
        let columns = scope_metrics(Scope::Channel);
        let at = |c: usize, name: &str| rows[c][columns.iter().position(|m| m.name == name).unwrap()];
        assert_eq!(at(0, "contacts_first"), Some(2.0));
        assert_eq!(at(0, "wait_first_mean_s"), Some(20.0));
        assert_eq!(at(0, "sl_first_share"), Some(0.5));
        assert_eq!(at(0, "wait_first_max_s"), Some(40.0));
        assert_eq!(at(1, "contacts_first"), Some(0.0));
        assert_eq!(at(1, "affinity_retention_share"), Some(1.0));
        assert_eq!(at(1, "wait_first_mean_s"), None);

        let by_interval = b.finish_intervals();
        assert_eq!(by_interval.len(), 2 * 3, "channel-major rows");
        let columns = scope_metrics(Scope::ChannelInterval);
        let at =
            |row: usize, name: &str| by_interval[row][columns.iter().position(|m| m.name == name).unwrap()];
        assert_eq!(at(0, "wait_first_mean_s"), Some(0.0));
        assert_eq!(at(2, "wait_first_mean_s"), Some(40.0));
        assert_eq!(at(1, "contacts_first"), Some(0.0));
        assert_eq!(at(3 + 1, "affinity_retention_share"), Some(1.0));
        assert_eq!(at(3 + 1, "contacts_resumed"), Some(1.0));
    }
}
