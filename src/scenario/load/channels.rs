//! `[[channels]]` and pool `skills`: several streams of conversations (chat, messaging) served
//! by pools skilled for some of them, with priorities.
//!
//! A scenario without `[[channels]]` is one channel named `default` built from the top-level
//! `[arrivals]`, `[conversation]` and `[service_level]`; with them, those top-level tables are
//! refused (each channel has its own), so a value is never declared in two places.

use std::path::Path;

use toml::Value;

use super::fields::{as_integer, expected, index, join, unknown_message, Section};
use super::{arrivals, conversation, misplaced_hint, policy, service_level};
use crate::error::{FieldError, ScenarioError};
use crate::policy::PolicySpec;
use crate::scenario::model::{
    AgentPool, Arrivals, Channel, ChannelCapacity, ConversationModel, ServiceLevel, Skill,
};

const CHANNEL_KEYS: &[&str] = &["name", "arrivals", "conversation", "service_level", "policy", "capacity"];
/// Top-level tables that belong to each channel once `[[channels]]` are listed.
const PER_CHANNEL_TOP_KEYS: &[&str] = &["arrivals", "conversation", "service_level"];
/// Channels: a center has a handful; routing looks at the heads of a pool's channel queues.
pub(super) const MAX_CHANNELS: usize = 64;
/// Largest skill priority (lower is served first).
const MAX_PRIORITY: i64 = 1_000_000;
/// The name of the one channel of a scenario without `[[channels]]`.
pub const DEFAULT_CHANNEL: &str = "default";

/// A channel read from the file, its service level not yet resolved against the top level's.
pub(super) struct Draft {
    name: String,
    arrivals: Arrivals,
    conversation: ConversationModel,
    service_level: Option<ServiceLevel>,
    policy: Option<PolicySpec>,
    capacity: Option<ChannelCapacity>,
}

impl Draft {
    /// The channel, with the top-level `[service_level]` (`top_level`) and `[capacity]`
    /// (`top_capacity`) if it has none of its own.
    pub(super) fn resolve(self, top_level: ServiceLevel, top_capacity: ChannelCapacity) -> Channel {
        Channel {
            name: self.name,
            arrivals: self.arrivals,
            conversation: self.conversation,
            service_level: self.service_level.unwrap_or(top_level),
            policy: self.policy,
            capacity: self.capacity.unwrap_or(top_capacity),
        }
    }

    /// The channel's arrivals (for the report's default fold).
    pub(super) fn arrivals(&self) -> &Arrivals {
        &self.arrivals
    }
}

/// The channels of the file: the `[[channels]]` list, or the one `default` channel built from
/// the top level. Returns whether the list was declared.
pub(super) fn channels(top: &Section<'_>, file: &Path) -> Result<(Vec<Draft>, bool), ScenarioError> {
    let field = |error| ScenarioError::Field { file: file.to_path_buf(), error: misplaced_hint(error) };
    let what = "one or more [[channels]] tables with name, arrivals and conversation";
    let Some(items) = top.array("channels", what).map_err(field)? else {
        let draft = Draft {
            name: DEFAULT_CHANNEL.to_string(),
            arrivals: arrivals(top).map_err(field)?,
            conversation: conversation(top).map_err(field)?,
            service_level: None,
            policy: None,
            capacity: None,
        };
        return Ok((vec![draft], false));
    };
    if let Some(key) = PER_CHANNEL_TOP_KEYS.iter().find(|key| top.get(key).is_some()) {
        return Err(field(FieldError::new(
            *key,
            format!(
                "expected no top-level [{key}] when [[channels]] are listed: give each channel its own {key}"
            ),
        )));
    }
    if items.is_empty() || items.len() > MAX_CHANNELS {
        let message = format!("expected 1 to {MAX_CHANNELS} [[channels]] tables, got {}", items.len());
        return Err(field(FieldError::new("channels", message)));
    }
    let mut drafts: Vec<Draft> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = index("channels", i);
        let table = item.as_table().ok_or_else(|| {
            field(expected(&path, "a channel like { name = \"chat\", arrivals = {...}, ... }", item))
        })?;
        let sec = Section::new(table, &path, CHANNEL_KEYS).map_err(field)?;
        let name = sec.req_key_name("name", "--set, --assert or --target keys").map_err(field)?.to_string();
        if let Some(j) = drafts.iter().position(|d| d.name == name) {
            let message =
                format!("duplicate channel name \"{}\" (also channels[{j}].name)", name.escape_debug());
            return Err(field(FieldError::new(sec.path("name"), message)));
        }
        let arrivals = arrivals(&sec).map_err(field)?;
        let conversation = conversation(&sec).map_err(field)?;
        let service_level =
            if sec.get("service_level").is_some() { Some(service_level(&sec).map_err(field)?) } else { None };
        let policy = if sec.get("policy").is_some() { Some(policy(&sec, file)?) } else { None };
        let capacity =
            super::capacity::capacity(sec.get("capacity"), &sec.path("capacity")).map_err(field)?;
        drafts.push(Draft { name, arrivals, conversation, service_level, policy, capacity });
    }
    Ok((drafts, true))
}

