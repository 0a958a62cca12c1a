//! Composite Hessians: the sparse Hessian of a *composite* objective
//!
//! ```text
//! f(z) = φ(z) + Σ_i ψ_i(r_i(z)),     φ(z) = Σ_k φ_k(z[vars_k]),   r_i(z) = r_i(z[vars_i])
//! ```
//!
//! where the objective terms φ_k and the residuals r_i are [`RowFunctions`] (each a scalar
//! function of at most [`MAX_LOCAL_VARS`] entries of z, written once generic over the
//! scalar) and every ψ_i is a scalar [`Outer`] function known by its value and first two
//! derivatives (a penalty `λr + (ρ/2)r²`, an inequality term of an augmented Lagrangian, a
//! weight, or a closure). Its Hessian is
//!
//! ```text
//! ∇²f = Σ_k ∇²φ_k + Σ_i ψ_i′(r_i)·∇²r_i + Jᵀ·diag(ψ″(r))·J
//! ```
//!
//! (the second-order chain rule, exact: `∇²(ψ∘r) = ψ′(r)∇²r + ψ″(r)∇r∇rᵀ` for every row),
//! with J the sparse Jacobian of r. Each part is computed where it is cheap:
//!
//! * **r and J** row by row, by forward mode over the row's own variables: a row with k
//!   variables is evaluated once on k-lane duals seeded with the k unit vectors, so J costs
//!   one pass over the rows whatever its colouring number. Affine rows (no comparison, and
//!   a polynomial of degree ≤ 1 by a degree-bounding evaluation: `|x|` or `x % c`, which
//!   trace without curvature, do not count) are *frozen*: their gradient is computed once
//!   at prepare and their value at evaluate as `c + g·z` ([`CompositeOptions`]).
//! * **Quadratic objective terms** (no comparison, degree 2) have a constant Hessian: it is
//!   computed once at prepare and lives in the base matrix below, and evaluate skips them.
//! * **The weighted Hessian** `Σ_k ∇²φ_k + Σ_i ψ_i′∇²r_i` only for the rows that are not
//!   affine, on second-order jets whose Hessian part covers just the diagonal blocks of the
//!   row's traced local Hessian (a sum of univariate terms pays for its diagonal, a function
//!   of disjoint pairs for 2×2 blocks); every Hessian entry obeys its own chain rule, so the
//!   subset is exact. The traced entries, weighted by `ψ_i′(r_i)`, are added into the output.
//! * **JᵀDJ** as `Σ_i ψ_i″(r_i)·∇r_i∇r_iᵀ` over the rows whose ψ is not linear, skipping the
//!   rows with `ψ_i″(r_i) = 0` (inactive inequalities). For frozen rows with a constant ψ″
//!   (penalties) the products are constant: they form a base matrix, added once at prepare
//!   and again only when [`set_outer`](CompositeHessian::set_outer) changes that constant.
//!
//! Everything symbolic — the local patterns (one trace per row), the jet layouts, the
//! grouping of rows of the same shape into classes that run monomorphised loops, the output
//! pattern (the union of the rows' contributions, both triangles) and the index of every
//! product in it — is done once by [`CompositeHessian::prepare`]. [`evaluate`](
//! CompositeHessian::evaluate) starts from the base, adds the products into the lower
//! triangle, expands it into the CSR values of both triangles, checks that they are finite,
//! and allocates nothing.
//!
//! The crate is laid out by phase: the outer functions ψ (`outer.rs`), the symbolic analysis
//! done once (`symbolic.rs`), the numeric evaluation (`numeric.rs`), the prepared value
//! that holds both (`hessian.rs`), and the two scalars the rows run on at prepare and at
//! evaluate (`Degree` in `degree.rs`, `Jet` in `jet.rs`).
//!
//! ```
//! use sparsediff_composite::{CompositeHessian, NoRows, Outer, RowFunctions};
//! use sparsediff_composite::num_dual::DualNum;
//!
//! /// r_i = z_{i+1} − z_i² (i = 0..n−1): penalised, f = Σ (ρ/2) r_i² (Rosenbrock's valley).
//! struct Valley(Vec<[usize; 2]>);
//! impl RowFunctions for Valley {
//!     fn num_rows(&self) -> usize { self.0.len() }
//!     fn vars(&self, i: usize) -> &[usize] { &self.0[i] }
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _i: usize, z: &[D]) -> D {
//!         z[1] - z[0].powi(2)
//!     }
//! }
//! let n = 100;
//! let rows = Valley((0..n - 1).map(|i| [i, i + 1]).collect());
//! let outer = vec![Outer::Penalty { lambda: 0.0, rho: 200.0 }; n - 1];
//! let z = vec![0.5; n];
//! let mut h = CompositeHessian::prepare(NoRows, rows, outer, &z)?;
//! assert_eq!(h.info().nnz, 3 * n - 2); // tridiagonal
//! let m = h.evaluate(&z)?;
//! // ∂²/∂z_0² of 100 (z_1 − z_0²)² = 1200 z_0² − 400 z_1
//! assert!((m.get(0, 0).copied().unwrap_or(0.0) - (1200.0 * 0.25 - 400.0 * 0.5)).abs() < 1e-12);
//! assert_eq!(m.get(1, 0), Some(&-200.0)); // −400 z_0
//! # Ok::<(), sparsediff_composite::CompositeError>(())
//! ```
#![deny(missing_docs)]

mod degree;
mod error;
mod hessian;
mod jet;
mod numeric;
mod outer;
mod symbolic;

use num_dual::DualNum;

pub use error::CompositeError;
pub use hessian::{CompositeHessian, CompositeInfo};
pub use jet::MAX_LOCAL_VARS;
pub use numeric::StageTimes;
pub use outer::{Outer, OuterFn};
pub use symbolic::CompositeOptions;

/// The num-dual crate, re-exported: rows are generic over `num_dual::DualNum`.
pub use sparsediff_ad::num_dual;

/// A list of scalar functions of few variables each ("rows"): row i depends only on the
/// entries `vars(i)` of z and is evaluated on their values, in that order. Written once,
/// generic over the scalar, like [`ScalarFunction`](sparsediff_ad::ScalarFunction).
///
/// ```
/// use sparsediff_composite::RowFunctions;
/// use sparsediff_composite::num_dual::DualNum;
///
/// /// Row i = sin(z_i)·z_{i+1}.
/// struct Products(Vec<[usize; 2]>);
/// impl RowFunctions for Products {
///     fn num_rows(&self) -> usize { self.0.len() }
///     fn vars(&self, i: usize) -> &[usize] { &self.0[i] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _i: usize, local: &[D]) -> D {
///         local[0].sin() * local[1]
///     }
/// }
/// let rows = Products(vec![[0, 1], [1, 2]]);
/// assert_eq!(rows.eval(1, &[0.0, 3.0]), 0.0);
/// ```
pub trait RowFunctions {
    /// Number of rows.
    fn num_rows(&self) -> usize;

    /// The indices into z of row i's variables: distinct, at most [`MAX_LOCAL_VARS`].
    fn vars(&self, i: usize) -> &[usize];

    /// Row i at the local values `local[a] = z[vars(i)[a]]`.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D;
}

impl<T: RowFunctions + ?Sized> RowFunctions for &T {
    fn num_rows(&self) -> usize {
        (**self).num_rows()
    }
    fn vars(&self, i: usize) -> &[usize] {
        (**self).vars(i)
    }
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D {
        (**self).eval(i, local)
    }
}

/// No rows: the objective part of a composite without φ (or residuals of one without r).
///
/// ```
/// use sparsediff_composite::{NoRows, RowFunctions};
/// assert_eq!(NoRows.num_rows(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRows;

impl RowFunctions for NoRows {
    fn num_rows(&self) -> usize {
        0
    }
    fn vars(&self, _: usize) -> &[usize] {
        &[]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, _: &[D]) -> D {
        D::zero()
    }
}
