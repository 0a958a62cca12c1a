//! The cartpole swing-up by trapezoidal direct transcription, and the augmented Lagrangian
//! L_A that the Hessian benchmarks differentiate (`crates/problems/spec/cartpole-swingup.md`).
//!
//! # Model and transcription
//!
//! State `s = (x, v, θ, ω)`, control `a` (the cart acceleration); the right-hand side is
//! [`dynamics`]: `x' = v`, `v' = a`, `θ' = ω`, `ω' = −(3/(2L))·(g·sin θ + a·cos θ)` with
//! `L = 0.5`, `g = 9.81`. A [`CartpoleProblem`] has N knots spaced by `dt`; the decision
//! vector `z ∈ R^{5N}` is knot-major, `z[5k..5k+5] = (x_k, v_k, θ_k, ω_k, a_k)`.
//!
//! * cost `J(z) = Σ_k dt·[a_k² + 1e-3·(x_k² + v_k² + ω_k²)]` ([`CartpoleProblem::cost`]);
//! * equalities `c ∈ R^{4N+4}` ([`CartpoleProblem::equalities`]): `c[0..4] = s_0`, then the
//!   trapezoidal defects `c[4+4k+r] = s_{k+1}[r] − s_k[r] − (dt/2)(f(s_k,a_k) + f(s_{k+1},a_{k+1}))[r]`
//!   for `k = 0..N−1`, then `c[4N..4N+4] = s_{N−1} − (0, 0, π, 0)`;
//! * inequalities `g ∈ R^{4N}`, `g ≤ 0` ([`CartpoleProblem::inequalities`]):
//!   `g[4k..4k+4] = (x_k − 1, −x_k − 1, a_k − 4, −a_k − 4)`.
//!
//! # The augmented Lagrangian
//!
//! ```text
//! L_A(z; λ, μ, ρ) = J + λᵀc + (ρ/2)‖c‖² + (1/(2ρ)) Σ_j [ max(0, μ_j + ρ·g_j)² − μ_j² ]
//! ```
//!
//! is [`AugmentedLagrangian::value`]; [`benchmark`] gives it at the evaluation point of the
//! spec (λ = μ = 0.1, ρ = 10), and [`AugmentedLagrangian::reference`] its exact gradient and
//! Hessian on the structural pattern [`hessian_pattern`]`(N)`.
//!
//! # Composite structure
//!
//! Every function above is a sum or a list of *rows*, each a small function of at most
//! [`MAX_ROW_VARS`] = 6 entries of z: [`CartpoleProblem::equality_rows`] (one per entry of c,
//! in order), [`CartpoleProblem::inequality_rows`] (one per entry of g) and
//! [`CartpoleProblem::cost_terms`] (one per knot, `J = Σ_k J_k`). A [`Row`] gives its variable
//! indices ([`Row::vars`], strictly increasing) and evaluates itself on the local values,
//! generically ([`Row::eval`]). With them
//!
//! ```text
//! ∇²L_A = Σ_k ∇²J_k + Σ_i (λ_i + ρ·c_i)·∇²c_i + ρ·J_cᵀJ_c
//!         + Σ_{j : μ_j + ρ·g_j > 0} [ ρ·∇g_j∇g_jᵀ + (μ_j + ρ·g_j)·∇²g_j ]
//! ```
//!
//! where J_c is the (4N+4)×5N Jacobian of c (pattern [`CartpoleProblem::equality_jacobian_pattern`],
//! at most 6 entries a row). Only the ω-defect rows are not affine ([`Row::is_affine`]), so
//! the curvature term has N − 1 local 6×6 Hessians; `∇²g_j = 0` and `∇²J_k` is diagonal.
//! The union over rows of `vars × vars` is exactly the structural pattern
//! [`hessian_pattern`]`(N)`.
//!
//! ```
//! use sparsediff_problems::cartpole::{self, CartpoleProblem};
//!
//! let (la, z) = cartpole::benchmark(100);
//! let value: f64 = la.value(&z);
//! assert!((value / 5.626250945601e+02 - 1.0).abs() < 1e-12);
//!
//! // the constraint values, row by row, from the local functions
//! let problem = CartpoleProblem::new(100);
//! let c = problem.equalities(&z);
//! for (i, row) in problem.equality_rows().enumerate() {
//!     let local: Vec<f64> = row.vars().iter().map(|&v| z[v]).collect();
//!     assert_eq!(row.eval(&local), c[i]);
//! }
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use std::f64::consts::PI;

use num_dual::{Dual2SVec64, DualNum};

use sparsediff_composite::{CompositeError, CompositeHessian, Outer, RowFunctions};
use sparsediff_pattern::{MAX_NNZ, Pattern, PatternError};

use crate::{Scalar, check_len};

/// Entries of z per knot: `(x, v, θ, ω, a)`.
pub const VARS_PER_KNOT: usize = 5;
/// Entries of the state `(x, v, θ, ω)`.
pub const STATE_DIM: usize = 4;
/// Gravitational acceleration g, m/s².
pub const GRAVITY: f64 = 9.81;
/// Pole length L, m.
pub const POLE_LENGTH: f64 = 0.5;
/// Weight of `x² + v² + ω²` relative to `a²` in the cost.
pub const STATE_WEIGHT: f64 = 1e-3;
/// Half-length of the track: `|x| ≤ 1` m.
pub const TRACK_LIMIT: f64 = 1.0;
/// Control limit: `|a| ≤ 4` m/s².
pub const ACCEL_LIMIT: f64 = 4.0;
/// The start state (hanging, at rest).
pub const START: [f64; STATE_DIM] = [0.0, 0.0, 0.0, 0.0];
/// The final state (upright, at rest, cart at the origin).
pub const TARGET: [f64; STATE_DIM] = [0.0, 0.0, PI, 0.0];
/// `dt = HORIZON_FACTOR / N` in [`CartpoleProblem::new`] (0.05 s at N = 100, 0.005 s at
/// N = 1000, as in the spec).
pub const HORIZON_FACTOR: f64 = 5.0;
/// Most variables a [`Row`] depends on (the ω-defect rows).
pub const MAX_ROW_VARS: usize = 6;
/// λ_i of the benchmark evaluation point.
pub const BENCH_LAMBDA: f64 = 0.1;
/// μ_j of the benchmark evaluation point.
pub const BENCH_MU: f64 = 0.1;
/// ρ of the benchmark evaluation point.
pub const BENCH_RHO: f64 = 10.0;

