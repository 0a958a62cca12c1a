//! The element Hessian (`trajectory::element`): on the cartpole of the spec against the
//! composite path, the problems crate's reference and the spec's table and .mtx file; on
//! a small nonlinear problem with path constraints, curved costs and active inequalities
//! against the composite path for every transcription (proptest); bad input; no
//! allocation per evaluation.

use proptest::prelude::*;
use sparsediff::pattern::objective::{ValueGradient, ValueGradientHessian};
use sparsediff::pattern::read_matrix_market;
use sparsediff_pattern::testing::CountingAllocator;
use sparsediff_problems::cartpole as reference;
use trajectory::element::Fallback;
use trajectory::num_dual::DualNum;
use trajectory::{
    AugmentedLagrangian, Dynamics, PathConstraints, Problem, RunningCost, TerminalCost,
    TrajectoryError, Transcribed, Transcription, cartpole,
};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

const TOL: f64 = 1e-12;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Largest `|got − want| / max(|want|, floor)`.
fn max_rel(got: &[f64], want: &[f64], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(floor))
        .fold(0.0, f64::max)
}

/// The spec's table: L_A, ‖∇L_A‖₂, ‖∇²L_A‖_F, the sum of the Hessian entries.
fn check_cartpole(knots: usize, table: [f64; 4]) {
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la_ref = reference::AugmentedLagrangian::benchmark(reference::CartpoleProblem::new(knots));
    let la = AugmentedLagrangian::new(&nlp, la_ref.lambda.clone(), la_ref.mu.clone(), la_ref.rho)
        .unwrap();
    let z = cartpole::eval_point(knots);
    let want = la_ref.reference(&z).unwrap();

    let mut element = la.element_hessian(&z).unwrap();
    assert!(element.is_shared());
    assert_eq!(
        element.lanes(),
        Some(2),
        "ω′ is the only curved output, in (θ, a)"
    );
    let mut composite = la.composite_hessian(&z).unwrap();
    assert_eq!(
        element.pattern(),
        composite.pattern(),
        "the composite pattern"
    );
    assert_eq!(element.pattern(), &want.pattern, "the reference pattern");

    let value = element.evaluate(&z).unwrap();
    let grad = element.last_gradient().to_vec();
    let hessian = element.values().to_vec();
    let composite_h = composite.evaluate(&z).unwrap().data().to_vec();
    let mut composite_g = vec![0.0; z.len()];
    let composite_v = composite.gradient(&z, &mut composite_g).unwrap();

    let errors = [
        (
            "L_A vs reference",
            (value - want.value).abs() / want.value.abs(),
        ),
        (
            "L_A vs composite",
            (value - composite_v).abs() / composite_v.abs(),
        ),
        ("L_A vs table", (value - table[0]).abs() / table[0]),
        ("‖∇L_A‖ vs table", (norm(&grad) - table[1]).abs() / table[1]),
        (
            "‖∇²L_A‖_F vs table",
            (norm(&hessian) - table[2]).abs() / table[2],
        ),
        (
            "Σ H vs table",
            (hessian.iter().sum::<f64>() - table[3]).abs() / table[3],
        ),
        (
            "∇L_A vs reference",
            max_rel(&grad, &want.gradient, 1e-3 * inf_norm(&want.gradient)),
        ),
        (
            "∇L_A vs composite",
            max_rel(&grad, &composite_g, 1e-3 * inf_norm(&composite_g)),
        ),
        (
            "∇²L_A vs reference",
            max_rel(&hessian, &want.hessian, 1e-3 * inf_norm(&want.hessian)),
        ),
        (
            "∇²L_A vs composite",
            max_rel(&hessian, &composite_h, 1e-3 * inf_norm(&composite_h)),
        ),
        (
            "∇²L_A entries ≥ 1e-8 vs reference, own magnitude",
            hessian
                .iter()
                .zip(&want.hessian)
                .filter(|(_, w)| w.abs() >= 1e-8)
                .map(|(g, w)| (g - w).abs() / w.abs())
                .fold(0.0, f64::max),
        ),
    ];
    println!("N = {knots}: {errors:?}");
    for (what, err) in errors {
        assert!(err <= TOL, "N = {knots}: {what} off by {err:e}");
    }
    // the spec's named entries
    let p = element.pattern();
    let at = |i: usize, j: usize| p.position(i, j).map_or(0.0, |q| hessian[q]);
    let named = if knots == 100 {
        [20.0001, 20.0001, 0.55126798412, 0.0]
    } else {
        [20.00001, 20.00001, 0.0055180711819, 0.0]
    };
    for ((i, j), want) in [(0, 0), (5, 5), (7, 4), (9, 0)].into_iter().zip(named) {
        // the table rounds to 11 significant digits
        assert!(
            (at(i, j) - want).abs() <= 1e-10 * want.abs().max(1.0),
            "H[{i},{j}] = {} against {want}",
            at(i, j)
        );
    }
    // the Hessian alone gives the same values and value
    assert_eq!(element.evaluate_hessian(&z).unwrap(), value);
    assert_eq!(element.values(), &hessian[..]);
    // the trait view gives the same
    let mut g2 = vec![0.0; z.len()];
    assert_eq!(
        ValueGradient::gradient(&mut element, &z, &mut g2).unwrap(),
        value
    );
    assert_eq!(g2, grad);
    assert_eq!(ValueGradient::value(&mut element, &z).unwrap(), value);
    let h = ValueGradientHessian::hessian(&mut element, &z).unwrap();
    assert_eq!(h.values, &hessian[..]);
}

