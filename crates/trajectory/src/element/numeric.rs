//! The numeric phase, per evaluation and allocation-free:
//!
//! 1. **elements**: every knot's outputs (f, ℓ, h) once, on second-order jets over the K
//!    lanes when some output is curved (num-dual's `Dual2SVec<f64, K>`, K dispatched
//!    1..=8), on f64 otherwise; the curved outputs' gradients and lower Hessians are kept.
//!    Measured against the alternative of K(K+1)/2 `HyperDual64` passes (one per lane
//!    pair, no `Option` in the derivative parts) on the cartpole (K = 2, release, one
//!    thread): 2.9 µs against 5.7–6.0 µs for this phase at N = 100, 29 µs against 59–63 µs
//!    at N = 1000 — the three passes pay three `sin_cos` and three evaluations of f per
//!    knot where the vector dual pays one (`papers/element-hessian.md`);
//! 2. **residuals**: c and g from the element values and z; `ψ`, `ψ′`, `ψ″` of each;
//! 3. **gradient**: `Σ ψ′_i ∇r_i + ∇J` element by element — at knot k, `J_kᵀ w_k` with
//!    the element's outer weights w (kept for the Hessian), plus the defects' state
//!    differences, the one-variable rows and φ;
//! 4. **Hessian**: the base (constant parts) copied, then at every knot the weighted
//!    element Hessian `Σ_o w_o ∇²e_o` with `w` the outer derivatives of the defects on both
//!    sides of the knot (and `dt` for a curved ℓ, `ψ′` for a curved path row), then
//!    `ψ″_i ∇r_i∇r_iᵀ` for the rows that are not in the base — each added at precomputed
//!    CSR positions of both triangles.

use nalgebra::{Const, U1};
use sparsediff::ad::num_dual::{Derivative, Dual2SVec, Dual64, HyperDual64};

use super::structure::{MAX_BLOCK, MAX_OUTPUTS, Mode, Structure, Terminal};
use crate::error::TrajectoryError;
use crate::problem::{Dynamics, PathConstraints, Problem, RunningCost, TerminalCost};

/// The per-evaluation buffers, sized once.
#[derive(Clone, Debug)]
pub(crate) struct Numeric {
    /// Element outputs: `vals[k·outputs + o]`.
    pub vals: Vec<f64>,
    /// Curved outputs' gradients over the lanes: `jac[(k·nc + slot)·K + lane]`.
    pub jac: Vec<f64>,
    /// Curved outputs' lower Hessians over the lanes: `hes[(k·nc + slot)·KK + t]`.
    pub hes: Vec<f64>,
    /// The outer weights of the curved outputs: `wc[k·nc + slot]`.
    pub wc: Vec<f64>,
    /// Outer derivatives of the residuals.
    pub d1: Vec<f64>,
    pub d2: Vec<f64>,
    pub grad: Vec<f64>,
    /// Hessian values (CSR order of the pattern) and the constant part.
    pub values: Vec<f64>,
    pub base: Vec<f64>,
    /// The curved terminal cost's gradient (length n) and Hessian pairs.
    pub t_grad: Vec<f64>,
    pub t_hess: Vec<f64>,
    pub value: f64,
    /// The point of the stored derivatives, and what is stored there.
    pub z: Vec<f64>,
    pub stored: Stored,
}

/// What [`Numeric`] holds for the point `z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stored {
    Nothing,
    Gradient,
    Hessian,
}

/// λ, μ, ρ.
pub(crate) struct Multipliers<'m> {
    pub lambda: &'m [f64],
    pub mu: &'m [f64],
    pub rho: f64,
}

/// Lower-triangle entries of a K×K matrix.
const fn lower(k: usize) -> usize {
    k * (k + 1) / 2
}

