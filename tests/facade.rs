//! The prepare/evaluate API with backends the caller chooses (forward lanes, finite
//! differences, closures), saved plans, verification and bad input.

use sparsediff::ScalarFunction;
use sparsediff::ad::{
    ClosureHessian, Differences, FiniteDifferenceHessian, FiniteDifferenceJacobian,
    ForwardJacobian, SeedBlock,
};
use sparsediff::num_dual::DualNum;
use sparsediff::probe::{Decompression, Geometry};
use sparsediff::{
    GivenPattern, Options, SavedPlan, SparseError, SparseHessian, SparseJacobian, Strategy,
    VectorFunction, Verify, generators,
};
use sparsediff_pattern::testing::CountingAllocator;
use sparsediff_problems::{eval_point, grid_energy::GridEnergy, rosenbrock::Rosenbrock};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// F_i = x_{i+1}² − x_i x_{i−1} + sin x_i.
struct Tridiagonal;
impl VectorFunction for Tridiagonal {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        let n = x.len();
        for i in 0..n {
            let next = if i + 1 < n {
                x[i + 1].powi(2)
            } else {
                D::zero()
            };
            let prev = if i > 0 { x[i] * x[i - 1] } else { D::zero() };
            out[i] = next - prev + x[i].sin();
        }
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
}

fn tridiagonal_jacobian(x: &[f64], i: usize, j: usize) -> f64 {
    let n = x.len();
    let mut v = 0.0;
    if j == i + 1 && j < n {
        v += 2.0 * x[j];
    }
    if i > 0 && j == i - 1 {
        v -= x[i];
    }
    if j == i {
        v += x[i].cos() - if i > 0 { x[i - 1] } else { 0.0 };
    }
    v
}

#[test]
fn forward_jacobian_with_a_given_pattern() {
    let n = 200;
    let pattern = generators::band(n, 1, 1).unwrap();
    let backend = Box::new(ForwardJacobian::new(Tridiagonal, n));
    let mut jac =
        SparseJacobian::with_backend(backend, pattern, &Options::with_strategy(Strategy::Auto))
            .unwrap();
    assert_eq!(jac.info().probes, 3);
    assert_eq!(jac.info().backend, "forward");
    for shift in [0.0, 0.3] {
        let x: Vec<f64> = point(n).iter().map(|v| v + shift).collect();
        let m = jac.evaluate(&x).unwrap().clone();
        for (v, (i, j)) in m.iter() {
            assert!(
                (v - tridiagonal_jacobian(&x, i, j)).abs() <= 1e-12,
                "({i},{j})"
            );
        }
    }
    assert!(matches!(
        jac.evaluate(&[1.0; 3]),
        Err(SparseError::WrongLength { what: "x", .. })
    ));
}

#[test]
fn finite_differences_agree_to_1e_6() {
    let n = 60;
    let pattern = generators::band(n, 1, 1).unwrap();
    let fd = FiniteDifferenceJacobian::new(
        |x: &[f64], y: &mut [f64]| Tridiagonal.eval(x, y),
        n,
        n,
        Differences::Central,
    );
    let mut jac = SparseJacobian::with_backend(Box::new(fd), pattern, &Options::default()).unwrap();
    let x = point(n);
    for (v, (i, j)) in jac.evaluate(&x).unwrap().iter() {
        assert!(
            (v - tridiagonal_jacobian(&x, i, j)).abs() <= 1e-6,
            "({i},{j})"
        );
    }
}

/// Chained Rosenbrock, value and gradient by hand.
fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

fn rosenbrock_gradient(x: &[f64], g: &mut [f64]) {
    g.fill(0.0);
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
}

fn rosenbrock_hessian(x: &[f64], i: usize, j: usize) -> f64 {
    let n = x.len();
    if i == j {
        let mut v = 0.0;
        if i + 1 < n {
            v += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        }
        if i > 0 {
            v += 200.0;
        }
        v
    } else if i.abs_diff(j) == 1 {
        -400.0 * x[i.min(j)]
    } else {
        0.0
    }
}

