//! The symbolic phase, done once: what each knot element computes and how its outputs are
//! differentiated, which variables the jets seed, every residual's gradient as constants
//! and references into the knot Jacobians, the Hessian pattern, and the CSR position of
//! every product the numeric phase adds.
//!
//! # Knot elements
//!
//! With the controls at the knots (trapezoidal), knot k's element reads the block
//! `(s_k, u_k)` of z and has the outputs `f(s_k, u_k)` (n), `ℓ(s_k, u_k)` (1) and
//! `h(s_k, u_k)` (p). Each output is classified once, on the trace points of the
//! transcription, by the composite engine's own analysis (a one-row `CompositeHessian`
//! over the output's traced support):
//!
//! * **affine** (no curvature, a polynomial of degree ≤ 1): its gradient is a constant,
//!   taken at prepare;
//! * **quadratic** (the running cost only; no comparison, degree 2): its Hessian is a
//!   constant, added into the base matrix once, and its gradient `g(x) = g(x_ref) +
//!   H·(x − x_ref)`, exact for a quadratic;
//! * **curved**: everything else; evaluated on second-order jets whose lanes are the union
//!   of the curved outputs' traced supports (the cartpole: only ω′ is curved, in (θ, a):
//!   two lanes).

use sparsediff::ad::num_dual::{Dual64, DualNum, HyperDual64};
use sparsediff::ad::trace::{Tracer, hessian_pattern_conservative, jacobian_pattern_conservative};
use sparsediff::composite::{CompositeHessian, MAX_LOCAL_VARS, NoRows, RowFunctions};
use sparsediff::pattern::Pattern;

use crate::error::TrajectoryError;
use crate::problem::{
    Dynamics, MAX_CONTROL_DIM, MAX_STATE_DIM, PathConstraints, Problem, RunningCost, TerminalCost,
};
use crate::transcription::{
    ControlPlacement, RowKind, Side, TRACE_POINTS, TRACE_SEED, Transcribed, Transcription,
};

/// Most jet lanes of the element pass (more curved variables fall back to the composite
/// path).
pub(crate) const MAX_LANES: usize = 8;
/// Longest knot block `n + m`.
pub(crate) const MAX_BLOCK: usize = MAX_STATE_DIM + MAX_CONTROL_DIM;
/// Most outputs of a knot element: f, ℓ, h.
pub(crate) const MAX_OUTPUTS: usize = 2 * MAX_STATE_DIM + 1;
/// "No entry" in an index array.
pub(crate) const NONE: u32 = u32::MAX;

/// How an output is differentiated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Mode {
    /// Constant gradient over the block (dense, length b).
    Affine(Vec<f64>),
    /// Constant Hessian (dense b×b) and the gradient at `x_ref`.
    Quadratic {
        x_ref: Vec<f64>,
        g_ref: Vec<f64>,
        hessian: Vec<f64>,
    },
    /// On the jets: its slot among the curved outputs.
    Curved(usize),
}

/// How the value of a residual is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RowValue {
    /// `sign·z[var] + offset` (boundary conditions, bounds).
    Single { var: u32, sign: f64, offset: f64 },
    /// Component r of the trapezoidal defect of interval k.
    Defect { k: u32, r: u32 },
    /// Path inequality j at knot k.
    Path { k: u32, j: u32 },
}

/// The terminal cost φ(s_{N−1}).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Terminal {
    /// No variables: a constant.
    Constant,
    /// Constant gradient over the state (length n).
    Affine(Vec<f64>),
    /// Constant Hessian; gradient from the reference point.
    Quadratic {
        x_ref: Vec<f64>,
        g_ref: Vec<f64>,
        hessian: Vec<f64>,
    },
    /// Differentiated at every evaluation by hyper-dual passes over its support (`vars`,
    /// local) and the traced pairs of its Hessian (`pairs`, local, `a ≥ b`), whose CSR
    /// positions are `pos`.
    Curved {
        vars: Vec<usize>,
        pairs: Vec<(usize, usize)>,
        pos: Vec<[u32; 2]>,
    },
}