impl Numeric {
    pub(crate) fn new(st: &Structure) -> Self {
        let (k, nc) = (st.num_lanes(), st.curved.len());
        let rows = st.rows.len();
        let t_pairs = match &st.terminal {
            Terminal::Curved { pairs, .. } => pairs.len(),
            _ => 0,
        };
        Numeric {
            vals: vec![0.0; st.knots * st.outputs],
            // one more: the zero a constant gradient entry's Jacobian reference points at
            jac: vec![0.0; st.knots * nc * k + 1],
            hes: vec![0.0; st.knots * nc * lower(k)],
            wc: vec![0.0; st.knots * nc],
            d1: vec![0.0; rows],
            d2: vec![0.0; rows],
            grad: vec![0.0; st.num_vars],
            // one more: the scratch slot the mirror position of a diagonal entry points at
            values: vec![0.0; st.pattern.nnz() + 1],
            base: vec![0.0; st.pattern.nnz() + 1],
            t_grad: vec![0.0; st.n],
            t_hess: vec![0.0; t_pairs],
            value: 0.0,
            z: vec![f64::NAN; st.num_vars],
            stored: Stored::Nothing,
        }
    }

    /// Rebuilds the base: the quadratic ℓ's and φ's constant Hessians and `ρ·ggᵀ` of the
    /// equality rows with a constant gradient.
    pub(crate) fn rebuild_base(&mut self, st: &Structure, rho: f64) {
        let base = &mut self.base;
        base.fill(0.0);
        if let Mode::Quadratic { hessian, .. } = &st.modes[st.n] {
            let len = st.cost_entries.len();
            for k in 0..st.knots {
                for (e, &(a, c)) in st.cost_entries.iter().enumerate() {
                    base[st.cost_pos[k * len + e] as usize] += st.dt * hessian[a * st.b + c];
                }
            }
        }
        if let Terminal::Quadratic { hessian, .. } = &st.terminal {
            for (e, &(a, c)) in st.terminal_entries.iter().enumerate() {
                base[st.terminal_pos[e] as usize] += hessian[a * st.n + c];
            }
        }
        for i in (0..st.rows.len()).filter(|&i| st.frozen[i]) {
            let range = st.ent_ptr[i]..st.ent_ptr[i + 1];
            outer_product(
                &st.ent_c[range],
                rho,
                &st.pair_pos[st.pair_ptr[i]..st.pair_ptr[i + 1]],
                base,
            );
        }
        self.stored = Stored::Nothing;
    }
}

/// `values[pos] += d·g_a·g_c` over the pairs `a ≥ c` of `g`, in order (both triangles;
/// a diagonal entry's second position is the scratch slot, so there is no branch).
#[inline]
fn outer_product(g: &[f64], d: f64, pos: &[[u32; 2]], values: &mut [f64]) {
    let mut pos = pos.iter();
    for (a, &ga) in g.iter().enumerate() {
        let da = d * ga;
        for (&gc, &[p0, p1]) in g[..=a].iter().zip(pos.by_ref()) {
            let v = da * gc;
            values[p0 as usize] += v;
            values[p1 as usize] += v;
        }
    }
}

/// [`outer_product`] of the row gradient `c + m·jac[j]` with L entries, unrolled.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn outer_fixed<const L: usize>(
    c: &[f64],
    j: &[u32],
    m: &[f64],
    jac: &[f64],
    d: f64,
    pos: &[[u32; 2]],
    values: &mut [f64],
) {
    let mut g = [0.0; L];
    for a in 0..L {
        g[a] = c[a] + m[a] * jac[j[a] as usize];
    }
    let pos = &pos[..L * (L + 1) / 2];
    let mut q = 0;
    for a in 0..L {
        let da = d * g[a];
        for &gc in &g[..=a] {
            let [p0, p1] = pos[q];
            let v = da * gc;
            values[p0 as usize] += v;
            values[p1 as usize] += v;
            q += 1;
        }
    }
}

/// Phase 1 on f64: the element values only.
pub(crate) fn elements_f64<F, L, T, H>(
    st: &Structure,
    problem: &Problem<F, L, T, H>,
    z: &[f64],
    vals: &mut [f64],
) where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let (b, o) = (st.b, st.outputs);
    for k in 0..st.knots {
        super::structure::element_outputs(
            problem,
            &z[k * b..(k + 1) * b],
            &mut vals[k * o..(k + 1) * o],
            true,
        );
    }
}

