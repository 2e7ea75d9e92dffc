//! Capacity accounting: agents' slots, shifts, and the index of agents with a free slot.
//!
//! Owns the answer to "who can take a contact now?" in O(1) (or O(levels)) per question, for
//! every `select` rule, so that neither the engine nor a policy ever scans agents. With a
//! `[capacity]` model (weights, conversations held between contacts) capacity is counted in
//! integer units (`units.rs`); without one, in contacts, on the paths measured for speed.

use rand::Rng;

use crate::policy::{AgentId, SelectRule};
use crate::scenario::AgentPool;

mod sets;
mod teams;
mod units;

use sets::{BucketLists, DenseSet, RoundRobinSet};
use teams::Teams;
use units::{ShareIndex, Units};

const NONE: u32 = u32::MAX;

/// One agent's capacity state.
#[derive(Debug, Clone, Copy)]
struct Agent {
    load: u32,
    concurrency: u32,
    pool: u32,
    on_shift: bool,
}

/// The index of on-shift agents with a free slot among those skilled for one channel, shaped
/// for that channel's `select` rule.
#[derive(Debug, Clone)]
enum FreeIndex {
    /// Buckets by share of slots in use, FIFO by time of entering the bucket.
    LeastLoaded {
        lists: BucketLists,
        /// The bucket of load `l` for an agent of pool `p` is `level[p * stride + l]`.
        level: Vec<u32>,
        stride: usize,
    },
    /// One FIFO list by time of the last load change.
    LongestIdle(BucketLists),
    RoundRobin(RoundRobinSet),
    Random(DenseSet),
    /// `least_loaded` with capacity in units: by exact share in use, then time at it.
    LeastShare(ShareIndex),
}

impl FreeIndex {
    fn new(select: SelectRule, pools: &[AgentPool], n: usize) -> Self {
        match select {
            SelectRule::LeastLoaded => {
                let (buckets, levels) = load_levels(pools);
                let stride = pools.iter().map(|p| p.concurrency as usize).max().unwrap_or(1);
                let mut level = vec![0; stride * pools.len()];
                for (pool, loads) in levels.iter().enumerate() {
                    level[pool * stride..pool * stride + loads.len()].copy_from_slice(loads);
                }
                FreeIndex::LeastLoaded { lists: BucketLists::new(buckets, n), level, stride }
            }
            SelectRule::LongestIdle => FreeIndex::LongestIdle(BucketLists::new(1, n)),
            SelectRule::RoundRobin => FreeIndex::RoundRobin(RoundRobinSet::new(n)),
            SelectRule::Random => FreeIndex::Random(DenseSet::new(n)),
        }
    }

    /// Puts the agent at the back of its place if it is free, or takes it out if not. Always
    /// inlined: it runs at every load change, and a call here costs the one-channel engine
    /// measurable time.
    #[inline(always)]
    fn update(&mut self, agent: AgentId, state: Agent, free: bool) {
        match self {
            FreeIndex::LeastLoaded { lists, level, stride } => {
                if lists.contains(agent) {
                    lists.remove(agent);
                }
                if free {
                    lists.push_back(level[state.pool as usize * *stride + state.load as usize], agent);
                }
            }
            FreeIndex::LongestIdle(lists) => {
                if lists.contains(agent) {
                    lists.remove(agent);
                }
                if free {
                    lists.push_back(0, agent);
                }
            }
            FreeIndex::RoundRobin(set) => set.set(agent, free),
            FreeIndex::Random(set) => {
                if free {
                    set.insert(agent);
                } else {
                    set.remove(agent);
                }
            }
            // Kept by `Capacity::reindex_units`, which knows the units.
            FreeIndex::LeastShare(_) => debug_assert!(false, "a share index updated without units"),
        }
    }

    fn any(&self) -> bool {
        match self {
            FreeIndex::LeastLoaded { lists, .. } | FreeIndex::LongestIdle(lists) => {
                lists.non_empty.iter().any(|w| *w != 0)
            }
            FreeIndex::RoundRobin(set) => set.summary.iter().any(|w| *w != 0),
            FreeIndex::Random(set) => !set.members.is_empty(),
            FreeIndex::LeastShare(index) => !index.is_empty(),
        }
    }

