//! Tracking a planned swing-up with a time-varying LQR.

use super::{Controller, LqrBalance};
use crate::angle::wrap_around;
use crate::error::{CartpoleError, Requirement, check_param};
use crate::lqr::{TimeVaryingLqr, Weights, tvlqr};
use crate::model::AccelerationCart;
use crate::swingup;

/// Tuning of [`TvlqrTracker`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerParams {
    /// The control period, s: the plan is resampled to it (linear interpolation between
    /// the knots, as the trapezoidal transcription's controls) and the Riccati recursion
    /// runs on that grid; the simulator must call the tracker every `period` seconds.
    pub period: f64,
    /// Continuous-time Q and R; the recursion uses `Q·period`, `R·period`.
    pub weights: Weights,
    /// Q and R of the balancing LQR after the plan (its CARE solution P is the terminal
    /// cost-to-go of the recursion).
    pub balance_weights: Weights,
}

impl Default for TrackerParams {
    /// 10 ms; Q = diag(10, 1, 10, 1), R = 1 along the plan; the spec's Q = I, R = 1 for
    /// the balance.
    fn default() -> Self {
        Self {
            period: 0.01,
            weights: Weights::diagonal([10.0, 1.0, 10.0, 1.0], 1.0)
                .unwrap_or_else(|_| Weights::identity()),
            balance_weights: Weights::identity(),
        }
    }
}

/// The trajectory crate's swing-up plan tracked by a time-varying LQR:
/// `a = ā(t) − K(t)·(s − s̄(t))` (angle difference wrapped) along the plan, then
/// [`LqrBalance`] about the upright once the plan has ended.
///
/// The gains come from the backward Riccati recursion ([`tvlqr`]) along the plan's
/// linearisation by forward AD, discretised with a zero-order hold at the control period.
/// Sample `k` (time `k·period`) uses the gain and reference of step k (the time argument
/// is rounded to the nearest step).
///
/// ```
/// use cartpole::controller::{Controller, TrackerParams, TvlqrTracker};
/// use cartpole::model::{AccelerationCart, AccelerationParams};
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let mut c = TvlqrTracker::swing_up(&cart, 30, &TrackerParams::default())?;
/// // on the plan the feedback vanishes (up to the plan's 1e-8 constraint violation):
/// // the control is the plan's
/// let a0 = c.control(0.0, &[0.0; 4])?;
/// assert!((a0 - c.reference_control(0)).abs() < 1e-5);
/// assert!(c.plan_duration() > 4.8);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TvlqrTracker {
    period: f64,
    states: Vec<[f64; 4]>,
    controls: Vec<f64>,
    gains: TimeVaryingLqr,
    balance: LqrBalance,
}

impl TvlqrTracker {
    /// Plans the swing-up of `model` with `knots` knots ([`swingup::plan`]) and tracks it.
    ///
    /// # Errors
    /// As [`swingup::plan`] and [`TvlqrTracker::new`].
    pub fn swing_up(
        model: &AccelerationCart,
        knots: usize,
        params: &TrackerParams,
    ) -> Result<Self, CartpoleError> {
        let nlp = swingup::transcribed(model, knots)?;
        let plan = swingup::plan(&nlp)?;
        let (states, controls) = swingup::knots(&nlp, &plan.z);
        Self::new(model, &states, &controls, nlp.problem().dt(), params)
    }

    /// Tracks the plan `(states, controls)` on knots `dt` apart.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a bad `dt` or period;
    /// [`CartpoleError::TrajectoryLength`] for fewer than 2 knots or a control count that
    /// differs; the errors of [`tvlqr`] and [`LqrBalance::new`].
    pub fn new(
        model: &AccelerationCart,
        states: &[[f64; 4]],
        controls: &[f64],
        dt: f64,
        params: &TrackerParams,
    ) -> Result<Self, CartpoleError> {
        check_param("dt", dt, "s", Requirement::Positive)?;
        check_param("period", params.period, "s", Requirement::Positive)?;
        if states.len() < 2 || controls.len() != states.len() {
            return Err(CartpoleError::TrajectoryLength {
                states: states.len(),
                controls: controls.len(),
            });
        }
        let balance = LqrBalance::new(model, &params.balance_weights)?;
        let terminal = balance.solution().map_or_else(
            || params.balance_weights.q.clone(),
            |s| faer::Mat::from_fn(4, 4, |i, j| s.p[i][j]),
        );
        // resample to the control period
        let duration = dt * (states.len() - 1) as f64;
        let steps = (duration / params.period).round() as usize;
        let (mut rs, mut rc) = (Vec::with_capacity(steps + 1), Vec::with_capacity(steps + 1));
        for k in 0..=steps {
            let t = (k as f64 * params.period).min(duration);
            let i = ((t / dt).floor() as usize).min(states.len() - 2);
            let w = (t / dt - i as f64).clamp(0.0, 1.0);
            rs.push(std::array::from_fn(|j| {
                (1.0 - w) * states[i][j] + w * states[i + 1][j]
            }));
            rc.push((1.0 - w) * controls[i] + w * controls[i + 1]);
        }
        let scaled = Weights {
            q: &params.weights.q * faer::Scale(params.period),
            r: &params.weights.r * faer::Scale(params.period),
        };
        let gains = tvlqr(model, &rs, &rc, params.period, &scaled, &terminal)?;
        Ok(Self {
            period: params.period,
            states: rs,
            controls: rc,
            gains,
            balance,
        })
    }

    /// The control period, s.
    pub fn period(&self) -> f64 {
        self.period
    }

    /// Length of the plan, s (the tracker balances after it).
    pub fn plan_duration(&self) -> f64 {
        self.period * (self.states.len() - 1) as f64
    }

    /// The reference control at step `k` (0 beyond the plan).
    pub fn reference_control(&self, k: usize) -> f64 {
        self.controls.get(k).copied().unwrap_or(0.0)
    }

    /// The reference states and controls on the control grid.
    pub fn reference(&self) -> (&[[f64; 4]], &[f64]) {
        (&self.states, &self.controls)
    }

    /// The time-varying gains.
    pub fn gains(&self) -> &TimeVaryingLqr {
        &self.gains
    }

    /// The balancing LQR used after the plan.
    pub fn balance(&self) -> &LqrBalance {
        &self.balance
    }
}

impl Controller for TvlqrTracker {
    fn name(&self) -> &'static str {
        "tvlqr"
    }

    fn reset(&mut self) {}

    fn control(&mut self, t: f64, s: &[f64; 4]) -> Result<f64, CartpoleError> {
        let step = (t / self.period).round();
        let a = if step >= 0.0 && (step as usize) < self.states.len() - 1 {
            let k = step as usize;
            let (r, g) = (&self.states[k], &self.gains.gains[k]);
            let e = [
                s[0] - r[0],
                s[1] - r[1],
                wrap_around(s[2], r[2]),
                s[3] - r[3],
            ];
            self.controls[k] - (g[0] * e[0] + g[1] * e[1] + g[2] * e[2] + g[3] * e[3])
        } else {
            self.balance.law(s)
        };
        if a.is_finite() {
            Ok(a)
        } else {
            Err(CartpoleError::NonFiniteControl {
                controller: "tvlqr",
                time: t,
                value: a,
            })
        }
    }
}
