//! The diagonal of a sparse Hessian from products, two ways, and what it buys a
//! trust-region solver as a preconditioner.
//!
//! The function is a badly scaled grid energy on an s × s grid,
//! f(x) = Σ_edges ½(xᵢ − xⱼ)² + Σᵢ wᵢ(xᵢ⁴/4 + xᵢ²/2 − xᵢ), with weights wᵢ spread over
//! 1 … 10⁴: its Hessian has the 5-point pattern and a diagonal that varies over four
//! orders of magnitude.
//!
//! * `sparsediff::probe::ExactDiagonal`: a distance-1 colouring of the Hessian's graph (the
//!   5-point grid is bipartite: 2 colours) and one Hessian-vector product per colour gives
//!   the diagonal exactly;
//! * `sparsediff::probe::Hutchinson`: k Rademacher probes z and diag ≈ mean of z ⊙ Hz, an
//!   unbiased estimate whose relative error decays like 1/√k (mean over 5 seeds);
//! * trust-region Newton–CG (`sparsediff_solve::trust_region`, matrix-free products) with
//!   and without the exact diagonal at x0 as its preconditioner: CG iterations and products.
//!
//! `cargo run --release --example hessian_diagonal [-- --s S] [-- --out DIR]` (default
//! s = 300, n = 90 000) prints the tables and writes `hessian_diagonal.svg`.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use faer::Mat;
use sparsediff::num_dual::DualNum;
use sparsediff::probe::{ExactDiagonal, Geometry, hutchinson_errors};
use sparsediff::{Options, ScalarFunction, SparseHessian};
use sparsediff_solve::trust_region::{TrustRegion, TrustRegionInfo, TrustRegionParams};

/// The badly scaled grid energy.
struct Energy {
    s: usize,
    w: Vec<f64>,
}

impl Energy {
    fn new(s: usize) -> Self {
        let mut rng = support::Rng::new(5);
        let w = (0..s * s)
            .map(|_| 10f64.powf(4.0 * rng.uniform()))
            .collect();
        Self { s, w }
    }
}

impl ScalarFunction for Energy {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let s = self.s;
        let mut f = D::zero();
        for j in 0..s {
            for i in 0..s {
                let k = i + s * j;
                if i + 1 < s {
                    let d = x[k] - x[k + 1];
                    f += d * d * 0.5;
                }
                if j + 1 < s {
                    let d = x[k] - x[k + s];
                    f += d * d * 0.5;
                }
                let v = x[k];
                f += (v.powi(4) * 0.25 + v * v * 0.5 - v) * self.w[k];
            }
        }
        f
    }
}

/// What the run measured (read by the smoke test).
#[cfg_attr(not(test), allow(dead_code))]
struct Outcome {
    probes: usize,
    exact_error: f64,
    hutchinson: Vec<(usize, f64)>,
    plain: TrustRegionInfo,
    preconditioned: TrustRegionInfo,
}

