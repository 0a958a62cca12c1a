//! FIRST VERSION of the augmented-Lagrangian Newton solve of the cartpole swing-up (issue
//! 11, part 4 is the real solver): from the spec's initial guess at N = 100, the method of
//! multipliers (PHR for the inequalities, λ ← λ + ρc, μ ← max(0, μ + ρg), ρ × 10 when the
//! violation falls by less than 4×) with `sparsediff_solve`'s Newton driver (banded LDLᵀ,
//! inertia correction, Armijo backtracking) on the composite Hessian of L_A, until
//! feasibility ≤ 1e-8 and stationarity ≤ 1e-6. It reports which of the spec's two KKT
//! points it reaches (J* = 9.16851696 or 15.76719855).
//!
//! Measured: J = 9.1685168531 (the minimum with nothing active, relative difference
//! 1.2e-8 from the spec's 9.16851696; max |a| = 3.09, min θ = −2.0385 rad) after 11 outer and 1011 Newton iterations, ρ from 10
//! to 1e5. Far from the targets (≤ 60 Newton iterations): several inner solves end
//! at the driver's 200-iteration cap right after ρ is raised, where L_A is ill-conditioned
//! and nonconvex. IPOPT lands on the other point (15.767, `|a| = 4` active) from the same
//! guess. Why this run goes the other way is not established; a guess: with the small
//! initial penalty the first inner solves nearly ignore the dynamics and relax the control
//! effort towards 0, and the basin reached by the time ρ is large is the one where θ first
//! swings the other way (min θ ≈ −2.04 rad here, as the spec says of this point).

use sparsediff::composite::Outer;
use sparsediff_solve::newton::{Newton, NewtonParams};
use trajectory::{AugmentedLagrangian, Transcribed, Transcription, cartpole};

const KNOWN: [(f64, &str); 2] = [
    (9.16851696, "nothing active; θ dips before rising"),
    (15.76719855, "|a| = 4 active"),
];

#[test]
fn first_al_newton_solve_of_the_swing_up_n100() {
    let knots = 100;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let (m, p) = (nlp.num_equalities(), nlp.num_inequalities());
    let mut z = cartpole::initial_guess(knots);
    let mut lambda = vec![0.0; m];
    let mut mu = vec![0.0; p];
    let mut rho = 10.0;
    let la = AugmentedLagrangian::new(&nlp, lambda.clone(), mu.clone(), rho).unwrap();
    let mut h = la.composite_hessian(&z).unwrap();
    // inexact inner solves: ‖∇L_A‖∞ ≤ 1 at the first outer iteration, 10× tighter at each
    // next one, down to 1e-7 (1011 Newton iterations in all, against 1278 with 1e-7 from
    // the start)
    let inner_tol = |outer: i32| 0.1f64.powi(outer - 1).max(1e-7);

    let (mut newton_iterations, mut previous) = (0, f64::INFINITY);
    let mut report = None;
    for outer in 1..=40 {
        // the inner tolerance tightens from outer iteration to outer iteration
        let mut newton = Newton::new(NewtonParams {
            grad_tol: inner_tol(outer),
            max_iterations: 200,
            ..NewtonParams::default()
        })
        .unwrap();
        let sol = newton.minimize(&mut h, &z, &mut ()).unwrap();
        newton_iterations += sol.info.iterations;
        z = sol.x;
        let stationarity = sol.info.grad_inf;
        let c: Vec<f64> = nlp.equalities(&z).unwrap();
        let g: Vec<f64> = nlp.inequalities(&z).unwrap();
        // feasibility, and complementarity in the PHR measure |min(−g, μ/ρ)|
        let violation = c
            .iter()
            .map(|c| c.abs())
            .chain(g.iter().zip(&mu).map(|(g, mu)| g.max(-mu / rho).abs()))
            .fold(0.0, f64::max);
        let cost: f64 = nlp.cost(&z).unwrap();
        println!(
            "outer {outer:2}: ρ = {rho:.0e}, J = {cost:.10}, violation {violation:.2e}, \
             ‖∇L_A‖∞ {stationarity:.2e}, Newton {} ({:?})",
            sol.info.iterations, sol.info.status
        );
        for (l, c) in lambda.iter_mut().zip(&c) {
            *l += rho * c;
        }
        for (u, g) in mu.iter_mut().zip(&g) {
            *u = (*u + rho * g).max(0.0);
        }
        if violation <= 1e-8 && stationarity <= 1e-6 && sol.info.grad_inf <= 1e-6 {
            report = Some((outer, cost));
            break;
        }
        if violation > 0.25 * previous {
            rho *= 10.0;
        }
        previous = violation;
        for (i, &lambda) in lambda.iter().enumerate() {
            h.set_outer(i, Outer::Penalty { lambda, rho }).unwrap();
        }
        for (j, &mu) in mu.iter().enumerate() {
            h.set_outer(m + j, Outer::Inequality { mu, rho }).unwrap();
        }
    }
    let (outer, cost) =
        report.expect("the first AL-Newton did not converge in 40 outer iterations");
    let theta_min = z.chunks(5).map(|k| k[2]).fold(f64::INFINITY, f64::min);
    let a_max = z.chunks(5).map(|k| k[4].abs()).fold(0.0, f64::max);
    println!("min θ = {theta_min:.4} rad, max |a| = {a_max:.4}");
    let (known, what) = KNOWN
        .iter()
        .copied()
        .min_by(|a, b| (a.0 - cost).abs().total_cmp(&(b.0 - cost).abs()))
        .unwrap();
    println!(
        "N = {knots}: J = {cost:.10} after {outer} outer and {newton_iterations} Newton iterations: \
         the KKT point J* = {known} ({what}), relative difference {:.1e}",
        (cost - known).abs() / known
    );
    assert!(
        (cost - known).abs() <= 1e-6 * known,
        "J = {cost} is not a known KKT point"
    );
}
