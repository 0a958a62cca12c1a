//! What a Newton-type solver asks of an objective f: Rⁿ → R — its value, its gradient, and
//! its sparse Hessian (values on a [`Pattern`]) or Hessian-vector products — and of a
//! nonlinear system F: Rⁿ → Rᵐ: its residual and its sparse Jacobian.
//!
//! Three capabilities, as argmin splits cost, gradient and Hessian: [`ValueGradient`] for
//! first-order methods (L-BFGS, line searches), [`ValueGradientHessian`] for Newton and
//! trust-region methods, and [`ResidualJacobian`] for Newton's method on F(x) = 0. `sparsediff::SparseHessian` (a recovered Hessian of any function),
//! `sparsediff_composite::CompositeHessian` (objectives made of rows) and a user's own
//! hand-written derivatives implement them, and the solvers of `sparsediff-solve` take any
//! of them.
//!
//! ```
//! use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
//! use sparsediff_pattern::Pattern;
//!
//! /// f = Σ (xᵢ − 1)⁴ with its hand-written derivatives: a diagonal Hessian.
//! struct Quartic { pattern: Pattern, h: Vec<f64> }
//! impl ValueGradient for Quartic {
//!     type Error = std::convert::Infallible;
//!     fn dim(&self) -> usize { self.h.len() }
//!     fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
//!         Ok(x.iter().map(|v| (v - 1.0).powi(4)).sum())
//!     }
//!     fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
//!         for (g, v) in g.iter_mut().zip(x) { *g = 4.0 * (v - 1.0).powi(3); }
//!         self.value(x)
//!     }
//! }
//! impl ValueGradientHessian for Quartic {
//!     fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
//!         for (h, v) in self.h.iter_mut().zip(x) { *h = 12.0 * (v - 1.0).powi(2); }
//!         Ok(SymmetricValues { pattern: &self.pattern, values: &self.h })
//!     }
//! }
//! let mut f = Quartic { pattern: Pattern::identity(3)?, h: vec![0.0; 3] };
//! let mut hv = [0.0; 3];
//! f.hessian_vector(&[0.0, 1.0, 3.0], &[1.0, 1.0, 1.0], &mut hv)?; // the default: from the matrix
//! assert_eq!(hv, [12.0, 0.0, 48.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Pattern;

/// A symmetric matrix as a pattern (both triangles) and its values in the pattern's entry
/// order (CSR).
#[derive(Debug, Clone, Copy)]
pub struct SymmetricValues<'a> {
    /// The pattern, both triangles. It may change between evaluations (an objective whose
    /// branches widen its pattern): solvers that keep a symbolic factorisation compare it.
    pub pattern: &'a Pattern,
    /// One value per entry of `pattern`.
    pub values: &'a [f64],
}

impl SymmetricValues<'_> {
    /// `out = A·v`.
    ///
    /// Panics if the lengths do not match the pattern (a programming error of the caller).
    pub fn mul_vec(&self, v: &[f64], out: &mut [f64]) {
        csr_mul_vec(self.pattern, self.values, v, out);
    }
}

/// A general (m×n) sparse matrix as a pattern and its values in the pattern's entry order
/// (CSR): what [`ResidualJacobian::jacobian`] returns.
#[derive(Debug, Clone, Copy)]
pub struct MatrixValues<'a> {
    /// The pattern. It may change between evaluations (a function whose branches widen
    /// its pattern): solvers that keep a symbolic factorisation compare it.
    pub pattern: &'a Pattern,
    /// One value per entry of `pattern`.
    pub values: &'a [f64],
}

impl MatrixValues<'_> {
    /// `out = A·v`.
    ///
    /// Panics if the lengths do not match the pattern (a programming error of the caller).
    ///
    /// ```
    /// use sparsediff_pattern::objective::MatrixValues;
    /// use sparsediff_pattern::Pattern;
    /// // [[1, 2], [0, 3]]
    /// let p = Pattern::from_entries(2, 2, [(0, 0), (0, 1), (1, 1)])?;
    /// let a = MatrixValues { pattern: &p, values: &[1.0, 2.0, 3.0] };
    /// let mut out = [0.0; 2];
    /// a.mul_vec(&[1.0, 1.0], &mut out);
    /// assert_eq!(out, [3.0, 3.0]);
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn mul_vec(&self, v: &[f64], out: &mut [f64]) {
        csr_mul_vec(self.pattern, self.values, v, out);
    }
}

