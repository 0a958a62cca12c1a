//! Newton, L-BFGS and gradient descent on a 2-D convex quadratic, paths drawn over its
//! contours (the picture in every optimisation course, e.g. Nocedal & Wright, Fig. 3.7).
//!
//! f(x) = ½xᵀAx + bᵀx with A = [[5, 1], [1, 3]], b = (−4, 2), from x0 = (2.5, −2); the
//! minimiser is x* = −A⁻¹b = (1, −1), f* = −3.
//!
//! * Newton (`sparsediff_solve::newton`): one step lands on x* (the model is exact);
//! * L-BFGS (argmin's, through `sparsediff_solve::argmin::lbfgs`): a few steps;
//! * gradient descent with a fixed step 0.1, 40 steps: the error contracts by
//!   |1 − 0.1·λ| per step along each eigenvector of A (λ = 4 ± √2: 0.46 and 0.74), so it
//!   creeps along the soft direction.
//!
//! `cargo run --release --example newton_vs_lbfgs [-- --out DIR]` prints the table and
//! writes `newton_vs_lbfgs.svg` (default directory `target/plots`).

#[path = "support/mod.rs"]
mod support;

use plotters::prelude::*;
use sparsediff::Pattern;
use sparsediff::pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff_solve::argmin::{LbfgsParams, lbfgs};
use sparsediff_solve::newton::{Newton, NewtonParams};
use sparsediff_solve::observe::History;

const A: [[f64; 2]; 2] = [[5.0, 1.0], [1.0, 3.0]];
const B: [f64; 2] = [-4.0, 2.0];
const X0: [f64; 2] = [2.5, -2.0];
const X_STAR: [f64; 2] = [1.0, -1.0];

/// f = ½xᵀAx + bᵀx with its (dense 2×2) Hessian.
struct Quadratic {
    pattern: Pattern,
    values: [f64; 4],
}

impl Quadratic {
    fn new() -> Self {
        Self {
            pattern: Pattern::dense(2, 2).expect("2×2"),
            values: [A[0][0], A[0][1], A[1][0], A[1][1]],
        }
    }
}

fn value(x: &[f64]) -> f64 {
    let ax = [
        A[0][0] * x[0] + A[0][1] * x[1],
        A[1][0] * x[0] + A[1][1] * x[1],
    ];
    0.5 * (x[0] * ax[0] + x[1] * ax[1]) + B[0] * x[0] + B[1] * x[1]
}

fn gradient(x: &[f64]) -> [f64; 2] {
    [
        A[0][0] * x[0] + A[0][1] * x[1] + B[0],
        A[1][0] * x[0] + A[1][1] * x[1] + B[1],
    ]
}

impl ValueGradient for Quadratic {
    type Error = std::convert::Infallible;
    fn dim(&self) -> usize {
        2
    }
    fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
        Ok(value(x))
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
        g.copy_from_slice(&gradient(x));
        Ok(value(x))
    }
}

impl ValueGradientHessian for Quadratic {
    fn hessian(&mut self, _: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: &self.values,
        })
    }
}

/// One method's path and end.
struct Run {
    name: &'static str,
    path: Vec<[f64; 2]>,
    iterations: usize,
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn runs() -> Result<Vec<Run>, Box<dyn std::error::Error>> {
    let to_path = |h: &History| h.points.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>();
    let mut history = History::with_points();
    let newton =
        Newton::new(NewtonParams::default())?.minimize(&mut Quadratic::new(), &X0, &mut history)?;
    let newton = Run {
        name: "Newton",
        path: to_path(&history),
        iterations: newton.info.iterations,
    };
    let mut history = History::with_points();
    let lb = lbfgs(Quadratic::new(), &X0, LbfgsParams::default(), &mut history)?;
    let lbfgs = Run {
        name: "L-BFGS (argmin)",
        path: to_path(&history),
        iterations: lb.info.iterations,
    };
    let mut x = X0;
    let mut path = vec![x];
    for _ in 0..40 {
        let g = gradient(&x);
        x = [x[0] - 0.1 * g[0], x[1] - 0.1 * g[1]];
        path.push(x);
    }
    let gd = Run {
        name: "gradient descent (step 0.1)",
        path,
        iterations: 40,
    };
    Ok(vec![newton, lbfgs, gd])
}

fn table(runs: &[Run]) {
    println!(
        "{:<30} {:>10} {:>14} {:>12} {:>12}",
        "method", "iterations", "f(x) − f*", "|∇f|∞", "|x − x*|∞"
    );
    for r in runs {
        let x = r.path.last().copied().unwrap_or(X0);
        let err = [x[0] - X_STAR[0], x[1] - X_STAR[1]];
        println!(
            "{:<30} {:>10} {:>14.3e} {:>12.3e} {:>12.3e}",
            r.name,
            r.iterations,
            value(&x) + 3.0,
            inf_norm(&gradient(&x)),
            inf_norm(&err)
        );
    }
}

/// The level set f = f* + c: ½(x − x*)ᵀA(x − x*) = c.
fn ellipse(c: f64) -> Vec<(f64, f64)> {
    support::ellipse(&X_STAR, [A[0][0], A[0][1], A[1][1]], (2.0 * c).sqrt())
}

fn plot(runs: &[Run], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (760, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "f = ½xᵀAx + bᵀx, A = [[5,1],[1,3]], b = (−4, 2): paths from (2.5, −2)",
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..3.5, -3.0f64..1.0)?;
    chart.configure_mesh().x_desc("x₁").y_desc("x₂").draw()?;
    for c in [0.05, 0.25, 1.0, 2.5, 5.0, 10.0, 20.0] {
        chart.draw_series(LineSeries::new(ellipse(c), RGBColor(170, 170, 170)))?;
    }
    let colors = [RED, BLUE, GREEN];
    for (r, &color) in runs.iter().zip(&colors) {
        let pts: Vec<(f64, f64)> = r.path.iter().map(|p| (p[0], p[1])).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(format!("{} ({} steps)", r.name, r.iterations))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart.draw_series(std::iter::once(Cross::new(
        (X_STAR[0], X_STAR[1]),
        8,
        BLACK.stroke_width(2),
    )))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn run(args: &[String]) -> Result<Vec<Run>, Box<dyn std::error::Error>> {
    let dir = support::out_dir(args)?;
    let runs = runs()?;
    table(&runs);
    let svg = dir.join("newton_vs_lbfgs.svg");
    plot(&runs, &svg)?;
    println!("wrote {}", svg.display());
    Ok(runs)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&support::args())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn smoke() {
        let (dir, args) = super::support::smoke_args("newton_vs_lbfgs", &[]);
        let runs = super::run(&args).unwrap();
        let end = |k: usize| *runs[k].path.last().unwrap();
        // Newton: one step, exact.
        assert_eq!(runs[0].iterations, 1);
        assert!((end(0)[0] - 1.0).abs() < 1e-12 && (end(0)[1] + 1.0).abs() < 1e-12);
        // L-BFGS converges; 40 fixed steps of gradient descent come close.
        assert!(super::inf_norm(&super::gradient(&end(1))) <= 1e-8);
        assert!((end(2)[0] - 1.0).abs() < 1e-3);
        assert!(
            dir.path()
                .join("newton_vs_lbfgs.svg")
                .metadata()
                .unwrap()
                .len()
                > 1000
        );
    }
}
