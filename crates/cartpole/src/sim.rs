//! Closed-loop simulation: RK4 on the plant, the controller sampled every control period
//! (zero-order hold), an actuator limit, a track with end stops, seeded measurement
//! noise and disturbances. Model mismatch is simulating one parameter set (`plant`)
//! while the controller was designed on another.
//!
//! Track limits: with [`TrackPolicy::Stop`] (the default) the run ends the moment
//! `|x| > track_limit` and [`Run::stopped`] says when — a real cart hitting its end stop
//! is a failed run; with [`TrackPolicy::Clamp`] the cart is held at the end stop
//! (x clamped, v set to 0, the pole keeps swinging) and the run goes on.
//!
//! Noise and disturbances (ChaCha8 seeded with [`SimConfig::seed`], so a run is
//! reproducible on every platform): each measurement adds independent N(0, σᵢ²) to the
//! four state components; each control period adds N(0, σ_d²) to the applied control
//! (after the actuator limit: a disturbance force/acceleration); [`Kick`]s add a fixed
//! state increment at a given time.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use trajectory::Dynamics;

use crate::angle::upright_error;
use crate::controller::Controller;
use crate::error::{CartpoleError, Requirement, check_param};

/// What happens at the end of the track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackPolicy {
    /// The run ends when |x| exceeds the limit.
    Stop,
    /// The cart stops at the end stop (x clamped, v = 0) and the run goes on.
    Clamp,
}

/// A state increment at a given time (an impulsive push).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kick {
    /// When, s.
    pub time: f64,
    /// Added to (x, v, θ, ω).
    pub delta: [f64; 4],
}

/// Settings of [`simulate`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// RK4 step, s.
    pub dt: f64,
    /// Control period, s (rounded to a whole number of RK4 steps, at least one).
    pub control_period: f64,
    /// Simulated time, s.
    pub duration: f64,
    /// |u| limit of the actuator (the plant's control unit; `f64::INFINITY` for none).
    pub actuator_limit: f64,
    /// |x| limit of the track, m (`f64::INFINITY` for none).
    pub track_limit: f64,
    /// What the track's end does.
    pub track_policy: TrackPolicy,
    /// Standard deviations of the measurement noise on (x, v, θ, ω).
    pub noise: [f64; 4],
    /// Standard deviation of the disturbance added to the control each period.
    pub disturbance: f64,
    /// Impulsive pushes.
    pub kicks: Vec<Kick>,
    /// Seed of the noise and disturbances.
    pub seed: u64,
}

impl Default for SimConfig {
    /// dt = 1 ms, control every 10 ms, 10 s, |a| ≤ 4 m/s² (the spec's limit), track
    /// |x| ≤ 1 m (stop), no noise, no disturbances, seed 0.
    fn default() -> Self {
        Self {
            dt: 1e-3,
            control_period: 1e-2,
            duration: 10.0,
            actuator_limit: 4.0,
            track_limit: 1.0,
            track_policy: TrackPolicy::Stop,
            noise: [0.0; 4],
            disturbance: 0.0,
            kicks: Vec::new(),
            seed: 0,
        }
    }
}

impl SimConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a step, period or duration that is not
    /// finite and positive, a limit that is NaN or not positive, a noise or disturbance
    /// that is negative or not finite, or a kick with a non-finite entry.
    pub fn validate(&self) -> Result<(), CartpoleError> {
        check_param("dt", self.dt, "s", Requirement::Positive)?;
        check_param(
            "control_period",
            self.control_period,
            "s",
            Requirement::Positive,
        )?;
        check_param("duration", self.duration, "s", Requirement::Positive)?;
        for (name, v) in [
            ("actuator_limit", self.actuator_limit),
            ("track_limit", self.track_limit),
        ] {
            if v.is_nan() || v <= 0.0 {
                return Err(CartpoleError::InvalidParameter {
                    name,
                    value: v,
                    unit: "(control unit or m)",
                    requirement: Requirement::Positive,
                });
            }
        }
        for (name, v) in ["noise.x", "noise.v", "noise.theta", "noise.omega"]
            .into_iter()
            .zip(self.noise)
        {
            check_param(name, v, "(state unit)", Requirement::NonNegative)?;
        }
        check_param(
            "disturbance",
            self.disturbance,
            "(control unit)",
            Requirement::NonNegative,
        )?;
        for k in &self.kicks {
            check_param("kick.time", k.time, "s", Requirement::Finite)?;
            for v in k.delta {
                check_param("kick.delta", v, "(state unit)", Requirement::Finite)?;
            }
        }
        Ok(())
    }
}

/// Why a run ended early.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// The cart passed the end of the track ([`TrackPolicy::Stop`]).
    TrackLimit {
        /// When, s.
        time: f64,
        /// Where, m.
        x: f64,
    },
}

