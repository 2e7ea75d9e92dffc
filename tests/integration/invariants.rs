//! Invariants every run keeps, on random small scenarios (proptest): conservation of contacts,
//! no agent over its concurrency or picking up off shift, time never goes back, shares in
//! [0, 1] and occupancy at most 1; with several channels, no agent serves a channel its pool
//! is not skilled for, and each channel's counts add up to the run's; with routing steps, no
//! agent takes a contact its step does not reach (`ineligible_pickups` is 0).

use convosim::metrics::catalog::{scope_metrics, Scope};
use convosim::metrics::METRICS;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::common::{assert_invariants, scenario};

/// Shift lists a pool may have (None: 24/7).
const SHIFTS: [&str; 5] = [
    r#"[{ days = "mon-fri", start = "09:00", end = "17:00" }]"#,
    r#"[{ days = "daily", start = "16:00", end = "01:00" }]"#,
    r#"[{ days = "sat,sun", start = "08:00", end = "16:00" }]"#,
    r#"[{ days = "fri-mon", start = "22:00", end = "06:00" }, { days = "wed", start = "00:00", end = "24:00" }]"#,
    r#"[{ days = "daily", start = "00:00", end = "24:00" }]"#,
];
const SELECT: [&str; 4] = ["least_loaded", "longest_idle", "round_robin", "random"];
/// Capacity models (`[capacity]`): none, the four vendor presets, a hold released by the
/// policy, and a half-slot weight with a hold until closed (on channel c1 when there are
/// several channels).
const CAPACITY: [&str; 7] = [
    "",
    "\"zendesk\"",
    "\"liveperson\"",
    "\"genesys\"",
    "\"salesforce\"",
    "{ hold = \"until_inactive\", inactive_after = 60, inactive_weight = 0.25, close_after = 7200, reactivation = \"policy\" }",
    "{ weight = 0.5, hold = \"until_closed\", close_after = 3600 }",
];
/// The models of [`CAPACITY`] under which a reactivation may go past capacity (to the holder,
/// with less than the whole weight held while inactive).
const MAY_REACTIVATE_PAST: [usize; 2] = [1, 2];

#[derive(Debug, Clone)]
struct Pool {
    count: u32,
    concurrency: u32,
    slowdown: f64,
    shifts: Option<usize>,
    /// Bit k: skilled for channel k (none of the scenario's channels: no `skills` key).
    skill_mask: u8,
    /// Priorities of channels 0..3, as a table; `None`: a list (one priority).
    priorities: Option<[u32; 3]>,
}

#[derive(Debug, Clone)]
struct Routing {
    /// 0 next_available, 1 sticky, 2 hybrid, 3 steps (the plan from `timeout_s`, see
    /// [`Case::policy_toml`]).
    kind: usize,
    timeout_s: u32,
    select: usize,
    random_agent: bool,
    owner_offline_wait: bool,
    personal_first: bool,
    affinity_window_s: Option<u32>,
}

#[derive(Debug, Clone)]
struct Conversation {
    /// `Ok(n)`: fixed n exchanges; `Err(m)`: geometric with mean m.
    exchanges: Result<u32, f64>,
    handle_s: u32,
    gap_mixture: bool,
    gap_s: u32,
    patience_s: Option<(u32, u32)>,
    /// A bot: containment in percent and mean time, seconds.
    bot: Option<(u32, u32)>,
    /// Typing: mean time in seconds, preview, head start in percent.
    typing: Option<(u32, bool, u32)>,
}

#[derive(Debug, Clone)]
struct Case {
    pools: Vec<Pool>,
    routing: Routing,
    conversation: Conversation,
    horizon_days: u32,
    warmup_h: u32,
    /// Offered load / slots; above 1 the center is overloaded.
    load: f64,
    seed: u64,
    /// Channels (1: the single-channel form, no `[[channels]]`).
    channels: usize,
    /// Channel 1 names its own policy (next_available, random select).
    channel_policy: bool,
    /// Index into [`CAPACITY`].
    capacity: usize,
}

