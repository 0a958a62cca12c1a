//! Newton's method for square nonlinear systems F(x) = 0 with a sparse Jacobian
//! ([`ResidualJacobian`], e.g. `sparsediff::SparseJacobian`) and the sparse LU
//! ([`SparseLu`]), its column ordering computed once and redone only when the Jacobian's
//! pattern changes; backtracking on the merit function φ = ½‖F‖².
//!
//! At x: J = F′(x); factorise J = LU (partial pivoting, every pivot checked); solve
//! J·p = −F; along p the slope of φ is φ′(0) = Fᵀ·J·p = −‖F‖² = −2φ, so the Armijo test
//! is φ(x + αp) ≤ (1 − 2c₁α)·φ(x) ([`line_search`](crate::line_search)). Stop when
//! ‖F‖∞ ≤ `residual_tol`. A singular Jacobian ends the run with [`Status::Singular`] and
//! the best point so far.
//!
//! ```
//! use sparsediff_pattern::objective::{MatrixValues, ResidualJacobian};
//! use sparsediff_pattern::Pattern;
//! use sparsediff_solve::nonlinear::{NonlinearNewton, NonlinearParams};
//!
//! /// F_i = x_i² − 2: roots ±√2.
//! struct Roots { pattern: Pattern, j: Vec<f64> }
//! impl ResidualJacobian for Roots {
//!     type Error = std::convert::Infallible;
//!     fn dim(&self) -> usize { self.j.len() }
//!     fn residual(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), Self::Error> {
//!         for (o, v) in out.iter_mut().zip(x) { *o = v * v - 2.0; }
//!         Ok(())
//!     }
//!     fn jacobian(&mut self, x: &[f64]) -> Result<MatrixValues<'_>, Self::Error> {
//!         for (j, v) in self.j.iter_mut().zip(x) { *j = 2.0 * v; }
//!         Ok(MatrixValues { pattern: &self.pattern, values: &self.j })
//!     }
//! }
//! let mut f = Roots { pattern: Pattern::identity(3)?, j: vec![0.0; 3] };
//! let mut newton = NonlinearNewton::new(NonlinearParams::default())?;
//! let sol = newton.solve(&mut f, &[1.0, 2.0, 3.0], &mut ())?;
//! assert!(sol.info.status.is_converged());
//! assert!(sol.x.iter().all(|v| (v - 2f64.sqrt()).abs() < 1e-12));
//! assert_eq!(sol.info.evaluations.symbolic_analyses, 1); // the ordering, once
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::time::Instant;

use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::ResidualJacobian;

use crate::driver::{
    DriverError, Evaluations, PhaseTimes, Quantity, Solution, Status, StepError, axpy_into,
    check_non_negative, check_start, norm_inf,
};
use crate::error::SolveError;
use crate::line_search::{ArmijoParams, LineSearchEnd, backtrack};
use crate::observe::{Iterate, Observer};
use crate::sparse::{LuParams, LuSymbolic, SparseLu};

/// Tuning of [`NonlinearNewton`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonlinearParams {
    /// Stop when ‖F‖∞ ≤ `residual_tol` (finite, ≥ 0). Default 1e-10.
    pub residual_tol: f64,
    /// Most iterations. Default 100.
    pub max_iterations: usize,
    /// The line search on ½‖F‖².
    pub line_search: ArmijoParams,
    /// The LU's pivot tolerance.
    pub lu: LuParams,
}

impl Default for NonlinearParams {
    fn default() -> Self {
        Self {
            residual_tol: 1e-10,
            max_iterations: 100,
            line_search: ArmijoParams::default(),
            lu: LuParams::default(),
        }
    }
}

/// What a [`NonlinearNewton`] run did.
#[derive(Debug, Clone, PartialEq)]
pub struct NonlinearInfo {
    /// How it ended.
    pub status: Status,
    /// Newton steps taken.
    pub iterations: usize,
    /// ‖F‖∞ at the returned point (NaN if F could not be had at x0).
    pub residual_inf: f64,
    /// Evaluations (`values`: residuals; `hessians`: Jacobians), products, factorisations.
    pub evaluations: Evaluations,
    /// Line-search reductions of α, over the run.
    pub backtracks: usize,
    /// Time per phase (`hessian`: Jacobians; `line_search`: residuals at trial points).
    pub times: PhaseTimes,
}

impl Default for NonlinearInfo {
    fn default() -> Self {
        Self {
            status: Status::MaxIterations,
            iterations: 0,
            residual_inf: f64::NAN,
            evaluations: Evaluations::default(),
            backtracks: 0,
            times: PhaseTimes::default(),
        }
    }
}

