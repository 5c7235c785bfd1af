//! Attempt durations as a mergeable histogram: fixed buckets, so the
//! histograms of any minutes, hours or days add up by bucket and give the
//! same percentiles as one histogram of every attempt would.

/// Upper bounds (ms, inclusive) of every bucket but the last, which holds
/// everything longer. About 10–25% wide: a percentile read from them is
/// off by less than one bucket.
pub const BUCKET_BOUNDS_MS: [u64; 53] = [
    1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
    500, 600, 800, 1_000, 1_200, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000,
    12_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 120_000,
    150_000, 200_000, 250_000, 300_000,
];

/// How many buckets a histogram has.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

/// Counts of attempts by duration bucket, with the exact extremes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationHistogram {
    counts: Vec<u64>,
    min_ms: Option<u64>,
    max_ms: Option<u64>,
}

impl Default for DurationHistogram {
    fn default() -> Self {
        DurationHistogram {
            counts: vec![0; BUCKETS],
            min_ms: None,
            max_ms: None,
        }
    }
}

/// The bucket a duration falls in.
pub fn bucket_of(duration_ms: u64) -> usize {
    BUCKET_BOUNDS_MS.partition_point(|&bound| bound < duration_ms)
}

impl DurationHistogram {
    /// A histogram from stored counts (shorter lists are padded, longer
    /// ones folded into the last bucket) and extremes.
    pub fn from_parts(counts: &[u64], min_ms: Option<u64>, max_ms: Option<u64>) -> Self {
        let mut histogram = DurationHistogram {
            min_ms,
            max_ms,
            ..Default::default()
        };
        for (i, count) in counts.iter().enumerate() {
            histogram.counts[i.min(BUCKETS - 1)] += count;
        }
        histogram
    }

    /// Adds stored bucket counts and extremes, as [`Self::from_parts`]
    /// then [`Self::merge`] would, without a histogram in between: an
    /// analytics read merges a hundred thousand rows this way.
    pub fn add_parts(
        &mut self,
        counts: impl IntoIterator<Item = u64>,
        min_ms: Option<u64>,
        max_ms: Option<u64>,
    ) {
        for (i, count) in counts.into_iter().enumerate() {
            self.counts[i.min(BUCKETS - 1)] += count;
        }
        self.min_ms = match (self.min_ms, min_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_ms = match (self.max_ms, max_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn record(&mut self, duration_ms: u64) {
        self.counts[bucket_of(duration_ms)] += 1;
        self.min_ms = Some(self.min_ms.map_or(duration_ms, |m| m.min(duration_ms)));
        self.max_ms = Some(self.max_ms.map_or(duration_ms, |m| m.max(duration_ms)));
    }

    pub fn merge(&mut self, other: &DurationHistogram) {
        self.add_parts(other.counts.iter().copied(), other.min_ms, other.max_ms);
    }

    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn min_ms(&self) -> Option<u64> {
        self.min_ms
    }

    pub fn max_ms(&self) -> Option<u64> {
        self.max_ms
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q` quantile (0–1) in ms, interpolated within its bucket and
    /// kept within the recorded extremes; `None` with nothing recorded.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let (min, max) = (self.min_ms? as f64, self.max_ms? as f64);
        // The rank of the sample sought, 1-based (nearest-rank).
        let rank = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0);
        let mut below = 0u64;
        for (i, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            if (below + count) as f64 >= rank {
                let lower = if i == 0 {
                    0.0
                } else {
                    BUCKET_BOUNDS_MS[i - 1] as f64
                };
                let upper = BUCKET_BOUNDS_MS.get(i).map_or(max, |&b| b as f64);
                let within = (rank - below as f64) / count as f64;
                let estimate = lower + (upper - lower) * within;
                return Some(estimate.clamp(min, max));
            }
            below += count;
        }
        Some(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_bucket_whose_bound_holds_them() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(2), 1);
        assert_eq!(bucket_of(7), 6, "6 < 7 <= 8");
        assert_eq!(bucket_of(300_000), BUCKETS - 2);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn merged_histograms_answer_as_one_and_quantiles_stay_in_their_bucket() {
        let durations: Vec<u64> = (1..=1000).map(|i| i * 7 % 997 + 3).collect();
        let mut whole = DurationHistogram::default();
        let (mut a, mut b) = (DurationHistogram::default(), DurationHistogram::default());
        for (i, &d) in durations.iter().enumerate() {
            whole.record(d);
            if i % 3 == 0 { a.record(d) } else { b.record(d) }
        }
        a.merge(&b);
        assert_eq!(a, whole);
        let mut sorted = durations.clone();
        sorted.sort_unstable();
        for q in [0.5, 0.95, 0.99] {
            let exact = sorted[((q * sorted.len() as f64).ceil() as usize).max(1) - 1];
            let estimate = whole.quantile(q).unwrap();
            assert!(
                bucket_of(estimate.round() as u64).abs_diff(bucket_of(exact)) <= 1,
                "q{q}: {estimate} vs {exact}"
            );
        }
        assert_eq!(DurationHistogram::default().quantile(0.5), None);
        let mut one = DurationHistogram::default();
        one.record(42);
        assert_eq!(one.quantile(0.99), Some(42.0), "clamped to the extremes");
    }
}
