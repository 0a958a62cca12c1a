//! Per-row least squares: row i of B = A·S only involves the unknowns of row i,
//! B[i, :] = Σ_{j ∈ J_i} A[i, j] S[j, :], so each row is an independent p×d_i least-squares
//! problem min ‖M_i x − b_i‖ with the sample matrix M_i = S[J_i, :]ᵀ and b_i = B[i, :]ᵀ.
//!
//! Preparation factors every M_i once (Householder QR) and stores its pseudo-inverse
//! P_i = Π R⁻¹ Qᵀ (d_i×p) contiguously, in the pattern's entry order: entry k of the
//! pattern is `pinv[k·p .. (k+1)·p] · b_i`. Decoding is one small mat-vec per row and
//! allocates nothing.
//!
//! A row is *unrecoverable* when it has more unknowns than there are probes (d_i > p) or
//! when M_i is rank deficient: some pivot |R_kk| ≤ tol·|R_00|. Samples given by the caller
//! ([`RowLeastSquaresDecoder::from_samples`]) get a column-pivoted, rank-revealing QR
//! (R_00 is then the largest column norm and the |R_kk| are non-increasing); designers
//! that draw random Gaussian or Rademacher seeds use the unpivoted QR and compare every
//! pivot with the largest column norm (generic samples: an exact deficiency, such as two
//! Rademacher rows equal up to sign, still leaves a pivot at rounding level).
//! [`Decode::decode`] refuses to return values when some row is unrecoverable;
//! [`RowLeastSquaresDecoder::decode_partial`] writes NaN there and lists the rows.
//!
//! # Why the small QR is hand-written
//!
//! Measured on `band(100_000, 3, 3)` with p = 9 (1e5 rows, each a 9×7 sample matrix),
//! release build, one thread, AMD EPYC (2 cores, shared with other jobs, so ±10 %),
//! factorisation plus pseudo-inverse, output buffer already touched:
//!
//! | implementation | time |
//! |---|---|
//! | `Mat::col_piv_qr()` + `solve_lstsq(I_p)` per row | 553 ms |
//! | `Mat::qr()` + `solve_lstsq(I_p)` per row | 404–557 ms |
//! | faer in-place `qr_in_place` + `solve_lstsq_in_place`, preallocated `MemStack`, no pivoting | 240–265 ms |
//! | faer in-place column-pivoted `qr_in_place` alone (no pseudo-inverse yet) | 150–160 ms |
//! | hand-written column-pivoted Householder + pseudo-inverse, one row at a time | 58–62 ms |
//! | the same, unpivoted | 47–55 ms |
//! | the same, row-major with the width d a compile-time constant | 80 ms |
//! | hand-written, two rows at a time in the SSE2 lanes (below) | about 35–45 ms |
//!
//! On top of the kernel, touching the 50 MB of pseudo-inverses costs 19–25 ms of page
//! faults and drawing S 6–9 ms. Whole preparation with the kernel below: 70–80 ms for
//! [`RandomDesigner::design`](crate::RandomDesigner) (unpivoted, S drawn), 76–82 ms for
//! [`RowLeastSquaresDecoder::from_samples`] (pivoted); the target is ≤ 100 ms. Rows wider
//! than [`SMALL_ROW`] (dense rows of arrowheads, say) go through faer's blocked
//! column-pivoted QR, whose per-call overhead no longer matters there.

use std::sync::Arc;

use faer::linalg::solvers::SolveLstsq;
use faer::{Mat, MatRef};
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::{DecodeError, DesignError};
use crate::products::{ProductsView, check_values};

/// Rows with at most this many unknowns use the hand-written QR kernel (see the module docs);
/// wider rows use faer's column-pivoted QR.
pub const SMALL_ROW: usize = 32;

/// Default relative rank tolerance: a pivot |R_kk| ≤ 1e-10·|R_00| makes the row
/// unrecoverable (its sample matrix has condition number of order 1e10 or worse).
pub const DEFAULT_RANK_TOL: f64 = 1e-10;

/// Most rows listed in an error.
const MAX_LISTED: usize = 64;

