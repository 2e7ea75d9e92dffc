//! Parameter sweeps: a base scenario, axes over any of its keys, replications; run in
//! parallel, split into shards for a cluster, merged exactly.
//!
//! Every replication's seed is a function of (seed, replication), the same at every point
//! (common random numbers; with `common_random_numbers = false`, of (seed, point, replication)),
//! so a task's result does not depend on which thread, shard or machine ran it. Results stream to disk in task order;
//! the summary is computed from the per-replication rows by the same code whether they came
//! from one run or from merged shards, so both give the same bytes. A results folder is
//! written beside itself and moved into place when complete (`folder.rs`); an unfinished
//! sweep keeps a checkpoint there and can be resumed (`checkpoint.rs`).

mod breakdowns;
mod checkpoint;
mod exec;
mod files;
mod folder;
mod merge;
mod spec;
mod summary;

pub use breakdowns::{
    read_channel_summaries, PointChannels, CHANNELS_CSV, CHANNEL_INTERVALS_CSV, INTERVALS_CSV, POOLS_CSV,
};
pub use checkpoint::{resume_command, Checkpoint, FilePrefix};
pub use exec::{execute, shard_tasks, Shard, Step, TaskResult};
pub use files::{Layout, ResultsWriter, RunInfo};
pub use folder::{
    check_input_outside, check_inputs_kept, check_report_outside, staffed_file_name, verify, OutputFolder,
    HISTOGRAMS, MANIFEST, REPORT_HTML, STAFF_JSON, SUMMARY_CSV,
};
pub use merge::{merge, summarize_in_place};
pub use spec::{content_hash, describe_point, load_sweep, Axis, Point, SweepSpec};
pub use summary::{read_summary, SummaryRow, SummaryTable};

use std::path::PathBuf;

use crate::error::ScenarioError;

/// Why a sweep could not be loaded, run or merged.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A key of the sweep file is wrong.
    #[error("{}: {key}: {message}", file.display())]
    Invalid {
        /// The sweep file.
        file: PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An axis cannot be applied at a point.
    #[error("{}: axis \"{axis}\" at point ({point}): {message}", file.display())]
    Axis {
        /// The sweep file.
        file: PathBuf,
        /// The axis path.
        axis: String,
        /// The point's axis values.
        point: String,
        /// What is wrong.
        message: String,
    },
    /// A point's scenario is invalid.
    #[error("{}: at point ({point}): {error}", file.display())]
    Point {
        /// The sweep file.
        file: PathBuf,
        /// The point's axis values.
        point: String,
        /// The scenario error.
        error: Box<ScenarioError>,
    },
    /// A sweep or scenario file cannot be read or parsed, or the base scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A replication could not finish.
    #[error(transparent)]
    Run(#[from] crate::runner::ReplicationError),
    /// A `--shard` value is malformed.
    #[error("--shard {given}: expected K/N with 1 <= K <= N, e.g. 2/8")]
    ShardSpec {
        /// What was given.
        given: String,
    },
    /// Shard directories do not fit together, or a results file is malformed.
    #[error("{}: {message}", path.display())]
    Results {
        /// The directory or file at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `--out` cannot be used.
    #[error("--out {}: {message}", out.display())]
    OutFlag {
        /// The folder given.
        out: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `--resume` cannot continue the partial folder.
    #[error("--resume: {}: {message}", partial.display())]
    Resume {
        /// The partial folder.
        partial: PathBuf,
        /// Why not.
        message: String,
    },
    /// Writing results failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
