//! The banded LDLᵀ kernels: the factorisation and the two triangular sweeps.
//!
//! # Why hand-written
//!
//! faer 0.24 has dense and general sparse Cholesky/LDLᵀ but no banded solver; a general
//! sparse Cholesky on a band spends its time in symbolic bookkeeping and scattered index
//! loads (measured in `papers/solvers.md`), and LAPACK's `dpbtrf` is not in the dependency
//! tree. A band of half-bandwidth β has a fixed, dense structure: no indices, and for
//! β ≤ [`MAX_FIXED_BETA`] every trip count is a compile-time constant (the width is a
//! const generic; larger β runs a right-looking loop with a run-time width).
//!
//! # Factorisation
//!
//! The const-β kernel ([`factor_fixed`]) is left-looking: column j is computed from the
//! β finished columns before it, so nothing is scattered and each column is written
//! once. The right-looking kernel it replaced updated the β − 1 following columns through
//! memory at every step, with stores of varying lengths that the next step reloaded at
//! other offsets (store forwarding failed; ≈ 50 cycles per column at β = 9). What the
//! left-looking kernel does, and what each step measured (n = 5000, β = 9, factor alone,
//! `band_timing 5000 9 2000`, one thread, on a shared 2-core VM at ≈ 3.6 GHz):
//!
//! * left-looking, unscaled columns in a small buffer, pivot in the short form
//!   `D_j = s − c_{j−1}[1]²/D_{j−1}` (the chain from pivot to pivot is one multiply-add and
//!   one division), pivot tests as two float comparisons on `d` and `1/d`: 100–127 → 62 µs;
//! * 4-lane registers through intrinsics ([`Lanes`]; with plain arrays LLVM packed the
//!   pivot's scalars into the update's vectors and spilled them on the chain), the buffer
//!   slid instead of indexed modulo its size (constant offsets): 56 µs;
//! * the next column's sum (every term but the newest) carried from one step to the next,
//!   so only the newest term sits between two pivots: 50 µs;
//! * columns read from the CSR values straight into registers, interior rows of a full
//!   band at a fixed stride without the row table; finiteness checked by a NaN
//!   accumulator and a scan on error instead of a test per value: 42–45 µs;
//! * an AVX-512F/VL build of the same code (32 registers, one-instruction lane shifts),
//!   chosen at run time: 38.6 / 40.7 µs against 42.1 / 45.2 µs for AVX2 + FMA (min /
//!   median, alternating runs).
//!
//! Measured and not kept: splitting the older terms into two chains, the third column
//! from registers instead of the buffer, a loop unrolled by two (slower: 40.9 against
//! 39.0 µs), loops compiled per pivot rule, dropping the NaN accumulator (−0.6 µs, within
//! noise). The floor: a dependent division and multiply-add take 4.5 ns here (≈ 16
//! cycles), 22.5 µs for 5000 pivots; β = 1 runs at 27 µs. At β = 9 the kernel issues ≈ 110
//! instructions per column and is throughput-bound: dropping the q ≥ 3 terms (27 uops)
//! saves 8 µs, dropping the division only 4 µs.
//!
//! # Solve
//!
//! Both sweeps are in dot form with the last β solution values in a register window,
//! the loops unrolled by β so the window's slots are fixed registers, and each row's
//! newest term entering last (one multiply-add between rows): 41–57 → 14.6 / 15.2 µs at
//! n = 5000, β = 9. Each row loads β entries of L and its right-hand side; at two loads
//! per cycle that is the bound (≈ 5.5 cycles per row and sweep).

// The kernels index by position on purpose: the indices are the algorithm (offsets in a
// band column), and constant trip counts are what the compiler unrolls.
#![allow(clippy::needless_range_loop)]

#[cfg(target_arch = "x86_64")]
use super::lanes::Avx;
use super::lanes::F4;
pub(crate) use super::lanes::Lanes;
use crate::error::SolveError;

/// Largest half-bandwidth with a specialised (const-generic) kernel.
pub const MAX_FIXED_BETA: usize = 16;

/// What to do with each pivot.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PivotRule {
    /// Cholesky: every pivot must be positive (and finite).
    Positive,
    /// LDLᵀ: `|d| > tolerance · (largest |A_kk| loaded so far)`, finite.
    Relative(f64),
}

