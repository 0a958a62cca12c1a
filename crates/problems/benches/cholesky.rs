//! Sparse Cholesky on the cartpole L_A Hessian pattern (faer 0.24, one thread):
//! `cargo bench -p sparsediff-problems --bench cholesky`. Figures are recorded in
//! `papers/solvers.md` (the same cases as `cargo bench -p sparsediff-solve --bench sparse`,
//! whose stage crate does not know this problem).
//!
//! For each matrix: `refactor` = numeric Cholesky with the symbolic analysis reused (what a
//! Newton loop pays per step), `one-shot` = symbolic analysis + numeric (what a solver
//! without reuse pays), `symbolic` = the analysis alone, `ldlt-refactor` the regularised
//! LDLᵀ, `solve` = one right-hand side.
//!
//! * `cartpole100`, `cartpole1000`: [`cartpole::hessian_pattern`] (500 / 5000 unknowns)
//!   with seeded strictly diagonally dominant values (SPD).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff_pattern::Pattern;
use sparsediff_problems::cartpole;
use sparsediff_solve::sparse::{SparseCholesky, SparseLdlt, SparseLdltParams, SparseSymbolic};
use sparsediff_solve::spd_values;

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
    for knots in [100, 1000] {
        let p = cartpole::hessian_pattern(knots).expect("cartpole");
        let v = spd_values(&p, 11);
        case(c, &format!("cartpole{knots}"), &p, &v, 50);
    }
}

criterion_group!(benches, sparse);
criterion_main!(benches);
