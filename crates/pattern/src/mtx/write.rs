//! Writing: checks the requested symmetry (and values) first, then formats the entries so
//! that they read back bit for bit.

use std::fmt::Write as _;
use std::path::Path;

use super::errors::{MtxErrorKind, write_err};
use super::header::{MtxField, MtxSymmetry};
use crate::error::{PatternError, Result};
use crate::pattern::Pattern;

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
