//! Capacity counted in units, for channels with a weight other than 1 or conversations that
//! hold capacity between contacts (`[capacity]`): each agent's units in use (contacts in
//! handling and conversations held), and the `least_loaded` index by exact share of capacity
//! in use. Plain scenarios never build any of this: they count contacts, as before.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::{Capacity, FreeIndex};
use crate::policy::{AgentId, SelectRule};
use crate::scenario::capacity::SLOT_UNITS;
use crate::scenario::{AgentPool, Channel};

/// Units in use and the units a contact of each channel needs.
#[derive(Debug, Clone)]
pub(super) struct Units {
    /// Per agent: units in use (in handling, and held by conversations between contacts).
    pub(super) used: Vec<u64>,
    /// Per pool: its agents' capacity, concurrency × [`SLOT_UNITS`].
    pub(super) cap: Vec<u64>,
    /// Per pool: the units of the lightest channel it serves (an agent with that much room
    /// "has a free slot").
    pub(super) lightest: Vec<u64>,
    /// Per channel: the units one of its contacts uses in handling.
    pub(super) weight: Vec<u64>,
}

impl Units {
    pub(super) fn new(pools: &[AgentPool], channels: &[Channel], agents: usize) -> Self {
        let weight: Vec<u64> = channels.iter().map(|c| c.capacity.active_units()).collect();
        Self {
            used: vec![0; agents],
            cap: pools.iter().map(|p| u64::from(p.concurrency) * SLOT_UNITS).collect(),
            lightest: pools
                .iter()
                .map(|p| p.skills.iter().map(|s| weight[s.channel]).min().unwrap_or(SLOT_UNITS))
                .collect(),
            weight,
        }
    }
}

/// A share of capacity in use, `used / cap`, compared exactly (by cross-multiplication), so
/// that 1/2 of 2 slots and 2/4 of 4 slots are one share.
#[derive(Debug, Clone, Copy)]
pub(super) struct Share {
    used: u64,
    cap: u64,
}

impl Ord for Share {
    fn cmp(&self, other: &Self) -> Ordering {
        (u128::from(self.used) * u128::from(other.cap)).cmp(&(u128::from(other.used) * u128::from(self.cap)))
    }
}

impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Share {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Share {}

/// Free agents ordered by share in use, then by the time they reached it (earlier first): the
/// `least_loaded` rule when shares are arbitrary fractions. O(log n) per change, no scan.
#[derive(Debug, Clone)]
pub(super) struct ShareIndex {
    set: BTreeSet<(Share, u64, u32)>,
    /// Each agent's key in `set`, if it is there.
    key: Vec<Option<(Share, u64)>>,
    next_seq: u64,
}

impl ShareIndex {
    pub(super) fn new(agents: usize) -> Self {
        Self { set: BTreeSet::new(), key: vec![None; agents], next_seq: 0 }
    }

    /// Takes the agent out, and puts it back at the end of its share if it is free.
    pub(super) fn update(&mut self, agent: u32, free: bool, used: u64, cap: u64) {
        if let Some((share, seq)) = self.key[agent as usize].take() {
            self.set.remove(&(share, seq, agent));
        }
        if free {
            let share = Share { used, cap };
            self.set.insert((share, self.next_seq, agent));
            self.key[agent as usize] = Some((share, self.next_seq));
            self.next_seq += 1;
        }
    }

    pub(super) fn first(&self) -> Option<u32> {
        self.set.first().map(|(_, _, agent)| *agent)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// The capacity operations of unit mode (the plain paths stay in `mod.rs`).
impl Capacity {
    /// As [`Self::new`], with capacity counted in units: each channel's contacts use its
    /// `capacity.weight`, and `least_loaded` compares exact shares of capacity in use.
    pub fn with_units(pools: &[AgentPool], selects: &[SelectRule], channels: &[Channel]) -> Self {
        let mut capacity = Self::new(pools, selects);
        let n = capacity.agents.len();
        for index in &mut capacity.free {
            if matches!(index, FreeIndex::LeastLoaded { .. }) {
                *index = FreeIndex::LeastShare(ShareIndex::new(n));
            }
        }
        capacity.units = Some(Box::new(Units::new(pools, channels, n)));
        capacity
    }

    /// Whether capacity is counted in units (a `[capacity]` model).
    pub fn in_units(&self) -> bool {
        self.units.is_some()
    }
    /// [`Self::reindex`] with capacity in units: the agent is free for a channel when one of
    /// its contacts fits in the agent's remaining units.
    #[cold]
    pub(super) fn reindex_units(&mut self, agent: AgentId) {
        let Some(units) = &self.units else { return };
        let (used, pool) = (units.used[agent as usize], self.agents[agent as usize].pool as usize);
        let cap = units.cap[pool];
        // In units, `concurrency` says whether a contact of the agent's lightest channel fits
        // (load + 1) or not (load), so that `is_free`, the agent's "free slot" on every path,
        // reads one field whatever the model.
        let state = &mut self.agents[agent as usize];
        state.concurrency = state.load + u32::from(used + units.lightest[pool] <= cap);
        let state = *state;
        for &channel in self.pool_channels[state.pool as usize].iter() {
            let free = state.on_shift && used + units.weight[channel as usize] <= cap;
            match &mut self.free[channel as usize] {
                FreeIndex::LeastShare(index) => index.update(agent, free, used, cap),
                other => other.update(agent, state, free),
            }
            if let Some(teams) = &mut self.teams {
                teams.update_units(agent, state, channel, free, used, cap);
            }
        }
    }

    /// Capacity in units: the agent starts handling a contact of `units` units (the caller
    /// checked the room, or counts the reactivation that goes past it).
    pub fn take_units(&mut self, agent: AgentId, units: u64) {
        self.agents[agent as usize].load += 1;
        self.add_units(agent, units, 0);
    }

    /// Capacity in units: the agent finished a contact of `handled` units, and its
    /// conversation goes on holding `held` units.
    pub fn release_units(&mut self, agent: AgentId, handled: u64, held: u64) {
        let state = &mut self.agents[agent as usize];
        debug_assert!(state.load > 0);
        state.load -= 1;
        self.add_units(agent, held, handled);
    }

    /// Capacity in units: `add` more and `remove` fewer units in use (a held conversation
    /// going inactive, closing or coming back).
    pub fn add_units(&mut self, agent: AgentId, add: u64, remove: u64) {
        if let Some(units) = &mut self.units {
            let used = &mut units.used[agent as usize];
            debug_assert!(*used + add >= remove);
            *used = (*used + add).saturating_sub(remove);
        }
        self.reindex(agent);
    }

    /// Units in use at the agent, and its capacity in units (0 and 0 when counted in contacts).
    pub fn units_of(&self, agent: AgentId) -> (u64, u64) {
        self.units
            .as_ref()
            .map_or((0, 0), |u| (u.used[agent as usize], u.cap[self.agents[agent as usize].pool as usize]))
    }

    /// Whether the agent is on shift with room for one contact of `channel`.
    #[cold]
    #[inline(never)]
    pub fn fits(&self, agent: AgentId, channel: usize) -> bool {
        let state = &self.agents[agent as usize];
        match &self.units {
            None => Self::is_free(state),
            Some(u) => {
                state.on_shift && u.used[agent as usize] + u.weight[channel] <= u.cap[state.pool as usize]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_compare_exactly_and_ties_go_to_the_earlier() {
        let mut index = ShareIndex::new(3);
        index.update(0, true, 500_000, 2 * SLOT_UNITS); // 1/4
        index.update(1, true, SLOT_UNITS, 4 * SLOT_UNITS); // 1/4, later
        index.update(2, true, 333_000, SLOT_UNITS); // 0.333
        assert_eq!(index.first(), Some(0));
        index.update(0, true, 1_000_000, 2 * SLOT_UNITS); // 1/2
        assert_eq!(index.first(), Some(1));
        index.update(1, false, 0, 4 * SLOT_UNITS);
        assert_eq!(index.first(), Some(2));
        index.update(2, false, 0, SLOT_UNITS);
        assert_eq!(index.first(), Some(0));
        index.update(0, false, 0, SLOT_UNITS);
        assert!(index.is_empty());
    }
}
