//! The Hermite–Simpson transcription, compressed, with piecewise-linear controls: states
//! and controls at the knots (the same layout as the trapezoidal one), and on every
//! interval the Simpson defect through the Hermite midpoint
//!
//! ```text
//! s_m = (s_k + s_{k+1})/2 + (dt/8)·(f_k − f_{k+1}),   u_m = (u_k + u_{k+1})/2,
//! s_{k+1} − s_k − (dt/6)·(f_k + 4·f(s_m, u_m) + f_{k+1})
//! ```
//!
//! with `f_k = f(s_k, u_k)`: fourth-order accurate in the states where the trapezoidal rule
//! is second-order, at the price of a third dynamics evaluation per interval and defects
//! that couple more variables (the midpoint state carries every component of `f_k`). The
//! interval's window of z is the two knot blocks `(s_k, u_k, s_{k+1}, u_{k+1})`.

use sparsediff::ad::num_dual::DualNum;

use crate::problem::{Dynamics, MAX_CONTROL_DIM, MAX_STATE_DIM};

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
    let mut fm = [D::zero(); MAX_STATE_DIM];
    let mut sm = [D::zero(); MAX_STATE_DIM];
    let mut um = [D::zero(); MAX_CONTROL_DIM];
    f.eval(s0, u0, &mut f0[..n]);
    f.eval(s1, u1, &mut f1[..n]);
    for r in 0..n {
        sm[r] = (s0[r] + s1[r]) * 0.5 + (f0[r] - f1[r]) * (dt / 8.0);
    }
    for c in 0..m {
        um[c] = (u0[c] + u1[c]) * 0.5;
    }
    f.eval(&sm[..n], &um[..m], &mut fm[..n]);
    for r in 0..n {
        out[r] = s1[r] - s0[r] - (f0[r] + fm[r] * 4.0 + f1[r]) * (dt / 6.0);
    }
}
