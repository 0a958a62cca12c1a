//! What the drivers ([`Newton`](crate::newton::Newton),
//! [`TrustRegion`](crate::trust_region::TrustRegion),
//! [`NonlinearNewton`](crate::nonlinear::NonlinearNewton)) share: the
//! [`Status`] they end with, the counts and phase times they report, the [`Solution`]
//! they return and the [`DriverError`] for input refused before any work.
//!
//! # What returns `Err` and what returns a status
//!
//! Input that leaves nothing to iterate on — a starting point of the wrong length or with
//! a non-finite entry, a problem of dimension 0, parameters out of range — is refused with
//! a [`DriverError`] before the first evaluation. Everything that happens once iterating
//! has begun (a non-finite value, gradient or Hessian, a Hessian that stays indefinite
//! past the δ limit, a singular Jacobian, a line search that cannot decrease, an
//! evaluation that fails, a pattern the factorisations refuse) ends the run with a named
//! [`Status`] and the best point found so far (the last accepted iterate, whose value is
//! finite). Nothing here panics on user input or returns NaN as a result.

use std::time::Duration;

use crate::error::SolveError;

/// How a driver run ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Status {
    /// The stopping test holds: ‖∇f‖∞ ≤ `grad_tol` (minimisation) or ‖F‖∞ ≤
    /// `residual_tol` (nonlinear systems).
    Converged,
    /// `max_iterations` steps were taken without convergence.
    MaxIterations,
    /// The line search found no step length that decreases the merit function enough
    /// (after `max_backtracks` reductions or below `min_step`).
    LineSearchFailed,
    /// The trust radius shrank below `min_radius` without an accepted step.
    RadiusTooSmall,
    /// f stopped decreasing (no decrease in `stall_iterations` iterations) before the
    /// gradient test held: f has converged to working precision, ∇f has not.
    Stalled,
    /// The Hessian stayed indefinite (or singular) for every δ up to the regularisation
    /// limit `delta_max`.
    RegularizationLimit {
        /// The last δ tried.
        last_delta: f64,
    },
    /// A value, gradient, Hessian, Hessian-vector product, residual or Jacobian was NaN
    /// or infinite at a point where it must be finite (the current iterate; trial points
    /// of a line search with a non-finite value are backed off from instead).
    NonFinite {
        /// Which quantity.
        what: Quantity,
    },
    /// The Jacobian is (numerically) singular: LU met no usable pivot.
    Singular {
        /// Elimination step of the failing pivot.
        step: usize,
        /// Original column eliminated at that step.
        column: usize,
        /// The pivot.
        pivot: f64,
    },
    /// The objective or system returned an error; [`Solution::error`] holds it.
    EvaluationFailed,
    /// The factorisation refused the matrix structure (not square, not symmetric, a band
    /// wider than the matrix, an entry outside a declared band, faer out of memory).
    FactorizationFailed(SolveError),
}

impl Status {
    /// A stable snake_case name (`converged`, `max_iterations`, `line_search_failed`,
    /// `radius_too_small`, `stalled`, `regularization_limit`, `non_finite`, `singular`,
    /// `evaluation_failed`, `factorization_failed`), for JSON and tables.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::MaxIterations => "max_iterations",
            Status::LineSearchFailed => "line_search_failed",
            Status::RadiusTooSmall => "radius_too_small",
            Status::Stalled => "stalled",
            Status::RegularizationLimit { .. } => "regularization_limit",
            Status::NonFinite { .. } => "non_finite",
            Status::Singular { .. } => "singular",
            Status::EvaluationFailed => "evaluation_failed",
            Status::FactorizationFailed(_) => "factorization_failed",
        }
    }

    /// Whether the run converged.
    pub fn is_converged(&self) -> bool {
        matches!(self, Status::Converged)
    }
}

/// A quantity a driver evaluates (for [`Status::NonFinite`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// f(x) at the current iterate.
    Value,
    /// ∇f(x).
    Gradient,
    /// ∇²f(x) values.
    Hessian,
    /// A Hessian-vector product.
    HessianVector,
    /// F(x).
    Residual,
    /// J(x) values.
    Jacobian,
    /// The computed step (a factorisation that let a non-finite solution through).
    Step,
}

/// Evaluations and products a run spent, counted by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evaluations {
    /// f(x) evaluations (line-search trial points included).
    pub values: usize,
    /// ∇f(x) evaluations (each also gives f(x); not counted in `values`).
    pub gradients: usize,
    /// Sparse Hessians (or Jacobians, for [`NonlinearNewton`](crate::nonlinear::NonlinearNewton)).
    pub hessians: usize,
    /// Matrix-free Hessian-vector products.
    pub hessian_vectors: usize,
    /// Products in all: `hessians × products_per_hessian + hessian_vectors` (the probes of
    /// each recovered matrix plus the matrix-free products).
    pub products: usize,
    /// Numeric factorisations (each δ of the inertia correction counts).
    pub factorizations: usize,
    /// Symbolic analyses (one, plus one per change of pattern).
    pub symbolic_analyses: usize,
    /// Solves with a factorisation.
    pub solves: usize,
}

/// Wall-clock time per phase of a run (one thread).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PhaseTimes {
    /// Sparse Hessians or Jacobians (recovery), and Hessian-vector products.
    pub hessian: Duration,
    /// Symbolic analyses and numeric factorisations (inertia correction included).
    pub factorization: Duration,
    /// Triangular solves (and, for the trust region, the CG iterations' vector work).
    pub solve: Duration,
    /// Line search (or trust-region trial) evaluations of f or F.
    pub line_search: Duration,
    /// Gradients (or residuals) at accepted points.
    pub gradient: Duration,
    /// Everything else (norms, vector updates, the observer).
    pub other: Duration,
    /// The whole run.
    pub total: Duration,
}

