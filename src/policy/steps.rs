//! `steps`: a resumed contact is offered to a set of agents that widens as it waits (owner,
//! then the owner's team, then anyone), as Genesys bullseye rings, Twilio workflow steps and
//! Amazon Connect routing steps do. The engine follows the plan; this file reads it from TOML.

use std::sync::Arc;

use super::params::{duration_value, quoted};
use super::plan::{PlanError, Reach, Step, StepPlan};
use super::sticky::{affinity_label, outside_window};
use super::{CenterView, OwnerOffline, Policy, PolicyEntry, PolicyParams, ResumedContact, Route};
use crate::error::FieldError;
use crate::suggest::suggest;

/// Routing in widening steps. First contacts have no owner and are routed as first contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct Steps {
    /// The steps.
    pub plan: StepPlan,
    /// Affinity holds only if the customer writes within this time of the last reply.
    pub affinity_window: Option<f64>,
    /// When the owner is off shift at ready time: skip the owner steps (the default, as
    /// hybrid) or wait for the owner as the plan says.
    pub owner_offline: OwnerOffline,
}

pub(super) const ENTRY: PolicyEntry = PolicyEntry {
    kind: "steps",
    summary: "widening steps: owner, then team, then anyone, each `for` a time from ready \
              (options: affinity_window, owner_offline)",
    build,
};

const EXAMPLE: &str =
    "[{ to = \"owner\", for = \"2m\" }, { to = \"team\", for = \"5m\" }, { to = \"anyone\" }]";

fn build(params: &mut PolicyParams<'_>) -> Result<Arc<dyn Policy>, FieldError> {
    let path = params.path("steps");
    let value = params
        .value("steps")
        .ok_or_else(|| FieldError::new(&path, format!("missing: steps needs a list like {EXAMPLE}")))?;
    let plan = read_plan(&path, value)?;
    let affinity_window = params.duration("affinity_window")?;
    let owner_offline = params
        .choice("owner_offline", &OwnerOffline::NAMES)?
        .map_or(OwnerOffline::Fallback, |i| OwnerOffline::ALL[i]);
    Ok(Arc::new(Steps { plan, affinity_window, owner_offline }))
}

/// A plan from a TOML list of `{ to, for }` tables, with errors at `path[i].key`.
pub fn read_plan(path: &str, value: &toml::Value) -> Result<StepPlan, FieldError> {
    let list = value.as_array().filter(|list| !list.is_empty()).ok_or_else(|| {
        FieldError::new(path, format!("expected a non-empty list of steps like {EXAMPLE}, got {value}"))
    })?;
    let mut steps = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let table = item.as_table().ok_or_else(|| {
            FieldError::new(
                &at,
                format!("expected a table like {{ to = \"owner\", for = \"2m\" }}, got {item}"),
            )
        })?;
        if let Some(key) = table.keys().find(|k| !["to", "for"].contains(&k.as_str())) {
            let hint =
                suggest(key, &["to", "for"]).map(|c| format!(" did you mean \"{c}\"?")).unwrap_or_default();
            return Err(FieldError::new(
                format!("{at}.{key}"),
                format!("unknown key;{hint} expected \"to\" or \"for\""),
            ));
        }
        let to = read_reach(&format!("{at}.to"), table.get("to"))?;
        let until = table.get("for").map(|v| duration_value(&format!("{at}.for"), v)).transpose()?;
        steps.push(Step { to, until });
    }
    StepPlan::new(steps).map_err(|e| keyed(path, list.len(), e))
}

fn read_reach(path: &str, value: Option<&toml::Value>) -> Result<Reach, FieldError> {
    let names = quoted(&Reach::NAMES);
    let value =
        value.ok_or_else(|| FieldError::new(path, format!("every step needs `to`, one of {names}")))?;
    let text = value
        .as_str()
        .ok_or_else(|| FieldError::new(path, format!("expected one of {names}, got {value}")))?;
    match Reach::NAMES.iter().position(|n| *n == text) {
        Some(i) => Ok(Reach::ALL[i]),
        None => {
            let hint =
                suggest(text, &Reach::NAMES).map(|c| format!(" did you mean \"{c}\"?")).unwrap_or_default();
            Err(FieldError::new(
                path,
                format!("unknown step \"{}\";{hint} expected one of {names}", text.escape_debug()),
            ))
        }
    }
}

