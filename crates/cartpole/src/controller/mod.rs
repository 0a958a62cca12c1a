//! Controllers: one [`Controller`] trait, called once per control period with the
//! measured state; implementations [`LqrBalance`] (hold the upright) and
//! [`EnergySwingUp`] (Åström–Furuta energy pumping with an LQR catch),
//! [`TvlqrTracker`] (the trajectory crate's swing-up plan tracked by a time-varying LQR,
//! then balanced), [`MpcController`] (the trajectory crate's receding-horizon control),
//! and [`ForceFromAcceleration`], which lets the acceleration-commanding ones drive the
//! force-driven cart.
//!
//! The trait is what a model-predictive controller on the trajectory crate or a
//! time-varying-LQR tracker implements too: `reset` before a run (warm starts, modes),
//! `control` per period with `&mut self` (so a controller keeps its workspace and its
//! previous solution between calls and need not allocate), a named error when it cannot
//! produce a control (a solver failure) rather than a made-up number.

mod adapt;
mod energy;
mod force;
mod lqr_balance;
mod mpc;
mod tvlqr;

pub use adapt::{LengthBank, LengthEstimator, MAX_BANK_STEPS};
pub use energy::{EnergySwingUp, Mode, SwingUpParams};
pub use force::ForceFromAcceleration;
pub use lqr_balance::LqrBalance;
pub use mpc::{Catch, MpcController};
pub use tvlqr::{TrackerParams, TvlqrTracker};

use crate::error::CartpoleError;

/// A feedback law `u = κ(t, measured state)` for the cart-pole (one control: the cart's
/// acceleration or force, whichever the model it was designed for takes).
pub trait Controller {
    /// A short name (`"lqr"`, `"energy"`), for reports.
    fn name(&self) -> &'static str;
    /// Forgets everything learned in a previous run (modes, warm starts).
    fn reset(&mut self);
    /// The control at time `t` (s) from the measured state `(x, v, θ, ω)`; should not
    /// allocate.
    ///
    /// # Errors
    /// Whatever the controller cannot recover from (a failed inner solve); the simulator
    /// stops the run and returns the error.
    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError>;
}

/// A borrowed controller is a controller (so wrappers such as [`ForceFromAcceleration`]
/// can drive one the caller keeps, to read its state after a run).
impl<C: Controller + ?Sized> Controller for &mut C {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn control(&mut self, t: f64, measured: &[f64; 4]) -> Result<f64, CartpoleError> {
        (**self).control(t, measured)
    }
}
