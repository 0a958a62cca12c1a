//! The facade's error type: every stage's error, plus what only the facade can detect.

use sparsediff_ad::AdError;
use sparsediff_pattern::PatternError;
use sparsediff_probe::{DecodeError, DesignError, VerifyError};

/// Why preparing or evaluating a sparse derivative failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SparseError {
    /// The pattern is unusable.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// No probe plan could be designed.
    #[error(transparent)]
    Design(#[from] DesignError),
    /// The products could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The backend failed (wrong lengths, NaN/Inf, a branch change it could not repair).
    #[error(transparent)]
    Backend(#[from] AdError),
    /// Tracing the function for its pattern failed.
    #[error("tracing the pattern failed: {0}")]
    Trace(#[from] sparsediff_ad::TraceError),
    /// The verification inputs were malformed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A length does not match.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// What.
        what: &'static str,
        /// Given.
        len: usize,
        /// Expected.
        expected: usize,
    },
    /// The verification product disagrees with the recovered matrix beyond the tolerance:
    /// the pattern misses entries the function has there, or the backend's products are
    /// wrong or noisier than the tolerance allows (first rows listed).
    #[error(
        "verification failed: the recovered matrix disagrees with an extra product in {count} rows (first {rows:?}, max relative residual {max_rel_residual:e} > tolerance {tolerance:e}); the pattern misses entries or the products are wrong"
    )]
    VerificationFailed {
        /// Rows that disagree.
        count: usize,
        /// The first of them.
        rows: Vec<usize>,
        /// Largest relative residual.
        max_rel_residual: f64,
        /// The tolerance it was held to.
        tolerance: f64,
    },
    /// A symmetric plan decoded products that are not those of a symmetric matrix:
    /// uᵀ(A·v) ≠ vᵀ(A·u) for two random directions (a backend with a bug, or a function
    /// that is not a Hessian).
    #[error(
        "products are not symmetric: uᵀ(A·v) = {u_av:e} but vᵀ(A·u) = {v_au:e} for random u, v (relative difference {relative:e} > tolerance {tolerance:e})"
    )]
    ProductsNotSymmetric {
        /// uᵀ(A·v).
        u_av: f64,
        /// vᵀ(A·u).
        v_au: f64,
        /// |u_av − v_au| relative to the sum of the magnitudes of the terms.
        relative: f64,
        /// The tolerance it was held to.
        tolerance: f64,
    },
    /// The function took another branch than at prepare and the options forbid adapting
    /// ([`OnBranchChange::Error`](crate::OnBranchChange::Error)).
    #[error(
        "the function took another branch than the prepared pattern was traced on (comparison {comparison:?} in evaluation order came out differently; None: a branch on a raw value, seen by comparing the recording with a plain evaluation)"
    )]
    BranchChanged {
        /// The comparison that first came out differently, when the backend saw it.
        comparison: Option<usize>,
    },
    /// A pattern given by the caller misses entries that the function has at this x
    /// (found by tracing the function there after a branch change or a failed
    /// verification).
    #[error(
        "the given pattern misses {count} entries the function has at this x (first ({row}, {col})); give a pattern that holds every branch, or let prepare trace it"
    )]
    PatternMissesEntries {
        /// How many entries are missing.
        count: usize,
        /// Row of the first.
        row: usize,
        /// Column of the first.
        col: usize,
    },
    /// An input is NaN or infinite.
    #[error("x[{index}] is not finite ({value})")]
    NonFiniteInput {
        /// Its index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A step of `prepare` needs the function itself (e.g. tracing its pattern), and only
    /// a backend was given.
    #[error(
        "{what} needs the function; only a backend was given (give the function to the builder, or a pattern)"
    )]
    NeedsFunction {
        /// The step.
        what: &'static str,
    },
    /// Detecting the pattern needs a point x0, and none was given to the builder.
    #[error("detecting the pattern needs a point x0 (`builder().point(x0)`)")]
    NeedsPoint,
    /// A pattern or plan has another shape than the function's derivative.
    #[error("the pattern is {rows}×{cols}, the derivative is {expected_rows}×{expected_cols}")]
    PatternShape {
        /// Rows of the pattern.
        rows: usize,
        /// Columns of the pattern.
        cols: usize,
        /// Rows of the derivative (outputs; n for a Hessian).
        expected_rows: usize,
        /// Columns of the derivative (inputs).
        expected_cols: usize,
    },
    /// A row plan (Jᵀ·S) was asked for — [`JacobianMode::Rows`](crate::JacobianMode::Rows),
    /// or a plan of rows given to the builder — and the backend computes no vector-Jacobian
    /// products (forward lanes, finite differences, closures). The tape does
    /// ([`BackendChoice::Tape`](crate::BackendChoice::Tape), or `Auto` with a function).
    #[error(
        "a row plan needs vector-Jacobian products, and the {backend} backend computes none (use the tape)"
    )]
    NeedsVjp {
        /// The backend.
        backend: &'static str,
    },
    /// An option is out of range.
    #[error("option {option} is out of range: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// What is required of it.
        reason: &'static str,
    },
    /// [`Options::threads`](crate::Options::threads) is 0 or above
    /// [`MAX_THREADS`](crate::MAX_THREADS).
    #[error("threads = {threads}: give 1 to {max}")]
    InvalidThreads {
        /// The count given.
        threads: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The thread pool of [`Options::threads`](crate::Options::threads) could not be
    /// built (the system refused to spawn its threads).
    #[error("could not start a pool of {threads} threads: {source}")]
    ThreadPool {
        /// The threads asked for.
        threads: usize,
        /// Why.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    /// The composite Hessian failed (boxed: it is large).
    #[error(transparent)]
    Composite(Box<sparsediff_composite::CompositeError>),
    /// A saved plan could not be read, written or rebuilt.
    #[error("saved plan: {0}")]
    Saved(#[from] sparsediff_probe::saved::SavedPlanError),
}

impl From<sparsediff_composite::CompositeError> for SparseError {
    fn from(e: sparsediff_composite::CompositeError) -> Self {
        SparseError::Composite(Box::new(e))
    }
}

/// `Err(NonFiniteInput)` naming the first NaN or ±∞ of the input `x`.
pub(crate) fn check_finite_input(x: &[f64]) -> Result<(), SparseError> {
    check_finite_input_on(x, None)
}

/// [`check_finite_input`], split across `pool`'s threads for a long `x`.
fn check_finite_input_on(x: &[f64], pool: Option<&rayon::ThreadPool>) -> Result<(), SparseError> {
    match crate::finite::first_non_finite(x, pool) {
        Some(index) => Err(SparseError::NonFiniteInput {
            index,
            value: x[index],
        }),
        None => Ok(()),
    }
}

/// The point `x` of an evaluation: `n` values (`WrongLength` naming "x"), all finite.
pub(crate) fn check_point(x: &[f64], n: usize) -> Result<(), SparseError> {
    check_point_on(x, n, None)
}

/// [`check_point`], split across `pool`'s threads for a long `x`.
pub(crate) fn check_point_on(
    x: &[f64],
    n: usize,
    pool: Option<&rayon::ThreadPool>,
) -> Result<(), SparseError> {
    if x.len() != n {
        return Err(SparseError::WrongLength {
            what: "x",
            len: x.len(),
            expected: n,
        });
    }
    check_finite_input_on(x, pool)
}
