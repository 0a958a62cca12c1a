//! The symbolic analysis of a sparse symmetric matrix, shared by Cholesky and LDLᵀ.

use faer::Side;
use faer::sparse::SymbolicSparseColMatRef;
use faer::sparse::linalg::cholesky::{
    CholeskySymbolicParams, SymbolicCholesky, SymbolicCholeskyRaw, SymmetricOrdering,
    factorize_symbolic_cholesky,
};
use sparsediff_pattern::Pattern;

use crate::error::{Result, SolveError, check_len, check_square_symmetric};

/// Fill-reducing ordering for the sparse symmetric analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ordering {
    /// Approximate minimum degree (faer's AMD). The default.
    #[default]
    Amd,
    /// No reordering (a band keeps its bandwidth; useful to compare with the band solver).
    Natural,
}

/// The symbolic analysis of a square, structurally symmetric pattern: fill-reducing
/// ordering, elimination tree, the structure of `L` (faer's [`SymbolicCholesky`]), and the
/// map from the pattern's values to faer's input. Computed once per pattern; every numeric
/// factorisation ([`SparseCholesky`](super::SparseCholesky),
/// [`SparseLdlt`](super::SparseLdlt)) reuses it, and several can share it through an
/// `Arc`.
///
/// The matrix handed to faer is the upper triangle in compressed columns, which is each
/// CSR row's lower part (columns `<= i`), read contiguously; entries with column `> i`
/// are assumed to mirror them and are not read. The diagonal is always part of the
/// structure (zero where the pattern has none), so `A + δI` needs no new analysis.
#[derive(Debug)]
pub struct SparseSymbolic {
    pub(crate) n: usize,
    pub(crate) nnz: usize,
    /// Upper triangle, compressed columns.
    pub(crate) col_ptr: Vec<usize>,
    pub(crate) row_idx: Vec<usize>,
    /// For each stored entry, its position in the pattern's values (`NONE` for an added
    /// diagonal).
    pub(crate) src: Vec<usize>,
    /// Position of each diagonal entry in the stored values.
    pub(crate) diag: Vec<usize>,
    pub(crate) faer: SymbolicCholesky<usize>,
}

pub(crate) const NONE: usize = usize::MAX;

impl SparseSymbolic {
    /// Analyses `pattern` with the AMD ordering.
    ///
    /// Errors: [`SolveError::NotSquare`], [`SolveError::EmptyMatrix`],
    /// [`SolveError::NotSymmetric`], [`SolveError::Faer`].
    pub fn new(pattern: &Pattern) -> Result<Self> {
        Self::with_ordering(pattern, Ordering::Amd)
    }

    /// Analyses `pattern` with the given fill-reducing ordering.
    pub fn with_ordering(pattern: &Pattern, ordering: Ordering) -> Result<Self> {
        let n = check_square_symmetric(pattern)?;
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(pattern.nnz() / 2 + n);
        let mut src = Vec::with_capacity(pattern.nnz() / 2 + n);
        let mut diag = Vec::with_capacity(n);
        col_ptr.push(0);
        for j in 0..n {
            let range = pattern.row_range(j);
            let row = pattern.row(j);
            let lower = row.partition_point(|&c| c <= j);
            for (k, &c) in row[..lower].iter().enumerate() {
                if c == j {
                    diag.push(row_idx.len());
                }
                row_idx.push(c);
                src.push(range.start + k);
            }
            if lower == 0 || row[lower - 1] != j {
                diag.push(row_idx.len());
                row_idx.push(j);
                src.push(NONE);
            }
            col_ptr.push(row_idx.len());
        }
        // SAFETY: columns are sorted (CSR rows are) and in range, diagonal last.
        let a = unsafe { SymbolicSparseColMatRef::new_unchecked(n, n, &col_ptr, None, &row_idx) };
        let ord = match ordering {
            Ordering::Amd => SymmetricOrdering::Amd,
            Ordering::Natural => SymmetricOrdering::Identity,
        };
        let faer =
            factorize_symbolic_cholesky(a, Side::Upper, ord, CholeskySymbolicParams::default())?;
        Ok(Self {
            n,
            nnz: pattern.nnz(),
            col_ptr,
            row_idx,
            src,
            diag,
            faer,
        })
    }

