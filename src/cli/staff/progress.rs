//! `staff`'s progress on stderr, in both modes: which policy (k of P), `evaluation k of at
//! most N`, the replications run, the time spent and at most how long is left (the search may
//! stop sooner). On a terminal a spinner line; otherwise (a job log, a pipe) a plain line once
//! [`PLAIN_EVERY`] has passed since the start or the last line, so a 45 s search says where
//! it is without flooding the log, and a short one prints nothing.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::catalog::Unit;
use crate::table::format_metric;

/// Least time between two plain lines when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Overrides [`PLAIN_EVERY`] (in seconds; 0 prints a line at every evaluation and
/// replication): for tests, or a log that wants more or fewer lines.
const PLAIN_EVERY_VAR: &str = "CONVOSIM_PROGRESS_EVERY";

/// The least time between plain lines: [`PLAIN_EVERY`] unless `var` (the value of
/// [`PLAIN_EVERY_VAR`]) is a number of seconds, 0 or more.
fn plain_period(var: Option<&str>) -> Duration {
    let seconds = var.and_then(|s| s.trim().parse::<f64>().ok());
    seconds.filter(|s| s.is_finite() && (0.0..=1e9).contains(s)).map_or(PLAIN_EVERY, Duration::from_secs_f64)
}

/// Where the search is.
struct State {
    /// The policy searched (its name as staff prints it) and its position.
    policy: String,
    policy_index: usize,
    /// Evaluations started for this policy, and the most it can run.
    evaluation: u32,
    most: u32,
    /// What the current evaluation is (`: fresh seeds`), after its number.
    what: String,
    /// Evaluations finished over every policy, and the time they took.
    finished: u32,
    finished_s: f64,
    evaluation_started: Instant,
    replications: u64,
    /// When the last plain line was printed (the start before any).
    last_plain: Instant,
}

/// The progress of one `staff` command over its policies.
pub(super) struct Progress {
    bar: ProgressBar,
    policies: usize,
    started: Instant,
    /// `Some(period)` when stderr is not a terminal: plain lines at most this often.
    plain_every: Option<Duration>,
    state: Mutex<State>,
}

impl Progress {
    /// For a search over `policies` policies (1 for the scenario's own).
    pub(super) fn new(policies: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        let period = plain_period(std::env::var(PLAIN_EVERY_VAR).ok().as_deref());
        let now = Instant::now();
        let state = State {
            policy: String::new(),
            policy_index: 0,
            evaluation: 0,
            most: 0,
            what: String::new(),
            finished: 0,
            finished_s: 0.0,
            evaluation_started: now,
            replications: 0,
            last_plain: now,
        };
        Self {
            bar,
            policies,
            started: now,
            plain_every: (!terminal).then_some(period),
            state: Mutex::new(state),
        }
    }

    fn with_state(&self, change: impl FnOnce(&mut State)) {
        let Ok(mut state) = self.state.lock() else { return };
        change(&mut state);
        let message = self.message(&state);
        self.bar.set_message(message.clone());
        let now = Instant::now();
        if self.plain_every.is_some_and(|every| now.duration_since(state.last_plain) >= every) {
            state.last_plain = now;
            errln!("{message}");
        }
    }

    /// The search for `policy` starts; it runs at most `most` evaluations.
    pub(super) fn start_policy(&self, policy: &str, most: u32) {
        self.with_state(|s| {
            s.policy = policy.to_string();
            s.policy_index += 1;
            s.evaluation = 0;
            s.most = most;
        });
    }

    /// The next evaluation starts (`what`: e.g. `": fresh seeds"`, or empty).
    pub(super) fn evaluation(&self, what: &str) {
        self.with_state(|s| {
            let now = Instant::now();
            if s.evaluation > 0 {
                s.finished += 1;
                s.finished_s += now.duration_since(s.evaluation_started).as_secs_f64();
            }
            s.evaluation += 1;
            s.evaluation_started = now;
            s.what = what.to_string();
        });
    }

    /// One more replication has run.
    pub(super) fn replication(&self) {
        self.with_state(|s| s.replications += 1);
    }

    /// A line above the spinner (a terminal only: stdout lists the same).
    pub(super) fn println(&self, line: String) {
        self.bar.println(line);
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// `staff (sticky, policy 2 of 3) · evaluation 4 of at most 26 · 96 replications · 12.0 s ·
    /// at most 1.2 min left`.
    fn message(&self, s: &State) -> String {
        let seconds = |s: f64| format_metric(s, Unit::Seconds);
        let which = if self.policies > 1 {
            format!("{}, policy {} of {}", s.policy, s.policy_index, self.policies)
        } else {
            s.policy.clone()
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        if s.evaluation == 0 {
            return format!("staff ({which}) · starting · {}", seconds(elapsed));
        }
        let mut text = format!(
            "staff ({which}) · evaluation {} of at most {}{} · {} replications · {}",
            s.evaluation,
            s.most,
            s.what,
            s.replications,
            seconds(elapsed)
        );
        if s.finished > 0 {
            // Every evaluation left at most, this policy's and the later ones', at the mean so far.
            let later = (self.policies - s.policy_index.min(self.policies)) as f64 * f64::from(s.most);
            let left = f64::from(s.most.saturating_sub(s.evaluation) + 1) + later;
            let current = s.evaluation_started.elapsed().as_secs_f64();
            let estimate = (left * s.finished_s / f64::from(s.finished) - current).max(0.0);
            text.push_str(&format!(" · at most {} left", seconds(estimate)));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_come_every_5_s_unless_the_variable_says_otherwise() {
        assert_eq!(plain_period(None), Duration::from_secs(5));
        assert_eq!(plain_period(Some("0")), Duration::ZERO);
        assert_eq!(plain_period(Some(" 2.5 ")), Duration::from_millis(2500));
        for bad in ["-1", "x", "inf", "NaN", "1e30"] {
            assert_eq!(plain_period(Some(bad)), PLAIN_EVERY, "{bad}");
        }
    }
}