/// Largest p for which a row of products is gathered into a stack buffer while decoding.
const STACK_PROBES: usize = 64;

/// Prepared per-row least squares (see the module docs).
#[derive(Debug, Clone)]
pub struct RowLeastSquaresDecoder {
    pattern: Arc<Pattern>,
    probes: usize,
    /// S row-major (n×p), for residuals.
    seeds: Vec<f64>,
    /// Pseudo-inverse rows, p values per pattern entry.
    pinv: Vec<f64>,
    /// Whether each row was recovered at design time.
    recoverable: Vec<bool>,
    /// The rows that are not, ascending.
    unrecoverable: Vec<usize>,
    tol: f64,
}

/// Why one row cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowFailure {
    /// d_i > p.
    TooFewProbes { row: usize, needed: usize },
    /// M_i rank deficient.
    RankDeficient { row: usize },
}

impl RowLeastSquaresDecoder {
    /// Prepares per-row least squares for ANY seed matrix S (n×p, n = `pattern.ncols()`),
    /// for instance samples that someone else chose.
    ///
    /// Every row whose sample matrix S[J_i, :]ᵀ has full column rank (relative tolerance
    /// `tol` on the pivots of a column-pivoted QR, see [`DEFAULT_RANK_TOL`]) is prepared; the
    /// others are listed by [`unrecoverable_rows`](Self::unrecoverable_rows).
    ///
    /// Errors: a seed matrix with the wrong number of rows ([`DesignError::SeedShape`]), a
    /// non-finite seed ([`DesignError::NonFiniteSeed`]), `tol` outside [0, 1)
    /// ([`DesignError::Parameter`]), more probes than
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) allows for the pseudo-inverses
    /// ([`DesignError::DenseTooLarge`]).
    pub fn from_samples(
        pattern: &Pattern,
        seeds: MatRef<'_, f64>,
        tol: f64,
    ) -> Result<Self, DesignError> {
        Ok(Self::prepare(Arc::new(pattern.clone()), seeds, tol, true)?.0)
    }

    /// Validates the inputs and prepares every row; also returns the first failure.
    ///
    /// `pivot`: column-pivoted (rank-revealing) QR for the small rows. Designers drawing
    /// random seeds pass false (see the module docs): about 10 ms faster on the 1e5-row
    /// band.
    pub(crate) fn prepare(
        pattern: Arc<Pattern>,
        seeds: MatRef<'_, f64>,
        tol: f64,
        pivot: bool,
    ) -> Result<(Self, Option<RowFailure>), DesignError> {
        check_tol(tol)?;
        let p = seeds.ncols();
        crate::plan::check_dense(
            crate::design::ROW_LSTSQ_ARRAYS,
            crate::design::row_lstsq_rows(&pattern),
            p as u128,
        )?;
        let s = row_major_seeds(seeds, pattern.ncols())?;
        let mut pinv = vec![0.0; pattern.nnz() * p];
        let max_small = (0..pattern.nrows())
            .map(|i| pattern.row_nnz(i))
            .filter(|&d| d <= SMALL_ROW.min(p))
            .max()
            .unwrap_or(0);
        let mut one = SmallQr::<f64>::new(p, max_small, pivot);
        let mut two = SmallQr::<F2>::new(p, max_small, pivot);
        let mut failures: Vec<RowFailure> = Vec::new();
        let ptr = pattern.row_ptr();
        let span = |i: usize| ptr[i] * p..ptr[i + 1] * p;
        // Rows of equal width are factored two at a time (one per SIMD lane); `pending`
        // waits for a partner.
        let mut pending: Option<usize> = None;
        let mut single = |i: usize, pinv: &mut [f64], failures: &mut Vec<RowFailure>| {
            let row = pattern.row(i);
            let out = &mut pinv[span(i)];
            let ok = if row.len() <= SMALL_ROW {
                one.pseudo_inverse(&s, &[row], tol, &mut [out])
            } else {
                large_pseudo_inverse(&s, p, row, tol, out)
            };
            if !ok {
                out.fill(f64::NAN);
                failures.push(RowFailure::RankDeficient { row: i });
            }
        };
        for i in 0..pattern.nrows() {
            let d = pattern.row_nnz(i);
            if d == 0 {
                continue;
            }
            if d > p {
                pinv[span(i)].fill(f64::NAN);
                failures.push(RowFailure::TooFewProbes { row: i, needed: d });
                continue;
            }
            if d > SMALL_ROW {
                single(i, &mut pinv, &mut failures);
                continue;
            }
            match pending.take() {
                Some(j) if pattern.row_nnz(j) == d => {
                    let (head, tail) = pinv.split_at_mut(ptr[i] * p);
                    let (out_j, out_i) = (&mut head[span(j)], &mut tail[..d * p]);
                    let rows = [pattern.row(j), pattern.row(i)];
                    if !two.pseudo_inverse(&s, &rows, tol, &mut [out_j, out_i]) {
                        // Some lane is rank deficient: redo both alone to find which.
                        single(j, &mut pinv, &mut failures);
                        single(i, &mut pinv, &mut failures);
                    }
                }
                Some(j) => {
                    single(j, &mut pinv, &mut failures);
                    pending = Some(i);
                }
                None => pending = Some(i),
            }
        }
        if let Some(j) = pending {
            single(j, &mut pinv, &mut failures);
        }
        failures.sort_by_key(|f| match *f {
            RowFailure::TooFewProbes { row, .. } | RowFailure::RankDeficient { row } => row,
        });
        let unrecoverable: Vec<usize> = failures
            .iter()
            .map(|f| match *f {
                RowFailure::TooFewProbes { row, .. } | RowFailure::RankDeficient { row } => row,
            })
            .collect();
        let mut recoverable = vec![true; pattern.nrows()];
        for &i in &unrecoverable {
            recoverable[i] = false;
        }
        let first_failure = failures.first().copied();
        let decoder = Self {
            pattern,
            probes: p,
            seeds: s,
            pinv,
            recoverable,
            unrecoverable,
            tol,
        };
        Ok((decoder, first_failure))
    }

    /// The rows that cannot be recovered (more unknowns than probes, or a rank-deficient
    /// sample matrix), ascending. Empty for every plan made by a designer.
    pub fn unrecoverable_rows(&self) -> &[usize] {
        &self.unrecoverable
    }

    /// Number of probes p.
    pub fn num_probes(&self) -> usize {
        self.probes
    }

    /// The relative rank tolerance the rows were prepared with.
    pub fn rank_tol(&self) -> f64 {
        self.tol
    }

    /// The pattern the decoder recovers.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Decodes every recoverable row and writes NaN into the entries of the unrecoverable
    /// ones, which it returns (the same list as
    /// [`unrecoverable_rows`](Self::unrecoverable_rows)). Does not allocate.
    ///
    /// Errors: products of the wrong shape or with a non-finite entry, a value buffer of the
    /// wrong length.
    pub fn decode_partial(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
    ) -> Result<&[usize], DecodeError> {
        let p = self.probes;
        let pat = &*self.pattern;
        let b = ProductsView::new(products, pat.nrows(), p)?;
        check_values(values, pat.nnz())?;
        let mut buf = [0.0f64; STACK_PROBES];
        for i in 0..pat.nrows() {
            let range = pat.row_range(i);
            if range.is_empty() {
                continue;
            }
            if !self.recoverable[i] {
                values[range].fill(f64::NAN);
                continue;
            }
            let pinv = &self.pinv[range.start * p..range.end * p];
            if p <= STACK_PROBES {
                let bi = &mut buf[..p];
                for (c, v) in bi.iter_mut().enumerate() {
                    *v = b.at(i, c);
                }
                for (v, prow) in values[range].iter_mut().zip(pinv.chunks_exact(p)) {
                    *v = dot(prow, bi);
                }
            } else {
                for (v, prow) in values[range].iter_mut().zip(pinv.chunks_exact(p)) {
                    *v = prow.iter().enumerate().map(|(c, w)| w * b.at(i, c)).sum();
                }
            }
        }
        Ok(&self.unrecoverable)
    }

    /// The residual norm ‖M_i x_i − b_i‖₂ of every row i for the given decoded `values`
    /// (in the pattern's entry order): how far the products of row i are from what the
    /// recovered entries explain. NaN for unrecoverable rows.
    ///
    /// With exact products and p > d_i it is at rounding level (about 1e-15·‖b_i‖). A
    /// residual far above that (compare with ‖b_i‖) names a row whose declared pattern
    /// misses entries of the true matrix, or whose products are noisy; with p = d_i the
    /// residual is always zero and carries no information. Does not allocate.
    pub fn residuals(
        &self,
        products: MatRef<'_, f64>,
        values: &[f64],
        out: &mut [f64],
    ) -> Result<(), DecodeError> {
        let p = self.probes;
        let pat = &*self.pattern;
        let b = ProductsView::new(products, pat.nrows(), p)?;
        check_values(values, pat.nnz())?;
        if out.len() != pat.nrows() {
            return Err(DecodeError::ValuesLength {
                len: out.len(),
                expected: pat.nrows(),
            });
        }
        for (i, r) in out.iter_mut().enumerate() {
            if !self.recoverable[i] {
                *r = f64::NAN;
                continue;
            }
            let (cols, range) = (pat.row(i), pat.row_range(i));
            let mut sum = 0.0;
            for c in 0..p {
                let mut fit = 0.0;
                for (&j, &v) in cols.iter().zip(&values[range.clone()]) {
                    fit += v * self.seeds[j * p + c];
                }
                let e = fit - b.at(i, c);
                sum += e * e;
            }
            *r = sum.sqrt();
        }
        Ok(())
    }
}

