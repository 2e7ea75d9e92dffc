//! A results folder's life: complete or clearly absent, one writer at a time, checked on read.
//!
//! A run writes into `DIR.partial/` beside its folder `DIR` while holding an exclusive lock on
//! `.DIR.lock` (hidden, beside it); when every data file is written it writes `manifest.json`
//! last, with the SHA-256 of every data file, and only then moves the files into `DIR`: the
//! old manifest first out, the data files in, the new manifest last. So `DIR` holds the previous complete result for the
//! whole run; a crash in the short commit leaves a folder without a manifest, which
//! [`verify`] (and so `merge` and `compare`) refuses as incomplete. Files are moved one by one
//! rather than the folder swapped so that other things in `DIR` (shard folders merged into
//! their parent, as `results/NAME/shard-K-of-N` into `results/NAME`) stay where they are;
//! everything of the previous result (its data files, staffed scenarios and report) is
//! removed, so nothing of it survives a rewrite. `DIR` itself is made only by the commit, so
//! an interrupted first run leaves `DIR.partial` alone, which readers name as such.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::breakdowns::{BREAKDOWNS, CHANNELS_CSV, CHANNEL_INTERVALS_CSV, INTERVALS_CSV, POOLS_CSV};
use super::checkpoint::{resume_command, Checkpoint};
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
/// `staff --out`'s answers (beside the staffed scenarios, `staffed*.toml`).
pub const STAFF_JSON: &str = "staff.json";
/// The HTML report of a results folder, written after its commit (by `--report` or `report`).
pub const REPORT_HTML: &str = "report.html";
/// `staff --out`'s staffed scenario (`staffed-<policy>.toml` per policy with `--policies`).
const STAFFED: &str = "staffed";
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
    /// Takes the lock beside `dir` (creating `dir`'s parent if needed, not `dir`: an
    /// interrupted first run leaves no empty folder that looks like a result), or fails at
    /// once if another run holds it.
    pub fn lock(dir: &Path) -> Result<Self, SweepError> {
        let partial = sibling(dir, "", ".partial")?;
        let lock_path = sibling(dir, ".", ".lock")?;
        if let Some(parent) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(write_error(parent))?;
        }
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
    /// and moves the result into place, removing what is left of the previous one (its data
    /// files the new result has not, and its report). `info.files` is filled in here.
    pub fn commit(&self, info: &mut RunInfo) -> Result<(), SweepError> {
        let present = data_files_in(&self.partial)?;
        info.files = BTreeMap::new();
        for name in &present {
            let path = self.partial.join(name);
            // On disk before the manifest that vouches for it.
            File::open(&path).and_then(|f| f.sync_all()).map_err(write_error(&path))?;
            info.files.insert(name.clone(), sha256_file(&path)?);
        }
        write_manifest(&self.partial, info)?;
        let manifest = self.partial.join(MANIFEST);
        File::open(&manifest).and_then(|f| f.sync_all()).map_err(write_error(&manifest))?;

        fs::create_dir_all(&self.dir).map_err(write_error(&self.dir))?;
        remove_if_present(&self.dir.join(MANIFEST))?;
        let previous = data_files_in(&self.dir)?;
        for name in &present {
            let target = self.dir.join(name);
            fs::rename(self.partial.join(name), &target).map_err(write_error(&target))?;
        }
        // A file of an earlier, different run (a sweep's summary in what is now a shard, a
        // policy's staffed scenario that is no longer asked for), and its report.
        for name in previous.iter().filter(|n| !present.contains(n)) {
            remove_if_present(&self.dir.join(name))?;
        }
        remove_if_present(&self.dir.join(REPORT_HTML))?;
        fs::rename(&manifest, self.dir.join(MANIFEST)).map_err(write_error(&self.dir))?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(write_error(&self.dir))?;
        fs::remove_dir_all(&self.partial).map_err(write_error(&self.partial))
    }
}

/// The name of a staffed scenario: `staffed.toml`, or `staffed-<policy>.toml` for one of
/// several policies, where characters other than letters, digits, `.`, `_` and `-` become
/// `_` (a policy given as a path stays one file of the folder).
pub fn staffed_file_name(policy: Option<&str>) -> String {
    match policy {
        None => format!("{STAFFED}.toml"),
        Some(policy) => {
            let plain: String = policy.chars().map(|c| if is_plain(c) { c } else { '_' }).collect();
            format!("{STAFFED}-{plain}.toml")
        }
    }
}

fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether `name` is a name [`staffed_file_name`] gives.
fn is_staffed(name: &str) -> bool {
    match name.strip_prefix(STAFFED).and_then(|rest| rest.strip_suffix(".toml")) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('-').is_some_and(|p| !p.is_empty() && p.chars().all(is_plain)),
        None => false,
    }
}

/// Whether `name` is a data file of a results folder: listed in its manifest, moved in by a
/// commit, removed by the next one that has no such file.
fn is_data_file(name: &str) -> bool {
    DATA_FILES.contains(&name) || is_staffed(name)
}

/// The data files in `dir` (none if it does not exist): those of [`DATA_FILES`] in that
/// order, then the staffed scenarios by name.
fn data_files_in(dir: &Path) -> Result<Vec<String>, SweepError> {
    let mut names: Vec<String> =
        DATA_FILES.iter().filter(|n| dir.join(n).is_file()).map(|n| n.to_string()).collect();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(results_error(dir, format!("cannot read: {e}"))),
    };
    let mut staffed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| results_error(dir, format!("cannot read: {e}")))?;
        if let Some(name) = entry.file_name().to_str().filter(|n| is_staffed(n)) {
            staffed.push(name.to_string());
        }
    }
    staffed.sort();
    names.extend(staffed);
    Ok(names)
}

