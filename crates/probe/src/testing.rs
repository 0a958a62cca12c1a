//! The shared correctness harness for colourings and decoders (feature `testing`), after
//! SparseMatrixColorings.jl's `test/utils.jl`: for a pattern and a problem, colour, check
//! the colouring with the independent checkers and a petgraph oracle, build the compressed
//! products of random values on the pattern, decode, and compare with the values — on every
//! method and order the caller loops over. The coloring and probe crates' tests call it
//! instead of each writing its own.
//!
//! ```
//! use sparsediff_coloring::{Method, Order, Problem};
//! use sparsediff_pattern::generators;
//! use sparsediff_probe::testing::check_recovery;
//!
//! let band = generators::band(30, 2, 2)?;
//! for &method in Problem::Symmetric.methods() {
//!     let colors = check_recovery("band", &band, Problem::Symmetric, method, Order::Natural);
//!     assert!(colors >= 3);
//! }
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use faer::MatRef;
use petgraph::algo::is_cyclic_undirected;
use petgraph::graph::UnGraph;
use sparsediff_coloring::{
    Coloring, ColoringParams, Method, NEUTRAL, Order, Problem, check, color,
    column_intersection_graph, lower_bound,
};
use sparsediff_pattern::Pattern;

use crate::{
    DesignError, GivenColoring, MatrixKind, ProbeDesigner, ProbePlan, RandomDesigner,
    SymmetricRandomDesigner,
};

/// Seeded values on the pattern, depending on the unordered pair (so symmetric where the
/// pattern is), never zero.
pub fn values_on(pattern: &Pattern, seed: u64) -> Vec<f64> {
    crate::compare::random_values(pattern, seed, true)
}

/// max |got − exact| / max |exact|.
pub fn rel_error(got: &[f64], exact: &[f64]) -> f64 {
    let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(exact)
        .fold(0.0f64, |m, (g, e)| m.max((g - e).abs()))
        / scale
}

/// The smallest number of probes p, from `from` on, with which `design(p)` recovers seeded
/// random values on `pattern` to 1e-10 relative from exact products (for the least-squares
/// designers, whose probe count is a parameter).
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_probe::{MatrixKind, ProbeDesigner, RandomDesigner};
/// use sparsediff_probe::testing::smallest_working_probes;
///
/// let band = generators::band(50, 1, 1)?;
/// let p = smallest_working_probes(&band, 1, |p| {
///     RandomDesigner::new().probes(p).design(&band, MatrixKind::General)
/// });
/// assert!(p >= 3, "a row of 3 entries needs 3 samples");
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
///
/// Searches on for as long as no p works.
pub fn smallest_working_probes(
    pattern: &Pattern,
    from: usize,
    design: impl Fn(usize) -> Result<ProbePlan, DesignError>,
) -> usize {
    let values = values_on(pattern, 17);
    (from..)
        .find(|&p| {
            design(p).is_ok_and(|plan| {
                let b = plan.exact_products(&values);
                let mut got = vec![0.0; pattern.nnz()];
                plan.decode(b.as_ref(), &mut got).is_ok() && rel_error(&got, &values) <= 1e-10
            })
        })
        .expect("some probe count works")
}

/// Probe counts of the two least-squares designers on a symmetric pattern, each as
/// (default, smallest working): see [`least_squares_counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeastSquaresCounts {
    /// Per-row random probes ([`RandomDesigner`]); the search starts at the densest row.
    pub per_row: (usize, usize),
    /// The symmetric half-sample design ([`SymmetricRandomDesigner`]); the search starts at
    /// its lower bound.
    pub half_sample: (usize, usize),
    /// The half-sample design's lower bound.
    pub half_sample_bound: usize,
}

/// The default and the smallest working probe counts ([`smallest_working_probes`]) of the
/// per-row and the half-sample least-squares designers on the symmetric `pattern`.
///
/// # Panics
/// If a designer refuses the pattern.
pub fn least_squares_counts(pattern: &Pattern) -> LeastSquaresCounts {
    let kind = MatrixKind::Symmetric;
    let per_row = RandomDesigner::new()
        .design(pattern, kind)
        .unwrap_or_else(|e| panic!("per-row random probes: {e}"));
    let half = SymmetricRandomDesigner::new()
        .design(pattern, kind)
        .unwrap_or_else(|e| panic!("half-sample probes: {e}"));
    let row_min = smallest_working_probes(pattern, pattern.row_stats().max, |k| {
        RandomDesigner::new().probes(k).design(pattern, kind)
    });
    let half_min = smallest_working_probes(pattern, half.lower_bound(), |k| {
        SymmetricRandomDesigner::new()
            .probes(k)
            .design(pattern, kind)
    });
    LeastSquaresCounts {
        per_row: (per_row.num_probes(), row_min),
        half_sample: (half.num_probes(), half_min),
        half_sample_bound: half.lower_bound(),
    }
}