/// `out = A·v` for a CSR matrix; panics on mismatched lengths.
fn csr_mul_vec(pattern: &Pattern, values: &[f64], v: &[f64], out: &mut [f64]) {
    assert_eq!(values.len(), pattern.nnz(), "values length");
    assert_eq!(v.len(), pattern.ncols(), "vector length");
    assert_eq!(out.len(), pattern.nrows(), "output length");
    for (i, o) in out.iter_mut().enumerate() {
        let range = pattern.row_range(i);
        *o = pattern
            .row(i)
            .iter()
            .zip(&values[range])
            .map(|(&j, a)| a * v[j])
            .sum();
    }
}

/// f: Rⁿ → R with its gradient.
pub trait ValueGradient {
    /// Why an evaluation failed.
    type Error: std::error::Error + 'static;
    /// n.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error>;
    /// ∇f(x) into `grad` (length n); returns f(x).
    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, Self::Error>;
}

/// f: Rⁿ → R with its gradient and its sparse Hessian.
pub trait ValueGradientHessian: ValueGradient {
    /// ∇²f(x): pattern and values, both triangles.
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Self::Error>;

    /// ∇²f(x)·v into `out`. Default: through [`hessian`](Self::hessian); implementations
    /// with a matrix-free product (a tape's forward-over-reverse sweep) override it.
    fn hessian_vector(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), Self::Error> {
        self.hessian(x)?.mul_vec(v, out);
        Ok(())
    }

    /// Products one [`hessian`](Self::hessian) costs (probes; 0 when it is not computed
    /// from products), for the counts solvers report.
    fn products_per_hessian(&self) -> usize {
        0
    }
}

/// F: Rⁿ → Rᵐ with its sparse Jacobian: what Newton's method for F(x) = 0 asks of a
/// nonlinear system (`sparsediff_solve::nonlinear`, which needs m = n).
/// `sparsediff::SparseJacobian` implements it.
///
/// ```
/// use sparsediff_pattern::objective::{MatrixValues, ResidualJacobian};
/// use sparsediff_pattern::Pattern;
///
/// /// F_i = x_i² − 2: a diagonal Jacobian 2·x_i.
/// struct Roots { pattern: Pattern, j: Vec<f64> }
/// impl ResidualJacobian for Roots {
///     type Error = std::convert::Infallible;
///     fn dim(&self) -> usize { self.j.len() }
///     fn residual(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), Self::Error> {
///         for (o, v) in out.iter_mut().zip(x) { *o = v * v - 2.0; }
///         Ok(())
///     }
///     fn jacobian(&mut self, x: &[f64]) -> Result<MatrixValues<'_>, Self::Error> {
///         for (j, v) in self.j.iter_mut().zip(x) { *j = 2.0 * v; }
///         Ok(MatrixValues { pattern: &self.pattern, values: &self.j })
///     }
/// }
/// let mut f = Roots { pattern: Pattern::identity(2)?, j: vec![0.0; 2] };
/// assert_eq!(f.num_residuals(), 2); // the default: square
/// let mut jv = [0.0; 2];
/// f.jacobian_vector(&[1.0, 3.0], &[1.0, 1.0], &mut jv)?; // the default: from the matrix
/// assert_eq!(jv, [2.0, 6.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ResidualJacobian {
    /// Why an evaluation failed.
    type Error: std::error::Error + 'static;
    /// n, the number of unknowns.
    fn dim(&self) -> usize;
    /// m, the number of residuals (default: n).
    fn num_residuals(&self) -> usize {
        self.dim()
    }
    /// F(x) into `out` (length m).
    fn residual(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), Self::Error>;
    /// J(x) = ∂F/∂x: pattern (m×n) and values.
    fn jacobian(&mut self, x: &[f64]) -> Result<MatrixValues<'_>, Self::Error>;
    /// J(x)·v into `out`. Default: through [`jacobian`](Self::jacobian).
    fn jacobian_vector(
        &mut self,
        x: &[f64],
        v: &[f64],
        out: &mut [f64],
    ) -> Result<(), Self::Error> {
        self.jacobian(x)?.mul_vec(v, out);
        Ok(())
    }
    /// Products one [`jacobian`](Self::jacobian) costs (probes; 0 when it is not computed
    /// from products), for the counts solvers report.
    fn products_per_jacobian(&self) -> usize {
        0
    }
}
