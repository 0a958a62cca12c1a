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
//! Errors are [`PatternError::MatrixMarket`] values that name the 1-based line and carry a
//! structured [`MtxErrorKind`]; dimensions above [`MAX_DIM`] or counts above
//! [`MAX_NNZ`] give [`PatternError::TooLarge`]. The reader never panics.
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

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{PatternError, Result};
use crate::pattern::{MAX_DIM, MAX_NNZ, Pattern, check_nnz};

/// Longest line the reader accepts: 1 MiB, newline excluded. Entry lines are a few dozen
/// bytes and comment lines rarely more than a hundred; the bound lets the reader hold one
/// chunk of whole lines at a time, and stops input without line ends (`/dev/zero`) after
/// 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most bytes of lines that are not entries (banner, comments, blank lines, the size line),
/// wherever they are in the file: 16 MiB, far above any header of a real collection, so
/// that input which never reaches (or never ends after) its entries is refused after at
/// most that much, instead of being read without end.
pub const MAX_COMMENT_BYTES: usize = 1 << 24;

/// Rows and columns a file may declare whatever its entry count: 2²² (4 194 304, 32 MiB of
/// row pointers). See [`dimension_limit`].
pub const FREE_DIM: usize = 1 << 22;

/// Above [`FREE_DIM`], a file may declare at most this many rows (or columns) per entry
/// line it announces (and then must hold): 8. See [`dimension_limit`].
pub const DIM_PER_ENTRY: usize = 8;

/// The field (value type) of a Matrix Market file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MtxField {
    /// No values: each entry line is `row col`.
    Pattern,
    /// Floating-point values: `row col value`.
    Real,
    /// Integer values: `row col value` (returned as `f64`).
    Integer,
    /// Complex values: `row col real imaginary` (the reader keeps the real part).
    Complex,
}

impl MtxField {
    /// The word used in the banner (`pattern`, `real`, `integer`, `complex`).
    pub fn as_str(self) -> &'static str {
        match self {
            MtxField::Pattern => "pattern",
            MtxField::Real => "real",
            MtxField::Integer => "integer",
            MtxField::Complex => "complex",
        }
    }

    /// Number of whitespace-separated fields on an entry line (indices included).
    pub fn fields_per_line(self) -> usize {
        match self {
            MtxField::Pattern => 2,
            MtxField::Real | MtxField::Integer => 3,
            MtxField::Complex => 4,
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "pattern" => MtxField::Pattern,
            "real" => MtxField::Real,
            "integer" => MtxField::Integer,
            "complex" => MtxField::Complex,
            _ => return None,
        })
    }
}

impl std::fmt::Display for MtxField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The symmetry declared by a Matrix Market file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MtxSymmetry {
    /// Every entry is stored.
    General,
    /// A = Aᵀ; only the lower triangle (diagonal included) is stored.
    Symmetric,
    /// A = −Aᵀ; only the strict lower triangle is stored (the diagonal is zero).
    SkewSymmetric,
    /// A = Aᴴ; only the lower triangle is stored. For the real parts kept by this crate it
    /// behaves exactly like [`MtxSymmetry::Symmetric`].
    Hermitian,
}

impl MtxSymmetry {
    /// The word used in the banner (`general`, `symmetric`, `skew-symmetric`, `hermitian`).
    pub fn as_str(self) -> &'static str {
        match self {
            MtxSymmetry::General => "general",
            MtxSymmetry::Symmetric => "symmetric",
            MtxSymmetry::SkewSymmetric => "skew-symmetric",
            MtxSymmetry::Hermitian => "hermitian",
        }
    }

    /// Whether the file stores only the lower triangle (every symmetry except `general`).
    pub fn is_triangular(self) -> bool {
        self != MtxSymmetry::General
    }

    fn from_word(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "general" => MtxSymmetry::General,
            "symmetric" => MtxSymmetry::Symmetric,
            "skew-symmetric" => MtxSymmetry::SkewSymmetric,
            "hermitian" => MtxSymmetry::Hermitian,
            _ => return None,
        })
    }
}