/// Within-knot offsets of the variables each state's defect row depends on (at knot k,
/// then the same offsets at knot k + 1): x: (x, v), v: (v, a), θ: (θ, ω), ω: (θ, ω, a).
const DEFECT_DEPS: [&[usize]; STATE_DIM] = [&[0, 1], &[1, 4], &[2, 3], &[2, 3, 4]];
/// Within-knot offsets of the cost term's variables: (x, v, ω, a).
const COST_DEPS: [usize; 4] = [0, 1, 3, 4];

/// `ω' = −(3/(2L))·(g·sin θ + a·cos θ)`.
#[inline]
fn omega_dot<D: Scalar>(theta: D, a: D) -> D {
    (theta.sin() * GRAVITY + a * theta.cos()) * (-3.0 / (2.0 * POLE_LENGTH))
}

/// The model right-hand side `f(s, a)` for the state `s = (x, v, θ, ω)` and control `a`.
///
/// ```
/// use sparsediff_problems::cartpole::dynamics;
/// let f = dynamics([0.1, 0.2, std::f64::consts::FRAC_PI_2, 0.4], 1.0);
/// assert_eq!(f[..3], [0.2, 1.0, 0.4]);
/// assert!((f[3] + 3.0 * 9.81).abs() < 1e-12); // −3·(g·1 + a·0)
/// ```
#[inline]
pub fn dynamics<D: Scalar>(s: [D; STATE_DIM], a: D) -> [D; STATE_DIM] {
    [s[1], a, s[3], omega_dot(s[2], a)]
}

/// The transcribed swing-up problem: N knots spaced by dt.
///
/// ```
/// use sparsediff_problems::cartpole::CartpoleProblem;
/// let p = CartpoleProblem::new(100);
/// assert_eq!((p.knots(), p.dt()), (100, 0.05));
/// assert_eq!((p.num_vars(), p.num_equalities(), p.num_inequalities()), (500, 404, 400));
/// assert!(CartpoleProblem::try_with(1, 0.1).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CartpoleProblem {
    knots: usize,
    dt: f64,
}

impl CartpoleProblem {
    /// The problem with `knots` knots and `dt = 5 / knots` (the spec's sizes: N = 100 with
    /// dt = 0.05, N = 1000 with dt = 0.005).
    ///
    /// # Panics
    /// If `knots < 2`; see [`try_with`](Self::try_with) for a fallible constructor.
    pub fn new(knots: usize) -> Self {
        Self::with(knots, HORIZON_FACTOR / knots as f64)
    }

