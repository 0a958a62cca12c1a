//! The symbolic half of a banded factorisation: dimension, half-bandwidth, storage layout
//! and (optionally) the map from a pattern's CSR entries into band storage.

use sparsediff_pattern::Pattern;

use crate::error::{Result, SolveError, check_len, check_square_symmetric};

/// The structure of a symmetric n×n band of half-bandwidth β, computed once and reused by
/// every numeric factorisation.
///
/// # Storage layout
///
/// The lower triangle is stored column by column, LAPACK's `dpbtrf` layout with
/// `UPLO = 'L'` and leading dimension `LDAB = β + 1`: entry `A[i, j]` with
/// `j <= i <= j + β` lives at `storage[j·(β+1) + (i − j)]`, so column `j` is the contiguous
/// run `[A[j, j], A[j+1, j], …, A[j+β, j]]`. The last β columns are padded with zeros where
/// `i >= n`. This is the layout that makes the factorisation's inner loops contiguous: the
/// right-looking update of column `j + k` by column `j` reads and writes consecutive
/// entries of both. By symmetry column `j` of the lower triangle is the upper part of row
/// `j`, which is how a pattern's CSR values are read (see [`BandSymbolic::from_pattern`]).
///
/// After a factorisation the same slots hold `L` (unit lower, below the diagonal) and the
/// *reciprocal* pivots `1/D[j]` on the diagonal slots (the solve multiplies instead of
/// dividing); [`BandFactorRef::pivot`](crate::band::BandFactorRef::pivot) returns `D[j]`.
///
/// ```
/// use sparsediff_solve::band::BandSymbolic;
/// let s = BandSymbolic::new(5, 2)?;
/// assert_eq!(s.factor_len(), 5 * 3); // n·(β+1)
/// assert_eq!(s.index(3, 1), Some(1 * 3 + 2)); // A[3, 1], column 1, offset 2
/// assert_eq!(s.index(1, 3), Some(1 * 3 + 2)); // the mirror shares the slot
/// assert_eq!(s.index(4, 1), None); // outside the band
/// assert!(BandSymbolic::new(3, 3).is_err()); // band wider than the matrix
/// # Ok::<(), sparsediff_solve::SolveError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BandSymbolic {
    n: usize,
    beta: usize,
    gather: Option<Gather>,
}

/// Where each band column's values sit in a pattern's CSR value array.
#[derive(Debug, Clone)]
pub(crate) struct Gather {
    /// Number of entries of the pattern (length of the values slice).
    pub(crate) nnz: usize,
    /// For row `j`, the CSR position of the first entry with column `>= j`, and one past
    /// the last entry of the row: the upper part of row `j` is column `j` of the band.
    pub(crate) upper: Vec<(usize, usize)>,
    /// Column indices of the pattern (only used when `full` is false).
    pub(crate) col_idx: Vec<usize>,
    /// Every row's upper part is exactly `j ..= min(j + β, n − 1)`: columns are copied with
    /// one `copy_from_slice`, no zero fill, no index look-ups.
    pub(crate) full: bool,
    /// For a full band, the rows `β .. n − β` (2β + 1 entries each, consecutive in the
    /// values) and the position of `A[β, β]`: row i's upper part starts at
    /// `start + (i − β)·(2β + 1)`, so the const-β kernel reads it without the table.
    pub(crate) interior: Option<Interior>,
}

/// See [`Gather::interior`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interior {
    /// One past the last interior row (the first is β).
    pub(crate) end: usize,
    /// Position of `A[β, β]` in the values.
    pub(crate) start: usize,
}

