//! Global sparsity tracing: the union over every control-flow path. The branchy examples of
//! issue 13, the path search (counts, budgets, 3-way comparisons, loops), the named errors,
//! and property tests on random branchy functions: the global pattern contains the local
//! pattern and every nonzero of hyper-dual Hessians at random points, and does not depend
//! on the point it starts from.

use std::cell::Cell;
use std::cmp::Ordering;

use num_dual::{DualNum, DualStruct, HyperDual64};
use num_traits::Signed;
use proptest::prelude::*;
use sparsediff_ad::ScalarExt;
use sparsediff_ad::trace::{
    DEFAULT_MAX_PATHS, TraceError, Tracer, hessian_pattern, hessian_pattern_global,
    hessian_pattern_global_with_info, hessian_pattern_with_info, jacobian_pattern,
    jacobian_pattern_global, jacobian_pattern_global_with_info,
};
use sparsediff_pattern::testing;

fn entries(p: &sparsediff_pattern::Pattern) -> Vec<(usize, usize)> {
    p.iter().collect()
}

fn branchy<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    if x[0] > D::from(0.0) {
        x[0] * x[1]
    } else {
        x[2] * x[2]
    }
}

fn branchy_vector<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> Vec<D> {
    let first = if x[0] > D::from(0.0) {
        x[0] * x[1]
    } else {
        x[2]
    };
    vec![first, x[1] + x[3]]
}

#[test]
fn branchy_hessian_is_the_union_at_every_start() {
    let union = [(0, 1), (1, 0), (2, 2)];
    for x0 in [5.0, -5.0, 0.0] {
        let x = [x0, 1.0, 2.0];
        let (global, info) = hessian_pattern_global_with_info(&x, 16, branchy).unwrap();
        assert_eq!(entries(&global), union, "x0 = {x0}");
        assert_eq!((info.paths, info.comparisons, info.value_reads), (2, 1, 0));
        let local = hessian_pattern(&x, branchy).unwrap();
        let side: &[(usize, usize)] = if x0 > 0.0 {
            &[(0, 1), (1, 0)]
        } else {
            &[(2, 2)]
        };
        assert_eq!(entries(&local), side, "x0 = {x0}");
        assert!(local.is_subset_of(&global));
    }
}

#[test]
fn branchy_jacobian_is_the_union_at_every_start() {
    for x0 in [5.0, -5.0, 0.0] {
        let x = [x0, 1.0, 2.0, 3.0];
        let global = jacobian_pattern_global(&x, branchy_vector).unwrap();
        assert_eq!(global.row(0), &[0, 1, 2], "x0 = {x0}");
        assert_eq!(global.row(1), &[1, 3]);
        let local = jacobian_pattern(&x, branchy_vector).unwrap();
        let side: &[usize] = if x0 > 0.0 { &[0, 1] } else { &[2] };
        assert_eq!(local.row(0), side);
    }
}

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0].powi(2);
        s += t * t * 100.0 + (D::one() - w[0]).powi(2);
    }
    s
}

#[test]
fn functions_without_comparisons_take_one_run() {
    let x: Vec<f64> = (0..50).map(|i| 0.1 * i as f64).collect();
    let (global, info) = hessian_pattern_global_with_info(&x, 1, rosenbrock).unwrap();
    let (local, local_info) = hessian_pattern_with_info(&x, rosenbrock).unwrap();
    assert_eq!(global, local);
    assert_eq!((info.paths, info.comparisons), (1, 0));
    assert_eq!(local_info.paths, 1);
    assert_eq!(info.nodes, local_info.nodes);
}

#[test]
fn every_operator_has_two_sides_and_partial_cmp_three() {
    // each arm uses a different input
    let ops: [fn(&[Tracer]) -> Tracer; 6] = [
        |x| if x[0] < x[1] { x[2] } else { x[3] },
        |x| if x[0] <= x[1] { x[2] } else { x[3] },
        |x| if x[0] >= 1.0 { x[2] } else { x[3] },
        |x| if x[0] == x[1] { x[2] } else { x[3] },
        |x| if x[0] != 0.5 { x[2] } else { x[3] },
        |x| if x[0].is_positive() { x[2] } else { x[3] },
    ];
    for f in ops {
        for x in [
            [0.0, 1.0, 0.0, 0.0],
            [2.0, 1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0, 0.0],
        ] {
            let (j, info) = jacobian_pattern_global_with_info(&x, 8, |x| vec![f(x)]).unwrap();
            assert_eq!(j.row(0), &[2, 3]);
            assert_eq!(info.paths, 2);
        }
    }
    let three = |x: &[Tracer]| {
        vec![match x[0].partial_cmp(&x[1]) {
            Some(Ordering::Less) => x[2],
            Some(Ordering::Equal) => x[3],
            _ => x[4],
        }]
    };
    let (j, info) =
        jacobian_pattern_global_with_info(&[0.0, 1.0, 0.0, 0.0, 0.0], 8, three).unwrap();
    assert_eq!(j.row(0), &[2, 3, 4]);
    assert_eq!(info.paths, 3);
    assert_eq!(
        jacobian_pattern(&[0.0, 1.0, 0.0, 0.0, 0.0], three)
            .unwrap()
            .row(0),
        &[2]
    );
}

