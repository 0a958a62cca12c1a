//! The continuous algebraic Riccati equation by the matrix sign function (faer, any size).

use faer::linalg::solvers::{DenseSolveCore, SolveLstsq};
use faer::{Mat, MatRef, Side};

use super::{Lqr, RiccatiOptions, care_residual, check_problem, diagnose, eigenvalues, symmetrize};
use crate::error::CartpoleError;

/// Solves `AᵀP + PA − PBR⁻¹BᵀP + Q = 0` for the stabilising P and `K = R⁻¹BᵀP`.
///
/// The Hamiltonian `H = [[A, −BR⁻¹Bᵀ], [−Q, −Aᵀ]]` has sign `W = sign(H)`, computed by
/// `Z ← (cZ + (cZ)⁻¹)/2` with the determinant scaling `c = |det Z|^{−1/2n}`; the stable
/// subspace is the null space of `W + I`, so `[W₁₂; W₂₂ + I]·P = −[W₁₁ + I; W₂₁]`,
/// solved by least squares (faer QR) and symmetrised.
///
/// ```
/// use cartpole::lqr::{care, RiccatiOptions};
/// use faer::mat;
///
/// // the spec's linearisation about the upright, Q = I, R = 1
/// let a = mat![[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 29.43, 0.0]];
/// let b = mat![[0.0], [1.0], [0.0], [3.0]];
/// let q = faer::Mat::<f64>::identity(4, 4);
/// let r = mat![[1.0]];
/// let lqr = care(a.as_ref(), b.as_ref(), q.as_ref(), r.as_ref(), &RiccatiOptions::default())?;
/// assert!((lqr.k[(0, 2)] - 26.7778608771).abs() < 1e-8);
/// assert!(lqr.closed_loop_eigenvalues.iter().all(|&(re, _)| re < 0.0));
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::DimensionMismatch`], [`CartpoleError::NonFinite`],
/// [`CartpoleError::NotPositiveDefinite`] for bad input;
/// [`CartpoleError::NotStabilizable`] when an unstable mode of A is out of B's reach (or
/// the closed loop is not stable), [`CartpoleError::NoConvergence`] when the sign
/// iteration stalls (eigenvalues of H on the imaginary axis),
/// [`CartpoleError::ResidualTooLarge`] when P does not satisfy the equation.
pub fn care(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    options: &RiccatiOptions,
) -> Result<Lqr, CartpoleError> {
    let (n, _m) = check_problem(a, b, q, r)?;
    let r_llt = r
        .llt(Side::Lower)
        .map_err(|_| CartpoleError::NotPositiveDefinite {
            which: "R",
            semi: false,
            min_eigenvalue: f64::NAN,
        })?;
    let r_inv = r_llt.inverse();
    let g = b * &r_inv * b.transpose();
    let h = Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
        (true, true) => a[(i, j)],
        (true, false) => -g[(i, j - n)],
        (false, true) => -q[(i - n, j)],
        (false, false) => -a[(j - n, i - n)],
    });
    let (w, iterations) = match sign(h, options.max_iterations) {
        Ok(v) => v,
        Err(e) => return Err(diagnose(a, b, false, f64::NAN, e)),
    };
    // [W12; W22 + I] P = −[W11 + I; W21]
    let lhs = Mat::from_fn(2 * n, n, |i, j| {
        w[(i, n + j)] + if i >= n && i - n == j { 1.0 } else { 0.0 }
    });
    let rhs = Mat::from_fn(2 * n, n, |i, j| {
        -(w[(i, j)] + if i == j { 1.0 } else { 0.0 })
    });
    let p = symmetrize(&lhs.qr().solve_lstsq(&rhs));
    let k = &r_inv * b.transpose() * &p;
    finish(a, b, g.as_ref(), q, p, k, iterations, options)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    p: Mat<f64>,
    k: Mat<f64>,
    iterations: usize,
    options: &RiccatiOptions,
) -> Result<Lqr, CartpoleError> {
    let residual = care_residual(a, g, q, p.as_ref());
    let finite = (0..p.nrows()).all(|i| (0..p.ncols()).all(|j| p[(i, j)].is_finite()))
        && (0..k.nrows()).all(|i| (0..k.ncols()).all(|j| k[(i, j)].is_finite()));
    if !finite {
        return Err(diagnose(
            a,
            b,
            false,
            f64::NAN,
            CartpoleError::Singular {
                what: "the stable invariant subspace (no stabilising solution)",
            },
        ));
    }
    let acl = a - b * &k;
    let closed_loop_eigenvalues = eigenvalues(acl.as_ref())?;
    let abscissa = closed_loop_eigenvalues
        .iter()
        .map(|e| e.0)
        .fold(f64::NEG_INFINITY, f64::max);
    if abscissa.is_nan() || abscissa >= 0.0 {
        let (re, im) = closed_loop_eigenvalues
            .last()
            .copied()
            .unwrap_or((f64::NAN, f64::NAN));
        return Err(diagnose(
            a,
            b,
            false,
            abscissa,
            CartpoleError::NotStabilizable {
                re,
                im,
                closed_loop_bound: abscissa,
            },
        ));
    }
    if residual.is_nan() || residual > options.residual_tolerance {
        return Err(diagnose(
            a,
            b,
            false,
            abscissa,
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

/// sign(H) by the scaled Newton iteration; returns the sign and the iterations made.
fn sign(mut z: Mat<f64>, max_iterations: usize) -> Result<(Mat<f64>, usize), CartpoleError> {
    let dim = z.nrows() as f64;
    let mut change = f64::INFINITY;
    for it in 1..=max_iterations {
        let lu = z.partial_piv_lu();
        let det = z.determinant();
        if !(det.is_finite() && det != 0.0) {
            return Err(CartpoleError::Singular {
                what: "a sign-iteration iterate of the Hamiltonian",
            });
        }
        // scale only while far from convergence: near it c → 1 and quadratic convergence
        // is what remains
        let c = if change > 1e-2 {
            det.abs().powf(-1.0 / dim)
        } else {
            1.0
        };
        let inv = lu.inverse();
        let next = Mat::from_fn(z.nrows(), z.ncols(), |i, j| {
            0.5 * (c * z[(i, j)] + inv[(i, j)] / c)
        });
        let previous = change;
        change = (&next - &z).norm_l2() / next.norm_l2();
        z = next;
        // quadratic convergence: once the change is below 1e-9 one more step reaches
        // rounding level; stop there, or as soon as rounding stops the decrease
        if previous <= 1e-9 || (previous < 1e-6 && change >= previous) {
            return Ok((z, it));
        }
        if !change.is_finite() {
            break;
        }
    }
    Err(CartpoleError::NoConvergence {
        method: "matrix sign iteration",
        iterations: max_iterations,
        change,
    })
}