/// Everything symbolic of an [`ElementHessian`](super::ElementHessian) on the shared path.
#[derive(Clone, Debug)]
pub(crate) struct Structure {
    pub n: usize,
    pub b: usize,
    pub knots: usize,
    pub p: usize,
    pub dt: f64,
    pub num_vars: usize,
    pub num_eq: usize,
    /// Outputs per element: n + 1 + p (f, ℓ, h).
    pub outputs: usize,
    /// Block-local variables seeded on the jet lanes (K = lanes.len()).
    pub lanes: Vec<usize>,
    /// The curved outputs, in slot order.
    pub curved: Vec<usize>,
    /// Mode of every output.
    pub modes: Vec<Mode>,
    /// Whether ℓ is on the jets.
    pub cost_curved: bool,
    pub terminal: Terminal,
    /// Lower-triangle lane pairs `t = a(a+1)/2 + b` of the element Hessian that are traced
    /// for some curved output, and per knot their CSR positions (`knots × pairs`, both
    /// triangles; equal for a diagonal entry).
    pub elem_pairs: Vec<u32>,
    pub elem_pos: Vec<[u32; 2]>,
    /// Residuals (equalities then inequalities).
    pub rows: Vec<RowValue>,
    /// Row i's gradient entries are `ent_ptr[i]..ent_ptr[i+1]`: constant coefficient, an
    /// index into the knot Jacobians and its multiplier (the zero slot after the last
    /// Jacobian entry and 0 for a constant entry).
    pub ent_ptr: Vec<usize>,
    pub ent_c: Vec<f64>,
    pub ent_jac: Vec<u32>,
    pub ent_mult: Vec<f64>,
    /// Row i's products `∇r∇rᵀ`, entry pairs `a ≥ b` in order, at `pair_pos[pair_ptr[i]..]`.
    pub pair_ptr: Vec<usize>,
    pub pair_pos: Vec<[u32; 2]>,
    /// Equality rows whose gradient is constant: their `ρ·ggᵀ` lives in the base.
    pub frozen: Vec<bool>,
    /// The rows whose products are added at every evaluation.
    pub live_rows: Vec<u32>,
    /// Residual index of the defect (k, r) is `defect_start + k·n + r`.
    pub defect_start: usize,
    /// Residual index of path inequality j at knot k: `path_row[k·p + j]`.
    pub path_row: Vec<u32>,
    /// The one-variable rows (boundary conditions, bounds): row, variable, sign, offset.
    pub singles: Vec<(u32, u32, f64, f64)>,
    /// Constant gradient entries of the affine outputs: output, block-local variable,
    /// value.
    pub affine_entries: Vec<(u32, u32, f64)>,
    /// A quadratic ℓ's gradient `g0 + H·x` over its support: `g0` entries and the
    /// entries `(a, c, H_ac)` of H, both triangles.
    pub cost_g0: Vec<(u32, f64)>,
    pub cost_h: Vec<(u32, u32, f64)>,
    /// CSR positions of the quadratic ℓ's Hessian entries per knot (`knots × entries`)
    /// with the local entries `(a, c)` they hold.
    pub cost_entries: Vec<(usize, usize)>,
    pub cost_pos: Vec<u32>,
    /// CSR positions of the quadratic φ's Hessian entries with their local entries.
    pub terminal_entries: Vec<(usize, usize)>,
    pub terminal_pos: Vec<u32>,
    pub pattern: Pattern,
}

/// Why the shared path does not apply (the fallback is then the composite path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unshared {
    /// Hermite–Simpson or staggered.
    Scheme(Transcription),
    /// More curved variables in a knot element than [`MAX_LANES`].
    TooManyLanes(usize),
}

