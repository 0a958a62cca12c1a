//! The trapezoidal transcription (the default, and the cartpole spec's): states and
//! controls at the knots, and on every interval `[t_k, t_{k+1}]` the defect
//!
//! ```text
//! s_{k+1} − s_k − (dt/2)·(f(s_k, u_k) + f(s_{k+1}, u_{k+1}))
//! ```
//!
//! The interval's window of z is the two knot blocks `(s_k, u_k, s_{k+1}, u_{k+1})`.

use sparsediff::ad::num_dual::DualNum;

use crate::problem::{Dynamics, MAX_STATE_DIM};

/// Length of an interval's window: two knot blocks.
pub(crate) fn window_len(n: usize, m: usize) -> usize {
    2 * (n + m)
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
    let (s0, u0, s1, u1) = (&w[..n], &w[n..b], &w[b..b + n], &w[b + n..2 * b]);
    let mut f0 = [D::zero(); MAX_STATE_DIM];
    let mut f1 = [D::zero(); MAX_STATE_DIM];
    f.eval(s0, u0, &mut f0[..n]);
    f.eval(s1, u1, &mut f1[..n]);
    let half_dt = 0.5 * dt;
    for r in 0..n {
        out[r] = s1[r] - s0[r] - (f0[r] + f1[r]) * half_dt;
    }
}