/// A plan error at the key it concerns.
fn keyed(path: &str, len: usize, error: PlanError) -> FieldError {
    let key = match &error {
        PlanError::Empty => path.to_string(),
        PlanError::NotWider { index, .. } => format!("{path}[{index}].to"),
        PlanError::MissingTime { index }
        | PlanError::BadTime { index }
        | PlanError::NotIncreasing { index, .. } => {
            format!("{path}[{index}].for")
        }
        PlanError::LastHasTime => format!("{path}[{}].for", len - 1),
    };
    FieldError::new(key, error.to_string())
}

impl Policy for Steps {
    fn label(&self) -> String {
        let parts = vec![self.plan.label()];
        let parts = affinity_label(parts, self.affinity_window, self.owner_offline, OwnerOffline::Fallback);
        format!("steps({})", parts.join(","))
    }

    fn route(&self, contact: &ResumedContact, center: &dyn CenterView) -> Route<'_> {
        if outside_window(self.affinity_window, contact) {
            return Route::AsFirstContact;
        }
        let starts_with_owner = self.plan.steps()[0].to == Reach::Owner;
        let owner_offline = starts_with_owner
            && self.owner_offline == OwnerOffline::Fallback
            && !center.is_on_shift(contact.owner);
        Route::Steps { plan: &self.plan, owner_offline }
    }

    fn uses_teams(&self) -> bool {
        self.plan.reaches_team()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Result<StepPlan, FieldError> {
        let table: toml::Table = toml::from_str(&format!("steps = {text}")).expect("toml");
        read_plan("policy.steps", &table["steps"])
    }

    #[test]
    fn steps_read_from_toml_with_keyed_errors() {
        let ok = plan(EXAMPLE).expect("valid");
        assert_eq!(ok.label(), "owner 2m team 5m anyone");
        let key = |text: &str| plan(text).unwrap_err().key;
        assert_eq!(key("[]"), "policy.steps");
        assert_eq!(key("3"), "policy.steps");
        assert_eq!(key("[1]"), "policy.steps[0]");
        assert_eq!(key("[{ to = \"ownr\", for = \"1m\" }, { to = \"anyone\" }]"), "policy.steps[0].to");
        let error = plan("[{ to = \"ownr\", for = \"1m\" }, { to = \"anyone\" }]").unwrap_err();
        assert!(error.message.contains("did you mean \"owner\""), "{error}");
        assert_eq!(key("[{ to = \"owner\" }, { to = \"anyone\" }]"), "policy.steps[0].for");
        assert_eq!(
            key("[{ to = \"owner\", for = \"1m\" }, { to = \"anyone\", for = \"2m\" }]"),
            "policy.steps[1].for"
        );
        assert_eq!(
            key("[{ to = \"owner\", for = \"2m\" }, { to = \"team\", for = \"1m\" }, { to = \"anyone\" }]"),
            "policy.steps[1].for"
        );
        assert_eq!(
            key("[{ to = \"owner\", for = \"2m\" }, { to = \"team\", for = 0 }, { to = \"anyone\" }]"),
            "policy.steps[1].for"
        );
        assert_eq!(key("[{ to = \"team\", for = \"1m\" }, { to = \"owner\" }]"), "policy.steps[1].to");
        assert_eq!(key("[{ to = \"owner\", for = \"-1m\" }, { to = \"anyone\" }]"), "policy.steps[0].for");
        assert_eq!(key("[{ to = \"owner\", fr = \"1m\" }, { to = \"anyone\" }]"), "policy.steps[0].fr");
    }
}