/// The outputs of a knot element, block-local, on any scalar: f, then ℓ, then h.
pub(crate) fn element_outputs<D, F, L, T, H>(
    problem: &Problem<F, L, T, H>,
    x: &[D],
    out: &mut [D],
    with_cost: bool,
) where
    D: DualNum<Primitive = f64> + Copy,
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let (n, m, p) = (
        problem.state_dim(),
        problem.control_dim(),
        problem.path_constraints().count(),
    );
    let (s, u) = (&x[..n], &x[n..n + m]);
    problem.dynamics().eval(s, u, &mut out[..n]);
    if with_cost {
        out[n] = problem.running_cost().eval(s, u);
    }
    if p > 0 {
        problem
            .path_constraints()
            .eval(s, u, &mut out[n + 1..n + 1 + p]);
    }
}

/// One output of a knot element as a row of its support (for the composite engine's
/// classification).
struct OutputRow<'a, F, L, T, H> {
    problem: &'a Problem<F, L, T, H>,
    output: usize,
    support: &'a [usize],
    x_ref: &'a [f64],
}

impl<F, L, T, H> RowFunctions for OutputRow<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    fn num_rows(&self) -> usize {
        1
    }
    fn vars(&self, _: usize) -> &[usize] {
        self.support
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, local: &[D]) -> D {
        let b = self.x_ref.len();
        let mut x = [D::zero(); MAX_BLOCK];
        for (x, &v) in x.iter_mut().zip(self.x_ref) {
            *x = D::from(v);
        }
        for (&l, &v) in self.support.iter().zip(local) {
            x[l] = v;
        }
        let mut out = [D::zero(); MAX_OUTPUTS];
        element_outputs(self.problem, &x[..b], &mut out, true);
        out[self.output]
    }
}

/// The terminal cost as a row of its support.
struct TerminalRow<'a, T> {
    phi: &'a T,
    support: &'a [usize],
    x_ref: &'a [f64],
}

impl<T: TerminalCost> RowFunctions for TerminalRow<'_, T> {
    fn num_rows(&self) -> usize {
        1
    }
    fn vars(&self, _: usize) -> &[usize] {
        self.support
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, local: &[D]) -> D {
        let mut x = [D::zero(); MAX_STATE_DIM];
        for (x, &v) in x.iter_mut().zip(self.x_ref) {
            *x = D::from(v);
        }
        for (&l, &v) in self.support.iter().zip(local) {
            x[l] = v;
        }
        self.phi.eval(&x[..self.x_ref.len()])
    }
}

/// `(affine, quadratic)` of a one-row objective by the composite engine's analysis; a row
/// it refuses (too many variables, a non-finite value) counts as neither.
fn classify<R: RowFunctions>(row: R, x_ref: &[f64], support: &[usize]) -> (bool, bool) {
    if support.len() > MAX_LOCAL_VARS {
        return (false, false);
    }
    match CompositeHessian::prepare(row, NoRows, Vec::new(), x_ref) {
        Ok(h) => (h.info().frozen_rows == 1, h.info().quadratic_rows == 1),
        Err(_) => (false, false),
    }
}

/// Gradient (dense) of `g` at `x` by one first-order pass per variable.
fn gradient_at(x: &[f64], g: impl Fn(&[Dual64]) -> Dual64) -> Vec<f64> {
    let mut d: Vec<Dual64> = x.iter().map(|&v| Dual64::from_re(v)).collect();
    (0..x.len())
        .map(|a| {
            d[a] = Dual64::new(x[a], 1.0);
            let e = g(&d).eps;
            d[a] = Dual64::from_re(x[a]);
            e
        })
        .collect()
}

/// Hessian (dense, row-major) of `g` at `x` by one hyper-dual pass per pair.
fn hessian_at(x: &[f64], g: impl Fn(&[HyperDual64]) -> HyperDual64) -> Vec<f64> {
    let len = x.len();
    let mut h = vec![0.0; len * len];
    let mut d: Vec<HyperDual64> = x.iter().map(|&v| HyperDual64::from_re(v)).collect();
    for a in 0..len {
        for c in 0..=a {
            d[a].eps1 = 1.0;
            d[c].eps2 = 1.0;
            let v = g(&d).eps1eps2;
            d[a].eps1 = 0.0;
            d[c].eps2 = 0.0;
            h[a * len + c] = v;
            h[c * len + a] = v;
        }
    }
    h
}

