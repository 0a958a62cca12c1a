//! sparsediff: recover sparse Jacobians and Hessians from a few matrix-vector products.
//!
//! This facade re-exports the stages of the pipeline (see `DESIGN.md` in the repository):
//!
//! * [`pattern`]: sparsity patterns — explicit, Matrix Market, generators (bands, block
//!   bands, stencils, arrowheads, random), specs such as `band:n=1000,k=3`;
//! * [`coloring`]: column/row CPR, distance-1/2, star and acyclic colourings with every
//!   classical vertex order, independent checkers and lower bounds;
//! * [`ad`]: backends (forward lanes, reverse tape, finite differences, closures) and
//!   sparsity tracing;
//! * [`SparseJacobian`] / [`SparseHessian`]: prepare once (pattern, probes, backend), then
//!   evaluate at any x without allocating;
//! * [`composite`]: Hessians of f = φ + Σ ψᵢ(rᵢ) (augmented Lagrangians, least squares)
//!   from the rows' local derivatives, ψ′∇²r and JᵀDJ, without probes;
//! * [`probe`]: probe designers (identity, banded roll, closed-form stencils, colourings,
//!   random) and prepared, allocation-free decoders.
//!
//! The benchmark functions (Rosenbrock, grid energy, tridiagonal, the cartpole augmented
//! Lagrangian, with analytic or reference derivatives) are the crate `sparsediff-problems`:
//! the facade's tests, benchmarks and examples use them, the library does not.
//!
//! ```
//! use sparsediff::{color, ColoringParams, Method, Order, Problem, PatternSpec};
//!
//! // A banded Hessian pattern: 1000 variables, half-bandwidth 3.
//! let h = "band:n=1000,k=3".parse::<PatternSpec>()?.build()?;
//! let order = ColoringParams::with_order(Order::PerfectElimination);
//! let acyclic = color(&h, Problem::Symmetric, Method::Acyclic, &order)?;
//! assert_eq!(acyclic.num_colors(), 4); // 4 Hessian-vector products recover all 6988 entries
//! assert!(acyclic.check(&h).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use sparsediff_ad as ad;
pub use sparsediff_ad::num_dual;
pub use sparsediff_coloring as coloring;
pub use sparsediff_composite as composite;
pub use sparsediff_pattern as pattern;
pub use sparsediff_probe as probe;

mod engine;
mod error;
mod hessian;
mod jacobian;
mod options;
mod recovery;
mod saved;
#[cfg(feature = "proptest")]
pub mod testing;
mod verify;

pub use composite::{CompositeHessian, Outer, RowFunctions};
pub use engine::{Candidate, PrepareTimes, RecoveryInfo};
pub use error::SparseError;
pub use hessian::SparseHessian;
pub use jacobian::SparseJacobian;
pub use options::{
    BackendChoice, DEFAULT_VERIFY_EVERY, Detection, OnBranchChange, Options, Strategy, Verify,
    default_orders,
};
pub use saved::{SavedPlan, SavedPlanError, SavedRecovery, SavedSeeds};
pub use sparsediff_ad::{ScalarFunction, VectorFunction};

pub use sparsediff_coloring::{
    Coloring, ColoringError, ColoringParams, Method, Order, OrderChoice, Problem, color,
    lower_bound,
};
pub use sparsediff_pattern::{Pattern, PatternError, PatternSpec, generators};
