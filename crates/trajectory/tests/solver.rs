//! The augmented-Lagrangian Newton solver on the cartpole swing-up of the spec and on bad
//! input.

use trajectory::solver::{IterationRecord, Solver, SolverParams, Status, WarmStart};
use trajectory::{TrajectoryError, Transcribed, Transcription, cartpole};

/// The spec's known KKT points at N = 100.
const KNOWN_N100: [f64; 2] = [9.16851696, 15.76719855];

#[test]
fn swing_up_n100_reaches_a_known_kkt_point() {
    let knots = 100;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let mut log: Vec<IterationRecord> = Vec::new();
    let sol = solver
        .solve(
            &WarmStart::primal(&cartpole::initial_guess(knots)),
            &mut log,
        )
        .unwrap();
    assert_eq!(sol.status, Status::Converged);
    assert!(sol.feasibility <= 1e-8 && sol.stationarity <= 1e-6);
    // the KKT residuals recomputed from scratch agree with the solver's
    let c: Vec<f64> = nlp.equalities(&sol.z).unwrap();
    assert!(c.iter().all(|c| c.abs() <= 1e-8));
    let g: Vec<f64> = nlp.inequalities(&sol.z).unwrap();
    assert!(g.iter().all(|&g| g <= 1e-8));
    let nearest = KNOWN_N100
        .iter()
        .map(|k| (sol.cost - k).abs() / k)
        .fold(f64::INFINITY, f64::min);
    assert!(nearest <= 1e-6, "J = {} is not a known KKT point", sol.cost);
    // the observer saw every Newton iteration, the info counts them
    assert_eq!(log.last().unwrap().newton, sol.info.newton_iterations);
    assert!(sol.info.hessian_evaluations >= sol.info.newton_iterations);
    println!(
        "J = {:.10}, {} outer / {} Newton iterations",
        sol.cost, sol.info.outer_iterations, sol.info.newton_iterations
    );

    // warm-started from its own solution it stops at once
    let again = solver
        .solve(&WarmStart::from_solution(&sol), &mut ())
        .unwrap();
    assert_eq!(again.status, Status::Converged);
    println!(
        "warm: {} outer / {} Newton",
        again.info.outer_iterations, again.info.newton_iterations
    );
    assert!(again.info.newton_iterations <= 3);
    assert!((again.cost - sol.cost).abs() <= 1e-8 * sol.cost);
}

#[test]
fn a_capped_solve_returns_its_best_iterate_with_a_status() {
    let nlp = Transcribed::new(cartpole::problem(30).unwrap(), Transcription::Trapezoidal).unwrap();
    let params = SolverParams {
        max_newton_iterations: 3,
        ..SolverParams::default()
    };
    let mut solver = Solver::new(&nlp, params).unwrap();
    let mut log: Vec<IterationRecord> = Vec::new();
    let sol = solver
        .solve(&WarmStart::primal(&cartpole::initial_guess(30)), &mut log)
        .unwrap();
    assert_eq!(sol.status, Status::MaxNewtonIterations);
    assert_eq!(sol.z.len(), nlp.num_vars());
    // the best iterate is the one with the smallest scaled KKT residual seen
    let score = |f: f64, s: f64| (f / 1e-8).max(s / 1e-6);
    let best = log
        .iter()
        .map(|r| score(r.feasibility, r.stationarity))
        .fold(f64::INFINITY, f64::min);
    assert_eq!(score(sol.feasibility, sol.stationarity), best);
}

#[test]
fn bad_input_is_a_named_error() {
    let nlp = Transcribed::new(cartpole::problem(10).unwrap(), Transcription::Trapezoidal).unwrap();
    for (params, name) in [
        (
            SolverParams {
                feasibility_tol: 0.0,
                ..SolverParams::default()
            },
            "feasibility_tol",
        ),
        (
            SolverParams {
                initial_penalty_times_dt: f64::NAN,
                ..SolverParams::default()
            },
            "initial_penalty_times_dt",
        ),
        (
            SolverParams {
                penalty_growth: 1.0,
                ..SolverParams::default()
            },
            "penalty_growth",
        ),
        (
            SolverParams {
                required_reduction: 1.0,
                ..SolverParams::default()
            },
            "required_reduction",
        ),
        (
            SolverParams {
                nonmonotone_memory: 0,
                ..SolverParams::default()
            },
            "nonmonotone_memory",
        ),
    ] {
        match Solver::new(&nlp, params) {
            Err(TrajectoryError::InvalidParameter { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {:?}", other.err()),
        }
    }
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let z = cartpole::initial_guess(10);
    // a warm start of the wrong length
    assert!(matches!(
        solver.solve(&WarmStart::primal(&z[1..]), &mut ()),
        Err(TrajectoryError::DimensionMismatch {
            len: 49,
            expected: 50,
            ..
        })
    ));
    // a NaN in it
    let mut bad = z.clone();
    bad[7] = f64::NAN;
    assert!(matches!(
        solver.solve(&WarmStart::primal(&bad), &mut ()),
        Err(TrajectoryError::NonFinite { index: 7, .. })
    ));
    // multipliers of the wrong length, a negative μ, ρ ≤ 0
    let lambda = vec![0.0; 3];
    let start = WarmStart {
        lambda: Some(&lambda),
        ..WarmStart::primal(&z)
    };
    assert!(matches!(
        solver.solve(&start, &mut ()),
        Err(TrajectoryError::DimensionMismatch { .. })
    ));
    let mu = vec![-1.0; nlp.num_inequalities()];
    let start = WarmStart {
        mu: Some(&mu),
        ..WarmStart::primal(&z)
    };
    assert!(matches!(
        solver.solve(&start, &mut ()),
        Err(TrajectoryError::NonFinite { index: 0, .. })
    ));
    let start = WarmStart {
        rho: Some(0.0),
        ..WarmStart::primal(&z)
    };
    assert!(matches!(
        solver.solve(&start, &mut ()),
        Err(TrajectoryError::InvalidPenalty { .. })
    ));
    // an initial state of the wrong length
    assert!(matches!(
        solver.set_initial_state(&[0.0; 3]),
        Err(TrajectoryError::DimensionMismatch { .. })
    ));
}

/// Dynamics that return NaN beyond x = 5: the solve starting there is refused by name.
#[test]
fn dynamics_returning_nan_is_a_named_error() {
    use trajectory::num_dual::DualNum;
    use trajectory::{Dynamics, Problem, RunningCost};
    struct Sqrt;
    impl Dynamics for Sqrt {
        fn state_dim(&self) -> usize {
            1
        }
        fn control_dim(&self) -> usize {
            1
        }
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
            ds[0] = (-s[0] + 5.0).sqrt() + u[0];
        }
    }
    struct Effort;
    impl RunningCost for Effort {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D {
            u[0] * u[0]
        }
    }
    let problem = Problem::new(Sqrt, Effort, 5, 0.1)
        .unwrap()
        .with_initial_state(&[0.0])
        .unwrap();
    let nlp = Transcribed::new(problem, Transcription::Trapezoidal).unwrap();
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let z = vec![6.0; nlp.num_vars()];
    assert!(matches!(
        solver.solve(&WarmStart::primal(&z), &mut ()),
        Err(TrajectoryError::NonFiniteValue {
            what: "equality",
            ..
        })
    ));
}
