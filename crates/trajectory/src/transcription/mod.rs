//! Transcriptions: from a [`Problem`] to a nonlinear program in the decision vector z —
//! the cost `J(z)`, the equalities `c(z) = 0` (boundary conditions and defects) and the
//! inequalities `g(z) ≤ 0` (bounds and path constraints) — each as a generic function of z
//! and as a list of *rows*, scalar functions of few entries of z
//! ([`RowFunctions`]), the form
//! [`CompositeHessian`](sparsediff::composite::CompositeHessian) takes.
//!
//! # Variable layout (knot-major)
//!
//! With n states and m controls, z is a sequence of blocks of `n + m` entries, one per
//! knot: block k is `(s_k, u_k)`, so `z = [s_0, u_0, s_1, u_1, …, s_{N−1}, u_{N−1}]` and
//! `z.len() = N·(n + m)` ([`ControlPlacement::Knots`]: trapezoidal, Hermite–Simpson; the
//! cartpole spec's `z[5k..5k+5] = (x_k, v_k, θ_k, ω_k, a_k)`). The staggered
//! transcription has no control at the last knot ([`ControlPlacement::HalfSteps`]):
//! `z = [s_0, u_{1/2}, …, s_{N−2}, u_{N−3/2}, s_{N−1}]`, `(N − 1)·(n + m) + n` entries.
//! [`Layout`] gives the ranges.
//!
//! # Row order
//!
//! * equalities: `s_0 − s_init` (n rows, if an initial state is fixed), the defects of
//!   interval 0, 1, …, N − 2 (n rows each, by state component), `s_{N−1} − s_final` (n
//!   rows, if a terminal state is fixed) — the cartpole spec's `c`;
//! * inequalities, block by block: the finite bounds of the block's state components, then
//!   of its control components (for each, `v − upper` then `lower − v`), then the path
//!   constraints at the block's control point — the spec's
//!   `g[4k..4k+4] = (x_k − 1, −x_k − 1, a_k − 4, −a_k − 4)`;
//! * objective rows: one running-cost term per control point (`dt·ℓ`), then the terminal
//!   cost if it is not [`NoTerminalCost`](crate::NoTerminalCost).
//!
//! # Sparsity
//!
//! Which entries of its window each row depends on is traced once, at
//! [`Transcribed::new`], with the tracer of `sparsediff-ad` at a point and 8 random
//! perturbations of it (conservatively, so that a branch in the dynamics near that point is
//! covered): a defect row lists only the variables its component of the defect touches
//! (the cartpole's ω-defect: θ, ω, a at both knots — 6 variables, not 10). A row is
//! evaluated from its own variables alone, the rest of its window set to zero, which is
//! exact because the traced component does not depend on them. The supports hold where
//! the user functions take the branches seen at the trace points: a function whose
//! dependencies change with a branch far from them (`if θ > 3.0 { … a … } else { … }`)
//! would lose the terms of the unseen branch, so write such branches with the same
//! variables on both sides.
//!
//! # Cost of a row
//!
//! A defect row evaluates its interval's whole defect (every component, the dynamics at
//! both knots) on its own jets and keeps one component: on the cartpole at N = 100 the
//! composite Hessian of L_A from these rows took 30 µs against 12 µs from the problems
//! crate's hand-written rows (2.5×; test profile, not release — measured once, not
//! committed as a benchmark). Sharing each knot's dynamics and its derivatives between the
//! rows that use it (element functions, issue 11 part 3) is the remedy:
//! [`ElementHessian`](crate::element::ElementHessian), 2.3× faster than the composite
//! Hessian of these rows on the cartpole (release; `papers/element-hessian.md`).

pub mod hermite_simpson;
pub mod staggered;
pub mod trapezoidal;

use std::ops::Range;

use sparsediff::ad::num_dual::DualNum;
use sparsediff::ad::trace::{Tracer, jacobian_pattern_conservative};
use sparsediff::composite::RowFunctions;
use sparsediff::pattern::{Pattern, PatternError};

use crate::error::TrajectoryError;
use crate::problem::{
    Dynamics, MAX_CONTROL_DIM, MAX_STATE_DIM, PathConstraints, Problem, RunningCost, TerminalCost,
    check_len,
};

