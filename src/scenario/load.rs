//! Loading a scenario file: TOML text → [`Scenario`], every key checked by its dotted path.
//!
//! Phase one parses the text into a plain [`toml::Table`] (a syntax error becomes
//! [`ScenarioError::Syntax`]); phase two walks the table section by section, rejecting unknown
//! keys (with a "did you mean" suggestion) and converting values with their key at hand, so
//! every [`ScenarioError::Field`] names the file, the key and the fix.
//!
//! Defaults where the file is silent: `warmup = 0`, `seed = 1`, `replications = 1`, agents'
//! `concurrency = 1` and `slowdown = 0`, no shifts (always on), `staffing_interval = "1h"` and
//! `staffing_scale = 1` with a staffing vector, no patience (never abandons),
//! `[service_level]` first = 60s, resumed = 5m.

mod capacity;
mod channels;
mod dists;
mod fields;
mod front;
mod misplaced;
mod policies;
mod policy_hints;
mod shifts;
mod staffing;
#[cfg(test)]
mod tests;
mod text;

use std::path::Path;

use toml::{Table, Value};

use self::channels::Draft;
use self::dists::{distribution, Domain};
use self::fields::{as_number, expected, index, Section, Sign};
use super::model::{AgentPool, Arrivals, ConversationModel, Fold, ReportSpec, Scenario, ServiceLevel, DAY_S};
use super::{memory, overload};
use crate::error::{FieldError, ScenarioError};
use crate::policy::PolicySpec;

pub use self::capacity::capacity_summaries;
pub use self::channels::DEFAULT_CHANNEL;
pub(crate) use self::misplaced::with_misplaced;
pub(crate) use self::policies::preset_as_table;
pub use self::policies::{families as preset_families, load_policy, preset_summaries, PresetFamily};
pub(crate) use self::text::parse_toml;
pub use self::text::{read_text, MAX_FILE_BYTES};

/// Built-in policy presets, `(name, TOML text)`, from the crate's `policies/` directory.
pub static PRESETS: &[(&str, &str)] = &[
    ("next-available", include_str!("../../policies/next-available.toml")),
    ("sticky", include_str!("../../policies/sticky.toml")),
    ("hybrid-1m", include_str!("../../policies/hybrid-1m.toml")),
    ("hybrid-5m", include_str!("../../policies/hybrid-5m.toml")),
    ("hybrid-10m", include_str!("../../policies/hybrid-10m.toml")),
    ("hybrid-15m", include_str!("../../policies/hybrid-15m.toml")),
    ("hybrid-1h", include_str!("../../policies/hybrid-1h.toml")),
    ("hybrid-4h", include_str!("../../policies/hybrid-4h.toml")),
    ("sticky-random-agent", include_str!("../../policies/sticky-random-agent.toml")),
    ("sticky-window-1d", include_str!("../../policies/sticky-window-1d.toml")),
    ("bullseye", include_str!("../../policies/bullseye.toml")),
];

const TOP_KEYS: &[&str] = &[
    "name",
    "horizon",
    "warmup",
    "seed",
    "replications",
    "arrivals",
    "conversation",
    "channels",
    "agents",
    "policy",
    "service_level",
    "allow_overload",
    "report",
    "capacity",
];
/// Top-level keys of a sweep file that a scenario never has.
const SWEEP_ONLY_KEYS: &[&str] = &["base", "axes"];
const ARRIVAL_KEYS: &[&str] = &["rate_per_hour", "profile", "weekday"];
const CONVERSATION_KEYS: &[&str] =
    &["exchanges", "handle_time", "gap", "patience_first", "patience_resumed", "bot", "typing"];
const AGENT_KEYS: &[&str] = &[
    "name",
    "count",
    "concurrency",
    "slowdown",
    "shifts",
    "staffing",
    "staffing_interval",
    "staffing_scale",
    "skills",
];
const SERVICE_LEVEL_KEYS: &[&str] = &["first", "resumed"];
const REPORT_KEYS: &[&str] = &["interval", "fold"];
/// Bounds that keep a typo from asking the engine for billions of agents or slots (the engine
/// reserves memory per slot up front) or replications.
const MAX_AGENTS: i64 = 1_000_000;
const MAX_CONCURRENCY: i64 = 10_000;
const MAX_SLOTS: i64 = 1_000_000;
/// Pools: a real center has tens; the capacity index holds a table of pools × concurrency.
const MAX_POOLS: usize = 1_000;
/// Most replications of one run or sweep point (`--replications` and sweep files too).
pub const MAX_REPLICATIONS: u32 = 1_000_000;

/// Reads and validates the scenario file at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    parse_scenario(&read_text(path)?, path)
}