/// Where the factorisation gets column `j` of A from.
///
/// The generic loop uses [`Source::load`], which checks every value as it is read. The
/// const-β kernel reads columns straight into registers with [`Source::column`], which
/// folds non-finite values into a running accumulator instead (one multiply-add per
/// register rather than a test and a branch per value); on any error, and at the end
/// if the accumulator is NaN, [`Source::first_non_finite`] scans the columns the
/// value-by-value check would have read by then, so the error reported is the same.
pub(crate) trait Source {
    /// Writes column `j` (length β + 1, zero padded) into `col`.
    fn load(&self, j: usize, col: &mut [f64]) -> Result<(), SolveError>;
    /// `A[k, k]` (with the shift), for the pivot scale; not checked. `a` is the band
    /// storage (W = β + 1), which still holds column k of A if the source is prefilled.
    fn diag(&self, k: usize, a: &[f64], w: usize) -> f64;
    /// Column `j` of A (with the shift) in `NV` registers, lanes past W zero. `stored`
    /// is its storage slot (column j of A if prefilled). A non-finite value read here
    /// makes some lane of `acc` NaN.
    fn column<V: Lanes, const W: usize, const NV: usize>(
        &self,
        j: usize,
        stored: &[f64; W],
        acc: &mut V,
    ) -> Result<[V; 6], SolveError>;
    /// The error for the first non-finite value among columns `0..=k`, if any.
    fn first_non_finite(&self, k: usize) -> Option<SolveError>;
    /// The interior rows of a full band in CSR order, if the source reads one: rows
    /// `β .. end` have 2β + 1 entries each, consecutive, and `values[0]` is `A[β, β]`
    /// (unchecked values; the shift is returned alongside).
    fn interior(&self) -> Option<(usize, &[f64], f64)> {
        None
    }
}

/// The caller already filled the storage (and it was checked finite).
pub(crate) struct Prefilled;

impl Source for Prefilled {
    #[inline(always)]
    fn load(&self, _j: usize, _col: &mut [f64]) -> Result<(), SolveError> {
        Ok(())
    }
    #[inline(always)]
    fn diag(&self, k: usize, a: &[f64], w: usize) -> f64 {
        a[k * w]
    }
    #[inline(always)]
    fn column<V: Lanes, const W: usize, const NV: usize>(
        &self,
        _j: usize,
        stored: &[f64; W],
        _acc: &mut V,
    ) -> Result<[V; 6], SolveError> {
        Ok(registers::<V, W, NV>(stored))
    }
    #[inline(always)]
    fn first_non_finite(&self, _k: usize) -> Option<SolveError> {
        None
    }
}

/// A column of `W` values as `NV` registers, lanes past W zero.
#[inline(always)]
pub(crate) fn registers<V: Lanes, const W: usize, const NV: usize>(c: &[f64; W]) -> [V; 6] {
    let mut v = [V::zero(); 6];
    for k in 0..NV {
        v[k] = V::load_first(&c[4 * k..], (W - 4 * k).min(4));
    }
    v
}

/// Band width, either a compile-time constant or a run-time value.
trait Width: Copy {
    fn get(self) -> usize;
    /// Factorises the leading columns with a specialised kernel, returning how many it
    /// did (the generic loop finishes the rest). The default does none.
    #[inline(always)]
    fn factor_main<A: Arith, S: Source>(
        self,
        _a: &mut [f64],
        _n: usize,
        _rule: PivotRule,
        _src: &S,
        _state: &mut State,
    ) -> Result<usize, SolveError> {
        Ok(0)
    }
    /// Solves a contiguous vector with a specialised kernel; `false` if there is none.
    #[inline(always)]
    fn solve_main<A: Arith>(self, _a: &[f64], _n: usize, _x: &mut [f64]) -> bool {
        false
    }
}

/// A compile-time width: `B` = β, `W` = β + 1 and `NV` = ⌈W/4⌉ registers per column
/// (stable Rust cannot write `B + 1` in a type, so the dispatch macro passes all three).
#[derive(Clone, Copy)]
struct Fixed<const B: usize, const W: usize, const NV: usize>;
impl<const B: usize, const W: usize, const NV: usize> Width for Fixed<B, W, NV> {
    #[inline(always)]
    fn get(self) -> usize {
        B
    }
    #[inline(always)]
    fn factor_main<A: Arith, S: Source>(
        self,
        a: &mut [f64],
        n: usize,
        rule: PivotRule,
        src: &S,
        state: &mut State,
    ) -> Result<usize, SolveError> {
        factor_fixed::<B, W, NV, A, S>(a, n, rule, src, state)
    }
    #[inline(always)]
    fn solve_main<A: Arith>(self, a: &[f64], n: usize, x: &mut [f64]) -> bool {
        solve_fixed::<B, W, A>(a, n, x)
    }
}

#[derive(Clone, Copy)]
struct Dyn(usize);
impl Width for Dyn {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
}

/// `x − a·b`, fused or not.
trait Arith: Copy {
    /// The 4-lane registers of the factorisation kernel.
    type V: Lanes;
    fn nmadd(x: f64, a: f64, b: f64) -> f64;
}

#[derive(Clone, Copy)]
struct Plain;
impl Arith for Plain {
    type V = F4;
    #[inline(always)]
    fn nmadd(x: f64, a: f64, b: f64) -> f64 {
        x - a * b
    }
}

#[derive(Clone, Copy)]
#[cfg(target_arch = "x86_64")]
struct Fused;
#[cfg(target_arch = "x86_64")]
impl Arith for Fused {
    type V = Avx;
    #[inline(always)]
    fn nmadd(x: f64, a: f64, b: f64) -> f64 {
        (-a).mul_add(b, x)
    }
}

