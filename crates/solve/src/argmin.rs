//! argmin 0.11 interop (cargo feature `argmin`): any [`ValueGradient`] /
//! [`ValueGradientHessian`] as an argmin problem, and argmin's L-BFGS as the first-order
//! baseline ([`lbfgs`]).
//!
//! # What works
//!
//! With argmin-math 0.5's `vec` backend (parameters and gradients are `Vec<f64>`),
//! [`ArgminProblem`] implements argmin's `CostFunction`, `Gradient` and `Hessian`. The
//! Hessian is a [`CsrHessian`] — the recovered pattern (shared, `Arc`) and values — not a
//! dense `Vec<Vec<f64>>`: argmin's `NewtonCG` and `TrustRegion<Steihaug>` only ever apply
//! the Hessian to a vector (they ask `H: Clone + ArgminDot<P, P>`), which `CsrHessian`
//! implements as a sparse product. So
//!
//! * `LBFGS<MoreThuenteLineSearch<Vec<f64>, Vec<f64>, f64>, Vec<f64>, Vec<f64>, f64>` — yes
//!   ([`lbfgs`] wraps it with an ∞-norm gradient test and our [`Status`]);
//! * `NewtonCG<MoreThuenteLineSearch<..>, f64>` — yes, with [`CsrHessian`];
//! * `TrustRegion<Steihaug<Vec<f64>, f64>, f64>` — yes, with [`CsrHessian`];
//! * argmin's `Newton` — no: it inverts H (`ArgminInv`), which a sparse matrix does not
//!   offer; [`Newton`](crate::newton::Newton) is ours for that reason.
//!
//! argmin's problem traits take `&self`; the objective sits in a `RefCell`. Errors of the
//! objective must be `Send + Sync` to cross argmin's `anyhow` errors. Non-finite values
//! end argmin's run with an error (its line searches do not back off from them), which
//! [`lbfgs`] reports as [`Status::NonFinite`] with the best point evaluated so far.
//!
//! `cost(x)` evaluates the gradient too and keeps both: argmin's More–Thuente line search
//! asks for the cost and then the gradient at every trial point, and L-BFGS the gradient
//! at the accepted one, so each trial point costs one gradient evaluation.
//!
//! ```
//! use argmin::core::{Executor, State};
//! use argmin::solver::linesearch::MoreThuenteLineSearch;
//! use argmin::solver::trustregion::{Steihaug, TrustRegion};
//! use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
//! use sparsediff_pattern::{generators, Pattern};
//! use sparsediff_solve::argmin::ArgminProblem;
//!
//! /// f = ½ xᵀAx − 1ᵀx with A = tridiag(−1, 4, −1).
//! struct Quadratic { pattern: Pattern, values: Vec<f64> }
//! impl ValueGradient for Quadratic {
//!     type Error = std::convert::Infallible;
//!     fn dim(&self) -> usize { self.pattern.nrows() }
//!     fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
//!         let mut g = vec![0.0; x.len()];
//!         self.gradient(x, &mut g)
//!     }
//!     fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
//!         SymmetricValues { pattern: &self.pattern, values: &self.values }.mul_vec(x, g);
//!         let f = x.iter().zip(g.iter()).map(|(a, b)| 0.5 * a * b - a).sum();
//!         g.iter_mut().for_each(|v| *v -= 1.0);
//!         Ok(f)
//!     }
//! }
//! impl ValueGradientHessian for Quadratic {
//!     fn hessian(&mut self, _: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
//!         Ok(SymmetricValues { pattern: &self.pattern, values: &self.values })
//!     }
//! }
//! let pattern = generators::band(100, 1, 1)?;
//! let values = pattern.iter().map(|(i, j)| if i == j { 4.0 } else { -1.0 }).collect();
//! let problem = ArgminProblem::new(Quadratic { pattern, values });
//! // argmin's own trust region, with our sparse Hessian as its operator
//! let solver = TrustRegion::new(Steihaug::new().with_max_iters(100));
//! let res = Executor::new(problem, solver)
//!     .configure(|s| s.param(vec![0.0; 100]).max_iters(20))
//!     .run()?;
//! let x = res.state().get_best_param().unwrap();
//! assert!(x.iter().all(|v| v.is_finite() && *v > 0.0 && *v < 1.0)); // (A⁻¹1)ᵢ ∈ (1/4, 1/2]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use argmin::core::{
    CostFunction, Executor, Gradient, Hessian, IterState, KV, Problem, Solver, State,
    TerminationReason, TerminationStatus,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use argmin_math::ArgminDot;
