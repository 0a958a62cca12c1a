//! Chained Rosenbrock, f = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², with n from 10³ to 10⁵ (10⁶
//! with `--large`): sparse Newton (the recovered tridiagonal Hessian, banded LDLᵀ) against
//! trust-region Newton–CG (matrix-free tape products) and argmin's L-BFGS (gradients only).
//! Iterations, time, final ‖∇f‖∞ and the time per phase; the convergence of ‖∇f‖∞ against
//! time at the largest n in an SVG.
//!
//! The start is x0 = 1.2·(1, …, 1). From the textbook start (−1.2, 1, −1.2, 1, …) the
//! iterates of every method here fall to x ≈ 0.01 within a few steps, and a front then
//! travels through the chain at about one variable per 1.5 Newton steps (to the local
//! minimum f ≈ 3.9866 with x₀ ≈ −0.993): the iterations grow like 1.5·n — the first table
//! row shows it at n = 1000.
//!
//! The Hessian (2 probes) and the tape's value and gradient come from
//! `sparsediff::SparseHessian`, prepared once per method (its time is reported apart).
//!
//! `cargo run --release --example rosenbrock_newton [-- --large] [-- --out DIR]`

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use sparsediff::num_dual::DualNum;
use sparsediff::probe::Geometry;
use sparsediff::{Options, ScalarFunction, SparseHessian};
use sparsediff_solve::argmin::{LbfgsParams, lbfgs};
use sparsediff_solve::newton::{Newton, NewtonParams};
use sparsediff_solve::observe::Iterate;
use sparsediff_solve::trust_region::{TrustRegion, TrustRegionParams};
use sparsediff_solve::{PhaseTimes, Status};

/// Chained Rosenbrock, written once for every scalar.
struct Rosenbrock;

impl ScalarFunction for Rosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| (w[1] - w[0] * w[0]).powi(2) * 100.0 + (D::one() - w[0]).powi(2))
            .fold(D::zero(), |a, b| a + b)
    }
}

/// One solve.
struct Row {
    n: usize,
    start: &'static str,
    method: &'static str,
    status: Status,
    iterations: usize,
    grad_inf: f64,
    prepare: f64,
    times: PhaseTimes,
    products: usize,
    history: Vec<(f64, f64)>,
}

fn prepare(x0: &[f64]) -> Result<(SparseHessian<'static>, f64), Box<dyn std::error::Error>> {
    let options = Options {
        geometry: Some(Geometry::Band { beta: Some(1) }),
        ..Options::default()
    };
    let t = Instant::now();
    let h = SparseHessian::prepare(Rosenbrock, x0, &options)?;
    Ok((h, t.elapsed().as_secs_f64()))
}

fn solve(
    n: usize,
    start: &'static str,
    x0: &[f64],
    method: &'static str,
    max_iterations: usize,
) -> Result<Row, Box<dyn std::error::Error>> {
    eprintln!("n = {n}, x0 = {start}, {method} …");
    let (mut h, prepare) = prepare(x0)?;
    let mut history = Vec::new();
    let mut observe = |it: &Iterate<'_>| history.push((it.seconds, it.measure));
    // (status, iterations, ‖∇f‖∞, times, products) of each method.
    let (status, iterations, grad_inf, times, products) = if method == "lbfgs" {
        let params = LbfgsParams {
            max_iterations: max_iterations * 50,
            ..LbfgsParams::default()
        };
        let i = lbfgs(h, x0, params, &mut observe)?.info;
        (i.status, i.iterations, i.grad_inf, i.times, 0)
    } else if method == "newton" {
        let params = NewtonParams {
            max_iterations,
            ..NewtonParams::default()
        };
        let i = Newton::new(params)?
            .minimize(&mut h, x0, &mut observe)?
            .info;
        (
            i.status,
            i.iterations,
            i.grad_inf,
            i.times,
            i.evaluations.products,
        )
    } else {
        let params = TrustRegionParams {
            max_iterations,
            ..TrustRegionParams::default()
        };
        let i = TrustRegion::new(params)?
            .minimize(&mut h, x0, &mut observe)?
            .info;
        (
            i.status,
            i.iterations,
            i.grad_inf,
            i.times,
            i.evaluations.products,
        )
    };
    Ok(Row {
        n,
        start,
        method,
        status,
        iterations,
        grad_inf,
        prepare,
        times,
        products,
        history,
    })
}

