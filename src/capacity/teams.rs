//! Teams: a free-agent index per (pool, channel), for routing steps that reach the owner's team.
//!
//! Kept only when a policy reaches teams, and only for channels served by several pools (with
//! one, the team is everyone and the channel's own index answers). Updated with the channel
//! indexes at every load or shift change, so a team's `select` order is the channel's order
//! restricted to the team.

use rand::Rng;

use super::units::ShareIndex;
use super::{Agent, FreeIndex};
use crate::policy::{AgentId, SelectRule};
use crate::scenario::AgentPool;

/// The team indexes of every (pool, channel) that needs one.
#[derive(Debug, Clone)]
pub(super) struct Teams {
    /// `index[pool * channels + channel]`, over the pool's agents numbered from 0.
    index: Vec<Option<FreeIndex>>,
    channels: usize,
    /// Agent ids where each pool starts.
    start: Vec<u32>,
}

impl Teams {
    /// Empty indexes (no agent free) for every pool skilled for a channel that `serving[c]`
    /// pools serve, with `selects[c]` as the shape (`least_loaded` by exact share of capacity
    /// when capacity is counted in `units`).
    pub(super) fn new(pools: &[AgentPool], selects: &[SelectRule], serving: &[usize], units: bool) -> Self {
        let channels = selects.len();
        let mut index = vec![None; pools.len() * channels];
        let mut start = Vec::with_capacity(pools.len());
        let mut first = 0;
        for (p, pool) in pools.iter().enumerate() {
            start.push(first);
            first += pool.count;
            for skill in &pool.skills {
                if serving[skill.channel] > 1 {
                    let (one, n) = (&pools[p..=p], pool.count as usize);
                    index[p * channels + skill.channel] = Some(match selects[skill.channel] {
                        SelectRule::LeastLoaded if units => FreeIndex::LeastShare(ShareIndex::new(n)),
                        select => FreeIndex::new(select, one, n),
                    });
                }
            }
        }
        Self { index, channels, start }
    }

    /// Moves `agent` (of `state.pool`) in the team indexes of `channels`.
    #[inline]
    pub(super) fn update(&mut self, agent: AgentId, state: Agent, free: bool, channels: &[u32]) {
        let pool = state.pool as usize;
        let local = agent - self.start[pool];
        // A team index holds one pool: its load levels are pool 0's.
        let state = Agent { pool: 0, ..state };
        for &channel in channels {
            if let Some(index) = &mut self.index[pool * self.channels + channel as usize] {
                index.update(local, state, free);
            }
        }
    }

    /// Moves `agent` in the team index of `channel` with capacity in units: free when one of the
    /// channel's contacts fits (`free`), `used` of `cap` units in use.
    pub(super) fn update_units(
        &mut self,
        agent: AgentId,
        state: Agent,
        channel: u32,
        free: bool,
        used: u64,
        cap: u64,
    ) {
        let pool = state.pool as usize;
        let local = agent - self.start[pool];
        let state = Agent { pool: 0, ..state };
        match &mut self.index[pool * self.channels + channel as usize] {
            Some(FreeIndex::LeastShare(index)) => index.update(local, free, used, cap),
            Some(index) => index.update(local, state, free),
            None => {}
        }
    }

    /// The free agent of `pool` skilled for `channel` that the channel's `select` picks, if
    /// the pair has an index.
    pub(super) fn select<R: Rng + ?Sized>(
        &mut self,
        pool: usize,
        channel: usize,
        rng: &mut R,
    ) -> Option<AgentId> {
        let start = self.start[pool];
        self.index[pool * self.channels + channel].as_mut()?.select(rng).map(|local| local + start)
    }
}
