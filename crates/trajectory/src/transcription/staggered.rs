//! The staggered transcription of the original prototype: states at the knots, controls
//! (and so the multipliers of the dynamics) at the half steps, and on every interval the
//! implicit-midpoint defect
//!
//! ```text
//! s_{k+1} − s_k − dt·f((s_k + s_{k+1})/2, u_{k+1/2})
//! ```
//!
//! z holds N states and N − 1 controls, `z = [s_0, u_{1/2}, s_1, u_{3/2}, …, s_{N−2},
//! u_{N−3/2}, s_{N−1}]` ([`ControlPlacement::HalfSteps`](crate::ControlPlacement)); the
//! running cost is `Σ_k dt·ℓ((s_k + s_{k+1})/2, u_{k+1/2})` and the control bounds and
//! path constraints hold at the half steps. The interval's window of z is
//! `(s_k, u_{k+1/2}, s_{k+1})`.

use sparsediff::ad::num_dual::DualNum;

use crate::problem::{Dynamics, MAX_STATE_DIM};

/// Length of an interval's window: a state, a control, the next state.
pub(crate) fn window_len(n: usize, m: usize) -> usize {
    2 * n + m
}

/// The defects of the interval whose window is `w` into `out` (length n).
#[inline]
pub(crate) fn defect<D, F>(f: &F, dt: f64, w: &[D], out: &mut [D])
where
    D: DualNum<Primitive = f64> + Copy,
    F: Dynamics,
{
    let (n, m) = (f.state_dim(), f.control_dim());
    let b = n + m;
    let (s0, u, s1) = (&w[..n], &w[n..b], &w[b..b + n]);
    let mut sm = [D::zero(); MAX_STATE_DIM];
    let mut fm = [D::zero(); MAX_STATE_DIM];
    for r in 0..n {
        sm[r] = (s0[r] + s1[r]) * 0.5;
    }
    f.eval(&sm[..n], u, &mut fm[..n]);
    for r in 0..n {
        out[r] = s1[r] - s0[r] - fm[r] * dt;
    }
}
