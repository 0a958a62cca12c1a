//! The analytic centre of a sparse polytope P = {x : Ax ≤ b}: the minimiser of the
//! logarithmic barrier φ(x) = −Σ ln(bᵢ − aᵢᵀx) (Boyd & Vandenberghe, *Convex
//! Optimization*, §8.5.3), by Newton's method with the sparse Hessian AᵀDA,
//! D = diag(1/dᵢ²), dᵢ = bᵢ − aᵢᵀx.
//!
//! * Phase one finds a strictly feasible start from x = 0 (which need not be feasible):
//!   Newton on τ·s − Σ ln(bᵢ − aᵢᵀx + s) over (x, s), from s = max(Ax − b)⁺ + 1, with τ
//!   growing ×10 until the minimiser has s < 0 (then bᵢ − aᵢᵀx > −s > 0). Its Hessian has
//!   a dense row and column for s (an arrow): the sparse LDLᵀ takes it.
//! * Phase two: Newton on φ from there. Its Hessian AᵀDA is banded here (each row of A
//!   touches columns j … j + 4): the banded LDLᵀ takes it.
//!
//! Robust by construction: the barrier is +∞ outside the domain (ln of a non-positive
//! number is never evaluated) and the line search backs off from such trial points, so
//! every iterate is interior. The centre is checked interior (min dᵢ > 0) and stationary
//! (‖∇φ‖∞ ≤ 1e-8), and its Dikin ellipsoid E = {x : (x − x_c)ᵀH(x − x_c) ≤ 1} is checked
//! to lie in P (√(aᵢᵀH⁻¹aᵢ) ≤ dᵢ) on sampled rows; P lies in √(m(m − 1))·E. A 2-D
//! instance is drawn: the polygon, both phases' paths, the centre and both ellipses.
//!
//! `cargo run --release --example analytic_center [-- --n N] [-- --out DIR]`
//! (default n = 20 000 variables, m = 4n inequalities).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use plotters::prelude::*;
use sparsediff::Pattern;
use sparsediff::pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff_solve::newton::{Newton, NewtonParams};
use sparsediff_solve::observe::History;
use sparsediff_solve::sparse::{SparseLdlt, SparseLdltParams, SparseSymbolic};
use support::Rng;

/// P = {x : Ax ≤ b}, A by sparse rows.
struct Polytope {
    n: usize,
    rows: Vec<Vec<(usize, f64)>>,
    b: Vec<f64>,
}

impl Polytope {
    /// n variables; 2n random rows with 3 entries in columns j … j + 4 (b from a hidden
    /// interior point, slack in [0.05, 1)), and the box −2 ≤ xⱼ ≤ 2.
    fn banded(n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let hidden: Vec<f64> = (0..n).map(|_| rng.range(-1.0, 1.0)).collect();
        let mut rows = Vec::with_capacity(4 * n);
        let mut b = Vec::with_capacity(4 * n);
        for _ in 0..2 * n {
            let j = rng.below(n);
            let mut cols = vec![j];
            for _ in 0..2 {
                let c = (j + 1 + rng.below(4)).min(n - 1);
                if !cols.contains(&c) {
                    cols.push(c);
                }
            }
            let row: Vec<(usize, f64)> = cols.iter().map(|&c| (c, rng.range(-1.0, 1.0))).collect();
            let ax: f64 = row.iter().map(|&(c, v)| v * hidden[c]).sum();
            b.push(ax + rng.range(0.05, 1.0));
            rows.push(row);
        }
        for j in 0..n {
            rows.push(vec![(j, 1.0)]);
            b.push(2.0);
            rows.push(vec![(j, -1.0)]);
            b.push(2.0);
        }
        Self { n, rows, b }
    }