#[test]
fn hessian_by_differences_of_a_gradient_with_every_strategy() {
    let n = 50;
    let pattern = generators::band(n, 1, 1).unwrap();
    let x = point(n);
    for (strategy, probes) in [
        (Strategy::Auto, 2),
        (Strategy::Acyclic, 2),
        (Strategy::Star, 3),
        (Strategy::Roll, 3),
        (Strategy::Cpr, 3),
        (
            Strategy::Stencil(Geometry::Band { beta: None }, Decompression::Substitution),
            2,
        ),
    ] {
        let fd =
            FiniteDifferenceHessian::new(rosenbrock, rosenbrock_gradient, n, Differences::Central);
        let mut h = SparseHessian::with_backend(
            Box::new(fd),
            pattern.clone(),
            &Options::with_strategy(strategy.clone()),
        )
        .unwrap();
        assert_eq!(h.info().probes, probes, "{strategy:?}");
        for (v, (i, j)) in h.evaluate(&x).unwrap().iter() {
            let e = rosenbrock_hessian(&x, i, j);
            assert!(
                (v - e).abs() <= 1e-5 * e.abs().max(1.0),
                "{strategy:?} ({i},{j}): {v} vs {e}"
            );
        }
    }
}

/// Hessian-vector products of Rosenbrock "from another AD system": the exact Hessian
/// (tridiagonal) times the seeds.
fn rosenbrock_products(x: &[f64], seeds: SeedBlock<'_>, out: &mut [f64]) {
    let p = seeds.probes();
    out.fill(0.0);
    for i in 0..x.len() {
        for j in i.saturating_sub(1)..(i + 2).min(x.len()) {
            for c in 0..p {
                out[i * p + c] += rosenbrock_hessian(x, i, j) * seeds.at(j, c);
            }
        }
    }
}

#[test]
fn closure_backend_and_saved_plans() {
    // Products from "another AD system": here, the exact Hessian of Rosenbrock.
    let n = 40;
    let pattern = generators::band(n, 1, 1).unwrap();
    let products = |x: &[f64],
                    seeds: SeedBlock<'_>,
                    out: &mut [f64]|
     -> Result<(), sparsediff::ad::ClosureError> {
        rosenbrock_products(x, seeds, out);
        Ok(())
    };
    let backend = ClosureHessian::new(|x: &[f64]| Ok(rosenbrock(x)), products, n);
    let mut h =
        SparseHessian::with_backend(Box::new(backend), pattern, &Options::default()).unwrap();
    let x = point(n);
    let first = h.evaluate(&x).unwrap().clone();
    for (v, (i, j)) in first.iter() {
        assert!((v - rosenbrock_hessian(&x, i, j)).abs() <= 1e-12);
    }
    // Save, reload, get the same numbers.
    let json = SavedPlan::from_plan(h.plan()).unwrap().to_json().unwrap();
    let plan = SavedPlan::from_json(&json).unwrap().to_plan().unwrap();
    assert_eq!(plan.num_probes(), h.plan().num_probes());
    let backend = ClosureHessian::new(|x: &[f64]| Ok(rosenbrock(x)), products, n);
    let mut again = SparseHessian::with_plan(Box::new(backend), plan, &Options::default()).unwrap();
    assert_eq!(again.evaluate(&x).unwrap().data(), first.data());
    // A tampered file is refused, not trusted.
    let mut saved = SavedPlan::from_json(&json).unwrap();
    if let sparsediff::probe::Seeds::Groups { group, .. } = &mut saved.seeds {
        group[5] = group[4];
    }
    assert!(saved.to_plan().is_err());
    assert!(SavedPlan::from_json("{\"format\": 3}").is_err());
}

