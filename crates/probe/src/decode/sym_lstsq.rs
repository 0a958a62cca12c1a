//! Global least squares over the lower triangle of a symmetric matrix ("half-sample").
//!
//! The unknowns are the N lower-triangle entries H[a, b] (a ≥ b) of the pattern. Every
//! product gives one equation, B[i, c] = Σ_j H[i, j] S[j, c], and an off-diagonal unknown
//! appears in two rows (i = a with S[b, c], i = b with S[a, c]): n·p equations M x = b in N
//! unknowns, solved once, globally, in the least-squares sense. Exploiting symmetry this way
//! needs about half the probes of the per-row solver (see the designer).
//!
//! # Factorisation: normal equations, sparse Cholesky, one refinement step
//!
//! G = MᵀM is assembled directly from S and the pattern (G[u, w] sums ⟨S_other(u), S_other(w)⟩
//! over the pattern rows that unknowns u and w share) and factored by faer's sparse
//! Cholesky (AMD ordering) at design time: far cheaper to factor, and far less fill, than
//! a sparse QR of M, at the price of conditioning: κ(MᵀM) = κ(M)², which bites exactly
//! where the probes are few. One step of the corrected semi-normal equations,
//! x ← x + G⁻¹Mᵀ(b − Mx), restores QR-level accuracy as long as κ(M)²·ε ≪ 1, at the price
//! of one more mat-vec pair and solve per decode
//! ([`SymmetricRandomDesigner::refinement_steps`](crate::SymmetricRandomDesigner::refinement_steps)).
//! The measurements (factor, fill, decode and error of the three variants, and the whole
//! design at n = 10⁵): `papers/decoders.md`, "Symmetric least squares".
//!
//! Rank: a design that is rank deficient (or so ill-conditioned that recovery is not
//! trustworthy) is refused. After factoring, a self-test recovers a random matrix on the
//! pattern from its exact products; unknowns whose error exceeds [`SELF_TEST_TOL`] (relative
//! to the largest test value) name the rows reported by [`DesignError::RankDeficient`]. If
//! the Cholesky factorisation breaks down, it is redone with dynamic regularisation only to
//! locate those rows, and the design is refused.

use std::sync::{Arc, Mutex};

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::sparse::linalg::cholesky::{
    LltRef, SymbolicCholesky, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMat, SymbolicSparseColMat};
