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

/// A wait histogram (milliseconds, 3 significant digits, up to about 35 years).
pub fn new_wait_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1 << 50, 3).expect("static bounds are valid")
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