#[test]
fn saved_plans_with_absurd_sizes_are_refused() {
    use sparsediff::SavedPlanError;
    use sparsediff::probe::{
        DesignError, MAX_DENSE_ENTRIES, MatrixKind, ProbeDesigner, RandomDesigner, Recovery,
        RollDesigner, Seeds,
    };
    let band = generators::band(20, 2, 2).unwrap();
    let roll =
        SavedPlan::from_plan(&RollDesigner.design(&band, MatrixKind::Symmetric).unwrap()).unwrap();
    let random = SavedPlan::from_plan(
        &RandomDesigner::new()
            .design(&band, MatrixKind::Symmetric)
            .unwrap(),
    )
    .unwrap();
    assert!(roll.to_plan().is_ok() && random.to_plan().is_ok());
    let refused = |saved: &SavedPlan| match saved.to_plan() {
        Err(e) => e,
        other => panic!("expected a saved-plan error, got {other:?}"),
    };

    // A zero stride used to divide by zero.
    let mut zero_stride = roll.clone();
    zero_stride.recovery = Recovery::Roll { stride: 0 };
    zero_stride.seeds = Seeds::Groups {
        group: vec![usize::MAX; 20],
        num_probes: 0,
    };
    assert!(matches!(
        refused(&zero_stride),
        SavedPlanError::Plan(DesignError::Parameter { name: "stride", .. })
    ));
    // rows = probes = 2^32: the product wrapped to 0 and faer panicked.
    let mut wrapped = random.clone();
    wrapped.seeds = Seeds::Dense {
        rows: 1 << 32,
        num_probes: 1 << 32,
        values: Vec::new(),
    };
    assert!(matches!(
        refused(&wrapped),
        SavedPlanError::Overflow {
            rows: 4294967296,
            probes: 4294967296,
            ..
        }
    ));
    // No rows, any number of probes: held to the dense limit.
    wrapped.seeds = Seeds::Dense {
        rows: 0,
        num_probes: 1 << 40,
        values: Vec::new(),
    };
    assert!(matches!(
        refused(&wrapped),
        SavedPlanError::Plan(DesignError::DenseTooLarge { limit, .. }) if limit == MAX_DENSE_ENTRIES
    ));
    // Too few values for the declared sizes.
    let mut short = random.clone();
    if let Seeds::Dense { values, .. } = &mut short.seeds {
        values.pop();
    }
    assert!(matches!(
        refused(&short),
        SavedPlanError::LengthMismatch {
            what: "dense seed values",
            ..
        }
    ));
    // Group seeds with more probes than columns.
    let mut many = roll.clone();
    if let Seeds::Groups { num_probes, .. } = &mut many.seeds {
        *num_probes = 1 << 40;
    }
    assert!(matches!(
        refused(&many),
        SavedPlanError::Plan(DesignError::TooManyProbes { vertices: 20, .. })
    ));
    // Another version, and text that is not a plan.
    let mut newer = roll.clone();
    newer.version = 2;
    assert!(matches!(
        refused(&newer),
        SavedPlanError::WrongFormat {
            version: 2,
            expected_version: 1,
            ..
        }
    ));
    assert!(matches!(
        SavedPlan::from_json("{\"format\": 3}"),
        Err(SavedPlanError::Json(_))
    ));
}

