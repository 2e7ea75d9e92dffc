//! The checkpoint of an unfinished sweep: how far it got and what it was, so `--resume` can
//! continue it to the same bytes an uninterrupted run writes.
//!
//! Tasks finish in task order, so "how far" is a count of tasks plus the byte lengths of
//! `replications.csv` and `histograms.jsonl` after them; the only state not on disk is the
//! open point's merged histograms, which are stored here (canonically encoded, so decoding and
//! adding the rest gives the same bytes). A checkpoint is replaced atomically (written beside,
//! then renamed), so a kill at any instant leaves the previous one or the next.

use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::files::{decode_wait_histogram, results_error, write_error, RunInfo};
use super::SweepError;
use crate::metrics::encode_histogram;

const CHECKPOINT: &str = "checkpoint.json";

/// The histograms of the point whose tasks were arriving when the checkpoint was taken.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenPoint {
    point: u64,
    wait_first_ms: String,
    wait_resumed_ms: String,
}

impl OpenPoint {
    pub(super) fn encode(point: u64, first: &Histogram<u64>, resumed: &Histogram<u64>) -> Self {
        Self { point, wait_first_ms: encode_histogram(first), wait_resumed_ms: encode_histogram(resumed) }
    }

    pub(super) fn decode(&self) -> Result<(u64, Histogram<u64>, Histogram<u64>), String> {
        Ok((
            self.point,
            decode_wait_histogram(&self.wait_first_ms)?,
            decode_wait_histogram(&self.wait_resumed_ms)?,
        ))
    }
}

/// `checkpoint.json` in a partial folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// What ran (version, input hash, seed, replications, shard, points) and how far: tasks,
    /// events, contacts, wall time over all sessions so far, the first session's start.
    pub run: RunInfo,
    /// Length of `replications.csv` after `run.tasks` tasks.
    pub replications_bytes: u64,
    /// Length of `histograms.jsonl` after the points finished by then.
    pub histograms_bytes: u64,
    /// The point under way, if its last task was not yet written.
    pub open_point: Option<OpenPoint>,
}

impl Checkpoint {
    /// The checkpoint in `partial`, or `None` if there is none.
    pub fn load(partial: &Path) -> Result<Option<Self>, SweepError> {
        let path = partial.join(CHECKPOINT);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(results_error(&path, format!("cannot read: {e}"))),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            results_error(
                &path,
                format!("not a convosim checkpoint ({e}); run without --resume to start again"),
            )
        })
    }

    pub(super) fn save(&self, partial: &Path) -> Result<(), SweepError> {
        let path = partial.join(CHECKPOINT);
        let temporary = partial.join("checkpoint.json.new");
        let text = serde_json::to_string(self).map_err(|e| results_error(&path, e.to_string()))?;
        std::fs::write(&temporary, text).map_err(write_error(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(write_error(&path))
    }

    /// Checks that this checkpoint belongs to the run `expected` describes; `Err` says why not.
    pub fn check_belongs_to(&self, expected: &RunInfo) -> Result<(), String> {
        let run = &self.run;
        let restart = "run without --resume to start again";
        if run.convosim_version != expected.convosim_version {
            return Err(format!(
                "written by convosim {}, this is {}; {restart}",
                run.convosim_version, expected.convosim_version
            ));
        }
        if run.shard != expected.shard {
            let [k, n] = run.shard;
            let [ek, en] = expected.shard;
            return Err(format!("holds shard {k}/{n}, not {ek}/{en}; give the same --shard, or {restart}"));
        }
        if (run.seed, run.replications, run.points) != (expected.seed, expected.replications, expected.points)
        {
            return Err(format!("holds a sweep with another seed, replications or points; {restart}"));
        }
        if run.content_hash != expected.content_hash {
            return Err(format!(
                "holds a sweep with other inputs (the sweep file, its base scenario or a policy file changed since); {restart}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::new_wait_histogram;

    #[test]
    fn an_open_point_decodes_to_histograms_that_keep_adding_to_the_same_bytes() {
        let (mut first, mut rest) = (new_wait_histogram(), new_wait_histogram());
        for v in [0u64, 3, 17, 250, 90_000] {
            first.record(v).unwrap();
        }
        rest.record(1_000_000).unwrap();
        let (_, mut restored, _) = OpenPoint::encode(4, &first, &first).decode().unwrap();
        first.add(&rest).unwrap();
        restored.add(&rest).unwrap();
        assert_eq!(encode_histogram(&restored), encode_histogram(&first));
    }

    #[test]
    fn a_checkpoint_of_another_run_is_refused_with_the_reason() {
        let json = r#"{"convosim_version":"0.1.0","sweep":"s","sweep_file":"s.toml","content_hash":"h",
            "seed":1,"replications":2,"points":3,"axes":[],"shard":[1,2],"tasks":4,"threads":1,
            "started":"","ended":"","wall_s":0.0,"events":0,"events_per_s":0.0,"contacts":0,"contacts_per_s":0.0}"#;
        let run: RunInfo = serde_json::from_str(json).unwrap();
        let checkpoint =
            Checkpoint { run: run.clone(), replications_bytes: 0, histograms_bytes: 0, open_point: None };
        assert!(checkpoint.check_belongs_to(&run).is_ok());
        let differ = |edit: fn(&mut RunInfo)| {
            let mut other = run.clone();
            edit(&mut other);
            checkpoint.check_belongs_to(&other).unwrap_err()
        };
        assert!(differ(|r| r.convosim_version = "9.9.9".into())
            .contains("written by convosim 0.1.0, this is 9.9.9"));
        assert!(differ(|r| r.shard = [2, 2]).contains("holds shard 1/2, not 2/2"));
        assert!(differ(|r| r.seed = 7).contains("another seed"));
        assert!(differ(|r| r.content_hash = "g".into()).contains("other inputs"));
    }
}
