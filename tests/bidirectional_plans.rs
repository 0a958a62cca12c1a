//! Bidirectional plans in the facade (J·Sc by JVPs and Jᵀ·Sr by VJPs from one star
//! bicolouring): chosen by `JacobianMode::Auto` where both sides have dense lines, forced
//! by `JacobianMode::Bidirectional`, values checked by the shared harness on random
//! patterns with every evaluation verified, a branch change re-designed in the same mode,
//! and the named errors of backends without VJPs.

use proptest::prelude::*;
use sparsediff::num_dual::DualNum;
use sparsediff::testing::{Tolerance, config, jacobian_mismatches_with, mismatches, patterns};
use sparsediff::{
    BackendChoice, JacobianMode, Mode, Options, Pattern, SparseError, SparseJacobian,
    VectorFunction, Verify,
};
use sprs::CsMat;

/// Fᵢ = Σⱼ cᵢⱼ·sin(xⱼ + i/7) over the entries (i, j) of a given pattern: its Jacobian has
/// exactly that pattern, with values cᵢⱼ·cos(xⱼ + i/7).
#[derive(Debug, Clone)]
struct OnPattern {
    rows: Vec<Vec<(usize, f64)>>,
}

impl OnPattern {
    fn new(pattern: &Pattern) -> Self {
        let mut rows = vec![Vec::new(); pattern.nrows()];
        for (k, (i, j)) in pattern.iter().enumerate() {
            rows[i].push((j, 0.5 + (k % 7) as f64 * 0.25));
        }
        Self { rows }
    }

    fn jacobian(&self, pattern: &Pattern, x: &[f64]) -> CsMat<f64> {
        let values = pattern
            .iter()
            .map(|(i, j)| {
                let c = self.rows[i].iter().find(|e| e.0 == j).map_or(0.0, |e| e.1);
                c * (x[j] + i as f64 / 7.0).cos()
            })
            .collect();
        pattern.to_sprs_with_values(values).unwrap()
    }
}

impl VectorFunction for OnPattern {
    fn num_outputs(&self, _n: usize) -> usize {
        self.rows.len()
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        for (i, row) in self.rows.iter().enumerate() {
            let mut s = D::zero();
            for &(j, c) in row {
                s += (x[j] + i as f64 / 7.0).sin() * c;
            }
            out[i] = s;
        }
    }
}

fn verified(mode: JacobianMode) -> Options {
    Options {
        jacobian_mode: mode,
        verify: Verify::Every(1),
        ..Options::default()
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.3 + 0.2 * (1.3 * i as f64).cos()).collect()
}

proptest! {
    #![proptest_config(config(48))]

    /// Forced bidirectional plans recover every random pattern (dense lines included)
    /// exactly, verified; `Auto` never costs more than the better one-sided plan.
    #[test]
    fn bidirectional_plans_recover_random_patterns(pattern in patterns(1..=24)) {
        let f = OnPattern::new(&pattern);
        let x = point(pattern.ncols());
        let expected = f.jacobian(&pattern, &x);
        for mode in [JacobianMode::Bidirectional, JacobianMode::Auto] {
            let m = jacobian_mismatches_with(&f, &expected, &x, Tolerance::default(), &verified(mode))
                .unwrap();
            prop_assert!(m.is_empty(), "{mode:?}: {:?}", &m[..m.len().min(3)]);
        }
        let auto = SparseJacobian::prepare(f.clone(), &x, &Options::default()).unwrap();
        let cost_of = |mode| {
            let j = SparseJacobian::prepare(f.clone(), &x, &verified(mode)).unwrap();
            j.info().modes[0].cost.unwrap()
        };
        let one_sided = cost_of(JacobianMode::Columns).min(cost_of(JacobianMode::Rows));
        let chosen = auto.info().modes.iter().find(|c| c.mode == auto.info().mode).unwrap();
        prop_assert!(chosen.cost.unwrap() <= one_sided, "{:?}", auto.info().modes);
    }
}