#[test]
fn saved_plan_files_keep_format_one() {
    use sparsediff::SavedPlanError;
    use sparsediff::probe::{DesignError, MatrixKind, Recovery, Seeds};
    // Files as format 1 has always written them: the plan's own types, serialised, give
    // the same text field for field.
    let groups = r#"{"format":"sparsediff-plan","version":1,"designer":"cpr","symmetric":false,"recovery":{"kind":"columns"},"nrows":3,"ncols":3,"row_ptr":[0,1,2,3],"col_idx":[0,1,2],"seeds":{"kind":"groups","group":[0,0,0],"probes":1}}"#;
    let dense = r#"{"format":"sparsediff-plan","version":1,"designer":"random","symmetric":true,"recovery":{"kind":"row-least-squares"},"nrows":3,"ncols":3,"row_ptr":[0,1,2,3],"col_idx":[0,1,2],"seeds":{"kind":"dense","rows":3,"probes":2,"values":[1.0,0.5,2.0,-1.0,3.0,0.25]}}"#;
    for text in [groups, dense] {
        let saved = SavedPlan::from_json(text).unwrap();
        assert_eq!(saved.to_json().unwrap(), text);
        let plan = saved.to_plan().unwrap();
        assert_eq!(SavedPlan::from_plan(&plan).unwrap(), saved);
    }
    let saved = SavedPlan::from_json(dense).unwrap();
    assert_eq!(saved.kind, MatrixKind::Symmetric);
    assert_eq!(saved.recovery, Recovery::RowLeastSquares);
    assert_eq!(
        saved.seeds,
        Seeds::dense(3, 2, vec![1.0, 0.5, 2.0, -1.0, 3.0, 0.25]).unwrap()
    );
    assert_eq!(
        saved.to_plan().unwrap().seeds().direction(1),
        vec![0.5, -1.0, 0.25]
    );

    // A pattern that is not CSR, a decoder that cannot be saved: refused while parsing.
    let bad_pattern = groups.replace(r#""col_idx":[0,1,2]"#, r#""col_idx":[0,5,2]"#);
    let custom = groups.replace(r#"{"kind":"columns"}"#, r#"{"kind":"custom"}"#);
    for text in [bad_pattern, custom] {
        assert!(matches!(
            SavedPlan::from_json(&text),
            Err(SavedPlanError::Json(_))
        ));
    }
    // A non-finite seed (JSON has none, a SavedPlan built in code may).
    let mut nan = SavedPlan::from_json(dense).unwrap();
    if let Seeds::Dense { values, .. } = &mut nan.seeds {
        values[3] = f64::NAN;
    }
    assert!(matches!(
        nan.to_plan(),
        Err(SavedPlanError::Plan(DesignError::NonFiniteSeed {
            row: 1,
            probe: 1,
            ..
        }))
    ));
}

#[test]
fn verification_catches_a_pattern_that_misses_entries() {
    // The true Hessian is tridiagonal; declare only the diagonal.
    let n = 30;
    let diagonal = sparsediff::Pattern::identity(n).unwrap();
    let fd = FiniteDifferenceHessian::new(rosenbrock, rosenbrock_gradient, n, Differences::Central);
    let options = Options {
        detector: std::sync::Arc::new(GivenPattern(diagonal.clone())),
        verify: Verify::Every(1),
        ..Options::default()
    };
    let mut h = SparseHessian::with_backend(Box::new(fd), diagonal, &options).unwrap();
    assert_eq!(h.info().probes, 1);
    assert!(matches!(
        h.evaluate(&point(n)),
        Err(SparseError::VerificationFailed { .. })
    ));
    // With the right pattern verification passes.
    let fd = FiniteDifferenceHessian::new(rosenbrock, rosenbrock_gradient, n, Differences::Central);
    let band = generators::band(n, 1, 1).unwrap();
    let options = Options {
        detector: std::sync::Arc::new(GivenPattern(band.clone())),
        verify: Verify::Every(1),
        // The tolerance is the backend's: finite differences are held to 1e-5.
        ..Options::default()
    };
    let mut h = SparseHessian::with_backend(Box::new(fd), band, &options).unwrap();
    assert!(h.evaluate(&point(n)).is_ok());
}

/// f = Σ wᵢ·xᵢ²·xᵢ₊₁ over weights the caller owns: the function borrows them.
struct Weighted<'a> {
    weights: &'a [f64],
}

impl ScalarFunction for Weighted<'_> {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .zip(self.weights)
            .map(|(w, &c)| w[0] * w[0] * w[1] * c)
            .sum()
    }
}

#[test]
fn functions_that_borrow_their_data_prepare_and_report_while_the_matrix_is_held() {
    let n = 6;
    let weights: Vec<f64> = (0..n - 1).map(|i| 1.0 + i as f64).collect();
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.1 * i as f64).collect();
    // The Hessian and the Jacobian of borrowing functions, both lifetimes local to this test.
    let mut h =
        SparseHessian::prepare(Weighted { weights: &weights }, &x, &Options::default()).unwrap();
    let m = h.evaluate(&x).unwrap();
    for i in 0..n - 1 {
        let c = weights[i];
        // ∂²/∂xᵢ² of c·xᵢ²xᵢ₊₁ is 2c·xᵢ₊₁; ∂²/∂xᵢ∂xᵢ₊₁ is 2c·xᵢ.
        let diag = 2.0 * c * x[i + 1];
        let got = *m.get(i, i).unwrap();
        assert!(
            (got - diag).abs() <= 1e-12,
            "H[{i},{i}] = {got}, expected {diag}"
        );
        assert!((m.get(i, i + 1).unwrap() - 2.0 * c * x[i]).abs() <= 1e-12);
    }
    // The report is readable while the matrix is held.
    assert_eq!(m.info().evaluations, 1);
    let probes = m.info().probes;
    assert_eq!(probes, h.plan().num_probes());
}

