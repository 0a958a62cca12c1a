//! The solver-facing traits of [`sparsediff_pattern::objective`] for the facade's prepared
//! derivatives: [`SparseJacobian`] is a [`ResidualJacobian`] (F and its recovered sparse
//! Jacobian), so `sparsediff_solve`'s Newton method for F(x) = 0 takes it as it is.
//! ([`SparseHessian`](crate::SparseHessian) implements `ValueGradientHessian` in its own
//! module.)
//!
//! ```
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::pattern::objective::ResidualJacobian;
//! use sparsediff::{Options, SparseJacobian, VectorFunction};
//!
//! /// F_i = x_i² − x_{i+1} (and F_{n−1} = x_{n−1} − 1): square.
//! struct Chain;
//! impl VectorFunction for Chain {
//!     fn num_outputs(&self, n: usize) -> usize { n }
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
//!         let n = x.len();
//!         for i in 0..n - 1 { out[i] = x[i].powi(2) - x[i + 1]; }
//!         out[n - 1] = x[n - 1] - 1.0;
//!     }
//! }
//! let x = vec![2.0; 5];
//! let mut j = SparseJacobian::prepare(Chain, &x, &Options::default())?;
//! assert_eq!((j.dim(), j.num_residuals()), (5, 5));
//! let mut r = vec![0.0; 5];
//! j.residual(&x, &mut r)?;
//! assert_eq!(r, [2.0, 2.0, 2.0, 2.0, 1.0]);
//! let jac = j.jacobian(&x)?;
//! assert_eq!(jac.pattern.nnz(), 9); // 2 per row but the last
//! assert_eq!(jac.values[0], 4.0); // ∂F_0/∂x_0 = 2·x_0
//! # Ok::<(), sparsediff::SparseError>(())
//! ```

use sparsediff_pattern::objective::{MatrixValues, ResidualJacobian};

use crate::error::SparseError;
use crate::jacobian::SparseJacobian;

fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), SparseError> {
    if len == expected {
        Ok(())
    } else {
        Err(SparseError::WrongLength {
            what,
            len,
            expected,
        })
    }
}

impl ResidualJacobian for SparseJacobian<'_> {
    type Error = SparseError;

    fn dim(&self) -> usize {
        self.pattern().ncols()
    }

    fn num_residuals(&self) -> usize {
        self.pattern().nrows()
    }

    fn residual(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), SparseError> {
        check_len("x", x.len(), self.pattern().ncols())?;
        check_len("residual buffer", out.len(), self.pattern().nrows())?;
        self.value(x, out)
    }

    fn jacobian(&mut self, x: &[f64]) -> Result<MatrixValues<'_>, SparseError> {
        self.evaluate(x)?;
        Ok(MatrixValues {
            pattern: self.pattern(),
            values: self.values(),
        })
    }

    fn products_per_jacobian(&self) -> usize {
        self.info().probes
    }
}
