//! A vector function with a tridiagonal Jacobian:
//!
//! ```text
//! F_i(x) = x_{i+1}² − x_i·x_{i−1} + sin(x_i),   i = 0..n,   with x_{−1} = x_n = 0
//! ```
//!
//! With its analytic Jacobian in the CSR order of [`jacobian_pattern`].
//!
//! ```
//! use sparsediff_problems::{eval_point, tridiagonal};
//!
//! let x = eval_point(6);
//! let f: Vec<f64> = tridiagonal::value(&x);
//! assert_eq!(f[0], x[1] * x[1] + x[0].sin());
//! let jac = tridiagonal::jacobian_pattern(6)?;
//! let values = tridiagonal::jacobian_values(&x);
//! assert_eq!(jac.row(3), &[2, 3, 4]);
//! assert_eq!(values[jac.row_range(3)][2], 2.0 * x[4]); // ∂F_3/∂x_4
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use sparsediff_pattern::{Pattern, PatternError};

use crate::{Scalar, check_len, tridiagonal_pattern};

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
    let n = x.len();
    check_len("tridiagonal output", out.len(), n);
    for (i, o) in out.iter_mut().enumerate() {
        // The terms with x_{−1} = 0 or x_n = 0 vanish and are left out, so no variable
        // is multiplied by a constant zero (which a sparsity tracer would count).
        let mut f = x[i].sin();
        if i + 1 < n {
            f = x[i + 1] * x[i + 1] + f;
        }
        if i > 0 {
            f -= x[i] * x[i - 1];
        }
        *o = f;
    }
}

/// The structure of the Jacobian: the n×n tridiagonal pattern.
pub fn jacobian_pattern(n: usize) -> Result<Pattern, PatternError> {
    tridiagonal_pattern(n)
}

/// The analytic Jacobian in the CSR order of [`jacobian_pattern`]`(x.len())`:
/// `∂F_i/∂x_{i−1} = −x_i`, `∂F_i/∂x_i = cos(x_i) − x_{i−1}`, `∂F_i/∂x_{i+1} = 2x_{i+1}`.
pub fn jacobian_values(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; (3 * x.len()).saturating_sub(2)];
    jacobian_values_into(x, &mut out);
    out
}

/// [`jacobian_values`] into a caller's buffer of length `max(3n − 2, 0)` (no allocation).
///
/// # Panics
/// If `out` has another length.
pub fn jacobian_values_into(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    check_len(
        "tridiagonal Jacobian buffer",
        out.len(),
        (3 * n).saturating_sub(2),
    );
    let mut pos = 0;
    for i in 0..n {
        let left = if i > 0 { x[i - 1] } else { 0.0 };
        if i > 0 {
            out[pos] = -x[i];
            pos += 1;
        }
        out[pos] = x[i].cos() - left;
        pos += 1;
        if i + 1 < n {
            out[pos] = 2.0 * x[i + 1];
            pos += 1;
        }
    }
}

/// The tridiagonal vector function as a [`VectorFunction`](sparsediff_ad::VectorFunction), for
/// `sparsediff::SparseJacobian::prepare`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tridiagonal;

impl sparsediff_ad::VectorFunction for Tridiagonal {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }

    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        value_into(x, out);
    }
}
