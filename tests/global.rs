//! Global detection end to end (issue 13): a Hessian or Jacobian prepared with the
//! [`Global`] detector holds the union pattern of every branch, and evaluates correctly on
//! every branch without re-tracing or re-designing; checked against hand-written
//! derivatives with the shared harness (`sparsediff::testing`) and by property tests.

use proptest::prelude::*;
use sparsediff::ad::TraceError;
use sparsediff::num_dual::DualNum;
use sparsediff::testing::{self, Tolerance, hessian_mismatches_with, mismatches};
use sparsediff::{
    Global, OnBranchChange, Options, Pattern, ScalarFunction, SparseError, SparseHessian,
    SparseJacobian, Traced, VectorFunction,
};
use sprs::CsMat;

/// `x0·x1` if x0 > 0, `x2²` otherwise (the example of issue 13).
#[derive(Clone)]
struct Branchy;

impl ScalarFunction for Branchy {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        if x[0] > D::from(0.0) {
            x[0] * x[1]
        } else {
            x[2] * x[2]
        }
    }
}

fn branchy_hessian(x: &[f64]) -> CsMat<f64> {
    let (entries, values) = if x[0] > 0.0 {
        (vec![(0, 1), (1, 0)], vec![1.0, 1.0])
    } else {
        (vec![(2, 2)], vec![2.0])
    };
    Pattern::from_entries(3, 3, entries)
        .unwrap()
        .to_sprs_with_values(values)
        .unwrap()
}

fn global() -> Options {
    Options::with_detector(Global::default())
}

#[test]
fn global_hessian_evaluates_both_branches_without_retracing() {
    for x0 in [5.0, -5.0, 0.0] {
        let mut h = SparseHessian::prepare(Branchy, &[x0, 1.0, 2.0], &global()).unwrap();
        assert_eq!(h.info().detection, "global");
        assert_eq!(
            h.pattern().iter().collect::<Vec<_>>(),
            [(0, 1), (1, 0), (2, 2)],
            "x0 = {x0}"
        );
        for x in [
            [5.0, 1.5, 2.0],
            [-5.0, 1.0, 3.0],
            [0.0, 2.0, 1.0],
            [0.5, 1.0, -1.0],
        ] {
            let got = h.evaluate(&x).unwrap().clone();
            let m = mismatches(&branchy_hessian(&x), &got, Tolerance::default());
            assert!(m.is_empty(), "x0 = {x0}, x = {x:?}: {m:?}");
        }
        let info = h.info();
        assert_eq!((info.retraces, info.redesigns), (0, 0));
        assert!(info.branch_changes >= 1);
    }
}

#[test]
fn local_detection_retraces_where_global_does_not() {
    let mut h = SparseHessian::prepare(Branchy, &[5.0, 1.0, 2.0], &Options::default()).unwrap();
    assert_eq!(h.info().detection, "traced");
    assert_eq!(h.pattern().nnz(), 2);
    h.evaluate(&[-5.0, 1.0, 2.0]).unwrap();
    assert!(h.info().retraces >= 1);
    assert_eq!(h.pattern().nnz(), 3); // widened by re-design
}

#[test]
fn a_global_pattern_is_kept_even_when_branch_changes_are_errors() {
    let options = Options {
        on_branch_change: OnBranchChange::Error,
        ..global()
    };
    let mut h = SparseHessian::prepare(Branchy, &[5.0, 1.0, 2.0], &options).unwrap();
    let got = h.evaluate(&[-5.0, 1.0, 2.0]).unwrap().clone();
    assert!(
        mismatches(
            &branchy_hessian(&[-5.0, 1.0, 2.0]),
            &got,
            Tolerance::default()
        )
        .is_empty()
    );
    // the local pattern cannot be kept: an error
    let options = Options {
        on_branch_change: OnBranchChange::Error,
        ..Options::with_detector(Traced)
    };
    let mut h = SparseHessian::prepare(Branchy, &[5.0, 1.0, 2.0], &options).unwrap();
    assert!(matches!(
        h.evaluate(&[-5.0, 1.0, 2.0]),
        Err(SparseError::BranchChanged { .. })
    ));
}

#[test]
fn the_shared_harness_checks_global_detection_on_both_branches() {
    for x in [[5.0, 1.0, 2.0], [-5.0, 1.0, 2.0], [0.0, 1.0, 2.0]] {
        let m = hessian_mismatches_with(
            &Branchy,
            &branchy_hessian(&x),
            &x,
            Tolerance::default(),
            &global(),
        )
        .unwrap();
        assert!(m.is_empty(), "{m:?}");
    }
}

/// F = (x0·x1 if x0 > 0 else x2, x1 + x3).
#[derive(Clone)]
struct BranchyVector;

impl VectorFunction for BranchyVector {
    fn num_outputs(&self, _: usize) -> usize {
        2
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        out[0] = if x[0] > D::from(0.0) {
            x[0] * x[1]
        } else {
            x[2]
        };
        out[1] = x[1] + x[3];
    }
}

fn branchy_jacobian(x: &[f64]) -> CsMat<f64> {
    let (mut entries, mut values) = if x[0] > 0.0 {
        (vec![(0, 0), (0, 1)], vec![x[1], x[0]])
    } else {
        (vec![(0, 2)], vec![1.0])
    };
    entries.extend([(1, 1), (1, 3)]);
    values.extend([1.0, 1.0]);
    Pattern::from_entries(2, 4, entries)
        .unwrap()
        .to_sprs_with_values(values)
        .unwrap()
}

