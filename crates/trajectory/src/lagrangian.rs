//! The augmented Lagrangian of a transcribed problem (PHR for the inequalities):
//!
//! ```text
//! L_A(z; λ, μ, ρ) = J + λᵀc + (ρ/2)‖c‖² + (1/(2ρ)) Σ_j [ max(0, μ_j + ρ·g_j)² − μ_j² ]
//! ```
//!
//! as a generic function of z ([`AugmentedLagrangian::value`], and
//! [`ScalarFunction`](sparsediff::ad::ScalarFunction) for the facade's `SparseHessian`) and
//! as a [`CompositeHessian`]: the objective rows are the cost terms, the residuals the rows
//! of c then g under the outer functions `λ_i·r + (ρ/2)·r²` and
//! `(1/(2ρ))·[max(0, μ_j + ρ·r)² − μ_j²]`.

use sparsediff::ad::ScalarFunction;
use sparsediff::ad::num_dual::DualNum;
use sparsediff::composite::{CompositeHessian, Outer};

use crate::error::TrajectoryError;
use crate::problem::{
    Dynamics, PathConstraints, RunningCost, TerminalCost, check_finite, check_len,
};
use crate::transcription::{Rows, Transcribed};

/// `L_A` of a [`Transcribed`] problem for given multipliers λ (one per equality), μ (one
/// per inequality) and penalty ρ.
///
/// ```
/// use trajectory::{AugmentedLagrangian, Dynamics, Problem, RunningCost, Transcribed, Transcription};
/// use trajectory::num_dual::DualNum;
///
/// struct Integrator;
/// impl Dynamics for Integrator {
///     fn state_dim(&self) -> usize { 1 }
///     fn control_dim(&self) -> usize { 1 }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D], ds: &mut [D]) {
///         ds[0] = u[0];
///     }
/// }
/// struct Effort;
/// impl RunningCost for Effort {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D { u[0] * u[0] }
/// }
/// let problem = Problem::new(Integrator, Effort, 2, 1.0)?.with_initial_state(&[0.0])?;
/// let nlp = Transcribed::new(problem, Transcription::Trapezoidal)?;
/// // z = (s0, u0, s1, u1); c = (s0, s1 − s0 − (u0 + u1)/2)
/// let la = AugmentedLagrangian::new(&nlp, vec![0.0, 1.0], vec![], 2.0)?;
/// let z = [0.0, 1.0, 2.0, 1.0]; // c = (0, 1), J = 2
/// assert_eq!(la.value(&z)?, 2.0 + 1.0 + 1.0);
/// let mut h = la.composite_hessian(&z)?;
/// assert_eq!(h.value(&z)?, 4.0);
/// // ∂²L_A/∂s1² = ρ
/// assert_eq!(h.evaluate(&z)?.get(2, 2), Some(&2.0));
/// assert!(AugmentedLagrangian::new(&nlp, vec![0.0], vec![], 2.0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AugmentedLagrangian<'a, F, L, T, H> {
    nlp: &'a Transcribed<F, L, T, H>,
    lambda: Vec<f64>,
    mu: Vec<f64>,
    rho: f64,
}

impl<F, L, T, H> Clone for AugmentedLagrangian<'_, F, L, T, H> {
    fn clone(&self) -> Self {
        AugmentedLagrangian {
            nlp: self.nlp,
            lambda: self.lambda.clone(),
            mu: self.mu.clone(),
            rho: self.rho,
        }
    }
}

/// Checks multipliers and penalty for `nlp`: lengths, finiteness, ρ finite and positive.
pub(crate) fn check_multipliers<F, L, T, H>(
    nlp: &Transcribed<F, L, T, H>,
    lambda: &[f64],
    mu: &[f64],
    rho: f64,
) -> Result<(), TrajectoryError>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    check_len("equality multipliers λ", lambda.len(), nlp.num_equalities())?;
    check_len("inequality multipliers μ", mu.len(), nlp.num_inequalities())?;
    check_finite("equality multipliers λ", lambda)?;
    check_finite("inequality multipliers μ", mu)?;
    if !(rho.is_finite() && rho > 0.0) {
        return Err(TrajectoryError::InvalidPenalty { rho });
    }
    Ok(())
}