fn trace_error(what: &'static str) -> impl Fn(sparsediff::ad::TraceError) -> TrajectoryError {
    move |e| TrajectoryError::Trace {
        what,
        source: Box::new(e),
    }
}

/// The point the transcription traces at (entry i: `0.3 + 0.1·(i mod 7)`).
fn trace_point(len: usize) -> Vec<f64> {
    (0..len).map(|i| 0.3 + 0.1 * (i % 7) as f64).collect()
}

/// CSR position of `(i, j)` in `pattern` (present by construction).
fn position(pattern: &Pattern, i: usize, j: usize) -> u32 {
    let row = pattern.row(i);
    let at = row
        .binary_search(&j)
        .unwrap_or_else(|_| unreachable!("entry ({i}, {j}) is in the pattern by construction"));
    (pattern.row_range(i).start + at) as u32
}

impl Structure {
    /// The structure of the shared path for `nlp`, or why it does not apply.
    pub(crate) fn new<F, L, T, H>(
        nlp: &Transcribed<F, L, T, H>,
    ) -> Result<Result<Self, Unshared>, TrajectoryError>
    where
        F: Dynamics,
        L: RunningCost,
        T: TerminalCost,
        H: PathConstraints,
    {
        if nlp.scheme() != Transcription::Trapezoidal {
            return Ok(Err(Unshared::Scheme(nlp.scheme())));
        }
        let layout = nlp.layout();
        debug_assert_eq!(layout.placement, ControlPlacement::Knots);
        let problem = nlp.problem();
        let (n, m, knots) = (layout.state_dim, layout.control_dim, layout.knots);
        let b = n + m;
        let p = problem.path_constraints().count();
        let dt = problem.dt();
        let outputs = n + 1 + p;
        let num_vars = nlp.num_vars();

        // supports and local Hessian patterns of the outputs, traced as the rows are
        let x_ref = trace_point(b);
        let jac =
            jacobian_pattern_conservative(&x_ref, TRACE_POINTS, TRACE_SEED, |x: &[Tracer]| {
                let mut out = vec![Tracer::from(0.0); outputs];
                element_outputs(problem, x, &mut out, true);
                out
            })
            .map_err(trace_error("dynamics"))?;
        let supports: Vec<Vec<usize>> = (0..outputs).map(|o| jac.row(o).to_vec()).collect();
        let mut hess_pairs: Vec<Vec<(usize, usize)>> = Vec::with_capacity(outputs);
        for o in 0..outputs {
            if supports[o].is_empty() {
                // a constant output: nothing to trace
                hess_pairs.push(Vec::new());
                continue;
            }
            let what = match o {
                _ if o < n => "dynamics",
                _ if o == n => "running cost",
                _ => "path constraints",
            };
            let h =
                hessian_pattern_conservative(&x_ref, TRACE_POINTS, TRACE_SEED, |x: &[Tracer]| {
                    let mut out = vec![Tracer::from(0.0); outputs];
                    element_outputs(problem, x, &mut out, true);
                    out[o]
                })
                .map_err(trace_error(what))?;
            hess_pairs.push(h.iter().filter(|&(i, j)| i >= j).collect());
        }

        // classification
        let mut modes = Vec::with_capacity(outputs);
        let mut curved = Vec::new();
        for o in 0..outputs {
            let row = OutputRow {
                problem,
                output: o,
                support: &supports[o],
                x_ref: &x_ref,
            };
            let (affine, quadratic) = if supports[o].is_empty() {
                (true, false)
            } else {
                classify(row, &x_ref, &supports[o])
            };
            let eval = |x: &[Dual64]| {
                let mut out = [Dual64::from_re(0.0); MAX_OUTPUTS];
                element_outputs(problem, x, &mut out, true);
                out[o]
            };
            if affine {
                modes.push(Mode::Affine(gradient_at(&x_ref, eval)));
            } else if quadratic && o == n {
                let hessian = hessian_at(&x_ref, |x: &[HyperDual64]| {
                    let mut out = [HyperDual64::from_re(0.0); MAX_OUTPUTS];
                    element_outputs(problem, x, &mut out, true);
                    out[o]
                });
                modes.push(Mode::Quadratic {
                    x_ref: x_ref.clone(),
                    g_ref: gradient_at(&x_ref, eval),
                    hessian,
                });
            } else {
                modes.push(Mode::Curved(curved.len()));
                curved.push(o);
            }
        }
        let mut lane_of = vec![NONE; b];
        let mut lanes: Vec<usize> = curved
            .iter()
            .flat_map(|&o| supports[o].iter().copied())
            .collect();
        lanes.sort_unstable();
        lanes.dedup();
        if lanes.len() > MAX_LANES {
            return Ok(Err(Unshared::TooManyLanes(lanes.len())));
        }
        for (lane, &l) in lanes.iter().enumerate() {
            lane_of[l] = lane as u32;
        }
        let k_lanes = lanes.len();
        let cost_curved = matches!(modes[n], Mode::Curved(_));

        // terminal cost
        let phi = problem.terminal_cost();
        let s_ref = trace_point(n);
        let t_support =
            jacobian_pattern_conservative(&s_ref, TRACE_POINTS, TRACE_SEED, |x| vec![phi.eval(x)])
                .map_err(trace_error("terminal cost"))?
                .row(0)
                .to_vec();
        let t_pairs: Vec<(usize, usize)> = if t_support.is_empty() {
            Vec::new()
        } else {
            hessian_pattern_conservative(&s_ref, TRACE_POINTS, TRACE_SEED, |x| phi.eval(x))
                .map_err(trace_error("terminal cost"))?
                .iter()
                .filter(|&(i, j)| i >= j)
                .collect()
        };
        let terminal = if t_support.is_empty() {
            Terminal::Constant
        } else {
            let row = TerminalRow {
                phi,
                support: &t_support,
                x_ref: &s_ref,
            };
            let (affine, quadratic) = classify(row, &s_ref, &t_support);
            let g = |x: &[Dual64]| phi.eval(x);
            if affine {
                Terminal::Affine(gradient_at(&s_ref, g))
            } else if quadratic {
                Terminal::Quadratic {
                    x_ref: s_ref.clone(),
                    g_ref: gradient_at(&s_ref, g),
                    hessian: hessian_at(&s_ref, |x: &[HyperDual64]| phi.eval(x)),
                }
            } else {
                Terminal::Curved {
                    vars: t_support.clone(),
                    pairs: t_pairs.clone(),
                    pos: Vec::new(),
                }
            }
        };

        // residuals: values and gradient entries
        let constraints = nlp.constraint_rows();
        let num_eq = nlp.num_equalities();
        let num_rows = constraints.num_rows();
        let hdt = 0.5 * dt;
        let mut rows = Vec::with_capacity(num_rows);
        let mut ent_ptr = vec![0];
        let (mut ent_var, mut ent_c, mut ent_jac, mut ent_mult) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut defect_start = usize::MAX;
        let mut path_row = vec![NONE; knots * p];
        let nc = curved.len();
        // the Jacobian store: knot k, curved slot s, lane l at (k·nc + s)·K + l
        let jac_index =
            |k: usize, slot: usize, lane: u32| ((k * nc + slot) * k_lanes) as u32 + lane;
        let problem_bounds = (problem.state_bounds(), problem.control_bounds());
        for i in 0..num_rows {
            let kind = constraints.kind(i);
            // (variable, constant, jacobian index, multiplier)
            let mut entries: Vec<(usize, f64, u32, f64)> = Vec::new();
            let add_output = |entries: &mut Vec<(usize, f64, u32, f64)>,
                              k: usize,
                              o: usize,
                              scale: f64| {
                let start = k * b;
                match &modes[o] {
                    Mode::Affine(g) => {
                        for &l in &supports[o] {
                            entries.push((start + l, scale * g[l], NONE, 0.0));
                        }
                    }
                    Mode::Curved(slot) => {
                        for &l in &supports[o] {
                            entries.push((start + l, 0.0, jac_index(k, *slot, lane_of[l]), scale));
                        }
                    }
                    Mode::Quadratic { .. } => unreachable!("only ℓ is quadratic"),
                }
            };
            let value = match kind {
                RowKind::InitialState { component } => {
                    let target = problem.initial_state().map_or(0.0, |s| s[component]);
                    entries.push((component, 1.0, NONE, 0.0));
                    RowValue::Single {
                        var: component as u32,
                        sign: 1.0,
                        offset: -target,
                    }
                }
                RowKind::TerminalState { component } => {
                    let target = problem.terminal_state().map_or(0.0, |s| s[component]);
                    let var = layout.state(knots - 1).start + component;
                    entries.push((var, 1.0, NONE, 0.0));
                    RowValue::Single {
                        var: var as u32,
                        sign: 1.0,
                        offset: -target,
                    }
                }
                RowKind::StateBound {
                    knot,
                    component,
                    side,
                } => {
                    let var = knot * b + component;
                    let bounds = problem_bounds.0;
                    single_bound(
                        &mut entries,
                        var,
                        side,
                        &bounds.lower,
                        &bounds.upper,
                        component,
                    )
                }
                RowKind::ControlBound {
                    control,
                    component,
                    side,
                } => {
                    let var = control * b + n + component;
                    let bounds = problem_bounds.1;
                    single_bound(
                        &mut entries,
                        var,
                        side,
                        &bounds.lower,
                        &bounds.upper,
                        component,
                    )
                }
                RowKind::Defect {
                    interval,
                    component,
                } => {
                    if interval == 0 && component == 0 {
                        defect_start = i;
                    }
                    entries.push((interval * b + component, -1.0, NONE, 0.0));
                    entries.push(((interval + 1) * b + component, 1.0, NONE, 0.0));
                    add_output(&mut entries, interval, component, -hdt);
                    add_output(&mut entries, interval + 1, component, -hdt);
                    RowValue::Defect {
                        k: interval as u32,
                        r: component as u32,
                    }
                }
                RowKind::Path { point, index } => {
                    path_row[point * p + index] = i as u32;
                    add_output(&mut entries, point, n + 1 + index, 1.0);
                    RowValue::Path {
                        k: point as u32,
                        j: index as u32,
                    }
                }
                RowKind::RunningCost { .. } | RowKind::TerminalCost => {
                    unreachable!("objective rows are not constraints")
                }
            };
            // the row's traced variables too, so that the pattern is the composite one
            for &v in constraints.vars(i) {
                entries.push((v, 0.0, NONE, 0.0));
            }
            entries.sort_by_key(|e| e.0);
            // merge the entries of a variable: constants add, at most one Jacobian reference
            let mut merged: Vec<(usize, f64, u32, f64)> = Vec::with_capacity(entries.len());
            for e in entries {
                match merged.last_mut() {
                    Some(last) if last.0 == e.0 => {
                        last.1 += e.1;
                        if e.2 != NONE {
                            debug_assert_eq!(last.2, NONE, "one Jacobian entry per variable");
                            last.2 = e.2;
                            last.3 = e.3;
                        }
                    }
                    _ => merged.push(e),
                }
            }
            for (v, c, j, mult) in merged {
                ent_var.push(v as u32);
                ent_c.push(c);
                ent_jac.push(j);
                ent_mult.push(mult);
            }
            ent_ptr.push(ent_var.len());
            rows.push(value);
        }
        if knots > 1 && defect_start == usize::MAX {
            defect_start = 0;
        }
        // the defects are contiguous, interval-major (the numeric phase relies on it)
        for (d, row) in rows[defect_start..defect_start + (knots - 1) * n]
            .iter()
            .enumerate()
        {
            debug_assert_eq!(
                *row,
                RowValue::Defect {
                    k: (d / n) as u32,
                    r: (d % n) as u32
                }
            );
        }
        let singles = rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| match *row {
                RowValue::Single { var, sign, offset } => Some((i as u32, var, sign, offset)),
                _ => None,
            })
            .collect();
        let mut affine_entries = Vec::new();
        for (o, mode) in modes.iter().enumerate() {
            if let Mode::Affine(g) = mode {
                for &l in &supports[o] {
                    affine_entries.push((o as u32, l as u32, g[l]));
                }
            }
        }
        let (mut cost_g0, mut cost_h) = (Vec::new(), Vec::new());
        if let Mode::Quadratic {
            x_ref,
            g_ref,
            hessian,
        } = &modes[n]
        {
            for &a in &supports[n] {
                let g0 = g_ref[a] - (0..b).map(|c| hessian[a * b + c] * x_ref[c]).sum::<f64>();
                cost_g0.push((a as u32, g0));
                for c in 0..b {
                    if hessian[a * b + c] != 0.0 {
                        cost_h.push((a as u32, c as u32, hessian[a * b + c]));
                    }
                }
            }
        }

