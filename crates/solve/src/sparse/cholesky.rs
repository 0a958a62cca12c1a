//! Sparse Cholesky (LLᵀ) and LDLᵀ through faer 0.24, reusing one symbolic analysis.

use std::sync::Arc;

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::ldlt::factor::LdltRegularization;
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::reborrow::ReborrowMut;
use faer::sparse::linalg::cholesky::{LdltRef, LltRef};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};

use super::symbolic::SparseSymbolic;
use crate::error::{FaerFailure, Result, SolveError, check_len};
use crate::inertia::{Inertia, SymmetricFactorization};

/// Buffers shared by the two factorisations: faer's input values, the factor values and
/// the scratch, all allocated once.
struct Workspace {
    symbolic: Arc<SparseSymbolic>,
    a_values: Vec<f64>,
    l_values: Vec<f64>,
    mem: MemBuffer,
    solve_cols: usize,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("n", &self.symbolic.n)
            .field("factor_nnz", &self.l_values.len())
            .field("solve_cols", &self.solve_cols)
            .finish_non_exhaustive()
    }
}

impl Workspace {
    fn new(symbolic: Arc<SparseSymbolic>, solve_cols: usize) -> Result<Self> {
        let s = &symbolic.faer;
        let req = StackReq::any_of(&[
            s.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
            s.factorize_numeric_ldlt_scratch::<f64>(Par::Seq, Default::default()),
            s.solve_in_place_scratch::<f64>(solve_cols, Par::Seq),
        ]);
        let mem = MemBuffer::try_new(req).map_err(|_| SolveError::Faer {
            kind: FaerFailure::OutOfMemory,
        })?;
        Ok(Self {
            a_values: vec![0.0; symbolic.row_idx.len()],
            l_values: vec![0.0; s.len_val()],
            mem,
            solve_cols,
            symbolic,
        })
    }

    /// Solves with `solve(rhs_block, stack)` over blocks of at most `solve_cols` columns.
    fn solve_blocks(&mut self, mut rhs: MatMut<'_, f64>, ldlt: bool) -> Result<()> {
        check_len("right-hand side rows", self.symbolic.n, rhs.nrows())?;
        let k = rhs.ncols();
        let mut start = 0;
        while start < k {
            let w = self.solve_cols.min(k - start);
            let block = rhs.rb_mut().subcols_mut(start, w);
            let stack = MemStack::new(&mut self.mem);
            if ldlt {
                LdltRef::new(&self.symbolic.faer, &self.l_values).solve_in_place_with_conj(
                    Conj::No,
                    block,
                    Par::Seq,
                    stack,
                );
            } else {
                LltRef::new(&self.symbolic.faer, &self.l_values).solve_in_place_with_conj(
                    Conj::No,
                    block,
                    Par::Seq,
                    stack,
                );
            }
            start += w;
        }
        Ok(())
    }

    /// LDLᵀ of the gathered values; `Err(step)` for faer's zero or non-finite pivot.
    fn ldlt(&mut self) -> std::result::Result<(), usize> {
        let stack = MemStack::new(&mut self.mem);
        let s = &self.symbolic;
        let a = ws_a(s, &self.a_values);
        s.faer
            .factorize_numeric_ldlt(
                &mut self.l_values,
                a,
                Side::Upper,
                LdltRegularization::default(),
                Par::Seq,
                stack,
                Default::default(),
            )
            .map(|_| ())
            .map_err(|e| {
                let faer::linalg::cholesky::ldlt::factor::LdltError::ZeroPivot { index } = e;
                s.failed_step(index)
            })
    }
}

/// How many right-hand-side columns a sparse solve processes at once (the scratch is
/// sized for this many; wider blocks are solved in chunks, so solving never allocates).
pub const DEFAULT_SOLVE_COLUMNS: usize = 8;

/// A sparse Cholesky factorisation `P·A·Pᵀ = L·Lᵀ` (faer, one thread) that owns its
/// buffers and refactorises with new values on the same symbolic analysis.
///
/// ```
/// use std::sync::Arc;
/// use sparsediff_pattern::generators;
/// use sparsediff_solve::sparse::{SparseCholesky, SparseSymbolic};
/// use sparsediff_solve::SolveError;
/// let p = generators::band(4, 1, 1)?;
/// let symbolic = Arc::new(SparseSymbolic::new(&p)?);
/// let mut chol = SparseCholesky::new(symbolic.clone())?;
/// // tridiag(-1, 2, -1): SPD
/// chol.factorize(&[2.0, -1.0, -1.0, 2.0, -1.0, -1.0, 2.0, -1.0, -1.0, 2.0])?;
/// // tridiag(-1, 1, -1) with n = 4 is indefinite: a named error
/// let bad = chol.factorize(&[1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0]);
/// assert!(matches!(bad, Err(SolveError::NotPositiveDefinite { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SparseCholesky {
    ws: Workspace,
    factored: bool,
}

