//! One routing decision, per policy, at 16, 160, 1,600 and 16,000 agents (concurrency 3): the
//! cost must not grow with the number of agents (target: a decision at 16,000 agents costs at
//! most 3× one at 16).
//!
//! A decision is what the engine does when a resumed contact becomes ready: `Policy::route`
//! through `&dyn CenterView`, then resolving the [`Route`] against [`Capacity`] — `Pool`:
//! `select_free` and `take_slot` on the chosen agent; `Agent`: `has_free_slot` and `take_slot`
//! if free; `AsFirstContact`: as the preset's `first_contact` says. The take is then undone with
//! `release_slot`, so the state stays statistically stationary across iterations (the agent only
//! moves to the back of its FIFO bucket, as it would in a run). `Steps` (the `bullseye` preset:
//! owner, team, anyone): the decision of every step in turn as if the contact waited through
//! them all (the owner if free, else the step's `select`: the team's index, then the
//! channel's), with the per-pool team indexes kept up to date by every take and release.
//!
//! State: every agent on shift, 2/3 of the slots busy, taken one at a time by random agents
//! (fixed seed), so the free index holds agents at loads 0, 1 and 2 in several buckets in random
//! order. Contacts' owners are uniform over the agents, drawn ahead from a fixed seed and read in
//! sequence, so the memory touched per decision is as scattered as in a run. Each iteration makes
//! 1,000 decisions (timing resolution); throughput is in decisions.
//!
//! `policies/select/<rule>` measures `Capacity::select_free` alone, for every `select` rule, on
//! the same state.
//!
//! `policies/channels4/<preset>` makes the same decision in a center with 4 channels: half the
//! agents are generalists skilled for all 4, the other half 4 teams of one channel each. A
//! contact's channel is uniform over the 4 and its owner uniform over the agents skilled for
//! it; `Pool` picks from that channel's free index, and a take or release updates the index of
//! every channel the agent serves (4 for a generalist). The target is the same: at most 3× from
//! 16 agents to 16,000.

use convosim::capacity::Capacity;
use convosim::policy::{
    AgentId, CenterView, FirstContact, Policy, Reach, ResumedContact, Route, SelectRule, StepPlan,
};
use convosim::scenario::{load_policy, AgentPool};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const AGENTS: [u32; 4] = [16, 160, 1_600, 16_000];
const CONCURRENCY: u32 = 3;
/// Decisions per iteration.
const BATCH: usize = 1_000;
/// Precomputed contacts, read cyclically (a power of two).
const CONTACTS: usize = 1 << 16;
const PRESETS: [&str; 4] = ["sticky", "next-available", "hybrid-10m", "bullseye"];

/// Channels of the multi-channel center.
const CHANNELS: usize = 4;

/// A pool of `count` agents skilled for `channels`, all at one priority.
fn pool(name: &str, count: u32, channels: &[usize]) -> AgentPool {
    AgentPool {
        name: name.into(),
        count,
        concurrency: CONCURRENCY,
        slowdown: 0.0,
        shifts: None,
        staffing: None,
        skills: channels.iter().map(|&channel| convosim::scenario::Skill { channel, priority: 0 }).collect(),
    }
}

/// All agents on shift, 2/3 of the slots busy, loads spread at random.
fn busy_center(agents: u32, select: SelectRule, teams: bool) -> Capacity {
    busy(&[pool("agents", agents, &[0])], &[select], agents, teams)
}

/// [`busy_center`] with 4 channels: `agents / 2` generalists (pool 0, agents first), then 4
/// teams of `agents / 8`, team c skilled for channel c only.
fn busy_channels(agents: u32, select: SelectRule, teams: bool) -> Capacity {
    let all: Vec<usize> = (0..CHANNELS).collect();
    let mut pools = vec![pool("generalists", agents / 2, &all)];
    pools.extend((0..CHANNELS).map(|c| pool(&format!("team{c}"), agents / 8, &[c])));
    busy(&pools, &[select; CHANNELS], agents, teams)
}

