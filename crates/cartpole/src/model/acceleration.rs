//! The velocity-controlled (acceleration-commanded) cart of the prototype and the spec.

use sparsediff::ad::num_dual::DualNum;
use trajectory::Dynamics;

use super::{CartpoleModel, GRAVITY};
use crate::error::{CartpoleError, Requirement, check_param};

/// Parameters of [`AccelerationCart`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccelerationParams {
    /// Pole length L, m (uniform rod pivoted at one end).
    pub pole_length: f64,
    /// Gravitational acceleration g, m/s².
    pub gravity: f64,
}

impl Default for AccelerationParams {
    /// The spec's L = 0.5 m, g = 9.81 m/s².
    fn default() -> Self {
        Self {
            pole_length: 0.5,
            gravity: GRAVITY,
        }
    }
}

impl AccelerationParams {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] unless L and g are finite and positive.
    pub fn validate(&self) -> Result<(), CartpoleError> {
        check_param("pole_length", self.pole_length, "m", Requirement::Positive)?;
        check_param("gravity", self.gravity, "m/s^2", Requirement::Positive)
    }
}

/// The cart driven by its acceleration `a` (the control, m/s²):
/// `x' = v`, `v' = a`, `θ' = ω`, `ω' = −(3/(2L))·(g·sin θ + a·cos θ)`.
///
/// ```
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use trajectory::Dynamics;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let (s, a) = ([0.1, 0.2, 0.3, 0.4], [1.5]);
/// let (mut ours, mut spec) = ([0.0; 4], [0.0; 4]);
/// cart.eval(&s, &a, &mut ours);
/// trajectory::cartpole::Cartpole.eval(&s, &a, &mut spec);
/// assert_eq!(ours, spec);
/// // bad parameters are named errors
/// assert!(AccelerationCart::new(AccelerationParams { pole_length: -1.0, gravity: 9.81 }).is_err());
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccelerationCart {
    params: AccelerationParams,
    /// 3/(2L).
    coefficient: f64,
}

impl AccelerationCart {
    /// The model with `params`.
    ///
    /// # Errors
    /// As [`AccelerationParams::validate`].
    pub fn new(params: AccelerationParams) -> Result<Self, CartpoleError> {
        params.validate()?;
        Ok(Self {
            params,
            coefficient: 3.0 / (2.0 * params.pole_length),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &AccelerationParams {
        &self.params
    }
}

impl Dynamics for AccelerationCart {
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
        // the same operation order as trajectory::cartpole::Cartpole (bitwise equal)
        ds[3] = (theta.sin() * self.params.gravity + a * theta.cos()) * (-self.coefficient);
    }
}

impl CartpoleModel for AccelerationCart {
    fn pole_length(&self) -> f64 {
        self.params.pole_length
    }
    fn gravity(&self) -> f64 {
        self.params.gravity
    }
    fn control_kind(&self) -> &'static str {
        "acceleration"
    }
}