/// Negative pivots counted by a successful factorisation.
pub(crate) struct Counts {
    pub(crate) negative: usize,
}

/// Running state of a factorisation: negative pivots so far and the largest diagonal
/// magnitude loaded so far (the scale of the relative pivot test).
pub(crate) struct State {
    negative: usize,
    scale: f64,
}

/// Checks pivot `d` (with `r = 1/d` already computed). Finiteness is tested on `r`:
/// `1/d` is 0 exactly when `d` is infinite (and a NaN `d` fails the first comparison), so
/// each rule is two floating-point comparisons. (Written with `is_finite`, LLVM turns the
/// test into a dozen integer instructions in the column loop.)
#[inline(always)]
fn check_pivot(
    rule: PivotRule,
    d: f64,
    r: f64,
    j: usize,
    state: &mut State,
) -> Result<(), SolveError> {
    match rule {
        PivotRule::Positive => {
            if !(d > 0.0 && r != 0.0) {
                return Err(SolveError::NotPositiveDefinite { index: j, pivot: d });
            }
        }
        PivotRule::Relative(tol) => {
            let t = tol * state.scale;
            if !(d.abs() > t && r != 0.0) {
                return Err(SolveError::TinyPivot {
                    index: j,
                    pivot: d,
                    tolerance: t,
                });
            }
            state.negative += usize::from(d < 0.0);
        }
    }
    Ok(())
}

/// Updates the `m` columns after column `j` by column `j` (`col` = column j, unscaled;
/// `tail` starts at column j + 1), then scales column j to `L` and stores `1/d`.
#[inline(always)]
fn eliminate<A: Arith>(m: usize, ld: usize, col: &mut [f64], tail: &mut [f64], r: f64) {
    let col = &mut col[..m + 1];
    for k in 1..=m {
        let lk = col[k] * r;
        let dst = &mut tail[(k - 1) * ld..(k - 1) * ld + (m - k + 1)];
        let src = &col[k..=m];
        for (x, &c) in dst.iter_mut().zip(src) {
            *x = A::nmadd(*x, lk, c);
        }
    }
    col[0] = r;
    for v in &mut col[1..=m] {
        *v *= r;
    }
}

/// Runs `$body` once for each listed literal, bound to `$k` (a compile-time unroll: with
/// a const-generic guard inside the body, the unused copies fold away).
macro_rules! unroll {
    ($k:ident in [$($n:literal)*] => $body:block) => {
        $( { let $k: usize = $n; $body } )*
    };
}

/// Length of a slot of the column buffer: a padded column (≤ 20 lanes) plus the 3 lanes a
/// read at an offset may run past it.
const SLOT: usize = 24;
/// Slots in the column buffer. Column j goes to the slot after column j − 1, so the
/// columns a step reads sit at constant offsets below it; when the buffer is full the
/// last β columns are copied back to the front (every `SLOTS − β` columns).
const SLOTS: usize = 64;

/// The specialised factorisation, left-looking ("dot-product" form). Column j is
/// computed from the β columns before it:
///
/// `c_j = A[j..=j+β, j] − Σ_{q=1..β} L[j, j−q] · c_{j−q}[q..]`, `D_j = c_j[0]`,
/// `L[·, j] = c_j / D_j`,
///
/// where `c_m = D_m·L[·, m]` is column m before scaling. Nothing is scattered: each step
/// reads finished columns and writes column j once.
///
/// * Step j finishes column j (the q = 1 term, the pivot, the scaling) and sums every
///   other term of column j + 1 (`next`), so the only work between two pivots is the
///   q = 1 term.
/// * The terms q ≥ 3 read `c_{j−q}` from a small zero-padded buffer on the stack with one
///   load per 4 lanes at offset q (the zero padding stands in for rows past the band),
///   and `L[j, j−q]` from the storage; both were written at least two steps earlier.
///   The q = 2 and q = 1 terms use `c_{j−1}` from registers (two and one lanes of
///   shift): reading it back from the buffer at a shifted offset right after storing it
///   would defeat store-to-load forwarding.
/// * The pivot is formed first, in its short form `D_j = s − c_{j−1}[1]²·(1/D_{j−1})`
///   with `s` the diagonal after the older terms: the chain from one pivot to the next is
///   one multiply-add and one division, and everything else hangs off it. The division
///   is done on a broadcast vector, so `1/D` is ready in every lane for the scaling.
/// * Column j + 1 of A is read at step j, straight into registers; only the diagonal of
///   column j + β is read ahead (pivot j's scale covers rows ≤ j + β, as in the generic
///   loop). For the interior rows of a full band (all but 3β steps) the reads go to the
///   CSR values at a fixed stride ([`Rows`]), without the row table or its checks.
///
/// `NV` is the number of 4-lane registers per column, ⌈W/4⌉; lanes past W are zero.
#[inline(always)]
fn factor_fixed<const B: usize, const W: usize, const NV: usize, A: Arith, S: Source>(
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
    state: &mut State,
) -> Result<usize, SolveError> {
    if B == 0 || n <= B {
        return Ok(0);
    }
    let a = &mut a[..n * W];
    match factor_fixed_columns::<B, W, NV, A, S>(a, n, rule, src, state) {
        // Columns 0..=min(j + β, n − 1) have been read when pivot j is checked.
        Err((e, j)) => Err(src.first_non_finite((j + B).min(n - 1)).unwrap_or(e)),
        Ok(acc) if acc.any_nan() => Err(src
            .first_non_finite(n - 1)
            .expect("a NaN accumulator comes from a non-finite value")),
        Ok(_) => Ok(n),
    }
}

