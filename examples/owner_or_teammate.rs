//! A routing policy written outside convosim: the owner, unless the owner's personal queue is
//! longer than 2 (or the owner is off shift); then the least-loaded free teammate (the owner's
//! pool, by `select = "least_loaded"`), or the first teammate to free a slot.
//!
//! Run it: `cargo run --release --example owner_or_teammate [SCENARIO.toml]` (default:
//! `scenarios/week-with-shifts.toml`). `tests/integration/steps.rs` runs it too.

use std::path::Path;
use std::sync::Arc;

use convosim::policy::{
    CenterView, Policy, PolicySpec, Reach, ResumedContact, Route, RoutingOptions, Step, StepPlan,
};
use convosim::runner::{run_replications, summarize_metrics};
use convosim::scenario::{parse_scenario, read_text};

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

#[allow(dead_code)] // The tests include this file without running `main`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::args().nth(1).unwrap_or_else(|| "scenarios/week-with-shifts.toml".into());
    let mut scenario = parse_scenario(&read_text(Path::new(&file))?, Path::new(&file))?;
    scenario.policy = OwnerOrTeammate::spec(2);
    let replications = run_replications(&scenario, scenario.seed, 0, scenario.replications)?;
    println!("{} · {}", scenario.name, scenario.policy.label());
    for (name, summary) in summarize_metrics(&replications) {
        if ["wait_resumed_mean_s", "affinity_retention_share", "personal_queue_length_max"].contains(&name) {
            println!(
                "  {name:28} {:>10.4} ± {:.4}",
                summary.mean.unwrap_or(f64::NAN),
                summary.ci95.unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
