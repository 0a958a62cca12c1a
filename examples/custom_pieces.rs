//! Plugging your own pieces into `SparseHessian` through the public API: a detector, a
//! designer that reads its colouring from a file, and a designer with its own decoder —
//! each checked against the tape Hessian of the default pipeline.
//!
//! ```sh
//! cargo run --release --example custom_pieces
//! ```

use std::sync::Arc;

use sparsediff::detect::{Detected, FunctionAccess, SparsityDetector};
use sparsediff::faer::MatRef;
use sparsediff::num_dual::DualNum;
use sparsediff::probe::{
    Decode, DecodeError, DesignError, MatrixKind, Orientation, ProbeDesigner, ProbePlan, Recovery,
    Seeds,
};
use sparsediff::{
    ColoringParams, Method, Options, OrderChoice, Pattern, Problem, ScalarFunction, SparseError,
    SparseHessian, Strategy, color,
};

/// Chained Rosenbrock: a tridiagonal Hessian.
struct Rosenbrock;

impl ScalarFunction for Rosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| (w[1] - w[0].powi(2)).powi(2) * 100.0 + (D::one() - w[0]).powi(2))
            .sum()
    }
}

/// A detector of our own: the union of the supports of Hessian-vector products along the
/// unit vectors, at `points` pseudo-random points around x0 (a value that vanishes at one
/// point shows at another). n products per point: for small problems.
#[derive(Debug)]
struct UnitProductSupports {
    points: usize,
}

impl SparsityDetector for UnitProductSupports {
    fn name(&self) -> &'static str {
        "unit-product-supports"
    }

    fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError> {
        let n = x0.len();
        let mut eye = vec![0.0; n * n];
        (0..n).for_each(|j| eye[j * n + j] = 1.0);
        let mut seen = vec![false; n * n];
        let mut out = vec![0.0; n * n];
        for k in 0..self.points {
            let x: Vec<f64> = x0
                .iter()
                .enumerate()
                .map(|(j, v)| v + 0.1 * ((j * 7919 + k * 104_729) % 97) as f64 / 97.0)
                .collect();
            f.products(&x, &eye, n, &mut out)?;
            for (s, v) in seen.iter_mut().zip(&out) {
                *s |= *v != 0.0;
            }
        }
        let entries = (0..n).flat_map(|i| (0..n).map(move |j| (i, j)));
        let pattern = Pattern::from_entries(n, n, entries.filter(|&(i, j)| seen[i * n + j]))?;
        Ok(Detected {
            pattern,
            holds_everywhere: false, // sampled, not proven: verified periodically
            fixed: false,
        })
    }
}

/// A designer of our own: reads a colouring (one colour per line) from a file and decodes
/// by substitution — the colouring is checked by `from_parts`, never trusted.
struct ColoringFromFile {
    path: std::path::PathBuf,
}

impl ProbeDesigner for ColoringFromFile {
    fn name(&self) -> &'static str {
        "coloring-from-file"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| DesignError::Parameter {
            name: "path",
            value: format!("{}: {e}", self.path.display()),
            reason: "cannot be read",
        })?;
        let colors: Vec<usize> = text
            .lines()
            .map(|l| l.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|e| DesignError::Parameter {
                name: "colouring file",
                value: e.to_string(),
                reason: "must hold one colour per line",
            })?;
        let num_probes = colors.iter().max().map_or(0, |c| c + 1);
        let seeds = Seeds::Groups {
            group: colors,
            num_probes,
        };
        ProbePlan::from_parts(self.name(), kind, pattern, seeds, Recovery::Substitution)
    }
}

/// A designer with a decoder of our own, for tridiagonal Hessians: three probes
/// (columns j mod 3), every entry read directly from the probe of its column.
struct Tridiagonal;

#[derive(Debug)]
struct TridiagonalDecoder {
    pattern: Pattern,
}

impl Decode for TridiagonalDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.pattern.nrows(), 3)
    }

    fn decode(&self, b: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        for (v, (i, j)) in values.iter_mut().zip(self.pattern.iter()) {
            *v = b[(i, j % 3)];
        }
        Ok(())
    }
}

impl ProbeDesigner for Tridiagonal {
    fn name(&self) -> &'static str {
        "tridiagonal-direct"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        if pattern.bandwidth().0.max(pattern.bandwidth().1) > 1 {
            return Err(DesignError::Parameter {
                name: "pattern",
                value: format!("bandwidth {:?}", pattern.bandwidth()),
                reason: "must be tridiagonal",
            });
        }
        let n = pattern.ncols();
        let seeds = Seeds::Groups {
            group: (0..n).map(|j| j % 3).collect(),
            num_probes: 3,
        };
        let decoder = Arc::new(TridiagonalDecoder {
            pattern: pattern.clone(),
        });
        ProbePlan::custom(
            self.name(),
            kind,
            Orientation::Columns,
            pattern.clone(),
            seeds,
            decoder,
            3,
            Some(3),
        )
    }
}

/// max |a − b| over the union of the entries, relative to max |b|.
fn difference(a: &sprs::CsMat<f64>, b: &sprs::CsMat<f64>) -> f64 {
    let scale = b.data().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0f64;
    for (v, (i, j)) in a.iter() {
        worst = worst.max((v - b.get(i, j).copied().unwrap_or(0.0)).abs());
    }
    for (v, (i, j)) in b.iter() {
        worst = worst.max((v - a.get(i, j).copied().unwrap_or(0.0)).abs());
    }
    worst / scale
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 60;
    let x0: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
    let x: Vec<f64> = x0.iter().map(|v| v - 0.2).collect();

    // The reference: the default pipeline (traced pattern, automatic design, tape).
    let mut reference = SparseHessian::prepare(Rosenbrock, &x0, &Options::default())?;
    let expected = reference.evaluate(&x)?.clone();

    // A colouring written to a file by one program, read back by the designer.
    let traced = reference.pattern().clone();
    let acyclic = color(
        &traced,
        Problem::Symmetric,
        Method::Acyclic,
        &ColoringParams::with_order(OrderChoice::best()),
    )?;
    let path = std::env::temp_dir().join(format!("sparsediff-colors-{}.txt", std::process::id()));
    let lines: Vec<String> = acyclic.colors().iter().map(|c| c.to_string()).collect();
    std::fs::write(&path, lines.join("\n"))?;

    let cases: Vec<(&str, Options)> = vec![
        (
            "detector: unit-product supports",
            Options::with_detector(UnitProductSupports { points: 2 }),
        ),
        (
            "designer: colouring from a file",
            Options::with_strategy(Strategy::Custom(Arc::new(ColoringFromFile {
                path: path.clone(),
            }))),
        ),
        (
            "designer + decoder: tridiagonal direct",
            Options::with_strategy(Strategy::Custom(Arc::new(Tridiagonal))),
        ),
    ];
    println!(
        "{:<40} {:>7} {:>22} {:>10}",
        "piece", "probes", "designer", "error"
    );
    for (what, options) in cases {
        let mut h = SparseHessian::prepare(Rosenbrock, &x0, &options)?;
        let got = h.evaluate(&x)?.clone();
        let error = difference(&got, &expected);
        println!(
            "{what:<40} {:>7} {:>22} {error:>10.1e}",
            h.info().probes,
            h.info().designer
        );
        assert!(error < 1e-12, "{what}: {error}");
    }
    std::fs::remove_file(&path)?;
    Ok(())
}