#[test]
fn cartpole_n100_matches_composite_reference_and_spec() {
    check_cartpole(
        100,
        [
            5.626250945601e+02,
            8.118068551222e+01,
            4.852312730720e+02,
            8.437066722164e+01,
        ],
    );
}

#[test]
fn cartpole_n1000_matches_composite_reference_and_spec() {
    check_cartpole(
        1000,
        [
            7.280844334764e+01,
            1.302093507383e+01,
            1.548117169561e+03,
            7.948006483865e+01,
        ],
    );
}

#[test]
fn cartpole_n100_matches_the_mtx_file() {
    let knots = 100;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la = AugmentedLagrangian::new(
        &nlp,
        vec![0.1; nlp.num_equalities()],
        vec![0.1; nlp.num_inequalities()],
        10.0,
    )
    .unwrap();
    let z = cartpole::eval_point(knots);
    let mut element = la.element_hessian(&z).unwrap();
    element.evaluate(&z).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/matrices/cartpole_LA_hessian_N100.mtx");
    let mtx = read_matrix_market(path).unwrap();
    let file_values = mtx.values.expect("a real matrix");
    let file = mtx.pattern;
    let values = element.values();
    let max = inf_norm(values);
    let mut worst: f64 = 0.0;
    for (q, (i, j)) in element.pattern().iter().enumerate() {
        let got = values[q];
        match file.position(i, j) {
            Some(f) => {
                let want = file_values[f];
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
            }
            None => assert!(
                got.abs() <= 1e-12 * max,
                "H[{i},{j}] = {got:e} is not in the file"
            ),
        }
    }
    for (i, j) in file.iter() {
        assert!(
            element.pattern().contains(i, j),
            "({i}, {j}) outside the pattern"
        );
    }
    println!("N = 100 against the .mtx file: worst relative difference {worst:.1e}");
    assert!(worst <= TOL, "worst relative difference {worst:e}");
}

/// A damped pendulum with a nonlinear damping: θ′ = ω, ω′ = −sin θ + u·cos θ − 0.1·ω·θ².
#[derive(Clone, Copy, Debug)]
struct Pendulum;
impl Dynamics for Pendulum {
    fn state_dim(&self) -> usize {
        2
    }
    fn control_dim(&self) -> usize {
        1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        ds[0] = s[1];
        ds[1] = -s[0].sin() + u[0] * s[0].cos() - s[1] * s[0] * s[0] * 0.1;
    }
}

/// A curved running cost: u² + 0.1·(1 − cos θ).
#[derive(Clone, Copy, Debug)]
struct Curved;
impl RunningCost for Curved {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D]) -> D {
        u[0] * u[0] + (D::one() - s[0].cos()) * 0.1
    }
}

