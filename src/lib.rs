//! convosim: a discrete-event simulator for routing resumed conversations in customer-service
//! messaging centers.
#![warn(missing_docs)]

pub mod dist;
pub mod duration;
pub mod error;
pub mod policy;
pub mod scenario;
pub mod capacity;
pub mod engine;
pub mod metrics;
pub mod rng;

pub use engine::{run, RunOutput};
pub use scenario::Scenario;
pub mod runner;
pub mod report;
pub mod table;
pub mod cli;
pub mod sweep;
pub mod gate;
pub mod compare;