/// How a step of [`factor_fixed`] reads A.
trait Reader<V: Lanes> {
    /// `A[k, k]` with the shift (unchecked).
    fn diag<const W: usize>(&self, k: usize, a: &[f64]) -> f64;
    /// Column `i` with the shift, as in [`Source::column`].
    fn column<const W: usize, const NV: usize>(
        &self,
        i: usize,
        a: &[f64],
        acc: &mut V,
    ) -> Result<[V; 6], SolveError>;
}

/// Any source, through [`Source::diag`] and [`Source::column`].
struct ViaSource<'s, S>(&'s S);

impl<V: Lanes, S: Source> Reader<V> for ViaSource<'_, S> {
    #[inline(always)]
    fn diag<const W: usize>(&self, k: usize, a: &[f64]) -> f64 {
        self.0.diag(k, a, W)
    }
    #[inline(always)]
    fn column<const W: usize, const NV: usize>(
        &self,
        i: usize,
        a: &[f64],
        acc: &mut V,
    ) -> Result<[V; 6], SolveError> {
        let stored = a[i * W..].first_chunk::<W>().expect("column in range");
        self.0.column::<V, W, NV>(i, stored, acc)
    }
}

/// The interior rows of a full band's CSR values ([`Source::interior`]): row i's upper
/// part (band column i) starts at `(i − β)·(2β + 1)`.
struct Rows<'v> {
    values: &'v [f64],
    shift: f64,
}

impl<V: Lanes> Reader<V> for Rows<'_> {
    #[inline(always)]
    fn diag<const W: usize>(&self, k: usize, _a: &[f64]) -> f64 {
        self.values[(k - (W - 1)) * (2 * W - 1)] + self.shift
    }
    #[inline(always)]
    fn column<const W: usize, const NV: usize>(
        &self,
        i: usize,
        _a: &[f64],
        acc: &mut V,
    ) -> Result<[V; 6], SolveError> {
        let src = self.values[(i - (W - 1)) * (2 * W - 1)..]
            .first_chunk::<W>()
            .expect("interior row in range");
        let mut v = registers::<V, W, NV>(src);
        // v·0 is ±0, or NaN exactly when v is ±∞ or NaN (and a sum of ±0 never
        // overflows): the deferred finiteness test of [`Source`].
        let mut z = v[0].mul(V::zero());
        for vk in &v[1..NV] {
            z = z.nmadd(*vk, V::zero());
        }
        *acc = acc.add(z);
        v[0] = v[0].add(V::zero().with_first(V::splat(self.shift)));
        Ok(v)
    }
}

/// What one step of [`factor_fixed`] hands the next.
struct Carry<V> {
    /// Column j without its q = 1 term.
    next: [V; 6],
    /// `c_{j−1}`, and a zero register past it for the shifts.
    prev: [V; 6],
    /// `1/D_{j−1}` in every lane.
    rv: V,
    /// The non-finite accumulator of [`Source::column`].
    acc: V,
    /// Column j's slot in the buffer.
    p: usize,
}