#[test]
fn forced_bidirectional_reports_both_blocks() {
    let pattern = sparsediff::pattern::generators::arrowhead(200, 1).unwrap();
    let f = OnPattern::new(&pattern);
    let x = point(200);
    let mut j =
        SparseJacobian::prepare(f.clone(), &x, &verified(JacobianMode::Bidirectional)).unwrap();
    let info = j.info();
    assert_eq!(
        (info.mode, info.probes, info.backend),
        (Mode::Bidirectional, 3, "tape")
    );
    assert_eq!(info.designer, "bidirectional-star");
    assert_eq!(info.modes.len(), 1);
    assert_eq!(info.modes[0].split, Some((2, 1)));
    for shift in [0.0, 0.7, -2.0] {
        let y: Vec<f64> = x.iter().map(|v| v + shift).collect();
        let got = j.evaluate(&y).unwrap().matrix().clone();
        let m = mismatches(&f.jacobian(&pattern, &y), &got, Tolerance::default());
        assert!(m.is_empty(), "shift {shift}: {:?}", &m[..m.len().min(3)]);
    }
    assert_eq!(j.info().verifications, 3);
}

#[test]
fn a_band_is_not_worth_a_bicolouring() {
    let pattern = sparsediff::pattern::generators::band(300, 2, 2).unwrap();
    let f = OnPattern::new(&pattern);
    let j = SparseJacobian::prepare(f, &point(300), &Options::default()).unwrap();
    let info = j.info();
    assert_eq!((info.mode, info.probes), (Mode::Columns, 5));
    let bi = info
        .modes
        .iter()
        .find(|c| c.mode == Mode::Bidirectional)
        .unwrap();
    assert!(bi.products.is_none());
    assert!(bi.skipped.unwrap().contains("BIDIRECTIONAL_GATE"), "{bi:?}");
}

#[test]
fn backends_without_vjps_cannot_run_bidirectional_plans() {
    let pattern = sparsediff::pattern::generators::arrowhead(20, 1).unwrap();
    let f = OnPattern::new(&pattern);
    let x = point(20);
    for backend in [BackendChoice::Forward, BackendChoice::FiniteDifferences] {
        let options = Options {
            backend,
            ..verified(JacobianMode::Bidirectional)
        };
        let err = SparseJacobian::prepare(f.clone(), &x, &options).unwrap_err();
        assert!(
            matches!(err, SparseError::NeedsVjp { .. }),
            "{backend:?}: {err}"
        );
        // under Auto the column plan is kept with such a backend
        let options = Options {
            backend,
            ..verified(JacobianMode::Auto)
        };
        let j = SparseJacobian::prepare(f.clone(), &x, &options).unwrap();
        assert_eq!(j.info().mode, Mode::Columns, "{backend:?}");
        let bi = j
            .info()
            .modes
            .iter()
            .find(|c| c.mode == Mode::Bidirectional);
        assert_eq!(bi.unwrap().skipped, Some("the backend computes no VJPs"));
    }
}

/// An arrowhead whose diagonal switches to a sub-diagonal for x₀ < 0: a branch change
/// widens the pattern, and the re-design stays bidirectional.
#[derive(Debug, Clone, Copy)]
struct BranchyArrow;

impl VectorFunction for BranchyArrow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        out[0] = x.iter().map(|v| v.powi(2)).sum();
        for i in 1..x.len() {
            out[i] = if x[0] > 0.0 {
                x[0] * x[i] + x[i].powi(2)
            } else {
                x[0] * x[i] + x[i - 1].powi(3)
            };
        }
    }
}

