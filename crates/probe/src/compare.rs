//! Side-by-side comparison of every designer that applies to a pattern: probes, lower
//! bound, decoding error on a seeded random matrix, design and decode time. This is what
//! `sparsediff compare` prints and what `papers/probe-strategies.md` tabulates.

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};
use sparsediff_pattern::Pattern;

use crate::bidirectional::BidirectionalDesigner;
use crate::design::{
    ColoredDesigner, Decompression, Geometry, IdentityDesigner, RandomDesigner, RollDesigner,
    StencilDesigner, SymmetricRandomDesigner,
};
use crate::plan::{MatrixKind, ProbeDesigner};

/// Options of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Standard deviation of Gaussian noise added to every product (0: exact products).
    pub noise: f64,
    /// Seed of the matrix values, the noise and random probes.
    pub seed: u64,
    /// Geometry of the pattern, for the closed-form stencil designs (none: skipped).
    pub geometry: Option<Geometry>,
    /// Decodes timed per designer (the fastest is reported).
    pub decode_repeats: usize,
    /// Extra probes of the random designers beyond what a row (or the global system)
    /// needs: with noise, more oversampling averages it down.
    pub oversampling: Option<usize>,
    /// Designs whose products matrix (rows × probes) would have more entries than this
    /// are designed but not run (the identity on large patterns, the roll on wide bands).
    pub max_product_entries: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            noise: 0.0,
            seed: 0,
            geometry: None,
            decode_repeats: 5,
            oversampling: None,
            max_product_entries: 50_000_000,
        }
    }
}

/// What one designer reached.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignerOutcome {
    /// Designer name (`identity`, `roll`, `stencil-direct`, ...).
    pub designer: &'static str,
    /// Probes, or `None` if skipped or failed.
    pub probes: Option<usize>,
    /// Lower bound on the probes of that family.
    pub lower_bound: Option<usize>,
    /// max_k |â_k − a_k| / max_k |a_k| over the pattern's entries.
    pub max_rel_error: Option<f64>,
    /// Time to design the plan (colouring, factorisations), seconds.
    pub design_seconds: f64,
    /// Time of one decode (fastest of the repeats), seconds.
    pub decode_seconds: f64,
    /// Why the designer did not run (not applicable, too large), if it did not.
    pub note: Option<String>,
}

