//! The progress bar of `evidra collect`: accounts and regions done, requests made, gaps
//! so far, on stderr.
//!
//! It draws only when stderr is a terminal (indicatif hides a bar whose terminal is not
//! attended, and [`Bar::for_stderr`] does not even build one then), so scripts, CI and
//! the tests see exactly the output they saw before. Machine output stays on stdout.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evidra_collector_core::{Progress, ProgressHandle, Unit};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over the regions of every account, with the accounts, requests and
/// gaps in its message.
pub struct Bar {
    bar: ProgressBar,
    accounts_planned: AtomicU64,
    accounts_done: AtomicU64,
    /// The collectors' request counters, summed at each draw.
    requests: Arc<Mutex<Vec<Arc<AtomicUsize>>>>,
    gaps: AtomicUsize,
}

fn sum(counters: &Mutex<Vec<Arc<AtomicUsize>>>) -> usize {
    counters
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
}

impl Bar {
    /// A bar on stderr, or `None` when stderr is not a terminal.
    pub fn for_stderr() -> Option<Arc<Self>> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        Some(Arc::new(Self::new(ProgressDrawTarget::stderr())))
    }

    /// A bar drawn to `target` (tests use a hidden one).
    pub fn new(target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let requests: Arc<Mutex<Vec<Arc<AtomicUsize>>>> = Arc::default();
        let counters = requests.clone();
        // The template is a constant: it parses, so the fallback is never taken.
        let style = ProgressStyle::with_template(
            "{spinner} {elapsed:>4} [{bar:24}] {pos}/{len} regions · {requests} requests · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "requests",
            move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", sum(&counters));
            },
        )
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        let me = Self {
            bar,
            accounts_planned: AtomicU64::new(0),
            accounts_done: AtomicU64::new(0),
            requests,
            gaps: AtomicUsize::new(0),
        };
        me.redraw("starting");
        me
    }

    /// The handle collectors report to.
    pub fn handle(self: &Arc<Self>) -> ProgressHandle {
        ProgressHandle(self.clone())
    }

    /// Removes the bar, before the run's summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// The message as it stands, e.g. `2/3 accounts · 1 gap · aws/1234.../eu-west-1`.
    pub fn message(&self) -> String {
        self.bar.message()
    }

    /// Requests sent so far, over every collector.
    pub fn requests(&self) -> usize {
        sum(&self.requests)
    }

    /// Regions finished and planned.
    pub fn position(&self) -> (u64, Option<u64>) {
        (self.bar.position(), self.bar.length())
    }

    fn redraw(&self, last: &str) {
        let gaps = self.gaps.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "{}/{} accounts · {} gap{} · {last}",
            self.accounts_done.load(Ordering::Relaxed),
            self.accounts_planned.load(Ordering::Relaxed),
            gaps,
            if gaps == 1 { "" } else { "s" },
        ));
    }
}

impl Progress for Bar {
    fn planned(&self, kind: Unit, n: u64) {
        match kind {
            Unit::Account => {
                self.accounts_planned.fetch_add(n, Ordering::Relaxed);
            }
            Unit::Region => self.bar.inc_length(n),
        }
        self.redraw("");
    }

    fn finished(&self, kind: Unit, scope: &str, gaps: usize) {
        self.gaps.fetch_add(gaps, Ordering::Relaxed);
        match kind {
            Unit::Account => {
                self.accounts_done.fetch_add(1, Ordering::Relaxed);
            }
            Unit::Region => self.bar.inc(1),
        }
        self.redraw(scope);
    }

    fn count_requests(&self, counter: Arc<AtomicUsize>) {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).push(counter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accounts_regions_requests_and_gaps() {
        let bar = Arc::new(Bar::new(ProgressDrawTarget::hidden()));
        let handle = bar.handle();
        handle.planned(Unit::Account, 2);
        handle.planned(Unit::Region, 3);
        let counter = Arc::new(AtomicUsize::new(0));
        handle.count_requests(counter.clone());
        counter.fetch_add(12, Ordering::Relaxed);
        handle.finished(Unit::Region, "aws/111111111111/us-east-1", 0);
        handle.finished(Unit::Region, "aws/111111111111/eu-west-1", 1);
        handle.finished(Unit::Account, "aws/111111111111/*", 1);
        assert_eq!(bar.position(), (2, Some(3)));
        assert_eq!(bar.message(), "1/2 accounts · 2 gaps · aws/111111111111/*");
        assert_eq!(bar.requests(), 12);
        bar.finish();
    }
}
