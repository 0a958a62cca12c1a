//! The 4-state, 1-control CARE on stack arrays: the fast path.
//!
//! Dense kernels on fixed-size arrays read as the textbook formulas with explicit
//! indices, so `needless_range_loop` is allowed here.
#![allow(clippy::needless_range_loop)]

use super::{Lqr, RiccatiOptions};
use crate::error::CartpoleError;

/// The solution of the 4×4 CARE on stack arrays (no eigenvalues: the closed loop's
/// stability is checked by the Routh–Hurwitz criterion; [`SmallLqr::to_lqr`] adds them
/// with faer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmallLqr {
    /// The gain K: `u = −K·e`.
    pub k: [f64; 4],
    /// The stabilising solution P.
    pub p: [[f64; 4]; 4],
    /// The relative residual of the equation at P (as [`Lqr::residual`]).
    pub residual: f64,
    /// Sign iterations made (plus one Newton–Kleinman step).
    pub iterations: usize,
}

impl SmallLqr {
    /// As a general [`Lqr`], with the closed-loop eigenvalues of `A − BK` from faer.
    ///
    /// # Errors
    /// As [`super::closed_loop_eigenvalues`].
    pub fn to_lqr(&self, a: &[[f64; 4]; 4], b: &[f64; 4]) -> Result<Lqr, CartpoleError> {
        let am = faer::Mat::from_fn(4, 4, |i, j| a[i][j]);
        let bm = faer::Mat::from_fn(4, 1, |i, _| b[i]);
        let k = faer::Mat::from_fn(1, 4, |_, j| self.k[j]);
        let closed_loop_eigenvalues =
            super::closed_loop_eigenvalues(am.as_ref(), bm.as_ref(), k.as_ref())?;
        Ok(Lqr {
            k,
            p: faer::Mat::from_fn(4, 4, |i, j| self.p[i][j]),
            residual: self.residual,
            closed_loop_eigenvalues,
            iterations: self.iterations,
        })
    }
}

type M8 = [[f64; 8]; 8];
type M4 = [[f64; 4]; 4];

