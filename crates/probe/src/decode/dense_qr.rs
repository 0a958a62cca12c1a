//! The pseudo-inverse of a small dense sample matrix M = S[J, :]ᵀ (p×d, d ≤ p) by
//! Householder QR, the kernel of the per-row least-squares decoder: column-pivoted
//! (rank-revealing) or not, one problem at a time or two at once in the SSE2 lanes, and
//! faer's blocked column-pivoted QR for rows wider than [`SMALL_ROW`](super::SMALL_ROW).
//!
//! # Why the small QR is hand-written
//!
//! On matrices this small faer's dense QR spends most of its time in per-call overhead,
//! even in place with preallocated scratch: the column-major Householder kernel below is
//! several times faster, and factoring two rows at once in the SSE2 lanes ([`F2`]) faster
//! again. Rows wider than [`SMALL_ROW`](super::SMALL_ROW) (dense rows of arrowheads, say)
//! go through faer's blocked column-pivoted QR, whose per-call overhead no longer matters
//! there. The measurements (every variant tried, on 10⁵ rows of 9×7):
//! `papers/decoders.md`, "The small dense QR of per-row least squares".

use faer::Mat;
use faer::linalg::solvers::SolveLstsq;

/// The kernel's number type: one f64 per problem, for one problem ([`f64`]) or two at once
/// ([`F2`], one per SSE2 lane). Everything is lane-wise.
pub(super) trait Lanes:
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
pub(super) struct F2([f64; 2]);

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
pub(super) struct SmallQr<L> {
    p: usize,
    pivot: bool,
    a: Vec<L>,
    tau: Vec<L>,
    perm: Vec<usize>,
    norms: Vec<L>,
    e: Vec<L>,
}

impl<L: Lanes> SmallQr<L> {
    pub(super) fn new(p: usize, max_d: usize, pivot: bool) -> Self {
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
    pub(super) fn pseudo_inverse(
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
            reflect(col, v, t);
            if pivot {
                *nj = (*nj - col[0] * col[0]).max(L::splat(0.0));
            }
        }
    }
    true
}

/// `col ← H·col` for the Householder reflection H = I − τ·[1; v]·[1; v]ᵀ (the 1 is
/// implicit: `col[0]` pairs with it, `col[1..]` with `v`).
#[inline(always)]
fn reflect<L: Lanes>(col: &mut [L], v: &[L], tau: L) {
    let mut s = col[0];
    for (&c, &vv) in col[1..].iter().zip(v) {
        s = s + c * vv;
    }
    s = s * tau;
    col[0] = col[0] - s;
    for (c, &vv) in col[1..].iter_mut().zip(v) {
        *c = *c - s * vv;
    }
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
            reflect(&mut ej[k..], v, t);
        }
    }
}

/// Wide rows: faer's column-pivoted QR, rank check on the diagonal of R, pseudo-inverse by
/// least squares against the identity.
pub(super) fn large_pseudo_inverse(
    s: &[f64],
    p: usize,
    cols: &[usize],
    tol: f64,
    out: &mut [f64],
) -> bool {
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