/// Checks a plan against `values` (on the plan's pattern): it uses at least its lower
/// bound; its exact products have the announced shape; decoding recovers `values` to
/// `tol` relative; decoding twice gives identical values, and so do row-major products.
/// Returns the decoded values.
///
/// # Panics
/// On any failed check, naming `what`.
#[track_caller]
pub fn check_plan(what: &str, plan: &ProbePlan, values: &[f64], tol: f64) -> Vec<f64> {
    assert!(
        plan.num_probes() >= plan.lower_bound(),
        "{what}: {} probes < lower bound {}",
        plan.num_probes(),
        plan.lower_bound()
    );
    let b = plan.exact_products(values);
    assert_eq!((b.nrows(), b.ncols()), plan.products_shape(), "{what}");
    let mut first = vec![0.0; values.len()];
    plan.decode(b.as_ref(), &mut first)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let err = rel_error(&first, values);
    assert!(err <= tol, "{what}: relative error {err:e} > {tol:e}");
    let mut second = vec![f64::NAN; values.len()];
    plan.decode(b.as_ref(), &mut second)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(first, second, "{what}: decoding twice differs");
    // Row-major products (lanes contiguous) decode to the same values.
    let mut buf = vec![0.0; b.nrows() * b.ncols()];
    for i in 0..b.nrows() {
        for j in 0..b.ncols() {
            buf[i * b.ncols() + j] = b[(i, j)];
        }
    }
    let view = MatRef::from_row_major_slice(&buf, b.nrows(), b.ncols());
    let mut third = vec![0.0; values.len()];
    plan.decode(view, &mut third)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(first, third, "{what}: layout changed the result");
    first
}

/// Colours `p` for `problem` with `method` and `order`, checks the colouring
/// ([`check_coloring`]), then decodes random values on `p` from the products of a plan on
/// exactly that colouring ([`check_plan`], 1e-12 relative; distance-1 colourings recover
/// nothing and are only checked). Returns the number of colours.
///
/// # Panics
/// On any failed check, naming the pattern, problem, method and order.
#[track_caller]
pub fn check_recovery(
    name: &str,
    p: &Pattern,
    problem: Problem,
    method: Method,
    order: Order,
) -> usize {
    let c = check_coloring(name, p, problem, method, order);
    let what = format!("{name}: {problem} {method} {order}");
    let given = match (problem, method) {
        (_, Method::Distance1) => return c.num_colors(),
        (Problem::Row, _) => GivenColoring::rows(c.colors().to_vec()),
        _ => GivenColoring::new(c.colors().to_vec(), method),
    };
    let kind = if problem == Problem::Symmetric {
        MatrixKind::Symmetric
    } else {
        MatrixKind::General
    };
    let plan = given
        .design(p, kind)
        .unwrap_or_else(|e| panic!("{what}: the checked colouring is refused: {e}"));
    assert_eq!(plan.num_probes(), c.num_colors(), "{what}");
    check_plan(&what, &plan, &values_on(p, 7), 1e-12);
    c.num_colors()
}