/// Longest window of z a row is evaluated on (two knot blocks).
const MAX_WINDOW: usize = 2 * (MAX_STATE_DIM + MAX_CONTROL_DIM);
/// Random points, besides the base point, at which the sparsity is traced.
pub(crate) const TRACE_POINTS: usize = 8;
/// Seed of those points.
pub(crate) const TRACE_SEED: u64 = 0x7a11_0c0d;

/// How the dynamics are transcribed into equalities.
///
/// ```
/// use trajectory::{ControlPlacement, Transcription};
/// assert_eq!(Transcription::default(), Transcription::Trapezoidal);
/// assert_eq!(Transcription::Staggered.placement(), ControlPlacement::HalfSteps);
/// assert_eq!(Transcription::HermiteSimpson.window_len(4, 1), 10);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Transcription {
    /// [`trapezoidal`]: `s_{k+1} − s_k − (dt/2)(f_k + f_{k+1})` (the cartpole spec's).
    #[default]
    Trapezoidal,
    /// [`hermite_simpson`]: the compressed Simpson defect through the Hermite midpoint.
    HermiteSimpson,
    /// [`staggered`]: controls at the half steps, `s_{k+1} − s_k − dt·f(s_{k+1/2}, u_{k+1/2})`.
    Staggered,
}

impl Transcription {
    /// Where the controls live in z.
    pub fn placement(self) -> ControlPlacement {
        match self {
            Transcription::Trapezoidal | Transcription::HermiteSimpson => ControlPlacement::Knots,
            Transcription::Staggered => ControlPlacement::HalfSteps,
        }
    }

    /// Length of an interval's window of z (the contiguous entries its defects read), for
    /// n states and m controls.
    pub fn window_len(self, n: usize, m: usize) -> usize {
        match self {
            Transcription::Trapezoidal => trapezoidal::window_len(n, m),
            Transcription::HermiteSimpson => hermite_simpson::window_len(n, m),
            Transcription::Staggered => staggered::window_len(n, m),
        }
    }

    fn defect<D, F>(self, f: &F, dt: f64, w: &[D], out: &mut [D])
    where
        D: DualNum<Primitive = f64> + Copy,
        F: Dynamics,
    {
        match self {
            Transcription::Trapezoidal => trapezoidal::defect(f, dt, w, out),
            Transcription::HermiteSimpson => hermite_simpson::defect(f, dt, w, out),
            Transcription::Staggered => staggered::defect(f, dt, w, out),
        }
    }
}

/// Where the controls sit in z (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlPlacement {
    /// One control per knot: N blocks `(s_k, u_k)`.
    Knots,
    /// One control per interval, at its midpoint: N − 1 blocks `(s_k, u_{k+1/2})` and the
    /// last state.
    HalfSteps,
}

/// The knot-major layout of z: where each state and control is.
///
/// ```
/// use trajectory::{ControlPlacement, Layout};
/// let l = Layout::new(4, 1, 100, ControlPlacement::Knots);
/// assert_eq!(l.num_vars(), 500);
/// assert_eq!((l.state(7), l.control(7)), (35..39, 39..40));
/// let s = Layout::new(4, 1, 100, ControlPlacement::HalfSteps);
/// assert_eq!((s.num_vars(), s.num_controls()), (499, 99));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// n.
    pub state_dim: usize,
    /// m.
    pub control_dim: usize,
    /// N.
    pub knots: usize,
    /// Where the controls are.
    pub placement: ControlPlacement,
}

impl Layout {
    /// The layout of N knots of n states and m controls.
    pub fn new(
        state_dim: usize,
        control_dim: usize,
        knots: usize,
        placement: ControlPlacement,
    ) -> Self {
        Layout {
            state_dim,
            control_dim,
            knots,
            placement,
        }
    }

    /// `n + m`, the width of a block.
    pub fn block_width(&self) -> usize {
        self.state_dim + self.control_dim
    }

    /// Number of controls: N at the knots, N − 1 at the half steps.
    pub fn num_controls(&self) -> usize {
        match self.placement {
            ControlPlacement::Knots => self.knots,
            ControlPlacement::HalfSteps => self.knots.saturating_sub(1),
        }
    }

    /// Length of z.
    pub fn num_vars(&self) -> usize {
        match self.placement {
            ControlPlacement::Knots => self.knots * self.block_width(),
            ControlPlacement::HalfSteps => {
                self.num_controls() * self.block_width() + self.state_dim
            }
        }
    }

