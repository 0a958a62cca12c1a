//! Receding-horizon control on the trajectory crate's [`Mpc`].

use trajectory::mpc::{Mpc, MpcParams, MpcTiming};
use trajectory::solver::{Solution, Solver, SolverParams};
use trajectory::{NoPathConstraints, NoTerminalCost};

use super::Controller;
use crate::error::{CartpoleError, TrajectoryFailure};
use crate::model::AccelerationCart;
use crate::swingup::{self, SwingupNlp};

type CartMpc<'a> = Mpc<'a, AccelerationCart, trajectory::cartpole::Effort, NoTerminalCost, NoPathConstraints>;

/// Model-predictive control of the swing-up: the trajectory crate's [`Mpc`] on the
/// swing-up problem of the controller's own model ([`swingup::transcribed`], which may
/// differ from the plant: model mismatch).
///
/// * **Control period = the transcription's dt** (`5/N` s: 0.05 s at N = 100): each
///   call shifts the plan one knot, so the simulator must call it every
///   [`period`](Self::period) seconds (`SimConfig::control_period`); the time argument of
///   [`Controller::control`] is not used.
/// * The first plan is solved at construction from the spec's initial guess
///   ([`swingup::plan`]); [`Controller::reset`] restarts from it (a new solver, the plan's
///   trajectory and multipliers as the warm start).
/// * Every period: shift, the measured state as the initial state, `newton_per_step`
///   Newton steps and one multiplier update, the first control clamped into |a| ≤ 4.
///   The horizon recedes with a fixed length, so once the swing-up's 5 s have passed the
///   terminal condition (upright at rest at x = 0) stays N − 1 knots ahead — which is what
///   holds the pole up.
///
/// ```
/// use cartpole::controller::{Controller, MpcController};
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use cartpole::swingup;
/// use trajectory::mpc::MpcParams;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let nlp = swingup::transcribed(&cart, 30)?;
/// let mut mpc = MpcController::new(&nlp, MpcParams::default())?;
/// assert!((mpc.period() - 5.0 / 30.0).abs() < 1e-15);
/// let a = mpc.control(0.0, &[0.0; 4])?;
/// assert!(a.is_finite() && a.abs() <= 4.0);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
pub struct MpcController<'a> {
    nlp: &'a SwingupNlp,
    plan: Solution,
    params: MpcParams,
    /// The controller, or why the last reset could not rebuild it (reported by the next
    /// call).
    mpc: Result<CartMpc<'a>, CartpoleError>,
}

impl<'a> MpcController<'a> {
    /// Solves the first plan of `nlp` and builds the receding-horizon controller.
    ///
    /// # Errors
    /// As [`swingup::plan`]; [`CartpoleError::Trajectory`] if the trajectory crate refuses
    /// `params` (`newton_per_step` or `timing_capacity` of 0).
    pub fn new(nlp: &'a SwingupNlp, params: MpcParams) -> Result<Self, CartpoleError> {
        let plan = swingup::plan(nlp)?;
        Self::from_plan(nlp, plan, params)
    }

    /// The controller starting from a given plan of `nlp` (a converged solve).
    ///
    /// # Errors
    /// [`CartpoleError::Trajectory`] if the plan does not fit `nlp` or `params` are
    /// refused.
    pub fn from_plan(
        nlp: &'a SwingupNlp,
        plan: Solution,
        params: MpcParams,
    ) -> Result<Self, CartpoleError> {
        let mpc = build(nlp, &plan, params)?;
        Ok(Self {
            nlp,
            plan,
            params,
            mpc: Ok(mpc),
        })
    }

    /// The control period = the knot spacing dt, s.
    pub fn period(&self) -> f64 {
        self.nlp.problem().dt()
    }

    /// Knots of the horizon.
    pub fn knots(&self) -> usize {
        self.nlp.problem().knots()
    }

    /// The first plan (solved at construction).
    pub fn plan(&self) -> &Solution {
        &self.plan
    }

    /// The tuning.
    pub fn params(&self) -> MpcParams {
        self.params
    }

    /// Compute time per period since the last reset (allocates a sorted copy).
    pub fn timing(&self) -> MpcTiming {
        self.mpc.as_ref().map(Mpc::timing).unwrap_or_default()
    }

    /// Periods since the last reset in which a Newton step failed.
    pub fn failures(&self) -> usize {
        self.mpc.as_ref().map_or(0, Mpc::failures)
    }

    /// The trajectory planned at the last period (z of the transcription).
    pub fn trajectory(&self) -> &[f64] {
        self.mpc.as_ref().map_or(&self.plan.z, |m| m.trajectory())
    }
}

fn build<'a>(
    nlp: &'a SwingupNlp,
    plan: &Solution,
    params: MpcParams,
) -> Result<CartMpc<'a>, CartpoleError> {
    let wrap = |e| TrajectoryFailure::wrap("MPC setup", e);
    let solver = Solver::new(nlp, SolverParams::default()).map_err(wrap)?;
    Mpc::new(solver, plan, params).map_err(wrap)
}

impl Controller for MpcController<'_> {
    fn name(&self) -> &'static str {
        "mpc"
    }

    fn reset(&mut self) {
        self.mpc = build(self.nlp, &self.plan, self.params);
    }

    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError> {
        let mpc = self.mpc.as_mut().map_err(|e| e.clone())?;
        let a = mpc
            .step(measured)
            .map_err(|e| TrajectoryFailure::wrap("MPC period", e))?[0];
        if a.is_finite() {
            Ok(a)
        } else {
            Err(CartpoleError::NonFiniteControl {
                controller: "mpc",
                time: t,
                value: a,
            })
        }
    }
}
