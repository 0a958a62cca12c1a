//! The banded timing reported by `sparsediff bench banded`.

use std::time::Instant;

use sparsediff_pattern::{Pattern, generators};

use crate::band::BandSymbolic;
use crate::error::{Result, SolveError};

/// Medians of [`bench_banded`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandedBench {
    /// Dimension n.
    pub n: usize,
    /// Half-bandwidth β.
    pub beta: usize,
    /// Number of timed repeats.
    pub repeats: usize,
    /// Median time of one Cholesky factorisation from the CSR values (gather included).
    pub factor_seconds: f64,
    /// Median time of one solve with one right-hand side.
    pub solve_seconds: f64,
    /// Normwise backward error of the last solve,
    /// `‖A·x − b‖∞ / (‖A‖∞·‖x‖∞ + ‖b‖∞)`.
    pub residual: f64,
}

/// A uniform number in [-1, 1) from a hash of `(a, b, seed)` (splitmix64).
fn hashed_unit(a: usize, b: usize, seed: u64) -> f64 {
    let mut z = seed
        .wrapping_add((a as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add((b as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Values for a symmetric pattern (CSR order, both triangles): off-diagonal entries
/// uniform in [-1, 1) from a seeded hash of `(min(i, j), max(i, j))`, so `A = Aᵀ` exactly,
/// and each diagonal entry `1 + Σ_j |A_ij|` plus a seeded number in [0, 1): strictly
/// diagonally dominant, hence symmetric positive definite.
pub fn spd_values(pattern: &Pattern, seed: u64) -> Vec<f64> {
    let mut values = vec![0.0; pattern.nnz()];
    for i in 0..pattern.nrows() {
        let mut off = 0.0;
        let mut diag = None;
        for k in pattern.row_range(i) {
            let j = pattern.col_idx()[k];
            if i == j {
                diag = Some(k);
            } else {
                let v = hashed_unit(i.min(j), i.max(j), seed);
                values[k] = v;
                off += v.abs();
            }
        }
        if let Some(k) = diag {
            values[k] = 1.5 + off + 0.5 * hashed_unit(i, i, seed);
        }
    }
    values
}

/// A seeded symmetric positive definite band: the pattern `band(n, β, β)` and
/// [`spd_values`] on it.
///
/// Errors: [`SolveError::EmptyMatrix`], [`SolveError::BandTooWide`].
pub fn random_spd_band(n: usize, beta: usize, seed: u64) -> Result<(Pattern, Vec<f64>)> {
    BandSymbolic::new(n, beta)?;
    let p = generators::band(n, beta, beta).map_err(|_| SolveError::BandTooWide { beta, n })?;
    let v = spd_values(&p, seed);
    Ok((p, v))
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    let m = t.len() / 2;
    if t.len() % 2 == 1 {
        t[m]
    } else {
        0.5 * (t[m - 1] + t[m])
    }
}

/// Times the banded Cholesky on a seeded SPD band (n, β): `repeats` factorisations from
/// the CSR values and `repeats` solves with one right-hand side (`b = A·1`), each timed
/// alone; medians. One thread.
///
/// Errors: [`SolveError::EmptyMatrix`], [`SolveError::BandTooWide`],
/// [`SolveError::InvalidParameter`] if `repeats == 0`.
///
/// ```
/// let b = sparsediff_solve::bench_banded(200, 3, 3)?;
/// assert!(b.residual < 1e-14 && b.factor_seconds > 0.0);
/// # Ok::<(), sparsediff_solve::SolveError>(())
/// ```
pub fn bench_banded(n: usize, beta: usize, repeats: usize) -> Result<BandedBench> {
    if repeats == 0 {
        return Err(SolveError::InvalidParameter {
            param: "repeats",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    let (p, values) = random_spd_band(n, beta, 42)?;
    let s = BandSymbolic::from_pattern_with_beta(&p, beta)?;
    let mut storage = vec![0.0; s.factor_len()];
    let b = mat_vec(&p, &values, &vec![1.0; n]);
    let mut x = vec![0.0; n];
    let mut factor_t = Vec::with_capacity(repeats);
    let mut solve_t = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        s.cholesky_in_place(&values, &mut storage)?;
        factor_t.push(t.elapsed().as_secs_f64());
    }
    let f = s.cholesky_in_place(&values, &mut storage)?;
    for _ in 0..repeats {
        x.copy_from_slice(&b);
        let t = Instant::now();
        f.solve_slice_in_place(&mut x)?;
        solve_t.push(t.elapsed().as_secs_f64());
    }
    Ok(BandedBench {
        n,
        beta,
        repeats,
        factor_seconds: median(factor_t),
        solve_seconds: median(solve_t),
        residual: backward_error(&p, &values, &x, &b),
    })
}

/// `A·x` for a CSR matrix.
pub fn mat_vec(p: &Pattern, values: &[f64], x: &[f64]) -> Vec<f64> {
    (0..p.nrows())
        .map(|i| p.row_range(i).map(|k| values[k] * x[p.col_idx()[k]]).sum())
        .collect()
}

/// Normwise backward error `‖A·x − b‖∞ / (‖A‖∞·‖x‖∞ + ‖b‖∞)` of a CSR matrix.
pub fn backward_error(p: &Pattern, values: &[f64], x: &[f64], b: &[f64]) -> f64 {
    let ax = mat_vec(p, values, x);
    let r = ax
        .iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let a_norm = (0..p.nrows())
        .map(|i| p.row_range(i).map(|k| values[k].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let x_norm = x.iter().map(|v| v.abs()).fold(0.0, f64::max);
    let b_norm = b.iter().map(|v| v.abs()).fold(0.0, f64::max);
    r / (a_norm * x_norm + b_norm)
}
