//! Factorisations for the matrices sparsediff recovers: the solving stage of the pipeline.
//!
//! Values of a recovered matrix arrive as `&[f64]` in its [`Pattern`]'s entry order (CSR,
//! both triangles for symmetric matrices). Every factorisation here splits the one-time
//! work from the repeated work (faer's habit): a *symbolic* object is built once per
//! pattern and reused by every *numeric* factorisation with new values.
//!
//! * [`band`] — hand-written banded LDLᵀ / Cholesky (faer has no banded solver), in place
//!   into storage the caller owns, straight from the CSR values;
//! * [`sparse`] — sparse Cholesky, LDLᵀ and LU through faer 0.24, with the fill-reducing
//!   ordering and elimination tree computed once;
//! * [`InertiaCorrection`] — IPOPT's inertia-correcting δ schedule over any
//!   [`SymmetricFactorization`] that reports [`Inertia`];
//! * [`bench_banded`] — the banded timing the CLI reports.
//!
//! Bad input (wrong lengths, non-finite values, a rectangular or unsymmetric pattern, a
//! band wider than the matrix) and numerical failure (indefinite for Cholesky, tiny pivot
//! for LDLᵀ, singular for LU) return a [`SolveError`] with structured fields; nothing here
//! panics on user input.
//!
//! ```
//! use sparsediff_pattern::generators::{self, Stencil2d};
//! use sparsediff_solve::sparse::{SparseCholesky, SparseSymbolic};
//! // 5-point Laplacian on a 3×3 grid plus I: SPD
//! let p = generators::grid2d(3, 3, Stencil2d::FivePoint)?;
//! let values: Vec<f64> = p.iter().map(|(i, j)| if i == j { 5.0 } else { -1.0 }).collect();
//! let symbolic = SparseSymbolic::new(&p)?; // ordering + elimination tree, once
//! let mut chol = SparseCholesky::new(symbolic)?;
//! chol.factorize(&values)?; // numeric, reusable with new values
//! let mut x = vec![1.0; 9];
//! chol.solve_slice_in_place(&mut x)?;
//! // check A·x = 1 by reconstruction
//! for i in 0..9 {
//!     let ax: f64 = p.row_range(i).map(|k| values[k] * x[p.col_idx()[k]]).sum();
//!     assert!((ax - 1.0).abs() < 1e-13);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

#[cfg(feature = "argmin")]
pub mod argmin;
pub mod band;
mod bench;
pub mod driver;
mod error;
mod inertia;
pub mod line_search;
pub mod newton;
pub mod nonlinear;
pub mod observe;
pub mod sparse;
pub mod trust_region;

pub use bench::{BandedBench, backward_error, bench_banded, mat_vec, random_spd_band, spd_values};
pub use driver::{DriverError, Evaluations, PhaseTimes, Quantity, Solution, Status, StepError};
pub use error::{FaerFailure, Result, SolveError};
pub use inertia::{
    Inertia, InertiaCorrection, RegularizationInfo, RegularizationParams, SymmetricFactorization,
};
pub use sparsediff_pattern::Pattern;
