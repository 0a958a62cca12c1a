//! Driving a force-controlled cart with an acceleration-commanding controller.

use super::Controller;
use crate::error::CartpoleError;
use crate::model::ForceCart;

/// Wraps a controller that commands the cart's acceleration (the LQR or swing-up designed
/// on an [`AccelerationCart`](crate::model::AccelerationCart)) so that it drives a
/// [`ForceCart`]: the commanded acceleration `a` becomes the force that produces it on
/// the (nominal) model — partial feedback linearisation, from the first Euler–Lagrange
/// equation with `ω'` taken from the second:
///
/// ```text
/// ω' = −(m·l·g·sin θ + b_p·ω + m·l·cos θ·a)/J
/// F  = (M + m)·a + m·l·cos θ·ω' − m·l·sin θ·ω² + b_c·v
/// ```
///
/// ```
/// use cartpole::controller::{Controller, ForceFromAcceleration};
/// use cartpole::model::{ForceCart, ForceParams};
/// use trajectory::Dynamics;
///
/// /// Always asks for 2 m/s².
/// struct Two;
/// impl Controller for Two {
///     fn name(&self) -> &'static str { "two" }
///     fn reset(&mut self) {}
///     fn control(&mut self, _t: f64, _s: &[f64; 4]) -> Result<f64, cartpole::CartpoleError> { Ok(2.0) }
/// }
/// let model = ForceCart::new(ForceParams { cart_friction: 0.3, ..ForceParams::default() })?;
/// let mut c = ForceFromAcceleration::new(Two, model);
/// let s = [0.0, 0.5, 1.0, -2.0];
/// let force = c.control(0.0, &s)?;
/// let mut ds = [0.0; 4];
/// model.eval(&s, &[force], &mut ds);
/// assert!((ds[1] - 2.0).abs() < 1e-12); // the cart accelerates as asked
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ForceFromAcceleration<C> {
    inner: C,
    model: ForceCart,
    /// The inner controller is asked every `every`-th call; its acceleration is held in
    /// between while the force is recomputed at every call.
    every: usize,
    calls: usize,
    held: f64,
}

impl<C: Controller> ForceFromAcceleration<C> {
    /// `inner`'s accelerations turned into forces on `model` (the controller's nominal
    /// force-driven model; the simulated plant may differ).
    pub fn new(inner: C, model: ForceCart) -> Self {
        Self {
            inner,
            model,
            every: 1,
            calls: 0,
            held: 0.0,
        }
    }

    /// Asks the inner controller only every `every`-th call and holds its acceleration
    /// in between, recomputing the force for it at every call. For an inner controller
    /// with a long period (the MPC's 50 ms at N = 100): a force held over the whole
    /// period does not hold the acceleration — the pole's back-reaction changes as it
    /// swings — so the wrapper runs at a short period (`every` times the inner one's
    /// rate) and keeps the commanded acceleration there. The simulator's control period
    /// is then the inner period divided by `every`, and the inner controller sees the
    /// times of its own calls only.
    ///
    /// # Errors
    /// [`CartpoleError::InvalidParameter`] for `every` = 0.
    pub fn every(mut self, every: usize) -> Result<Self, CartpoleError> {
        if every == 0 {
            return Err(CartpoleError::InvalidParameter {
                name: "every",
                value: 0.0,
                unit: "calls",
                requirement: crate::Requirement::Positive,
            });
        }
        self.every = every;
        Ok(self)
    }

    /// The wrapped controller.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The force that gives the cart the acceleration `a` in state `s`.
    pub fn force_for(&self, s: &[f64; 4], a: f64) -> f64 {
        let p = self.model.params();
        let (v, theta, omega) = (s[1], s[2], s[3]);
        let ml = p.pole_mass * 0.5 * p.pole_length;
        let j = p.pole_mass * p.pole_length * p.pole_length / 3.0;
        let (sin, cos) = theta.sin_cos();
        let omega_dot = -(ml * p.gravity * sin + p.pivot_friction * omega + ml * cos * a) / j;
        (p.cart_mass + p.pole_mass) * a + ml * cos * omega_dot - ml * sin * omega * omega
            + p.cart_friction * v
    }
}

impl<C: Controller> Controller for ForceFromAcceleration<C> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.calls = 0;
    }

    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError> {
        if self.calls.is_multiple_of(self.every) {
            self.held = self.inner.control(t, measured)?;
        }
        self.calls += 1;
        let f = self.force_for(measured, self.held);
        if f.is_finite() {
            Ok(f)
        } else {
            Err(CartpoleError::NonFiniteControl {
                controller: self.inner.name(),
                time: t,
                value: f,
            })
        }
    }
}
