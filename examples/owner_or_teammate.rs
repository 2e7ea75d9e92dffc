//! A routing policy written outside convosim: the owner, unless the owner's personal queue is
//! longer than 2 (or the owner is off shift); then the least-loaded free teammate (the owner's
//! pool, by `select = "least_loaded"`), or the first teammate to free a slot.
//!
//! Run it: `cargo run --release --example owner_or_teammate [SCENARIO.toml]` (default:
//! `scenarios/three-teams.toml`); it prints the policy and sticky on the same customers.
//! `tests/integration/steps.rs` runs it too, and `tests/integration/readme.rs` checks what it
//! prints against the README.

use std::path::Path;
use std::sync::Arc;

use convosim::policy::{
    CenterView, Policy, PolicySpec, Reach, ResumedContact, Route, RoutingOptions, Step, StepPlan,
};
use convosim::runner::{run_replications, summarize_metrics, Replication};
use convosim::scenario::{load_policy, parse_scenario, read_text};
use convosim::Scenario;

/// The owner while its queue is short, else its team.
#[derive(Debug)]
pub struct OwnerOrTeammate {
    /// The longest personal queue a contact still joins.
    pub max_queue: u64,
    /// One step, the owner's team until pickup; built once, borrowed by every route.
    team: StepPlan,
}

impl OwnerOrTeammate {
    /// The policy with its plan.
    pub fn new(max_queue: u64) -> Self {
        let team =
            StepPlan::new(vec![Step { to: Reach::Team, until: None }]).expect("one open step is a plan");
        Self { max_queue, team }
    }

    /// As a scenario's policy, with the default options (`select = "least_loaded"`).
    pub fn spec(max_queue: u64) -> PolicySpec {
        PolicySpec {
            kind: "owner_or_teammate",
            policy: Arc::new(Self::new(max_queue)),
            options: RoutingOptions::default(),
        }
    }
}

impl Policy for OwnerOrTeammate {
    fn label(&self) -> String {
        format!("owner_or_teammate(max_queue={})", self.max_queue)
    }

    fn route(&self, contact: &ResumedContact, center: &dyn CenterView) -> Route<'_> {
        let owner = contact.owner;
        if center.is_on_shift(owner) && center.personal_queue_len(owner) <= self.max_queue {
            // At once if the owner has a free slot, else in the owner's queue (no timeout).
            return Route::Agent { agent: owner, fall_back_after: None };
        }
        // The owner's pool: the owner first if free (it is not), then the least-loaded free
        // teammate, else the team queue, served by the first teammate with a free slot.
        Route::Steps { plan: &self.team, owner_offline: false }
    }

    fn uses_teams(&self) -> bool {
        true
    }
}

/// What the example prints: the policy and sticky on the same customers (the scenario's seed
/// and replications), side by side. `tests/integration/readme.rs` checks it against the README.
pub fn report(file: &str) -> Result<String, Box<dyn std::error::Error>> {
    let base = parse_scenario(&read_text(Path::new(file))?, Path::new(file))?;
    let mut text = format!(
        "{} · {} replication(s), seed {} · the same customers under both policies\n",
        base.name, base.replications, base.seed
    );
    let row = |a: &str, b: &str, c: &str, d: &str| format!("{a:31} {b:>18} {c:>18} {d:>14}\n");
    text += &row("policy", "resumed wait, mean", "affinity", "longest queue");
    for spec in [OwnerOrTeammate::spec(2), load_policy("sticky")?] {
        let scenario = Scenario { policy: spec, ..base.clone() };
        let replications = run_replications(&scenario, scenario.seed, 0, scenario.replications)?;
        let (wait, wait_ci) = mean_and_ci(&replications, "wait_resumed_mean_s");
        let (kept, kept_ci) = mean_and_ci(&replications, "affinity_retention_share");
        // The longest personal queue of each replication, as a range over replications.
        let longest = replications.iter().filter_map(|r| r.output.metrics.get("personal_queue_length_max"));
        let (low, high) = longest.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
        text += &row(
            &scenario.policy.label(),
            &format!("{wait:.1} ± {wait_ci:.1} s"),
            &format!("{:.2}% ± {:.2}%", kept * 100.0, kept_ci * 100.0),
            &format!("{low} to {high}"),
        );
    }
    Ok(text)
}

/// A metric's mean and 95% CI half-width over the replications (NaN where undefined).
fn mean_and_ci(replications: &[Replication], name: &str) -> (f64, f64) {
    let summaries = summarize_metrics(replications);
    let summary = summaries.iter().find(|(n, _)| *n == name).map(|(_, s)| s);
    let mean = summary.and_then(|s| s.mean).unwrap_or(f64::NAN);
    (mean, summary.and_then(|s| s.ci95).unwrap_or(f64::NAN))
}

#[allow(dead_code)] // The tests include this file without running `main`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args().nth(1).unwrap_or_else(|| "scenarios/three-teams.toml".into());
    print!("{}", report(&file)?);
    Ok(())
}