impl std::fmt::Display for MtxSymmetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The banner and size line of a Matrix Market file, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MtxHeader {
    /// Value type.
    pub field: MtxField,
    /// Declared symmetry.
    pub symmetry: MtxSymmetry,
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Number of entry lines declared on the size line (stored entries, before symmetric
    /// expansion and before merging duplicates).
    pub entries: usize,
}

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
    /// A line is longer than [`MAX_LINE_BYTES`] (the reader stops there, without reading the
    /// rest of it).
    #[error("the line is longer than {limit} bytes")]
    LineTooLong {
        /// [`MAX_LINE_BYTES`].
        limit: usize,
    },
    /// The lines that are not entries (banner, comments, blank lines, size line) add up to
    /// more than [`MAX_COMMENT_BYTES`]; the error names the line that goes over.
    #[error("more than {limit} bytes of comments and blank lines")]
    TooManyCommentBytes {
        /// [`MAX_COMMENT_BYTES`].
        limit: usize,
    },
    /// The size line declares a dimension larger than the entries it announces can justify
    /// (see [`dimension_limit`]): its row pointers (or per-column arrays) would dwarf the
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
        /// [`dimension_limit`] of the entry count.
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

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn mtx_err(line: usize, kind: MtxErrorKind) -> PatternError {
    PatternError::MatrixMarket {
        path: None,
        line,
        kind,
    }
}

fn with_path(err: PatternError, path: &Path) -> PatternError {
    match err {
        PatternError::MatrixMarket { line, kind, .. } => PatternError::MatrixMarket {
            path: Some(path.to_path_buf()),
            line,
            kind,
        },
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// Parses Matrix Market text (coordinate format).
///
/// See the [module documentation](self) for what is accepted; errors carry `path: None`.
///
/// ```
/// use sparsediff_pattern::{parse_matrix_market, MtxField, MtxSymmetry};
/// let text = "%%MatrixMarket matrix coordinate real symmetric\n\
///             % a 3×3 tridiagonal matrix, lower triangle\n\
///             3 3 5\n\
///             1 1 2.0\n2 1 -1\n2 2 2\n3 2 -1\n3 3 2\n";
/// let mm = parse_matrix_market(text)?;
/// assert_eq!(mm.header.symmetry, MtxSymmetry::Symmetric);
/// assert_eq!(mm.header.field, MtxField::Real);
/// assert_eq!(mm.header.entries, 5);
/// assert_eq!(mm.pattern.nnz(), 7); // both triangles
/// assert_eq!(mm.pattern.row(1), &[0, 1, 2]);
/// assert_eq!(mm.values.as_deref(), Some(&[2.0, -1.0, -1.0, 2.0, -1.0, -1.0, 2.0][..]));
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn parse_matrix_market(text: &str) -> Result<MatrixMarket> {
    parse_reader(text.as_bytes(), false)
}

/// Parses Matrix Market bytes; input that is not UTF-8 is rejected with
/// [`MtxErrorKind::NotUtf8`] on the line of the first invalid byte.
///
/// ```
/// use sparsediff_pattern::{mtx::parse_matrix_market_bytes, MtxErrorKind, PatternError};
/// let err = parse_matrix_market_bytes(b"%%MatrixMarket matrix coordinate pattern general\n\xff").unwrap_err();
/// assert!(matches!(err, PatternError::MatrixMarket { line: 2, kind: MtxErrorKind::NotUtf8, .. }));
/// ```
pub fn parse_matrix_market_bytes(bytes: &[u8]) -> Result<MatrixMarket> {
    parse_reader(bytes, true)
}

/// Reads a Matrix Market file, parsing it as it is read: the limits of the
/// [module documentation](self) stop any input (`/dev/zero`, an endless pipe) early.
/// Errors carry the path.
///
/// I/O failures give [`PatternError::Io`] with `action = "read"`.
pub fn read_matrix_market(path: impl AsRef<Path>) -> Result<MatrixMarket> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| PatternError::Io {
        action: "read",
        path: Some(path.to_path_buf()),
        source,
    })?;
    parse_reader(file, true).map_err(|e| with_path(e, path))
}

/// Reads `input` in chunks of whole lines and parses each as it comes: besides the entries
/// only the current chunk, at most [`MAX_LINE_BYTES`] + 1 bytes, is held.
fn parse_reader(mut input: impl std::io::Read, check_utf8: bool) -> Result<MatrixMarket> {
    let mut buf = vec![0u8; MAX_LINE_BYTES + 1];
    let mut len = 0;
    let mut parser = Parser::default();
    loop {
        let read = loop {
            match input.read(&mut buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(PatternError::Io {
                        action: "read",
                        path: None,
                        source,
                    });
                }
            }
        };
        len += read;
        let eof = read == 0;
        // Whole lines only (at the end of the input, all that is left).
        let end = match buf[..len].iter().rposition(|&b| b == b'\n') {
            _ if eof => len,
            Some(k) => k + 1,
            // The buffer is full and holds no line end: this line is too long.
            None if len == buf.len() => {
                return Err(mtx_err(
                    parser.line + 1,
                    MtxErrorKind::LineTooLong {
                        limit: MAX_LINE_BYTES,
                    },
                ));
            }
            None => continue,
        };
        let chunk = &buf[..end];
        if check_utf8 && let Err(e) = std::str::from_utf8(chunk) {
            // Chunks end after a newline, so no character is split between two of them.
            let newlines = chunk[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(mtx_err(parser.line + 1 + newlines, MtxErrorKind::NotUtf8));
        }
        parser.feed(chunk)?;
        buf.copy_within(end..len, 0);
        len -= end;
        if eof {
            return parser.finish();
        }
    }
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// Walks the input line by line, counting 1-based line numbers.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    #[inline]
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        self.pos += len + 1;
        self.line += 1;
        Some(&rest[..len])
    }
}

/// Whether a line is blank or a `%` comment.
#[inline]
fn is_skippable(line: &[u8]) -> bool {
    match line.iter().position(|&b| !is_space(b)) {
        None => true,
        Some(k) => line[k] == b'%',
    }
}

/// Splits a line into whitespace-separated tokens, keeping the first `N` and counting all.
#[inline]
fn split_tokens<const N: usize>(line: &[u8]) -> ([&[u8]; N], usize) {
    let mut toks: [&[u8]; N] = [&[]; N];
    let mut count = 0;
    let mut k = 0;
    let n = line.len();
    while k < n {
        while k < n && is_space(line[k]) {
            k += 1;
        }
        if k == n {
            break;
        }
        let start = k;
        while k < n && !is_space(line[k]) {
            k += 1;
        }
        if count < N {
            toks[count] = &line[start..k];
        }
        count += 1;
    }
    (toks, count)
}