/// Phase 1 on jets with K lanes: values, and the curved outputs' gradients and Hessians.
#[allow(clippy::too_many_arguments)]
fn elements_jets<const K: usize, F, L, T, H>(
    st: &Structure,
    problem: &Problem<F, L, T, H>,
    z: &[f64],
    vals: &mut [f64],
    jac: &mut [f64],
    hes: &mut [f64],
) where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let (b, n, o_len, nc) = (st.b, st.n, st.outputs, st.curved.len());
    let kk = lower(K);
    let zero = Dual2SVec::<f64, K>::from_re(0.0);
    let mut x = [zero; MAX_BLOCK];
    let mut out = [zero; MAX_OUTPUTS];
    let seeds: [Derivative<f64, U1, Const<K>>; K] =
        std::array::from_fn(|lane| Derivative::derivative_generic(U1, Const::<K>, lane));
    for k in 0..st.knots {
        let block = &z[k * b..(k + 1) * b];
        for (x, &v) in x.iter_mut().zip(block) {
            *x = Dual2SVec::from_re(v);
        }
        for (lane, &l) in st.lanes.iter().enumerate() {
            x[l] = Dual2SVec::new(block[l], seeds[lane], Derivative::none());
        }
        super::structure::element_outputs(problem, &x[..b], &mut out, st.cost_curved);
        let v = &mut vals[k * o_len..(k + 1) * o_len];
        for (v, o) in v.iter_mut().zip(&out[..o_len]) {
            *v = o.re;
        }
        if !st.cost_curved {
            v[n] = problem.running_cost().eval(&block[..n], &block[n..b]);
        }
        for (slot, &o) in st.curved.iter().enumerate() {
            let at = k * nc + slot;
            let g = &mut jac[at * K..(at + 1) * K];
            match &out[o].v1.0 {
                Some(d) => {
                    for (lane, g) in g.iter_mut().enumerate() {
                        *g = d[lane];
                    }
                }
                None => g.fill(0.0),
            }
            let h = &mut hes[at * kk..(at + 1) * kk];
            match &out[o].v2.0 {
                Some(d) => {
                    let mut t = 0;
                    for a in 0..K {
                        for c in 0..=a {
                            h[t] = d[(a, c)];
                            t += 1;
                        }
                    }
                }
                None => h.fill(0.0),
            }
        }
    }
}

/// Phase 1, dispatched on K (0: f64 only).
pub(crate) fn elements<F, L, T, H>(
    st: &Structure,
    problem: &Problem<F, L, T, H>,
    z: &[f64],
    num: &mut Numeric,
) where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let Numeric { vals, jac, hes, .. } = num;
    match st.num_lanes() {
        0 => elements_f64(st, problem, z, vals),
        1 => elements_jets::<1, _, _, _, _>(st, problem, z, vals, jac, hes),
        2 => elements_jets::<2, _, _, _, _>(st, problem, z, vals, jac, hes),
        3 => elements_jets::<3, _, _, _, _>(st, problem, z, vals, jac, hes),
        4 => elements_jets::<4, _, _, _, _>(st, problem, z, vals, jac, hes),
        5 => elements_jets::<5, _, _, _, _>(st, problem, z, vals, jac, hes),
        6 => elements_jets::<6, _, _, _, _>(st, problem, z, vals, jac, hes),
        7 => elements_jets::<7, _, _, _, _>(st, problem, z, vals, jac, hes),
        _ => elements_jets::<8, _, _, _, _>(st, problem, z, vals, jac, hes),
    }
}

/// `(ψ, ψ′, ψ″)` of an equality: `λr + (ρ/2)r²`.
#[inline]
fn penalty(r: f64, lambda: f64, rho: f64) -> (f64, f64, f64) {
    (r * (lambda + 0.5 * rho * r), lambda + rho * r, rho)
}

/// `(ψ, ψ′, ψ″)` of an inequality: `(1/(2ρ))·[max(0, μ + ρr)² − μ²]`.
#[inline]
fn inequality(r: f64, mu: f64, rho: f64) -> (f64, f64, f64) {
    let t = mu + rho * r;
    if t > 0.0 {
        ((t * t - mu * mu) * (0.5 / rho), t, rho)
    } else {
        (-mu * mu * (0.5 / rho), 0.0, 0.0)
    }
}

/// [`TrajectoryError::NonFiniteValue`] for residual i.
fn non_finite(st: &Structure, i: usize, value: f64) -> TrajectoryError {
    let (what, index) = if i < st.num_eq {
        ("equality", i)
    } else {
        ("inequality", i - st.num_eq)
    };
    TrajectoryError::NonFiniteValue { what, index, value }
}

