//! A time-varying LQR along a trajectory.

use faer::Mat;
use trajectory::Dynamics;

use super::dare::{discrete_gain, riccati_step};
use super::{Weights, discretize, symmetrize};
use crate::error::CartpoleError;
use crate::linearize::linearize;

/// Gains along a trajectory: `u_k = ū_k − K_k·(s_k − s̄_k)` (angle difference wrapped).
#[derive(Clone, Debug)]
pub struct TimeVaryingLqr {
    /// Knot spacing, s.
    pub dt: f64,
    /// The gains `K_k`, one per interval (the last knot's is the terminal one repeated).
    pub gains: Vec<[f64; 4]>,
    /// The cost-to-go matrices `P_k`, one per knot.
    pub cost_to_go: Vec<[[f64; 4]; 4]>,
}

/// The time-varying LQR about the reference `(states, controls)` on knots `dt` apart:
/// at every knot the model is linearised by forward AD ([`linearize`]) and discretised
/// with a zero-order hold ([`discretize`]); then `P_{N−1} = terminal` and, backwards,
/// `P_k = Q + AᵀP_{k+1}A − AᵀP_{k+1}B(R + BᵀP_{k+1}B)⁻¹BᵀP_{k+1}A`,
/// `K_k = (R + BᵀP_{k+1}B)⁻¹BᵀP_{k+1}A`. The weights are per step (Q·dt, R·dt of a
/// continuous cost are the caller's choice).
///
/// ```
/// use cartpole::lqr::{tvlqr, Weights};
/// use cartpole::model::{AccelerationCart, AccelerationParams};
/// use std::f64::consts::PI;
/// let cart = AccelerationCart::new(AccelerationParams::default())?;
/// // holding the upright for 2 s: the gains far from the end approach the DARE's
/// let states = vec![[0.0, 0.0, PI, 0.0]; 201];
/// let controls = vec![0.0; 201];
/// let w = Weights::identity();
/// let tv = tvlqr(&cart, &states, &controls, 0.01, &w, &w.q)?;
/// assert_eq!(tv.gains.len(), 201);
/// assert!(tv.gains[0][2] > 20.0);
/// # Ok::<(), cartpole::CartpoleError>(())
/// ```
///
/// # Errors
/// [`CartpoleError::TrajectoryLength`] for fewer than 2 states or a control count that
/// differs; [`CartpoleError::InvalidParameter`] for a bad dt; errors of [`linearize`]
/// (non-finite states); [`CartpoleError::DimensionMismatch`] for a model that is not 4×1
/// or weights that are not 4×4 and 1×1.
pub fn tvlqr<F: Dynamics>(
    model: &F,
    states: &[[f64; 4]],
    controls: &[f64],
    dt: f64,
    weights: &Weights,
    terminal: &Mat<f64>,
) -> Result<TimeVaryingLqr, CartpoleError> {
    if states.len() < 2 || controls.len() != states.len() {
        return Err(CartpoleError::TrajectoryLength {
            states: states.len(),
            controls: controls.len(),
        });
    }
    crate::error::check_param("dt", dt, "s", crate::error::Requirement::Positive)?;
    if model.state_dim() != 4 || model.control_dim() != 1 {
        return Err(CartpoleError::DimensionMismatch {
            what: "model (state, control)",
            rows: model.state_dim(),
            cols: model.control_dim(),
            expected_rows: 4,
            expected_cols: 1,
        });
    }
    super::check_matrix("Q", weights.q.as_ref(), 4, 4)?;
    super::check_matrix("R", weights.r.as_ref(), 1, 1)?;
    super::check_matrix("terminal P", terminal.as_ref(), 4, 4)?;
    let n = states.len();
    let mut gains = vec![[0.0; 4]; n];
    let mut cost_to_go = vec![[[0.0; 4]; 4]; n];
    let mut p = symmetrize(terminal);
    let to_array = |p: &Mat<f64>| std::array::from_fn(|i| std::array::from_fn(|j| p[(i, j)]));
    cost_to_go[n - 1] = to_array(&p);
    for k in (0..n - 1).rev() {
        let lin = linearize(model, &states[k], &[controls[k]])?;
        let (ad, bd) = discretize(lin.a.as_ref(), lin.b.as_ref(), dt)?;
        let gain = discrete_gain(ad.as_ref(), bd.as_ref(), weights.r.as_ref(), p.as_ref());
        gains[k] = std::array::from_fn(|j| gain[(0, j)]);
        p = symmetrize(&riccati_step(
            ad.as_ref(),
            bd.as_ref(),
            weights.q.as_ref(),
            weights.r.as_ref(),
            p.as_ref(),
        ));
        cost_to_go[k] = to_array(&p);
    }
    gains[n - 1] = gains[n - 2];
    Ok(TimeVaryingLqr {
        dt,
        gains,
        cost_to_go,
    })
}
