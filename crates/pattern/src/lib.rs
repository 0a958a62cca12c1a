//! Sparsity patterns for sparsediff: the first stage of the pipeline.
//!
//! A [`Pattern`] says which entries of an m×n matrix may be nonzero. It is stored in
//! compressed sparse row form with sorted, duplicate-free column indices, which is exactly
//! what sprs and faer expect, so both views are zero-copy ([`Pattern::as_sprs`],
//! [`Pattern::as_faer`]).
//!
//! Patterns come from
//! * explicit data: [`Pattern::from_entries`], [`Pattern::from_triplets`],
//!   [`Pattern::from_csr`], [`Pattern::from_dense`], [`Pattern::from_sprs`];
//! * Matrix Market files: [`read_matrix_market`], [`write_matrix_market`];
//! * generators for the structures that derivative problems produce: [`generators`];
//! * textual specs such as `band:n=1000,k=3` or `lp_ken_11.mtx`: [`PatternSpec`].
//!
//! The seed matrix of a probe plan, [`Seeds`] (group labels or dense row-major values),
//! and its borrowed view [`SeedBlock`] live here too: the designers make them, the AD
//! backends read them, and neither crate depends on the other. So does [`Scratch`], which
//! passes one stage's large buffers on to the next (the tape's pattern detection to the
//! facade's recovered matrix). Feature `serde`: `Serialize`/`Deserialize` for [`Pattern`]
//! (checked on read) and [`Seeds`].
//!
//! ```
//! use sparsediff_pattern::{generators, Pattern};
//! let p = generators::band(6, 1, 1)?; // tridiagonal
//! assert_eq!(p.nnz(), 16);
//! assert_eq!(p.row(2), &[1, 2, 3]);
//! assert_eq!(p.transpose(), p);
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```
#![deny(missing_docs)]

mod error;
mod finite;
pub mod generators;
mod geometry;
pub mod mtx;
pub mod objective;
mod ops;
mod pattern;
mod scratch;
mod seeds;
mod spec;
#[cfg(any(feature = "proptest", feature = "testing"))]
pub mod testing;
mod views;

pub use error::{PatternError, Result};
pub use finite::first_non_finite;
pub use geometry::{Geometry, full_grid5, full_tridiagonal};
pub use mtx::{
    MatrixMarket, MtxErrorKind, MtxField, MtxHeader, MtxSymmetry, parse_matrix_market,
    parse_matrix_market_bytes, read_matrix_market, to_matrix_market_string, write_matrix_market,
    write_matrix_market_file,
};
pub use ops::NnzStats;
pub use pattern::{MAX_DIM, MAX_NNZ, Pattern};
pub use scratch::{SCRATCH_MIN_BYTES, Scratch};
pub use seeds::{NEUTRAL, SeedBlock, Seeds, SeedsError};
pub use spec::{GENERATORS, PatternSpec, SpecParams, SpecProblem};
