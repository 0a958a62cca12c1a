//! The cartpole swing-up of the spec, written with this crate's public API
//! (`trajectory::cartpole`, trapezoidal), against `sparsediff_problems::cartpole` at the
//! spec's evaluation point: cost, equalities, inequalities, and L_A's value, gradient and
//! Hessian (through the composite Hessian of [`AugmentedLagrangian`]), all to 1e-12
//! relative.

use sparsediff::composite::RowFunctions;
use sparsediff_problems::cartpole as reference;
use trajectory::{AugmentedLagrangian, Transcribed, Transcription, cartpole};

const TOL: f64 = 1e-12;

/// Largest `|got − want| / |want|` over the entries, with `|want|` floored at
/// `floor` (entries of a vector that are exactly or nearly zero are compared against the
/// vector's own scale).
fn max_rel(got: &[f64], want: &[f64], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(floor))
        .fold(0.0, f64::max)
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn check(knots: usize, reference_value: f64) {
    let problem = cartpole::problem(knots).unwrap();
    let nlp = Transcribed::new(problem, Transcription::Trapezoidal).unwrap();
    let spec = reference::CartpoleProblem::new(knots);
    let z = cartpole::eval_point(knots);
    assert_eq!(z, spec.eval_point(), "the evaluation point");
    assert_eq!(
        cartpole::initial_guess(knots),
        spec.initial_guess(),
        "the initial guess"
    );
    assert_eq!(nlp.num_vars(), spec.num_vars());
    assert_eq!(nlp.num_equalities(), spec.num_equalities());
    assert_eq!(nlp.num_inequalities(), spec.num_inequalities());

    // J, c, g as functions of z
    let cost: f64 = nlp.cost(&z).unwrap();
    let want_cost: f64 = spec.cost(&z);
    let cost_err = (cost - want_cost).abs() / want_cost.abs();
    let c: Vec<f64> = nlp.equalities(&z).unwrap();
    let want_c: Vec<f64> = spec.equalities(&z);
    let c_err = max_rel(&c, &want_c, 1e-3 * inf_norm(&want_c));
    let g: Vec<f64> = nlp.inequalities(&z).unwrap();
    let want_g: Vec<f64> = spec.inequalities(&z);
    let g_err = max_rel(&g, &want_g, 1e-3 * inf_norm(&want_g));

    // the same rows: variables row by row, and each row's value from its own variables
    let ours = nlp.equality_rows();
    for (i, row) in spec.equality_rows().enumerate() {
        assert_eq!(ours.vars(i), row.vars(), "equality row {i}");
        let local: Vec<f64> = row.vars().iter().map(|&v| z[v]).collect();
        assert_eq!(
            ours.eval(i, &local),
            c[i],
            "equality row {i} from its variables"
        );
    }
    let ours = nlp.inequality_rows();
    for (j, row) in spec.inequality_rows().enumerate() {
        assert_eq!(ours.vars(j), row.vars(), "inequality row {j}");
        assert_eq!(
            ours.eval(j, &[z[row.vars()[0]]]),
            g[j],
            "inequality row {j}"
        );
    }
    let ours = nlp.objective_rows();
    for (k, row) in spec.cost_terms().enumerate() {
        assert_eq!(ours.vars(k), row.vars(), "cost term {k}");
    }

    // L_A: value (generic), then value, gradient, Hessian from the composite path
    let la_ref = reference::AugmentedLagrangian::benchmark(spec);
    let la = AugmentedLagrangian::new(&nlp, la_ref.lambda.clone(), la_ref.mu.clone(), la_ref.rho)
        .unwrap();
    let want = la_ref.reference(&z).unwrap();
    let value: f64 = la.value(&z).unwrap();
    let value_err = (value - want.value).abs() / want.value.abs();
    let spec_err = (value - reference_value).abs() / reference_value;

    let mut h = la.composite_hessian(&z).unwrap();
    assert_eq!(h.pattern(), &want.pattern, "the structural Hessian pattern");
    let hessian = h.evaluate(&z).unwrap().data().to_vec();
    let mut grad = vec![0.0; z.len()];
    let composite_value = h.gradient(&z, &mut grad).unwrap();
    let composite_value_err = (composite_value - want.value).abs() / want.value.abs();
    let grad_err = max_rel(&grad, &want.gradient, 1e-3 * inf_norm(&want.gradient));
    let hess_err = max_rel(&hessian, &want.hessian, 1e-3 * inf_norm(&want.hessian));
    // entries against their own magnitude, where that is above rounding residue (the
    // reference has entries of 4e-16 from cancellation that are exactly 0 here)
    let hess_entry_err = hessian
        .iter()
        .zip(&want.hessian)
        .filter(|(_, w)| w.abs() >= 1e-8)
        .map(|(g, w)| (g - w).abs() / w.abs())
        .fold(0.0, f64::max);
    let hess_abs = hessian
        .iter()
        .zip(&want.hessian)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);

    println!(
        "N = {knots}: max relative errors — cost {cost_err:.1e}, c {c_err:.1e}, g {g_err:.1e}, \
         L_A (generic) {value_err:.1e} (spec's table {spec_err:.1e}), L_A (composite) \
         {composite_value_err:.1e}, gradient {grad_err:.1e}, Hessian {hess_err:.1e} \
         (entries ≥ 1e-8 against their own magnitude {hess_entry_err:.1e}; largest absolute \
         difference {hess_abs:.1e})"
    );
    for (what, err) in [
        ("cost", cost_err),
        ("equalities", c_err),
        ("inequalities", g_err),
        ("L_A", value_err),
        ("L_A against the spec's table", spec_err),
        ("composite L_A", composite_value_err),
        ("gradient", grad_err),
        ("Hessian", hess_err),
        ("Hessian entries", hess_entry_err),
    ] {
        assert!(err <= TOL, "N = {knots}: {what} off by {err:e}");
    }
}

#[test]
fn cartpole_n100_matches_the_problems_crate() {
    check(100, 5.626250945601e+02);
}

#[test]
fn cartpole_n1000_matches_the_problems_crate() {
    check(1000, 7.280844334764e+01);
}

/// The facade's generic path on the same L_A (the ScalarFunction view of
/// [`AugmentedLagrangian`]): traced pattern, probes, tape.
#[test]
fn cartpole_through_the_facade_sparse_hessian() {
    use sparsediff::{Options, SparseHessian};
    let knots = 100;
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
    let mut h = SparseHessian::prepare(la, &z, &Options::default()).unwrap();
    let m = h.evaluate(&z).unwrap();
    // the traced pattern drops the structural zeros of the reference pattern: compare by
    // entry, every reference entry (zero where the trace found none)
    let mut err = 0.0f64;
    for (pos, (i, j)) in want.pattern.iter().enumerate() {
        let got = m.get(i, j).copied().unwrap_or(0.0);
        err = err.max((got - want.hessian[pos]).abs() / want.hessian[pos].abs().max(1.0));
    }
    assert!(m.nnz() <= want.pattern.nnz());
    println!("N = {knots}, facade SparseHessian: max |H − H_ref| / max(|H_ref|, 1) = {err:.1e}");
    assert!(err <= TOL, "facade Hessian off by {err:e}");
}