/// Phase 2: residuals, their outer derivatives, and `L_A` (with the cost). Errors name a
/// residual (or the cost) that is not finite.
pub(crate) fn residuals<F, L, T, H>(
    st: &Structure,
    problem: &Problem<F, L, T, H>,
    z: &[f64],
    mult: &Multipliers<'_>,
    num: &mut Numeric,
) -> Result<f64, TrajectoryError>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let (b, o_len, n, p) = (st.b, st.outputs, st.n, st.p);
    let hdt = 0.5 * st.dt;
    let rho = mult.rho;
    let Numeric { vals, d1, d2, .. } = num;
    let mut total = 0.0;
    let mut set = |i: usize, (psi, p1, p2): (f64, f64, f64)| {
        d1[i] = p1;
        d2[i] = p2;
        total += psi;
    };
    for &(i, var, sign, offset) in &st.singles {
        let i = i as usize;
        let value = sign * z[var as usize] + offset;
        if !value.is_finite() {
            return Err(non_finite(st, i, value));
        }
        let psi = if i < st.num_eq {
            penalty(value, mult.lambda[i], rho)
        } else {
            inequality(value, mult.mu[i - st.num_eq], rho)
        };
        set(i, psi);
    }
    for k in 0..st.knots - 1 {
        let (z0, z1) = (&z[k * b..k * b + n], &z[(k + 1) * b..(k + 1) * b + n]);
        let (f0, f1) = (
            &vals[k * o_len..k * o_len + n],
            &vals[(k + 1) * o_len..(k + 1) * o_len + n],
        );
        let first = st.defect_start + k * n;
        for c in 0..n {
            let value = z1[c] - z0[c] - (f0[c] + f1[c]) * hdt;
            if !value.is_finite() {
                return Err(non_finite(st, first + c, value));
            }
            set(first + c, penalty(value, mult.lambda[first + c], rho));
        }
    }
    if p > 0 {
        for k in 0..st.knots {
            for j in 0..p {
                let i = st.path_row[k * p + j] as usize;
                let value = vals[k * o_len + n + 1 + j];
                if !value.is_finite() {
                    return Err(non_finite(st, i, value));
                }
                set(i, inequality(value, mult.mu[i - st.num_eq], rho));
            }
        }
    }
    let mut cost = 0.0;
    for k in 0..st.knots {
        cost += vals[k * o_len + n];
    }
    cost *= st.dt;
    let last = (st.knots - 1) * b;
    cost += problem.terminal_cost().eval(&z[last..last + n]);
    if !cost.is_finite() {
        return Err(TrajectoryError::NonFiniteValue {
            what: "cost",
            index: 0,
            value: cost,
        });
    }
    Ok(total + cost)
}

/// The curved terminal cost's gradient and Hessian pairs (hyper-dual passes).
fn terminal_derivatives<T: TerminalCost>(
    st: &Structure,
    phi: &T,
    z: &[f64],
    t_grad: &mut [f64],
    t_hess: &mut [f64],
) {
    let Terminal::Curved { vars, pairs, .. } = &st.terminal else {
        return;
    };
    let n = st.n;
    let s = &z[(st.knots - 1) * st.b..(st.knots - 1) * st.b + n];
    let mut d = [Dual64::from_re(0.0); crate::problem::MAX_STATE_DIM];
    for (d, &v) in d.iter_mut().zip(s) {
        *d = Dual64::from_re(v);
    }
    t_grad.fill(0.0);
    for &a in vars {
        d[a].eps = 1.0;
        t_grad[a] = phi.eval(&d[..n]).eps;
        d[a].eps = 0.0;
    }
    let mut h = [HyperDual64::from_re(0.0); crate::problem::MAX_STATE_DIM];
    for (h, &v) in h.iter_mut().zip(s) {
        *h = HyperDual64::from_re(v);
    }
    for (e, &(a, c)) in pairs.iter().enumerate() {
        h[a].eps1 = 1.0;
        h[c].eps2 = 1.0;
        t_hess[e] = phi.eval(&h[..n]).eps1eps2;
        h[a].eps1 = 0.0;
        h[c].eps2 = 0.0;
    }
}

