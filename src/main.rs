//! `convosim`: parse the command line, run the pipeline, print one line per error.
// println! and eprintln! panic when a write fails: print through cli::output instead.
#![warn(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;
use convosim::cli::output::{stdout_failure, write_stderr, StdoutFailure};
use convosim::cli::{execute, interrupt, usage, Cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => std::process::exit(usage::report(&error)),
    };
    // Without the handler Ctrl-C still stops the process, only without its line.
    let _ = interrupt::watch();
    match execute(cli) {
        // A reader that stopped reading (`| head -1`) is no failure of the command.
        Ok(code) => match stdout_failure() {
            None | Some(StdoutFailure::Closed) => std::process::exit(code),
            Some(StdoutFailure::Failed(error)) => {
                write_stderr(format_args!("error: cannot write to stdout: {error}\n"));
                std::process::exit(2);
            }
        },
        Err(error) => {
            // Library errors already include their cause in their message; skip repeats.
            let mut line = String::new();
            for cause in error.chain().map(|c| c.to_string()) {
                if !line.ends_with(&cause) {
                    line = if line.is_empty() { cause } else { format!("{line}: {cause}") };
                }
            }
            write_stderr(format_args!("error: {line}\n"));
            std::process::exit(2);
        }
    }
}
