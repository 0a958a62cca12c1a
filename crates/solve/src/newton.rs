//! Newton's method with Armijo backtracking for any
//! [`ValueGradientHessian`]: sparse Hessians factorised by the banded or the sparse
//! LDLᵀ (chosen by the Hessian's pattern, the symbolic analysis reused across iterations),
//! with IPOPT's inertia correction so that every step is a descent direction.
//!
//! Cache / engine / driver (OpEn, Clarabel): [`NewtonParams`] tune it;
//! [`Newton`] owns the workspace (iterate, gradient, step, trial point, the factorisation
//! and its symbolic analysis), allocated once per dimension; [`Newton::step`] is one
//! iteration; [`Newton::minimize`] is the loop.
//!
//! # The iteration
//!
//! At x with gradient g: recover H = ∇²f(x); factorise H + δI with the smallest δ of the
//! inertia-correction schedule ([`InertiaCorrection`]) whose inertia is (n, 0, 0); solve
//! (H + δI)·p = −g; backtrack along p ([`line_search`](crate::line_search)); evaluate
//! the gradient at the accepted point. Stop when ‖g‖∞ ≤ `grad_tol`.
//!
//! # Band or sparse
//!
//! [`prefers_band`] decides from the pattern alone, once per pattern. With β the
//! half-bandwidth and `lower = (nnz + n)/2` the entries of the lower triangle with the
//! diagonal, the banded LDLᵀ is used when
//!
//! * β ≤ `max_band_beta` (default 16 = [`MAX_FIXED_BETA`](crate::band::MAX_FIXED_BETA),
//!   the widest band with the unrolled kernel), and
//! * the band storage n·(β + 1) ≤ `max_band_fill`·lower (default 2: at most twice the
//!   entries a sparse factor would start from);
//!
//! otherwise the sparse LDLᵀ (faer, AMD ordering). A tridiagonal Hessian (chained
//! Rosenbrock) takes the band with fill ratio ≈ 1; the cartpole Hessian (β = 8, ratio
//! ≈ 1.8) takes the band, where it factorises 4–6× faster than faer (`papers/solvers.md`);
//! a 2-D stencil on an s × s grid (β = s) takes the sparse path.
//!
//! ```
//! use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
//! use sparsediff_pattern::{generators, Pattern};
//! use sparsediff_solve::newton::{Newton, NewtonParams};
//! use sparsediff_solve::Status;
//!
//! /// f = ½ xᵀ A x − 1ᵀx, A = tridiag(−1, 4, −1): one Newton step is exact.
//! struct Quadratic { pattern: Pattern, values: Vec<f64> }
//! impl ValueGradient for Quadratic {
//!     type Error = std::convert::Infallible;
//!     fn dim(&self) -> usize { self.pattern.nrows() }
//!     fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
//!         let mut ax = vec![0.0; x.len()];
//!         SymmetricValues { pattern: &self.pattern, values: &self.values }.mul_vec(x, &mut ax);
//!         Ok(x.iter().zip(&ax).map(|(a, b)| 0.5 * a * b - a).sum())
//!     }
//!     fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
//!         SymmetricValues { pattern: &self.pattern, values: &self.values }.mul_vec(x, g);
//!         g.iter_mut().for_each(|v| *v -= 1.0);
//!         self.value(x)
//!     }
//! }
//! impl ValueGradientHessian for Quadratic {
//!     fn hessian(&mut self, _: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
//!         Ok(SymmetricValues { pattern: &self.pattern, values: &self.values })
//!     }
//! }
//! let pattern = generators::band(50, 1, 1)?;
//! let values = pattern.iter().map(|(i, j)| if i == j { 4.0 } else { -1.0 }).collect();
//! let mut f = Quadratic { pattern, values };
//! let mut newton = Newton::new(NewtonParams::default())?;
//! let sol = newton.minimize(&mut f, &vec![0.0; 50], &mut ())?;
//! assert_eq!(sol.info.status, Status::Converged);
//! assert_eq!(sol.info.iterations, 1); // a quadratic: one full step
//! assert!(sol.info.grad_inf <= 1e-12);
//! assert_eq!(sol.info.factorization.map(|k| k.name()), Some("band")); // β = 1
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::time::Instant;

use faer::MatMut;
use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::ValueGradientHessian;

