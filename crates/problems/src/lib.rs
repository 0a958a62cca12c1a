//! The test and benchmark problems of sparsediff, written once and generic over the scalar.
//!
//! Like argmin's test functions, they live in a crate of their own: the stages and the
//! facade do not depend on it (the facade only for its tests, benchmarks and examples); the
//! command-line tool does, for `sparsediff bench` and the `cartpole:N=..` pattern spec.
//!
//! Every function takes its inputs as a slice of any [`Scalar`] — `f64`, num-dual's forward
//! types (`Dual64`, `DualSVec64<N>`, `Dual2SVec64<N>`, ...), the reverse-mode tape variable
//! and the sparsity tracer of `sparsediff-ad` — so one definition serves plain evaluation,
//! reference derivatives and every AD backend. Each problem also comes with analytic (or
//! otherwise independent) derivatives in the CSR order of its sparsity pattern, so backends
//! can be checked and timed against them.
//!
//! * [`rosenbrock`]: the chained Rosenbrock function (tridiagonal Hessian);
//! * [`grid_energy`]: a quartic edge energy on an s×s grid (5-point Hessian);
//! * [`tridiagonal`]: a vector function with a tridiagonal Jacobian;
//! * [`dense_row`] and [`arrow`]: vector functions with a dense first row (and, for the
//!   arrow, a dense first column), where column designs need n products;
//! * [`cartpole`]: the cartpole swing-up by trapezoidal transcription and its augmented
//!   Lagrangian, with a reference Hessian and the row-by-row composite structure.
//!
//! The specifications are `spec/generic-hessians.md` and `spec/cartpole-swingup.md`, copies
//! of the project's shared problem files kept in this crate so that a clone holds them; the
//! first three problems are evaluated at [`eval_point`].
//!
//! ```
//! use sparsediff_problems::{eval_point, rosenbrock};
//!
//! let x = eval_point(1000);
//! let f: f64 = rosenbrock::value(&x);
//! let h = rosenbrock::hessian_pattern(x.len())?; // tridiagonal
//! let values = rosenbrock::hessian_values(&x); // in h's CSR order
//! assert_eq!(values.len(), h.nnz());
//! assert_eq!(h.nnz(), 3 * 1000 - 2);
//! assert!(f > 0.0);
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

#![deny(missing_docs)]

use num_dual::DualNum;
use sparsediff_pattern::{Pattern, PatternError};

pub mod arrow;
pub mod cartpole;
pub mod dense_row;
pub mod grid_energy;
pub mod rosenbrock;
pub mod tridiagonal;

/// The scalar every problem is generic over: anything that is a
/// `num_dual::DualNum<Primitive = f64> + Copy` (a blanket implementation covers every such
/// type, so this is only a shorter name for the bound).
///
/// ```
/// use num_dual::{Dual64, DualNum};
/// use sparsediff_problems::{rosenbrock, Scalar};
///
/// fn twice<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     rosenbrock::value(x) * 2.0 // D: Scalar holds for every such D
/// }
/// fn is_scalar<D: Scalar>() {}
/// is_scalar::<f64>();
/// is_scalar::<Dual64>();
/// assert_eq!(twice(&[1.0, 1.0]), 0.0); // the minimum of Rosenbrock
/// ```
pub trait Scalar: DualNum<Primitive = f64> + Copy {}

impl<T: DualNum<Primitive = f64> + Copy> Scalar for T {}

/// The evaluation point of the generic problems: `x_i = 0.5 + 0.3·sin(0.7·i)`, `i = 0..n`.
///
/// ```
/// let x = sparsediff_problems::eval_point(3);
/// assert_eq!(x[0], 0.5);
/// assert!((x[1] - (0.5 + 0.3 * 0.7f64.sin())).abs() < 1e-16);
/// ```
pub fn eval_point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
}

/// The n×n tridiagonal pattern (n = 0 gives the empty 0×0 pattern).
pub(crate) fn tridiagonal_pattern(n: usize) -> Result<Pattern, PatternError> {
    let nnz = (3 * n).saturating_sub(2);
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut col_idx = Vec::with_capacity(nnz);
    row_ptr.push(0);
    for i in 0..n {
        if i > 0 {
            col_idx.push(i - 1);
        }
        col_idx.push(i);
        if i + 1 < n {
            col_idx.push(i + 1);
        }
        row_ptr.push(col_idx.len());
    }
    Pattern::from_csr(n, n, row_ptr, col_idx)
}

/// Panics with a clear message when an output buffer has the wrong length.
#[track_caller]
pub(crate) fn check_len(what: &str, got: usize, expected: usize) {
    assert!(
        got == expected,
        "{what} has length {got}, expected {expected}"
    );
}
