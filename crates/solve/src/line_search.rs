//! Armijo backtracking with safeguarded quadratic interpolation (Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed., §3.5), the line search of
//! [`Newton`](crate::newton::Newton) and [`NonlinearNewton`](crate::nonlinear::NonlinearNewton).
//!
//! Along a descent direction p, with φ(α) = merit(x + α·p), φ(0) = φ₀ and φ′(0) = φ′₀ < 0,
//! the first trial is α = 1 (a full Newton step); a trial is accepted when
//!
//! ```text
//! φ(α) ≤ φ₀ + c₁·α·φ′₀            (+ value_tolerance·|φ₀| for the first trial only)
//! ```
//!
//! (the slack forgives a full step whose decrease is lost to rounding once φ₀ has
//! converged to working precision; backtracked trials get none, so a direction that only
//! goes uphill is never accepted; they must also decrease φ strictly, so that a step too
//! small to change x in floating point is not taken for progress). A rejected trial shrinks α to the minimiser of the quadratic through
//! φ₀, φ′₀ and φ(α), kept within `[shrink_min·α, shrink_max·α]`. A trial with a non-finite
//! value (outside the function's domain: ln of a non-positive number, an overflow) is
//! backed off from by `shrink_max`, never accepted. The search fails after
//! `max_backtracks` reductions or when α falls below `min_step`.
//!
//! ```
//! use sparsediff_solve::line_search::{ArmijoParams, LineSearchEnd, backtrack};
//! // f(x) = (x − 1)² from x = 0 along p = 4: φ(α) = (4α − 1)², φ(0) = 1, φ′(0) = −8
//! let phi = |a: f64| -> Result<f64, std::convert::Infallible> { Ok((4.0 * a - 1.0).powi(2)) };
//! let params = ArmijoParams { shrink_min: 0.1, ..ArmijoParams::default() }; // interpolate
//! let (end, stats) = backtrack(&params, 1.0, -8.0, 1.0, phi);
//! let LineSearchEnd::Accepted { alpha, value } = end else { panic!("accepted") };
//! assert_eq!((alpha, value), (0.25, 0.0)); // the interpolation lands on the minimiser
//! assert_eq!(stats.backtracks, 1);
//! ```

use crate::driver::{DriverError, check_non_negative, check_open};

/// Tuning of the backtracking line search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmijoParams {
    /// Sufficient-decrease constant c₁ in (0, 1). Default 1e-4.
    pub c1: f64,
    /// Smallest reduction factor of one backtrack, in (0, shrink_max]. Default 0.5, so
    /// that by default every backtrack halves α: interpolation (`shrink_min` 0.1) cut
    /// the steps of Newton on chained Rosenbrock to α = 0.1 where halving accepts 0.5,
    /// and tripled its iterations.
    pub shrink_min: f64,
    /// Largest reduction factor of one backtrack (and the factor for a non-finite trial),
    /// in [shrink_min, 1). Default 0.5.
    pub shrink_max: f64,
    /// Most reductions before the search fails. Default 60.
    pub max_backtracks: usize,
    /// The search fails when α falls below this (finite, ≥ 0). Default 1e-20.
    pub min_step: f64,
    /// Relative slack `value_tolerance·|φ₀|` added to the Armijo test of the first trial
    /// (finite, ≥ 0). Default 1e-14 (≈ 45 ε).
    pub value_tolerance: f64,
}

impl Default for ArmijoParams {
    fn default() -> Self {
        Self {
            c1: 1e-4,
            shrink_min: 0.5,
            shrink_max: 0.5,
            max_backtracks: 60,
            min_step: 1e-20,
            value_tolerance: 1e-14,
        }
    }
}

impl ArmijoParams {
    /// Checks every field. Errors: [`DriverError::InvalidParameter`].
    pub fn check(&self) -> Result<(), DriverError> {
        check_open("c1", self.c1, 0.0, 1.0, "must lie in (0, 1)")?;
        check_open(
            "shrink_max",
            self.shrink_max,
            0.0,
            1.0,
            "must lie in (0, 1)",
        )?;
        if !(self.shrink_min > 0.0 && self.shrink_min <= self.shrink_max) {
            return Err(DriverError::InvalidParameter {
                param: "shrink_min",
                value: self.shrink_min,
                reason: "must lie in (0, shrink_max]",
            });
        }
        check_non_negative("min_step", self.min_step)?;
        check_non_negative("value_tolerance", self.value_tolerance)
    }
}

/// How a line search ended.
#[derive(Debug, Clone, PartialEq)]
pub enum LineSearchEnd<E> {
    /// α was accepted with φ(α) = `value`; the last call of φ was at this α.
    Accepted {
        /// The step length.
        alpha: f64,
        /// φ(α), finite.
        value: f64,
    },
    /// No acceptable α (too many backtracks, α below `min_step`, or φ′₀ not negative).
    Failed,
    /// φ returned an error.
    Error(E),
}

/// What a line search spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineSearchStats {
    /// Calls of φ.
    pub evaluations: usize,
    /// Reductions of α.
    pub backtracks: usize,
    /// Reductions caused by a non-finite φ(α) (outside the domain).
    pub domain_backoffs: usize,
}

/// Backtracks from `alpha0` along a direction with `phi0 = φ(0)` and slope `dphi0 = φ′(0)`
/// (which must be negative and finite, else the search fails at once); `phi(α)`
/// evaluates the merit function at x + α·p. Parameters are assumed checked
/// ([`ArmijoParams::check`]).
pub fn backtrack<E>(
    params: &ArmijoParams,
    phi0: f64,
    dphi0: f64,
    alpha0: f64,
    mut phi: impl FnMut(f64) -> Result<f64, E>,
) -> (LineSearchEnd<E>, LineSearchStats) {
    let mut stats = LineSearchStats::default();
    if !(dphi0 < 0.0 && dphi0.is_finite() && phi0.is_finite() && alpha0 > 0.0) {
        return (LineSearchEnd::Failed, stats);
    }
    let slack = params.value_tolerance * phi0.abs();
    let mut alpha = alpha0;
    loop {
        if alpha < params.min_step {
            return (LineSearchEnd::Failed, stats);
        }
        stats.evaluations += 1;
        let value = match phi(alpha) {
            Ok(v) => v,
            Err(e) => return (LineSearchEnd::Error(e), stats),
        };
        let next = if !value.is_finite() {
            stats.domain_backoffs += 1;
            alpha * params.shrink_max
        } else if (stats.backtracks == 0 && value <= phi0 + params.c1 * alpha * dphi0 + slack)
            || (value < phi0 && value <= phi0 + params.c1 * alpha * dphi0)
        {
            return (LineSearchEnd::Accepted { alpha, value }, stats);
        } else {
            // Minimiser of q(a) = φ₀ + φ′₀·a + c·a² through (alpha, value).
            let curvature = value - phi0 - dphi0 * alpha;
            let q = if curvature > 0.0 {
                -dphi0 * alpha * alpha / (2.0 * curvature)
            } else {
                alpha * params.shrink_max
            };
            q.clamp(params.shrink_min * alpha, params.shrink_max * alpha)
        };
        if stats.backtracks >= params.max_backtracks {
            return (LineSearchEnd::Failed, stats);
        }
        stats.backtracks += 1;
        alpha = next;
    }
}
