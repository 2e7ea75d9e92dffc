//! Capacity accounting: agents' slots, shifts, and the index of agents with a free slot.
//!
//! Owns the answer to "who can take a contact now?" in O(1) (or O(levels)) per question, for
//! every `select` rule, so that neither the engine nor a policy ever scans agents. Other
//! capacity models (e.g. inactive conversations holding a fraction of a slot) belong here.

use rand::Rng;

use crate::policy::{AgentId, CenterView, SelectRule};
use crate::scenario::AgentPool;

const NONE: u32 = u32::MAX;

/// One agent's capacity state.
#[derive(Debug, Clone, Copy)]
struct Agent {
    load: u32,
    concurrency: u32,
    pool: u32,
    on_shift: bool,
}

/// Doubly linked FIFO lists of agents, one per bucket, stored intrusively in arrays so that
/// insert, remove and "head of the first non-empty bucket" never allocate.
#[derive(Debug, Clone)]
struct BucketLists {
    /// (head, tail) of each bucket.
    ends: Vec<(u32, u32)>,
    /// Each agent's links, together so that one cache line serves a list operation.
    links: Vec<Link>,
    /// One bit per bucket, set when the bucket is non-empty.
    non_empty: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    bucket: u32,
}

impl BucketLists {
    fn new(buckets: usize, agents: usize) -> Self {
        Self {
            ends: vec![(NONE, NONE); buckets],
            links: vec![Link { prev: NONE, next: NONE, bucket: NONE }; agents],
            non_empty: vec![0; buckets.div_ceil(64)],
        }
    }

    #[inline]
    fn contains(&self, agent: u32) -> bool {
        self.links[agent as usize].bucket != NONE
    }

    #[inline]
    fn push_back(&mut self, bucket: u32, agent: u32) {
        debug_assert!(!self.contains(agent));
        let b = bucket as usize;
        let tail = self.ends[b].1;
        self.links[agent as usize] = Link { prev: tail, next: NONE, bucket };
        if tail == NONE {
            self.ends[b].0 = agent;
            self.non_empty[b / 64] |= 1 << (b % 64);
        } else {
            self.links[tail as usize].next = agent;
        }
        self.ends[b].1 = agent;
    }

    #[inline]
    fn remove(&mut self, agent: u32) {
        let Link { prev, next, bucket } = self.links[agent as usize];
        debug_assert!(bucket != NONE);
        let b = bucket as usize;
        if prev == NONE {
            self.ends[b].0 = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NONE {
            self.ends[b].1 = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
        if self.ends[b].0 == NONE {
            self.non_empty[b / 64] &= !(1 << (b % 64));
        }
        self.links[agent as usize].bucket = NONE;
    }

    #[inline]
    fn first(&self) -> Option<u32> {
        self.non_empty.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| {
            let bucket = i * 64 + w.trailing_zeros() as usize;
            self.ends[bucket].0
        })
    }
}

/// A set of agents supporting O(1) insert, remove and uniform draw.
#[derive(Debug, Clone)]
struct DenseSet {
    members: Vec<u32>,
    position: Vec<u32>,
}

impl DenseSet {
    fn new(agents: usize) -> Self {
        Self { members: Vec::with_capacity(agents), position: vec![NONE; agents] }
    }

    fn contains(&self, agent: u32) -> bool {
        self.position[agent as usize] != NONE
    }

    fn insert(&mut self, agent: u32) {
        if !self.contains(agent) {
            self.position[agent as usize] = self.members.len() as u32;
            self.members.push(agent);
        }
    }

    fn remove(&mut self, agent: u32) {
        let pos = self.position[agent as usize];
        if pos == NONE {
            return;
        }
        let last = self.members.pop().expect("set holds the agent");
        if last != agent {
            self.members[pos as usize] = last;
            self.position[last as usize] = pos;
        }
        self.position[agent as usize] = NONE;
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<u32> {
        (!self.members.is_empty()).then(|| self.members[rng.random_range(0..self.members.len())])
    }
}

/// A bit per agent with a cursor, for round robin: the next set bit after the last choice.
#[derive(Debug, Clone)]
struct RoundRobinSet {
    bits: Vec<u64>,
    /// One bit per word of `bits`, set when that word is non-zero.
    summary: Vec<u64>,
    cursor: u32,
    agents: u32,
}

impl RoundRobinSet {
    fn new(agents: usize) -> Self {
        let words = agents.div_ceil(64);
        Self {
            bits: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
            cursor: NONE,
            agents: agents as u32,
        }
    }

    fn set(&mut self, agent: u32, on: bool) {
        let (w, b) = (agent as usize / 64, agent % 64);
        if on {
            self.bits[w] |= 1 << b;
        } else {
            self.bits[w] &= !(1 << b);
        }
        let (sw, sb) = (w / 64, w % 64);
        if self.bits[w] != 0 {
            self.summary[sw] |= 1 << sb;
        } else {
            self.summary[sw] &= !(1 << sb);
        }
    }

    /// First set bit at index >= `from`, via the summary level.
    fn first_from(&self, from: u32) -> Option<u32> {
        if from >= self.agents {
            return None;
        }
        let w = from as usize / 64;
        let masked = self.bits[w] & (!0u64 << (from % 64));
        if masked != 0 {
            return Some((w * 64) as u32 + masked.trailing_zeros());
        }
        let next_word = w + 1;
        if next_word >= self.bits.len() {
            return None;
        }
        let mut sw = next_word / 64;
        let mut mask = !0u64 << (next_word % 64);
        while sw < self.summary.len() {
            let word = self.summary[sw] & mask;
            if word != 0 {
                let w = sw * 64 + word.trailing_zeros() as usize;
                return Some((w * 64) as u32 + self.bits[w].trailing_zeros());
            }
            sw += 1;
            mask = !0;
        }
        None
    }

