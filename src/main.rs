//! `convosim`: parse the command line, run the pipeline, print one line per error.

use clap::Parser;
use convosim::cli::{execute, Cli};

fn main() {
    let cli = Cli::parse();
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