/// The finiteness of the knot Jacobians and Hessians: the first knot with a non-finite
/// derivative.
pub(crate) fn check_derivatives(st: &Structure, num: &Numeric) -> Result<(), TrajectoryError> {
    let bad = num
        .jac
        .iter()
        .chain(&num.hes)
        .chain(&num.t_grad)
        .chain(&num.t_hess)
        .fold(false, |bad, v| bad | !v.is_finite());
    if !bad {
        return Ok(());
    }
    let (k, nc) = (st.num_lanes(), st.curved.len());
    for knot in 0..st.knots {
        let j = &num.jac[knot * nc * k..(knot + 1) * nc * k];
        let h = &num.hes[knot * nc * lower(k)..(knot + 1) * nc * lower(k)];
        if let Some(value) = j.iter().chain(h).copied().find(|v| !v.is_finite()) {
            return Err(TrajectoryError::NonFiniteValue {
                what: "derivative of the knot element",
                index: knot,
                value,
            });
        }
    }
    let value = num
        .t_grad
        .iter()
        .chain(&num.t_hess)
        .copied()
        .find(|v| !v.is_finite())
        .unwrap_or(f64::NAN);
    Err(TrajectoryError::NonFiniteValue {
        what: "derivative of the terminal cost",
        index: 0,
        value,
    })
}

/// Phase 3 without the gradient: only the outer weights of the curved outputs (and the
/// curved terminal cost's derivatives) that phase 4 needs.
pub(crate) fn weights<T: TerminalCost>(st: &Structure, phi: &T, z: &[f64], num: &mut Numeric) {
    let (nc, n, p) = (st.curved.len(), st.n, st.p);
    let hdt = 0.5 * st.dt;
    terminal_derivatives(st, phi, z, &mut num.t_grad, &mut num.t_hess);
    let Numeric { wc, d1, .. } = num;
    let last = st.knots - 1;
    let defects = &d1[st.defect_start..st.defect_start + last * n];
    for k in 0..st.knots {
        for (slot, &o) in st.curved.iter().enumerate() {
            wc[k * nc + slot] = if o < n {
                let before = if k > 0 { defects[(k - 1) * n + o] } else { 0.0 };
                let after = if k < last { defects[k * n + o] } else { 0.0 };
                -hdt * (before + after)
            } else if o == n {
                st.dt
            } else {
                d1[st.path_row[k * p + (o - n - 1)] as usize]
            };
        }
    }
}

/// Phase 3: the gradient of `L_A` into `num.grad`, element by element: at knot k,
/// `Σ_o w_o ∇e_o` with the element's outer weights w (also kept for the Hessian), the
/// state differences of the defects, then the one-variable rows and φ.
pub(crate) fn gradient<T: TerminalCost>(st: &Structure, phi: &T, z: &[f64], num: &mut Numeric) {
    let (k_lanes, nc, b, n, p) = (st.num_lanes(), st.curved.len(), st.b, st.n, st.p);
    let hdt = 0.5 * st.dt;
    terminal_derivatives(st, phi, z, &mut num.t_grad, &mut num.t_hess);
    let Numeric {
        jac,
        wc,
        d1,
        grad,
        t_grad,
        ..
    } = num;
    grad.fill(0.0);
    let mut w = [0.0; MAX_OUTPUTS];
    let last = st.knots - 1;
    let defects = &d1[st.defect_start..st.defect_start + last * n];
    for k in 0..st.knots {
        let g = &mut grad[k * b..(k + 1) * b];
        let before = if k > 0 {
            &defects[(k - 1) * n..k * n]
        } else {
            &[][..]
        };
        let after = if k < last {
            &defects[k * n..(k + 1) * n]
        } else {
            &[][..]
        };
        match (before.len(), after.len()) {
            (0, _) => {
                for ((g, w), &da) in g.iter_mut().zip(&mut w[..n]).zip(after) {
                    *g -= da;
                    *w = -hdt * da;
                }
            }
            (_, 0) => {
                for ((g, w), &db) in g.iter_mut().zip(&mut w[..n]).zip(before) {
                    *g += db;
                    *w = -hdt * db;
                }
            }
            _ => {
                for (((g, w), &db), &da) in g.iter_mut().zip(&mut w[..n]).zip(before).zip(after) {
                    *g += db - da;
                    *w = -hdt * (db + da);
                }
            }
        }
        w[n] = st.dt;
        for j in 0..p {
            w[n + 1 + j] = d1[st.path_row[k * p + j] as usize];
        }
        for &(o, l, v) in &st.affine_entries {
            g[l as usize] += w[o as usize] * v;
        }
        for (slot, &o) in st.curved.iter().enumerate() {
            let wo = w[o];
            wc[k * nc + slot] = wo;
            let at = (k * nc + slot) * k_lanes;
            for (&l, &j) in st.lanes.iter().zip(&jac[at..at + k_lanes]) {
                g[l] += wo * j;
            }
        }
        if !st.cost_g0.is_empty() {
            let x = &z[k * b..(k + 1) * b];
            for &(a, g0) in &st.cost_g0 {
                g[a as usize] += st.dt * g0;
            }
            for &(a, c, h) in &st.cost_h {
                g[a as usize] += st.dt * h * x[c as usize];
            }
        }
    }
    for &(i, var, sign, _) in &st.singles {
        grad[var as usize] += d1[i as usize] * sign;
    }
    let last = (st.knots - 1) * b;
    match &st.terminal {
        Terminal::Constant => {}
        Terminal::Affine(g) => {
            for (a, g) in g.iter().enumerate() {
                grad[last + a] += g;
            }
        }
        Terminal::Quadratic {
            x_ref,
            g_ref,
            hessian,
        } => {
            for a in 0..n {
                let mut g = g_ref[a];
                for c in 0..n {
                    g += hessian[a * n + c] * (z[last + c] - x_ref[c]);
                }
                grad[last + a] += g;
            }
        }
        Terminal::Curved { .. } => {
            for (a, g) in t_grad.iter().enumerate() {
                grad[last + a] += g;
            }
        }
    }
}

