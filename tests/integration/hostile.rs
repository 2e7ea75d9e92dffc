//! Hostile input: files that are not files, sweep files given to `run`, integers too large for
//! TOML, and a property test that mutates the bundled scenarios and feeds them to the loader.
//! Whatever the input, the loader never panics or hangs; it refuses with one line naming the
//! file, or accepts a scenario that then runs (with a short horizon) to the end.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::cli::{assert_one_line_error, convosim};
use convosim::scenario::{scenario_from_table, LoadEstimate};
use proptest::prelude::*;
use toml::{Table, Value};

#[test]
fn a_device_is_refused_at_once_as_a_scenario_or_a_policy() {
    assert_one_line_error(convosim().args(["check", "/dev/zero"]), &["/dev/zero", "not a regular file"]);
    let run = ["run", "scenarios/mmc.toml", "--policy", "/dev/zero"];
    assert_one_line_error(convosim().args(run), &["/dev/zero", "not a regular file"]);
}

#[test]
fn a_directory_given_as_a_policy_is_called_a_directory() {
    let run = ["run", "scenarios/mmc.toml", "--policy", "policies"];
    assert_one_line_error(convosim().args(run), &["--policy", "\"policies\" is a directory"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("some")).expect("a directory");
    let text = std::fs::read_to_string("scenarios/mmc.toml").expect("mmc.toml");
    let text = format!("policy = \"some/\"\n{}", text.replace("[policy]\nkind = \"next_available\"", ""));
    let scenario = dir.path().join("dir_policy.toml");
    std::fs::write(&scenario, text).expect("the scenario is written");
    assert_one_line_error(convosim().arg("check").arg(&scenario), &["some", "it is a directory"]);
}

#[test]
fn a_sweep_file_given_to_run_or_check_says_to_use_sweep() {
    let file = "scenarios/sweeps/policy-frontier.toml";
    for command in ["run", "check"] {
        assert_one_line_error(
            convosim().args([command, file]),
            &[file, "this is a sweep file", "use `convosim sweep scenarios/sweeps/policy-frontier.toml`"],
        );
    }
}

/// Writes `text` into a temporary directory as `name` and returns (directory, path).
fn temp_scenario(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("the scenario is written");
    (dir, path)
}

#[test]
fn an_integer_too_large_for_toml_names_its_key() {
    let text = std::fs::read_to_string("scenarios/mmc.toml").expect("mmc.toml");
    let (_dir, path) =
        temp_scenario("big.toml", &text.replacen("count = ", "count = 99999999999999999999 #", 1));
    assert_one_line_error(
        convosim().arg("check").arg(&path),
        &["big.toml: agents[0].count: expected an integer from", "got 99999999999999999999"],
    );
}

#[test]
fn a_grossly_overloaded_center_is_refused_unless_allowed() {
    let text = std::fs::read_to_string("scenarios/mmc.toml").expect("mmc.toml");
    let rate = text.lines().find(|l| l.starts_with("rate_per_hour")).expect("a rate").to_string();
    let overloaded = text.replacen(&rate, "rate_per_hour = 100000", 1);
    let (_dir, path) = temp_scenario("overloaded.toml", &overloaded);
    assert_one_line_error(
        convosim().arg("check").arg(&path),
        &["arrivals.rate_per_hour: offered load", "on-shift slots", "allow_overload = true"],
    );
    let allowed = format!("allow_overload = true\n{overloaded}");
    let (_dir, path) = temp_scenario("allowed.toml", &allowed);
    convosim().arg("check").arg(&path).assert().success();
}

// ---- The property test ----------------------------------------------------------------------

const BUNDLED: &[&str] = &[
    include_str!("../../scenarios/quickstart.toml"),
    include_str!("../../scenarios/reference.toml"),
    include_str!("../../scenarios/mmc.toml"),
    include_str!("../../scenarios/mmc_a.toml"),
    include_str!("../../scenarios/erlang_r.toml"),
    include_str!("../../scenarios/week-with-shifts.toml"),
    include_str!("../../scenarios/staffing-vector.toml"),
];

/// Accepted scenarios larger than this (expected contacts over the shortened horizon, or slots)
/// are only loaded, not run, to keep the test to seconds.
const RUN_BUDGET: f64 = 50_000.0;

/// A hostile value: odd numbers, strings, durations, nested tables and arrays.
fn hostile_value() -> impl Strategy<Value = Value> {
    let numbers = prop_oneof![
        Just(1e300),
        Just(-1e300),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-1.0),
        Just(1e-300),
        Just(f64::MAX),
        any::<f64>(),
    ];
    let durations =
        prop_oneof![Just("1e300s"), Just("-5m"), Just("nan"), Just(""), Just("0s"), Just("1e-9s")];
    prop_oneof![
        numbers.prop_map(Value::Float),
        any::<i64>().prop_map(Value::Integer),
        (0i64..100_000).prop_map(Value::Integer),
        ".{0,12}".prop_map(Value::String),
        durations.prop_map(|d| Value::String(d.to_string())),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Array(Vec::new())),
        prop::collection::vec(any::<i64>().prop_map(Value::Integer), 0..30).prop_map(Value::Array),
        Just(Value::Table(toml::toml! { a = { b = 1 } })),
    ]
}