/// Seeded values on `pattern`: symmetric when `symmetric` (the value of (i, j) depends on
/// the unordered pair), diagonal in [4, 5), off-diagonal in ±[0.01, 0.51), never zero. The
/// same seed gives the same values on every platform.
pub fn random_values(pattern: &Pattern, seed: u64, symmetric: bool) -> Vec<f64> {
    pattern
        .iter()
        .map(|(i, j)| {
            let (a, b) = if symmetric {
                (i.min(j), i.max(j))
            } else {
                (i, j)
            };
            let u = unit(splitmix(
                splitmix(seed ^ a as u64) ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ));
            if i == j {
                4.0 + u
            } else {
                (u - 0.5) + 0.01f64.copysign(u - 0.5)
            }
        })
        .collect()
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// max_k |got_k − exact_k| / max_k |exact_k|.
pub fn max_rel_error(got: &[f64], exact: &[f64]) -> f64 {
    let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(exact)
        .fold(0.0f64, |m, (g, e)| m.max((g - e).abs()));
    if scale > 0.0 { err / scale } else { err }
}

/// The designers that `compare` runs, in table order (those that do not apply to a pattern
/// report why).
pub fn designers(opts: &CompareOptions) -> Vec<Box<dyn ProbeDesigner>> {
    let mut d: Vec<Box<dyn ProbeDesigner>> =
        vec![Box::new(IdentityDesigner), Box::new(RollDesigner)];
    if let Some(g) = opts.geometry {
        d.push(Box::new(StencilDesigner::new(g, Decompression::Direct)));
        d.push(Box::new(StencilDesigner::new(
            g,
            Decompression::Substitution,
        )));
    }
    d.push(Box::new(ColoredDesigner::cpr()));
    d.push(Box::new(ColoredDesigner::cpr_rows()));
    d.push(Box::new(ColoredDesigner::star()));
    d.push(Box::new(ColoredDesigner::acyclic()));
    let mut random = RandomDesigner::new().seed(opts.seed);
    let mut half = SymmetricRandomDesigner::new().seed(opts.seed);
    if let Some(o) = opts.oversampling {
        random = random.oversampling(o);
        half = half.oversampling(o);
    }
    d.push(Box::new(random));
    d.push(Box::new(half));
    d
}

/// The bidirectional designers that `compare` runs after [`designers`]
/// (`bidirectional-star`, `bidirectional-acyclic`): their plans have two product blocks,
/// so they are not [`ProbeDesigner`]s.
pub fn bidirectional_designers() -> Vec<BidirectionalDesigner> {
    vec![
        BidirectionalDesigner::star(),
        BidirectionalDesigner::acyclic(),
    ]
}

/// Runs every designer on `pattern` with seeded random values; `progress` is called with
/// each designer's name before it runs. A bidirectional designer's probes are its JVPs plus
/// its VJPs.
pub fn compare(
    pattern: &Pattern,
    opts: &CompareOptions,
    mut progress: impl FnMut(&str),
) -> Vec<DesignerOutcome> {
    let kind = if pattern.is_symmetric() {
        MatrixKind::Symmetric
    } else {
        MatrixKind::General
    };
    let values = random_values(pattern, opts.seed, kind == MatrixKind::Symmetric);
    let mut out: Vec<DesignerOutcome> = designers(opts)
        .iter()
        .map(|d| {
            progress(d.name());
            run_one(d.as_ref(), pattern, kind, &values, opts)
        })
        .collect();
    for d in bidirectional_designers() {
        progress(d.name());
        out.push(run_bidirectional(&d, pattern, &values, opts));
    }
    out
}

fn run_bidirectional(
    d: &BidirectionalDesigner,
    pattern: &Pattern,
    values: &[f64],
    opts: &CompareOptions,
) -> DesignerOutcome {
    let mut out = DesignerOutcome {
        designer: d.name(),
        probes: None,
        lower_bound: d.lower_bound(pattern),
        max_rel_error: None,
        design_seconds: 0.0,
        decode_seconds: 0.0,
        note: None,
    };
    let start = Instant::now();
    let plan = d.design(pattern);
    out.design_seconds = start.elapsed().as_secs_f64();
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            out.note = Some(e.to_string());
            return out;
        }
    };
    out.probes = Some(plan.num_probes());
    let ((m, pc), (n, pr)) = (plan.column_products_shape(), plan.row_products_shape());
    if m.saturating_mul(pc).saturating_add(n.saturating_mul(pr)) > opts.max_product_entries {
        out.note = Some(format!(
            "not run: the products would be {m}×{pc} and {n}×{pr}"
        ));
        return out;
    }
    let (mut b, mut c) = plan.exact_products(values);
    if opts.noise > 0.0 {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x0062_6964_6972);
        for x in [&mut b, &mut c] {
            for j in 0..x.ncols() {
                for i in 0..x.nrows() {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    x[(i, j)] += opts.noise * z;
                }
            }
        }
    }
    let mut got = vec![0.0; pattern.nnz()];
    let mut best = f64::INFINITY;
    for _ in 0..opts.decode_repeats.max(1) {
        let start = Instant::now();
        let r = plan.decode(b.as_ref(), c.as_ref(), &mut got);
        best = best.min(start.elapsed().as_secs_f64());
        if let Err(e) = r {
            out.note = Some(e.to_string());
            return out;
        }
    }
    out.decode_seconds = best;
    out.max_rel_error = Some(max_rel_error(&got, values));
    out
}

