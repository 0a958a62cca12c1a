//! Energy-based swing-up (Åström & Furuta, 2000) with an LQR catch.

use std::f64::consts::PI;

use super::{Controller, LqrBalance};
use crate::angle::wrap_around;
use crate::error::{CartpoleError, Requirement, check_param};
use crate::lqr::{Scales, Weights};
use crate::model::{AccelerationCart, CartpoleModel};

/// Tuning of [`EnergySwingUp`].
#[derive(Clone, Debug, PartialEq)]
pub struct SwingUpParams {
    /// k in `a = k·g·(E − 2)·sign(ω cos θ)` (dimensionless; E is the normalised energy of
    /// [`crate::model::pole_energy`], 2 upright at rest). Large k is bang-bang pumping at
    /// `max_accel`.
    pub energy_gain: f64,
    /// The largest acceleration the swing-up commands, m/s².
    pub max_accel: f64,
    /// Cart-centring gains `(k_x, k_v)` in `a −= k_x·x + k_v·v` during the swing-up, 1/s²
    /// and 1/s: keeps |x| within the track (they cost a little pumping).
    pub centering: (f64, f64),
    /// Switch to the LQR when `|wrap(θ − π)|` falls below this, rad.
    pub catch_angle: f64,
    /// Back to pumping when `|wrap(θ − π)|` exceeds this (> `catch_angle`: hysteresis), rad.
    pub release_angle: f64,
    /// Q and R of the catching LQR.
    pub weights: Weights,
    /// Estimate the pole's kinetic-energy coefficient `1/(2ω₀²)` online (see
    /// [`EnergySwingUp`]) instead of trusting the model's; the weight of the model's
    /// value as a prior, in samples (0 disables the estimate).
    pub estimate_prior: f64,
}

impl Default for SwingUpParams {
    /// k = 5, |a| ≤ 4 m/s² (the spec's limit), centring (2, 2), catch below 0.35 rad,
    /// release above 0.7 rad, LQR weights scaled ([`Weights::scaled`]) from a 1 m track
    /// and 0.2 rad on the spec's pole.
    fn default() -> Self {
        let cart = AccelerationCart::new(crate::model::AccelerationParams::default());
        let weights = cart
            .and_then(|c| Weights::scaled(&c, &Scales::default(), 1.0))
            .unwrap_or_else(|_| Weights::identity());
        Self {
            energy_gain: 5.0,
            max_accel: 4.0,
            centering: (2.0, 2.0),
            catch_angle: 0.35,
            release_angle: 0.7,
            weights,
            estimate_prior: 50.0,
        }
    }
}

impl SwingUpParams {
    /// Checks the tuning.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a non-positive gain, limit or angle, a
    /// negative centring gain, or `release_angle ≤ catch_angle`.
    pub fn validate(&self) -> Result<(), CartpoleError> {
        check_param(
            "energy_gain",
            self.energy_gain,
            "(dimensionless)",
            Requirement::Positive,
        )?;
        check_param("max_accel", self.max_accel, "m/s^2", Requirement::Positive)?;
        check_param(
            "centering.0",
            self.centering.0,
            "1/s^2",
            Requirement::NonNegative,
        )?;
        check_param(
            "centering.1",
            self.centering.1,
            "1/s",
            Requirement::NonNegative,
        )?;
        check_param(
            "catch_angle",
            self.catch_angle,
            "rad",
            Requirement::Positive,
        )?;
        check_param(
            "estimate_prior",
            self.estimate_prior,
            "samples",
            Requirement::NonNegative,
        )?;
        check_param(
            "release_angle",
            self.release_angle - self.catch_angle,
            "rad (release_angle − catch_angle)",
            Requirement::Positive,
        )
    }
}

/// Which law is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Energy pumping.
    Swing,
    /// LQR balance.
    Catch,
}

