//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! Loading is two-phase: the TOML is read into plain tables, then every key is checked and
//! converted with its dotted path at hand, so an error names the file and the key. After this
//! module, nothing downstream sees an invalid value.

pub mod capacity;
mod load;
mod memory;
mod model;
mod overload;
mod set_path;

pub use load::{
    capacity_summaries, load_policy, load_scenario, parse_scenario, preset_families, preset_summaries,
    read_text, scenario_from_table, PresetFamily, DEFAULT_CHANNEL, MAX_FILE_BYTES, MAX_REPLICATIONS, PRESETS,
};
pub(crate) use load::{parse_toml, with_misplaced};
pub use memory::{check_breakdowns, narrowest_interval, MAX_BREAKDOWN_ROWS, MAX_ROW_REPLICATIONS};
pub use model::{
    AgentPool, Arrivals, Channel, ConversationModel, Fold, ReportSpec, Scenario, ServiceLevel, ShiftSchedule,
    Skill, DAY_S, WEEK_S,
};
pub use overload::{compact, LoadEstimate, MAX_EXPECTED_EVENTS, OVERLOAD_FACTOR};
pub use set_path::{load_scenario_with, set_path, Setting, SettingError};