/// What one accepted step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonlinearStep {
    /// The accepted step length α.
    pub alpha: f64,
    /// ‖α·p‖∞.
    pub step_inf: f64,
}

#[derive(Debug)]
struct Workspace {
    x: Vec<f64>,
    r: Vec<f64>,
    p: Vec<f64>,
    trial: Vec<f64>,
    r_trial: Vec<f64>,
    /// ½‖F‖².
    merit: f64,
    residual_inf: f64,
}

impl Workspace {
    fn new(n: usize) -> Self {
        let v = || vec![0.0; n];
        Self {
            x: v(),
            r: v(),
            p: v(),
            trial: v(),
            r_trial: v(),
            merit: f64::NAN,
            residual_inf: f64::NAN,
        }
    }
}

/// ½‖v‖² (∞ if any entry is not finite).
fn half_sq(v: &[f64]) -> f64 {
    let s: f64 = v.iter().map(|x| x * x).sum();
    if s.is_finite() {
        0.5 * s
    } else {
        f64::INFINITY
    }
}

/// Newton's method for F(x) = 0 (see the [module docs](self)).
#[derive(Debug)]
pub struct NonlinearNewton {
    params: NonlinearParams,
    ws: Workspace,
    lu: Option<(Pattern, SparseLu)>,
}

