//! Routing policies: where a resumed contact goes.
//!
//! A policy is one [`Policy`] implementation in its own file, named once in [`REGISTRY`]. It is
//! given an immutable view of the center ([`CenterView`]) and a [`ResumedContact`], and returns
//! a small [`Route`]; it never touches the event queue. First contacts, the choice among free
//! agents (`select`) and the order of queues a free agent serves are options every policy
//! understands ([`RoutingOptions`]); the engine applies them.
//!
//! For policy authors, this module is the whole interface: implement [`Policy`] (it reads the
//! center through [`CenterView`] and answers with a [`Route`], possibly a [`StepPlan`] of
//! widening steps), give it a [`PolicyEntry`] and name that in [`REGISTRY`].
//! `examples/owner_or_teammate.rs` is a complete policy run on a scenario.

mod hybrid;
mod next_available;
mod params;
mod plan;
mod steps;
mod sticky;

use std::fmt;
use std::sync::Arc;

pub use hybrid::Hybrid;
pub use next_available::NextAvailable;
pub use params::{duration_value, PolicyParams};
pub use plan::{PlanError, Reach, Step, StepPlan};
pub use steps::{read_plan, Steps};
pub use sticky::Sticky;

use crate::error::FieldError;

/// Index of an agent, numbered pool by pool in file order.
pub type AgentId = u32;

/// What a policy can see of the center when it routes: every answer is O(1).
pub trait CenterView {
    /// Whether the agent is on shift now.
    fn is_on_shift(&self, agent: AgentId) -> bool;
    /// Whether the agent is on shift and has a free slot now.
    fn has_free_slot(&self, agent: AgentId) -> bool;
    /// Contacts the agent is handling now.
    fn load(&self, agent: AgentId) -> u32;
    /// Contacts the agent may handle at once.
    fn concurrency(&self, agent: AgentId) -> u32;
    /// The share of the agent's capacity in use (what `least_loaded` compares).
    fn load_share(&self, agent: AgentId) -> f64 {
        f64::from(self.load(agent)) / f64::from(self.concurrency(agent).max(1))
    }
    /// Contacts waiting in the agent's personal queue.
    fn personal_queue_len(&self, agent: AgentId) -> u64;
    /// The agent's pool (index in the scenario's `[[agents]]`).
    fn pool_of(&self, agent: AgentId) -> usize;
    /// The agents of a pool: a contiguous range of ids.
    fn pool_agents(&self, pool: usize) -> std::ops::Range<AgentId>;
    /// Number of agents.
    fn agent_count(&self) -> usize;
    /// Contacts waiting in a channel's queue (anyone skilled may take them).
    fn channel_queue_len(&self, channel: usize) -> u64;
    /// Contacts waiting in the team queue of (`pool`, `channel`) (0 if no step reached a team).
    fn team_queue_len(&self, pool: usize, channel: usize) -> u64;
}

/// A resumed contact about to be routed: the customer wrote again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResumedContact {
    /// When the contact became ready, seconds.
    pub ready_at: f64,
    /// The agent who handled the conversation's latest exchange.
    pub owner: AgentId,
    /// When that agent replied (the gap started), seconds.
    pub last_reply_at: f64,
    /// The conversation's channel (index in the scenario's channels; 0 without channels).
    pub channel: usize,
}

/// A first contact about to be routed: a new conversation, with no owner yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewContact {
    /// When the contact became ready, seconds.
    pub ready_at: f64,
    /// The conversation's channel.
    pub channel: usize,
}

/// A policy's decision for one contact. Plans ([`Route::Steps`]) are borrowed from the policy,
/// which builds them once.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Route<'p> {
    /// Route it like a first contact (the `first_contact` option decides how).
    AsFirstContact,
    /// The best free agent takes it now; if none is free it joins the global queue.
    Pool,
    /// As [`Route::Pool`], because the owner is off shift (`owner_offline = "fallback"`);
    /// counted in `owner_offline_reroutes`, apart from timeouts that fire.
    PoolOwnerOffline,
    /// This agent takes it now if on shift with a free slot; otherwise it waits in the agent's
    /// personal queue. With `fall_back_after = Some(t)`, if still waiting `t` seconds after it
    /// became ready, it joins the global queue in order of its ready time.
    Agent {
        /// The agent offered the contact.
        agent: AgentId,
        /// Seconds after ready time at which any agent may take it; `None`: never.
        fall_back_after: Option<f64>,
    },
    /// Widening steps: at each step an eligible agent with a free slot takes it at once (the
    /// owner first, then by `select`), else it waits where eligible agents look until one frees
    /// a slot or the step ends. A first contact (no owner) is routed as a first contact.
    Steps {
        /// The plan.
        plan: &'p StepPlan,
        /// The owner is off shift and the plan's leading owner steps are skipped (counted in
        /// `owner_offline_reroutes`); if nothing is left, as [`Route::Pool`].
        owner_offline: bool,
    },
}

