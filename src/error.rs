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
    /// The verification probe disagrees with the recovered matrix: the pattern misses
    /// entries the function has (first rows listed).
    #[error(
        "verification failed: the recovered matrix disagrees with an extra product in {count} rows (first {rows:?}, max relative residual {max_rel_residual:e}); the pattern misses entries"
    )]
    VerificationFailed {
        /// Rows that disagree.
        count: usize,
        /// The first of them.
        rows: Vec<usize>,
        /// Largest relative residual.
        max_rel_residual: f64,
    },
    /// No designer of the strategy applies to the pattern.
    #[error("strategy `{strategy}` has no designer that applies: {reasons}")]
    NoDesigner {
        /// The strategy.
        strategy: &'static str,
        /// Each designer's reason.
        reasons: String,
    },
    /// The composite Hessian failed (boxed: it is large).
    #[error(transparent)]
    Composite(Box<crate::composite::CompositeError>),
    /// A saved plan could not be read, written or rebuilt.
    #[error("saved plan: {0}")]
    Saved(#[from] crate::saved::SavedPlanError),
}

impl From<crate::composite::CompositeError> for SparseError {
    fn from(e: crate::composite::CompositeError) -> Self {
        SparseError::Composite(Box::new(e))
    }
}
