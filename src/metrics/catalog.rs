//! The list of metrics, once, in report order, with a one-line meaning each, the direction
//! that is an improvement, the unit, and the smallest change that can count as a regression.

/// Every metric of a replication. The discriminant is the index into [`METRICS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // each is documented in METRICS
pub enum Metric {
    WaitFirstMean,
    WaitFirstP50,
    WaitFirstP90,
    WaitFirstP95,
    WaitFirstP99,
    WaitFirstMax,
    WaitedFirstShare,
    SlFirstShare,
    WaitResumedMean,
    WaitResumedP50,
    WaitResumedP90,
    WaitResumedP95,
    WaitResumedP99,
    WaitResumedMax,
    WaitedResumedShare,
    SlResumedShare,
    AbandonFirstShare,
    AbandonResumedShare,
    QueueTimeFirstAllMean,
    AffinityRetentionShare,
    HandoffsPerConversation,
    SingleAgentConversationShare,
    OccupancyShare,
    UtilizationShare,
    AgentOccupancyMin,
    AgentOccupancyMax,
    AgentOccupancyCv,
    ConversationsResolved,
    ConversationsAbandoned,
    ConversationDurationMean,
    ContactsFirst,
    ContactsResumed,
    UnfinishedContacts,
    FallbacksFired,
    OwnerOfflineReroutes,
    QueueLengthMean,
    QueueLengthMax,
    PersonalQueueLengthMean,
    PersonalQueueLengthMax,
}

/// Which direction of change is an improvement (for `compare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Smaller is better (waits, abandonment, queues).
    Lower,
    /// Larger is better (service level, affinity).
    Higher,
    /// Neither: a volume or a load, reported but never a regression.
    Neither,
}

/// What a metric's number is, for showing it and for its absolute floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds (names ending in `_s`).
    Seconds,
    /// A share in [0, 1] (names ending in `_share`, and one agent's occupancy).
    Share,
    /// A count of contacts or conversations per replication.
    Count,
    /// Any other number (ratios, time-average queue lengths).
    Number,
}

impl Unit {
    /// The default absolute floor: a change smaller than this is never a regression, however
    /// narrow the confidence intervals. One second of wait is below what a customer notices;
    /// half a percentage point of a share is below what a staffing decision turns on; one
    /// contact is the smallest change a count can make; a hundredth for other numbers
    /// (handoffs per conversation, queue lengths) is below their replication noise.
    pub const fn floor(self) -> f64 {
        match self {
            Unit::Seconds => 1.0,
            Unit::Share => 0.005,
            Unit::Count => 1.0,
            Unit::Number => 0.01,
        }
    }
}

/// A metric's name (as in JSON and CSV) and meaning.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    /// Column name: snake case, unit suffix `_s` for seconds, `_share` for shares in [0, 1].
    pub name: &'static str,
    /// What it measures.
    pub meaning: &'static str,
    /// Which direction is an improvement.
    pub better: Better,
    /// What the number is.
    pub unit: Unit,
    /// The absolute floor for `compare` (see [`Unit::floor`]); `--floor` overrides it.
    pub floor: f64,
}

/// The unit follows the naming convention; the few names without a suffix are listed.
const fn unit_of(name: &str) -> Unit {
    if ends_with(name, "_s") {
        Unit::Seconds
    } else if ends_with(name, "_share") || starts_with(name, "agent_occupancy_m") {
        Unit::Share
    } else if starts_with(name, "contacts_")
        || starts_with(name, "conversations_")
        || ends_with(name, "_contacts")
        || ends_with(name, "_fired")
        || ends_with(name, "_max")
    {
        Unit::Count
    } else {
        Unit::Number
    }
}

const fn info(name: &'static str, meaning: &'static str) -> MetricInfo {
    let better =
        if starts_with(name, "sl_") || starts_with(name, "affinity") || starts_with(name, "single_agent") {
            Better::Higher
        } else if starts_with(name, "wait")
            || starts_with(name, "abandon")
            || starts_with(name, "queue")
            || starts_with(name, "personal_queue")
            || starts_with(name, "handoffs")
            || starts_with(name, "unfinished")
            || starts_with(name, "conversations_abandoned")
        {
            Better::Lower
        } else {
            Better::Neither
        };
    let unit = unit_of(name);
    MetricInfo { name, meaning, better, unit, floor: unit.floor() }
}