    /// The entries of z holding `s_k`.
    pub fn state(&self, k: usize) -> Range<usize> {
        let start = k * self.block_width();
        start..start + self.state_dim
    }

    /// The entries of z holding control j (`u_j` at the knots, `u_{j+1/2}` at the half
    /// steps).
    pub fn control(&self, j: usize) -> Range<usize> {
        let start = j * self.block_width() + self.state_dim;
        start..start + self.control_dim
    }
}

/// Which side of a bound an inequality row imposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// `v − upper ≤ 0`.
    Upper,
    /// `lower − v ≤ 0`.
    Lower,
}

/// What a row computes. Indices of knots, intervals and controls follow [`Layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowKind {
    /// `s_0[component] − s_init[component]`.
    InitialState {
        /// The state component.
        component: usize,
    },
    /// Component `component` of the defect of interval `[t_k, t_{k+1}]`, `k = interval`.
    Defect {
        /// k.
        interval: usize,
        /// The state component.
        component: usize,
    },
    /// `s_{N−1}[component] − s_final[component]`.
    TerminalState {
        /// The state component.
        component: usize,
    },
    /// A bound on `s_knot[component]`.
    StateBound {
        /// The knot.
        knot: usize,
        /// The state component.
        component: usize,
        /// Which side.
        side: Side,
    },
    /// A bound on control `control`'s component `component`.
    ControlBound {
        /// The control's index in [`Layout::control`].
        control: usize,
        /// The component.
        component: usize,
        /// Which side.
        side: Side,
    },
    /// Path inequality `index` at control point `point`.
    Path {
        /// The control point (knot, or interval for half-step controls).
        point: usize,
        /// Which of the [`PathConstraints::count`] inequalities.
        index: usize,
    },
    /// `dt·ℓ` at control point `point`.
    RunningCost {
        /// The control point.
        point: usize,
    },
    /// `φ(s_{N−1})`.
    TerminalCost,
}

/// One list of rows, flattened.
#[derive(Clone, Debug, Default)]
struct RowSet {
    kinds: Vec<RowKind>,
    /// Row i's variables are `vars[ptr[i]..ptr[i + 1]]`, their places in the row's window
    /// `offsets[ptr[i]..ptr[i + 1]]`.
    ptr: Vec<usize>,
    vars: Vec<usize>,
    offsets: Vec<usize>,
}

impl RowSet {
    fn new() -> Self {
        RowSet {
            ptr: vec![0],
            ..Default::default()
        }
    }

    /// Adds a row reading the entries `offsets` of the window starting at `start`.
    fn push(&mut self, kind: RowKind, start: usize, offsets: &[usize]) {
        self.kinds.push(kind);
        self.vars.extend(offsets.iter().map(|&o| start + o));
        self.offsets.extend_from_slice(offsets);
        self.ptr.push(self.vars.len());
    }

    fn len(&self) -> usize {
        self.kinds.len()
    }

    fn range(&self, i: usize) -> Range<usize> {
        self.ptr[i]..self.ptr[i + 1]
    }
}

/// The supports of the outputs of `f` over an input window of `len` entries, traced.
fn trace_supports(
    what: &'static str,
    len: usize,
    outputs: usize,
    f: impl Fn(&[Tracer], &mut [Tracer]),
) -> Result<Vec<Vec<usize>>, TrajectoryError> {
    if outputs == 0 {
        return Ok(Vec::new());
    }
    if len == 0 {
        return Ok(vec![Vec::new(); outputs]);
    }
    let x0: Vec<f64> = (0..len).map(|i| 0.3 + 0.1 * (i % 7) as f64).collect();
    let pattern = jacobian_pattern_conservative(&x0, TRACE_POINTS, TRACE_SEED, |x: &[Tracer]| {
        // A constant output with a handle of the trace: x·0 would be dropped as a constant,
        // so start from zero tracers and let f overwrite them.
        let mut out = vec![Tracer::from(0.0); outputs];
        f(x, &mut out);
        out
    })
    .map_err(|e| TrajectoryError::Trace {
        what,
        source: Box::new(e),
    })?;
    Ok((0..outputs).map(|r| pattern.row(r).to_vec()).collect())
}

