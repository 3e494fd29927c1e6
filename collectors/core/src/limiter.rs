//! A token bucket: the client-side limit that keeps a scan within a provider's read
//! quota (and off production's share of it). Runtime-agnostic: it says how long to wait,
//! the caller sleeps.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket of `capacity` tokens, refilled at `per_second`. It starts full.
    pub fn new(capacity: u32, per_second: f64) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            capacity,
            per_second: per_second.max(0.001),
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    /// Takes a token; returns how long to wait before using it (zero when one was ready).
    pub fn take(&self) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, last) = *state;
        let refilled =
            (tokens + now.saturating_duration_since(last).as_secs_f64() * self.per_second).min(self.capacity);
        let after = refilled - 1.0;
        *state = (after, now);
        if after >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-after / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_serves_its_capacity_then_paces() {
        let bucket = TokenBucket::new(3, 10.0);
        for _ in 0..3 {
            assert_eq!(bucket.take(), Duration::ZERO);
        }
        let wait = bucket.take();
        assert!(
            wait > Duration::from_millis(80) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        let wait = bucket.take();
        assert!(
            wait > Duration::from_millis(180) && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
    }
}
