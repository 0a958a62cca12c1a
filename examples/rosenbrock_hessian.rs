//! Sparse Hessian of the chained Rosenbrock function (problems/generic-hessians.md):
//! tridiagonal, recovered from 2 Hessian-vector products by substitution, checked against
//! the analytic Hessian.
//!
//! `cargo run --release --example rosenbrock_hessian`

use std::time::Instant;

use sparsediff::{Options, SparseHessian};
use sparsediff_problems::rosenbrock::Rosenbrock;
use sparsediff_problems::{eval_point, rosenbrock};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 100_000;
    let x = eval_point(n);
    let t = Instant::now();
    let mut h = SparseHessian::prepare(Rosenbrock, &x, &Options::default())?;
    println!(
        "prepared in {:.3} s: {:?}",
        t.elapsed().as_secs_f64(),
        h.info()
    );
    assert_eq!(h.info().probes, 2);
    let t = Instant::now();
    let m = h.evaluate(&x)?;
    println!("evaluated in {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
    let exact = rosenbrock::hessian_values(&x);
    let err = m
        .data()
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let scale = exact.iter().map(|v| v.abs()).fold(0.0, f64::max);
    println!(
        "max relative error against the analytic Hessian: {:.2e}",
        err / scale
    );
    assert!(err <= 1e-12 * scale);
    Ok(())
}