use crate::band::{BandLdlt, BandLdltParams, BandSymbolic};
use crate::driver::{
    DriverError, Evaluations, PhaseTimes, Quantity, Solution, Status, StepError, axpy_into,
    check_non_negative, check_start, dot, finite_value_gradient, gradient_at, norm_inf,
};
use crate::error::SolveError;
use crate::inertia::{Inertia, InertiaCorrection, RegularizationParams, SymmetricFactorization};
use crate::line_search::{ArmijoParams, LineSearchEnd, backtrack};
use crate::observe::{Iterate, Observer};
use crate::sparse::{SparseLdlt, SparseLdltParams, SparseSymbolic};

/// Which symmetric factorisation a driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FactorizationChoice {
    /// Decided by the pattern ([`prefers_band`]).
    #[default]
    Auto,
    /// The banded LDLᵀ with the pattern's own half-bandwidth.
    Band,
    /// The banded LDLᵀ with a declared half-bandwidth (which must hold every entry and be
    /// smaller than n, else the run ends with [`Status::FactorizationFailed`]).
    BandWidth(usize),
    /// The sparse LDLᵀ (faer, AMD ordering).
    Sparse,
}

/// The factorisation a run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorizationKind {
    /// Banded LDLᵀ of half-bandwidth `beta`.
    Band {
        /// Half-bandwidth.
        beta: usize,
    },
    /// Sparse LDLᵀ whose factor holds `factor_nnz` entries.
    Sparse {
        /// Entries of L (the fill).
        factor_nnz: usize,
    },
}

impl FactorizationKind {
    /// `"band"` or `"sparse"`.
    pub fn name(&self) -> &'static str {
        match self {
            FactorizationKind::Band { .. } => "band",
            FactorizationKind::Sparse { .. } => "sparse",
        }
    }
}

/// Whether the banded factorisation suits a square, symmetric `pattern` under the rule in
/// the [module docs](self): β ≤ `max_band_beta` and n·(β + 1) ≤ `max_band_fill`·(nnz + n)/2.
///
/// ```
/// use sparsediff_pattern::generators::{self, Stencil2d};
/// use sparsediff_solve::newton::prefers_band;
/// assert!(prefers_band(&generators::band(1000, 1, 1)?, 16, 2.0)); // tridiagonal
/// assert!(!prefers_band(&generators::grid2d(30, 30, Stencil2d::FivePoint)?, 16, 2.0)); // β = 30
/// assert!(!prefers_band(&generators::arrowhead(100, 1)?, 16, 2.0)); // a dense last row: β = 99
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prefers_band(pattern: &Pattern, max_band_beta: usize, max_band_fill: f64) -> bool {
    let n = pattern.nrows();
    let beta = pattern.upper_bandwidth();
    let lower = (pattern.nnz() + n) as f64 / 2.0;
    beta <= max_band_beta && (n as f64) * (beta as f64 + 1.0) <= max_band_fill * lower
}

/// Tuning of [`Newton`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonParams {
    /// Stop when ‖∇f‖∞ ≤ `grad_tol` (finite, ≥ 0). Default 1e-8.
    pub grad_tol: f64,
    /// Most iterations. Default 200.
    pub max_iterations: usize,
    /// The line search.
    pub line_search: ArmijoParams,
    /// The inertia correction's δ schedule (its `delta_max` is the regularisation limit).
    pub regularization: RegularizationParams,
    /// Band, sparse, or decided by the pattern. Default [`FactorizationChoice::Auto`].
    pub factorization: FactorizationChoice,
    /// Widest band [`FactorizationChoice::Auto`] factorises as a band. Default 16.
    pub max_band_beta: usize,
    /// Largest band storage over lower-triangle entries for the band (finite, ≥ 1).
    /// Default 2.
    pub max_band_fill: f64,
    /// Relative pivot tolerance of both LDLᵀ (finite, ≥ 0). Default 1e-12.
    pub pivot_tolerance: f64,
    /// Evaluate the gradient (with the value) at the first trial point of each line
    /// search, the full step: when it is accepted — the rule near a solution — the
    /// separate gradient evaluation is saved; when it is rejected, the gradient was
    /// wasted. Default true.
    pub gradient_with_full_step: bool,
    /// Values the Armijo test compares against (Grippo, Lampariello & Lucidi 1986): a
    /// trial is accepted when `f(x + αp) ≤ max(last M accepted values) + c₁·α·∇fᵀp`.
    /// 1 (the default) is the monotone search; a memory of 4–8 lets Newton cross the
    /// curved valleys of penalty functions with full steps. At least 1.
    pub nonmonotone_memory: usize,
}

