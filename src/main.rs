//! `convosim`: parse the command line, run the pipeline, print one line per error.

use clap::Parser;
use convosim::cli::{execute, interrupt, usage, Cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => std::process::exit(usage::report(&error)),
    };
    // Without the handler Ctrl-C still stops the process, only without its line.
    let _ = interrupt::watch();
    match execute(cli) {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            // Library errors already include their cause in their message; skip repeats.
            let mut line = String::new();
            for cause in error.chain().map(|c| c.to_string()) {
                if !line.ends_with(&cause) {
                    line = if line.is_empty() { cause } else { format!("{line}: {cause}") };
                }
            }
            eprintln!("error: {line}");
            std::process::exit(2);
        }
    }
}
