//! A results folder's life: complete or clearly absent, one writer at a time, checked on read.
//!
//! A run writes into `DIR.partial/` beside its folder `DIR` while holding an exclusive lock on
//! `.DIR.lock` (hidden, beside it); when every data file is written it writes `manifest.json`
//! last, with the SHA-256 of every data file, and only then moves the files into `DIR`: the
//! old manifest first out, the data files in, the new manifest last. So `DIR` holds the previous complete result for the
//! whole run; a crash in the short commit leaves a folder without a manifest, which
//! [`verify`] (and so `merge` and `compare`) refuses as incomplete. Files are moved one by one
//! rather than the folder swapped so that other things in `DIR` (shard folders merged into
//! their parent, as `results/NAME/shard-K-of-N` into `results/NAME`) stay where they are.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::breakdowns::{BREAKDOWNS, CHANNELS_CSV, CHANNEL_INTERVALS_CSV, INTERVALS_CSV, POOLS_CSV};
use super::files::{read_manifest, results_error, write_error, write_manifest, RunInfo};
use super::SweepError;

/// The manifest of a results folder: its run information and the SHA-256 of every file.
pub const MANIFEST: &str = "manifest.json";
pub(super) const REPLICATIONS: &str = "replications.csv";
/// Each point's merged wait histograms.
pub const HISTOGRAMS: &str = "histograms.jsonl";
/// Each point's metrics, mean and 95% CI half-width.
pub const SUMMARY_CSV: &str = "summary.csv";
pub(super) const SUMMARY_JSON: &str = "summary.json";
/// `staff --out`'s answers (its folder holds this file alone, beside the staffed scenarios).
pub const STAFF_JSON: &str = "staff.json";
/// The data files a results folder may hold, in the order they are moved into place.
pub(super) const DATA_FILES: [&str; 10] = [
    REPLICATIONS,
    HISTOGRAMS,
    SUMMARY_CSV,
    SUMMARY_JSON,
    BREAKDOWNS,
    INTERVALS_CSV,
    POOLS_CSV,
    CHANNELS_CSV,
    CHANNEL_INTERVALS_CSV,
    STAFF_JSON,
];

/// A results folder being written: its lock is held until this is dropped.
#[derive(Debug)]
pub struct OutputFolder {
    dir: PathBuf,
    partial: PathBuf,
    /// Held for the whole run; the OS releases it when the process ends, however it ends.
    _lock: File,
}

/// `DIR` with `prefix` and `suffix` added to its last component: `results/x` →
/// `results/x.partial`, or `results/.x.lock` (hidden, so `shard-*` globs do not pick it up).
fn sibling(dir: &Path, prefix: &str, suffix: &str) -> Result<PathBuf, SweepError> {
    let name = dir
        .file_name()
        .filter(|_| !matches!(dir.components().next_back(), Some(Component::ParentDir | Component::CurDir)))
        .ok_or_else(|| {
            results_error(dir, "expected a folder with a name (its partial copy and lock go beside it)")
        })?;
    let mut sibling = std::ffi::OsString::from(prefix);
    sibling.push(name);
    sibling.push(suffix);
    Ok(dir.with_file_name(sibling))
}

