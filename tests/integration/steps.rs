//! Routing in widening steps: `hybrid` with timeout T is `steps = [owner for T, anyone]` bit
//! for bit (every metric, the audit and the event counts, over several scenarios and options);
//! a team of the only pool serving a channel is everyone, bit for bit; a zero-time owner step
//! queues exactly as next_available (same waits, better affinity); a three-step plan on a
//! multi-pool center keeps the invariants and waits between its neighbours'; keyed errors.

use std::path::Path;
use std::sync::Arc;

use convosim::policy::{
    Hybrid, OwnerOffline, PolicySpec, Reach, RoutingOptions, SelectRule, Step, StepPlan, Steps,
};
use convosim::scenario::parse_scenario;
use convosim::Scenario;

use crate::common::{assert_invariants, run_summary, DAY};

fn bundled(name: &str, days: f64) -> Scenario {
    let path = format!("scenarios/{name}.toml");
    let text = std::fs::read_to_string(&path).expect("bundled scenario");
    let mut s = parse_scenario(&text, Path::new(&path)).expect("valid");
    s.horizon = days * DAY;
    s.warmup = DAY.min(s.horizon / 4.0);
    s
}

/// The scenario with `spec` as its policy and every channel's own policy.
fn with_policy(mut s: Scenario, spec: &PolicySpec) -> Scenario {
    s.policy = spec.clone();
    for channel in &mut s.channels {
        if channel.policy.is_some() {
            channel.policy = Some(spec.clone());
        }
    }
    s
}

fn plan(steps: &[(Reach, Option<f64>)]) -> StepPlan {
    StepPlan::new(steps.iter().map(|&(to, until)| Step { to, until }).collect()).expect("a valid plan")
}

fn steps_spec(
    plan: StepPlan,
    window: Option<f64>,
    offline: OwnerOffline,
    options: RoutingOptions,
) -> PolicySpec {
    let uses = Steps { plan, affinity_window: window, owner_offline: offline };
    PolicySpec { kind: "steps", policy: Arc::new(uses), options }
}

fn hybrid_spec(
    timeout: f64,
    window: Option<f64>,
    offline: OwnerOffline,
    options: RoutingOptions,
) -> PolicySpec {
    let policy = Hybrid { timeout, affinity_window: window, owner_offline: offline };
    PolicySpec { kind: "hybrid", policy: Arc::new(policy), options }
}

/// Runs both on `seeds` and asserts every metric's bits, the audit and the event counts agree.
fn assert_bit_identical(a: &Scenario, b: &Scenario, seeds: std::ops::Range<u64>, what: &str) {
    for seed in seeds {
        let x = convosim::run(a, seed).expect("runs");
        let y = convosim::run(b, seed).expect("runs");
        let bits = |v: &[Option<f64>]| v.iter().map(|m| m.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits(&x.metrics.values), bits(&y.metrics.values), "{what}: metrics differ, seed {seed}");
        assert_eq!(x.metrics.channels.len(), y.metrics.channels.len(), "{what}");
        for (rx, ry) in x.metrics.channels.iter().zip(&y.metrics.channels) {
            assert_eq!(bits(rx), bits(ry), "{what}: channel metrics differ, seed {seed}");
        }
        assert_eq!(x.audit, y.audit, "{what}: audit differs, seed {seed}");
        assert_eq!(x.stats, y.stats, "{what}: event counts differ, seed {seed}");
        assert_invariants(&x.audit, what);
        assert!(x.audit.picked > 1000, "{what}: too small to mean anything");
    }
}

#[test]
fn hybrid_is_owner_then_anyone_bit_for_bit() {
    let options =
        |select, personal_first| RoutingOptions { select, personal_first, ..RoutingOptions::default() };
    let base = options(SelectRule::LeastLoaded, true);
    use OwnerOffline::{Fallback, Wait};
    let cases: &[(&str, f64, Option<f64>, OwnerOffline, RoutingOptions)] = &[
        ("reference", 600.0, None, Fallback, base),
        ("reference", 0.0, None, Fallback, base),
        ("reference", 60.0, Some(3600.0), Fallback, options(SelectRule::Random, true)),
        ("week-with-shifts", 600.0, None, Fallback, base),
        ("week-with-shifts", 1800.0, None, Wait, options(SelectRule::RoundRobin, false)),
        ("week-with-shifts", 0.0, Some(7200.0), Wait, options(SelectRule::LongestIdle, true)),
        ("chat-messaging", 60.0, None, Fallback, base),
        ("chat-messaging", 300.0, None, Wait, options(SelectRule::Random, false)),
    ];
    for &(name, timeout, window, offline, options) in cases {
        let base = bundled(name, 4.0);
        let hybrid = with_policy(base.clone(), &hybrid_spec(timeout, window, offline, options));
        let owner_then_anyone = plan(&[(Reach::Owner, Some(timeout)), (Reach::Anyone, None)]);
        let steps = with_policy(base, &steps_spec(owner_then_anyone, window, offline, options));
        assert_bit_identical(&hybrid, &steps, 0..2, &format!("{name} T={timeout} {offline:?} {options:?}"));
    }
}

