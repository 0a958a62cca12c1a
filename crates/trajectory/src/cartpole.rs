//! The cartpole swing-up of the benchmark spec (`crates/problems/spec/cartpole-swingup.md`)
//! written with this crate's public API: the model [`Cartpole`], the cost [`Effort`], and
//! [`problem`] with the spec's boundary conditions and bounds. Transcribed trapezoidally,
//! it is the spec's nonlinear program: `z[5k..5k+5] = (x_k, v_k, θ_k, ω_k, a_k)`, the same
//! c (4N + 4 rows) and g (4N rows) in the same order.
//!
//! ```
//! use trajectory::{cartpole, Transcribed, Transcription};
//!
//! let nlp = Transcribed::new(cartpole::problem(100)?, Transcription::Trapezoidal)?;
//! assert_eq!((nlp.num_vars(), nlp.num_equalities(), nlp.num_inequalities()), (500, 404, 400));
//! let z = cartpole::initial_guess(100);
//! assert!(nlp.cost(&z)? > 0.0);
//! # Ok::<(), trajectory::TrajectoryError>(())
//! ```

use std::f64::consts::PI;

use sparsediff::ad::num_dual::DualNum;

use crate::error::TrajectoryError;
use crate::problem::{Dynamics, Problem, RunningCost};

/// Gravitational acceleration g, m/s².
pub const GRAVITY: f64 = 9.81;
/// Pole length L, m.
pub const POLE_LENGTH: f64 = 0.5;
/// Weight of `x² + v² + ω²` relative to `a²` in the cost.
pub const STATE_WEIGHT: f64 = 1e-3;
/// `dt = HORIZON_FACTOR / N` (0.05 s at N = 100, 0.005 s at N = 1000, as in the spec).
pub const HORIZON_FACTOR: f64 = 5.0;

/// The velocity-controlled cart: state `(x, v, θ, ω)` (θ = 0 hanging), control the cart
/// acceleration a; `x' = v`, `v' = a`, `θ' = ω`, `ω' = −(3/(2L))·(g·sin θ + a·cos θ)`.
///
/// ```
/// use trajectory::{cartpole::Cartpole, Dynamics};
/// let mut ds = [0.0; 4];
/// Cartpole.eval(&[0.1, 0.2, std::f64::consts::FRAC_PI_2, 0.4], &[1.0], &mut ds);
/// assert_eq!(ds[..3], [0.2, 1.0, 0.4]);
/// assert!((ds[3] + 3.0 * 9.81).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cartpole;

impl Dynamics for Cartpole {
    fn state_dim(&self) -> usize {
        4
    }
    fn control_dim(&self) -> usize {
        1
    }
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        let (theta, a) = (s[2], u[0]);
        ds[0] = s[1];
        ds[1] = a;
        ds[2] = s[3];
        ds[3] = (theta.sin() * GRAVITY + a * theta.cos()) * (-3.0 / (2.0 * POLE_LENGTH));
    }
}

/// The spec's running cost `a² + 1e-3·(x² + v² + ω²)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effort;

impl RunningCost for Effort {
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D]) -> D {
        let (x, v, omega, a) = (s[0], s[1], s[3], u[0]);
        a * a + (x * x + v * v + omega * omega) * STATE_WEIGHT
    }
}

/// The swing-up with `knots` knots and `dt = 5 / knots`: from hanging at rest to upright at
/// rest at the origin, `|x| ≤ 1`, `|a| ≤ 4`.
///
/// # Errors
/// [`TrajectoryError::TooFewKnots`] if `knots < 2`.
pub fn problem(knots: usize) -> Result<Problem<Cartpole, Effort>, TrajectoryError> {
    problem_with(knots, HORIZON_FACTOR / knots as f64)
}

/// The swing-up with `knots` knots spaced by `dt`.
///
/// # Errors
/// [`TrajectoryError::TooFewKnots`] if `knots < 2`, [`TrajectoryError::InvalidTimeStep`]
/// unless dt is finite and positive.
pub fn problem_with(knots: usize, dt: f64) -> Result<Problem<Cartpole, Effort>, TrajectoryError> {
    let inf = f64::INFINITY;
    Problem::new(Cartpole, Effort, knots, dt)?
        .with_initial_state(&[0.0, 0.0, 0.0, 0.0])?
        .with_terminal_state(&[0.0, 0.0, PI, 0.0])?
        .with_state_bounds(&[-1.0, -inf, -inf, -inf], &[1.0, inf, inf, inf])?
        .with_control_bounds(&[-4.0], &[4.0])
}

/// The spec's initial guess for solves with `knots` knots and `dt = 5 / knots`:
/// `x = v = a = 0`, `θ_k = π·k/(N−1)`, `ω_k = π/((N−1)·dt)`.
pub fn initial_guess(knots: usize) -> Vec<f64> {
    let dt = HORIZON_FACTOR / knots as f64;
    let last = knots.saturating_sub(1).max(1) as f64;
    (0..knots)
        .flat_map(|k| [0.0, 0.0, PI * k as f64 / last, PI / (last * dt), 0.0])
        .collect()
}

/// The spec's evaluation point of the Hessian benchmarks with `knots` knots and
/// `dt = 5 / knots`: with `t_k = k·dt`, `T = (N−1)·dt`, `x_k = 0.5·sin(2π t_k/T)`,
/// `v_k = 0.5·(2π/T)·cos(2π t_k/T)`, `θ_k = π t_k/T`, `ω_k = π/T`, `a_k = sin(3 t_k)`.
pub fn eval_point(knots: usize) -> Vec<f64> {
    let dt = HORIZON_FACTOR / knots as f64;
    let big_t = knots.saturating_sub(1).max(1) as f64 * dt;
    (0..knots)
        .flat_map(|k| {
            let t = k as f64 * dt;
            let phase = 2.0 * PI * t / big_t;
            [
                0.5 * phase.sin(),
                0.5 * (2.0 * PI / big_t) * phase.cos(),
                PI * t / big_t,
                PI / big_t,
                (3.0 * t).sin(),
            ]
        })
        .collect()
}