use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::{ValueGradient, ValueGradientHessian};

use crate::driver::{
    DriverError, Evaluations, PhaseTimes, Quantity, Solution, Status, check_non_negative,
    check_start, norm_inf,
};
use crate::observe::{Iterate, Observer};

/// A sparse symmetric Hessian as an argmin operator: `dot(v)` is the CSR product H·v.
#[derive(Debug, Clone)]
pub struct CsrHessian {
    /// The pattern (both triangles), shared between evaluations while it does not change.
    pub pattern: Arc<Pattern>,
    /// Values in the pattern's order.
    pub values: Vec<f64>,
}

impl ArgminDot<Vec<f64>, Vec<f64>> for CsrHessian {
    fn dot(&self, v: &Vec<f64>) -> Vec<f64> {
        let mut out = vec![0.0; self.pattern.nrows()];
        // Lengths are the problem's n: argmin passes parameter-sized vectors.
        sparsediff_pattern::objective::SymmetricValues {
            pattern: &self.pattern,
            values: &self.values,
        }
        .mul_vec(v, &mut out);
        out
    }
}

/// Why the adapter refused to hand argmin a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The objective returned a non-finite value, gradient or Hessian entry.
    #[error("the objective's {what:?} is not finite")]
    NonFinite {
        /// Which quantity.
        what: Quantity,
    },
    /// argmin asked at a point of the wrong length.
    #[error("argmin passed a point of length {got}, expected {expected}")]
    LengthMismatch {
        /// The problem's n.
        expected: usize,
        /// The length passed.
        got: usize,
    },
}

#[derive(Debug, Default)]
struct Cache {
    x: Vec<f64>,
    value: f64,
    grad: Vec<f64>,
    valid: bool,
}

#[derive(Debug, Default)]
struct Best {
    x: Vec<f64>,
    value: f64,
    grad_inf: f64,
}

fn best_of(r: &Record) -> Option<(Vec<f64>, f64, f64)> {
    r.best.as_ref().map(|b| (b.x.clone(), b.value, b.grad_inf))
}

/// What the adapter records, shared with the driver that built it (argmin consumes the
/// problem on error).
#[derive(Debug, Default)]
struct Record {
    cache: Cache,
    best: Option<Best>,
    counts: Evaluations,
    times: PhaseTimes,
    pattern: Option<Arc<Pattern>>,
    failure: Option<Status>,
    iterations: usize,
}

/// Any objective as an argmin problem (see the [module docs](self)); counts every
/// evaluation and remembers the best point evaluated.
#[derive(Debug)]
pub struct ArgminProblem<F> {
    f: RefCell<F>,
    record: Rc<RefCell<Record>>,
}

