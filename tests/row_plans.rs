//! Row plans (Jᵀ·S by VJPs) chosen by `prepare`: the dense-row Jacobian in ≤ 3 products,
//! the arrow Jacobian, row-mode values checked by the shared harness with verification on,
//! backends without VJPs never given a row plan, and prepared evaluators moved to other
//! threads.

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use sparsediff::num_dual::DualNum;
use sparsediff::testing::{Tolerance, jacobian_mismatches_with};
use sparsediff::{
    BackendChoice, JacobianMode, Mode, Options, Pattern, ScalarFunction, SparseError,
    SparseHessian, SparseJacobian, Strategy as Designs, VectorFunction, Verify,
};
use sprs::CsMat;

/// F₀ = Σⱼ xⱼ, Fᵢ = xᵢ³ (i = 1..n−1): m = n outputs, a dense first row and a diagonal.
/// Column designs need n products (every column meets row 0); rows need 2 (row 0, then
/// every other row at once).
#[derive(Debug, Clone, Copy)]
struct DenseRow;

impl VectorFunction for DenseRow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        out[0] = x.iter().copied().sum();
        for i in 1..x.len() {
            out[i] = x[i].powi(3);
        }
    }
}

fn dense_row_jacobian(x: &[f64]) -> CsMat<f64> {
    let n = x.len();
    let mut entries: Vec<(usize, usize)> = (0..n).map(|j| (0, j)).collect();
    entries.extend((1..n).map(|i| (i, i)));
    let pattern = Pattern::from_entries(n, n, entries).unwrap();
    let values: Vec<f64> = pattern
        .iter()
        .map(|(i, j)| if i == 0 { 1.0 } else { 3.0 * x[j] * x[j] })
        .collect();
    pattern.to_sprs_with_values(values).unwrap()
}

/// F₀ = Σ xᵢ², Fᵢ = x₀·xᵢ + xᵢ² (i ≥ 1): dense first row and first column (an arrowhead).
/// Column and row designs each need n products.
#[derive(Debug, Clone, Copy)]
struct Arrow;

impl VectorFunction for Arrow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        out[0] = x.iter().map(|v| v.powi(2)).sum();
        for i in 1..x.len() {
            out[i] = x[0] * x[i] + x[i].powi(2);
        }
    }
}

fn arrow_jacobian(x: &[f64]) -> CsMat<f64> {
    let n = x.len();
    let mut entries: Vec<(usize, usize)> = (0..n).map(|j| (0, j)).collect();
    for i in 1..n {
        entries.extend([(i, 0), (i, i)]);
    }
    let pattern = Pattern::from_entries(n, n, entries).unwrap();
    let values: Vec<f64> = pattern
        .iter()
        .map(|(i, j)| match (i, j) {
            (0, j) => 2.0 * x[j],
            (i, 0) => x[i],
            (i, _) => x[0] + 2.0 * x[i],
        })
        .collect();
    pattern.to_sprs_with_values(values).unwrap()
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.4 + 0.3 * (0.9 * i as f64).sin()).collect()
}

fn verified(mode: JacobianMode) -> Options {
    Options {
        jacobian_mode: mode,
        verify: Verify::Every(1),
        ..Options::default()
    }
}