/// A simulated run, sampled at every control period.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Sample times, s.
    pub times: Vec<f64>,
    /// True states at the samples.
    pub states: Vec<[f64; 4]>,
    /// The control applied from each sample to the next (after the actuator limit,
    /// before the disturbance).
    pub controls: Vec<f64>,
    /// Wall-clock seconds of each controller call.
    pub control_seconds: Vec<f64>,
    /// Set when the run ended before the duration.
    pub stopped: Option<Stop>,
}

/// Simulates `plant` under `controller` from `initial` (the controller is reset first).
/// `progress` is called with the simulated time once per simulated second.
///
/// ```
/// use cartpole::controller::LqrBalance;
/// use cartpole::lqr::Weights;
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use cartpole::sim::{simulate, SimConfig};
/// use std::f64::consts::PI;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let mut lqr = LqrBalance::new(&cart, &Weights::identity())?;
/// let run = simulate(&cart, &mut lqr, [0.1, 0.0, PI + 0.1, 0.0], &SimConfig::default(), |_| {})?;
/// let last = run.states.last().unwrap(); // after 10 s (the slowest mode is e^{−0.86 t})
/// assert!(last[0].abs() < 1e-3 && (last[2] - PI).abs() < 1e-3);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`SimConfig::validate`]'s; [`CartpoleError::NonFinite`] for a non-finite initial
/// state; the controller's errors; [`CartpoleError::Diverged`] if the state becomes
/// non-finite.
pub fn simulate<P: Dynamics, C: Controller + ?Sized>(
    plant: &P,
    controller: &mut C,
    initial: [f64; 4],
    config: &SimConfig,
    mut progress: impl FnMut(f64),
) -> Result<Run, CartpoleError> {
    config.validate()?;
    if plant.state_dim() != 4 || plant.control_dim() != 1 {
        return Err(CartpoleError::DimensionMismatch {
            what: "plant (state, control)",
            rows: plant.state_dim(),
            cols: plant.control_dim(),
            expected_rows: 4,
            expected_cols: 1,
        });
    }
    if let Some(i) = initial.iter().position(|v| !v.is_finite()) {
        return Err(CartpoleError::NonFinite {
            what: "initial state",
            row: i,
            col: 0,
            value: initial[i],
        });
    }
    controller.reset();
    let substeps = ((config.control_period / config.dt).round() as usize).max(1);
    let h = config.control_period / substeps as f64;
    let periods = (config.duration / config.control_period).round() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut run = Run {
        times: Vec::with_capacity(periods + 1),
        states: Vec::with_capacity(periods + 1),
        controls: Vec::with_capacity(periods + 1),
        control_seconds: Vec::with_capacity(periods + 1),
        stopped: None,
    };
    let mut s = initial;
    let mut kicked = vec![false; config.kicks.len()];
    let mut next_progress = 1.0;
    for k in 0..=periods {
        let t = k as f64 * config.control_period;
        for (done, kick) in kicked.iter_mut().zip(&config.kicks) {
            if !*done && kick.time <= t + 1e-12 {
                *done = true;
                for (si, d) in s.iter_mut().zip(kick.delta) {
                    *si += d;
                }
            }
        }
        let mut measured = s;
        for (m, sigma) in measured.iter_mut().zip(config.noise) {
            if sigma > 0.0 {
                let z: f64 = rng.sample(StandardNormal);
                *m += sigma * z;
            }
        }
        let clock = Instant::now();
        let u = controller.control(t, &measured)?;
        let elapsed = clock.elapsed().as_secs_f64();
        if !u.is_finite() {
            return Err(CartpoleError::NonFiniteControl {
                controller: controller.name(),
                time: t,
                value: u,
            });
        }
        let u = u.clamp(-config.actuator_limit, config.actuator_limit);
        run.times.push(t);
        run.states.push(s);
        run.controls.push(u);
        run.control_seconds.push(elapsed);
        if t >= next_progress {
            progress(t);
            next_progress += 1.0;
        }
        if k == periods {
            break;
        }
        let applied = if config.disturbance > 0.0 {
            let z: f64 = rng.sample(StandardNormal);
            u + config.disturbance * z
        } else {
            u
        };
        for _ in 0..substeps {
            s = rk4(plant, &s, applied, h);
            if s[0].abs() > config.track_limit {
                match config.track_policy {
                    TrackPolicy::Stop => {
                        run.stopped = Some(Stop::TrackLimit { time: t, x: s[0] });
                    }
                    TrackPolicy::Clamp => {
                        s[0] = s[0].clamp(-config.track_limit, config.track_limit);
                        s[1] = 0.0;
                    }
                }
            }
            if s.iter().any(|v| !v.is_finite()) {
                return Err(CartpoleError::Diverged { time: t });
            }
        }
        if run.stopped.is_some() {
            // record where it ended
            run.times.push(t + config.control_period);
            run.states.push(s);
            run.controls.push(u);
            run.control_seconds.push(0.0);
            break;
        }
    }
    Ok(run)
}

