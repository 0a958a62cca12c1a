//! A vectorised scan for non-finite numbers, shared by every stage that validates values
//! (products, derivatives, Matrix Market entries).
//!
//! `slice.iter().position(|v| !v.is_finite())` stops at the first hit, so the compiler
//! keeps it one element per iteration; the hot paths scan blocks without an early exit
//! (the exponent test is integer arithmetic that vectorises) and locate the entry only
//! inside a block that has one. On a 1.6 MB product block this is several times faster.

/// Elements per block: long enough to vectorise, short enough to stop soon after a hit.
const BLOCK: usize = 256;
/// The exponent bits of an `f64`: all set exactly for ±∞ and NaN.
const EXPONENT: u64 = 0x7ff0_0000_0000_0000;

/// The index of the first value that is NaN or ±∞, if any.
///
/// ```
/// use sparsediff_pattern::first_non_finite;
///
/// assert_eq!(first_non_finite(&[1.0, -2.0, 0.0]), None);
/// assert_eq!(first_non_finite(&[1.0, f64::NAN, f64::INFINITY]), Some(1));
/// let mut long = vec![0.5; 1000];
/// long[777] = f64::NEG_INFINITY;
/// assert_eq!(first_non_finite(&long), Some(777));
/// ```
pub fn first_non_finite(values: &[f64]) -> Option<usize> {
    let mut start = 0;
    for block in values.chunks(BLOCK) {
        let bad = block.iter().fold(0u64, |acc, v| {
            acc | u64::from(v.to_bits() & EXPONENT == EXPONENT)
        });
        if bad != 0 {
            return block.iter().position(|v| !v.is_finite()).map(|k| start + k);
        }
        start += block.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_non_finite_value_in_any_block() {
        for len in [0, 1, 255, 256, 257, 1000] {
            let clean = vec![1e300; len];
            assert_eq!(first_non_finite(&clean), None);
            for k in [0, len / 2, len.saturating_sub(1)] {
                if k >= len {
                    continue;
                }
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut v = clean.clone();
                    v[k] = bad;
                    if k + 1 < len {
                        v[len - 1] = f64::NAN; // a later hit must not win
                    }
                    assert_eq!(first_non_finite(&v), Some(k), "len {len}, k {k}");
                }
            }
        }
        // Subnormals, zeros and the largest finite values are finite.
        let edge = [f64::MIN_POSITIVE / 2.0, -0.0, f64::MAX, f64::MIN];
        assert_eq!(first_non_finite(&edge), None);
    }
}
