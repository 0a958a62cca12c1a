//! Lines, tokens and numbers of a Matrix Market file, and the single-pass parser of
//! ordinary entry lines (with the general path it falls back to).

use super::errors::{MtxErrorKind, mtx_err, snippet};
use super::header::MtxField;
use crate::error::Result;

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// Walks the input line by line, counting 1-based line numbers.
pub(super) struct Lines<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
}

impl<'a> Lines<'a> {
    #[inline]
    pub(super) fn next_line(&mut self) -> Option<&'a [u8]> {
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
pub(super) fn is_skippable(line: &[u8]) -> bool {
    match line.iter().position(|&b| !is_space(b)) {
        None => true,
        Some(k) => line[k] == b'%',
    }
}

/// Splits a line into whitespace-separated tokens, keeping the first `N` and counting all.
#[inline]
pub(super) fn split_tokens<const N: usize>(line: &[u8]) -> ([&[u8]; N], usize) {
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
pub(super) fn parse_u64(tok: &[u8]) -> Option<u64> {
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
pub(super) fn parse_value(tok: &[u8], field: MtxField, line: usize) -> Result<f64> {
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
pub(super) struct EntryShape {
    pub(super) field: MtxField,
    pub(super) nrows: usize,
    pub(super) ncols: usize,
}

/// Outcome of the single-pass entry parser.
pub(super) enum Fast {
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
pub(super) fn fast_value(tok: &[u8], field: MtxField) -> Option<f64> {
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
pub(super) fn fast_entry(bytes: &[u8], pos: usize, shape: EntryShape) -> Fast {
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
pub(super) fn slow_entry(
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
