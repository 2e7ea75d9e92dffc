//! Loading the bundled scenarios and presets, and one check per kind of bad input.

use std::path::Path;

use super::*;
use crate::scenario::{DAY_S, WEEK_S};

const BASE: &str = r#"
name = "base"
horizon = "8d"
warmup = "1d"
seed = 42
replications = 2

[arrivals]
rate_per_hour = 120

[conversation]
exchanges   = { dist = "geometric", mean = 4 }
handle_time = { dist = "exponential", mean = "4m" }
gap = { dist = "mixture", parts = [
  { weight = 0.7, dist = "exponential", mean = "2m" },
  { weight = 0.3, dist = "exponential", mean = "4h" } ] }

[[agents]]
name = "team"
count = 16
concurrency = 3

[policy]
kind = "hybrid"
timeout = "10m"
"#;

const BUNDLED: &[(&str, &str)] = &[
    ("quickstart", include_str!("../../../scenarios/quickstart.toml")),
    ("reference", include_str!("../../../scenarios/reference.toml")),
    ("mmc", include_str!("../../../scenarios/mmc.toml")),
    ("mmc_a", include_str!("../../../scenarios/mmc_a.toml")),
    ("erlang_r", include_str!("../../../scenarios/erlang_r.toml")),
    ("week-with-shifts", include_str!("../../../scenarios/week-with-shifts.toml")),
    ("staffing-vector", include_str!("../../../scenarios/staffing-vector.toml")),
    ("chat-messaging", include_str!("../../../scenarios/chat-messaging.toml")),
];

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    parse_scenario(text, Path::new("scenarios/test.toml"))
}

/// BASE with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// Loading `text` fails at `key` with a message that contains `message`.
#[track_caller]
fn check_error(text: &str, key: &str, message: &str) {
    match parse(text) {
        Ok(_) => panic!("expected an error at {key}"),
        Err(ScenarioError::Field { error, .. }) => {
            assert_eq!(error.key, key, "message: {}", error.message);
            assert!(error.message.contains(message), "{:?} lacks {message:?}", error.message);
        }
        Err(other) => panic!("expected a field error at {key}, got {other}"),
    }
}

#[test]
fn bundled_scenarios_load() {
    for (name, text) in BUNDLED {
        let file = format!("scenarios/{name}.toml");
        if let Err(e) = parse_scenario(text, Path::new(&file)) {
            panic!("{e}");
        }
    }
}

#[test]
fn quickstart_matches_the_model_example() {
    let s = parse(BUNDLED[0].1).unwrap();
    assert_eq!((s.horizon, s.warmup, s.seed, s.replications), (8.0 * DAY_S, DAY_S, 42, 4));
    assert_eq!(s.channels[0].arrivals.rate_per_hour, 120.0);
    assert!((s.channels[0].conversation.exchanges.mean() - 4.0).abs() < 1e-12);
    assert!((s.channels[0].conversation.handle_time.mean() - 240.0).abs() < 1e-9);
    let gap = s.channels[0].conversation.gap.as_ref().unwrap();
    assert!((gap.mean() - (0.7 * 120.0 + 0.3 * 14_400.0)).abs() < 1e-6);
    assert_eq!((s.pools[0].count, s.pools[0].concurrency), (16, 3));
    assert_eq!(s.policy.label(), "hybrid(timeout=10m)");
    assert_eq!(s.channels[0].service_level, ServiceLevel::default());
}

#[test]
fn week_with_shifts_builds_schedules() {
    let s = parse(BUNDLED[5].1).unwrap();
    assert_eq!(s.pools.len(), 3);
    assert!(s.channels[0].arrivals.hour_profile.is_some() && s.channels[0].arrivals.weekday.is_some());
    let evening = s.pools[1].shifts.as_ref().unwrap();
    // Sunday 16:00 to Monday 01:00 wraps to the start of the week.
    assert_eq!(evening.weekly_on.first(), Some(&(0.0, 3600.0)));
    assert_eq!(evening.weekly_on.last(), Some(&(WEEK_S - 8.0 * 3600.0, WEEK_S)));
    assert_eq!(s.policy.label(), "hybrid(timeout=10m)");
}