    /// The problem with `knots` knots spaced by `dt`.
    ///
    /// # Panics
    /// If `knots < 2` or `dt` is not finite and positive; see [`try_with`](Self::try_with).
    pub fn with(knots: usize, dt: f64) -> Self {
        match Self::try_with(knots, dt) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    /// The problem with `knots` knots spaced by `dt`, or
    /// [`PatternError::InvalidParameter`] if `knots < 2` or `dt` is not finite and positive.
    pub fn try_with(knots: usize, dt: f64) -> Result<Self, PatternError> {
        let invalid = |param: &'static str, value: String, reason: &'static str| {
            PatternError::InvalidParameter {
                generator: "cartpole",
                param,
                value,
                reason,
            }
        };
        if knots < 2 {
            return Err(invalid(
                "N",
                knots.to_string(),
                "must be at least 2 (a trajectory needs two knots)",
            ));
        }
        if !(dt.is_finite() && dt > 0.0) {
            return Err(invalid("dt", dt.to_string(), "must be finite and positive"));
        }
        Ok(Self { knots, dt })
    }

    /// Number of knots N.
    pub fn knots(&self) -> usize {
        self.knots
    }

    /// Time step dt.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Duration `T = (N − 1)·dt`.
    pub fn horizon(&self) -> f64 {
        (self.knots - 1) as f64 * self.dt
    }

    /// Length of z: 5N.
    pub fn num_vars(&self) -> usize {
        VARS_PER_KNOT * self.knots
    }

    /// Length of c: 4N + 4.
    pub fn num_equalities(&self) -> usize {
        STATE_DIM * self.knots + STATE_DIM
    }

    /// Length of g: 4N.
    pub fn num_inequalities(&self) -> usize {
        4 * self.knots
    }

    /// The evaluation point of the benchmarks, with `t_k = k·dt`, `T = (N−1)·dt`:
    /// `x_k = 0.5·sin(2π t_k/T)`, `v_k = 0.5·(2π/T)·cos(2π t_k/T)`, `θ_k = π t_k/T`,
    /// `ω_k = π/T`, `a_k = sin(3 t_k)`.
    pub fn eval_point(&self) -> Vec<f64> {
        let big_t = self.horizon();
        let mut z = Vec::with_capacity(self.num_vars());
        for k in 0..self.knots {
            let t = k as f64 * self.dt;
            let phase = 2.0 * PI * t / big_t;
            z.extend([
                0.5 * phase.sin(),
                0.5 * (2.0 * PI / big_t) * phase.cos(),
                PI * t / big_t,
                PI / big_t,
                (3.0 * t).sin(),
            ]);
        }
        z
    }

    /// The initial guess for solves: `x = v = a = 0`, `θ_k = π·k/(N−1)`,
    /// `ω_k = π/((N−1)·dt)`.
    pub fn initial_guess(&self) -> Vec<f64> {
        let last = (self.knots - 1) as f64;
        let mut z = Vec::with_capacity(self.num_vars());
        for k in 0..self.knots {
            z.extend([0.0, 0.0, PI * k as f64 / last, PI / (last * self.dt), 0.0]);
        }
        z
    }

    #[track_caller]
    fn check_z(&self, len: usize) {
        check_len("cartpole decision vector z", len, self.num_vars());
    }

    /// `J(z) = Σ_k dt·[a_k² + 1e-3·(x_k² + v_k² + ω_k²)]`.
    ///
    /// # Panics
    /// If `z.len() != 5N` (likewise for every function of z below).
    pub fn cost<D: Scalar>(&self, z: &[D]) -> D {
        self.check_z(z.len());
        let mut j = D::zero();
        for knot in z.chunks_exact(VARS_PER_KNOT) {
            j += cost_term(knot[0], knot[1], knot[3], knot[4], self.dt);
        }
        j
    }

    /// Calls `visit(i, c_i)` for every equality, in order.
    fn visit_equalities<D: Scalar>(&self, z: &[D], mut visit: impl FnMut(usize, D)) {
        self.check_z(z.len());
        let n = self.knots;
        let half_dt = 0.5 * self.dt;
        let state = |k: usize| -> [D; STATE_DIM] {
            let b = VARS_PER_KNOT * k;
            [z[b], z[b + 1], z[b + 2], z[b + 3]]
        };
        for (r, &target) in START.iter().enumerate() {
            visit(r, z[r] - target);
        }
        let mut s0 = state(0);
        let mut f0 = dynamics(s0, z[4]);
        for k in 0..n - 1 {
            let s1 = state(k + 1);
            let f1 = dynamics(s1, z[VARS_PER_KNOT * (k + 1) + 4]);
            for r in 0..STATE_DIM {
                visit(4 + 4 * k + r, defect(s0[r], s1[r], f0[r], f1[r], half_dt));
            }
            s0 = s1;
            f0 = f1;
        }
        let last = VARS_PER_KNOT * (n - 1);
        for (r, &target) in TARGET.iter().enumerate() {
            visit(STATE_DIM * n + r, z[last + r] - target);
        }
    }

    /// The equality constraints `c(z) ∈ R^{4N+4}`, in the documented order.
    pub fn equalities<D: Scalar>(&self, z: &[D]) -> Vec<D> {
        let mut c = vec![D::zero(); self.num_equalities()];
        self.equalities_into(z, &mut c);
        c
    }

    /// [`equalities`](Self::equalities) into a caller's buffer of length 4N + 4.
    ///
    /// # Panics
    /// If a length is wrong.
    pub fn equalities_into<D: Scalar>(&self, z: &[D], out: &mut [D]) {
        check_len("cartpole equality buffer", out.len(), self.num_equalities());
        self.visit_equalities(z, |i, c| out[i] = c);
    }

    /// Calls `visit(j, g_j)` for every inequality, in order.
    fn visit_inequalities<D: Scalar>(&self, z: &[D], mut visit: impl FnMut(usize, D)) {
        self.check_z(z.len());
        for (k, knot) in z.chunks_exact(VARS_PER_KNOT).enumerate() {
            for (b, bound) in Bound::ALL.into_iter().enumerate() {
                let var = knot[bound.offset()];
                visit(4 * k + b, bound.eval(var));
            }
        }
    }

    /// The inequality constraints `g(z) ∈ R^{4N}` (feasible when `g ≤ 0`):
    /// `g[4k..4k+4] = (x_k − 1, −x_k − 1, a_k − 4, −a_k − 4)`.
    pub fn inequalities<D: Scalar>(&self, z: &[D]) -> Vec<D> {
        let mut g = vec![D::zero(); self.num_inequalities()];
        self.inequalities_into(z, &mut g);
        g
    }

    /// [`inequalities`](Self::inequalities) into a caller's buffer of length 4N.
    ///
    /// # Panics
    /// If a length is wrong.
    pub fn inequalities_into<D: Scalar>(&self, z: &[D], out: &mut [D]) {
        check_len(
            "cartpole inequality buffer",
            out.len(),
            self.num_inequalities(),
        );
        self.visit_inequalities(z, |j, g| out[j] = g);
    }

    /// Row `i` of c as a local function.
    ///
    /// # Panics
    /// If `i >= 4N + 4`.
    pub fn equality_row(&self, i: usize) -> Row {
        let n = self.knots;
        assert!(
            i < self.num_equalities(),
            "equality row {i} out of range (4N + 4 = {})",
            self.num_equalities()
        );
        if i < STATE_DIM {
            Row::single(RowKind::Initial { component: i }, i, self.dt)
        } else if i < STATE_DIM * n {
            let (knot, component) = ((i - STATE_DIM) / STATE_DIM, (i - STATE_DIM) % STATE_DIM);
            let deps = DEFECT_DEPS[component];
            let mut vars = [0; MAX_ROW_VARS];
            for (a, &d) in deps.iter().enumerate() {
                vars[a] = VARS_PER_KNOT * knot + d;
                vars[a + deps.len()] = VARS_PER_KNOT * (knot + 1) + d;
            }
            Row {
                kind: RowKind::Defect { knot, component },
                dt: self.dt,
                vars,
                len: 2 * deps.len(),
            }
        } else {
            let component = i - STATE_DIM * n;
            let var = VARS_PER_KNOT * (n - 1) + component;
            Row::single(RowKind::Terminal { component }, var, self.dt)
        }
    }

    /// Row `j` of g as a local function.
    ///
    /// # Panics
    /// If `j >= 4N`.
    pub fn inequality_row(&self, j: usize) -> Row {
        assert!(
            j < self.num_inequalities(),
            "inequality row {j} out of range (4N = {})",
            self.num_inequalities()
        );
        let (knot, bound) = (j / 4, Bound::ALL[j % 4]);
        let var = VARS_PER_KNOT * knot + bound.offset();
        Row::single(RowKind::Bound { knot, bound }, var, self.dt)
    }

    /// The cost term `J_k` of knot `k` as a local function (`J = Σ_k J_k`).
    ///
    /// # Panics
    /// If `k >= N`.
    pub fn cost_term(&self, k: usize) -> Row {
        assert!(k < self.knots, "knot {k} out of range (N = {})", self.knots);
        let mut vars = [0; MAX_ROW_VARS];
        for (a, &d) in COST_DEPS.iter().enumerate() {
            vars[a] = VARS_PER_KNOT * k + d;
        }
        Row {
            kind: RowKind::Cost { knot: k },
            dt: self.dt,
            vars,
            len: COST_DEPS.len(),
        }
    }

    /// The rows of c, in order (4N + 4 of them).
    pub fn equality_rows(&self) -> impl ExactSizeIterator<Item = Row> + use<> {
        let p = *self;
        (0..p.num_equalities()).map(move |i| p.equality_row(i))
    }

    /// The rows of g, in order (4N of them).
    pub fn inequality_rows(&self) -> impl ExactSizeIterator<Item = Row> + use<> {
        let p = *self;
        (0..p.num_inequalities()).map(move |j| p.inequality_row(j))
    }

    /// The cost terms, one per knot, in order.
    pub fn cost_terms(&self) -> impl ExactSizeIterator<Item = Row> + use<> {
        let p = *self;
        (0..p.knots).map(move |k| p.cost_term(k))
    }

    /// The structural pattern of ∇²L_A: [`hessian_pattern`]`(N)` (4470 entries at
    /// N = 100, 44970 at N = 1000).
    pub fn hessian_pattern(&self) -> Result<Pattern, PatternError> {
        hessian_pattern(self.knots)
    }

    /// The (4N+4)×5N pattern of the Jacobian of c (row i holds
    /// [`equality_row`](Self::equality_row)`(i).vars()`).
    pub fn equality_jacobian_pattern(&self) -> Result<Pattern, PatternError> {
        rows_pattern(self.equality_rows(), self.num_vars())
    }

    /// The 4N×5N pattern of the Jacobian of g (one entry a row).
    pub fn inequality_jacobian_pattern(&self) -> Result<Pattern, PatternError> {
        rows_pattern(self.inequality_rows(), self.num_vars())
    }
}

fn rows_pattern(
    rows: impl ExactSizeIterator<Item = Row>,
    ncols: usize,
) -> Result<Pattern, PatternError> {
    let nrows = rows.len();
    let mut row_ptr = Vec::with_capacity(nrows + 1);
    let mut col_idx = Vec::with_capacity(nrows * MAX_ROW_VARS);
    row_ptr.push(0);
    for row in rows {
        col_idx.extend_from_slice(row.vars());
        row_ptr.push(col_idx.len());
    }
    Pattern::from_csr(nrows, ncols, row_ptr, col_idx)
}

/// The structural pattern of ∇²L_A with `knots` knots (5·knots variables, knot-major
/// `z[5k..5k+5] = (x_k, v_k, θ_k, ω_k, a_k)`), both triangles.
///
/// It is the union of the cost's diagonal, the inequality terms' diagonal, and, for every
/// trapezoidal defect row between knots k and k+1, the square of the variables that row
/// depends on (the penalty's JᵀJ, which contains the defect Hessians):
/// `x`: {x, v}, `v`: {v, a}, `θ`: {θ, ω}, `ω`: {θ, ω, a} at both knots. Structural nnz is
/// 45·N − 30 (4470 at N = 100), half-bandwidth 8, at most 12 entries per row.
///
/// Errors with [`PatternError::InvalidParameter`] if `knots < 2`, and with
/// [`PatternError::TooLarge`] before allocating a pattern of more than
/// [`MAX_NNZ`] entries.
///
/// ```
/// use sparsediff_problems::cartpole;
///
/// let p = cartpole::hessian_pattern(100)?;
/// assert_eq!((p.nrows(), p.nnz()), (500, 4470));
/// assert_eq!(p.bandwidth(), (8, 8));
/// assert_eq!(p.row(0), &[0, 1, 5, 6]); // x_0: the x-defect between knots 0 and 1
/// assert!(cartpole::hessian_pattern(1).is_err());
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn hessian_pattern(knots: usize) -> Result<Pattern, PatternError> {
    if knots < 2 {
        return Err(PatternError::InvalidParameter {
            generator: "cartpole",
            param: "N",
            value: knots.to_string(),
            reason: "must be at least 2 (a trajectory needs two knots)",
        });
    }
    // The exact count (not the 89·N triplets of the defect squares before merging), so
    // that every N whose pattern fits MAX_NNZ is accepted.
    let nnz = hessian_nnz(knots);
    if nnz > MAX_NNZ as u128 {
        return Err(PatternError::TooLarge {
            what: "nnz",
            value: nnz,
            limit: MAX_NNZ as u128,
        });
    }
    let n = knots * VARS_PER_KNOT;
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut col_idx = Vec::with_capacity(nnz as usize);
    let mut cols = Vec::with_capacity(2 * VARS_PER_KNOT * STATE_DIM);
    row_ptr.push(0);
    for v in 0..n {
        let (k, offset) = (v / VARS_PER_KNOT, v % VARS_PER_KNOT);
        cols.clear();
        cols.push(v);
        // The defect rows between knots k-1, k and k, k+1 that depend on this variable.
        for interval in k.saturating_sub(1)..=k.min(knots - 2) {
            for deps in DEFECT_DEPS.iter().filter(|deps| deps.contains(&offset)) {
                for &d in *deps {
                    cols.push(VARS_PER_KNOT * interval + d);
                    cols.push(VARS_PER_KNOT * (interval + 1) + d);
                }
            }
        }
        cols.sort_unstable();
        cols.dedup();
        col_idx.extend_from_slice(&cols);
        row_ptr.push(col_idx.len());
    }
    Pattern::from_csr(n, n, row_ptr, col_idx)
}

/// Structural nnz of [`hessian_pattern`] with `knots` ≥ 2 knots: the rows of (x, v, θ, ω,
/// a) hold 6, 9, 9, 9, 12 entries at an interior knot (45) and 4, 6, 6, 6, 8 at either end
/// knot (30), so 45·(N − 2) + 60 = 45·N − 30.
fn hessian_nnz(knots: usize) -> u128 {
    45 * knots as u128 - 30
}

/// `dt·[a² + 1e-3·(x² + v² + ω²)]`.
#[inline]
fn cost_term<D: Scalar>(x: D, v: D, omega: D, a: D, dt: f64) -> D {
    (a * a + (x * x + v * v + omega * omega) * STATE_WEIGHT) * dt
}

/// The trapezoidal defect `s1 − s0 − (dt/2)·(f0 + f1)`.
#[inline]
fn defect<D: Scalar>(s0: D, s1: D, f0: D, f1: D, half_dt: f64) -> D {
    s1 - s0 - (f0 + f1) * half_dt
}

/// One of the four bounds of a knot, in the order of g.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bound {
    /// `x_k − 1 ≤ 0`.
    TrackUpper,
    /// `−x_k − 1 ≤ 0`.
    TrackLower,
    /// `a_k − 4 ≤ 0`.
    AccelUpper,
    /// `−a_k − 4 ≤ 0`.
    AccelLower,
}