impl Decode for RowLeastSquaresDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.pattern.nrows(), self.probes)
    }

    /// Decodes like [`decode_partial`](RowLeastSquaresDecoder::decode_partial), then fails
    /// with [`DecodeError::Unrecoverable`] if any row could not be recovered: nothing is
    /// returned silently wrong (those rows hold NaN).
    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        let bad = self.decode_partial(products, values)?;
        if bad.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Unrecoverable {
                count: bad.len(),
                rows: bad.iter().copied().take(MAX_LISTED).collect(),
            })
        }
    }
}

/// Rejects a tolerance outside [0, 1).
pub(crate) fn check_tol(tol: f64) -> Result<(), DesignError> {
    if !(0.0..1.0).contains(&tol) {
        return Err(DesignError::Parameter {
            name: "tol",
            value: tol.to_string(),
            reason: "must be a number in [0, 1)",
        });
    }
    Ok(())
}

/// Checks the seed matrix (rows = `expected_rows`, every entry finite) and copies it
/// row-major.
pub(crate) fn row_major_seeds(
    seeds: MatRef<'_, f64>,
    expected_rows: usize,
) -> Result<Vec<f64>, DesignError> {
    let (n, p) = seeds.shape();
    if n != expected_rows {
        return Err(DesignError::SeedShape {
            rows: n,
            cols: p,
            expected_rows,
        });
    }
    let mut s = vec![0.0; n * p];
    // Column by column: contiguous reads for the usual column-major seeds.
    for c in 0..p {
        for (j, &x) in seeds.col(c).iter().enumerate() {
            s[j * p + c] = x;
        }
    }
    if let Some(k) = s.iter().position(|x| !x.is_finite()) {
        let (row, probe) = (k / p, k % p);
        return Err(DesignError::NonFiniteSeed {
            row,
            probe,
            value: s[k],
        });
    }
    Ok(s)
}