/// The column loop of [`factor_fixed`]. Returns the non-finite accumulator; an error
/// comes with the step it occurred at.
#[inline(always)]
fn factor_fixed_columns<const B: usize, const W: usize, const NV: usize, A: Arith, S: Source>(
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
    state: &mut State,
) -> Result<A::V, (SolveError, usize)> {
    let mut acc = A::V::zero();
    let mut buf = [[0.0f64; SLOT]; SLOTS];
    // Columns 0..β (read by the caller) have fewer than β predecessors: plain scalar
    // left-looking steps.
    let mut r = 0.0;
    for j in 0..B {
        if j + B < n {
            let x = src.diag(j + B, a, W).abs();
            state.scale = if x > state.scale { x } else { state.scale };
        }
        let mut col = [0.0; SLOT];
        col[..W].copy_from_slice(&a[j * W..(j + 1) * W]);
        for q in 1..=j {
            let lq = a[(j - q) * W + q];
            let c = &buf[j - q];
            for o in 0..W - q {
                col[o] = A::nmadd(col[o], lq, c[q + o]);
            }
        }
        let d = col[0];
        r = 1.0 / d;
        check_pivot(rule, d, r, j, state).map_err(|e| (e, j))?;
        buf[j] = col;
        let out = &mut a[j * W..(j + 1) * W];
        out[0] = r;
        for o in 1..W {
            out[o] = col[o] * r;
        }
    }
    // Column β without its q = 1 term, all from the buffer.
    let next = {
        let mut c = ViaSource(src)
            .column::<W, NV>(B, a, &mut acc)
            .map_err(|e| (e, B - 1))?;
        for q in 2..=B {
            let lq = A::V::splat(a[(B - q) * W + q]);
            for k in 0..(W - q).div_ceil(4) {
                let cq = &buf[B - q][q + 4 * k..q + 4 * k + 4];
                c[k] = c[k].nmadd(lq, A::V::load(cq.try_into().expect("4 lanes")));
            }
        }
        c
    };
    let mut carry = Carry {
        next,
        prev: registers::<A::V, SLOT, NV>(&buf[B - 1]),
        rv: A::V::splat(r),
        acc,
        p: B,
    };
    // Steps whose reads (column j + 1, diagonal j + β) fall in the interior rows go to
    // the CSR values directly; the rest through the source.
    let mut j = B;
    if let Some((end, values, shift)) = src.interior() {
        let rows = Rows { values, shift };
        let stop = end.saturating_sub(B).min(n);
        while j < stop {
            step::<B, W, NV, A, _>(j, n, a, &mut buf, &mut carry, &rows, rule, state)?;
            j += 1;
        }
    }
    let via = ViaSource(src);
    while j < n {
        step::<B, W, NV, A, _>(j, n, a, &mut buf, &mut carry, &via, rule, state)?;
        j += 1;
    }
    Ok(carry.acc)
}

/// Step j of [`factor_fixed_columns`]: finishes column j, then sums column j + 1 but for
/// its q = 1 term.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step<const B: usize, const W: usize, const NV: usize, A: Arith, R: Reader<A::V>>(
    j: usize,
    n: usize,
    a: &mut [f64],
    buf: &mut [[f64; SLOT]; SLOTS],
    c: &mut Carry<A::V>,
    rd: &R,
    rule: PivotRule,
    state: &mut State,
) -> Result<(), (SolveError, usize)> {
    if j + B < n {
        let x = rd.diag::<W>(j + B, a).abs();
        state.scale = if x > state.scale { x } else { state.scale };
    }
    // The pivot, then the q = 1 term.
    let prev = c.prev;
    let rv = c.rv;
    let c1 = prev[0].bcast1();
    let d = c.next[0].bcast0().nmadd(c1.mul(c1), rv);
    let l1 = c1.mul(rv);
    let mut col = c.next;
    for k in 0..(W - 1).div_ceil(4) {
        col[k] = col[k].nmadd(l1, prev[k].shift1(prev[k + 1]));
    }
    // The buffer keeps c_j for the steps j + 2 ..: stored before the division, so the
    // stores retire (and reach the cache, where those steps' offset loads must find
    // them: a load spanning two stores is not forwarded) without waiting for it.
    if c.p == SLOTS {
        for k in 0..B {
            buf[k] = buf[SLOTS - B + k];
        }
        c.p = B;
    }
    let p = c.p;
    for k in 0..NV {
        col[k].store((&mut buf[p][4 * k..4 * k + 4]).try_into().expect("4 lanes"));
    }
    let r = A::V::splat(1.0).div(d);
    check_pivot(rule, d.first(), r.first(), j, state).map_err(|e| (e, j))?;
    // The storage gets L[·, j] and 1/D_j.
    {
        let cur = a[j * W..].first_chunk_mut::<W>().expect("column in range");
        for k in 0..NV {
            let mut l = col[k].mul(r);
            if k == 0 {
                l = l.with_first(r);
            }
            l.store_first(&mut cur[4 * k..], (W - 4 * k).min(4));
        }
    }
    // Column i = j + 1 without its q = 1 term.
    if j + 1 < n {
        let i = j + 1;
        let mut next = rd.column::<W, NV>(i, a, &mut c.acc).map_err(|e| (e, j))?;
        // Columns i − β .. i − 1 (finished): their L and their c in the buffer.
        let past = &a[(i - B) * W..i * W];
        let older: &[[f64; SLOT]; B] = buf[p + 1 - B..=p].try_into().expect("β slots");
        // q ≥ 3, oldest first: only the registers holding rows i ..= i + β − q.
        unroll!(q in [16 15 14 13 12 11 10 9 8 7 6 5 4 3] => {
            if q <= B {
                let lq = A::V::splat(past[(B - q) * W + q]);
                let cq = &older[B - q];
                for k in 0..(W - q).div_ceil(4) {
                    let v = A::V::load((&cq[q + 4 * k..q + 4 * k + 4]).try_into().expect("4 lanes"));
                    next[k] = next[k].nmadd(lq, v);
                }
            }
        });
        // q = 2: c_{j−1} (still `prev`), L[i, j−1] = c_{j−1}[2]·(1/D_{j−1}).
        if B >= 2 {
            let l2 = prev[0].bcast2().mul(rv);
            for k in 0..(W - 2).div_ceil(4) {
                next[k] = next[k].nmadd(l2, prev[k].shift2(prev[k + 1]));
            }
        }
        c.next = next;
    }
    c.prev = col;
    c.rv = r;
    c.p = p + 1;
    Ok(())
}