        // the pattern: every residual's vars × vars (all ψ are curved), the traced Hessians
        // of the curved outputs at every knot, ℓ's and φ's
        let mut elem_pairs_local: Vec<(usize, usize)> = curved
            .iter()
            .flat_map(|&o| hess_pairs[o].iter().copied())
            .collect();
        elem_pairs_local.sort_unstable();
        elem_pairs_local.dedup();
        let cost_entries: Vec<(usize, usize)> = match &modes[n] {
            Mode::Quadratic { .. } => hess_pairs[n].clone(),
            _ => Vec::new(),
        };
        let last = layout.state(knots - 1).start;
        let terminal_entries: Vec<(usize, usize)> = match &terminal {
            Terminal::Quadratic { .. } => t_pairs.clone(),
            _ => Vec::new(),
        };
        let mut all: Vec<(usize, usize)> = Vec::new();
        for i in 0..num_rows {
            let vars = &ent_var[ent_ptr[i]..ent_ptr[i + 1]];
            for &a in vars {
                for &c in vars {
                    all.push((a as usize, c as usize));
                }
            }
        }
        for k in 0..knots {
            for &(a, c) in elem_pairs_local.iter().chain(&cost_entries) {
                all.push((k * b + a, k * b + c));
                all.push((k * b + c, k * b + a));
            }
        }
        for &(a, c) in &t_pairs {
            all.push((last + a, last + c));
            all.push((last + c, last + a));
        }
        let pattern = Pattern::from_entries(num_vars, num_vars, all)
            .map_err(|e| TrajectoryError::Composite(e.into()))?;
        // the mirror of a diagonal entry is the scratch slot after the last entry
        let scratch = pattern.nnz() as u32;
        let pos2 = |i: usize, j: usize| {
            if i == j {
                [position(&pattern, i, j), scratch]
            } else {
                [position(&pattern, i, j), position(&pattern, j, i)]
            }
        };

