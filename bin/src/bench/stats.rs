//! Summaries of measured samples shared by the real-network benchmarks.

/// The `q` quantile of `sorted` (nearest rank); NaN when there is no sample, so that a
/// missing figure is never shown as a measured zero.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The mean of `v` (0 for no sample).
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.99), 5.0);
        assert!(percentile(&[], 0.5).is_nan());
        assert_eq!(mean(&v), 3.0);
        assert_eq!(mean(&[]), 0.0);
    }
}
