//! The error type of this crate.
//!
//! Every variant carries the numbers a caller needs (index, dimension, line of a file) as
//! fields, so nothing has to be parsed out of a message.

use std::path::PathBuf;

use crate::mtx::MtxErrorKind;
use crate::spec::SpecProblem;

/// What went wrong while building, transforming, reading or generating a [`Pattern`](crate::Pattern).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// An entry lies outside the declared shape.
    #[error("entry ({row}, {col}) lies outside the {nrows}×{ncols} pattern")]
    IndexOutOfBounds {
        /// Row index of the entry (0-based).
        row: usize,
        /// Column index of the entry (0-based).
        col: usize,
        /// Number of rows of the pattern.
        nrows: usize,
        /// Number of columns of the pattern.
        ncols: usize,
    },
    /// The row-pointer array does not have `nrows + 1` entries.
    #[error("row pointer array has {len} entries, expected nrows + 1 = {expected}")]
    RowPtrLength {
        /// Length that was given.
        len: usize,
        /// Length that was expected.
        expected: usize,
    },
    /// The row pointers do not start at 0, decrease somewhere, or do not end at the number
    /// of column indices.
    #[error(
        "row pointers are invalid at row {row}: they must start at 0, never decrease and end at nnz = {nnz}"
    )]
    RowPtrInvalid {
        /// First row whose pointer is wrong.
        row: usize,
        /// Number of column indices given.
        nnz: usize,
    },
    /// Column indices of a row are not strictly increasing (unsorted or duplicated).
    #[error("column indices of row {row} are not strictly increasing at position {position}")]
    UnsortedRow {
        /// The row.
        row: usize,
        /// Offset inside the row where the order breaks.
        position: usize,
    },
    /// Two index arrays that must have the same length do not.
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        /// Which arrays.
        what: &'static str,
        /// Length of the first array.
        left: usize,
        /// Length of the second array.
        right: usize,
    },
    /// An operation that needs a square pattern got a rectangular one.
    #[error("{op} needs a square pattern, got {nrows}×{ncols}")]
    NotSquare {
        /// The operation.
        op: &'static str,
        /// Number of rows.
        nrows: usize,
        /// Number of columns.
        ncols: usize,
    },
    /// Two patterns of different shapes were combined.
    #[error("{op}: shapes differ ({left_rows}×{left_cols} vs {right_rows}×{right_cols})")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Rows of the left operand.
        left_rows: usize,
        /// Columns of the left operand.
        left_cols: usize,
        /// Rows of the right operand.
        right_rows: usize,
        /// Columns of the right operand.
        right_cols: usize,
    },
    /// A permutation has the wrong length or is not a bijection.
    #[error(
        "{what} permutation is invalid at position {position} (length {len}, expected {expected})"
    )]
    InvalidPermutation {
        /// "row" or "column".
        what: &'static str,
        /// First position where the permutation repeats or exceeds an index (or `len` when only
        /// the length is wrong).
        position: usize,
        /// Length that was given.
        len: usize,
        /// Length that was expected.
        expected: usize,
    },
    /// A pattern would exceed the size this library agrees to build.
    #[error("{what} = {value} exceeds the limit {limit}")]
    TooLarge {
        /// What is too large (a dimension, the number of entries).
        what: &'static str,
        /// The requested value (saturated at `u128::MAX` for products that overflow).
        value: u128,
        /// The limit.
        limit: u128,
    },
    /// A Matrix Market file or string is malformed.
    #[error("{}line {line}: {kind}", .path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    MatrixMarket {
        /// The file, when reading from a path.
        path: Option<PathBuf>,
        /// 1-based line number where the problem was found (for a missing line: the line
        /// after the last one).
        line: usize,
        /// What is wrong on that line.
        kind: MtxErrorKind,
    },
    /// A pattern (and values) cannot be written as Matrix Market with the requested symmetry.
    #[error("cannot write Matrix Market: {kind}")]
    MatrixMarketWrite {
        /// What is wrong (asymmetric pattern or values, a skew-symmetric diagonal, a
        /// non-finite value).
        kind: MtxErrorKind,
    },
    /// Reading or writing failed.
    #[error("cannot {action} {}: {source}", .path.as_ref().map_or("the stream".to_string(), |p| p.display().to_string()))]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file (`None` for a caller-supplied writer or a string).
        path: Option<PathBuf>,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A generator was asked for an impossible or absurd pattern.
    #[error("generator `{generator}`: parameter `{param}` = {value} {reason}")]
    InvalidParameter {
        /// The generator (`band`, `grid2d`, ...).
        generator: &'static str,
        /// The parameter name.
        param: &'static str,
        /// The value that was given, as written.
        value: String,
        /// Why it is rejected ("must be at least 1", ...).
        reason: &'static str,
    },
    /// A pattern spec such as `band:n=1000,k=3` could not be understood.
    #[error("pattern spec `{spec}`: {problem}")]
    Spec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        problem: SpecProblem,
    },
}

/// Short alias used throughout the crate.
pub type Result<T, E = PatternError> = std::result::Result<T, E>;