const fn ends_with(text: &str, suffix: &str) -> bool {
    let (text, suffix) = (text.as_bytes(), suffix.as_bytes());
    if suffix.len() > text.len() {
        return false;
    }
    let offset = text.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if text[offset + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn starts_with(text: &str, prefix: &str) -> bool {
    let (text, prefix) = (text.as_bytes(), prefix.as_bytes());
    if prefix.len() > text.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if text[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Every metric, in [`Metric`] order.
pub const METRICS: &[MetricInfo] = &[
    info("wait_first_mean_s", "mean wait of picked-up first contacts"),
    info("wait_first_p50_s", "median wait of picked-up first contacts"),
    info("wait_first_p90_s", "90th percentile wait of picked-up first contacts"),
    info("wait_first_p95_s", "95th percentile wait of picked-up first contacts"),
    info("wait_first_p99_s", "99th percentile wait of picked-up first contacts"),
    info("wait_first_max_s", "longest wait of a picked-up first contact"),
    info("waited_first_share", "first contacts not picked up at once (abandoned count as waited)"),
    info("sl_first_share", "first contacts picked up within the threshold (abandoned are misses)"),
    info("wait_resumed_mean_s", "mean wait of picked-up resumed contacts"),
    info("wait_resumed_p50_s", "median wait of picked-up resumed contacts"),
    info("wait_resumed_p90_s", "90th percentile wait of picked-up resumed contacts"),
    info("wait_resumed_p95_s", "95th percentile wait of picked-up resumed contacts"),
    info("wait_resumed_p99_s", "99th percentile wait of picked-up resumed contacts"),
    info("wait_resumed_max_s", "longest wait of a picked-up resumed contact"),
    info("waited_resumed_share", "resumed contacts not picked up at once (abandoned count as waited)"),
    info("sl_resumed_share", "resumed contacts picked up within the threshold"),
    info("abandon_first_share", "first contacts abandoned / picked up or abandoned"),
    info("abandon_resumed_share", "resumed contacts abandoned / picked up or abandoned"),
    info(
        "queue_time_first_all_mean_s",
        "mean time in queue of first contacts, abandoned included (Erlang A's Lq/λ)",
    ),
    info("affinity_retention_share", "resumed contacts picked up by their owner"),
    info(
        "handoffs_per_conversation",
        "resumed contacts picked up by another agent, per resolved conversation",
    ),
    info("single_agent_conversation_share", "resolved conversations handled end to end by one agent"),
    info("occupancy_share", "busy slot-time / on-shift slot-time"),
    info("utilization_share", "on-shift time with at least one contact / on-shift time"),
    info("agent_occupancy_min", "lowest occupancy of one agent"),
    info("agent_occupancy_max", "highest occupancy of one agent"),
    info("agent_occupancy_cv", "coefficient of variation of occupancy across agents"),
    info("conversations_resolved", "conversations whose last exchange ended in the window"),
    info("conversations_abandoned", "conversations ended by an abandonment in the window"),
    info(
        "conversation_duration_mean_s",
        "arrival to resolution, conversations arrived and resolved in the window",
    ),
    info("contacts_first", "first contacts that became ready in the window"),
    info("contacts_resumed", "resumed contacts that became ready in the window"),
    info("unfinished_contacts", "contacts ready in the window still waiting at the horizon"),
    info("fallbacks_fired", "contacts whose hybrid timeout fired while waiting for the owner"),
    info(
        "owner_offline_reroutes",
        "resumed contacts sent to the pool at once because the owner was off shift",
    ),
    info("queue_length_mean", "time-average number of waiting contacts, all queues"),
    info("queue_length_max", "most contacts waiting at once, all queues"),
    info("personal_queue_length_mean", "time-average number of contacts waiting in personal queues"),
    info("personal_queue_length_max", "longest personal queue of one agent"),
];

/// The index in [`METRICS`] of the metric named `name`.
pub fn index_of(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_matches_the_enum() {
        assert_eq!(METRICS.len(), Metric::PersonalQueueLengthMax as usize + 1);
        assert_eq!(METRICS[Metric::WaitResumedMean as usize].name, "wait_resumed_mean_s");
        assert_eq!(METRICS[Metric::QueueLengthMax as usize].name, "queue_length_max");
        assert_eq!(METRICS[Metric::FallbacksFired as usize].name, "fallbacks_fired");
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
    }

    #[test]
    fn directions_follow_the_names() {
        let better = |name| METRICS[index_of(name).unwrap()].better;
        assert_eq!(better("wait_first_p90_s"), Better::Lower);
        assert_eq!(better("waited_resumed_share"), Better::Lower);
        assert_eq!(better("sl_first_share"), Better::Higher);
        assert_eq!(better("affinity_retention_share"), Better::Higher);
        assert_eq!(better("occupancy_share"), Better::Neither);
        assert_eq!(better("contacts_first"), Better::Neither);
    }

    #[test]
    fn units_and_floors_follow_the_names() {
        let unit = |name| METRICS[index_of(name).unwrap()].unit;
        assert_eq!(unit("wait_first_mean_s"), Unit::Seconds);
        assert_eq!(unit("conversation_duration_mean_s"), Unit::Seconds);
        assert_eq!(unit("sl_resumed_share"), Unit::Share);
        assert_eq!(unit("agent_occupancy_max"), Unit::Share);
        assert_eq!(unit("agent_occupancy_cv"), Unit::Number);
        assert_eq!(unit("queue_length_max"), Unit::Count);
        assert_eq!(unit("unfinished_contacts"), Unit::Count);
        assert_eq!(unit("fallbacks_fired"), Unit::Count);
        assert_eq!(unit("queue_length_mean"), Unit::Number);
        assert_eq!(unit("handoffs_per_conversation"), Unit::Number);
        let floor = |name| METRICS[index_of(name).unwrap()].floor;
        assert_eq!(floor("wait_resumed_mean_s"), 1.0);
        assert_eq!(floor("abandon_first_share"), 0.005);
        assert!(METRICS.iter().all(|m| m.floor > 0.0 && m.floor.is_finite()));
    }
}