/// The first failure as the design error of a designer (which must not return plans with
/// unrecoverable rows).
pub(crate) fn design_error(decoder: &RowLeastSquaresDecoder, first: RowFailure) -> DesignError {
    match first {
        RowFailure::TooFewProbes { row, needed } => DesignError::TooFewProbes {
            row,
            needed,
            probes: decoder.probes,
        },
        RowFailure::RankDeficient { .. } => DesignError::RankDeficient {
            count: decoder.unrecoverable.len(),
            rows: decoder
                .unrecoverable
                .iter()
                .copied()
                .take(MAX_LISTED)
                .collect(),
        },
    }
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators: independent chains the compiler can keep in registers.
    let mut acc = [0.0f64; 4];
    let (ca, ra) = (a.chunks_exact(4), a.chunks_exact(4).remainder());
    let rb = b.chunks_exact(4).remainder();
    for (x, y) in ca.zip(b.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The kernel's number type: one f64 per problem, for one problem ([`f64`]) or two at once
/// ([`F2`], one per SSE2 lane). Everything is lane-wise.
trait Lanes:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// Number of problems.
    const N: usize;
    fn splat(x: f64) -> Self;
    fn from_fn(f: impl FnMut(usize) -> f64) -> Self;
    fn lane(self, l: usize) -> f64;
    fn set_lane(&mut self, l: usize, x: f64);
    fn sqrt(self) -> Self;
    fn max(self, other: Self) -> Self;
    /// −sign(x0)·norm (the sign that avoids cancellation in x0 − α).
    fn alpha(norm: Self, x0: Self) -> Self;
    /// norm > bound and norm ≠ 0 in every lane (false for NaN).
    fn above(norm: Self, bound: Self) -> bool;
}

impl Lanes for f64 {
    const N: usize = 1;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
        f(0)
    }
    #[inline(always)]
    fn lane(self, _: usize) -> f64 {
        self
    }
    #[inline(always)]
    fn set_lane(&mut self, _: usize, x: f64) {
        *self = x;
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
    #[inline(always)]
    fn alpha(norm: Self, x0: Self) -> Self {
        if x0 >= 0.0 { -norm } else { norm }
    }
    #[inline(always)]
    fn above(norm: Self, bound: Self) -> bool {
        norm > bound && norm != 0.0
    }
}

/// Two f64, one per problem.
#[derive(Clone, Copy, Debug, PartialEq)]
struct F2([f64; 2]);

macro_rules! f2_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl std::ops::$tr for F2 {
            type Output = F2;
            #[inline(always)]
            fn $f(self, o: F2) -> F2 {
                F2([self.0[0] $op o.0[0], self.0[1] $op o.0[1]])
            }
        }
    };
}
f2_op!(Add, add, +);
f2_op!(Sub, sub, -);
f2_op!(Mul, mul, *);
f2_op!(Div, div, /);

