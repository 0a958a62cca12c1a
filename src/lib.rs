//! sparsediff: recover sparse Jacobians and Hessians from a few matrix-vector products.
//!
//! Write the function once, generic over the scalar; prepare once (pattern, probes,
//! backend); evaluate anywhere, without allocating:
//!
//! ```
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::{Options, ScalarExt, ScalarFunction, SparseHessian};
//!
//! /// Chained Rosenbrock plus a hinge: f = Σ 100(x₁ − x₀²)² + (1 − x₀)² + max(x₀, 0)².
//! struct Objective;
//! impl ScalarFunction for Objective {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         let valley: D = x
//!             .windows(2)
//!             .map(|w| (w[1] - w[0].powi(2)).powi(2) * 100.0 + (D::one() - w[0]).powi(2))
//!             .sum();
//!         // `x * 2.0`, not `2.0 * x`; `max` from ScalarExt compares scalars, so the branch
//!         // is seen by every backend (see sparsediff::ad::idioms).
//!         valley + x[0].max(D::from(0.0)).powi(2)
//!     }
//! }
//!
//! let x0 = vec![0.5; 1000];
//! let mut h = SparseHessian::prepare(Objective, &x0, &Options::default())?;
//! let m = h.evaluate(&x0)?; // a sprs CsMat, both triangles
//! assert_eq!(m.nnz(), 1000 + 2 * 999); // tridiagonal
//! assert_eq!(h.info().probes, 2); // two Hessian-vector products per evaluation
//! # Ok::<(), sparsediff::SparseError>(())
//! ```
//!
//! `evaluate` returns numbers it can vouch for or an error: a branch taken differently
//! re-traces the pattern, a [`Verify`] policy checks evaluations with an extra product,
//! and a pattern that cannot be trusted is an error, never silently wrong numbers.
//!
//! The pieces are open: a [`SparsityDetector`], any
//! [`ProbeDesigner`](crate::probe::ProbeDesigner) (through [`Strategy::Custom`]), a decoder
//! of your own ([`ProbePlan::custom`](crate::probe::ProbePlan::custom)), any backend
//! ([`HessianBuilder`]), a plan shared between threads
//! ([`SparseHessian::shared_plan`]). The stages, re-exported:
//!
//! * [`pattern`]: sparsity patterns — explicit, Matrix Market, generators
//!   (bands, stencils), specs such as `band:n=1000,k=3`; and the
//!   [`objective`](crate::pattern::objective) traits solvers take;
//! * [`coloring`]: column/row CPR, distance-1/2, star and acyclic
//!   colourings with every classical vertex order, independent checkers and lower bounds;
//! * [`probe`]: probe designers (identity, banded roll, closed-form
//!   stencils, colourings, random; [`BestOf`](crate::probe::design::BestOf) of several) and
//!   prepared, allocation-free decoders;
//! * [`ad`]: backends (forward lanes, reverse tape, finite differences,
//!   closures) and sparsity tracing;
//! * [`composite`]: Hessians of f = φ + Σ ψᵢ(rᵢ) (augmented Lagrangians,
//!   least squares) from the rows' local derivatives, ψ′∇²r and JᵀDJ, without probes;
//! * [`sprs`] and [`faer`], the matrix types of the results.
//!
//! The benchmark functions (Rosenbrock, grid energy, tridiagonal, the cartpole augmented
//! Lagrangian, with analytic or reference derivatives) are the crate `sparsediff-problems`:
//! the facade's tests, benchmarks and examples use them, the library does not.
#![deny(missing_docs)]

/// faer, re-exported: decode products of your own into `faer` matrices with matching types.
pub use faer;
pub use sparsediff_ad as ad;
pub use sparsediff_ad::num_dual;
pub use sparsediff_coloring as coloring;
pub use sparsediff_composite as composite;
pub use sparsediff_pattern as pattern;
pub use sparsediff_probe as probe;
/// sprs, re-exported: `evaluate` returns a `sprs::CsMat<f64>`.
pub use sprs;

mod builder;
pub mod detect;
mod diagonal;
mod engine;
mod error;
mod evaluation;
mod finite;
mod hessian;
mod jacobian;
pub mod mode;
mod objective;
mod options;
mod output;
mod recovery;
mod samples;
#[cfg(feature = "proptest")]
pub mod testing;
mod verify;

pub use builder::Builder;
pub use composite::{CompositeHessian, Outer, RowFunctions};
pub use detect::{Conservative, GivenPattern, Global, SparsityDetector, Traced};
pub use diagonal::{DiagonalInfo, DiagonalMethod, MAX_HUTCHINSON_PROBES, SparseDiagonal};
pub use engine::{PrepareTimes, RecoveryInfo};
pub use error::SparseError;
pub use evaluation::Evaluation;
pub use hessian::HessianBuilder;
pub use hessian::SparseHessian;
pub use jacobian::JacobianBuilder;
pub use jacobian::SparseJacobian;
pub use mode::{BIDIRECTIONAL_GATE, JacobianMode, Mode, ModeCandidate, VJP_RELATIVE_COST};
pub use options::{
    BackendChoice, DEFAULT_VERIFY_EVERY, MAX_THREADS, OnBranchChange, Options, Strategy, Verify,
};
pub use output::FaerOutput;
pub use samples::{Recovered, recover_from_samples};
pub use sparsediff_ad::{ScalarExt, ScalarFunction, VectorFunction};
pub use sparsediff_probe::design::default_orders;
pub use sparsediff_probe::design::{Candidate, Outcome};
pub use sparsediff_probe::saved::{SavedPlan, SavedPlanError};

pub use sparsediff_coloring::{
    Coloring, ColoringError, ColoringParams, Method, Order, OrderChoice, Problem, color,
    lower_bound,
};
pub use sparsediff_pattern::{Pattern, PatternError, PatternSpec, generators};

/// The README's Rust examples, run as doc tests so the README cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