fn run_one(
    d: &dyn ProbeDesigner,
    pattern: &Pattern,
    kind: MatrixKind,
    values: &[f64],
    opts: &CompareOptions,
) -> DesignerOutcome {
    let mut out = DesignerOutcome {
        designer: d.name(),
        probes: None,
        lower_bound: None,
        max_rel_error: None,
        design_seconds: 0.0,
        decode_seconds: 0.0,
        note: None,
    };
    // A designer whose own bound already makes the products too large is not designed
    // (a random design for a dense row costs an n×n least-squares solve per row; CPR on
    // an arrowhead an O(n²) colouring). Rows of the products: at least min(m, n).
    let rows = pattern.nrows().min(pattern.ncols());
    if let Some(bound) = d.lower_bound(pattern, kind)
        && rows.saturating_mul(bound) > opts.max_product_entries
    {
        out.lower_bound = Some(bound);
        out.note = Some(format!(
            "not run: at least {bound} probes, the products would be at least {rows}×{bound}"
        ));
        return out;
    }
    let start = Instant::now();
    let plan = d.design(pattern, kind);
    out.design_seconds = start.elapsed().as_secs_f64();
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            out.note = Some(e.to_string());
            return out;
        }
    };
    out.probes = Some(plan.num_probes());
    out.lower_bound = Some(plan.lower_bound());
    let (rows, probes) = plan.products_shape();
    if rows.saturating_mul(probes) > opts.max_product_entries {
        out.note = Some(format!("not run: the products would be {rows}×{probes}"));
        return out;
    }
    let mut b = plan.exact_products(values);
    if opts.noise > 0.0 {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x006E_6F69_7365);
        for j in 0..b.ncols() {
            for i in 0..b.nrows() {
                let z: f64 = StandardNormal.sample(&mut rng);
                b[(i, j)] += opts.noise * z;
            }
        }
    }
    let mut got = vec![0.0; pattern.nnz()];
    let mut best = f64::INFINITY;
    for _ in 0..opts.decode_repeats.max(1) {
        let start = Instant::now();
        let r = plan.decode(b.as_ref(), &mut got);
        best = best.min(start.elapsed().as_secs_f64());
        if let Err(e) = r {
            out.note = Some(e.to_string());
            return out;
        }
    }
    out.decode_seconds = best;
    out.max_rel_error = Some(max_rel_error(&got, values));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparsediff_pattern::generators;

    #[test]
    fn values_are_symmetric_and_seeded() {
        let p = generators::band(20, 2, 2).unwrap();
        let v = random_values(&p, 3, true);
        for (k, (i, j)) in p.iter().enumerate() {
            assert_eq!(v[k], v[p.position(j, i).unwrap()]);
            assert!(v[k].abs() >= 0.01);
        }
        assert_eq!(v, random_values(&p, 3, true));
        assert_ne!(v, random_values(&p, 4, true));
    }

    #[test]
    fn compare_reports_every_designer() {
        let p = generators::band(300, 2, 2).unwrap();
        let opts = CompareOptions {
            geometry: Some(Geometry::Band { beta: None }),
            ..CompareOptions::default()
        };
        let mut seen = Vec::new();
        let r = compare(&p, &opts, |name| seen.push(name.to_string()));
        assert_eq!(seen.len(), r.len());
        let probes = |name: &str| r.iter().find(|o| o.designer == name).and_then(|o| o.probes);
        assert_eq!(probes("identity"), Some(300));
        assert_eq!(probes("roll"), Some(5));
        assert_eq!(probes("stencil-direct"), Some(5));
        assert_eq!(probes("stencil-substitution"), Some(3));
        assert_eq!(probes("acyclic"), Some(3));
        assert_eq!(probes("cpr-row"), Some(5));
        assert!(probes("bidirectional-star").unwrap() <= 5);
        assert!(probes("bidirectional-acyclic").unwrap() <= 5);
        for o in &r {
            assert!(o.max_rel_error.unwrap() <= 1e-12, "{o:?}");
        }
        // Noise shows up in the error.
        let noisy = compare(
            &p,
            &CompareOptions {
                noise: 1e-3,
                ..opts
            },
            |_| {},
        );
        assert!(noisy.iter().all(|o| o.max_rel_error.unwrap() > 1e-6));
    }

    #[test]
    fn designers_bound_above_the_limit_are_not_designed() {
        // An arrowhead: the dense row needs n column colours and n + 2 random probes. With
        // a limit below n², CPR and random are refused from their bounds (no colouring, no
        // n×n least squares), star still runs (2 colours).
        let n = 400;
        let p = generators::arrowhead(n, 1).unwrap();
        let opts = CompareOptions {
            max_product_entries: n * n - 1,
            ..CompareOptions::default()
        };
        let r = compare(&p, &opts, |_| {});
        let get = |name: &str| r.iter().find(|o| o.designer == name).unwrap();
        for (name, bound) in [("cpr", n), ("random", n + 2)] {
            let o = get(name);
            assert_eq!((o.probes, o.lower_bound), (None, Some(bound)), "{o:?}");
            assert_eq!(o.design_seconds, 0.0);
            assert!(o.note.as_deref().unwrap().starts_with("not run: at least"));
        }
        assert_eq!(get("star").probes, Some(2));
        assert_eq!(get("bidirectional-star").probes, Some(3));
        assert!(get("bidirectional-star").max_rel_error.unwrap() <= 1e-12);
        assert!(get("star").max_rel_error.unwrap() <= 1e-12);
    }
}