impl PhaseTimes {
    /// Sets `other` to `total` minus the named phases (never negative).
    pub(crate) fn close(&mut self, total: Duration) {
        self.total = total;
        let named =
            self.hessian + self.factorization + self.solve + self.line_search + self.gradient;
        self.other = total.saturating_sub(named);
    }
}

/// A run's result: the best point found and its value, the driver's diagnostics `I`, and
/// the error of the objective if one ended the run ([`Status::EvaluationFailed`]).
#[derive(Debug, Clone)]
pub struct Solution<I, E> {
    /// The best point: the last accepted iterate (x0 if no step was accepted).
    pub x: Vec<f64>,
    /// f(x) (minimisation) or ½‖F(x)‖² (nonlinear systems), finite.
    pub value: f64,
    /// The driver's diagnostics (status, iterations, counts, times).
    pub info: I,
    /// The objective's error, when one ended the run.
    pub error: Option<E>,
}

/// Why a step ([`Newton::step`](crate::newton::Newton::step) and the like) ended the
/// run: the status, and the objective's error when it is
/// [`Status::EvaluationFailed`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepError<E> {
    /// How the run ends.
    pub status: Status,
    /// The objective's error.
    pub error: Option<E>,
}

impl<E> From<Status> for StepError<E> {
    fn from(status: Status) -> Self {
        StepError {
            status,
            error: None,
        }
    }
}

impl<E> StepError<E> {
    /// [`Status::EvaluationFailed`] with the objective's error.
    pub(crate) fn evaluation(error: E) -> Self {
        StepError {
            status: Status::EvaluationFailed,
            error: Some(error),
        }
    }
}

/// Input refused before any work (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The problem has dimension 0.
    #[error("the problem has dimension 0")]
    EmptyProblem,
    /// A nonlinear system is not square (Newton's method needs m = n).
    #[error("the system must be square: {residuals} residuals, {unknowns} unknowns")]
    NotSquare {
        /// m.
        residuals: usize,
        /// n.
        unknowns: usize,
    },
    /// A slice has the wrong length.
    #[error("{what}: expected length {expected}, got {got}")]
    LengthMismatch {
        /// Which argument.
        what: &'static str,
        /// Length needed.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// The starting point has a NaN or infinite entry.
    #[error("starting point: entry {index} is {value}")]
    NonFiniteStart {
        /// Position of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A parameter is out of range.
    #[error("parameter {param} = {value} is invalid: {reason}")]
    InvalidParameter {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        reason: &'static str,
    },
}

/// `Err(InvalidParameter)` unless `lo < value < hi` (exclusive) and finite.
pub(crate) fn check_open(
    param: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<(), DriverError> {
    if value.is_finite() && value > lo && value < hi {
        Ok(())
    } else {
        Err(DriverError::InvalidParameter {
            param,
            value,
            reason,
        })
    }
}

/// `Err(InvalidParameter)` unless `value` is finite and `>= 0`.
pub(crate) fn check_non_negative(param: &'static str, value: f64) -> Result<(), DriverError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(DriverError::InvalidParameter {
            param,
            value,
            reason: "must be finite and non-negative",
        })
    }
}

/// Checks a starting point: length `n > 0`, every entry finite.
pub(crate) fn check_start(n: usize, x0: &[f64]) -> Result<(), DriverError> {
    if n == 0 {
        return Err(DriverError::EmptyProblem);
    }
    if x0.len() != n {
        return Err(DriverError::LengthMismatch {
            what: "starting point",
            expected: n,
            got: x0.len(),
        });
    }
    if let Some(index) = sparsediff_pattern::first_non_finite(x0) {
        return Err(DriverError::NonFiniteStart {
            index,
            value: x0[index],
        });
    }
    Ok(())
}

/// ‖∇f‖∞ after checking that `value` and `g` are finite ([`Status::NonFinite`] if not).
pub(crate) fn finite_value_gradient<E>(value: f64, g: &[f64]) -> Result<f64, StepError<E>> {
    if !value.is_finite() {
        return Err(Status::NonFinite {
            what: Quantity::Value,
        }
        .into());
    }
    let grad_inf = norm_inf(g);
    if !grad_inf.is_finite() {
        return Err(Status::NonFinite {
            what: Quantity::Gradient,
        }
        .into());
    }
    Ok(grad_inf)
}

/// f(x) and ∇f(x) into `g`, timed and counted, both checked finite: `(f, ‖∇f‖∞)`.
pub(crate) fn gradient_at<F>(
    f: &mut F,
    x: &[f64],
    g: &mut [f64],
    times: &mut PhaseTimes,
    evaluations: &mut Evaluations,
) -> Result<(f64, f64), StepError<F::Error>>
where
    F: sparsediff_pattern::objective::ValueGradient + ?Sized,
{
    let t = std::time::Instant::now();
    let value = f.gradient(x, g);
    times.gradient += t.elapsed();
    evaluations.gradients += 1;
    let value = value.map_err(StepError::evaluation)?;
    Ok((value, finite_value_gradient(value, g)?))
}

/// ‖v‖∞ (NaN if any entry is NaN, so that a finiteness test catches it).
pub(crate) fn norm_inf(v: &[f64]) -> f64 {
    let mut m = 0.0f64;
    for &x in v {
        if x.is_nan() {
            return f64::NAN;
        }
        m = m.max(x.abs());
    }
    m
}

/// ⟨a, b⟩.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `out = x + alpha·p`.
pub(crate) fn axpy_into(out: &mut [f64], x: &[f64], alpha: f64, p: &[f64]) {
    for ((o, xi), pi) in out.iter_mut().zip(x).zip(p) {
        *o = xi + alpha * pi;
    }
}
