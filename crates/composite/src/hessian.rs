//! [`CompositeHessian`]: the prepared value — what the symbolic analysis found, the
//! workspace of the numeric evaluation, and the last evaluated Hessian.

use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sprs::CsMat;

use crate::RowFunctions;
use crate::error::CompositeError;
use crate::outer::Outer;
use crate::symbolic::{Class, FrozenClass, Source};

/// What a prepared [`CompositeHessian`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeInfo {
    /// Length of z.
    pub variables: usize,
    /// Objective terms φ_k.
    pub objective_rows: usize,
    /// Residuals r_i.
    pub residual_rows: usize,
    /// Structural entries of ∇²f (both triangles).
    pub nnz: usize,
    /// Entries of the sparse Jacobian J of r (one per residual variable).
    pub jacobian_nnz: usize,
    /// Rows (of either set) with a nonzero traced local Hessian: evaluated on second-order
    /// jets at every evaluation.
    pub curved_rows: usize,
    /// Affine rows with their gradient frozen at prepare ([`CompositeOptions::freeze_affine`](crate::CompositeOptions::freeze_affine)).
    pub frozen_rows: usize,
    /// Quadratic objective rows whose constant Hessian is in the base matrix
    /// ([`CompositeOptions::freeze_quadratic`](crate::CompositeOptions::freeze_quadratic)).
    pub quadratic_rows: usize,
    /// Rows evaluated on jets (first or second order) at every evaluation.
    pub jet_rows: usize,
    /// Lower-triangle additions of the weighted Hessian per evaluation.
    pub weighted_products: usize,
    /// Lower-triangle additions of JᵀDJ per evaluation, at most: the jet rows under a curved
    /// ψ, and the frozen rows whose ψ″ is not constant (rows with ψ″ = 0 are skipped).
    pub outer_products: usize,
    /// Lower-triangle additions of JᵀDJ made once into the base matrix (frozen rows with a
    /// constant ψ″).
    pub base_products: usize,
    /// Classes of jet rows (same shape and local structure: one monomorphised loop each).
    pub classes: usize,
    /// Most variables of a row.
    pub max_local_vars: usize,
    /// Most jet lanes of a class: variables whose partial derivative is a constant
    /// (`c·x_a`, e.g. the state differences of a collocation defect) get no lane.
    pub max_lanes: usize,
}

/// A prepared composite Hessian: `evaluate(z)` gives ∇²f(z) as a CSR matrix owned by this
/// value (both triangles, the pattern's order), allocation-free; f and ∇f at the same point
/// come from the same pass ([`value`](Self::value), [`gradient`](Self::gradient)). It is
/// the objective of a Newton-type solver: [`ValueGradient`] and [`ValueGradientHessian`].
/// See the [crate documentation](crate).
///
/// An augmented Lagrangian `x² + y² + λ·c + (ρ/2)c²` with `c = x·y − 1`, its multiplier
/// updated between evaluations:
///
/// ```
/// use sparsediff_composite::{CompositeHessian, Outer, RowFunctions};
/// use sparsediff_composite::num_dual::DualNum;
///
/// /// Objective terms x², y² (row k is z_k²), or the constraint x·y − 1.
/// struct Squares;
/// impl RowFunctions for Squares {
///     fn num_rows(&self) -> usize { 2 }
///     fn vars(&self, i: usize) -> &[usize] { [&[0][..], &[1][..]][i] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, z: &[D]) -> D { z[0] * z[0] }
/// }
/// struct Constraint;
/// impl RowFunctions for Constraint {
///     fn num_rows(&self) -> usize { 1 }
///     fn vars(&self, _: usize) -> &[usize] { &[0, 1] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, z: &[D]) -> D {
///         z[0] * z[1] - 1.0
///     }
/// }
/// let (lambda, rho) = (0.5, 10.0);
/// let z = [2.0, 3.0]; // c = 5
/// let mut h = CompositeHessian::prepare(Squares, Constraint, vec![Outer::Penalty { lambda, rho }], &z)?;
/// let m = h.evaluate(&z)?;
/// // ∂²/∂x∂y = ψ′(c)·1 + ψ″(c)·y·x = (λ + ρc) + ρ·6
/// assert_eq!(m.get(0, 1), Some(&(0.5 + 50.0 + 60.0)));
/// assert_eq!(m.get(0, 0), Some(&(2.0 + 10.0 * 9.0))); // 2 + ρ·y²
/// let mut grad = [0.0; 2];
/// let f = h.gradient(&z, &mut grad)?; // from the rows of the evaluation above
/// assert_eq!(grad, [4.0 + 50.5 * 3.0, 6.0 + 50.5 * 2.0]);
/// assert_eq!(f, 13.0 + 0.5 * 5.0 + 5.0 * 25.0);
/// assert_eq!(h.value(&[1.0, 1.0])?, 2.0 + 0.0); // c = 0 at (1, 1)
///
/// // a new multiplier: same structure, new values
/// h.set_outer(0, Outer::Penalty { lambda: -1.0, rho })?;
/// assert_eq!(h.evaluate(&z)?.get(0, 1), Some(&(-1.0 + 50.0 + 60.0)));
/// # Ok::<(), sparsediff_composite::CompositeError>(())
/// ```
pub struct CompositeHessian<P, R> {
    pub(crate) objective: P,
    pub(crate) residuals: R,
    pub(crate) outer: Vec<Outer>,
    /// Whether residual i was prepared with a curved ψ.
    pub(crate) outer_curved: Vec<bool>,
    /// Whether residual i is frozen (affine).
    pub(crate) frozen_residual: Vec<bool>,
    /// The variables whose `(sin, cos)` the jets get with their seeds (sorted).
    pub(crate) trig_vars: Vec<u32>,
    /// `(sin, cos)` of `trig_vars[i - 1]` at the last point in entry i; entry 0 is "none"
    /// (NaN), for the seeds without.
    pub(crate) sines: Vec<[f64; 2]>,
    pub(crate) classes: Vec<Class>,
    pub(crate) frozen: Vec<FrozenClass>,
    pub(crate) pattern: Pattern,
    pub(crate) matrix: CsMat<f64>,
    /// The lower triangle being accumulated (CSR order of the lower entries).
    pub(crate) lower: Vec<f64>,
    /// JᵀDJ of the frozen rows with a constant ψ″ (lower triangle).
    pub(crate) base: Vec<f64>,
    /// The base must be rebuilt (a constant ψ″ changed).
    pub(crate) dirty: bool,
    /// The lower-triangle number of every CSR entry (its own, or its mirror image's).
    pub(crate) expand: Vec<u32>,
    /// The point of the stored rows.
    pub(crate) z: Vec<f64>,
    /// The stored row values and gradients are those at `z` (false after prepare).
    pub(crate) rows_at_z: bool,
    /// φ_k of the jet rows at the last point.
    pub(crate) phi_values: Vec<f64>,
    /// r_i of the jet rows and of the frozen rows with a variable ψ″ at the last point.
    pub(crate) r_values: Vec<f64>,
    /// Jet rows' gradients at the last point, by class (slot order).
    pub(crate) jac: Vec<f64>,
    /// Rows without variables, with their values.
    pub(crate) constants: Vec<(Source, u32, f64)>,
    /// Frozen quadratic objective rows (their values and gradients are computed on demand).
    pub(crate) quadratic: Vec<u32>,
    /// Lower-triangle positions and values of their constant Hessians (added into the base).
    pub(crate) quadratic_pos: Vec<u32>,
    pub(crate) quadratic_val: Vec<f64>,
    pub(crate) info: CompositeInfo,
}

