//! Reading: the chunked reader, the incremental parser that keeps only the entries, and
//! the assembly of the full pattern (mirrored triangles, summed duplicates).

use std::path::Path;

use super::MatrixMarket;
use super::errors::{MtxErrorKind, mtx_err, with_path};
use super::header::{MtxField, MtxHeader, MtxSymmetry, parse_banner, parse_size_line};
use super::lex::{EntryShape, Fast, Lines, fast_entry, is_skippable, slow_entry};
use crate::error::{PatternError, Result};
use crate::pattern::{Pattern, check_nnz};

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

/// Parses Matrix Market text (coordinate format).
///
/// See the [module documentation](super) for what is accepted; errors carry `path: None`.
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
/// [module documentation](super) stop any input (`/dev/zero`, an endless pipe) early.
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