#[test]
fn a_branch_change_is_redesigned_bidirectionally() {
    let n = 40;
    let x0 = point(n);
    let mut j = SparseJacobian::prepare(BranchyArrow, &x0, &verified(JacobianMode::Auto)).unwrap();
    assert_eq!(j.info().mode, Mode::Bidirectional);
    let mut out = j.faer_output(sparsediff::probe::Triangle::Full).unwrap();
    let before = out.matrix().compute_nnz();
    let mut x = x0.clone();
    x[0] = -0.4;
    // the faer layout follows the widened pattern, and says it was laid out again
    j.evaluate_into(&x, &mut out).unwrap();
    assert!(out.rebuilt());
    assert_eq!(out.matrix().compute_nnz(), before + n - 2);
    j.evaluate_into(&x, &mut out).unwrap();
    assert!(!out.rebuilt());
    let got = j.evaluate(&x).unwrap().matrix().clone();
    assert_eq!(j.info().redesigns, 1);
    assert_eq!(j.info().mode, Mode::Bidirectional);
    assert!(j.bidirectional_plan().is_some());
    let close =
        |a: Option<&f64>, b: f64| a.is_some_and(|a| (a - b).abs() <= 1e-14 * b.abs().max(1.0));
    // F₁ = x₀x₁ + x₀³; Fᵢ = x₀xᵢ + xᵢ₋₁³; (i, i) stays in the union pattern with value x₀
    assert!(close(got.get(1, 0), x[1] + 3.0 * x[0] * x[0]));
    for i in 1..n {
        assert!(close(got.get(i, i), x[0]), "({i}, {i})");
        if i >= 2 {
            assert!(close(got.get(i, 0), x[i]), "({i}, 0)");
            assert!(
                close(got.get(i, i - 1), 3.0 * x[i - 1] * x[i - 1]),
                "({i}, {})",
                i - 1
            );
        }
    }
}

/// A bidirectional plan handed to a builder is used as it is: shared with a second
/// evaluator, the same values; the function's forward-lane default gives way to the tape.
#[test]
fn a_given_bidirectional_plan_is_shared() {
    let pattern = sparsediff::pattern::generators::arrowhead(150, 1).unwrap();
    let f = OnPattern::new(&pattern);
    let x = point(150);
    let first = SparseJacobian::prepare(f.clone(), &x, &verified(JacobianMode::Auto)).unwrap();
    assert_eq!(first.info().mode, Mode::Bidirectional);
    assert!(first.shared_plan().is_none());
    let plan = first.shared_bidirectional_plan().unwrap();
    let mut second = SparseJacobian::builder()
        .function(f.clone())
        .point(&x)
        .bidirectional_plan(plan.clone())
        .build(&verified(JacobianMode::Auto))
        .unwrap();
    let info = second.info();
    assert_eq!(
        (info.mode, info.detection, info.backend),
        (Mode::Bidirectional, "plan", "tape")
    );
    assert_eq!(
        info.modes[0].split,
        Some((plan.num_column_probes(), plan.num_row_probes()))
    );
    assert!(std::sync::Arc::ptr_eq(
        &plan,
        &second.shared_bidirectional_plan().unwrap()
    ));
    let got = second.evaluate(&x).unwrap().matrix().clone();
    assert!(mismatches(&f.jacobian(&pattern, &x), &got, Tolerance::default()).is_empty());
}

/// A given bidirectional plan is never widened: the branch that adds entries is an error
/// naming the first missing entry; a caller's backend without VJPs is refused.
#[test]
fn a_given_bidirectional_plan_is_never_widened() {
    let n = 30;
    let x0 = point(n);
    let first = SparseJacobian::prepare(BranchyArrow, &x0, &verified(JacobianMode::Auto)).unwrap();
    let plan = first.shared_bidirectional_plan().unwrap();
    let mut j = SparseJacobian::builder()
        .function(BranchyArrow)
        .point(&x0)
        .bidirectional_plan(plan.clone())
        .build(&verified(JacobianMode::Auto))
        .unwrap();
    j.evaluate(&x0).unwrap();
    let mut x = x0.clone();
    x[0] = -0.4;
    let err = j.evaluate(&x).unwrap_err();
    assert!(
        matches!(
            err,
            SparseError::PatternMissesEntries { row: 2, col: 1, .. }
        ),
        "{err}"
    );
    let options = Options {
        backend: BackendChoice::Forward,
        ..verified(JacobianMode::Auto)
    };
    let err = SparseJacobian::builder()
        .function(BranchyArrow)
        .point(&x0)
        .bidirectional_plan(plan)
        .build(&options)
        .unwrap_err();
    assert!(matches!(err, SparseError::NeedsVjp { .. }), "{err}");
}
