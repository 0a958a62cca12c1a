//! The objective the inner Newton loop minimises: `L_A(z; λ, μ, ρ)` exactly (value and
//! gradient), with a *primal–dual* Hessian model (Armand & Omheni 2017; Gill & Robinson
//! 2012): the constraint curvature is weighted by the multiplier estimate of the
//! linearised constraints, `y = λ + ρ·(c(z_prev) + J(z_prev)·(z − z_prev))`, instead of
//! the first-order `λ + ρ·c(z)` of the exact Hessian,
//!
//! ```text
//! M = ∇²J + Σ_i y_i ∇²c_i + ρ·JcᵀJc + (PHR terms of g, exact).
//! ```
//!
//! Far from feasibility `ρ·c(z)` is large and carries the second-order error of the last
//! step magnified by ρ; `y` does not. Measured on the cartpole swing-up from the spec's
//! guess at the solver's defaults: the model converges in 43 (N = 100) and 53 (N = 1000)
//! Newton iterations, the exact Hessian not within 500 (`papers/cartpole-swingup.md`).
//!
//! Both are [`ElementHessian`]s of the same problem (each knot's dynamics evaluated once
//! per evaluation, shared between the defect rows; the composite path inside it for the
//! transcriptions that cannot share): `exact` with the multipliers of L_A, `model` with
//! the equality multipliers shifted so that its curvature weight is `y_i` (the penalty
//! `λ'·r + (ρ/2)·r²` has weight `λ' + ρ·c_i(z)`, so `λ' = y_i − ρ·c_i(z)`).
//!
//! A fixed initial state can be moved without re-transcribing (MPC): residual i of the
//! initial-state rows becomes `c_i + shift_i`, which the penalty `λ·r + (ρ/2)·r²` turns
//! into the multiplier `λ + ρ·shift` (up to a constant in the value).

use sparsediff::pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};

use crate::element::ElementHessian;
use crate::error::TrajectoryError;
use crate::lagrangian::AugmentedLagrangian;
use crate::problem::{Dynamics, PathConstraints, RunningCost, TerminalCost};
use crate::transcription::Transcribed;

/// L_A with the primal–dual Hessian model (see the module documentation).
pub(crate) struct AlModel<'a, F, L, T, H> {
    pub(crate) nlp: &'a Transcribed<F, L, T, H>,
    exact: ElementHessian<'a, F, L, T, H>,
    model: ElementHessian<'a, F, L, T, H>,
    /// λ (equalities), μ (inequalities), ρ.
    pub(crate) lambda: Vec<f64>,
    pub(crate) mu: Vec<f64>,
    pub(crate) rho: f64,
    /// Added to the residuals of c (nonzero only on the initial-state rows).
    pub(crate) shift: Vec<f64>,
    /// Curvature weights of the equalities in the model.
    pub(crate) y: Vec<f64>,
    /// Whether the model uses `y` (true) or is the exact Hessian (false).
    pub(crate) primal_dual: bool,
    /// c(z) at the last Hessian point.
    c: Vec<f64>,
    /// λ + ρ·shift (the exact multipliers) and y − ρ·c (the model's).
    lambda_exact: Vec<f64>,
    lambda_model: Vec<f64>,
}

impl<'a, F, L, T, H> AlModel<'a, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    pub(crate) fn new(
        nlp: &'a Transcribed<F, L, T, H>,
        z0: &[f64],
        rho: f64,
        primal_dual: bool,
    ) -> Result<Self, TrajectoryError> {
        let (m, p) = (nlp.num_equalities(), nlp.num_inequalities());
        let la = AugmentedLagrangian::new(nlp, vec![0.0; m], vec![0.0; p], rho)?;
        Ok(AlModel {
            nlp,
            exact: ElementHessian::new(&la, z0)?,
            model: ElementHessian::new(&la, z0)?,
            lambda: vec![0.0; m],
            mu: vec![0.0; p],
            rho,
            shift: vec![0.0; m],
            y: vec![0.0; m],
            primal_dual,
            c: vec![0.0; m],
            lambda_exact: vec![0.0; m],
            lambda_model: vec![0.0; m],
        })
    }

    /// Pushes λ, μ, ρ and the shift into the exact L_A (and μ, ρ into the model).
    pub(crate) fn sync_outer(&mut self) -> Result<(), TrajectoryError> {
        let rho = self.rho;
        for ((e, &l), &s) in self
            .lambda_exact
            .iter_mut()
            .zip(&self.lambda)
            .zip(&self.shift)
        {
            *e = l + rho * s;
        }
        self.exact
            .set_multipliers(&self.lambda_exact, &self.mu, rho)?;
        self.model
            .set_multipliers(&self.lambda_exact, &self.mu, rho)
    }
}

impl<F, L, T, H> ValueGradient for AlModel<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    type Error = TrajectoryError;
    fn dim(&self) -> usize {
        self.nlp.num_vars()
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
        self.exact.value(x)
    }
    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, Self::Error> {
        self.exact.gradient(x, grad)
    }
}

impl<F, L, T, H> ValueGradientHessian for AlModel<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
        if !self.primal_dual {
            return self.exact.hessian(x);
        }
        let rho = self.rho;
        // c(z) for the weights; a z the rows cannot evaluate surfaces in the Hessian
        if self.nlp.equalities_with(x, &mut self.c, false).is_ok() {
            for ((l, &y), &c) in self.lambda_model.iter_mut().zip(&self.y).zip(&self.c) {
                *l = y - rho * c;
            }
            self.model
                .set_multipliers(&self.lambda_model, &self.mu, rho)?;
        }
        // the elements are those of the exact L_A, whose gradient the driver has just
        // taken at x: shared, not evaluated again
        self.model.evaluate_hessian_sharing(x, &self.exact)?;
        Ok(SymmetricValues {
            pattern: self.model.pattern(),
            values: self.model.values(),
        })
    }
}
