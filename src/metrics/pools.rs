//! The breakdown by agent pool: occupancy, utilization and agents on shift from each agent's
//! time integrals, contacts handled and affinity retention from pickups by the pool's agents.

use super::catalog::{scope_metrics, AnyMetric, BreakdownMetric, Metric, Scope};

/// Pickups by pool, of contacts ready in the window.
#[derive(Debug, Clone)]
pub(super) struct PoolBreakdown {
    /// Each agent's pool.
    agent_pool: Vec<u32>,
    handled: Vec<u64>,
    resumed: Vec<u64>,
    resumed_by_owner: Vec<u64>,
}

/// One agent's window totals, as the recorder keeps them.
pub(super) struct AgentTotals {
    pub(super) on_shift_s: f64,
    pub(super) busy_slot_s: f64,
    pub(super) non_idle_s: f64,
    pub(super) concurrency: u32,
}

impl PoolBreakdown {
    /// `agent_pool[a]` is agent `a`'s pool index.
    pub(super) fn new(agent_pool: Vec<u32>) -> Self {
        let pools = agent_pool.iter().map(|&p| p as usize + 1).max().unwrap_or(0);
        Self {
            agent_pool,
            handled: vec![0; pools],
            resumed: vec![0; pools],
            resumed_by_owner: vec![0; pools],
        }
    }

    /// `agent` picked up a contact ready in the window.
    #[inline]
    pub(super) fn picked(&mut self, agent: u32, first: bool, by_owner: bool) {
        let Some(&pool) = self.agent_pool.get(agent as usize) else { return };
        let pool = pool as usize;
        self.handled[pool] += 1;
        if !first {
            self.resumed[pool] += 1;
            self.resumed_by_owner[pool] += u64::from(by_owner);
        }
    }

    /// Each pool's values, in [`scope_metrics`]`(Scope::Pool)` order.
    pub(super) fn finish(&self, agents: &[AgentTotals], window: f64) -> Vec<Vec<Option<f64>>> {
        let columns = scope_metrics(Scope::Pool);
        (0..self.handled.len())
            .map(|p| {
                let mut values = vec![None; columns.len()];
                let mut set = |m: AnyMetric, v: Option<f64>| {
                    let name = m.info().name;
                    if let Some(i) = columns.iter().position(|c| c.name == name) {
                        values[i] = v.filter(|x| x.is_finite());
                    }
                };
                let mine =
                    || agents.iter().zip(&self.agent_pool).filter(|(_, &q)| q as usize == p).map(|(a, _)| a);
                let on_shift: f64 = mine().map(|a| a.on_shift_s).sum();
                let slots: f64 = mine().map(|a| a.on_shift_s * f64::from(a.concurrency)).sum();
                let busy: f64 = mine().map(|a| a.busy_slot_s).sum();
                let non_idle: f64 = mine().map(|a| a.non_idle_s).sum();
                set(AnyMetric::Run(Metric::OccupancyShare), (slots > 0.0).then(|| busy / slots));
                set(AnyMetric::Run(Metric::UtilizationShare), (on_shift > 0.0).then(|| non_idle / on_shift));
                let retention =
                    (self.resumed[p] > 0).then(|| self.resumed_by_owner[p] as f64 / self.resumed[p] as f64);
                set(AnyMetric::Run(Metric::AffinityRetentionShare), retention);
                set(AnyMetric::Breakdown(BreakdownMetric::AgentsOnShiftMean), Some(on_shift / window));
                set(AnyMetric::Breakdown(BreakdownMetric::ContactsHandled), Some(self.handled[p] as f64));
                values
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickups_and_time_go_to_the_agents_pool() {
        let mut b = PoolBreakdown::new(vec![0, 0, 1]);
        b.picked(2, false, true);
        b.picked(2, false, false);
        b.picked(0, true, false);
        let agent = |on, busy, idle| AgentTotals {
            on_shift_s: on,
            busy_slot_s: busy,
            non_idle_s: idle,
            concurrency: 2,
        };
        let rows =
            b.finish(&[agent(100.0, 100.0, 60.0), agent(100.0, 0.0, 0.0), agent(50.0, 50.0, 50.0)], 100.0);
        let columns = scope_metrics(Scope::Pool);
        let at = |p: usize, name: &str| rows[p][columns.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(at(0, "contacts_handled"), Some(1.0));
        assert_eq!(at(1, "contacts_handled"), Some(2.0));
        assert_eq!(at(1, "affinity_retention_share"), Some(0.5));
        assert_eq!(at(0, "affinity_retention_share"), None);
        assert_eq!(at(0, "occupancy_share"), Some(0.25));
        assert_eq!(at(0, "utilization_share"), Some(0.3));
        assert_eq!(at(0, "agents_on_shift_mean"), Some(2.0));
    }
}
