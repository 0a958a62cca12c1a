//! Zero-order-hold discretisation and the matrix exponential.
//!
//! faer has no matrix exponential; this one is the textbook scaling and squaring with a
//! degree-16 Taylor polynomial (after scaling ‖X‖₁ ≤ 1/2 the truncation error is below
//! 2^{−17}/17! ≈ 2e-20, far under rounding), evaluated in Horner form — adequate for the
//! small, well-scaled matrices of a cart-pole linearisation times a step.

use faer::{Mat, MatRef};

use crate::error::CartpoleError;

/// `e^X` for a square X.
///
/// ```
/// use cartpole::lqr::expm;
/// let x = faer::mat![[0.0, 1.0], [-1.0, 0.0]]; // a rotation generator
/// let e = expm(x.as_ref())?;
/// assert!((e[(0, 0)] - 1f64.cos()).abs() < 1e-14 && (e[(0, 1)] - 1f64.sin()).abs() < 1e-14);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::DimensionMismatch`] if X is not square, [`CartpoleError::NonFinite`]
/// for a non-finite entry.
pub fn expm(x: MatRef<'_, f64>) -> Result<Mat<f64>, CartpoleError> {
    let n = x.nrows();
    super::check_matrix("X", x, n, n)?;
    let norm1 = (0..n)
        .map(|j| (0..n).map(|i| x[(i, j)].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut squarings = 0u32;
    while norm1 / f64::from(1u32 << squarings.min(31)) > 0.5 && squarings < 60 {
        squarings += 1;
    }
    let scale = 0.5f64.powi(squarings as i32);
    let xs = Mat::from_fn(n, n, |i, j| x[(i, j)] * scale);
    let eye = Mat::<f64>::identity(n, n);
    // Horner: I + X(I + X/2(I + X/3(…)))
    let mut e = eye.clone();
    for k in (1..=16).rev() {
        e = &eye + (&xs * &e) * faer::Scale(1.0 / k as f64);
    }
    for _ in 0..squarings {
        e = &e * &e;
    }
    Ok(e)
}

/// The zero-order-hold discretisation of `s' = A s + B u` over `dt`:
/// `A_d = e^{A·dt}`, `B_d = ∫₀^dt e^{A·τ} dτ · B`, from the exponential of
/// `[[A, B], [0, 0]]·dt`.
///
/// ```
/// use cartpole::lqr::discretize;
/// let a = faer::mat![[0.0, 1.0], [0.0, 0.0]];
/// let b = faer::mat![[0.0], [1.0]];
/// let (ad, bd) = discretize(a.as_ref(), b.as_ref(), 0.1)?;
/// assert!((ad[(0, 1)] - 0.1).abs() < 1e-15 && (bd[(0, 0)] - 0.005).abs() < 1e-15);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::InvalidParameter`] unless dt is finite and positive; size and
/// finiteness errors as [`expm`].
pub fn discretize(
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    dt: f64,
) -> Result<(Mat<f64>, Mat<f64>), CartpoleError> {
    crate::error::check_param("dt", dt, "s", crate::error::Requirement::Positive)?;
    let n = a.nrows();
    let m = b.ncols();
    super::check_matrix("A", a, n, n)?;
    super::check_matrix("B", b, n, m)?;
    let aug = Mat::from_fn(n + m, n + m, |i, j| match (i < n, j < n) {
        (true, true) => a[(i, j)] * dt,
        (true, false) => b[(i, j - n)] * dt,
        _ => 0.0,
    });
    let e = expm(aug.as_ref())?;
    Ok((
        e.as_ref().submatrix(0, 0, n, n).to_owned(),
        e.as_ref().submatrix(0, n, n, m).to_owned(),
    ))
}
