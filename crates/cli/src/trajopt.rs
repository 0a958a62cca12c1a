//! `sparsediff trajopt cartpole` and `sparsediff mpc cartpole` — the trajectory crate's
//! augmented-Lagrangian Newton solver on the cartpole swing-up of the benchmark spec, and
//! its receding-horizon controller in closed loop.
//!
//! * `trajopt cartpole --knots N [--json] [--plot FILE.svg]`: solves the swing-up from the
//!   spec's initial guess (trapezoidal, dt = 5/N) and prints `knots, status, cost,
//!   max_violation, stationarity, newton_iterations, outer_iterations, seconds,
//!   hessian_seconds, factor_seconds` (plus the Hessian evaluations and the other
//!   phases). `seconds` is the solve after the transcription and the solver's set-up
//!   (`setup_seconds`). The plot shows x, θ and a against time, the defects of the
//!   solution, and the KKT residuals per Newton iteration.
//! * `mpc cartpole --knots N --steps K [--newton-per-step M] [--json] [--plot FILE.svg]`:
//!   solves the swing-up once (the first plan, not timed), then runs K control periods
//!   in closed loop: the plant is the same model integrated by RK4 (10 substeps of the
//!   period dt) with the control held over the period, measured exactly; each period the
//!   controller shifts its plan and multipliers one knot, moves the initial state to the
//!   measured one, makes M Newton steps and one multiplier update (the horizon recedes:
//!   the terminal condition stays N − 1 knots ahead). Prints `knots, steps,
//!   newton_per_step, median_step_seconds, p99_step_seconds, max_step_seconds` and the
//!   final state; the plot is the histogram of the compute time per period.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use trajectory::mpc::{Mpc, MpcParams};
use trajectory::solver::{IterationRecord, Solver, SolverParams, Status, WarmStart};
use trajectory::{Dynamics, Transcribed, Transcription, cartpole};

use ::cartpole as cartpole_package;

use crate::plot::{Panel, Series};
use crate::{CliError, output};

/// Largest horizon accepted (5·N variables; the banded factor holds 5N·17 numbers).
pub const MAX_KNOTS: u64 = 1 << 20;
/// Most closed-loop periods.
pub const MAX_STEPS: u64 = 10_000_000;
/// Most Newton steps per period.
pub const MAX_NEWTON_PER_STEP: u64 = 1000;

