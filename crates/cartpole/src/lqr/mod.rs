//! Linear–quadratic regulators on faer.
//!
//! * [`care`]: the continuous algebraic Riccati equation `AᵀP + PA − PBR⁻¹BᵀP + Q = 0`
//!   by the matrix sign function of the Hamiltonian (Roberts' method, determinant
//!   scaling), then `P` from the stable invariant subspace by least squares (faer QR);
//!   any n, m. [`care4`] is the same method on stack arrays for the cart-pole's 4 states
//!   and 1 control, polished by one Newton–Kleinman step — the fast path (why: see
//!   [`care4`]).
//! * [`dare`]: the discrete equation `P = Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA` by the
//!   structure-preserving doubling algorithm.
//! * [`discretize`]: the zero-order-hold discretisation `(e^{A·dt}, ∫e^{As}ds·B)`.
//! * [`tvlqr`]: a time-varying LQR along a trajectory, by the backward Riccati recursion on
//!   the discretised linearisation at every knot.
//! * [`Weights`]: Q and R, the identity of the spec or scaled (Bryson's rule) from the
//!   characteristic time `√(L/g)`, the track length and an angle scale.
//!
//! Every solver checks its residual and the stability of the closed loop `A − BK`, and
//! names the failure ([`CartpoleError::NotStabilizable`],
//! [`CartpoleError::ResidualTooLarge`]). The control law is `u = −K·e`, e the deviation
//! from the equilibrium (angle deviation formed with [`crate::angle::wrap_around`]).
//!
//! Choice of method (measured, `benches/lqr.rs`): on the spec's 4×4 problem the faer sign
//! iteration takes tens of µs, dominated by allocating and dispatching on 8×8 matrices;
//! the same iteration on stack arrays with a Gauss–Jordan inverse takes a few µs (numbers
//! in `papers/cartpole.md`). A Schur method would need an ordered real Schur form, which
//! faer does not expose; the sign iteration needs only inverses and converges in 6–8
//! steps here.

mod care;
mod dare;
mod discretize;
mod small;
mod tvlqr;
mod weights;

pub use care::care;
pub use dare::{dare, dare_fixed_point};
pub use discretize::{discretize, expm};
pub use small::{SmallLqr, care4, routh_hurwitz_stable4};
pub use tvlqr::{TimeVaryingLqr, tvlqr};
pub use weights::{Scales, Weights};

use faer::{Mat, MatRef, Side};

use crate::error::CartpoleError;

/// Tolerances and limits of the Riccati solvers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiccatiOptions {
    /// Largest accepted relative residual (see [`CartpoleError::ResidualTooLarge`]).
    pub residual_tolerance: f64,
    /// Most iterations of the sign or doubling iteration.
    pub max_iterations: usize,
}

