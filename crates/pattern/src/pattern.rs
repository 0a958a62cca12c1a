//! The [`Pattern`] type: an m×n sparsity structure in compressed sparse row (CSR) form.

use crate::error::{PatternError, Result};

/// Largest number of stored entries this crate agrees to build (2²⁸ ≈ 2.7·10⁸ entries, about
/// 2 GiB of indices). Generators and readers refuse larger requests with
/// [`PatternError::TooLarge`] instead of exhausting memory.
pub const MAX_NNZ: usize = 1 << 28;

/// Largest dimension (rows or columns) this crate agrees to build (2²⁸ ≈ 2.7·10⁸). Indices
/// then fit in `u32`, which the colouring algorithms use for compact graphs, and a row-pointer
/// array never exceeds 2 GiB, whatever a file header declares.
pub const MAX_DIM: usize = 1 << 28;

/// An m×n sparsity pattern in CSR form: which entries of a matrix may be nonzero.
///
/// Invariants (checked by every constructor, relied upon by every algorithm):
/// * `row_ptr.len() == nrows + 1`, `row_ptr[0] == 0`, non-decreasing, `row_ptr[nrows] == nnz`;
/// * within each row the column indices are strictly increasing (sorted, no duplicates)
///   and smaller than `ncols`.
///
/// These are exactly the invariants of sprs `CsMat` (CSR) and faer
/// `SymbolicSparseRowMat`, so both views are zero-copy ([`Pattern::as_sprs`],
/// [`Pattern::as_faer`]).
///
/// ```
/// use sparsediff_pattern::Pattern;
/// // the 3×3 tridiagonal pattern
/// let p = Pattern::from_entries(3, 3, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)])?;
/// assert_eq!(p.nnz(), 7);
/// assert_eq!(p.row(1), &[0, 1, 2]);
/// assert_eq!(p.bandwidth(), (1, 1)); // (lower, upper)
/// assert!(p.is_symmetric());
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
///
/// With the feature `serde`, a pattern is `{"nrows", "ncols", "row_ptr", "col_idx"}` (its
/// CSR arrays); reading one checks it like [`from_csr`](Self::from_csr), so a bad file is
/// an error, never an invalid pattern.
#[derive(Clone)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "serde_impl::Csr")
)]
pub struct Pattern {
    nrows: usize,
    ncols: usize,
    row_ptr: Vec<usize>,
    col_idx: Vec<usize>,
    /// [`full_grid5`](crate::full_grid5)'s answer, worked out on first use (a pattern never
    /// changes): the shared colouring bounds and the stencil design of one `prepare` both
    /// ask, and each answer reads every entry (about 5 ms on the 1e6 grid).
    pub(crate) grid5: std::sync::OnceLock<Option<(usize, usize)>>,
}

// Equality and hashing are the structure's (the cached answer follows from it).
impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        (self.nrows, self.ncols, &self.row_ptr, &self.col_idx)
            == (other.nrows, other.ncols, &other.row_ptr, &other.col_idx)
    }
}

impl Eq for Pattern {}

impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.nrows, self.ncols, &self.row_ptr, &self.col_idx).hash(state);
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pattern({}×{}, nnz = {}",
            self.nrows,
            self.ncols,
            self.nnz()
        )?;
        if self.nnz() <= 64 {
            write!(f, ", entries = [")?;
            for (k, (i, j)) in self.iter().enumerate() {
                if k > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "({i}, {j})")?;
            }
            write!(f, "]")?;
        }
        write!(f, ")")
    }
}

pub(crate) fn check_dims(nrows: usize, ncols: usize) -> Result<()> {
    for (what, v) in [("nrows", nrows), ("ncols", ncols)] {
        if v > MAX_DIM {
            return Err(PatternError::TooLarge {
                what,
                value: v as u128,
                limit: MAX_DIM as u128,
            });
        }
    }
    Ok(())
}

pub(crate) fn check_nnz(nnz: usize) -> Result<()> {
    if nnz > MAX_NNZ {
        return Err(PatternError::TooLarge {
            what: "nnz",
            value: nnz as u128,
            limit: MAX_NNZ as u128,
        });
    }
    Ok(())
}