/// `teams`: keep the per-pool indexes a policy reaching teams asks for.
fn busy(pools: &[AgentPool], selects: &[SelectRule], agents: u32, teams: bool) -> Capacity {
    let mut capacity = Capacity::new(pools, selects);
    if teams {
        capacity.enable_teams(pools);
    }
    for agent in 0..agents {
        capacity.set_on_shift(agent, true);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let busy = agents * CONCURRENCY * 2 / 3;
    let mut taken = 0;
    while taken < busy {
        let agent = rng.random_range(0..agents);
        if capacity.has_free_slot(agent) {
            capacity.take_slot(agent);
            taken += 1;
        }
    }
    capacity
}

/// Resumed contacts with uniformly random owners; gaps of a few minutes to a few hours.
fn contacts(agents: u32) -> Vec<ResumedContact> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    (0..CONTACTS)
        .map(|_| {
            let last_reply_at = rng.random_range(0.0..86_400.0);
            let gap = rng.random_range(60.0..14_400.0);
            ResumedContact {
                ready_at: last_reply_at + gap,
                owner: rng.random_range(0..agents),
                last_reply_at,
                channel: 0,
            }
        })
        .collect()
}

/// Contacts of [`busy_channels`]'s center: (channel, contact), the channel uniform, the owner
/// uniform over the generalists and channel's team.
fn channel_contacts(agents: u32) -> Vec<(usize, ResumedContact)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let (generalists, team) = (agents / 2, agents / 8);
    contacts(agents)
        .into_iter()
        .map(|mut contact| {
            let channel = rng.random_range(0..CHANNELS);
            let k = rng.random_range(0..generalists + team);
            contact.owner =
                if k < generalists { k } else { generalists + channel as u32 * team + (k - generalists) };
            contact.channel = channel;
            (channel, contact)
        })
        .collect()
}

/// The center as a policy sees it here: capacity, and no contact waiting.
struct View<'c>(&'c Capacity);

impl CenterView for View<'_> {
    fn is_on_shift(&self, agent: AgentId) -> bool {
        self.0.is_on_shift(agent)
    }
    fn has_free_slot(&self, agent: AgentId) -> bool {
        self.0.has_free_slot(agent)
    }
    fn load(&self, agent: AgentId) -> u32 {
        self.0.load(agent)
    }
    fn concurrency(&self, agent: AgentId) -> u32 {
        self.0.concurrency(agent)
    }
    fn personal_queue_len(&self, _agent: AgentId) -> u64 {
        0
    }
    fn pool_of(&self, agent: AgentId) -> usize {
        self.0.pool_of(agent)
    }
    fn pool_agents(&self, _pool: usize) -> std::ops::Range<AgentId> {
        0..self.0.agent_count() as AgentId
    }
    fn agent_count(&self) -> usize {
        self.0.agent_count()
    }
    fn channel_queue_len(&self, _channel: usize) -> u64 {
        0
    }
    fn team_queue_len(&self, _pool: usize, _channel: usize) -> u64 {
        0
    }
}

/// A plan's decision as if the contact reached every step without a pickup: at each step the
/// owner if free, else the step's `select` (the cost of all the decisions a contact can cause).
fn through_steps(
    plan: &StepPlan,
    capacity: &mut Capacity,
    (channel, contact): (usize, &ResumedContact),
    rng: &mut Xoshiro256PlusPlus,
) -> Option<AgentId> {
    for step in plan.steps() {
        if capacity.has_free_slot(contact.owner) {
            return Some(contact.owner);
        }
        let chosen = match step.to {
            Reach::Owner => None,
            Reach::Team => capacity.select_team(capacity.pool_of(contact.owner), channel, rng),
            Reach::Anyone => capacity.select_free(channel, rng),
        };
        if chosen.is_some() {
            return chosen;
        }
    }
    None
}