#[test]
fn comparisons_of_constants_keep_their_values() {
    // `c > 1` never depends on x: only one side is traced
    let f = |x: &[Tracer]| {
        let c = Tracer::from(2.0);
        if c > Tracer::from(1.0) {
            x[0] * x[0]
        } else {
            x[1] * x[1]
        }
    };
    let (h, info) = hessian_pattern_global_with_info(&[1.0, 1.0], 8, f).unwrap();
    assert_eq!(entries(&h), [(0, 0)]);
    assert_eq!((info.paths, info.comparisons), (1, 0));
}

#[test]
fn nested_branches_and_max_take_every_path() {
    // max(x0, x1)·x2 if x3 > 0 else (x4 if x0 > 1 else x5)²
    let f = |x: &[Tracer]| {
        if x[3] > 0.0 {
            ScalarExt::max(x[0], x[1]) * x[2]
        } else if x[0] > 1.0 {
            x[4].powi(2)
        } else {
            x[5].powi(2)
        }
    };
    let (h, info) = hessian_pattern_global_with_info(&[0.0; 6], 16, f).unwrap();
    assert_eq!(
        entries(&h),
        [(0, 2), (1, 2), (2, 0), (2, 1), (4, 4), (5, 5)]
    );
    assert_eq!(info.paths, 4);
    assert_eq!(info.comparisons, 3);
}

#[test]
fn values_on_forced_paths_may_be_meaningless() {
    // at x0 = -5 the forced side takes ln(-5) = NaN and compares it: no error
    let f = |x: &[Tracer]| {
        if x[0] > 0.0 {
            let l = x[0].ln();
            if l > 1.0 { l * x[1] } else { l }
        } else {
            x[0] * 2.0
        }
    };
    let (h, info) = hessian_pattern_global_with_info(&[-5.0, 1.0], 16, f).unwrap();
    assert_eq!(entries(&h), [(0, 0), (0, 1), (1, 0)]);
    assert_eq!(info.paths, 3);
    // locally at x0 = -5 the function is linear
    assert_eq!(hessian_pattern(&[-5.0, 1.0], f).unwrap().nnz(), 0);
}

#[test]
fn too_many_paths_is_a_named_error() {
    // 10 independent branches: 1024 paths
    let f = |x: &[Tracer]| -> Tracer { x.iter().map(|&v| if v > 0.0 { v * v } else { v }).sum() };
    let x = [1.0; 10];
    match hessian_pattern_global(&x, f) {
        Err(TraceError::TooManyPaths { explored, limit }) => {
            assert_eq!((explored, limit), (DEFAULT_MAX_PATHS, DEFAULT_MAX_PATHS));
        }
        other => panic!("{other:?}"),
    }
    let (h, info) = hessian_pattern_global_with_info(&x, 1024, f).unwrap();
    assert_eq!((h.nnz(), info.paths), (10, 1024));
    // a run with more comparisons than the budget stops recording them
    let many = |x: &[Tracer]| -> Tracer {
        (0..100)
            .map(|k| if x[0] > k as f64 { x[0] } else { x[1] })
            .sum()
    };
    let e = hessian_pattern_global_with_info(&[0.5, 0.5], 50, many).unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::TooManyPaths {
                explored: 1,
                limit: 50
            }
        ),
        "{e:?}"
    );
    let e = hessian_pattern_global_with_info(&[0.5, 0.5], 0, many).unwrap_err();
    assert!(matches!(
        e,
        TraceError::TooManyPaths {
            explored: 0,
            limit: 0
        }
    ));
    assert!(e.to_string().contains("give the pattern"));
}