/// One edit of a scenario table.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove the `n`-th key (in a walk of the whole document).
    Drop(usize),
    /// Replace the `n`-th value.
    Replace(usize, Value),
    /// Rename the `n`-th key.
    Rename(usize, String),
    /// Multiply the `n`-th value by a factor if it is a number (a plausible edit, so that
    /// many mutants load and run).
    Scale(usize, f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<usize>().prop_map(Mutation::Drop),
        2 => (any::<usize>(), hostile_value()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        1 => (any::<usize>(), "\\PC{0,6}|[\\x00-\\x1f]{1,3}").prop_map(|(n, k)| Mutation::Rename(n, k)),
        5 => (any::<usize>(), 0.0..4.0f64).prop_map(|(n, f)| Mutation::Scale(n, f)),
    ]
}

/// Applies `edit` to the `n`-th (mod the count) key of the tables and inline tables of `table`.
fn apply(table: &mut Table, mutation: &Mutation) {
    let n = match mutation {
        Mutation::Drop(n) | Mutation::Replace(n, _) | Mutation::Rename(n, _) | Mutation::Scale(n, _) => *n,
    };
    let count = count_keys(table);
    if count > 0 {
        let mut left = n % count;
        edit(table, &mut left, mutation);
    }
}

fn count_keys(table: &Table) -> usize {
    table.values().map(|v| 1 + count_in(v)).sum()
}

fn count_in(value: &Value) -> usize {
    match value {
        Value::Table(t) => count_keys(t),
        Value::Array(items) => items.iter().map(count_in).sum(),
        _ => 0,
    }
}

/// Walks keys in order, counting `left` down; edits the key where it reaches zero.
fn edit(table: &mut Table, left: &mut usize, mutation: &Mutation) -> bool {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        if *left == 0 {
            match mutation {
                Mutation::Drop(_) => {
                    table.remove(&key);
                }
                Mutation::Replace(_, value) => {
                    table.insert(key, value.clone());
                }
                Mutation::Rename(_, name) => {
                    if let Some(value) = table.remove(&key) {
                        table.insert(name.clone(), value);
                    }
                }
                Mutation::Scale(_, factor) => match table.get_mut(&key) {
                    Some(Value::Integer(n)) => *n = (*n as f64 * factor).round() as i64,
                    Some(Value::Float(x)) => *x *= factor,
                    _ => {}
                },
            }
            return true;
        }
        *left -= 1;
        if table.get_mut(&key).is_some_and(|value| edit_in(value, left, mutation)) {
            return true;
        }
    }
    false
}

fn edit_in(value: &mut Value, left: &mut usize, mutation: &Mutation) -> bool {
    match value {
        Value::Table(t) => edit(t, left, mutation),
        Value::Array(items) => items.iter_mut().any(|item| edit_in(item, left, mutation)),
        _ => false,
    }
}

/// Loads `table`; an error must be one line naming the file; an accepted scenario runs.
fn load_and_run(table: &Table, file: &Path) {
    match scenario_from_table(table, file) {
        Err(error) => {
            let text = error.to_string();
            assert!(!text.contains('\n') && !text.contains('\r'), "a message on several lines: {text}");
            assert!(
                text.starts_with(&file.display().to_string()),
                "the message does not name the file: {text}"
            );
        }
        Ok(mut scenario) => {
            scenario.horizon = scenario.horizon.min(2.0 * 86_400.0);
            scenario.warmup = 0.0;
            scenario.replications = 1;
            let load = LoadEstimate::of(&scenario);
            let contacts =
                load.arrivals_per_s * scenario.horizon * scenario.channels[0].conversation.exchanges.mean();
            let slots: f64 =
                scenario.pools.iter().map(|p| f64::from(p.count) * f64::from(p.concurrency)).sum();
            if contacts <= RUN_BUDGET && slots <= RUN_BUDGET {
                // A run either finishes within its invariants or stops with a one-line error.
                match convosim::engine::run(&scenario, 1) {
                    Ok(output) => assert_eq!(output.audit.over_concurrency, 0),
                    Err(error) => assert_eq!(error.to_string().lines().count(), 1, "{error}"),
                }
            }
        }
    }
}