    #[inline]
    fn select<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<AgentId> {
        match self {
            FreeIndex::LeastLoaded { lists, .. } | FreeIndex::LongestIdle(lists) => lists.first(),
            FreeIndex::RoundRobin(set) => set.next(),
            FreeIndex::Random(set) => set.draw(rng),
            FreeIndex::LeastShare(index) => index.first(),
        }
    }
}

/// Every agent's slots and shift state, and who is free for each channel.
#[derive(Debug, Clone)]
pub struct Capacity {
    agents: Vec<Agent>,
    /// One free index per channel; an agent is in the index of every channel its pool serves,
    /// so a contact finds the best free agent skilled for its channel without a scan.
    free: Vec<FreeIndex>,
    /// On-shift agents per channel, for `random_agent`.
    on_shift: Vec<DenseSet>,
    /// The channels each pool serves.
    pool_channels: Vec<Box<[u32]>>,
    /// Per channel, the agents skilled for it as (first agent, cumulative count at its end)
    /// runs, one per serving pool: a uniform draw over them needs no list of agents.
    skilled: Vec<Vec<(u32, u32)>>,
    /// One channel, served by every pool, and no team indexes: a load change updates its one
    /// index without walking the pool's channel list (the single-channel engine's speed,
    /// measured in benches/end_to_end.rs).
    one_channel: bool,
    /// Free-agent indexes per (pool, channel), once a policy reaches teams (`enable_teams`).
    teams: Option<Box<Teams>>,
    /// The `select` rule of each channel, for the team indexes.
    selects: Vec<SelectRule>,
    /// Capacity in units, with a `[capacity]` model; `None`: counted in contacts.
    units: Option<Box<Units>>,
}

/// Sorted distinct load shares `load/concurrency` (load < concurrency) over the pools, and for
/// each pool the bucket of each load.
fn load_levels(pools: &[AgentPool]) -> (usize, Vec<Vec<u32>>) {
    let mut shares: Vec<(u32, u32)> =
        pools.iter().flat_map(|p| (0..p.concurrency).map(move |load| (load, p.concurrency))).collect();
    // Compare a/b < c/d as a·d < c·b: exact, so 1/2 and 2/4 share a bucket.
    shares.sort_by(|x, y| (x.0 as u64 * y.1 as u64).cmp(&(y.0 as u64 * x.1 as u64)));
    shares.dedup_by(|x, y| x.0 as u64 * y.1 as u64 == y.0 as u64 * x.1 as u64);
    let level = pools
        .iter()
        .map(|p| {
            (0..p.concurrency)
                .map(|load| {
                    // Binary search in the exact order of the sort: pools × concurrency can be
                    // large, so no linear scan per level.
                    let found = shares.binary_search_by(|s| {
                        (s.0 as u64 * p.concurrency as u64).cmp(&(load as u64 * s.1 as u64))
                    });
                    found.expect("every share is listed") as u32
                })
                .collect()
        })
        .collect();
    (shares.len(), level)
}

