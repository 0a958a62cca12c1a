//! Probe designers and decoders: the second stage of the sparsediff pipeline.
//!
//! A [`ProbeDesigner`] turns a sparsity pattern into a [`ProbePlan`]: a seed matrix S (n×p,
//! one column per probe) and a prepared decoder. The caller computes the compressed
//! products B = A·S (p JVPs or HVPs, or Aᵀ·S for row probes) by any means, and
//! [`ProbePlan::decode`] turns B back into the matrix values without allocating.
//!
//! Jacobians can also be recovered from JVPs and VJPs together: a
//! [`BidirectionalDesigner`] makes a [`BidirectionalPlan`] with two seed matrices (columns
//! Sc, rows Sr) and decodes J from J·Sc and Jᵀ·Sr ([`bidirectional`]; `compare` runs it as
//! `bidirectional-star` and `bidirectional-acyclic`).
//!
//! ```
//! use sparsediff_pattern::generators;
//! use sparsediff_probe::{ColoredDesigner, MatrixKind, ProbeDesigner};
//!
//! // A symmetric band of half-bandwidth 3 with some values.
//! let pattern = generators::band(50, 3, 3)?;
//! let values: Vec<f64> = pattern.iter().map(|(i, j)| 1.0 + (i + j) as f64 + (i * j) as f64).collect();
//!
//! let mut plan = ColoredDesigner::acyclic().design(&pattern, MatrixKind::Symmetric)?;
//! assert_eq!(plan.num_probes(), 4); // β + 1 products instead of 50
//! let b = plan.exact_products(&values); // in practice: 4 Hessian-vector products
//! let mut recovered = vec![0.0; pattern.nnz()];
//! plan.decode(b.as_ref(), &mut recovered)?;
//! for (r, v) in recovered.iter().zip(&values) {
//!     assert!((r - v).abs() <= 1e-12 * v.abs());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod bidirectional;
pub mod compare;
pub mod decode;
pub mod design;
pub mod diagonal;
mod error;
mod output;
mod plan;
mod products;
#[cfg(feature = "serde")]
pub mod saved;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verify;

pub use bidirectional::{BidirectionalDecoder, BidirectionalDesigner, BidirectionalPlan};
pub use decode::{Decode, Decoder, RowLeastSquaresDecoder, SymmetricLeastSquaresDecoder};
pub use design::{
    ColoredDesigner, Decompression, Geometry, GivenColoring, IdentityDesigner, RollDesigner,
    StencilDesigner,
};
pub use design::{Distribution, RandomDesigner, SymmetricRandomDesigner, random_seeds};
pub use diagonal::{ExactDiagonal, Hutchinson, MAX_HUTCHINSON_PROBES, hutchinson_errors};
pub use error::{DecodeError, DesignError, Inapplicable, ProductBlock};
pub use output::Triangle;
pub use plan::{MAX_DENSE_ENTRIES, MatrixKind, Orientation, ProbeDesigner, ProbePlan, Recovery};
pub use products::exact_products;
/// The seed matrix and its borrowed view are the ground crate's (`sparsediff-pattern`),
/// shared with the AD backends.
pub use sparsediff_pattern::{NEUTRAL, SeedBlock, Seeds, SeedsError};
pub use verify::{VerificationReport, VerifyError, probe_vector, verify};
