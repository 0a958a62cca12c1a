//! Receding-horizon control on the trajectory crate's [`Mpc`].

use trajectory::mpc::{Mpc, MpcParams, MpcTiming};
use trajectory::solver::{Solution, Solver, SolverParams};
use trajectory::{NoPathConstraints, NoTerminalCost};

use std::f64::consts::PI;

use super::{Controller, LqrBalance};
use crate::angle::upright_error;
use crate::error::{CartpoleError, Requirement, TrajectoryFailure, check_param};
use crate::linearize::linearize;
use crate::lqr::{RiccatiOptions, Weights, dare, discretize};
use crate::model::AccelerationCart;
use crate::swingup::{self, SwingupNlp};

type CartMpc<'a> =
    Mpc<'a, AccelerationCart, trajectory::cartpole::Effort, NoTerminalCost, NoPathConstraints>;

/// Model-predictive control of the swing-up: the trajectory crate's [`Mpc`] on the
/// swing-up problem of the controller's own model ([`swingup::transcribed`], which may
/// differ from the plant: model mismatch).
///
/// * **Control period = the transcription's dt** (`5/N` s: 0.05 s at N = 100): each
///   call shifts the plan one knot, so the simulator must call it every
///   [`period`](Self::period) seconds (`SimConfig::control_period`); the time argument of
///   [`Controller::control`] is only checked: calls spaced otherwise are a
///   [`CartpoleError::ControlPeriodMismatch`].
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
    catch: Option<CatchState>,
    /// Time of the previous call since the last reset.
    last_time: Option<f64>,
}

/// An LQR catch near upright for [`MpcController::with_catch`].
#[derive(Clone, Debug, PartialEq)]
pub struct Catch {
    /// Hand over to the LQR when `|wrap(θ − π)|` falls below this, rad.
    pub catch_angle: f64,
    /// Back to the MPC when it exceeds this (> `catch_angle`), rad.
    pub release_angle: f64,
    /// Q and R of the LQR (a DARE at the control period, on the controller's model
    /// linearised about the upright at rest at x = 0).
    pub weights: Weights,
}

impl Default for Catch {
    /// Catch below 0.2 rad, release above 0.5 rad, the spec's Q = I, R = 1.
    fn default() -> Self {
        Self {
            catch_angle: 0.2,
            release_angle: 0.5,
            weights: Weights::identity(),
        }
    }
}

#[derive(Clone, Debug)]
struct CatchState {
    params: Catch,
    lqr: LqrBalance,
    active: bool,
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
            catch: None,
            last_time: None,
        })
    }

    /// Adds an LQR catch: below `catch.catch_angle` from upright the control is the
    /// discrete LQR's (the MPC keeps planning every period, so the hand-back above
    /// `release_angle` starts from a current plan).
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for angles that are not positive or
    /// `release_angle ≤ catch_angle`; the errors of [`dare`] (bad weights).
    pub fn with_catch(mut self, catch: Catch) -> Result<Self, CartpoleError> {
        check_param(
            "catch_angle",
            catch.catch_angle,
            "rad",
            Requirement::Positive,
        )?;
        check_param(
            "release_angle",
            catch.release_angle - catch.catch_angle,
            "rad (release_angle − catch_angle)",
            Requirement::Positive,
        )?;
        crate::lqr::check_weights(&catch.weights)?;
        let model = self.nlp.problem().dynamics();
        let lin = linearize(model, &[0.0, 0.0, PI, 0.0], &[0.0])?;
        let (ad, bd) = discretize(lin.a.as_ref(), lin.b.as_ref(), self.period())?;
        let sol = dare(
            ad.as_ref(),
            bd.as_ref(),
            catch.weights.q.as_ref(),
            catch.weights.r.as_ref(),
            &RiccatiOptions::default(),
        )?;
        let lqr = LqrBalance::from_gain(std::array::from_fn(|j| sol.k[(0, j)]))?;
        self.catch = Some(CatchState {
            params: catch,
            lqr,
            active: false,
        });
        Ok(self)
    }

    /// The gain of the LQR catch (None without one).
    pub fn catch_gain(&self) -> Option<[f64; 4]> {
        self.catch.as_ref().map(|c| c.lqr.gain())
    }

    /// Whether the LQR catch is in control.
    pub fn catching(&self) -> bool {
        self.catch.as_ref().is_some_and(|c| c.active)
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
        self.last_time = None;
        if let Some(c) = self.catch.as_mut() {
            c.active = false;
        }
    }

    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError> {
        let period = self.nlp.problem().dt();
        if let Some(previous) = self.last_time {
            let spacing = t - previous;
            if (spacing - period).abs() > 1e-6 * period {
                return Err(CartpoleError::ControlPeriodMismatch {
                    controller: "mpc",
                    period,
                    spacing,
                });
            }
        }
        self.last_time = Some(t);
        let mpc = self.mpc.as_mut().map_err(|e| e.clone())?;
        let a = mpc
            .step(measured)
            .map_err(|e| TrajectoryFailure::wrap("MPC period", e))?[0];
        let a = match self.catch.as_mut() {
            Some(c) => {
                let phi = upright_error(measured[2]).abs();
                c.active = if c.active {
                    phi <= c.params.release_angle
                } else {
                    phi < c.params.catch_angle
                };
                if c.active {
                    let bounds = self.nlp.problem().control_bounds();
                    c.lqr.law(measured).clamp(bounds.lower[0], bounds.upper[0])
                } else {
                    a
                }
            }
            None => a,
        };
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
