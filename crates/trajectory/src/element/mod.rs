//! Element sharing (LANCELOT's element functions): `∇²L_A` of a transcribed problem with
//! every knot's dynamics, running cost and path constraints evaluated **once** per
//! evaluation, with their first and second derivatives, and shared between the rows that
//! use them.
//!
//! For the trapezoidal defect `c_{k,r} = s_{k+1,r} − s_{k,r} − (dt/2)(f_r(z_k) + f_r(z_{k+1}))`
//! under the outer functions ψ_i of [`AugmentedLagrangian`],
//!
//! ```text
//! ∇²L_A = Σ_knots ∇²(w_kᵀ e_k)  +  Σ_i ψ_i″(r_i)·∇r_i∇r_iᵀ  +  ∇²(constant parts)
//! ```
//!
//! where `e_k = (f, ℓ, h)(s_k, u_k)` is knot k's element and `w_k` collects the outer
//! derivatives that reach it: `−(dt/2)(ψ′(c_{k−1,r}) + ψ′(c_{k,r}))` for `f_r`, `dt` for ℓ,
//! `ψ′(g)` for a path row. The row gradients `∇r_i` are assembled from constants and the
//! shared knot Jacobians; the value and the gradient of `L_A` come out of the same pass.
//!
//! * `structure.rs`, once: each element output classified (affine: constant gradient;
//!   quadratic ℓ: constant Hessian in the base; curved: on the jets), the jet lanes (the
//!   curved outputs' variables — the cartpole's ω′ in (θ, a): K = 2), every row's gradient
//!   as entries, the Hessian pattern (the composite path's own: every residual's
//!   vars × vars, the traced element Hessians, ℓ's and φ's), and the CSR positions of every
//!   product in both triangles, so that the numeric phase neither searches nor allocates;
//! * `numeric.rs`, per evaluation: elements, residuals, gradient, Hessian.
//!
//! Only the trapezoidal transcription shares knots this way. Hermite–Simpson (whose
//! midpoint dynamics are a function of both knots) and staggered (one element per
//! interval, no sharing to gain) use the composite path inside the same
//! [`ElementHessian`], as does a problem whose curved element outputs need more than
//! eight jet lanes; [`ElementHessian::is_shared`] tells which.
//!
//! ```
//! use trajectory::{cartpole, AugmentedLagrangian, Transcribed, Transcription};
//! use trajectory::element::ElementHessian;
//! use sparsediff::pattern::objective::{ValueGradient, ValueGradientHessian};
//!
//! let nlp = Transcribed::new(cartpole::problem(20)?, Transcription::Trapezoidal)?;
//! let la = AugmentedLagrangian::new(
//!     &nlp, vec![0.1; nlp.num_equalities()], vec![0.1; nlp.num_inequalities()], 10.0)?;
//! let z = cartpole::eval_point(20);
//! let mut element = la.element_hessian(&z)?;
//! assert!(element.is_shared());
//! assert_eq!(element.lanes(), Some(2)); // ω′ is curved in (θ, a) only
//! let mut composite = la.composite_hessian(&z)?;
//! assert_eq!(element.pattern(), composite.pattern());
//! let want = composite.evaluate(&z)?.data().to_vec();
//! let got = element.hessian(&z)?.values.to_vec();
//! for (g, w) in got.iter().zip(&want) {
//!     assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0));
//! }
//! let value = ValueGradient::value(&mut element, &z)?;
//! assert!((value - la.value(&z)?).abs() <= 1e-12 * value.abs());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod numeric;
mod structure;

use std::time::{Duration, Instant};

use sparsediff::composite::{CompositeHessian, Outer};
use sparsediff::pattern::Pattern;
use sparsediff::pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};

use crate::error::TrajectoryError;
use crate::lagrangian::{AugmentedLagrangian, check_multipliers};
use crate::problem::{Dynamics, PathConstraints, RunningCost, TerminalCost, check_len};
use crate::transcription::{Rows, Transcribed, Transcription};

use numeric::{Multipliers, Numeric, Stored};
use structure::{Structure, Unshared};

/// Why an [`ElementHessian`] runs on the composite path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fallback {
    /// A transcription whose defects do not share knot elements (Hermite–Simpson,
    /// staggered).
    Transcription(Transcription),
    /// The curved outputs of a knot element depend on more than eight of its variables.
    TooManyLanes {
        /// How many.
        lanes: usize,
    },
}

/// Where one [`ElementHessian::profile`] evaluation spent its time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    /// Every knot's outputs on jets (values, lane gradients and Hessians).
    pub elements: Duration,
    /// Residuals, their outer derivatives and `L_A`.
    pub residuals: Duration,
    /// `∇L_A`, element by element (and the finiteness check of the derivatives).
    pub gradient: Duration,
    /// The base copied, the weighted element Hessians and the `ψ″∇r∇rᵀ` products added.
    pub hessian: Duration,
}