/// Solves the CARE `AᵀP + PA − PbbᵀP/r + Q = 0` for 4 states and 1 control, on stack
/// arrays: the sign iteration of [`super::care`] with an in-place Gauss–Jordan inverse
/// of the 8×8 iterate, P from the normal equations of the 8×4 least-squares problem,
/// then one Newton–Kleinman step (the 10-unknown Lyapunov equation of the symmetric
/// correction, Gaussian elimination) to bring P to rounding level.
///
/// Why hand-written: faer's general path (the same algorithm, `care`) allocates every
/// 8×8 iterate, inverse and factorisation and measures tens of µs on the spec's
/// problem; this path measures a few µs (`benches/lqr.rs`, `papers/cartpole.md`).
/// No allocation.
///
/// ```
/// use cartpole::lqr::{care4, RiccatiOptions};
/// let a = [[0.0, 1.0, 0.0, 0.0], [0.0; 4], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 29.43, 0.0]];
/// let q = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
/// let lqr = care4(&a, &[0.0, 1.0, 0.0, 3.0], &q, 1.0, &RiccatiOptions::default())?;
/// assert!((lqr.k[0] + 1.0).abs() < 1e-9);
/// assert!((lqr.p[2][2] - 68.2273369658).abs() < 1e-8);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::NonFinite`], [`CartpoleError::NotPositiveDefinite`] (r ≤ 0, Q not
/// symmetric with a non-negative diagonal — the full eigenvalue check is `care`'s),
/// [`CartpoleError::Singular`], [`CartpoleError::NoConvergence`],
/// [`CartpoleError::NotStabilizable`] (closed loop not Hurwitz),
/// [`CartpoleError::ResidualTooLarge`].
pub fn care4(
    a: &M4,
    b: &[f64; 4],
    q: &M4,
    r: f64,
    options: &RiccatiOptions,
) -> Result<SmallLqr, CartpoleError> {
    check4("A", a)?;
    check4("Q", q)?;
    for (i, &v) in b.iter().enumerate() {
        if !v.is_finite() {
            return Err(CartpoleError::NonFinite {
                what: "B",
                row: i,
                col: 0,
                value: v,
            });
        }
    }
    if !(r.is_finite() && r > 0.0) {
        return Err(CartpoleError::NotPositiveDefinite {
            which: "R",
            semi: false,
            min_eigenvalue: r,
        });
    }
    for i in 0..4 {
        if q[i][i] < 0.0 || (0..i).any(|j| q[i][j] != q[j][i]) {
            return Err(CartpoleError::NotPositiveDefinite {
                which: "Q",
                semi: true,
                min_eigenvalue: f64::NAN,
            });
        }
    }
    let mut g = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            g[i][j] = b[i] * b[j] / r;
        }
    }
    let mut z: M8 = [[0.0; 8]; 8];
    for i in 0..4 {
        for j in 0..4 {
            z[i][j] = a[i][j];
            z[i][j + 4] = -g[i][j];
            z[i + 4][j] = -q[i][j];
            z[i + 4][j + 4] = -a[j][i];
        }
    }
    let iterations = sign8(&mut z, options.max_iterations)?;
    // normal equations of [W12; W22 + I] P = −[W11 + I; W21]
    let mut lhs = [[0.0; 4]; 8];
    let mut rhs = [[0.0; 4]; 8];
    for i in 0..8 {
        for j in 0..4 {
            lhs[i][j] = z[i][j + 4] + if i == j + 4 { 1.0 } else { 0.0 };
            rhs[i][j] = -(z[i][j] + if i == j { 1.0 } else { 0.0 });
        }
    }
    let mut ntn = [[0.0; 4]; 4];
    let mut ntr = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            let (mut s, mut t) = (0.0, 0.0);
            for row in 0..8 {
                s += lhs[row][i] * lhs[row][j];
                t += lhs[row][i] * rhs[row][j];
            }
            ntn[i][j] = s;
            ntr[i][j] = t;
        }
    }
    let p0 = solve4(ntn, ntr).ok_or(CartpoleError::Singular {
        what: "the stable invariant subspace's normal equations",
    })?;
    let mut p = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            p[i][j] = 0.5 * (p0[i][j] + p0[j][i]);
        }
    }
    let p = newton_kleinman(a, &g, q, &p).ok_or(CartpoleError::Singular {
        what: "the Newton–Kleinman Lyapunov operator",
    })?;
    let mut k = [0.0; 4];
    for (j, kj) in k.iter_mut().enumerate() {
        *kj = (0..4).map(|i| b[i] * p[i][j]).sum::<f64>() / r;
    }
    let residual = residual4(a, &g, q, &p);
    let mut acl = *a;
    for i in 0..4 {
        for j in 0..4 {
            acl[i][j] -= b[i] * k[j];
        }
    }
    if !routh_hurwitz_stable4(&acl) {
        return Err(CartpoleError::NotStabilizable {
            re: f64::NAN,
            im: f64::NAN,
            closed_loop_bound: f64::NAN,
        });
    }
    if residual.is_nan() || residual > options.residual_tolerance {
        return Err(CartpoleError::ResidualTooLarge {
            residual,
            tolerance: options.residual_tolerance,
        });
    }
    Ok(SmallLqr {
        k,
        p,
        residual,
        iterations,
    })
}

