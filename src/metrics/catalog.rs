//! The list of metrics, declared once, in report order: each with its name, unit, the direction
//! that is an improvement, the scopes it is reported at, and a one-line meaning. Its unit gives
//! the smallest change that can count as a regression. Nothing is guessed from a name.

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

/// Where a metric is measured: over the whole run, or broken down by interval of the day or
/// week, by pool, or by channel. A metric lists every scope it is reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// The whole statistics window of a replication.
    Run,
    /// One interval of the day or week (contacts by ready time, time averages split exactly).
    Interval,
    /// One agent pool.
    Pool,
    /// One channel.
    Channel,
    /// One interval of one channel: the metrics reported both by interval and by channel (the
    /// per-contact ones), derived from those two scopes rather than declared a third time.
    ChannelInterval,
}

/// What a metric's number is, for showing it and for its absolute floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds (names end in `_s`).
    Seconds,
    /// A share in [0, 1] (names end in `_share`, and one agent's occupancy).
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

/// A metric's declaration.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    /// Column name: snake case, unit suffix `_s` for seconds, `_share` for shares in [0, 1].
    pub name: &'static str,
    /// What it measures.
    pub meaning: &'static str,
    /// Which direction is an improvement.
    pub better: Better,
    /// Where it is reported: every metric of [`METRICS`] has [`Scope::Run`]; those of
    /// [`BREAKDOWN_METRICS`] only breakdown scopes.
    pub scopes: &'static [Scope],
    /// What the number is.
    pub unit: Unit,
    /// The absolute floor for `compare` (see [`Unit::floor`]); `--floor` overrides it.
    pub floor: f64,
}

/// Declares [`Metric`] and [`METRICS`] from one table, so a metric's variant, name, unit,
/// direction, scopes and meaning are written once, side by side.
macro_rules! catalog {
    ($(#[$doc:meta])* $enum:ident $list:ident;
     $($variant:ident $name:literal $unit:ident $better:ident [$($scope:ident),+] $meaning:literal;)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)] // each is documented in its list
        pub enum $enum { $($variant,)* }

        /// The metrics of this table, in enum order (the report and column order).
        pub const $list: &[MetricInfo] = &[$(MetricInfo {
            name: $name,
            meaning: $meaning,
            better: Better::$better,
            scopes: &[$(Scope::$scope),+],
            unit: Unit::$unit,
            floor: Unit::$unit.floor(),
        },)*];
    };
}

