//! Sparse LU with partial pivoting for square Jacobians (faer 0.24), reusing the column
//! ordering across numeric factorisations.
//!
//! faer's supernodal LU does not expose the diagonal of `U`, and it divides by a zero pivot
//! without a word (the factor fills with ∞/NaN). The simplicial (Gilbert–Peierls,
//! left-looking) LU does expose `U`, so this module drives it directly: the COLAMD column
//! ordering is computed once ([`LuSymbolic`]); each numeric factorisation picks row pivots
//! by partial pivoting, and every pivot is checked against a tolerance so a singular
//! matrix is a [`SolveError::Singular`], not a panic or NaN.

use std::sync::Arc;

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::perm::PermRef;
use faer::reborrow::ReborrowMut;
use faer::sparse::linalg::lu::{LuSymbolicParams, SymbolicLu, factorize_symbolic_lu, simplicial};
use faer::sparse::linalg::{LuError, SupernodalThreshold};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};
use sparsediff_pattern::Pattern;

use crate::error::{FaerFailure, Result, SolveError, check_len, check_square};

/// The symbolic analysis of a square pattern for LU: the COLAMD column ordering and the
/// map from the pattern's CSR values to compressed columns. Computed once per pattern.
#[derive(Debug)]
pub struct LuSymbolic {
    n: usize,
    nnz: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// CSC position → CSR position.
    src: Vec<usize>,
    faer: SymbolicLu<usize>,
}

impl LuSymbolic {
    /// Analyses a square pattern.
    ///
    /// Errors: [`SolveError::NotSquare`], [`SolveError::EmptyMatrix`], [`SolveError::Faer`].
    pub fn new(pattern: &Pattern) -> Result<Self> {
        let n = check_square(pattern)?;
        let nnz = pattern.nnz();
        // CSR → CSC by counting sort; rows come out sorted within each column.
        let mut col_ptr = vec![0usize; n + 1];
        for &j in pattern.col_idx() {
            col_ptr[j + 1] += 1;
        }
        for j in 0..n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let mut next = col_ptr.clone();
        let mut row_idx = vec![0usize; nnz];
        let mut src = vec![0usize; nnz];
        for i in 0..n {
            for k in pattern.row_range(i) {
                let j = pattern.col_idx()[k];
                row_idx[next[j]] = i;
                src[next[j]] = k;
                next[j] += 1;
            }
        }
        // SAFETY: sorted, in-range rows per column (built just above).
        let a = unsafe { SymbolicSparseColMatRef::new_unchecked(n, n, &col_ptr, None, &row_idx) };
        let params = LuSymbolicParams {
            supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SIMPLICIAL,
            ..Default::default()
        };
        let faer = factorize_symbolic_lu(a, params)?;
        Ok(Self {
            n,
            nnz,
            col_ptr,
            row_idx,
            src,
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

    /// The column ordering: `col_perm()[k]` is the original column eliminated k-th.
    pub fn col_perm(&self) -> &[usize] {
        self.faer.col_perm().arrays().0
    }
}

/// Tuning of the sparse LU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LuParams {
    /// A pivot `u` is refused ([`SolveError::Singular`]) when
    /// `|u| <= pivot_tolerance · max_ij |A_ij|`. Default `1e-13`.
    pub pivot_tolerance: f64,
}

impl Default for LuParams {
    fn default() -> Self {
        Self {
            pivot_tolerance: 1e-13,
        }
    }
}

/// A sparse LU factorisation `P·A·Q = L·U` (row pivoting P by partial pivoting, column
/// ordering Q from the symbolic analysis) that owns its buffers and refactorises with new
/// values.
///
/// ```
/// use sparsediff_pattern::Pattern;
/// use sparsediff_solve::sparse::{LuParams, LuSymbolic, SparseLu};
/// use sparsediff_solve::SolveError;
/// // [[0, 2], [3, 1]] needs a row swap
/// let p = Pattern::from_entries(2, 2, [(0, 1), (1, 0), (1, 1)])?;
/// let mut lu = SparseLu::new(LuSymbolic::new(&p)?, LuParams::default())?;
/// lu.factorize(&[2.0, 3.0, 1.0])?;
/// let mut x = [4.0, 5.0]; // A·(1, 2)
/// lu.solve_slice_in_place(&mut x)?;
/// assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] - 2.0).abs() < 1e-15);
/// // [[1, 1], [1, 1]] on the full pattern is singular: a named error, not NaN
/// let full = Pattern::dense(2, 2)?;
/// let mut lu = SparseLu::new(LuSymbolic::new(&full)?, LuParams::default())?;
/// assert!(matches!(lu.factorize(&[1.0; 4]), Err(SolveError::Singular { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SparseLu {
    symbolic: Arc<LuSymbolic>,
    params: LuParams,
    a_values: Vec<f64>,
    lu: simplicial::SimplicialLu<usize, f64>,
    row_perm: Vec<usize>,
    row_perm_inv: Vec<usize>,
    mem: MemBuffer,
    solve_cols: usize,
    factored: bool,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseLu")
            .field("n", &self.symbolic.n)
            .field("params", &self.params)
            .field("factored", &self.factored)
            .finish_non_exhaustive()
    }
}

