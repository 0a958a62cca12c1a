//! The one error type of the crate: every bad input is a named variant with the offending
//! values as fields (nothing to parse out of a message).

/// What a parameter must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Finite and > 0.
    Positive,
    /// Finite and ≥ 0.
    NonNegative,
    /// Finite (any sign).
    Finite,
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Requirement::Positive => "finite and positive",
            Requirement::NonNegative => "finite and non-negative",
            Requirement::Finite => "finite",
        })
    }
}

/// Everything that can go wrong in this crate.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CartpoleError {
    /// A scalar parameter (with its unit) violates its requirement.
    #[error("{name} = {value} {unit}: must be {requirement}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// Its unit (`"m"`, `"kg"`, `"(dimensionless)"`).
        unit: &'static str,
        /// What it must be.
        requirement: Requirement,
    },
    /// A vector or matrix has the wrong size.
    #[error("{what} is {rows}×{cols}, expected {expected_rows}×{expected_cols}")]
    DimensionMismatch {
        /// What was given.
        what: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// The rows expected.
        expected_rows: usize,
        /// The columns expected.
        expected_cols: usize,
    },
    /// An index past the end of what it indexes.
    #[error("{what} index {index} is out of range (length {len})")]
    IndexOutOfRange {
        /// What was indexed.
        what: &'static str,
        /// The index given.
        index: usize,
        /// The length.
        len: usize,
    },
    /// An entry of a vector or matrix is not finite.
    #[error("{what}[{row}, {col}] = {value} is not finite")]
    NonFinite {
        /// What was given.
        what: &'static str,
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// A weight matrix is not symmetric positive (semi)definite as required.
    #[error("{which} is not symmetric positive {}definite (smallest eigenvalue {min_eigenvalue:e})", if *.semi { "semi-" } else { "" })]
    NotPositiveDefinite {
        /// `"Q"` or `"R"`.
        which: &'static str,
        /// Whether semidefinite suffices.
        semi: bool,
        /// The smallest eigenvalue of the symmetric part (NaN if not symmetric).
        min_eigenvalue: f64,
    },
    /// An unstable (continuous: Re λ ≥ 0; discrete: |λ| ≥ 1) mode of A cannot be reached
    /// by B (PBH test), or the Riccati solution does not stabilise A − BK.
    #[error(
        "the pair (A, B) is not stabilisable: the mode λ = {re} + {im}i is not stabilised (A − BK has spectral abscissa/radius {closed_loop_bound})"
    )]
    NotStabilizable {
        /// Real part of the offending eigenvalue.
        re: f64,
        /// Imaginary part.
        im: f64,
        /// The spectral abscissa (continuous) or radius (discrete) of the closed loop.
        closed_loop_bound: f64,
    },
    /// The Riccati solution does not satisfy its equation to the tolerance.
    #[error("Riccati residual {residual:e} (relative) exceeds the tolerance {tolerance:e}")]
    ResidualTooLarge {
        /// The relative residual ‖Res‖_F / (‖Q‖_F + ‖AᵀP + PA‖_F + ‖PBR⁻¹BᵀP‖_F).
        residual: f64,
        /// The tolerance.
        tolerance: f64,
    },
    /// An iteration did not converge.
    #[error("{method} did not converge in {iterations} iterations (last change {change:e})")]
    NoConvergence {
        /// The iteration.
        method: &'static str,
        /// Iterations made.
        iterations: usize,
        /// The last relative change.
        change: f64,
    },
    /// A matrix that must be inverted is (numerically) singular.
    #[error("{what} is singular")]
    Singular {
        /// Which matrix.
        what: &'static str,
    },
    /// A trajectory given to the time-varying LQR is inconsistent.
    #[error(
        "the trajectory has {states} states and {controls} controls; need at least 2 states and as many controls as states"
    )]
    TrajectoryLength {
        /// States given.
        states: usize,
        /// Controls given.
        controls: usize,
    },
    /// A controller produced a control that is not finite.
    #[error("controller {controller} returned the control {value} at t = {time} s")]
    NonFiniteControl {
        /// The controller's name.
        controller: &'static str,
        /// Time of the call.
        time: f64,
        /// The value returned.
        value: f64,
    },
    /// The trajectory crate refused a problem or a solve (building the swing-up, the
    /// first plan, an MPC period).
    #[error("{context}: {source}")]
    Trajectory {
        /// What was being done (`"swing-up plan"`, `"MPC period"`).
        context: &'static str,
        /// The trajectory crate's error.
        #[source]
        source: TrajectoryFailure,
    },
    /// The swing-up plan did not converge (a plan to track or start from must).
    #[error(
        "the swing-up plan with {knots} knots did not converge: {status} (violation {feasibility:e})"
    )]
    PlanNotConverged {
        /// Knots of the transcription.
        knots: usize,
        /// How the solve ended (the solver's status, as text).
        status: String,
        /// The constraint violation it reached.
        feasibility: f64,
    },
    /// A controller with a fixed control period was called at a different spacing.
    #[error(
        "{controller} was called {spacing} s after its previous call; its control period is {period} s"
    )]
    ControlPeriodMismatch {
        /// The controller's name.
        controller: &'static str,
        /// Its control period, s.
        period: f64,
        /// The time since the previous call, s.
        spacing: f64,
    },
    /// The simulated state became non-finite (the integration diverged).
    #[error("the simulated state is not finite at t = {time} s (step too large?)")]
    Diverged {
        /// Time at which it happened.
        time: f64,
    },
}

/// Checks that `value` satisfies `requirement`.
pub(crate) fn check_param(
    name: &'static str,
    value: f64,
    unit: &'static str,
    requirement: Requirement,
) -> Result<(), CartpoleError> {
    let ok = value.is_finite()
        && match requirement {
            Requirement::Positive => value > 0.0,
            Requirement::NonNegative => value >= 0.0,
            Requirement::Finite => true,
        };
    if ok {
        Ok(())
    } else {
        Err(CartpoleError::InvalidParameter {
            name,
            value,
            unit,
            requirement,
        })
    }
}

/// A [`trajectory::TrajectoryError`], shared so that [`CartpoleError`] stays `Clone`
/// (two are equal when they are the same error).
#[derive(Clone, Debug)]
pub struct TrajectoryFailure(pub std::sync::Arc<trajectory::TrajectoryError>);

impl TrajectoryFailure {
    /// Wraps `error` with what was being done.
    pub(crate) fn wrap(context: &'static str, error: trajectory::TrajectoryError) -> CartpoleError {
        CartpoleError::Trajectory {
            context,
            source: TrajectoryFailure(std::sync::Arc::new(error)),
        }
    }
}

impl PartialEq for TrajectoryFailure {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Display for TrajectoryFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TrajectoryFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