#[test]
fn loops_whose_trip_count_depends_on_the_inputs_exhaust_the_budget() {
    // Halve until below 1: the number of iterations depends on x0.
    let f = |x: &[Tracer]| {
        let mut v = x[0];
        let mut acc = x[1];
        while v > 1.0 {
            v *= 0.5;
            acc *= x[1];
        }
        acc + v
    };
    let e = hessian_pattern_global_with_info(&[10.0, 1.0], 40, f).unwrap_err();
    assert!(
        matches!(e, TraceError::TooManyPaths { limit: 40, .. }),
        "{e:?}"
    );
}

#[test]
fn loops_that_only_end_by_forced_answers_do_not_hang() {
    // At x1 = -1, k = 0.5 and the loop ends; once a forced answer makes k = 2 it would
    // double forever by its values. Past the budget comparisons answer at random, so the
    // run ends and the budget error comes back.
    let f = |x: &[Tracer]| {
        let mut k = if x[1] > 0.0 {
            x[0] - x[0] + 2.0
        } else {
            x[0] - x[0] + 0.5
        };
        while k > 1.0 {
            k *= 2.0;
        }
        k * x[2]
    };
    let e = jacobian_pattern_global_with_info(&[1.0, -1.0, 1.0], 16, |x| vec![f(x)]).unwrap_err();
    assert!(
        matches!(e, TraceError::TooManyPaths { limit: 16, .. }),
        "{e:?}"
    );
}

#[test]
fn raw_value_reads_are_refused() {
    let f = |x: &[Tracer]| if x[0].re() > 0.0 { x[0] * x[1] } else { x[2] };
    let e = hessian_pattern_global(&[1.0, 2.0, 3.0], f).unwrap_err();
    assert!(
        matches!(e, TraceError::ValueReadInGlobalTrace { path: 0, reads: 1 }),
        "{e:?}"
    );
    assert!(e.to_string().contains("re()"));
    // reading a constant's value is harmless
    let g = |x: &[Tracer]| x[0] * Tracer::from(2.0).re();
    assert!(hessian_pattern_global(&[1.0], g).is_ok());
}