#[test]
fn every_preset_loads_with_a_description() {
    for (name, text) in PRESETS {
        let file = format!("policies/{name}.toml");
        let (spec, description) = policies::parse_preset(text, Path::new(&file)).unwrap();
        assert!(description.is_some_and(|d| !d.is_empty()), "{name} has no description");
        assert!(!spec.label().is_empty());
    }
    assert_eq!(load_policy("hybrid-4h").unwrap().label(), "hybrid(timeout=4h)");
    assert_eq!(load_policy("sticky-window-1d").unwrap().label(), "sticky(affinity_window=1d)");
    assert_eq!(load_policy("sticky-random-agent").unwrap().label(), "sticky[first_contact=random_agent]");
    assert_eq!(load_policy("policies/next-available.toml").unwrap().label(), "next_available");
    let summaries = preset_summaries();
    assert!(summaries.iter().any(|(name, label, _)| name == "hybrid-10m" && label == "hybrid(timeout=10m)"));
}

#[test]
fn defaults_fill_optional_keys() {
    let text = r#"
        name = "minimal"
        horizon = "1d"
        policy = "next-available"
        [arrivals]
        rate_per_hour = 10
        [conversation]
        exchanges = { dist = "fixed", value = 1 }
        handle_time = { dist = "uniform", min = "1m", max = 300 }
        [[agents]]
        name = "a"
        count = 2
    "#;
    let s = parse(text).unwrap();
    assert_eq!((s.warmup, s.seed, s.replications), (0.0, 1, 1));
    assert!(s.channels[0].conversation.gap.is_none() && s.channels[0].conversation.patience_first.is_none());
    assert_eq!((s.pools[0].concurrency, s.pools[0].slowdown), (1, 0.0));
    assert!(s.pools[0].shifts.is_none());
    assert_eq!(s.policy.kind, "next_available");
}

#[test]
fn negative_rate() {
    check_error(
        &edited("rate_per_hour = 120", "rate_per_hour = -5"),
        "arrivals.rate_per_hour",
        "expected a positive number of conversations per hour, got -5",
    );
}

#[test]
fn zero_rate() {
    check_error(&edited("rate_per_hour = 120", "rate_per_hour = 0"), "arrivals.rate_per_hour", "got 0");
}