impl PhaseTimes {
    /// The sum of the phases.
    pub fn total(&self) -> Duration {
        self.elements + self.residuals + self.gradient + self.hessian
    }
}

/// The composite Hessian of the transcription's rows.
type Composite<'a, F, L, T, H> = CompositeHessian<Rows<'a, F, L, T, H>, Rows<'a, F, L, T, H>>;

enum Engine<'a, F, L, T, H> {
    Shared(Box<(Structure, Numeric)>),
    /// The composite Hessian, why, and the gradient of its last evaluation.
    Composite(Box<Composite<'a, F, L, T, H>>, Fallback, Vec<f64>),
}

/// `L_A` of a [`Transcribed`] problem with its gradient and sparse Hessian, the knot
/// elements shared between the rows (see the [module documentation](self)); the
/// objective of a Newton solver ([`ValueGradientHessian`], values in the CSR order of
/// [`pattern`](Self::pattern)). Evaluations allocate nothing.
pub struct ElementHessian<'a, F, L, T, H> {
    nlp: &'a Transcribed<F, L, T, H>,
    lambda: Vec<f64>,
    mu: Vec<f64>,
    rho: f64,
    engine: Engine<'a, F, L, T, H>,
}

impl<F, L, T, H> std::fmt::Debug for ElementHessian<'_, F, L, T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ElementHessian");
        d.field("rho", &self.rho);
        match &self.engine {
            Engine::Shared(s) => d.field("lanes", &s.0.num_lanes()),
            Engine::Composite(_, why, _) => d.field("fallback", why),
        };
        d.finish_non_exhaustive()
    }
}