#[test]
fn the_dense_row_takes_two_products_chosen_automatically() {
    let n = 300;
    let x0 = point(n);
    let mut j = SparseJacobian::prepare(DenseRow, &x0, &Options::default()).unwrap();
    let info = j.info();
    assert_eq!(info.mode, Mode::Rows);
    assert!(info.probes <= 3, "{} products", info.probes);
    assert_eq!(info.probes, 2);
    assert_eq!(
        info.backend, "tape",
        "Auto builds the tape for the row plan"
    );
    assert_eq!(info.designer, "cpr-row");
    // the column plan needs ≥ n products (row 0): not even designed (its colouring is O(n²))
    let columns = info.modes.iter().find(|c| c.mode == Mode::Columns).unwrap();
    assert_eq!((columns.products, columns.lower_bound), (None, n));
    assert!(columns.skipped.is_some());
    let rows = info.modes.iter().find(|c| c.mode == Mode::Rows).unwrap();
    assert_eq!((rows.products, rows.lower_bound), (Some(2), 2));
    assert_eq!(rows.cost, Some(2.0 * sparsediff::VJP_RELATIVE_COST));
    // forced columns: n products
    let c = SparseJacobian::prepare(DenseRow, &x0, &verified(JacobianMode::Columns)).unwrap();
    assert_eq!((c.info().mode, c.info().probes), (Mode::Columns, n));
    // correct values, at x0 and elsewhere, every evaluation verified
    j.set_verify(Verify::Every(1)).unwrap();
    for shift in [0.0, -1.3, 2.1] {
        let x: Vec<f64> = x0.iter().map(|v| v + shift).collect();
        let got = j.evaluate(&x).unwrap().matrix().clone();
        let m =
            sparsediff::testing::mismatches(&dense_row_jacobian(&x), &got, Tolerance::default());
        assert!(m.is_empty(), "shift {shift}: {:?}", &m[..m.len().min(3)]);
    }
    assert_eq!(j.info().verifications, 3);
}

#[test]
fn row_mode_through_the_harness_at_several_points() {
    for n in [2, 3, 17, 300] {
        for k in 0..3 {
            let x: Vec<f64> = point(n)
                .iter()
                .map(|v| v * (1.0 + k as f64) - 0.5 * k as f64)
                .collect();
            for mode in [
                JacobianMode::Auto,
                JacobianMode::Rows,
                JacobianMode::Columns,
                JacobianMode::Bidirectional,
            ] {
                let options = verified(mode);
                let m = jacobian_mismatches_with(
                    &DenseRow,
                    &dense_row_jacobian(&x),
                    &x,
                    Tolerance::default(),
                    &options,
                )
                .unwrap();
                assert!(m.is_empty(), "dense row n={n} {mode:?}: {m:?}");
                let m = jacobian_mismatches_with(
                    &Arrow,
                    &arrow_jacobian(&x),
                    &x,
                    Tolerance::default(),
                    &options,
                )
                .unwrap();
                assert!(m.is_empty(), "arrow n={n} {mode:?}: {m:?}");
            }
        }
    }
}

#[test]
fn the_arrow_takes_a_bidirectional_plan_where_both_sides_need_n() {
    let n = 50;
    let x0 = point(n);
    let mut j = SparseJacobian::prepare(Arrow, &x0, &verified(JacobianMode::Auto)).unwrap();
    let info = j.info();
    assert_eq!((info.mode, info.probes), (Mode::Bidirectional, 3));
    assert_eq!(info.backend, "tape", "VJPs need the tape");
    type Considered = (Mode, Option<usize>, Option<(usize, usize)>, usize);
    let products: Vec<Considered> = info
        .modes
        .iter()
        .map(|c| (c.mode, c.products, c.split, c.lower_bound))
        .collect();
    // the bicolouring is designed first (both one-sided bounds are n, far above the
    // lines' mean lengths): 2 JVPs + 1 VJP, and neither one-sided plan can beat that
    assert_eq!(
        products,
        [
            (Mode::Columns, None, None, n),
            (Mode::Rows, None, None, n),
            (Mode::Bidirectional, Some(3), Some((2, 1)), 2)
        ]
    );
    assert_eq!(
        info.modes[2].cost,
        Some(2.0 + sparsediff::VJP_RELATIVE_COST)
    );
    let plan = j.bidirectional_plan().unwrap();
    assert_eq!((plan.num_column_probes(), plan.num_row_probes()), (2, 1));
    assert!(j.plan().is_none() && j.shared_plan().is_none());
    let got = j.evaluate(&x0).unwrap().matrix().clone();
    assert!(
        sparsediff::testing::mismatches(&arrow_jacobian(&x0), &got, Tolerance::default())
            .is_empty()
    );
    // forced rows: n products, the tape, same values
    let mut r = SparseJacobian::prepare(Arrow, &x0, &verified(JacobianMode::Rows)).unwrap();
    assert_eq!((r.info().mode, r.info().probes), (Mode::Rows, n));
    let got = r.evaluate(&x0).unwrap().matrix().clone();
    assert!(
        sparsediff::testing::mismatches(&arrow_jacobian(&x0), &got, Tolerance::default())
            .is_empty()
    );
}