        // scatter maps
        let elem_pairs: Vec<u32> = elem_pairs_local
            .iter()
            .map(|&(a, c)| {
                let (la, lc) = (lane_of[a] as usize, lane_of[c] as usize);
                let (hi, lo) = (la.max(lc), la.min(lc));
                (hi * (hi + 1) / 2 + lo) as u32
            })
            .collect();
        let mut elem_pos = Vec::with_capacity(knots * elem_pairs.len());
        for k in 0..knots {
            for &(a, c) in &elem_pairs_local {
                elem_pos.push(pos2(k * b + a, k * b + c));
            }
        }
        let mut pair_ptr = vec![0];
        let mut pair_pos = Vec::new();
        let mut frozen = Vec::with_capacity(num_rows);
        let mut live_rows = Vec::new();
        for i in 0..num_rows {
            let range = ent_ptr[i]..ent_ptr[i + 1];
            let vars = &ent_var[range.clone()];
            for (x, &a) in vars.iter().enumerate() {
                for &c in &vars[..=x] {
                    pair_pos.push(pos2(a as usize, c as usize));
                }
            }
            pair_ptr.push(pair_pos.len());
            let constant = ent_jac[range].iter().all(|&j| j == NONE);
            let is_frozen = i < num_eq && constant;
            frozen.push(is_frozen);
            if !is_frozen {
                live_rows.push(i as u32);
            }
        }
        // both triangles of ℓ's and φ's constant Hessians: (a, c) and (c, a) separately
        let (cost_entries, cost_pos) = mirror(&cost_entries, knots, |k, a, c| {
            position(&pattern, k * b + a, k * b + c)
        });
        let (terminal_entries, terminal_pos) = mirror(&terminal_entries, 1, |_, a, c| {
            position(&pattern, last + a, last + c)
        });
        let terminal = match terminal {
            Terminal::Curved { vars, pairs, .. } => {
                let pos = pairs
                    .iter()
                    .map(|&(a, c)| pos2(last + a, last + c))
                    .collect();
                Terminal::Curved { vars, pairs, pos }
            }
            other => other,
        };
        // constant entries reference the zero after the last Jacobian entry, multiplier 0
        let jac_zero = (knots * nc * k_lanes) as u32;
        for (j, m) in ent_jac.iter_mut().zip(&mut ent_mult) {
            if *j == NONE {
                *j = jac_zero;
                *m = 0.0;
            }
        }
        Ok(Ok(Structure {
            n,
            b,
            knots,
            p,
            dt,
            num_vars,
            num_eq,
            outputs,
            lanes,
            curved,
            modes,
            cost_curved,
            terminal,
            elem_pairs,
            elem_pos,
            rows,
            ent_ptr,
            ent_c,
            ent_jac,
            ent_mult,
            pair_ptr,
            pair_pos,
            frozen,
            live_rows,
            defect_start,
            path_row,
            singles,
            affine_entries,
            cost_g0,
            cost_h,
            cost_entries,
            cost_pos,
            terminal_entries,
            terminal_pos,
            pattern,
        }))
    }

    /// K, the jet lanes.
    pub(crate) fn num_lanes(&self) -> usize {
        self.lanes.len()
    }
}

