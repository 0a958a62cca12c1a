//! Local against global sparsity detection on the benchmark Hessians (issue 13): the time of
//! `hessian_pattern_with_info` or `hessian_pattern_global_with_info` on chained Rosenbrock,
//! the quartic grid energy, or Rosenbrock plus a branch (`hinged`: two paths), `reps` calls in one process (min and median). Run it once
//! per mode under `/usr/bin/time -v` for the peak memory of that mode alone:
//!
//! ```text
//! cargo run --release -p sparsediff-ad --example trace_global -- rosenbrock 1000000 global 5
//! ```

use std::time::Instant;

use num_dual::DualNum;
use sparsediff_ad::trace::{
    DEFAULT_MAX_PATHS, Tracer, hessian_pattern_global_with_info, hessian_pattern_with_info,
};

/// Chained Rosenbrock (as `sparsediff-problems`).
fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0].powi(2);
        s += t * t * 100.0 + (D::one() - w[0]).powi(2);
    }
    s
}

/// Σ over 4-neighbour edges (x_p − x_q)⁴ + Σ cos(x_p) on an s×s grid (as
/// `sparsediff-problems`).
fn grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
    let mut f = D::zero();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            if c + 1 < s {
                f += (x[p] - x[p + 1]).powi(4);
            }
            if r + 1 < s {
                f += (x[p] - x[p + s]).powi(4);
            }
            f += x[p].cos();
        }
    }
    f
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: trace_global rosenbrock|grid|hinged N local|global [REPS]";
    let (Some(problem), Some(n), Some(mode)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a positive integer; {usage}");
        std::process::exit(2);
    };
    let reps = args
        .get(4)
        .and_then(|r| r.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1);
    let s = (n as f64).sqrt().round() as usize;
    let n = if problem == "grid" { s * s } else { n };
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
    let f = |v: &[Tracer]| match problem.as_str() {
        "grid" => grid(v, s),
        // one comparison of an input: two control-flow paths
        "hinged" => rosenbrock(v) + if v[0] > 0.0 { v[0] * v[1] } else { v[2] * v[2] },
        _ => rosenbrock(v),
    };
    let mut times = Vec::with_capacity(reps);
    let mut summary = String::new();
    for _ in 0..reps {
        let start = Instant::now();
        let result = match mode.as_str() {
            "global" => hessian_pattern_global_with_info(&x, DEFAULT_MAX_PATHS, f),
            "local" => hessian_pattern_with_info(&x, f),
            other => {
                eprintln!("unknown mode {other}; {usage}");
                std::process::exit(2);
            }
        };
        times.push(start.elapsed().as_secs_f64());
        match result {
            Ok((p, info)) => {
                summary = format!(
                    "nnz {} nodes {} paths {} comparisons {}",
                    p.nnz(),
                    info.nodes,
                    info.paths,
                    info.comparisons
                );
            }
            Err(e) => {
                eprintln!("tracing failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!(
        "{problem} n={n} {mode}: first {first:.4} s, min {:.4} s, median {:.4} s over {reps}; {summary}",
        times[0],
        times[reps / 2]
    );
}
