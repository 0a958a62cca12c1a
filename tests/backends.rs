//! Every backend against analytic (or independent reference) derivatives, through the
//! facade and the `testing` helpers users get; and the bad inputs of the issue: NaN/Inf,
//! wrong lengths, a pattern that misses entries, a branch change.

use sparsediff::num_dual::DualNum;
use sparsediff::probe::design::Skip;
use sparsediff::testing::{Tolerance, assert_hessian_matches, assert_jacobian_matches, mismatches};
use sparsediff::{
    BackendChoice, Conservative, Options, Outcome, ScalarFunction, SparseError, SparseHessian,
    SparseJacobian, Strategy,
};
use sparsediff_problems::cartpole::{AugmentedLagrangian, CartpoleProblem};
use sparsediff_problems::grid_energy::GridEnergy;
use sparsediff_problems::rosenbrock::Rosenbrock;
use sparsediff_problems::tridiagonal::Tridiagonal;
use sparsediff_problems::{eval_point, rosenbrock, tridiagonal};

fn csr(p: &sparsediff::Pattern, v: Vec<f64>) -> sprs::CsMat<f64> {
    p.to_sprs_with_values(v).unwrap()
}

#[test]
fn hand_written_derivatives_match_the_recovered_ones() {
    let x = eval_point(300);
    assert_hessian_matches(
        &Rosenbrock,
        &csr(
            &rosenbrock::hessian_pattern(300).unwrap(),
            rosenbrock::hessian_values(&x),
        ),
        &x,
    );
    let g = GridEnergy::new(17);
    let xg = eval_point(17 * 17);
    assert_hessian_matches(
        &g,
        &csr(&g.hessian_pattern().unwrap(), g.hessian_values(&xg)),
        &xg,
    );
    assert_jacobian_matches(
        &Tridiagonal,
        &csr(
            &tridiagonal::jacobian_pattern(300).unwrap(),
            tridiagonal::jacobian_values(&x),
        ),
        &x,
    );
    let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
    let z = la.eval_point();
    let (p, v) = la.hessian_reference(&z).unwrap();
    assert_hessian_matches(&la, &csr(&p, v), &z);
}

#[test]
#[should_panic(expected = "differs in")]
fn a_wrong_hand_written_hessian_is_reported() {
    let x = eval_point(20);
    let mut v = rosenbrock::hessian_values(&x);
    v[7] += 1.0;
    assert_hessian_matches(
        &Rosenbrock,
        &csr(&rosenbrock::hessian_pattern(20).unwrap(), v),
        &x,
    );
}

/// Recovered Hessian of `f` at `x` with the given options, compared with a reference.
fn hessian_error<F: ScalarFunction + Clone + Send + Sync + 'static>(
    f: &F,
    x: &[f64],
    options: &Options,
    reference: &sprs::CsMat<f64>,
    tol: Tolerance,
) -> usize {
    let mut h = SparseHessian::prepare(f.clone(), x, options).unwrap();
    let got = h.evaluate(x).unwrap().clone();
    let m = mismatches(reference, &got, tol);
    assert!(
        m.is_empty(),
        "{:?}: first mismatches {:?}",
        options.strategy,
        &m[..m.len().min(3)]
    );
    h.info().probes
}

