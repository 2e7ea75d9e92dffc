//! What the customer feels before and around a human answer: response times (send to the
//! agent's reply) with their percentiles, time to a human (arrival to the first human pickup,
//! bot time included), and the bot tier's containment and time.

use hdrhistogram::Histogram;

use super::catalog::Metric;
use super::{new_wait_histogram, HISTOGRAM_UNIT_S};

/// One replication's counters of contacts and conversations in the window.
#[derive(Debug, Clone)]
pub(super) struct Experience {
    /// Response times of first and resumed contacts, milliseconds.
    responses: [Histogram<u64>; 2],
    /// Conversations whose first contact was picked up, and arrival-to-pickup summed.
    reached_human: u64,
    time_to_human_sum: f64,
    /// New conversations that met a bot, those it resolved, and their bot time summed.
    bot_entered: u64,
    bot_contained: u64,
    bot_time_sum: f64,
}

impl Experience {
    pub(super) fn new() -> Self {
        Self {
            responses: [new_wait_histogram(), new_wait_histogram()],
            reached_human: 0,
            time_to_human_sum: 0.0,
            bot_entered: 0,
            bot_contained: 0,
            bot_time_sum: 0.0,
        }
    }

    /// A reply `response` seconds after the customer's send.
    #[inline]
    pub(super) fn responded(&mut self, first: bool, response: f64) {
        // An auto-resizing histogram only fails on values beyond u64, which a time cannot reach.
        let _ = self.responses[usize::from(!first)].record((response / HISTOGRAM_UNIT_S).round() as u64);
    }

    /// A conversation's first contact was picked up `since_arrival` seconds after it arrived.
    #[inline]
    pub(super) fn reached_human(&mut self, since_arrival: f64) {
        self.reached_human += 1;
        self.time_to_human_sum += since_arrival;
    }

    /// A new conversation spent `time` with the bot, which resolved it if `contained`.
    pub(super) fn bot(&mut self, time: f64, contained: bool) {
        self.bot_entered += 1;
        self.bot_contained += u64::from(contained);
        self.bot_time_sum += time;
    }

    /// The values, for `set`.
    pub(super) fn finish(&self, mut set: impl FnMut(Metric, Option<f64>)) {
        let ratio = |num: f64, den: u64| (den > 0).then(|| num / den as f64);
        let p90 =
            |h: &Histogram<u64>| (!h.is_empty()).then(|| h.value_at_quantile(0.9) as f64 * HISTOGRAM_UNIT_S);
        set(Metric::ResponseFirstP90, p90(&self.responses[0]));
        set(Metric::ResponseResumedP90, p90(&self.responses[1]));
        set(Metric::TimeToHumanMean, ratio(self.time_to_human_sum, self.reached_human));
        set(Metric::BotContainedShare, ratio(self.bot_contained as f64, self.bot_entered));
        set(Metric::BotTimeMean, ratio(self.bot_time_sum, self.bot_entered));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_without_events_and_means_with_them() {
        let mut e = Experience::new();
        let mut values = Vec::new();
        e.finish(|m, v| values.push((m, v)));
        assert!(values.iter().all(|(_, v)| v.is_none()));
        e.bot(30.0, true);
        e.bot(90.0, false);
        e.reached_human(100.0);
        for r in 1..=10 {
            e.responded(true, f64::from(r));
        }
        let mut values = std::collections::HashMap::new();
        e.finish(|m, v| {
            values.insert(m as usize, v);
        });
        assert_eq!(values[&(Metric::BotContainedShare as usize)], Some(0.5));
        assert_eq!(values[&(Metric::BotTimeMean as usize)], Some(60.0));
        assert_eq!(values[&(Metric::TimeToHumanMean as usize)], Some(100.0));
        let p90 = values[&(Metric::ResponseFirstP90 as usize)].unwrap();
        assert!((p90 - 9.0).abs() < 0.01, "{p90}");
        assert_eq!(values[&(Metric::ResponseResumedP90 as usize)], None);
    }
}