/// Validates scenario text; `file` names it in messages and anchors relative preset paths.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    scenario_from_table(&parse_toml(text, file)?, file)
}

/// Validates an already parsed scenario table (e.g. a sweep's base scenario with one point's
/// values written into it); `file` names it in messages and anchors relative preset paths.
pub fn scenario_from_table(table: &Table, file: &Path) -> Result<Scenario, ScenarioError> {
    // A required top-level key written after a header reads as missing: say where it went.
    build_scenario(table, file).map_err(|error| match error {
        ScenarioError::Field { file, error } => {
            ScenarioError::Field { file, error: misplaced::missing_hint(error, table) }
        }
        other => other,
    })
}

fn build_scenario(table: &Table, file: &Path) -> Result<Scenario, ScenarioError> {
    let field = |error| ScenarioError::Field { file: file.to_path_buf(), error: misplaced_hint(error) };
    if SWEEP_ONLY_KEYS.iter().any(|key| table.contains_key(*key)) {
        return Err(ScenarioError::SweepFile { file: file.to_path_buf() });
    }
    let top = Section::new(table, "", TOP_KEYS).map_err(field)?;
    let head = header(&top).map_err(field)?;
    let (drafts, channels_declared) = channels::channels(&top, file)?;
    let pools = agents(&top, &drafts).map_err(field)?;
    channels::check_served(&drafts, &pools, channels_declared).map_err(field)?;
    let policy = policy(&top, file)?;
    let service_level = service_level(&top).map_err(field)?;
    let allow_overload = top.boolean("allow_overload").map_err(field)?.unwrap_or(false);
    let report = report(&top, &drafts, &pools).map_err(field)?;
    let top_capacity =
        capacity::capacity(top.get("capacity"), "capacity").map_err(field)?.unwrap_or_default();
    let channels = drafts.into_iter().map(|d| d.resolve(service_level, top_capacity)).collect();
    let scenario = Scenario {
        name: head.name,
        horizon: head.horizon,
        warmup: head.warmup,
        seed: head.seed,
        replications: head.replications,
        channels,
        channels_declared,
        pools,
        policy,
        allow_overload,
        report,
    };
    overload::check_budget(&scenario).map_err(field)?;
    memory::check_breakdowns(&scenario, scenario.replications).map_err(field)?;
    if !scenario.allow_overload {
        overload::check(&scenario).map_err(field)?;
    }
    Ok(scenario)
}

/// Adds a hint to an unknown key of a section (`arrivals.seed`, `agents[0].policy`) that is a
/// top-level key: in TOML, a key below a `[table]` header belongs to that table.
fn misplaced_hint(error: FieldError) -> FieldError {
    misplaced::unknown_hint(error, TOP_KEYS)
}

/// The top-level scalars.
struct Header {
    name: String,
    horizon: f64,
    warmup: f64,
    seed: u64,
    replications: u32,
}

fn header(top: &Section<'_>) -> Result<Header, FieldError> {
    let name = top.req_name("name")?.to_string();
    let horizon = top.req_duration("horizon", Sign::Positive, "8d")?;
    let warmup = top.duration("warmup", Sign::NonNegative, "1d")?.unwrap_or(0.0);
    if warmup >= horizon {
        let horizon_text = top.get("horizon").map_or_else(String::new, fields::render);
        let what = format!("a duration shorter than the horizon ({horizon_text})");
        if let Some(value) = top.get("warmup") {
            return Err(expected("warmup", &what, value));
        }
    }
    // A scenario without a seed uses seed 1, so that runs are reproducible all the same.
    let seed = top.integer("seed", 0, i64::MAX)?.unwrap_or(1);
    let replications = top.integer("replications", 1, i64::from(MAX_REPLICATIONS))?.unwrap_or(1);
    Ok(Header {
        name,
        horizon,
        warmup,
        seed: u64::try_from(seed).unwrap_or(1),
        replications: u32::try_from(replications).unwrap_or(1),
    })
}

/// A required sub-table of the top level, checked against its known keys.
fn section<'a>(top: &Section<'a>, key: &str, known: &[&str], what: &str) -> Result<Section<'a>, FieldError> {
    let table = top.table(key, what)?.ok_or_else(|| top.missing(key, what))?;
    Section::new(table, &top.path(key), known)
}

fn arrivals(top: &Section<'_>) -> Result<Arrivals, FieldError> {
    let sec = section(top, "arrivals", ARRIVAL_KEYS, "a table [arrivals] with rate_per_hour = 120")?;
    Ok(Arrivals {
        rate_per_hour: sec.req_number(
            "rate_per_hour",
            Sign::Positive,
            "a positive number of conversations per hour",
        )?,
        hour_profile: multipliers::<24>(&sec, "profile", "hour-of-day multipliers, 00:00-01:00 first")?,
        weekday: multipliers::<7>(&sec, "weekday", "day-of-week multipliers, Monday first")?,
    })
}