    /// A polygon: m half-planes aᵢ = (cos θᵢ, sin θᵢ), θᵢ spread around the circle, bᵢ in
    /// [0.5, 1.5).
    fn polygon(m: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        let mut b = Vec::new();
        for i in 0..m {
            let t = (i as f64 + rng.range(-0.3, 0.3)) / m as f64 * std::f64::consts::TAU;
            rows.push(vec![(0, t.cos()), (1, t.sin())]);
            b.push(rng.range(0.5, 1.5));
        }
        Self { n: 2, rows, b }
    }

    /// Slacks bᵢ − aᵢᵀx (+ s).
    fn slacks(&self, x: &[f64], s: f64, out: &mut [f64]) {
        for ((d, row), b) in out.iter_mut().zip(&self.rows).zip(&self.b) {
            *d = b - row.iter().map(|&(c, v)| v * x[c]).sum::<f64>() + s;
        }
    }
}

/// The barrier of phase one (`tau` = Some: variables (x, s)) or two (None: x).
struct Barrier<'p> {
    p: &'p Polytope,
    tau: Option<f64>,
    pattern: Pattern,
    values: Vec<f64>,
    /// For each row, the CSR positions of its pairs (k, l) in the order of `coefficients`.
    positions: Vec<Vec<usize>>,
    d: Vec<f64>,
}

impl<'p> Barrier<'p> {
    fn new(p: &'p Polytope, phase_one: bool) -> Result<Self, Box<dyn std::error::Error>> {
        let dim = p.n + usize::from(phase_one);
        let vars = |row: &[(usize, f64)]| {
            let mut v: Vec<usize> = row.iter().map(|&(c, _)| c).collect();
            if phase_one {
                v.push(p.n);
            }
            v
        };
        let mut entries = Vec::new();
        for row in &p.rows {
            let v = vars(row);
            for &k in &v {
                for &l in &v {
                    entries.push((k, l));
                }
            }
        }
        let pattern = Pattern::from_entries(dim, dim, entries)?;
        let positions = p
            .rows
            .iter()
            .map(|row| {
                let v = vars(row);
                let mut pos = Vec::with_capacity(v.len() * v.len());
                for &k in &v {
                    for &l in &v {
                        pos.push(pattern.position(k, l).expect("entry of the pattern"));
                    }
                }
                pos
            })
            .collect();
        Ok(Self {
            p,
            tau: phase_one.then_some(1.0),
            values: vec![0.0; pattern.nnz()],
            pattern,
            positions,
            d: vec![0.0; p.rows.len()],
        })
    }

    /// ∇dᵢ as (variable, coefficient) pairs: (−aᵢ, 1 for s).
    fn coefficients(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        self.p.rows[i]
            .iter()
            .map(|&(_, v)| -v)
            .chain(self.tau.map(|_| 1.0))
    }

    /// Slacks at z into `self.d`; false if any is not positive (outside the domain).
    fn inside(&mut self, z: &[f64]) -> bool {
        let s = if self.tau.is_some() { z[self.p.n] } else { 0.0 };
        self.p.slacks(&z[..self.p.n], s, &mut self.d);
        self.d.iter().all(|&d| d > 0.0)
    }
}

impl ValueGradient for Barrier<'_> {
    type Error = std::convert::Infallible;
    fn dim(&self) -> usize {
        self.pattern.nrows()
    }
    fn value(&mut self, z: &[f64]) -> Result<f64, Self::Error> {
        if !self.inside(z) {
            return Ok(f64::INFINITY);
        }
        let log: f64 = self.d.iter().map(|d| d.ln()).sum();
        Ok(self.tau.map_or(0.0, |t| t * z[self.p.n]) - log)
    }
    fn gradient(&mut self, z: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
        let f = self.value(z)?;
        if !f.is_finite() {
            g.fill(f64::NAN);
            return Ok(f);
        }
        g.fill(0.0);
        for (row, &d) in self.p.rows.iter().zip(&self.d) {
            for &(c, v) in row {
                g[c] += v / d;
            }
            if self.tau.is_some() {
                g[self.p.n] -= 1.0 / d;
            }
        }
        if let Some(t) = self.tau {
            g[self.p.n] += t;
        }
        Ok(f)
    }
}