#[derive(Debug, Clone, clap::Args)]
pub struct TrajoptArgs {
    #[command(subcommand)]
    problem: TrajoptProblem,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum TrajoptProblem {
    Cartpole(SwingUpArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct SwingUpArgs {
    #[arg(long, default_value_t = 100, value_parser = crate::limits::count(MAX_KNOTS))]
    knots: usize,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct MpcArgs {
    #[command(subcommand)]
    problem: MpcProblem,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum MpcProblem {
    Cartpole(MpcCartpoleArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct MpcCartpoleArgs {
    #[arg(long, default_value_t = 100, value_parser = crate::limits::count(MAX_KNOTS))]
    knots: usize,
    #[arg(long, default_value_t = 1000, value_parser = crate::limits::count(MAX_STEPS))]
    steps: usize,
    #[arg(long, default_value_t = 4, value_parser = crate::limits::count(MAX_NEWTON_PER_STEP))]
    newton_per_step: usize,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// The `trajopt cartpole` report (the JSON contract).
#[derive(Debug, Serialize)]
struct TrajoptJson {
    knots: usize,
    status: String,
    cost: f64,
    max_violation: f64,
    stationarity: f64,
    newton_iterations: usize,
    outer_iterations: usize,
    seconds: f64,
    hessian_seconds: f64,
    factor_seconds: f64,
    line_search_seconds: f64,
    rest_seconds: f64,
    setup_seconds: f64,
    hessian_evaluations: usize,
    final_penalty: f64,
}

/// The `mpc cartpole` report (the JSON contract).
#[derive(Debug, Serialize)]
struct MpcJson {
    knots: usize,
    steps: usize,
    newton_per_step: usize,
    median_step_seconds: f64,
    p99_step_seconds: f64,
    max_step_seconds: f64,
    failed_periods: usize,
    final_state: [f64; 4],
    plan_cost: f64,
}

fn trajectory_error(e: trajectory::TrajectoryError) -> CliError {
    CliError::Trajectory(Box::new(e))
}

fn status_name(status: &Status) -> String {
    match status {
        Status::Converged => "converged".into(),
        Status::MaxNewtonIterations => "max_newton_iterations".into(),
        Status::MaxOuterIterations => "max_outer_iterations".into(),
        Status::PenaltyLimit => "penalty_limit".into(),
        Status::NewtonFailed(s) => format!("newton_failed: {}", s.name()),
        _ => format!("{status:?}"),
    }
}

/// `sparsediff trajopt …`.
pub fn run_trajopt(args: &TrajoptArgs) -> Result<(), CliError> {
    let TrajoptProblem::Cartpole(a) = &args.problem;
    if let Some(plot) = &a.plot {
        output::check_file(plot)?;
    }
    let knots = a.knots;
    let setup = Instant::now();
    let nlp = Transcribed::new(
        cartpole::problem(knots).map_err(trajectory_error)?,
        Transcription::Trapezoidal,
    )
    .map_err(trajectory_error)?;
    let mut solver = Solver::new(&nlp, SolverParams::default()).map_err(trajectory_error)?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let guess = cartpole::initial_guess(knots);
    let mut log: Vec<IterationRecord> = Vec::new();
    let sol = solver
        .solve(&WarmStart::primal(&guess), &mut log)
        .map_err(trajectory_error)?;
    let t = &sol.info.times;
    let report = TrajoptJson {
        knots,
        status: status_name(&sol.status),
        cost: sol.cost,
        max_violation: sol.feasibility,
        stationarity: sol.stationarity,
        newton_iterations: sol.info.newton_iterations,
        outer_iterations: sol.info.outer_iterations,
        seconds: t.total.as_secs_f64(),
        hessian_seconds: t.hessian.as_secs_f64(),
        factor_seconds: t.factorization.as_secs_f64(),
        line_search_seconds: t.line_search.as_secs_f64(),
        rest_seconds: t.rest.as_secs_f64(),
        setup_seconds,
        hessian_evaluations: sol.info.hessian_evaluations,
        final_penalty: sol.rho,
    };
    if let Some(plot) = &a.plot {
        swing_up_plot(plot, &nlp, &sol.z, &log)?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        output::print_json(&mut out, &report)?;
    } else {
        writeln!(
            out,
            "cartpole swing-up, N = {knots}: {} — J = {:.10}, violation {:.1e}, stationarity {:.1e}\n  {} Newton / {} outer iterations in {:.2} ms (Hessian {:.2}, factorisation {:.2}, line search {:.2}, rest {:.2})",
            report.status,
            report.cost,
            report.max_violation,
            report.stationarity,
            report.newton_iterations,
            report.outer_iterations,
            report.seconds * 1e3,
            report.hessian_seconds * 1e3,
            report.factor_seconds * 1e3,
            report.line_search_seconds * 1e3,
            report.rest_seconds * 1e3,
        )
        .map_err(CliError::stdout)?;
        if let Some(plot) = &a.plot {
            writeln!(out, "  plot: {}", plot.display()).map_err(CliError::stdout)?;
        }
    }
    Ok(())
}

/// x, θ, a; the defects; the KKT residuals per Newton iteration.
fn swing_up_plot<F, L, T, H>(
    path: &std::path::Path,
    nlp: &Transcribed<F, L, T, H>,
    z: &[f64],
    log: &[IterationRecord],
) -> Result<(), CliError>
where
    F: Dynamics,
    L: trajectory::RunningCost,
    T: trajectory::TerminalCost,
    H: trajectory::PathConstraints,
{
    let dt = nlp.problem().dt();
    let knots = nlp.problem().knots();
    let at = |j: usize| -> Vec<(f64, f64)> {
        (0..knots).map(|k| (k as f64 * dt, z[5 * k + j])).collect()
    };
    let c: Vec<f64> = nlp.equalities(z).map_err(trajectory_error)?;
    let defects: Vec<(f64, f64)> = (0..knots - 1)
        .map(|k| {
            let d = c[4 + 4 * k..8 + 4 * k]
                .iter()
                .fold(0.0f64, |a, v| a.max(v.abs()));
            ((k as f64 + 0.5) * dt, d.max(1e-17))
        })
        .collect();
    let it = |f: fn(&IterationRecord) -> f64| -> Vec<(f64, f64)> {
        log.iter()
            .map(|r| (r.newton as f64, f(r).max(1e-17)))
            .collect()
    };
    let panels = [
        Panel {
            title: format!("cartpole swing-up, N = {knots}: the solution"),
            x_desc: "t (s)".into(),
            y_desc: "x (m), θ (rad), a (m/s²)".into(),
            series: vec![
                Series {
                    name: "x".into(),
                    points: at(0),
                },
                Series {
                    name: "θ".into(),
                    points: at(2),
                },
                Series {
                    name: "a".into(),
                    points: at(4),
                },
            ],
            log_y: false,
        },
        Panel {
            title: "defects of the solution, max over the 4 states per interval".into(),
            x_desc: "t (s)".into(),
            y_desc: "|defect|".into(),
            series: vec![Series {
                name: "max |c|".into(),
                points: defects,
            }],
            log_y: true,
        },
        Panel {
            title: "convergence: KKT residuals per Newton iteration".into(),
            x_desc: "Newton iteration".into(),
            y_desc: "residual".into(),
            series: vec![
                Series {
                    name: "feasibility".into(),
                    points: it(|r| r.feasibility),
                },
                Series {
                    name: "stationarity ‖∇L_A‖∞".into(),
                    points: it(|r| r.stationarity),
                },
            ],
            log_y: true,
        },
    ];
    crate::plot::panels_svg(path, &panels)
}

/// `sparsediff mpc …`.
pub fn run_mpc(args: &MpcArgs) -> Result<(), CliError> {
    let MpcProblem::Cartpole(a) = &args.problem;
    for (option, value) in [
        ("--steps", a.steps),
        ("--newton-per-step", a.newton_per_step),
    ] {
        if value == 0 {
            return Err(CliError::Input(format!("{option} must be at least 1")));
        }
    }
    if let Some(plot) = &a.plot {
        output::check_file(plot)?;
    }
    let knots = a.knots;
    let nlp = Transcribed::new(
        cartpole::problem(knots).map_err(trajectory_error)?,
        Transcription::Trapezoidal,
    )
    .map_err(trajectory_error)?;
    let mut solver = Solver::new(&nlp, SolverParams::default()).map_err(trajectory_error)?;
    let plan = solver
        .solve(&WarmStart::primal(&cartpole::initial_guess(knots)), &mut ())
        .map_err(trajectory_error)?;
    let params = MpcParams {
        newton_per_step: a.newton_per_step,
        timing_capacity: a.steps,
    };
    let mut mpc = Mpc::new(solver, &plan, params).map_err(trajectory_error)?;
    let dt = nlp.problem().dt();
    let mut state = [0.0; 4];
    let bar = crate::progress::bar(a.steps);
    for _ in 0..a.steps {
        let u = mpc.step(&state).map_err(trajectory_error)?[0];
        for _ in 0..10 {
            state = cartpole_package::sim::rk4(&cartpole::Cartpole, &state, u, dt / 10.0);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let timing = mpc.timing();
    let report = MpcJson {
        knots,
        steps: a.steps,
        newton_per_step: a.newton_per_step,
        median_step_seconds: timing.median,
        p99_step_seconds: timing.p99,
        max_step_seconds: timing.max,
        failed_periods: mpc.failures(),
        final_state: state,
        plan_cost: plan.cost,
    };
    if let Some(plot) = &a.plot {
        let samples = mpc.step_seconds();
        crate::plot::histogram_svg(
            plot,
            &format!(
                "MPC, cartpole N = {knots}, {} Newton steps per period: {} periods",
                a.newton_per_step, a.steps
            ),
            &samples,
            40,
        )?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        output::print_json(&mut out, &report)?;
    } else {
        writeln!(
            out,
            "MPC cartpole, N = {knots}, {} periods, {} Newton steps each: median {:.1} µs, p99 {:.1} µs, max {:.1} µs per period; final state x {:.3} θ {:.3}",
            a.steps,
            a.newton_per_step,
            timing.median * 1e6,
            timing.p99 * 1e6,
            timing.max * 1e6,
            state[0],
            state[2],
        )
        .map_err(CliError::stdout)?;
    }
    Ok(())
}