#[test]
fn a_tie_keeps_columns_and_forward_lanes() {
    // tridiagonal: 3 products either way
    #[derive(Clone, Copy)]
    struct Chain;
    impl VectorFunction for Chain {
        fn num_outputs(&self, n: usize) -> usize {
            n
        }
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
            let n = x.len();
            for i in 0..n {
                out[i] = x[i].sin();
                if i > 0 {
                    out[i] += x[i - 1] * x[i];
                }
                if i + 1 < n {
                    out[i] += x[i + 1].powi(2);
                }
            }
        }
    }
    let j = SparseJacobian::prepare(Chain, &point(100), &Options::default()).unwrap();
    assert_eq!(j.info().mode, Mode::Columns);
    assert_eq!(j.info().backend, "forward");
    assert_eq!(j.info().probes, 3);
    let rows = j
        .info()
        .modes
        .iter()
        .find(|c| c.mode == Mode::Rows)
        .unwrap();
    assert_eq!((rows.products, rows.lower_bound), (None, 3));
    let rows = SparseJacobian::prepare(Chain, &point(100), &verified(JacobianMode::Rows)).unwrap();
    assert_eq!((rows.info().mode, rows.info().probes), (Mode::Rows, 3));
}

#[test]
fn backends_without_vjps_never_get_row_plans() {
    let n = 40;
    let x0 = point(n);
    for backend in [BackendChoice::Forward, BackendChoice::FiniteDifferences] {
        let options = Options {
            backend,
            ..Options::default()
        };
        let mut j = SparseJacobian::prepare(DenseRow, &x0, &options).unwrap();
        assert_eq!(j.info().mode, Mode::Columns, "{backend:?}");
        assert_eq!(j.info().probes, n);
        let rows = j
            .info()
            .modes
            .iter()
            .find(|c| c.mode == Mode::Rows)
            .unwrap();
        assert_eq!(rows.products, None);
        assert!(rows.skipped.is_some());
        j.evaluate(&x0).unwrap();
        // asked for rows explicitly: a named error
        let options = Options {
            backend,
            jacobian_mode: JacobianMode::Rows,
            ..Options::default()
        };
        let err = SparseJacobian::prepare(DenseRow, &x0, &options).unwrap_err();
        assert!(
            matches!(err, SparseError::NeedsVjp { backend: b } if b == "forward" || b == "fd"),
            "{err}"
        );
    }
    // a forced tape runs both modes
    let options = Options {
        backend: BackendChoice::Tape,
        ..Options::default()
    };
    let j = SparseJacobian::prepare(DenseRow, &x0, &options).unwrap();
    assert_eq!((j.info().mode, j.info().backend), (Mode::Rows, "tape"));
}

#[test]
fn a_row_plan_given_with_a_forward_backend_is_a_named_error() {
    let n = 20;
    let x0 = point(n);
    let rows = SparseJacobian::prepare(DenseRow, &x0, &Options::default()).unwrap();
    assert_eq!(rows.info().mode, Mode::Rows);
    let forward = sparsediff::ad::ForwardJacobian::anchored(DenseRow, &x0).unwrap();
    let err = SparseJacobian::with_plan(
        Box::new(forward),
        rows.shared_plan().unwrap(),
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SparseError::NeedsVjp { backend: "forward" }),
        "{err}"
    );
    // with the function under Auto, the builder builds the tape for the given row plan
    let mut j = SparseJacobian::builder()
        .function(DenseRow)
        .point(&x0)
        .plan(rows.shared_plan().unwrap())
        .build(&Options::default())
        .unwrap();
    assert_eq!((j.info().mode, j.info().backend), (Mode::Rows, "tape"));
    let got = j.evaluate(&x0).unwrap().matrix().clone();
    assert!(
        sparsediff::testing::mismatches(&dense_row_jacobian(&x0), &got, Tolerance::default())
            .is_empty()
    );
}

