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
