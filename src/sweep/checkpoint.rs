//! The checkpoint of an unfinished sweep: how far it got and what it was, so `--resume` can
//! continue it to the same bytes an uninterrupted run writes.
//!
//! Tasks finish in task order, so "how far" is a count of tasks plus the byte length of each
//! data file (`replications.csv`, `histograms.jsonl`, `breakdowns.jsonl`) after them, with the
//! SHA-256 of those bytes: a resume continues only files whose prefix is still what was
//! written ([`HashedWriter`] hashes as it writes, so a checkpoint reads nothing back). The
//! only state not on disk is the open point's merged histograms, which are stored here
//! (canonically encoded, so decoding and adding the rest gives the same bytes). A checkpoint is
//! replaced atomically (written beside, then renamed), so a kill at any instant leaves the
//! previous one or the next.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::{create, decode_wait_histogram, results_error, write_error, RunInfo};
use super::folder::hex;
use super::SweepError;
use crate::metrics::encode_histogram;

const CHECKPOINT: &str = "checkpoint.json";
/// What to do when a partial folder cannot be continued.
const RESTART: &str = "run without --resume to start again";

/// The command that resumes the sweep of `sweep_file` into `out` (shard `[k, n]`).
pub fn resume_command(sweep_file: &Path, out: &Path, [index, count]: [u32; 2]) -> String {
    let mut command = format!("convosim sweep {} --resume --out {}", sweep_file.display(), out.display());
    if count > 1 {
        command.push_str(&format!(" --shard {index}/{count}"));
    }
    command
}

/// The first `bytes` bytes of a data file and their SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePrefix {
    /// Length.
    pub bytes: u64,
    /// SHA-256 of those bytes.
    pub sha256: String,
}

/// A data file appended to in task order, hashing what it writes, so a checkpoint records
/// the SHA-256 of what it covers without reading the file back.
pub(super) struct HashedWriter {
    path: PathBuf,
    file: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl HashedWriter {
    pub(super) fn create(path: &Path) -> Result<Self, SweepError> {
        Ok(Self { path: path.to_path_buf(), file: create(path)?, hasher: Sha256::new(), bytes: 0 })
    }

    /// Opens `path` to continue after `prefix`, once its first `prefix.bytes` bytes are
    /// checked against the recorded SHA-256 (a resume never builds on rows changed since).
    /// Nothing is cut until [`Self::cut`], so a refusal leaves the file as it was.
    pub(super) fn checked(path: &Path, prefix: &FilePrefix) -> Result<Self, SweepError> {
        let refuse = |message: String| SweepError::Resume { partial: path.to_path_buf(), message };
        let mut file = File::options()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| refuse(format!("cannot reopen: {e}; {RESTART}")))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        let mut reader = (&mut file).take(prefix.bytes);
        loop {
            let n = reader.read(&mut buffer).map_err(|e| refuse(format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            bytes += n as u64;
        }
        if bytes < prefix.bytes {
            let recorded = prefix.bytes;
            return Err(refuse(format!(
                "{bytes} bytes, but the checkpoint recorded {recorded}: the file was cut since; {RESTART}"
            )));
        }
        if hex(&hasher.clone().finalize()) != prefix.sha256 {
            return Err(refuse(format!(
                "changed since the checkpoint (the SHA-256 of its first {bytes} bytes differs); {RESTART}"
            )));
        }
        Ok(Self { path: path.to_path_buf(), file: BufWriter::new(file), hasher, bytes })
    }

    /// Cuts the file back to the checked prefix: what was written after the checkpoint is redone.
    pub(super) fn cut(&mut self) -> Result<(), SweepError> {
        let file = self.file.get_mut();
        file.set_len(self.bytes).map_err(write_error(&self.path))?;
        file.seek(SeekFrom::End(0)).map(drop).map_err(write_error(&self.path))
    }

    /// What has been written so far (flush first for it to be on disk).
    pub(super) fn prefix(&self) -> FilePrefix {
        FilePrefix { bytes: self.bytes, sha256: hex(&self.hasher.clone().finalize()) }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for HashedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

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
    /// Each data file by name: its length after `run.tasks` tasks (and the points finished by
    /// then), and the SHA-256 of those bytes.
    pub files: BTreeMap<String, FilePrefix>,
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

    /// The prefix of data file `name` this checkpoint covers.
    pub(super) fn prefix(&self, partial: &Path, name: &str) -> Result<&FilePrefix, SweepError> {
        self.files.get(name).ok_or_else(|| SweepError::Resume {
            partial: partial.join(CHECKPOINT),
            message: format!("records nothing of {name}; {RESTART}"),
        })
    }

    /// Checks that this checkpoint belongs to the run `expected` describes; `Err` says why not.
    pub fn check_belongs_to(&self, expected: &RunInfo) -> Result<(), String> {
        let run = &self.run;
        let restart = RESTART;
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
        let checkpoint = Checkpoint { run: run.clone(), files: BTreeMap::new(), open_point: None };
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