/// The headline: after `prepare`, `evaluate` on the default path (traced
/// pattern, automatic probes, the tape) allocates nothing, for Hessians and Jacobians, at the prepared point
/// and elsewhere.
#[test]
fn evaluate_allocates_nothing_on_the_default_path() {
    let options = Options::default();
    let x = eval_point(200);
    let elsewhere: Vec<f64> = x.iter().map(|v| v + 0.01).collect();
    let mut h = SparseHessian::prepare(Rosenbrock, &x, &options).unwrap();
    let g = GridEnergy::new(12);
    let xg = eval_point(144);
    let mut hg = SparseHessian::prepare(g, &xg, &options).unwrap();
    let mut j = SparseJacobian::prepare(Tridiagonal, &x, &options).unwrap();
    // prepare sizes everything, the first call included.
    for y in [&x, &elsewhere, &x] {
        let (ok, n) = ALLOC.count(|| h.evaluate(y).is_ok());
        assert!(ok);
        assert_eq!(n, 0, "SparseHessian::evaluate allocated");
        let (ok, n) = ALLOC.count(|| j.evaluate(y).is_ok());
        assert!(ok);
        assert_eq!(n, 0, "SparseJacobian::evaluate allocated");
    }
    let (ok, n) = ALLOC.count(|| hg.evaluate(&xg).is_ok());
    assert!(ok);
    assert_eq!(n, 0, "SparseHessian::evaluate allocated (grid energy)");
    // faer outputs: laid out once, refilled without allocating
    let mut lower = h.faer_output(sparsediff::probe::Triangle::Lower).unwrap();
    let mut full = j.faer_output(sparsediff::probe::Triangle::Full).unwrap();
    for y in [&elsewhere, &x] {
        let (ok, n) = ALLOC.count(|| h.evaluate_into(y, &mut lower).is_ok());
        assert!(ok && !lower.rebuilt());
        assert_eq!(n, 0, "SparseHessian::evaluate_into allocated");
        let (ok, n) = ALLOC.count(|| j.evaluate_into(y, &mut full).is_ok());
        assert!(ok);
        assert_eq!(n, 0, "SparseJacobian::evaluate_into allocated");
    }
}

/// The same at a size whose tape program is cut into row blocks (the split sweep has a
/// workspace per block): `prepare` sizes them without a product pass (`reserve`), and the
/// first `evaluate`, on one thread or two, allocates nothing and gives the products a
/// product pass gives.
#[test]
fn evaluate_allocates_nothing_on_a_split_program() {
    use sparsediff::ad::tape::Tape;
    let n = 100_000;
    let x = eval_point(n);
    // This size is split (the facade's tape is this recording).
    let tape = Tape::record_scalar(&x, |v| Rosenbrock.eval(v)).unwrap();
    assert!(tape.hvp_chunks().is_some_and(|k| k >= 2));
    let mut reference = SparseHessian::prepare(Rosenbrock, &x, &Options::default()).unwrap();
    // Products already made once at x (a warm-up pass would have made them too).
    reference.evaluate(&x).unwrap();
    let expected = reference.evaluate(&x).unwrap().clone();
    for threads in [1, 2] {
        let options = Options {
            threads,
            ..Options::default()
        };
        let mut h = SparseHessian::prepare(Rosenbrock, &x, &options).unwrap();
        let (ok, allocations) = ALLOC.count(|| h.evaluate(&x).is_ok());
        assert!(ok);
        if threads == 1 {
            // (a pool's own bookkeeping is rayon's, not ours)
            assert_eq!(
                allocations, 0,
                "the first SparseHessian::evaluate allocated"
            );
        }
        assert_eq!(h.matrix().data(), expected.data(), "threads = {threads}");
    }
}