impl<F: ValueGradient> ArgminProblem<F> {
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self {
            f: RefCell::new(f),
            record: Rc::new(RefCell::new(Record::default())),
        }
    }

    /// The objective back.
    pub fn into_inner(self) -> F {
        self.f.into_inner()
    }

    /// Evaluations so far (`gradients` counts the objective's gradient calls, each of which
    /// also gave the value; `values` is 0: every value came with a gradient).
    pub fn evaluations(&self) -> Evaluations {
        self.record.borrow().counts
    }

    /// Time spent in the objective (`gradient`: values and gradients; `hessian`: Hessians).
    pub fn times(&self) -> PhaseTimes {
        self.record.borrow().times
    }

    /// The point with the lowest finite value (and finite gradient) evaluated so far, its
    /// value and ‖∇f‖∞.
    pub fn best(&self) -> Option<(Vec<f64>, f64, f64)> {
        best_of(&self.record.borrow())
    }

    /// The reason the adapter last refused a number, if any.
    pub fn failure(&self) -> Option<Status> {
        self.record.borrow().failure.clone()
    }

    /// f(x) and ∇f(x) into the cache (reused when argmin asks again at the same x).
    fn evaluate(&self, x: &[f64]) -> Result<(), argmin::core::Error>
    where
        F::Error: Send + Sync,
    {
        let n = self.f.borrow().dim();
        if x.len() != n {
            return Err(AdapterError::LengthMismatch {
                expected: n,
                got: x.len(),
            }
            .into());
        }
        let mut record = self.record.borrow_mut();
        let r = &mut *record;
        let c = &mut r.cache;
        if c.valid && c.x == x {
            return Ok(());
        }
        c.valid = false;
        c.grad.resize(n, 0.0);
        let t = Instant::now();
        let value = self.f.borrow_mut().gradient(x, &mut c.grad);
        r.times.gradient += t.elapsed();
        r.counts.gradients += 1;
        let value = value?;
        let grad_inf = norm_inf(&c.grad);
        let bad = if !value.is_finite() {
            Some(Quantity::Value)
        } else if !grad_inf.is_finite() {
            Some(Quantity::Gradient)
        } else {
            None
        };
        if let Some(what) = bad {
            r.failure = Some(Status::NonFinite { what });
            return Err(AdapterError::NonFinite { what }.into());
        }
        c.x.clear();
        c.x.extend_from_slice(x);
        c.value = value;
        c.valid = true;
        let best = &mut r.best;
        match best.as_mut() {
            Some(b) if b.value <= value => {}
            Some(b) => {
                b.x.copy_from_slice(x);
                b.value = value;
                b.grad_inf = grad_inf;
            }
            None => {
                *best = Some(Best {
                    x: x.to_vec(),
                    value,
                    grad_inf,
                })
            }
        }
        Ok(())
    }
}

impl<F: ValueGradient> CostFunction for ArgminProblem<F>
where
    F::Error: Send + Sync,
{
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.evaluate(x)?;
        Ok(self.record.borrow().cache.value)
    }
}

impl<F: ValueGradient> Gradient for ArgminProblem<F>
where
    F::Error: Send + Sync,
{
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        self.evaluate(x)?;
        Ok(self.record.borrow().cache.grad.clone())
    }
}

impl<F: ValueGradientHessian> Hessian for ArgminProblem<F>
where
    F::Error: Send + Sync,
{
    type Param = Vec<f64>;
    type Hessian = CsrHessian;

    fn hessian(&self, x: &Vec<f64>) -> Result<CsrHessian, argmin::core::Error> {
        let t = Instant::now();
        let mut f = self.f.borrow_mut();
        let mut record = self.record.borrow_mut();
        let r = &mut *record;
        r.counts.hessians += 1;
        let h = f.hessian(x)?;
        if sparsediff_pattern::first_non_finite(h.values).is_some() {
            r.failure = Some(Status::NonFinite {
                what: Quantity::Hessian,
            });
            return Err(AdapterError::NonFinite {
                what: Quantity::Hessian,
            }
            .into());
        }
        let cached = &mut r.pattern;
        let pattern = match cached.as_ref() {
            Some(p) if **p == *h.pattern => Arc::clone(p),
            _ => {
                let p = Arc::new(h.pattern.clone());
                *cached = Some(Arc::clone(&p));
                p
            }
        };
        let out = CsrHessian {
            pattern,
            values: h.values.to_vec(),
        };
        r.times.hessian += t.elapsed();
        Ok(out)
    }
}

/// Tuning of [`lbfgs`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsParams {
    /// Stop when ‖∇f‖∞ ≤ `grad_tol` (finite, ≥ 0). Default 1e-8.
    pub grad_tol: f64,
    /// Most iterations. Default 10 000.
    pub max_iterations: usize,
    /// Stored correction pairs m (≥ 1). Default 10.
    pub memory: usize,
    /// End with [`Status::Stalled`] after this many iterations without a decrease of f
    /// (≥ 1). Default 25. argmin's More–Thuente keeps returning tiny steps once f has
    /// converged to working precision; without this test such a run lasts
    /// `max_iterations`.
    pub stall_iterations: usize,
}

