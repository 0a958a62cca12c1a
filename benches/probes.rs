//! Probe design and decode benchmarks (one thread): `cargo bench --bench probes`.
//! The figures are recorded in `papers/probe-strategies.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff::generators::{self, Stencil2d};
use sparsediff::probe::compare::random_values;
use sparsediff::probe::{
    ColoredDesigner, Decompression, Geometry, MatrixKind, ProbeDesigner, RollDesigner,
    StencilDesigner,
};

fn decode(c: &mut Criterion) {
    let grid = generators::grid2d(1000, 1000, Stencil2d::FivePoint).expect("grid");
    let values = random_values(&grid, 1, true);
    let geometry = Geometry::Grid2d {
        nx: 1000,
        ny: 1000,
        stencil: Stencil2d::FivePoint,
    };
    let cases: Vec<(&str, Box<dyn ProbeDesigner>)> = vec![
        (
            "grid1e6/direct-gather-5",
            Box::new(StencilDesigner::new(geometry, Decompression::Direct)),
        ),
        (
            "grid1e6/substitution-3",
            Box::new(StencilDesigner::new(geometry, Decompression::Substitution)),
        ),
        (
            "grid1e6/star-5",
            Box::new(ColoredDesigner::star().with_params(sparsediff::ColoringParams::default())),
        ),
        (
            "grid1e6/acyclic-4",
            Box::new(ColoredDesigner::acyclic().with_params(sparsediff::ColoringParams::default())),
        ),
    ];
    let mut g = c.benchmark_group("decode");
    g.sample_size(20);
    for (name, designer) in cases {
        let plan = designer
            .design(&grid, MatrixKind::Symmetric)
            .expect("design");
        let b = plan.exact_products(&values);
        let mut out = vec![0.0; grid.nnz()];
        g.bench_function(name, |bench| {
            bench.iter(|| plan.decode(b.as_ref(), &mut out).expect("decode"))
        });
    }
    let band = generators::band(1_000_000, 5, 5).expect("band");
    let values = random_values(&band, 1, true);
    let roll = RollDesigner
        .design(&band, MatrixKind::Symmetric)
        .expect("design");
    let b = roll.exact_products(&values);
    let mut out = vec![0.0; band.nnz()];
    g.bench_function("band1e6-beta5/roll-11", |bench| {
        bench.iter(|| roll.decode(b.as_ref(), &mut out).expect("decode"))
    });
    g.finish();
}

fn design(c: &mut Criterion) {
    let grid = generators::grid2d(1000, 1000, Stencil2d::FivePoint).expect("grid");
    let geometry = Geometry::Grid2d {
        nx: 1000,
        ny: 1000,
        stencil: Stencil2d::FivePoint,
    };
    let mut g = c.benchmark_group("design");
    g.sample_size(10);
    g.bench_function("grid1e6/stencil-substitution", |bench| {
        bench.iter(|| {
            StencilDesigner::new(geometry, Decompression::Substitution)
                .design(&grid, MatrixKind::Symmetric)
                .expect("design")
        })
    });
    g.bench_function("grid1e6/acyclic-natural", |bench| {
        bench.iter(|| {
            ColoredDesigner::acyclic()
                .with_params(sparsediff::ColoringParams::default())
                .design(&grid, MatrixKind::Symmetric)
                .expect("design")
        })
    });
    g.finish();
}

criterion_group!(benches, decode, design);
criterion_main!(benches);