/// A [`Problem`] transcribed into a nonlinear program in z: cost, equalities and
/// inequalities as generic functions of z and as rows (see the [module
/// documentation](self) for the layout and the row order).
///
/// ```
/// use trajectory::{Dynamics, Problem, RunningCost, Transcribed, Transcription};
/// use trajectory::num_dual::DualNum;
///
/// struct DoubleIntegrator;
/// impl Dynamics for DoubleIntegrator {
///     fn state_dim(&self) -> usize { 2 }
///     fn control_dim(&self) -> usize { 1 }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
///         ds[0] = s[1];
///         ds[1] = u[0];
///     }
/// }
/// struct Effort;
/// impl RunningCost for Effort {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D { u[0] * u[0] }
/// }
/// let problem = Problem::new(DoubleIntegrator, Effort, 3, 0.5)?
///     .with_initial_state(&[0.0, 0.0])?
///     .with_control_bounds(&[-1.0], &[1.0])?;
/// let nlp = Transcribed::new(problem, Transcription::Trapezoidal)?;
/// assert_eq!((nlp.num_vars(), nlp.num_equalities(), nlp.num_inequalities()), (9, 6, 6));
/// // z = [x0, v0, a0, x1, v1, a1, x2, v2, a2]: constant acceleration 1 from rest
/// let z = [0.0, 0.0, 1.0, 0.125, 0.5, 1.0, 0.5, 1.0, 1.0];
/// let c: Vec<f64> = nlp.equalities(&z)?;
/// assert!(c.iter().all(|c| c.abs() < 1e-15)); // exact: x is quadratic in t
/// assert_eq!(nlp.cost(&z)?, 1.5); // dt·Σ a_k²
/// // the x-defect of interval 1 touches x1, v1, x2, v2
/// let rows = nlp.equality_rows();
/// use trajectory::RowFunctions;
/// assert_eq!(rows.vars(2 + 2), &[3, 4, 6, 7]);
/// # Ok::<(), trajectory::TrajectoryError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Transcribed<F, L, T = crate::NoTerminalCost, H = crate::NoPathConstraints> {
    problem: Problem<F, L, T, H>,
    scheme: Transcription,
    layout: Layout,
    objective: RowSet,
    equalities: RowSet,
    inequalities: RowSet,
}