/// The factorisation: the const-β kernel ([`Width::factor_main`], left-looking) when
/// there is one, then the generic right-looking loop for the columns it left (all of
/// them for a run-time β, β = 0 or n ≤ β).
#[inline(always)]
fn factor<W: Width, A: Arith, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    let b = w.get();
    let ld = b + 1;
    let a = &mut a[..n * ld];
    let mut state = State {
        negative: 0,
        scale: 0.0,
    };
    for j in 0..b.min(n) {
        let c = &mut a[j * ld..(j + 1) * ld];
        src.load(j, c)?;
        state.scale = state.scale.max(c[0].abs());
    }
    let start = w.factor_main::<A, S>(a, n, rule, src, &mut state)?;
    for j in start..n {
        if j + b < n {
            let c = &mut a[(j + b) * ld..(j + b + 1) * ld];
            src.load(j + b, c)?;
            state.scale = state.scale.max(c[0].abs());
        }
        let (head, tail) = a.split_at_mut((j + 1) * ld);
        let col = &mut head[j * ld..];
        let d = col[0];
        let r = 1.0 / d;
        check_pivot(rule, d, r, j, &mut state)?;
        eliminate::<A>(b.min(n - 1 - j), ld, col, tail, r);
    }
    Ok(Counts {
        negative: state.negative,
    })
}

/// The specialised solve of a contiguous vector: both sweeps in dot form, with the last
/// β solution values in a register window. The loops are unrolled by β so that the
/// window's slots are fixed registers (no moves), and each row's newest term enters last
/// (the chain from one row to the next is one multiply-add).
#[inline(always)]
fn solve_fixed<const B: usize, const W: usize, A: Arith>(
    a: &[f64],
    n: usize,
    x: &mut [f64],
) -> bool {
    if B == 0 || n <= B {
        return false;
    }
    let a = &a[..n * W];
    let x = &mut x[..n];
    // Forward: y_j = b_j − Σ_{i=1..min(j,β)} L[j, j−i]·y_{j−i}, L[j, j−i] = a[(j−i)·W + i].
    for j in 0..B {
        let mut acc = x[j];
        for i in (1..=j).rev() {
            acc = A::nmadd(acc, a[(j - i) * W + i], x[j - i]);
        }
        x[j] = acc;
    }
    // y_j sits in slot j mod β.
    let mut w = [0.0; B];
    w.copy_from_slice(&x[..B]);
    let mut j0 = B;
    while j0 + B <= n {
        let blk = &a[(j0 - B) * W..(j0 + B - 1) * W];
        let xs = &mut x[j0..j0 + B];
        unroll!(s in [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15] => {
            if s < B {
                let mut acc = xs[s];
                unroll!(i in [16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1] => {
                    if i <= B {
                        acc = A::nmadd(acc, blk[(B + s - i) * W + i], w[(s + B - i) % B]);
                    }
                });
                w[s] = acc;
                xs[s] = acc;
            }
        });
        j0 += B;
    }
    for j in j0..n {
        let mut acc = x[j];
        for i in (1..=B).rev() {
            acc = A::nmadd(acc, a[(j - i) * W + i], x[j - i]);
        }
        x[j] = acc;
    }
    // Backward with the diagonal folded in (the slots hold 1/D, on the cache line the
    // sweep reads anyway): x_j = y_j/D_j − Σ_{i=1..min(β, n−1−j)} L[j+i, j]·x_{j+i}.
    let main = n - B;
    for j in (main..n).rev() {
        let m = n - 1 - j;
        let mut acc = x[j] * a[j * W];
        for i in (1..=m).rev() {
            acc = A::nmadd(acc, a[j * W + i], x[j + i]);
        }
        x[j] = acc;
    }
    // x_j sits in slot (main − 1 − j) mod β.
    for i in 1..=B {
        w[(B - i) % B] = x[main - 1 + i];
    }
    let mut t = main;
    while t >= B {
        // Rows t − 1, t − 2, …, t − β: columns t − β .. t − 1.
        let blk = &a[(t - B) * W..t * W];
        let xs = &mut x[t - B..t];
        unroll!(s in [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15] => {
            if s < B {
                let col = &blk[(B - 1 - s) * W..(B - s) * W];
                let mut acc = xs[B - 1 - s] * col[0];
                unroll!(i in [16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1] => {
                    if i <= B {
                        acc = A::nmadd(acc, col[i], w[(s + B - i) % B]);
                    }
                });
                w[s] = acc;
                xs[B - 1 - s] = acc;
            }
        });
        t -= B;
    }
    for j in (0..t).rev() {
        let col = &a[j * W..(j + 1) * W];
        let mut acc = x[j] * col[0];
        for i in (1..=B).rev() {
            acc = A::nmadd(acc, col[i], x[j + i]);
        }
        x[j] = acc;
    }
    true
}

