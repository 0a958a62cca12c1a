//! The cartpole swing-up of the benchmark spec, solved from the spec's initial guess by
//! the augmented-Lagrangian Newton solver: `cargo run --release -p trajectory --example
//! swingup -- 100 [KAPPA] [MEMORY] [exact]` prints the convergence (one line per outer
//! iteration) and the result; KAPPA is `initial_penalty_times_dt`, MEMORY the nonmonotone
//! memory, `exact` switches the primal–dual Hessian model off (the sweeps of
//! `papers/cartpole-swingup.md`).

use trajectory::solver::{IterationRecord, Solver, SolverParams, WarmStart};
use trajectory::{Transcribed, Transcription, cartpole};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let knots: usize = args.get(1).map_or(Ok(100), |a| a.parse())?;
    let defaults = SolverParams::default();
    let params = SolverParams {
        initial_penalty_times_dt: args
            .get(2)
            .map_or(Ok(defaults.initial_penalty_times_dt), |a| a.parse())?,
        nonmonotone_memory: args
            .get(3)
            .map_or(Ok(defaults.nonmonotone_memory), |a| a.parse())?,
        primal_dual: args.get(4).is_none_or(|a| a != "exact"),
        ..defaults
    };
    let nlp = Transcribed::new(cartpole::problem(knots)?, Transcription::Trapezoidal)?;
    let mut solver = Solver::new(&nlp, params)?;
    let mut log: Vec<IterationRecord> = Vec::new();
    let sol = solver.solve(
        &WarmStart::primal(&cartpole::initial_guess(knots)),
        &mut log,
    )?;
    let mut outer = 0;
    for r in &log {
        if r.outer != outer {
            outer = r.outer;
            println!(
                "outer {:2} newton {:3}: ρ {:.0e} J {:.8} feasibility {:.2e} stationarity {:.2e}",
                r.outer, r.newton, r.rho, r.cost, r.feasibility, r.stationarity
            );
        }
    }
    let i = &sol.info;
    println!(
        "N = {knots}: {:?}, J = {:.10}, feasibility {:.1e}, stationarity {:.1e}, {} outer / {} Newton iterations, {:.2} ms (Hessian {:.2}, factor {:.2}, line search {:.2}, rest {:.2})",
        sol.status,
        sol.cost,
        sol.feasibility,
        sol.stationarity,
        i.outer_iterations,
        i.newton_iterations,
        i.times.total.as_secs_f64() * 1e3,
        i.times.hessian.as_secs_f64() * 1e3,
        i.times.factorization.as_secs_f64() * 1e3,
        i.times.line_search.as_secs_f64() * 1e3,
        i.times.rest.as_secs_f64() * 1e3,
    );
    println!(
        "{} Hessians, {} factorisations",
        i.hessian_evaluations, i.factorizations
    );
    Ok(())
}
