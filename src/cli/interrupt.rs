//! Ctrl-C: one line on stderr saying what is left incomplete, and exit status 130 (128 +
//! SIGINT, what shells report for a process stopped by Ctrl-C).
//!
//! By default a dedicated thread waits for the signal and ends the process at once: a run's
//! replications are pure computation with nothing to roll back, and a run of long
//! replications should not keep going until its current window ends. A sweep instead asks to
//! [`stop_between_windows`]: the first Ctrl-C only raises a flag the sweep polls after each
//! window, so it can write its checkpoint and say how to resume; a second Ctrl-C ends it at
//! once (its last checkpoint on disk is still consistent).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use signal_hook::consts::SIGINT;
use signal_hook::iterator::Signals;

/// Exit status after Ctrl-C.
pub const INTERRUPTED_EXIT: i32 = 130;

/// What an interrupt leaves incomplete, as the end of the line printed then.
static INCOMPLETE: Mutex<Option<String>> = Mutex::new(None);
/// Whether the running command stops by itself between windows on Ctrl-C.
static POLLED: AtomicBool = AtomicBool::new(false);
/// Whether Ctrl-C was pressed (only set while [`POLLED`]).
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Starts the thread that answers Ctrl-C. Call it before any work.
pub fn watch() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT])?;
    std::thread::Builder::new().name("interrupt".into()).spawn(move || {
        for _ in signals.forever() {
            if POLLED.load(Ordering::SeqCst) && !REQUESTED.swap(true, Ordering::SeqCst) {
                continue;
            }
            errln!("{}", interrupted_line());
            std::process::exit(INTERRUPTED_EXIT);
        }
    })?;
    Ok(())
}

/// From now on the first Ctrl-C only sets the flag [`requested`] reads.
pub fn stop_between_windows() {
    POLLED.store(true, Ordering::SeqCst);
}

/// Whether Ctrl-C asked a command that polls to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Records that results are being written to `dir`, for the line printed on Ctrl-C.
pub fn writing_to(dir: &Path) {
    leaves_incomplete(format!(
        "the results in {} are incomplete: the folder is unchanged, what was written is beside it (.partial)",
        dir.display()
    ));
}

/// Records what an interrupt would leave incomplete, e.g. "the results in DIR are incomplete".
pub fn leaves_incomplete(what: String) {
    if let Ok(mut incomplete) = INCOMPLETE.lock() {
        *incomplete = Some(what);
    }
}

fn interrupted_line() -> String {
    let incomplete = INCOMPLETE.lock().ok().and_then(|what| what.clone());
    format!("interrupted: {}", incomplete.as_deref().unwrap_or("no results were written"))
}