impl<P, R> std::fmt::Debug for CompositeHessian<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeHessian")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<P: RowFunctions, R: RowFunctions> CompositeHessian<P, R> {
    /// The outer functions, one per residual.
    pub fn outer(&self) -> &[Outer] {
        &self.outer
    }

    /// Replaces the outer function of residual `row` (new multipliers or penalty between
    /// evaluations). A residual prepared with a linear ψ must stay linear
    /// ([`CompositeError::StructureChange`]); curved ones may change freely, or become
    /// linear. Changing the constant ψ″ of a frozen row (a penalty's ρ) rebuilds the base
    /// matrix at the next evaluation.
    pub fn set_outer(&mut self, row: usize, outer: Outer) -> Result<(), CompositeError> {
        let m = self.outer.len();
        if row >= m {
            return Err(CompositeError::WrongLength {
                what: "residual index (as a length: index + 1)",
                len: row + 1,
                expected: m,
            });
        }
        if let Some(reason) = outer.invalid() {
            return Err(CompositeError::InvalidOuter {
                row,
                outer: format!("{outer:?}"),
                reason,
            });
        }
        if !self.outer_curved[row] && !outer.is_linear() {
            return Err(CompositeError::StructureChange {
                row,
                outer: format!("{outer:?}"),
            });
        }
        if self.frozen_residual[row]
            && self.outer[row].constant_curvature() != outer.constant_curvature()
        {
            self.dirty = true;
        }
        self.outer[row] = outer;
        Ok(())
    }

    /// The objective terms.
    pub fn objective(&self) -> &P {
        &self.objective
    }

    /// The residuals.
    pub fn residuals(&self) -> &R {
        &self.residuals
    }

    /// The last evaluated Hessian.
    pub fn matrix(&self) -> &CsMat<f64> {
        &self.matrix
    }

    /// The last evaluated values, in the pattern's order.
    pub fn values(&self) -> &[f64] {
        self.matrix.data()
    }

    /// The structural pattern of ∇²f (both triangles): the union over residuals with a
    /// curved ψ of `vars × vars`, and over the other rows of their traced local Hessians.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Sizes and counts.
    pub fn info(&self) -> &CompositeInfo {
        &self.info
    }
}

impl<P: RowFunctions, R: RowFunctions> ValueGradient for CompositeHessian<P, R> {
    type Error = CompositeError;

    fn dim(&self) -> usize {
        self.info.variables
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, CompositeError> {
        CompositeHessian::value(self, x)
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, CompositeError> {
        CompositeHessian::gradient(self, x, grad)
    }
}

impl<P: RowFunctions, R: RowFunctions> ValueGradientHessian for CompositeHessian<P, R> {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, CompositeError> {
        self.evaluate(x)?;
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: self.matrix.data(),
        })
    }
}
