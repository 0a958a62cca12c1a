//! The banded LDLᵀ kernels: right-looking factorisation and the two triangular sweeps.
//!
//! # Why hand-written
//!
//! faer 0.24 has dense and general sparse Cholesky/LDLᵀ but no banded solver; a general
//! sparse Cholesky on a band spends its time in symbolic bookkeeping and scattered index
//! loads (measured in `papers/solvers.md`), and LAPACK's `dpbtrf` is not in the dependency
//! tree. A band of half-bandwidth β has a fixed, dense structure, so the kernel needs no
//! indices at all:
//!
//! * the lower band is stored column by column (`LDAB = β + 1`), so the right-looking update
//!   of column `j + k` by column `j` is a contiguous `axpy` of length `β − k + 1`;
//! * for β ≤ [`MAX_FIXED_BETA`] the width is a const generic, so every loop has a
//!   compile-time trip count and is unrolled; larger β uses the same code with a run-time
//!   width;
//! * on x86-64 with AVX2 and FMA (detected at run time) the same code is compiled a second
//!   time with those features and fused multiply-adds;
//! * the diagonal slots keep `1/D[j]`, so the solve multiplies instead of dividing;
//! * the factorisation loads column `j + β` from the caller's CSR values just before column
//!   `j` first updates it, so on large bands the storage is written once while it is in
//!   cache instead of being filled in a separate sweep.
//!
//! The critical path is one division and one multiply-add per column (`D[j+1]` depends
//! on `1/D[j]`), about 18 cycles; at β = 1 the kernel runs near it. At β = 9 it measures
//! about 2.5× that: the β − 1 column updates per step go through memory with vector
//! stores of varying lengths, which the next step reloads at other offsets, defeating
//! store-to-load forwarding. A register-resident window (β columns of β + 1 entries) would
//! remove that; it is the next step, not done (`papers/solvers.md` has the figures).

// The kernels index by position on purpose: the indices are the algorithm (offsets in a
// band column), and constant trip counts are what the compiler unrolls.
#![allow(clippy::needless_range_loop)]

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
pub(crate) trait Source {
    /// Writes column `j` (length β + 1, zero padded) into `col`.
    fn load(&mut self, j: usize, col: &mut [f64]) -> Result<(), SolveError>;
    /// The same for a compile-time column length `W` (a fixed-size copy, no `memcpy`
    /// call, when the source allows it).
    #[inline(always)]
    fn load_fixed<const W: usize>(
        &mut self,
        j: usize,
        col: &mut [f64; W],
    ) -> Result<(), SolveError> {
        self.load(j, col)
    }
}

/// The caller already filled the storage (and it was checked finite).
pub(crate) struct Prefilled;

