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
//! # Why hand-written
//!
//! faer 0.24 has dense and general sparse Cholesky/LDLᵀ but no banded solver, and LAPACK's
//! `dpbtrf`/`dpbtrs` is not in the dependency tree. faer's sparse Cholesky with the natural
//! order on the same band spends its time on index bookkeeping: measured 2.5–5× slower
//! than this kernel at (n, β) = (5000, 9) and (10⁶, 5) (`papers/solvers.md`). A band has a
//! fixed dense structure, so the kernel needs no indices:
//!
//! * the lower band is stored column by column (LAPACK's `UPLO = 'L'`, `LDAB = β + 1`), so
//!   the right-looking update of column `j + k` by column `j` is a contiguous run;
//! * for β ≤ [`MAX_FIXED_BETA`] the width is a const generic (every loop has a
//!   compile-time trip count and unrolls; the updated next column is carried in registers);
//!   larger β runs the same algorithm with a run-time width;
//! * on x86-64 with AVX2 and FMA (detected at run time) the kernels are compiled a second
//!   time with those features and fused multiply-adds;
//! * the diagonal slots keep `1/D[j]`, so the solve multiplies instead of dividing;
//! * the factorisation reads column `j + β` from the caller's CSR values just before column
//!   `j` first updates it: on large bands the storage is written once, while in cache;
//! * the solve sweeps are in dot form with scalar loads, the newest value in a register.
//!
//! Its critical path is one division and one multiply-add per column; at β = 9 the
//! column updates through memory (store-to-load forwarding) cost about 2.5× that, which is
//! why the n = 5000, β = 9 target is not met yet (see the paper).

mod kernel;
mod lanes;
mod numeric;
mod owned;
mod solve;
mod symbolic;

pub use kernel::MAX_FIXED_BETA;
pub use numeric::{BandFactorRef, BandKind, BandLdltParams};
pub use owned::BandLdlt;
pub use symbolic::BandSymbolic;