/// With a bot in front and typing watched (preview), step times count from the send, as the
/// hybrid timeout does.
#[test]
fn hybrid_is_owner_then_anyone_with_preview_typing_and_a_bot() {
    let text = std::fs::read_to_string("scenarios/reference.toml").expect("bundled").replacen(
        "[conversation]\n",
        "[conversation]\ntyping = { time = { dist = \"exponential\", mean = \"40s\" }, preview = true, head_start = 0.5 }\n\
         bot = { containment = 0.3, time = { dist = \"exponential\", mean = \"90s\" } }\n",
        1,
    );
    let mut base = parse_scenario(&text, Path::new("reference-typing.toml")).expect("valid");
    base.horizon = 4.0 * DAY;
    for timeout in [0.0, 30.0, 600.0] {
        let options = RoutingOptions::default();
        let hybrid = with_policy(base.clone(), &hybrid_spec(timeout, None, OwnerOffline::Fallback, options));
        let owner_then_anyone = plan(&[(Reach::Owner, Some(timeout)), (Reach::Anyone, None)]);
        let steps =
            with_policy(base.clone(), &steps_spec(owner_then_anyone, None, OwnerOffline::Fallback, options));
        assert_bit_identical(&hybrid, &steps, 0..2, &format!("typing preview T={timeout}"));
    }
}

#[test]
fn a_team_of_the_only_pool_is_everyone_bit_for_bit() {
    let options = RoutingOptions::default();
    for (name, timeout) in [("reference", 120.0), ("quickstart", 0.0)] {
        let base = bundled(name, 4.0);
        for (narrow, wide) in [
            (
                plan(&[(Reach::Owner, Some(timeout)), (Reach::Team, None)]),
                plan(&[(Reach::Owner, Some(timeout)), (Reach::Anyone, None)]),
            ),
            (plan(&[(Reach::Team, None)]), plan(&[(Reach::Anyone, None)])),
        ] {
            let a = with_policy(base.clone(), &steps_spec(narrow, None, OwnerOffline::Fallback, options));
            let b = with_policy(base.clone(), &steps_spec(wide, None, OwnerOffline::Fallback, options));
            assert_bit_identical(&a, &b, 0..2, &format!("{name}: team of one pool"));
        }
    }
}

/// `steps = [owner for 0, anyone]`: the owner if free at once, else anyone. In one pool without
/// slow-down a contact is picked up iff some slot is free, by whoever, and handle times do not
/// depend on the agent: the queue is next_available's, contact for contact, so every wait,
/// abandonment and occupancy figure is identical; only who answers (affinity) changes.
#[test]
fn a_zero_time_owner_step_queues_exactly_as_next_available() {
    let base = bundled("reference", 6.0);
    let next = with_policy(base.clone(), &convosim::scenario::load_policy("next-available").expect("preset"));
    let zero = plan(&[(Reach::Owner, Some(0.0)), (Reach::Anyone, None)]);
    let steps = with_policy(base, &steps_spec(zero, None, OwnerOffline::Fallback, RoutingOptions::default()));
    let a = run_summary(&next, 3, 4);
    let b = run_summary(&steps, 3, 4);
    for name in [
        "wait_first_mean_s",
        "wait_resumed_mean_s",
        "wait_resumed_p90_s",
        "waited_resumed_share",
        "abandon_resumed_share",
        "queue_length_max",
    ] {
        assert_eq!(a.values(name), b.values(name), "{name}");
    }
    // Time averages sum per agent, in another order when other agents serve: equal to rounding.
    for name in ["occupancy_share", "queue_length_mean"] {
        for (x, y) in a.values(name).iter().zip(b.values(name)) {
            assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{name}: {x} vs {y}");
        }
    }
    let (na, st) = (a.mean("affinity_retention_share"), b.mean("affinity_retention_share"));
    println!("zero-time owner step: affinity {st:.4} vs next_available {na:.4}, same waits");
    assert!(st > na + 0.2, "the owner, when free, takes its contact: {st} vs {na}");
}