impl Bound {
    /// The bounds in the order of `g[4k..4k+4]`.
    pub const ALL: [Bound; 4] = [
        Bound::TrackUpper,
        Bound::TrackLower,
        Bound::AccelUpper,
        Bound::AccelLower,
    ];

    /// Within-knot offset of the bounded variable (0 for x, 4 for a).
    pub fn offset(self) -> usize {
        match self {
            Bound::TrackUpper | Bound::TrackLower => 0,
            Bound::AccelUpper | Bound::AccelLower => 4,
        }
    }

    /// `g` as a function of the bounded variable.
    #[inline]
    pub fn eval<D: Scalar>(self, var: D) -> D {
        match self {
            Bound::TrackUpper => var - TRACK_LIMIT,
            Bound::TrackLower => -var - TRACK_LIMIT,
            Bound::AccelUpper => var - ACCEL_LIMIT,
            Bound::AccelLower => -var - ACCEL_LIMIT,
        }
    }
}

/// What a [`Row`] computes, and the layout of its local variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowKind {
    /// `c[component] = s_0[component] − 0`; one variable, `z[component]`.
    Initial {
        /// State component (0 = x, 1 = v, 2 = θ, 3 = ω).
        component: usize,
    },
    /// `c[4 + 4·knot + component]`, the trapezoidal defect of one state component between
    /// knots `knot` and `knot + 1`. Local variables: the component's dependencies at `knot`,
    /// then the same at `knot + 1` — x: `(x, v)`, v: `(v, a)`, θ: `(θ, ω)`, ω: `(θ, ω, a)` —
    /// so 4 variables (6 for ω).
    Defect {
        /// The earlier knot k (0..N−1).
        knot: usize,
        /// State component (0 = x, 1 = v, 2 = θ, 3 = ω).
        component: usize,
    },
    /// `c[4N + component] = s_{N−1}[component] − (0, 0, π, 0)[component]`; one variable.
    Terminal {
        /// State component (0 = x, 1 = v, 2 = θ, 3 = ω).
        component: usize,
    },
    /// `g[4·knot + b]` where `b` is the position of `bound` in [`Bound::ALL`]; one variable.
    Bound {
        /// The knot.
        knot: usize,
        /// Which bound.
        bound: Bound,
    },
    /// `J_k = dt·[a_k² + 1e-3·(x_k² + v_k² + ω_k²)]`; local variables `(x_k, v_k, ω_k, a_k)`.
    Cost {
        /// The knot k.
        knot: usize,
    },
}

