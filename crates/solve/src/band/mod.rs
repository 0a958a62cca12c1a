//! Banded LDLᵀ and Cholesky for symmetric bands.
//!
//! * [`BandSymbolic`] — the structure (n, β, storage layout, the map from a pattern's CSR
//!   values into band storage), computed once;
//! * [`BandSymbolic::cholesky_in_place`] / [`BandSymbolic::ldlt_in_place`] — numeric
//!   factorisations straight from the recovered CSR values (no dense n×n copy) into
//!   storage the caller owns (`factor_len()` slots), never allocating;
//! * [`BandFactorRef`] — the factor: solves ([`BandFactorRef::solve_in_place`] for a faer
//!   block, [`BandFactorRef::solve_slice_in_place`] for one vector), pivots, inertia;
//! * [`BandLdlt`] — an owning wrapper (symbolic + storage) for loops that refactorise, and
//!   the [`SymmetricFactorization`](crate::SymmetricFactorization) used by
//!   [`InertiaCorrection`](crate::InertiaCorrection).
//!
//! The kernel is hand-written: faer has no banded solver; see the kernel notes in
//! [`MAX_FIXED_BETA`]'s module and the measurements in `papers/solvers.md`.

mod kernel;
mod numeric;
mod owned;
mod solve;
mod symbolic;

pub use kernel::MAX_FIXED_BETA;
pub use numeric::{BandFactorRef, BandKind, BandLdltParams};
pub use owned::BandLdlt;
pub use symbolic::BandSymbolic;
