//! Matrix Market I/O for sparsity patterns (coordinate format).
//!
//! The [Matrix Market exchange format](https://math.nist.gov/MatrixMarket/formats.html) is
//! the lingua franca of sparse-matrix collections (SuiteSparse, NIST). This module reads the
//! `coordinate` flavour with any field (`pattern`, `real`, `integer`, `complex`) and any
//! symmetry (`general`, `symmetric`, `skew-symmetric`, `hermitian`), and writes `pattern` or
//! `real` files.
//!
//! * Reading ([`parse_matrix_market`], [`parse_matrix_market_bytes`], [`read_matrix_market`])
//!   always returns the **full** structure: a symmetric file that stores only the lower
//!   triangle is expanded to both triangles. Values, when the file has them, come back in
//!   the pattern's (row-major, sorted) order, with duplicated coordinates summed.
//! * Writing ([`write_matrix_market`], [`write_matrix_market_file`],
//!   [`to_matrix_market_string`]) checks the requested symmetry before writing anything and
//!   formats values so that reading the file back reproduces them bit for bit (up to the
//!   sign of zero).
//!
//! Errors are [`PatternError::MatrixMarket`](crate::PatternError::MatrixMarket) values that
//! name the 1-based line and carry a structured [`MtxErrorKind`]; dimensions above
//! [`MAX_DIM`](crate::MAX_DIM) or counts above [`MAX_NNZ`](crate::MAX_NNZ) give
//! [`PatternError::TooLarge`](crate::PatternError::TooLarge). The reader never panics.
//!
//! # What reading costs, whatever the input
//!
//! Memory follows the entries present, never what the header declares, and no input is read
//! without end:
//!
//! * The input is read and parsed in chunks of whole lines; a line longer than
//!   [`MAX_LINE_BYTES`] is refused on that line ([`MtxErrorKind::LineTooLong`]), and lines
//!   that are not entries (banner, comments, blank lines) may add up to
//!   [`MAX_COMMENT_BYTES`] ([`MtxErrorKind::TooManyCommentBytes`]). `/dev/zero` is refused
//!   after 1 MiB, a pipe of comments after 16 MiB, a data line past the declared count at
//!   once ([`MtxErrorKind::TooManyEntries`]).
//! * Nothing is reserved from the declared entry count: the coordinate arrays grow with the
//!   entries read (and the file must then hold exactly the declared count).
//! * A CSR pattern needs one row pointer per row whatever its entries, so a 75-byte file
//!   declaring 2²⁸ rows would cost 2 GiB. Decision: a declared dimension (rows or columns,
//!   which colourings index) may be at most [`dimension_limit`] of the declared entry count,
//!   the larger of [`FREE_DIM`] (2²², 32 MiB of pointers) and [`DIM_PER_ENTRY`] (8) per
//!   entry, and is refused on the size line otherwise ([`MtxErrorKind::DimensionTooLarge`]).
//!   Real matrices have about as many entries as rows or more (14 694 rows for 49 058
//!   entries in `lp_ken_11`), so only files that are mostly empty rows are refused, and the
//!   row pointers then cost at most 64 bytes per entry line (at least 4 bytes) of the file.
//! * Duplicated coordinates are summed; a sum that overflows to ±∞ is refused with the lines
//!   of the entries summed ([`MtxErrorKind::SumOverflow`]), as a single value beyond `f64` is.
//!
//! The files: `header.rs` (field, symmetry, the banner and size line, the dimension
//! limit), `lex.rs` (lines, tokens, numbers and the single-pass entry parser), `read.rs`
//! (the chunked reader and the assembly of the pattern), `write.rs` and `errors.rs`
//! ([`MtxErrorKind`] and the error constructors).

mod errors;
mod header;
mod lex;
mod read;
#[cfg(test)]
mod tests;
mod write;

pub use errors::MtxErrorKind;
pub use header::{DIM_PER_ENTRY, FREE_DIM, MtxField, MtxHeader, MtxSymmetry, dimension_limit};
pub use read::{
    MAX_COMMENT_BYTES, MAX_LINE_BYTES, parse_matrix_market, parse_matrix_market_bytes,
    read_matrix_market,
};
pub use write::{to_matrix_market_string, write_matrix_market, write_matrix_market_file};

use crate::pattern::Pattern;

/// A parsed Matrix Market file: header, full structure and (optional) values.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixMarket {
    /// The banner and size line.
    pub header: MtxHeader,
    /// The full structure, 0-based: symmetric, skew-symmetric and Hermitian files are
    /// expanded to both triangles, duplicated coordinates are merged.
    pub pattern: Pattern,
    /// `None` for `pattern` files; otherwise one value per entry of [`pattern`](Self::pattern)
    /// in its order: duplicates summed, the mirrored entry of a skew-symmetric file negated,
    /// the real part of complex values.
    pub values: Option<Vec<f64>>,
}

impl MatrixMarket {
    /// Drops header and values, keeping the structure.
    pub fn into_pattern(self) -> Pattern {
        self.pattern
    }
}
