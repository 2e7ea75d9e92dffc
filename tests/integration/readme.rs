//! The README's shown output is what its commands print. Every fenced block whose first line
//! is `$ convosim ...` or `$ cargo run --release --example ...` is read FROM README.md (the
//! command and the output under it) and run here, so the two cannot drift:
//! - a block without an elision line (`…` or `...`) must be printed exactly (stdout, then stderr);
//! - a block with elided rows must have each of its other lines, in order, in what is printed;
//! - a command shown without output must succeed;
//! - lines that state a wall time ([`VOLATILE`]) are compared with their numbers masked;
//! - a block may be exempted only in [`EXEMPT`], with the reason; the slow ones still run
//!   under `cargo test --release --test integration readme -- --ignored`.
//!
//! Commands run in a scratch directory where `scenarios/`, `policies/` and `capacities/` link
//! to the repository's (so results folders land there, not in `results/`), beside the
//! [`FIXTURES`]: the user's mistaken files that the README's error examples check.
//!
//! When a merge changes an output, the failure prints a diff (`-` README, `+` printed) for
//! every block that differs: paste the printed text into the README.

use std::path::Path;
use std::time::Duration;

use crate::cli::convosim;

/// Blocks not run by the fast test: (the command's start, as in the README; why).
const EXEMPT: &[(&str, Exemption)] = &[(
    "convosim staff scenarios/week-messaging.toml",
    Exemption::Slow(
        "per-interval searches over a week: 15-50 s each in release on 2 cores (the two-target \
         search over three policies is the longest)",
    ),
)];

/// Why a block is not run by the fast test.
enum Exemption {
    /// Too slow for CI's budget; run by `readme_slow_commands_print_what_the_readme_shows`.
    Slow(&'static str),
}

/// Lines that state wall times or rates, which vary by machine: their numbers are masked.
const VOLATILE: &[&str] = &[
    "ENGINE ",      // `run`: events, wall time and events/s
    " task(s) in ", // `sweep`: tasks, wall time, events/s and contacts/s
];

/// A file the README's error examples check: a bundled scenario with edits.
struct Fixture {
    name: &'static str,
    base: &'static str,
    /// (text, replacement), each applied once.
    edits: &'static [(&'static str, &'static str)],
}

const FIXTURES: &[Fixture] = &[
    Fixture { name: "bad.toml", base: "quickstart.toml", edits: &[("mean = \"4m\" }", "mean = \"-3m\" }")] },
    Fixture {
        name: "typo.toml",
        base: "reference.toml",
        edits: &[("kind = \"hybrid\"", "kind = \"stiky\"")],
    },
    Fixture {
        name: "over.toml",
        base: "reference.toml",
        edits: &[
            ("rate_per_hour = 120", "rate_per_hour = 500"),
            ("patience_first   = { dist = \"exponential\", mean = \"10m\" }\n", ""),
        ],
    },
];

/// One command of the README and the output shown under it.
#[derive(Debug, Clone)]
struct Shown {
    /// The README line of the `$`.
    line: usize,
    /// The command as written, continuation lines joined.
    command: String,
    /// The lines shown under it, up to the next `$` or the end of the block.
    output: Vec<String>,
}

#[test]
fn readme_commands_print_what_the_readme_shows() {
    let shown = readme_commands();
    for (start, _) in EXEMPT {
        assert!(
            shown.iter().any(|s| s.command.starts_with(start)),
            "EXEMPT names no README command: {start}"
        );
    }
    for s in &shown {
        if let Some(Exemption::Slow(why)) = exemption(s) {
            println!("README.md:{}: not run here ({why}): $ {}", s.line, s.command);
        }
    }
    let checked: Vec<&Shown> = shown.iter().filter(|s| exemption(s).is_none()).collect();
    assert!(checked.len() >= 10, "too few README commands found: {shown:#?}");
    check_all(&checked, crate::cli::PATIENCE);
}

#[test]
#[ignore = "slow: the README's per-interval staffing runs (2-6 minutes in release on 2 cores); run with --ignored"]
fn readme_slow_commands_print_what_the_readme_shows() {
    let shown = readme_commands();
    let slow: Vec<&Shown> =
        shown.iter().filter(|s| matches!(exemption(s), Some(Exemption::Slow(_)))).collect();
    assert!(!slow.is_empty());
    // Each takes up to a minute on a busy machine: a hang still fails, later.
    check_all(&slow, Duration::from_secs(900));
}

/// The parser reads what the README writes: continuation lines, quotes, several commands in a
/// block, indented blocks, elisions.
#[test]
fn readme_blocks_are_read_as_written() {
    let text = "x\n```\n$ convosim a 'b c' \\\n    --d \"e=\\\"f\\\"\"\nout 1\n…\n$ convosim g\n```\n\
                - item:\n  ```\n  $ convosim h\n  error: h\n  ```\n```sh\nconvosim not-shown\n```\n";
    let shown = commands_in(text);
    assert_eq!(shown.len(), 3, "{shown:#?}");
    assert_eq!(words(&shown[0].command), ["convosim", "a", "b c", "--d", "e=\"f\""]);
    assert_eq!(shown[0].output, ["out 1", "…"]);
    assert_eq!((shown[1].line, shown[1].output.len()), (7, 0));
    assert_eq!(
        (shown[2].command.as_str(), shown[2].output.as_slice()),
        ("convosim h", &["error: h".to_string()][..])
    );
    assert!(compare(&["a 1".into(), "…".into(), "c 3".into()], "a 1\nb 2\nc 3\n").is_ok());
    assert!(compare(&["a 1".into(), "…".into(), "c 4".into()], "a 1\nb 2\nc 3\n").is_err());
    assert!(compare(&["a 1".into(), "c 3".into()], "a 1\nb 2\nc 3\n").is_err());
    assert!(compare(&["7 task(s) in 0.5 s".into()], "7 task(s) in 3.25 s\n").is_ok());
}

fn readme_commands() -> Vec<Shown> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    commands_in(&readme)
}