/// One classical RK4 step of `s' = f(s, u)` with u held.
///
/// ```
/// use cartpole::model::{ForceCart, ForceParams};
/// // a frictionless pendulum released from θ = 1 rad: energy conserved to 1e-9 over 1 s
/// let model = ForceCart::new(ForceParams::default())?;
/// let mut s = [0.0, 0.0, 1.0, 0.0];
/// let e0 = model.energy(&s);
/// for _ in 0..1000 { s = cartpole::sim::rk4(&model, &s, 0.0, 1e-3); }
/// assert!((model.energy(&s) - e0).abs() < 1e-9 * e0.abs());
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[inline]
pub fn rk4<P: Dynamics>(plant: &P, s: &[f64; 4], u: f64, h: f64) -> [f64; 4] {
    let f = |x: &[f64; 4]| {
        let mut d = [0.0; 4];
        plant.eval(x, &[u], &mut d);
        d
    };
    let add = |x: &[f64; 4], d: &[f64; 4], c: f64| std::array::from_fn(|i| x[i] + c * d[i]);
    let k1 = f(s);
    let k2 = f(&add(s, &k1, 0.5 * h));
    let k3 = f(&add(s, &k2, 0.5 * h));
    let k4 = f(&add(s, &k3, h));
    std::array::from_fn(|i| s[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// The swing-up criterion: upright (`|wrap(θ − π)| ≤ tolerance`) by `deadline`, then
/// staying so for `hold` seconds with `|x| ≤ track`.
///
/// The time to upright is the earliest sample time `t ≤ deadline` from which every
/// sample in `[t, t + hold]` is within the tolerance and the track (a first pass through
/// the tolerance band that is not held does not count, a later one that is held does);
/// the run must reach `t + hold` without stopping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swingup {
    /// Angle tolerance about upright, rad.
    pub tolerance: f64,
    /// Latest time to reach upright, s.
    pub deadline: f64,
    /// How long it must then stay, s.
    pub hold: f64,
    /// |x| bound while holding, m.
    pub track: f64,
}

impl Default for Swingup {
    /// 0.05 rad, within 5 s, held 5 s, |x| ≤ 1 m.
    fn default() -> Self {
        Self {
            tolerance: 0.05,
            deadline: 5.0,
            hold: 5.0,
            track: 1.0,
        }
    }
}

/// What [`Swingup::judge`] found.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// Upright by the deadline and held.
    pub success: bool,
    /// Start of the held upright interval (None if there is none by the deadline).
    pub time_to_upright: Option<f64>,
    /// First time within the tolerance (held or not).
    pub first_upright: Option<f64>,
    /// Largest |x| over the run, m.
    pub max_abs_x: f64,
    /// `|wrap(θ − π)|` at the last sample, rad.
    pub final_angle_error: f64,
}

impl Swingup {
    /// Judges `run`.
    pub fn judge(&self, run: &Run) -> Verdict {
        let max_abs_x = run.states.iter().map(|s| s[0].abs()).fold(0.0, f64::max);
        let final_angle_error = run
            .states
            .last()
            .map_or(f64::NAN, |s| upright_error(s[2]).abs());
        let ok =
            |s: &[f64; 4]| upright_error(s[2]).abs() <= self.tolerance && s[0].abs() <= self.track;
        let first_upright = run
            .times
            .iter()
            .zip(&run.states)
            .find(|(_, s)| upright_error(s[2]).abs() <= self.tolerance)
            .map(|(&t, _)| t);
        let end = run.times.last().copied().unwrap_or(0.0);
        let finished = run.stopped.is_none();
        let mut time_to_upright = None;
        // scan backwards: `good_until[i]` = the start of the run of good samples at i
        let n = run.states.len();
        let mut streak_end = vec![0.0; n];
        let mut current: Option<f64> = None;
        for i in (0..n).rev() {
            if ok(&run.states[i]) {
                let e = current.unwrap_or(run.times[i]);
                streak_end[i] = e;
                current = Some(e);
            } else {
                current = None;
                streak_end[i] = f64::NEG_INFINITY;
            }
        }
        for (&t, &streak) in run.times.iter().zip(&streak_end) {
            if t > self.deadline + 1e-9 {
                break;
            }
            if streak >= t + self.hold - 1e-9 && (finished || end >= t + self.hold) {
                time_to_upright = Some(t);
                break;
            }
        }
        Verdict {
            success: time_to_upright.is_some() && finished,
            time_to_upright,
            first_upright,
            max_abs_x,
            final_angle_error,
        }
    }
}