impl Default for NewtonParams {
    fn default() -> Self {
        Self {
            grad_tol: 1e-8,
            max_iterations: 200,
            line_search: ArmijoParams::default(),
            regularization: RegularizationParams::default(),
            factorization: FactorizationChoice::Auto,
            max_band_beta: crate::band::MAX_FIXED_BETA,
            max_band_fill: 2.0,
            pivot_tolerance: 1e-12,
            gradient_with_full_step: true,
            nonmonotone_memory: 1,
        }
    }
}

impl NewtonParams {
    fn check(&self) -> Result<(), DriverError> {
        check_non_negative("grad_tol", self.grad_tol)?;
        check_non_negative("pivot_tolerance", self.pivot_tolerance)?;
        if !(self.max_band_fill.is_finite() && self.max_band_fill >= 1.0) {
            return Err(DriverError::InvalidParameter {
                param: "max_band_fill",
                value: self.max_band_fill,
                reason: "must be finite and at least 1",
            });
        }
        self.line_search.check()?;
        if self.nonmonotone_memory == 0 {
            return Err(DriverError::InvalidParameter {
                param: "nonmonotone_memory",
                value: 0.0,
                reason: "must be at least 1",
            });
        }
        InertiaCorrection::new(self.regularization).map_err(|e| match e {
            SolveError::InvalidParameter {
                param,
                value,
                reason,
            } => DriverError::InvalidParameter {
                param,
                value,
                reason,
            },
            _ => DriverError::InvalidParameter {
                param: "regularization",
                value: f64::NAN,
                reason: "rejected by InertiaCorrection",
            },
        })?;
        Ok(())
    }
}

/// What a [`Newton`] run did.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonInfo {
    /// How it ended.
    pub status: Status,
    /// Newton steps taken.
    pub iterations: usize,
    /// ‖∇f‖∞ at the returned point (NaN if no gradient could be had at x0).
    pub grad_inf: f64,
    /// Evaluations, products, factorisations, solves.
    pub evaluations: Evaluations,
    /// δ of the factorisation of each step (0 where H was positive definite).
    pub regularization: Vec<f64>,
    /// The factorisation used (of the last pattern).
    pub factorization: Option<FactorizationKind>,
    /// Line-search reductions of α, over the run.
    pub backtracks: usize,
    /// Time per phase.
    pub times: PhaseTimes,
}

impl NewtonInfo {
    /// An empty record (status `MaxIterations`, nothing counted), for [`Newton::start`].
    pub fn new() -> Self {
        Self {
            status: Status::MaxIterations,
            iterations: 0,
            grad_inf: f64::NAN,
            evaluations: Evaluations::default(),
            regularization: Vec::new(),
            factorization: None,
            backtracks: 0,
            times: PhaseTimes::default(),
        }
    }

    /// The largest δ used, and the steps (0-based) that needed one.
    pub fn regularized_steps(&self) -> (f64, Vec<usize>) {
        let max = self.regularization.iter().copied().fold(0.0, f64::max);
        let steps = (0..self.regularization.len())
            .filter(|&k| self.regularization[k] > 0.0)
            .collect();
        (max, steps)
    }
}

/// A symmetric factorisation chosen for one pattern, with its symbolic analysis.
#[derive(Debug)]
pub(crate) enum SymmetricFactor {
    Band(BandLdlt),
    Sparse(SparseLdlt),
}

impl SymmetricFactor {
    /// The symbolic analysis of `pattern` for `choice`.
    pub(crate) fn analyse(
        pattern: &Pattern,
        choice: FactorizationChoice,
        max_band_beta: usize,
        max_band_fill: f64,
        pivot_tolerance: f64,
    ) -> Result<Self, SolveError> {
        let band = |s: BandSymbolic| {
            let params = BandLdltParams { pivot_tolerance };
            Ok(SymmetricFactor::Band(BandLdlt::new(s, params)))
        };
        let sparse = || {
            let s = Arc::new(SparseSymbolic::new(pattern)?);
            let params = SparseLdltParams { pivot_tolerance };
            Ok(SymmetricFactor::Sparse(SparseLdlt::new(s, params)?))
        };
        match choice {
            FactorizationChoice::Band => band(BandSymbolic::from_pattern(pattern)?),
            FactorizationChoice::BandWidth(beta) => {
                band(BandSymbolic::from_pattern_with_beta(pattern, beta)?)
            }
            FactorizationChoice::Sparse => sparse(),
            FactorizationChoice::Auto => {
                crate::error::check_square_symmetric(pattern)?;
                if prefers_band(pattern, max_band_beta, max_band_fill) {
                    band(BandSymbolic::from_pattern(pattern)?)
                } else {
                    sparse()
                }
            }
        }
    }

