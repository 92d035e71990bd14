//! An optional client-side limiter for WeChat Pay's refund rate limits (docs/protocol.md "Limits"):
//! at most 150 requests per second, and only 6 failing requests per second. When the last
//! second already holds 6 failures, further requests wait until it holds fewer, instead of
//! burning the failure budget (and getting the merchant throttled).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A monotonic millisecond clock that can sleep; injectable for tests.
pub trait MonotonicClock: Send + Sync {
    /// Milliseconds since an arbitrary fixed origin.
    fn now_ms(&self) -> u64;
    /// Sleep for `ms` milliseconds.
    fn sleep_ms(&self, ms: u64);
}

/// The real clock.
#[derive(Debug)]
pub struct SystemMonotonic(Instant);

impl Default for SystemMonotonic {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl MonotonicClock for SystemMonotonic {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

const WINDOW_MS: u64 = 1000;

#[derive(Default)]
struct Window {
    sent: VecDeque<u64>,
    failed: VecDeque<u64>,
    /// No request before this time (WeChat Pay blocked the merchant: v2 `INVALID_REQ_TOO_MUCH`).
    held_until: u64,
}

/// Sliding one-second windows of sent and failed requests.
pub struct RateLimiter {
    clock: Box<dyn MonotonicClock>,
    max_per_second: usize,
    max_failures_per_second: usize,
    window: Mutex<Window>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RateLimiter({}/s, {} failures/s)",
            self.max_per_second, self.max_failures_per_second
        )
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(150, 6, Box::new(SystemMonotonic::default()))
    }
}

impl RateLimiter {
    /// A limiter with the given budgets and clock.
    pub fn new(
        max_per_second: usize,
        max_failures_per_second: usize,
        clock: Box<dyn MonotonicClock>,
    ) -> Self {
        Self {
            clock,
            max_per_second: max_per_second.max(1),
            max_failures_per_second: max_failures_per_second.max(1),
            window: Mutex::new(Window::default()),
        }
    }

    /// Wait until one more request fits both budgets, then count it as sent.
    pub fn acquire(&self) {
        self.acquire_within(u64::MAX);
    }

    /// Like [`Self::acquire`], but give up (and count nothing) when the wait would exceed
    /// `max_wait_ms`; whether the request may be sent.
    pub fn acquire_within(&self, max_wait_ms: u64) -> bool {
        let started = self.clock.now_ms();
        loop {
            let now = self.clock.now_ms();
            let wait = {
                let mut guard = self.window.lock().unwrap_or_else(|p| p.into_inner());
                let w = &mut *guard;
                for q in [&mut w.sent, &mut w.failed] {
                    while q.front().is_some_and(|t| t + WINDOW_MS <= now) {
                        q.pop_front();
                    }
                }
                let until = |q: &VecDeque<u64>, max: usize| {
                    (q.len() >= max).then(|| q[q.len() - max] + WINDOW_MS - now)
                };
                let held = (w.held_until > now).then(|| w.held_until - now);
                match until(&w.sent, self.max_per_second)
                    .max(until(&w.failed, self.max_failures_per_second))
                    .max(held)
                {
                    None => {
                        w.sent.push_back(now);
                        if now > started {
                            crate::events::ratelimit_wait(now - started);
                        }
                        return true;
                    }
                    Some(ms) => ms.max(1),
                }
            };
            if (now - started).saturating_add(wait) > max_wait_ms {
                return false;
            }
            self.clock.sleep_ms(wait);
        }
    }

    /// Hold every request for `ms` milliseconds from now (WeChat Pay said the merchant is
    /// blocked: v2 `INVALID_REQ_TOO_MUCH`, "retry after a minute").
    pub fn hold_for(&self, ms: u64) {
        let until = self.clock.now_ms().saturating_add(ms);
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        w.held_until = w.held_until.max(until);
    }

    /// Count a request that failed (4xx, 5xx, 429, or no response).
    pub fn record_failure(&self) {
        let now = self.clock.now_ms();
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .failed
            .push_back(now);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// A clock that only moves when slept on.
    #[derive(Default, Clone)]
    pub(crate) struct FakeClock(pub Arc<AtomicU64>);

    impl MonotonicClock for FakeClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
        fn sleep_ms(&self, ms: u64) {
            self.0.fetch_add(ms, Ordering::SeqCst);
        }
    }

    #[test]
    fn at_most_150_requests_per_second() {
        let clock = FakeClock::default();
        let l = RateLimiter::new(150, 6, Box::new(clock.clone()));
        for _ in 0..150 {
            l.acquire();
        }
        assert_eq!(clock.now_ms(), 0, "the first 150 go at once");
        l.acquire();
        assert_eq!(clock.now_ms(), 1000, "the 151st waits for the window");
        for _ in 0..149 {
            l.acquire();
        }
        assert_eq!(clock.now_ms(), 1000);
        l.acquire();
        assert_eq!(clock.now_ms(), 2000);
    }

    #[test]
    fn a_hold_delays_every_request_until_it_ends() {
        let clock = FakeClock::default();
        let l = RateLimiter::new(150, 6, Box::new(clock.clone()));
        l.acquire();
        l.hold_for(60_000);
        assert!(
            !l.acquire_within(59_000),
            "a wait shorter than the hold gives up"
        );
        assert_eq!(clock.now_ms(), 0, "giving up does not sleep");
        l.acquire();
        assert_eq!(clock.now_ms(), 60_000);
        l.acquire();
        assert_eq!(
            clock.now_ms(),
            60_000,
            "after the hold, requests go at once"
        );
    }

    #[test]
    fn six_failures_per_second_hold_further_requests() {
        let clock = FakeClock::default();
        let l = RateLimiter::new(150, 6, Box::new(clock.clone()));
        for i in 0..6u64 {
            clock.sleep_ms(10);
            l.acquire();
            l.record_failure();
            assert_eq!(clock.now_ms(), 10 * (i + 1));
        }
        // The budget is spent: the next request waits until the first failure is a second old.
        l.acquire();
        assert_eq!(clock.now_ms(), 1010);
        // Successes do not spend the failure budget.
        for _ in 0..20 {
            l.acquire();
        }
        assert_eq!(clock.now_ms(), 1010);
    }
}
