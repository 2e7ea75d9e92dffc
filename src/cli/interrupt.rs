//! Ctrl-C: one line on stderr saying what is left incomplete, and exit status 130 (128 +
//! SIGINT, what shells report for a process stopped by Ctrl-C).
//!
//! A dedicated thread waits for the signal and ends the process at once: replications are
//! pure computation with nothing to roll back, and a run of long replications should not keep
//! going until its current window ends.

use std::path::Path;
use std::sync::Mutex;

use signal_hook::consts::SIGINT;
use signal_hook::iterator::Signals;

/// Exit status after Ctrl-C.
pub const INTERRUPTED_EXIT: i32 = 130;

/// What an interrupt leaves incomplete, as the end of the line printed then.
static INCOMPLETE: Mutex<Option<String>> = Mutex::new(None);

/// Starts the thread that answers Ctrl-C. Call it before any work.
pub fn watch() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT])?;
    std::thread::Builder::new().name("interrupt".into()).spawn(move || {
        if signals.forever().next().is_some() {
            eprintln!("{}", interrupted_line());
            std::process::exit(INTERRUPTED_EXIT);
        }
    })?;
    Ok(())
}

/// Records that results are being written to `dir`, for the line printed on Ctrl-C.
pub fn writing_to(dir: &Path) {
    leaves_incomplete(format!("the results in {} are incomplete", dir.display()));
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
