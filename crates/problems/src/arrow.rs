//! A vector function whose Jacobian is an arrowhead (dense first row and first column, and
//! the diagonal):
//!
//! ```text
//! F_0(x) = Σ_j x_j²,   F_i(x) = x_0·x_i + x_i²,   i = 1..n−1   (m = n outputs)
//! ```
//!
//! Column designs and row designs each need n products; a bidirectional colouring needs 3.
//!
//! ```
//! use sparsediff_problems::{arrow, eval_point};
//!
//! let x = eval_point(5);
//! let jac = arrow::jacobian_pattern(5)?;
//! let values = arrow::jacobian_values(&x);
//! assert_eq!(jac.row(0), &[0, 1, 2, 3, 4]);
//! assert_eq!(jac.row(3), &[0, 3]);
//! assert_eq!(values[jac.row_range(3)], [x[3], x[0] + 2.0 * x[3]]);
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
    check_len("arrow output", out.len(), x.len());
    let Some((first, rest)) = out.split_first_mut() else {
        return;
    };
    *first = x.iter().fold(D::zero(), |s, &v| s + v * v);
    let x0 = x[0];
    for (o, &v) in rest.iter_mut().zip(&x[1..]) {
        *o = x0 * v + v * v;
    }
}

/// The structure of the Jacobian: row 0 dense, row i ≥ 1 at columns 0 and i.
pub fn jacobian_pattern(n: usize) -> Result<Pattern, PatternError> {
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut col_idx: Vec<usize> = (0..n).collect();
    row_ptr.push(0);
    if n > 0 {
        row_ptr.push(n);
    }
    for i in 1..n {
        col_idx.extend([0, i]);
        row_ptr.push(col_idx.len());
    }
    Pattern::from_csr(n, n, row_ptr, col_idx)
}

/// The analytic Jacobian in the CSR order of [`jacobian_pattern`]`(x.len())`: `2x_j` on
/// row 0, `∂F_i/∂x_0 = x_i`, `∂F_i/∂x_i = x_0 + 2x_i`.
pub fn jacobian_values(x: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    for &v in x.iter().skip(1) {
        out.extend([v, x[0] + 2.0 * v]);
    }
    out
}

/// The arrow vector function as a [`VectorFunction`](sparsediff_ad::VectorFunction).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrow;

impl sparsediff_ad::VectorFunction for Arrow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }

    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        value_into(x, out);
    }
}