use faer::{Conj, Mat, MatRef, Par, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use sparsediff_pattern::Pattern;

use super::Decode;
use super::row_lstsq::row_major_seeds;
use crate::error::{DecodeError, DesignError, Inapplicable};
use crate::products::{ProductsView, check_values};

/// Largest relative error (against the largest test value) the design-time self-test
/// accepts on any unknown; above it the design is refused as rank deficient.
pub const SELF_TEST_TOL: f64 = 1e-8;

/// The dense arrays of symmetric least squares, for [`DesignError::DenseTooLarge`].
pub(crate) const SYM_LSTSQ_ARRAYS: &str = "symmetric least squares (seeds n×p, products n×p)";

/// Seed of the self-test's random matrix.
const SELF_TEST_SEED: u64 = 0x5E1F_7E57;

/// Most rows listed in an error.
const MAX_LISTED: usize = 64;

/// Scratch memory for faer's triangular solves, re-created (not copied) on clone.
struct Workspace {
    req: StackReq,
    buf: MemBuffer,
}

impl Workspace {
    fn new(req: StackReq) -> Self {
        Self {
            req,
            buf: MemBuffer::new(req),
        }
    }
}

impl Clone for Workspace {
    fn clone(&self) -> Self {
        Self::new(self.req)
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Workspace({} bytes)", self.req.size_bytes())
    }
}

/// The immutable part: structure, seeds, factor.
#[derive(Debug)]
struct Prepared {
    pattern: Arc<Pattern>,
    probes: usize,
    /// S row-major (n×p).
    seeds: Vec<f64>,
    /// Pattern entry → lower-triangle unknown.
    unknown_of: Vec<u32>,
    /// Unknown → (a, b), a ≥ b.
    unknowns: Vec<[u32; 2]>,
    symbolic: SymbolicCholesky<usize>,
    l_values: Vec<f64>,
}

/// Prepared global least squares for a symmetric pattern (see the module docs). Decoding
/// writes both triangles and allocates nothing: the solution, correction and residual
/// vectors and the solver scratch live in the decoder, behind a lock so that one decoder
/// serves several threads (a thread that finds it taken decodes with a scratch of its own,
/// which it allocates).
#[derive(Debug)]
pub struct SymmetricLeastSquaresDecoder {
    prepared: Arc<Prepared>,
    refinement_steps: usize,
    scratch: Mutex<Scratch>,
}

/// The vectors and solver memory of one decode.
#[derive(Debug, Clone)]
struct Scratch {
    x: Mat<f64>,
    dx: Mat<f64>,
    resid: Vec<f64>,
    work: Workspace,
}

impl Scratch {
    fn new(prep: &Prepared) -> Self {
        let nunk = prep.unknowns.len();
        Self {
            x: Mat::zeros(nunk, 1),
            dx: Mat::zeros(nunk, 1),
            resid: vec![0.0; prep.pattern.nrows() * prep.probes],
            work: Workspace::new(prep.symbolic.solve_in_place_scratch::<f64>(1, Par::Seq)),
        }
    }
}

impl Clone for SymmetricLeastSquaresDecoder {
    fn clone(&self) -> Self {
        Self {
            prepared: Arc::clone(&self.prepared),
            refinement_steps: self.refinement_steps,
            scratch: Mutex::new(Scratch::new(&self.prepared)),
        }
    }
}

impl SymmetricLeastSquaresDecoder {
    /// Prepares symmetric least squares for ANY seed matrix S (n×p) on the square,
    /// structurally symmetric `pattern`, with `refinement_steps` corrected semi-normal
    /// steps per decode (1 is enough unless the sample matrix is badly conditioned).
    ///
    /// Errors: [`DesignError::NotApplicable`] for a non-square or asymmetric pattern,
    /// [`DesignError::SeedShape`], [`DesignError::NonFiniteSeed`], and
    /// [`DesignError::RankDeficient`] when the samples cannot recover the matrix (the rows
    /// listed are those the self-test could not recover), [`DesignError::DenseTooLarge`] for
    /// more probes than [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) allows.
    pub fn from_samples(
        pattern: &Pattern,
        seeds: MatRef<'_, f64>,
        refinement_steps: usize,
    ) -> Result<Self, DesignError> {
        Self::prepare(
            "symmetric-samples",
            Arc::new(pattern.clone()),
            seeds,
            refinement_steps,
        )
    }

    pub(crate) fn prepare(
        designer: &'static str,
        pattern: Arc<Pattern>,
        seeds: MatRef<'_, f64>,
        refinement_steps: usize,
    ) -> Result<Self, DesignError> {
        if !pattern.is_square() || !pattern.is_symmetric() {
            return Err(DesignError::NotApplicable {
                designer,
                reason: Inapplicable::NotStructurallySymmetric {
                    rows: pattern.nrows(),
                    cols: pattern.ncols(),
                },
            });
        }
        let n = pattern.nrows();
        let p = seeds.ncols();
        crate::plan::check_dense(SYM_LSTSQ_ARRAYS, 2 * n, p as u128)?;
        let s = row_major_seeds(seeds, n)?;
        let (unknown_of, unknowns) = number_unknowns(&pattern);
        let g = normal_matrix(&pattern, &s, p, &unknown_of, &unknowns);
        let symbolic = factorize_symbolic_cholesky(
            g.symbolic(),
            Side::Lower,
            SymmetricOrdering::Amd,
            Default::default(),
        )
        .map_err(|_| DesignError::NotApplicable {
            designer,
            reason: Inapplicable::CholeskyAnalysis,
        })?;
        let mut l_values = vec![0.0; symbolic.len_val()];
        let mut fact_mem = MemBuffer::new(
            symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
        );
        let plain = symbolic
            .factorize_numeric_llt(
                &mut l_values,
                g.as_ref(),
                Side::Lower,
                LltRegularization::default(),
                Par::Seq,
                MemStack::new(&mut fact_mem),
                Default::default(),
            )
            .map(|_| ());
        // On breakdown, factor again with dynamic regularisation, only to locate the rows.
        let breakdown = match plain {
            Ok(()) => None,
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                let scale = (0..g.ncols())
                    .filter_map(|c| g.val_of_col(c).first().copied())
                    .fold(0.0f64, f64::max)
                    .max(f64::MIN_POSITIVE);
                let reg = LltRegularization {
                    dynamic_regularization_delta: scale,
                    dynamic_regularization_epsilon: scale * 1e-12,
                };
                let again = symbolic.factorize_numeric_llt(
                    &mut l_values,
                    g.as_ref(),
                    Side::Lower,
                    reg,
                    Par::Seq,
                    MemStack::new(&mut fact_mem),
                    Default::default(),
                );
                let unknown = symbolic.perm().map_or(index, |perm| perm.arrays().0[index]);
                let row = unknowns.get(unknown).map_or(0, |&[a, _]| a as usize);
                if again.is_err() {
                    return Err(DesignError::RankDeficient {
                        count: 1,
                        rows: vec![row],
                    });
                }
                Some(row)
            }
        };
        let prepared = Prepared {
            pattern,
            probes: p,
            seeds: s,
            unknown_of,
            unknowns,
            symbolic,
            l_values,
        };
        let scratch = Scratch::new(&prepared);
        let decoder = Self {
            prepared: Arc::new(prepared),
            refinement_steps,
            scratch: Mutex::new(scratch),
        };
        let mut bad = decoder.self_test()?;
        if let Some(row) = breakdown
            && bad.is_empty()
        {
            bad.push(row);
        }
        if !bad.is_empty() {
            return Err(DesignError::RankDeficient {
                count: bad.len(),
                rows: bad.into_iter().take(MAX_LISTED).collect(),
            });
        }
        Ok(decoder)
    }

    /// Recovers a random matrix on the pattern from its exact products; returns the rows
    /// (ascending) of the unknowns whose error exceeds [`SELF_TEST_TOL`].
    fn self_test(&self) -> Result<Vec<usize>, DesignError> {
        use rand::RngExt;
        let prep = Arc::clone(&self.prepared);
        let (n, p) = (prep.pattern.nrows(), prep.probes);
        let mut rng = ChaCha8Rng::seed_from_u64(SELF_TEST_SEED);
        let truth: Vec<f64> = (0..prep.unknowns.len())
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        let mut b = Mat::<f64>::zeros(n, p);
        for i in 0..n {
            for (k, &j) in prep.pattern.row_range(i).zip(prep.pattern.row(i)) {
                let h = truth[prep.unknown_of[k] as usize];
                for c in 0..p {
                    b[(i, c)] += h * prep.seeds[j * p + c];
                }
            }
        }
        let view = ProductsView::new(b.as_ref(), n, p).map_err(|_| DesignError::Parameter {
            name: "seeds",
            value: "(too large)".to_string(),
            reason: "the products of a test matrix overflow",
        })?;
        let mut scratch = Scratch::new(&prep);
        self.solve(view, &mut scratch);
        let scale = truth.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut rows = Vec::new();
        for (u, (&t, [a, bb])) in truth.iter().zip(&prep.unknowns).enumerate() {
            let err = (scratch.x[(u, 0)] - t).abs();
            // NaN counts as a failure.
            if err.is_nan() || err > SELF_TEST_TOL * scale {
                rows.push(*a as usize);
                rows.push(*bb as usize);
            }
        }
        rows.sort_unstable();
        rows.dedup();
        Ok(rows)
    }

    /// Solves for the unknowns into `scratch.x`.
    fn solve(&self, b: ProductsView<'_>, scratch: &mut Scratch) {
        let prep = &*self.prepared;
        let llt = LltRef::new(&prep.symbolic, &prep.l_values);
        let x = scratch.x.col_mut(0).try_as_col_major_mut();
        let x = x.expect("a Mat column is contiguous").as_slice_mut();
        transpose_times(prep, |i, c| b.at(i, c), x);
        llt.solve_in_place_with_conj(
            Conj::No,
            scratch.x.as_mut(),
            Par::Seq,
            MemStack::new(&mut scratch.work.buf),
        );
        for _ in 0..self.refinement_steps {
            let p = prep.probes;
            let x = scratch.x.col(0).try_as_col_major();
            let x = x.expect("a Mat column is contiguous").as_slice();
            // resid = b − M x, row by row of the pattern.
            for (i, r) in scratch.resid.chunks_exact_mut(p.max(1)).enumerate() {
                for (c, rc) in r.iter_mut().enumerate() {
                    *rc = b.at(i, c);
                }
                for (k, &j) in prep.pattern.row_range(i).zip(prep.pattern.row(i)) {
                    let h = x[prep.unknown_of[k] as usize];
                    for (rc, sc) in r.iter_mut().zip(&prep.seeds[j * p..(j + 1) * p]) {
                        *rc -= h * sc;
                    }
                }
            }
            let dx = scratch.dx.col_mut(0).try_as_col_major_mut();
            let dx = dx.expect("a Mat column is contiguous").as_slice_mut();
            let resid = &scratch.resid;
            transpose_times(prep, |i, c| resid[i * p + c], dx);
            llt.solve_in_place_with_conj(
                Conj::No,
                scratch.dx.as_mut(),
                Par::Seq,
                MemStack::new(&mut scratch.work.buf),
            );
            for u in 0..prep.unknowns.len() {
                scratch.x[(u, 0)] += scratch.dx[(u, 0)];
            }
        }
    }

    /// Number of probes p.
    pub fn num_probes(&self) -> usize {
        self.prepared.probes
    }

    /// Number of unknowns (lower-triangle entries of the pattern).
    pub fn num_unknowns(&self) -> usize {
        self.prepared.unknowns.len()
    }

    /// Number of stored values of the Cholesky factor of the normal equations.
    pub fn factor_len(&self) -> usize {
        self.prepared.l_values.len()
    }

    /// Corrected semi-normal refinement steps per decode.
    pub fn refinement_steps(&self) -> usize {
        self.refinement_steps
    }

    /// The pattern the decoder recovers.
    pub fn pattern(&self) -> &Pattern {
        &self.prepared.pattern
    }
}

impl Decode for SymmetricLeastSquaresDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.prepared.pattern.nrows(), self.prepared.probes)
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        let (rows, probes) = self.products_shape();
        let b = ProductsView::new(products, rows, probes)?;
        check_values(values, self.prepared.pattern.nnz())?;
        let mut own;
        let mut guard = self.scratch.try_lock();
        let scratch = match guard.as_deref_mut() {
            Ok(s) => s,
            // Taken by another thread (or poisoned by a panic there): decode with our own.
            Err(_) => {
                own = Scratch::new(&self.prepared);
                &mut own
            }
        };
        self.solve(b, scratch);
        for (v, &u) in values.iter_mut().zip(&self.prepared.unknown_of) {
            *v = scratch.x[(u as usize, 0)];
        }
        Ok(())
    }
}

/// Numbers the lower-triangle entries in the pattern's order; maps every entry (both
/// triangles) to its unknown.
fn number_unknowns(pattern: &Pattern) -> (Vec<u32>, Vec<[u32; 2]>) {
    let mut unknown_of = vec![u32::MAX; pattern.nnz()];
    let mut unknowns = Vec::new();
    for i in 0..pattern.nrows() {
        for (k, &j) in pattern.row_range(i).zip(pattern.row(i)) {
            if j <= i {
                unknown_of[k] = unknowns.len() as u32;
                unknowns.push([i as u32, j as u32]);
            }
        }
    }
    for i in 0..pattern.nrows() {
        for (k, &j) in pattern.row_range(i).zip(pattern.row(i)) {
            if j > i {
                let mirror = pattern
                    .position(j, i)
                    .expect("the pattern is structurally symmetric");
                unknown_of[k] = unknown_of[mirror];
            }
        }
    }
    (unknown_of, unknowns)
}