impl NonlinearNewton {
    /// A solver with these parameters. Errors: [`DriverError::InvalidParameter`].
    pub fn new(params: NonlinearParams) -> Result<Self, DriverError> {
        check_non_negative("residual_tol", params.residual_tol)?;
        check_non_negative("lu.pivot_tolerance", params.lu.pivot_tolerance)?;
        params.line_search.check()?;
        Ok(Self {
            params,
            ws: Workspace::new(0),
            lu: None,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &NonlinearParams {
        &self.params
    }

    /// The current iterate.
    pub fn x(&self) -> &[f64] {
        &self.ws.x
    }

    /// F at the current iterate.
    pub fn residual(&self) -> &[f64] {
        &self.ws.r
    }

    /// Solves F(x) = 0 from `x0`, calling `observer` at x0 and after every step.
    ///
    /// Errors (before any evaluation): [`DriverError::NotSquare`],
    /// [`DriverError::EmptyProblem`], [`DriverError::LengthMismatch`],
    /// [`DriverError::NonFiniteStart`]; everything else ends with a [`Status`].
    pub fn solve<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
    ) -> Result<Solution<NonlinearInfo, F::Error>, DriverError>
    where
        F: ResidualJacobian + ?Sized,
        O: Observer + ?Sized,
    {
        let n = f.dim();
        if f.num_residuals() != n {
            return Err(DriverError::NotSquare {
                residuals: f.num_residuals(),
                unknowns: n,
            });
        }
        check_start(n, x0)?;
        let start = Instant::now();
        let mut info = NonlinearInfo::default();
        let end = self.run(f, x0, observer, &mut info, start);
        info.status = end.status;
        info.residual_inf = self.ws.residual_inf;
        info.evaluations.products += info.evaluations.hessians * f.products_per_jacobian();
        info.times.close(start.elapsed());
        Ok(Solution {
            x: self.ws.x.clone(),
            value: self.ws.merit,
            info,
            error: end.error,
        })
    }

    fn run<F, O>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        observer: &mut O,
        info: &mut NonlinearInfo,
        start: Instant,
    ) -> StepError<F::Error>
    where
        F: ResidualJacobian + ?Sized,
        O: Observer + ?Sized,
    {
        if let Err(stop) = self.start(f, x0, info) {
            return stop;
        }
        let mut last = NonlinearStep {
            alpha: 0.0,
            step_inf: 0.0,
        };
        loop {
            observer.observe(&Iterate {
                iteration: info.iterations,
                x: &self.ws.x,
                value: self.ws.merit,
                measure: self.ws.residual_inf,
                step_inf: last.step_inf,
                step_length: last.alpha,
                regularization: 0.0,
                radius: f64::NAN,
                cg_iterations: 0,
                seconds: start.elapsed().as_secs_f64(),
            });
            if self.ws.residual_inf <= self.params.residual_tol {
                return Status::Converged.into();
            }
            if info.iterations >= self.params.max_iterations {
                return Status::MaxIterations.into();
            }
            match self.step(f, info) {
                Ok(s) => last = s,
                Err(stop) => return stop,
            }
        }
    }

    /// Sets the iterate to `x0` (assumed checked) and evaluates F there.
    pub fn start<F>(
        &mut self,
        f: &mut F,
        x0: &[f64],
        info: &mut NonlinearInfo,
    ) -> Result<(), StepError<F::Error>>
    where
        F: ResidualJacobian + ?Sized,
    {
        let n = x0.len();
        if self.ws.x.len() != n {
            self.ws = Workspace::new(n);
        }
        let ws = &mut self.ws;
        ws.x.copy_from_slice(x0);
        ws.merit = f64::NAN;
        ws.residual_inf = f64::NAN;
        let t = Instant::now();
        let res = f.residual(&ws.x, &mut ws.r);
        info.times.gradient += t.elapsed();
        info.evaluations.values += 1;
        res.map_err(StepError::evaluation)?;
        let residual_inf = norm_inf(&ws.r);
        if !residual_inf.is_finite() {
            return Err(Status::NonFinite {
                what: Quantity::Residual,
            }
            .into());
        }
        ws.merit = half_sq(&ws.r);
        ws.residual_inf = residual_inf;
        Ok(())
    }

    /// One Newton step: Jacobian, LU (ordering reused while the pattern holds), solve,
    /// backtracking on ½‖F‖². The iterate moves only on success.
    pub fn step<F>(
        &mut self,
        f: &mut F,
        info: &mut NonlinearInfo,
    ) -> Result<NonlinearStep, StepError<F::Error>>
    where
        F: ResidualJacobian + ?Sized,
    {
        let t = Instant::now();
        let jac = f.jacobian(&self.ws.x);
        info.times.hessian += t.elapsed();
        info.evaluations.hessians += 1;
        let jac = jac.map_err(StepError::evaluation)?;
        let t = Instant::now();
        if !matches!(&self.lu, Some((q, _)) if q == jac.pattern) {
            self.lu = None;
            let failed = |e| StepError::from(Status::FactorizationFailed(e));
            let symbolic = Arc::new(LuSymbolic::new(jac.pattern).map_err(failed)?);
            let lu = SparseLu::new(symbolic, self.params.lu).map_err(failed)?;
            info.evaluations.symbolic_analyses += 1;
            self.lu = Some((jac.pattern.clone(), lu));
        }
        let Some((_, lu)) = self.lu.as_mut() else {
            unreachable!("analysed just above")
        };
        let factored = lu.factorize(jac.values);
        info.times.factorization += t.elapsed();
        info.evaluations.factorizations += 1;
        match factored {
            Ok(()) => {}
            Err(SolveError::Singular {
                step,
                column,
                pivot,
                ..
            }) => {
                return Err(Status::Singular {
                    step,
                    column,
                    pivot,
                }
                .into());
            }
            Err(SolveError::NonFinite { .. }) => {
                return Err(Status::NonFinite {
                    what: Quantity::Jacobian,
                }
                .into());
            }
            Err(e) => return Err(Status::FactorizationFailed(e).into()),
        }
        let ws = &mut self.ws;
        let t = Instant::now();
        for (p, r) in ws.p.iter_mut().zip(&ws.r) {
            *p = -r;
        }
        let solved = lu.solve_slice_in_place(&mut ws.p);
        info.times.solve += t.elapsed();
        info.evaluations.solves += 1;
        solved.map_err(|e| StepError::from(Status::FactorizationFailed(e)))?;
        if !norm_inf(&ws.p).is_finite() {
            return Err(Status::NonFinite {
                what: Quantity::Step,
            }
            .into());
        }
        let t = Instant::now();
        let mut evaluations = 0;
        let (end, stats) = backtrack(
            &self.params.line_search,
            ws.merit,
            -2.0 * ws.merit,
            1.0,
            |alpha| {
                evaluations += 1;
                axpy_into(&mut ws.trial, &ws.x, alpha, &ws.p);
                f.residual(&ws.trial, &mut ws.r_trial)?;
                Ok(half_sq(&ws.r_trial))
            },
        );
        info.times.line_search += t.elapsed();
        info.evaluations.values += evaluations;
        info.backtracks += stats.backtracks;
        let alpha = match end {
            LineSearchEnd::Accepted { alpha, .. } => alpha,
            LineSearchEnd::Failed => return Err(Status::LineSearchFailed.into()),
            LineSearchEnd::Error(e) => return Err(StepError::evaluation(e)),
        };
        std::mem::swap(&mut ws.x, &mut ws.trial);
        std::mem::swap(&mut ws.r, &mut ws.r_trial);
        ws.merit = half_sq(&ws.r);
        ws.residual_inf = norm_inf(&ws.r);
        info.iterations += 1;
        Ok(NonlinearStep {
            alpha,
            step_inf: alpha * norm_inf(&ws.p),
        })
    }
}
