//! Receding-horizon control (MPC) on the augmented-Lagrangian [`Solver`]: at every control
//! period the previous solution and its multipliers are shifted one knot forward as the
//! warm start, the initial state is moved to the measured state, a fixed number of Newton
//! steps (default 4, as the original prototype) and one multiplier update are made, and
//! the first control is returned. Nothing is allocated per period after the first.
//!
//! ```
//! use trajectory::{cartpole, mpc::{Mpc, MpcParams}, Transcribed, Transcription};
//! use trajectory::solver::{Solver, SolverParams, WarmStart};
//!
//! let nlp = Transcribed::new(cartpole::problem(30)?, Transcription::Trapezoidal)?;
//! let mut solver = Solver::new(&nlp, SolverParams::default())?;
//! let plan = solver.solve(&WarmStart::primal(&cartpole::initial_guess(30)), &mut ())?;
//! let mut mpc = Mpc::new(solver, &plan, MpcParams::default())?;
//! let u = mpc.step(&[0.0, 0.0, 0.0, 0.0])?.to_vec();
//! assert_eq!(u.len(), 1);
//! assert!(u[0].is_finite());
//! # Ok::<(), trajectory::TrajectoryError>(())
//! ```

use std::time::{Duration, Instant};

use crate::error::TrajectoryError;
use crate::problem::{Dynamics, PathConstraints, RunningCost, TerminalCost};
use crate::solver::{Solution, Solver};

/// Tuning of [`Mpc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpcParams {
    /// Newton steps per control period (≥ 1). Default 4.
    pub newton_per_step: usize,
    /// Step times kept for [`Mpc::timing`] (a ring; ≥ 1). Default 100 000.
    pub timing_capacity: usize,
}

impl Default for MpcParams {
    fn default() -> Self {
        MpcParams {
            newton_per_step: 4,
            timing_capacity: 100_000,
        }
    }
}

/// Compute time per control period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MpcTiming {
    /// Periods timed.
    pub steps: usize,
    /// Median seconds.
    pub median: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// The receding-horizon controller (see the [module documentation](self)).
pub struct Mpc<'a, F, L, T, H> {
    solver: Solver<'a, F, L, T, H>,
    params: MpcParams,
    z: Vec<f64>,
    /// The control returned.
    u: Vec<f64>,
    times: Vec<Duration>,
    next: usize,
    steps: usize,
    failures: usize,
}

