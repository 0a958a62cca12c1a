//! The two cart-pole models, both generic over the scalar (`DualNum`) and both implementing
//! [`trajectory::Dynamics`] with state `s = (x, v, θ, ω)` (cart position m, cart velocity
//! m/s, pole angle rad, angular velocity rad/s; θ = 0 hanging, θ = π upright, see
//! [`crate::angle`]) and one control.
//!
//! * [`AccelerationCart`]: the prototype's velocity-controlled cart — the control is the
//!   cart acceleration `a` (m/s²), a servo that tracks any commanded acceleration; the pole
//!   is a uniform rod, `ω' = −(3/(2L))·(g·sin θ + a·cos θ)`. Identical to
//!   `trajectory::cartpole::Cartpole` for the spec's L and g.
//! * [`ForceCart`]: the full cart-pole from its Lagrangian — the control is the force `F`
//!   (N) on a cart of mass M; the pole (uniform rod, mass m, length L) pushes back on the
//!   cart; viscous friction on the cart and at the pivot.

mod acceleration;
mod force;

pub use acceleration::{AccelerationCart, AccelerationParams};
pub use force::{ForceCart, ForceParams};

/// Standard gravity, m/s² (the spec's g).
pub const GRAVITY: f64 = 9.81;

/// What the controllers and the simulator need to know of a model beyond its dynamics.
pub trait CartpoleModel: trajectory::Dynamics {
    /// Pole length L, m.
    fn pole_length(&self) -> f64;
    /// Gravitational acceleration g, m/s².
    fn gravity(&self) -> f64;
    /// What the control is: `"acceleration"` (m/s²) or `"force"` (N).
    fn control_kind(&self) -> &'static str;
    /// The pendulum's natural frequency about hanging, `ω₀ = √(3g/(2L))` rad/s (a uniform
    /// rod pivoted at one end).
    fn natural_frequency(&self) -> f64 {
        (1.5 * self.gravity() / self.pole_length()).sqrt()
    }
    /// The characteristic time `√(L/g)`, s.
    fn characteristic_time(&self) -> f64 {
        (self.pole_length() / self.gravity()).sqrt()
    }
}

/// The pole's normalised energy `(1 − cos θ) + ω²/(2ω₀²)`: 0 hanging at rest, 2 upright
/// at rest (the energy of the swinging rod in units of `m·g·L/2`, the cart's motion left
/// out), the quantity the energy swing-up drives to 2.
///
/// ```
/// use cartpole::model::pole_energy;
/// use std::f64::consts::PI;
/// let w0 = (1.5 * 9.81 / 0.5f64).sqrt();
/// assert_eq!(pole_energy(0.0, 0.0, w0), 0.0);
/// assert!((pole_energy(PI, 0.0, w0) - 2.0).abs() < 1e-15);
/// ```
pub fn pole_energy(theta: f64, omega: f64, natural_frequency: f64) -> f64 {
    (1.0 - theta.cos()) + omega * omega / (2.0 * natural_frequency * natural_frequency)
}
