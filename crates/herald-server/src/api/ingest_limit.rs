//! The per-tenant ingest rate (`HERALD_TENANT_EVENTS_PER_SECOND`): one
//! tenant posting too fast gets 429 with `Retry-After` instead of filling
//! the queue every other tenant shares. A batch counts each of its events.

use std::num::NonZeroU32;

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, ApiResult};

pub(crate) struct TenantIngestLimit {
    per_second: NonZeroU32,
    /// One bucket per tenant, refilled continuously, one second's worth
    /// deep: short bursts pass, a sustained excess does not.
    limiter: DefaultKeyedRateLimiter<String>,
}

impl TenantIngestLimit {
    pub(crate) fn new(per_second: NonZeroU32) -> TenantIngestLimit {
        TenantIngestLimit {
            per_second,
            limiter: RateLimiter::keyed(Quota::per_second(per_second)),
        }
    }

    /// Takes `events` from the tenant's budget, or says how long to wait.
    pub(crate) fn check(&self, tenant_id: &str, events: usize) -> ApiResult<()> {
        let Some(n) = u32::try_from(events).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        // Keys are cloned only on this path; tenants are few.
        match self.limiter.check_key_n(&tenant_id.to_string(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "this tenant may post {} events per second; retry after the Retry-After seconds",
                        self.per_second
                    ),
                )
                .with_retry_after(wait.as_secs_f64().ceil().max(1.0) as u64))
            }
            Err(_) => Err(ApiError::validation(
                "events",
                format!(
                    "a batch of {events} events exceeds this tenant's limit of {} events per second; send smaller batches",
                    self.per_second
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_over_its_rate_waits_and_others_do_not() {
        let limit = TenantIngestLimit::new(NonZeroU32::new(10).unwrap());
        limit.check("tnt_a", 10).unwrap();
        assert!(limit.check("tnt_a", 1).is_err());
        limit.check("tnt_b", 5).unwrap();
        assert!(limit.check("tnt_b", 11).is_err(), "bigger than any budget");
    }
}