/// One decision as the engine makes it for a contact of `channel`, then the take undone.
#[inline]
fn decide(
    policy: &dyn Policy,
    first_contact: FirstContact,
    capacity: &mut Capacity,
    (channel, contact): (usize, &ResumedContact),
    rng: &mut Xoshiro256PlusPlus,
) -> Option<AgentId> {
    let offer_to = |capacity: &Capacity, agent: AgentId| capacity.has_free_slot(agent).then_some(agent);
    let route = policy.route(contact, &View(capacity));
    let chosen = match route {
        Route::Steps { plan, .. } => through_steps(plan, capacity, (channel, contact), rng),
        Route::Pool | Route::PoolOwnerOffline => capacity.select_free(channel, rng),
        Route::Agent { agent, .. } => offer_to(capacity, agent),
        Route::AsFirstContact => match first_contact {
            FirstContact::Pool => capacity.select_free(channel, rng),
            FirstContact::RandomAgent => {
                let agent = capacity.random_on_shift(channel, rng);
                offer_to(capacity, agent)
            }
        },
    };
    if let Some(agent) = chosen {
        capacity.take_slot(agent);
        capacity.release_slot(agent);
    }
    chosen
}

fn decision(c: &mut Criterion) {
    let one_channel = |agents| contacts(agents).into_iter().map(|contact| (0, contact)).collect();
    decisions(c, "decision", busy_center, one_channel);
}

/// The decision of [`decision`] in the 4-channel center.
fn channels(c: &mut Criterion) {
    decisions(c, "channels4", busy_channels, channel_contacts);
}

/// `policies/GROUP/PRESET/AGENTS`: batches of decisions for every preset and agent count, in
/// the center `center` builds, on the (channel, contact) pairs `contacts` builds.
fn decisions(
    c: &mut Criterion,
    group_name: &str,
    center: impl Fn(u32, SelectRule, bool) -> Capacity,
    contacts: impl Fn(u32) -> Vec<(usize, ResumedContact)>,
) {
    for preset in PRESETS {
        let spec = load_policy(preset).expect("bundled preset");
        let mut group = c.benchmark_group(format!("policies/{group_name}/{preset}"));
        group.sample_size(20);
        group.measurement_time(std::time::Duration::from_secs(2));
        group.throughput(Throughput::Elements(BATCH as u64));
        for agents in AGENTS {
            let mut capacity = center(agents, spec.options.select, spec.policy.uses_teams());
            let contacts = contacts(agents);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
            let mut next = 0usize;
            let policy = spec.policy.as_ref();
            group.bench_function(BenchmarkId::from_parameter(agents), |b| {
                b.iter(|| {
                    let mut picked = 0u32;
                    for _ in 0..BATCH {
                        let (channel, contact) = &contacts[next];
                        next = (next + 1) & (CONTACTS - 1);
                        let first = spec.options.first_contact;
                        let chosen =
                            decide(policy, first, &mut capacity, (*channel, black_box(contact)), &mut rng);
                        picked = picked.wrapping_add(chosen.unwrap_or(0));
                    }
                    picked
                })
            });
        }
        group.finish();
    }
}

fn select(c: &mut Criterion) {
    for (rule, name) in SelectRule::ALL.into_iter().zip(SelectRule::NAMES) {
        let mut group = c.benchmark_group(format!("policies/select/{name}"));
        group.sample_size(20);
        group.measurement_time(std::time::Duration::from_secs(2));
        group.throughput(Throughput::Elements(BATCH as u64));
        for agents in AGENTS {
            let mut capacity = busy_center(agents, rule, false);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
            group.bench_function(BenchmarkId::from_parameter(agents), |b| {
                b.iter(|| {
                    let mut picked = 0u32;
                    for _ in 0..BATCH {
                        let chosen = black_box(&mut capacity).select_free(0, &mut rng);
                        picked = picked.wrapping_add(chosen.unwrap_or(0));
                    }
                    picked
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, decision, channels, select);
criterion_main!(benches);
