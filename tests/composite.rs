//! The composite Hessian (`sparsediff::composite`) against the cartpole augmented
//! Lagrangian's reference Hessian (num-dual element by element), at the benchmark point and
//! at points with active inequalities; against the tape on a general composite; its errors
//! and that evaluating allocates nothing.

use sparsediff::ad::HessianBackend;
use sparsediff::composite::{
    CompositeError, CompositeHessian, CompositeOptions, NoRows, Outer, RowFunctions,
};
use sparsediff::num_dual::DualNum;
use sparsediff::{Options, Pattern, ScalarFunction, SparseHessian};
use sparsediff_pattern::testing::{CountingAllocator, randoms};
use sparsediff_problems::cartpole::{AugmentedLagrangian, CartpoleProblem, Rows};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// L_A as a composite (the library's builder, which the CLI uses too).
fn composite(la: &AugmentedLagrangian, z0: &[f64]) -> CompositeHessian<Rows, Rows> {
    la.composite_hessian(z0).expect("cartpole rows are valid")
}

/// max |got − expected| / max |expected| over the reference pattern (which must be ours).
fn rel_error(h: &CompositeHessian<Rows, Rows>, pattern: &Pattern, expected: &[f64]) -> f64 {
    assert_eq!(
        h.pattern(),
        pattern,
        "the composite pattern is the reference pattern"
    );
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = h
        .values()
        .iter()
        .zip(expected)
        .fold(0.0f64, |m, (g, e)| m.max((g - e).abs()));
    err / scale
}

/// A deterministic pseudo-random sequence in [-1, 1).
fn wobble(seed: u64, len: usize) -> Vec<f64> {
    randoms(len, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
}

#[test]
fn cartpole_at_the_benchmark_point() {
    for (knots, frobenius) in [(100, 4.852312730720e+02), (1000, 1.548117169561e+03)] {
        let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(knots));
        let z = la.eval_point();
        let mut h = composite(&la, &z);
        assert_eq!(
            h.pattern(),
            &sparsediff_problems::cartpole::hessian_pattern(knots).unwrap()
        );
        let info = h.info().clone();
        assert_eq!(info.nnz, 45 * knots - 30); // 4470, 44970
        assert_eq!(info.max_local_vars, 6);
        // the ω-defects are curved; c and g are all under a curved ψ
        assert_eq!(info.curved_rows, knots - 1);
        // the affine rows (x, v, θ defects, initial and terminal values, bounds) are frozen,
        // and the quadratic cost terms' constant Hessian is in the base
        assert_eq!(info.frozen_rows, 3 * (knots - 1) + 8 + 4 * knots);
        assert_eq!(info.quadratic_rows, knots);
        assert_eq!(info.jet_rows, knots - 1);
        h.evaluate(&z).unwrap();
        let (pattern, reference) = la.hessian_reference(&z).unwrap();
        let err = rel_error(&h, &pattern, &reference);
        assert!(err < 1e-12, "N = {knots}: relative error {err:e}");
        let norm = h.values().iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm / frobenius - 1.0).abs() < 1e-12, "‖H‖_F = {norm}");
        // value and gradient from the same evaluation
        let value: f64 = la.value(&z);
        assert!((h.value(&z).unwrap() / value - 1.0).abs() < 1e-12);
        let mut grad = vec![0.0; z.len()];
        let f = h.gradient(&z, &mut grad).unwrap();
        assert!((f / value - 1.0).abs() < 1e-12);
        let expected = la.gradient_reference(&z);
        let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (g, e) in grad.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-12 * scale, "gradient {g} vs {e}");
        }
    }
}

#[test]
fn cartpole_entry_by_entry_at_n100() {
    let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
    let z = la.eval_point();
    let mut h = composite(&la, &z);
    let m = h.evaluate(&z).unwrap().clone();
    assert_eq!(m.get(0, 0), Some(&20.0001));
    assert_eq!(m.get(5, 5), Some(&20.0001));
    assert!((m.get(7, 4).unwrap() / 0.55126798412 - 1.0).abs() < 1e-10);
    assert_eq!(m.get(9, 0).copied().unwrap_or(0.0), 0.0);
    let (pattern, reference) = la.hessian_reference(&z).unwrap();
    for (k, (i, j)) in pattern.iter().enumerate() {
        let got = m.get(i, j).copied().unwrap();
        let want = reference[k];
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1e-3),
            "({i}, {j}): {got} vs {want}"
        );
        assert_eq!(got, m.get(j, i).copied().unwrap(), "symmetric");
    }
}