/// A quadratic running cost: u² + 0.5·θ·ω.
#[derive(Clone, Copy, Debug)]
struct Quadratic;
impl RunningCost for Quadratic {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D]) -> D {
        u[0] * u[0] + s[0] * s[1] * 0.5
    }
}

/// A curved terminal cost: sin θ·ω + θ².
#[derive(Clone, Copy, Debug)]
struct Final;
impl TerminalCost for Final {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D]) -> D {
        s[0].sin() * s[1] + s[0] * s[0]
    }
}

/// θ² + u² ≤ 2 and ω·u ≤ 1.
#[derive(Clone, Copy, Debug)]
struct Disc;
impl PathConstraints for Disc {
    fn count(&self) -> usize {
        2
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], h: &mut [D]) {
        h[0] = s[0] * s[0] + u[0] * u[0] - 2.0;
        h[1] = s[1] * u[0] - 1.0;
    }
}

fn small<L: RunningCost>(cost: L, knots: usize) -> Problem<Pendulum, L, Final, Disc> {
    Problem::new(Pendulum, cost, knots, 0.3)
        .unwrap()
        .with_initial_state(&[0.1, 0.0])
        .unwrap()
        .with_terminal_state(&[1.0, 0.0])
        .unwrap()
        .with_control_bounds(&[-1.5], &[1.5])
        .unwrap()
        .with_state_bounds(&[-3.0, f64::NEG_INFINITY], &[3.0, 2.0])
        .unwrap()
        .with_terminal_cost(Final)
        .with_path_constraints(Disc)
}

/// Element against composite: value, gradient, Hessian (same pattern).
fn compare<F, L, T, H>(
    la: &AugmentedLagrangian<'_, F, L, T, H>,
    z: &[f64],
) -> Result<(), TestCaseError>
where
    F: Dynamics,
    L: RunningCost,
    T: TerminalCost,
    H: PathConstraints,
{
    let mut element = la.element_hessian(z).unwrap();
    let mut composite = la.composite_hessian(z).unwrap();
    prop_assert_eq!(element.pattern(), composite.pattern());
    let want_h = composite.evaluate(z).unwrap().data().to_vec();
    let mut want_g = vec![0.0; z.len()];
    let want_v = composite.gradient(z, &mut want_g).unwrap();
    let got_h = element.hessian(z).unwrap().values.to_vec();
    let mut got_g = vec![0.0; z.len()];
    let got_v = element.gradient(z, &mut got_g).unwrap();
    let value_only = ValueGradient::value(&mut element, z).unwrap();
    // evaluate(): the same gradient on either path
    element.evaluate(z).unwrap();
    prop_assert_eq!(element.last_gradient(), &got_g[..]);
    prop_assert_eq!(element.values(), &got_h[..]);
    // the Hessian alone: the same values
    let hessian_only_value = element.evaluate_hessian(z).unwrap();
    prop_assert_eq!(element.values(), &got_h[..]);
    prop_assert!((hessian_only_value - want_v).abs() <= 1e-12 * want_v.abs().max(1.0));
    let scale_v = want_v.abs().max(1.0);
    prop_assert!(
        (got_v - want_v).abs() <= 1e-12 * scale_v,
        "{} vs {}",
        got_v,
        want_v
    );
    prop_assert!((value_only - want_v).abs() <= 1e-12 * scale_v);
    let scale_g = inf_norm(&want_g).max(1.0);
    for (i, (g, w)) in got_g.iter().zip(&want_g).enumerate() {
        prop_assert!((g - w).abs() <= 1e-12 * scale_g, "∇[{}]: {} vs {}", i, g, w);
    }
    let scale_h = inf_norm(&want_h).max(1.0);
    for (q, (g, w)) in got_h.iter().zip(&want_h).enumerate() {
        prop_assert!(
            (g - w).abs() <= 1e-12 * scale_h,
            "H entry {}: {} vs {}",
            q,
            g,
            w
        );
    }
    Ok(())
}

