//! LQR about the upright.

use std::f64::consts::PI;

use super::Controller;
use crate::angle::wrap_around;
use crate::error::CartpoleError;
use crate::linearize::linearize;
use crate::lqr::{RiccatiOptions, SmallLqr, Weights, care4};
use crate::model::CartpoleModel;

/// `u = −K·(x − x_ref, v, wrap(θ − π), ω)`: the infinite-horizon LQR of the model
/// linearised (by AD) about the upright at rest at `x_ref`.
///
/// ```
/// use cartpole::controller::{Controller, LqrBalance};
/// use cartpole::lqr::Weights;
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use std::f64::consts::PI;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let mut lqr = LqrBalance::new(&cart, &Weights::identity())?;
/// assert!((lqr.gain()[2] - 26.7778608771).abs() < 1e-8); // the spec's K
/// // a pole leaning to +φ is caught by accelerating towards it... with a = −Kφ < 0 here,
/// // since ω' = −3(g sin θ + a cos θ) and cos π = −1
/// let a = lqr.control(0.0, &[0.0, 0.0, PI + 0.01, 0.0])?;
/// assert!((a + 0.267778608771).abs() < 1e-9);
/// // the angle error is wrapped: θ = −π + 0.01 is the same state
/// assert!((lqr.control(0.0, &[0.0, 0.0, -PI + 0.01, 0.0])? - a).abs() < 1e-9);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LqrBalance {
    k: [f64; 4],
    x_ref: f64,
    solution: Option<SmallLqr>,
}

impl LqrBalance {
    /// The LQR of `model` about the upright at x = 0 with `weights`.
    ///
    /// # Errors
    /// From [`linearize`] and [`care4`] (weights that are not 4×4/1×1 are a
    /// [`CartpoleError::DimensionMismatch`]).
    pub fn new(model: &impl CartpoleModel, weights: &Weights) -> Result<Self, CartpoleError> {
        crate::lqr::check_weights(weights)?;
        let lin = linearize(model, &[0.0, 0.0, PI, 0.0], &[0.0])?;
        let a: [[f64; 4]; 4] = std::array::from_fn(|i| std::array::from_fn(|j| lin.a[(i, j)]));
        let b: [f64; 4] = std::array::from_fn(|i| lin.b[(i, 0)]);
        let solution = care4(
            &a,
            &b,
            &weights.q_array(),
            weights.r_scalar(),
            &RiccatiOptions::default(),
        )?;
        Ok(Self {
            k: solution.k,
            x_ref: 0.0,
            solution: Some(solution),
        })
    }

    /// A balance controller with a given gain.
    ///
    /// # Errors
    /// [`CartpoleError::NonFinite`] for a non-finite gain.
    pub fn from_gain(k: [f64; 4]) -> Result<Self, CartpoleError> {
        if let Some(col) = k.iter().position(|v| !v.is_finite()) {
            return Err(CartpoleError::NonFinite {
                what: "K",
                row: 0,
                col,
                value: k[col],
            });
        }
        Ok(Self {
            k,
            x_ref: 0.0,
            solution: None,
        })
    }

    /// Balances about the cart position `x_ref` (m) instead of 0.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for a non-finite `x_ref`.
    pub fn with_reference(mut self, x_ref: f64) -> Result<Self, CartpoleError> {
        crate::error::check_param("x_ref", x_ref, "m", crate::Requirement::Finite)?;
        self.x_ref = x_ref;
        Ok(self)
    }

    /// The gain K.
    pub fn gain(&self) -> [f64; 4] {
        self.k
    }

    /// The Riccati solution the gain came from (None for [`from_gain`](Self::from_gain)).
    pub fn solution(&self) -> Option<&SmallLqr> {
        self.solution.as_ref()
    }

    /// `−K·e` without the trait's bookkeeping.
    #[inline]
    pub fn law(&self, s: &[f64; 4]) -> f64 {
        let e = [s[0] - self.x_ref, s[1], wrap_around(s[2], PI), s[3]];
        -(self.k[0] * e[0] + self.k[1] * e[1] + self.k[2] * e[2] + self.k[3] * e[3])
    }
}

impl Controller for LqrBalance {
    fn name(&self) -> &'static str {
        "lqr"
    }
    fn reset(&mut self) {}
    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError> {
        let u = self.law(measured);
        if u.is_finite() {
            Ok(u)
        } else {
            Err(CartpoleError::NonFiniteControl {
                controller: "lqr",
                time: t,
                value: u,
            })
        }
    }
}
