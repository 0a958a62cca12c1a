//! The cart-pole on sparsediff: models, linearisation, LQR, swing-up, simulation.
//!
//! * [`model`]: the prototype's acceleration-commanded cart ([`model::AccelerationCart`],
//!   the spec's model) and the full force-driven cart-pole from its Lagrangian
//!   ([`model::ForceCart`]), both generic over `DualNum` and implementing
//!   [`trajectory::Dynamics`]; validated parameters with units.
//! * [`angle`]: the convention (θ = 0 hanging, θ = π upright) and angle wrapping.
//! * [`linearize`]: A and B about any point by forward AD through the library.
//! * [`lqr`]: CARE, DARE (faer), a 4×4 fast path, the zero-order-hold discretisation, a
//!   time-varying LQR along a trajectory, Q and R scaled from the model.
//! * [`controller`]: one [`controller::Controller`] trait; LQR balance, the
//!   energy-based swing-up with an LQR catch, the planned swing-up tracked by a
//!   time-varying LQR, and MPC on the trajectory crate.
//! * [`swingup`]: the spec's swing-up as a trajectory-optimisation problem on this
//!   crate's model (any parameters), its plan and its knots.
//! * [`sim`]: RK4 closed-loop simulation with actuator and track limits, seeded
//!   measurement noise and disturbances, and model mismatch; [`sim::Swingup`] judges a
//!   run.
//!
//! ```
//! use cartpole::controller::{EnergySwingUp, SwingUpParams};
//! use cartpole::model::{AccelerationCart, AccelerationParams};
//! use cartpole::sim::{simulate, SimConfig, Swingup};
//!
//! let plant = AccelerationCart::new(AccelerationParams::default())?;
//! let mut controller = EnergySwingUp::new(&plant, &SwingUpParams::default())?;
//! let run = simulate(&plant, &mut controller, [0.0; 4], &SimConfig::default(), |_| {})?;
//! let verdict = Swingup::default().judge(&run);
//! assert!(verdict.success, "{verdict:?}");
//! # Ok::<(), cartpole::CartpoleError>(())
//! ```
#![deny(missing_docs)]

pub mod angle;
pub mod controller;
mod error;
pub mod linearize;
pub mod lqr;
pub mod model;
pub mod sim;
pub mod swingup;

pub use error::{CartpoleError, Requirement, TrajectoryFailure};
