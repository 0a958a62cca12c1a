//! [`TrajectoryError`]: why a problem could not be built, transcribed or evaluated.

use sparsediff::ad::trace::TraceError;
use sparsediff::composite::CompositeError;

/// Why a [`Problem`](crate::Problem) could not be built, a
/// [`Transcribed`](crate::Transcribed) problem could not be made, or an evaluation was
/// refused. Every variant names what was wrong with structured fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrajectoryError {
    /// A horizon of fewer than two knots (no interval to transcribe).
    #[error("a trajectory needs at least 2 knots, got {knots}")]
    TooFewKnots {
        /// The number of knots given.
        knots: usize,
    },
    /// The time step is not finite and positive.
    #[error("the time step dt = {dt} must be finite and positive")]
    InvalidTimeStep {
        /// The time step given.
        dt: f64,
    },
    /// A state or control dimension, or a number of path constraints, outside what the
    /// crate supports.
    #[error("the {what} dimension {dim} is outside {min}..={max}")]
    UnsupportedDimension {
        /// `"state"`, `"control"` or `"path constraint"`.
        what: &'static str,
        /// The dimension the dynamics reported.
        dim: usize,
        /// Smallest supported.
        min: usize,
        /// Largest supported ([`MAX_STATE_DIM`](crate::MAX_STATE_DIM) or
        /// [`MAX_CONTROL_DIM`](crate::MAX_CONTROL_DIM)).
        max: usize,
    },
    /// A vector does not have the length the problem's dimensions require.
    #[error("{what} has length {len}, expected {expected}")]
    DimensionMismatch {
        /// What was given (`"initial state"`, `"state lower bounds"`, `"z"`, …).
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length required.
        expected: usize,
    },
    /// A bound pair that no value satisfies: `lower > upper`, `lower = +∞` or `upper = −∞`.
    #[error("{what} bound {index} is infeasible: lower {lower} > upper {upper}")]
    InfeasibleBounds {
        /// `"state"` or `"control"`.
        what: &'static str,
        /// The component.
        index: usize,
        /// Its lower bound.
        lower: f64,
        /// Its upper bound.
        upper: f64,
    },
    /// A NaN (or, where only finite values make sense, an infinity) in the input.
    #[error("{what} entry {index} is not a usable number ({value})")]
    NonFinite {
        /// `"initial state"`, `"state lower bounds"`, `"multipliers λ"`, …
        what: &'static str,
        /// Which entry.
        index: usize,
        /// The value.
        value: f64,
    },
    /// An evaluation at z gave NaN or an infinity (dynamics, cost or path constraints
    /// returning NaN there).
    #[error("{what} {index} is not finite at this z ({value})")]
    NonFiniteValue {
        /// `"cost"`, `"equality"` or `"inequality"`.
        what: &'static str,
        /// The row (0 for the cost).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The penalty parameter of an augmented Lagrangian is not finite and positive.
    #[error("the penalty ρ = {rho} must be finite and positive")]
    InvalidPenalty {
        /// The penalty given.
        rho: f64,
    },
    /// Tracing the sparsity of a user function (dynamics, cost, path constraints) failed.
    #[error("tracing the sparsity of the {what} failed: {source}")]
    Trace {
        /// `"dynamics"`, `"running cost"`, `"terminal cost"`, `"path constraints"`.
        what: &'static str,
        /// The tracer's error (boxed: it holds a whole pattern error).
        #[source]
        source: Box<TraceError>,
    },
    /// A row of the transcription depends on more variables than a composite Hessian's
    /// local jets hold.
    #[error(transparent)]
    Composite(#[from] CompositeError),
    /// A solver parameter outside its range.
    #[error("solver parameter {param} = {value} {reason}")]
    InvalidParameter {
        /// The parameter's field name.
        param: &'static str,
        /// Its value.
        value: f64,
        /// The range it must be in.
        reason: &'static str,
    },
    /// The Newton driver refused its parameters.
    #[error("the Newton driver refused its parameters: {source}")]
    Newton {
        /// The driver's error.
        #[source]
        source: Box<sparsediff_solve::DriverError>,
    },
    /// The initial state was moved on a problem that fixes none.
    #[error("the problem has no fixed initial state to move")]
    NoInitialState,
}
