//! The augmented-Lagrangian Newton solver of a [`Transcribed`](crate::Transcribed) problem (the method of
//! multipliers, PHR for the inequalities), with a Newton inner loop on the sparse Hessian
//! of `L_A` from the [`ElementHessian`](crate::ElementHessian) (each knot's dynamics once
//! per evaluation), factorised by `sparsediff-solve`'s banded LDLᵀ (its symbolic analysis
//! reused across iterations) with IPOPT's inertia correction.
//!
//! On the cartpole swing-up from the spec's guess: 43 Newton iterations and 2.7 ms at
//! N = 100, 53 and 37–41 ms at N = 1000, both to the spec's KKT point with `|a| = 4`
//! active (`papers/cartpole-swingup.md`, which also shows how sensitive the iteration
//! count is to the defaults).
//!
//! # The iteration
//!
//! Outer iteration k minimises `L_A(z; λ_k, μ_k, ρ_k)` approximately, to
//! `‖∇L_A‖∞ ≤ ω_k` (ω₀ = [`SolverParams::initial_inner_tol`], ×
//! [`inner_tol_factor`](SolverParams::inner_tol_factor) per outer iteration), then
//!
//! * `λ ← λ + ρ·c(z)`, `μ ← max(0, μ + ρ·g(z))` (first-order updates);
//! * `ρ ← growth·ρ` when the violation fell by less than
//!   [`required_reduction`](SolverParams::required_reduction) (LANCELOT's rule).
//!
//! Each Newton step: the primal–dual Hessian model `∇²J + Σ yᵢ∇²cᵢ + ρJcᵀJc + PHR terms`,
//! whose constraint curvature is weighted by `y = λ + ρ(c(z_prev) + J(z_prev)Δz)`, the
//! multiplier of the linearised constraints (Armand & Omheni 2017), instead of the exact
//! Hessian's `λ + ρc(z)` ([`SolverParams::primal_dual`]), the banded LDLᵀ of `M + δI` with the smallest δ of the inertia-correction
//! schedule, and a *nonmonotone* Armijo search on L_A (Grippo–Lampariello–Lucidi, memory
//! [`nonmonotone_memory`](SolverParams::nonmonotone_memory)), which lets full steps cross
//! the curved valleys of the penalty.
//!
//! # Stopping on KKT residuals
//!
//! After every Newton step, with `y = λ + ρc(z)` and `w = max(0, μ + ρg(z))` (the
//! multipliers the next update would give):
//!
//! * feasibility `max(‖c(z)‖∞, max_j |max(g_j, −μ_j/ρ)|)` ≤
//!   [`feasibility_tol`](SolverParams::feasibility_tol) — the second term is the PHR
//!   measure of both `g ≤ 0` and complementarity;
//! * stationarity `‖∇J + Jcᵀy + Jgᵀw‖∞ = ‖∇L_A‖∞` ≤
//!   [`stationarity_tol`](SolverParams::stationarity_tol).
//!
//! A run that does not converge returns the iterate with the smallest
//! `max(feasibility/feasibility_tol, stationarity/stationarity_tol)` it met (the *best*
//! iterate) and a [`Status`] saying why it stopped; it never panics.
//!
//! ```
//! use trajectory::{cartpole, Transcribed, Transcription};
//! use trajectory::solver::{Solver, SolverParams, Status, WarmStart};
//!
//! let nlp = Transcribed::new(cartpole::problem(40)?, Transcription::Trapezoidal)?;
//! let mut solver = Solver::new(&nlp, SolverParams::default())?;
//! let sol = solver.solve(&WarmStart::primal(&cartpole::initial_guess(40)), &mut ())?;
//! assert_eq!(sol.status, Status::Converged);
//! assert!(sol.feasibility <= 1e-8 && sol.stationarity <= 1e-6);
//! # Ok::<(), trajectory::TrajectoryError>(())
//! ```

mod model;
mod run;

use std::time::Duration;

use sparsediff_solve::newton::NewtonParams;