impl<F, L, T, H> Transcribed<F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// Transcribes `problem` with `scheme`: lays out z, traces the sparsity of the
    /// dynamics, costs and path constraints, and lists the rows.
    ///
    /// # Errors
    /// [`TrajectoryError::Trace`] if tracing a user function fails (a non-finite value at
    /// the trace points, a comparison with NaN); [`TrajectoryError::UnsupportedDimension`]
    /// if the path constraints are more than [`MAX_STATE_DIM`] per point.
    pub fn new(
        problem: Problem<F, L, T, H>,
        scheme: Transcription,
    ) -> Result<Self, TrajectoryError> {
        let (n, m, knots) = (problem.state_dim(), problem.control_dim(), problem.knots());
        let layout = Layout::new(n, m, knots, scheme.placement());
        let width = layout.block_width();
        let dt = problem.dt();
        let p = problem.path.count();
        if p > MAX_STATE_DIM {
            return Err(TrajectoryError::UnsupportedDimension {
                what: "path constraint",
                dim: p,
                min: 0,
                max: MAX_STATE_DIM,
            });
        }
        let point_len = point_window_len(layout);

        // Supports, traced once per kind of row.
        let f = &problem.dynamics;
        let defect_supports = trace_supports("dynamics", scheme.window_len(n, m), n, |w, out| {
            scheme.defect(f, dt, w, out)
        })?;
        let cost_support = trace_supports("running cost", point_len, 1, |w, out| {
            let (s, u) = point_values(layout, w);
            out[0] = problem.running_cost.eval(&s[..n], &u[..m]);
        })?;
        let path_supports = trace_supports("path constraints", point_len, p, |w, out| {
            let (s, u) = point_values(layout, w);
            problem.path.eval(&s[..n], &u[..m], out);
        })?;
        let terminal_support = trace_supports("terminal cost", n, 1, |s, out| {
            out[0] = problem.terminal_cost.eval(s);
        })?;

        let mut equalities = RowSet::new();
        if problem.initial_state.is_some() {
            for component in 0..n {
                equalities.push(RowKind::InitialState { component }, component, &[0]);
            }
        }
        for interval in 0..knots - 1 {
            for (component, support) in defect_supports.iter().enumerate() {
                equalities.push(
                    RowKind::Defect {
                        interval,
                        component,
                    },
                    interval * width,
                    support,
                );
            }
        }
        if problem.terminal_state.is_some() {
            let last = layout.state(knots - 1).start;
            for component in 0..n {
                equalities.push(RowKind::TerminalState { component }, last + component, &[0]);
            }
        }

        let mut inequalities = RowSet::new();
        let points = layout.num_controls();
        for block in 0..knots {
            let start = block * width;
            let sb = &problem.state_bounds;
            for component in 0..n {
                for (side, finite) in [
                    (Side::Upper, sb.upper[component] < f64::INFINITY),
                    (Side::Lower, sb.lower[component] > f64::NEG_INFINITY),
                ] {
                    if finite {
                        let kind = RowKind::StateBound {
                            knot: block,
                            component,
                            side,
                        };
                        inequalities.push(kind, start + component, &[0]);
                    }
                }
            }
            if block < points {
                let cb = &problem.control_bounds;
                for component in 0..m {
                    for (side, finite) in [
                        (Side::Upper, cb.upper[component] < f64::INFINITY),
                        (Side::Lower, cb.lower[component] > f64::NEG_INFINITY),
                    ] {
                        if finite {
                            let kind = RowKind::ControlBound {
                                control: block,
                                component,
                                side,
                            };
                            inequalities.push(kind, start + n + component, &[0]);
                        }
                    }
                }
                for (index, support) in path_supports.iter().enumerate() {
                    inequalities.push(
                        RowKind::Path {
                            point: block,
                            index,
                        },
                        start,
                        support,
                    );
                }
            }
        }

        let mut objective = RowSet::new();
        for point in 0..points {
            objective.push(
                RowKind::RunningCost { point },
                point * width,
                &cost_support[0],
            );
        }
        // always present: without a terminal cost it is a row of no variables, worth 0
        let last = layout.state(knots - 1).start;
        objective.push(RowKind::TerminalCost, last, &terminal_support[0]);

        Ok(Transcribed {
            problem,
            scheme,
            layout,
            objective,
            equalities,
            inequalities,
        })
    }

    /// The problem.
    pub fn problem(&self) -> &Problem<F, L, T, H> {
        &self.problem
    }

    /// The transcription.
    pub fn scheme(&self) -> Transcription {
        self.scheme
    }

    /// The layout of z.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Length of z.
    pub fn num_vars(&self) -> usize {
        self.layout.num_vars()
    }

    /// Length of c.
    pub fn num_equalities(&self) -> usize {
        self.equalities.len()
    }

    /// Length of g.
    pub fn num_inequalities(&self) -> usize {
        self.inequalities.len()
    }

    fn check_z(&self, len: usize) -> Result<(), TrajectoryError> {
        check_len("z", len, self.num_vars())
    }

    /// The state and control of control point `point` from its window.
    fn running_cost_on<D: DualNum<Primitive = f64> + Copy>(&self, w: &[D]) -> D {
        let (n, m) = (self.layout.state_dim, self.layout.control_dim);
        let (s, u) = point_values(self.layout, w);
        self.problem.running_cost.eval(&s[..n], &u[..m]) * self.problem.dt
    }

    fn path_on<D: DualNum<Primitive = f64> + Copy>(&self, w: &[D], out: &mut [D]) {
        let (n, m) = (self.layout.state_dim, self.layout.control_dim);
        let (s, u) = point_values(self.layout, w);
        self.problem.path.eval(&s[..n], &u[..m], out);
    }

    /// `J(z)`: the running cost as the transcription integrates it, plus the terminal
    /// cost.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z does not have [`num_vars`](Self::num_vars)
    /// entries, [`TrajectoryError::NonFiniteValue`] if the cost is not finite there.
    pub fn cost<D: DualNum<Primitive = f64> + Copy>(&self, z: &[D]) -> Result<D, TrajectoryError> {
        self.cost_with(z, true)
    }

    /// [`cost`](Self::cost), checking that it is finite only if `check` (a check reads the
    /// value, which the facade's tape would have to re-verify at every evaluation).
    pub(crate) fn cost_with<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        check: bool,
    ) -> Result<D, TrajectoryError> {
        self.check_z(z.len())?;
        let width = self.layout.block_width();
        let len = point_window_len(self.layout);
        let mut j = D::zero();
        for point in 0..self.layout.num_controls() {
            j += self.running_cost_on(&z[point * width..point * width + len]);
        }
        j += self
            .problem
            .terminal_cost
            .eval(&z[self.layout.state(self.layout.knots - 1)]);
        if check {
            check_values("cost", std::slice::from_ref(&j))?;
        }
        Ok(j)
    }

    /// `c(z)` into `out`, in the row order of the [module documentation](self).
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z or `out` has the wrong length,
    /// [`TrajectoryError::NonFiniteValue`] naming the first equality that is not finite
    /// (`out` holds them all).
    pub fn equalities_into<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        out: &mut [D],
    ) -> Result<(), TrajectoryError> {
        self.equalities_with(z, out, true)
    }

    /// [`equalities_into`](Self::equalities_into), checking the values only if `check`.
    pub(crate) fn equalities_with<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        out: &mut [D],
        check: bool,
    ) -> Result<(), TrajectoryError> {
        self.check_z(z.len())?;
        check_len("equality buffer", out.len(), self.num_equalities())?;
        let (n, knots) = (self.layout.state_dim, self.layout.knots);
        let width = self.layout.block_width();
        let window = self.scheme.window_len(n, self.layout.control_dim);
        let mut i = 0;
        if let Some(s0) = &self.problem.initial_state {
            for (r, &target) in s0.iter().enumerate() {
                out[i + r] = z[r] - target;
            }
            i += n;
        }
        for interval in 0..knots - 1 {
            let start = interval * width;
            self.scheme.defect(
                &self.problem.dynamics,
                self.problem.dt,
                &z[start..start + window],
                &mut out[i..i + n],
            );
            i += n;
        }
        if let Some(s1) = &self.problem.terminal_state {
            let last = self.layout.state(knots - 1).start;
            for (r, &target) in s1.iter().enumerate() {
                out[i + r] = z[last + r] - target;
            }
        }
        if check {
            check_values("equality", out)?;
        }
        Ok(())
    }

    /// `c(z)`; see [`equalities_into`](Self::equalities_into).
    ///
    /// # Errors
    /// As [`equalities_into`](Self::equalities_into).
    pub fn equalities<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
    ) -> Result<Vec<D>, TrajectoryError> {
        let mut c = vec![D::zero(); self.num_equalities()];
        self.equalities_into(z, &mut c)?;
        Ok(c)
    }

    /// `g(z)` into `out` (feasible where `g ≤ 0`), in the row order of the [module
    /// documentation](self).
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if z or `out` has the wrong length,
    /// [`TrajectoryError::NonFiniteValue`] naming the first inequality that is not finite
    /// (`out` holds them all).
    pub fn inequalities_into<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        out: &mut [D],
    ) -> Result<(), TrajectoryError> {
        self.inequalities_with(z, out, true)
    }

    /// [`inequalities_into`](Self::inequalities_into), checking the values only if `check`.
    pub(crate) fn inequalities_with<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
        out: &mut [D],
        check: bool,
    ) -> Result<(), TrajectoryError> {
        self.check_z(z.len())?;
        check_len("inequality buffer", out.len(), self.num_inequalities())?;
        let width = self.layout.block_width();
        let len = point_window_len(self.layout);
        let set = &self.inequalities;
        let mut i = 0;
        while i < set.len() {
            match set.kinds[i] {
                RowKind::Path { point, .. } => {
                    // all the point's path rows at once
                    let p = self.problem.path.count();
                    let start = point * width;
                    self.path_on(&z[start..start + len], &mut out[i..i + p]);
                    i += p;
                }
                _ => {
                    out[i] = self.single_var_row(set.kinds[i], z[set.vars[set.ptr[i]]]);
                    i += 1;
                }
            }
        }
        if check {
            check_values("inequality", out)?;
        }
        Ok(())
    }

    /// `g(z)`; see [`inequalities_into`](Self::inequalities_into).
    ///
    /// # Errors
    /// As [`inequalities_into`](Self::inequalities_into).
    pub fn inequalities<D: DualNum<Primitive = f64> + Copy>(
        &self,
        z: &[D],
    ) -> Result<Vec<D>, TrajectoryError> {
        let mut g = vec![D::zero(); self.num_inequalities()];
        self.inequalities_into(z, &mut g)?;
        Ok(g)
    }

    /// A boundary-condition or bound row from its one variable.
    #[inline]
    fn single_var_row<D: DualNum<Primitive = f64> + Copy>(&self, kind: RowKind, v: D) -> D {
        let p = &self.problem;
        let bound = |lower: &[f64], upper: &[f64], component: usize, side: Side| match side {
            Side::Upper => v - upper[component],
            Side::Lower => -v + lower[component],
        };
        match kind {
            RowKind::InitialState { component } => {
                v - p.initial_state.as_ref().map_or(0.0, |s| s[component])
            }
            RowKind::TerminalState { component } => {
                v - p.terminal_state.as_ref().map_or(0.0, |s| s[component])
            }
            RowKind::StateBound {
                component, side, ..
            } => bound(
                &p.state_bounds.lower,
                &p.state_bounds.upper,
                component,
                side,
            ),
            RowKind::ControlBound {
                component, side, ..
            } => bound(
                &p.control_bounds.lower,
                &p.control_bounds.upper,
                component,
                side,
            ),
            _ => unreachable!("not a one-variable row: {kind:?}"),
        }
    }

    /// Row i of `set` from its local variables.
    fn eval_row<D: DualNum<Primitive = f64> + Copy>(
        &self,
        set: &RowSet,
        i: usize,
        local: &[D],
    ) -> D {
        let kind = set.kinds[i];
        let (n, m) = (self.layout.state_dim, self.layout.control_dim);
        let scatter = |len: usize| {
            let mut w = [D::zero(); MAX_WINDOW];
            for (&o, &v) in set.offsets[set.range(i)].iter().zip(local) {
                w[o] = v;
            }
            (w, len)
        };
        match kind {
            RowKind::Defect { component, .. } => {
                let (w, len) = scatter(self.scheme.window_len(n, m));
                let mut out = [D::zero(); MAX_STATE_DIM];
                self.scheme.defect(
                    &self.problem.dynamics,
                    self.problem.dt,
                    &w[..len],
                    &mut out[..n],
                );
                out[component]
            }
            RowKind::Path { index, .. } => {
                let (w, len) = scatter(point_window_len(self.layout));
                let mut out = [D::zero(); MAX_STATE_DIM];
                self.path_on(&w[..len], &mut out[..self.problem.path.count()]);
                out[index]
            }
            RowKind::RunningCost { .. } => {
                let (w, len) = scatter(point_window_len(self.layout));
                self.running_cost_on(&w[..len])
            }
            RowKind::TerminalCost => {
                let (w, _) = scatter(n);
                self.problem.terminal_cost.eval(&w[..n])
            }
            _ => self.single_var_row(kind, local[0]),
        }
    }

    /// The objective rows, `J = Σ` of them: one `dt·ℓ` per control point, then the
    /// terminal cost.
    pub fn objective_rows(&self) -> Rows<'_, F, L, T, H> {
        Rows {
            nlp: self,
            which: Which::Objective,
        }
    }

    /// The rows of c, in order.
    pub fn equality_rows(&self) -> Rows<'_, F, L, T, H> {
        Rows {
            nlp: self,
            which: Which::Equalities,
        }
    }

    /// The rows of g, in order.
    pub fn inequality_rows(&self) -> Rows<'_, F, L, T, H> {
        Rows {
            nlp: self,
            which: Which::Inequalities,
        }
    }

    /// The rows of c, then those of g: the residuals of an augmented Lagrangian.
    pub fn constraint_rows(&self) -> Rows<'_, F, L, T, H> {
        Rows {
            nlp: self,
            which: Which::Constraints,
        }
    }
}