#[test]
fn nondeterministic_functions_are_refused() {
    let calls = Cell::new(0);
    let f = |x: &[Tracer]| {
        calls.set(calls.get() + 1);
        if calls.get() == 1 && x[0] > 0.0 {
            x[0]
        } else {
            x[1]
        }
    };
    let e = jacobian_pattern_global(&[1.0, 1.0], |x| vec![f(x)]).unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::PathsDiverged {
                path: 1,
                comparison: 0
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_input_and_bad_outputs_are_named() {
    let f = |x: &[Tracer]| x[0] * x[0];
    assert!(matches!(
        hessian_pattern_global(&[], f),
        Err(TraceError::EmptyInput)
    ));
    assert!(matches!(
        hessian_pattern_global(&[f64::NAN], f),
        Err(TraceError::NonFiniteInput { index: 0, .. })
    ));
    let e = jacobian_pattern_global(&[1.0], |_| Vec::new()).unwrap_err();
    assert!(
        matches!(e, TraceError::AtPath { path: 0, ref source } if matches!(**source, TraceError::NoOutputs)),
        "{e:?}"
    );
    // a different number of outputs on the two sides
    let e = jacobian_pattern_global(&[1.0], |x| {
        if x[0] > 0.0 {
            vec![x[0]]
        } else {
            vec![x[0], x[0]]
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::OutputCountChanged {
                point: 1,
                expected: 1,
                found: 2
            }
        ),
        "{e:?}"
    );
    // reentrancy
    let e = hessian_pattern_global(&[1.0], |x| {
        let inner = hessian_pattern_global(&[1.0], |y| y[0]);
        assert!(matches!(inner, Err(TraceError::AlreadyActive)));
        x[0]
    });
    assert!(e.is_ok());
}

// ---------------------------------------------------------------------------------------
// Random branchy functions

/// An expression with branches: `Branch(k, a, b, t, e)` is `if a ⋚ b { t } else { e }`
/// with the comparison k (<, <=, >, >=, ==, partial_cmp → less ? t : e).
#[derive(Debug, Clone)]
enum Expr {
    Input(usize),
    Const(f64),
    Unary(u8, Box<Expr>),
    Binary(u8, Box<Expr>, Box<Expr>),
    Branch(u8, Box<Expr>, Box<Expr>, Box<Expr>, Box<Expr>),
}

fn unary<D: DualNum<Primitive = f64> + Copy>(op: u8, a: D) -> D {
    match op % 4 {
        0 => a.sin(),
        1 => a * a,
        2 => -a,
        _ => a * 3.0,
    }
}

fn binary<D: DualNum<Primitive = f64> + Copy>(op: u8, a: D, b: D) -> D {
    match op % 3 {
        0 => a + b,
        1 => a * b,
        _ => a - b,
    }
}

fn eval<D: DualNum<Primitive = f64> + Copy>(e: &Expr, x: &[D]) -> D {
    match e {
        Expr::Input(i) => x[*i],
        Expr::Const(c) => D::from(*c),
        Expr::Unary(op, a) => unary(*op, eval(a, x)),
        Expr::Binary(op, a, b) => binary(*op, eval(a, x), eval(b, x)),
        Expr::Branch(k, a, b, t, f) => {
            let (a, b) = (eval(a, x), eval(b, x));
            let take = match k % 6 {
                0 => a < b,
                1 => a <= b,
                2 => a > b,
                3 => a >= b,
                4 => a == b,
                _ => a.partial_cmp(&b) == Some(Ordering::Less),
            };
            if take { eval(t, x) } else { eval(f, x) }
        }
    }
}

const INPUTS: usize = 5;

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => (0..INPUTS).prop_map(Expr::Input),
        1 => (-1.0..1.0f64).prop_map(Expr::Const),
    ];
    leaf.prop_recursive(4, 30, 4, |inner| {
        prop_oneof![
            (any::<u8>(), inner.clone()).prop_map(|(op, a)| Expr::Unary(op, Box::new(a))),
            (any::<u8>(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
            (
                any::<u8>(),
                inner.clone(),
                inner.clone(),
                inner.clone(),
                inner
            )
                .prop_map(|(k, a, b, t, f)| Expr::Branch(
                    k,
                    Box::new(a),
                    Box::new(b),
                    Box::new(t),
                    Box::new(f)
                )),
        ]
    })
}

/// The Hessian of `f` at x by hyper-dual numbers.
fn hyperdual_hessian(f: impl Fn(&[HyperDual64]) -> HyperDual64, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for (i, j) in (0..n).flat_map(|i| (i..n).map(move |j| (i, j))) {
        let xs: Vec<HyperDual64> = x
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                HyperDual64::new(
                    v,
                    f64::from(u8::from(k == i)),
                    f64::from(u8::from(k == j)),
                    0.0,
                )
            })
            .collect();
        let v = f(&xs).eps1eps2;
        h[i][j] = v;
        h[j][i] = v;
    }
    h
}

proptest! {
    #![proptest_config(testing::config(300))]

    #[test]
    fn global_hessians_contain_local_ones_and_every_nonzero(
        e in expr(),
        x in prop::collection::vec(-1.5..1.5f64, INPUTS),
        y in prop::collection::vec(-1.5..1.5f64, INPUTS),
    ) {
        let f = |v: &[Tracer]| eval(&e, v);
        let global = match hessian_pattern_global_with_info(&x, 4096, f) {
            Ok((g, _)) => g,
            Err(TraceError::TooManyPaths { .. }) => {
                return Err(TestCaseError::reject("too many paths"));
            }
            Err(err) => return Err(TestCaseError::fail(err.to_string())),
        };
        prop_assert!(global.is_symmetric());
        // independent of the starting point
        let (other, _) = hessian_pattern_global_with_info(&y, 4096, f).unwrap();
        prop_assert_eq!(&global, &other);
        for point in [&x, &y] {
            if let Ok(local) = hessian_pattern(point, f) {
                prop_assert!(local.is_subset_of(&global), "{local:?} not in {global:?}");
            }
            let h = hyperdual_hessian(|v| eval(&e, v), point);
            for (i, row) in h.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    prop_assert!(
                        !v.is_finite() || v.abs() <= 1e-12 || global.contains(i, j),
                        "H[{i}][{j}] = {v} missing from {global:?} for {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn global_jacobians_contain_local_ones(
        es in prop::collection::vec(expr(), 1..3),
        x in prop::collection::vec(-1.5..1.5f64, INPUTS),
    ) {
        let f = |v: &[Tracer]| es.iter().map(|e| eval(e, v)).collect::<Vec<_>>();
        let global = match jacobian_pattern_global_with_info(&x, 4096, f) {
            Ok((g, info)) => {
                prop_assert!(info.paths >= 1);
                g
            }
            Err(TraceError::TooManyPaths { .. }) => {
                return Err(TestCaseError::reject("too many paths"));
            }
            Err(err) => return Err(TestCaseError::fail(err.to_string())),
        };
        prop_assert_eq!(global.shape(), (es.len(), INPUTS));
        if let Ok(local) = jacobian_pattern(&x, f) {
            prop_assert!(local.is_subset_of(&global));
        }
    }
}