#[test]
fn every_backend_and_strategy_agrees_with_the_analytic_hessian() {
    let n = 400;
    let x = eval_point(n);
    let reference = csr(
        &rosenbrock::hessian_pattern(n).unwrap(),
        rosenbrock::hessian_values(&x),
    );
    let exact = Tolerance::default();
    let fd = Tolerance {
        relative: 1e-6,
        absolute: 1e-6,
    };
    for (strategy, probes) in [
        (Strategy::Auto, 2),
        (Strategy::Acyclic, 2),
        (Strategy::Star, 3),
        (Strategy::Cpr, 3),
        (Strategy::Roll, 3),
        (Strategy::Random { oversampling: 2 }, 5),
        (Strategy::SymmetricRandom, 3),
    ] {
        let tol = if matches!(
            strategy,
            Strategy::Random { .. } | Strategy::SymmetricRandom
        ) {
            Tolerance {
                relative: 1e-10,
                absolute: 1e-10,
            }
        } else {
            exact
        };
        let options = Options::with_strategy(strategy.clone());
        assert_eq!(
            hessian_error(&Rosenbrock, &x, &options, &reference, tol),
            probes,
            "{strategy:?}"
        );
        let options = Options {
            backend: BackendChoice::FiniteDifferences,
            ..Options::with_strategy(strategy)
        };
        hessian_error(&Rosenbrock, &x, &options, &reference, fd);
    }
    // Forward mode alone cannot make HVPs: a named error, not a slow surprise.
    let forward = Options {
        backend: BackendChoice::Forward,
        ..Options::default()
    };
    assert!(matches!(
        SparseHessian::prepare(Rosenbrock, &x, &forward),
        Err(SparseError::Backend(_))
    ));
}

#[test]
fn auto_infers_stencils_and_skips_designers_that_cannot_win() {
    // The grid energy's Hessian is the 5-point stencil: without a geometry in the
    // options, Auto finds it and reaches the optimum 3 (greedy acyclic colouring gives 4).
    let s = 24;
    let x = eval_point(s * s);
    let mut h = SparseHessian::prepare(GridEnergy::new(s), &x, &Options::default()).unwrap();
    let info = h.info().clone();
    assert_eq!(
        (info.probes, info.designer.as_str()),
        (3, "stencil-substitution")
    );
    assert_eq!(
        info.lower_bound, 3,
        "a graph with a cycle needs 3 acyclic colours"
    );
    let outcome = |name: &str| {
        info.candidates
            .iter()
            .find(|c| c.designer == name)
            .map(|c| c.outcome.clone())
            .unwrap()
    };
    // The substitution design (own bound 3) runs first and reaches 3; the direct design
    // (densest row: 5) and star (a 4×4 grid needs 5 star colours) cannot beat it, and
    // acyclic comes after it in preference with nothing left to gain.
    assert_eq!(outcome("stencil-substitution").probes(), Some(3));
    assert!(matches!(
        outcome("stencil-direct"),
        Outcome::Skipped(Skip::OwnBound { own: 5, best: 3 })
    ));
    assert!(matches!(
        outcome("star"),
        Outcome::Skipped(Skip::OwnBound { own: 5, best: 3 })
    ));
    assert!(matches!(outcome("acyclic"), Outcome::Skipped(_)));
    // the time report: designers not tried took none, the tried ones sum to at most design
    let t = info.prepare;
    let tried: std::time::Duration = info.candidates.iter().map(|c| c.time).sum();
    assert!(tried <= t.design && t.total() >= t.detection + t.design + t.backend);
    let skipped = |c: &&sparsediff::Candidate| matches!(c.outcome, Outcome::Skipped(_));
    for c in info.candidates.iter().filter(skipped) {
        assert_eq!(c.time, std::time::Duration::ZERO, "{}", c.designer);
    }
    let reference = GridEnergy::new(s);
    let want = csr(
        &reference.hessian_pattern().unwrap(),
        reference.hessian_values(&x),
    );
    let got = h.evaluate(&x).unwrap().clone();
    assert!(mismatches(&want, &got, Tolerance::default()).is_empty());
    // Rosenbrock (a path): the substitution design reaches 2; star (a path on four
    // vertices needs 3 star colours) cannot beat it and is not run.
    let x = eval_point(300);
    let h = SparseHessian::prepare(Rosenbrock, &x, &Options::default()).unwrap();
    let star = h
        .info()
        .candidates
        .iter()
        .find(|c| c.designer == "star")
        .unwrap();
    assert!(matches!(
        star.outcome,
        Outcome::Skipped(Skip::OwnBound { own: 3, best: 2 })
    ));
    assert_eq!(h.info().probes, 2);
}