/// [`TrajectoryError::NonFiniteValue`] for the first value whose real part is not finite.
fn check_values<D: DualNum<Primitive = f64> + Copy>(
    what: &'static str,
    values: &[D],
) -> Result<(), TrajectoryError> {
    match values.iter().position(|v| !v.re().is_finite()) {
        Some(index) => Err(TrajectoryError::NonFiniteValue {
            what,
            index,
            value: values[index].re(),
        }),
        None => Ok(()),
    }
}

/// Length of a control point's window: a knot block, or for half-step controls
/// `(s_k, u_{k+1/2}, s_{k+1})`.
fn point_window_len(layout: Layout) -> usize {
    match layout.placement {
        ControlPlacement::Knots => layout.block_width(),
        ControlPlacement::HalfSteps => layout.block_width() + layout.state_dim,
    }
}

/// The state and control of a control point from its window: the knot's, or at a half step
/// the mean of the two states and the interval's control.
#[inline]
fn point_values<D: DualNum<Primitive = f64> + Copy>(
    layout: Layout,
    w: &[D],
) -> ([D; MAX_STATE_DIM], [D; MAX_CONTROL_DIM]) {
    let (n, m) = (layout.state_dim, layout.control_dim);
    let mut s = [D::zero(); MAX_STATE_DIM];
    let mut u = [D::zero(); MAX_CONTROL_DIM];
    match layout.placement {
        ControlPlacement::Knots => s[..n].copy_from_slice(&w[..n]),
        ControlPlacement::HalfSteps => {
            let b = n + m;
            for r in 0..n {
                s[r] = (w[r] + w[b + r]) * 0.5;
            }
        }
    }
    u[..m].copy_from_slice(&w[n..n + m]);
    (s, u)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Objective,
    Equalities,
    Inequalities,
    Constraints,
}