/// A vector the sweeps read and write: a contiguous slice or a strided faer column.
pub(crate) trait Vector {
    fn get(&self, i: usize) -> f64;
    fn set(&mut self, i: usize, v: f64);
}

impl Vector for &mut [f64] {
    #[inline(always)]
    fn get(&self, i: usize) -> f64 {
        self[i]
    }
    #[inline(always)]
    fn set(&mut self, i: usize, v: f64) {
        self[i] = v;
    }
}

impl Vector for faer::ColMut<'_, f64> {
    #[inline(always)]
    fn get(&self, i: usize) -> f64 {
        self[i]
    }
    #[inline(always)]
    fn set(&mut self, i: usize, v: f64) {
        self[i] = v;
    }
}

/// Forward sweep with `L`, then the diagonal: `x ← D⁻¹ L⁻¹ x`.
#[inline(always)]
fn forward<W: Width, A: Arith, V: Vector>(w: W, a: &[f64], n: usize, x: &mut V) {
    let b = w.get();
    let ld = b + 1;
    let main = n.saturating_sub(b);
    for j in 0..main {
        let col = &a[j * ld..j * ld + b + 1];
        let xj = x.get(j);
        for i in 1..=b {
            x.set(j + i, A::nmadd(x.get(j + i), col[i], xj));
        }
        x.set(j, xj * col[0]);
    }
    for j in main..n {
        let m = n - 1 - j;
        let col = &a[j * ld..j * ld + m + 1];
        let xj = x.get(j);
        for i in 1..=m {
            x.set(j + i, A::nmadd(x.get(j + i), col[i], xj));
        }
        x.set(j, xj * col[0]);
    }
}

/// Backward sweep with `Lᵀ`: `x ← L⁻ᵀ x`. The far terms are summed first so the
/// dependency on the just-computed `x[j+1]` is a single multiply-add.
#[inline(always)]
fn backward<W: Width, A: Arith, V: Vector>(w: W, a: &[f64], n: usize, x: &mut V) {
    let b = w.get();
    let ld = b + 1;
    let main = n.saturating_sub(b);
    for j in (main..n).rev() {
        let m = n - 1 - j;
        let col = &a[j * ld..j * ld + m + 1];
        let mut acc = x.get(j);
        for i in (1..=m).rev() {
            acc = A::nmadd(acc, col[i], x.get(j + i));
        }
        x.set(j, acc);
    }
    for j in (0..main).rev() {
        let col = &a[j * ld..j * ld + b + 1];
        let mut acc = x.get(j);
        for i in (1..=b).rev() {
            acc = A::nmadd(acc, col[i], x.get(j + i));
        }
        x.set(j, acc);
    }
}

#[inline(always)]
fn solve<W: Width, A: Arith, V: Vector>(w: W, a: &[f64], n: usize, x: &mut V) {
    forward::<W, A, V>(w, a, n, x);
    backward::<W, A, V>(w, a, n, x);
}

#[inline(always)]
fn solve_slice<W: Width, A: Arith>(w: W, a: &[f64], n: usize, mut x: &mut [f64]) {
    if !w.solve_main::<A>(a, n, x) {
        solve::<W, A, &mut [f64]>(w, a, n, &mut x);
    }
}

/// The instruction sets the kernels are compiled for, best first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    /// AVX2 + FMA with AVX-512F/VL: the same 4-lane code, but 32 vector registers (no
    /// spills of the carried columns) and one-instruction lane shifts (`valignq`).
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 + FMA.
    #[cfg(target_arch = "x86_64")]
    Fma,
    /// Whatever the target guarantees (SSE2 on x86-64).
    Plain,
}

/// The best instruction set this CPU runs (run-time detection, cached by std).
#[inline]
fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            return if has!("avx512f") && has!("avx512vl") {
                Isa::Avx512
            } else {
                Isa::Fma
            };
        }
    }
    Isa::Plain
}