impl Default for LbfgsParams {
    fn default() -> Self {
        Self {
            grad_tol: 1e-8,
            max_iterations: 10_000,
            memory: 10,
            stall_iterations: 25,
        }
    }
}

/// What an [`lbfgs`] run did.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsInfo {
    /// How it ended.
    pub status: Status,
    /// L-BFGS iterations.
    pub iterations: usize,
    /// ‖∇f‖∞ at the returned point.
    pub grad_inf: f64,
    /// Evaluations (gradients; each also gave the value).
    pub evaluations: Evaluations,
    /// `gradient`: time in the objective; `other`: argmin's own work.
    pub times: PhaseTimes,
    /// argmin's own account of the end, when it returned one.
    pub termination: Option<String>,
}

/// argmin's L-BFGS wrapped so that it stops on ‖∇f‖∞ (argmin's own test is on ‖∇f‖₂) and
/// calls our observer.
struct InfNormStop<'o, S, O: ?Sized> {
    inner: S,
    grad_tol: f64,
    observer: &'o mut O,
    start: Instant,
    converged: bool,
    iteration: usize,
    record: Rc<RefCell<Record>>,
    /// The lowest f seen and the iteration that reached it.
    lowest: (f64, usize),
    stall_iterations: usize,
    stalled: bool,
}

type Lbfgs = LBFGS<MoreThuenteLineSearch<Vec<f64>, Vec<f64>, f64>, Vec<f64>, Vec<f64>, f64>;
type LbfgsState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

impl<P, S, O> Solver<P, LbfgsState> for InfNormStop<'_, S, O>
where
    S: Solver<P, LbfgsState>,
    O: Observer + ?Sized,
{
    fn name(&self) -> &str {
        "L-BFGS (argmin), ∞-norm gradient test"
    }

    fn init(
        &mut self,
        problem: &mut Problem<P>,
        state: LbfgsState,
    ) -> Result<(LbfgsState, Option<KV>), argmin::core::Error> {
        let (state, kv) = self.inner.init(problem, state)?;
        self.report(&state);
        Ok((state, kv))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<P>,
        state: LbfgsState,
    ) -> Result<(LbfgsState, Option<KV>), argmin::core::Error> {
        let (state, kv) = self.inner.next_iter(problem, state)?;
        self.iteration += 1;
        self.record.borrow_mut().iterations = self.iteration;
        self.report(&state);
        Ok((state, kv))
    }

    fn terminate(&mut self, state: &LbfgsState) -> TerminationStatus {
        if self.converged {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        if self.stalled {
            return TerminationStatus::Terminated(TerminationReason::SolverExit(
                "f did not decrease".to_string(),
            ));
        }
        self.inner.terminate(state)
    }
}

impl<S, O: Observer + ?Sized> InfNormStop<'_, S, O> {
    fn report(&mut self, state: &LbfgsState) {
        let measure = state.get_gradient().map_or(f64::NAN, |g| norm_inf(g));
        self.converged = measure <= self.grad_tol;
        let cost = state.get_cost();
        if cost < self.lowest.0 {
            self.lowest = (cost, self.iteration);
        }
        self.stalled = self.iteration >= self.lowest.1 + self.stall_iterations;
        self.observer.observe(&Iterate {
            iteration: self.iteration,
            x: state.get_param().map_or(&[], |p| p.as_slice()),
            value: state.get_cost(),
            measure,
            step_length: 0.0,
            step_inf: 0.0,
            regularization: 0.0,
            radius: f64::NAN,
            cg_iterations: 0,
            seconds: self.start.elapsed().as_secs_f64(),
        });
    }
}

