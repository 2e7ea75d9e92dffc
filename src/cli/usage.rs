//! Usage errors: the flags' value parsers (each says what it expects and what it got) and the
//! one-line form of clap's errors, so a mistyped command line reads like a bad scenario key.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::scenario::MAX_REPLICATIONS;

/// Most worker threads `--threads` accepts. Rayon starts every thread up front, so a typo like
/// `--threads 100000` would spend minutes (or the process's thread limit) starting them; 256 is
/// far more than the cores of any machine this simulator targets, and more threads than cores
/// never makes a run faster.
pub const MAX_THREADS: usize = 256;

/// `--seed`: any non-negative integer that fits 64 bits.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| format!("expected a non-negative integer, got \"{text}\""))
}

/// `--replications`: from 1 to the scenario file's own limit.
pub fn parse_replications(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_REPLICATIONS).contains(n))
        .ok_or_else(|| format!("expected an integer from 1 to {MAX_REPLICATIONS}, got \"{text}\""))
}

/// `--threads`: from 1 to [`MAX_THREADS`].
pub fn parse_threads(text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_THREADS).contains(n))
        .ok_or_else(|| format!("expected a number of worker threads from 1 to {MAX_THREADS}, got \"{text}\""))
}

/// Prints a command-line error and returns the exit status: `--help` and `--version` print
/// their text to stdout (status 0); a usage error prints one `error: ` line on stderr (status 2).
pub fn report(error: &clap::Error) -> i32 {
    if !error.use_stderr() {
        // Help or version text: a closed stdout is no reason to fail.
        let _ = error.print();
        return 0;
    }
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    errln!("error: {}", usage_error_line(error, &args));
    2
}

/// The one line (without `error: `) that says what is wrong with the command line; `args` are
/// the process's arguments, used to point at the right `--help`.
pub fn usage_error_line(error: &clap::Error, args: &[String]) -> String {
    let text = |kind| error.get(kind).map(context_text).unwrap_or_default();
    let arg = || flag_name(&text(ContextKind::InvalidArg));
    let hint = || format!("see '{} --help'", help_command(error, args));
    match error.kind() {
        ErrorKind::ValueValidation => match std::error::Error::source(error) {
            Some(cause) => format!("{}: {cause}", arg()),
            None => format!("{}: invalid value \"{}\"", arg(), text(ContextKind::InvalidValue)),
        },
        ErrorKind::InvalidValue => {
            let (valid, given) = (text(ContextKind::ValidValue), text(ContextKind::InvalidValue));
            match (valid.is_empty(), given.is_empty()) {
                (true, _) => format!("{}: expected a value", arg()),
                (false, true) => format!("{}: expected a value, one of {valid}", arg()),
                (false, false) => format!("{}: expected one of {valid}, got \"{given}\"", arg()),
            }
        }
        ErrorKind::UnknownArgument => {
            let suggestion = suggest(&text(ContextKind::SuggestedArg));
            format!("unexpected argument '{}'{suggestion}; {}", text(ContextKind::InvalidArg), hint())
        }
        ErrorKind::InvalidSubcommand => {
            let suggestion = suggest(&text(ContextKind::SuggestedSubcommand));
            format!("unknown command '{}'{suggestion}; {}", text(ContextKind::InvalidSubcommand), hint())
        }
        ErrorKind::MissingRequiredArgument => {
            format!("missing {}; {}", text(ContextKind::InvalidArg), hint())
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("a command is required; {}", hint())
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            format!("{}; {}", first.trim_start_matches("error: ").trim(), hint())
        }
    }
}

fn context_text(value: &ContextValue) -> String {
    match value {
        ContextValue::Strings(items) => items.join(", "),
        ContextValue::StyledStrs(items) => {
            items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// `--seed <S>` → `--seed`; a positional `<SCENARIO>` stays as it is.
fn flag_name(arg: &str) -> String {
    match arg.split_whitespace().next() {
        Some(first) if first.starts_with('-') => first.to_string(),
        _ => arg.to_string(),
    }
}

fn suggest(suggestion: &str) -> String {
    if suggestion.is_empty() {
        String::new()
    } else {
        format!(" (did you mean '{suggestion}'?)")
    }
}

/// `convosim run` when the error is about `run`'s arguments, else `convosim`.
fn help_command(error: &clap::Error, args: &[String]) -> String {
    let usage = error.get(ContextKind::Usage).map(context_text).unwrap_or_default();
    let words: Vec<&str> = usage
        .trim_start_matches("Usage:")
        .split_whitespace()
        .take_while(|w| !w.starts_with(['-', '[', '<']))
        .collect();
    if words.len() >= 2 {
        return words.join(" ");
    }
    // The subcommands as clap knows them, so a new one needs no edit here.
    let command = <super::Cli as clap::CommandFactory>::command();
    match args.get(1) {
        Some(sub) if command.get_subcommands().any(|c| c.get_name() == sub) => format!("convosim {sub}"),
        _ => "convosim".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn replications_share_the_scenario_files_limit() {
        assert_eq!(parse_replications("1000000"), Ok(1_000_000));
        assert!(parse_replications("1000001").unwrap_err().contains("from 1 to 1000000"));
        assert!(parse_replications("0").is_err());
    }

    fn line(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let error = Cli::try_parse_from(&args).expect_err("a usage error");
        usage_error_line(&error, &args)
    }

    #[test]
    fn value_errors_name_the_flag_and_what_it_expects() {
        assert_eq!(
            line(&["convosim", "run", "s.toml", "--seed", "-1"]),
            "--seed: expected a non-negative integer, got \"-1\""
        );
        assert_eq!(
            line(&["convosim", "run", "s.toml", "--format", "xml"]),
            "--format: expected one of table, json, csv, got \"xml\""
        );
        assert!(line(&["convosim", "sweep", "s.toml", "--threads", "0"]).starts_with("--threads: expected"));
    }

    #[test]
    fn structural_errors_point_at_the_right_help() {
        assert_eq!(line(&["convosim", "run"]), "missing <SCENARIO>; see 'convosim run --help'");
        assert_eq!(
            line(&["convosim", "run", "s.toml", "--formt", "json"]),
            "unexpected argument '--formt' (did you mean '--format'?); see 'convosim run --help'"
        );
        assert_eq!(
            line(&["convosim", "runn"]),
            "unknown command 'runn' (did you mean 'run'?); see 'convosim --help'"
        );
        assert_eq!(line(&["convosim"]), "a command is required; see 'convosim --help'");
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert_eq!(parse_threads("256"), Ok(256));
        assert!(parse_threads("257").is_err());
        assert!(parse_threads("0").is_err());
        assert_eq!(parse_replications("3"), Ok(3));
        assert!(parse_replications("0").unwrap_err().contains("from 1"));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_seed("1.5").is_err());
    }
}