/// At a size whose detection arrays are kept for the recovered matrix (buffers of 1 MB and
/// more: `HessianBackend::take_scratch`), the matrix whose indices were copied into the
/// detection's pages has the grid's pattern and its analytic Hessian, at x0 and elsewhere.
#[test]
fn a_matrix_in_the_detections_pages_is_exact() {
    use sparsediff::testing::{Tolerance, mismatches};
    let s = 400; // 160 000 variables, 799 200 entries: 6.4 MB of column indices
    let g = GridEnergy::new(s);
    let x0 = eval_point(s * s);
    let mut h = SparseHessian::prepare(g, &x0, &Options::default()).unwrap();
    let pattern = g.hessian_pattern().unwrap();
    assert_eq!(h.pattern(), &pattern);
    let y: Vec<f64> = x0.iter().map(|v| 0.5 * v + 0.1).collect();
    for x in [&x0, &y] {
        let mut values = vec![0.0; pattern.nnz()];
        g.hessian_values_into(x, &mut values);
        let expected = pattern.to_sprs_with_values(values).unwrap();
        let got = h.evaluate(x).unwrap().matrix().clone();
        assert_eq!(got.indptr().raw_storage(), pattern.row_ptr());
        assert_eq!(got.indices(), pattern.col_idx());
        assert_eq!(mismatches(&expected, &got, Tolerance::default()), vec![]);
    }
}

#[test]
fn faer_outputs_hold_the_evaluated_matrix() {
    use sparsediff::probe::Triangle;
    let x = eval_point(50);
    let mut h = SparseHessian::prepare(Rosenbrock, &x, &Options::default()).unwrap();
    let mut j = SparseJacobian::prepare(Tridiagonal, &x, &Options::default()).unwrap();
    let mut outs: Vec<_> = [Triangle::Full, Triangle::Lower, Triangle::Upper]
        .into_iter()
        .map(|t| h.faer_output(t).unwrap())
        .collect();
    let mut jf = j.faer_output(Triangle::Full).unwrap();
    let y: Vec<f64> = x.iter().map(|v| 1.5 * v - 0.2).collect();
    for out in &mut outs {
        h.evaluate_into(&y, out).unwrap();
    }
    j.evaluate_into(&y, &mut jf).unwrap();
    let m = h.matrix().clone();
    for (i, row) in m.outer_iterator().enumerate() {
        for (col, &v) in row.iter() {
            assert_eq!(outs[0].get(i, col), Some(v));
            assert_eq!(outs[1].get(i, col), (col <= i).then_some(v));
            assert_eq!(outs[2].get(i, col), (col >= i).then_some(v));
        }
    }
    assert_eq!(outs[0].matrix().compute_nnz(), m.nnz());
    assert_eq!(
        outs[1].matrix().compute_nnz() + outs[2].matrix().compute_nnz(),
        m.nnz() + 50
    );
    let jm = j.matrix().clone();
    for (i, row) in jm.outer_iterator().enumerate() {
        for (col, &v) in row.iter() {
            assert_eq!(jf.get(i, col), Some(v));
        }
    }
}

/// f = Σ xᵢ⁴ + Σ xᵢ²·xᵢ₊₁²: tridiagonal, with off-diagonal entries 4·xᵢ·xᵢ₊₁ that vanish
/// where x = 0.
fn coupled(x: &[f64]) -> f64 {
    x.iter().map(|v| v.powi(4)).sum::<f64>()
        + x.windows(2).map(|w| (w[0] * w[1]).powi(2)).sum::<f64>()
}

fn coupled_gradient(x: &[f64], g: &mut [f64]) {
    let n = x.len();
    for i in 0..n {
        g[i] = 4.0 * x[i].powi(3);
        if i > 0 {
            g[i] += 2.0 * x[i] * x[i - 1] * x[i - 1];
        }
        if i + 1 < n {
            g[i] += 2.0 * x[i] * x[i + 1] * x[i + 1];
        }
    }
}