impl Lanes for F2 {
    const N: usize = 2;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        F2([x, x])
    }
    #[inline(always)]
    fn from_fn(mut f: impl FnMut(usize) -> f64) -> Self {
        F2([f(0), f(1)])
    }
    #[inline(always)]
    fn lane(self, l: usize) -> f64 {
        self.0[l]
    }
    #[inline(always)]
    fn set_lane(&mut self, l: usize, x: f64) {
        self.0[l] = x;
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        F2([self.0[0].sqrt(), self.0[1].sqrt()])
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        F2([self.0[0].max(o.0[0]), self.0[1].max(o.0[1])])
    }
    #[inline(always)]
    fn alpha(norm: Self, x0: Self) -> Self {
        F2([
            f64::alpha(norm.0[0], x0.0[0]),
            f64::alpha(norm.0[1], x0.0[1]),
        ])
    }
    #[inline(always)]
    fn above(norm: Self, bound: Self) -> bool {
        f64::above(norm.0[0], bound.0[0]) && f64::above(norm.0[1], bound.0[1])
    }
}

/// Workspace of the small kernel for `L::N` problems of the same width d: the sample
/// matrices (d columns of length p, overwritten by R above the diagonal and the Householder
/// vectors below it), the Householder scalars, the column permutation, the column norms
/// and the pseudo-inverses being built.
///
/// Column-major on purpose: a row-major variant whose inner loops run across the d
/// columns (so that the d dot products vectorise), even with d a compile-time constant,
/// measured 80 ms against 60 ms for this one on the 1e5-row band. Two problems at once in
/// the SSE2 lanes ([`F2`]) is what pays.
struct SmallQr<L> {
    p: usize,
    pivot: bool,
    a: Vec<L>,
    tau: Vec<L>,
    perm: Vec<usize>,
    norms: Vec<L>,
    e: Vec<L>,
}