/// A pool's `skills`: a list of channel names (one priority) or a table `{ name = priority }`
/// (lower first); absent, every channel at one priority. Sorted by (priority, channel).
pub(super) fn skills(sec: &Section<'_>, channels: &[Draft]) -> Result<Vec<Skill>, FieldError> {
    let names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
    let path = sec.path("skills");
    let what = "a list of channel names like [\"chat\", \"messaging\"] or priorities like { chat = 1, messaging = 2 }";
    let lookup = |name: &str, key: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| FieldError::new(key, unknown_message("channel", name, &names)))
    };
    let mut skills: Vec<Skill> = Vec::new();
    match sec.get("skills") {
        None => return Ok((0..channels.len()).map(|channel| Skill { channel, priority: 0 }).collect()),
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let key = index(&path, i);
                let name = item.as_str().ok_or_else(|| expected(&key, "a channel name", item))?;
                let channel = lookup(name, &key)?;
                if skills.iter().any(|s| s.channel == channel) {
                    return Err(FieldError::new(key, format!("channel \"{name}\" is listed twice")));
                }
                skills.push(Skill { channel, priority: 0 });
            }
        }
        Some(Value::Table(table)) if !table.is_empty() => {
            for (name, value) in table {
                let key = join(&path, name);
                let channel = lookup(name, &key)?;
                let priority = as_integer(value, &key, 0, MAX_PRIORITY)?;
                skills.push(Skill { channel, priority: u32::try_from(priority).unwrap_or(0) });
            }
        }
        Some(other) => return Err(expected(&path, what, other)),
    }
    skills.sort_by_key(|s| (s.priority, s.channel));
    Ok(skills)
}

