//! One prepared plan, shared (not cloned) by evaluators on several threads.

use std::sync::Arc;

use sparsediff::num_dual::DualNum;
use sparsediff::probe::ProbePlan;
use sparsediff::{Options, ScalarFunction, SparseHessian, SparseJacobian, VectorFunction};

/// Chained Rosenbrock.
struct Rosenbrock;

impl ScalarFunction for Rosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| (w[1] - w[0].powi(2)).powi(2) * 100.0 + (D::one() - w[0]).powi(2))
            .sum()
    }
}

/// The analytic Rosenbrock Hessian entry (i, j).
fn exact(x: &[f64], i: usize, j: usize) -> f64 {
    let n = x.len();
    if i == j {
        let mut h = 0.0;
        if i + 1 < n {
            h += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        }
        if i > 0 {
            h += 200.0;
        }
        h
    } else if i.abs_diff(j) == 1 {
        -400.0 * x[i.min(j)]
    } else {
        0.0
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn plans_are_send_and_sync() {
    assert_send_sync::<ProbePlan>();
    assert_send_sync::<Arc<ProbePlan>>();
}

#[test]
fn two_threads_evaluate_from_one_shared_plan() {
    let n = 2000;
    let x0: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
    let first = SparseHessian::prepare(Rosenbrock, &x0, &Options::default()).unwrap();
    let plan = first.shared_plan();
    std::thread::scope(|s| {
        for t in 0..2 {
            let (plan, x0) = (Arc::clone(&plan), &x0);
            s.spawn(move || {
                let mut h = SparseHessian::builder()
                    .function(Rosenbrock)
                    .point(x0)
                    .plan(Arc::clone(&plan))
                    .build(&Options::default())
                    .unwrap();
                // the very plan, not a copy
                assert!(Arc::ptr_eq(&h.shared_plan(), &plan));
                for k in 0..50 {
                    let x: Vec<f64> = x0
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v + 0.01 * ((i + 31 * k + 7 * t) % 13) as f64)
                        .collect();
                    let m = h.evaluate(&x).unwrap();
                    for (v, (i, j)) in m.iter() {
                        assert!((v - exact(&x, i, j)).abs() <= 1e-10 * (1.0 + v.abs()));
                    }
                }
            });
        }
    });
    // Both evaluators and the original hold the one plan.
    assert_eq!(Arc::strong_count(&plan), 2);
}

/// F_i = x_i² − x_{i+1} (last: x²).
struct Chain;

impl VectorFunction for Chain {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        let n = x.len();
        for i in 0..n {
            out[i] = x[i] * x[i];
            if i + 1 < n {
                out[i] -= x[i + 1];
            }
        }
    }
}

#[test]
fn jacobian_plans_are_shared_too() {
    let x0 = vec![0.7; 500];
    let first = SparseJacobian::prepare(Chain, &x0, &Options::default()).unwrap();
    let plan = first.shared_plan().expect("a column plan");
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (plan, x0) = (Arc::clone(&plan), &x0);
            s.spawn(move || {
                let mut j = SparseJacobian::builder()
                    .function(Chain)
                    .point(x0)
                    .plan(plan)
                    .build(&Options::default())
                    .unwrap();
                let m = j.evaluate(x0).unwrap();
                assert_eq!(m.get(3, 3), Some(&1.4));
                assert_eq!(m.get(3, 4), Some(&-1.0));
            });
        }
    });
}

// ---- Options::threads: row blocks of the tape's sweeps on a pool ----

use proptest::prelude::*;
use sparsediff::testing::assert_threads_agree;
use sparsediff::{MAX_THREADS, SparseError};
use sparsediff_problems::grid_energy::GridEnergy;

/// `max |a − b| / max |b|`.
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn point(n: usize, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 + 0.3 * (0.7 * i as f64 + shift).sin())
        .collect()
}

/// Above the threshold (2·2¹⁶ replayed instructions: 2 per Rosenbrock term, 3 per grid
/// vertex): the values are bit for bit the same on 1, 2 and 3 threads, and the analytic
/// Hessian's within 1e-12.
#[test]
fn rosenbrock_and_grid_values_do_not_depend_on_the_thread_count() {
    let n = 150_000;
    let x = point(n, 0.0);
    let got = assert_threads_agree(
        &sparsediff_problems::rosenbrock::Rosenbrock,
        &x,
        &[1, 2, 3],
        &Options::default(),
    );
    let want = sparsediff_problems::rosenbrock::hessian_values(&x);
    assert!(rel_err(&got, &want) <= 1e-12, "{:e}", rel_err(&got, &want));

    let g = GridEnergy::new(260);
    let x = point(g.n(), 1.0);
    let got = assert_threads_agree(&g, &x, &[1, 2, 3], &Options::default());
    let want = g.hessian_values(&x);
    assert!(rel_err(&got, &want) <= 1e-12, "{:e}", rel_err(&got, &want));
}