impl Pattern {
    /// Builds a pattern from CSR arrays, checking every invariant.
    ///
    /// Errors name the first offending row: wrong `row_ptr` length, pointers that do not
    /// start at 0 / decrease / do not end at `col_idx.len()`, a column index out of range,
    /// or a row whose indices are not strictly increasing.
    pub fn from_csr(
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
    ) -> Result<Self> {
        check_dims(nrows, ncols)?;
        check_nnz(col_idx.len())?;
        check_row_ptr(nrows, &row_ptr, col_idx.len())?;
        for i in 0..nrows {
            let row = &col_idx[row_ptr[i]..row_ptr[i + 1]];
            for (k, &j) in row.iter().enumerate() {
                if j >= ncols {
                    return Err(PatternError::IndexOutOfBounds {
                        row: i,
                        col: j,
                        nrows,
                        ncols,
                    });
                }
                if k > 0 && row[k - 1] >= j {
                    return Err(PatternError::UnsortedRow {
                        row: i,
                        position: k,
                    });
                }
            }
        }
        Ok(Self {
            nrows,
            ncols,
            row_ptr,
            col_idx,
            grid5: std::sync::OnceLock::new(),
        })
    }

    /// Builds a pattern from CSR arrays the caller has built to satisfy every invariant
    /// [`from_csr`](Self::from_csr) checks, without checking them again (they are checked
    /// in debug builds). For a producer that makes its rows sorted and in range by
    /// construction: the checks of `from_csr` read every entry once more (9 ms of the
    /// 1e6 grid Hessian's 5e6 entries in `papers/ad-backends.md`, session 27).
    ///
    /// # Safety
    ///
    /// `row_ptr` has `nrows + 1` non-decreasing offsets from 0 to `col_idx.len()`, every
    /// row of `col_idx` is strictly increasing and below `ncols`, and `nrows`, `ncols` and
    /// `col_idx.len()` are within [`MAX_DIM`](crate::MAX_DIM) and
    /// [`MAX_NNZ`](crate::MAX_NNZ). Code that reads a pattern may index without bounds
    /// checks on these invariants.
    ///
    /// ```
    /// use sparsediff_pattern::Pattern;
    ///
    /// // SAFETY: rows {0, 2} and {1}: sorted, below 3, offsets 0 ≤ 2 ≤ 3 = entries.
    /// let p = unsafe { Pattern::from_csr_unchecked(2, 3, vec![0, 2, 3], vec![0, 2, 1]) };
    /// assert_eq!(p, Pattern::from_csr(2, 3, vec![0, 2, 3], vec![0, 2, 1])?);
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub unsafe fn from_csr_unchecked(
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
    ) -> Self {
        Self::from_parts_unchecked(nrows, ncols, row_ptr, col_idx)
    }

    /// Builds a pattern from CSR arrays whose rows may be unsorted or contain duplicates;
    /// each row is sorted and deduplicated. Indices are still range-checked.
    pub fn from_csr_unsorted(
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
    ) -> Result<Self> {
        check_dims(nrows, ncols)?;
        check_nnz(col_idx.len())?;
        check_row_ptr(nrows, &row_ptr, col_idx.len())?;
        let mut out_ptr = Vec::with_capacity(nrows + 1);
        let mut out_idx = Vec::with_capacity(col_idx.len());
        out_ptr.push(0);
        let mut scratch = Vec::new();
        for i in 0..nrows {
            scratch.clear();
            scratch.extend_from_slice(&col_idx[row_ptr[i]..row_ptr[i + 1]]);
            if let Some(&j) = scratch.iter().find(|&&j| j >= ncols) {
                return Err(PatternError::IndexOutOfBounds {
                    row: i,
                    col: j,
                    nrows,
                    ncols,
                });
            }
            scratch.sort_unstable();
            scratch.dedup();
            out_idx.extend_from_slice(&scratch);
            out_ptr.push(out_idx.len());
        }
        Ok(Self::from_parts_unchecked(nrows, ncols, out_ptr, out_idx))
    }

    /// Builds a pattern from (row, column) pairs in any order; duplicates are merged.
    ///
    /// Runs in O(nnz + nrows) with a counting sort by row, then sorts each row.
    pub fn from_entries<I>(nrows: usize, ncols: usize, entries: I) -> Result<Self>
    where
        I: IntoIterator<Item = (usize, usize)>,
    {
        check_dims(nrows, ncols)?;
        let entries = entries.into_iter();
        let mut rows = Vec::with_capacity(entries.size_hint().0.min(MAX_NNZ));
        let mut cols = Vec::with_capacity(entries.size_hint().0.min(MAX_NNZ));
        for (i, j) in entries {
            if i >= nrows || j >= ncols {
                return Err(PatternError::IndexOutOfBounds {
                    row: i,
                    col: j,
                    nrows,
                    ncols,
                });
            }
            rows.push(i);
            cols.push(j);
            check_nnz(rows.len())?;
        }
        Self::from_triplets(nrows, ncols, &rows, &cols)
    }