pub use run::Solver;

/// Tuning of [`Solver`]. Defaults chosen by measurement on the cartpole swing-up
/// (`papers/cartpole-swingup.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct SolverParams {
    /// Stop when the violation is at most this (finite, > 0). Default 1e-8.
    pub feasibility_tol: f64,
    /// … and `‖∇L_A‖∞` at most this (finite, > 0). Default 1e-6.
    pub stationarity_tol: f64,
    /// Most Newton iterations over the whole solve. Default 500.
    pub max_newton_iterations: usize,
    /// Most outer (multiplier) iterations. Default 50.
    pub max_outer_iterations: usize,
    /// ρ₀·dt (finite, > 0): the first penalty is this over the time step. A defect is
    /// `dt` times a rate residual and the cost a sum of `dt`-weighted terms, so
    /// `ρ·Σc² / J` stays the same at every N when ρ ∝ 1/dt. Default 5000 (ρ₀ = 1e5 at
    /// N = 100, 1e6 at N = 1000), chosen by a sweep on the cartpole swing-up
    /// (`papers/cartpole-swingup.md`): 43 and 53 Newton iterations; 3000 and 10 000 took
    /// 67/71 and 65/44, 7000 took 42/236.
    pub initial_penalty_times_dt: f64,
    /// Factor by which ρ grows (> 1). Default 10, as the prototype.
    pub penalty_growth: f64,
    /// ρ never exceeds this; reaching it with the violation still too large ends the
    /// solve with [`Status::PenaltyLimit`]. Default 1e12.
    pub max_penalty: f64,
    /// ρ grows when the violation fell by less than this factor in an outer iteration
    /// (in (0, 1)). Default 0.25.
    pub required_reduction: f64,
    /// ω₀, the first inner tolerance on `‖∇L_A‖∞` (finite, > 0). Default 1.
    pub initial_inner_tol: f64,
    /// ω shrinks by this factor per outer iteration (in (0, 1]), down to the
    /// stationarity tolerance. Default 0.1.
    pub inner_tol_factor: f64,
    /// The nonmonotone line-search memory (≥ 1; 1 is monotone Armijo). Default 40
    /// (the cartpole at N = 100 / 1000: 227 / 256 Newton iterations with 10, 43 / 66 with
    /// 20, 43 / 53 with 40).
    pub nonmonotone_memory: usize,
    /// The primal–dual Hessian model (true) or the exact Hessian of L_A (false).
    /// Default true.
    pub primal_dual: bool,
    /// The Newton step: line search, inertia correction, band or sparse LDLᵀ. Its
    /// `grad_tol`, `max_iterations` and `nonmonotone_memory` are set by the solver.
    pub newton: NewtonParams,
}

impl Default for SolverParams {
    fn default() -> Self {
        SolverParams {
            feasibility_tol: 1e-8,
            stationarity_tol: 1e-6,
            max_newton_iterations: 500,
            max_outer_iterations: 50,
            initial_penalty_times_dt: 5000.0,
            penalty_growth: 10.0,
            max_penalty: 1e12,
            required_reduction: 0.25,
            initial_inner_tol: 1.0,
            inner_tol_factor: 0.1,
            nonmonotone_memory: 40,
            primal_dual: true,
            newton: NewtonParams::default(),
        }
    }
}

/// Where a solve starts: z, and optionally the multipliers and penalty of a previous solve.
#[derive(Debug, Clone, Copy)]
pub struct WarmStart<'s> {
    /// The trajectory (length [`Transcribed::num_vars`](crate::Transcribed::num_vars)).
    pub z: &'s [f64],
    /// λ, one per equality (zeros if `None`).
    pub lambda: Option<&'s [f64]>,
    /// μ, one per inequality (zeros if `None`).
    pub mu: Option<&'s [f64]>,
    /// ρ (`initial_penalty_times_dt / dt` if `None`).
    pub rho: Option<f64>,
}