impl BandSymbolic {
    /// A band of half-bandwidth `beta` in an n×n matrix, without a pattern: numeric
    /// factorisations then read band storage the caller filled
    /// ([`BandSymbolic::cholesky_band_in_place`], [`BandSymbolic::ldlt_band_in_place`]).
    ///
    /// Errors: [`SolveError::EmptyMatrix`] if `n == 0`, [`SolveError::BandTooWide`] if
    /// `beta >= n`.
    pub fn new(n: usize, beta: usize) -> Result<Self> {
        if n == 0 {
            return Err(SolveError::EmptyMatrix);
        }
        if beta >= n {
            return Err(SolveError::BandTooWide { beta, n });
        }
        // n·(β+1) must be addressable.
        n.checked_mul(beta + 1)
            .ok_or(SolveError::BandTooWide { beta, n })?;
        Ok(Self {
            n,
            beta,
            gather: None,
        })
    }

    /// The band of a square, structurally symmetric pattern, with half-bandwidth its
    /// bandwidth. Numeric factorisations then take values in the pattern's entry order
    /// (CSR, both triangles) and read the upper part of each row (`j >= i`); the strictly
    /// lower entries are assumed to mirror them and are not read (as LAPACK's `UPLO` and
    /// faer's `Side`).
    ///
    /// Errors: [`SolveError::NotSquare`], [`SolveError::EmptyMatrix`],
    /// [`SolveError::NotSymmetric`].
    ///
    /// ```
    /// use sparsediff_pattern::generators;
    /// use sparsediff_solve::band::BandSymbolic;
    /// let s = BandSymbolic::from_pattern(&generators::band(10, 3, 3)?)?;
    /// assert_eq!((s.n(), s.beta()), (10, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_pattern(pattern: &Pattern) -> Result<Self> {
        check_square_symmetric(pattern)?;
        let beta = pattern.upper_bandwidth();
        Self::with_pattern(pattern, beta)
    }

    /// Like [`BandSymbolic::from_pattern`] with a declared half-bandwidth `beta`, which must
    /// contain every entry.
    ///
    /// Errors: those of `from_pattern`, [`SolveError::BandTooWide`] if `beta >= n`,
    /// [`SolveError::OutsideBand`] naming the first entry outside the band.
    pub fn from_pattern_with_beta(pattern: &Pattern, beta: usize) -> Result<Self> {
        check_square_symmetric(pattern)?;
        Self::with_pattern(pattern, beta)
    }

    fn with_pattern(pattern: &Pattern, beta: usize) -> Result<Self> {
        let n = pattern.nrows();
        let mut s = Self::new(n, beta)?;
        let mut upper = Vec::with_capacity(n);
        let mut full = true;
        for j in 0..n {
            let range = pattern.row_range(j);
            let row = pattern.row(j);
            let first_upper = row.partition_point(|&c| c < j);
            for &c in row {
                if c.abs_diff(j) > beta {
                    return Err(SolveError::OutsideBand {
                        row: j,
                        col: c,
                        beta,
                    });
                }
            }
            let len = row.len() - first_upper;
            let want = (j + beta).min(n - 1) - j + 1;
            // Sorted, unique, within j..=j+β: `want` entries starting at j is the whole run.
            full &= len == want && row.get(first_upper) == Some(&j);
            upper.push((range.start + first_upper, range.end));
        }
        // Rows β .. n − β of a full band are evenly spaced; checked, not assumed.
        let interior = if full && n > 2 * beta {
            let stride = 2 * beta + 1;
            let start = upper[beta].0;
            (beta..n - beta)
                .all(|i| {
                    let (lo, hi) = upper[i];
                    lo == start + (i - beta) * stride && hi == lo + beta + 1 && lo >= beta
                })
                .then_some(Interior {
                    end: n - beta,
                    start,
                })
        } else {
            None
        };
        s.gather = Some(Gather {
            nnz: pattern.nnz(),
            interior,
            upper,
            col_idx: if full {
                Vec::new()
            } else {
                pattern.col_idx().to_vec()
            },
            full,
        });
        Ok(s)
    }

    /// Dimension n.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Half-bandwidth β.
    pub fn beta(&self) -> usize {
        self.beta
    }

    /// Whether this analysis was built from a pattern (and so accepts values in its order).
    pub fn has_pattern(&self) -> bool {
        self.gather.is_some()
    }

    /// Number of values a pattern-ordered value slice must have (`None` without a pattern).
    pub fn pattern_nnz(&self) -> Option<usize> {
        self.gather.as_ref().map(|g| g.nnz)
    }

    /// Length of the band storage, `n·(β+1)`: what the caller allocates for the in-place
    /// factorisations (the factorisation itself never allocates).
    pub fn factor_len(&self) -> usize {
        self.n * (self.beta + 1)
    }

    /// Leading dimension of the storage, β + 1.
    pub fn ldab(&self) -> usize {
        self.beta + 1
    }

    /// The storage slot of `A[i, j]` (either triangle), `None` outside the band or matrix.
    pub fn index(&self, i: usize, j: usize) -> Option<usize> {
        let (lo, hi) = if i <= j { (i, j) } else { (j, i) };
        (hi < self.n && hi - lo <= self.beta).then(|| lo * (self.beta + 1) + (hi - lo))
    }

    /// Fills band storage from values in the pattern's order, adding `shift` to the
    /// diagonal (A + shift·I), without factorising. Useful to inspect the layout or to
    /// factorise the same matrix twice.
    ///
    /// Errors: [`SolveError::NoPattern`], [`SolveError::LengthMismatch`],
    /// [`SolveError::NonFinite`].
    pub fn fill_band(&self, values: &[f64], shift: f64, storage: &mut [f64]) -> Result<()> {
        let g = self.check_values(values, shift)?;
        check_len("band storage", self.factor_len(), storage.len())?;
        let w = self.beta + 1;
        for j in 0..self.n {
            load_column(g, values, shift, j, &mut storage[j * w..(j + 1) * w]).map_err(
                |index| SolveError::NonFinite {
                    what: "values",
                    index,
                },
            )?;
        }
        Ok(())
    }

    /// Whether every row's upper part fills the band (`j ..= min(j + β, n − 1)`); false
    /// without a pattern.
    pub(crate) fn is_full_band(&self) -> bool {
        self.gather.as_ref().is_some_and(|g| g.full)
    }

    pub(crate) fn check_values(&self, values: &[f64], shift: f64) -> Result<&Gather> {
        let g = self.gather.as_ref().ok_or(SolveError::NoPattern)?;
        check_len("values (pattern entries)", g.nnz, values.len())?;
        if !shift.is_finite() {
            return Err(SolveError::NonFinite {
                what: "shift",
                index: 0,
            });
        }
        Ok(g)
    }
}

/// The exponent bits of an `f64`: all set exactly for ±∞ and NaN.
pub(crate) const EXPONENT: u64 = 0x7ff0_0000_0000_0000;

/// Writes band column `j` (length β + 1) from the pattern's values, plus `shift` on the
/// diagonal. Returns `Err(position)` of a non-finite value among those read.
#[inline(always)]
pub(crate) fn load_column(
    g: &Gather,
    values: &[f64],
    shift: f64,
    j: usize,
    col: &mut [f64],
) -> std::result::Result<(), usize> {
    let (start, end) = g.upper[j];
    let src = &values[start..end];
    // Vectorisable finiteness test: OR of "exponent all ones" over the run.
    let bad = src
        .iter()
        .fold(false, |acc, v| acc | (v.to_bits() & EXPONENT == EXPONENT));
    if bad {
        let k = src.iter().position(|v| !v.is_finite()).unwrap_or(0);
        return Err(start + k);
    }
    if g.full {
        col[..src.len()].copy_from_slice(src);
        col[src.len()..].fill(0.0);
    } else {
        col.fill(0.0);
        for (&c, &v) in g.col_idx[start..end].iter().zip(src) {
            col[c - j] = v;
        }
    }
    col[0] += shift;
    Ok(())
}