fn exemption(shown: &Shown) -> Option<&'static Exemption> {
    EXEMPT.iter().find(|(start, _)| shown.command.starts_with(start)).map(|(_, why)| why)
}

/// Runs every command (in one scratch directory) and fails with every difference at once.
fn check_all(shown: &[&Shown], patience: Duration) {
    let scratch = scratch_dir();
    let mut failures = Vec::new();
    for s in shown {
        let printed = run_shown(s, scratch.path(), patience);
        // A command shown without output (an example of flags) must only succeed.
        if s.output.is_empty() {
            continue;
        }
        if let Err(diff) = compare(&s.output, &printed) {
            failures.push(format!("README.md:{}: $ {}\n{diff}", s.line, s.command));
        }
    }
    assert!(
        failures.is_empty(),
        "{} README block(s) differ from what their commands print (- README, + printed):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The commands of the fenced blocks that start with `$ convosim` or `$ cargo run`.
fn commands_in(readme: &str) -> Vec<Shown> {
    let mut shown = Vec::new();
    let mut block: Option<(usize, usize, Vec<String>)> = None; // (first line, indent, lines)
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut block {
            None if trimmed.starts_with("```") => block = Some((index + 2, indent, Vec::new())),
            Some((first, _, lines)) if trimmed == "```" => {
                let starts = lines
                    .first()
                    .is_some_and(|l| l.starts_with("$ convosim ") || l.starts_with("$ cargo run"));
                if starts {
                    shown.extend(split_block(*first, lines));
                }
                block = None;
            }
            Some((_, indent, lines)) => {
                lines.push(line.get(*indent..).unwrap_or(trimmed).trim_end().to_string())
            }
            None => {}
        }
    }
    shown
}

/// A block's commands, each with the lines under it.
fn split_block(first_line: usize, lines: &[String]) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    let mut continued = false;
    for (offset, line) in lines.iter().enumerate() {
        if continued {
            let command = &mut shown.last_mut().expect("a command").command;
            command.pop(); // the backslash
            *command = format!("{} {}", command.trim_end(), line.trim());
        } else if let Some(command) = line.strip_prefix("$ ") {
            shown.push(Shown { line: first_line + offset, command: command.to_string(), output: Vec::new() });
        } else {
            shown.last_mut().expect("a block starts with a command").output.push(line.clone());
        }
        continued = line.ends_with('\\') && (continued || line.starts_with("$ "));
    }
    shown
}