    /// Dimension n.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of entries of the pattern (length of a value slice).
    pub fn pattern_nnz(&self) -> usize {
        self.nnz
    }

    /// Number of stored entries of the factor `L` (with the diagonal): the fill.
    pub fn factor_nnz(&self) -> usize {
        self.faer.len_val()
    }

    /// Whether faer chose its supernodal (rather than simplicial) factorisation.
    pub fn is_supernodal(&self) -> bool {
        matches!(self.faer.raw(), SymbolicCholeskyRaw::Supernodal(_))
    }

    /// The fill-reducing permutation: `perm()[k]` is the original row eliminated k-th.
    pub fn perm(&self) -> Vec<usize> {
        match self.faer.perm() {
            Some(p) => p.arrays().0.to_vec(),
            None => (0..self.n).collect(),
        }
    }

    /// faer's symbolic factorisation, for callers who want faer's own API.
    pub fn faer(&self) -> &SymbolicCholesky<usize> {
        &self.faer
    }

    /// Original row of the pivot eliminated at step `k`.
    pub(crate) fn original(&self, k: usize) -> usize {
        match self.faer.perm() {
            Some(p) => p.arrays().0.get(k).copied().unwrap_or(k),
            None => k,
        }
    }

    /// Writes faer's input values (upper triangle plus `shift` on the diagonal) into `a`;
    /// returns the largest `|A_ii + shift|`.
    pub(crate) fn gather(&self, values: &[f64], shift: f64, a: &mut [f64]) -> Result<f64> {
        check_len("values (pattern entries)", self.nnz, values.len())?;
        if !shift.is_finite() {
            return Err(SolveError::NonFinite {
                what: "shift",
                index: 0,
            });
        }
        for (dst, &s) in a.iter_mut().zip(&self.src) {
            *dst = if s == NONE { 0.0 } else { values[s] };
        }
        if let Some(k) = sparsediff_pattern::first_non_finite(a) {
            return Err(SolveError::NonFinite {
                what: "values",
                index: self.src[k],
            });
        }
        let mut scale = 0.0f64;
        for &d in &self.diag {
            a[d] += shift;
            scale = scale.max(a[d].abs());
        }
        Ok(scale)
    }

    /// Calls `f(k, D[k])` for every pivot of an LDLᵀ factor in elimination order.
    pub(crate) fn for_each_pivot(&self, l_values: &[f64], mut f: impl FnMut(usize, f64)) {
        match self.faer.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => {
                let cp = s.col_ptr();
                for k in 0..self.n {
                    f(k, l_values[cp[k]]);
                }
            }
            SymbolicCholeskyRaw::Supernodal(s) => {
                let begin = s.supernode_begin();
                let end = s.supernode_end();
                let val_ptr = s.col_ptr_for_val();
                for sn in 0..s.n_supernodes() {
                    let ncols = end[sn] - begin[sn];
                    let nrows = ncols + s.supernode(sn).pattern().len();
                    for c in 0..ncols {
                        f(begin[sn] + c, l_values[val_ptr[sn] + c * nrows + c]);
                    }
                }
            }
        }
    }

    /// Pivot `D[k]` of an LDLᵀ factor (elimination order).
    pub(crate) fn pivot(&self, l_values: &[f64], k: usize) -> f64 {
        let mut out = f64::NAN;
        self.for_each_pivot(l_values, |i, d| {
            if i == k {
                out = d;
            }
        });
        out
    }

    /// faer reports a failing pivot 1-based from the simplicial kernel and 0-based from
    /// the supernodal one; this returns the 0-based elimination step.
    pub(crate) fn failed_step(&self, faer_index: usize) -> usize {
        match self.faer.raw() {
            SymbolicCholeskyRaw::Simplicial(_) => faer_index.saturating_sub(1),
            SymbolicCholeskyRaw::Supernodal(_) => faer_index,
        }
    }
}
