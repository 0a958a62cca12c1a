//! Sparse derivatives end to end (products + decode) and pattern detection, one thread:
//! `cargo bench --bench ad`. The same cases as `sparsediff bench hessian|jacobian`; the
//! figures are recorded in `papers/ad-backends.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use num_dual::{Derivative, DualSVec64};
use sparsediff::ad::trace::{hessian_pattern, jacobian_pattern};
use sparsediff::{Options, ScalarFunction, SparseHessian, SparseJacobian};
use sparsediff_problems::cartpole::{AugmentedLagrangian, CartpoleProblem};
use sparsediff_problems::grid_energy::GridEnergy;
use sparsediff_problems::rosenbrock::Rosenbrock;
use sparsediff_problems::tridiagonal::Tridiagonal;
use sparsediff_problems::{eval_point, rosenbrock, tridiagonal};

/// A prepared Hessian and its point.
fn prepared<F: ScalarFunction + Send + Sync + 'static>(
    f: F,
    x: Vec<f64>,
) -> (SparseHessian<'static>, Vec<f64>) {
    (
        SparseHessian::prepare(f, &x, &Options::default()).expect("prepare"),
        x,
    )
}

fn hessians(c: &mut Criterion) {
    let mut g = c.benchmark_group("hessian");
    g.sample_size(20);
    let la = |n| AugmentedLagrangian::benchmark(CartpoleProblem::new(n));
    let cases = [
        ("rosenbrock-1e5", prepared(Rosenbrock, eval_point(100_000))),
        (
            "grid2d-316x316",
            prepared(GridEnergy::new(316), eval_point(316 * 316)),
        ),
        ("cartpole-N100", prepared(la(100), la(100).eval_point())),
        ("cartpole-N1000", prepared(la(1000), la(1000).eval_point())),
    ];
    for (name, (mut h, x)) in cases {
        g.bench_function(name, |b| b.iter(|| h.evaluate(&x).expect("evaluate").nnz()));
    }
    // the composite path (`sparsediff bench hessian --problem cartpole --path composite`)
    for n in [100, 1000] {
        let la = la(n);
        let z = la.eval_point();
        let mut h = la.composite_hessian(&z).expect("prepare composite");
        g.bench_function(format!("cartpole-N{n}-composite"), |b| {
            b.iter(|| h.evaluate(&z).expect("evaluate").nnz())
        });
    }
    g.finish();
}

fn jacobians(c: &mut Criterion) {
    let mut g = c.benchmark_group("jacobian");
    g.sample_size(20);
    let x = eval_point(100_000);
    let mut j = SparseJacobian::prepare(Tridiagonal, &x, &Options::default()).expect("prepare");
    g.bench_function("tridiagonal-1e5", |b| {
        b.iter(|| j.evaluate(&x).expect("evaluate").nnz())
    });
    let mut y = vec![0.0; x.len()];
    g.bench_function("tridiagonal-1e5-f64", |b| {
        b.iter(|| tridiagonal::value_into(std::hint::black_box(&x), &mut y))
    });
    // The yardstick the issue quotes: one pass of num-dual's vector dual with the same
    // three CPR seeds (column i in colour i mod 3), seeded inputs rebuilt each pass.
    let mut yd = vec![DualSVec64::<3>::from_re(0.0); x.len()];
    g.bench_function("tridiagonal-1e5-num-dual-DualSVec64-3", |b| {
        b.iter(|| {
            let xd: Vec<DualSVec64<3>> = x
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let mut seed = nalgebra::SVector::<f64, 3>::zeros();
                    seed[i % 3] = 1.0;
                    DualSVec64::new(v, Derivative::some(seed))
                })
                .collect();
            tridiagonal::value_into(&xd, &mut yd);
            yd[0].re
        })
    });
    g.finish();
}

fn detection(c: &mut Criterion) {
    let mut g = c.benchmark_group("detection");
    g.sample_size(10);
    let x = eval_point(100_000);
    g.bench_function("rosenbrock-hessian-1e5", |b| {
        b.iter(|| hessian_pattern(&x, rosenbrock::value).expect("trace").nnz())
    });
    let grid = GridEnergy::new(316);
    let xg = eval_point(316 * 316);
    g.bench_function("grid2d-hessian-316x316", |b| {
        b.iter(|| {
            hessian_pattern(&xg, |x| grid.value(x))
                .expect("trace")
                .nnz()
        })
    });
    g.bench_function("tridiagonal-jacobian-1e5", |b| {
        b.iter(|| {
            jacobian_pattern(&x, tridiagonal::value)
                .expect("trace")
                .nnz()
        })
    });
    g.finish();
}

criterion_group!(benches, hessians, jacobians, detection);
criterion_main!(benches);