impl Capacity {
    /// All agents idle and off shift; bring them on shift with [`Self::set_on_shift`].
    /// `selects[c]` is channel `c`'s `select` rule; pools serve the channels of their skills.
    pub fn new(pools: &[AgentPool], selects: &[SelectRule]) -> Self {
        let agents: Vec<Agent> = pools
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                (0..p.count).map(move |_| Agent {
                    load: 0,
                    concurrency: p.concurrency,
                    pool: i as u32,
                    on_shift: false,
                })
            })
            .collect();
        let n = agents.len();
        let pool_channels: Vec<Box<[u32]>> =
            pools.iter().map(|p| p.skills.iter().map(|s| s.channel as u32).collect()).collect();
        let mut skilled = vec![Vec::new(); selects.len()];
        let mut start = 0;
        for (pool, channels) in pools.iter().zip(&pool_channels) {
            for &c in channels.iter() {
                let runs: &mut Vec<(u32, u32)> = &mut skilled[c as usize];
                let before = runs.last().map_or(0, |r| r.1);
                runs.push((start, before + pool.count));
            }
            start += pool.count;
        }
        let one_channel = selects.len() == 1 && pool_channels.iter().all(|c| c[..] == [0]);
        Self {
            agents,
            free: selects.iter().map(|&select| FreeIndex::new(select, pools, n)).collect(),
            on_shift: selects.iter().map(|_| DenseSet::new(n)).collect(),
            pool_channels,
            skilled,
            one_channel,
            teams: None,
            selects: selects.to_vec(),
            units: None,
        }
    }

    /// Number of agents.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// Contacts in handling at `agent`.
    pub fn load(&self, agent: AgentId) -> u32 {
        self.agents[agent as usize].load
    }

    /// The agent's concurrency (with capacity in units, before any change only: see
    /// [`Self::reindex_units`]).
    pub fn concurrency(&self, agent: AgentId) -> u32 {
        self.agents[agent as usize].concurrency
    }

    /// The agent's pool index.
    pub fn pool_of(&self, agent: AgentId) -> usize {
        self.agents[agent as usize].pool as usize
    }

    fn is_free(agent: &Agent) -> bool {
        agent.on_shift && agent.load < agent.concurrency
    }

    /// Updates the agent's place in the free index of every channel it serves: called after
    /// every change of its load or shift state.
    #[inline]
    fn reindex(&mut self, agent: AgentId) {
        if self.units.is_some() {
            return self.reindex_units(agent);
        }
        let state = self.agents[agent as usize];
        let free = Self::is_free(&state);
        if self.one_channel {
            if let Some(index) = self.free.first_mut() {
                index.update(agent, state, free);
            }
            return;
        }
        for &channel in self.pool_channels[state.pool as usize].iter() {
            self.free[channel as usize].update(agent, state, free);
        }
        if let Some(teams) = &mut self.teams {
            teams.update(agent, state, free, &self.pool_channels[state.pool as usize]);
        }
    }

    /// The agent starts handling one more contact. The caller guarantees a free slot.
    pub fn take_slot(&mut self, agent: AgentId) {
        let state = &mut self.agents[agent as usize];
        debug_assert!(state.load < state.concurrency, "agent {agent} over its concurrency");
        state.load += 1;
        self.reindex(agent);
    }

    /// The agent finished one contact.
    pub fn release_slot(&mut self, agent: AgentId) {
        let state = &mut self.agents[agent as usize];
        debug_assert!(state.load > 0);
        state.load -= 1;
        self.reindex(agent);
    }

    /// Shift start or end. An agent going off shift keeps its contacts (no preemption).
    pub fn set_on_shift(&mut self, agent: AgentId, on: bool) {
        let state = &mut self.agents[agent as usize];
        if state.on_shift == on {
            return;
        }
        state.on_shift = on;
        let pool = state.pool as usize;
        for &channel in self.pool_channels[pool].iter() {
            let set = &mut self.on_shift[channel as usize];
            if on {
                set.insert(agent);
            } else {
                set.remove(agent);
            }
        }
        self.reindex(agent);
    }

    /// Whether any on-shift agent skilled for `channel` has a free slot.
    pub fn any_free(&self, channel: usize) -> bool {
        self.free[channel].any()
    }

    /// The free agent skilled for `channel` that its `select` rule picks, if any. Round robin
    /// advances its cursor.
    #[inline]
    pub fn select_free<R: Rng + ?Sized>(&mut self, channel: usize, rng: &mut R) -> Option<AgentId> {
        self.free[channel].select(rng)
    }

    /// A uniformly random on-shift agent skilled for `channel`, or any agent skilled for it if
    /// none is on shift.
    pub fn random_on_shift<R: Rng + ?Sized>(&self, channel: usize, rng: &mut R) -> AgentId {
        self.on_shift[channel].draw(rng).unwrap_or_else(|| {
            let runs = &self.skilled[channel];
            let total = runs.last().map_or(1, |r| r.1);
            let k = rng.random_range(0..total);
            let i = runs.partition_point(|r| r.1 <= k);
            let before = if i == 0 { 0 } else { runs[i - 1].1 };
            runs.get(i).map_or(0, |r| r.0 + (k - before))
        })
    }
}

impl Capacity {
    /// Whether the agent is on shift now.
    #[inline]
    pub fn is_on_shift(&self, agent: AgentId) -> bool {
        self.agents[agent as usize].on_shift
    }

    /// Whether the agent is on shift and has a free slot now.
    #[inline]
    pub fn has_free_slot(&self, agent: AgentId) -> bool {
        Self::is_free(&self.agents[agent as usize])
    }

