//! The sets behind the free-agent index: intrusive FIFO bucket lists, a dense set with
//! uniform draws, and a two-level bitset with a cursor. None of them allocates after creation.

use rand::Rng;

use super::NONE;

/// Doubly linked FIFO lists of agents, one per bucket, stored intrusively in arrays so that
/// insert, remove and "head of the first non-empty bucket" never allocate.
#[derive(Debug, Clone)]
pub(super) struct BucketLists {
    /// (head, tail) of each bucket.
    ends: Vec<(u32, u32)>,
    /// Each agent's links, together so that one cache line serves a list operation.
    links: Vec<Link>,
    /// One bit per bucket, set when the bucket is non-empty.
    pub(super) non_empty: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    bucket: u32,
}

impl BucketLists {
    pub(super) fn new(buckets: usize, agents: usize) -> Self {
        Self {
            ends: vec![(NONE, NONE); buckets],
            links: vec![Link { prev: NONE, next: NONE, bucket: NONE }; agents],
            non_empty: vec![0; buckets.div_ceil(64)],
        }
    }

    #[inline]
    pub(super) fn contains(&self, agent: u32) -> bool {
        self.links[agent as usize].bucket != NONE
    }

    #[inline]
    pub(super) fn push_back(&mut self, bucket: u32, agent: u32) {
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
    pub(super) fn remove(&mut self, agent: u32) {
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
    pub(super) fn first(&self) -> Option<u32> {
        self.non_empty.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| {
            let bucket = i * 64 + w.trailing_zeros() as usize;
            self.ends[bucket].0
        })
    }
}

/// A set of agents supporting O(1) insert, remove and uniform draw.
#[derive(Debug, Clone)]
pub(super) struct DenseSet {
    pub(super) members: Vec<u32>,
    position: Vec<u32>,
}

impl DenseSet {
    pub(super) fn new(agents: usize) -> Self {
        Self { members: Vec::with_capacity(agents), position: vec![NONE; agents] }
    }

    pub(super) fn contains(&self, agent: u32) -> bool {
        self.position[agent as usize] != NONE
    }

    pub(super) fn insert(&mut self, agent: u32) {
        if !self.contains(agent) {
            self.position[agent as usize] = self.members.len() as u32;
            self.members.push(agent);
        }
    }

    pub(super) fn remove(&mut self, agent: u32) {
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

    pub(super) fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<u32> {
        (!self.members.is_empty()).then(|| self.members[rng.random_range(0..self.members.len())])
    }
}

/// A bit per agent with a cursor, for round robin: the next set bit after the last choice.
#[derive(Debug, Clone)]
pub(super) struct RoundRobinSet {
    bits: Vec<u64>,
    /// One bit per word of `bits`, set when that word is non-zero.
    pub(super) summary: Vec<u64>,
    cursor: u32,
    agents: u32,
}

impl RoundRobinSet {
    pub(super) fn new(agents: usize) -> Self {
        let words = agents.div_ceil(64);
        Self {
            bits: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
            cursor: NONE,
            agents: agents as u32,
        }
    }

    pub(super) fn set(&mut self, agent: u32, on: bool) {
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
    pub(super) fn first_from(&self, from: u32) -> Option<u32> {
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

    pub(super) fn next(&mut self) -> Option<u32> {
        let start = if self.cursor == NONE { 0 } else { self.cursor + 1 };
        let found = self.first_from(start).or_else(|| self.first_from(0))?;
        self.cursor = found;
        Some(found)
    }
}
