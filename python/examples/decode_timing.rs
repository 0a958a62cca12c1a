//! The Rust side of papers/python.md: decode times of the plans the Python bench times
//! (python/examples/bench_decode.py), min and median.
//!
//! ```sh
//! cd python && cargo run --release --example decode_timing
//! ```

use std::time::Instant;

use sparsediff_coloring::ColoringParams;
use sparsediff_pattern::{Pattern, generators};
use sparsediff_probe::design::{AutoDesigner, default_orders};
use sparsediff_probe::{ColoredDesigner, MatrixKind, ProbeDesigner};

fn time(label: &str, pattern: &Pattern, designer: &dyn ProbeDesigner, repeats: usize) {
    let plan = designer
        .design(pattern, MatrixKind::Symmetric)
        .expect("design");
    let values: Vec<f64> = pattern
        .iter()
        .map(|(i, j)| 1.0 + ((i.min(j) * 31 + i.max(j) * 17) % 101) as f64 / 101.0)
        .collect();
    let b = plan.exact_products(&values);
    let mut out = vec![0.0; pattern.nnz()];
    plan.decode(b.as_ref(), &mut out).expect("decode");
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            plan.decode(b.as_ref(), &mut out).expect("decode");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{label}: {} {} probes, nnz {}, decode min {:.3} µs, median {:.3} µs ({repeats} repeats)",
        plan.designer(),
        plan.num_probes(),
        pattern.nnz(),
        times[0] * 1e6,
        times[repeats / 2] * 1e6
    );
}

fn main() {
    let cart = sparsediff_problems::cartpole::hessian_pattern(100).expect("pattern");
    time("cartpole:N=100", &cart, &ColoredDesigner::acyclic(), 5000);
    let cart = sparsediff_problems::cartpole::hessian_pattern(1000).expect("pattern");
    time("cartpole:N=1000", &cart, &ColoredDesigner::acyclic(), 1000);
    let grid = generators::grid2d(1000, 1000, generators::Stencil2d::FivePoint).expect("grid");
    let auto = AutoDesigner {
        coloring: ColoringParams::with_order(default_orders()),
        geometry: None,
    };
    time("grid2d:nx=1000,ny=1000,stencil=5", &grid, &auto, 21);
}