/// Every channel must be served by some pool, or its contacts would wait forever.
pub(super) fn check_served(
    channels: &[Draft],
    pools: &[AgentPool],
    declared: bool,
) -> Result<(), FieldError> {
    for (c, channel) in channels.iter().enumerate() {
        if !pools.iter().any(|p| p.skills.iter().any(|s| s.channel == c)) {
            let key = if declared { join(&index("channels", c), "name") } else { "agents".to_string() };
            return Err(FieldError::new(
                key,
                format!(
                    "channel \"{}\" is served by no pool: add it to the skills of an [[agents]] pool \
                     (a pool without skills serves every channel)",
                    channel.name.escape_debug()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::error::ScenarioError;
    use crate::scenario::{parse_scenario, set_path, Scenario, Skill};

    const TWO: &str = r#"
name = "two"
horizon = "2d"

[[channels]]
name = "chat"
arrivals = { rate_per_hour = 40 }
conversation = { exchanges = { dist = "fixed", value = 1 }, handle_time = { dist = "exponential", mean = "3m" } }
service_level = { first = "30s" }
policy = "next-available"

[[channels]]
name = "messaging"
arrivals = { rate_per_hour = 20 }
conversation = { exchanges = { dist = "geometric", mean = 3 }, handle_time = { dist = "exponential", mean = "4m" }, gap = { dist = "exponential", mean = "1h" } }

[[agents]]
name = "chat_team"
count = 4
skills = ["chat"]

[[agents]]
name = "generalists"
count = 6
concurrency = 2
skills = { messaging = 2, chat = 1 }

[[agents]]
name = "everyone"
count = 1

[policy]
kind = "sticky"
"#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        parse_scenario(text, Path::new("two.toml"))
    }

    #[track_caller]
    fn check_error(text: &str, key: &str, message: &str) {
        match parse(text) {
            Err(ScenarioError::Field { error, .. }) => {
                assert_eq!(error.key, key, "{error}");
                assert!(error.message.contains(message), "{error}");
            }
            other => panic!("expected an error at {key}, got {other:?}"),
        }
    }

    fn edited(from: &str, to: &str) -> String {
        assert!(TWO.contains(from), "TWO lacks {from:?}");
        TWO.replacen(from, to, 1)
    }

    #[test]
    fn channels_skills_and_policies_load() {
        let s = parse(TWO).unwrap();
        assert!(s.channels_declared);
        let names: Vec<&str> = s.channels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["chat", "messaging"]);
        assert_eq!(s.channels[0].service_level.first, 30.0);
        assert_eq!(s.channels[0].service_level.resumed, 300.0, "default threshold");
        assert_eq!(s.channel_policy(0).kind, "next_available");
        assert_eq!(s.channel_policy(1).kind, "sticky", "the scenario's policy");
        let skill = |channel, priority| Skill { channel, priority };
        assert_eq!(s.pools[0].skills, [skill(0, 0)]);
        assert_eq!(s.pools[1].skills, [skill(0, 1), skill(1, 2)], "sorted by priority");
        assert_eq!(s.pools[2].skills, [skill(0, 0), skill(1, 0)], "every channel by default");
        assert!(s.serves(1, 1) && !s.serves(0, 1));
    }

    #[test]
    fn without_channels_there_is_one_default_channel() {
        let text = TWO.split("[[channels]]").next().unwrap().to_string()
            + "[arrivals]\nrate_per_hour = 5\n[conversation]\nexchanges = { dist = \"fixed\", value = 1 }\n\
               handle_time = { dist = \"fixed\", value = 60 }\n[service_level]\nfirst = \"20s\"\n\
               [[agents]]\nname = \"a\"\ncount = 1\nskills = [\"default\"]\n[policy]\nkind = \"sticky\"\n";
        let s = parse(&text).unwrap();
        assert!(!s.channels_declared);
        assert_eq!(s.channels.len(), 1);
        assert_eq!((s.channels[0].name.as_str(), s.channels[0].service_level.first), ("default", 20.0));
        assert_eq!(s.channel_policy(0).kind, "sticky");
    }

    #[test]
    fn every_mistake_names_its_key() {
        check_error(
            &edited("skills = [\"chat\"]", "skills = [\"caht\"]"),
            "agents[0].skills[0]",
            "did you mean \"chat\"",
        );
        check_error(&edited("messaging = 2", "mesaging = 2"), "agents[1].skills.mesaging", "unknown channel");
        check_error(&edited("messaging = 2", "messaging = -1"), "agents[1].skills.messaging", "integer");
        check_error(
            &edited("skills = [\"chat\"]", "skills = [\"chat\", \"chat\"]"),
            "agents[0].skills[1]",
            "twice",
        );
        check_error(
            &edited("skills = [\"chat\"]", "skills = []"),
            "agents[0].skills",
            "list of channel names",
        );
        check_error(
            &edited("skills = [\"chat\"]", "skills = \"chat\""),
            "agents[0].skills",
            "list of channel names",
        );
        let nobody = edited("skills = { messaging = 2, chat = 1 }", "skills = [\"chat\"]")
            .replace("name = \"everyone\"\ncount = 1", "name = \"everyone\"\ncount = 1\nskills = [\"chat\"]");
        check_error(&nobody, "channels[1].name", "served by no pool");
        check_error(
            &edited("name = \"messaging\"", "name = \"chat\""),
            "channels[1].name",
            "duplicate channel",
        );
        check_error(
            &edited("horizon = \"2d\"", "horizon = \"2d\"\n[arrivals]\nrate_per_hour = 1"),
            "arrivals",
            "[[channels]]",
        );
        check_error(
            &edited("arrivals = { rate_per_hour = 20 }", "arrivals = { rate_per_hour = 0 }"),
            "channels[1].arrivals.rate_per_hour",
            "positive",
        );
        check_error(
            &edited("service_level = { first = \"30s\" }", "service_level = { frist = \"30s\" }"),
            "channels[0].service_level.frist",
            "unknown key",
        );
        check_error(
            &edited("policy = \"next-available\"", "policy = { kind = \"stiky\" }"),
            "channels[0].policy.kind",
            "did you mean",
        );
        check_error(&edited("policy = \"next-available\"", "polcy = 1"), "channels[0].polcy", "unknown key");
        check_error(&edited("arrivals = { rate_per_hour = 20 }", ""), "channels[1].arrivals", "missing");
    }

    #[test]
    fn set_paths_address_channels_by_name() {
        let mut table: toml::Table = TWO.parse().unwrap();
        let file = Path::new("two.toml");
        let mut set = |path: &str, value| set_path(&mut table, path, value, file);
        set("channels.chat.arrivals.rate_per_hour", toml::Value::Integer(90)).unwrap();
        set("channels.messaging.service_level", toml::Value::Table(Default::default())).unwrap();
        assert!(set("channels.voice.arrivals.rate_per_hour", toml::Value::Integer(1))
            .unwrap_err()
            .contains("channels.voice"));
        // A channel's preset becomes its table, then takes the key.
        set("channels.chat.policy", toml::Value::String("hybrid-1m".into())).unwrap();
        set("channels.chat.policy.timeout", toml::Value::String("7m".into())).unwrap();
        let s = crate::scenario::scenario_from_table(&table, file).unwrap();
        assert_eq!(s.channels[0].arrivals.rate_per_hour, 90.0);
        assert_eq!(s.channels[0].policy.as_ref().map(|p| p.label()).as_deref(), Some("hybrid(timeout=7m)"));
    }
}