/// A routing policy.
pub trait Policy: Send + Sync + fmt::Debug {
    /// A label with the parameters, e.g. `hybrid(timeout=10m)`.
    fn label(&self) -> String;
    /// Where a resumed contact goes.
    fn route(&self, contact: &ResumedContact, center: &dyn CenterView) -> Route<'_>;
    /// Where a first contact goes: by default as the `first_contact` option says
    /// ([`Route::AsFirstContact`]). A first contact has no owner: [`Route::Steps`] and
    /// [`Route::PoolOwnerOffline`] route it as a first contact too.
    fn route_first(&self, _contact: &NewContact, _center: &dyn CenterView) -> Route<'_> {
        Route::AsFirstContact
    }
    /// Whether the policy overrides [`Policy::route_first`]; the engine skips the call if not.
    fn routes_first_contacts(&self) -> bool {
        false
    }
    /// Whether some route may reach a team ([`Reach::Team`]): the engine then keeps a free-agent
    /// index per pool from the start of the run, so `select` picks a teammate exactly. (A team
    /// reached without it is indexed from then on, in agent order at first.)
    fn uses_teams(&self) -> bool {
        false
    }
    /// Whether every resumed contact goes to the pool (never to a named agent): with pooled
    /// first contacts the center is then one shared queue, and staffing may read the chance of
    /// waiting off the number in system (the ISA's rule). False unless a policy says so.
    fn pooled(&self) -> bool {
        false
    }
}

/// How a contact picks among free agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectRule {
    /// Lowest share of slots in use; ties to the agent at that load longest.
    #[default]
    LeastLoaded,
    /// The agent whose load changed least recently.
    LongestIdle,
    /// The next free agent after the one chosen last, in agent order.
    RoundRobin,
    /// A uniformly random free agent.
    Random,
}

impl SelectRule {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 4] = ["least_loaded", "longest_idle", "round_robin", "random"];
    /// Every rule.
    pub const ALL: [SelectRule; 4] = [Self::LeastLoaded, Self::LongestIdle, Self::RoundRobin, Self::Random];
}

/// How a first contact (or one routed like it) is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FirstContact {
    /// The best free agent, else the global queue (next-available).
    #[default]
    Pool,
    /// A uniformly random on-shift agent, waiting in its personal queue if it is busy.
    RandomAgent,
}

impl FirstContact {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["pool", "random_agent"];
    /// Every option.
    pub const ALL: [FirstContact; 2] = [Self::Pool, Self::RandomAgent];
}

/// What sticky and hybrid do when the owner is off shift when the contact becomes ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerOffline {
    /// Wait for the owner (sticky) or for the timeout (hybrid).
    Wait,
    /// Route to the pool at once.
    Fallback,
}

impl OwnerOffline {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["wait", "fallback"];
    /// Every option.
    pub const ALL: [OwnerOffline; 2] = [Self::Wait, Self::Fallback];
}

/// Options every policy understands; the engine applies them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutingOptions {
    /// How a contact picks among free agents.
    pub select: SelectRule,
    /// How first contacts are placed.
    pub first_contact: FirstContact,
    /// Whether a free agent serves its personal queue before the global queue.
    pub personal_first: bool,
}

impl Default for RoutingOptions {
    fn default() -> Self {
        Self { select: SelectRule::default(), first_contact: FirstContact::default(), personal_first: true }
    }
}

/// A policy with the engine-level options: what `[policy]` in a scenario becomes.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    /// The `kind` as written, e.g. `hybrid`.
    pub kind: &'static str,
    /// The routing decision for resumed contacts.
    pub policy: Arc<dyn Policy>,
    /// Options the engine applies for every policy.
    pub options: RoutingOptions,
}

impl PolicySpec {
    /// The policy's label, with the options that differ from their defaults.
    pub fn label(&self) -> String {
        let mut label = self.policy.label();
        let defaults = RoutingOptions::default();
        let mut extra = Vec::new();
        if self.options.select != defaults.select {
            extra.push(format!("select={}", SelectRule::NAMES[self.options.select as usize]));
        }
        if self.options.first_contact != defaults.first_contact {
            extra.push(format!("first_contact={}", FirstContact::NAMES[self.options.first_contact as usize]));
        }
        if !self.options.personal_first {
            extra.push("personal_first=false".to_string());
        }
        if !extra.is_empty() {
            label = format!("{label}[{}]", extra.join(","));
        }
        label
    }
}

/// One line of the policy registry.
pub struct PolicyEntry {
    /// The `kind` as written in TOML.
    pub kind: &'static str,
    /// One line for `convosim policies`.
    pub summary: &'static str,
    /// Builds the policy from its own keys of `[policy]`.
    pub build: fn(&mut PolicyParams<'_>) -> Result<Arc<dyn Policy>, FieldError>,
}

/// Every policy kind. Adding a policy: a new file with a [`Policy`] implementation and an
/// `ENTRY`, plus one line here.
pub static REGISTRY: &[PolicyEntry] = &[next_available::ENTRY, sticky::ENTRY, hybrid::ENTRY, steps::ENTRY];

/// Looks a policy kind up by name.
pub fn find_kind(kind: &str) -> Option<&'static PolicyEntry> {
    REGISTRY.iter().find(|entry| entry.kind == kind)
}