impl SparseCholesky {
    /// Allocates every buffer for `symbolic` (which may be shared through an `Arc`).
    pub fn new(symbolic: impl Into<Arc<SparseSymbolic>>) -> Result<Self> {
        Self::with_solve_columns(symbolic, DEFAULT_SOLVE_COLUMNS)
    }

    /// Like [`SparseCholesky::new`], sizing the solve scratch for `cols` (≥ 1) columns.
    pub fn with_solve_columns(
        symbolic: impl Into<Arc<SparseSymbolic>>,
        cols: usize,
    ) -> Result<Self> {
        Ok(Self {
            ws: Workspace::new(symbolic.into(), cols.max(1))?,
            factored: false,
        })
    }

    /// The shared symbolic analysis.
    pub fn symbolic(&self) -> &Arc<SparseSymbolic> {
        &self.ws.symbolic
    }

    /// Numeric factorisation with values in the pattern's order. Never allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`], [`SolveError::NonFinite`],
    /// [`SolveError::NotPositiveDefinite`] with the original row of the failing pivot and
    /// its value (recovered by an LDLᵀ of the same matrix in the same buffers).
    pub fn factorize(&mut self, values: &[f64]) -> Result<()> {
        self.factorize_shifted(values, 0.0)
    }

    /// Numeric factorisation of `A + shift·I`.
    pub fn factorize_shifted(&mut self, values: &[f64], shift: f64) -> Result<()> {
        self.factored = false;
        let ws = &mut self.ws;
        ws.symbolic.gather(values, shift, &mut ws.a_values)?;
        let stack = MemStack::new(&mut ws.mem);
        let res = ws.symbolic.faer.factorize_numeric_llt(
            &mut ws.l_values,
            ws_a(&ws.symbolic, &ws.a_values),
            Side::Upper,
            LltRegularization::default(),
            Par::Seq,
            stack,
            Default::default(),
        );
        match res {
            Ok(_) => {
                self.factored = true;
                Ok(())
            }
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                let step = ws.symbolic.failed_step(index);
                // The LDLᵀ computes the same pivots up to `step` and goes on past it.
                let pivot = match ws.ldlt() {
                    Ok(()) => ws.symbolic.pivot(&ws.l_values, step),
                    Err(s) if s == step => 0.0,
                    Err(_) => f64::NAN,
                };
                Err(SolveError::NotPositiveDefinite {
                    index: ws.symbolic.original(step),
                    pivot,
                })
            }
        }
    }

    /// Solves `A·X = B` in place, one right-hand side per column of `rhs`.
    ///
    /// Errors: [`SolveError::NotFactorized`], [`SolveError::LengthMismatch`].
    pub fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()> {
        if !self.factored {
            return Err(SolveError::NotFactorized);
        }
        self.ws.solve_blocks(rhs, false)
    }

    /// Solves `A·x = b` in place for one vector.
    pub fn solve_slice_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        let n = b.len();
        self.solve_in_place(MatMut::from_column_major_slice_mut(b, n, 1))
    }

    /// Values of the factor `L` in faer's layout (see
    /// [`SparseSymbolic::faer`]).
    pub fn l_values(&self) -> Option<&[f64]> {
        self.factored.then_some(&self.ws.l_values[..])
    }
}

fn ws_a<'a>(s: &'a SparseSymbolic, a_values: &'a [f64]) -> SparseColMatRef<'a, usize, f64> {
    // SAFETY: built by `SparseSymbolic` with sorted in-range rows per column.
    let sym =
        unsafe { SymbolicSparseColMatRef::new_unchecked(s.n, s.n, &s.col_ptr, None, &s.row_idx) };
    SparseColMatRef::new(sym, a_values)
}

/// Tuning of the sparse LDLᵀ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseLdltParams {
    /// A pivot `d` is refused ([`SolveError::TinyPivot`]) when
    /// `|d| <= pivot_tolerance · max_i |A_ii + shift|`. Default `1e-12`.
    pub pivot_tolerance: f64,
}

impl Default for SparseLdltParams {
    fn default() -> Self {
        Self {
            pivot_tolerance: 1e-12,
        }
    }
}

