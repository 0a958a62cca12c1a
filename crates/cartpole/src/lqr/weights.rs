//! The weights Q and R.

use faer::Mat;

use crate::error::{CartpoleError, Requirement, check_param};
use crate::model::CartpoleModel;

/// Q (4×4) and R (1×1) of the cart-pole's LQR.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// State weight Q.
    pub q: Mat<f64>,
    /// Control weight R.
    pub r: Mat<f64>,
}

/// The scales Bryson's rule divides by: what deviation of each quantity is "as bad as"
/// one unit of cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scales {
    /// Acceptable cart excursion, m (e.g. the half-length of the track, 1 m).
    pub track: f64,
    /// Acceptable angle deviation from upright, rad (e.g. 0.2).
    pub angle: f64,
}

impl Default for Scales {
    /// 1 m of track, 0.2 rad.
    fn default() -> Self {
        Self {
            track: 1.0,
            angle: 0.2,
        }
    }
}

impl Weights {
    /// The spec's `Q = I₄`, `R = 1`.
    pub fn identity() -> Self {
        Self {
            q: Mat::identity(4, 4),
            r: Mat::from_fn(1, 1, |_, _| 1.0),
        }
    }

    /// `Q = diag(q)`, `R = r`.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a negative or non-finite `q` entry or an
    /// `r` that is not finite and positive.
    pub fn diagonal(q: [f64; 4], r: f64) -> Result<Self, CartpoleError> {
        const NAMES: [&str; 4] = ["q_x", "q_v", "q_theta", "q_omega"];
        for (name, &v) in NAMES.iter().zip(&q) {
            check_param(name, v, "(dimensionless)", Requirement::NonNegative)?;
        }
        check_param("r", r, "(dimensionless)", Requirement::Positive)?;
        Ok(Self {
            q: Mat::from_fn(4, 4, |i, j| if i == j { q[i] } else { 0.0 }),
            r: Mat::from_fn(1, 1, |_, _| r),
        })
    }

    /// Bryson's rule with the model's characteristic time `τ = √(L/g)`:
    /// `Q = diag(1/x̄², 1/v̄², 1/φ̄², 1/ω̄²)` with `x̄ = track`, `v̄ = track/τ`,
    /// `φ̄ = angle`, `ω̄ = angle/τ` (moving a track length, or tilting by the angle scale,
    /// within one characteristic time), and `R = 1/ū²` with `ū` the control that holds the
    /// pole tilted by the angle scale: `ū = g·φ̄` for an acceleration-driven cart, and for
    /// a force-driven one `ū = g·φ̄·control_scale` with `control_scale` = the total mass M + m
    /// (pass 1 for an acceleration-driven cart).
    ///
    /// ```
    /// use cartpole::lqr::{Scales, Weights};
    /// use cartpole::model::{AccelerationCart, AccelerationParams};
    /// let cart = AccelerationCart::new(AccelerationParams::default())?;
    /// let w = Weights::scaled(&cart, &Scales::default(), 1.0)?;
    /// assert_eq!(w.q[(0, 0)], 1.0); // 1 m of track
    /// assert!((w.q[(2, 2)] - 25.0).abs() < 1e-12); // (1/0.2 rad)²
    /// # Ok::<(), cartpole::CartpoleError>(())
    /// ```
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] unless the scales and `control_scale` are
    /// finite and positive.
    pub fn scaled(
        model: &impl CartpoleModel,
        scales: &Scales,
        control_scale: f64,
    ) -> Result<Self, CartpoleError> {
        check_param("track", scales.track, "m", Requirement::Positive)?;
        check_param("angle", scales.angle, "rad", Requirement::Positive)?;
        check_param(
            "control_scale",
            control_scale,
            "(dimensionless)",
            Requirement::Positive,
        )?;
        let tau = model.characteristic_time();
        let bars = [
            scales.track,
            scales.track / tau,
            scales.angle,
            scales.angle / tau,
        ];
        let u_bar = model.gravity() * scales.angle * control_scale;
        Self::diagonal(bars.map(|s| 1.0 / (s * s)), 1.0 / (u_bar * u_bar))
    }

    /// Q as a row-major array.
    pub fn q_array(&self) -> [[f64; 4]; 4] {
        std::array::from_fn(|i| std::array::from_fn(|j| self.q[(i, j)]))
    }

    /// The scalar R.
    pub fn r_scalar(&self) -> f64 {
        self.r[(0, 0)]
    }
}