fn schemes() -> impl Strategy<Value = Transcription> {
    prop_oneof![
        Just(Transcription::Trapezoidal),
        Just(Transcription::HermiteSimpson),
        Just(Transcription::Staggered),
    ]
}

/// z, λ, μ, ρ for a problem of `knots` knots under `scheme`.
fn case(knots: usize, scheme: Transcription) -> (usize, usize, usize) {
    let nlp = Transcribed::new(small(Curved, knots), scheme).unwrap();
    (nlp.num_vars(), nlp.num_equalities(), nlp.num_inequalities())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn small_problem_matches_composite(
        knots in 3usize..7,
        scheme in schemes(),
        quadratic in any::<bool>(),
        seed in prop::collection::vec(-2.0f64..2.0, 200),
        multipliers in prop::collection::vec(-1.0f64..1.0, 200),
        rho in 0.1f64..50.0,
    ) {
        let (nv, ne, ni) = case(knots, scheme);
        let z = &seed[..nv];
        let lambda = multipliers[..ne].to_vec();
        // μ around 0 and ρ·g large enough that some inequalities are active
        let mu: Vec<f64> = multipliers[ne..ne + ni].iter().map(|m| m + 0.5).collect();
        if quadratic {
            let nlp = Transcribed::new(small(Quadratic, knots), scheme).unwrap();
            let la = AugmentedLagrangian::new(&nlp, lambda, mu, rho).unwrap();
            compare(&la, z)?;
        } else {
            let nlp = Transcribed::new(small(Curved, knots), scheme).unwrap();
            let la = AugmentedLagrangian::new(&nlp, lambda.clone(), mu.clone(), rho).unwrap();
            // some path and bound rows active
            let g: Vec<f64> = nlp.inequalities(z).unwrap();
            let active = g.iter().zip(&mu).filter(|(g, mu)| *mu + rho * *g > 0.0).count();
            prop_assume!(active > 0);
            compare(&la, z)?;
            // new multipliers through set_multipliers: same as a fresh L_A
            let mut element = la.element_hessian(z).unwrap();
            let lambda2: Vec<f64> = lambda.iter().map(|l| -0.5 * l + 0.2).collect();
            let mu2: Vec<f64> = mu.iter().map(|m| 0.3 * m).collect();
            element.set_multipliers(&lambda2, &mu2, 2.0 * rho).unwrap();
            let la2 = AugmentedLagrangian::new(&nlp, lambda2, mu2, 2.0 * rho).unwrap();
            let mut fresh = la2.element_hessian(z).unwrap();
            let a = element.hessian(z).unwrap().values.to_vec();
            let b = fresh.hessian(z).unwrap().values.to_vec();
            let scale = inf_norm(&b).max(1.0);
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((x - y).abs() <= 1e-13 * scale);
            }
            compare(&la2, z)?;
        }
    }
}

#[test]
fn small_problem_shares_trapezoidal_and_falls_back_otherwise() {
    for (scheme, shared) in [
        (Transcription::Trapezoidal, true),
        (Transcription::HermiteSimpson, false),
        (Transcription::Staggered, false),
    ] {
        let nlp = Transcribed::new(small(Curved, 5), scheme).unwrap();
        let la = AugmentedLagrangian::new(
            &nlp,
            vec![0.1; nlp.num_equalities()],
            vec![0.1; nlp.num_inequalities()],
            3.0,
        )
        .unwrap();
        let z = vec![0.2; nlp.num_vars()];
        let h = la.element_hessian(&z).unwrap();
        assert_eq!(h.is_shared(), shared, "{scheme:?}");
        if shared {
            // ω′ in (θ, ω, u), ℓ in (θ, u), h in (θ, ω, u): three lanes
            assert_eq!(h.lanes(), Some(3));
        } else {
            assert_eq!(h.fallback(), Some(Fallback::Transcription(scheme)));
        }
    }
}