/// A sparse LDLᵀ factorisation without pivoting, `P·A·Pᵀ = L·D·Lᵀ` (faer, one thread),
/// reporting the inertia from the signs of `D`. It owns its buffers and refactorises with
/// new values (and shifts) on the same symbolic analysis.
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_solve::sparse::{SparseLdlt, SparseLdltParams, SparseSymbolic};
/// let p = generators::band(3, 1, 1)?;
/// let mut f = SparseLdlt::new(SparseSymbolic::new(&p)?, SparseLdltParams::default())?;
/// // tridiag(1, 0.5, 1): eigenvalues 0.5 − √2, 0.5, 0.5 + √2
/// let inertia = f.factorize(&[0.5, 1.0, 1.0, 0.5, 1.0, 1.0, 0.5], 0.0)?;
/// assert_eq!((inertia.positive, inertia.negative), (2, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SparseLdlt {
    ws: Workspace,
    params: SparseLdltParams,
    inertia: Option<Inertia>,
}

impl SparseLdlt {
    /// Allocates every buffer for `symbolic`. Errors: [`SolveError::InvalidParameter`].
    pub fn new(symbolic: impl Into<Arc<SparseSymbolic>>, params: SparseLdltParams) -> Result<Self> {
        let t = params.pivot_tolerance;
        if !(t.is_finite() && t >= 0.0) {
            return Err(SolveError::InvalidParameter {
                param: "pivot_tolerance",
                value: t,
                reason: "must be finite and non-negative",
            });
        }
        Ok(Self {
            ws: Workspace::new(symbolic.into(), DEFAULT_SOLVE_COLUMNS)?,
            params,
            inertia: None,
        })
    }

    /// The shared symbolic analysis.
    pub fn symbolic(&self) -> &Arc<SparseSymbolic> {
        &self.ws.symbolic
    }

    /// Numeric LDLᵀ of `A + shift·I` (values in the pattern's order); returns the inertia.
    /// Never allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`], [`SolveError::NonFinite`],
    /// [`SolveError::TinyPivot`] with the original row of the first pivot (in elimination
    /// order) that is too small.
    pub fn factorize(&mut self, values: &[f64], shift: f64) -> Result<Inertia> {
        self.inertia = None;
        let ws = &mut self.ws;
        let scale = ws.symbolic.gather(values, shift, &mut ws.a_values)?;
        let tolerance = self.params.pivot_tolerance * scale;
        if let Err(step) = ws.ldlt() {
            return Err(SolveError::TinyPivot {
                index: ws.symbolic.original(step),
                pivot: 0.0,
                tolerance,
            });
        }
        let mut negative = 0;
        let mut tiny: Option<(usize, f64)> = None;
        ws.symbolic.for_each_pivot(&ws.l_values, |k, d| {
            if !(d.abs() > tolerance && d.is_finite()) {
                if tiny.is_none_or(|(t, _)| k < t) {
                    tiny = Some((k, d));
                }
            } else if d < 0.0 {
                negative += 1;
            }
        });
        if let Some((k, pivot)) = tiny {
            return Err(SolveError::TinyPivot {
                index: ws.symbolic.original(k),
                pivot,
                tolerance,
            });
        }
        let n = ws.symbolic.n;
        let inertia = Inertia {
            positive: n - negative,
            negative,
            zero: 0,
        };
        self.inertia = Some(inertia);
        Ok(inertia)
    }

    /// Inertia of the last successful factorisation.
    pub fn inertia(&self) -> Option<Inertia> {
        self.inertia
    }

    /// The pivots `D` in elimination order (see [`SparseSymbolic::perm`]).
    pub fn pivots(&self) -> Option<Vec<f64>> {
        self.inertia?;
        let mut d = vec![0.0; self.ws.symbolic.n];
        self.ws
            .symbolic
            .for_each_pivot(&self.ws.l_values, |k, v| d[k] = v);
        Some(d)
    }

    /// Solves `A·X = B` in place, one right-hand side per column.
    ///
    /// Errors: [`SolveError::NotFactorized`], [`SolveError::LengthMismatch`].
    pub fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()> {
        if self.inertia.is_none() {
            return Err(SolveError::NotFactorized);
        }
        self.ws.solve_blocks(rhs, true)
    }

    /// Solves `A·x = b` in place for one vector.
    pub fn solve_slice_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        let n = b.len();
        self.solve_in_place(MatMut::from_column_major_slice_mut(b, n, 1))
    }
}

impl SymmetricFactorization for SparseLdlt {
    fn dim(&self) -> usize {
        self.ws.symbolic.n
    }

    fn factorize_shifted(&mut self, values: &[f64], shift: f64) -> Result<Inertia> {
        self.factorize(values, shift)
    }

    fn solve_in_place(&mut self, rhs: MatMut<'_, f64>) -> Result<()> {
        SparseLdlt::solve_in_place(self, rhs)
    }
}