#[test]
fn other_strategies_stay_column_plans() {
    let x0 = point(30);
    let j = SparseJacobian::prepare(DenseRow, &x0, &Options::with_strategy(Designs::Cpr)).unwrap();
    assert_eq!((j.info().mode, j.info().probes), (Mode::Columns, 30));
    let j = SparseJacobian::prepare(
        DenseRow,
        &x0,
        &Options {
            jacobian_mode: JacobianMode::Columns,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!((j.info().mode, j.info().probes), (Mode::Columns, 30));
}

/// F₀ = Σ xⱼ; Fᵢ = xᵢ³ where x₀ > 0, else xᵢ·x_{i−1}: the row plan must follow the branch.
#[derive(Clone, Copy)]
struct BranchyRow;

impl VectorFunction for BranchyRow {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        out[0] = x.iter().copied().sum();
        let positive = x[0] > D::from(0.0);
        for i in 1..x.len() {
            out[i] = if positive {
                x[i].powi(3)
            } else {
                x[i] * x[i - 1]
            };
        }
    }
}

#[test]
fn a_row_plan_follows_a_branch_change_and_stays_a_row_plan() {
    let n = 30;
    let x0 = point(n);
    let mut j = SparseJacobian::prepare(BranchyRow, &x0, &verified(JacobianMode::Auto)).unwrap();
    assert_eq!((j.info().mode, j.info().probes), (Mode::Rows, 2));
    let mut x = x0.clone();
    x[0] = -0.5;
    let got = j.evaluate(&x).unwrap().matrix().clone();
    assert_eq!(j.info().redesigns, 1);
    assert_eq!(j.info().mode, Mode::Rows);
    assert_eq!(
        j.plan().map(|p| p.orientation()),
        Some(sparsediff::probe::Orientation::Rows)
    );
    // rows i ≥ 1 of the union pattern: (i, i−1) = xᵢ, (i, i) = x_{i−1} (the other branch's
    // 3xᵢ² entry is structurally there but zero on this side)
    for i in 1..n {
        assert_eq!(got.get(i, i - 1).copied(), Some(x[i]));
        assert_eq!(got.get(i, i).copied(), Some(x[i - 1]));
    }
    for jj in 0..n {
        assert_eq!(got.get(0, jj).copied(), Some(1.0));
    }
}

/// F_i = Σ_{j ∈ row i} c_ij xⱼ², on any pattern: J_ij = 2 c_ij xⱼ.
#[derive(Debug, Clone)]
struct OnPattern {
    pattern: Pattern,
    c: Vec<f64>,
}

impl VectorFunction for OnPattern {
    fn num_outputs(&self, _n: usize) -> usize {
        self.pattern.nrows()
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        for (k, (i, j)) in self.pattern.iter().enumerate() {
            out[i] += x[j].powi(2) * self.c[k];
        }
    }
}

#[test]
fn row_and_column_plans_agree_on_random_patterns() {
    let mut runner = TestRunner::new(sparsediff::testing::config_in_memory(64));
    let case = sparsediff::testing::patterns(1..=24).prop_flat_map(|p| {
        let (m, n, nnz) = (p.nrows(), p.ncols(), p.nnz());
        (
            Just(p),
            proptest::collection::vec(0.5f64..2.0, nnz),
            proptest::collection::vec(-1.5f64..1.5, n),
            Just(m),
        )
    });
    runner
        .run(&case, |(pattern, c, x, _m)| {
            prop_assume!(pattern.nnz() > 0);
            let f = OnPattern {
                pattern: pattern.clone(),
                c: c.clone(),
            };
            let values: Vec<f64> = pattern
                .iter()
                .enumerate()
                .map(|(k, (_, j))| 2.0 * c[k] * x[j])
                .collect();
            let expected = pattern
                .to_sprs_with_values(values)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for mode in [
                JacobianMode::Rows,
                JacobianMode::Columns,
                JacobianMode::Auto,
            ] {
                let m = jacobian_mismatches_with(
                    &f,
                    &expected,
                    &x,
                    Tolerance::default(),
                    &verified(mode),
                )
                .map_err(|e| TestCaseError::fail(format!("{mode:?}: {e}")))?;
                prop_assert!(m.is_empty(), "{mode:?}: {m:?}");
            }
            Ok(())
        })
        .unwrap();
}

fn assert_send<T: Send>() {}

#[test]
fn prepared_evaluators_are_send() {
    assert_send::<SparseJacobian<'static>>();
    assert_send::<SparseHessian<'static>>();
    assert_send::<Options>();
}

#[test]
fn a_prepared_jacobian_and_hessian_move_to_another_thread() {
    struct Quartic;
    impl ScalarFunction for Quartic {
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
            x.windows(2).map(|w| (w[0] * w[1]).powi(2)).sum()
        }
    }
    let n = 200;
    let x0 = point(n);
    let mut j = SparseJacobian::prepare(DenseRow, &x0, &Options::default()).unwrap();
    let mut h = SparseHessian::prepare(Quartic, &x0, &Options::default()).unwrap();
    let here_j = j.evaluate(&x0).unwrap().matrix().clone();
    let here_h = h.evaluate(&x0).unwrap().matrix().clone();
    let x = x0.clone();
    let (there_j, there_h) = std::thread::spawn(move || {
        let a = j.evaluate(&x).unwrap().matrix().clone();
        let b = h.evaluate(&x).unwrap().matrix().clone();
        (a, b)
    })
    .join()
    .unwrap();
    assert_eq!(here_j, there_j);
    assert_eq!(here_h, there_h);
    assert!(
        sparsediff::testing::mismatches(&dense_row_jacobian(&x0), &there_j, Tolerance::default())
            .is_empty()
    );
}