/// Three pools of four, one channel (`scenarios/three-teams.toml`, the README's bullseye
/// center), with `policy` (the body of a `[policy]` table) instead of its own.
fn three_teams(policy: &str) -> Scenario {
    let text = std::fs::read_to_string("scenarios/three-teams.toml").expect("bundled");
    let own = text.lines().find(|line| line.starts_with("policy = ")).expect("a top-level policy");
    let text = format!("{}\n[policy]\n{policy}\n", text.replacen(own, "", 1));
    parse_scenario(&text, Path::new("three-teams.toml")).expect("valid")
}

#[test]
fn three_steps_sit_between_their_neighbours_and_keep_the_invariants() {
    let bullseye = run_summary(&three_teams("kind = \"steps\"\nsteps = [{ to = \"owner\", for = \"2m\" }, { to = \"team\", for = \"5m\" }, { to = \"anyone\" }]"), 5, 6);
    let h2 = run_summary(&three_teams("kind = \"hybrid\"\ntimeout = \"2m\""), 5, 6);
    let h5 = run_summary(&three_teams("kind = \"hybrid\"\ntimeout = \"5m\""), 5, 6);
    let audit = bullseye.audit();
    assert!(audit.picked > 100_000, "{audit:?}");
    let wait = |s: &crate::common::Summary| s.mean("wait_resumed_mean_s");
    let affinity = |s: &crate::common::Summary| s.mean("affinity_retention_share");
    println!(
        "three steps: resumed wait {:.1} s (hybrid 2m {:.1} s, 5m {:.1} s), affinity {:.4} ({:.4}, {:.4})",
        wait(&bullseye),
        wait(&h2),
        wait(&h5),
        affinity(&bullseye),
        affinity(&h2),
        affinity(&h5)
    );
    // Between 2 and 5 minutes only the owner's pool may answer: longer waits than hybrid-2m
    // (anyone after 2 minutes), and the owner keeps more contacts; hybrid-5m, which waits for
    // the owner alone until 5 minutes, keeps the most (same customers: common seeds).
    assert!(wait(&h2) < wait(&bullseye), "waits");
    assert!(affinity(&h2) < affinity(&bullseye) && affinity(&bullseye) < affinity(&h5), "affinity");
    // Every step fired counts once: at least the 2-minute widenings hybrid-2m has.
    assert!(bullseye.mean("fallbacks_fired") >= h2.mean("fallbacks_fired") * 0.9);
}

#[test]
fn bad_steps_are_keyed_errors() {
    let cases = [
        ("steps = []", "policy.steps"),
        ("steps = [{ to = \"tem\", for = \"1m\" }, { to = \"anyone\" }]", "policy.steps[0].to"),
        ("steps = [{ to = \"owner\" }, { to = \"anyone\" }]", "policy.steps[0].for"),
        ("steps = [{ to = \"owner\", for = \"2m\" }, { to = \"team\", for = \"2m\" }, { to = \"anyone\" }]", "policy.steps[1].for"),
        ("steps = [{ to = \"owner\", for = \"2m\" }, { to = \"anyone\", for = \"5m\" }]", "policy.steps[1].for"),
        ("steps = [{ to = \"anyone\", for = \"2m\" }, { to = \"owner\" }]", "policy.steps[1].to"),
        ("", "policy.steps"),
    ];
    for (body, key) in cases {
        let text = format!(
            "name = \"x\"\nhorizon = \"1d\"\n[arrivals]\nrate_per_hour = 1\n[conversation]\n\
             exchanges = {{ dist = \"fixed\", value = 1 }}\nhandle_time = {{ dist = \"fixed\", value = 60 }}\n\
             [[agents]]\nname = \"a\"\ncount = 1\n[policy]\nkind = \"steps\"\n{body}\n"
        );
        let error = parse_scenario(&text, Path::new("bad.toml")).unwrap_err().to_string();
        assert!(error.starts_with(&format!("bad.toml: {key}: ")), "{body}: {error}");
        assert!(!error.contains('\n'), "{error}");
    }
}

