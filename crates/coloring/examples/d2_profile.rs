//! Repeats one distance-2 colouring of a generated pattern (for profilers).
//!
//! `cargo run --release -p sparsediff-coloring --example d2_profile -- SPEC ORDER REPS`

use sparsediff_coloring::{ColoringParams, Method, OrderChoice, Problem, color};
use sparsediff_pattern::PatternSpec;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spec: PatternSpec = args[1].parse().expect("spec");
    let pattern = spec.build().expect("pattern");
    let order = args[2].parse().expect("order");
    let reps: usize = args[3].parse().expect("reps");
    let params = ColoringParams {
        order: OrderChoice::Single(order),
        ..ColoringParams::default()
    };
    for _ in 0..reps {
        let c = color(&pattern, Problem::Symmetric, Method::Distance2, &params).expect("colour");
        let t = c.tried()[0];
        println!(
            "{} colours, order+colour {:.3} ms, order {:.3} ms",
            c.num_colors(),
            t.seconds * 1e3,
            t.order_seconds.unwrap_or(0.0) * 1e3
        );
    }
}
