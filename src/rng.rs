//! Seeds and random streams.
//!
//! Every replication's seed is a pure function of (master seed, point, replication), so results
//! do not depend on thread count or scheduling. Within a run, each source of randomness has its
//! own stream, so that changing the policy does not shift the arrivals or handle times drawn.
//! Across a sweep, [`TaskSeeds`] gives replication r the same seed at every point by default
//! (common random numbers): points are compared on the same customers, which makes their
//! differences sharper than independent seeds would.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used everywhere in a run.
pub type SimRng = Xoshiro256PlusPlus;

/// SplitMix64's finaliser: a bijective, well-mixing map of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `replication` of sweep point `point` under `master` seed.
pub fn derive_seed(master: u64, point: u64, replication: u64) -> u64 {
    mix(mix(mix(master) ^ point) ^ replication.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// How a sweep's (point, replication) tasks get their seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSeeds {
    /// The sweep's master seed.
    pub master: u64,
    /// Common random numbers: the seed ignores the point.
    pub common: bool,
}

impl TaskSeeds {
    /// The seed of replication `replication` of point `point`. With common random numbers it
    /// is point 0's seed at every point, which is also the seed `run` gives that replication,
    /// so a run and the first point of a sweep keep the seeds they always had.
    pub fn seed(&self, point: u64, replication: u64) -> u64 {
        let point = if self.common { 0 } else { point };
        derive_seed(self.master, point, replication)
    }
}

/// Independent streams for each source of randomness in a run.
#[derive(Debug, Clone)]
pub struct Streams {
    /// Inter-arrival times and thinning.
    pub arrivals: SimRng,
    /// Number of exchanges per conversation.
    pub exchanges: SimRng,
    /// Handle times.
    pub handle: SimRng,
    /// Gaps between exchanges.
    pub gap: SimRng,
    /// Patience.
    pub patience: SimRng,
    /// Routing choices (random agent, random select).
    pub routing: SimRng,
    /// The bot tier: time with the bot and whether it resolves the conversation.
    pub bot: SimRng,
    /// Typing times of customer messages.
    pub typing: SimRng,
}

impl Streams {
    /// Streams for a run with `seed`.
    pub fn new(seed: u64) -> Self {
        let stream = |id: u64| SimRng::seed_from_u64(mix(seed ^ mix(id + 1)));
        Self {
            arrivals: stream(1),
            exchanges: stream(2),
            handle: stream(3),
            gap: stream(4),
            patience: stream(5),
            routing: stream(6),
            bot: stream(7),
            typing: stream(8),
        }
    }

    /// Streams for channel `channel` of a run with `seed`: channel 0 gets [`Self::new`]'s (so
    /// a scenario without `[[channels]]` draws what it always drew), each other channel its own,
    /// so changing one channel's rate leaves the others' customers unchanged.
    pub fn for_channel(seed: u64, channel: usize) -> Self {
        match channel {
            0 => Self::new(seed),
            c => Self::new(mix(seed ^ mix(0xC4A2_2E15_u64.wrapping_add(c as u64)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_by_point_and_replication() {
        let seeds: std::collections::HashSet<u64> =
            (0..50).flat_map(|p| (0..50).map(move |r| derive_seed(7, p, r))).collect();
        assert_eq!(seeds.len(), 2500);
        assert_eq!(derive_seed(7, 3, 4), derive_seed(7, 3, 4));
        assert_ne!(derive_seed(7, 3, 4), derive_seed(8, 3, 4));
    }

    #[test]
    fn common_seeds_depend_on_the_replication_only() {
        let common = TaskSeeds { master: 7, common: true };
        let independent = TaskSeeds { master: 7, common: false };
        for replication in 0..20 {
            let first = derive_seed(7, 0, replication);
            assert!((0..20).all(|point| common.seed(point, replication) == first));
            assert_eq!(independent.seed(0, replication), first);
            assert_eq!(independent.seed(3, replication), derive_seed(7, 3, replication));
            assert_ne!(independent.seed(3, replication), first);
        }
        assert_ne!(common.seed(0, 1), common.seed(0, 2));
    }
}