/// Colours `p` and runs every check on the colouring: the independent checker accepts it;
/// colours are exactly 0..k with no empty class; it uses at least the lower bound; the run
/// is deterministic; a petgraph oracle agrees (patterns up to 20 000 entries); stars and
/// trees match the pattern; neutral-colour post-processing and iterated greedy keep it
/// valid with no more colours. Returns the colouring.
///
/// # Panics
/// On any failed check, naming the pattern, problem, method and order.
#[track_caller]
pub fn check_coloring(
    name: &str,
    p: &Pattern,
    problem: Problem,
    method: Method,
    order: Order,
) -> Coloring {
    let params = ColoringParams::with_order(order);
    let what = format!("{name}: {problem} {method} {order}");
    let c = color(p, problem, method, &params).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(c.problem(), problem);
    assert_eq!(c.method(), method);
    let n = if problem == Problem::Row {
        p.nrows()
    } else {
        p.ncols()
    };
    assert_eq!(c.colors().len(), n, "{what}");
    assert!(
        c.colors().iter().all(|&x| x < c.num_colors()),
        "{what}: colours out of range"
    );
    // Colours are exactly 0..k: no empty class.
    assert!(
        c.groups().iter().all(|g| !g.is_empty()),
        "{what}: an empty colour class"
    );
    c.check(p).unwrap_or_else(|v| panic!("{what}: {v}"));
    let lb = lower_bound(p, problem, method).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        c.num_colors() >= lb,
        "{what}: {} colours below the lower bound {lb}",
        c.num_colors()
    );
    // Deterministic.
    let again = color(p, problem, method, &params).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(again.colors(), c.colors(), "{what}: not deterministic");
    assert_eq!(again.star_set(), c.star_set(), "{what}: not deterministic");
    assert_eq!(again.tree_set(), c.tree_set(), "{what}: not deterministic");
    if p.nnz() <= 20_000 {
        oracle(&what, p, &c);
    }
    // Stars and trees are consistent with the pattern.
    let off_diagonal = p.nnz()
        - (0..p.nrows().min(p.ncols()))
            .filter(|&i| p.contains(i, i))
            .count();
    if let Some(s) = c.star_set() {
        assert_eq!(s.num_edges() * 2, off_diagonal, "{what}");
        for (i, j, h) in s.entries() {
            assert!(p.contains(i, j) && (h == i || h == j), "{what}");
        }
    }
    if let Some(t) = c.tree_set() {
        assert_eq!(t.num_edges() * 2, off_diagonal, "{what}");
        for (l, par) in t.pairs() {
            assert!(p.contains(l, par), "{what}");
            assert_ne!(c.colors()[l], c.colors()[par], "{what}");
        }
    }
    // Post-processing keeps recovery possible and never adds colours.
    if matches!(method, Method::Star | Method::Acyclic) {
        let pp = ColoringParams {
            postprocess: true,
            ..params.clone()
        };
        let q = color(p, problem, method, &pp).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(q.is_postprocessed(), "{what}");
        assert!(q.num_colors() <= c.num_colors(), "{what}");
        q.check(p)
            .unwrap_or_else(|v| panic!("{what} (post-processed): {v}"));
        let independent = if method == Method::Star {
            check::symmetrically_orthogonal(p, q.colors())
        } else {
            check::substitutable(p, q.colors())
        };
        independent.unwrap_or_else(|v| panic!("{what} (post-processed): {v}"));
    }
    // Iterated greedy never adds colours.
    if matches!(method, Method::Cpr | Method::Distance1 | Method::Distance2) {
        let rp = ColoringParams {
            recolor_passes: 3,
            ..params
        };
        let r = color(p, problem, method, &rp).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            r.num_colors() <= c.num_colors(),
            "{what}: recolouring added colours"
        );
        r.check(p)
            .unwrap_or_else(|v| panic!("{what} (recoloured): {v}"));
    }
    c
}

/// The petgraph oracle: no edge of the intersection graph joins two vertices of a colour
/// (CPR, distance 2 by columns); every two colour classes induce a forest (acyclic) of
/// stars (star).
fn oracle(what: &str, p: &Pattern, c: &Coloring) {
    let conflicts = |g: &UnGraph<usize, ()>| {
        for e in g.edge_indices() {
            let (a, b) = g.edge_endpoints(e).expect("an edge of the graph");
            assert_ne!(
                c.colors()[g[a]],
                c.colors()[g[b]],
                "{what}: oracle conflict"
            );
        }
    };
    match (c.problem(), c.method()) {
        (Problem::Column, _) | (Problem::Symmetric, Method::Cpr) => {
            conflicts(&column_intersection_graph(p))
        }
        (Problem::Row, _) => conflicts(&column_intersection_graph(&p.transpose())),
        (_, Method::Star) => {
            two_colored(p, c.colors(), true).unwrap_or_else(|e| panic!("{what}: {e}"))
        }
        (_, Method::Acyclic) => {
            two_colored(p, c.colors(), false).unwrap_or_else(|e| panic!("{what}: {e}"))
        }
        _ => {}
    }
}

/// petgraph oracle for star/acyclic: the subgraph on every two colour classes is a forest
/// (acyclic) whose components are stars (star).
fn two_colored(p: &Pattern, colors: &[usize], stars: bool) -> Result<(), String> {
    let k = colors
        .iter()
        .filter(|&&c| c != NEUTRAL)
        .max()
        .map_or(0, |&c| c + 1);
    for a in 0..k {
        for b in a + 1..k {
            let keep = |c: usize| c == a || c == b;
            let edges: Vec<(usize, usize)> = p
                .iter()
                .filter(|&(i, j)| i < j && keep(colors[i]) && keep(colors[j]))
                .collect();
            let mut g = UnGraph::<(), ()>::new_undirected();
            for _ in 0..p.nrows() {
                g.add_node(());
            }
            for &(i, j) in &edges {
                g.add_edge((i as u32).into(), (j as u32).into(), ());
            }
            if is_cyclic_undirected(&g) {
                return Err(format!("colours {a},{b} induce a cycle"));
            }
            if stars {
                // Every component of a forest is a star iff it has no path on 4 vertices:
                // each edge has an endpoint of degree 1.
                let mut deg = vec![0usize; p.nrows()];
                for &(i, j) in &edges {
                    deg[i] += 1;
                    deg[j] += 1;
                }
                if let Some(&(i, j)) = edges.iter().find(|&&(i, j)| deg[i] > 1 && deg[j] > 1) {
                    return Err(format!(
                        "colours {a},{b}: edge ({i},{j}) is the middle of a two-coloured path"
                    ));
                }
            }
        }
    }
    Ok(())
}