impl OutputFolder {
    /// Takes the lock beside `dir` (creating `dir`'s parent and `dir` itself if needed), or
    /// fails at once if another run holds it.
    pub fn lock(dir: &Path) -> Result<Self, SweepError> {
        let partial = sibling(dir, "", ".partial")?;
        let lock_path = sibling(dir, ".", ".lock")?;
        fs::create_dir_all(dir).map_err(write_error(dir))?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(write_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(results_error(
                    dir,
                    format!(
                        "another convosim is writing this folder (it holds {}); wait for it to end or choose another --out",
                        lock_path.display()
                    ),
                ))
            }
            Err(TryLockError::Error(e)) => return Err(write_error(&lock_path)(e)),
        }
        Ok(Self { dir: dir.to_path_buf(), partial, _lock: lock })
    }

    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder the run writes into before it is complete.
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Empties the partial folder, for a run that starts from the first task.
    pub fn start_fresh(&self) -> Result<(), SweepError> {
        if self.partial.exists() {
            fs::remove_dir_all(&self.partial).map_err(write_error(&self.partial))?;
        }
        fs::create_dir_all(&self.partial).map_err(write_error(&self.partial))
    }

    /// Writes the manifest (with the checksums of the data files now in the partial folder)
    /// and moves the result into place. `info.files` is filled in here.
    pub fn commit(&self, info: &mut RunInfo) -> Result<(), SweepError> {
        let present: Vec<&str> =
            DATA_FILES.iter().copied().filter(|n| self.partial.join(n).exists()).collect();
        info.files = BTreeMap::new();
        for name in &present {
            let path = self.partial.join(name);
            // On disk before the manifest that vouches for it.
            File::open(&path).and_then(|f| f.sync_all()).map_err(write_error(&path))?;
            info.files.insert(name.to_string(), sha256_file(&path)?);
        }
        write_manifest(&self.partial, info)?;
        let manifest = self.partial.join(MANIFEST);
        File::open(&manifest).and_then(|f| f.sync_all()).map_err(write_error(&manifest))?;

        remove_if_present(&self.dir.join(MANIFEST))?;
        for name in DATA_FILES {
            let target = self.dir.join(name);
            if present.contains(&name) {
                let source = self.partial.join(name);
                fs::rename(&source, &target).map_err(write_error(&target))?;
            } else {
                // A file of an earlier, different run (a sweep's summary in what is now a shard).
                remove_if_present(&target)?;
            }
        }
        fs::rename(&manifest, self.dir.join(MANIFEST)).map_err(write_error(&self.dir))?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(write_error(&self.dir))?;
        fs::remove_dir_all(&self.partial).map_err(write_error(&self.partial))
    }
}

fn remove_if_present(path: &Path) -> Result<(), SweepError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(write_error(path)(e)),
        _ => Ok(()),
    }
}

/// SHA-256 of a file's bytes, hex.
pub(super) fn sha256_file(path: &Path) -> Result<String, SweepError> {
    use sha2::{Digest, Sha256};
    let mut file = File::open(path).map_err(|e| results_error(path, format!("cannot read: {e}")))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| results_error(path, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn incomplete(dir: &Path, what: impl std::fmt::Display) -> SweepError {
    results_error(dir, format!("incomplete or modified: {what}"))
}

/// Reads the manifest of a complete results folder and checks that every file it lists is
/// there with the bytes it had, and that `needed` files are among them.
pub fn verify(dir: &Path, needed: &[&str]) -> Result<RunInfo, SweepError> {
    if !dir.join(MANIFEST).is_file() {
        let why = if dir.is_dir() {
            "manifest.json is missing (the run did not finish, or is still running)"
        } else {
            "no such results folder"
        };
        return Err(incomplete(dir, why));
    }
    let info = read_manifest(dir)?;
    for name in needed {
        if !info.files.contains_key(*name) {
            return Err(incomplete(dir, format!("{name} is not listed in manifest.json")));
        }
    }
    for (name, expected) in &info.files {
        if !DATA_FILES.contains(&name.as_str()) {
            return Err(incomplete(dir, format!("manifest.json lists an unknown file \"{name}\"")));
        }
        let path = dir.join(name);
        if !path.is_file() {
            return Err(incomplete(dir, format!("{name} is missing")));
        }
        if sha256_file(&path)? != *expected {
            return Err(incomplete(dir, format!("{name} (its SHA-256 differs from manifest.json)")));
        }
    }
    Ok(info)
}

/// `path` made absolute with `.` and `..` resolved, following links where the path exists,
/// so that two spellings of one folder compare equal.
pub(super) fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.iter().rev() {
        match Path::new(name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) => {}
            _ => out.push(name),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_and_lock_sit_beside_the_folder() {
        assert_eq!(sibling(Path::new("results/x"), "", ".partial").unwrap(), Path::new("results/x.partial"));
        assert_eq!(sibling(Path::new("x/"), ".", ".lock").unwrap(), Path::new(".x.lock"));
        assert!(sibling(Path::new("/"), ".", ".lock").is_err());
        assert!(sibling(Path::new("a/.."), ".", ".lock").is_err());
    }

    #[test]
    fn a_second_lock_on_one_folder_fails_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let first = OutputFolder::lock(&dir).unwrap();
        let second = OutputFolder::lock(&dir).unwrap_err().to_string();
        assert!(second.contains("another convosim is writing this folder"), "{second}");
        drop(first);
        assert!(OutputFolder::lock(&dir).is_ok());
    }

    #[test]
    fn resolved_paths_compare_equal() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        fs::create_dir(&a).unwrap();
        assert_eq!(resolved(&a.join("../a/new/./x")), resolved(&a).join("new/x"));
    }
}
