//! Sparse factorisations through faer 0.24, with the symbolic analysis computed once per
//! pattern and reused by every numeric factorisation.
//!
//! * [`SparseSymbolic`] — fill-reducing ordering (AMD), elimination tree and the structure
//!   of `L` for a symmetric pattern; shared (`Arc`) by
//! * [`SparseCholesky`] — `LLᵀ` for SPD matrices, and
//! * [`SparseLdlt`] — `LDLᵀ` without pivoting, reporting the inertia from `D` (the
//!   [`SymmetricFactorization`](crate::SymmetricFactorization) used by
//!   [`InertiaCorrection`](crate::InertiaCorrection));
//! * [`LuSymbolic`] / [`SparseLu`] — LU with partial pivoting for square Jacobians,
//!   COLAMD column ordering reused, singular matrices reported as
//!   [`SolveError::Singular`](crate::SolveError::Singular).
//!
//! All run on one thread (`Par::Seq`). Each numeric object allocates its buffers once;
//! solves take a faer block (one right-hand side per column) or a slice.

mod cholesky;
mod lu;
mod symbolic;

pub use cholesky::{DEFAULT_SOLVE_COLUMNS, SparseCholesky, SparseLdlt, SparseLdltParams};
pub use lu::{LuParams, LuSymbolic, SparseLu};
pub use symbolic::{Ordering, SparseSymbolic};