/// Parses a non-empty run of ASCII digits into a `u64` (`None` on anything else or overflow).
#[inline]
fn parse_u64(tok: &[u8]) -> Option<u64> {
    if tok.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in tok {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses a 1-based index token and range-checks it against `dim`; returns the 0-based index.
#[inline]
fn parse_index(tok: &[u8], which: &'static str, dim: usize, line: usize) -> Result<u32> {
    let Some(v) = parse_u64(tok).and_then(|v| usize::try_from(v).ok()) else {
        return Err(mtx_err(
            line,
            MtxErrorKind::BadIndex {
                which,
                found: snippet(tok),
            },
        ));
    };
    if v == 0 || v > dim {
        return Err(mtx_err(
            line,
            MtxErrorKind::IndexOutOfRange {
                which,
                index: v,
                dim,
            },
        ));
    }
    // dim <= MAX_DIM < 2^32, so v - 1 always fits.
    u32::try_from(v - 1).map_err(|_| {
        mtx_err(
            line,
            MtxErrorKind::IndexOutOfRange {
                which,
                index: v,
                dim,
            },
        )
    })
}

/// Parses a value token of the given field into a finite `f64`.
#[inline]
fn parse_value(tok: &[u8], field: MtxField, line: usize) -> Result<f64> {
    let bad = |kind: fn(String) -> MtxErrorKind| mtx_err(line, kind(snippet(tok)));
    if field == MtxField::Integer {
        let digits = match tok.first() {
            Some(b'+' | b'-') => &tok[1..],
            _ => tok,
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad(|found| MtxErrorKind::NotAnInteger { found }));
        }
    }
    // The whole input is valid UTF-8 and `tok` is delimited by ASCII bytes, so this succeeds.
    let text =
        std::str::from_utf8(tok).map_err(|_| bad(|found| MtxErrorKind::BadValue { found }))?;
    let v = match text.parse::<f64>() {
        Ok(v) => v,
        Err(_) => parse_fortran_double(text)
            .ok_or_else(|| bad(|found| MtxErrorKind::BadValue { found }))?,
    };
    if !v.is_finite() {
        return Err(bad(|found| MtxErrorKind::NonFiniteValue { found }));
    }
    Ok(v)
}

/// Accepts Fortran double-precision exponents (`1.5D+03`), which some old files use.
fn parse_fortran_double(text: &str) -> Option<f64> {
    if !text.bytes().any(|b| b == b'd' || b == b'D') {
        return None;
    }
    text.replace(['d', 'D'], "e").parse().ok()
}

/// What an entry line must look like.
#[derive(Clone, Copy)]
struct EntryShape {
    field: MtxField,
    nrows: usize,
    ncols: usize,
}

/// Outcome of the single-pass entry parser.
enum Fast {
    /// A valid entry (0-based indices; `v` is 0 for pattern files); `next` starts the next line.
    Entry { i: u32, j: u32, v: f64, next: usize },
    /// A blank line.
    Blank { next: usize },
    /// Not an ordinary line: use the general path.
    Slow,
}

/// Exact powers of ten representable as `f64`.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Parses a 1-based index of at most 10 digits starting at `p`, range-checked against `dim`.
#[inline(always)]
fn fast_index(bytes: &[u8], mut p: usize, dim: usize) -> Option<(u32, usize)> {
    let start = p;
    let mut v: u64 = 0;
    while p < bytes.len() && bytes[p].is_ascii_digit() {
        v = v * 10 + u64::from(bytes[p] - b'0');
        p += 1;
        if p - start > 10 {
            return None;
        }
    }
    if p == start || v == 0 || v > dim as u64 {
        return None;
    }
    Some((u32::try_from(v - 1).ok()?, p))
}

/// Parses a value token, exactly as [`parse_value`] would, or `None` when that would fail.
/// Plain decimals of at most 15 digits are computed directly (`m / 10^k` with both operands
/// exact is correctly rounded, hence identical to `str::parse`); others use `str::parse`.
#[inline(always)]
fn fast_value(tok: &[u8], field: MtxField) -> Option<f64> {
    let (neg, body) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        Some(b'+') => (false, &tok[1..]),
        _ => (false, tok),
    };
    let mut m: u64 = 0;
    let mut digits = 0;
    let mut frac: Option<usize> = None;
    let mut simple = body.len() <= 16;
    if simple {
        for &b in body {
            match b {
                b'0'..=b'9' => {
                    m = m * 10 + u64::from(b - b'0');
                    digits += 1;
                    if let Some(f) = frac.as_mut() {
                        *f += 1;
                    }
                }
                b'.' if frac.is_none() && field != MtxField::Integer => frac = Some(0),
                _ => {
                    simple = false;
                    break;
                }
            }
        }
    }
    if simple && digits > 0 && digits <= 15 {
        let x = m as f64 / POW10[frac.unwrap_or(0)];
        return Some(if neg { -x } else { x });
    }
    if field == MtxField::Integer {
        return None;
    }
    let v: f64 = std::str::from_utf8(tok).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

#[inline(always)]
fn skip_spaces(bytes: &[u8], mut p: usize) -> usize {
    while p < bytes.len() && is_space(bytes[p]) {
        p += 1;
    }
    p
}

/// Single-pass parse of the line starting at `pos`.
#[inline(always)]
fn fast_entry(bytes: &[u8], pos: usize, shape: EntryShape) -> Fast {
    let n = bytes.len();
    let p = skip_spaces(bytes, pos);
    if p == n {
        return Fast::Blank { next: n };
    }
    if bytes[p] == b'\n' {
        return Fast::Blank { next: p + 1 };
    }
    let Some((i, p)) = fast_index(bytes, p, shape.nrows) else {
        return Fast::Slow;
    };
    let q = skip_spaces(bytes, p);
    if q == p {
        return Fast::Slow;
    }
    let Some((j, p)) = fast_index(bytes, q, shape.ncols) else {
        return Fast::Slow;
    };
    let mut p = p;
    let mut v = 0.0;
    for k in 0..shape.field.fields_per_line() - 2 {
        let q = skip_spaces(bytes, p);
        if q == p {
            return Fast::Slow;
        }
        let mut e = q;
        while e < n && !is_space(bytes[e]) && bytes[e] != b'\n' {
            e += 1;
        }
        let Some(x) = fast_value(&bytes[q..e], shape.field) else {
            return Fast::Slow;
        };
        if k == 0 {
            v = x;
        }
        p = e;
    }
    let p = skip_spaces(bytes, p);
    if p == n {
        Fast::Entry { i, j, v, next: n }
    } else if bytes[p] == b'\n' {
        Fast::Entry {
            i,
            j,
            v,
            next: p + 1,
        }
    } else {
        Fast::Slow
    }
}

/// General parse of one line: `None` for blank and comment lines, an error naming `line`
/// for anything malformed. `full` says that all declared entries have been read already.
fn slow_entry(
    l: &[u8],
    line: usize,
    shape: EntryShape,
    full: bool,
    declared: usize,
) -> Result<Option<(u32, u32, f64)>> {
    let (toks, count) = split_tokens::<4>(l);
    if count == 0 || toks[0].first() == Some(&b'%') {
        return Ok(None);
    }
    if full {
        return Err(mtx_err(line, MtxErrorKind::TooManyEntries { declared }));
    }
    let expected = shape.field.fields_per_line();
    if count != expected {
        return Err(mtx_err(
            line,
            MtxErrorKind::WrongFieldCount {
                expected,
                found: count,
            },
        ));
    }
    let i = parse_index(toks[0], "row", shape.nrows, line)?;
    let j = parse_index(toks[1], "column", shape.ncols, line)?;
    let mut v = 0.0;
    if shape.field != MtxField::Pattern {
        v = parse_value(toks[2], shape.field, line)?;
        if shape.field == MtxField::Complex {
            parse_value(toks[3], shape.field, line)?;
        }
    }
    Ok(Some((i, j, v)))
}

/// Checks the banner (line 1) and returns its field and symmetry.
fn parse_banner(banner: &[u8]) -> Result<(MtxField, MtxSymmetry)> {
    let banner = banner.strip_prefix("\u{feff}".as_bytes()).unwrap_or(banner);
    const MAGIC: &[u8] = b"%%matrixmarket";
    let starts_ok =
        banner.len() >= MAGIC.len() && banner[..MAGIC.len()].eq_ignore_ascii_case(MAGIC);
    if !starts_ok {
        return Err(mtx_err(1, MtxErrorKind::MissingBanner));
    }
    let (words, count) = split_tokens::<5>(banner);
    let bad_banner = || {
        mtx_err(
            1,
            MtxErrorKind::BadBanner {
                found: snippet(banner),
            },
        )
    };
    if count != 5
        || !words[0].eq_ignore_ascii_case(MAGIC)
        || !words[1].eq_ignore_ascii_case(b"matrix")
    {
        return Err(bad_banner());
    }
    let word = |tok: &[u8]| String::from_utf8_lossy(tok).into_owned();
    if !words[2].eq_ignore_ascii_case(b"coordinate") {
        return Err(mtx_err(
            1,
            MtxErrorKind::UnsupportedFormat {
                found: snippet(words[2]),
            },
        ));
    }
    let field = MtxField::from_word(&word(words[3])).ok_or_else(|| {
        mtx_err(
            1,
            MtxErrorKind::UnknownField {
                found: snippet(words[3]),
            },
        )
    })?;
    let symmetry = MtxSymmetry::from_word(&word(words[4])).ok_or_else(|| {
        mtx_err(
            1,
            MtxErrorKind::UnknownSymmetry {
                found: snippet(words[4]),
            },
        )
    })?;
    Ok((field, symmetry))
}

/// Parses the size line (on `line`) of a file with the banner's field and symmetry.
fn parse_size_line(
    size_line: &[u8],
    line: usize,
    field: MtxField,
    symmetry: MtxSymmetry,
) -> Result<MtxHeader> {
    let (toks, count) = split_tokens::<3>(size_line);
    let bad_size = || {
        mtx_err(
            line,
            MtxErrorKind::BadSizeLine {
                found: snippet(size_line),
            },
        )
    };
    if count != 3 {
        return Err(bad_size());
    }
    let mut nums = [0u64; 3];
    for (n, tok) in nums.iter_mut().zip(toks) {
        *n = parse_u64(tok).ok_or_else(bad_size)?;
    }
    let [nrows, ncols, entries] = nums;
    for (what, v, limit) in [
        ("nrows", nrows, MAX_DIM),
        ("ncols", ncols, MAX_DIM),
        ("nnz", entries, MAX_NNZ),
    ] {
        if u128::from(v) > limit as u128 {
            return Err(PatternError::TooLarge {
                what,
                value: u128::from(v),
                limit: limit as u128,
            });
        }
    }
    // All three are now below 2^32 and so fit a usize on 64-bit targets; on narrower
    // targets the conversion fails and the value is reported as too large.
    let to_usize = |what: &'static str, v: u64| {
        usize::try_from(v).map_err(|_| PatternError::TooLarge {
            what,
            value: u128::from(v),
            limit: usize::MAX as u128,
        })
    };
    let (nrows, ncols, entries) = (
        to_usize("nrows", nrows)?,
        to_usize("ncols", ncols)?,
        to_usize("nnz", entries)?,
    );
    if symmetry.is_triangular() && nrows != ncols {
        return Err(mtx_err(
            line,
            MtxErrorKind::NotSquareSymmetric { nrows, ncols },
        ));
    }
    // The file must hold exactly `entries` entry lines (or fail with TooFewEntries /
    // TooManyEntries), so this bounds the row pointers by what the file holds.
    let limit = dimension_limit(entries);
    for (which, dim) in [("rows", nrows), ("columns", ncols)] {
        if dim > limit {
            return Err(mtx_err(
                line,
                MtxErrorKind::DimensionTooLarge {
                    which,
                    dim,
                    entries,
                    limit,
                },
            ));
        }
    }
    Ok(MtxHeader {
        field,
        symmetry,
        nrows,
        ncols,
        entries,
    })
}