fn check4(what: &'static str, x: &M4) -> Result<(), CartpoleError> {
    for (i, row) in x.iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            if !value.is_finite() {
                return Err(CartpoleError::NonFinite {
                    what,
                    row: i,
                    col: j,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// In-place sign iteration on the 8×8 Hamiltonian; returns the iterations made.
fn sign8(z: &mut M8, max_iterations: usize) -> Result<usize, CartpoleError> {
    let mut change = f64::INFINITY;
    for it in 1..=max_iterations {
        let mut inv = *z;
        let det = invert8(&mut inv).ok_or(CartpoleError::Singular {
            what: "a sign-iteration iterate of the Hamiltonian",
        })?;
        let c = if change > 1e-2 {
            det.abs().powf(-1.0 / 8.0)
        } else {
            1.0
        };
        let (mut diff, mut norm) = (0.0, 0.0);
        for i in 0..8 {
            for j in 0..8 {
                let next = 0.5 * (c * z[i][j] + inv[i][j] / c);
                diff += (next - z[i][j]) * (next - z[i][j]);
                norm += next * next;
                z[i][j] = next;
            }
        }
        let previous = change;
        change = (diff / norm).sqrt();
        if previous <= 1e-9 || (previous < 1e-6 && change >= previous) {
            return Ok(it);
        }
        if !change.is_finite() {
            break;
        }
    }
    Err(CartpoleError::NoConvergence {
        method: "matrix sign iteration (4×4 path)",
        iterations: max_iterations,
        change,
    })
}

/// Gauss–Jordan inversion in place with partial pivoting; returns the determinant, or
/// None if a pivot vanishes.
fn invert8(m: &mut M8) -> Option<f64> {
    let mut perm = [0usize; 8];
    let mut det = 1.0;
    for k in 0..8 {
        let mut piv = k;
        let mut best = m[k][k].abs();
        for (i, row) in m.iter().enumerate().skip(k + 1) {
            if row[k].abs() > best {
                best = row[k].abs();
                piv = i;
            }
        }
        if best == 0.0 || !best.is_finite() {
            return None;
        }
        perm[k] = piv;
        if piv != k {
            m.swap(k, piv);
            det = -det;
        }
        let pivot = m[k][k];
        det *= pivot;
        let inv_p = 1.0 / pivot;
        m[k][k] = 1.0;
        for v in m[k].iter_mut() {
            *v *= inv_p;
        }
        let row_k = m[k];
        for (i, row) in m.iter_mut().enumerate() {
            if i != k {
                let f = row[k];
                if f != 0.0 {
                    row[k] = 0.0;
                    for j in 0..8 {
                        row[j] -= f * row_k[j];
                    }
                }
            }
        }
    }
    // undo the row interchanges as column interchanges, in reverse
    for k in (0..8).rev() {
        if perm[k] != k {
            for row in m.iter_mut() {
                row.swap(k, perm[k]);
            }
        }
    }
    Some(det)
}

/// Solves `M X = R` (4×4, Gaussian elimination with partial pivoting).
fn solve4(mut m: M4, mut r: M4) -> Option<M4> {
    for k in 0..4 {
        let piv = (k..4).max_by(|&i, &j| m[i][k].abs().total_cmp(&m[j][k].abs()))?;
        if m[piv][k] == 0.0 || m[piv][k].is_nan() {
            return None;
        }
        m.swap(k, piv);
        r.swap(k, piv);
        for i in k + 1..4 {
            let f = m[i][k] / m[k][k];
            for j in k..4 {
                m[i][j] -= f * m[k][j];
            }
            for j in 0..4 {
                r[i][j] -= f * r[k][j];
            }
        }
    }
    let mut x = [[0.0; 4]; 4];
    for col in 0..4 {
        for i in (0..4).rev() {
            let s: f64 = (i + 1..4).map(|j| m[i][j] * x[j][col]).sum();
            x[i][col] = (r[i][col] - s) / m[i][i];
        }
    }
    Some(x)
}

/// Index of (i, j), i ≤ j, among the 10 unknowns of a symmetric 4×4 matrix.
const fn sym(i: usize, j: usize) -> usize {
    let (i, j) = if i <= j { (i, j) } else { (j, i) };
    i * 4 - i * (i + 1) / 2 + j
}

/// One Newton–Kleinman step from P: solves `AclᵀX + X·Acl = −(Q + PGP)` with
/// `Acl = A − GP` (10 symmetric unknowns).
fn newton_kleinman(a: &M4, g: &M4, q: &M4, p: &M4) -> Option<M4> {
    let mut acl = *a;
    let mut pgp = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            acl[i][j] -= (0..4).map(|k| g[i][k] * p[k][j]).sum::<f64>();
        }
    }
    for i in 0..4 {
        for j in 0..4 {
            let mut s = 0.0;
            for k in 0..4 {
                for l in 0..4 {
                    s += p[i][k] * g[k][l] * p[l][j];
                }
            }
            pgp[i][j] = s;
        }
    }
    let mut m = [[0.0; 10]; 10];
    let mut rhs = [0.0; 10];
    for i in 0..4 {
        for j in i..4 {
            let row = sym(i, j);
            rhs[row] = -(q[i][j] + pgp[i][j]);
            for k in 0..4 {
                // (Aclᵀ X)[i][j] = Σ_k Acl[k][i]·X[k][j];  (X Acl)[i][j] = Σ_k X[i][k]·Acl[k][j]
                m[row][sym(k, j)] += acl[k][i];
                m[row][sym(i, k)] += acl[k][j];
            }
        }
    }
    // Gaussian elimination with partial pivoting
    for k in 0..10 {
        let piv = (k..10).max_by(|&x, &y| m[x][k].abs().total_cmp(&m[y][k].abs()))?;
        if m[piv][k] == 0.0 || m[piv][k].is_nan() {
            return None;
        }
        m.swap(k, piv);
        rhs.swap(k, piv);
        for i in k + 1..10 {
            let f = m[i][k] / m[k][k];
            if f != 0.0 {
                for j in k..10 {
                    m[i][j] -= f * m[k][j];
                }
                rhs[i] -= f * rhs[k];
            }
        }
    }
    let mut x = [0.0; 10];
    for i in (0..10).rev() {
        let s: f64 = (i + 1..10).map(|j| m[i][j] * x[j]).sum();
        x[i] = (rhs[i] - s) / m[i][i];
    }
    let mut out = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            out[i][j] = x[sym(i, j)];
        }
    }
    out.iter().flatten().all(|v| v.is_finite()).then_some(out)
}

