//! Trajectory optimisation by direct transcription, on sparsediff's public API.
//!
//! * [`Problem`]: the dynamics `s' = f(s, u)` ([`Dynamics`]), running and terminal costs
//!   ([`RunningCost`], [`TerminalCost`]), initial and terminal states, bounds on states and
//!   controls, path inequalities ([`PathConstraints`]) on a grid of N knots. Every user
//!   function is written once, generic over the scalar; every dimension is checked when
//!   the problem is built ([`TrajectoryError`]).
//! * [`Transcription`]: trapezoidal (the default, as in the cartpole benchmark spec),
//!   Hermite–Simpson, or the original prototype's staggered scheme (controls at the half
//!   steps). [`Transcribed`] is the resulting nonlinear program in the knot-major decision
//!   vector z ([`Layout`]): the cost, the equalities c(z) = 0 and the inequalities
//!   g(z) ≤ 0 as generic functions of z, and as rows ([`Rows`], the
//!   [`RowFunctions`] of a composite Hessian) whose variables give the sparsity.
//! * [`AugmentedLagrangian`]: `L_A = J + λᵀc + (ρ/2)‖c‖² + PHR terms of g`, as a generic
//!   function, as a [`CompositeHessian`](sparsediff::composite::CompositeHessian), and as
//!   an [`ElementHessian`] (each knot's dynamics evaluated once per evaluation and shared
//!   between the defect rows; [`element`]) — the objective of a Newton solver
//!   (`sparsediff-solve`).
//! * [`solver`]: the augmented-Lagrangian Newton solver — multiplier and penalty updates,
//!   Newton steps on a primal–dual model of `∇²L_A` with the banded LDLᵀ and inertia
//!   correction, a nonmonotone Armijo search, stopping on KKT residuals, warm starts, an
//!   observer, the best iterate and a [`Status`](solver::Status) when it does not converge.
//! * [`mpc`]: receding-horizon control on that solver — shifted warm starts, a fixed number
//!   of Newton steps per period, nothing allocated per period.
//!
//! The cartpole swing-up of `crates/problems/spec/cartpole-swingup.md`, written with this
//! crate, reproduces the problems crate's reference L_A, gradient and Hessian to 1e-12
//! (`tests/cartpole.rs`).
//!
//! ```
//! use trajectory::{AugmentedLagrangian, Dynamics, Problem, RunningCost, Transcribed, Transcription};
//! use trajectory::num_dual::DualNum;
//!
//! /// A pendulum driven by a torque: θ'' = −sin θ + u.
//! struct Pendulum;
//! impl Dynamics for Pendulum {
//!     fn state_dim(&self) -> usize { 2 }
//!     fn control_dim(&self) -> usize { 1 }
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
//!         ds[0] = s[1];
//!         ds[1] = -s[0].sin() + u[0];
//!     }
//! }
//! struct Effort;
//! impl RunningCost for Effort {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D { u[0] * u[0] }
//! }
//! let problem = Problem::new(Pendulum, Effort, 50, 0.1)?
//!     .with_initial_state(&[0.0, 0.0])?
//!     .with_terminal_state(&[std::f64::consts::PI, 0.0])?
//!     .with_control_bounds(&[-1.0], &[1.0])?;
//! let nlp = Transcribed::new(problem, Transcription::HermiteSimpson)?;
//! assert_eq!(nlp.num_vars(), 150);
//! assert_eq!(nlp.num_equalities(), 2 + 2 * 49 + 2);
//! let z = vec![0.1; nlp.num_vars()];
//! let la = AugmentedLagrangian::new(
//!     &nlp,
//!     vec![0.0; nlp.num_equalities()],
//!     vec![0.0; nlp.num_inequalities()],
//!     10.0,
//! )?;
//! let mut h = la.composite_hessian(&z)?;
//! let hessian = h.evaluate(&z)?;
//! assert_eq!(hessian.rows(), 150);
//! assert!((h.value(&z)? - la.value(&z)?).abs() < 1e-12 * la.value(&z)?.abs());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod cartpole;
pub mod element;
mod error;
mod lagrangian;
pub mod mpc;
mod problem;
pub mod solver;
pub mod transcription;

pub use element::ElementHessian;
pub use error::TrajectoryError;
pub use lagrangian::AugmentedLagrangian;
pub use problem::{
    Bounds, Dynamics, MAX_CONTROL_DIM, MAX_STATE_DIM, NoPathConstraints, NoTerminalCost,
    PathConstraints, Problem, RunningCost, TerminalCost,
};
pub use transcription::{
    ControlPlacement, Layout, RowKind, Rows, Side, Transcribed, Transcription,
};

/// The num-dual crate, re-exported: user functions are generic over `num_dual::DualNum`.
pub use sparsediff::ad::num_dual;
/// The row trait of composite Hessians, which [`Rows`] implements.
pub use sparsediff::composite::RowFunctions;