/// Mutated text: the table written back as TOML with a few bytes spliced in.
fn spliced(table: &Table, at: usize, bytes: &[u8]) -> Vec<u8> {
    let text = toml::to_string(table).unwrap_or_default().into_bytes();
    let at = at % (text.len() + 1);
    [&text[..at], bytes, &text[at..]].concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_bundled_scenarios_never_panic(
        which in 0..BUNDLED.len(),
        mutations in prop::collection::vec(mutation(), 1..4),
        splice_at in any::<usize>(),
        splice in prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 1..6)),
    ) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hostile.toml");
        let mut table: Table = toml::from_str(BUNDLED[which]).expect("bundled scenarios parse");
        for m in &mutations {
            apply(&mut table, m);
        }
        let shown = toml::to_string(&table).unwrap_or_else(|_| format!("{table:?}"));
        let outcome = catch_unwind(AssertUnwindSafe(|| match &splice {
            None => load_and_run(&table, &file),
            Some(bytes) => {
                let text = String::from_utf8_lossy(&spliced(&table, splice_at, bytes)).into_owned();
                match convosim::scenario::parse_scenario(&text, &file) {
                    Err(error) => {
                        let message = error.to_string();
                        assert!(!message.contains('\n'), "a message on several lines: {message}");
                    }
                    Ok(_) => {
                        let parsed: Table = toml::from_str(&text).expect("it parsed once");
                        load_and_run(&parsed, &file);
                    }
                }
            }
        }));
        prop_assert!(outcome.is_ok(), "the loader or the run panicked on:\n{shown}\nsplice {splice:?} at {splice_at}");
    }
}

/// A small sweep over two counts of mmc's pool, written as shard 1 of 2 into `out`.
fn shard_of_two(dir: &Path, out: &Path) {
    let base = std::fs::canonicalize("scenarios/mmc.toml").expect("mmc.toml");
    let spec = format!(
        "name = \"two\"\nbase = {:?}\nreplications = 2\nseed = 1\n[axes]\n\"agents.team.count\" = [12, 13]\n",
        base.display().to_string()
    );
    let file = dir.join("two.toml");
    std::fs::write(&file, spec).expect("the sweep file is written");
    let status = convosim().arg("sweep").arg(&file).arg("--shard").arg("1/2").arg("--out").arg(out).output();
    assert!(status.expect("sweep runs").status.success(), "the shard is written");
}

#[test]
fn a_report_on_a_shard_says_to_merge_first() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let shard = dir.path().join("shard1");
    shard_of_two(dir.path(), &shard);
    assert_one_line_error(
        convosim().arg("report").arg(&shard),
        &["manifest.json", "shard 1/2", "convosim merge"],
    );
    assert!(!shard.join("report.html").exists(), "no report is written for a shard");
}

#[test]
fn names_in_errors_read_as_typed_with_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.toml");
    let center = "name = \"u\"\nhorizon = \"1d\"\n[arrivals]\nrate_per_hour = 5\n[conversation]\n\
                  exchanges = { dist = \"fixed\", value = 1 }\nhandle_time = { dist = \"exponential\", mean = \"5m\" }\n\
                  [[agents]]\nname = \"team\"\ncount = 3\n[policy]\nkind = \"steps\"\n";
    std::fs::write(&file, format!("{center}steps = [{{ to = \"tëam\" }}, {{ to = \"anyone\" }}]\n")).unwrap();
    assert_one_line_error(
        convosim().arg("check").arg(&file),
        &["policy.steps[0].to", "unknown step \"tëam\"", "did you mean \"team\"?"],
    );
    std::fs::write(&file, format!("{center}steps = [{{ to = \"t\\u0007eam\" }}, {{ to = \"anyone\" }}]\n"))
        .unwrap();
    assert_one_line_error(convosim().arg("check").arg(&file), &["unknown step \"t\\u{7}eam\""]);
}