/// An optional array of exactly `N` non-negative multipliers, at least one positive.
fn multipliers<const N: usize>(
    sec: &Section<'_>,
    key: &str,
    noun: &str,
) -> Result<Option<[f64; N]>, FieldError> {
    let what = format!("an array of {N} {noun}");
    let Some(items) = sec.array(key, &what)? else {
        return Ok(None);
    };
    let path = sec.path(key);
    if items.len() != N {
        return Err(FieldError::new(path, format!("expected {N} {noun}, got {} values", items.len())));
    }
    let mut out = [0.0; N];
    for (slot, (i, item)) in out.iter_mut().zip(items.iter().enumerate()) {
        *slot = as_number(item, &index(&path, i), Sign::NonNegative, "a non-negative multiplier")?;
    }
    if out.iter().all(|x| *x == 0.0) {
        return Err(FieldError::new(path, "expected at least one positive multiplier, got all zeros"));
    }
    Ok(Some(out))
}

fn conversation(top: &Section<'_>) -> Result<ConversationModel, FieldError> {
    let sec = section(
        top,
        "conversation",
        CONVERSATION_KEYS,
        "a table [conversation] with exchanges, handle_time and gap",
    )?;
    let time_what = "a distribution like { dist = \"exponential\", mean = \"4m\" }";
    let time = |key: &str| {
        sec.get(key).map(|v| distribution(v, &sec.path(key), Domain::Time).map(|p| p.dist)).transpose()
    };
    let exchanges_value = sec
        .get("exchanges")
        .ok_or_else(|| sec.missing("exchanges", "a distribution like { dist = \"geometric\", mean = 4 }"))?;
    let exchanges = distribution(exchanges_value, &sec.path("exchanges"), Domain::Count)?;
    let handle_time = time("handle_time")?.ok_or_else(|| sec.missing("handle_time", time_what))?;
    let gap = time("gap")?;
    if gap.is_none() && !exchanges.always_one {
        return Err(sec.missing(
            "gap",
            &format!(
                "{time_what} (the customer's silence between a reply and the next message; \
                 needed unless exchanges = {{ dist = \"fixed\", value = 1 }})"
            ),
        ));
    }
    Ok(ConversationModel {
        exchanges: exchanges.dist,
        handle_time,
        gap,
        patience_first: time("patience_first")?,
        patience_resumed: time("patience_resumed")?,
        bot: front::bot(&sec)?,
        typing: front::typing(&sec)?,
    })
}

fn agents(top: &Section<'_>, channels: &[Draft]) -> Result<Vec<AgentPool>, FieldError> {
    let what = "one or more [[agents]] tables with name and count";
    let items = top.array("agents", what)?.ok_or_else(|| top.missing("agents", what))?;
    if items.is_empty() {
        return Err(expected("agents", what, &Value::Array(Vec::new())));
    }
    if items.len() > MAX_POOLS {
        return Err(FieldError::new(
            "agents",
            format!("expected at most {MAX_POOLS} pools, got {}", items.len()),
        ));
    }
    let mut pools: Vec<AgentPool> = Vec::with_capacity(items.len());
    let mut names: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let (mut total, mut slots) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let path = index("agents", i);
        let table = item
            .as_table()
            .ok_or_else(|| expected(&path, "a pool like { name = \"team\", count = 16 }", item))?;
        let sec = Section::new(table, &path, AGENT_KEYS)?;
        let pool = agent_pool(&sec, channels)?;
        if let Some(&j) = names.get(&pool.name) {
            return Err(FieldError::new(
                sec.path("name"),
                format!("duplicate pool name \"{}\" (also agents[{j}].name)", pool.name.escape_debug()),
            ));
        }
        // With a staffing vector, the pool's size is its largest value.
        let size_key = if pool.staffing.is_some() { "staffing" } else { "count" };
        total += i64::from(pool.count);
        if total > MAX_AGENTS {
            return Err(FieldError::new(
                sec.path(size_key),
                format!("expected at most {MAX_AGENTS} agents over all pools, got {total}"),
            ));
        }
        slots += i64::from(pool.count) * i64::from(pool.concurrency);
        if slots > MAX_SLOTS {
            return Err(FieldError::new(
                sec.path(size_key),
                format!(
                    "expected at most {MAX_SLOTS} slots (count × concurrency) over all pools, got {slots} \
                     with this pool's {} × {}",
                    pool.count, pool.concurrency
                ),
            ));
        }
        names.insert(pool.name.clone(), i);
        pools.push(pool);
    }
    Ok(pools)
}