impl<'a, F, L, T, H> ElementHessian<'a, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// The element Hessian of `la` (its problem, multipliers and penalty), prepared
    /// around `z0` (used by the composite fallback; the shared path's structure is traced
    /// at the transcription's own points).
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z0 has the wrong length;
    /// [`TrajectoryError::Trace`] if tracing a user function fails;
    /// [`TrajectoryError::Composite`] if the composite fallback refuses the rows.
    pub fn new(
        la: &AugmentedLagrangian<'a, F, L, T, H>,
        z0: &[f64],
    ) -> Result<Self, TrajectoryError> {
        let nlp = la.transcribed();
        check_len("z", z0.len(), nlp.num_vars())?;
        let engine = match Structure::new(nlp)? {
            Ok(st) => {
                let mut num = Numeric::new(&st);
                num.rebuild_base(&st, la.rho());
                Engine::Shared(Box::new((st, num)))
            }
            Err(why) => {
                let why = match why {
                    Unshared::Scheme(s) => Fallback::Transcription(s),
                    Unshared::TooManyLanes(lanes) => Fallback::TooManyLanes { lanes },
                };
                Engine::Composite(
                    Box::new(la.composite_hessian(z0)?),
                    why,
                    vec![0.0; nlp.num_vars()],
                )
            }
        };
        Ok(ElementHessian {
            nlp,
            lambda: la.lambda().to_vec(),
            mu: la.mu().to_vec(),
            rho: la.rho(),
            engine,
        })
    }

    /// New multipliers and penalty (between evaluations); the structure stays.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] for a vector of the wrong length,
    /// [`TrajectoryError::NonFinite`] for a multiplier that is not finite,
    /// [`TrajectoryError::InvalidPenalty`] unless ρ is finite and positive. Nothing changes
    /// on an error.
    pub fn set_multipliers(
        &mut self,
        lambda: &[f64],
        mu: &[f64],
        rho: f64,
    ) -> Result<(), TrajectoryError> {
        check_multipliers(self.nlp, lambda, mu, rho)?;
        let rho_changed = rho != self.rho;
        self.lambda.copy_from_slice(lambda);
        self.mu.copy_from_slice(mu);
        self.rho = rho;
        match &mut self.engine {
            Engine::Shared(s) => {
                let (st, num) = &mut **s;
                if rho_changed {
                    num.rebuild_base(st, rho);
                }
                num.stored = Stored::Nothing;
            }
            Engine::Composite(h, ..) => {
                let outer = lambda
                    .iter()
                    .map(|&lambda| Outer::Penalty { lambda, rho })
                    .chain(mu.iter().map(|&mu| Outer::Inequality { mu, rho }));
                for (row, outer) in outer.enumerate() {
                    h.set_outer(row, outer)?;
                }
            }
        }
        Ok(())
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

    /// The transcribed problem.
    pub fn transcribed(&self) -> &'a Transcribed<F, L, T, H> {
        self.nlp
    }

    /// The Hessian pattern, both triangles: the composite path's pattern (every residual's
    /// vars × vars, the objective rows' traced Hessians).
    pub fn pattern(&self) -> &Pattern {
        match &self.engine {
            Engine::Shared(s) => &s.0.pattern,
            Engine::Composite(h, ..) => h.pattern(),
        }
    }

    /// Whether the knot elements are shared (false: the composite fallback runs).
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Shared(_))
    }

    /// Why the composite path runs, if it does.
    pub fn fallback(&self) -> Option<Fallback> {
        match &self.engine {
            Engine::Shared(_) => None,
            Engine::Composite(_, why, _) => Some(*why),
        }
    }

    /// The jet lanes K of the element pass on the shared path (the curved outputs'
    /// variables in a knot block).
    pub fn lanes(&self) -> Option<usize> {
        match &self.engine {
            Engine::Shared(s) => Some(s.0.num_lanes()),
            Engine::Composite(..) => None,
        }
    }

    /// `L_A(z)`, `∇L_A(z)` and `∇²L_A(z)` in one pass: returns the value; the gradient is
    /// then [`last_gradient`](Self::last_gradient) and the Hessian values (CSR order of
    /// [`pattern`](Self::pattern)) [`values`](Self::values). Allocates nothing.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z has the wrong length,
    /// [`TrajectoryError::NonFiniteValue`] if a residual, the cost or a derivative of an
    /// element is not finite there ([`TrajectoryError::Composite`] on the fallback).
    pub fn evaluate(&mut self, z: &[f64]) -> Result<f64, TrajectoryError> {
        self.run(z, Stored::Hessian, true)
    }

    /// `L_A(z)` and `∇²L_A(z)` without the gradient (the phases a Hessian alone needs:
    /// elements, residuals, Hessian): returns the value; the Hessian values are then
    /// [`values`](Self::values), and [`last_gradient`](Self::last_gradient) is stale. For
    /// comparisons with Hessian-only evaluations; a solver wants
    /// [`evaluate`](Self::evaluate) or the [`ValueGradientHessian`] calls.
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate).
    pub fn evaluate_hessian(&mut self, z: &[f64]) -> Result<f64, TrajectoryError> {
        self.hessian_phases(z, None)
    }

    /// [`evaluate_hessian`](Self::evaluate_hessian) taking the element derivatives from
    /// `donor` — an `ElementHessian` of the same problem (other multipliers) whose last
    /// gradient or Hessian evaluation was at this z — instead of evaluating the elements
    /// again: they do not depend on the multipliers. The solver's primal–dual model uses
    /// it (its Hessian is taken where the exact L_A's gradient was just evaluated), which
    /// saves the element pass, the largest phase. Falls back to evaluating them when
    /// `donor` holds nothing for z or is not on the shared path.
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate).
    pub(crate) fn evaluate_hessian_sharing(
        &mut self,
        z: &[f64],
        donor: &Self,
    ) -> Result<f64, TrajectoryError> {
        let donated = match &donor.engine {
            Engine::Shared(d) => Some(&d.1).filter(|n| n.stored >= Stored::Gradient && n.z == z),
            Engine::Composite(..) => None,
        };
        self.hessian_phases(z, donated)
    }

    /// The phases a Hessian alone needs: the elements (copied from `donated` when given
    /// and of the same shape, else evaluated), residuals, weights, Hessian.
    fn hessian_phases(
        &mut self,
        z: &[f64],
        donated: Option<&Numeric>,
    ) -> Result<f64, TrajectoryError> {
        check_len("z", z.len(), self.nlp.num_vars())?;
        let problem = self.nlp.problem();
        let Engine::Shared(s) = &mut self.engine else {
            return self.run(z, Stored::Hessian, true);
        };
        let (st, num) = &mut **s;
        num.stored = Stored::Nothing;
        match donated.filter(|d| {
            (d.vals.len(), d.jac.len(), d.hes.len())
                == (num.vals.len(), num.jac.len(), num.hes.len())
        }) {
            Some(d) => {
                num.vals.copy_from_slice(&d.vals);
                num.jac.copy_from_slice(&d.jac);
                num.hes.copy_from_slice(&d.hes);
            }
            None => numeric::elements(st, problem, z, num),
        }
        let mult = Multipliers {
            lambda: &self.lambda,
            mu: &self.mu,
            rho: self.rho,
        };
        let value = numeric::residuals(st, problem, z, &mult, num)?;
        numeric::weights(st, problem.terminal_cost(), z, num);
        numeric::check_derivatives(st, num)?;
        numeric::hessian(st, num);
        Ok(value)
    }

    /// One [`evaluate`](Self::evaluate) on the shared path, timed phase by phase (`None`
    /// on the composite fallback, whose own `profile` splits its stages).
    ///
    /// # Errors
    /// As [`evaluate`](Self::evaluate).
    pub fn profile(&mut self, z: &[f64]) -> Result<Option<PhaseTimes>, TrajectoryError> {
        check_len("z", z.len(), self.nlp.num_vars())?;
        let problem = self.nlp.problem();
        let Engine::Shared(s) = &mut self.engine else {
            return Ok(None);
        };
        let (st, num) = &mut **s;
        num.stored = Stored::Nothing;
        let mult = Multipliers {
            lambda: &self.lambda,
            mu: &self.mu,
            rho: self.rho,
        };
        let t0 = Instant::now();
        numeric::elements(st, problem, z, num);
        let t1 = Instant::now();
        let value = numeric::residuals(st, problem, z, &mult, num)?;
        let t2 = Instant::now();
        numeric::gradient(st, problem.terminal_cost(), z, num);
        numeric::check_derivatives(st, num)?;
        let t3 = Instant::now();
        numeric::hessian(st, num);
        let t4 = Instant::now();
        num.value = value;
        num.z.copy_from_slice(z);
        num.stored = Stored::Hessian;
        Ok(Some(PhaseTimes {
            elements: t1 - t0,
            residuals: t2 - t1,
            gradient: t3 - t2,
            hessian: t4 - t3,
        }))
    }

    /// The gradient of the last [`evaluate`](Self::evaluate) (or gradient).
    pub fn last_gradient(&self) -> &[f64] {
        match &self.engine {
            Engine::Shared(s) => &s.1.grad,
            Engine::Composite(_, _, grad) => grad,
        }
    }

    /// The Hessian values of the last [`evaluate`](Self::evaluate), in the CSR order of
    /// [`pattern`](Self::pattern).
    pub fn values(&self) -> &[f64] {
        match &self.engine {
            Engine::Shared(s) => &s.1.values[..s.0.pattern.nnz()],
            Engine::Composite(h, ..) => h.values(),
        }
    }

    /// Computes what `want` asks for at z; unless `force`, reuses what is stored for the
    /// same z (a solver's `gradient(x)` then `hessian(x)` costs one element pass).
    fn run(&mut self, z: &[f64], want: Stored, force: bool) -> Result<f64, TrajectoryError> {
        check_len("z", z.len(), self.nlp.num_vars())?;
        let problem = self.nlp.problem();
        match &mut self.engine {
            Engine::Shared(s) => {
                let (st, num) = &mut **s;
                if !force
                    && num.stored != Stored::Nothing
                    && num.stored >= want.min(Stored::Gradient)
                    && num.z == z
                {
                    if want == Stored::Hessian && num.stored == Stored::Gradient {
                        numeric::hessian(st, num);
                        num.stored = Stored::Hessian;
                    }
                    return Ok(num.value);
                }
                num.stored = Stored::Nothing;
                let mult = Multipliers {
                    lambda: &self.lambda,
                    mu: &self.mu,
                    rho: self.rho,
                };
                if want == Stored::Nothing {
                    numeric::elements_f64(st, problem, z, &mut num.vals);
                    return numeric::residuals(st, problem, z, &mult, num);
                }
                numeric::elements(st, problem, z, num);
                let value = numeric::residuals(st, problem, z, &mult, num)?;
                numeric::gradient(st, problem.terminal_cost(), z, num);
                numeric::check_derivatives(st, num)?;
                if want == Stored::Hessian {
                    numeric::hessian(st, num);
                }
                num.value = value;
                num.z.copy_from_slice(z);
                num.stored = want;
                Ok(value)
            }
            Engine::Composite(h, _, grad) => match want {
                Stored::Nothing => Ok(h.value(z)?),
                Stored::Gradient => Ok(h.gradient(z, grad)?),
                Stored::Hessian => {
                    h.evaluate(z)?;
                    Ok(h.gradient(z, grad)?)
                }
            },
        }
    }
}

impl<F, L, T, H> ValueGradient for ElementHessian<'_, F, L, T, H>
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

    fn value(&mut self, x: &[f64]) -> Result<f64, TrajectoryError> {
        self.run(x, Stored::Nothing, false)
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, TrajectoryError> {
        check_len("gradient", grad.len(), self.nlp.num_vars())?;
        let value = self.run(x, Stored::Gradient, false)?;
        grad.copy_from_slice(self.last_gradient());
        Ok(value)
    }
}

impl<F, L, T, H> ValueGradientHessian for ElementHessian<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, TrajectoryError> {
        self.run(x, Stored::Hessian, false)?;
        Ok(SymmetricValues {
            pattern: self.pattern(),
            values: self.values(),
        })
    }
}

impl<'a, F, L, T, H> AugmentedLagrangian<'a, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// `∇²L_A` with the knot elements shared ([`ElementHessian::new`]).
    ///
    /// # Errors
    /// As [`ElementHessian::new`].
    pub fn element_hessian(
        &self,
        z0: &[f64],
    ) -> Result<ElementHessian<'a, F, L, T, H>, TrajectoryError> {
        ElementHessian::new(self, z0)
    }
}