    pub(crate) fn kind(&self) -> FactorizationKind {
        match self {
            SymmetricFactor::Band(f) => FactorizationKind::Band {
                beta: f.symbolic().beta(),
            },
            SymmetricFactor::Sparse(f) => FactorizationKind::Sparse {
                factor_nnz: f.symbolic().factor_nnz(),
            },
        }
    }

    pub(crate) fn as_dyn(&mut self) -> &mut dyn SymmetricFactorization {
        match self {
            SymmetricFactor::Band(f) => f,
            SymmetricFactor::Sparse(f) => f,
        }
    }

    pub(crate) fn solve(&mut self, b: &mut [f64]) -> Result<(), SolveError> {
        match self {
            SymmetricFactor::Band(f) => f.solve_slice_in_place(b),
            SymmetricFactor::Sparse(f) => {
                let n = b.len();
                f.solve_in_place(MatMut::from_column_major_slice_mut(b, n, 1))
            }
        }
    }
}

/// The iterate and everything a step needs, allocated once per dimension.
#[derive(Debug)]
struct Workspace {
    x: Vec<f64>,
    g: Vec<f64>,
    p: Vec<f64>,
    trial: Vec<f64>,
    g_trial: Vec<f64>,
    value: f64,
    grad_inf: f64,
    /// The last accepted values, newest last (the nonmonotone reference).
    history: Vec<f64>,
}

impl Workspace {
    fn new(n: usize) -> Self {
        Self {
            x: vec![0.0; n],
            g: vec![0.0; n],
            p: vec![0.0; n],
            trial: vec![0.0; n],
            g_trial: vec![0.0; n],
            value: f64::NAN,
            grad_inf: f64::NAN,
            history: Vec::new(),
        }
    }
}

/// What one accepted step did (for the observer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonStep {
    /// The accepted step length α.
    pub alpha: f64,
    /// ‖α·p‖∞.
    pub step_inf: f64,
    /// δ of the factorisation.
    pub delta: f64,
    /// Inertia of H itself, when its unshifted factorisation succeeded.
    pub unshifted_inertia: Option<Inertia>,
}

/// Newton's method with Armijo backtracking and inertia correction (see the
/// [module docs](self)). Reusable: a second [`minimize`](Newton::minimize) of a problem of
/// the same dimension reuses the workspace, and of the same pattern the symbolic analysis.
#[derive(Debug)]
pub struct Newton {
    params: NewtonParams,
    ws: Workspace,
    /// The pattern the factorisation was analysed for, and the factorisation.
    factor: Option<(Pattern, SymmetricFactor)>,
    correction: InertiaCorrection,
}

