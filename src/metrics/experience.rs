//! What the customer feels before and around a human answer: response times (send to the
//! agent's reply) with their percentiles, time to a human (arrival, when the customer meets the
//! bot or starts typing, to the first human pickup), and the bot tier's containment and time
//! (conversations counted by arrival).

use super::catalog::Metric;

/// One replication's counters of contacts and conversations in the window.
#[derive(Debug, Clone)]
pub(super) struct Experience {
    /// Response times of first and resumed contacts.
    responses: [LogBuckets; 2],
    /// Conversations whose first contact was picked up, and arrival-to-pickup summed.
    reached_human: u64,
    time_to_human_sum: f64,
    /// New conversations that met a bot, those it resolved, and their bot time summed.
    bot_entered: u64,
    bot_contained: u64,
    bot_time_sum: f64,
}

/// Log-linear buckets of positive times: a time's bucket is its floating-point exponent and
/// the top [`MANTISSA_BITS`] bits of its mantissa, so a bucket spans 1/256 of a power of two
/// (0.4%) and a quantile read at its midpoint is within 0.2%. Recording is a shift and an
/// increment: it happens on every reply of every scenario, where an HDR histogram's recording
/// cost a measurable share of the run.
#[derive(Debug, Clone, Default)]
struct LogBuckets {
    /// Counts by bucket, from the bucket of [`SMALLEST_S`].
    counts: Vec<u64>,
    /// Times below [`SMALLEST_S`] (zero included).
    below: u64,
    total: u64,
}

const MANTISSA_BITS: u32 = 8;
const SHIFT: u32 = 52 - MANTISSA_BITS;
/// Times below a millisecond count as zero, as in the wait histograms.
const SMALLEST_S: f64 = 0.0009765625; // 2^-10 s

impl LogBuckets {
    fn base() -> u64 {
        SMALLEST_S.to_bits() >> SHIFT
    }

    #[inline]
    fn record(&mut self, seconds: f64) {
        self.total += 1;
        if seconds.is_nan() || seconds < SMALLEST_S {
            self.below += 1;
            return;
        }
        let bucket = ((seconds.to_bits() >> SHIFT) - Self::base()) as usize;
        if bucket >= self.counts.len() {
            self.counts.resize(bucket + 1, 0);
        }
        self.counts[bucket] += 1;
    }

    /// The `q` quantile (the smallest time with at least q of the times at or below it), at its
    /// bucket's midpoint; 0 if it falls below a millisecond.
    fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = self.below;
        if seen >= rank {
            return Some(0.0);
        }
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let low = f64::from_bits((bucket as u64 + Self::base()) << SHIFT);
                let high = f64::from_bits((bucket as u64 + Self::base() + 1) << SHIFT);
                return Some((low + high) / 2.0);
            }
        }
        None
    }
}

impl Experience {
    pub(super) fn new() -> Self {
        Self {
            responses: [LogBuckets::default(), LogBuckets::default()],
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
        self.responses[usize::from(!first)].record(response);
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
        set(Metric::ResponseFirstP90, self.responses[0].quantile(0.9));
        set(Metric::ResponseResumedP90, self.responses[1].quantile(0.9));
        set(Metric::TimeToHumanMean, ratio(self.time_to_human_sum, self.reached_human));
        set(Metric::BotContainedShare, ratio(self.bot_contained as f64, self.bot_entered));
        set(Metric::BotTimeMean, ratio(self.bot_time_sum, self.bot_entered));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_buckets_give_quantiles_within_a_fifth_of_a_percent() {
        let mut b = LogBuckets::default();
        assert_eq!(b.quantile(0.9), None);
        let times: Vec<f64> = (0..10_000).map(|i| f64::from(i) * 0.037).collect();
        for t in &times {
            b.record(*t);
        }
        for q in [0.1, 0.5, 0.9, 0.99, 1.0] {
            let exact = times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
            let got = b.quantile(q).unwrap();
            assert!((got - exact).abs() <= exact * 0.002 + 0.037, "q {q}: {got} vs {exact}");
        }
        let mut zeros = LogBuckets::default();
        zeros.record(0.0);
        zeros.record(0.0);
        zeros.record(5.0);
        assert_eq!(zeros.quantile(0.5), Some(0.0));
        assert!((zeros.quantile(0.9).unwrap() - 5.0).abs() < 0.01);
    }

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
        assert!((p90 - 9.0).abs() < 9.0 * 0.002, "{p90}");
        assert_eq!(values[&(Metric::ResponseResumedP90 as usize)], None);
    }
}
