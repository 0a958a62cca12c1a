//! Banded Cholesky / LDLᵀ benchmarks (one thread):
//! `CARGO_TARGET_DIR=/work/target-solve cargo bench -p sparsediff-solve --bench banded`.
//! Figures are recorded in `papers/solvers.md`.
//!
//! * `factor+solve/n5000-b9`, `factor+solve/n1e6-b5`: Cholesky from the CSR values (gather
//!   included) plus one solve, the must-reach cases;
//! * `factor`, `solve`: the two halves alone;
//! * `ldlt`: the LDLᵀ (inertia) on the same matrices;
//! * `faer-sparse-natural`: faer's sparse Cholesky with the natural order on the same band
//!   (numeric refactorisation + solve, symbolic reused), the "why hand-written" figure.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff_solve::band::{BandLdltParams, BandSymbolic};
use sparsediff_solve::random_spd_band;
use sparsediff_solve::sparse::{Ordering, SparseCholesky, SparseSymbolic};

fn banded(c: &mut Criterion) {
    let mut g = c.benchmark_group("banded");
    for (name, n, beta, samples) in [("n5000-b9", 5000, 9, 100), ("n1e6-b5", 1_000_000, 5, 20)] {
        g.sample_size(samples);
        let (p, values) = random_spd_band(n, beta, 7).expect("band");
        let s = BandSymbolic::from_pattern(&p).expect("symbolic");
        let mut storage = vec![0.0; s.factor_len()];
        let b = vec![1.0; n];
        let mut x = b.clone();
        g.bench_function(format!("factor+solve/{name}"), |bench| {
            bench.iter(|| {
                x.copy_from_slice(&b);
                let f = s.cholesky_in_place(&values, &mut storage).expect("spd");
                f.solve_slice_in_place(&mut x).expect("solve");
                black_box(&x);
            })
        });
        g.bench_function(format!("factor/{name}"), |bench| {
            bench.iter(|| {
                black_box(
                    s.cholesky_in_place(&values, &mut storage)
                        .expect("spd")
                        .inertia(),
                );
            })
        });
        g.bench_function(format!("ldlt/{name}"), |bench| {
            bench.iter(|| {
                let f = s
                    .ldlt_in_place(&values, 0.0, &mut storage, BandLdltParams::default())
                    .expect("ldlt");
                black_box(f.inertia());
            })
        });
        let f = s.cholesky_in_place(&values, &mut storage).expect("spd");
        g.bench_function(format!("solve/{name}"), |bench| {
            bench.iter(|| {
                x.copy_from_slice(&b);
                f.solve_slice_in_place(&mut x).expect("solve");
                black_box(&x);
            })
        });
        let sym = SparseSymbolic::with_ordering(&p, Ordering::Natural).expect("symbolic");
        let mut chol = SparseCholesky::new(sym).expect("workspace");
        g.bench_function(format!("faer-sparse-natural/{name}"), |bench| {
            bench.iter(|| {
                x.copy_from_slice(&b);
                chol.factorize(&values).expect("spd");
                chol.solve_slice_in_place(&mut x).expect("solve");
                black_box(&x);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, banded);
criterion_main!(benches);