impl ValueGradientHessian for Barrier<'_> {
    fn hessian(&mut self, z: &[f64]) -> Result<SymmetricValues<'_>, Self::Error> {
        self.values.fill(0.0);
        if self.inside(z) {
            for i in 0..self.p.rows.len() {
                let w = 1.0 / (self.d[i] * self.d[i]);
                let c: Vec<f64> = self.coefficients(i).collect();
                let mut k = 0;
                for &ck in &c {
                    for &cl in &c {
                        self.values[self.positions[i][k]] += w * ck * cl;
                        k += 1;
                    }
                }
            }
        } else {
            self.values.fill(f64::NAN);
        }
        Ok(SymmetricValues {
            pattern: &self.pattern,
            values: &self.values,
        })
    }
}

/// The result of both phases.
struct Centre {
    x: Vec<f64>,
    phase_one: Vec<Vec<f64>>,
    phase_two: Vec<Vec<f64>>,
    taus: Vec<f64>,
    phase_one_iterations: usize,
    phase_two_iterations: usize,
    grad_inf: f64,
    min_slack: f64,
    factorization: &'static str,
    seconds: f64,
}

fn centre(p: &Polytope, keep_points: bool) -> Result<Centre, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let history = || {
        if keep_points {
            History::with_points()
        } else {
            History::new()
        }
    };
    // Phase one.
    let mut one = Barrier::new(p, true)?;
    let mut d = vec![0.0; p.rows.len()];
    let mut z = vec![0.0; p.n + 1];
    p.slacks(&z[..p.n], 0.0, &mut d);
    z[p.n] = (-d.iter().copied().fold(f64::INFINITY, f64::min)).max(0.0) + 1.0;
    let mut phase_one = Vec::new();
    let mut taus = Vec::new();
    let mut phase_one_iterations = 0;
    let mut tau = 1.0;
    for _ in 0..15 {
        one.tau = Some(tau);
        taus.push(tau);
        let mut h = history();
        let params = NewtonParams {
            grad_tol: 1e-8 * tau,
            ..NewtonParams::default()
        };
        let sol = Newton::new(params)?.minimize(&mut one, &z, &mut h)?;
        phase_one_iterations += sol.info.iterations;
        phase_one.extend(h.points.into_iter().map(|q| q[..p.n].to_vec()));
        if !sol.info.status.is_converged() {
            return Err(format!("phase one at τ = {tau}: {:?}", sol.info.status).into());
        }
        z = sol.x;
        if z[p.n] < 0.0 {
            break;
        }
        tau *= 10.0;
    }
    if z[p.n] >= 0.0 {
        return Err("phase one: P has no interior point (s ≥ 0 at τ = 1e14)".into());
    }
    // Phase two.
    let mut two = Barrier::new(p, false)?;
    let mut h = history();
    let sol = Newton::new(NewtonParams::default())?.minimize(&mut two, &z[..p.n], &mut h)?;
    if !sol.info.status.is_converged() {
        return Err(format!("phase two: {:?}", sol.info.status).into());
    }
    p.slacks(&sol.x, 0.0, &mut d);
    Ok(Centre {
        min_slack: d.iter().copied().fold(f64::INFINITY, f64::min),
        phase_two: h.points,
        phase_one,
        taus,
        phase_one_iterations,
        phase_two_iterations: sol.info.iterations,
        grad_inf: sol.info.grad_inf,
        factorization: sol.info.factorization.map_or("-", |k| k.name()),
        x: sol.x,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// max over `rows` of √(aᵢᵀH⁻¹aᵢ)/dᵢ at the centre: ≤ 1 iff E's extent along aᵢ fits
/// in P (the Dikin ellipsoid lies inside).
fn dikin_ratio(p: &Polytope, x: &[f64], rows: &[usize]) -> Result<f64, Box<dyn std::error::Error>> {
    let mut two = Barrier::new(p, false)?;
    let h = two.hessian(x)?;
    let mut f = SparseLdlt::new(SparseSymbolic::new(h.pattern)?, SparseLdltParams::default())?;
    f.factorize(h.values, 0.0)?;
    let mut d = vec![0.0; p.rows.len()];
    p.slacks(x, 0.0, &mut d);
    let mut worst = 0.0f64;
    for &i in rows {
        let mut y = vec![0.0; p.n];
        for &(c, v) in &p.rows[i] {
            y[c] = v;
        }
        f.solve_slice_in_place(&mut y)?;
        let q: f64 = p.rows[i].iter().map(|&(c, v)| v * y[c]).sum();
        worst = worst.max(q.sqrt() / d[i]);
    }
    Ok(worst)
}

/// Sutherland–Hodgman: the square [−r, r]² clipped by every half-plane of a polygon.
fn vertices(p: &Polytope, r: f64) -> Vec<(f64, f64)> {
    let mut poly = vec![(-r, -r), (r, -r), (r, r), (-r, r)];
    for (row, &b) in p.rows.iter().zip(&p.b) {
        let (a0, a1) = (row[0].1, row[1].1);
        let inside = |q: (f64, f64)| a0 * q.0 + a1 * q.1 <= b;
        let mut out = Vec::new();
        for k in 0..poly.len() {
            let (u, v) = (poly[k], poly[(k + 1) % poly.len()]);
            let (iu, iv) = (inside(u), inside(v));
            if iu {
                out.push(u);
            }
            if iu != iv {
                let fu = a0 * u.0 + a1 * u.1 - b;
                let fv = a0 * v.0 + a1 * v.1 - b;
                let t = fu / (fu - fv);
                out.push((u.0 + t * (v.0 - u.0), u.1 + t * (v.1 - u.1)));
            }
        }
        poly = out;
    }
    poly
}

/// The 2-D instance: centre, plot, and the ellipsoid checks on every vertex and row.
fn polygon(dir: &std::path::Path) -> Result<(Centre, f64, f64), Box<dyn std::error::Error>> {
    let p = Polytope::polygon(9, 7);
    let c = centre(&p, true)?;
    let mut two = Barrier::new(&p, false)?;
    let hv = two.hessian(&c.x)?;
    let get = |i, j| hv.values[hv.pattern.position(i, j).expect("dense 2×2")];
    let h = [get(0, 0), get(0, 1), get(1, 1)];
    let m = p.rows.len() as f64;
    let outer = (m * (m - 1.0)).sqrt();
    let verts = vertices(&p, 10.0);
    let q = |v: &(f64, f64)| {
        let (x, y) = (v.0 - c.x[0], v.1 - c.x[1]);
        h[0] * x * x + 2.0 * h[1] * x * y + h[2] * y * y
    };
    // P ⊆ √(m(m−1))·E: every vertex of P inside the outer ellipse.
    let worst_vertex = verts
        .iter()
        .map(|v| q(v).sqrt() / outer)
        .fold(0.0, f64::max);
    let all: Vec<usize> = (0..p.rows.len()).collect();
    let inner = dikin_ratio(&p, &c.x, &all)?;

    let svg = dir.join("analytic_center.svg");
    let root = SVGBackend::new(&svg, (720, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "analytic centre of a polygon (m = {}), Dikin ellipses",
                p.rows.len()
            ),
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-2.5f64..3.5, -2.5f64..3.5)?;
    chart.configure_mesh().draw()?;
    let mut closed = verts.clone();
    closed.extend(verts.first().copied());
    chart
        .draw_series(LineSeries::new(closed, BLACK.stroke_width(2)))?
        .label("P = {x : Ax ≤ b}")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    let path = |pts: &[Vec<f64>]| pts.iter().map(|q| (q[0], q[1])).collect::<Vec<_>>();
    for (pts, color, label) in [
        (path(&c.phase_one), RED, "phase one (from x = (0,0), s > 0)"),
        (
            path(&c.phase_two),
            BLUE,
            "phase two (Newton on the barrier)",
        ),
    ] {
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(pts.iter().map(|&q| Circle::new(q, 3, color.filled())))?;
    }
    chart
        .draw_series(LineSeries::new(
            support::ellipse(&c.x, h, 1.0),
            GREEN.stroke_width(2),
        ))?
        .label("Dikin ellipse E (inside P)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    chart
        .draw_series(LineSeries::new(support::ellipse(&c.x, h, outer), MAGENTA))?
        .label("√(m(m−1))·E (contains P)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA));
    chart.draw_series(std::iter::once(Cross::new(
        (c.x[0], c.x[1]),
        7,
        BLACK.stroke_width(2),
    )))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    println!("wrote {}", svg.display());
    Ok((c, inner, worst_vertex))
}

fn report(name: &str, p: &Polytope, c: &Centre, inner: f64) {
    println!(
        "{:<9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>10.2e} {:>10.2e} {:>8.3} {:>8} {:>8.3}s",
        name,
        p.n,
        p.rows.len(),
        c.taus.len(),
        c.phase_one_iterations,
        c.phase_two_iterations,
        c.grad_inf,
        c.min_slack,
        inner,
        c.factorization,
        c.seconds
    );
}

fn run(args: &[String]) -> Result<Vec<(Centre, f64)>, Box<dyn std::error::Error>> {
    let dir = support::out_dir(args)?;
    let n = match args.iter().position(|a| a == "--n") {
        Some(k) => args
            .get(k + 1)
            .ok_or("--n needs a number")?
            .parse::<usize>()?,
        None => 20_000,
    };
    if !(10..=2_000_000).contains(&n) {
        return Err(format!("--n must lie in 10..=2000000 (4n inequalities), got {n}").into());
    }
    println!(
        "{:<9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>8} {:>9}",
        "instance",
        "n",
        "m",
        "τ rounds",
        "phase 1",
        "phase 2",
        "|∇φ|∞",
        "min slack",
        "Dikin",
        "factor",
        "time"
    );
    let (small, inner_small, outer_small) = polygon(&dir)?;
    report("polygon", &Polytope::polygon(9, 7), &small, inner_small);
    let p = Polytope::banded(n, 11);
    let c = centre(&p, false)?;
    // Dikin check on 200 sampled rows.
    let mut rng = Rng::new(3);
    let rows: Vec<usize> = (0..200).map(|_| rng.below(p.rows.len())).collect();
    let inner = dikin_ratio(&p, &c.x, &rows)?;
    report("banded", &p, &c, inner);
    println!(
        "Dikin: max √(aᵢᵀH⁻¹aᵢ)/dᵢ ≤ 1 means E ⊆ P (polygon: all rows; banded: 200 rows); \
         polygon vertices reach {outer_small:.3} of √(m(m−1))·E (≤ 1: P inside it)"
    );
    Ok(vec![(small, outer_small), (c, inner)])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&support::args())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn smoke() {
        let (dir, args) = super::support::smoke_args("analytic_center", &["--n", "300"]);
        let out = super::run(&args).unwrap();
        for (c, _) in &out {
            assert!(c.min_slack > 0.0, "interior");
            assert!(c.grad_inf <= 1e-8, "stationary");
        }
        assert!(out[0].1 <= 1.0, "P inside the outer ellipse");
        assert!(out[1].1 <= 1.0 + 1e-9, "the Dikin ellipsoid inside P");
        assert_eq!(out[1].0.factorization, "band");
        assert!(dir.path().join("analytic_center.svg").exists());
    }
}
