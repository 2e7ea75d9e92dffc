//! Everything the commands print: `out!`/`outln!` for stdout, `errln!` for messages on stderr.
//! `println!` and `eprintln!` panic when a write fails; these never do.
//!
//! stdout: the first failed write is remembered and the rest of the output is dropped, while
//! the command finishes its work (its results folder, its assertions); `main` then asks
//! [`stdout_failure`]. A reader that went away (`| head -1`: broken pipe) is no failure of the
//! command, so it ends quietly with its own exit status; any other failure (`> /dev/full`:
//! no space left) is one `error:` line and exit status 2.
//!
//! Why not restore SIGPIPE's default action (Rust ignores it, so writes return `EPIPE`)? The
//! signal would end the process at whichever write met the closed pipe, from any thread:
//! `run --out DIR` prints before it moves its results folder into place, so a reader that
//! stops early would cost the results the user asked for. And a full disk raises no signal,
//! so the writes would need checking anyway. One shared record works from worker threads too
//! (`staff --per-interval` prints inside the thread pool).
//!
//! stderr: its messages are best-effort. A closed or full stderr has nowhere to be reported,
//! and must not change what the command does.

use std::io::{self, Write};
use std::sync::Mutex;

/// The first failed write to stdout, if any.
static STDOUT_FAILURE: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout and flushes (so a failure is seen now, not at exit), unless an earlier
/// write failed; use through `out!`/`outln!`.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut failure = STDOUT_FAILURE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if failure.is_some() {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        *failure = Some(error);
    }
}

/// Writes a message to stderr, ignoring failure; use through `errln!`.
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// How writing to stdout ended.
#[derive(Debug)]
pub enum StdoutFailure {
    /// The reader closed the pipe: nothing more to say.
    Closed,
    /// Any other failure, e.g. no space left on the device.
    Failed(io::Error),
}

/// Whether a write to stdout failed, and how.
pub fn stdout_failure() -> Option<StdoutFailure> {
    let failure = STDOUT_FAILURE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    failure.as_ref().map(|error| match error.kind() {
        io::ErrorKind::BrokenPipe => StdoutFailure::Closed,
        _ => StdoutFailure::Failed(io::Error::new(error.kind(), error.to_string())),
    })
}

/// `print!` that never panics: see the module docs.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that never panics: see the module docs.
macro_rules! outln {
    () => {
        $crate::cli::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics: see the module docs.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
