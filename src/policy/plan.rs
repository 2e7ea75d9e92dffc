//! Step plans: who may take a contact, widening as it waits (owner, then the owner's team, then
//! anyone). A plan is checked once when it is built, so the engine follows it without checks.

use crate::duration::format_duration;

/// Who may take a contact during one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// The conversation's owner only; the contact waits in the owner's personal queue.
    Owner,
    /// On-shift agents of the owner's pool skilled for the channel (the owner first); the
    /// contact waits in the team queue of (that pool, the channel).
    Team,
    /// Every on-shift agent skilled for the channel (the owner first); the contact waits in the
    /// channel's queue.
    Anyone,
}

impl Reach {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 3] = ["owner", "team", "anyone"];
    /// Every reach, narrowest first.
    pub const ALL: [Reach; 3] = [Self::Owner, Self::Team, Self::Anyone];

    /// The name as written in TOML.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// One step of a plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Who may take the contact during this step.
    pub to: Reach,
    /// Seconds from the contact's ready (send) time at which this step ends and the next
    /// begins; `None` on the last step, which lasts until the contact is picked up or abandons.
    pub until: Option<f64>,
}

/// Why a list of steps is not a plan; `index` is the step at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// No step at all.
    #[error("expected at least one step, like [{{ to = \"owner\", for = \"2m\" }}, {{ to = \"anyone\" }}]")]
    Empty,
    /// A step does not widen the one before.
    #[error("step {index} (\"{to}\") does not widen the step before (\"{previous}\"): steps go owner, team, anyone, each at most once")]
    NotWider {
        /// The step.
        index: usize,
        /// Its reach.
        to: &'static str,
        /// The previous step's reach.
        previous: &'static str,
    },
    /// A step other than the last has no time.
    #[error("step {index} needs a time (`for`): only the last step lasts until pickup")]
    MissingTime {
        /// The step.
        index: usize,
    },
    /// The last step has a time.
    #[error("the last step has no time: it lasts until the contact is picked up or abandons")]
    LastHasTime,
    /// A step's time is not after the previous step's (times count from the ready time).
    #[error("step {index} ends at {got}, not after the step before ({previous}): times count from the ready time, so they must increase (only the first step may be 0)")]
    NotIncreasing {
        /// The step.
        index: usize,
        /// Its time, formatted.
        got: String,
        /// The previous step's time, formatted.
        previous: String,
    },
    /// A time that is negative or not finite.
    #[error("step {index}: expected a time from 0 to 100 years")]
    BadTime {
        /// The step.
        index: usize,
    },
}

/// A checked list of steps: each widens the one before (owner, team, anyone, each at most
/// once); every step but the last ends at a time after the previous one's (the first may end at
/// 0: offered only to those free at once); the last has no time.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPlan {
    steps: Vec<Step>,
}

impl StepPlan {
    /// Checks `steps` and makes them a plan.
    pub fn new(steps: Vec<Step>) -> Result<Self, PlanError> {
        let last = steps.len().checked_sub(1).ok_or(PlanError::Empty)?;
        for (index, step) in steps.iter().enumerate() {
            if let Some(previous) = index.checked_sub(1).map(|i| steps[i]) {
                if step.to <= previous.to {
                    let (to, previous) = (step.to.name(), previous.to.name());
                    return Err(PlanError::NotWider { index, to, previous });
                }
            }
            match step.until {
                None if index < last => return Err(PlanError::MissingTime { index }),
                Some(_) if index == last => return Err(PlanError::LastHasTime),
                Some(t) if !(0.0..=crate::duration::MAX_DURATION_S).contains(&t) => {
                    return Err(PlanError::BadTime { index })
                }
                _ => {}
            }
            let previous_until = index.checked_sub(1).and_then(|i| steps[i].until);
            if let (Some(t), Some(p)) = (step.until, previous_until) {
                if t <= p {
                    let (got, previous) = (format_duration(t), format_duration(p));
                    return Err(PlanError::NotIncreasing { index, got, previous });
                }
            }
        }
        Ok(Self { steps })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The index of the first step that is not [`Reach::Owner`], if any.
    pub fn first_beyond_owner(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.to != Reach::Owner)
    }

    /// Whether some step reaches the owner's team.
    pub fn reaches_team(&self) -> bool {
        self.steps.iter().any(|s| s.to == Reach::Team)
    }

    /// `owner 2m, team 5m, anyone`.
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s.until {
                Some(t) => format!("{} {}", s.to.name(), format_duration(t)),
                None => s.to.name().to_string(),
            })
            .collect();
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(to: Reach, until: Option<f64>) -> Step {
        Step { to, until }
    }

    #[test]
    fn plans_must_widen_with_increasing_times_and_an_open_last_step() {
        use Reach::*;
        let ok = StepPlan::new(vec![step(Owner, Some(120.0)), step(Team, Some(300.0)), step(Anyone, None)]);
        assert_eq!(ok.unwrap().label(), "owner 2m team 5m anyone");
        assert!(StepPlan::new(vec![step(Owner, Some(0.0)), step(Anyone, None)]).is_ok());
        assert_eq!(StepPlan::new(vec![]), Err(PlanError::Empty));
        assert!(matches!(
            StepPlan::new(vec![step(Team, Some(1.0)), step(Owner, None)]),
            Err(PlanError::NotWider { index: 1, .. })
        ));
        assert!(matches!(
            StepPlan::new(vec![step(Owner, None), step(Anyone, None)]),
            Err(PlanError::MissingTime { index: 0 })
        ));
        assert_eq!(StepPlan::new(vec![step(Anyone, Some(5.0))]), Err(PlanError::LastHasTime));
        assert!(matches!(
            StepPlan::new(vec![step(Owner, Some(60.0)), step(Team, Some(60.0)), step(Anyone, None)]),
            Err(PlanError::NotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            StepPlan::new(vec![step(Owner, Some(-1.0)), step(Anyone, None)]),
            Err(PlanError::BadTime { index: 0 })
        ));
    }
}
