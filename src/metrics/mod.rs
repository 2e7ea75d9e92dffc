//! Metrics: what one replication measured, and their summary over replications.
//!
//! The [`catalog`] lists every metric once, in report order; [`Recorder`] collects them in a
//! streaming way during a run (no per-contact log is kept); [`summary`] gives the mean and the
//! 95% confidence half-width over replications.

pub mod catalog;
mod recorder;
pub mod summary;

pub use catalog::{Metric, METRICS};
pub use recorder::Recorder;
pub use summary::{summarize, MetricSummary};

use hdrhistogram::Histogram;

/// Wait histograms record milliseconds.
pub const HISTOGRAM_UNIT_S: f64 = 0.001;

/// A wait histogram (milliseconds, 3 significant digits). It starts small and grows to the
/// longest wait recorded, so short-wait runs stay small in memory and on disk.
pub fn new_wait_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

/// What one replication measured.
#[derive(Debug, Clone)]
pub struct ReplicationMetrics {
    /// Values in [`METRICS`] order; `None` where undefined (e.g. no resumed contacts).
    pub values: Vec<Option<f64>>,
    /// Waits of picked-up first contacts, milliseconds.
    pub wait_first: Histogram<u64>,
    /// Waits of picked-up resumed contacts, milliseconds.
    pub wait_resumed: Histogram<u64>,
    /// Share of on-shift agent time spent at each load (index = contacts in handling).
    pub concurrency_shares: Vec<f64>,
}

impl ReplicationMetrics {
    /// The value of the metric named `name` (None if undefined or unknown).
    pub fn get(&self, name: &str) -> Option<f64> {
        catalog::index_of(name).and_then(|i| self.values[i])
    }

    /// The value of `metric`.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        self.values[metric as usize]
    }
}

/// A histogram as text: HdrHistogram's compressed V2 encoding in base64, the form other
/// HdrHistogram tools read. The encoding is canonical: equal counts give equal text, however
/// the histogram grew (so merged shards write the same bytes as one run).
pub fn encode_histogram(histogram: &Histogram<u64>) -> String {
    use base64::Engine as _;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let high = histogram.max().max(2).next_power_of_two();
    let mut canonical = Histogram::<u64>::new_with_bounds(1, high, 3).expect("bounds are valid");
    // The range covers the largest value recorded, so adding cannot fail.
    let _ = canonical.add(histogram);
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and the histogram's counts always encode.
    let _ = V2DeflateSerializer::new().serialize(&canonical, &mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The inverse of [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let mut histogram: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HdrHistogram: {e:?}"))?;
    histogram.auto(true);
    Ok(histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_encoding_and_merge_exactly() {
        let mut a = new_wait_histogram();
        let mut b = new_wait_histogram();
        for v in [0u64, 5, 1_000, 123_456] {
            a.record(v).unwrap();
        }
        b.record(9_999_999).unwrap();
        let mut decoded = decode_histogram(&encode_histogram(&a)).unwrap();
        let recorded = |h: &Histogram<u64>| {
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect::<Vec<_>>()
        };
        assert_eq!(recorded(&decoded), recorded(&a));
        // Same counts, different growth history: same text.
        let mut grown = new_wait_histogram();
        grown.record(1 << 40).unwrap();
        grown.reset();
        for v in [0u64, 5, 1_000, 123_456] {
            grown.record(v).unwrap();
        }
        assert_eq!(encode_histogram(&grown), encode_histogram(&a));
        decoded.add(&b).unwrap();
        assert_eq!(decoded.len(), 5);
        assert_eq!(decoded.value_at_quantile(1.0), b.value_at_quantile(1.0));
    }
}