/// The relative residual of [`super::care`] on arrays.
fn residual4(a: &M4, g: &M4, q: &M4, p: &M4) -> f64 {
    let (mut res, mut nq, mut nlin, mut nquad) = (0.0, 0.0, 0.0, 0.0);
    let mut gp = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            gp[i][j] = (0..4).map(|k| g[i][k] * p[k][j]).sum();
        }
    }
    for i in 0..4 {
        for j in 0..4 {
            let lin: f64 = (0..4).map(|k| a[k][i] * p[k][j] + p[i][k] * a[k][j]).sum();
            let quad: f64 = (0..4).map(|k| p[i][k] * gp[k][j]).sum();
            let r = lin - quad + q[i][j];
            res += r * r;
            nq += q[i][j] * q[i][j];
            nlin += lin * lin;
            nquad += quad * quad;
        }
    }
    res.sqrt() / (nq.sqrt() + nlin.sqrt() + nquad.sqrt()).max(f64::MIN_POSITIVE)
}

/// Whether every eigenvalue of the 4×4 matrix `m` has a negative real part (the
/// Routh–Hurwitz conditions on its characteristic polynomial, from Faddeev–LeVerrier).
///
/// ```
/// use cartpole::lqr::routh_hurwitz_stable4;
/// let mut m = [[0.0; 4]; 4];
/// for i in 0..4 { m[i][i] = -1.0 - i as f64; }
/// assert!(routh_hurwitz_stable4(&m));
/// m[3][3] = 0.5;
/// assert!(!routh_hurwitz_stable4(&m));
/// ```
pub fn routh_hurwitz_stable4(m: &M4) -> bool {
    // Faddeev–LeVerrier: λ⁴ + c1 λ³ + c2 λ² + c3 λ + c4
    let mut mk = *m; // M_1 = m, c1 = −tr
    let mut coeffs = [0.0; 5];
    coeffs[0] = 1.0;
    for k in 1..=4 {
        if k > 1 {
            // M_k = m·(M_{k−1} + c_{k−1} I)
            let mut prev = mk;
            for (i, row) in prev.iter_mut().enumerate() {
                row[i] += coeffs[k - 1];
            }
            for i in 0..4 {
                for j in 0..4 {
                    mk[i][j] = (0..4).map(|l| m[i][l] * prev[l][j]).sum();
                }
            }
        }
        let trace: f64 = (0..4).map(|i| mk[i][i]).sum();
        coeffs[k] = -trace / k as f64;
    }
    let [_, a1, a2, a3, a4] = coeffs;
    a1 > 0.0
        && a2 > 0.0
        && a3 > 0.0
        && a4 > 0.0
        && a1 * a2 > a3
        && a1 * a2 * a3 > a3 * a3 + a1 * a1 * a4
}