impl Source for Prefilled {
    #[inline(always)]
    fn load(&mut self, _j: usize, _col: &mut [f64]) -> Result<(), SolveError> {
        Ok(())
    }
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
        _src: &mut S,
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

/// A compile-time width: `B` = β and `W` = β + 1 (stable Rust cannot write `B + 1` in a
/// type, so the dispatch macro passes both).
#[derive(Clone, Copy)]
struct Fixed<const B: usize, const W: usize>;
impl<const B: usize, const W: usize> Width for Fixed<B, W> {
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
        src: &mut S,
        state: &mut State,
    ) -> Result<usize, SolveError> {
        factor_fixed::<B, W, A, S>(a, n, rule, src, state)
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
    fn nmadd(x: f64, a: f64, b: f64) -> f64;
}

#[derive(Clone, Copy)]
struct Plain;
impl Arith for Plain {
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

#[inline(always)]
fn check_pivot(rule: PivotRule, d: f64, j: usize, state: &mut State) -> Result<(), SolveError> {
    match rule {
        PivotRule::Positive => {
            if !(d > 0.0 && d.is_finite()) {
                return Err(SolveError::NotPositiveDefinite { index: j, pivot: d });
            }
        }
        PivotRule::Relative(tol) => {
            let t = tol * state.scale;
            if !(d.abs() > t && d.is_finite()) {
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

/// Runs `$body` once for each `$k` in 2..=16 with `$k <= $b` (a compile-time unroll: `$b`
/// is a const generic, so the guards fold away).
macro_rules! unroll_k {
    ($b:expr, $k:ident => $body:block) => {
        unroll_k!(@ $b, $k, $body, 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    };
    (@ $b:expr, $k:ident, $body:block, $($n:literal)*) => {
        $( if $n <= $b { let $k: usize = $n; $body } )*
    };
}

/// The specialised factorisation of columns `0 .. n − B` (every one has B rows below its
/// diagonal inside the matrix). The updated column j + 1 is carried in registers to the
/// next step, so the pivot chain never goes through memory; the other B − 1 column
/// updates are unrolled with compile-time lengths.
#[inline(always)]
fn factor_fixed<const B: usize, const W: usize, A: Arith, S: Source>(
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &mut S,
    state: &mut State,
) -> Result<usize, SolveError> {
    let main = n.saturating_sub(B);
    if main == 0 {
        return Ok(0);
    }
    let a = &mut a[..n * W];
    let mut load = |a: &mut [f64], k: usize, state: &mut State| -> Result<(), SolveError> {
        let c: &mut [f64; W] = (&mut a[k * W..(k + 1) * W])
            .try_into()
            .expect("a column has W entries");
        src.load_fixed::<W>(k, c)?;
        state.scale = state.scale.max(c[0].abs());
        Ok(())
    };
    load(a, B, state)?;
    let mut cur = [0.0; W];
    cur.copy_from_slice(&a[..W]);
    for j in 0..main {
        if j > 0 {
            load(a, j + B, state)?;
            if B == 0 {
                // Nothing is carried on a diagonal: the column is the one just loaded.
                cur.copy_from_slice(&a[j * W..(j + 1) * W]);
            }
        }
        let d = cur[0];
        check_pivot(rule, d, j, state)?;
        let r = 1.0 / d;
        let mut l = [0.0; W];
        for i in 1..W {
            l[i] = cur[i] * r;
        }
        // Columns j .. j + B are in range (j + B <= n − 1).
        let (head, tail) = a[j * W..(j + B + 1) * W].split_at_mut(W);
        if B >= 1 {
            let mut nxt = [0.0; W];
            nxt.copy_from_slice(&tail[..W]);
            // D[j+1]'s chain: one division and one multiply-add.
            nxt[0] = A::nmadd(nxt[0], cur[1] * cur[1], r);
            for t in 1..B {
                nxt[t] = A::nmadd(nxt[t], l[1], cur[1 + t]);
            }
            unroll_k!(B, k => {
                let dst = &mut tail[(k - 1) * W..(k - 1) * W + (B - k + 1)];
                for t in 0..=B - k {
                    dst[t] = A::nmadd(dst[t], l[k], cur[k + t]);
                }
            });
            l[0] = r;
            head.copy_from_slice(&l);
            cur = nxt;
        } else {
            head[0] = r;
        }
    }
    if B >= 1 {
        // Hand the carried (partly updated) column back to memory for the generic loop.
        a[main * W..(main + 1) * W].copy_from_slice(&cur);
    }
    Ok(main)
}

#[inline(always)]
fn factor<W: Width, A: Arith, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &mut S,
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
        check_pivot(rule, d, j, &mut state)?;
        let r = 1.0 / d;
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

/// Whether the fused (AVX2 + FMA) kernels can run here.
#[inline]
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `$body` with `$w` bound to the width for `$beta` (const for small β).
macro_rules! with_width {
    ($beta:expr, $w:ident => $body:expr) => {
        match $beta {
            0 => {
                let $w = Fixed::<0, 1>;
                $body
            }
            1 => {
                let $w = Fixed::<1, 2>;
                $body
            }
            2 => {
                let $w = Fixed::<2, 3>;
                $body
            }
            3 => {
                let $w = Fixed::<3, 4>;
                $body
            }
            4 => {
                let $w = Fixed::<4, 5>;
                $body
            }
            5 => {
                let $w = Fixed::<5, 6>;
                $body
            }
            6 => {
                let $w = Fixed::<6, 7>;
                $body
            }
            7 => {
                let $w = Fixed::<7, 8>;
                $body
            }
            8 => {
                let $w = Fixed::<8, 9>;
                $body
            }
            9 => {
                let $w = Fixed::<9, 10>;
                $body
            }
            10 => {
                let $w = Fixed::<10, 11>;
                $body
            }
            11 => {
                let $w = Fixed::<11, 12>;
                $body
            }
            12 => {
                let $w = Fixed::<12, 13>;
                $body
            }
            13 => {
                let $w = Fixed::<13, 14>;
                $body
            }
            14 => {
                let $w = Fixed::<14, 15>;
                $body
            }
            15 => {
                let $w = Fixed::<15, 16>;
                $body
            }
            16 => {
                let $w = Fixed::<16, 17>;
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
#[target_feature(enable = "avx2,fma")]
fn factor_fma<W: Width, S: Source>(
    w: W,
    a: &mut [f64],
    n: usize,
    rule: PivotRule,
    src: &mut S,
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
    src: &mut S,
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
    src: &mut S,
) -> Result<Counts, SolveError> {
    debug_assert!(a.len() >= n * (beta + 1));
    let fma = has_fma();
    with_width!(beta, w => {
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { factor_fma(w, a, n, rule, src) };
        }
        let _ = fma;
        factor_plain(w, a, n, rule, src)
    })
}

/// Solves with the factor in `a` for one right-hand side, in place.
pub(crate) fn solve_band<V: Vector>(beta: usize, a: &[f64], n: usize, x: &mut V) {
    let fma = has_fma();
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
    let fma = has_fma();
    with_width!(beta, w => {
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { solve_slice_fma(w, a, n, x) };
        }
        let _ = fma;
        solve_slice_plain(w, a, n, x)
    })
}