#[test]
fn the_pool_is_reported_and_bad_counts_are_named_errors() {
    let x = point(150_000, 0.0);
    let options = Options {
        threads: 2,
        ..Options::default()
    };
    let h =
        SparseHessian::prepare(sparsediff_problems::rosenbrock::Rosenbrock, &x, &options).unwrap();
    assert_eq!(h.info().threads, 2);
    assert_eq!(
        SparseHessian::prepare(Rosenbrock, &x[..10], &Options::default())
            .unwrap()
            .info()
            .threads,
        1
    );
    for threads in [0, MAX_THREADS + 1, usize::MAX] {
        let options = Options {
            threads,
            ..Options::default()
        };
        match SparseHessian::prepare(Rosenbrock, &x[..10], &options) {
            Err(SparseError::InvalidThreads { threads: t, max }) => {
                assert_eq!((t, max), (threads, MAX_THREADS));
            }
            other => panic!("threads = {threads}: {other:?}"),
        }
    }
}

/// Tridiagonal residuals F_i = x_{i+1}² − x_i x_{i−1} + sin x_i.
struct Tridiagonal;

impl VectorFunction for Tridiagonal {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        let n = x.len();
        for i in 0..n {
            let mut v = x[i].sin();
            if i + 1 < n {
                v += x[i + 1] * x[i + 1];
            }
            if i > 0 {
                v -= x[i] * x[i - 1];
            }
            out[i] = v;
        }
    }
}

#[test]
fn batches_equal_evaluations_one_by_one() {
    let n = 300;
    let mut h = SparseHessian::prepare(Rosenbrock, &point(n, 0.0), &Options::default()).unwrap();
    let nnz = h.pattern().nnz();
    let xs: Vec<f64> = (0..4).flat_map(|k| point(n, k as f64)).collect();
    let mut values = vec![0.0; 4 * nnz];
    assert_eq!(h.evaluate_batch(&xs, &mut values).unwrap(), 4);
    for (x, v) in xs.chunks(n).zip(values.chunks(nnz)) {
        assert_eq!(h.evaluate(x).unwrap().matrix().data(), v);
    }
    // lengths that are not k·n and k·nnz
    assert!(matches!(
        h.evaluate_batch(&xs[1..], &mut values),
        Err(SparseError::WrongLength { what: "xs", .. })
    ));
    assert!(matches!(
        h.evaluate_batch(&xs, &mut values[1..]),
        Err(SparseError::WrongLength { what: "values", .. })
    ));
    assert_eq!(h.evaluate_batch(&[], &mut []).unwrap(), 0);

    let options = Options {
        threads: 2,
        ..Options::default()
    };
    let mut j = SparseJacobian::prepare(Tridiagonal, &point(n, 0.0), &options).unwrap();
    // Jacobian products run on the caller's thread.
    assert_eq!(j.info().threads, 1);
    let nnz = j.pattern().nnz();
    let mut values = vec![0.0; 4 * nnz];
    assert_eq!(j.evaluate_batch(&xs, &mut values).unwrap(), 4);
    for (x, v) in xs.chunks(n).zip(values.chunks(nnz)) {
        assert_eq!(j.evaluate(x).unwrap().matrix().data(), v);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// At random points and thread counts, one prepared grid Hessian with a pool gives the
    /// values of one without, bit for bit, evaluation after evaluation.
    #[test]
    fn any_thread_count_gives_the_one_thread_values(
        threads in 2usize..=4,
        shifts in proptest::collection::vec(-2.0f64..2.0, 1..4),
    ) {
        let g = GridEnergy::new(240);
        let x0 = point(g.n(), 0.0);
        let mut one = SparseHessian::prepare(g, &x0, &Options::default()).unwrap();
        let options = Options { threads, ..Options::default() };
        let mut many = SparseHessian::prepare(g, &x0, &options).unwrap();
        prop_assert_eq!(many.info().threads, threads);
        for s in shifts {
            let x = point(g.n(), s);
            let a = one.evaluate(&x).unwrap().matrix().data().to_vec();
            let b = many.evaluate(&x).unwrap().matrix().data();
            prop_assert!(a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits()));
        }
    }
}
