//! Receding-horizon control of the cartpole: the closed loop from hanging at rest, with
//! no allocation per period, and bad input.

use sparsediff_pattern::testing::CountingAllocator;
use trajectory::mpc::{Mpc, MpcParams};
use trajectory::solver::{Solver, SolverParams, WarmStart};
use trajectory::{Dynamics, TrajectoryError, Transcribed, Transcription, cartpole};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// RK4 with the control held over h.
fn rk4(s: &mut [f64; 4], a: f64, h: f64) {
    let f = |s: &[f64; 4]| {
        let mut ds = [0.0; 4];
        cartpole::Cartpole.eval(s, &[a], &mut ds);
        ds
    };
    let add = |s: &[f64; 4], k: &[f64; 4], c: f64| std::array::from_fn(|i| s[i] + c * k[i]);
    let k1 = f(s);
    let k2 = f(&add(s, &k1, h / 2.0));
    let k3 = f(&add(s, &k2, h / 2.0));
    let k4 = f(&add(s, &k3, h));
    for i in 0..4 {
        s[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
}

#[test]
fn closed_loop_swings_up_and_holds_without_allocating() {
    let knots = 100;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let dt = nlp.problem().dt();
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let plan = solver
        .solve(&WarmStart::primal(&cartpole::initial_guess(knots)), &mut ())
        .unwrap();
    assert!(plan.is_converged());
    let mut mpc = Mpc::new(solver, &plan, MpcParams::default()).unwrap();
    let mut state = [0.0; 4];
    let mut steady = 0;
    let mut allocations_after_first = 0;
    // 2 horizons: the swing-up, then holding upright
    for period in 0..2 * knots {
        let (u, allocated) = ALLOC.count(|| mpc.step(&state).map(|u| u[0]));
        let u = u.unwrap();
        if period > 0 {
            allocations_after_first += allocated;
        }
        assert!(u.abs() <= 4.0 + 1e-6, "control {u} beyond the bound");
        for _ in 0..10 {
            rk4(&mut state, u, dt / 10.0);
        }
        assert!(
            state[0].abs() <= 1.0 + 1e-3,
            "cart left the track: x = {}",
            state[0]
        );
        if period >= knots && (state[2] - std::f64::consts::PI).abs() <= 0.05 {
            steady += 1;
        }
    }
    assert_eq!(allocations_after_first, 0, "an MPC period allocated");
    // upright and held through the whole second horizon
    assert_eq!(steady, knots, "final state {state:?}");
    assert_eq!(mpc.failures(), 0);
    let timing = mpc.timing();
    assert_eq!(timing.steps, 2 * knots);
    assert!(timing.median <= timing.p99 && timing.p99 <= timing.max);
}

#[test]
fn bad_input_is_a_named_error() {
    let nlp = Transcribed::new(cartpole::problem(10).unwrap(), Transcription::Trapezoidal).unwrap();
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let plan = solver
        .solve(&WarmStart::primal(&cartpole::initial_guess(10)), &mut ())
        .unwrap();
    let zero = MpcParams {
        newton_per_step: 0,
        ..MpcParams::default()
    };
    assert!(matches!(
        Mpc::new(
            Solver::new(&nlp, SolverParams::default()).unwrap(),
            &plan,
            zero
        ),
        Err(TrajectoryError::InvalidParameter {
            param: "newton_per_step",
            ..
        })
    ));
    let mut short = plan.clone();
    short.z.pop();
    assert!(matches!(
        Mpc::new(
            Solver::new(&nlp, SolverParams::default()).unwrap(),
            &short,
            MpcParams::default()
        ),
        Err(TrajectoryError::DimensionMismatch { .. })
    ));
    let mut mpc = Mpc::new(solver, &plan, MpcParams::default()).unwrap();
    assert!(matches!(
        mpc.step(&[0.0; 3]),
        Err(TrajectoryError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        mpc.step(&[0.0, f64::NAN, 0.0, 0.0]),
        Err(TrajectoryError::NonFinite { index: 1, .. })
    ));
}

/// A controller continued on a fresh solver of the same problem makes nearly the steps of
/// one that was not: the warm start (trajectory, multipliers, penalty, initial state)
/// carries over, only the Newton driver's memory (its last inertia-correction δ) starts
/// afresh. Measured after the switch: max |Δz| = 0.08 of |z| = 8.4 (1 %); without the
/// multipliers handed over it is 3.2 (39 %) and the first control differs (1.56 vs 4).
/// A solver of another size is refused and leaves the controller working.
#[test]
fn replace_solver_carries_the_warm_start_over() {
    let knots = 30;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let other =
        Transcribed::new(cartpole::problem(20).unwrap(), Transcription::Trapezoidal).unwrap();
    let mut solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let plan = solver
        .solve(&WarmStart::primal(&cartpole::initial_guess(knots)), &mut ())
        .unwrap();
    let mut kept = Mpc::new(solver, &plan, MpcParams::default()).unwrap();
    let solver = Solver::new(&nlp, SolverParams::default()).unwrap();
    let mut replaced = Mpc::new(solver, &plan, MpcParams::default()).unwrap();
    let states = [[0.0; 4], [0.01, 0.02, 0.05, 0.3], [0.03, 0.1, 0.2, 0.8]];
    for (period, state) in states.iter().enumerate() {
        if period == 1 {
            let fresh = Solver::new(&nlp, SolverParams::default()).unwrap();
            replaced.replace_solver(fresh).unwrap();
            let wrong = Solver::new(&other, SolverParams::default()).unwrap();
            assert!(matches!(
                replaced.replace_solver(wrong),
                Err(TrajectoryError::DimensionMismatch { .. })
            ));
        }
        let a = kept.step(state).unwrap()[0];
        let b = replaced.step(state).unwrap()[0];
        let (z, w) = (kept.trajectory(), replaced.trajectory());
        let scale = z.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let diff = z
            .iter()
            .zip(w)
            .fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()));
        eprintln!("period {period}: controls {a} vs {b}, max |Δz| {diff:.3e} of {scale:.3}");
        if period <= 1 {
            assert_eq!(a, b, "period {period}");
            assert!(diff <= 0.02 * scale, "period {period}: {diff} of {scale}");
        }
    }
}