    /// Builds a pattern from parallel arrays of row and column indices (coordinate / COO
    /// form, values omitted); duplicates are merged.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        rows: &[usize],
        cols: &[usize],
    ) -> Result<Self> {
        check_dims(nrows, ncols)?;
        if rows.len() != cols.len() {
            return Err(PatternError::LengthMismatch {
                what: "triplet row and column arrays",
                left: rows.len(),
                right: cols.len(),
            });
        }
        check_nnz(rows.len())?;
        let mut counts = vec![0usize; nrows + 1];
        for (&i, &j) in rows.iter().zip(cols) {
            if i >= nrows || j >= ncols {
                return Err(PatternError::IndexOutOfBounds {
                    row: i,
                    col: j,
                    nrows,
                    ncols,
                });
            }
            counts[i + 1] += 1;
        }
        for i in 0..nrows {
            counts[i + 1] += counts[i];
        }
        let mut next = counts.clone();
        let mut idx = vec![0usize; rows.len()];
        for (&i, &j) in rows.iter().zip(cols) {
            idx[next[i]] = j;
            next[i] += 1;
        }
        Self::compact_rows(nrows, ncols, counts, idx)
    }

    /// Builds a pattern from a row-major dense boolean array of length `nrows * ncols`.
    pub fn from_dense(nrows: usize, ncols: usize, dense: &[bool]) -> Result<Self> {
        check_dims(nrows, ncols)?;
        let expected = nrows.checked_mul(ncols).ok_or(PatternError::TooLarge {
            what: "nrows × ncols",
            value: nrows as u128 * ncols as u128,
            limit: usize::MAX as u128,
        })?;
        if dense.len() != expected {
            return Err(PatternError::LengthMismatch {
                what: "dense array and nrows × ncols",
                left: dense.len(),
                right: expected,
            });
        }
        let mut row_ptr = Vec::with_capacity(nrows + 1);
        let mut col_idx = Vec::new();
        row_ptr.push(0);
        for i in 0..nrows {
            let row = &dense[i * ncols..(i + 1) * ncols];
            col_idx.extend(row.iter().enumerate().filter(|(_, b)| **b).map(|(j, _)| j));
            check_nnz(col_idx.len())?;
            row_ptr.push(col_idx.len());
        }
        Ok(Self::from_parts_unchecked(nrows, ncols, row_ptr, col_idx))
    }

    /// Builds a pattern from dense rows of booleans (each row must have the same length).
    pub fn from_dense_rows<R: AsRef<[bool]>>(rows: &[R]) -> Result<Self> {
        let nrows = rows.len();
        let ncols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut flat = Vec::with_capacity(nrows.saturating_mul(ncols).min(MAX_NNZ));
        for r in rows {
            let r = r.as_ref();
            if r.len() != ncols {
                return Err(PatternError::LengthMismatch {
                    what: "dense rows",
                    left: r.len(),
                    right: ncols,
                });
            }
            flat.extend_from_slice(r);
        }
        Self::from_dense(nrows, ncols, &flat)
    }

    /// The pattern with no entries.
    pub fn empty(nrows: usize, ncols: usize) -> Result<Self> {
        check_dims(nrows, ncols)?;
        Ok(Self::from_parts_unchecked(
            nrows,
            ncols,
            vec![0; nrows + 1],
            Vec::new(),
        ))
    }

    /// The n×n diagonal pattern.
    pub fn identity(n: usize) -> Result<Self> {
        check_dims(n, n)?;
        check_nnz(n)?;
        Ok(Self::from_parts_unchecked(
            n,
            n,
            (0..=n).collect(),
            (0..n).collect(),
        ))
    }

    /// The dense m×n pattern (every entry present).
    pub fn dense(nrows: usize, ncols: usize) -> Result<Self> {
        check_dims(nrows, ncols)?;
        let nnz = nrows.saturating_mul(ncols);
        check_nnz(nnz)?;
        let row_ptr = (0..=nrows).map(|i| i * ncols).collect();
        let col_idx = (0..nrows).flat_map(|_| 0..ncols).collect();
        Ok(Self::from_parts_unchecked(nrows, ncols, row_ptr, col_idx))
    }

    /// Sorts and deduplicates each row of `idx` (delimited by `ptr`) in place, compacting.
    pub(crate) fn compact_rows(
        nrows: usize,
        ncols: usize,
        ptr: Vec<usize>,
        mut idx: Vec<usize>,
    ) -> Result<Self> {
        let mut out_ptr = Vec::with_capacity(nrows + 1);
        out_ptr.push(0);
        let mut write = 0;
        for i in 0..nrows {
            let (start, end) = (ptr[i], ptr[i + 1]);
            idx[start..end].sort_unstable();
            let mut last = usize::MAX;
            for k in start..end {
                let j = idx[k];
                if j != last {
                    idx[write] = j;
                    write += 1;
                    last = j;
                }
            }
            out_ptr.push(write);
        }
        idx.truncate(write);
        idx.shrink_to_fit();
        Ok(Self::from_parts_unchecked(nrows, ncols, out_ptr, idx))
    }

    /// Wraps arrays the caller guarantees to satisfy the invariants (checked in debug builds).
    pub(crate) fn from_parts_unchecked(
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
    ) -> Self {
        let p = Self {
            nrows,
            ncols,
            row_ptr,
            col_idx,
            grid5: std::sync::OnceLock::new(),
        };
        debug_assert!(p.check_invariants().is_ok(), "{:?}", p.check_invariants());
        p
    }

    /// Re-checks every invariant (useful after deserialising or in tests).
    pub fn check_invariants(&self) -> Result<()> {
        Self::from_csr(
            self.nrows,
            self.ncols,
            self.row_ptr.clone(),
            self.col_idx.clone(),
        )
        .map(|_| ())
    }

    /// Number of rows.
    #[inline]
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    #[inline]
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// `(nrows, ncols)`.
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of structurally nonzero entries.
    #[inline]
    pub fn nnz(&self) -> usize {
        self.col_idx.len()
    }

    /// Whether the pattern is square.
    #[inline]
    pub fn is_square(&self) -> bool {
        self.nrows == self.ncols
    }

    /// The row-pointer array (length `nrows + 1`).
    #[inline]
    pub fn row_ptr(&self) -> &[usize] {
        &self.row_ptr
    }

    /// The column indices, row after row.
    #[inline]
    pub fn col_idx(&self) -> &[usize] {
        &self.col_idx
    }

    /// The sorted column indices of row `i`. Panics if `i >= nrows` (a programming error).
    #[inline]
    pub fn row(&self, i: usize) -> &[usize] {
        &self.col_idx[self.row_ptr[i]..self.row_ptr[i + 1]]
    }

    /// The range of positions of row `i` in [`col_idx`](Self::col_idx) (and in any value
    /// array stored in the pattern's order).
    #[inline]
    pub fn row_range(&self, i: usize) -> std::ops::Range<usize> {
        self.row_ptr[i]..self.row_ptr[i + 1]
    }

    /// Number of entries in row `i`.
    #[inline]
    pub fn row_nnz(&self, i: usize) -> usize {
        self.row_ptr[i + 1] - self.row_ptr[i]
    }

    /// Whether entry (i, j) is in the pattern (binary search; false when out of range).
    pub fn contains(&self, i: usize, j: usize) -> bool {
        i < self.nrows && self.row(i).binary_search(&j).is_ok()
    }

    /// Position of entry (i, j) in the value order, if present.
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        if i >= self.nrows {
            return None;
        }
        self.row(i)
            .binary_search(&j)
            .ok()
            .map(|k| self.row_ptr[i] + k)
    }

    /// Iterates over the entries `(row, col)` in row-major order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        EntryIter {
            pattern: self,
            row: 0,
            pos: 0,
        }
    }

    /// Consumes the pattern and returns `(nrows, ncols, row_ptr, col_idx)`.
    pub fn into_parts(self) -> (usize, usize, Vec<usize>, Vec<usize>) {
        (self.nrows, self.ncols, self.row_ptr, self.col_idx)
    }
}