impl<'a, F, L, T, H> AugmentedLagrangian<'a, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// `L_A` of `nlp` with multipliers `lambda` (length [`Transcribed::num_equalities`]),
    /// `mu` (length [`Transcribed::num_inequalities`]) and penalty `rho`.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] for a multiplier vector of the wrong length,
    /// [`TrajectoryError::NonFinite`] for a multiplier that is not finite,
    /// [`TrajectoryError::InvalidPenalty`] unless ρ is finite and positive.
    pub fn new(
        nlp: &'a Transcribed<F, L, T, H>,
        lambda: Vec<f64>,
        mu: Vec<f64>,
        rho: f64,
    ) -> Result<Self, TrajectoryError> {
        check_multipliers(nlp, &lambda, &mu, rho)?;
        Ok(AugmentedLagrangian {
            nlp,
            lambda,
            mu,
            rho,
        })
    }

    /// The transcribed problem.
    pub fn transcribed(&self) -> &'a Transcribed<F, L, T, H> {
        self.nlp
    }

    /// λ.
    pub fn lambda(&self) -> &[f64] {
        &self.lambda
    }

    /// μ.
    pub fn mu(&self) -> &[f64] {
        &self.mu
    }

    /// ρ.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// `L_A(z)`, for any scalar type.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z has the wrong length,
    /// [`TrajectoryError::NonFiniteValue`] if the cost or a constraint is not finite there.
    pub fn value<D: DualNum<Primitive = f64> + Copy>(&self, z: &[D]) -> Result<D, TrajectoryError> {
        self.value_with(z, true)
    }

    /// [`value`](Self::value), checking finiteness only if `check`.
    fn value_with<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        check: bool,
    ) -> Result<D, TrajectoryError> {
        let rho = self.rho;
        let mut total = self.nlp.cost_with(z, check)?;
        let mut c = vec![D::zero(); self.lambda.len()];
        self.nlp.equalities_with(z, &mut c, check)?;
        for (c, &lambda) in c.into_iter().zip(&self.lambda) {
            total += c * lambda + c * c * (0.5 * rho);
        }
        let mut g = vec![D::zero(); self.mu.len()];
        self.nlp.inequalities_with(z, &mut g, check)?;
        for (g, &mu) in g.into_iter().zip(&self.mu) {
            let t = g * rho + mu;
            let active = if t > 0.0 { t * t } else { D::zero() };
            total += (active - mu * mu) * (0.5 / rho);
        }
        Ok(total)
    }

    /// The outer functions of the residuals of [`Transcribed::constraint_rows`]: the
    /// penalties `λ_i·r + (ρ/2)·r²` of the equalities, then the inequality terms.
    pub fn outer_functions(&self) -> Vec<Outer> {
        let rho = self.rho;
        self.lambda
            .iter()
            .map(|&lambda| Outer::Penalty { lambda, rho })
            .chain(self.mu.iter().map(|&mu| Outer::Inequality { mu, rho }))
            .collect()
    }

    /// `∇²L_A` on the composite path, prepared around `z0`: objective rows
    /// [`Transcribed::objective_rows`], residuals [`Transcribed::constraint_rows`] under
    /// [`outer_functions`](Self::outer_functions). New multipliers or penalty go in with
    /// [`CompositeHessian::set_outer`] (residual i is equality i, then inequality
    /// `i − num_equalities`).
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z0 has the wrong length;
    /// [`TrajectoryError::Composite`] if the composite Hessian refuses the rows (a row of
    /// more than [`MAX_LOCAL_VARS`](sparsediff::composite::MAX_LOCAL_VARS) variables, a
    /// non-finite value).
    #[allow(clippy::type_complexity)]
    pub fn composite_hessian(
        &self,
        z0: &[f64],
    ) -> Result<CompositeHessian<Rows<'a, F, L, T, H>, Rows<'a, F, L, T, H>>, TrajectoryError> {
        check_len("z", z0.len(), self.nlp.num_vars())?;
        Ok(CompositeHessian::prepare(
            self.nlp.objective_rows(),
            self.nlp.constraint_rows(),
            self.outer_functions(),
            z0,
        )?)
    }
}

/// `L_A` as a scalar function of z, for the facade's `SparseHessian::prepare`. A z of the
/// wrong length gives NaN (the trait has no error path; [`AugmentedLagrangian::value`]
/// names the error); values are not checked for finiteness (the facade checks its
/// results, and a check would read raw values, which its tape must then re-verify).
impl<F, L, T, H> ScalarFunction for AugmentedLagrangian<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, z: &[D]) -> D {
        self.value_with(z, false)
            .unwrap_or_else(|_| D::from(f64::NAN))
    }
}
