//! `hybrid`: a resumed contact is offered to its owner first, then to anyone after a timeout.

use std::sync::Arc;

use super::sticky::{affinity_label, outside_window};
use super::{CenterView, OwnerOffline, Policy, PolicyEntry, PolicyParams, ResumedContact, Route};
use crate::duration::format_duration;
use crate::error::FieldError;

/// Owner first; if the owner has not picked the contact up within `timeout` of its ready
/// time, any agent may take it, and whoever does becomes the owner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hybrid {
    /// Seconds from ready time after which any agent may take the contact.
    pub timeout: f64,
    /// Affinity holds only if the customer writes within this time of the last reply.
    pub affinity_window: Option<f64>,
    /// What to do when the owner is off shift at ready time (default: fall back at once).
    pub owner_offline: OwnerOffline,
}

pub(super) const ENTRY: PolicyEntry = PolicyEntry {
    kind: "hybrid",
    summary: "owner first, anyone after `timeout` (options: affinity_window, owner_offline)",
    build,
};

fn build(params: &mut PolicyParams<'_>) -> Result<Arc<dyn Policy>, FieldError> {
    let timeout = params.duration("timeout")?.ok_or_else(|| {
        FieldError::new(params.path("timeout"), "missing: hybrid needs a timeout like \"10m\"")
    })?;
    let affinity_window = params.duration("affinity_window")?;
    let owner_offline = params
        .choice("owner_offline", &OwnerOffline::NAMES)?
        .map_or(OwnerOffline::Fallback, |i| OwnerOffline::ALL[i]);
    Ok(Arc::new(Hybrid { timeout, affinity_window, owner_offline }))
}

impl Policy for Hybrid {
    fn label(&self) -> String {
        let parts = vec![format!("timeout={}", format_duration(self.timeout))];
        let parts = affinity_label(parts, self.affinity_window, self.owner_offline, OwnerOffline::Fallback);
        format!("hybrid({})", parts.join(","))
    }

    fn route(&self, contact: &ResumedContact, center: &dyn CenterView) -> Route<'_> {
        if outside_window(self.affinity_window, contact) {
            return Route::AsFirstContact;
        }
        if self.owner_offline == OwnerOffline::Fallback && !center.is_on_shift(contact.owner) {
            return Route::PoolOwnerOffline;
        }
        Route::Agent { agent: contact.owner, fall_back_after: Some(self.timeout) }
    }
}