/// One row of c or g, or one cost term: a scalar function of at most [`MAX_ROW_VARS`]
/// entries of z, evaluable on any scalar type.
///
/// ```
/// use sparsediff_problems::cartpole::{CartpoleProblem, RowKind};
///
/// let p = CartpoleProblem::new(100);
/// let row = p.equality_row(4 + 4 * 7 + 3); // the ω-defect between knots 7 and 8
/// assert_eq!(row.kind(), RowKind::Defect { knot: 7, component: 3 });
/// assert_eq!(row.vars(), &[37, 38, 39, 42, 43, 44]); // (θ, ω, a) at knots 7 and 8
/// assert!(!row.is_affine());
/// let z = p.eval_point();
/// assert_eq!(row.eval_global(&z), p.equalities(&z)[4 + 4 * 7 + 3]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    kind: RowKind,
    dt: f64,
    vars: [usize; MAX_ROW_VARS],
    len: usize,
}

impl Row {
    fn single(kind: RowKind, var: usize, dt: f64) -> Self {
        let mut vars = [0; MAX_ROW_VARS];
        vars[0] = var;
        Row {
            kind,
            dt,
            vars,
            len: 1,
        }
    }

    /// What the row computes (and in which layout it takes its local variables).
    pub fn kind(&self) -> RowKind {
        self.kind
    }

    /// The indices into z of the row's local variables, strictly increasing (1 to 6 of
    /// them). The local function [`eval`](Self::eval) takes their values in this order.
    pub fn vars(&self) -> &[usize] {
        &self.vars[..self.len]
    }

    /// Whether the row is an affine function of its variables (zero Hessian): every row but
    /// the ω-defects and the cost terms.
    pub fn is_affine(&self) -> bool {
        match self.kind {
            RowKind::Defect { component, .. } => component != 3,
            RowKind::Cost { .. } => false,
            RowKind::Initial { .. } | RowKind::Terminal { .. } | RowKind::Bound { .. } => true,
        }
    }

