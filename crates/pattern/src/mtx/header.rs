//! The header of a Matrix Market file: field and symmetry (the banner), dimensions and
//! entry count (the size line), and the limit on declared dimensions.

use super::errors::{MtxErrorKind, mtx_err, snippet};
use super::lex::{parse_u64, split_tokens};
use crate::error::{PatternError, Result};
use crate::pattern::{MAX_DIM, MAX_NNZ};

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

/// Checks the banner (line 1) and returns its field and symmetry.
pub(super) fn parse_banner(banner: &[u8]) -> Result<(MtxField, MtxSymmetry)> {
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
pub(super) fn parse_size_line(
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