impl SparseLu {
    /// Allocates the buffers for `symbolic`. Errors: [`SolveError::InvalidParameter`].
    pub fn new(symbolic: impl Into<Arc<LuSymbolic>>, params: LuParams) -> Result<Self> {
        let symbolic = symbolic.into();
        let t = params.pivot_tolerance;
        if !(t.is_finite() && t >= 0.0) {
            return Err(SolveError::InvalidParameter {
                param: "pivot_tolerance",
                value: t,
                reason: "must be finite and non-negative",
            });
        }
        let n = symbolic.n;
        let solve_cols = super::cholesky::DEFAULT_SOLVE_COLUMNS;
        let req = StackReq::any_of(&[
            simplicial::factorize_simplicial_numeric_lu_scratch::<usize, f64>(n, n),
            simplicial::solve_in_place_scratch::<usize, f64>(n, solve_cols, Par::Seq),
        ]);
        let mem = MemBuffer::try_new(req).map_err(|_| SolveError::Faer {
            kind: FaerFailure::OutOfMemory,
        })?;
        Ok(Self {
            a_values: vec![0.0; symbolic.nnz],
            lu: simplicial::SimplicialLu::new(),
            row_perm: vec![0; n],
            row_perm_inv: vec![0; n],
            mem,
            solve_cols,
            factored: false,
            params,
            symbolic,
        })
    }

    /// The shared symbolic analysis.
    pub fn symbolic(&self) -> &Arc<LuSymbolic> {
        &self.symbolic
    }

    /// Numeric factorisation with values in the pattern's order. Allocates only while the
    /// factor's fill exceeds that of earlier factorisations (faer grows its vectors).
    ///
    /// Errors: [`SolveError::LengthMismatch`], [`SolveError::NonFinite`],
    /// [`SolveError::Singular`] with the elimination step, the original column and the
    /// pivot.
    pub fn factorize(&mut self, values: &[f64]) -> Result<()> {
        self.factored = false;
        let s = &self.symbolic;
        check_len("values (pattern entries)", s.nnz, values.len())?;
        if let Some(index) = sparsediff_pattern::first_non_finite(values) {
            return Err(SolveError::NonFinite {
                what: "values",
                index,
            });
        }
        let mut scale = 0.0f64;
        for (dst, &k) in self.a_values.iter_mut().zip(&s.src) {
            *dst = values[k];
            scale = scale.max(dst.abs());
        }
        let tolerance = self.params.pivot_tolerance * scale;
        // SAFETY: built by `LuSymbolic::new`.
        let sym = unsafe {
            SymbolicSparseColMatRef::new_unchecked(s.n, s.n, &s.col_ptr, None, &s.row_idx)
        };
        let a = SparseColMatRef::new(sym, &self.a_values);
        let stack = MemStack::new(&mut self.mem);
        let col_perm = s.faer.col_perm();
        let res = simplicial::factorize_simplicial_numeric_lu(
            &mut self.row_perm,
            &mut self.row_perm_inv,
            &mut self.lu,
            a,
            col_perm,
            stack,
        );
        let singular = |step: usize, pivot: f64| SolveError::Singular {
            step,
            column: col_perm.arrays().0.get(step).copied().unwrap_or(step),
            pivot,
            tolerance,
        };
        match res {
            Ok(()) => {}
            Err(LuError::SymbolicSingular { index }) => return Err(singular(index, 0.0)),
            Err(LuError::Generic(e)) => return Err(e.into()),
        }
        // Each column of U ends with its pivot (row j); check them all.
        let u = self.lu.u_factor_unsorted();
        for j in 0..s.n {
            let rows = u.row_idx_of_col_raw(j);
            let vals = u.val_of_col(j);
            let pivot = rows.iter().rposition(|&r| r == j).map_or(0.0, |k| vals[k]);
            if !(pivot.abs() > tolerance && pivot.is_finite()) {
                return Err(singular(j, pivot));
            }
        }
        self.factored = true;
        Ok(())
    }

    /// Solves `A·X = B` in place, one right-hand side per column.
    ///
    /// Errors: [`SolveError::NotFactorized`], [`SolveError::LengthMismatch`].
    pub fn solve_in_place(&mut self, mut rhs: MatMut<'_, f64>) -> Result<()> {
        if !self.factored {
            return Err(SolveError::NotFactorized);
        }
        let n = self.symbolic.n;
        check_len("right-hand side rows", n, rhs.nrows())?;
        // SAFETY: written as mutually inverse permutations by faer's factorisation.
        let row_perm = unsafe { PermRef::new_unchecked(&self.row_perm, &self.row_perm_inv, n) };
        let col_perm = self.symbolic.faer.col_perm();
        let k = rhs.ncols();
        let mut start = 0;
        while start < k {
            let w = self.solve_cols.min(k - start);
            let block = rhs.rb_mut().subcols_mut(start, w);
            let stack = MemStack::new(&mut self.mem);
            self.lu
                .solve_in_place_with_conj(row_perm, col_perm, Conj::No, block, Par::Seq, stack);
            start += w;
        }
        Ok(())
    }

    /// Solves `A·x = b` in place for one vector.
    pub fn solve_slice_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        let n = b.len();
        self.solve_in_place(MatMut::from_column_major_slice_mut(b, n, 1))
    }
}