    /// The row's value from the values of its local variables, `local[a] = z[vars()[a]]`;
    /// reads `local[..vars().len()]` and ignores the rest (so padded buffers of
    /// [`MAX_ROW_VARS`] entries work). Gives bitwise the same value as the entry of
    /// [`CartpoleProblem::equalities`], [`inequalities`](CartpoleProblem::inequalities) or
    /// the cost term summed by [`cost`](CartpoleProblem::cost).
    ///
    /// # Panics
    /// If `local` is shorter than `vars()`.
    #[inline]
    pub fn eval<D: Scalar>(&self, local: &[D]) -> D {
        assert!(
            local.len() >= self.len,
            "row {:?} needs {} local values, got {}",
            self.kind,
            self.len,
            local.len()
        );
        let h = 0.5 * self.dt;
        match self.kind {
            RowKind::Initial { component } => local[0] - START[component],
            RowKind::Terminal { component } => local[0] - TARGET[component],
            RowKind::Bound { bound, .. } => bound.eval(local[0]),
            RowKind::Cost { .. } => cost_term(local[0], local[1], local[2], local[3], self.dt),
            RowKind::Defect { component, .. } => match component {
                // local = (s, f(s)) at k, then at k + 1: f is the next dependency
                0..=2 => defect(local[0], local[2], local[1], local[3], h),
                _ => {
                    let f0 = omega_dot(local[0], local[2]);
                    let f1 = omega_dot(local[3], local[5]);
                    defect(local[1], local[4], f0, f1, h)
                }
            },
        }
    }

    /// The row's value, gathering its local variables from the whole of z.
    ///
    /// # Panics
    /// If z is too short for the row's variables.
    pub fn eval_global<D: Scalar>(&self, z: &[D]) -> D {
        let mut local = [z[self.vars[0]]; MAX_ROW_VARS];
        for (l, &v) in local.iter_mut().zip(self.vars()) {
            *l = z[v];
        }
        self.eval(&local)
    }
}

/// `λ·c + (ρ/2)·c²`: the contribution of one equality to L_A.
#[inline]
fn equality_term<D: Scalar>(c: D, lambda: f64, rho: f64) -> D {
    c * lambda + c * c * (0.5 * rho)
}

/// `(1/(2ρ))·[max(0, μ + ρ·g)² − μ²]`: the contribution of one inequality to L_A. The max
/// is a comparison on the value, so every scalar type follows the same branch.
#[inline]
fn inequality_term<D: Scalar>(g: D, mu: f64, rho: f64) -> D {
    let t = g * rho + mu;
    let active = if t > 0.0 { t * t } else { D::zero() };
    (active - mu * mu) * (0.5 / rho)
}

/// The augmented Lagrangian of a [`CartpoleProblem`] for given multipliers and penalty:
///
/// ```text
/// L_A(z) = J + λᵀc + (ρ/2)‖c‖² + (1/(2ρ)) Σ_j [ max(0, μ_j + ρ·g_j)² − μ_j² ]
/// ```
///
/// ```
/// use sparsediff_problems::cartpole::{AugmentedLagrangian, CartpoleProblem};
///
/// let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(1000));
/// let z = la.eval_point();
/// let value: f64 = la.value(&z);
/// assert!((value / 7.280844334764e+01 - 1.0).abs() < 1e-12);
/// let reference = la.reference(&z)?;
/// assert_eq!(reference.pattern.nnz(), 44970);
/// assert!((reference.value - value).abs() < 1e-12 * value);
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AugmentedLagrangian {
    /// The transcribed problem.
    pub problem: CartpoleProblem,
    /// Multipliers of the equalities, length 4N + 4.
    pub lambda: Vec<f64>,
    /// Multipliers of the inequalities, length 4N.
    pub mu: Vec<f64>,
    /// Penalty parameter ρ > 0.
    pub rho: f64,
}

/// Exact derivatives of L_A at a point (see [`AugmentedLagrangian::reference`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// L_A(z), as the sum of the element values.
    pub value: f64,
    /// ∇L_A(z).
    pub gradient: Vec<f64>,
    /// The structural pattern of the Hessian, [`hessian_pattern`]`(N)` (both
    /// triangles).
    pub pattern: Pattern,
    /// ∇²L_A(z) in the CSR order of `pattern`.
    pub hessian: Vec<f64>,
}

impl AugmentedLagrangian {
    /// L_A for the given multipliers and penalty.
    ///
    /// # Panics
    /// If `lambda.len() != 4N + 4`, `mu.len() != 4N`, or ρ is not finite and positive.
    pub fn new(problem: CartpoleProblem, lambda: Vec<f64>, mu: Vec<f64>, rho: f64) -> Self {
        let la = Self {
            problem,
            lambda,
            mu,
            rho,
        };
        la.check();
        la
    }

    /// L_A of the benchmarks: all `λ_i = 0.1`, all `μ_j = 0.1`, `ρ = 10`.
    pub fn benchmark(problem: CartpoleProblem) -> Self {
        Self::new(
            problem,
            vec![BENCH_LAMBDA; problem.num_equalities()],
            vec![BENCH_MU; problem.num_inequalities()],
            BENCH_RHO,
        )
    }

    /// The benchmarks' evaluation point z ([`CartpoleProblem::eval_point`]).
    pub fn eval_point(&self) -> Vec<f64> {
        self.problem.eval_point()
    }

    /// Length of z, 5N.
    pub fn num_vars(&self) -> usize {
        self.problem.num_vars()
    }

    #[track_caller]
    fn check(&self) {
        check_len("λ", self.lambda.len(), self.problem.num_equalities());
        check_len("μ", self.mu.len(), self.problem.num_inequalities());
        assert!(
            self.rho.is_finite() && self.rho > 0.0,
            "ρ = {} must be finite and positive",
            self.rho
        );
    }

    /// L_A(z), for any scalar type. Allocation-free.
    ///
    /// # Panics
    /// If `z.len() != 5N` or the multipliers have the wrong lengths.
    pub fn value<D: Scalar>(&self, z: &[D]) -> D {
        self.check();
        let rho = self.rho;
        let mut total = self.problem.cost(z);
        self.problem.visit_equalities(z, |i, c| {
            total += equality_term(c, self.lambda[i], rho);
        });
        self.problem.visit_inequalities(z, |j, g| {
            total += inequality_term(g, self.mu[j], rho);
        });
        total
    }