catalog! {
    /// Every whole-run metric of a replication. The discriminant is the index into [`METRICS`].
    Metric METRICS;
    // variant                  name                           unit    better  scopes meaning
    WaitFirstMean                "wait_first_mean_s"               Seconds Lower   [Run, Interval, Channel]
        "mean wait of picked-up first contacts";
    WaitFirstP50                 "wait_first_p50_s"                Seconds Lower   [Run, Channel]
        "median wait of picked-up first contacts";
    WaitFirstP90                 "wait_first_p90_s"                Seconds Lower   [Run, Channel]
        "90th percentile wait of picked-up first contacts";
    WaitFirstP95                 "wait_first_p95_s"                Seconds Lower   [Run, Channel]
        "95th percentile wait of picked-up first contacts";
    WaitFirstP99                 "wait_first_p99_s"                Seconds Lower   [Run, Channel]
        "99th percentile wait of picked-up first contacts";
    WaitFirstMax                 "wait_first_max_s"                Seconds Lower   [Run, Channel]
        "longest wait of a picked-up first contact";
    WaitedFirstShare             "waited_first_share"              Share   Lower   [Run, Interval, Channel]
        "first contacts not picked up at once (abandoned count as waited)";
    SlFirstShare                 "sl_first_share"                  Share   Higher  [Run, Interval, Channel]
        "first contacts picked up within the threshold (abandoned are misses)";
    WaitResumedMean              "wait_resumed_mean_s"             Seconds Lower   [Run, Interval, Channel]
        "mean wait of picked-up resumed contacts";
    WaitResumedP50               "wait_resumed_p50_s"              Seconds Lower   [Run, Channel]
        "median wait of picked-up resumed contacts";
    WaitResumedP90               "wait_resumed_p90_s"              Seconds Lower   [Run, Channel]
        "90th percentile wait of picked-up resumed contacts";
    WaitResumedP95               "wait_resumed_p95_s"              Seconds Lower   [Run, Channel]
        "95th percentile wait of picked-up resumed contacts";
    WaitResumedP99               "wait_resumed_p99_s"              Seconds Lower   [Run, Channel]
        "99th percentile wait of picked-up resumed contacts";
    WaitResumedMax               "wait_resumed_max_s"              Seconds Lower   [Run, Channel]
        "longest wait of a picked-up resumed contact";
    WaitedResumedShare           "waited_resumed_share"            Share   Lower   [Run, Interval, Channel]
        "resumed contacts not picked up at once (abandoned count as waited)";
    SlResumedShare               "sl_resumed_share"                Share   Higher  [Run, Interval, Channel]
        "resumed contacts picked up within the threshold";
    AbandonFirstShare            "abandon_first_share"             Share   Lower   [Run, Interval, Channel]
        "first contacts abandoned / picked up or abandoned";
    AbandonResumedShare          "abandon_resumed_share"           Share   Lower   [Run, Interval, Channel]
        "resumed contacts abandoned / picked up or abandoned";
    QueueTimeFirstAllMean        "queue_time_first_all_mean_s"     Seconds Lower   [Run, Channel]
        "mean time in queue of first contacts, abandoned included (Erlang A's Lq/λ)";
    ResponseFirstMean            "response_first_mean_s"           Seconds Lower   [Run, Interval, Channel]
        "first contacts: send to the agent's reply (wait + remaining handle time)";
    ResponseFirstP90             "response_first_p90_s"            Seconds Lower   [Run]
        "90th percentile of the first contacts' response time";
    ResponseResumedMean          "response_resumed_mean_s"         Seconds Lower   [Run, Interval, Channel]
        "resumed contacts: send to the agent's reply (wait + remaining handle time)";
    ResponseResumedP90           "response_resumed_p90_s"          Seconds Lower   [Run]
        "90th percentile of the resumed contacts' response time";
    TimeToHumanMean              "time_to_human_mean_s"            Seconds Lower   [Run]
        "arrival (meeting the bot, or starting to type) to the first human pickup";
    BotContainedShare            "bot_contained_share"             Share   Neither [Run]
        "new conversations the bot resolved, by arrival (undefined without a bot)";
    BotTimeMean                  "bot_time_mean_s"                 Seconds Neither [Run]
        "mean bot time of new conversations, by arrival (undefined without a bot)";
    AffinityRetentionShare       "affinity_retention_share"        Share   Higher  [Run, Interval, Pool, Channel]
        "resumed contacts picked up by their owner";
    HandoffsPerConversation      "handoffs_per_conversation"       Number  Lower   [Run]
        "resumed contacts picked up by another agent, per resolved conversation";
    SingleAgentConversationShare "single_agent_conversation_share" Share   Higher  [Run]
        "resolved conversations handled end to end by one agent";
    OccupancyShare               "occupancy_share"                 Share   Neither [Run, Interval, Pool]
        "busy slot-time / on-shift slot-time";
    UtilizationShare             "utilization_share"               Share   Neither [Run, Pool]
        "on-shift time with at least one contact / on-shift time";
    OccupancyHandlingShare       "occupancy_handling_share"        Share   Neither [Run]
        "capacity in handling (contacts × their channel's weight) / on-shift capacity";
    OccupancyHeldShare           "occupancy_held_share"            Share   Neither [Run]
        "capacity held by conversations between contacts ([capacity] hold) / on-shift capacity";
    ReactivationsOverCapacity    "reactivations_over_capacity"     Count   Lower   [Run]
        "held conversations' contacts taken by their holder past its capacity";
    ClosedByInactivityShare      "closed_by_inactivity_share"      Share   Neither [Run]
        "conversations ended in the window that closed for inactivity ([capacity] close_after)";
    AgentOccupancyMin            "agent_occupancy_min"             Share   Neither [Run]
        "lowest occupancy of one agent";
    AgentOccupancyMax            "agent_occupancy_max"             Share   Neither [Run]
        "highest occupancy of one agent";
    AgentOccupancyCv             "agent_occupancy_cv"              Number  Neither [Run]
        "coefficient of variation of occupancy across agents";
    ConversationsResolved        "conversations_resolved"          Count   Neither [Run]
        "conversations whose last exchange ended in the window";
    ConversationsAbandoned       "conversations_abandoned"         Count   Lower   [Run, Interval, Channel]
        "conversations ended by an abandonment in the window";
    ConversationDurationMean     "conversation_duration_mean_s"    Seconds Neither [Run]
        "arrival to resolution, conversations arrived and resolved in the window";
    ContactsFirst                "contacts_first"                  Count   Neither [Run, Interval, Channel]
        "first contacts that became ready in the window";
    ContactsResumed              "contacts_resumed"                Count   Neither [Run, Interval, Channel]
        "resumed contacts that became ready in the window";
    UnfinishedContacts           "unfinished_contacts"             Count   Lower   [Run, Interval, Channel]
        "contacts ready in the window still waiting at the horizon";
    FallbacksFired               "fallbacks_fired"                 Count   Neither [Run]
        "contacts whose hybrid timeout fired while waiting for the owner";
    OwnerOfflineReroutes         "owner_offline_reroutes"          Count   Neither [Run]
        "resumed contacts sent to the pool at once because the owner was off shift";
    QueueLengthMean              "queue_length_mean"               Number  Lower   [Run, Interval]
        "time-average number of waiting contacts, all queues (preview: from typing start)";
    QueueLengthMax               "queue_length_max"                Count   Lower   [Run]
        "most contacts waiting at once, all queues";
    PersonalQueueLengthMean      "personal_queue_length_mean"      Number  Lower   [Run]
        "time-average number of contacts waiting in personal queues";
    PersonalQueueLengthMax       "personal_queue_length_max"       Count   Lower   [Run]
        "longest personal queue of one agent";
}