/// A point with |x| > 1 and |a| > 4 at many knots, and multipliers of both signs.
fn active_point(la: &mut AugmentedLagrangian, seed: u64) -> Vec<f64> {
    let n = la.num_vars();
    let mut z = la.eval_point();
    for (k, w) in wobble(seed, n).into_iter().enumerate() {
        z[k] += 0.3 * w;
        match k % 5 {
            0 => z[k] *= 3.0, // x beyond ±1
            4 => z[k] *= 6.0, // a beyond ±4
            _ => {}
        }
    }
    la.lambda = wobble(seed + 1, la.lambda.len());
    la.mu = wobble(seed + 2, la.mu.len())
        .into_iter()
        .map(|v| v.abs())
        .collect();
    la.rho = 7.5;
    z
}

#[test]
fn cartpole_with_active_inequalities() {
    for knots in [100, 1000] {
        let mut la = AugmentedLagrangian::benchmark(CartpoleProblem::new(knots));
        let z0 = la.eval_point();
        // prepared once at the benchmark point, evaluated elsewhere with new multipliers
        let mut h = composite(&la, &z0);
        for seed in [1, 2, 3] {
            let z = active_point(&mut la, seed);
            for (row, o) in la.outer_functions().into_iter().enumerate() {
                h.set_outer(row, o).unwrap();
            }
            let g = la.problem.inequalities(&z);
            let active = g
                .iter()
                .zip(&la.mu)
                .filter(|&(g, mu)| mu + la.rho * g > 0.0)
                .count();
            assert!(active > knots / 2, "only {active} active inequalities");
            h.evaluate(&z).unwrap();
            let (pattern, reference) = la.hessian_reference(&z).unwrap();
            let err = rel_error(&h, &pattern, &reference);
            assert!(
                err < 1e-12,
                "N = {knots}, seed {seed}: relative error {err:e}"
            );
            let value: f64 = la.value(&z);
            assert!((h.value(&z).unwrap() / value - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn unfrozen_rows_give_the_same_hessian() {
    let mut la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
    let z = active_point(&mut la, 7);
    let p = la.problem;
    let options = CompositeOptions::default()
        .freeze_affine(false)
        .freeze_quadratic(false);
    let mut h = CompositeHessian::prepare_with(
        p.cost_terms().collect::<Rows>(),
        p.equality_rows()
            .chain(p.inequality_rows())
            .collect::<Rows>(),
        la.outer_functions(),
        &z,
        &options,
    )
    .unwrap();
    assert_eq!((h.info().frozen_rows, h.info().quadratic_rows), (0, 0));
    assert_eq!(h.info().jet_rows, 100 + 804);
    h.evaluate(&z).unwrap();
    let (pattern, reference) = la.hessian_reference(&z).unwrap();
    let err = rel_error(&h, &pattern, &reference);
    assert!(err < 1e-12, "relative error {err:e}");
    let mut frozen = composite(&la, &z);
    frozen.evaluate(&z).unwrap();
    let mut g0 = vec![0.0; z.len()];
    let mut g1 = vec![0.0; z.len()];
    h.gradient(&z, &mut g0).unwrap();
    frozen.gradient(&z, &mut g1).unwrap();
    let scale = g0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in g0.iter().zip(&g1) {
        assert!((a - b).abs() <= 1e-13 * scale);
    }
    assert!((h.value(&z).unwrap() / frozen.value(&z).unwrap() - 1.0).abs() < 1e-13);
}

#[test]
fn cartpole_at_the_initial_guess_and_perturbed_points() {
    let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
    let mut h = composite(&la, &la.eval_point());
    let guess = la.problem.initial_guess();
    let mut points = vec![guess];
    for seed in 10..13 {
        let z: Vec<f64> = la
            .eval_point()
            .iter()
            .zip(wobble(seed, la.num_vars()))
            .map(|(z, w)| z + 0.5 * w)
            .collect();
        points.push(z);
    }
    for z in &points {
        h.evaluate(z).unwrap();
        let (pattern, reference) = la.hessian_reference(z).unwrap();
        let err = rel_error(&h, &pattern, &reference);
        assert!(err < 1e-12, "relative error {err:e}");
    }
}

#[test]
fn evaluate_allocates_nothing() {
    let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
    let z = la.eval_point();
    let mut h = composite(&la, &z);
    let mut grad = vec![0.0; z.len()];
    let elsewhere: Vec<f64> = z.iter().map(|v| v + 0.01).collect();
    let ((), n) = ALLOC.count(|| {
        for _ in 0..3 {
            h.evaluate(&z).unwrap();
            h.gradient(&z, &mut grad).unwrap();
            std::hint::black_box(h.value(&z).unwrap());
            // a gradient away from the evaluated point: a first-order pass
            h.gradient(&elsewhere, &mut grad).unwrap();
            std::hint::black_box(h.value(&z).unwrap());
        }
    });
    assert_eq!(n, 0, "evaluate, value or gradient allocated");
    let times = h.profile(&z).unwrap();
    assert!(times.total() > times.outer_products);
}

/// A general composite: φ_k = exp(z_k)·z_{k+2} / (1 + z_{k+1}²), residuals that branch and
/// divide, one `Custom` ψ (a smooth soft-plus), a `Linear` one and penalties.
#[derive(Clone)]
struct Phi(Vec<[usize; 3]>);
impl RowFunctions for Phi {
    fn num_rows(&self) -> usize {
        self.0.len()
    }
    fn vars(&self, i: usize) -> &[usize] {
        &self.0[i]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, z: &[D]) -> D {
        z[0].exp() * z[2] / (z[1].powi(2) + 1.0)
    }
}

#[derive(Clone)]
struct Residuals(Vec<Vec<usize>>);
impl RowFunctions for Residuals {
    fn num_rows(&self) -> usize {
        self.0.len()
    }
    fn vars(&self, i: usize) -> &[usize] {
        &self.0[i]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, z: &[D]) -> D {
        match i % 3 {
            // affine in 4 variables
            0 => z[0] * 2.0 - z[1] + z[2] * 0.5 - z[3] + 1.0,
            // curved in some variables only: z1·sin(z0) + z2 + z3 + z4
            1 => z[1] * z[0].sin() + z[2] + z[3] + z[4],
            // a branch: |z0|·z1 − z2 (treated as curved everywhere)
            _ => {
                let a = if z[0] > 0.0 { z[0] } else { -z[0] };
                a * z[1] - z[2]
            }
        }
    }
}

struct Whole(Phi, Residuals, Vec<Outer>);

fn softplus(r: f64) -> [f64; 3] {
    let s = 1.0 / (1.0 + (-r).exp());
    [r.exp().ln_1p(), s, s * (1.0 - s)]
}

impl ScalarFunction for Whole {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut f = D::zero();
        for (k, v) in self.0.0.iter().enumerate() {
            let local: Vec<D> = v.iter().map(|&j| x[j]).collect();
            f += self.0.eval(k, &local);
        }
        for (i, v) in self.1.0.iter().enumerate() {
            let local: Vec<D> = v.iter().map(|&j| x[j]).collect();
            let r = self.1.eval(i, &local);
            f += match self.2[i] {
                Outer::Linear(w) => r * w,
                Outer::Penalty { lambda, rho } => r * lambda + r * r * (0.5 * rho),
                Outer::Inequality { mu, rho } => {
                    let t = r * rho + mu;
                    let active = if t > 0.0 { t * t } else { D::zero() };
                    (active - mu * mu) * (0.5 / rho)
                }
                Outer::Custom(_) => (r.exp() + 1.0).ln(),
            };
        }
        f
    }
}

/// The tape's Hessian of `whole` at z against the composite's (values on the union of
/// both patterns, relative to the largest entry).
fn assert_matches_tape(whole: Whole, h: &CompositeHessian<&Phi, &Residuals>, z: &[f64]) {
    let mut generic = SparseHessian::prepare(whole, z, &Options::default()).unwrap();
    let reference = generic.evaluate(z).unwrap().clone();
    let m = h.matrix();
    let scale = reference.data().iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for (v, (i, j)) in reference.iter() {
        let got = m.get(i, j).copied();
        assert!(got.is_some() || *v == 0.0, "({i}, {j}) missing");
        assert!(
            (got.unwrap_or(0.0) - v).abs() <= 1e-12 * scale,
            "({i}, {j})"
        );
    }
    for (v, (i, j)) in m.iter() {
        let want = reference.get(i, j).copied().unwrap_or(0.0);
        assert!(
            (v - want).abs() <= 1e-12 * scale,
            "({i}, {j}): {v} vs {want}"
        );
    }
}

#[test]
fn outer_functions_change_between_evaluations() {
    let n = 60;
    let phi = Phi((0..n - 2).step_by(3).map(|k| [k, k + 1, k + 2]).collect());
    let residuals = Residuals(
        (0..n - 5)
            .map(|i| match i % 3 {
                0 => vec![i, i + 2, i + 3, i + 5],
                1 => vec![i, i + 1, i + 2, i + 4, i + 5],
                _ => vec![i + 1, i, i + 4],
            })
            .collect(),
    );
    let mut outer: Vec<Outer> = (0..n - 5)
        .map(|i| match i % 4 {
            0 => Outer::custom(softplus),
            1 => Outer::Linear(0.7),
            _ => Outer::Penalty {
                lambda: 0.3,
                rho: 4.0,
            },
        })
        .collect();
    let z: Vec<f64> = wobble(9, n).iter().map(|w| 0.8 * w).collect();
    let mut h = CompositeHessian::prepare(&phi, &residuals, outer.clone(), &z).unwrap();
    // the affine residuals (every third) are frozen, a quarter of them under a custom ψ
    assert_eq!(h.info().frozen_rows, (n - 5).div_ceil(3));
    h.evaluate(&z).unwrap();
    assert_matches_tape(Whole(phi.clone(), residuals.clone(), outer.clone()), &h, &z);
    // penalties become inequalities (some active) or get another ρ, custom ψ penalties
    for (i, o) in outer.iter_mut().enumerate() {
        *o = match (i % 4, i % 8) {
            (0, _) => Outer::Penalty {
                lambda: -0.2,
                rho: 2.5,
            },
            (1, _) => Outer::Linear(-0.4),
            (_, 2) | (_, 3) => Outer::Inequality { mu: 0.2, rho: 3.0 },
            _ => Outer::Penalty {
                lambda: 0.1,
                rho: 6.0,
            },
        };
        h.set_outer(i, o.clone()).unwrap();
    }
    let z2: Vec<f64> = z
        .iter()
        .zip(wobble(10, n))
        .map(|(a, w)| a + 0.3 * w)
        .collect();
    h.evaluate(&z2).unwrap();
    assert_matches_tape(
        Whole(phi.clone(), residuals.clone(), outer.clone()),
        &h,
        &z2,
    );
    // from the rows of the evaluation at z2, with the new ψ
    let value = h.value(&z2).unwrap();
    let plain = Whole(phi.clone(), residuals.clone(), outer.clone()).eval(&z2);
    assert!((value - plain).abs() <= 1e-12 * plain.abs().max(1.0));
}

#[test]
fn general_composite_matches_the_tape() {
    let n = 60;
    let phi = Phi((0..n - 2).step_by(3).map(|k| [k, k + 1, k + 2]).collect());
    let rows: Vec<Vec<usize>> = (0..n - 5)
        .map(|i| match i % 3 {
            0 => vec![i, i + 2, i + 3, i + 5],
            1 => vec![i, i + 1, i + 2, i + 4, i + 5],
            _ => vec![i + 1, i, i + 4],
        })
        .collect();
    let residuals = Residuals(rows);
    let outer: Vec<Outer> = (0..n - 5)
        .map(|i| match i % 4 {
            0 => Outer::custom(softplus),
            1 => Outer::Linear(0.7),
            _ => Outer::Penalty {
                lambda: 0.3,
                rho: 4.0,
            },
        })
        .collect();
    let z: Vec<f64> = wobble(5, n).iter().map(|w| 0.8 * w).collect();
    let mut h = CompositeHessian::prepare(&phi, &residuals, outer.clone(), &z).unwrap();
    h.evaluate(&z).unwrap();
    assert_matches_tape(Whole(phi.clone(), residuals.clone(), outer.clone()), &h, &z);
    let plain = Whole(phi.clone(), residuals.clone(), outer).eval(&z);
    assert!((h.value(&z).unwrap() - plain).abs() < 1e-12);
    assert_eq!(h.info().objective_rows, phi.0.len());
}

#[test]
fn errors_are_structured() {
    let z = vec![0.5; 10];
    let residuals = Residuals(vec![vec![0, 1, 2, 3]]);
    let linear = vec![Outer::Linear(1.0)];
    // one ψ per residual
    assert!(matches!(
        CompositeHessian::prepare(NoRows, &residuals, vec![], &z),
        Err(CompositeError::WrongLength {
            len: 0,
            expected: 1,
            ..
        })
    ));
    // bad parameters
    assert!(matches!(
        CompositeHessian::prepare(
            NoRows,
            &residuals,
            vec![Outer::Inequality { mu: 0.0, rho: 0.0 }],
            &z
        ),
        Err(CompositeError::InvalidOuter { row: 0, .. })
    ));
    // variables out of range, repeated, too many
    for (vars, ok) in [
        (vec![0, 1, 2, 10], false),
        (vec![0, 1, 1, 3], false),
        (vec![0, 1, 2, 3, 4, 5, 6, 7, 8], false),
        (vec![3, 1, 2, 0], true),
    ] {
        let rows = Residuals(vec![vars]);
        let result = CompositeHessian::prepare(NoRows, &rows, linear.clone(), &z);
        assert_eq!(result.is_ok(), ok);
        match result {
            Err(CompositeError::VarOutOfRange { var: 10, n: 10, .. })
            | Err(CompositeError::DuplicateVar { var: 1, .. })
            | Err(CompositeError::TooManyVars {
                vars: 9, max: 8, ..
            })
            | Ok(_) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let mut h = CompositeHessian::prepare(NoRows, &residuals, linear, &z).unwrap();
    // an affine row under a linear ψ has no Hessian at all
    assert_eq!(h.info().nnz, 0);
    assert!(matches!(
        h.set_outer(
            0,
            Outer::Penalty {
                lambda: 0.0,
                rho: 1.0
            }
        ),
        Err(CompositeError::StructureChange { row: 0, .. })
    ));
    assert!(h.set_outer(0, Outer::Linear(2.0)).is_ok());
    assert!(matches!(
        h.evaluate(&z[..9]),
        Err(CompositeError::WrongLength {
            len: 9,
            expected: 10,
            ..
        })
    ));
    // a non-finite Hessian entry
    let rows = Residuals(vec![vec![0, 1, 2, 3], vec![0, 1, 2, 3, 4]]);
    let penalty = Outer::Penalty {
        lambda: 0.0,
        rho: 1.0,
    };
    let mut h = CompositeHessian::prepare(NoRows, &rows, vec![penalty; 2], &z).unwrap();
    let mut bad = z.clone();
    bad[0] = f64::INFINITY;
    assert!(matches!(
        h.evaluate(&bad),
        Err(CompositeError::NonFinite { .. })
    ));
    assert!(h.evaluate(&z).is_ok());
}

/// Row 0 is the constant 2, row 1 is z_0·z_1.
struct WithConstant;
impl RowFunctions for WithConstant {
    fn num_rows(&self) -> usize {
        2
    }
    fn vars(&self, i: usize) -> &[usize] {
        [&[][..], &[0, 1][..]][i]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, z: &[D]) -> D {
        match i {
            0 => D::from(2.0),
            _ => z[0] * z[1],
        }
    }
}

/// Objective rows of each kind: quadratic (frozen), cubic, with `|·|` and with `%`.
struct MixedObjective(usize);
impl RowFunctions for MixedObjective {
    fn num_rows(&self) -> usize {
        self.0 - 1
    }
    fn vars(&self, i: usize) -> &[usize] {
        &PAIRS_OF[i]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, z: &[D]) -> D {
        match i % 4 {
            0 => (z[0] - z[1] * 2.0).powi(2) * 3.0 + z[0],
            1 => z[0] * z[1] * z[1],
            2 => num_traits::Signed::abs(&z[0]) * 2.0 + z[1],
            _ => z[0] % 0.7 + z[1] * z[0],
        }
    }
}

/// Residuals `|z_i| − z_{i+1}` (zero traced curvature, but not affine) and `z_i·z_{i+1} − 1`.
struct MixedResiduals(usize);
impl RowFunctions for MixedResiduals {
    fn num_rows(&self) -> usize {
        self.0 - 1
    }
    fn vars(&self, i: usize) -> &[usize] {
        &PAIRS_OF[i]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, z: &[D]) -> D {
        if i.is_multiple_of(2) {
            num_traits::Signed::abs(&z[0]) - z[1]
        } else {
            z[0] * z[1] - 1.0
        }
    }
}

/// `[i, i + 1]` for i < 40.
static PAIRS_OF: std::sync::LazyLock<Vec<[usize; 2]>> =
    std::sync::LazyLock::new(|| (0..40).map(|i| [i, i + 1]).collect());

/// The whole mixed function, for the tape.
struct Mixed(usize, Vec<Outer>);
impl ScalarFunction for Mixed {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let (phi, r) = (MixedObjective(self.0), MixedResiduals(self.0));
        let mut f = D::zero();
        for k in 0..phi.num_rows() {
            let v = phi.vars(k);
            f += phi.eval(k, &[x[v[0]], x[v[1]]]);
        }
        for (i, o) in self.1.iter().enumerate() {
            let v = r.vars(i);
            let ri = r.eval(i, &[x[v[0]], x[v[1]]]);
            f += match *o {
                Outer::Penalty { lambda, rho } => ri * lambda + ri * ri * (0.5 * rho),
                _ => unreachable!("penalties only"),
            };
        }
        f
    }
}

#[test]
fn only_rows_that_are_affine_or_quadratic_everywhere_are_frozen() {
    let n = 40;
    let outer = vec![
        Outer::Penalty {
            lambda: 0.3,
            rho: 5.0
        };
        n - 1
    ];
    // prepared where every z is positive, evaluated where the signs alternate: |z| flips
    let z0: Vec<f64> = (0..n).map(|i| 0.4 + 0.05 * i as f64).collect();
    let z1: Vec<f64> = z0
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { -v } else { *v })
        .collect();
    let mut h = CompositeHessian::prepare(MixedObjective(n), MixedResiduals(n), outer.clone(), &z0)
        .unwrap();
    let info = h.info().clone();
    assert_eq!(info.quadratic_rows, (n - 1).div_ceil(4), "{info:?}");
    assert_eq!(info.frozen_rows, 0, "|z| − z is not affine: {info:?}");
    for z in [&z0, &z1] {
        let m = h.evaluate(z).unwrap().clone();
        let mut tape =
            SparseHessian::prepare(Mixed(n, outer.clone()), z, &Options::default()).unwrap();
        let reference = tape.evaluate(z).unwrap().clone();
        let scale = reference.data().iter().fold(0.0f64, |s, v| s.max(v.abs()));
        for (v, (i, j)) in m.iter() {
            let want = reference.get(i, j).copied().unwrap_or(0.0);
            assert!(
                (v - want).abs() <= 1e-12 * scale,
                "({i}, {j}): {v} vs {want}"
            );
        }
        for (v, (i, j)) in reference.iter() {
            let got = m.get(i, j).copied().unwrap_or(0.0);
            assert!((got - v).abs() <= 1e-12 * scale, "({i}, {j}): {got} vs {v}");
        }
        // value and gradient (the frozen quadratic rows computed on demand)
        let value = tape.value(z).unwrap();
        assert!((h.value(z).unwrap() - value).abs() <= 1e-12 * value.abs());
        let mut grad = vec![0.0; n];
        h.gradient(z, &mut grad).unwrap();
        let mut expected = vec![0.0; n];
        sparsediff::ad::TapeHessian::new(Mixed(n, outer.clone()), z)
            .unwrap()
            .gradient(z, &mut expected)
            .unwrap();
        for (g, e) in grad.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
    }
    // without freezing: the same numbers
    let mut plain = CompositeHessian::prepare_with(
        MixedObjective(n),
        MixedResiduals(n),
        outer,
        &z0,
        &CompositeOptions::default().freeze_quadratic(false),
    )
    .unwrap();
    assert_eq!(plain.info().quadratic_rows, 0);
    let a = plain.evaluate(&z1).unwrap().data().to_vec();
    let b = h.evaluate(&z1).unwrap().data().to_vec();
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-13 * x.abs().max(1.0));
    }
}

#[test]
fn the_cartpole_builder_checks_its_inputs() {
    let (mut la, z) = sparsediff_problems::cartpole::benchmark(10);
    assert!(matches!(
        la.composite_hessian(&z[..49]),
        Err(CompositeError::WrongLength {
            len: 49,
            expected: 50,
            ..
        })
    ));
    la.lambda.pop();
    assert!(matches!(
        la.composite_hessian(&z),
        Err(CompositeError::WrongLength {
            len: 43,
            expected: 44,
            ..
        })
    ));
    la.lambda.push(0.1);
    la.mu[3] = f64::NAN;
    assert!(matches!(
        la.composite_hessian(&z),
        Err(CompositeError::InvalidOuter { row: 47, .. })
    ));
    la.mu[3] = 0.1;
    la.rho = -1.0;
    assert!(matches!(
        la.composite_hessian(&z),
        Err(CompositeError::InvalidOuter { .. })
    ));
}

#[test]
fn constant_rows_count_in_the_value() {
    let z = [3.0, 4.0];
    let outer = vec![
        Outer::Penalty {
            lambda: 1.0,
            rho: 2.0
        };
        2
    ];
    let mut h = CompositeHessian::prepare(WithConstant, WithConstant, outer, &z).unwrap();
    let m = h.evaluate(&z).unwrap();
    // objective z_0 z_1: ∂²/∂z_0∂z_1 = 1; residual r = z_0 z_1 = 12: ψ′ = 1 + 24, ψ″ = 2
    assert_eq!(m.get(0, 1), Some(&(1.0 + 25.0 + 2.0 * 4.0 * 3.0)));
    assert_eq!(m.get(0, 0), Some(&(2.0 * 16.0)));
    let expected = 2.0 + 12.0 + (2.0 + 4.0) + (12.0 + 144.0);
    assert_eq!(h.value(&z).unwrap(), expected);
    let mut grad = [0.0; 2];
    assert_eq!(h.gradient(&z, &mut grad).unwrap(), expected);
    assert_eq!(grad, [4.0 + 25.0 * 4.0, 3.0 + 25.0 * 3.0]);
}

/// value and gradient come from the last evaluation's rows when it was at the same point,
/// and otherwise from every row on f64 (value) or one first-order pass (gradient); the
/// solver traits give the same numbers.
#[test]
fn value_and_gradient_from_either_path() {
    use sparsediff::pattern::objective::{ValueGradient, ValueGradientHessian};

    let mut la = AugmentedLagrangian::benchmark(CartpoleProblem::new(40));
    let z = active_point(&mut la, 3);
    let z2: Vec<f64> = z
        .iter()
        .zip(wobble(4, z.len()))
        .map(|(a, w)| a + 0.05 * w)
        .collect();
    let n = z.len();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    let gradients_close = |a: &[f64], b: &[f64]| {
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12 * scale)
    };
    for point in [&z, &z2] {
        let value: f64 = la.value(point);
        let expected = la.gradient_reference(point);
        // fresh: the rows were never evaluated at this point
        let mut fresh = composite(&la, &z);
        assert!(close(fresh.value(point).unwrap(), value));
        let mut g = vec![0.0; n];
        assert!(close(fresh.gradient(point, &mut g).unwrap(), value));
        assert!(gradients_close(&g, &expected));
        // after an evaluation at the point: its rows
        let mut h = composite(&la, &z);
        h.evaluate(point).unwrap();
        let mut g2 = vec![0.0; n];
        assert!(close(
            ValueGradient::gradient(&mut h, point, &mut g2).unwrap(),
            value
        ));
        assert!(gradients_close(&g2, &expected));
        assert!(close(ValueGradient::value(&mut h, point).unwrap(), value));
        assert_eq!(ValueGradient::dim(&h), n);
    }
    // evaluated at z, a gradient at z2, then the value at z again: not z2's rows
    let mut h = composite(&la, &z);
    h.evaluate(&z).unwrap();
    let mut g = vec![0.0; n];
    h.gradient(&z2, &mut g).unwrap();
    assert!(close(h.value(&z).unwrap(), la.value(&z)));
    // the Hessian through the solver trait is the evaluated matrix
    let m = h.evaluate(&z2).unwrap().clone();
    let sym = ValueGradientHessian::hessian(&mut h, &z2).unwrap();
    assert_eq!(sym.values, m.data());
    assert_eq!(sym.pattern.nnz(), m.nnz());
    let mut hv = vec![0.0; n];
    let v: Vec<f64> = wobble(6, n);
    h.hessian_vector(&z2, &v, &mut hv).unwrap();
    let mut expected = vec![0.0; n];
    for (value, (i, j)) in m.iter() {
        expected[i] += value * v[j];
    }
    assert!(gradients_close(&hv, &expected));
    // wrong lengths are errors
    assert!(h.gradient(&z[1..], &mut g).is_err());
    assert!(h.gradient(&z, &mut g[1..]).is_err());
    assert!(h.value(&z[1..]).is_err());
}

/// The engine hands the plan's own seeds to the backend (`plan.seeds().block()`), dense
/// seeds included: evaluating a prepared SparseHessian allocates nothing either.
#[test]
fn sparse_hessian_evaluate_allocates_nothing_with_dense_or_group_seeds() {
    use sparsediff::ad::{ClosureHessian, SeedBlock};
    use sparsediff::{Strategy, Verify};
    let n = 30;
    // f = Σ x_i² + Σ (x_i − x_{i+1})²: tridiagonal Hessian.
    let h_at = move |i: usize, j: usize| -> f64 {
        if i == j {
            2.0 + if i > 0 { 2.0 } else { 0.0 } + if i + 1 < n { 2.0 } else { 0.0 }
        } else if i.abs_diff(j) == 1 {
            -2.0
        } else {
            0.0
        }
    };
    let products = move |_: &[f64],
                         seeds: SeedBlock<'_>,
                         out: &mut [f64]|
          -> Result<(), sparsediff::ad::ClosureError> {
        let p = seeds.probes();
        for i in 0..n {
            for c in 0..p {
                out[i * p + c] = (i.saturating_sub(1)..(i + 2).min(n))
                    .map(|j| h_at(i, j) * seeds.at(j, c))
                    .sum();
            }
        }
        Ok(())
    };
    let f = move |x: &[f64]| -> Result<f64, sparsediff::ad::ClosureError> {
        Ok(x.iter().map(|v| v * v).sum::<f64>()
            + x.windows(2).map(|w| (w[0] - w[1]).powi(2)).sum::<f64>())
    };
    let pattern = sparsediff::generators::band(n, 1, 1).unwrap();
    for strategy in [
        Strategy::Random { oversampling: 2 },
        Strategy::SymmetricRandom,
        Strategy::Cpr,
    ] {
        let options = Options {
            strategy: strategy.clone(),
            verify: Verify::Off,
            ..Options::default()
        };
        let backend = ClosureHessian::new(f, products, n);
        let mut h =
            SparseHessian::with_backend(Box::new(backend), pattern.clone(), &options).unwrap();
        let z: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        h.evaluate(&z).unwrap();
        let ((), count) = ALLOC.count(|| {
            for _ in 0..3 {
                h.evaluate(&z).unwrap();
            }
        });
        assert_eq!(count, 0, "{strategy:?}: evaluate allocated");
        let m = h.evaluate(&z).unwrap();
        for (v, (i, j)) in m.iter() {
            assert!(
                (v - h_at(i, j)).abs() <= 1e-9,
                "{strategy:?} ({i},{j}): {v}"
            );
        }
    }
}
