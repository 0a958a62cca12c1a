//! Colouring benchmarks: ordering + colouring (graph construction included, pattern
//! construction and file reading excluded), one thread.
//!
//! `cargo bench --bench coloring` runs all; `cargo bench --bench coloring -- grid` filters.
//! The figures are recorded in `papers/colorings.md`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sparsediff::generators::{self, Stencil2d};
use sparsediff::{ColoringParams, Method, Order, Pattern, Problem, color};

fn bench_case(c: &mut Criterion, group: &str, p: &Pattern, cases: &[(Problem, Method, Order)]) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    for &(problem, method, order) in cases {
        let params = ColoringParams::with_order(order);
        let id = BenchmarkId::new(format!("{problem}-{method}"), order);
        g.bench_with_input(id, p, |b, p| {
            b.iter(|| color(p, problem, method, &params).expect("colouring succeeds"))
        });
    }
    g.finish();
}

fn grid(c: &mut Criterion) {
    let p = generators::grid2d(1000, 1000, Stencil2d::FivePoint).expect("grid");
    bench_case(
        c,
        "grid2d-1000x1000",
        &p,
        &[
            (Problem::Column, Method::Cpr, Order::Natural),
            (Problem::Column, Method::Cpr, Order::SmallestLast),
            (Problem::Symmetric, Method::Distance2, Order::Natural),
            (Problem::Symmetric, Method::Star, Order::Natural),
            (Problem::Symmetric, Method::Acyclic, Order::Natural),
        ],
    );
}

fn band(c: &mut Criterion) {
    let p = generators::band(1_000_000, 5, 5).expect("band");
    bench_case(
        c,
        "band-1e6-beta5",
        &p,
        &[
            (Problem::Symmetric, Method::Star, Order::Natural),
            (Problem::Symmetric, Method::Acyclic, Order::Natural),
            (
                Problem::Symmetric,
                Method::Acyclic,
                Order::PerfectElimination,
            ),
        ],
    );
}

fn cartpole(c: &mut Criterion) {
    let p = sparsediff_problems::cartpole::hessian_pattern(100).expect("cartpole");
    bench_case(
        c,
        "cartpole-N100",
        &p,
        &[
            (Problem::Symmetric, Method::Distance2, Order::Natural),
            (Problem::Symmetric, Method::Star, Order::Natural),
            (Problem::Symmetric, Method::Acyclic, Order::SmallestLast),
        ],
    );
}

fn lp_ken_11(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/matrices/lp_ken_11.mtx");
    let p = sparsediff::pattern::read_matrix_market(path)
        .expect("shipped matrix")
        .into_pattern();
    bench_case(
        c,
        "lp_ken_11",
        &p,
        &[
            (Problem::Column, Method::Cpr, Order::Natural),
            (Problem::Column, Method::Cpr, Order::Dsatur),
            (Problem::Row, Method::Cpr, Order::Natural),
        ],
    );
}

criterion_group!(benches, grid, band, cartpole, lp_ken_11);
criterion_main!(benches);