fn table(rows: &[Row]) {
    println!(
        "{:>8} {:>11} {:>9} {:>14} {:>6} {:>8} {:>10} {:>9} {:>9} | {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "n",
        "x0",
        "method",
        "status",
        "iters",
        "products",
        "|∇f|∞",
        "prepare",
        "solve",
        "hessian",
        "factor",
        "solve",
        "search",
        "gradient",
        "other"
    );
    for r in rows {
        let t = &r.times;
        let s = |d: std::time::Duration| d.as_secs_f64();
        println!(
            "{:>8} {:>11} {:>9} {:>14} {:>6} {:>8} {:>10.2e} {:>8.3}s {:>8.3}s | {:>7.3}s {:>7.3}s {:>7.3}s {:>7.3}s {:>7.3}s {:>7.3}s",
            r.n,
            r.start,
            r.method,
            r.status.name(),
            r.iterations,
            r.products,
            r.grad_inf,
            r.prepare,
            s(t.total),
            s(t.hessian),
            s(t.factorization),
            s(t.solve),
            s(t.line_search),
            s(t.gradient),
            s(t.other)
        );
    }
}

fn run(args: &[String]) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let dir = support::out_dir(args)?;
    let sizes: Vec<usize> = if args.iter().any(|a| a == "--smoke") {
        vec![200]
    } else if args.iter().any(|a| a == "--large") {
        vec![1_000, 10_000, 100_000, 1_000_000]
    } else {
        vec![1_000, 10_000, 100_000]
    };
    let mut rows = Vec::new();
    // The textbook start at the smallest size: the front.
    let n = sizes[0];
    let alternating: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    rows.push(solve(n, "(−1.2, 1, …)", &alternating, "newton", 5 * n)?);
    for &n in &sizes {
        let x0 = vec![1.2; n];
        for method in ["newton", "trust-cg", "lbfgs"] {
            rows.push(solve(n, "1.2·1", &x0, method, 1000)?);
        }
    }
    table(&rows);
    let largest = *sizes.last().unwrap_or(&0);
    let series: Vec<support::Series> = rows
        .iter()
        .filter(|r| r.n == largest && r.start == "1.2·1")
        .map(|r| support::Series {
            label: format!("{} ({} iterations)", r.method, r.iterations),
            points: r.history.clone(),
        })
        .collect();
    let svg = dir.join("rosenbrock_newton.svg");
    support::log_chart(
        &svg,
        &format!("chained Rosenbrock, n = {largest}, x0 = 1.2·1: ‖∇f‖∞ against time"),
        "seconds after prepare",
        "‖∇f‖∞",
        &series,
        false,
    )?;
    println!("wrote {}", svg.display());
    Ok(rows)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&support::args())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn smoke() {
        let (dir, args) = super::support::smoke_args("rosenbrock_newton", &["--smoke"]);
        let rows = super::run(&args).unwrap();
        assert_eq!(rows.len(), 4);
        for r in &rows {
            assert!(
                r.status.is_converged(),
                "{} {}: {:?}",
                r.start,
                r.method,
                r.status
            );
            assert!(r.grad_inf <= 1e-8);
        }
        assert!(
            rows[0].iterations > 100,
            "the front: {} iterations",
            rows[0].iterations
        );
        assert!(rows[1].iterations <= 15);
        assert!(dir.path().join("rosenbrock_newton.svg").exists());
    }
}
