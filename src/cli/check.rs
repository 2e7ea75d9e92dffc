//! `convosim check`: validates a scenario without running it and says what it holds; with
//! `[[channels]]`, one line per channel (its weekly mean arrival rate, the load its work
//! offers, and the pools that serve it, with the pool's priority for it when the pool has
//! several).

use std::path::Path;

use anyhow::Result;

use super::load_with_settings;
use crate::scenario::{LoadEstimate, Scenario, Setting};

pub(super) fn check(path: &Path, sets: &[Setting]) -> Result<i32> {
    let scenario = load_with_settings(path, sets)?;
    outln!(
        "{}: ok: scenario \"{}\", {} pool(s), {} agents, policy {}, horizon {}, warm-up {}, {} replication(s)",
        path.display(),
        scenario.name,
        scenario.pools.len(),
        scenario.agent_count(),
        scenario.policy_label(),
        crate::duration::format_duration(scenario.horizon),
        crate::duration::format_duration(scenario.warmup),
        scenario.replications
    );
    // `[capacity]`: one line per channel with a capacity model (none without one).
    for channel in scenario.channels.iter().filter(|c| !c.capacity.is_plain()) {
        outln!("  capacity of channel {}: {}", channel.name, channel.capacity.label());
    }
    // Without [[channels]] the one channel is the scenario itself: the line above says it all.
    if scenario.channels_declared {
        for line in channel_lines(&scenario) {
            outln!("  {line}");
        }
    }
    Ok(0)
}

/// `channel chat: 100.0 new conversations/h, offered load 7.50 slots; served by chat_team,
/// generalists (priority 1)`, one per channel in scenario order.
fn channel_lines(scenario: &Scenario) -> Vec<String> {
    scenario
        .channels
        .iter()
        .enumerate()
        .map(|(c, channel)| {
            let (per_s, slots) = LoadEstimate::channel_load(channel);
            let servers: Vec<String> = scenario
                .pools
                .iter()
                .filter_map(|pool| {
                    let skill = pool.skills.iter().find(|s| s.channel == c)?;
                    // A priority says something only against the pool's other channels.
                    let ranked = pool.skills.iter().any(|s| s.priority != skill.priority);
                    Some(if ranked {
                        format!("{} (priority {})", pool.name, skill.priority)
                    } else {
                        pool.name.clone()
                    })
                })
                .collect();
            format!(
                "channel {}: {:.1} new conversations/h (weekly mean), offered load {slots:.2} slots; served by {}",
                channel.name,
                per_s * 3600.0,
                servers.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_names_its_rate_load_and_pools() {
        let scenario = crate::scenario::load_scenario(Path::new("scenarios/chat-messaging.toml")).unwrap();
        let lines = channel_lines(&scenario);
        assert_eq!(lines.len(), 2);
        // Chat: 100/h × 6 exchanges × 45 s = 7.5 slots.
        assert_eq!(
            lines[0],
            "channel chat: 100.0 new conversations/h (weekly mean), offered load 7.50 slots; served by \
             chat_team, generalists (priority 1)"
        );
        assert!(lines[1].starts_with("channel messaging: 70.0 new conversations/h"), "{}", lines[1]);
        assert!(lines[1].ends_with("served by generalists (priority 2)"), "{}", lines[1]);
    }
}
