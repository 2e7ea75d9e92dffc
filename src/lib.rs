//! convosim: a discrete-event simulator for routing resumed conversations in customer-service
//! messaging centers.
//!
//! The flow is one-way: a scenario (TOML) becomes a validated [`Scenario`]; [`run`] simulates
//! one replication of it with a seed, asking a routing [`policy::Policy`] where each resumed
//! contact goes; the [`metrics`] recorder streams what happened into per-replication metrics;
//! [`runner`] runs replications in parallel and [`report`] turns them into tables, JSON and CSV.
//! [`sweep`] does the same over the points of a parameter sweep, in shards if need be.
//!
//! Policy authors need only [`policy`]: the [`Policy`] trait, the [`CenterView`] it reads,
//! the [`Route`] it answers (with [`StepPlan`]s for widening steps), and [`PolicySpec`] to put
//! it in a scenario (re-exported here); `examples/owner_or_teammate.rs` is a complete one.
//!
//! # One replication
//!
//! ```
//! use std::path::Path;
//! use convosim::scenario::parse_scenario;
//!
//! let scenario = parse_scenario(r#"
//!     name = "doc"
//!     horizon = "2d"
//!     warmup = "4h"
//!     [arrivals]
//!     rate_per_hour = 60
//!     [conversation]
//!     exchanges = { dist = "fixed", value = 1 }
//!     handle_time = { dist = "exponential", mean = "5m" }
//!     [[agents]]
//!     name = "team"
//!     count = 6
//!     [policy]
//!     kind = "next_available"
//! "#, Path::new("doc.toml")).expect("a valid scenario");
//!
//! // A pure function of the scenario and the seed.
//! let output = convosim::run(&scenario, 7).expect("the run finishes");
//! assert_eq!(output.metrics.values, convosim::run(&scenario, 7).unwrap().metrics.values);
//! let occupancy = output.metrics.get("occupancy_share").unwrap();
//! assert!((occupancy - 5.0 / 6.0).abs() < 0.05); // 60/h × 5 min on 6 agents
//!
//! // Conservation: every contact that became ready was picked up, abandoned or is still waiting.
//! let audit = output.audit;
//! assert_eq!(audit.ready, audit.picked + audit.abandoned + audit.waiting_at_horizon);
//! ```
//!
//! # Replications and a policy preset
//!
//! ```
//! use std::path::Path;
//! use convosim::runner::{run_replications, summarize_metrics};
//! use convosim::scenario::{load_policy, parse_scenario};
//!
//! let text = include_str!("../scenarios/reference.toml");
//! let mut scenario = parse_scenario(text, Path::new("scenarios/reference.toml")).unwrap();
//! scenario.horizon = 2.0 * 86_400.0;
//! scenario.policy = load_policy("sticky").unwrap();
//! let replications = run_replications(&scenario, 42, 0, 4).expect("the run finishes");
//! let summary = summarize_metrics(&replications);
//! let (_, retention) = summary.iter().find(|(name, _)| *name == "affinity_retention_share").unwrap();
//! assert_eq!(retention.mean, Some(1.0)); // sticky: every resumed contact reaches its owner
//! ```
#![warn(missing_docs)]
// println! and eprintln! panic when a write fails: print through cli::output instead.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod capacity;
pub mod cli;
pub mod compare;
pub mod dist;
pub mod duration;
pub mod engine;
pub mod error;
pub mod gate;
pub mod html_report;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod staff;
pub mod suggest;
pub mod sweep;
pub mod table;

pub use engine::{run, run_with, RunError, RunOptions, RunOutput};
pub use policy::{
    AgentId, CenterView, NewContact, Policy, PolicySpec, Reach, ResumedContact, Route, Step, StepPlan,
};
pub use scenario::Scenario;
