//! [`CompositeError`]: why preparing or evaluating a composite Hessian failed.

use sparsediff_ad::trace::TraceError;
use sparsediff_pattern::PatternError;

/// Why preparing or evaluating a [`CompositeHessian`](crate::CompositeHessian) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompositeError {
    /// A slice has the wrong length.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// What.
        what: &'static str,
        /// Given.
        len: usize,
        /// Expected.
        expected: usize,
    },
    /// A row has more variables than the local jets hold.
    #[error("{set} row {row} has {vars} variables; at most {max} are supported (split the row)")]
    TooManyVars {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// Its number of variables.
        vars: usize,
        /// [`MAX_LOCAL_VARS`](crate::MAX_LOCAL_VARS).
        max: usize,
    },
    /// A row lists a variable beyond z.
    #[error("{set} row {row} depends on variable {var}, but z has {n} entries")]
    VarOutOfRange {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The variable.
        var: usize,
        /// Length of z.
        n: usize,
    },
    /// A row lists a variable twice.
    #[error("{set} row {row} lists variable {var} twice")]
    DuplicateVar {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The variable.
        var: usize,
    },
    /// An outer function's parameters are unusable.
    #[error("outer function of residual {row} ({outer}): {reason}")]
    InvalidOuter {
        /// The residual.
        row: usize,
        /// The function, formatted.
        outer: String,
        /// Why.
        reason: &'static str,
    },
    /// [`CompositeHessian::set_outer`](crate::CompositeHessian::set_outer) would give curvature to a residual prepared with a
    /// linear ψ (its JᵀDJ entries are not in the pattern).
    #[error(
        "residual {row} was prepared with a linear outer function; a curved one ({outer}) needs a new prepare"
    )]
    StructureChange {
        /// The residual.
        row: usize,
        /// The new function, formatted.
        outer: String,
    },
    /// Tracing a row's local Hessian pattern failed.
    #[error("tracing {set} row {row} failed: {source}")]
    Trace {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The tracer's error (boxed: it holds a whole `PatternError`, and the other
        /// variants are small).
        #[source]
        source: Box<TraceError>,
    },
    /// The output pattern could not be built (beyond the limits of [`Pattern`](sparsediff_pattern::Pattern)).
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// An evaluation gave NaN or an infinity.
    #[error("{what} {index} is not finite ({value})")]
    NonFinite {
        /// `"Hessian entry"` (CSR position), `"input"`.
        what: &'static str,
        /// Which one.
        index: usize,
        /// The value.
        value: f64,
    },
}