#[test]
fn a_plan_whose_products_would_not_fit_is_a_named_error() {
    // 20 000 columns of 20 000 products: 4·10⁸ values, above MAX_DENSE_ENTRIES
    let n = 20_000;
    let x0 = point(n);
    let options = Options {
        jacobian_mode: JacobianMode::Columns,
        ..Options::default()
    };
    let err = SparseJacobian::prepare(Arrow, &x0, &options).unwrap_err();
    assert!(
        matches!(
            err,
            SparseError::Design(sparsediff::probe::DesignError::DenseTooLarge { rows, probes, .. })
                if rows == n && probes == n as u128
        ),
        "{err}"
    );
}

#[test]
fn a_custom_designer_of_row_plans_is_reported_and_served_as_rows() {
    use std::sync::Arc;
    let x0 = point(25);
    let rows: sparsediff::probe::design::SharedDesigner =
        Arc::new(sparsediff::probe::ColoredDesigner::cpr_rows());
    // with the function under Auto: the tape is built for it
    let mut j = SparseJacobian::prepare(
        DenseRow,
        &x0,
        &Options {
            verify: Verify::Every(1),
            ..Options::with_strategy(Designs::Custom(Arc::clone(&rows)))
        },
    )
    .unwrap();
    assert_eq!(
        (j.info().mode, j.info().probes, j.info().backend),
        (Mode::Rows, 2, "tape")
    );
    let got = j.evaluate(&x0).unwrap().matrix().clone();
    assert!(
        sparsediff::testing::mismatches(&dense_row_jacobian(&x0), &got, Tolerance::default())
            .is_empty()
    );
    // on forward lanes: a named error, not a failing product at the first evaluation
    let options = Options {
        backend: BackendChoice::Forward,
        ..Options::with_strategy(Designs::Custom(rows))
    };
    let err = SparseJacobian::prepare(DenseRow, &x0, &options).unwrap_err();
    assert!(
        matches!(err, SparseError::NeedsVjp { backend: "forward" }),
        "{err}"
    );
}