/// Where the directory entry `path` is: its folder resolved (links followed), its own name
/// kept, so that a link removed from a folder is that folder's entry.
fn entry(path: &Path) -> PathBuf {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match path.file_name() {
        Some(name) => resolved(parent).join(name),
        None => resolved(path),
    }
}

/// Refuses an `--out` whose rewrite would remove one of `inputs`: an input in that folder
/// named like a file of a results folder (`run DIR/staffed.toml --out DIR`).
pub fn check_inputs_kept(out: &Path, inputs: &[&Path]) -> Result<(), SweepError> {
    let folder = resolved(out);
    for input in inputs {
        let at = entry(input);
        let name = at.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let replaced = is_data_file(name) || name == MANIFEST || name == REPORT_HTML;
        if replaced && at.parent() == Some(folder.as_path()) {
            let message = format!(
                "writing the results here would replace the input {}; choose another --out, or move the input out of it",
                input.display()
            );
            return Err(SweepError::OutFlag { out: out.to_path_buf(), message });
        }
    }
    Ok(())
}

/// Refuses a report file `out` that is, or resolves to (links followed), a file in the
/// results folder `dir` other than its own report: the page would overwrite the results.
pub fn check_report_outside(dir: &Path, out: &Path) -> Result<(), SweepError> {
    let (target, folder) = (resolved(out), resolved(dir));
    if target.starts_with(&folder) && target != folder.join(REPORT_HTML) {
        let message = format!(
            "resolves to {}, in the results folder {} it reports on; expected a file outside it (or its {REPORT_HTML})",
            target.display(),
            dir.display()
        );
        return Err(SweepError::OutFlag { out: out.to_path_buf(), message });
    }
    Ok(())
}

/// Refuses an `--out` that is or holds `input` (`staff DIR/staffed.toml --out DIR`: its
/// staffed scenario would overwrite its input).
pub fn check_input_outside(out: &Path, input: &Path) -> Result<(), SweepError> {
    if entry(input).starts_with(resolved(out)) {
        let message = format!(
            "holds the scenario {}, which the results would overwrite or remove; choose a folder that does not hold it",
            input.display()
        );
        return Err(SweepError::OutFlag { out: out.to_path_buf(), message });
    }
    Ok(())
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
    Ok(hex(&hasher.finalize()))
}

/// A digest in lowercase hex.
pub(super) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn incomplete(dir: &Path, what: impl std::fmt::Display) -> SweepError {
    results_error(dir, format!("incomplete or modified: {what}"))
}

/// Why `dir` has no manifest: interrupted (its partial folder is beside it; a sweep's
/// checkpoint there says how to resume), or no results folder at all.
fn missing_manifest(dir: &Path) -> SweepError {
    if let Some(partial) = sibling(dir, "", ".partial").ok().filter(|p| p.is_dir()) {
        let how = match Checkpoint::load(&partial) {
            Ok(Some(checkpoint)) => {
                let run = &checkpoint.run;
                format!("resume with `{}`", resume_command(Path::new(&run.sweep_file), dir, run.shard))
            }
            _ => "run the command that writes it again".to_string(),
        };
        let partial = partial.display();
        return incomplete(
            dir,
            format!(
                "the run that writes it did not finish (interrupted, failed, or still running; what it wrote so far is in {partial}); {how}"
            ),
        );
    }
    let why = if dir.is_dir() {
        "manifest.json is missing (the run did not finish, or is still running)"
    } else {
        "no such results folder"
    };
    incomplete(dir, why)
}

/// Reads the manifest of a complete results folder and checks that every file it lists is
/// there with the bytes it had, and that `needed` files are among them.
pub fn verify(dir: &Path, needed: &[&str]) -> Result<RunInfo, SweepError> {
    if !dir.join(MANIFEST).is_file() {
        return Err(missing_manifest(dir));
    }
    let info = read_manifest(dir)?;
    for name in needed {
        if !info.files.contains_key(*name) {
            return Err(incomplete(dir, format!("{name} is not listed in manifest.json")));
        }
    }
    for (name, expected) in &info.files {
        if !is_data_file(name) {
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
    fn staffed_names_are_one_file_of_the_folder() {
        assert_eq!(staffed_file_name(None), "staffed.toml");
        assert_eq!(staffed_file_name(Some("hybrid-5m")), "staffed-hybrid-5m.toml");
        assert_eq!(staffed_file_name(Some("policies/my x.toml")), "staffed-policies_my_x.toml.toml");
        for policy in [None, Some("sticky"), Some("../a/b"), Some("é")] {
            assert!(is_data_file(&staffed_file_name(policy)), "{policy:?}");
        }
        for name in ["staffed-.toml", "staffed-../x.toml", "staffed-a/b.toml", "staffed.json", "x.toml"] {
            assert!(!is_data_file(name), "{name}");
        }
    }

    #[test]
    fn resolved_paths_compare_equal() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        fs::create_dir(&a).unwrap();
        assert_eq!(resolved(&a.join("../a/new/./x")), resolved(&a).join("new/x"));
    }
}