impl<L: Lanes> SmallQr<L> {
    fn new(p: usize, max_d: usize, pivot: bool) -> Self {
        let zero = L::splat(0.0);
        Self {
            p,
            pivot,
            a: vec![zero; p * max_d],
            tau: vec![zero; max_d],
            perm: vec![0; max_d * L::N],
            norms: vec![zero; max_d],
            e: vec![zero; p * max_d],
        }
    }

    /// Writes the d×p pseudo-inverse of each M_l = S[cols[l], :]ᵀ (row-major, rows in
    /// `cols[l]` order) into `out[l]`, l < `L::N`, all of the same width d; false if some
    /// M_l is rank deficient (`out` is then unspecified).
    fn pseudo_inverse(
        &mut self,
        s: &[f64],
        cols: &[&[usize]],
        tol: f64,
        out: &mut [&mut [f64]],
    ) -> bool {
        let p = self.p;
        let d = cols[0].len();
        let a = &mut self.a[..p * d];
        for (k, col) in a.chunks_exact_mut(p).enumerate() {
            for (c, x) in col.iter_mut().enumerate() {
                *x = L::from_fn(|l| s[cols[l][k] * p + c]);
            }
        }
        let (tau, norms) = (&mut self.tau[..d], &mut self.norms[..d]);
        let perm = &mut self.perm[..d * L::N];
        if !householder(p, a, tau, perm, norms, tol, self.pivot) {
            return false;
        }
        let e = &mut self.e[..p * d];
        pinv_from_qr(p, a, tau, e);
        for (l, o) in out.iter_mut().enumerate() {
            for (ej, orig) in e.chunks_exact(p).zip(perm.chunks_exact(L::N)) {
                let orig = orig[l];
                for (x, y) in o[orig * p..(orig + 1) * p].iter_mut().zip(ej) {
                    *x = y.lane(l);
                }
            }
        }
        true
    }
}

/// Householder QR of the p×d matrix `a` (d columns of length p, d ≤ p), in place: R on and
/// above the diagonal, the Householder vectors v (v_k = 1 implicit) below,
/// H_k = I − τ_k v vᵀ. With `pivot`, columns are pivoted by largest remaining norm
/// (rank-revealing), lane by lane, and `perm[k·N + l]` is the original column at position
/// k in lane l; without, `perm` is the identity. Returns false as soon as a pivot |R_kk| is ≤ `tol` times
/// the first pivot (pivoted) or the largest column norm (not pivoted), in some lane.
fn householder<L: Lanes>(
    p: usize,
    a: &mut [L],
    tau: &mut [L],
    perm: &mut [usize],
    norms: &mut [L],
    tol: f64,
    pivot: bool,
) -> bool {
    let d = tau.len();
    let mut largest = L::splat(0.0);
    for (k, nk) in norms.iter_mut().enumerate() {
        *nk = a[k * p..(k + 1) * p]
            .iter()
            .fold(L::splat(0.0), |acc, &x| acc + x * x);
        largest = largest.max(*nk);
    }
    for (i, pk) in perm.iter_mut().enumerate() {
        *pk = i / L::N;
    }
    // Without pivoting, pivots are compared with the largest column norm.
    let mut bound = L::splat(tol) * largest.sqrt();
    let one = L::splat(1.0);
    for k in 0..d {
        if pivot {
            // In each lane, the remaining column of largest (downdated) norm.
            for l in 0..L::N {
                let mut best = k;
                for j in k + 1..d {
                    if norms[j].lane(l) > norms[best].lane(l) {
                        best = j;
                    }
                }
                if best != k {
                    let (left, right) = a.split_at_mut(best * p);
                    for (x, y) in left[k * p..(k + 1) * p].iter_mut().zip(&mut right[..p]) {
                        let (xl, yl) = (x.lane(l), y.lane(l));
                        x.set_lane(l, yl);
                        y.set_lane(l, xl);
                    }
                    perm.swap(k * L::N + l, best * L::N + l);
                    let (nk, nb) = (norms[k].lane(l), norms[best].lane(l));
                    norms[k].set_lane(l, nb);
                    norms[best].set_lane(l, nk);
                }
            }
        }
        // The exact norm of the pivot's remaining part (the downdated one only steers).
        let x = &a[k * p + k..(k + 1) * p];
        let norm = x.iter().fold(L::splat(0.0), |acc, &v| acc + v * v).sqrt();
        if k == 0 && pivot {
            bound = L::splat(tol) * norm;
        }
        if !L::above(norm, bound) {
            return false;
        }
        let x0 = x[0];
        let alpha = L::alpha(norm, x0);
        let v0 = x0 - alpha;
        let t = (L::splat(0.0) - v0) / alpha;
        tau[k] = t;
        let (head, tail) = a.split_at_mut((k + 1) * p);
        let vcol = &mut head[k * p + k..];
        vcol[0] = alpha;
        let inv = one / v0;
        for v in &mut vcol[1..] {
            *v = *v * inv;
        }
        let v = &vcol[1..];
        for (col, nj) in tail.chunks_exact_mut(p).zip(&mut norms[k + 1..]) {
            let col = &mut col[k..];
            let mut s = col[0];
            for (&c, &vv) in col[1..].iter().zip(v) {
                s = s + c * vv;
            }
            s = s * t;
            col[0] = col[0] - s;
            for (c, &vv) in col[1..].iter_mut().zip(v) {
                *c = *c - s * vv;
            }
            if pivot {
                *nj = (*nj - col[0] * col[0]).max(L::splat(0.0));
            }
        }
    }
    true
}

