//! `next_available`: every contact goes to whoever is free now; owners are ignored.

use std::sync::Arc;

use super::{CenterView, Policy, PolicyEntry, PolicyParams, ResumedContact, Route};
use crate::error::FieldError;

/// Resumed contacts go to the pool like first contacts: shortest waits, affinity by chance.
#[derive(Debug, Clone, Copy, Default)]
pub struct NextAvailable;

pub(super) const ENTRY: PolicyEntry = PolicyEntry {
    kind: "next_available",
    summary: "every contact to the best free agent, else one global FIFO queue",
    build,
};

fn build(_params: &mut PolicyParams<'_>) -> Result<Arc<dyn Policy>, FieldError> {
    Ok(Arc::new(NextAvailable))
}

impl Policy for NextAvailable {
    fn label(&self) -> String {
        "next_available".to_string()
    }

    fn route(&self, _contact: &ResumedContact, _center: &dyn CenterView) -> Route<'_> {
        Route::Pool
    }

    fn pooled(&self) -> bool {
        true
    }
}