    /// Calls `visit(row, φ)` for every element of L_A = Σ φ: the cost terms `J_k`, the
    /// equality terms `λ_i c_i + (ρ/2) c_i²` and the inequality terms, each evaluated on
    /// second-order num-dual numbers seeded on the row's local variables.
    fn for_each_element(&self, z: &[f64], mut visit: impl FnMut(&Row, Dual2SVec64<MAX_ROW_VARS>)) {
        self.check();
        self.problem.check_z(z.len());
        let seed = |row: &Row| -> [Dual2SVec64<MAX_ROW_VARS>; MAX_ROW_VARS] {
            std::array::from_fn(|a| match row.vars().get(a) {
                Some(&v) => Dual2SVec64::from_re(z[v]).derivative(a),
                None => Dual2SVec64::from_re(0.0),
            })
        };
        for row in self.problem.cost_terms() {
            visit(&row, row.eval(&seed(&row)));
        }
        for (i, row) in self.problem.equality_rows().enumerate() {
            let c = row.eval(&seed(&row));
            visit(&row, equality_term(c, self.lambda[i], self.rho));
        }
        for (j, row) in self.problem.inequality_rows().enumerate() {
            let g = row.eval(&seed(&row));
            visit(&row, inequality_term(g, self.mu[j], self.rho));
        }
    }

    /// The exact value, gradient and Hessian of L_A at z, computed without any of this
    /// crate's AD: L_A is split into elements (each cost term, each `λ_i c_i + (ρ/2) c_i²`,
    /// each inequality term — functions of at most 6 variables, see [`Row`]), each element's
    /// local gradient and Hessian comes from num-dual's second-order forward numbers
    /// (`Dual2SVec64<6>`, exact up to rounding), and the local matrices are summed into the
    /// structural pattern [`hessian_pattern`]`(N)`.
    ///
    /// Errors only if the pattern cannot be built (N beyond the limits of [`Pattern`]).
    ///
    /// # Panics
    /// If `z.len() != 5N` or the multipliers have the wrong lengths.
    pub fn reference(&self, z: &[f64]) -> Result<Reference, PatternError> {
        let pattern = self.problem.hessian_pattern()?;
        let mut hessian = vec![0.0; pattern.nnz()];
        let mut gradient = vec![0.0; self.num_vars()];
        let mut value = 0.0;
        self.for_each_element(z, |row, phi| {
            value += phi.re;
            let vars = row.vars();
            if let Some(g) = phi.v1.0 {
                for (a, &va) in vars.iter().enumerate() {
                    gradient[va] += g[a];
                }
            }
            if let Some(h) = phi.v2.0 {
                for (a, &va) in vars.iter().enumerate() {
                    for (b, &vb) in vars.iter().enumerate() {
                        let hab = h[(a, b)];
                        match pattern.position(va, vb) {
                            Some(pos) => hessian[pos] += hab,
                            // the cost terms couple (x, v, ω, a) of a knot in one element
                            // but are separable: their cross entries are exactly zero.
                            None => assert!(
                                hab == 0.0,
                                "internal error: element {:?} has Hessian entry ({va}, {vb}) \
                                 = {hab} outside the cartpole pattern",
                                row.kind()
                            ),
                        }
                    }
                }
            }
        });
        Ok(Reference {
            value,
            gradient,
            pattern,
            hessian,
        })
    }

    /// The exact Hessian of L_A at z on the structural pattern [`hessian_pattern`]`(N)`:
    /// `(pattern, values in its CSR order)`; see [`reference`](Self::reference).
    pub fn hessian_reference(&self, z: &[f64]) -> Result<(Pattern, Vec<f64>), PatternError> {
        let r = self.reference(z)?;
        Ok((r.pattern, r.hessian))
    }

    /// The exact gradient of L_A at z, element by element with num-dual (see
    /// [`reference`](Self::reference)).
    pub fn gradient_reference(&self, z: &[f64]) -> Vec<f64> {
        let mut gradient = vec![0.0; self.num_vars()];
        self.for_each_element(z, |row, phi| {
            if let Some(g) = phi.v1.0 {
                for (a, &va) in row.vars().iter().enumerate() {
                    gradient[va] += g[a];
                }
            }
        });
        gradient
    }

    /// The outer functions ψ of L_A's residuals `r = (c, g)`, one per row of
    /// [`composite_hessian`](Self::composite_hessian)'s residuals: the penalties
    /// `λ_i·c + (ρ/2)·c²` of the equalities, then the inequality terms
    /// `(1/(2ρ))·[max(0, μ_j + ρ·g)² − μ_j²]`.
    pub fn outer_functions(&self) -> Vec<Outer> {
        let rho = self.rho;
        self.lambda
            .iter()
            .map(|&lambda| Outer::Penalty { lambda, rho })
            .chain(self.mu.iter().map(|&mu| Outer::Inequality { mu, rho }))
            .collect()
    }

