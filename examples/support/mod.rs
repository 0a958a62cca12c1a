//! What the solver examples share: where SVG files go, a seeded generator, log-scale line
//! charts.
#![allow(dead_code)]

use std::path::PathBuf;

use plotters::prelude::*;

/// The directory for this run's SVG files: the `--out DIR` argument, else
/// `target/plots` under the repository. Created if missing (its parent must exist).
pub fn out_dir(args: &[String]) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = match args.iter().position(|a| a == "--out") {
        Some(k) => PathBuf::from(args.get(k + 1).ok_or("--out needs a directory")?),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/plots"),
    };
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir)?;
    }
    Ok(dir)
}

/// The command-line arguments after the program name.
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// For a smoke test: a fresh temporary directory for `name` (removed with its files when
/// the returned guard drops, so repeated test runs leave nothing behind), and `extra`
/// followed by `--out DIR`.
pub fn smoke_args(name: &str, extra: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir()
        .expect("a temporary directory");
    let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    args.extend(["--out".to_string(), dir.path().display().to_string()]);
    (dir, args)
}

/// splitmix64: a seeded stream of uniform numbers, enough for examples.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
}

/// The ellipse {x : (x − c)ᵀH(x − c) = r²} of a 2×2 SPD H.
pub fn ellipse(c: &[f64], h: [f64; 3], r: f64) -> Vec<(f64, f64)> {
    let (a, b, d) = (h[0], h[1], h[2]);
    let mean = 0.5 * (a + d);
    let rad = (0.25 * (a - d) * (a - d) + b * b).sqrt();
    let (l1, l2) = (mean + rad, mean - rad);
    let theta = 0.5 * (2.0 * b).atan2(a - d);
    let (cs, sn) = (theta.cos(), theta.sin());
    (0..=240)
        .map(|k| {
            let t = k as f64 / 240.0 * std::f64::consts::TAU;
            let (u, v) = (r / l1.sqrt() * t.cos(), r / l2.sqrt() * t.sin());
            (c[0] + cs * u - sn * v, c[1] + sn * u + cs * v)
        })
        .collect()
}

/// One named series of (x, y) points.
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points; y must be positive on a log axis (others are dropped).
    pub points: Vec<(f64, f64)>,
}

/// A line chart with a logarithmic y axis (and a logarithmic x axis if `log_x`), one line
/// per series, written to `path`.
pub fn log_chart(
    path: &std::path::Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_x: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(x, y)| *y > 0.0 && y.is_finite() && x.is_finite() && (!log_x || *x > 0.0))
    };
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, 0.0f64);
    for &(x, y) in pts() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    // No two distinct points (or none at all): a unit range around what there is.
    if !x0.is_finite() {
        (x0, x1) = (1.0, 2.0);
    } else if x0 >= x1 {
        x1 = x0 + 1.0;
    }
    if !y0.is_finite() || y0 <= 0.0 {
        (y0, y1) = (1e-16, 1.0);
    } else if y0 >= y1 {
        y1 = y0 * 10.0;
    }
    let root = SVGBackend::new(path, (800, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let colors = [BLUE, RED, GREEN, MAGENTA, BLACK, CYAN];
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()?;
            for (k, s) in series.iter().enumerate() {
                let c = colors[k % colors.len()];
                let p: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|(x, y)| *y > 0.0 && y.is_finite() && (!log_x || *x > 0.0))
                    .collect();
                chart
                    .draw_series(LineSeries::new(p.clone(), c.stroke_width(2)))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
                chart.draw_series(p.iter().map(|&q| Circle::new(q, 3, c.filled())))?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        }};
    }
    let builder = || {
        let mut b = ChartBuilder::on(&root);
        b.caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70);
        b
    };
    if log_x {
        draw!(builder().build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?);
    } else {
        draw!(builder().build_cartesian_2d(x0..x1, (y0..y1).log_scale())?);
    }
    root.present()?;
    Ok(())
}