impl<'s> WarmStart<'s> {
    /// From a trajectory alone.
    pub fn primal(z: &'s [f64]) -> Self {
        WarmStart {
            z,
            lambda: None,
            mu: None,
            rho: None,
        }
    }

    /// From a previous [`Solution`]: its trajectory, multipliers and penalty.
    pub fn from_solution(solution: &'s Solution) -> Self {
        WarmStart {
            z: &solution.z,
            lambda: Some(&solution.lambda),
            mu: Some(&solution.mu),
            rho: Some(solution.rho),
        }
    }
}

/// How a solve ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Status {
    /// Feasibility and stationarity within their tolerances.
    Converged,
    /// [`SolverParams::max_newton_iterations`] reached.
    MaxNewtonIterations,
    /// [`SolverParams::max_outer_iterations`] reached.
    MaxOuterIterations,
    /// ρ reached [`SolverParams::max_penalty`] and the violation is still too large
    /// (an infeasible problem looks like this).
    PenaltyLimit,
    /// A Newton step failed (the line search found no decrease, the inertia correction
    /// hit its limit, a non-finite Hessian or step): the solver's status says which.
    NewtonFailed(sparsediff_solve::Status),
}

/// Time per phase of a solve.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SolveTimes {
    /// Hessian evaluations (the element path).
    pub hessian: Duration,
    /// Factorisations (with the inertia correction) and triangular solves.
    pub factorization: Duration,
    /// The line search and the gradients at accepted points.
    pub line_search: Duration,
    /// Everything else: constraint values, multiplier updates, KKT tests, observer.
    pub rest: Duration,
    /// The whole solve.
    pub total: Duration,
}

/// One Newton iteration, for the observer and the convergence plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationRecord {
    /// Outer iteration (1-based).
    pub outer: usize,
    /// Newton iterations so far (over the whole solve).
    pub newton: usize,
    /// The cost J(z).
    pub cost: f64,
    /// Feasibility (see the [module documentation](self)).
    pub feasibility: f64,
    /// Stationarity `‖∇L_A‖∞`.
    pub stationarity: f64,
    /// ρ.
    pub rho: f64,
    /// Step length of the Newton step that led here (0 at an outer start).
    pub alpha: f64,
    /// Regularisation δ of that step.
    pub delta: f64,
}

/// Receives every [`IterationRecord`] as it happens; `()` ignores them.
pub trait Observer {
    /// Called after every Newton step and at the start of every outer iteration.
    fn observe(&mut self, record: &IterationRecord);
}

impl Observer for () {
    fn observe(&mut self, _record: &IterationRecord) {}
}

impl Observer for Vec<IterationRecord> {
    fn observe(&mut self, record: &IterationRecord) {
        self.push(*record);
    }
}

/// Counts and times of a solve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SolveInfo {
    /// Outer (multiplier) iterations.
    pub outer_iterations: usize,
    /// Newton iterations.
    pub newton_iterations: usize,
    /// Hessian evaluations.
    pub hessian_evaluations: usize,
    /// Numeric factorisations (inertia-correction attempts included).
    pub factorizations: usize,
    /// Time per phase.
    pub times: SolveTimes,
}

/// The result of a solve: the converged iterate, or the best one met.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// How it ended.
    pub status: Status,
    /// The trajectory.
    pub z: Vec<f64>,
    /// Equality multipliers (the updated `λ + ρc` at z).
    pub lambda: Vec<f64>,
    /// Inequality multipliers (the updated `max(0, μ + ρg)` at z).
    pub mu: Vec<f64>,
    /// The penalty at the end.
    pub rho: f64,
    /// J(z).
    pub cost: f64,
    /// Feasibility at z.
    pub feasibility: f64,
    /// Stationarity at z.
    pub stationarity: f64,
    /// Counts and times.
    pub info: SolveInfo,
}

impl Solution {
    /// Whether the KKT tests hold.
    pub fn is_converged(&self) -> bool {
        self.status == Status::Converged
    }
}