impl Newton {
    /// A solver with these parameters. Errors: [`DriverError::InvalidParameter`].
    pub fn new(params: NewtonParams) -> Result<Self, DriverError> {
        params.check()?;
        let correction = InertiaCorrection::new(params.regularization).map_err(|_| {
            DriverError::InvalidParameter {
                param: "regularization",
                value: f64::NAN,
                reason: "rejected by InertiaCorrection",
            }
        })?;
        Ok(Self {
            params,
            ws: Workspace::new(0),
            factor: None,
            correction,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &NewtonParams {
        &self.params
    }

    /// The current iterate.
    pub fn x(&self) -> &[f64] {
        &self.ws.x
    }

    /// The gradient at the current iterate.
    pub fn gradient(&self) -> &[f64] {
        &self.ws.g
    }

    /// Minimises `f` from `x0`, calling `observer` at x0 and after every step.
    ///
    /// Errors (before any evaluation): [`DriverError::EmptyProblem`],
    /// [`DriverError::LengthMismatch`], [`DriverError::NonFiniteStart`]. Everything else
    /// ends with a [`Status`] in the returned [`Solution`] (see
    /// [`driver`](crate::driver)).
    pub fn minimize<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
    ) -> Result<Solution<NewtonInfo, F::Error>, DriverError>
    where
        F: ValueGradientHessian + ?Sized,
        O: Observer + ?Sized,
    {
        let n = f.dim();
        check_start(n, x0)?;
        let start = Instant::now();
        let mut info = NewtonInfo::new();
        let end = self.run(f, x0, observer, &mut info, start);
        info.status = end.status;
        info.grad_inf = self.ws.grad_inf;
        info.factorization = self.factor.as_ref().map(|(_, f)| f.kind());
        info.evaluations.products += info.evaluations.hessians * f.products_per_hessian();
        info.times.close(start.elapsed());
        Ok(Solution {
            x: self.ws.x.clone(),
            value: self.ws.value,
            info,
            error: end.error,
        })
    }

    fn run<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
        info: &mut NewtonInfo,
        start: Instant,
    ) -> StepError<F::Error>
    where
        F: ValueGradientHessian + ?Sized,
        O: Observer + ?Sized,
    {
        if let Err(stop) = self.start(f, x0, info) {
            return stop;
        }
        let mut last = NewtonStep {
            alpha: 0.0,
            step_inf: 0.0,
            delta: 0.0,
            unshifted_inertia: None,
        };
        loop {
            observer.observe(&Iterate {
                iteration: info.iterations,
                x: &self.ws.x,
                value: self.ws.value,
                measure: self.ws.grad_inf,
                step_inf: last.step_inf,
                step_length: last.alpha,
                regularization: last.delta,
                radius: f64::NAN,
                cg_iterations: 0,
                seconds: start.elapsed().as_secs_f64(),
            });
            if self.ws.grad_inf <= self.params.grad_tol {
                return Status::Converged.into();
            }
            if info.iterations >= self.params.max_iterations {
                return Status::MaxIterations.into();
            }
            match self.step(f, info) {
                Ok(step) => last = step,
                Err(stop) => return stop,
            }
        }
    }

    /// Sets the iterate to `x0` and evaluates the gradient there (the first half of
    /// [`minimize`](Newton::minimize), for callers who drive the loop themselves; `x0` is
    /// assumed checked: length `f.dim()`, finite).
    pub fn start<F>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        info: &mut NewtonInfo,
    ) -> Result<(), StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        let n = x0.len();
        if self.ws.x.len() != n {
            self.ws = Workspace::new(n);
        }
        self.ws.x.copy_from_slice(x0);
        self.ws.value = f64::NAN;
        self.ws.grad_inf = f64::NAN;
        let ws = &mut self.ws;
        let (value, grad_inf) =
            gradient_at(f, &ws.x, &mut ws.g, &mut info.times, &mut info.evaluations)?;
        ws.value = value;
        ws.history.clear();
        ws.history.push(value);
        self.ws.grad_inf = grad_inf;
        Ok(())
    }

    /// One Newton iteration from the current iterate (whose gradient is known): Hessian,
    /// regularised factorisation, solve, line search, gradient at the new point. On
    /// success the iterate moves; on failure it stays (the best point so far) and the
    /// status says why. Counts and times accumulate into `info`.
    pub fn step<F>(
        &mut self,
        f: &mut F,
        info: &mut NewtonInfo,
    ) -> Result<NewtonStep, StepError<F::Error>>
    where
        F: ValueGradientHessian + ?Sized,
    {
        let p = &self.params;
        // Hessian.
        let t = Instant::now();
        let h = f.hessian(&self.ws.x);
        info.times.hessian += t.elapsed();
        info.evaluations.hessians += 1;
        let h = h.map_err(|e| StepError {
            status: Status::EvaluationFailed,
            error: Some(e),
        })?;
        // Symbolic analysis, redone only when the pattern changes.
        let t = Instant::now();
        let same = matches!(&self.factor, Some((q, _)) if q == h.pattern);
        if !same {
            self.factor = None;
            let factor = SymmetricFactor::analyse(
                h.pattern,
                p.factorization,
                p.max_band_beta,
                p.max_band_fill,
                p.pivot_tolerance,
            )
            .map_err(|e| StepError::from(Status::FactorizationFailed(e)))?;
            info.evaluations.symbolic_analyses += 1;
            self.factor = Some((h.pattern.clone(), factor));
        }
        let Some((_, factor)) = self.factor.as_mut() else {
            unreachable!("analysed just above")
        };
        // Numeric factorisation of H + δI with the inertia correction.
        let reg = self.correction.factorize(factor.as_dyn(), h.values);
        info.times.factorization += t.elapsed();
        let reg = match reg {
            Ok(r) => {
                info.evaluations.factorizations += r.attempts;
                r
            }
            Err(SolveError::RegularizationFailed {
                last_delta,
                attempts,
                ..
            }) => {
                info.evaluations.factorizations += attempts;
                return Err(Status::RegularizationLimit { last_delta }.into());
            }
            Err(SolveError::NonFinite { .. }) => {
                info.evaluations.factorizations += 1;
                return Err(Status::NonFinite {
                    what: Quantity::Hessian,
                }
                .into());
            }
            Err(e) => return Err(Status::FactorizationFailed(e).into()),
        };
        info.regularization.push(reg.delta);
        // Solve (H + δI)·p = −g.
        let t = Instant::now();
        let ws = &mut self.ws;
        for (pi, gi) in ws.p.iter_mut().zip(&ws.g) {
            *pi = -gi;
        }
        let solved = factor.solve(&mut ws.p);
        info.times.solve += t.elapsed();
        info.evaluations.solves += 1;
        solved.map_err(|e| StepError::from(Status::FactorizationFailed(e)))?;
        let slope = dot(&ws.g, &ws.p);
        if !slope.is_finite() {
            return Err(Status::NonFinite {
                what: Quantity::Step,
            }
            .into());
        }
        // Line search on f along p; the first trial (the full step) may evaluate the
        // gradient with the value, kept if that trial is accepted.
        let t = Instant::now();
        let mut values = 0;
        let mut gradient_time = std::time::Duration::ZERO;
        let mut trial_gradient: Option<f64> = None;
        let with_gradient = p.gradient_with_full_step;
        let mut calls = 0;
        let reference = ws.history.iter().copied().fold(ws.value, f64::max);
        let (end, stats) = backtrack(&p.line_search, reference, slope, 1.0, |alpha| {
            axpy_into(&mut ws.trial, &ws.x, alpha, &ws.p);
            calls += 1;
            trial_gradient = None;
            if with_gradient && calls == 1 {
                let t = Instant::now();
                let v = f.gradient(&ws.trial, &mut ws.g_trial);
                gradient_time += t.elapsed();
                trial_gradient = v.as_ref().ok().copied();
                v
            } else {
                values += 1;
                f.value(&ws.trial)
            }
        });
        info.times.line_search += t.elapsed().saturating_sub(gradient_time);
        info.times.gradient += gradient_time;
        info.evaluations.values += values;
        info.evaluations.gradients += usize::from(with_gradient && calls > 0);
        info.backtracks += stats.backtracks;
        let alpha = match end {
            LineSearchEnd::Accepted { alpha, .. } => alpha,
            LineSearchEnd::Failed => return Err(Status::LineSearchFailed.into()),
            LineSearchEnd::Error(e) => {
                return Err(StepError {
                    status: Status::EvaluationFailed,
                    error: Some(e),
                });
            }
        };
        // Gradient at the accepted point (ws.trial), unless the full step brought it; the
        // iterate moves only if it is finite.
        let (value, grad_inf) = match trial_gradient {
            Some(value) => (value, finite_value_gradient(value, &ws.g_trial)?),
            None => gradient_at(
                f,
                &ws.trial,
                &mut ws.g_trial,
                &mut info.times,
                &mut info.evaluations,
            )?,
        };
        std::mem::swap(&mut ws.x, &mut ws.trial);
        std::mem::swap(&mut ws.g, &mut ws.g_trial);
        ws.value = value;
        ws.grad_inf = grad_inf;
        if ws.history.len() >= p.nonmonotone_memory {
            ws.history.remove(0);
        }
        ws.history.push(value);
        info.iterations += 1;
        Ok(NewtonStep {
            alpha,
            step_inf: alpha * norm_inf(&ws.p),
            delta: reg.delta,
            unshifted_inertia: reg.unshifted_inertia,
        })
    }
}

impl Default for NewtonInfo {
    fn default() -> Self {
        Self::new()
    }
}