    /// Keeps a free-agent index per (pool, channel) from now on, for routing to teams; agents
    /// free now enter in id order. Nothing if already kept.
    pub fn enable_teams(&mut self, pools: &[AgentPool]) {
        if self.teams.is_some() {
            return;
        }
        let serving: Vec<usize> = self.skilled.iter().map(Vec::len).collect();
        let mut teams = Box::new(Teams::new(pools, &self.selects, &serving, self.units.is_some()));
        // Only the new indexes: the channels' FIFO order must not move.
        for (agent, state) in self.agents.iter().enumerate() {
            let channels = &self.pool_channels[state.pool as usize];
            match &self.units {
                None => teams.update(agent as AgentId, *state, Self::is_free(state), channels),
                Some(units) => {
                    let (used, cap) = (units.used[agent], units.cap[state.pool as usize]);
                    for &channel in channels.iter() {
                        let free = state.on_shift && used + units.weight[channel as usize] <= cap;
                        teams.update_units(agent as AgentId, *state, channel, free, used, cap);
                    }
                }
            }
        }
        self.teams = Some(teams);
        // Team indexes are updated on the general path only: the one-channel fast path stays
        // as it was for every scenario without teams.
        self.one_channel = false;
    }

    /// Whether a team for `channel` is everyone skilled for it (one pool serves the channel):
    /// its contacts then wait in the channel's queue.
    pub fn team_is_everyone(&self, channel: usize) -> bool {
        self.skilled[channel].len() <= 1
    }

