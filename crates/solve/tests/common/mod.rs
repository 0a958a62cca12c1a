//! Shared helpers: seeded matrices, dense references, residuals.
#![allow(dead_code)]

use sparsediff_solve::{Pattern, mat_vec};

/// Proptest configuration honouring `PROPTEST_CASES` (the workspace's shared one).
pub use sparsediff_pattern::testing::config;

/// Symmetric values on `p` from a list of raw numbers (cycled), CSR order: entry (i, j)
/// takes the number indexed by the position of (min, max) in the pattern, so A = Aᵀ.
pub fn symmetric_values(p: &Pattern, raw: &[f64]) -> Vec<f64> {
    let mut v = vec![0.0; p.nnz()];
    for i in 0..p.nrows() {
        for k in p.row_range(i) {
            let j = p.col_idx()[k];
            let (a, b) = (i.min(j), i.max(j));
            let pos = p.position(a, b).expect("symmetric pattern");
            v[k] = raw[pos % raw.len()];
        }
    }
    v
}

/// Makes symmetric values strictly diagonally dominant with a positive diagonal (SPD).
pub fn make_spd(p: &Pattern, v: &mut [f64], margin: f64) {
    for i in 0..p.nrows() {
        let off: f64 = p
            .row_range(i)
            .filter(|&k| p.col_idx()[k] != i)
            .map(|k| v[k].abs())
            .sum();
        if let Some(k) = p.position(i, i) {
            v[k] = off + margin;
        }
    }
}

/// The dense matrix of a CSR matrix.
pub fn dense(p: &Pattern, v: &[f64]) -> faer::Mat<f64> {
    let mut m = faer::Mat::<f64>::zeros(p.nrows(), p.ncols());
    for (k, (i, j)) in p.iter().enumerate() {
        m[(i, j)] = v[k];
    }
    m
}

/// (positive, negative, near-zero) eigenvalue counts of a symmetric CSR matrix + shift·I.
pub fn eigen_signs(p: &Pattern, v: &[f64], shift: f64) -> (usize, usize, f64) {
    let mut m = dense(p, v);
    for i in 0..p.nrows() {
        m[(i, i)] += shift;
    }
    let e = m
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("eigenvalues converge");
    let gap = e.iter().map(|x| x.abs()).fold(f64::INFINITY, f64::min);
    (
        e.iter().filter(|&&x| x > 0.0).count(),
        e.iter().filter(|&&x| x < 0.0).count(),
        gap,
    )
}

/// Relative residual ‖A·x − b‖∞ / (‖A‖∞·‖x‖∞).
pub fn rel_residual(p: &Pattern, v: &[f64], x: &[f64], b: &[f64]) -> f64 {
    let ax = mat_vec(p, v, x);
    let r = ax
        .iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let a_norm = (0..p.nrows())
        .map(|i| p.row_range(i).map(|k| v[k].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let x_norm = x.iter().map(|v| v.abs()).fold(0.0, f64::max);
    if a_norm * x_norm == 0.0 {
        r
    } else {
        r / (a_norm * x_norm)
    }
}

/// A seeded right-hand side.
pub fn rhs(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let h = (i as u64)
                .wrapping_mul(2654435761)
                .wrapping_add(seed.wrapping_mul(97));
            (h % 1000) as f64 / 500.0 - 1.0
        })
        .collect()
}