/// Runs `$body` with `$w` bound to the width for `$beta` (const for small β).
macro_rules! with_width {
    ($beta:expr, $w:ident => $body:expr) => {
        match $beta {
            0 => {
                let $w = Fixed::<0, 1, 1>;
                $body
            }
            1 => {
                let $w = Fixed::<1, 2, 1>;
                $body
            }
            2 => {
                let $w = Fixed::<2, 3, 1>;
                $body
            }
            3 => {
                let $w = Fixed::<3, 4, 1>;
                $body
            }
            4 => {
                let $w = Fixed::<4, 5, 2>;
                $body
            }
            5 => {
                let $w = Fixed::<5, 6, 2>;
                $body
            }
            6 => {
                let $w = Fixed::<6, 7, 2>;
                $body
            }
            7 => {
                let $w = Fixed::<7, 8, 2>;
                $body
            }
            8 => {
                let $w = Fixed::<8, 9, 3>;
                $body
            }
            9 => {
                let $w = Fixed::<9, 10, 3>;
                $body
            }
            10 => {
                let $w = Fixed::<10, 11, 3>;
                $body
            }
            11 => {
                let $w = Fixed::<11, 12, 3>;
                $body
            }
            12 => {
                let $w = Fixed::<12, 13, 4>;
                $body
            }
            13 => {
                let $w = Fixed::<13, 14, 4>;
                $body
            }
            14 => {
                let $w = Fixed::<14, 15, 4>;
                $body
            }
            15 => {
                let $w = Fixed::<15, 16, 4>;
                $body
            }
            16 => {
                let $w = Fixed::<16, 17, 5>;
                $body
            }
            b => {
                let $w = Dyn(b);
                $body
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
fn factor_avx512<W: Width, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor::<W, Fused, S>(w, a, n, rule, src)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn factor_fma<W: Width, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor::<W, Fused, S>(w, a, n, rule, src)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn solve_fma<W: Width, V: Vector>(w: W, a: &[f64], n: usize, x: &mut V) {
    solve::<W, Fused, V>(w, a, n, x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn solve_slice_fma<W: Width>(w: W, a: &[f64], n: usize, x: &mut [f64]) {
    solve_slice::<W, Fused>(w, a, n, x)
}

#[inline(never)]
fn solve_slice_plain<W: Width>(w: W, a: &[f64], n: usize, x: &mut [f64]) {
    solve_slice::<W, Plain>(w, a, n, x)
}

#[inline(never)]
fn factor_plain<W: Width, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor::<W, Plain, S>(w, a, n, rule, src)
}

#[inline(never)]
fn solve_plain<W: Width, V: Vector>(w: W, a: &[f64], n: usize, x: &mut V) {
    solve::<W, Plain, V>(w, a, n, x)
}

/// Factorises the band in `a` (n columns of β + 1), loading columns from `src`.
pub(crate) fn factor_band<S: Source>(
    beta: usize,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor_band_isa(isa(), beta, a, n, rule, src)
}

/// [`factor_band`] with the instruction set given (the tests run every one the CPU has).
fn factor_band_isa<S: Source>(
    isa: Isa,
    beta: usize,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    debug_assert!(a.len() >= n * (beta + 1));
    with_width!(beta, w => {
        // SAFETY (both arms): `isa` comes from `isa()` or from a test that checked the
        // CPU: it supports the features the function is compiled with.
        #[cfg(target_arch = "x86_64")]
        match isa {
            Isa::Avx512 => return unsafe { factor_avx512(w, a, n, rule, src) },
            Isa::Fma => return unsafe { factor_fma(w, a, n, rule, src) },
            Isa::Plain => {}
        }
        let _ = isa;
        factor_plain(w, a, n, rule, src)
    })
}

/// Solves with the factor in `a` for one right-hand side, in place.
pub(crate) fn solve_band<V: Vector>(beta: usize, a: &[f64], n: usize, x: &mut V) {
    let fma = isa() != Isa::Plain;
    with_width!(beta, w => {
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { solve_fma(w, a, n, x) };
        }
        let _ = fma;
        solve_plain(w, a, n, x)
    })
}

/// Solves with the factor in `a` for one contiguous right-hand side, in place.
pub(crate) fn solve_band_slice(beta: usize, a: &[f64], n: usize, x: &mut [f64]) {
    solve_band_slice_isa(isa(), beta, a, n, x)
}

/// [`solve_band_slice`] with the instruction set given.
fn solve_band_slice_isa(isa: Isa, beta: usize, a: &[f64], n: usize, x: &mut [f64]) {
    let fma = isa != Isa::Plain;
    with_width!(beta, w => {
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: `isa` is `Fma` or better, which the caller checked the CPU has.
            return unsafe { solve_slice_fma(w, a, n, x) };
        }
        let _ = fma;
        solve_slice_plain(w, a, n, x)
    })
}

/// The instruction sets this CPU runs, best first (for tests of every kernel build).
#[cfg(test)]
pub(crate) fn available_isas() -> Vec<Isa> {
    let best = isa();
    let mut v = vec![best];
    #[cfg(target_arch = "x86_64")]
    if best == Isa::Avx512 {
        v.push(Isa::Fma);
    }
    if best != Isa::Plain {
        v.push(Isa::Plain);
    }
    v
}

/// [`factor_band_isa`] for tests.
#[cfg(test)]
pub(crate) fn factor_band_with<S: Source>(
    isa: Isa,
    beta: usize,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor_band_isa(isa, beta, a, n, rule, src)
}

/// [`solve_band_slice_isa`] for tests.
#[cfg(test)]
pub(crate) fn solve_band_slice_with(isa: Isa, beta: usize, a: &[f64], n: usize, x: &mut [f64]) {
    solve_band_slice_isa(isa, beta, a, n, x)
}

/// The run-time-width loop for any β, which checks every value as it reads it: the
/// reference the const-β kernel's deferred checks are tested against.
#[cfg(test)]
pub(crate) fn factor_band_reference<S: Source>(
    beta: usize,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &S,
) -> Result<Counts, SolveError> {
    factor::<Dyn, Plain, S>(Dyn(beta), a, n, rule, src)
}
