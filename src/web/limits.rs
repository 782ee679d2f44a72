//! The rate limits of the two forms anyone may post: sign-in attempts (per typed address and per client) and
//! requests for a fresh member link (per address and per client). A refusal says how long until the limit
//! allows again, for `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::header::{self, HeaderName, HeaderValue};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::WebSettings;
use crate::domain::member::normalize_email;

/// Counts one request of `key` against `limiter`; refused, how long until it would be allowed.
fn limited<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration>
where
    K: Clone + Eq + std::hash::Hash,
{
    use governor::clock::Clock;
    limiter
        .check_key(key)
        .map_err(|refused| refused.wait_time_from(limiter.clock().now()))
}

/// `Retry-After` for a 429: the seconds until the limit allows again, rounded up, at least one.
pub(super) fn retry_after(wait: Duration) -> (HeaderName, HeaderValue) {
    let seconds = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1);
    (header::RETRY_AFTER, HeaderValue::from(seconds))
}

/// Sign-in attempts per typed address and per client address.
pub(super) struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<String>,
    by_client: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl SignInLimits {
    pub(super) fn new(web: &WebSettings) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            by_address: RateLimiter::keyed(quota(web.sign_in_per_minute_per_address)),
            by_client: RateLimiter::keyed(quota(web.sign_in_per_minute_per_client)),
            checks: AtomicU64::new(0),
        }
    }

    /// Whether one more attempt is allowed (and counts it), or how long until the limit that refused allows
    /// again. A client over its limit does not use up the typed address's attempts too.
    pub(super) fn allow(&self, email: &str, client: IpAddr) -> Result<(), Duration> {
        // Forget keys whose limit has refilled now and then, so that memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 64 == 63 {
            self.by_address.retain_recent();
            self.by_client.retain_recent();
            self.by_address.shrink_to_fit();
            self.by_client.shrink_to_fit();
        }
        // The key is the form the account lookup uses: another spelling of the same address (full-width letters,
        // an ideographic full stop) counts against the same limit.
        let key: String = normalize_email(email).chars().take(254).collect();
        limited(&self.by_client, &client)?;
        limited(&self.by_address, &key)
    }
}

/// How often one address may be sent a fresh link, and how often one client may ask.
const LINKS_PER_ADDRESS_PER_HOUR: NonZeroU32 = NonZeroU32::new(3).expect("nonzero");
const LINKS_PER_CLIENT_PER_HOUR: NonZeroU32 = NonZeroU32::new(20).expect("nonzero");

/// Requests for a fresh member link, per address and per client.
pub(super) struct LinkLimits {
    per_address: DefaultKeyedRateLimiter<String>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
}

impl LinkLimits {
    pub(super) fn new() -> Self {
        Self {
            per_address: RateLimiter::keyed(Quota::per_hour(LINKS_PER_ADDRESS_PER_HOUR)),
            per_client: RateLimiter::keyed(Quota::per_hour(LINKS_PER_CLIENT_PER_HOUR)),
        }
    }

    /// Whether this client may ask for this address now (each check uses up one request of both), or how
    /// long until the limit that refused allows again.
    pub(super) fn allows(&self, address: &str, client: IpAddr) -> Result<(), Duration> {
        // Keys of clients and addresses that have been quiet long enough are forgotten: memory stays bounded.
        if self.per_client.len() > 10_000 {
            self.per_client.retain_recent();
            self.per_address.retain_recent();
        }
        limited(&self.per_client, &client)?;
        limited(&self.per_address, &address.to_owned())
    }
}