fn agent_pool(sec: &Section<'_>, channels: &[Draft]) -> Result<AgentPool, FieldError> {
    let name = sec.req_key_name("name", "--pool or --set keys")?.to_string();
    let staffing = staffing::staffing(sec, MAX_AGENTS)?;
    let count = match &staffing {
        Some(vector) => i64::from(vector.max()),
        None => sec.integer("count", 1, MAX_AGENTS)?.ok_or_else(|| {
            sec.missing(
                "count",
                &format!("an integer from 1 to {MAX_AGENTS} (or a staffing vector, staffing = [...])"),
            )
        })?,
    };
    let concurrency = sec.integer("concurrency", 1, MAX_CONCURRENCY)?.unwrap_or(1);
    let slowdown = sec.number("slowdown", Sign::NonNegative, "a non-negative number")?.unwrap_or(0.0);
    let shift_what = "an array of shifts like [{ days = \"mon-fri\", start = \"08:00\", end = \"17:00\" }]";
    let shifts = match sec.array("shifts", shift_what)? {
        Some(items) => Some(shifts::schedule(items, &sec.path("shifts"))?),
        None => None,
    };
    Ok(AgentPool {
        name,
        count: u32::try_from(count).unwrap_or(1),
        concurrency: u32::try_from(concurrency).unwrap_or(1),
        slowdown,
        shifts,
        staffing,
        skills: channels::skills(sec, channels)?,
    })
}

/// The `policy` of the top level or of a channel.
fn policy(top: &Section<'_>, file: &Path) -> Result<PolicySpec, ScenarioError> {
    let field = |error| ScenarioError::Field { file: file.to_path_buf(), error: misplaced_hint(error) };
    let what = "a [policy] table with kind = \"next_available\", \"sticky\", \"hybrid\" or \"steps\", \
                or a preset name like \"hybrid-10m\"";
    let key = top.path("policy");
    match top.get("policy") {
        Some(Value::Table(table)) => policies::policy_table(table, &key, false).map_err(field),
        Some(Value::String(name)) => policies::preset_for_scenario(name, file, &key),
        Some(value) => Err(field(expected(&key, what, value))),
        None => Err(field(top.missing("policy", what))),
    }
}

fn service_level(top: &Section<'_>) -> Result<ServiceLevel, FieldError> {
    let defaults = ServiceLevel::default();
    let what = "a table [service_level] with first and resumed durations";
    let Some(table) = top.table("service_level", what)? else {
        return Ok(defaults);
    };
    let sec = Section::new(table, &top.path("service_level"), SERVICE_LEVEL_KEYS)?;
    Ok(ServiceLevel {
        first: sec.duration("first", Sign::Positive, "60s")?.unwrap_or(defaults.first),
        resumed: sec.duration("resumed", Sign::Positive, "5m")?.unwrap_or(defaults.resumed),
    })
}

/// `[report]`: `interval` (default 1h, whole seconds dividing a day) and `fold` ("day" or
/// "week"; by default "week" when the scenario varies by weekday, else "day").
fn report(top: &Section<'_>, channels: &[Draft], pools: &[AgentPool]) -> Result<ReportSpec, FieldError> {
    let weekly = channels.iter().any(|c| c.arrivals().weekday.is_some())
        || pools.iter().any(|p| {
            p.staffing.as_ref().is_some_and(|s| s.period_s() > DAY_S)
                || p.shifts.as_ref().is_some_and(|s| s.is_day_specific())
        });
    let mut spec = ReportSpec { interval_s: 3600.0, fold: if weekly { Fold::Week } else { Fold::Day } };
    let Some(table) = top.table("report", "a table [report] with interval and fold")? else {
        return Ok(spec);
    };
    let sec = Section::new(table, "report", REPORT_KEYS)?;
    if let Some(width) = sec.duration("interval", Sign::Positive, "1h")? {
        if width.fract() != 0.0 || DAY_S % width != 0.0 {
            return Err(FieldError::new(
                sec.path("interval"),
                format!("expected a whole number of seconds that divides a day, like \"15m\" or \"1h\" (got {width}s)"),
            ));
        }
        spec.interval_s = width;
    }
    if let Some(fold) = sec.string("fold")? {
        spec.fold = match fold {
            "day" => Fold::Day,
            "week" => Fold::Week,
            other => {
                return Err(FieldError::new(
                    sec.path("fold"),
                    format!("expected \"day\" or \"week\" (got \"{other}\")"),
                ))
            }
        };
    }
    Ok(spec)
}