#[test]
fn every_jacobian_backend_agrees_with_the_analytic_jacobian() {
    let n = 500;
    let x = eval_point(n);
    let reference = csr(
        &tridiagonal::jacobian_pattern(n).unwrap(),
        tridiagonal::jacobian_values(&x),
    );
    for (backend, tol) in [
        (BackendChoice::Forward, 1e-12f64),
        (BackendChoice::Tape, 1e-12),
        (BackendChoice::FiniteDifferences, 1e-6),
    ] {
        for strategy in [
            Strategy::Auto,
            Strategy::Cpr,
            Strategy::Roll,
            Strategy::Random { oversampling: 1 },
        ] {
            let options = Options {
                backend,
                ..Options::with_strategy(strategy.clone())
            };
            let mut j = SparseJacobian::prepare(Tridiagonal, &x, &options).unwrap();
            let got = j.evaluate(&x).unwrap().clone();
            let tol = Tolerance {
                relative: tol.max(if matches!(strategy, Strategy::Random { .. }) {
                    1e-10
                } else {
                    0.0
                }),
                absolute: tol,
            };
            let m = mismatches(&reference, &got, tol);
            assert!(
                m.is_empty(),
                "{backend:?} {strategy:?}: {:?}",
                &m[..m.len().min(3)]
            );
        }
    }
}

/// f with a branch: x₀ > 0 gives x₀²·x₁, otherwise −x₀·x₁.
#[derive(Clone)]
struct Branchy;
impl ScalarFunction for Branchy {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        if x[0] > 0.0 {
            x[0] * x[0] * x[1]
        } else {
            -x[0] * x[1]
        }
    }
}

#[test]
fn bad_input_is_a_named_error_or_a_documented_fallback() {
    // x of the wrong length.
    let x = eval_point(10);
    let mut h = SparseHessian::prepare(Rosenbrock, &x, &Options::default()).unwrap();
    assert!(matches!(
        h.evaluate(&x[..9]),
        Err(SparseError::WrongLength { what: "x", .. })
    ));
    // A function that returns NaN or Inf.
    let mut bad = x.clone();
    bad[3] = f64::NAN;
    assert!(h.evaluate(&bad).is_err());
    bad[3] = f64::INFINITY;
    assert!(h.evaluate(&bad).is_err());
    assert!(SparseHessian::prepare(Rosenbrock, &bad, &Options::default()).is_err());
    // A pattern that misses entries the function has: caught by the verification probe
    // on the first evaluation, and named by tracing the function there.
    let diagonal = sparsediff::Pattern::identity(10).unwrap();
    let mut wrong =
        SparseHessian::prepare(Rosenbrock, &x, &Options::with_pattern(diagonal)).unwrap();
    assert!(matches!(
        wrong.evaluate(&x),
        Err(SparseError::PatternMissesEntries { count: 18, .. })
    ));
    // A given pattern of the wrong size.
    let small = Options::with_pattern(sparsediff::Pattern::identity(4).unwrap());
    assert!(matches!(
        SparseHessian::prepare(Rosenbrock, &x, &small),
        Err(SparseError::PatternShape {
            rows: 4,
            expected_rows: 10,
            ..
        })
    ));
    // A branch change between recording and evaluation: the tape re-records, the numbers
    // are those of the branch taken (conservative detection covers both branches).
    let options = Options {
        detector: std::sync::Arc::new(Conservative { points: 8, seed: 3 }),
        ..Options::default()
    };
    let mut b = SparseHessian::prepare(Branchy, &[0.05, 1.0], &options).unwrap();
    let m = b.evaluate(&[-0.5, 2.0]).unwrap();
    assert_eq!(m.get(0, 1).copied(), Some(-1.0)); // ∂²(−x₀x₁)/∂x₀∂x₁
    assert_eq!(m.get(0, 0).copied().unwrap_or(0.0), 0.0);
    let m = b.evaluate(&[0.5, 2.0]).unwrap();
    assert_eq!(m.get(0, 0).copied(), Some(4.0)); // 2·x₁
    assert_eq!(m.get(0, 1).copied(), Some(1.0)); // 2·x₀
}