impl<'a, F, L, T, H> Mpc<'a, F, L, T, H>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    /// A controller continuing from `plan` (a solve of the same problem by `solver`: its
    /// trajectory, multipliers and penalty are the first warm start).
    ///
    /// # Errors
    /// [`TrajectoryError::InvalidParameter`] for `newton_per_step` or `timing_capacity`
    /// of 0, [`TrajectoryError::DimensionMismatch`] if the plan does not fit the problem,
    /// [`TrajectoryError::NoInitialState`] if the problem fixes no initial state.
    pub fn new(
        mut solver: Solver<'a, F, L, T, H>,
        plan: &Solution,
        params: MpcParams,
    ) -> Result<Self, TrajectoryError> {
        for (param, value) in [
            ("newton_per_step", params.newton_per_step),
            ("timing_capacity", params.timing_capacity),
        ] {
            if value == 0 {
                return Err(TrajectoryError::InvalidParameter {
                    param,
                    value: 0.0,
                    reason: "must be at least 1",
                });
            }
        }
        let nlp = solver.transcribed();
        if nlp.problem().initial_state().is_none() {
            return Err(TrajectoryError::NoInitialState);
        }
        crate::problem::check_len("plan z", plan.z.len(), nlp.num_vars())?;
        crate::problem::check_len("plan λ", plan.lambda.len(), nlp.num_equalities())?;
        crate::problem::check_len("plan μ", plan.mu.len(), nlp.num_inequalities())?;
        if !(plan.rho.is_finite() && plan.rho > 0.0) {
            return Err(TrajectoryError::InvalidPenalty { rho: plan.rho });
        }
        {
            let (lambda, mu, rho) = solver.multipliers_mut();
            lambda.copy_from_slice(&plan.lambda);
            mu.copy_from_slice(&plan.mu);
            *rho = plan.rho;
        }
        Ok(Mpc {
            solver,
            params,
            z: plan.z.clone(),
            u: vec![0.0; nlp.problem().control_dim()],
            times: vec![Duration::ZERO; params.timing_capacity],
            next: 0,
            steps: 0,
            failures: 0,
        })
    }

    /// One control period from the measured `state`: shift, move the initial state,
    /// Newton steps, multiplier update; returns the first control, clamped into the
    /// control bounds.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] / [`TrajectoryError::NonFinite`] for a bad
    /// state; [`TrajectoryError::NonFiniteValue`] if the problem cannot be evaluated on
    /// the shifted trajectory. A Newton step that fails (no decrease, say) is not an
    /// error: the trajectory it reached is used and [`failures`](Self::failures) counts it.
    pub fn step(&mut self, state: &[f64]) -> Result<&[f64], TrajectoryError> {
        let t0 = Instant::now();
        self.solver.set_initial_state(state)?;
        self.shift();
        // start from the measured state
        let nlp = self.solver.transcribed();
        let layout = nlp.layout();
        self.z[layout.state(0)].copy_from_slice(state);
        if self
            .solver
            .fixed_iterations(&mut self.z, self.params.newton_per_step)?
            .is_some()
        {
            self.failures += 1;
        }
        // the bounds hold only to the AL's tolerance after a few Newton steps: the
        // control applied is clamped into them
        let bounds = nlp.problem().control_bounds();
        for (j, u) in self.u.iter_mut().enumerate() {
            *u = self.z[layout.control(0).start + j].clamp(bounds.lower[j], bounds.upper[j]);
        }
        self.times[self.next] = t0.elapsed();
        self.next = (self.next + 1) % self.times.len();
        self.steps += 1;
        Ok(&self.u)
    }

    /// Continues on `solver` — a solver of another problem with the same layout (the
    /// same transcription of a model whose parameters were re-estimated, say): the
    /// planned trajectory, the multipliers, the penalty, the initial state and the timing
    /// ring carry over, so the next [`step`](Self::step) is warm-started as if nothing had
    /// changed — except the Newton driver's memory (the last inertia-correction δ), which
    /// starts afresh as in a new solve (it belonged to the old problem). The old solver is
    /// dropped.
    ///
    /// Allocation: building `solver` allocates (its symbolic analysis); the handover
    /// itself copies into the new solver's buffers.
    ///
    /// # Errors
    /// [`TrajectoryError::DimensionMismatch`] if the problems differ in variables,
    /// equalities or inequalities; [`TrajectoryError::NoInitialState`] if the new problem
    /// fixes no initial state. On error `self` is unchanged.
    pub fn replace_solver(
        &mut self,
        mut solver: Solver<'a, F, L, T, H>,
    ) -> Result<(), TrajectoryError> {
        let (old, new) = (self.solver.transcribed(), solver.transcribed());
        crate::problem::check_len("replacement variables", new.num_vars(), old.num_vars())?;
        crate::problem::check_len(
            "replacement equalities",
            new.num_equalities(),
            old.num_equalities(),
        )?;
        crate::problem::check_len(
            "replacement inequalities",
            new.num_inequalities(),
            old.num_inequalities(),
        )?;
        if new.problem().initial_state().is_none() {
            return Err(TrajectoryError::NoInitialState);
        }
        crate::problem::check_len(
            "replacement initial state",
            new.problem().initial_state().map_or(0, <[f64]>::len),
            old.problem().initial_state().map_or(0, <[f64]>::len),
        )?;
        self.solver.hand_over(&mut solver);
        self.solver = solver;
        Ok(())
    }

    /// Shifts z, λ and μ one knot forward (the last knot's values repeated).
    fn shift(&mut self) {
        let nlp = self.solver.transcribed();
        let layout = nlp.layout();
        let (n, width) = (layout.state_dim, layout.block_width());
        let len = self.z.len();
        let blocks = layout.num_controls();
        // the last block keeps its values: the last knot is repeated
        self.z.copy_within(width..len, 0);
        let has_initial = nlp.problem().initial_state().is_some();
        let intervals = layout.knots - 1;
        let p = nlp.num_inequalities();
        let (lambda, mu, _) = self.solver.multipliers_mut();
        let start = if has_initial { n } else { 0 };
        lambda.copy_within(start + n..start + intervals * n, start);
        if p.is_multiple_of(blocks) {
            let per = p / blocks;
            mu.copy_within(per..p, 0);
        }
    }

    /// The trajectory planned at the last period.
    pub fn trajectory(&self) -> &[f64] {
        &self.z
    }

    /// Periods in which a Newton step failed.
    pub fn failures(&self) -> usize {
        self.failures
    }

    /// The compute seconds of the periods kept (oldest first once the ring wrapped is not
    /// guaranteed: ring order). Allocates.
    pub fn step_seconds(&self) -> Vec<f64> {
        let kept = self.steps.min(self.times.len());
        self.times[..kept]
            .iter()
            .map(Duration::as_secs_f64)
            .collect()
    }

    /// Median, 99th percentile and largest compute time per period (over the last
    /// [`MpcParams::timing_capacity`] periods). Allocates (a sorted copy).
    pub fn timing(&self) -> MpcTiming {
        let kept = self.steps.min(self.times.len());
        if kept == 0 {
            return MpcTiming::default();
        }
        let mut t: Vec<f64> = self.times[..kept]
            .iter()
            .map(Duration::as_secs_f64)
            .collect();
        t.sort_by(f64::total_cmp);
        let rank = |q: f64| t[((q * kept as f64).ceil() as usize).clamp(1, kept) - 1];
        MpcTiming {
            steps: self.steps,
            median: rank(0.5),
            p99: rank(0.99),
            max: t[kept - 1],
        }
    }
}
