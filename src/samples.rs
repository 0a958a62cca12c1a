//! Recovery from the caller's own products: a matrix A with a known pattern, probes S
//! (n×p) of any origin and the products B = A·S (m×p) someone else computed — another AD
//! system, a simulator, measurements. [`recover_from_samples`] solves each row's least
//! squares problem `S[Jᵢ, :]ᵀ·aᵢ = bᵢ` over its pattern entries Jᵢ, reports the rows whose
//! samples cannot determine them (more entries than probes, or a rank-deficient sample
//! matrix) instead of guessing, and reports every row's residual: how much of bᵢ the
//! recovered entries leave unexplained. A residual far above rounding (relative to ‖bᵢ‖)
//! means the declared pattern misses entries of A, or the products are noisy.
//!
//! ```
//! use sparsediff::faer::Mat;
//! use sparsediff::{generators, recover_from_samples};
//!
//! // A tridiagonal A (n = 50) and 4 probes of the caller's choice
//! let pattern = generators::band(50, 1, 1)?;
//! let values: Vec<f64> = (0..pattern.nnz()).map(|k| 1.0 + k as f64).collect();
//! let a = pattern.to_sprs_with_values(values.clone())?;
//! let s = Mat::from_fn(50, 4, |i, c| ((i * 7 + c * 3) % 5) as f64 - 2.0);
//! let b = Mat::from_fn(50, 4, |i, c| a.outer_view(i).unwrap().iter().map(|(j, v)| v * s[(j, c)]).sum());
//! let r = recover_from_samples(&pattern, s.as_ref(), b.as_ref())?;
//! assert!(r.unrecoverable_rows.is_empty());
//! assert!(r.max_relative_residual < 1e-12);
//! assert!((r.matrix.get(3, 4).unwrap() - a.get(3, 4).unwrap()).abs() < 1e-10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use faer::MatRef;
use sparsediff_pattern::Pattern;
use sparsediff_probe::RowLeastSquaresDecoder;
use sparsediff_probe::decode::DEFAULT_RANK_TOL;
use sprs::CsMat;

use crate::error::SparseError;

/// What [`recover_from_samples`] found.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// The recovered rows (CSR): the pattern restricted to the recoverable rows; the
    /// unrecoverable rows are empty here, never filled with guesses.
    pub matrix: CsMat<f64>,
    /// Rows whose samples cannot determine them (more entries than probes, or a
    /// rank-deficient sample matrix), ascending.
    pub unrecoverable_rows: Vec<usize>,
    /// ‖S[Jᵢ, :]ᵀ·aᵢ − bᵢ‖₂ per row (NaN for unrecoverable rows).
    pub residuals: Vec<f64>,
    /// max over recoverable rows of residualᵢ / ‖bᵢ‖₂ (0 for rows with bᵢ = 0 and a zero
    /// residual; infinite for a nonzero residual against bᵢ = 0). With exact products
    /// and a pattern that holds, rounding level (about 1e-15); 0 when every row has as
    /// many probes as entries (the residual then carries no information).
    pub max_relative_residual: f64,
}

/// Recovers A (pattern `pattern`, m×n) from the caller's probes `seeds` (n×p) and
/// products `products` = A·S (m×p), row by row by least squares (column-pivoted QR,
/// relative rank tolerance [`DEFAULT_RANK_TOL`]). Symmetric matrices are recovered as
/// general ones (no symmetry assumed: each row from its own products).
///
/// Errors: seeds or products of the wrong shape, non-finite seeds or products, more
/// probes than memory allows ([`sparsediff_probe::DesignError::DenseTooLarge`]).
pub fn recover_from_samples(
    pattern: &Pattern,
    seeds: MatRef<'_, f64>,
    products: MatRef<'_, f64>,
) -> Result<Recovered, SparseError> {
    let decoder = RowLeastSquaresDecoder::from_samples(pattern, seeds, DEFAULT_RANK_TOL)?;
    // products of the wrong shape or not finite: DecodeError::Shape / NonFinite
    let (m, p) = (pattern.nrows(), seeds.ncols());
    let mut values = vec![0.0; pattern.nnz()];
    let bad = decoder.decode_partial(products, &mut values)?.to_vec();
    let mut residuals = vec![0.0; m];
    decoder.residuals(products, &values, &mut residuals)?;
    let mut max_relative_residual: f64 = 0.0;
    for (i, &r) in residuals.iter().enumerate() {
        if r.is_nan() {
            continue;
        }
        let norm = (0..p)
            .map(|c| products[(i, c)] * products[(i, c)])
            .sum::<f64>()
            .sqrt();
        let rel = if norm > 0.0 {
            r / norm
        } else if r == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        max_relative_residual = max_relative_residual.max(rel);
    }
    let mut recoverable = vec![true; m];
    for &i in &bad {
        recoverable[i] = false;
    }
    let kept = pattern.filter(|i, _| recoverable[i]);
    let kept_values: Vec<f64> = pattern
        .iter()
        .zip(&values)
        .filter(|((i, _), _)| recoverable[*i])
        .map(|(_, &v)| v)
        .collect();
    Ok(Recovered {
        matrix: kept.to_sprs_with_values(kept_values)?,
        unrecoverable_rows: bad,
        residuals,
        max_relative_residual,
    })
}
