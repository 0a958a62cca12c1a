//! The error type of sparsity tracing.

use sparsediff_pattern::PatternError;

/// Why a sparsity pattern could not be traced.
///
/// Every variant carries the numbers a caller needs (an index, a count) as fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The input vector is empty: there is nothing to differentiate with respect to.
    #[error("x is empty: tracing needs at least one input")]
    EmptyInput,
    /// More inputs than a pattern can have columns.
    #[error("x has {n} entries, more than the limit {limit}")]
    TooManyInputs {
        /// Length of x.
        n: usize,
        /// The largest number of inputs accepted.
        limit: usize,
    },
    /// An entry of x is NaN or infinite.
    #[error("x[{index}] = {value} is not finite")]
    NonFiniteInput {
        /// Index of the first non-finite entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A trace is already running on this thread: the function being traced called a
    /// tracing function itself. Tracing is not reentrant.
    #[error("a sparsity trace is already active on this thread (tracing is not reentrant)")]
    AlreadyActive,
    /// The function returned an empty output vector.
    #[error("the function returned no outputs")]
    NoOutputs,
    /// An output is NaN or infinite at the traced point: the derivatives there are
    /// meaningless, and so are the branches that led to them.
    #[error("output {output} = {value} is not finite at the traced point")]
    NonFiniteOutput {
        /// Index of the first non-finite output (0 for a Hessian's scalar output).
        output: usize,
        /// Its value.
        value: f64,
    },
    /// The function compared a NaN value (`<`, `==`, `max`, ...): the branch it took is
    /// meaningless, so the traced pattern would be too.
    #[error("comparison number {comparison} (0-based) involved a NaN value")]
    NanComparison {
        /// Index of the first such comparison among the comparisons of the trace that
        /// involve the inputs.
        comparison: usize,
    },
    /// The function used a [`Tracer`](super::Tracer) that belongs to another trace (kept
    /// from an earlier call, for example): its dependencies cannot be known.
    #[error("a tracer from another trace was used in this one")]
    ForeignTracer,
    /// The trace recorded more operations than node indices can address.
    #[error("the trace exceeded {limit} recorded operations")]
    TooManyOperations {
        /// The limit on recorded operations (and on second-order records).
        limit: usize,
    },
    /// Two points of a union trace have different lengths.
    #[error("point {point} has {found} entries, point 0 has {expected}")]
    InputLengthChanged {
        /// The offending point.
        point: usize,
        /// Length of point 0.
        expected: usize,
        /// Length of this point.
        found: usize,
    },
    /// A vector function returned a different number of outputs at two points (or on
    /// two control-flow paths of a global trace: `point` is then the path).
    #[error("the function returned {found} outputs at point {point}, {expected} at point 0")]
    OutputCountChanged {
        /// The offending point.
        point: usize,
        /// Number of outputs at point 0.
        expected: usize,
        /// Number of outputs at this point.
        found: usize,
    },
    /// A union trace was asked for with no points at all.
    #[error("no points to trace at")]
    NoPoints,
    /// Tracing failed at one of the points of a union (or conservative) trace.
    #[error("at point {point}: {source}")]
    AtPoint {
        /// Index of the point (for conservative tracing 0 is x0, 1.. the perturbations).
        point: usize,
        /// What went wrong there.
        #[source]
        source: Box<TraceError>,
    },
    /// A global trace needs more control-flow paths than its budget: the function makes
    /// too many comparisons of values that depend on the inputs (each one doubles the
    /// paths), or loops a number of times that depends on them. Give the pattern
    /// (`GivenPattern` in the facade), use a local or conservative detection, or raise
    /// the budget.
    #[error(
        "global tracing needs more than {limit} control-flow paths (stopped after {explored}); \
         give the pattern, use local or conservative detection, or raise the path budget"
    )]
    TooManyPaths {
        /// Paths traced (or started) when the budget ran out.
        explored: usize,
        /// The budget.
        limit: usize,
    },
    /// The function read raw values of its inputs (`DualNum::re()`) in a global trace:
    /// a branch on such a value cannot be seen nor forced, so no pattern valid for every
    /// x can be vouched for. Compare scalars instead (`x > D::from(0.0)`), or use a local
    /// or conservative detection.
    #[error(
        "the function read {reads} raw value(s) of its inputs (re()) on control-flow path \
         {path}: a global pattern cannot be vouched for; compare scalars instead"
    )]
    ValueReadInGlobalTrace {
        /// The path (0-based, in the order traced) on which it happened.
        path: usize,
        /// Raw value reads on that path.
        reads: usize,
    },
    /// Run again with the same forced decisions, the function asked another question at
    /// a comparison (or made fewer comparisons): it does not branch only on its inputs
    /// (randomness, global state), so its paths cannot be enumerated.
    #[error(
        "on control-flow path {path}, comparison {comparison} differs from the run that \
         forced it: the function is not deterministic"
    )]
    PathsDiverged {
        /// The path.
        path: usize,
        /// The comparison (0-based, among those involving the inputs).
        comparison: usize,
    },
    /// Tracing failed on one of the control-flow paths of a global trace.
    #[error("on control-flow path {path}: {source}")]
    AtPath {
        /// The path (0-based, in the order traced; path 0 follows x0's branches).
        path: usize,
        /// What went wrong there.
        #[source]
        source: Box<TraceError>,
    },
    /// Building the pattern failed (it would exceed the size limits of
    /// [`Pattern`](sparsediff_pattern::Pattern)).
    #[error(transparent)]
    Pattern(#[from] PatternError),
}
