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
//! order on the same band spends its time on index bookkeeping (measured 9× slower than
//! this kernel at (n, β) = (5000, 9) and 3.6× at (10⁶, 5), `papers/solvers.md`). A band has a fixed dense
//! structure, so the kernel needs no indices, and for β ≤ [`MAX_FIXED_BETA`] every trip
//! count is a compile-time constant:
//!
//! * the lower band is stored column by column (LAPACK's `UPLO = 'L'`, `LDAB = β + 1`); the
//!   diagonal slots keep `1/D[j]`, so the solve multiplies instead of dividing;
//! * for β ≤ 16 the factorisation is left-looking: column j is computed from the β
//!   finished columns before it, with the newest one and the next column's partial sum
//!   in registers and the older ones in a small buffer on the stack, the pivot chain cut
//!   to one multiply-add and one division per column, and the columns read straight from
//!   the CSR values into registers; larger β (and β = 0) use a right-looking loop with a
//!   run-time width;
//! * the solve keeps the last β solution values in a register window;
//! * the kernels are compiled for AVX-512F/VL, for AVX2 + FMA and for the plain target,
//!   and the best the CPU has is picked at run time (no `target-cpu` needed).
//!
//! The kernel module documents what each choice bought. Measured at n = 5000, β = 9
//! (one thread, release, `band_timing 5000 9 2000`, min / median of alternating runs on a
//! shared 2-core VM): factor + solve 52.5 / 55.9 µs, from 147 / 154 µs for the
//! right-looking kernel it replaced (criterion on the same loaded machine: 66–73 µs
//! against 174 µs; its batch means include the time slices other processes take).

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
