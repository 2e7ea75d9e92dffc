//! The audit counters of a run (what proves it kept its invariants) and their sum over
//! replications. The fields are listed once: the JSON is derived, and the sum destructures
//! every field, so a new counter is a compile error until it is summed.

use std::ops::AddAssign;

use serde::Serialize;

/// Counts that prove the run kept its invariants; tests check them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Contacts that became ready, whole run.
    pub ready: u64,
    /// Contacts picked up, whole run.
    pub picked: u64,
    /// Contacts abandoned, whole run.
    pub abandoned: u64,
    /// Contacts still waiting at the horizon.
    pub waiting_at_horizon: u64,
    /// Pickups that would have put an agent over its concurrency (must be 0).
    pub over_concurrency: u64,
    /// Pickups by an off-shift agent (must be 0).
    pub off_shift_pickups: u64,
    /// Events that popped earlier than the one before (must be 0).
    pub time_reversals: u64,
    /// Pickups by an agent whose pool is not skilled for the contact's channel (must be 0).
    pub unskilled_pickups: u64,
    /// Pickups by an agent a routing step does not reach, at once or from a team queue of
    /// another pool (must be 0; personal queues are served by their agent alone by construction).
    pub ineligible_pickups: u64,
    /// Pickups past the agent's capacity by a held conversation's reactivation to its holder
    /// (`[capacity] reactivation = "holder"`): the only pickups allowed past it, counted here
    /// and not in `over_concurrency`.
    pub reactivations_over_capacity: u64,
}

impl AddAssign<&Audit> for Audit {
    fn add_assign(&mut self, other: &Audit) {
        // No `..`: a field added to `Audit` does not compile here until it is summed.
        let Audit {
            ready,
            picked,
            abandoned,
            waiting_at_horizon,
            over_concurrency,
            off_shift_pickups,
            time_reversals,
            unskilled_pickups,
            ineligible_pickups,
            reactivations_over_capacity,
        } = *other;
        self.ready += ready;
        self.picked += picked;
        self.abandoned += abandoned;
        self.waiting_at_horizon += waiting_at_horizon;
        self.over_concurrency += over_concurrency;
        self.off_shift_pickups += off_shift_pickups;
        self.time_reversals += time_reversals;
        self.unskilled_pickups += unskilled_pickups;
        self.ineligible_pickups += ineligible_pickups;
        self.reactivations_over_capacity += reactivations_over_capacity;
    }
}