/// POSIX shell words: whitespace separates, '...' is literal, "..." keeps \" \\ \$ escapes.
fn words(command: &str) -> Vec<String> {
    let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' if in_word => {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            ' ' | '\t' => {}
            '\'' => {
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
                in_word = true;
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.push(chars.next().expect("an escaped character")),
                        c => word.push(c),
                    }
                }
                in_word = true;
            }
            '\\' => {
                word.extend(chars.next());
                in_word = true;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// What the command prints: stdout, then stderr.
fn run_shown(shown: &Shown, scratch: &Path, patience: Duration) -> String {
    let words = words(&shown.command);
    match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["convosim", args @ ..] => {
            let out =
                convosim().current_dir(scratch).timeout(patience).args(args).output().expect("convosim runs");
            let expected_code =
                if shown.output.first().is_some_and(|l| l.starts_with("error: ")) { 2 } else { 0 };
            let mut printed = String::from_utf8_lossy(&out.stdout).into_owned();
            printed += &String::from_utf8_lossy(&out.stderr);
            let status = out
                .status
                .code()
                .map_or(format!("killed after {patience:?}"), |c| format!("exit status {c}"));
            assert_eq!(
                out.status.code(),
                Some(expected_code),
                "README.md:{}: $ {}: {status}\n{printed}",
                shown.line,
                shown.command
            );
            printed
        }
        ["cargo", "run", "--release", "--example", "owner_or_teammate", scenario] => {
            crate::owner_or_teammate::report(scenario)
                .unwrap_or_else(|e| panic!("README.md:{}: {e}", shown.line))
        }
        _ => panic!("README.md:{}: no runner for `{}`: add one here or exempt it", shown.line, shown.command),
    }
}

/// A scratch directory with the repository's inputs linked in and the fixtures written.
fn scratch_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in ["scenarios", "policies", "capacities"] {
        std::os::unix::fs::symlink(root.join(folder), dir.path().join(folder)).expect("a link");
    }
    for Fixture { name, base, edits } in FIXTURES {
        let mut text =
            std::fs::read_to_string(root.join("scenarios").join(base)).expect("a bundled scenario");
        for (from, to) in edits.iter() {
            assert!(text.contains(from), "fixture {name}: {base} no longer holds {from:?}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.path().join(name), text).expect("a fixture");
    }
    dir
}

/// Whether `printed` shows what the README shows; else a diff of the two.
fn compare(shown: &[String], printed: &str) -> Result<(), String> {
    let shown: Vec<String> = shown.iter().map(|l| masked(l)).collect();
    let printed: Vec<String> = printed.lines().map(|l| masked(l.trim_end())).collect();
    let printed: Vec<String> = trim_blank_end(printed);
    let is_elision = |l: &String| l.trim_start().starts_with('…') || l.trim() == "...";
    let ok = if shown.iter().any(is_elision) {
        let mut rest = printed.iter();
        shown.iter().filter(|l| !is_elision(l)).all(|l| rest.any(|p| p == l))
    } else {
        trim_blank_end(shown.clone()) == printed
    };
    if ok {
        Ok(())
    } else {
        Err(diff(&shown, &printed))
    }
}

fn trim_blank_end(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The line with its numbers replaced by `#` if it states a wall time, else as it is.
fn masked(line: &str) -> String {
    if !VOLATILE.iter().any(|v| line.contains(v)) {
        return line.to_string();
    }
    let mut out = String::new();
    for c in line.chars() {
        let in_number = out.ends_with('#');
        match c {
            '0'..='9' if in_number => {}
            '0'..='9' => out.push('#'),
            '.' | ',' if in_number => {}
            c => out.push(c),
        }
    }
    out
}

/// A line diff (longest common subsequence): `-` only in the README, `+` only printed.
fn diff(shown: &[String], printed: &[String]) -> String {
    let (n, m) = (shown.len(), printed.len());
    let mut common = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if shown[i] == printed[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && shown[i] == printed[j] {
            out += &format!("  {}\n", shown[i]);
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || common[i][j + 1] >= common[i + 1][j]) {
            out += &format!("+ {}\n", printed[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", shown[i]);
            i += 1;
        }
    }
    out
}
