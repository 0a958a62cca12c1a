//! A vector function whose Jacobian has one dense row, the rest diagonal:
//!
//! ```text
//! F_0(x) = Σ_j x_j,   F_i(x) = x_i³,   i = 1..n−1   (m = n outputs)
//! ```
//!
//! Column designs need n products (every column meets row 0); row designs need 2 (row 0,
//! then every other row at once): the case for row (VJP) plans.
//!
//! ```
//! use sparsediff_problems::{dense_row, eval_point};
//!
//! let x = eval_point(5);
//! assert_eq!(dense_row::value(&x)[0], x.iter().sum::<f64>());
//! let jac = dense_row::jacobian_pattern(5)?;
//! let values = dense_row::jacobian_values(&x);
//! assert_eq!(jac.row(0), &[0, 1, 2, 3, 4]);
//! assert_eq!(values[jac.row_range(2)][0], 3.0 * x[2] * x[2]); // ∂F_2/∂x_2
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use sparsediff_pattern::{Pattern, PatternError};

use crate::{Scalar, check_len};

/// F(x), for any scalar type.
pub fn value<D: Scalar>(x: &[D]) -> Vec<D> {
    let mut out = vec![D::zero(); x.len()];
    value_into(x, &mut out);
    out
}

/// F(x) into a caller's buffer (no allocation).
///
/// # Panics
/// If `out.len() != x.len()`.
pub fn value_into<D: Scalar>(x: &[D], out: &mut [D]) {
    check_len("dense-row output", out.len(), x.len());
    let Some((first, rest)) = out.split_first_mut() else {
        return;
    };
    *first = x.iter().copied().fold(D::zero(), |s, v| s + v);
    for (o, &v) in rest.iter_mut().zip(&x[1..]) {
        *o = v * v * v;
    }
}

/// The structure of the Jacobian: row 0 dense, then the diagonal of rows 1..n−1.
pub fn jacobian_pattern(n: usize) -> Result<Pattern, PatternError> {
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut col_idx: Vec<usize> = (0..n).collect();
    row_ptr.push(0);
    row_ptr.push(n);
    for i in 1..n {
        col_idx.push(i);
        row_ptr.push(col_idx.len());
    }
    if n == 0 {
        row_ptr.truncate(1);
    }
    Pattern::from_csr(n, n, row_ptr, col_idx)
}

/// The analytic Jacobian in the CSR order of [`jacobian_pattern`]`(x.len())`: 1 on row 0,
/// `∂F_i/∂x_i = 3x_i²`.
pub fn jacobian_values(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut out = vec![1.0; n];
    out.extend(x.iter().skip(1).map(|v| 3.0 * v * v));
    out
}

/// The dense-row vector function as a [`VectorFunction`](sparsediff_ad::VectorFunction).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DenseRow;

impl sparsediff_ad::VectorFunction for DenseRow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }

    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        value_into(x, out);
    }
}