/// The lower entries `(a, c)` (`a ≥ c`) with their positions per knot, extended by the
/// mirrored off-diagonal ones: `(entries, positions)` with `positions[k·len + e]`.
fn mirror(
    lower: &[(usize, usize)],
    knots: usize,
    position: impl Fn(usize, usize, usize) -> u32,
) -> (Vec<(usize, usize)>, Vec<u32>) {
    let mut entries: Vec<(usize, usize)> = lower.to_vec();
    entries.extend(lower.iter().filter(|&&(a, c)| a != c).map(|&(a, c)| (c, a)));
    let mut positions = Vec::with_capacity(knots * entries.len());
    for k in 0..knots {
        for &(a, c) in &entries {
            positions.push(position(k, a, c));
        }
    }
    (entries, positions)
}

/// A bound row on `var`: its gradient entry and value.
fn single_bound(
    entries: &mut Vec<(usize, f64, u32, f64)>,
    var: usize,
    side: Side,
    lower: &[f64],
    upper: &[f64],
    component: usize,
) -> RowValue {
    match side {
        Side::Upper => {
            entries.push((var, 1.0, NONE, 0.0));
            RowValue::Single {
                var: var as u32,
                sign: 1.0,
                offset: -upper[component],
            }
        }
        Side::Lower => {
            entries.push((var, -1.0, NONE, 0.0));
            RowValue::Single {
                var: var as u32,
                sign: -1.0,
                offset: lower[component],
            }
        }
    }
}
