//! Rate limits: a token bucket per key (a client address, an account), held in a map whose
//! size is bounded, so a flood of new keys cannot make the server hold unbounded memory.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `burst` actions at once, then one more every `every_secs` (a bucket of `burst` tokens
/// refilled at that pace). A burst of 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub burst: u32,
    pub every_secs: f64,
}

impl Rate {
    pub const fn new(burst: u32, every_secs: f64) -> Self {
        Self { burst, every_secs }
    }
}

/// Most keys one limiter remembers. A key whose bucket is full again carries no state and is
/// forgotten first; past this many keys that are all still limited, new keys are refused.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key`, or say how long until one is there.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.check(key, true)
    }

    /// Whether `key` has a token, without taking it (for actions counted only once they
    /// happen, like a session that turns out to be new).
    pub fn peek(&self, key: &K) -> Result<(), Duration> {
        self.check(key, false)
    }

    fn check(&self, key: &K, take: bool) -> Result<(), Duration> {
        if self.rate.burst == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let burst = f64::from(self.rate.burst);
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if !buckets.contains_key(key) && buckets.len() >= MAX_KEYS {
            let rate = self.rate;
            buckets.retain(|_, b| refilled(rate, *b, now) < burst);
            if buckets.len() >= MAX_KEYS {
                return Err(Duration::from_secs_f64(self.rate.every_secs.max(1.0)));
            }
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens = refilled(self.rate, *bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            if take {
                bucket.tokens -= 1.0;
            }
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) * self.rate.every_secs;
        Err(Duration::from_secs_f64(wait.max(0.001)))
    }

    /// Forget `key` (e.g. an account's failures once it signs in).
    pub fn clear(&self, key: &K) {
        self.buckets.lock().expect("limiter lock").remove(key);
    }
}

/// One bucket, for one holder (a connection's inbound events).
pub struct Allowance {
    rate: Rate,
    bucket: Mutex<Bucket>,
}

impl Allowance {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(rate.burst),
                at: Instant::now(),
            }),
        }
    }

    /// Take one token; false once the allowance is spent.
    pub fn take(&self) -> bool {
        if self.rate.burst == 0 {
            return true;
        }
        let now = Instant::now();
        let mut b = self.bucket.lock().expect("allowance lock");
        b.tokens = refilled(self.rate, *b, now);
        b.at = now;
        if b.tokens < 1.0 {
            return false;
        }
        b.tokens -= 1.0;
        true
    }
}

fn refilled(rate: Rate, b: Bucket, now: Instant) -> f64 {
    let gained = now.saturating_duration_since(b.at).as_secs_f64() / rate.every_secs.max(1e-9);
    (b.tokens + gained).min(f64::from(rate.burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_pace() {
        let l = Limiter::new(Rate::new(2, 60.0));
        assert!(l.take(&"a").is_ok());
        assert!(l.peek(&"a").is_ok());
        assert!(l.take(&"a").is_ok());
        let wait = l.take(&"a").unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(l.take(&"b").is_ok(), "keys are independent");
        l.clear(&"a");
        assert!(l.take(&"a").is_ok());
    }

    #[test]
    fn an_allowance_is_spent_then_refills() {
        let a = Allowance::new(Rate::new(3, 0.01));
        assert!(a.take() && a.take() && a.take());
        assert!(!a.take());
        std::thread::sleep(Duration::from_millis(30));
        assert!(a.take());
    }

    #[test]
    fn zero_burst_is_off() {
        let l = Limiter::new(Rate::new(0, 1.0));
        for _ in 0..1000 {
            assert!(l.take(&1).is_ok());
        }
    }

    #[test]
    fn the_map_stays_bounded() {
        let l = Limiter::new(Rate::new(1, 3600.0));
        for k in 0..MAX_KEYS {
            l.take(&k).unwrap();
        }
        // Every remembered key is still limited: a new one is refused, not remembered.
        assert!(l.take(&usize::MAX).is_err());
        assert_eq!(l.buckets.lock().unwrap().len(), MAX_KEYS);
    }
}