/// Phase 4: the Hessian values into `num.values`.
pub(crate) fn hessian(st: &Structure, num: &mut Numeric) {
    let (k_lanes, nc) = (st.num_lanes(), st.curved.len());
    let kk = lower(k_lanes);
    let Numeric {
        jac,
        hes,
        wc,
        d2,
        values,
        base,
        t_hess,
        ..
    } = num;
    values.copy_from_slice(base);
    let np = st.elem_pairs.len();
    if nc > 0 && np > 0 {
        for k in 0..st.knots {
            let w = &wc[k * nc..(k + 1) * nc];
            let h = &hes[k * nc * kk..(k + 1) * nc * kk];
            let pos = &st.elem_pos[k * np..(k + 1) * np];
            for (&t, &[p0, p1]) in st.elem_pairs.iter().zip(pos) {
                let mut v = 0.0;
                for (slot, w) in w.iter().enumerate() {
                    v += w * h[slot * kk + t as usize];
                }
                values[p0 as usize] += v;
                values[p1 as usize] += v;
            }
        }
    }
    for &i in &st.live_rows {
        let i = i as usize;
        let d = d2[i];
        if d == 0.0 {
            continue;
        }
        let range = st.ent_ptr[i]..st.ent_ptr[i + 1];
        let (c, j, m) = (
            &st.ent_c[range.clone()],
            &st.ent_jac[range.clone()],
            &st.ent_mult[range],
        );
        let pos = &st.pair_pos[st.pair_ptr[i]..st.pair_ptr[i + 1]];
        // rows of a few entries run unrolled
        match c.len() {
            1 => outer_fixed::<1>(c, j, m, jac, d, pos, values),
            2 => outer_fixed::<2>(c, j, m, jac, d, pos, values),
            3 => outer_fixed::<3>(c, j, m, jac, d, pos, values),
            4 => outer_fixed::<4>(c, j, m, jac, d, pos, values),
            5 => outer_fixed::<5>(c, j, m, jac, d, pos, values),
            6 => outer_fixed::<6>(c, j, m, jac, d, pos, values),
            7 => outer_fixed::<7>(c, j, m, jac, d, pos, values),
            8 => outer_fixed::<8>(c, j, m, jac, d, pos, values),
            len => {
                let mut g = [0.0; 2 * MAX_BLOCK + 2];
                for (g, ((&c, &j), &m)) in g.iter_mut().zip(c.iter().zip(j).zip(m)) {
                    *g = c + m * jac[j as usize];
                }
                outer_product(&g[..len], d, pos, values);
            }
        }
    }
    if let Terminal::Curved { pos, .. } = &st.terminal {
        for (&v, &[p0, p1]) in t_hess.iter().zip(pos) {
            values[p0 as usize] += v;
            values[p1 as usize] += v;
        }
    }
}