fn run(args: &[String]) -> Result<Outcome, Box<dyn std::error::Error>> {
    let dir = support::out_dir(args)?;
    let s = match args.iter().position(|a| a == "--s") {
        Some(k) => args
            .get(k + 1)
            .ok_or("--s needs a number")?
            .parse::<usize>()?,
        None => 300,
    };
    if !(2..=2000).contains(&s) {
        return Err(format!("--s must lie in 2..=2000 (n = s² variables), got {s}").into());
    }
    let n = s * s;
    let f = Energy::new(s);
    let x0: Vec<f64> = (0..n)
        .map(|i| 0.5 + 0.25 * ((i % 7) as f64 - 3.0) / 3.0)
        .collect();
    let options = Options {
        geometry: Some(Geometry::Grid2d {
            nx: s,
            ny: s,
            stencil: sparsediff::generators::Stencil2d::FivePoint,
        }),
        ..Options::default()
    };
    let mut h = SparseHessian::prepare(f, &x0, &options)?;
    let pattern = h.pattern().clone();
    let values = h.evaluate(&x0)?.data().to_vec();
    let truth: Vec<f64> = (0..n)
        .map(|i| pattern.position(i, i).map_or(0.0, |k| values[k]))
        .collect();

    // Exact: one tape HVP per colour of a distance-1 colouring.
    let t = Instant::now();
    let exact = ExactDiagonal::new(&pattern)?;
    let seeds = exact.seeds().to_dense();
    let p = exact.num_probes();
    let mut products = Mat::<f64>::zeros(n, p);
    let mut col = vec![0.0; n];
    let mut out = vec![0.0; n];
    for c in 0..p {
        for (i, v) in col.iter_mut().enumerate() {
            *v = seeds[(i, c)];
        }
        h.hessian_vector(&x0, &col, &mut out)?;
        for (i, v) in out.iter().enumerate() {
            products[(i, c)] = *v;
        }
    }
    let mut diag = vec![0.0; n];
    exact.decode(products.as_ref(), &mut diag)?;
    let exact_seconds = t.elapsed().as_secs_f64();
    let norm = truth.iter().map(|v| v * v).sum::<f64>().sqrt();
    let exact_error = diag
        .iter()
        .zip(&truth)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
        / norm;

    // Hutchinson: relative error against k, mean over 5 seeds (products of the recovered
    // Hessian: the same numbers as k tape HVPs).
    let ks: Vec<usize> = (0..=10).map(|e| 1usize << e).collect();
    let mut hutchinson: Vec<(usize, f64)> = ks.iter().map(|&k| (k, 0.0)).collect();
    for seed in 0..5 {
        for (acc, (_, e)) in hutchinson
            .iter_mut()
            .zip(hutchinson_errors(&pattern, &values, &ks, seed)?)
        {
            acc.1 += e / 5.0;
        }
    }
    println!("diagonal of the {n}×{n} Hessian (5-point grid, weights 1 … 1e4)");
    println!(
        "{:<32} {:>8} {:>14}",
        "method", "products", "relative error"
    );
    println!(
        "{:<32} {:>8} {:>14.2e}   ({:.3} s)",
        "exact (distance-1 colouring)", p, exact_error, exact_seconds
    );
    for &(k, e) in &hutchinson {
        println!("{:<32} {:>8} {:>14.2e}", "Hutchinson (Rademacher)", k, e);
    }

    // Trust region with and without the diagonal preconditioner.
    let params = TrustRegionParams::default();
    let mut plain_tr = TrustRegion::new(params)?;
    let plain = plain_tr.minimize(&mut h, &x0, &mut ())?.info;
    let mut pre_tr = TrustRegion::new(params)?;
    pre_tr.set_diagonal(Some(&diag), 1e-8)?;
    let preconditioned = pre_tr.minimize(&mut h, &x0, &mut ())?.info;
    println!(
        "\n{:<28} {:>14} {:>6} {:>9} {:>6} {:>10} {:>9}",
        "trust-region Newton–CG", "status", "steps", "CG iters", "HVPs", "|∇f|∞", "time"
    );
    for (name, i) in [
        ("no preconditioner", &plain),
        ("exact diagonal at x0", &preconditioned),
    ] {
        println!(
            "{:<28} {:>14} {:>6} {:>9} {:>6} {:>10.2e} {:>8.3}s",
            name,
            i.status.name(),
            i.iterations,
            i.cg_iterations,
            i.evaluations.hessian_vectors,
            i.grad_inf,
            i.times.total.as_secs_f64()
        );
    }

    let svg = dir.join("hessian_diagonal.svg");
    let reference: Vec<(f64, f64)> = ks
        .iter()
        .map(|&k| (k as f64, hutchinson[0].1 / (k as f64).sqrt()))
        .collect();
    support::log_chart(
        &svg,
        &format!("Hessian diagonal, n = {n}: relative error against products"),
        "products (Hessian-vector)",
        "relative error ‖d̂ − d‖₂ / ‖d‖₂",
        &[
            support::Series {
                label: "Hutchinson, k Rademacher probes (mean of 5 seeds)".to_string(),
                points: hutchinson.iter().map(|&(k, e)| (k as f64, e)).collect(),
            },
            support::Series {
                label: "1/√k from k = 1".to_string(),
                points: reference,
            },
            support::Series {
                label: format!(
                    "exact: distance-1 colouring, {p} products (error floored at 1e-16)"
                ),
                points: vec![(p as f64, exact_error.max(1e-16))],
            },
        ],
        true,
    )?;
    println!("wrote {}", svg.display());
    Ok(Outcome {
        probes: p,
        exact_error,
        hutchinson,
        plain,
        preconditioned,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&support::args())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn smoke() {
        let (dir, args) = super::support::smoke_args("hessian_diagonal", &["--s", "20"]);
        let o = super::run(&args).unwrap();
        assert_eq!(o.probes, 2, "the 5-point grid graph is bipartite");
        assert!(o.exact_error < 1e-13);
        // 1/√k: 1024 probes are about 32× better than one (allow a factor 2).
        let (first, last) = (o.hutchinson[0].1, o.hutchinson.last().unwrap().1);
        assert!(last < first / 16.0, "{first} → {last}");
        assert!(o.plain.status.is_converged() && o.preconditioned.status.is_converged());
        assert!(o.preconditioned.cg_iterations < o.plain.cg_iterations);
        assert!(dir.path().join("hessian_diagonal.svg").exists());
    }
}
