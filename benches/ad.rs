//! Sparse derivatives end to end (products + decode) and pattern detection, one thread:
//! `cargo bench --bench ad`. The same cases as `sparsediff bench hessian|jacobian`; the
//! figures are recorded in `papers/ad-backends.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff::ad::trace::{hessian_pattern, jacobian_pattern};
use sparsediff::problems::cartpole::{AugmentedLagrangian, CartpoleProblem};
use sparsediff::problems::grid_energy::GridEnergy;
use sparsediff::problems::rosenbrock::Rosenbrock;
use sparsediff::problems::tridiagonal::Tridiagonal;
use sparsediff::problems::{eval_point, rosenbrock, tridiagonal};
use sparsediff::{Options, SparseHessian, SparseJacobian};

fn hessians(c: &mut Criterion) {
    let mut g = c.benchmark_group("hessian");
    g.sample_size(20);
    let cases: Vec<(&str, Box<dyn Fn() -> (SparseHessian, Vec<f64>)>)> = vec![
        (
            "rosenbrock-1e5",
            Box::new(|| {
                let x = eval_point(100_000);
                (
                    SparseHessian::prepare(Rosenbrock, &x, &Options::default()).expect("prepare"),
                    x,
                )
            }),
        ),
        (
            "grid2d-316x316",
            Box::new(|| {
                let x = eval_point(316 * 316);
                (
                    SparseHessian::prepare(GridEnergy::new(316), &x, &Options::default())
                        .expect("prepare"),
                    x,
                )
            }),
        ),
        (
            "cartpole-N100",
            Box::new(|| {
                let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(100));
                let z = la.eval_point();
                (
                    SparseHessian::prepare(la, &z, &Options::default()).expect("prepare"),
                    z,
                )
            }),
        ),
        (
            "cartpole-N1000",
            Box::new(|| {
                let la = AugmentedLagrangian::benchmark(CartpoleProblem::new(1000));
                let z = la.eval_point();
                (
                    SparseHessian::prepare(la, &z, &Options::default()).expect("prepare"),
                    z,
                )
            }),
        ),
    ];
    for (name, make) in cases {
        let (mut h, x) = make();
        g.bench_function(name, |b| b.iter(|| h.evaluate(&x).expect("evaluate").nnz()));
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
    g.finish();
}

fn detection(c: &mut Criterion) {
    let mut g = c.benchmark_group("detection");
    g.sample_size(10);
    let x = eval_point(100_000);
    g.bench_function("rosenbrock-hessian-1e5", |b| {
        b.iter(|| {
            hessian_pattern(&x, |x| rosenbrock::value(x))
                .expect("trace")
                .nnz()
        })
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
            jacobian_pattern(&x, |x| tridiagonal::value(x))
                .expect("trace")
                .nnz()
        })
    });
    g.finish();
}

criterion_group!(benches, hessians, jacobians, detection);
criterion_main!(benches);