    /// ∇²L_A on the composite path ([`CompositeHessian`]), prepared around `z0`: the
    /// objective rows are the cost terms [`CartpoleProblem::cost_terms`], the residuals the
    /// rows of c then g ([`CartpoleProblem::equality_rows`], [`inequality_rows`](
    /// CartpoleProblem::inequality_rows)) under [`outer_functions`](Self::outer_functions).
    /// New multipliers or penalty go in with [`CompositeHessian::set_outer`] (residual `i`
    /// is equality `i` for `i < 4N + 4`, then inequality `i − 4N − 4`).
    ///
    /// ```
    /// use sparsediff_problems::cartpole;
    ///
    /// let (la, z) = cartpole::benchmark(100);
    /// let mut h = la.composite_hessian(&z)?;
    /// let (pattern, expected) = la.hessian_reference(&z)?;
    /// assert_eq!(h.pattern(), &pattern);
    /// let got = h.evaluate(&z)?.data();
    /// for (g, e) in got.iter().zip(&expected) {
    ///     assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0));
    /// }
    /// assert!((h.value(&z)? - la.value(&z)).abs() < 1e-10 * la.value(&z).abs());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`CompositeError::WrongLength`] if `z0` does not have 5N entries or the multipliers
    /// do not match the rows (`λ` of length 4N + 4, `μ` of length 4N);
    /// [`CompositeError::InvalidOuter`] if a multiplier or ρ is not finite or ρ ≤ 0.
    pub fn composite_hessian(
        &self,
        z0: &[f64],
    ) -> Result<CompositeHessian<Rows, Rows>, CompositeError> {
        let n = self.num_vars();
        if z0.len() != n {
            return Err(CompositeError::WrongLength {
                what: "cartpole decision vector z0",
                len: z0.len(),
                expected: n,
            });
        }
        let p = self.problem;
        let m = p.num_equalities();
        if self.lambda.len() != m {
            return Err(CompositeError::WrongLength {
                what: "equality multipliers λ (4N + 4)",
                len: self.lambda.len(),
                expected: m,
            });
        }
        if self.mu.len() != p.num_inequalities() {
            return Err(CompositeError::WrongLength {
                what: "inequality multipliers μ (4N)",
                len: self.mu.len(),
                expected: p.num_inequalities(),
            });
        }
        let objective: Rows = p.cost_terms().collect();
        let residuals: Rows = p.equality_rows().chain(p.inequality_rows()).collect();
        CompositeHessian::prepare(objective, residuals, self.outer_functions(), z0)
    }
}

/// Rows of the cartpole problem, as the [`RowFunctions`] of a [`CompositeHessian`] (the
/// composite crate's trait cannot be implemented for `Vec<Row>` here, so the rows are
/// wrapped).
///
/// ```
/// use sparsediff_composite::RowFunctions;
/// use sparsediff_problems::cartpole::{CartpoleProblem, Rows};
///
/// let p = CartpoleProblem::new(10);
/// let rows: Rows = p.equality_rows().collect();
/// assert_eq!(rows.num_rows(), 44);
/// assert_eq!(RowFunctions::vars(&rows, 4), &[0, 1, 5, 6]); // the x-defect of knots 0, 1
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rows(pub Vec<Row>);

impl FromIterator<Row> for Rows {
    fn from_iter<I: IntoIterator<Item = Row>>(iter: I) -> Self {
        Rows(iter.into_iter().collect())
    }
}

impl RowFunctions for Rows {
    fn num_rows(&self) -> usize {
        self.0.len()
    }
    fn vars(&self, i: usize) -> &[usize] {
        self.0[i].vars()
    }
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D {
        self.0[i].eval(local)
    }
}

/// The Hessian benchmark for `knots` knots ([`CartpoleProblem::new`]): L_A with λ = μ = 0.1,
/// ρ = 10, and the evaluation point z.
///
/// # Panics
/// If `knots < 2`.
pub fn benchmark(knots: usize) -> (AugmentedLagrangian, Vec<f64>) {
    let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(knots));
    let z = la.eval_point();
    (la, z)
}

impl sparsediff_ad::ScalarFunction for AugmentedLagrangian {
    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, z: &[D]) -> D {
        self.value(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hessian_structure_matches_the_spec() {
        for (knots, nnz) in [(100, 4470), (1000, 44970)] {
            let p = hessian_pattern(knots).unwrap();
            assert_eq!(p.shape(), (5 * knots, 5 * knots));
            assert_eq!(p.nnz(), nnz);
            assert!(p.is_symmetric());
            assert_eq!(p.bandwidth(), (8, 8));
            assert_eq!(p.row_stats().max, 12);
        }
        assert!(hessian_pattern(1).is_err());
        assert!(hessian_pattern(0).is_err());
    }

    /// The pattern as the spec defines it: the union of the diagonal and the square of every
    /// defect row's variables, merged from triplets.
    fn hessian_from_triplets(knots: usize) -> Pattern {
        let n = knots * VARS_PER_KNOT;
        let (mut rows, mut cols): (Vec<usize>, Vec<usize>) = ((0..n).collect(), (0..n).collect());
        for k in 0..knots - 1 {
            for deps in DEFECT_DEPS {
                let vars = deps
                    .iter()
                    .flat_map(|&d| [VARS_PER_KNOT * k + d, VARS_PER_KNOT * (k + 1) + d]);
                for a in vars.clone() {
                    for b in vars.clone() {
                        rows.push(a);
                        cols.push(b);
                    }
                }
            }
        }
        Pattern::from_triplets(n, n, &rows, &cols).unwrap()
    }

    #[test]
    fn hessian_nnz_is_exact() {
        for knots in [2, 3, 4, 5, 17, 100, 1001] {
            let p = hessian_pattern(knots).unwrap();
            assert_eq!(p, hessian_from_triplets(knots), "N = {knots}");
            assert_eq!(p.nnz() as u128, hessian_nnz(knots), "N = {knots}");
        }
    }

    #[test]
    fn hessian_is_accepted_up_to_max_nnz() {
        // 89·N triplets exceed MAX_NNZ from N = 3 016 128 on, the 45·N − 30 entries only from
        // N = 5 965 233 on: N = 3.1e6 (1.4e8 entries) used to be refused as 275 899 916.
        let knots = 3_100_000;
        let p = hessian_pattern(knots).unwrap();
        assert_eq!(p.nnz(), 139_499_970);
        assert_eq!(p.shape(), (5 * knots, 5 * knots));
        drop(p);
        let largest = (MAX_NNZ + 30) / 45;
        assert!(hessian_nnz(largest) <= MAX_NNZ as u128);
        assert!(matches!(
            hessian_pattern(largest + 1),
            Err(PatternError::TooLarge { what: "nnz", value, .. }) if value == hessian_nnz(largest + 1)
        ));
    }
}