#[test]
fn bad_input_is_a_named_error() {
    let nlp = Transcribed::new(small(Curved, 4), Transcription::Trapezoidal).unwrap();
    let (ne, ni) = (nlp.num_equalities(), nlp.num_inequalities());
    let la = AugmentedLagrangian::new(&nlp, vec![0.1; ne], vec![0.1; ni], 3.0).unwrap();
    let z = vec![0.2; nlp.num_vars()];
    assert!(matches!(
        la.element_hessian(&z[1..]),
        Err(TrajectoryError::DimensionMismatch { what: "z", .. })
    ));
    let mut h = la.element_hessian(&z).unwrap();
    assert!(matches!(
        h.set_multipliers(&vec![0.1; ne - 1], &vec![0.1; ni], 3.0),
        Err(TrajectoryError::DimensionMismatch { what: "equality multipliers λ", len, expected })
            if len == ne - 1 && expected == ne
    ));
    assert!(matches!(
        h.set_multipliers(&vec![0.1; ne], &vec![0.1; ni + 1], 3.0),
        Err(TrajectoryError::DimensionMismatch {
            what: "inequality multipliers μ",
            ..
        })
    ));
    let mut nan = vec![0.1; ne];
    nan[2] = f64::NAN;
    assert!(matches!(
        h.set_multipliers(&nan, &vec![0.1; ni], 3.0),
        Err(TrajectoryError::NonFinite {
            what: "equality multipliers λ",
            index: 2,
            ..
        })
    ));
    let mut inf = vec![0.1; ni];
    inf[1] = f64::INFINITY;
    assert!(matches!(
        h.set_multipliers(&vec![0.1; ne], &inf, 3.0),
        Err(TrajectoryError::NonFinite {
            what: "inequality multipliers μ",
            index: 1,
            ..
        })
    ));
    for rho in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            h.set_multipliers(&vec![0.1; ne], &vec![0.1; ni], rho),
            Err(TrajectoryError::InvalidPenalty { .. })
        ));
    }
    // nothing changed on an error
    assert_eq!(h.rho(), 3.0);
    assert!(matches!(
        h.evaluate(&z[1..]),
        Err(TrajectoryError::DimensionMismatch { what: "z", .. })
    ));
    let mut g = vec![0.0; 3];
    assert!(matches!(
        h.gradient(&z, &mut g),
        Err(TrajectoryError::DimensionMismatch {
            what: "gradient",
            ..
        })
    ));
    let mut bad = z.clone();
    bad[4] = f64::NAN;
    assert!(matches!(
        h.evaluate(&bad),
        Err(TrajectoryError::NonFiniteValue { .. })
    ));
    // and it still works after the errors
    assert!(h.evaluate(&z).unwrap().is_finite());
}

#[test]
fn evaluations_allocate_nothing() {
    let knots = 100;
    let nlp = Transcribed::new(
        cartpole::problem(knots).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la = AugmentedLagrangian::new(
        &nlp,
        vec![0.1; nlp.num_equalities()],
        vec![0.1; nlp.num_inequalities()],
        10.0,
    )
    .unwrap();
    let z = cartpole::eval_point(knots);
    let mut z2 = z.clone();
    z2[14] = 5.0; // an active control bound
    let mut h = la.element_hessian(&z).unwrap();
    let mut grad = vec![0.0; z.len()];
    h.evaluate(&z).unwrap();
    let (_, count) = ALLOC.count(|| {
        for z in [&z, &z2, &z] {
            h.evaluate(z).unwrap();
            h.gradient(z, &mut grad).unwrap();
            ValueGradient::value(&mut h, z).unwrap();
            let _ = h.hessian(z).unwrap();
        }
        h.set_multipliers(&vec![0.2; 404][..], &vec![0.3; 400][..], 5.0)
    });
    // the two vectors built for the call above are its only allocations
    assert_eq!(count, 2, "allocations in the evaluations");
    let (_, count) = ALLOC.count(|| {
        h.evaluate(&z2).unwrap();
        h.gradient(&z, &mut grad).unwrap();
    });
    assert_eq!(count, 0);

    // the small problem too: curved ℓ, curved φ, path constraints
    let nlp = Transcribed::new(small(Curved, 6), Transcription::Trapezoidal).unwrap();
    let la = AugmentedLagrangian::new(
        &nlp,
        vec![0.1; nlp.num_equalities()],
        vec![0.5; nlp.num_inequalities()],
        10.0,
    )
    .unwrap();
    let z = vec![1.3; nlp.num_vars()];
    let mut h = la.element_hessian(&z).unwrap();
    h.evaluate(&z).unwrap();
    let (_, count) = ALLOC.count(|| {
        let mut z = z.clone();
        for i in 0..z.len() {
            z[i] += 0.1;
            h.evaluate(&z).unwrap();
        }
    });
    assert_eq!(count, 1, "the clone only");
}

/// A double integrator (affine dynamics) under a quadratic effort: no curved output, the
/// element pass runs on f64 (K = 0).
#[derive(Clone, Copy, Debug)]
struct DoubleIntegrator;
impl Dynamics for DoubleIntegrator {
    fn state_dim(&self) -> usize {
        2
    }
    fn control_dim(&self) -> usize {
        1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], u: &[D], ds: &mut [D]) {
        ds[0] = s[1];
        ds[1] = u[0];
    }
}