catalog! {
    /// Metrics reported only in breakdowns (never a whole-run column, so the whole-run files
    /// keep their bytes). The discriminant is the index into [`BREAKDOWN_METRICS`].
    BreakdownMetric BREAKDOWN_METRICS;
    AgentsOnShiftMean            "agents_on_shift_mean"            Number  Neither [Interval, Pool]
        "time-average number of agents on shift";
    ContactsHandled              "contacts_handled"                Count   Neither [Pool]
        "contacts ready in the window picked up by the pool's agents";
}

/// A metric of either list: a whole-run metric or a breakdown-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyMetric {
    /// A whole-run metric (it may have breakdown scopes too).
    Run(Metric),
    /// A breakdown-only metric.
    Breakdown(BreakdownMetric),
}

impl AnyMetric {
    /// The metric's declaration.
    pub fn info(self) -> &'static MetricInfo {
        match self {
            AnyMetric::Run(m) => &METRICS[m as usize],
            AnyMetric::Breakdown(m) => &BREAKDOWN_METRICS[m as usize],
        }
    }
}

/// The metrics reported at `scope`, in column order: whole-run metrics in catalog order, then
/// breakdown-only ones.
pub fn scope_metrics(scope: Scope) -> Vec<&'static MetricInfo> {
    let reported = |m: &&MetricInfo| match scope {
        Scope::ChannelInterval => m.scopes.contains(&Scope::Interval) && m.scopes.contains(&Scope::Channel),
        _ => m.scopes.contains(&scope),
    };
    METRICS.iter().chain(BREAKDOWN_METRICS).filter(reported).collect()
}

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

    /// Each metric's direction, unit and scopes, as declared: the test fails when a declaration
    /// changes without this list changing with it, so a direction is never changed by accident.
    /// The directions are the ones `compare` used before they were declared (then guessed from
    /// name prefixes), so no comparison changed with the declaration.
    #[test]
    fn every_metric_declares_a_direction_and_a_scope() {
        use Better::{Higher as H, Lower as L, Neither as N};
        let expected: [(&str, Better); 50] = [
            ("wait_first_mean_s", L),
            ("wait_first_p50_s", L),
            ("wait_first_p90_s", L),
            ("wait_first_p95_s", L),
            ("wait_first_p99_s", L),
            ("wait_first_max_s", L),
            ("waited_first_share", L),
            ("sl_first_share", H),
            ("wait_resumed_mean_s", L),
            ("wait_resumed_p50_s", L),
            ("wait_resumed_p90_s", L),
            ("wait_resumed_p95_s", L),
            ("wait_resumed_p99_s", L),
            ("wait_resumed_max_s", L),
            ("waited_resumed_share", L),
            ("sl_resumed_share", H),
            ("abandon_first_share", L),
            ("abandon_resumed_share", L),
            ("queue_time_first_all_mean_s", L),
            ("response_first_mean_s", L),
            ("response_first_p90_s", L),
            ("response_resumed_mean_s", L),
            ("response_resumed_p90_s", L),
            ("time_to_human_mean_s", L),
            ("bot_contained_share", N),
            ("bot_time_mean_s", N),
            ("affinity_retention_share", H),
            ("handoffs_per_conversation", L),
            ("single_agent_conversation_share", H),
            ("occupancy_share", N),
            ("utilization_share", N),
            ("occupancy_handling_share", N),
            ("occupancy_held_share", N),
            ("reactivations_over_capacity", L),
            ("closed_by_inactivity_share", N),
            ("agent_occupancy_min", N),
            ("agent_occupancy_max", N),
            ("agent_occupancy_cv", N),
            ("conversations_resolved", N),
            ("conversations_abandoned", L),
            ("conversation_duration_mean_s", N),
            ("contacts_first", N),
            ("contacts_resumed", N),
            ("unfinished_contacts", L),
            ("fallbacks_fired", N),
            ("owner_offline_reroutes", N),
            ("queue_length_mean", L),
            ("queue_length_max", L),
            ("personal_queue_length_mean", L),
            ("personal_queue_length_max", L),
        ];
        let declared: Vec<(&str, Better)> = METRICS.iter().map(|m| (m.name, m.better)).collect();
        assert_eq!(declared, expected);
        for m in METRICS {
            // Every metric of this list is a whole-run metric; breakdowns add scopes.
            assert_eq!(m.scopes.first(), Some(&Scope::Run), "{}", m.name);
            assert!(m.scopes.windows(2).all(|w| w[0] < w[1]), "{}: scopes sorted, no repeats", m.name);
            assert!(!m.meaning.is_empty(), "{}", m.name);
        }
    }

    #[test]
    fn breakdown_scopes_hold_what_the_model_asks() {
        let names = |scope| scope_metrics(scope).iter().map(|m| m.name).collect::<Vec<_>>();
        let interval = names(Scope::Interval);
        for name in [
            "contacts_first",
            "contacts_resumed",
            "waited_first_share",
            "waited_resumed_share",
            "wait_first_mean_s",
            "wait_resumed_mean_s",
            "sl_first_share",
            "sl_resumed_share",
            "abandon_first_share",
            "abandon_resumed_share",
            "affinity_retention_share",
            "occupancy_share",
            "agents_on_shift_mean",
            "queue_length_mean",
        ] {
            assert!(interval.contains(&name), "{name}");
        }
        let pool = names(Scope::Pool);
        for name in ["occupancy_share", "utilization_share", "contacts_handled", "affinity_retention_share"] {
            assert!(pool.contains(&name), "{name}");
        }
        let channel_interval = names(Scope::ChannelInterval);
        for name in ["contacts_first", "wait_resumed_mean_s", "sl_first_share", "affinity_retention_share"] {
            assert!(channel_interval.contains(&name), "{name}");
        }
        // Time averages over agents or the shared queue have no channel.
        for name in ["occupancy_share", "agents_on_shift_mean", "queue_length_mean"] {
            assert!(!channel_interval.contains(&name), "{name}");
        }
        assert!(
            METRICS.iter().all(|m| !m.scopes.contains(&Scope::ChannelInterval)),
            "derived, never declared"
        );
        assert!(BREAKDOWN_METRICS.iter().all(|m| !m.scopes.contains(&Scope::Run)));
        assert!(BREAKDOWN_METRICS.iter().all(|m| index_of(m.name).is_none()), "names declared once");
    }

    #[test]
    fn units_and_floors_keep_the_naming_convention() {
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
        // Names and units agree both ways: a unit suffix means that unit.
        for m in METRICS {
            assert_eq!(m.name.ends_with("_s"), m.unit == Unit::Seconds, "{}", m.name);
            if m.name.ends_with("_share") {
                assert_eq!(m.unit, Unit::Share, "{}", m.name);
            }
        }
    }
}