/// From the QR of [`householder`], the pseudo-inverse in pivoted order: E = Q [R⁻ᵀ; 0]
/// (p×d, column k is row k of R⁻¹Q₁ᵀ), built as E = R⁻ᵀ (forward substitution) followed
/// by E ← H_0 ⋯ H_{d−1} E. Row perm[k] of P = Π R⁻¹ Q₁ᵀ is column k of E.
fn pinv_from_qr<L: Lanes>(p: usize, a: &[L], tau: &[L], e: &mut [L]) {
    let d = tau.len();
    let zero = L::splat(0.0);
    e.fill(zero);
    for (j, ej) in e.chunks_exact_mut(p).enumerate() {
        for r in j..d {
            // Row r of Rᵀ is column r of R: R[0..r, r] = a[r·p .. r·p + r].
            let rc = &a[r * p..r * p + r];
            let mut s = L::splat(if r == j { 1.0 } else { 0.0 });
            for (&rk, &ek) in rc[j..].iter().zip(&ej[j..r]) {
                s = s - rk * ek;
            }
            ej[r] = s / a[r * p + r];
        }
    }
    for k in (0..d).rev() {
        let v = &a[k * p + k + 1..(k + 1) * p];
        let t = tau[k];
        for ej in e.chunks_exact_mut(p) {
            let col = &mut ej[k..];
            let mut s = col[0];
            for (&c, &vv) in col[1..].iter().zip(v) {
                s = s + c * vv;
            }
            s = s * t;
            col[0] = col[0] - s;
            for (c, &vv) in col[1..].iter_mut().zip(v) {
                *c = *c - s * vv;
            }
        }
    }
}

