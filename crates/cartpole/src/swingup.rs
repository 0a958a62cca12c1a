//! The spec's swing-up as a trajectory-optimisation problem on this crate's
//! [`AccelerationCart`] (any pole length and g): the same cost
//! ([`trajectory::cartpole::Effort`], `a² + 1e-3·(x² + v² + ω²)`), boundary conditions
//! (hanging at rest at x = 0 to upright at rest at x = 0), bounds (|x| ≤ 1 m,
//! |a| ≤ 4 m/s²), knots `dt = 5/N` apart, transcribed trapezoidally. At the spec's
//! parameters it is `trajectory::cartpole::problem` (the same nonlinear program, checked
//! in `tests/swingup.rs`); with other parameters it is what a controller with a wrong
//! model plans with.
//!
//! ```
//! use cartpole::model::{AccelerationCart, AccelerationParams};
//! use cartpole::swingup;
//!
//! let cart = AccelerationCart::new(AccelerationParams::default())?;
//! let nlp = swingup::transcribed(&cart, 30)?;
//! let plan = swingup::plan(&nlp)?;
//! assert!(plan.is_converged());
//! let (states, controls) = swingup::knots(&nlp, &plan.z);
//! assert_eq!((states.len(), controls.len()), (30, 30));
//! assert!((states[29][2] - std::f64::consts::PI).abs() < 1e-6); // upright at the end
//! # Ok::<(), cartpole::CartpoleError>(())
//! ```

use std::f64::consts::PI;

use trajectory::cartpole::Effort;
use trajectory::solver::{Solution, Solver, SolverParams, WarmStart};
use trajectory::{Problem, Transcribed, Transcription};

use crate::error::{CartpoleError, TrajectoryFailure};
use crate::model::AccelerationCart;

/// The swing-up problem on [`AccelerationCart`].
pub type SwingupProblem = Problem<AccelerationCart, Effort>;
/// Its trapezoidal transcription (what the MPC controller borrows).
pub type SwingupNlp = Transcribed<AccelerationCart, Effort>;

/// The horizon `(N − 1)·dt + dt = 5` s: `dt = HORIZON / N` (0.05 s at N = 100), as the
/// spec and `trajectory::cartpole`.
pub const HORIZON: f64 = trajectory::cartpole::HORIZON_FACTOR;

/// The swing-up of `model` with `knots` knots, `dt = 5/knots`.
///
/// # Errors
/// [`CartpoleError::Trajectory`] for fewer than 2 knots (the trajectory crate's
/// `TooFewKnots`).
pub fn problem(model: &AccelerationCart, knots: usize) -> Result<SwingupProblem, CartpoleError> {
    problem_with_track(model, knots, TRACK)
}

/// The spec's track bound |x| ≤ 1 m.
pub const TRACK: f64 = 1.0;

/// [`problem`] with the bound `|x| ≤ track` instead of the spec's 1 m: a controller that
/// plans with a margin (the plan of the spec touches the bound, which a plant with end
/// stops at 1 m overshoots by a millimetre).
///
/// # Errors
/// As [`problem`]; [`CartpoleError::InvalidParameter`] unless `track` is finite and
/// positive.
pub fn problem_with_track(
    model: &AccelerationCart,
    knots: usize,
    track: f64,
) -> Result<SwingupProblem, CartpoleError> {
    crate::error::check_param("track", track, "m", crate::Requirement::Positive)?;
    let wrap = |e| TrajectoryFailure::wrap("swing-up problem", e);
    let inf = f64::INFINITY;
    let dt = HORIZON / knots.max(1) as f64;
    Problem::new(*model, Effort, knots, dt)
        .and_then(|p| p.with_initial_state(&[0.0, 0.0, 0.0, 0.0]))
        .and_then(|p| p.with_terminal_state(&[0.0, 0.0, PI, 0.0]))
        .and_then(|p| p.with_state_bounds(&[-track, -inf, -inf, -inf], &[track, inf, inf, inf]))
        .and_then(|p| p.with_control_bounds(&[-4.0], &[4.0]))
        .map_err(wrap)
}

/// [`problem`] transcribed trapezoidally.
///
/// # Errors
/// As [`problem`].
pub fn transcribed(model: &AccelerationCart, knots: usize) -> Result<SwingupNlp, CartpoleError> {
    transcribed_with_track(model, knots, TRACK)
}

/// [`problem_with_track`] transcribed trapezoidally.
///
/// # Errors
/// As [`problem_with_track`].
pub fn transcribed_with_track(
    model: &AccelerationCart,
    knots: usize,
    track: f64,
) -> Result<SwingupNlp, CartpoleError> {
    Transcribed::new(
        problem_with_track(model, knots, track)?,
        Transcription::Trapezoidal,
    )
    .map_err(|e| TrajectoryFailure::wrap("swing-up transcription", e))
}

/// Solves `nlp` from the spec's initial guess (`trajectory::cartpole::initial_guess`)
/// with the default solver parameters.
///
/// # Errors
/// [`CartpoleError::Trajectory`] if the solver refuses; [`CartpoleError::PlanNotConverged`]
/// if it stops without converging.
pub fn plan(nlp: &SwingupNlp) -> Result<Solution, CartpoleError> {
    let wrap = |e| TrajectoryFailure::wrap("swing-up plan", e);
    let knots = nlp.problem().knots();
    let mut solver = Solver::new(nlp, SolverParams::default()).map_err(wrap)?;
    let solution = solver
        .solve(
            &WarmStart::primal(&trajectory::cartpole::initial_guess(knots)),
            &mut (),
        )
        .map_err(wrap)?;
    if !solution.is_converged() {
        return Err(CartpoleError::PlanNotConverged {
            knots,
            status: format!("{:?}", solution.status),
            feasibility: solution.feasibility,
        });
    }
    Ok(solution)
}

/// The states and controls at the knots of a trajectory `z` of `nlp` (the knot layout
/// of the trapezoidal transcription).
pub fn knots(nlp: &SwingupNlp, z: &[f64]) -> (Vec<[f64; 4]>, Vec<f64>) {
    let layout = nlp.layout();
    (0..layout.knots)
        .map(|k| {
            let s = &z[layout.state(k)];
            let u = layout.control(k).start;
            ([s[0], s[1], s[2], s[3]], z[u])
        })
        .unzip()
}
