//! The error type of this crate.
//!
//! Every variant carries the numbers a caller needs (pivot index and value, the offending
//! entry, the lengths that disagree) as fields, so nothing has to be parsed out of a message.
//! Bad input and numerical failure both return `Err`; the crate panics only on its own
//! programming errors.

/// What went wrong while analysing, factorising or solving.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// The matrix has no rows (a 0×0 system has nothing to factorise).
    #[error("the matrix is empty (0×0)")]
    EmptyMatrix,
    /// A factorisation that needs a square matrix got a rectangular one.
    #[error("the matrix must be square, got {nrows}×{ncols}")]
    NotSquare {
        /// Number of rows.
        nrows: usize,
        /// Number of columns.
        ncols: usize,
    },
    /// A symmetric factorisation got a pattern that is not structurally symmetric:
    /// entry `(row, col)` is present and `(col, row)` is not.
    #[error("the pattern is not symmetric: ({row}, {col}) is present, ({col}, {row}) is not")]
    NotSymmetric {
        /// Row of the entry without a mirror.
        row: usize,
        /// Column of the entry without a mirror.
        col: usize,
    },
    /// The half-bandwidth is not smaller than the dimension (a band of half-bandwidth β
    /// needs n ≥ β + 1).
    #[error("half-bandwidth {beta} is wider than the {n}×{n} matrix (needs beta < n)")]
    BandTooWide {
        /// Requested half-bandwidth.
        beta: usize,
        /// Dimension of the matrix.
        n: usize,
    },
    /// An entry of the pattern lies outside the declared band.
    #[error("entry ({row}, {col}) lies outside the band of half-bandwidth {beta}")]
    OutsideBand {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
        /// Declared half-bandwidth.
        beta: usize,
    },
    /// A slice or matrix has the wrong size.
    #[error("{what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// Which argument.
        what: &'static str,
        /// Size that was needed.
        expected: usize,
        /// Size that was given.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: entry {index} is not finite")]
    NonFinite {
        /// Which argument (`"values"`, `"band storage"`, `"shift"`, `"right-hand side"`).
        what: &'static str,
        /// Position of the first non-finite entry in that argument.
        index: usize,
    },
    /// The factorisation was built without a pattern (`BandSymbolic::new`), so it cannot
    /// read values in a pattern's order; fill band storage instead.
    #[error("this band analysis has no pattern: build it with BandSymbolic::from_pattern")]
    NoPattern,
    /// Cholesky met a pivot that is not positive: the matrix is not positive definite.
    /// `index` is the row of the original matrix (for sparse factorisations, after undoing
    /// the fill-reducing permutation); `pivot` is the value met (NaN if it could not be
    /// recovered).
    #[error("not positive definite: pivot {index} is {pivot:e}")]
    NotPositiveDefinite {
        /// Row of the failing pivot in the original ordering.
        index: usize,
        /// The non-positive pivot.
        pivot: f64,
    },
    /// LDLᵀ without pivoting met a pivot too close to zero to divide by.
    #[error("pivot {index} is {pivot:e}, below the tolerance {tolerance:e}")]
    TinyPivot {
        /// Row of the failing pivot in the original ordering.
        index: usize,
        /// The pivot.
        pivot: f64,
        /// The absolute tolerance it was compared with (`|pivot| <= tolerance` fails).
        tolerance: f64,
    },
    /// LU found no usable pivot: the matrix is (numerically) singular.
    #[error("singular matrix: pivot {step} is {pivot:e} (tolerance {tolerance:e})")]
    Singular {
        /// Elimination step (0-based) at which the pivot failed.
        step: usize,
        /// Column of the original matrix eliminated at that step.
        column: usize,
        /// The pivot (0 when the column has no candidate at all).
        pivot: f64,
        /// The absolute tolerance it was compared with.
        tolerance: f64,
    },
    /// The inertia-correcting regularisation reached its limit without the wanted inertia.
    #[error(
        "regularisation failed: delta reached {last_delta:e} (limit {delta_max:e}) after {attempts} factorisations"
    )]
    RegularizationFailed {
        /// The last δ tried.
        last_delta: f64,
        /// The limit δ_max.
        delta_max: f64,
        /// Number of factorisations attempted in this call.
        attempts: usize,
    },
    /// A `*Params` value is out of range.
    #[error("parameter {param} = {value} is invalid: {reason}")]
    InvalidParameter {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: f64,
        /// What it must satisfy.
        reason: &'static str,
    },
    /// A solve was asked of a factorisation that holds no valid factor (never factorised,
    /// or the last factorisation failed).
    #[error("no valid factorisation to solve with (factorise first, and check its result)")]
    NotFactorized,
    /// faer could not complete a symbolic analysis (index overflow, out of memory).
    #[error("faer failed: {kind}")]
    Faer {
        /// faer's own error.
        kind: FaerFailure,
    },
}

/// Why faer failed in a non-numerical way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaerFailure {
    /// An index did not fit the index type.
    #[error("index overflow")]
    IndexOverflow,
    /// An allocation failed.
    #[error("out of memory")]
    OutOfMemory,
    /// Any other failure faer reports.
    #[error("other")]
    Other,
}

impl From<faer::sparse::FaerError> for SolveError {
    fn from(e: faer::sparse::FaerError) -> Self {
        let kind = match e {
            faer::sparse::FaerError::IndexOverflow => FaerFailure::IndexOverflow,
            faer::sparse::FaerError::OutOfMemory => FaerFailure::OutOfMemory,
            _ => FaerFailure::Other,
        };
        SolveError::Faer { kind }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SolveError> = std::result::Result<T, E>;

/// `Err(LengthMismatch)` unless `got == expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(SolveError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Checks a pattern is square and structurally symmetric; returns its dimension.
pub(crate) fn check_square_symmetric(p: &sparsediff_pattern::Pattern) -> Result<usize> {
    let n = check_square(p)?;
    let t = p.transpose();
    if t != *p {
        for i in 0..n {
            let (a, b) = (p.row(i), t.row(i));
            if a != b {
                // The first column where the rows differ: present in one, absent in the other.
                let k = a.iter().zip(b).position(|(x, y)| x != y);
                let k = k.unwrap_or(a.len().min(b.len()));
                return Err(match (a.get(k), b.get(k)) {
                    (Some(&ja), Some(&jb)) if ja < jb => {
                        SolveError::NotSymmetric { row: i, col: ja }
                    }
                    (Some(&ja), None) => SolveError::NotSymmetric { row: i, col: ja },
                    // (jb, i) is in p but (i, jb) is not
                    (_, Some(&jb)) => SolveError::NotSymmetric { row: jb, col: i },
                    (None, None) => unreachable!("rows differ"),
                });
            }
        }
    }
    Ok(n)
}

/// Checks a pattern is square and non-empty; returns its dimension.
pub(crate) fn check_square(p: &sparsediff_pattern::Pattern) -> Result<usize> {
    let (nrows, ncols) = p.shape();
    if nrows != ncols {
        return Err(SolveError::NotSquare { nrows, ncols });
    }
    if nrows == 0 {
        return Err(SolveError::EmptyMatrix);
    }
    Ok(nrows)
}
