//! Metrics: what one replication measured, and their summary over replications.
//!
//! The [`catalog`] declares every metric once, in report order; [`Recorder`] collects them in a
//! streaming way during a run (no per-contact log is kept); [`summary`] gives the mean and the
//! 95% confidence half-width over replications.

pub mod catalog;
mod channels;
mod experience;
mod histograms;
mod in_system;
mod intervals;
mod pools;
mod recorder;
pub mod summary;

pub use catalog::{Metric, METRICS};
pub use histograms::{
    decode_histogram, encode_histogram, histogram_units, new_wait_histogram, Histograms, HISTOGRAM_UNIT_S,
    WAIT_FIRST, WAIT_KEYS, WAIT_RESUMED,
};
pub use in_system::InSystemSamples;
pub use recorder::{Pickup, Recorder};
pub use summary::{summarize, MetricSummary, RowValues};

/// What one replication measured.
#[derive(Debug, Clone)]
pub struct ReplicationMetrics {
    /// Values in [`METRICS`] order; `None` where undefined (e.g. no resumed contacts).
    pub values: Vec<Option<f64>>,
    /// Wait histograms by key ([`WAIT_FIRST`], [`WAIT_RESUMED`]), milliseconds.
    pub histograms: Histograms,
    /// Share of on-shift agent time spent at each load (index = contacts in handling).
    pub concurrency_shares: Vec<f64>,
    /// The breakdown by interval: per row of the fold, values in
    /// [`catalog::scope_metrics`]`(Scope::Interval)` order.
    pub intervals: Vec<Vec<Option<f64>>>,
    /// The breakdown by pool: per pool in scenario order, values in
    /// [`catalog::scope_metrics`]`(Scope::Pool)` order.
    pub pools: Vec<Vec<Option<f64>>>,
    /// The breakdown by channel (empty with one channel): per channel in scenario order,
    /// values in [`catalog::scope_metrics`]`(Scope::Channel)` order.
    pub channels: Vec<Vec<Option<f64>>>,
    /// The breakdown by channel and interval (empty with one channel): channel after channel,
    /// one row per interval of the fold, values in
    /// [`catalog::scope_metrics`]`(Scope::ChannelInterval)` order.
    pub channel_intervals: Vec<Vec<Option<f64>>>,
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