#[test]
fn oversampled_random_plans_report_their_residual_and_check_themselves() {
    let n = 24;
    let fd = || FiniteDifferenceHessian::new(coupled, coupled_gradient, n, Differences::Central);
    let random = |pattern: &sparsediff::Pattern, verify| Options {
        detector: std::sync::Arc::new(GivenPattern(pattern.clone())),
        strategy: Strategy::Random { oversampling: 3 },
        verify,
        ..Options::default()
    };
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.1 * i as f64).collect();
    // The right pattern: the residual is at the level of the differences' error, and only
    // the first evaluation is verified.
    let band = generators::band(n, 1, 1).unwrap();
    let mut h = SparseHessian::with_backend(
        Box::new(fd()),
        band.clone(),
        &random(&band, Verify::Every(1000)),
    )
    .unwrap();
    for _ in 0..3 {
        h.evaluate(&x).unwrap();
        let r = h.info().max_relative_residual.unwrap();
        assert!(r < 1e-6, "{r}");
    }
    assert_eq!(h.info().verifications, 1);
    // A declared diagonal: right at x = (1, 0, 1, 0, …), where every coupling xᵢ·xᵢ₊₁
    // vanishes (the first evaluation verifies and passes); then the coupling appears. The periodic check is 999 evaluations away, but the residual
    // makes this evaluation verify itself, and the verification refuses it.
    let diagonal = sparsediff::Pattern::identity(n).unwrap();
    let mut h = SparseHessian::with_backend(
        Box::new(fd()),
        diagonal.clone(),
        &random(&diagonal, Verify::Every(1000)),
    )
    .unwrap();
    let alternating: Vec<f64> = (0..n).map(|i| ((i + 1) % 2) as f64).collect();
    h.evaluate(&alternating).unwrap();
    assert!(h.info().max_relative_residual.unwrap() < 1e-6);
    let err = h.evaluate(&x).unwrap_err();
    assert!(
        matches!(err, SparseError::VerificationFailed { .. }),
        "{err}"
    );
    assert_eq!(h.info().verifications, 2);
    assert!(h.info().max_relative_residual.unwrap() > 1e-3);
    // Verification off: the values come back (its documented risk) and the residual
    // still says they cannot be trusted.
    let mut h = SparseHessian::with_backend(
        Box::new(fd()),
        diagonal.clone(),
        &random(&diagonal, Verify::Off),
    )
    .unwrap();
    h.evaluate(&x).unwrap();
    assert!(h.info().max_relative_residual.unwrap() > 1e-3);
    // Exact designs carry no residual.
    let mut h =
        SparseHessian::with_backend(Box::new(fd()), band.clone(), &Options::default()).unwrap();
    h.evaluate(&x).unwrap();
    assert_eq!(h.info().max_relative_residual, None);
}

/// Products with a NaN are refused, naming the product, on one thread and on two (the
/// facade checks the products, split across its threads, and the decoders do not check
/// them again).
#[test]
fn non_finite_products_are_refused_on_any_number_of_threads() {
    let n = 40;
    let pattern = generators::band(n, 1, 1).unwrap();
    let products = |x: &[f64],
                    seeds: SeedBlock<'_>,
                    out: &mut [f64]|
     -> Result<(), sparsediff::ad::ClosureError> {
        rosenbrock_products(x, seeds, out);
        if x[0] > 5.0 {
            out[7 * seeds.probes() + 1] = f64::NAN;
        }
        Ok(())
    };
    for threads in [1, 2] {
        let options = Options {
            threads,
            ..Options::default()
        };
        let backend = ClosureHessian::new(|x: &[f64]| Ok(rosenbrock(x)), products, n);
        let mut h =
            SparseHessian::with_backend(Box::new(backend), pattern.clone(), &options).unwrap();
        let mut x = point(n);
        assert!(h.evaluate(&x).is_ok());
        x[0] = 6.0;
        let err = h.evaluate(&x).unwrap_err().to_string();
        // The closure backend finds it first (flat index 7·2 + 1); the facade's own check
        // would name it as (7, 1).
        assert!(
            (err.contains("product 15 ") || err.contains("(7, 1)")) && err.contains("NaN"),
            "threads {threads}: {err}"
        );
    }
}