/// Wide rows: faer's column-pivoted QR, rank check on the diagonal of R, pseudo-inverse by
/// least squares against the identity.
fn large_pseudo_inverse(s: &[f64], p: usize, cols: &[usize], tol: f64, out: &mut [f64]) -> bool {
    let d = cols.len();
    let m = Mat::<f64>::from_fn(p, d, |c, k| s[cols[k] * p + c]);
    let qr = m.col_piv_qr();
    let r = qr.thin_R();
    let r00 = (0..d).fold(0.0f64, |m, k| m.max(r[(k, k)].abs()));
    if (0..d).any(|k| {
        let rkk = r[(k, k)].abs();
        !f64::above(rkk, tol * r00)
    }) {
        return false;
    }
    let x = qr.solve_lstsq(Mat::<f64>::identity(p, p));
    for (k, row) in out.chunks_exact_mut(p).enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = x[(k, c)];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    }

    #[test]
    fn small_kernel_agrees_with_faer() {
        let mut st = 3u64;
        for (p, d, pivot) in [
            (1, 1, true),
            (3, 2, false),
            (9, 7, true),
            (9, 7, false),
            (12, 12, true),
            (20, 5, false),
        ] {
            let n = d + 3;
            let s: Vec<f64> = (0..n * p).map(|_| lcg(&mut st)).collect();
            let cols: Vec<usize> = (0..d).map(|k| k + 1).collect();
            let mut small = vec![0.0; d * p];
            let mut large = vec![0.0; d * p];
            let mut k = SmallQr::<f64>::new(p, d, pivot);
            assert!(k.pseudo_inverse(&s, &[&cols], 1e-12, &mut [&mut small]));
            assert!(large_pseudo_inverse(&s, p, &cols, 1e-12, &mut large));
            for (a, b) in small.iter().zip(&large) {
                assert!(
                    (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                    "p={p} d={d}: {a} {b}"
                );
            }
        }
    }

    #[test]
    fn two_lanes_agree_with_one() {
        let mut st = 5u64;
        for pivot in [true, false] {
            for (p, d) in [(4, 1), (9, 7), (11, 11), (15, 6)] {
                let n = 2 * d + 2;
                let s: Vec<f64> = (0..n * p).map(|_| lcg(&mut st)).collect();
                let c1: Vec<usize> = (0..d).collect();
                let c2: Vec<usize> = (0..d).map(|k| n - 1 - 2 * k).collect();
                let (mut a1, mut a2) = (vec![0.0; d * p], vec![0.0; d * p]);
                let mut one = SmallQr::<f64>::new(p, d, pivot);
                assert!(one.pseudo_inverse(&s, &[&c1], 1e-12, &mut [&mut a1]));
                assert!(one.pseudo_inverse(&s, &[&c2], 1e-12, &mut [&mut a2]));
                let (mut b1, mut b2) = (vec![0.0; d * p], vec![0.0; d * p]);
                let mut two = SmallQr::<F2>::new(p, d, pivot);
                assert!(two.pseudo_inverse(&s, &[&c1, &c2], 1e-12, &mut [&mut b1, &mut b2]));
                assert_eq!(a1, b1, "pivot {pivot}, p {p}, d {d}");
                assert_eq!(a2, b2, "pivot {pivot}, p {p}, d {d}");
            }
        }
    }

    #[test]
    fn rank_deficiency_is_detected_by_both_kernels() {
        let p = 5;
        let mut st = 9u64;
        let mut s: Vec<f64> = (0..4 * p).map(|_| lcg(&mut st)).collect();
        // Row 2 of S = 2 × row 0: columns {0, 1, 2} are dependent.
        for c in 0..p {
            s[2 * p + c] = 2.0 * s[c];
        }
        let mut out = vec![0.0; 3 * p];
        for pivot in [true, false] {
            let mut k = SmallQr::<f64>::new(p, 3, pivot);
            assert!(!k.pseudo_inverse(&s, &[&[0, 1, 2]], 1e-10, &mut [&mut out]));
            assert!(!k.pseudo_inverse(&s, &[&[2, 1, 0]], 1e-10, &mut [&mut out]));
            assert!(k.pseudo_inverse(&s, &[&[0, 1, 3]], 1e-10, &mut [&mut out]));
        }
        let mut k2 = SmallQr::<F2>::new(p, 3, false);
        let mut out2 = vec![0.0; 3 * p];
        assert!(!k2.pseudo_inverse(
            &s,
            &[&[0, 1, 3], &[0, 1, 2]],
            1e-10,
            &mut [&mut out, &mut out2]
        ));
        assert!(k2.pseudo_inverse(
            &s,
            &[&[0, 1, 3], &[3, 1, 0]],
            1e-10,
            &mut [&mut out, &mut out2]
        ));
        assert!(!large_pseudo_inverse(&s, p, &[0, 1, 2], 1e-10, &mut out));
    }
}
