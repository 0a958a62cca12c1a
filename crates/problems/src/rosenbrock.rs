//! The chained Rosenbrock function, whose Hessian is tridiagonal:
//!
//! ```text
//! f(x) = Σ_{i=0}^{n−2} [ 100·(x_{i+1} − x_i²)² + (1 − x_i)² ]
//! ```
//!
//! With its analytic gradient and Hessian (the latter in the CSR order of
//! [`hessian_pattern`]). For n ≤ 1 the sum is empty and f ≡ 0.
//!
//! ```
//! use num_dual::{first_derivative, Dual64};
//! use sparsediff_problems::{eval_point, rosenbrock};
//!
//! let x = eval_point(5);
//! // d/dt f(x + t·e_2) at t = 0, by a dual number, equals the analytic gradient entry
//! let (_, d) = first_derivative(
//!     |t: Dual64| {
//!         let mut xt: Vec<Dual64> = x.iter().map(|&v| Dual64::from(v)).collect();
//!         xt[2] += t;
//!         rosenbrock::value(&xt)
//!     },
//!     0.0,
//! );
//! assert!((d - rosenbrock::gradient(&x)[2]).abs() < 1e-12);
//! ```

use sparsediff_pattern::{Pattern, PatternError};

use crate::{Scalar, check_len, tridiagonal_pattern};

/// f(x), for any scalar type.
pub fn value<D: Scalar>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0] * w[0];
        let u = w[0] - 1.0;
        f += t * t * 100.0 + u * u;
    }
    f
}

/// The analytic gradient ∇f(x).
pub fn gradient(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len().saturating_sub(1) {
        let t = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
    g
}

/// The structure of the Hessian: the n×n tridiagonal pattern (3n − 2 entries; errors only
/// when n exceeds the limits of [`Pattern`]).
pub fn hessian_pattern(n: usize) -> Result<Pattern, PatternError> {
    tridiagonal_pattern(n)
}

/// The analytic Hessian ∇²f(x), in the CSR order of [`hessian_pattern`]`(x.len())`.
pub fn hessian_values(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; (3 * x.len()).saturating_sub(2)];
    hessian_values_into(x, &mut out);
    out
}

/// [`hessian_values`] into a caller's buffer of length `max(3n − 2, 0)` (no allocation).
///
/// # Panics
/// If `out` has another length.
pub fn hessian_values_into(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    check_len(
        "Rosenbrock Hessian buffer",
        out.len(),
        (3 * n).saturating_sub(2),
    );
    let mut pos = 0;
    for i in 0..n {
        // term i − 1 contributes 200 on the diagonal, −400·x_{i−1} off it;
        // term i contributes 1200·x_i² − 400·x_{i+1} + 2 on the diagonal.
        if i > 0 {
            out[pos] = -400.0 * x[i - 1];
            pos += 1;
        }
        let mut d = if i > 0 { 200.0 } else { 0.0 };
        if i + 1 < n {
            d += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        }
        out[pos] = d;
        pos += 1;
        if i + 1 < n {
            out[pos] = -400.0 * x[i];
            pos += 1;
        }
    }
}

/// The chained Rosenbrock function as a [`ScalarFunction`](sparsediff_ad::ScalarFunction), for
/// `sparsediff::SparseHessian::prepare`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rosenbrock;

impl sparsediff_ad::ScalarFunction for Rosenbrock {
    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        value(x)
    }
}