struct EntryIter<'a> {
    pattern: &'a Pattern,
    row: usize,
    pos: usize,
}

impl Iterator for EntryIter<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.pattern.nnz() {
            return None;
        }
        while self.pattern.row_ptr[self.row + 1] <= self.pos {
            self.row += 1;
        }
        let j = self.pattern.col_idx[self.pos];
        self.pos += 1;
        Some((self.row, j))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.pattern.nnz() - self.pos;
        (left, Some(left))
    }
}

impl ExactSizeIterator for EntryIter<'_> {}

fn check_row_ptr(nrows: usize, row_ptr: &[usize], nnz: usize) -> Result<()> {
    if row_ptr.len() != nrows + 1 {
        return Err(PatternError::RowPtrLength {
            len: row_ptr.len(),
            expected: nrows + 1,
        });
    }
    if row_ptr[0] != 0 {
        return Err(PatternError::RowPtrInvalid { row: 0, nnz });
    }
    for i in 0..nrows {
        if row_ptr[i + 1] < row_ptr[i] || row_ptr[i + 1] > nnz {
            return Err(PatternError::RowPtrInvalid { row: i, nnz });
        }
    }
    if row_ptr[nrows] != nnz {
        return Err(PatternError::RowPtrInvalid {
            row: nrows.saturating_sub(1),
            nnz,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_agree() {
        let entries = [(0, 2), (1, 0), (0, 0), (2, 1), (1, 0)];
        let a = Pattern::from_entries(3, 3, entries).unwrap();
        let b = Pattern::from_csr(3, 3, vec![0, 2, 3, 4], vec![0, 2, 0, 1]).unwrap();
        let c = Pattern::from_csr_unsorted(3, 3, vec![0, 3, 4, 5], vec![2, 0, 2, 0, 1]).unwrap();
        let d = Pattern::from_dense_rows(&[
            [true, false, true],
            [true, false, false],
            [false, true, false],
        ])
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![(0, 0), (0, 2), (1, 0), (2, 1)]
        );
        assert_eq!(a.position(2, 1), Some(3));
        assert_eq!(a.position(2, 2), None);
        assert!(!a.contains(5, 0));
    }

    #[test]
    fn bad_csr_is_rejected() {
        assert!(matches!(
            Pattern::from_csr(2, 2, vec![0, 1], vec![0]),
            Err(PatternError::RowPtrLength {
                len: 2,
                expected: 3
            })
        ));
        assert!(matches!(
            Pattern::from_csr(2, 2, vec![0, 2, 1], vec![0, 1]),
            Err(PatternError::RowPtrInvalid { row: 1, .. })
        ));
        assert!(matches!(
            Pattern::from_csr(2, 2, vec![0, 2, 2], vec![1, 0]),
            Err(PatternError::UnsortedRow {
                row: 0,
                position: 1
            })
        ));
        assert!(matches!(
            Pattern::from_csr(2, 2, vec![0, 1, 2], vec![0, 2]),
            Err(PatternError::IndexOutOfBounds { row: 1, col: 2, .. })
        ));
        assert!(matches!(
            Pattern::from_entries(2, 2, [(2, 0)]),
            Err(PatternError::IndexOutOfBounds { row: 2, col: 0, .. })
        ));
        assert!(matches!(
            Pattern::from_triplets(2, 2, &[0, 1], &[0]),
            Err(PatternError::LengthMismatch { .. })
        ));
        assert!(matches!(
            Pattern::from_dense(2, 2, &[true; 3]),
            Err(PatternError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn degenerate_shapes() {
        let e = Pattern::empty(0, 5).unwrap();
        assert_eq!(e.nnz(), 0);
        assert_eq!(e.iter().count(), 0);
        let d = Pattern::dense(1, 4).unwrap();
        assert_eq!(d.row(0), &[0, 1, 2, 3]);
        let i = Pattern::identity(3).unwrap();
        assert_eq!(i.iter().collect::<Vec<_>>(), vec![(0, 0), (1, 1), (2, 2)]);
        assert!(matches!(
            Pattern::dense(1 << 20, 1 << 20),
            Err(PatternError::TooLarge { what: "nnz", .. })
        ));
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use serde::ser::SerializeStruct;

    use super::Pattern;

    /// The CSR arrays as read, before [`Pattern::from_csr`] checks them.
    #[derive(serde::Deserialize)]
    pub(super) struct Csr {
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
    }

    impl TryFrom<Csr> for Pattern {
        type Error = crate::PatternError;

        fn try_from(c: Csr) -> Result<Self, Self::Error> {
            Pattern::from_csr(c.nrows, c.ncols, c.row_ptr, c.col_idx)
        }
    }

    impl serde::Serialize for Pattern {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut s = serializer.serialize_struct("Pattern", 4)?;
            s.serialize_field("nrows", &self.nrows)?;
            s.serialize_field("ncols", &self.ncols)?;
            s.serialize_field("row_ptr", &self.row_ptr)?;
            s.serialize_field("col_idx", &self.col_idx)?;
            s.end()
        }
    }
}