impl Default for RiccatiOptions {
    /// Residual ≤ 1e-10, at most 100 iterations.
    fn default() -> Self {
        Self {
            residual_tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

/// The solution of a Riccati equation.
#[derive(Clone, Debug)]
pub struct Lqr {
    /// The gain K (m×n): `u = −K·e`.
    pub k: Mat<f64>,
    /// The stabilising solution P (n×n, symmetric).
    pub p: Mat<f64>,
    /// The relative residual of the equation at P.
    pub residual: f64,
    /// Eigenvalues `(re, im)` of `A − BK`, sorted by real part then imaginary part.
    pub closed_loop_eigenvalues: Vec<(f64, f64)>,
    /// Iterations of the sign (CARE) or doubling (DARE) iteration.
    pub iterations: usize,
}

/// Checks sizes, finiteness, Q = Qᵀ ⪰ 0 and R = Rᵀ ≻ 0. Returns (n, m).
pub(crate) fn check_problem(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
) -> Result<(usize, usize), CartpoleError> {
    let n = a.nrows();
    let m = b.ncols();
    check_matrix("A", a, n, n)?;
    check_matrix("B", b, n, m)?;
    check_matrix("Q", q, n, n)?;
    check_matrix("R", r, m, m)?;
    if n == 0 || m == 0 {
        return Err(CartpoleError::DimensionMismatch {
            what: "B",
            rows: n,
            cols: m,
            expected_rows: n.max(1),
            expected_cols: m.max(1),
        });
    }
    check_definite("Q", q, true)?;
    check_definite("R", r, false)?;
    Ok((n, m))
}

pub(crate) fn check_matrix(
    what: &'static str,
    x: MatRef<'_, f64>,
    rows: usize,
    cols: usize,
) -> Result<(), CartpoleError> {
    if x.nrows() != rows || x.ncols() != cols {
        return Err(CartpoleError::DimensionMismatch {
            what,
            rows: x.nrows(),
            cols: x.ncols(),
            expected_rows: rows,
            expected_cols: cols,
        });
    }
    for j in 0..cols {
        for i in 0..rows {
            let value = x[(i, j)];
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

/// Q must be symmetric positive semidefinite, R symmetric positive definite (to a
/// relative 1e-12 of their size).
fn check_definite(
    which: &'static str,
    x: MatRef<'_, f64>,
    semi: bool,
) -> Result<(), CartpoleError> {
    let n = x.nrows();
    let scale = x.norm_max().max(f64::MIN_POSITIVE);
    for i in 0..n {
        for j in 0..i {
            if (x[(i, j)] - x[(j, i)]).abs() > 1e-12 * scale {
                return Err(CartpoleError::NotPositiveDefinite {
                    which,
                    semi,
                    min_eigenvalue: f64::NAN,
                });
            }
        }
    }
    let eig = x.self_adjoint_eigenvalues(Side::Lower).map_err(|_| {
        CartpoleError::NotPositiveDefinite {
            which,
            semi,
            min_eigenvalue: f64::NAN,
        }
    })?;
    let min = eig.iter().copied().fold(f64::INFINITY, f64::min);
    let ok = if semi {
        min >= -1e-12 * scale
    } else {
        min > 1e-14 * scale && x.norm_max() > 0.0
    };
    if ok {
        Ok(())
    } else {
        Err(CartpoleError::NotPositiveDefinite {
            which,
            semi,
            min_eigenvalue: min,
        })
    }
}

/// The eigenvalues of `x` as (re, im), sorted.
pub(crate) fn eigenvalues(x: MatRef<'_, f64>) -> Result<Vec<(f64, f64)>, CartpoleError> {
    let mut ev: Vec<(f64, f64)> = x
        .eigenvalues()
        .map_err(|_| CartpoleError::NoConvergence {
            method: "eigenvalues (faer)",
            iterations: 0,
            change: f64::NAN,
        })?
        .into_iter()
        .map(|z| (z.re, z.im))
        .collect();
    ev.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
    Ok(ev)
}

/// The eigenvalues of `A − BK`, sorted by real part (as in [`Lqr`]).
///
/// # Errors
/// [`CartpoleError::DimensionMismatch`] for inconsistent sizes.
pub fn closed_loop_eigenvalues(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    k: MatRef<'_, f64>,
) -> Result<Vec<(f64, f64)>, CartpoleError> {
    let n = a.nrows();
    check_matrix("A", a, n, n)?;
    check_matrix("B", b, n, b.ncols())?;
    check_matrix("K", k, b.ncols(), n)?;
    let acl = a - b * k;
    eigenvalues(acl.as_ref())
}

/// PBH test: the eigenvalue of A (continuous: Re λ ≥ 0, discrete: |λ| ≥ 1) at which
/// `[A − λI, B]` loses rank, if any.
pub(crate) fn unstabilizable_mode(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    discrete: bool,
) -> Option<(f64, f64)> {
    let n = a.nrows();
    let m = b.ncols();
    let ev = eigenvalues(a).ok()?;
    let scale = a.norm_max().max(b.norm_max()).max(1.0);
    for &(re, im) in &ev {
        let unstable = if discrete {
            re.hypot(im) >= 1.0 - 1e-12
        } else {
            re >= -1e-12 * scale
        };
        if !unstable {
            continue;
        }
        let pbh = Mat::<faer::c64>::from_fn(n, n + m, |i, j| {
            if j < n {
                let d = if i == j {
                    faer::c64::new(re, im)
                } else {
                    faer::c64::new(0.0, 0.0)
                };
                faer::c64::new(a[(i, j)], 0.0) - d
            } else {
                faer::c64::new(b[(i, j - n)], 0.0)
            }
        });
        let sv = pbh.singular_values().ok()?;
        let min = sv.iter().copied().fold(f64::INFINITY, f64::min);
        if min <= 1e-10 * scale {
            return Some((re, im));
        }
    }
    None
}

/// The error for a solution that failed its checks: `NotStabilizable` when the PBH test
/// finds an unreachable unstable mode, else `fallback`.
pub(crate) fn diagnose(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    discrete: bool,
    closed_loop_bound: f64,
    fallback: CartpoleError,
) -> CartpoleError {
    match unstabilizable_mode(a, b, discrete) {
        Some((re, im)) => CartpoleError::NotStabilizable {
            re,
            im,
            closed_loop_bound,
        },
        None => fallback,
    }
}

/// Relative CARE residual `‖AᵀP + PA − PBR⁻¹BᵀP + Q‖_F / (‖Q‖_F + ‖AᵀP + PA‖_F + ‖PGP‖_F)`
/// with `G = BR⁻¹Bᵀ`.
pub(crate) fn care_residual(
    a: MatRef<'_, f64>,
    g: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    p: MatRef<'_, f64>,
) -> f64 {
    let lin = a.transpose() * p + p * a;
    let quad = p * g * p;
    let res = &lin - &quad + q;
    res.norm_l2() / (q.norm_l2() + lin.norm_l2() + quad.norm_l2()).max(f64::MIN_POSITIVE)
}

/// Relative DARE residual `‖Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA − P‖_F / (‖Q‖_F + ‖AᵀPA‖_F + ‖P‖_F)`.
pub(crate) fn dare_residual(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    q: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    p: MatRef<'_, f64>,
) -> Option<f64> {
    use faer::linalg::solvers::Solve;
    let apa = a.transpose() * p * a;
    let s = r + b.transpose() * p * b;
    let bpa = b.transpose() * p * a;
    let sol = s.partial_piv_lu().solve(&bpa);
    let res = q + &apa - bpa.transpose() * &sol - p;
    let v = res.norm_l2() / (q.norm_l2() + apa.norm_l2() + p.norm_l2()).max(f64::MIN_POSITIVE);
    v.is_finite().then_some(v)
}

/// Returns `(x + xᵀ)/2`.
pub(crate) fn symmetrize(x: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(x.nrows(), x.ncols(), |i, j| 0.5 * (x[(i, j)] + x[(j, i)]))
}

/// Checks that `weights` are 4×4 and 1×1 with finite entries.
pub(crate) fn check_weights(weights: &Weights) -> Result<(), CartpoleError> {
    check_matrix("Q", weights.q.as_ref(), 4, 4)?;
    check_matrix("R", weights.r.as_ref(), 1, 1)
}
