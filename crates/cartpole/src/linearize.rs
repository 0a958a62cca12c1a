//! Linearisation `A = ∂f/∂s`, `B = ∂f/∂u` of any [`Dynamics`] at any point, by forward AD
//! through the library: one num-dual [`Dual64`] pass per state and control direction
//! (n + m passes of the model, exact to rounding; no step size to choose).

use faer::Mat;
use sparsediff::ad::num_dual::Dual64;
use trajectory::{Dynamics, MAX_CONTROL_DIM, MAX_STATE_DIM};

use crate::error::CartpoleError;

/// The linearisation of `s' = f(s, u)` at a point: `δs' ≈ A·δs + B·δu`.
#[derive(Clone, Debug)]
pub struct Linearization {
    /// A = ∂f/∂s, n×n.
    pub a: Mat<f64>,
    /// B = ∂f/∂u, n×m.
    pub b: Mat<f64>,
    /// f(s, u) at the point (zero at an equilibrium).
    pub f: Vec<f64>,
}

/// A and B of `dynamics` at `(state, control)`, by forward AD.
///
/// ```
/// use cartpole::linearize::linearize;
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use std::f64::consts::PI;
///
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// let lin = linearize(&cart, &[0.0, 0.0, PI, 0.0], &[0.0])?;
/// // the spec's A[3][2] = 3g/(2L) = 29.43 and B = (0, 1, 0, 3)
/// assert!((lin.a[(3, 2)] - 29.43).abs() < 1e-12);
/// assert!((lin.b[(3, 0)] - 3.0).abs() < 1e-12);
/// assert!(lin.f.iter().all(|v| v.abs() < 1e-12)); // an equilibrium
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::DimensionMismatch`] if `state` or `control` does not have the
/// model's dimension (or the model's dimensions exceed trajectory's maxima);
/// [`CartpoleError::NonFinite`] for a non-finite entry.
pub fn linearize<F: Dynamics>(
    dynamics: &F,
    state: &[f64],
    control: &[f64],
) -> Result<Linearization, CartpoleError> {
    let (n, m) = (dynamics.state_dim(), dynamics.control_dim());
    check_vector("state", state, n.min(MAX_STATE_DIM))?;
    check_vector("control", control, m.min(MAX_CONTROL_DIM))?;
    if n > MAX_STATE_DIM || m > MAX_CONTROL_DIM {
        return Err(CartpoleError::DimensionMismatch {
            what: "model dimensions",
            rows: n,
            cols: m,
            expected_rows: MAX_STATE_DIM,
            expected_cols: MAX_CONTROL_DIM,
        });
    }
    let mut s = [Dual64::from_re(0.0); MAX_STATE_DIM];
    let mut u = [Dual64::from_re(0.0); MAX_CONTROL_DIM];
    let mut ds = [Dual64::from_re(0.0); MAX_STATE_DIM];
    let mut a = Mat::zeros(n, n);
    let mut b = Mat::zeros(n, m);
    let mut f = vec![0.0; n];
    for dir in 0..n + m {
        for (i, si) in s[..n].iter_mut().enumerate() {
            *si = Dual64::new(state[i], if i == dir { 1.0 } else { 0.0 });
        }
        for (j, uj) in u[..m].iter_mut().enumerate() {
            *uj = Dual64::new(control[j], if n + j == dir { 1.0 } else { 0.0 });
        }
        dynamics.eval(&s[..n], &u[..m], &mut ds[..n]);
        for i in 0..n {
            if dir < n {
                a[(i, dir)] = ds[i].eps;
            } else {
                b[(i, dir - n)] = ds[i].eps;
            }
            f[i] = ds[i].re;
        }
    }
    Ok(Linearization { a, b, f })
}

fn check_vector(what: &'static str, v: &[f64], len: usize) -> Result<(), CartpoleError> {
    if v.len() != len {
        return Err(CartpoleError::DimensionMismatch {
            what,
            rows: v.len(),
            cols: 1,
            expected_rows: len,
            expected_cols: 1,
        });
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(CartpoleError::NonFinite {
            what,
            row: i,
            col: 0,
            value: v[i],
        });
    }
    Ok(())
}
