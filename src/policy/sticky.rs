//! `sticky`: a resumed contact waits for its owner, however long that takes.

use std::sync::Arc;

use super::{CenterView, OwnerOffline, Policy, PolicyEntry, PolicyParams, ResumedContact, Route};
use crate::duration::format_duration;
use crate::error::FieldError;

/// Resumed contacts go only to their owner (within the affinity window, if one is set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sticky {
    /// Stickiness holds only if the customer writes within this time of the last reply.
    pub affinity_window: Option<f64>,
    /// What to do when the owner is off shift at ready time (default: wait).
    pub owner_offline: OwnerOffline,
}

impl Default for Sticky {
    fn default() -> Self {
        Self { affinity_window: None, owner_offline: OwnerOffline::Wait }
    }
}

pub(super) const ENTRY: PolicyEntry = PolicyEntry {
    kind: "sticky",
    summary: "resumed contacts wait for their owner (options: affinity_window, owner_offline)",
    build,
};

fn build(params: &mut PolicyParams<'_>) -> Result<Arc<dyn Policy>, FieldError> {
    let affinity_window = params.duration("affinity_window")?;
    let owner_offline = params
        .choice("owner_offline", &OwnerOffline::NAMES)?
        .map_or(OwnerOffline::Wait, |i| OwnerOffline::ALL[i]);
    Ok(Arc::new(Sticky { affinity_window, owner_offline }))
}

/// Whether the contact came back too late for affinity to hold.
pub(super) fn outside_window(window: Option<f64>, contact: &ResumedContact) -> bool {
    window.is_some_and(|w| contact.ready_at - contact.last_reply_at > w)
}

/// `name(k=v,...)` with the options that differ from `default_offline`.
pub(super) fn affinity_label(
    mut parts: Vec<String>,
    window: Option<f64>,
    owner_offline: OwnerOffline,
    default_offline: OwnerOffline,
) -> Vec<String> {
    if let Some(w) = window {
        parts.push(format!("affinity_window={}", format_duration(w)));
    }
    if owner_offline != default_offline {
        parts.push(format!("owner_offline={}", OwnerOffline::NAMES[owner_offline as usize]));
    }
    parts
}

impl Policy for Sticky {
    fn label(&self) -> String {
        let parts = affinity_label(Vec::new(), self.affinity_window, self.owner_offline, OwnerOffline::Wait);
        if parts.is_empty() {
            "sticky".to_string()
        } else {
            format!("sticky({})", parts.join(","))
        }
    }

    fn route(&self, contact: &ResumedContact, center: &dyn CenterView) -> Route<'_> {
        if outside_window(self.affinity_window, contact) {
            return Route::AsFirstContact;
        }
        if self.owner_offline == OwnerOffline::Fallback && !center.is_on_shift(contact.owner) {
            return Route::PoolOwnerOffline;
        }
        Route::Agent { agent: contact.owner, fall_back_after: None }
    }
}
