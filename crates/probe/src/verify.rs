//! Verification with one extra random probe: compare Â·z with A·z.
//!
//! After decoding Â from the products, the caller computes one more product A·z with a
//! fresh random vector z (one more JVP or HVP) and [`verify`] compares it row by row with
//! Â·z, which costs one sparse mat-vec. Rows that disagree beyond a tolerance relative to
//! the row's scale are reported.
//!
//! **A pattern that misses entries of the true matrix shows up as bad rows.** The decoder
//! only fits the declared entries, so the missing ones leak into the recovered values
//! (colourings) or into the residual (least squares); either way Â differs from A on those
//! rows, and since z is independent of the seeds, (Â − A)·z is nonzero there with
//! probability one for Gaussian z and at least ½ for Rademacher z (use two probes, or a
//! Gaussian one, to make a miss unlikely). Rows of a correct pattern agree to rounding (or
//! to the noise of the products).
//!
//! ```
//! use sparsediff_pattern::generators;
//! use sparsediff_probe::{exact_products, probe_vector, verify, Distribution, Orientation, Seeds};
//!
//! let pattern = generators::band(20, 1, 1)?;
//! let values = vec![1.0; pattern.nnz()];
//! let z = probe_vector(20, Distribution::Rademacher, 7);
//! // A·z, here from the known matrix (in practice: one more JVP/HVP).
//! let az = exact_products(&pattern, &values, &Seeds::dense(20, 1, z.clone())?, Orientation::Columns);
//! let az: Vec<f64> = (0..20).map(|i| az[(i, 0)]).collect();
//! let report = verify(&pattern, &values, &z, &az, 1e-8)?;
//! assert!(report.bad_rows.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use sparsediff_pattern::Pattern;

use crate::design::Distribution;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct VerificationReport {
    /// The largest relative mismatch |(Â·z)_i − (A·z)_i| / scale_i over all rows, where
    /// scale_i = max(Σ_j |â_ij z_j|, |(A·z)_i|) (0 when both sides are exactly zero).
    pub max_rel_residual: f64,
    /// The rows whose relative mismatch exceeds the tolerance, ascending.
    pub bad_rows: Vec<usize>,
    /// The tolerance used.
    pub tol: f64,
}

impl VerificationReport {
    /// Whether every row agrees.
    pub fn passed(&self) -> bool {
        self.bad_rows.is_empty()
    }
}

/// Why verification could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An input has the wrong length.
    #[error("`{what}` has {len} entries, expected {expected}")]
    Length {
        /// Which input (`values`, `z`, `az`).
        what: &'static str,
        /// Length given.
        len: usize,
        /// Length expected.
        expected: usize,
    },
    /// An input contains NaN or an infinity.
    #[error("`{what}`[{index}] is not finite ({value})")]
    NonFinite {
        /// Which input (`values`, `z`, `az`).
        what: &'static str,
        /// Position.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The tolerance is not a nonnegative number.
    #[error("tolerance {tol} must be a nonnegative number")]
    Tolerance {
        /// The tolerance given.
        tol: f64,
    },
}

/// A seeded random probe vector of length n (ChaCha8; the same seed gives the same vector
/// on every platform, see [`random_seeds`](crate::random_seeds)). Use a seed that differs
/// from the plan's seeds.
pub fn probe_vector(n: usize, distribution: Distribution, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| match distribution {
            Distribution::Gaussian => rng.sample(StandardNormal),
            Distribution::Rademacher => {
                if rng.random::<u32>() >> 31 == 0 {
                    1.0
                } else {
                    -1.0
                }
            }
        })
        .collect()
}

/// Compares Â·z (Â: `pattern` with the decoded `values`, in entry order) with the true
/// product `az` = A·z row by row; rows whose relative mismatch exceeds `tol` are bad (see
/// [`VerificationReport`] for the row scale). With exact products a correct decode passes
/// `tol` = 1e-8 easily; with noisy products choose `tol` above the noise level.
///
/// Errors name the input and position: wrong lengths, non-finite entries, a negative or
/// NaN tolerance.
pub fn verify(
    pattern: &Pattern,
    values: &[f64],
    z: &[f64],
    az: &[f64],
    tol: f64,
) -> Result<VerificationReport, VerifyError> {
    if tol.is_nan() || tol < 0.0 {
        return Err(VerifyError::Tolerance { tol });
    }
    for (what, v, expected) in [
        ("values", values, pattern.nnz()),
        ("z", z, pattern.ncols()),
        ("az", az, pattern.nrows()),
    ] {
        if v.len() != expected {
            return Err(VerifyError::Length {
                what,
                len: v.len(),
                expected,
            });
        }
        if let Some(index) = v.iter().position(|x| !x.is_finite()) {
            return Err(VerifyError::NonFinite {
                what,
                index,
                value: v[index],
            });
        }
    }
    let mut max_rel = 0.0f64;
    let mut bad_rows = Vec::new();
    for (i, &target) in az.iter().enumerate() {
        let (mut fit, mut scale) = (0.0, 0.0);
        for (&j, &v) in pattern.row(i).iter().zip(&values[pattern.row_range(i)]) {
            fit += v * z[j];
            scale += (v * z[j]).abs();
        }
        let scale = f64::max(scale, target.abs());
        let diff = (fit - target).abs();
        let rel = if diff == 0.0 {
            0.0
        } else if scale > 0.0 {
            diff / scale
        } else {
            f64::INFINITY
        };
        max_rel = max_rel.max(rel);
        if rel > tol {
            bad_rows.push(i);
        }
    }
    Ok(VerificationReport {
        max_rel_residual: max_rel,
        bad_rows,
        tol,
    })
}
