//! What can be wrong with a Matrix Market input or with data about to be written, and
//! the constructors that wrap it in a [`PatternError`].

use std::path::Path;

use super::header::{DIM_PER_ENTRY, FREE_DIM, MtxSymmetry};
use crate::error::PatternError;

/// What is wrong with a Matrix Market input (or with data about to be written).
///
/// Carried by [`PatternError::MatrixMarket`], which adds the 1-based line number. Row and
/// column numbers here are 1-based, as written in the file; `found` strings are the
/// offending text, shortened to at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MtxErrorKind {
    /// The input does not start with a `%%MatrixMarket` banner (this includes empty input).
    #[error("missing `%%MatrixMarket matrix coordinate <field> <symmetry>` banner")]
    MissingBanner,
    /// The banner has the wrong number of words or is not about a `matrix`.
    #[error(
        "malformed banner `{found}`: expected `%%MatrixMarket matrix coordinate <field> <symmetry>`"
    )]
    BadBanner {
        /// The banner line.
        found: String,
    },
    /// The storage format is not `coordinate` (for instance the dense `array` format).
    #[error("format `{found}` is not supported (only `coordinate` is)")]
    UnsupportedFormat {
        /// The format word of the banner.
        found: String,
    },
    /// The field is not one of `pattern`, `real`, `integer`, `complex`.
    #[error("unknown field `{found}` (expected pattern, real, integer or complex)")]
    UnknownField {
        /// The field word of the banner.
        found: String,
    },
    /// The symmetry is not one of `general`, `symmetric`, `skew-symmetric`, `hermitian`.
    #[error(
        "unknown symmetry `{found}` (expected general, symmetric, skew-symmetric or hermitian)"
    )]
    UnknownSymmetry {
        /// The symmetry word of the banner.
        found: String,
    },
    /// The input ends before the `rows columns entries` size line.
    #[error("missing size line `<rows> <columns> <entries>`")]
    MissingSizeLine,
    /// The size line is not three unsigned integers.
    #[error("malformed size line `{found}`: expected `<rows> <columns> <entries>`")]
    BadSizeLine {
        /// The size line.
        found: String,
    },
    /// A symmetric, skew-symmetric or Hermitian file declares a rectangular shape.
    #[error("a symmetric matrix must be square, but the size line declares {nrows}×{ncols}")]
    NotSquareSymmetric {
        /// Declared rows.
        nrows: usize,
        /// Declared columns.
        ncols: usize,
    },
    /// A row or column index is not an unsigned integer (or does not fit one).
    #[error("{which} index `{found}` is not a valid unsigned integer")]
    BadIndex {
        /// `"row"` or `"column"`.
        which: &'static str,
        /// The token.
        found: String,
    },
    /// A row or column index is 0 or exceeds the declared dimension.
    #[error("{which} index {index} is out of range {}", one_based_range(*.dim))]
    IndexOutOfRange {
        /// `"row"` or `"column"`.
        which: &'static str,
        /// The index as written (1-based).
        index: usize,
        /// The declared number of rows or columns.
        dim: usize,
    },
    /// An entry line has the wrong number of whitespace-separated fields for the file's field.
    #[error("expected {expected} fields on an entry line, found {found}")]
    WrongFieldCount {
        /// Fields required by the field type (2, 3 or 4).
        expected: usize,
        /// Fields present.
        found: usize,
    },
    /// A value is not a number.
    #[error("value `{found}` is not a number")]
    BadValue {
        /// The token.
        found: String,
    },
    /// A value of an `integer` file is not an integer.
    #[error("value `{found}` is not an integer, as the `integer` field requires")]
    NotAnInteger {
        /// The token.
        found: String,
    },
    /// A value is NaN or infinite (or overflows `f64`).
    #[error("value `{found}` is not finite")]
    NonFiniteValue {
        /// The token (or, when writing, the value).
        found: String,
    },
    /// The input ends before the declared number of entries.
    #[error("the size line declares {declared} entries but only {found} were found")]
    TooFewEntries {
        /// Declared entry count.
        declared: usize,
        /// Entry lines present.
        found: usize,
    },
    /// A data line follows the last declared entry.
    #[error("unexpected data after the {declared} declared entries")]
    TooManyEntries {
        /// Declared entry count.
        declared: usize,
    },
    /// A symmetric, skew-symmetric or Hermitian file stores an entry above the diagonal.
    #[error(
        "entry ({row}, {col}) lies above the diagonal, but a symmetric file stores only the lower triangle"
    )]
    UpperEntryInSymmetricFile {
        /// Row as written (1-based).
        row: usize,
        /// Column as written (1-based).
        col: usize,
    },
    /// A skew-symmetric file (or pattern to be written as one) has a diagonal entry.
    #[error(
        "diagonal entry ({row}, {row}) in a skew-symmetric matrix, whose diagonal must be empty"
    )]
    DiagonalInSkewSymmetric {
        /// Row (and column), 1-based.
        row: usize,
    },
    /// Writing with a symmetry other than `general`: the pattern is not symmetric.
    #[error(
        "entry ({row}, {col}) has no mirror entry ({col}, {row}): the pattern is not symmetric"
    )]
    AsymmetricPattern {
        /// Row, 1-based.
        row: usize,
        /// Column, 1-based.
        col: usize,
    },
    /// Writing with a symmetry other than `general`: the values do not have that symmetry.
    #[error("values at ({row}, {col}) and ({col}, {row}) are not {}", if *.symmetry == MtxSymmetry::SkewSymmetric { "opposite" } else { "equal" })]
    AsymmetricValues {
        /// The requested symmetry.
        symmetry: MtxSymmetry,
        /// Row, 1-based.
        row: usize,
        /// Column, 1-based.
        col: usize,
    },
    /// The input is not valid UTF-8 (the line is the one holding the first invalid byte).
    #[error("the input is not valid UTF-8")]
    NotUtf8,
    /// A line is longer than [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES) (the reader stops there, without reading the
    /// rest of it).
    #[error("the line is longer than {limit} bytes")]
    LineTooLong {
        /// [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES).
        limit: usize,
    },
    /// The lines that are not entries (banner, comments, blank lines, size line) add up to
    /// more than [`MAX_COMMENT_BYTES`](super::MAX_COMMENT_BYTES); the error names the line that goes over.
    #[error("more than {limit} bytes of comments and blank lines")]
    TooManyCommentBytes {
        /// [`MAX_COMMENT_BYTES`](super::MAX_COMMENT_BYTES).
        limit: usize,
    },
    /// The size line declares a dimension larger than the entries it announces can justify
    /// (see [`dimension_limit`](super::dimension_limit)): its row pointers (or per-column arrays) would dwarf the
    /// file.
    #[error(
        "{dim} {which} declared for {entries} entries: at most {limit} (the larger of {FREE_DIM} and {DIM_PER_ENTRY} per entry)"
    )]
    DimensionTooLarge {
        /// `"rows"` or `"columns"`.
        which: &'static str,
        /// The declared dimension.
        dim: usize,
        /// The declared entry count.
        entries: usize,
        /// [`dimension_limit`](super::dimension_limit) of the entry count.
        limit: usize,
    },
    /// Duplicate entries of one coordinate sum to a value that is not finite, although each
    /// value is; the error's line is the one whose value made the sum overflow.
    #[error(
        "the {count} values summed at ({row}, {col}) on lines {lines:?} overflow to a value that is not finite"
    )]
    SumOverflow {
        /// Row, 1-based.
        row: usize,
        /// Column, 1-based.
        col: usize,
        /// Entries summed up to the overflow.
        count: usize,
        /// Their lines (at most 16: the first ones and the one that overflows).
        lines: Vec<usize>,
    },
}

fn one_based_range(dim: usize) -> String {
    if dim == 0 {
        "(the dimension is 0)".to_owned()
    } else {
        format!("1..={dim}")
    }
}

/// Longest `found` text kept in an error.
const SNIPPET_CHARS: usize = 64;

pub(super) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

pub(super) fn mtx_err(line: usize, kind: MtxErrorKind) -> PatternError {
    PatternError::MatrixMarket {
        path: None,
        line,
        kind,
    }
}

pub(super) fn with_path(err: PatternError, path: &Path) -> PatternError {
    match err {
        PatternError::MatrixMarket { line, kind, .. } => PatternError::MatrixMarket {
            path: Some(path.to_path_buf()),
            line,
            kind,
        },
        other => other,
    }
}

pub(super) fn write_err(kind: MtxErrorKind) -> PatternError {
    PatternError::MatrixMarketWrite { kind }
}