/// out[u] = (Mᵀ b)[u] = Σ_c S[b_u, c]·b(a_u, c) + [a_u ≠ b_u] Σ_c S[a_u, c]·b(b_u, c).
fn transpose_times(prep: &Prepared, b: impl Fn(usize, usize) -> f64, out: &mut [f64]) {
    let p = prep.probes;
    for (o, &[a, bb]) in out.iter_mut().zip(&prep.unknowns) {
        let (a, bb) = (a as usize, bb as usize);
        let sb = &prep.seeds[bb * p..(bb + 1) * p];
        let mut s: f64 = sb.iter().enumerate().map(|(c, v)| v * b(a, c)).sum();
        if a != bb {
            let sa = &prep.seeds[a * p..(a + 1) * p];
            s += sa
                .iter()
                .enumerate()
                .map(|(c, v)| v * b(bb, c))
                .sum::<f64>();
        }
        *o = s;
    }
}

/// The lower triangle of G = MᵀM in CSC form, assembled without forming M: for unknowns u,
/// w sharing pattern row r, G[u, w] gains ⟨S[other_u(r)], S[other_w(r)]⟩ where
/// other_u(r) is u's index that is not r (r itself on the diagonal).
fn normal_matrix(
    pattern: &Pattern,
    s: &[f64],
    p: usize,
    unknown_of: &[u32],
    unknowns: &[[u32; 2]],
) -> SparseColMat<usize, f64> {
    let nunk = unknowns.len();
    let mut acc = vec![0.0; nunk];
    let mut mark = vec![usize::MAX; nunk];
    let mut touched: Vec<usize> = Vec::new();
    let mut col_ptr = Vec::with_capacity(nunk + 1);
    let mut row_idx = Vec::new();
    let mut val = Vec::new();
    col_ptr.push(0);
    let seed = |j: usize| &s[j * p..(j + 1) * p];
    for (w, &[a, b]) in unknowns.iter().enumerate() {
        let (a, b) = (a as usize, b as usize);
        touched.clear();
        let shared: &[(usize, usize)] = if a == b { &[(a, a)] } else { &[(a, b), (b, a)] };
        for &(r, other) in shared {
            let so = seed(other);
            for (k, &j) in pattern.row_range(r).zip(pattern.row(r)) {
                let u = unknown_of[k] as usize;
                if u < w {
                    continue;
                }
                let g: f64 = so.iter().zip(seed(j)).map(|(x, y)| x * y).sum();
                if mark[u] != w {
                    mark[u] = w;
                    acc[u] = 0.0;
                    touched.push(u);
                }
                acc[u] += g;
            }
        }
        touched.sort_unstable();
        for &u in &touched {
            row_idx.push(u);
            val.push(acc[u]);
        }
        col_ptr.push(row_idx.len());
    }
    let symbolic = SymbolicSparseColMat::new_checked(nunk, nunk, col_ptr, None, row_idx);
    SparseColMat::new(symbolic, val)
}
