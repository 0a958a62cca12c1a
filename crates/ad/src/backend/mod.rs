//! Backends: whatever computes a whole block of products for a block of probe directions.
//!
//! | backend | Jacobian products | Hessian products |
//! |---|---|---|
//! | [`ForwardJacobian`] | JVPs, P directions as lanes of [`Lanes`](crate::Lanes) | – |
//! | [`TapeJacobian`] / [`TapeHessian`] (the reverse tape, [`crate::tape`]) | JVP and VJP blocks | forward-over-reverse HVPs, all probes as lanes |
//! | [`TapeGradientDifferences`] | – | differences of the tape's gradient |
//! | [`FiniteDifferenceJacobian`] / [`FiniteDifferenceHessian`] | differences of F | differences of a gradient |
//! | [`ClosureJacobian`] / [`ClosureHessian`] | the caller's products (e.g. PyTorch, JAX) | the caller's products |
//!
//! Blocks are row-major: p directions for n inputs are an n×p slice, entry (j, c) at
//! `j·p + c`; products likewise (m×p for JVPs, n×p for HVPs and VJPs).
//!
//! One file per backend family: `forward.rs` ([`ForwardJacobian`]), `differences.rs`
//! ([`FiniteDifferenceJacobian`], [`FiniteDifferenceHessian`] and the differencer they share
//! with [`TapeGradientDifferences`]), `closure.rs` ([`ClosureJacobian`], [`ClosureHessian`])
//! and `tape.rs` ([`TapeHessian`], [`TapeJacobian`], [`TapeGradientDifferences`]); this file
//! holds what they share: the traits, [`AdError`] and the tolerances. [`SeedBlock`], the
//! borrowed seeds, is `sparsediff_pattern`'s (a plan's `Seeds::block()`), re-exported.

mod closure;
mod differences;
mod forward;
mod tape;
#[cfg(test)]
mod tests;

pub use crate::branch::BranchStatus;
pub use closure::{ClosureCause, ClosureError, ClosureHessian, ClosureJacobian};
pub(crate) use differences::Differencer;
pub use differences::{Differences, FiniteDifferenceHessian, FiniteDifferenceJacobian};
pub use forward::ForwardJacobian;
pub use tape::{TapeGradientDifferences, TapeHessian, TapeJacobian};

pub use sparsediff_pattern::{SeedBlock, Seeds};

/// Checks that a seed block holds directions for `n` inputs.
pub(crate) fn check_seeds(seeds: SeedBlock<'_>, n: usize) -> Result<(), AdError> {
    let (len, expected) = seeds.lengths(n);
    check_len("seed block", len, expected)
}

/// What can go wrong computing products.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdError {
    /// A slice has the wrong length.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// Which slice.
        what: &'static str,
        /// Length given.
        len: usize,
        /// Length expected.
        expected: usize,
    },
    /// The function (or a product) produced NaN or an infinity.
    #[error("{what} {index} is not finite ({value})")]
    NonFinite {
        /// "output", "product", "input".
        what: &'static str,
        /// Which one (row-major index for products).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The backend cannot compute this kind of product.
    #[error("the {backend} backend cannot compute {operation}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// The operation.
        operation: &'static str,
    },
    /// The tape failed (see [`TapeError`](crate::tape::TapeError)): a branch changed twice
    /// in a row, a non-finite value, a nested recording.
    #[error(transparent)]
    Tape(crate::tape::TapeError),
    /// A parameter is out of its range.
    #[error("{name} must be finite and positive, got {value}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A caller-supplied closure reported an error.
    #[error("the product closure failed: {cause}")]
    Closure {
        /// The closure's own error, kept whole.
        #[source]
        cause: ClosureCause,
    },
}

pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), AdError> {
    if len != expected {
        return Err(AdError::WrongLength {
            what,
            len,
            expected,
        });
    }
    Ok(())
}

pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), AdError> {
    match sparsediff_pattern::first_non_finite(values) {
        Some(index) => Err(AdError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// The relative verification residual per row that products of an exact backend (AD,
/// closures the caller vouches for) stay below on a correct pattern, decoding included.
pub const EXACT_TOLERANCE: f64 = 1e-8;

/// The relative verification residual per row that central finite differences stay below
/// on a correct pattern of a well-scaled function (entries have relative error about
/// ε^{2/3} ≈ 4·10⁻¹¹ times the function's curvature scale; decoding and cancellation take
/// the rest). Forward differences: [`FORWARD_DIFFERENCE_TOLERANCE`].
pub const CENTRAL_DIFFERENCE_TOLERANCE: f64 = 1e-5;

/// The verification tolerance of forward differences (relative error about √ε ≈ 1.5·10⁻⁸
/// times the curvature scale per entry).
pub const FORWARD_DIFFERENCE_TOLERANCE: f64 = 1e-3;

/// Computes compressed Jacobians.
pub trait JacobianBackend {
    /// Name (`forward`, `tape`, `fd`, `closure`).
    fn name(&self) -> &'static str;
    /// (m outputs, n inputs).
    fn dims(&self) -> (usize, usize);
    /// F(x) into `out` (length m).
    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError>;
    /// J·S into `out` (m×p row-major).
    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError>;
    /// Jᵀ·S into `out` (n×p row-major) for S of m×p (row colourings).
    fn vjp_block(
        &mut self,
        _x: &[f64],
        _seeds: SeedBlock<'_>,
        _out: &mut [f64],
    ) -> Result<(), AdError> {
        Err(AdError::Unsupported {
            backend: self.name(),
            operation: "vector-Jacobian products",
        })
    }
    /// Whether [`vjp_block`](Self::vjp_block) computes Jᵀ·S (row plans need it). Default:
    /// false, matching the default `vjp_block`, which returns [`AdError::Unsupported`]; a
    /// backend that overrides `vjp_block` overrides this too.
    fn supports_vjp(&self) -> bool {
        false
    }
    /// J·D·S into `out` for a diagonal scaling D = diag(d) of the inputs that the backend
    /// chooses at x, returning d — or J·S, returning `None`. Finite differences give every
    /// column its own step d_j (scaled to |x_j|), which a single step per probe cannot:
    /// the caller decodes M = J·D from the products and divides column j by d_j.
    /// Default: [`jvp_block`](Self::jvp_block), unscaled.
    fn jvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        self.jvp_block(x, seeds, out)?;
        Ok(None)
    }
    /// What the backend has seen of the function's branches. Default: blind.
    fn branches(&self) -> BranchStatus {
        BranchStatus::BLIND
    }
    /// Records the function anew at x, for a backend that replays a recording (returns
    /// whether it did). Default: nothing to re-record.
    fn rerecord(&mut self, _x: &[f64]) -> Result<bool, AdError> {
        Ok(false)
    }
    /// The relative residual per row below which a verification product of this backend
    /// agrees with a matrix recovered from its products. Default: [`EXACT_TOLERANCE`].
    fn verify_tolerance(&self) -> f64 {
        EXACT_TOLERANCE
    }
}

/// Computes compressed Hessians.
pub trait HessianBackend {
    /// Name (`tape`, `fd`, `closure`).
    fn name(&self) -> &'static str;
    /// n.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&mut self, x: &[f64]) -> Result<f64, AdError>;
    /// ∇f(x) into `grad`; returns f(x). Default: unsupported (a backend of products only).
    fn gradient(&mut self, _x: &[f64], _grad: &mut [f64]) -> Result<f64, AdError> {
        Err(AdError::Unsupported {
            backend: self.name(),
            operation: "gradients",
        })
    }
    /// H·S into `out` (n×p row-major).
    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError>;
    /// H·D·S into `out` for a diagonal scaling D = diag(d) the backend chooses at x,
    /// returning d — or H·S, returning `None` (see
    /// [`JacobianBackend::jvp_block_scaled`]; the caller multiplies row i of the products by
    /// d_i, decodes the symmetric M = D·H·D and divides entry (i, j) by d_i·d_j).
    /// Default: [`hvp_block`](Self::hvp_block), unscaled.
    fn hvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        self.hvp_block(x, seeds, out)?;
        Ok(None)
    }
    /// Sizes the buffers of products with `probes` directions ([`hvp_block`](Self::hvp_block))
    /// now, without computing any, so that the first products allocate nothing; returns
    /// whether it did. A caller that gets `false` and wants that guarantee runs one product
    /// pass instead. Default: `false`.
    fn reserve(&mut self, _probes: usize) -> bool {
        false
    }
    /// What the backend has seen of the function's branches. Default: blind.
    fn branches(&self) -> BranchStatus {
        BranchStatus::BLIND
    }
    /// The thread pool on which the backend may run parts of its products (the tape: the
    /// row blocks of its sweeps, [`Tape::hvp_chunks`](crate::tape::Tape::hvp_chunks));
    /// `None`: the caller's thread. Products must not depend on it, bit for bit. Returns
    /// whether the backend uses the pool. Default: it does not.
    fn set_pool(&mut self, _pool: Option<std::sync::Arc<rayon::ThreadPool>>) -> bool {
        false
    }
    /// Records the function anew at x, for a backend that replays a recording (returns
    /// whether it did). Default: nothing to re-record.
    fn rerecord(&mut self, _x: &[f64]) -> Result<bool, AdError> {
        Ok(false)
    }
    /// The relative residual per row below which a verification product of this backend
    /// agrees with a matrix recovered from its products. Default: [`EXACT_TOLERANCE`].
    fn verify_tolerance(&self) -> f64 {
        EXACT_TOLERANCE
    }
    /// The local Hessian pattern at x, exactly the one tracing the function at x gives, and
    /// the trace information of a branch-free trace, from what the backend already holds
    /// (the tape: its compiled program, see
    /// [`Tape::hessian_pattern`](crate::tape::Tape::hessian_pattern)); `None`: trace the
    /// function. Default: `None`.
    fn recorded_pattern(
        &self,
        _x: &[f64],
    ) -> Option<
        Result<(sparsediff_pattern::Pattern, crate::trace::TraceInfo), crate::trace::TraceError>,
    > {
        None
    }
    /// The large buffers the backend's preparation is done with (the tape: what is left
    /// of its compile's scratch and its pattern detection's arrays,
    /// [`Tape::take_scratch`](crate::tape::Tape::take_scratch)), for the caller's next
    /// large arrays instead of fresh pages; taken once. Default: none.
    fn take_scratch(&self) -> sparsediff_pattern::Scratch {
        sparsediff_pattern::Scratch::default()
    }
}