fn pool() -> impl Strategy<Value = Pool> {
    (
        1u32..=6,
        1u32..=4,
        prop_oneof![Just(0.0), 0.0..=0.5],
        proptest::option::of(0..SHIFTS.len()),
        0u8..8,
        proptest::option::of([0u32..3, 0u32..3, 0u32..3]),
    )
        .prop_map(|(count, concurrency, slowdown, shifts, skill_mask, priorities)| Pool {
            count,
            concurrency,
            slowdown,
            shifts,
            skill_mask,
            priorities,
        })
}

fn routing() -> impl Strategy<Value = Routing> {
    (
        0usize..4,
        prop_oneof![Just(0u32), 1u32..600, 600u32..20_000],
        0..SELECT.len(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(60u32..200_000),
    )
        .prop_map(
            |(
                kind,
                timeout_s,
                select,
                random_agent,
                owner_offline_wait,
                personal_first,
                affinity_window_s,
            )| {
                Routing {
                    kind,
                    timeout_s,
                    select,
                    random_agent,
                    owner_offline_wait,
                    personal_first,
                    affinity_window_s,
                }
            },
        )
}

fn conversation() -> impl Strategy<Value = Conversation> {
    (
        prop_oneof![(1u32..=3).prop_map(Ok), (1.0f64..4.0).prop_map(Err)],
        30u32..900,
        any::<bool>(),
        5u32..20_000,
        proptest::option::of((30u32..3_600, 60u32..30_000)),
        proptest::option::of((0u32..=100, 0u32..600)),
        proptest::option::of((1u32..300, any::<bool>(), 0u32..=100)),
    )
        .prop_map(|(exchanges, handle_s, gap_mixture, gap_s, patience_s, bot, typing)| Conversation {
            exchanges,
            handle_s,
            gap_mixture,
            gap_s,
            patience_s,
            bot,
            typing,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(pool(), 1..=3),
        routing(),
        conversation(),
        1u32..=4,
        0u32..12,
        prop_oneof![0.2f64..0.95, 0.95f64..1.6],
        any::<u64>(),
        (1usize..=3, any::<bool>(), prop_oneof![Just(0usize), 1usize..CAPACITY.len()]),
    )
        .prop_map(
            |(
                pools,
                routing,
                conversation,
                horizon_days,
                warmup_h,
                load,
                seed,
                (channels, channel_policy, capacity),
            )| Case {
                pools,
                routing,
                conversation,
                horizon_days,
                warmup_h,
                load,
                seed,
                channels,
                channel_policy,
                capacity,
            },
        )
}

impl Case {
    fn mean_exchanges(&self) -> f64 {
        match self.conversation.exchanges {
            Ok(n) => f64::from(n),
            Err(mean) => mean,
        }
    }

    /// The scenario as TOML text in the scenario format (docs/model.md).
    fn to_toml(&self) -> String {
        let slots: u32 = self.pools.iter().map(|p| p.count * p.concurrency).sum();
        let rate = self.load * f64::from(slots) * 3600.0
            / f64::from(self.conversation.handle_s)
            / self.mean_exchanges();
        let mut text = format!(
            "name = \"random\"\nhorizon = \"{}d\"\nwarmup = \"{}h\"\nallow_overload = true\n",
            self.horizon_days, self.warmup_h
        );
        let per_channel = self.capacity == 6 && self.channels > 1;
        if self.capacity > 0 && !per_channel {
            text += &format!("capacity = {}\n", CAPACITY[self.capacity]);
        }
        if self.channels == 1 {
            text += &format!(
                "\n[arrivals]\nrate_per_hour = {rate}\n\n[conversation]\n{}",
                self.conversation_lines()
            );
        }
        for k in (0..self.channels).filter(|_| self.channels > 1) {
            let rate = rate / self.channels as f64;
            text += &format!("\n[[channels]]\nname = \"c{k}\"\n");
            if per_channel && k == 1 {
                text += &format!("capacity = {}\n", CAPACITY[self.capacity]);
            }
            if k == 1 && self.channel_policy {
                text += "policy = { kind = \"next_available\", select = \"random\" }\n";
            }
            text += &format!("[channels.arrivals]\nrate_per_hour = {rate}\n[channels.conversation]\n");
            text += &self.conversation_lines();
        }
        text += &self.pools_toml();
        text += &self.policy_toml();
        text
    }

    /// The `[conversation]` keys.
    fn conversation_lines(&self) -> String {
        let conv = &self.conversation;
        let mut text = match conv.exchanges {
            Ok(n) => format!("exchanges = {{ dist = \"fixed\", value = {n} }}\n"),
            Err(mean) => format!("exchanges = {{ dist = \"geometric\", mean = {mean} }}\n"),
        };
        text += &format!("handle_time = {{ dist = \"exponential\", mean = {} }}\n", conv.handle_s);
        text += &if conv.gap_mixture {
            format!(
                "gap = {{ dist = \"mixture\", parts = [ {{ weight = 0.7, dist = \"exponential\", mean = {} }}, \
                 {{ weight = 0.3, dist = \"exponential\", mean = {} }} ] }}\n",
                (conv.gap_s / 20).max(1),
                conv.gap_s * 4
            )
        } else {
            format!("gap = {{ dist = \"exponential\", mean = {} }}\n", conv.gap_s)
        };
        if let Some((first, resumed)) = conv.patience_s {
            text += &format!("patience_first = {{ dist = \"exponential\", mean = {first} }}\n");
            text += &format!("patience_resumed = {{ dist = \"exponential\", mean = {resumed} }}\n");
        }
        if let Some((percent, mean_s)) = conv.bot {
            let containment = f64::from(percent) / 100.0;
            text += &format!(
                "bot = {{ containment = {containment}, time = {{ dist = \"exponential\", mean = {} }} }}\n",
                mean_s.max(1)
            );
        }
        if let Some((mean_s, preview, head)) = conv.typing {
            let head =
                if preview { format!(", head_start = {}", f64::from(head) / 100.0) } else { String::new() };
            text += &format!(
                "typing = {{ time = {{ dist = \"exponential\", mean = {mean_s} }}, preview = {preview}{head} }}\n"
            );
        }
        text
    }

    /// The channels pool `i` serves (empty: no `skills` key, every channel); channels nobody
    /// lists go to the first pool.
    fn skills(&self, i: usize) -> Vec<usize> {
        let all = (1u8 << self.channels) - 1;
        let mask = |p: &Pool| if self.channels == 1 { 0 } else { p.skill_mask & all };
        let mut listed = mask(&self.pools[i]);
        if i == 0 && mask(&self.pools[0]) != 0 {
            let everyone = self.pools.iter().any(|p| mask(p) == 0);
            let served = self.pools.iter().fold(0, |m, p| m | mask(p));
            if !everyone {
                listed |= all & !served;
            }
        }
        (0..self.channels).filter(|k| listed >> k & 1 == 1).collect()
    }

    /// The `[[agents]]` tables.
    fn pools_toml(&self) -> String {
        let mut text = String::new();
        for (i, p) in self.pools.iter().enumerate() {
            text += &format!(
                "\n[[agents]]\nname = \"pool{i}\"\ncount = {}\nconcurrency = {}\nslowdown = {}\n",
                p.count, p.concurrency, p.slowdown
            );
            if let Some(s) = p.shifts {
                text += &format!("shifts = {}\n", SHIFTS[s]);
            }
            let skills = self.skills(i);
            if !skills.is_empty() {
                let items: Vec<String> = match p.priorities {
                    Some(priority) => skills.iter().map(|&k| format!("c{k} = {}", priority[k])).collect(),
                    None => skills.iter().map(|&k| format!("\"c{k}\"")).collect(),
                };
                let (open, close) = if p.priorities.is_some() { ("{ ", " }") } else { ("[", "]") };
                text += &format!("skills = {open}{}{close}\n", items.join(", "));
            }
        }
        text
    }

    /// The `[policy]` table.
    fn policy_toml(&self) -> String {
        let mut text = String::new();
        let r = &self.routing;
        text +=
            &format!("\n[policy]\nkind = \"{}\"\n", ["next_available", "sticky", "hybrid", "steps"][r.kind]);
        text += &format!("select = \"{}\"\n", SELECT[r.select]);
        text += &format!("first_contact = \"{}\"\n", if r.random_agent { "random_agent" } else { "pool" });
        text += &format!("personal_first = {}\n", r.personal_first);
        if r.kind > 0 {
            text +=
                &format!("owner_offline = \"{}\"\n", if r.owner_offline_wait { "wait" } else { "fallback" });
            if let Some(w) = r.affinity_window_s {
                text += &format!("affinity_window = {w}\n");
            }
        }
        if r.kind == 2 {
            text += &format!("timeout = {}\n", r.timeout_s);
        }
        if r.kind == 3 {
            let t = r.timeout_s;
            let steps = match t % 4 {
                0 => format!(
                    "{{ to = \"owner\", for = {t} }}, {{ to = \"team\", for = {} }}, {{ to = \"anyone\" }}",
                    2 * t + 1
                ),
                1 => format!("{{ to = \"team\", for = {t} }}, {{ to = \"anyone\" }}"),
                2 => format!("{{ to = \"owner\", for = {t} }}, {{ to = \"team\" }}"),
                _ => "{ to = \"team\" }".to_string(),
            };
            text += &format!("steps = [{steps}]\n");
        }
        text
    }
}

proptest! {
    #![proptest_config(Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x00c0_ffee),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn random_scenarios_keep_the_invariants(case in case()) {
        let text = case.to_toml();
        let s = scenario(&text);
        let out = convosim::run(&s, case.seed).expect("runs");
        assert_invariants(&out.audit, &text);
        let past = out.audit.reactivations_over_capacity;
        if !MAY_REACTIVATE_PAST.contains(&case.capacity) {
            prop_assert_eq!(past, 0, "a reactivation past capacity without a model that allows it:\n{}", text);
        }
        let counted = out.metrics.get("reactivations_over_capacity").unwrap_or(0.0);
        prop_assert!(counted <= past as f64, "{} counted, {} in the audit:\n{}", counted, past, text);
        // Occupancy counts contacts per slot: past 1 only with contacts lighter than a slot or
        // reactivations past capacity; capacity in use (handling and held) past 1 only with the latter.
        let over_one_allowed = |name: &str| {
            (name.starts_with("occupancy") || name.starts_with("agent_occupancy"))
                && (past > 0 || (case.capacity == 6 && name != "occupancy_handling_share" && name != "occupancy_held_share"))
        };
        if past == 0 {
            let in_use = out.metrics.get("occupancy_handling_share").unwrap_or(0.0)
                + out.metrics.get("occupancy_held_share").unwrap_or(0.0);
            prop_assert!(in_use <= 1.0 + 1e-9, "capacity in use {} in\n{}", in_use, text);
        }
        let all_contained = case.conversation.bot.is_some_and(|(percent, _)| percent == 100);
        prop_assert!(out.audit.ready > 0 || all_contained, "no contact at all:\n{}", text);
        for (info, value) in METRICS.iter().zip(&out.metrics.values) {
            let Some(v) = *value else { continue };
            prop_assert!(v.is_finite(), "{} = {} in\n{}", info.name, v, text);
            if (info.name.ends_with("_share") || info.name.starts_with("agent_occupancy_m")) && !over_one_allowed(info.name) {
                prop_assert!((0.0..=1.0 + 1e-9).contains(&v), "{} = {} in\n{}", info.name, v, text);
            }
            if info.name.ends_with("_s") {
                prop_assert!(v >= 0.0, "{} = {} in\n{}", info.name, v, text);
            }
        }
        if case.channels > 1 {
            prop_assert_eq!(out.metrics.channels.len(), case.channels);
            let columns = scope_metrics(Scope::Channel);
            for name in ["contacts_first", "contacts_resumed", "unfinished_contacts", "conversations_abandoned"] {
                let i = columns.iter().position(|c| c.name == name).unwrap();
                let sum: f64 = out.metrics.channels.iter().map(|row| row[i].unwrap_or(0.0)).sum();
                prop_assert_eq!(Some(sum), out.metrics.get(name), "{} by channel in\n{}", name, text);
            }
        }
        let shares_sum: f64 = out.metrics.concurrency_shares.iter().sum();
        prop_assert!(shares_sum == 0.0 || (shares_sum - 1.0).abs() < 1e-9, "concurrency shares sum to {}", shares_sum);
    }
}