/// Minimises `f` from `x0` with argmin's L-BFGS (More–Thuente line search, `memory`
/// pairs), stopping when ‖∇f‖∞ ≤ `grad_tol`. The observer sees x0 and every iterate.
///
/// Errors (before any evaluation): [`DriverError::EmptyProblem`],
/// [`DriverError::LengthMismatch`], [`DriverError::NonFiniteStart`],
/// [`DriverError::InvalidParameter`]. An argmin error mid-run (a non-finite value, a line
/// search that fails, the objective's error) ends with a [`Status`] and the best point
/// evaluated so far (`error` holds the objective's error; [`LbfgsInfo::termination`]
/// argmin's message).
///
/// ```
/// use sparsediff_pattern::objective::ValueGradient;
/// use sparsediff_solve::argmin::{LbfgsParams, lbfgs};
/// /// f = Σ (xᵢ − i)²
/// struct F;
/// impl ValueGradient for F {
///     type Error = std::convert::Infallible;
///     fn dim(&self) -> usize { 5 }
///     fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
///         Ok(x.iter().enumerate().map(|(i, v)| (v - i as f64).powi(2)).sum())
///     }
///     fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
///         for (i, (g, v)) in g.iter_mut().zip(x).enumerate() { *g = 2.0 * (v - i as f64); }
///         self.value(x)
///     }
/// }
/// let sol = lbfgs(F, &[0.0; 5], LbfgsParams::default(), &mut ())?;
/// assert!(sol.info.status.is_converged());
/// assert!((sol.x[4] - 4.0).abs() < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lbfgs<F, O>(
    f: F,
    x0: &[f64],
    params: LbfgsParams,
    observer: &mut O,
) -> Result<Solution<LbfgsInfo, F::Error>, DriverError>
where
    F: ValueGradient,
    F::Error: Send + Sync,
    O: Observer + ?Sized,
{
    check_start(f.dim(), x0)?;
    check_non_negative("grad_tol", params.grad_tol)?;
    for (param, v) in [
        ("memory", params.memory),
        ("stall_iterations", params.stall_iterations),
    ] {
        if v == 0 {
            return Err(DriverError::InvalidParameter {
                param,
                value: 0.0,
                reason: "must be at least 1",
            });
        }
    }
    let start = Instant::now();
    let problem = ArgminProblem::new(f);
    let record = Rc::clone(&problem.record);
    let inner: Lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), params.memory)
        .with_tolerance_grad(0.0)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .map_err(|_| DriverError::InvalidParameter {
            param: "tolerances",
            value: 0.0,
            reason: "refused by argmin",
        })?;
    let solver = InfNormStop {
        inner,
        grad_tol: params.grad_tol,
        observer,
        start,
        converged: false,
        iteration: 0,
        record: Rc::clone(&record),
        lowest: (f64::INFINITY, 0),
        stall_iterations: params.stall_iterations,
        stalled: false,
    };
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(x0.to_vec()).max_iters(params.max_iterations as u64))
        .run();
    let mut last = None;
    let (status, termination, error) = match result {
        Ok(res) => {
            let s = &res.state;
            if let (Some(x), Some(g)) = (s.get_param(), s.get_gradient()) {
                last = Some((x.clone(), s.get_cost(), norm_inf(g)));
            }
            let reason = res.state.get_termination_reason().cloned();
            let failure = record.borrow().failure.clone();
            let status = if res.solver.converged {
                Status::Converged
            } else if res.solver.stalled {
                Status::Stalled
            } else if let Some(failure) = failure {
                failure
            } else {
                match reason {
                    Some(TerminationReason::MaxItersReached) => Status::MaxIterations,
                    _ => Status::LineSearchFailed,
                }
            };
            let text = reason.map(|r| r.text().to_string());
            (status, text, None)
        }
        Err(e) => {
            let text = Some(e.to_string());
            let failure = record.borrow().failure.clone();
            match e.downcast::<F::Error>() {
                Ok(err) => (Status::EvaluationFailed, text, Some(err)),
                Err(_) => (failure.unwrap_or(Status::LineSearchFailed), text, None),
            }
        }
    };
    let r = record.borrow();
    let mut times = r.times;
    times.close(start.elapsed());
    // The final iterate when argmin finished; the best point evaluated when it failed.
    let (x, value, grad_inf) = last
        .filter(|(_, v, g)| v.is_finite() && g.is_finite())
        .or_else(|| best_of(&r))
        .unwrap_or((x0.to_vec(), f64::NAN, f64::NAN));
    Ok(Solution {
        x,
        value,
        info: LbfgsInfo {
            status,
            iterations: r.iterations,
            grad_inf,
            evaluations: r.counts,
            times,
            termination,
        },
        error,
    })
}