/// The largest dimension a file with `entries` entry lines may declare:
/// max([`FREE_DIM`], [`DIM_PER_ENTRY`] · entries).
pub fn dimension_limit(entries: usize) -> usize {
    FREE_DIM.max(DIM_PER_ENTRY.saturating_mul(entries))
}

/// The line of every entry, as runs: from entry `first` (on line `line`) on, entries are on
/// consecutive lines until the next run starts. One run per block of comment or blank lines
/// among the entries, so at most one per entry.
#[derive(Debug, Default)]
struct EntryLines {
    runs: Vec<(usize, usize)>,
}

impl EntryLines {
    #[inline]
    fn push(&mut self, entry: usize, line: usize) {
        match self.runs.last() {
            Some(&(first, start)) if line - start == entry - first => {}
            _ => self.runs.push((entry, line)),
        }
    }

    fn line(&self, entry: usize) -> usize {
        let k = self.runs.partition_point(|&(first, _)| first <= entry) - 1;
        let (first, start) = self.runs[k];
        start + (entry - first)
    }
}

/// The incremental parser: fed whole lines in order, it keeps only the entries.
#[derive(Debug, Default)]
struct Parser {
    /// Lines consumed so far.
    line: usize,
    /// Field and symmetry, once the banner is read.
    banner: Option<(MtxField, MtxSymmetry)>,
    /// The header, once the size line is read.
    header: Option<MtxHeader>,
    /// Bytes of lines that are not entries (banner, comments, blank lines, size line).
    other_bytes: usize,
    rows: Vec<u32>,
    cols: Vec<u32>,
    vals: Vec<f64>,
    lines: EntryLines,
}

impl Parser {
    /// Counts `bytes` bytes of a line that is not an entry (ending on `line`).
    #[inline]
    fn other(&mut self, bytes: usize, line: usize) -> Result<()> {
        self.other_bytes += bytes;
        if self.other_bytes > MAX_COMMENT_BYTES {
            return Err(mtx_err(
                line,
                MtxErrorKind::TooManyCommentBytes {
                    limit: MAX_COMMENT_BYTES,
                },
            ));
        }
        Ok(())
    }

