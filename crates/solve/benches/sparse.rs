//! Sparse Cholesky benchmarks (faer 0.24, one thread):
//! `CARGO_TARGET_DIR=/work/target-solve cargo bench -p sparsediff-solve --bench sparse`.
//! Figures are recorded in `papers/solvers.md`.
//!
//! For each matrix: `refactor` = numeric Cholesky with the symbolic analysis reused (what a
//! Newton loop pays per step), `one-shot` = symbolic analysis + numeric (what a solver
//! without reuse pays), `symbolic` = the analysis alone, `solve` = one right-hand side.
//!
//! * `laplace1e6`: 2-D 5-point Laplacian on a 1000×1000 grid plus 1e-2·I (SPD).
//!
//! The same cases on the Hessian patterns of benchmark problems are in the problems crate
//! (`cargo bench -p sparsediff-problems --bench cholesky`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_solve::sparse::{SparseCholesky, SparseLdlt, SparseLdltParams, SparseSymbolic};

fn laplacian(p: &Pattern, shift: f64) -> Vec<f64> {
    p.iter()
        .map(|(i, j)| {
            if i == j {
                p.row_nnz(i) as f64 - 1.0 + shift
            } else {
                -1.0
            }
        })
        .collect()
}

fn case(c: &mut Criterion, name: &str, p: &Pattern, values: &[f64], samples: usize) {
    let mut g = c.benchmark_group(format!("sparse/{name}"));
    g.sample_size(samples);
    let symbolic = Arc::new(SparseSymbolic::new(p).expect("symbolic"));
    let mut chol = SparseCholesky::new(symbolic.clone()).expect("workspace");
    g.bench_function("refactor", |b| {
        b.iter(|| chol.factorize(black_box(values)).expect("spd"))
    });
    g.bench_function("one-shot", |b| {
        b.iter(|| {
            let s = SparseSymbolic::new(black_box(p)).expect("symbolic");
            let mut f = SparseCholesky::new(s).expect("workspace");
            f.factorize(values).expect("spd");
            black_box(&f);
        })
    });
    g.bench_function("symbolic", |b| {
        b.iter(|| black_box(SparseSymbolic::new(black_box(p)).expect("symbolic")))
    });
    let mut ldlt = SparseLdlt::new(symbolic.clone(), SparseLdltParams::default()).expect("ws");
    g.bench_function("ldlt-refactor", |b| {
        b.iter(|| black_box(ldlt.factorize(black_box(values), 0.0).expect("ldlt")))
    });
    chol.factorize(values).expect("spd");
    let rhs = vec![1.0; p.nrows()];
    let mut x = rhs.clone();
    g.bench_function("solve", |b| {
        b.iter(|| {
            x.copy_from_slice(&rhs);
            chol.solve_slice_in_place(&mut x).expect("solve");
            black_box(&x);
        })
    });
    g.finish();
}

fn sparse(c: &mut Criterion) {
    let grid = generators::grid2d(1000, 1000, Stencil2d::FivePoint).expect("grid");
    let v = laplacian(&grid, 1e-2);
    case(c, "laplace1e6", &grid, &v, 10);
}

criterion_group!(benches, sparse);
criterion_main!(benches);