#[test]
fn the_bullseye_preset_is_listed_and_runs_from_the_command_line() {
    let out = assert_cmd::Command::cargo_bin("convosim").unwrap().arg("policies").output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("bullseye") && listing.contains("steps(owner 2m team 5m anyone)"), "{listing}");
    assert!(listing.lines().any(|line| line.starts_with("kind steps ")), "{listing}");
    let run = assert_cmd::Command::cargo_bin("convosim")
        .unwrap()
        .args(["run", "scenarios/week-with-shifts.toml", "--policy", "bullseye", "--replications", "2"])
        .args(["--set", "horizon=3d", "--format", "json"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!(json["audit"]["ineligible_pickups"], 0, "{}", json["audit"]);
}

/// The results files of a hybrid run and of its steps twin differ only in the policy label.
#[test]
fn replications_csv_bytes_agree_but_for_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let hybrid = dir.path().join("h.toml");
    let steps = dir.path().join("s.toml");
    std::fs::write(&hybrid, "kind = \"hybrid\"\ntimeout = \"5m\"\nowner_offline = \"wait\"\n").unwrap();
    std::fs::write(&steps, "kind = \"steps\"\nowner_offline = \"wait\"\nsteps = [{ to = \"owner\", for = \"5m\" }, { to = \"anyone\" }]\n").unwrap();
    let mut rows = Vec::new();
    for (policy, out) in [(&hybrid, "h"), (&steps, "s")] {
        let out = dir.path().join(out);
        let status = assert_cmd::Command::cargo_bin("convosim")
            .unwrap()
            .args(["run", "scenarios/week-with-shifts.toml", "--replications", "3", "--set", "horizon=4d"])
            .arg("--policy")
            .arg(policy)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        let text = std::fs::read_to_string(out.join("replications.csv")).unwrap();
        // The policy label (quoted or not) is the one cell allowed to differ.
        let label = convosim::scenario::load_policy(policy.to_str().unwrap()).unwrap().label();
        let without: Vec<String> = text
            .lines()
            .map(|line| line.replace(&format!("\"{label}\""), "L").replace(&label, "L"))
            .collect();
        rows.push(without);
    }
    assert_eq!(rows[0], rows[1]);
    assert!(rows[0].len() == 4);
}

use crate::owner_or_teammate;

/// The example policy of the docs: the owner while its queue holds at most 2, else the team.
/// No personal queue ever holds more than 3 (a contact joins only a queue of 2 or fewer), every
/// pickup is by an agent the route reaches, and the owner keeps most contacts.
#[test]
fn the_example_policy_caps_personal_queues_and_keeps_the_invariants() {
    let mut center = three_teams("kind = \"sticky\"");
    center.policy = owner_or_teammate::OwnerOrTeammate::spec(2);
    assert_eq!(center.policy.label(), "owner_or_teammate(max_queue=2)");
    let summary = run_summary(&center, 9, 4);
    let sticky = run_summary(&three_teams("kind = \"sticky\""), 9, 4);
    let longest = summary.values("personal_queue_length_max");
    println!(
        "owner_or_teammate: longest personal queue {longest:?} (sticky {:?}), affinity {:.4}, resumed wait {:.1} s (sticky {:.1} s)",
        sticky.values("personal_queue_length_max"),
        summary.mean("affinity_retention_share"),
        summary.mean("wait_resumed_mean_s"),
        sticky.mean("wait_resumed_mean_s")
    );
    assert!(longest.iter().all(|&n| n <= 3.0), "{longest:?}");
    assert!(sticky.values("personal_queue_length_max").iter().any(|&n| n > 3.0), "the cap must bite");
    assert!(summary.mean("affinity_retention_share") > 0.5);
    assert!(summary.mean("wait_resumed_mean_s") < sticky.mean("wait_resumed_mean_s"));
}

/// A policy that reaches teams without saying so (`uses_teams` false): teams are indexed from
/// its first team step on, and every pickup is still by an agent the step reaches.
#[derive(Debug)]
struct Undeclared(owner_or_teammate::OwnerOrTeammate);

impl convosim::policy::Policy for Undeclared {
    fn label(&self) -> String {
        "undeclared".into()
    }
    fn route(
        &self,
        contact: &convosim::policy::ResumedContact,
        center: &dyn convosim::policy::CenterView,
    ) -> convosim::policy::Route<'_> {
        self.0.route(contact, center)
    }
}

#[test]
fn teams_reached_without_declaring_them_are_indexed_late_and_keep_the_invariants() {
    let mut center = three_teams("kind = \"sticky\"");
    let policy = Undeclared(owner_or_teammate::OwnerOrTeammate::new(2));
    center.policy =
        PolicySpec { kind: "undeclared", policy: Arc::new(policy), options: RoutingOptions::default() };
    let summary = run_summary(&center, 9, 2);
    assert!(summary.values("personal_queue_length_max").iter().all(|&n| n <= 3.0));
    assert_eq!(summary.audit().ineligible_pickups, 0);
}