    /// The free agent of `pool` skilled for `channel` that the channel's `select` picks.
    /// Requires [`Self::enable_teams`] unless the team is everyone.
    pub fn select_team<R: Rng + ?Sized>(
        &mut self,
        pool: usize,
        channel: usize,
        rng: &mut R,
    ) -> Option<AgentId> {
        if self.team_is_everyone(channel) {
            return self.select_free(channel, rng);
        }
        self.teams.as_mut()?.select(pool, channel, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn pool(count: u32, concurrency: u32) -> AgentPool {
        AgentPool {
            name: "p".into(),
            count,
            concurrency,
            slowdown: 0.0,
            shifts: None,
            staffing: None,
            skills: vec![crate::scenario::Skill { channel: 0, priority: 0 }],
        }
    }

    fn all_on(pools: &[AgentPool], select: SelectRule) -> Capacity {
        let mut c = Capacity::new(pools, &[select]);
        for a in 0..c.agent_count() as u32 {
            c.set_on_shift(a, true);
        }
        c
    }

    #[test]
    fn least_loaded_compares_shares_and_breaks_ties_by_time_at_load() {
        // Agent 0: concurrency 2; agents 1, 2: concurrency 4.
        let mut c = all_on(&[pool(1, 2), pool(2, 4)], SelectRule::LeastLoaded);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(c.select_free(0, &mut rng), Some(0));
        c.take_slot(0); // 1/2
        assert_eq!(c.select_free(0, &mut rng), Some(1));
        c.take_slot(1);
        c.take_slot(1); // 2/4 = 1/2, entered after agent 0
        assert_eq!(c.select_free(0, &mut rng), Some(2));
        c.take_slot(2);
        c.take_slot(2);
        c.take_slot(2); // 3/4
        assert_eq!(c.select_free(0, &mut rng), Some(0), "0 has been at 1/2 longest");
        c.take_slot(0); // full
        assert_eq!(c.select_free(0, &mut rng), Some(1));
        c.set_on_shift(1, false);
        assert_eq!(c.select_free(0, &mut rng), Some(2));
        assert!(!c.has_free_slot(1));
    }

    #[test]
    fn longest_idle_takes_the_least_recently_changed() {
        let mut c = all_on(&[pool(3, 2)], SelectRule::LongestIdle);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        c.take_slot(0);
        assert_eq!(c.select_free(0, &mut rng), Some(1));
        c.take_slot(1);
        c.take_slot(2);
        assert_eq!(c.select_free(0, &mut rng), Some(0));
    }

    #[test]
    fn round_robin_cycles_over_free_agents() {
        let mut c = all_on(&[pool(130, 1)], SelectRule::RoundRobin);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(c.select_free(0, &mut rng), Some(0));
        assert_eq!(c.select_free(0, &mut rng), Some(1));
        for a in 2..129 {
            c.take_slot(a);
        }
        assert_eq!(c.select_free(0, &mut rng), Some(129));
        assert_eq!(c.select_free(0, &mut rng), Some(0));
        c.take_slot(0);
        c.take_slot(1);
        c.take_slot(129);
        assert_eq!(c.select_free(0, &mut rng), None);
        assert!(!c.any_free(0));
    }

    /// docs/model.md: round robin remembers its last choice per channel, not overall.
    #[test]
    fn round_robin_remembers_its_last_choice_per_channel() {
        let mut p = pool(3, 1);
        p.skills.push(crate::scenario::Skill { channel: 1, priority: 0 });
        let mut c = Capacity::new(&[p], &[SelectRule::RoundRobin; 2]);
        for a in 0..3 {
            c.set_on_shift(a, true);
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(c.select_free(0, &mut rng), Some(0));
        assert_eq!(c.select_free(0, &mut rng), Some(1));
        assert_eq!(c.select_free(1, &mut rng), Some(0), "channel 1 starts from its own first choice");
        assert_eq!(c.select_free(0, &mut rng), Some(2));
        assert_eq!(c.select_free(1, &mut rng), Some(1));
        // A pickup outside `select` (an owner, an agent serving a queue) moves no cursor.
        c.take_slot(2);
        c.release_slot(2);
        assert_eq!(c.select_free(1, &mut rng), Some(2));
        assert_eq!(c.select_free(0, &mut rng), Some(0));
    }

    #[test]
    fn units_let_light_contacts_share_a_slot_and_order_by_exact_share() {
        use crate::scenario::capacity::{ChannelCapacity, SLOT_UNITS};
        let channel = |name: &str, weight_milli| crate::scenario::Channel {
            name: name.into(),
            arrivals: crate::scenario::Arrivals { rate_per_hour: 1.0, hour_profile: None, weekday: None },
            conversation: crate::scenario::parse_scenario(
                "name = \"x\"\nhorizon = \"1d\"\npolicy = \"sticky\"\n[arrivals]\nrate_per_hour = 1\n\
                 [conversation]\nexchanges = { dist = \"fixed\", value = 1 }\n\
                 handle_time = { dist = \"fixed\", value = 1 }\n[[agents]]\nname = \"a\"\ncount = 1\n",
                std::path::Path::new("x.toml"),
            )
            .expect("valid")
            .channels[0]
                .conversation
                .clone(),
            service_level: crate::scenario::ServiceLevel { first: 60.0, resumed: 300.0 },
            policy: None,
            capacity: ChannelCapacity { weight_milli, ..Default::default() },
        };
        let mut p = pool(2, 1);
        p.skills.push(crate::scenario::Skill { channel: 1, priority: 0 });
        let channels = [channel("chat", 1000), channel("messaging", 500)];
        let mut c = Capacity::with_units(&[p], &[SelectRule::LeastLoaded; 2], &channels);
        for a in 0..2 {
            c.set_on_shift(a, true);
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        c.take_units(0, 500_000); // agent 0 holds one messaging contact: half its slot
        assert_eq!(c.select_free(1, &mut rng), Some(1), "agent 1 is at share 0");
        assert!(!c.fits(0, 0) && c.fits(0, 1), "a chat no longer fits agent 0, a message does");
        assert!(c.has_free_slot(0), "room for its lightest channel");
        c.take_units(1, SLOT_UNITS); // agent 1 full with a chat
        assert_eq!(c.select_free(0, &mut rng), None);
        assert_eq!(c.select_free(1, &mut rng), Some(0));
        c.take_units(0, 500_000);
        assert!(!c.has_free_slot(0) && !c.any_free(1));
        c.release_units(0, 500_000, 100_000); // done, but its conversation holds a tenth
        assert_eq!(c.units_of(0), (600_000, SLOT_UNITS));
        assert!(!c.fits(0, 1), "0.6 + 0.5 of a slot does not fit");
        c.add_units(0, 0, 100_000); // the held conversation goes inactive at weight 0
        assert!(c.fits(0, 1) && !c.fits(0, 0));
    }

    #[test]
    fn random_draws_only_free_agents() {
        let mut c = all_on(&[pool(10, 1)], SelectRule::Random);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for a in 0..9 {
            c.take_slot(a);
        }
        for _ in 0..20 {
            assert_eq!(c.select_free(0, &mut rng), Some(9));
        }
        c.set_on_shift(3, false);
        for _ in 0..50 {
            assert_ne!(c.random_on_shift(0, &mut rng), 3);
        }
    }
}
