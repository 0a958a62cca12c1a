//! Deterministic pseudo-random numbers for test points and values.

/// `len` deterministic pseudo-random numbers in [-1, 1) from `seed` (xorshift64; a zero
/// seed gives −1 throughout, so pass a nonzero one).
///
/// ```
/// use sparsediff_pattern::testing::randoms;
/// let r = randoms(100, 7);
/// assert_eq!(r, randoms(100, 7));
/// assert!(r.iter().all(|v| (-1.0..1.0).contains(v)));
/// assert_ne!(r, randoms(100, 8));
/// ```
pub fn randoms(len: usize, mut seed: u64) -> Vec<f64> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}