#[test]
fn global_jacobian_evaluates_both_branches_without_retracing() {
    for x0 in [5.0, -5.0, 0.0] {
        let x0 = [x0, 1.0, 2.0, 3.0];
        let mut j = SparseJacobian::prepare(BranchyVector, &x0, &global()).unwrap();
        assert_eq!(j.info().detection, "global");
        assert_eq!(j.pattern().row(0), &[0, 1, 2]);
        for x in [
            [2.0, 3.0, 1.0, 1.0],
            [-2.0, 3.0, 1.0, 1.0],
            [0.0, 1.0, 1.0, 1.0],
        ] {
            let got = j.evaluate(&x).unwrap().clone();
            let m = mismatches(&branchy_jacobian(&x), &got, Tolerance::default());
            assert!(m.is_empty(), "x = {x:?}: {m:?}");
        }
        assert_eq!(j.info().retraces, 0);
        // the shared harness, prepared at each x0
        let m = testing::jacobian_mismatches_with(
            &BranchyVector,
            &branchy_jacobian(&x0),
            &x0,
            Tolerance::default(),
            &global(),
        )
        .unwrap();
        assert!(m.is_empty(), "{m:?}");
    }
}

/// Reads a raw value: a global pattern cannot be vouched for.
#[derive(Clone)]
struct ReadsValues;

impl ScalarFunction for ReadsValues {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        if x[0].re() > 0.0 { x[0] * x[1] } else { x[1] }
    }
}

/// max(xᵢ, 0)² summed: 2ⁿ paths.
#[derive(Clone)]
struct Hinges;

impl ScalarFunction for Hinges {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.iter()
            .map(|&v| {
                if v > D::from(0.0) {
                    v * v
                } else {
                    D::from(0.0)
                }
            })
            .sum()
    }
}

#[test]
fn global_detection_errors_are_named() {
    let e = SparseHessian::prepare(ReadsValues, &[1.0, 1.0], &global()).unwrap_err();
    assert!(
        matches!(
            e,
            SparseError::Trace(TraceError::ValueReadInGlobalTrace { path: 0, reads: 1 })
        ),
        "{e:?}"
    );
    let small = Options::with_detector(Global { max_paths: 8 });
    let e = SparseHessian::prepare(Hinges, &[1.0; 4], &small).unwrap_err();
    assert!(
        matches!(
            e,
            SparseError::Trace(TraceError::TooManyPaths {
                explored: 8,
                limit: 8
            })
        ),
        "{e:?}"
    );
    let ok = SparseHessian::prepare(Hinges, &[1.0; 3], &small).unwrap();
    assert_eq!(ok.pattern().nnz(), 3);
    // without the function (a backend and a pattern only) there is nothing to trace
    let products = |_: &[f64],
                    seeds: sparsediff::ad::SeedBlock<'_>,
                    out: &mut [f64]|
     -> Result<(), sparsediff::ad::ClosureError> {
        for (c, o) in out.iter_mut().enumerate() {
            *o = 2.0 * seeds.at(0, c);
        }
        Ok(())
    };
    let backend = sparsediff::ad::ClosureHessian::new(|x: &[f64]| Ok(x[0] * x[0]), products, 1);
    let e = SparseHessian::builder()
        .backend(Box::new(backend))
        .point(&[1.0])
        .build(&global())
        .unwrap_err();
    assert!(matches!(e, SparseError::NeedsFunction { .. }), "{e:?}");
}

/// Σᵢ (xᵢ·xᵢ₊₁ if xᵢ > xᵢ₊₁ else xᵢ₊₁²): 2ⁿ⁻¹ paths.
#[derive(Clone)]
struct Chain;

impl ScalarFunction for Chain {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| {
                if w[0] > w[1] {
                    w[0] * w[1]
                } else {
                    w[1] * w[1]
                }
            })
            .sum()
    }
}

fn chain_hessian(x: &[f64]) -> CsMat<f64> {
    let n = x.len();
    let mut tri = sprs::TriMat::new((n, n));
    for i in 0..n - 1 {
        if x[i] > x[i + 1] {
            tri.add_triplet(i, i + 1, 1.0);
            tri.add_triplet(i + 1, i, 1.0);
        } else {
            tri.add_triplet(i + 1, i + 1, 2.0);
        }
    }
    tri.to_csr()
}

proptest! {
    #![proptest_config(testing::config(48))]

    #[test]
    fn global_hessians_are_right_on_every_branch_without_retracing(
        x0 in prop::collection::vec(-2.0..2.0f64, 5),
        xs in prop::collection::vec(prop::collection::vec(-2.0..2.0f64, 5), 1..5),
    ) {
        let mut h = SparseHessian::prepare(Chain, &x0, &global()).unwrap();
        // the union of both sides of every comparison, whatever x0
        prop_assert_eq!(h.pattern().nnz(), 4 * 3);
        for x in &xs {
            let got = h.evaluate(x).unwrap().clone();
            let m = mismatches(&chain_hessian(x), &got, Tolerance::default());
            prop_assert!(m.is_empty(), "x = {:?}: {:?}", x, m);
        }
        prop_assert_eq!(h.info().retraces, 0);
        prop_assert_eq!(h.info().redesigns, 0);
        let m = hessian_mismatches_with(&Chain, &chain_hessian(&x0), &x0, Tolerance::default(), &global()).unwrap();
        prop_assert!(m.is_empty());
    }
}