/// A list of rows of a [`Transcribed`] problem — its objective terms, equalities,
/// inequalities, or equalities then inequalities — as [`RowFunctions`]: each row's
/// variables (its sparsity) and its value from them, generic over the scalar.
pub struct Rows<'a, F, L, T, H> {
    nlp: &'a Transcribed<F, L, T, H>,
    which: Which,
}

impl<F, L, T, H> Clone for Rows<'_, F, L, T, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F, L, T, H> Copy for Rows<'_, F, L, T, H> {}

impl<F, L, T, H> std::fmt::Debug for Rows<'_, F, L, T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows").field("which", &self.which).finish()
    }
}

impl<F, L, T, H> Rows<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// The set holding row i, and i's index in it.
    fn locate(&self, i: usize) -> (&RowSet, usize) {
        match self.which {
            Which::Objective => (&self.nlp.objective, i),
            Which::Equalities => (&self.nlp.equalities, i),
            Which::Inequalities => (&self.nlp.inequalities, i),
            Which::Constraints => {
                let m = self.nlp.equalities.len();
                if i < m {
                    (&self.nlp.equalities, i)
                } else {
                    (&self.nlp.inequalities, i - m)
                }
            }
        }
    }

    /// What row i computes.
    ///
    /// # Panics
    /// If `i >= num_rows()`.
    pub fn kind(&self, i: usize) -> RowKind {
        let (set, i) = self.locate(i);
        set.kinds[i]
    }

    /// The m×n pattern of the Jacobian of these rows (row i holds `vars(i)`).
    ///
    /// # Errors
    /// Only beyond the limits of [`Pattern`].
    pub fn jacobian_pattern(&self) -> Result<Pattern, PatternError> {
        let rows = self.num_rows();
        let mut row_ptr = Vec::with_capacity(rows + 1);
        let mut col_idx = Vec::new();
        row_ptr.push(0);
        for i in 0..rows {
            col_idx.extend_from_slice(self.vars(i));
            row_ptr.push(col_idx.len());
        }
        Pattern::from_csr(rows, self.nlp.num_vars(), row_ptr, col_idx)
    }
}

impl<F, L, T, H> RowFunctions for Rows<'_, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    fn num_rows(&self) -> usize {
        match self.which {
            Which::Objective => self.nlp.objective.len(),
            Which::Equalities => self.nlp.equalities.len(),
            Which::Inequalities => self.nlp.inequalities.len(),
            Which::Constraints => self.nlp.equalities.len() + self.nlp.inequalities.len(),
        }
    }

    fn vars(&self, i: usize) -> &[usize] {
        let (set, i) = self.locate(i);
        &set.vars[set.range(i)]
    }

    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D {
        let (set, i) = self.locate(i);
        self.nlp.eval_row(set, i, local)
    }
}