/// `u²`.
#[derive(Clone, Copy, Debug)]
struct Effort;
impl RunningCost for Effort {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _s: &[D], u: &[D]) -> D {
        u[0] * u[0]
    }
}

/// No control: x′ = −x³, cost x².
#[derive(Clone, Copy, Debug)]
struct Cubic;
impl Dynamics for Cubic {
    fn state_dim(&self) -> usize {
        1
    }
    fn control_dim(&self) -> usize {
        0
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D], ds: &mut [D]) {
        ds[0] = -s[0] * s[0] * s[0];
    }
}
#[derive(Clone, Copy, Debug)]
struct Square;
impl RunningCost for Square {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D]) -> D {
        s[0] * s[0]
    }
}

#[test]
fn affine_dynamics_and_no_control_match_composite() {
    let nlp = Transcribed::new(
        Problem::new(DoubleIntegrator, Effort, 7, 0.2)
            .unwrap()
            .with_terminal_state(&[1.0, 0.0])
            .unwrap()
            .with_control_bounds(&[-0.5], &[0.5])
            .unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la = AugmentedLagrangian::new(
        &nlp,
        vec![0.3; nlp.num_equalities()],
        vec![0.2; nlp.num_inequalities()],
        4.0,
    )
    .unwrap();
    let z: Vec<f64> = (0..nlp.num_vars())
        .map(|i| (i as f64 * 0.7).sin())
        .collect();
    assert_eq!(la.element_hessian(&z).unwrap().lanes(), Some(0));
    compare(&la, &z).unwrap();

    let nlp = Transcribed::new(
        Problem::new(Cubic, Square, 5, 0.1)
            .unwrap()
            .with_initial_state(&[1.0])
            .unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la = AugmentedLagrangian::new(&nlp, vec![0.3; nlp.num_equalities()], vec![], 4.0).unwrap();
    let z = [0.9, 0.7, 0.5, 0.4, 0.35];
    assert_eq!(la.element_hessian(&z).unwrap().lanes(), Some(1));
    compare(&la, &z).unwrap();
}

/// A constant output (the drift of a conveyor: x′ = 1) and a control that only the cost
/// sees.
#[derive(Clone, Copy, Debug)]
struct Conveyor;
impl Dynamics for Conveyor {
    fn state_dim(&self) -> usize {
        2
    }
    fn control_dim(&self) -> usize {
        1
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, s: &[D], _u: &[D], ds: &mut [D]) {
        ds[0] = D::one();
        ds[1] = s[0].sin();
    }
}

#[test]
fn constant_outputs_match_composite() {
    let nlp = Transcribed::new(
        Problem::new(Conveyor, Effort, 4, 0.5).unwrap(),
        Transcription::Trapezoidal,
    )
    .unwrap();
    let la = AugmentedLagrangian::new(&nlp, vec![0.3; nlp.num_equalities()], vec![], 2.0).unwrap();
    let z: Vec<f64> = (0..nlp.num_vars()).map(|i| 0.1 * i as f64).collect();
    assert_eq!(la.element_hessian(&z).unwrap().lanes(), Some(1));
    compare(&la, &z).unwrap();
}