    /// Parses `chunk`: whole lines, the last one without its newline only at the end of
    /// the input.
    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let mut lines = Lines {
            bytes: chunk,
            pos: 0,
            line: self.line,
        };
        let result = self.feed_lines(&mut lines);
        self.line = lines.line;
        result
    }

    fn feed_lines(&mut self, lines: &mut Lines<'_>) -> Result<()> {
        let header = loop {
            if let Some(h) = &self.header {
                break h.clone();
            }
            let Some(l) = lines.next_line() else {
                return Ok(());
            };
            self.other(l.len() + 1, lines.line)?;
            match self.banner {
                None => self.banner = Some(parse_banner(l)?),
                // The size line: the first line after the banner that is neither blank nor
                // a comment.
                Some(_) if is_skippable(l) => {}
                Some((field, symmetry)) => {
                    self.header = Some(parse_size_line(l, lines.line, field, symmetry)?);
                }
            }
        };
        let MtxHeader {
            field,
            symmetry,
            nrows,
            ncols,
            entries: declared,
        } = header;
        let has_values = field != MtxField::Pattern;
        let triangular = symmetry.is_triangular();
        let skew = symmetry == MtxSymmetry::SkewSymmetric;
        let shape = EntryShape {
            field,
            nrows,
            ncols,
        };
        let bytes = lines.bytes;
        while lines.pos < bytes.len() {
            // The fast path handles ordinary entry lines in a single pass; anything else
            // (blank lines, comments, unusual numbers, errors) goes through the general
            // path, which also produces the error messages.
            let (i, j, v) = match fast_entry(bytes, lines.pos, shape) {
                Fast::Entry { i, j, v, next } => {
                    lines.pos = next;
                    lines.line += 1;
                    (i, j, v)
                }
                Fast::Blank { next } => {
                    let len = next - lines.pos;
                    lines.pos = next;
                    lines.line += 1;
                    self.other(len, lines.line)?;
                    continue;
                }
                Fast::Slow => {
                    let Some(l) = lines.next_line() else { break };
                    let full = self.rows.len() == declared;
                    match slow_entry(l, lines.line, shape, full, declared)? {
                        Some(e) => e,
                        None => {
                            self.other(l.len() + 1, lines.line)?;
                            continue;
                        }
                    }
                }
            };
            let line = lines.line;
            if self.rows.len() == declared {
                return Err(mtx_err(line, MtxErrorKind::TooManyEntries { declared }));
            }
            if triangular {
                if j > i {
                    return Err(mtx_err(
                        line,
                        MtxErrorKind::UpperEntryInSymmetricFile {
                            row: i as usize + 1,
                            col: j as usize + 1,
                        },
                    ));
                }
                if skew && i == j {
                    return Err(mtx_err(
                        line,
                        MtxErrorKind::DiagonalInSkewSymmetric {
                            row: i as usize + 1,
                        },
                    ));
                }
            }
            // No reservation from the declared count: memory follows the entries present.
            if has_values {
                self.vals.push(v);
            }
            self.lines.push(self.rows.len(), line);
            self.rows.push(i);
            self.cols.push(j);
        }
        Ok(())
    }

    /// Checks that the input held a header and every declared entry, and builds the pattern.
    fn finish(self) -> Result<MatrixMarket> {
        let end_line = self.line + 1;
        if self.banner.is_none() {
            return Err(mtx_err(1, MtxErrorKind::MissingBanner));
        }
        let Some(header) = self.header else {
            return Err(mtx_err(end_line, MtxErrorKind::MissingSizeLine));
        };
        if self.rows.len() < header.entries {
            return Err(mtx_err(
                end_line,
                MtxErrorKind::TooFewEntries {
                    declared: header.entries,
                    found: self.rows.len(),
                },
            ));
        }
        let mirror = match header.symmetry {
            MtxSymmetry::General => Mirror::None,
            MtxSymmetry::Symmetric | MtxSymmetry::Hermitian => Mirror::Same,
            MtxSymmetry::SkewSymmetric => Mirror::Negate,
        };
        let has_values = header.field != MtxField::Pattern;
        let (pattern, values) = assemble(
            header.nrows,
            header.ncols,
            &self.rows,
            &self.cols,
            has_values.then_some(&self.vals[..]),
            mirror,
            &self.lines,
        )?;
        Ok(MatrixMarket {
            header,
            pattern,
            values,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mirror {
    None,
    Same,
    Negate,
}

/// Builds the CSR structure (and values in its order) from 0-based coordinates in O(nnz +
/// nrows): a counting sort by row that also places mirrored entries, then an in-place pass
/// that is linear for rows already sorted and duplicate-free (the usual layouts, including
/// the expansion of a lower triangle stored row by row or column by column) and sorts and
/// merges the others. Duplicates whose sum is not finite are refused with the lines of the
/// entries summed (`lines`).
fn assemble(
    nrows: usize,
    ncols: usize,
    rows: &[u32],
    cols: &[u32],
    vals: Option<&[f64]>,
    mirror: Mirror,
    lines: &EntryLines,
) -> Result<(Pattern, Option<Vec<f64>>)> {
    let mirrored = |i: u32, j: u32| mirror != Mirror::None && i != j;
    let mut ptr = vec![0usize; nrows + 1];
    for (&i, &j) in rows.iter().zip(cols) {
        ptr[i as usize + 1] += 1;
        if mirrored(i, j) {
            ptr[j as usize + 1] += 1;
        }
    }
    for r in 0..nrows {
        ptr[r + 1] += ptr[r];
    }
    let total = ptr[nrows];
    check_nnz(total)?;

    let with_vals = vals.is_some();
    // `ptr[r]` is the next slot of row r while placing (no second array of row pointers):
    // afterwards it is the end of row r, and shifting by one restores the starts.
    let mut col_idx = vec![0usize; total];
    let mut out_vals = vec![0f64; if with_vals { total } else { 0 }];
    match vals {
        Some(vals) => {
            let sign = if mirror == Mirror::Negate { -1.0 } else { 1.0 };
            for ((&i, &j), &v) in rows.iter().zip(cols).zip(vals) {
                let slot = &mut ptr[i as usize];
                col_idx[*slot] = j as usize;
                out_vals[*slot] = v;
                *slot += 1;
                if mirrored(i, j) {
                    let slot = &mut ptr[j as usize];
                    col_idx[*slot] = i as usize;
                    out_vals[*slot] = sign * v;
                    *slot += 1;
                }
            }
        }
        None => {
            for (&i, &j) in rows.iter().zip(cols) {
                let slot = &mut ptr[i as usize];
                col_idx[*slot] = j as usize;
                *slot += 1;
                if mirrored(i, j) {
                    let slot = &mut ptr[j as usize];
                    col_idx[*slot] = i as usize;
                    *slot += 1;
                }
            }
        }
    }
    ptr.copy_within(0..nrows, 1);
    ptr[0] = 0;

    // Sort (where needed) and merge duplicates row by row, compacting in place: the write
    // position never passes the read position. `ptr[r + 1]` is read as the end of bucket r
    // before it is overwritten with the end of compacted row r.
    let mut scratch: Vec<(usize, f64)> = Vec::new();
    let mut write = 0;
    let mut start = 0;
    for r in 0..nrows {
        let end = ptr[r + 1];
        let row_start = write;
        if col_idx[start..end].windows(2).all(|w| w[0] < w[1]) {
            if write != start {
                col_idx.copy_within(start..end, write);
                if with_vals {
                    out_vals.copy_within(start..end, write);
                }
            }
            write += end - start;
        } else if with_vals {
            scratch.clear();
            scratch.extend(
                col_idx[start..end]
                    .iter()
                    .copied()
                    .zip(out_vals[start..end].iter().copied()),
            );
            // Stable, so duplicates are summed in file order.
            scratch.sort_by_key(|&(c, _)| c);
            for &(c, v) in &scratch {
                if write > row_start && col_idx[write - 1] == c {
                    out_vals[write - 1] += v;
                    if !out_vals[write - 1].is_finite() {
                        let vals = vals.unwrap_or(&[]);
                        return Err(sum_overflow(r, c, rows, cols, vals, mirror, lines));
                    }
                } else {
                    col_idx[write] = c;
                    out_vals[write] = v;
                    write += 1;
                }
            }
        } else {
            col_idx[start..end].sort_unstable();
            for k in start..end {
                let c = col_idx[k];
                if write == row_start || col_idx[write - 1] != c {
                    col_idx[write] = c;
                    write += 1;
                }
            }
        }
        start = end;
        ptr[r + 1] = write;
    }
    col_idx.truncate(write);
    let values = with_vals.then(|| {
        out_vals.truncate(write);
        out_vals
    });
    Ok((
        Pattern::from_parts_unchecked(nrows, ncols, ptr, col_idx),
        values,
    ))
}

/// Most lines listed by [`MtxErrorKind::SumOverflow`].
const MAX_LISTED_LINES: usize = 16;

/// The error for entry (r, c) (0-based) whose duplicates sum to a value that is not finite:
/// the sum is redone in file order (as [`assemble`] sums) to find the entry that overflows.
fn sum_overflow(
    r: usize,
    c: usize,
    rows: &[u32],
    cols: &[u32],
    vals: &[f64],
    mirror: Mirror,
    lines: &EntryLines,
) -> PatternError {
    let sign = if mirror == Mirror::Negate { -1.0 } else { 1.0 };
    let (mut sum, mut count, mut listed, mut at) = (0.0f64, 0, Vec::new(), 0);
    for (k, ((&i, &j), &v)) in rows.iter().zip(cols).zip(vals).enumerate() {
        let (i, j) = (i as usize, j as usize);
        let term = if (i, j) == (r, c) {
            v
        } else if mirror != Mirror::None && i != j && (j, i) == (r, c) {
            sign * v
        } else {
            continue;
        };
        sum += term;
        count += 1;
        at = lines.line(k);
        if listed.len() < MAX_LISTED_LINES {
            listed.push(at);
        }
        if !sum.is_finite() {
            break;
        }
    }
    if listed.last() != Some(&at) {
        listed.pop();
        listed.push(at);
    }
    mtx_err(
        at,
        MtxErrorKind::SumOverflow {
            row: r + 1,
            col: c + 1,
            count,
            lines: listed,
        },
    )
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Writes a pattern (and optional values in the pattern's order) as a Matrix Market
/// coordinate file.
///
/// * `values = None` writes a `pattern` file, `Some` a `real` file whose values read back
///   exactly (shortest round-trip formatting).
/// * [`MtxSymmetry::General`] writes every entry. [`MtxSymmetry::Symmetric`] and
///   [`MtxSymmetry::Hermitian`] need a square symmetric pattern (and symmetric values) and
///   write the lower triangle; [`MtxSymmetry::SkewSymmetric`] needs an empty diagonal and
///   antisymmetric values and writes the strict lower triangle. Entries are written row by
///   row, each with its own stored value.
///
/// Everything is checked before the first byte is written. Errors: a value count that
/// differs from `pattern.nnz()` gives [`PatternError::LengthMismatch`]; a rectangular pattern
/// with a non-general symmetry [`PatternError::NotSquare`]; a symmetry violation or a
/// non-finite value [`PatternError::MatrixMarketWrite`] with [`MtxErrorKind::AsymmetricPattern`], [`MtxErrorKind::AsymmetricValues`],
/// [`MtxErrorKind::DiagonalInSkewSymmetric`] or [`MtxErrorKind::NonFiniteValue`]; a failing
/// writer [`PatternError::Io`] with `path = None`.
pub fn write_matrix_market(
    w: &mut dyn std::io::Write,
    pattern: &Pattern,
    values: Option<&[f64]>,
    symmetry: MtxSymmetry,
) -> Result<()> {
    let io_err = |source| PatternError::Io {
        action: "write",
        path: None,
        source,
    };
    validate_for_write(pattern, values, symmetry)?;
    render(pattern, values, symmetry, &mut |chunk: &str| {
        w.write_all(chunk.as_bytes())
    })
    .map_err(io_err)?;
    w.flush().map_err(io_err)
}

/// [`write_matrix_market`] to a file (created or truncated, buffered); the file is not
/// touched when the checks fail. I/O errors carry the path.
pub fn write_matrix_market_file(
    path: impl AsRef<Path>,
    pattern: &Pattern,
    values: Option<&[f64]>,
    symmetry: MtxSymmetry,
) -> Result<()> {
    let path = path.as_ref();
    validate_for_write(pattern, values, symmetry)?;
    let io_err = |source| PatternError::Io {
        action: "write",
        path: Some(path.to_path_buf()),
        source,
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut file = std::io::BufWriter::new(file);
    render(pattern, values, symmetry, &mut |chunk: &str| {
        std::io::Write::write_all(&mut file, chunk.as_bytes())
    })
    .map_err(io_err)?;
    std::io::Write::flush(&mut file).map_err(io_err)
}

/// [`write_matrix_market`] into a `String`.
///
/// ```
/// use sparsediff_pattern::{mtx::to_matrix_market_string, MtxSymmetry, Pattern};
/// let p = Pattern::from_entries(2, 2, [(0, 0), (1, 0), (0, 1)])?;
/// let text = to_matrix_market_string(&p, Some(&[1.0, 0.5, 0.5]), MtxSymmetry::Symmetric)?;
/// assert_eq!(text, "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1.0\n2 1 0.5\n");
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn to_matrix_market_string(
    pattern: &Pattern,
    values: Option<&[f64]>,
    symmetry: MtxSymmetry,
) -> Result<String> {
    validate_for_write(pattern, values, symmetry)?;
    let mut out = String::new();
    render(pattern, values, symmetry, &mut |chunk: &str| {
        out.push_str(chunk);
        Ok(())
    })
    .map_err(|source| PatternError::Io {
        action: "write",
        path: None,
        source,
    })?;
    Ok(out)
}

fn write_err(kind: MtxErrorKind) -> PatternError {
    PatternError::MatrixMarketWrite { kind }
}

/// Checks that `pattern` (and `values`) can be written with `symmetry`.
fn validate_for_write(
    pattern: &Pattern,
    values: Option<&[f64]>,
    symmetry: MtxSymmetry,
) -> Result<()> {
    if let Some(v) = values {
        if v.len() != pattern.nnz() {
            return Err(PatternError::LengthMismatch {
                what: "values and pattern entries",
                left: v.len(),
                right: pattern.nnz(),
            });
        }
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(write_err(MtxErrorKind::NonFiniteValue {
                found: format!("{x:?}"),
            }));
        }
    }
    if symmetry == MtxSymmetry::General {
        return Ok(());
    }
    if !pattern.is_square() {
        return Err(PatternError::NotSquare {
            op: "writing a symmetric Matrix Market file",
            nrows: pattern.nrows(),
            ncols: pattern.ncols(),
        });
    }
    let skew = symmetry == MtxSymmetry::SkewSymmetric;
    if skew && let Some(i) = (0..pattern.nrows()).find(|&i| pattern.contains(i, i)) {
        return Err(write_err(MtxErrorKind::DiagonalInSkewSymmetric {
            row: i + 1,
        }));
    }
    // Transpose carrying positions: for a symmetric pattern the k-th entry of the transpose
    // is the k-th entry of the pattern, and `src[k]` is the position of its mirror.
    let n = pattern.nrows();
    let mut tptr = vec![0usize; n + 1];
    for &j in pattern.col_idx() {
        tptr[j + 1] += 1;
    }
    for j in 0..n {
        tptr[j + 1] += tptr[j];
    }
    let symmetric_pattern = tptr == pattern.row_ptr() && {
        let mut next = tptr.clone();
        let mut tcol = vec![0usize; pattern.nnz()];
        let mut src = vec![0usize; if values.is_some() { pattern.nnz() } else { 0 }];
        for i in 0..n {
            for p in pattern.row_range(i) {
                let j = pattern.col_idx()[p];
                tcol[next[j]] = i;
                if values.is_some() {
                    src[next[j]] = p;
                }
                next[j] += 1;
            }
        }
        let same = tcol == pattern.col_idx();
        if same && let Some(v) = values {
            for i in 0..n {
                for k in pattern.row_range(i) {
                    let (a, b) = (v[k], v[src[k]]);
                    let ok = if skew { a == -b } else { a == b };
                    if !ok {
                        let j = pattern.col_idx()[k];
                        return Err(write_err(MtxErrorKind::AsymmetricValues {
                            symmetry,
                            row: i + 1,
                            col: j + 1,
                        }));
                    }
                }
            }
        }
        same
    };
    if !symmetric_pattern
        && let Some((i, j)) = pattern.iter().find(|&(i, j)| !pattern.contains(j, i))
    {
        return Err(write_err(MtxErrorKind::AsymmetricPattern {
            row: i + 1,
            col: j + 1,
        }));
    }
    Ok(())
}

/// Size of the text chunks handed to the sink.
const CHUNK: usize = 1 << 16;

fn push_usize(buf: &mut String, mut v: usize) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[k..] {
        buf.push(char::from(d));
    }
}

/// Formats the (already validated) file and hands it to `sink` in chunks.
fn render(
    pattern: &Pattern,
    values: Option<&[f64]>,
    symmetry: MtxSymmetry,
    sink: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let field = if values.is_some() {
        MtxField::Real
    } else {
        MtxField::Pattern
    };
    // Entries written: all of them, or the (strict) lower triangle, row by row, so that every
    // value written is the stored one (no negation of a mirror).
    let keep = |i: usize, j: usize| match symmetry {
        MtxSymmetry::General => true,
        MtxSymmetry::SkewSymmetric => j < i,
        MtxSymmetry::Symmetric | MtxSymmetry::Hermitian => j <= i,
    };
    let count = if symmetry == MtxSymmetry::General {
        pattern.nnz()
    } else {
        pattern.iter().filter(|&(i, j)| keep(i, j)).count()
    };
    let mut buf = String::with_capacity(CHUNK + 128);
    let _ = writeln!(
        buf,
        "%%MatrixMarket matrix coordinate {field} {symmetry}\n{} {} {count}",
        pattern.nrows(),
        pattern.ncols()
    );
    for i in 0..pattern.nrows() {
        for p in pattern.row_range(i) {
            let j = pattern.col_idx()[p];
            if !keep(i, j) {
                continue;
            }
            push_usize(&mut buf, i + 1);
            buf.push(' ');
            push_usize(&mut buf, j + 1);
            if let Some(v) = values {
                let _ = write!(buf, " {:?}", v[p]);
            }
            buf.push('\n');
            if buf.len() >= CHUNK {
                sink(&buf)?;
                buf.clear();
            }
        }
    }
    if !buf.is_empty() {
        sink(&buf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Numeric-looking tokens: signs, digits, dots, exponents, and some junk.
    fn number_token() -> impl Strategy<Value = String> {
        let digits = || prop::collection::vec(prop::sample::select(b"0123456789".to_vec()), 0..20);
        (
            prop::sample::select(vec!["", "-", "+"]),
            digits(),
            prop::option::of(digits()),
            prop::option::of((
                prop::sample::select(vec!["e", "E", "e-", "e+", "d"]),
                0u32..400,
            )),
            prop::option::of(prop::sample::select(vec!["x", ".", "-", "inf", "nan"])),
        )
            .prop_map(|(sign, int, frac, exp, junk)| {
                let mut s = sign.to_owned();
                s.extend(int.iter().map(|&b| char::from(b)));
                if let Some(f) = frac {
                    s.push('.');
                    s.extend(f.iter().map(|&b| char::from(b)));
                }
                if let Some((e, k)) = exp {
                    s.push_str(e);
                    s.push_str(&k.to_string());
                }
                if let Some(j) = junk {
                    s.push_str(j);
                }
                s
            })
    }

    /// `default_cases` cases (or `PROPTEST_CASES` when it is set, as proptest reads it), no
    /// regression files.
    fn config(default_cases: u32) -> ProptestConfig {
        let from_env = ProptestConfig::default();
        ProptestConfig {
            cases: if std::env::var_os("PROPTEST_CASES").is_some() {
                from_env.cases
            } else {
                default_cases
            },
            failure_persistence: None,
            ..from_env
        }
    }

    /// The proptest block runs `PROPTEST_CASES` cases when it is set: checked in a child
    /// process (this test binary, running only this test) with `PROPTEST_CASES=3`.
    #[test]
    fn proptest_cases_come_from_the_environment() {
        match std::env::var("PROPTEST_CASES") {
            Ok(v) => assert_eq!(config(2000).cases.to_string(), v),
            Err(_) => {
                assert_eq!(config(2000).cases, 2000);
                let child = std::process::Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "mtx::tests::proptest_cases_come_from_the_environment",
                    ])
                    .env("PROPTEST_CASES", "3")
                    .output()
                    .unwrap();
                assert!(child.status.success(), "{child:?}");
                // The filter matched this test (an empty run would pass too).
                assert!(String::from_utf8_lossy(&child.stdout).contains("1 passed"));
            }
        }
    }

    proptest! {
        #![proptest_config(config(2000))]

        /// The fast value parser agrees bit for bit with the general one, and never accepts
        /// what the general one rejects.
        #[test]
        fn fast_value_agrees_with_parse_value(tok in number_token()) {
            for field in [MtxField::Real, MtxField::Integer, MtxField::Complex] {
                let slow = parse_value(tok.as_bytes(), field, 1).ok().map(f64::to_bits);
                let fast = fast_value(tok.as_bytes(), field).map(f64::to_bits);
                if fast.is_some() {
                    prop_assert_eq!(fast, slow, "{} {:?}", tok, field);
                }
                if tok.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'.') && tok.len() <= 12 {
                    // short plain decimals always take the fast path when valid
                    prop_assert_eq!(fast.is_some(), slow.is_some(), "{} {:?}", tok, field);
                }
            }
        }

        /// The single-pass line parser agrees with the general one on arbitrary lines.
        #[test]
        fn fast_entry_agrees_with_slow_entry(
            indices in prop::collection::vec(
                prop_oneof![
                    6 => (0usize..12).prop_map(|k| k.to_string()),
                    1 => number_token(),
                    1 => prop::sample::select(vec!["%", "", "007", "4294967297", "99999999999"]).prop_map(str::to_owned),
                ],
                2,
            ),
            values in prop::collection::vec(
                prop_oneof![
                    4 => number_token(),
                    1 => (-5i32..5).prop_map(|k| k.to_string()),
                    1 => prop::sample::select(vec!["%", "", "1e999", "NaN", "-0"]).prop_map(str::to_owned),
                ],
                3,
            ),
            value_count in prop_oneof![3 => Just(None), 1 => (0usize..4).prop_map(Some)],
            seps in prop::collection::vec(prop::sample::select(vec![" ", "\t", "  ", " \r", ""]), 7),
            field in prop::sample::select(vec![MtxField::Pattern, MtxField::Real, MtxField::Integer, MtxField::Complex]),
            newline in any::<bool>(),
        ) {
            let mut values = values;
            values.truncate(value_count.unwrap_or(field.fields_per_line() - 2));
            let mut line = seps[6].to_owned();
            for (k, p) in indices.iter().chain(&values).enumerate() {
                line.push_str(p);
                line.push_str(if seps[k].is_empty() && k + 1 < indices.len() + values.len() { " " } else { seps[k] });
            }
            let shape = EntryShape { field, nrows: 9, ncols: 10 };
            let text = if newline { format!("{line}\nrest") } else { line.clone() };
            let slow = slow_entry(line.as_bytes(), 1, shape, false, 100)
                .map(|e| e.map(|(i, j, v)| (i, j, v.to_bits())));
            match fast_entry(text.as_bytes(), 0, shape) {
                Fast::Entry { i, j, v, next } => {
                    prop_assert_eq!(slow.ok(), Some(Some((i, j, v.to_bits()))), "{:?}", line);
                    prop_assert_eq!(next, line.len() + usize::from(newline));
                }
                Fast::Blank { next } => {
                    prop_assert!(matches!(slow, Ok(None)), "{:?}", line);
                    prop_assert_eq!(next, line.len() + usize::from(newline));
                }
                Fast::Slow => {}
            }
        }
    }

    #[test]
    fn fast_path_is_taken_for_ordinary_lines() {
        let shape = EntryShape {
            field: MtxField::Real,
            nrows: 100,
            ncols: 100,
        };
        for line in [
            "1 1 1",
            "100 7 -1.5\n",
            "3\t4\t.25 \r\n",
            "2 2 6.5e-3",
            "5 5 0.16250000000000003",
        ] {
            assert!(
                matches!(fast_entry(line.as_bytes(), 0, shape), Fast::Entry { .. }),
                "{line}"
            );
        }
        for line in [
            "% c",
            "101 1 1",
            "0 1 1",
            "1 1",
            "1 1 1 1",
            "1 1 nan",
            "1 1 1e999",
        ] {
            assert!(
                matches!(fast_entry(line.as_bytes(), 0, shape), Fast::Slow),
                "{line}"
            );
        }
    }
}