    fn next(&mut self) -> Option<u32> {
        let start = if self.cursor == NONE { 0 } else { self.cursor + 1 };
        let found = self.first_from(start).or_else(|| self.first_from(0))?;
        self.cursor = found;
        Some(found)
    }
}

/// The index of on-shift agents with a free slot, shaped for one `select` rule.
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
}

/// Every agent's slots and shift state, and who is free.
#[derive(Debug, Clone)]
pub struct Capacity {
    agents: Vec<Agent>,
    free: FreeIndex,
    on_shift: DenseSet,
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
    pub fn new(pools: &[AgentPool], select: SelectRule) -> Self {
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
        let free = match select {
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
        };
        Self { agents, free, on_shift: DenseSet::new(n) }
    }

    /// Number of agents.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// Contacts in handling at `agent`.
    pub fn load(&self, agent: AgentId) -> u32 {
        self.agents[agent as usize].load
    }

    /// The agent's concurrency.
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

    /// Puts the agent at the back of its place in the free index if it is free, or takes it
    /// out if not: called after every change of its load or shift state.
    #[inline]
    fn reindex(&mut self, agent: AgentId) {
        let state = self.agents[agent as usize];
        let free = Self::is_free(&state);
        match &mut self.free {
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
        if on {
            self.on_shift.insert(agent);
        } else {
            self.on_shift.remove(agent);
        }
        self.reindex(agent);
    }

    /// Whether any on-shift agent has a free slot.
    pub fn any_free(&self) -> bool {
        match &self.free {
            FreeIndex::LeastLoaded { lists, .. } | FreeIndex::LongestIdle(lists) => {
                lists.non_empty.iter().any(|w| *w != 0)
            }
            FreeIndex::RoundRobin(set) => set.summary.iter().any(|w| *w != 0),
            FreeIndex::Random(set) => !set.members.is_empty(),
        }
    }

    /// The free agent the `select` rule picks, if any. Round robin advances its cursor.
    pub fn select_free<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<AgentId> {
        match &mut self.free {
            FreeIndex::LeastLoaded { lists, .. } | FreeIndex::LongestIdle(lists) => lists.first(),
            FreeIndex::RoundRobin(set) => set.next(),
            FreeIndex::Random(set) => set.draw(rng),
        }
    }

    /// A uniformly random on-shift agent, or any agent if none is on shift.
    pub fn random_on_shift<R: Rng + ?Sized>(&self, rng: &mut R) -> AgentId {
        self.on_shift.draw(rng).unwrap_or_else(|| rng.random_range(0..self.agents.len() as u32))
    }
}

impl CenterView for Capacity {
    fn is_on_shift(&self, agent: AgentId) -> bool {
        self.agents[agent as usize].on_shift
    }

    fn has_free_slot(&self, agent: AgentId) -> bool {
        Self::is_free(&self.agents[agent as usize])
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
        let mut c = Capacity::new(pools, select);
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
        assert_eq!(c.select_free(&mut rng), Some(0));
        c.take_slot(0); // 1/2
        assert_eq!(c.select_free(&mut rng), Some(1));
        c.take_slot(1);
        c.take_slot(1); // 2/4 = 1/2, entered after agent 0
        assert_eq!(c.select_free(&mut rng), Some(2));
        c.take_slot(2);
        c.take_slot(2);
        c.take_slot(2); // 3/4
        assert_eq!(c.select_free(&mut rng), Some(0), "0 has been at 1/2 longest");
        c.take_slot(0); // full
        assert_eq!(c.select_free(&mut rng), Some(1));
        c.set_on_shift(1, false);
        assert_eq!(c.select_free(&mut rng), Some(2));
        assert!(!c.has_free_slot(1));
    }

    #[test]
    fn longest_idle_takes_the_least_recently_changed() {
        let mut c = all_on(&[pool(3, 2)], SelectRule::LongestIdle);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        c.take_slot(0);
        assert_eq!(c.select_free(&mut rng), Some(1));
        c.take_slot(1);
        c.take_slot(2);
        assert_eq!(c.select_free(&mut rng), Some(0));
    }

    #[test]
    fn round_robin_cycles_over_free_agents() {
        let mut c = all_on(&[pool(130, 1)], SelectRule::RoundRobin);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(c.select_free(&mut rng), Some(0));
        assert_eq!(c.select_free(&mut rng), Some(1));
        for a in 2..129 {
            c.take_slot(a);
        }
        assert_eq!(c.select_free(&mut rng), Some(129));
        assert_eq!(c.select_free(&mut rng), Some(0));
        c.take_slot(0);
        c.take_slot(1);
        c.take_slot(129);
        assert_eq!(c.select_free(&mut rng), None);
        assert!(!c.any_free());
    }

    #[test]
    fn random_draws_only_free_agents() {
        let mut c = all_on(&[pool(10, 1)], SelectRule::Random);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for a in 0..9 {
            c.take_slot(a);
        }
        for _ in 0..20 {
            assert_eq!(c.select_free(&mut rng), Some(9));
        }
        c.set_on_shift(3, false);
        for _ in 0..50 {
            assert_ne!(c.random_on_shift(&mut rng), 3);
        }
    }
}
