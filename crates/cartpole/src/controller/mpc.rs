//! Receding-horizon control on the trajectory crate's [`Mpc`].

use trajectory::mpc::{Mpc, MpcParams, MpcTiming};
use trajectory::solver::{Solution, Solver, SolverParams};
use trajectory::{NoPathConstraints, NoTerminalCost};

use std::f64::consts::PI;

use super::{Controller, LengthBank, LengthEstimator, LqrBalance};
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
    adapt: Option<Adaptation<'a>>,
    /// Time of the previous call since the last reset.
    last_time: Option<f64>,
}

/// The pole-length adaptation of [`MpcController::with_adaptation`].
struct Adaptation<'a> {
    bank: &'a LengthBank,
    estimator: LengthEstimator,
    /// The bank point planned with.
    index: usize,
    /// The previous call's (measured state, control), for the estimate.
    previous: Option<([f64; 4], f64)>,
    switches: usize,
}

/// Periods observed before the first switch of model.
const MIN_SAMPLES: usize = 2;
/// A switch needs the estimate this many grid steps (in log length) away from the point
/// in use: more than half a step, so that an estimate between two points does not flip
/// between them every period (each switch builds a solver).
const HYSTERESIS_STEPS: f64 = 0.75;

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
    /// The LQR in use (redesigned at a model switch) and the nominal model's, which a
    /// reset restores.
    lqr: LqrBalance,
    nominal: LqrBalance,
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
            adapt: None,
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
        let lqr = catch_lqr(self.nlp, &catch.weights)?;
        self.catch = Some(CatchState {
            params: catch,
            nominal: lqr.clone(),
            lqr,
            active: false,
        });
        Ok(self)
    }

    /// Adapts the model's pole length online: every period adds the last period to a
    /// [`LengthEstimator`] (prior: the model's length, worth `prior_samples` periods), and
    /// when the estimate is nearer another point of `bank` (by more than
    /// 0.75 of a grid step, after at least 2 periods), the MPC continues on that point's
    /// problem ([`Mpc::replace_solver`]: trajectory, multipliers and penalty carried over)
    /// and the LQR catch is redesigned for it. A switch builds a solver (allocates; about
    /// a millisecond at N = 100), so such a period is slower; between switches nothing
    /// changes. `bank` must be built around this controller's problem (its nominal point
    /// the same knots, dt and model).
    ///
    /// # Errors
    /// [`CartpoleError::DimensionMismatch`] if the bank's nominal problem differs from
    /// this controller's in knots or variables, [`CartpoleError::InvalidParameter`] if
    /// its dt or pole length differs; [`LengthEstimator::new`]'s errors.
    pub fn with_adaptation(
        mut self,
        bank: &'a LengthBank,
        prior_samples: f64,
    ) -> Result<Self, CartpoleError> {
        let nominal = bank.problem(bank.nominal())?;
        let (ours, theirs) = (self.nlp.problem(), nominal.problem());
        if ours.knots() != theirs.knots() || self.nlp.num_vars() != nominal.num_vars() {
            return Err(CartpoleError::DimensionMismatch {
                what: "length bank problem (knots, variables)",
                rows: theirs.knots(),
                cols: nominal.num_vars(),
                expected_rows: ours.knots(),
                expected_cols: self.nlp.num_vars(),
            });
        }
        let model = *ours.dynamics().params();
        for (name, a, b) in [
            ("bank dt − controller dt", theirs.dt(), ours.dt()),
            (
                "bank pole length − controller pole length",
                theirs.dynamics().params().pole_length,
                model.pole_length,
            ),
        ] {
            if (a - b).abs() > 1e-12 * b.abs() {
                return Err(CartpoleError::InvalidParameter {
                    name,
                    value: a - b,
                    unit: "",
                    requirement: Requirement::Finite,
                });
            }
        }
        self.adapt = Some(Adaptation {
            bank,
            estimator: LengthEstimator::new(model.pole_length, model.gravity, prior_samples)?,
            index: bank.nominal(),
            previous: None,
            switches: 0,
        });
        Ok(self)
    }

    /// The adaptation's current pole-length estimate, m (None without adaptation).
    pub fn estimated_length(&self) -> Option<f64> {
        self.adapt.as_ref().map(|a| a.estimator.length())
    }

    /// The pole length of the problem the MPC plans with, m.
    pub fn model_length(&self) -> f64 {
        match &self.adapt {
            Some(a) => a.bank.length(a.index),
            None => self.nlp.problem().dynamics().params().pole_length,
        }
    }

    /// Model switches since the last reset (0 without adaptation).
    pub fn switches(&self) -> usize {
        self.adapt.as_ref().map_or(0, |a| a.switches)
    }

    /// Observes the last period and switches the model when the estimate moved.
    fn adapt(&mut self, measured: &[f64; 4]) -> Result<(), CartpoleError> {
        let period = self.period();
        let Some(adapt) = self.adapt.as_mut() else {
            return Ok(());
        };
        if let Some((before, a)) = adapt.previous {
            adapt.estimator.observe(&before, a, measured, period);
        }
        let estimate = adapt.estimator.length();
        let target = adapt.bank.nearest(estimate);
        let steps = (estimate / adapt.bank.length(adapt.index)).ln() / adapt.bank.ratio().ln();
        if target == adapt.index
            || adapt.estimator.samples() < MIN_SAMPLES
            || steps.abs() <= HYSTERESIS_STEPS
        {
            return Ok(());
        }
        let nlp = adapt.bank.problem(target)?;
        let wrap = |e| TrajectoryFailure::wrap("MPC model switch", e);
        let solver = Solver::new(nlp, SolverParams::default()).map_err(wrap)?;
        let mpc = self.mpc.as_mut().map_err(|e| e.clone())?;
        mpc.replace_solver(solver).map_err(wrap)?;
        if let Some(c) = self.catch.as_mut() {
            c.lqr = catch_lqr(nlp, &c.params.weights)?;
        }
        adapt.index = target;
        adapt.switches += 1;
        Ok(())
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

/// The discrete LQR at the control period on `nlp`'s model linearised about the upright
/// at rest at x = 0.
fn catch_lqr(nlp: &SwingupNlp, weights: &Weights) -> Result<LqrBalance, CartpoleError> {
    let model = nlp.problem().dynamics();
    let lin = linearize(model, &[0.0, 0.0, PI, 0.0], &[0.0])?;
    let (ad, bd) = discretize(lin.a.as_ref(), lin.b.as_ref(), nlp.problem().dt())?;
    let sol = dare(
        ad.as_ref(),
        bd.as_ref(),
        weights.q.as_ref(),
        weights.r.as_ref(),
        &RiccatiOptions::default(),
    )?;
    LqrBalance::from_gain(std::array::from_fn(|j| sol.k[(0, j)]))
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
        if let Some(a) = self.adapt.as_mut() {
            a.estimator.reset();
            a.index = a.bank.nominal();
            a.previous = None;
            a.switches = 0;
        }
        if let Some(c) = self.catch.as_mut() {
            c.active = false;
            c.lqr = c.nominal.clone();
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
        self.adapt(measured)?;
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
            if let Some(adapt) = self.adapt.as_mut() {
                adapt.previous = Some((*measured, a));
            }
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