#[test]
fn non_positive_cv() {
    let text =
        edited(r#"{ dist = "exponential", mean = "4m" }"#, r#"{ dist = "lognormal", mean = "4m", cv = 0 }"#);
    check_error(
        &text,
        "conversation.handle_time.cv",
        "expected a positive coefficient of variation from 0.001 to 100, got 0",
    );
}

#[test]
fn weights_summing_to_zero() {
    let text = edited(
        r#"{ dist = "geometric", mean = 4 }"#,
        r#"{ dist = "empirical", values = [1, 2], weights = [0, 0] }"#,
    );
    check_error(&text, "conversation.exchanges.weights", "sum to a positive number, got [0, 0]");
    let text = edited("weight = 0.7", "weight = 0").replacen("weight = 0.3", "weight = 0", 1);
    check_error(&text, "conversation.gap.parts", "got weights [0, 0]");
}

#[test]
fn unknown_policy_suggests_the_nearest() {
    check_error(
        &edited(r#"kind = "hybrid""#, r#"kind = "stiky""#),
        "policy.kind",
        r#"unknown policy "stiky"; did you mean "sticky"? expected one of "next_available", "sticky", "hybrid" or "steps""#,
    );
    check_error(&edited("timeout = \"10m\"", "timeout = \"-1m\""), "policy.timeout", "got \"-1m\"");
    check_error(
        &edited("timeout = \"10m\"", "timeout = \"10m\"\nselect = \"fastest\""),
        "policy.select",
        "got \"fastest\"",
    );
}

#[test]
fn unknown_policy_keys_suggest_the_nearest() {
    let with = |extra: &str| edited("timeout = \"10m\"", &format!("timeout = \"10m\"\n{extra}"));
    check_error(
        &edited("timeout = \"10m\"", "timout = \"10m\""),
        "policy.timout",
        r#"unknown key for policy kind "hybrid"; did you mean "timeout"?"#,
    );
    check_error(
        &with("owner_ofline = \"wait\""),
        "policy.owner_ofline",
        r#"unknown key for policy kind "hybrid"; did you mean "owner_offline"?"#,
    );
    check_error(&with("slect = \"random\""), "policy.slect", r#"did you mean "select"?"#);
    let text = edited(r#"kind = "hybrid""#, r#"kind = "next_available""#);
    check_error(&text, "policy.timeout", "unknown key for policy kind \"next_available\"");
}

#[test]
fn unknown_preset_suggests_the_nearest() {
    let text =
        format!("policy = \"hybrid-10\"\n{}", edited("[policy]\nkind = \"hybrid\"\ntimeout = \"10m\"", ""));
    check_error(&text, "policy", r#"unknown policy preset "hybrid-10"; did you mean "hybrid-10m"?"#);
    let err = load_policy("stiky").unwrap_err().to_string();
    assert!(err.contains("did you mean \"sticky\"?"), "{err}");
}

#[test]
fn unknown_distribution_suggests_the_nearest() {
    let text = edited(r#"{ weight = 0.7, dist = "exponential""#, r#"{ weight = 0.7, dist = "expo""#);
    check_error(
        &text,
        "conversation.gap.parts[0].dist",
        r#"unknown distribution "expo"; did you mean "exponential"? expected one of"#,
    );
    let text = edited(r#"gap = { dist = "mixture""#, r#"gap = { dist = "mixtur""#);
    check_error(&text, "conversation.gap.dist", r#"did you mean "mixture"?"#);
    let text = edited(r#"{ dist = "exponential", mean = "4m" }"#, r#"{ dist = "geometric", mean = 4 }"#);
    check_error(&text, "conversation.handle_time.dist", "gives counts");
}

#[test]
fn zero_concurrency() {
    check_error(
        &edited("concurrency = 3", "concurrency = 0"),
        "agents[0].concurrency",
        "expected an integer from 1 to 10000, got 0",
    );
}

#[test]
fn warmup_not_before_horizon() {
    check_error(
        &edited(r#"warmup = "1d""#, r#"warmup = "8d""#),
        "warmup",
        r#"shorter than the horizon ("8d"), got "8d""#,
    );
}

#[test]
fn absurd_horizon_is_refused() {
    check_error(
        &edited(r#"horizon = "8d""#, r#"horizon = "1e11d""#),
        "horizon",
        r#"at most 100 years ("36500d"), got "1e11d""#,
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    check_error(
        &edited("rate_per_hour = 120", "rate_per_hr = 120"),
        "arrivals.rate_per_hr",
        r#"unknown key; did you mean "rate_per_hour"? expected one of"#,
    );
    check_error(&edited("count = 16", "cuont = 16"), "agents[0].cuont", r#"did you mean "count"?"#);
    check_error(&edited("seed = 42", "sead = 42"), "sead", r#"did you mean "seed"?"#);
    let text = format!("{BASE}\n[[agents]]\nname = \"b\"\ncount = 1\nseed = 3\n");
    check_error(&text, "agents[1].seed", "a top-level `seed` must come before the first [table]");
}

#[test]
fn negative_duration() {
    check_error(
        &edited(r#"mean = "4m""#, r#"mean = "-3m""#),
        "conversation.handle_time.mean",
        r#"expected a positive duration like "4m", got "-3m""#,
    );
}

#[test]
fn bad_shift_time() {
    let text = edited(
        "concurrency = 3",
        r#"concurrency = 3
shifts = [{ days = "mon-fri", start = "25:00", end = "17:00" }]"#,
    );
    check_error(
        &text,
        "agents[0].shifts[0].start",
        r#"expected a time of day "HH:MM" from "00:00" to "23:59", got "25:00""#,
    );
}

#[test]
fn not_toml() {
    match parse("name = \"x\"\nhorizon = = 3\n") {
        Err(ScenarioError::Syntax { message, .. }) => {
            assert!(message.starts_with("line 2, column "), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn profile_with_23_values() {
    let profile = vec!["1"; 23].join(", ");
    let text = edited("rate_per_hour = 120", &format!("rate_per_hour = 120\nprofile = [{profile}]"));
    check_error(
        &text,
        "arrivals.profile",
        "expected 24 hour-of-day multipliers, 00:00-01:00 first, got 23 values",
    );
}

#[test]
fn missing_keys_are_named() {
    check_error(&BASE.replacen("name = \"base\"", "", 1), "name", "missing");
    check_error(
        &edited("[arrivals]\nrate_per_hour = 120", "[arrivals]"),
        "arrivals.rate_per_hour",
        "missing",
    );
    check_error(&edited("gap = {", "# gap = {").replace("  { weight", "# {"), "conversation.gap", "missing");
    check_error(&edited("count = 16", ""), "agents[0].count", "missing");
    check_error(&edited("timeout = \"10m\"", ""), "policy.timeout", "missing");
}

#[test]
fn count_distributions_need_integers() {
    let text = edited(r#"{ dist = "geometric", mean = 4 }"#, r#"{ dist = "fixed", value = 2.5 }"#);
    check_error(&text, "conversation.exchanges.value", "expected an integer from 1 to 1000000, got 2.5");
    let text = edited(r#"{ dist = "geometric", mean = 4 }"#, r#"{ dist = "empirical", values = [1, 0] }"#);
    check_error(&text, "conversation.exchanges.values[1]", "got 0");
    let text = edited(r#"{ dist = "geometric", mean = 4 }"#, r#"{ dist = "exponential", mean = 4 }"#);
    check_error(&text, "conversation.exchanges.dist", "gives times");
}

#[test]
fn duplicate_pool_names() {
    let text = format!("{BASE}\n[[agents]]\nname = \"team\"\ncount = 1\n");
    check_error(&text, "agents[1].name", "duplicate pool name \"team\"");
}

#[test]
fn odd_values_never_panic() {
    let odd = [
        "",
        "x",
        "[[agents]]",
        "agents = 3",
        "policy = 3",
        "arrivals = []",
        "horizon = nan",
        "horizon = inf\nname='a'",
        "conversation = { exchanges = { dist = \"mixture\", parts = [] } }",
        "seed = -1",
        "replications = 99999999999",
        "[service_level]\nfirst = true",
    ];
    for text in odd {
        assert!(parse(text).is_err(), "{text}");
    }
    let part = (0..20).fold(r#"{ weight = 1, dist = "fixed", value = "1m" }"#.to_string(), |inner, _| {
        format!(r#"{{ weight = 1, dist = "mixture", parts = [{inner}] }}"#)
    });
    let deep = format!(r#"{{ dist = "mixture", parts = [{part}] }}"#);
    let text = edited(r#"{ dist = "exponential", mean = "4m" }"#, &deep);
    match parse(&text) {
        Err(ScenarioError::Field { error, .. }) => {
            assert!(error.message.contains("nest at most"), "{error}")
        }
        other => panic!("expected a nesting error, got {other:?}"),
    }
}

#[test]
fn preset_paths_are_relative_to_the_scenario() {
    let text = format!(
        "policy = \"../policies/sticky-window-1d.toml\"\n{}",
        edited("[policy]\nkind = \"hybrid\"\ntimeout = \"10m\"", "")
    );
    let s = parse_scenario(&text, Path::new("scenarios/x.toml")).unwrap();
    assert_eq!(s.policy.label(), "sticky(affinity_window=1d)");
    let text = text.replace("sticky-window-1d.toml", "nope.toml");
    // Reported where the preset is named, with the path that was tried.
    let error = parse_scenario(&text, Path::new("scenarios/x.toml")).unwrap_err().to_string();
    assert!(
        error.starts_with(
            "scenarios/x.toml: policy: the policy preset scenarios/../policies/nope.toml: cannot read"
        ),
        "{error}"
    );
}

#[test]
fn deeply_nested_toml_is_an_error_not_a_crash() {
    let text = format!("name = {}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(parse(&text).is_err());
}

#[test]
fn a_sweep_file_is_named_as_one() {
    let err =
        parse("name = \"s\"\nbase = \"../reference.toml\"\n[axes]\nseed = [1]\n").unwrap_err().to_string();
    assert_eq!(
        err,
        "scenarios/test.toml: this is a sweep file (it has top-level `base` or `axes`): use `convosim sweep \
         scenarios/test.toml`"
    );
}

#[test]
fn replications_and_slots_are_bounded() {
    check_error(&edited("replications = 2", "replications = 100000000"), "replications", "from 1 to 1000000");
    let big = edited("count = 16\nconcurrency = 3", "count = 10000\nconcurrency = 10000");
    check_error(
        &big,
        "agents[0].count",
        "expected at most 1000000 slots (count × concurrency) over all pools",
    );
}

#[test]
fn names_with_control_characters_are_refused() {
    check_error(
        &edited("name = \"base\"", "name = \"a\\u001b[31mred\""),
        "name",
        "without control characters",
    );
    check_error(&edited("name = \"team\"", "name = \"te\\nam\""), "agents[0].name", "got \"te\\nam\"");
    let long = format!("name = \"{}\"", "x".repeat(201));
    check_error(&edited("name = \"base\"", &long), "name", "at most 200 characters");
}

#[test]
fn extreme_distribution_parameters_are_keyed_errors() {
    let handle = r#"handle_time = { dist = "exponential", mean = "4m" }"#;
    let cases = [
        (
            r#"{ dist = "lognormal", mean = "4m", cv = 1e300 }"#,
            "conversation.handle_time.cv",
            "from 0.001 to 100",
        ),
        (
            r#"{ dist = "gamma", mean = "4m", cv = 1e-300 }"#,
            "conversation.handle_time.cv",
            "from 0.001 to 100",
        ),
        (r#"{ dist = "gamma", mean = "4m", cv = 1e200 }"#, "conversation.handle_time.cv", "got 1e200"),
        (
            r#"{ dist = "weibull", shape = 0.001, scale = "4m" }"#,
            "conversation.handle_time.shape",
            "from 0.1 to 1000",
        ),
        (
            r#"{ dist = "exponential", mean = "1e300s" }"#,
            "conversation.handle_time.mean",
            "at most 100 years",
        ),
        (
            r#"{ dist = "uniform", min = 0, max = 1e300 }"#,
            "conversation.handle_time.max",
            "at most 100 years",
        ),
        (
            r#"{ dist = "exponential", mean = "1e-300s" }"#,
            "conversation.handle_time.mean",
            "at least one microsecond",
        ),
    ];
    for (dist, key, message) in cases {
        check_error(&edited(handle, &format!("handle_time = {dist}")), key, message);
    }
    let exchanges = r#"exchanges   = { dist = "geometric", mean = 4 }"#;
    check_error(
        &edited(exchanges, r#"exchanges = { dist = "geometric", mean = 1e300 }"#),
        "conversation.exchanges.mean",
        "from 1 to 1000000",
    );
}

#[test]
fn a_directory_named_as_a_policy_is_called_a_directory() {
    // `src` is a directory of the crate root, where tests run.
    let err = load_policy("src").unwrap_err().to_string();
    assert!(err.contains("\"src\" is a directory, not a policy preset"), "{err}");
    let err = load_policy("src/").unwrap_err().to_string();
    assert!(err.ends_with("cannot read the file: it is a directory, not a file"), "{err}");
}