/// The energy swing-up of an acceleration-commanded cart with an LQR catch.
///
/// Swing: with E the normalised pole energy (0 hanging at rest, 2 upright at rest),
/// `dE/dt = −a·ω·cos θ / g`, so `a = sat(k·g·(E − 2)·sign(ω cos θ)) − k_x·x − k_v·v`
/// raises E to 2 (sign(0) taken as +1, which starts the pumping from rest); the centring
/// term keeps the cart on the track. Catch: the LQR about the upright once
/// `|wrap(θ − π)| < catch_angle`, back to swinging above `release_angle` (hysteresis).
/// The output is limited to `max_accel` in both modes.
///
/// Model mismatch: E needs `1/(2ω₀²)` (= L/(3g)), which a wrong pole length gets wrong
/// by the same factor — pumping to the model's E = 2 then leaves a shorter pole short of
/// the top and sends a longer one over it too fast to catch. The pump's work is known
/// exactly, though: with the acceleration held over a period, `∫ −a·ω·cos θ/g dt =
/// −a·(sin θ₁ − sin θ₀)/g`, so every period gives one equation
/// `c·(ω₁² − ω₀²) = −a·(sin θ₁ − sin θ₀)/g − (cos θ₀ − cos θ₁)` in the unknown
/// `c = 1/(2ω₀²)`; the controller keeps the least-squares c (the model's value as a prior
/// worth `estimate_prior` samples) and pumps with it.
///
/// ```
/// use cartpole::controller::{Controller, EnergySwingUp, Mode, SwingUpParams};
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use std::f64::consts::PI;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let mut c = EnergySwingUp::new(&cart, &SwingUpParams::default())?;
/// // from rest the pump starts at full acceleration (E = 0 < 2, sign(0) = +1: a = −4)
/// assert_eq!(c.control(0.0, &[0.0; 4])?, -4.0);
/// assert_eq!(c.mode(), Mode::Swing);
/// c.control(0.0, &[0.0, 0.0, PI - 0.1, 0.0])?;
/// assert_eq!(c.mode(), Mode::Catch);
/// c.control(0.0, &[0.0, 0.0, PI - 0.5, 0.0])?; // between catch and release: still LQR
/// assert_eq!(c.mode(), Mode::Catch);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Debug)]
pub struct EnergySwingUp {
    params: SwingUpParams,
    lqr: LqrBalance,
    natural_frequency: f64,
    gravity: f64,
    mode: Mode,
    /// The previous call's (measured state, output), for the estimate.
    previous: Option<([f64; 4], f64)>,
    /// Σ Δ·y and Σ Δ² of the least-squares estimate of c (prior included).
    sums: (f64, f64),
}

impl EnergySwingUp {
    /// The swing-up for the (nominal) `model`.
    ///
    /// # Errors
    /// As [`SwingUpParams::validate`] and [`LqrBalance::new`].
    pub fn new(model: &AccelerationCart, params: &SwingUpParams) -> Result<Self, CartpoleError> {
        params.validate()?;
        Ok(Self {
            lqr: LqrBalance::new(model, &params.weights)?,
            params: params.clone(),
            natural_frequency: model.natural_frequency(),
            gravity: model.gravity(),
            mode: Mode::Swing,
            previous: None,
            sums: prior_sums(model.natural_frequency(), params.estimate_prior),
        })
    }

    /// The current estimate of `c = 1/(2ω₀²)`, s² (the model's until data arrives).
    pub fn kinetic_coefficient(&self) -> f64 {
        if self.sums.1 > 0.0 {
            self.sums.0 / self.sums.1
        } else {
            0.5 / (self.natural_frequency * self.natural_frequency)
        }
    }

    fn update_estimate(&mut self, s: &[f64; 4]) {
        if self.params.estimate_prior <= 0.0 {
            return;
        }
        if let Some((p, a)) = self.previous {
            let delta = s[3] * s[3] - p[3] * p[3];
            let y = -a * (s[2].sin() - p[2].sin()) / self.gravity - (p[2].cos() - s[2].cos());
            if delta.is_finite() && y.is_finite() {
                self.sums.0 += delta * y;
                self.sums.1 += delta * delta;
            }
        }
    }

    /// The active law.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The catching LQR.
    pub fn lqr(&self) -> &LqrBalance {
        &self.lqr
    }
}

impl Controller for EnergySwingUp {
    fn name(&self) -> &'static str {
        "energy"
    }

    fn reset(&mut self) {
        self.mode = Mode::Swing;
        self.previous = None;
        self.sums = prior_sums(self.natural_frequency, self.params.estimate_prior);
    }

    fn control(&mut self, t: f64, s: &[f64; 4]) -> Result<f64, CartpoleError> {
        self.update_estimate(s);
        let c = self.kinetic_coefficient();
        let p = &self.params;
        let phi = wrap_around(s[2], PI).abs();
        self.mode = match self.mode {
            Mode::Swing if phi < p.catch_angle => Mode::Catch,
            Mode::Catch if phi > p.release_angle => Mode::Swing,
            m => m,
        };
        let a = match self.mode {
            Mode::Catch => self.lqr.law(s),
            Mode::Swing => {
                let e = (1.0 - s[2].cos()) + c * s[3] * s[3];
                let w = s[3] * s[2].cos();
                let direction = if w < 0.0 { -1.0 } else { 1.0 };
                let pump = (p.energy_gain * self.gravity * (e - 2.0) * direction)
                    .clamp(-p.max_accel, p.max_accel);
                pump - p.centering.0 * s[0] - p.centering.1 * s[1]
            }
        };
        let a = a.clamp(-p.max_accel, p.max_accel);
        if a.is_finite() {
            self.previous = Some((*s, a));
            Ok(a)
        } else {
            Err(CartpoleError::NonFiniteControl {
                controller: "energy",
                time: t,
                value: a,
            })
        }
    }
}

/// The prior of the estimate: `weight` samples with `Δ = 1` that agree with the model's
/// c (a period near the bottom of a full swing has Δ of a few rad²/s²).
fn prior_sums(natural_frequency: f64, weight: f64) -> (f64, f64) {
    let c = 0.5 / (natural_frequency * natural_frequency);
    (weight * c, weight)
}
