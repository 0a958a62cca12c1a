//! The discrete algebraic Riccati equation by the structure-preserving doubling algorithm.

use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, MatRef, Side};

use super::{Lqr, RiccatiOptions, check_problem, dare_residual, diagnose, eigenvalues, symmetrize};
use crate::error::CartpoleError;

/// Solves `P = Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA` for the stabilising P, and
/// `K = (R + BᵀPB)⁻¹BᵀPA` (`u_k = −K·e_k`).
///
/// Doubling (SDA; Chu, Fan & Lin 2005): `A₀ = A`, `G₀ = BR⁻¹Bᵀ`, `H₀ = Q`;
/// `W = I + G H`, `A ← A W⁻¹ A`, `G ← G + A W⁻¹ G Aᵀ`, `H ← H + Aᵀ H W⁻¹ A`; H → P
/// quadratically (each step doubles the horizon of the Riccati recursion).
///
/// ```
/// use cartpole::lqr::{dare, RiccatiOptions};
/// use faer::mat;
/// // a discretised double integrator
/// let a = mat![[1.0, 0.1], [0.0, 1.0]];
/// let b = mat![[0.005], [0.1]];
/// let q = faer::Mat::<f64>::identity(2, 2);
/// let r = mat![[1.0]];
/// let lqr = dare(a.as_ref(), b.as_ref(), q.as_ref(), r.as_ref(), &RiccatiOptions::default())?;
/// assert!(lqr.residual < 1e-12);
/// assert!(lqr.closed_loop_eigenvalues.iter().all(|&(re, im)| re.hypot(im) < 1.0));
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// As [`super::care`], with stability meaning spectral radius of `A − BK` below 1.
pub fn dare(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    options: &RiccatiOptions,
) -> Result<Lqr, CartpoleError> {
    let (n, _m) = check_problem(a, b, q, r)?;
    let r_inv = r
        .llt(Side::Lower)
        .map_err(|_| CartpoleError::NotPositiveDefinite {
            which: "R",
            semi: false,
            min_eigenvalue: f64::NAN,
        })?
        .inverse();
    let mut ak = a.to_owned();
    let mut gk = b * &r_inv * b.transpose();
    let mut hk = q.to_owned();
    let eye = Mat::<f64>::identity(n, n);
    let mut change = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    for it in 1..=options.max_iterations {
        iterations = it;
        let w = &eye + &gk * &hk;
        let lu = w.partial_piv_lu();
        let w_inv_a = lu.solve(&ak);
        let w_inv_g = lu.solve(&gk);
        let a_next = &ak * &w_inv_a;
        let g_next = &gk + &ak * &w_inv_g * ak.transpose();
        let h_next = &hk + ak.transpose() * &hk * &w_inv_a;
        change = (&h_next - &hk).norm_l2() / h_next.norm_l2().max(f64::MIN_POSITIVE);
        ak = a_next;
        gk = symmetrize(&g_next);
        hk = symmetrize(&h_next);
        if !change.is_finite() {
            break;
        }
        if change <= 1e-15 || ak.norm_l2() <= 1e-300 {
            converged = true;
            break;
        }
    }
    if !converged && (change.is_nan() || change > 1e-10) {
        return Err(diagnose(
            a,
            b,
            true,
            f64::NAN,
            CartpoleError::NoConvergence {
                method: "structured doubling",
                iterations,
                change,
            },
        ));
    }
    finish_discrete(a, b, q, r, hk, iterations, options)
}

/// Solves the DARE by iterating the Riccati recursion `P ← Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA`
/// from `P = Q` until the relative change is below `tolerance` (linear convergence; the
/// reference the doubling algorithm is tested against).
///
/// # Errors
/// As [`dare`]; [`CartpoleError::NoConvergence`] after `max_iterations`.
pub fn dare_fixed_point(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    tolerance: f64,
    max_iterations: usize,
) -> Result<Lqr, CartpoleError> {
    check_problem(a, b, q, r)?;
    let mut p = q.to_owned();
    for it in 1..=max_iterations {
        let next = symmetrize(&riccati_step(a, b, q, r, p.as_ref()));
        let change = (&next - &p).norm_l2() / next.norm_l2().max(f64::MIN_POSITIVE);
        p = next;
        if change <= tolerance {
            return finish_discrete(a, b, q, r, p, it, &RiccatiOptions::default());
        }
        if !change.is_finite() {
            break;
        }
    }
    Err(CartpoleError::NoConvergence {
        method: "Riccati fixed-point iteration",
        iterations: max_iterations,
        change: f64::NAN,
    })
}

/// One step of the Riccati recursion backwards in time.
pub(crate) fn riccati_step(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    p: MatRef<'_, f64>,
) -> Mat<f64> {
    let s = r + b.transpose() * p * b;
    let bpa = b.transpose() * p * a;
    let k = s.partial_piv_lu().solve(&bpa);
    q + a.transpose() * p * a - bpa.transpose() * k
}

/// The gain `(R + BᵀPB)⁻¹BᵀPA`.
pub(crate) fn discrete_gain(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    p: MatRef<'_, f64>,
) -> Mat<f64> {
    let s = r + b.transpose() * p * b;
    s.partial_piv_lu().solve(b.transpose() * p * a)
}

fn finish_discrete(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    p: Mat<f64>,
    iterations: usize,
    options: &RiccatiOptions,
) -> Result<Lqr, CartpoleError> {
    let k = discrete_gain(a, b, r, p.as_ref());
    let residual = dare_residual(a, b, q, r, p.as_ref()).unwrap_or(f64::INFINITY);
    let finite = (0..p.nrows()).all(|i| (0..p.ncols()).all(|j| p[(i, j)].is_finite()))
        && (0..k.nrows()).all(|i| (0..k.ncols()).all(|j| k[(i, j)].is_finite()));
    if !finite {
        return Err(diagnose(
            a,
            b,
            true,
            f64::NAN,
            CartpoleError::Singular {
                what: "the stable invariant subspace (no stabilising solution)",
            },
        ));
    }
    let acl = a - b * &k;
    let closed_loop_eigenvalues = eigenvalues(acl.as_ref())?;
    let radius = closed_loop_eigenvalues
        .iter()
        .map(|e| e.0.hypot(e.1))
        .fold(0.0, f64::max);
    if radius.is_nan() || radius >= 1.0 {
        return Err(diagnose(
            a,
            b,
            true,
            radius,
            CartpoleError::NotStabilizable {
                re: f64::NAN,
                im: f64::NAN,
                closed_loop_bound: radius,
            },
        ));
    }
    if residual.is_nan() || residual > options.residual_tolerance {
        return Err(diagnose(
            a,
            b,
            true,
            radius,
            CartpoleError::ResidualTooLarge {
                residual,
                tolerance: options.residual_tolerance,
            },
        ));
    }
    Ok(Lqr {
        k,
        p,
        residual,
        closed_loop_eigenvalues,
        iterations,
    })
}
