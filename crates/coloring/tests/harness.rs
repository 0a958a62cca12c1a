//! The shared correctness harness: every (pattern, problem, method, order) of a suite runs
//! through the same checks — the independent checker accepts the colouring, it uses at
//! least the lower bound, the run is deterministic, a petgraph oracle agrees, and the
//! neutral-colour post-processing keeps recovery possible with no more colours.

use petgraph::algo::is_cyclic_undirected;
use petgraph::graph::UnGraph;
use proptest::prelude::*;
use sparsediff_coloring::{
    ColoringError, ColoringParams, Method, NEUTRAL, Order, Problem, check, color,
    column_intersection_graph, lower_bound,
};
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::{Pattern, read_matrix_market};

/// Sparse 5×5 blocks on a block tridiagonal (the shape of a direct-transcription Hessian):
/// irregular rows of 7 to 13 entries.
fn block_chain(blocks: usize) -> Pattern {
    generators::block_band(blocks, 5, 1, 1)
        .unwrap()
        .filter(|i, j| i == j || (i % 5 + j % 5) % 3 != 0)
}

fn data(name: &str) -> Pattern {
    let path = format!("{}/../../data/matrices/{name}", env!("CARGO_MANIFEST_DIR"));
    read_matrix_market(&path)
        .expect("shipped test matrix")
        .into_pattern()
}

/// Small and medium patterns covering every structure the generators make plus shipped files.
fn suite() -> Vec<(String, Pattern)> {
    let mut s = vec![
        (
            "band n=300 b=1".to_string(),
            generators::band(300, 1, 1).unwrap(),
        ),
        (
            "band n=300 b=4".to_string(),
            generators::band(300, 4, 4).unwrap(),
        ),
        (
            "band n=50 l=1 u=3".to_string(),
            generators::band(50, 1, 3).unwrap(),
        ),
        (
            "block band".to_string(),
            generators::block_band(20, 3, 1, 1).unwrap(),
        ),
        (
            "grid 5pt 17x13".to_string(),
            generators::grid2d(17, 13, Stencil2d::FivePoint).unwrap(),
        ),
        (
            "grid 9pt 12x11".to_string(),
            generators::grid2d(12, 11, Stencil2d::NinePoint).unwrap(),
        ),
        (
            "grid3d 6x5x4".to_string(),
            generators::grid3d(6, 5, 4).unwrap(),
        ),
        (
            "arrow 40 w=2".to_string(),
            generators::arrowhead(40, 2).unwrap(),
        ),
        ("block chain 20".to_string(), block_chain(20)),
        (
            "random sym".to_string(),
            generators::random_symmetric(120, 0.05, 11).unwrap(),
        ),
        (
            "random 80x60".to_string(),
            generators::random(80, 60, 0.08, 5).unwrap(),
        ),
        (
            "random 1x40".to_string(),
            generators::random(1, 40, 0.5, 2).unwrap(),
        ),
        (
            "random 40x1".to_string(),
            generators::random(40, 1, 0.5, 2).unwrap(),
        ),
        ("1x1".to_string(), Pattern::identity(1).unwrap()),
    ];
    for f in [
        "bcsstk01.mtx",
        "hess_pat.mtx",
        "hess_pat_small.mtx",
        "jac_pat.mtx",
        "column-compress.mtx",
        "row-compress.mtx",
        "mtx-spear-head.mtx",
    ] {
        s.push((f.to_string(), data(f)));
    }
    s
}

fn orders() -> Vec<Order> {
    let mut o = Order::ALL.to_vec();
    o.push(Order::Random(12345));
    o
}

/// Builds a petgraph graph on `n` vertices from an edge list.
fn graph_of(n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> UnGraph<(), ()> {
    let mut g = UnGraph::<(), ()>::new_undirected();
    for _ in 0..n {
        g.add_node(());
    }
    for (a, b) in edges {
        g.add_edge((a as u32).into(), (b as u32).into(), ());
    }
    g
}

/// petgraph oracle for star/acyclic: the subgraph on every two colour classes is a forest
/// (acyclic) whose components are stars (star).
fn oracle_two_colored(p: &Pattern, colors: &[usize], stars: bool) -> Result<(), String> {
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
            let g = graph_of(p.nrows(), edges.iter().copied());
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

/// Runs one instance through every check; returns the number of colours.
fn run_instance(name: &str, p: &Pattern, problem: Problem, method: Method, order: Order) -> usize {
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
    let groups = c.groups();
    assert!(
        groups.iter().all(|g| !g.is_empty()),
        "{what}: an empty colour class"
    );
    c.check(p).unwrap_or_else(|v| panic!("{what}: {v}"));
    let lb = lower_bound(p, problem, method).unwrap();
    assert!(
        c.num_colors() >= lb,
        "{what}: {} colours below the lower bound {lb}",
        c.num_colors()
    );
    // Deterministic.
    let again = color(p, problem, method, &params).unwrap();
    assert_eq!(again.colors(), c.colors(), "{what}: not deterministic");
    assert_eq!(again.star_set(), c.star_set(), "{what}: not deterministic");
    assert_eq!(again.tree_set(), c.tree_set(), "{what}: not deterministic");
    // petgraph oracles.
    if p.nnz() <= 20_000 {
        match (problem, method) {
            (Problem::Column, _) | (Problem::Symmetric, Method::Cpr) => {
                let g = column_intersection_graph(p);
                for e in g.edge_indices() {
                    let (a, b) = g.edge_endpoints(e).unwrap();
                    assert_ne!(
                        c.colors()[g[a]],
                        c.colors()[g[b]],
                        "{what}: oracle conflict"
                    );
                }
            }
            (Problem::Row, _) => {
                let g = column_intersection_graph(&p.transpose());
                for e in g.edge_indices() {
                    let (a, b) = g.edge_endpoints(e).unwrap();
                    assert_ne!(
                        c.colors()[g[a]],
                        c.colors()[g[b]],
                        "{what}: oracle conflict"
                    );
                }
            }
            (_, Method::Star) => {
                oracle_two_colored(p, c.colors(), true).unwrap_or_else(|e| panic!("{what}: {e}"))
            }
            (_, Method::Acyclic) => {
                oracle_two_colored(p, c.colors(), false).unwrap_or_else(|e| panic!("{what}: {e}"))
            }
            _ => {}
        }
    }
    // Stars and trees are consistent with the pattern.
    if let Some(s) = c.star_set() {
        let off_diagonal = p.nnz() - (0..p.nrows()).filter(|&i| p.contains(i, i)).count();
        assert_eq!(s.num_edges() * 2, off_diagonal, "{what}");
        for (i, j, h) in s.entries() {
            assert!(p.contains(i, j) && (h == i || h == j), "{what}");
        }
    }
    if let Some(t) = c.tree_set() {
        let off_diagonal = p.nnz() - (0..p.nrows()).filter(|&i| p.contains(i, i)).count();
        assert_eq!(t.num_edges() * 2, off_diagonal, "{what}");
        for (l, par) in t.pairs() {
            assert!(p.contains(l, par), "{what}");
            assert_ne!(c.colors()[l], c.colors()[par]);
        }
    }
    // Post-processing keeps recovery possible and never adds colours.
    if matches!(method, Method::Star | Method::Acyclic) {
        let pp = ColoringParams {
            postprocess: true,
            ..params.clone()
        };
        let q = color(p, problem, method, &pp).unwrap();
        assert!(q.is_postprocessed());
        assert!(q.num_colors() <= c.num_colors(), "{what}");
        q.check(p)
            .unwrap_or_else(|v| panic!("{what} (post-processed): {v}"));
        if method == Method::Star {
            check::symmetrically_orthogonal(p, q.colors()).unwrap();
        } else {
            check::substitutable(p, q.colors()).unwrap();
        }
    }
    // Iterated greedy never adds colours.
    if matches!(method, Method::Cpr | Method::Distance1 | Method::Distance2) {
        let rp = ColoringParams {
            recolor_passes: 3,
            ..params
        };
        let r = color(p, problem, method, &rp).unwrap();
        assert!(
            r.num_colors() <= c.num_colors(),
            "{what}: recolouring added colours"
        );
        r.check(p)
            .unwrap_or_else(|v| panic!("{what} (recoloured): {v}"));
    }
    c.num_colors()
}

fn problems_for(p: &Pattern) -> Vec<(Problem, Method)> {
    let mut v = vec![(Problem::Column, Method::Cpr), (Problem::Row, Method::Cpr)];
    if p.is_symmetric() {
        for &m in Problem::Symmetric.methods() {
            v.push((Problem::Symmetric, m));
        }
    }
    v
}

#[test]
fn suite_passes_every_check() {
    for (name, p) in suite() {
        for (problem, method) in problems_for(&p) {
            for order in orders() {
                run_instance(&name, &p, problem, method, order);
            }
        }
    }
}

#[test]
fn best_keeps_the_fewest_colours() {
    for (name, p) in suite() {
        for (problem, method) in problems_for(&p) {
            let best = color(
                &p,
                problem,
                method,
                &ColoringParams::with_order(sparsediff_coloring::OrderChoice::best()),
            )
            .unwrap();
            let min = best.tried().iter().filter_map(|t| t.colors).min().unwrap();
            assert_eq!(best.num_colors(), min, "{name} {problem} {method}");
            assert_eq!(best.tried().len(), Order::ALL.len());
            let winner = best
                .tried()
                .iter()
                .find(|t| t.colors == Some(min))
                .unwrap()
                .order;
            assert_eq!(
                best.order(),
                winner,
                "first order with the fewest colours wins"
            );
            best.check(&p).unwrap();
        }
    }
}

/// An independent checker from `sparsediff_coloring::check`.
type Checker = fn(&Pattern, &[usize]) -> Result<(), check::Violation>;

/// Smallest number of colours satisfying `valid` (exhaustive; tiny n only).
fn brute_force_optimum(n: usize, valid: impl Fn(&[usize]) -> bool) -> usize {
    for k in 1..=n {
        let mut colors = vec![0usize; n];
        loop {
            if valid(&colors) {
                return k;
            }
            // Next colouring in base k (colour 0 fixed for vertex 0 by symmetry).
            let mut i = n - 1;
            loop {
                if i == 0 {
                    break;
                }
                colors[i] += 1;
                if colors[i] < k {
                    break;
                }
                colors[i] = 0;
                i -= 1;
            }
            if i == 0 {
                break;
            }
        }
    }
    n
}

/// Random square symmetric patterns with full diagonal, for the brute-force test.
fn tiny_symmetric() -> impl Strategy<Value = Pattern> {
    (2usize..=6)
        .prop_flat_map(|n| {
            (
                Just(n),
                proptest::collection::vec(any::<bool>(), n * (n - 1) / 2),
            )
        })
        .prop_map(|(n, bits)| {
            let mut e: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
            let mut k = 0;
            for i in 0..n {
                for j in 0..i {
                    if bits[k] {
                        e.push((i, j));
                        e.push((j, i));
                    }
                    k += 1;
                }
            }
            Pattern::from_entries(n, n, e).unwrap()
        })
}

/// Random patterns with special shapes: 1×n, n×1, empty rows, dense rows and columns.
fn general_pattern() -> impl Strategy<Value = Pattern> {
    let shape = prop_oneof![
        (1usize..=1, 1usize..=30),
        (1usize..=30, 1usize..=1),
        (1usize..=25, 1usize..=25),
    ];
    (
        shape,
        0.0f64..0.6,
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|((m, n), density, seed, dense_row, dense_col)| {
            let mut p = generators::random(m, n, density, seed).unwrap();
            let mut extra = Vec::new();
            if dense_row {
                extra.extend((0..n).map(|j| (seed as usize % m, j)));
            }
            if dense_col {
                extra.extend((0..m).map(|i| (i, seed as usize % n)));
            }
            if p.nnz() == 0 && extra.is_empty() {
                extra.push((0, 0));
            }
            p = p
                .union(&Pattern::from_entries(m, n, extra).unwrap())
                .unwrap();
            p
        })
}

fn symmetric_pattern() -> impl Strategy<Value = Pattern> {
    (
        1usize..=30,
        0.0f64..0.5,
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(n, density, seed, drop_diag, dense)| {
            let mut p = generators::random_symmetric(n, density, seed).unwrap();
            if dense {
                let v = seed as usize % n;
                let star =
                    Pattern::from_entries(n, n, (0..n).flat_map(|w| [(v, w), (w, v)])).unwrap();
                p = p.union(&star).unwrap();
            }
            if drop_diag && p.without_diagonal().nnz() > 0 {
                p = p.without_diagonal();
            }
            p
        })
}

/// `default_cases` cases, unless `PROPTEST_CASES` is set: then proptest's own reading of it.
fn config(default_cases: u32) -> ProptestConfig {
    let from_env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            default_cases
        },
        ..from_env
    }
}

/// The proptest blocks run `PROPTEST_CASES` cases when it is set: checked in a child process
/// (this test binary, running only this test) with `PROPTEST_CASES=3`.
#[test]
fn proptest_cases_come_from_the_environment() {
    match std::env::var("PROPTEST_CASES") {
        Ok(v) => assert_eq!(config(96).cases.to_string(), v),
        Err(_) => {
            assert_eq!(config(96).cases, 96);
            let child = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "proptest_cases_come_from_the_environment"])
                .env("PROPTEST_CASES", "3")
                .output()
                .unwrap();
            assert!(child.status.success(), "{child:?}");
            // The filter matched this test (an empty run would pass too).
            assert!(String::from_utf8_lossy(&child.stdout).contains("1 passed"));
        }
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn random_general_patterns(p in general_pattern()) {
        for problem in [Problem::Column, Problem::Row] {
            for order in orders() {
                run_instance("proptest", &p, problem, Method::Cpr, order);
            }
        }
    }

    #[test]
    fn random_symmetric_patterns(p in symmetric_pattern()) {
        for &method in Problem::Symmetric.methods() {
            for order in orders() {
                run_instance("proptest", &p, Problem::Symmetric, method, order);
            }
        }
    }

    /// The one-pass symmetry check agrees with comparing against the transpose, and names
    /// an entry whose mirror is missing.
    #[test]
    fn symmetry_check_agrees_with_transpose(p in general_pattern(), q in symmetric_pattern()) {
        for p in [p, q] {
            match sparsediff_coloring::check_symmetric(&p, Method::Star) {
                Ok(()) => prop_assert!(p.is_symmetric()),
                Err(ColoringError::NotSymmetric { row, col, .. }) => {
                    prop_assert!(!p.is_symmetric());
                    prop_assert!(p.contains(row, col) && !p.contains(col, row), "({}, {})", row, col);
                }
                Err(ColoringError::NotSquare { .. }) => prop_assert!(!p.is_square()),
                Err(e) => prop_assert!(false, "{}", e),
            }
        }
    }

    /// Lower bounds never exceed the true optimum, which never exceeds what we find.
    #[test]
    fn bounds_bracket_the_optimum(p in tiny_symmetric()) {
        let n = p.nrows();
        let checks: [(Method, Checker); 4] = [
            (Method::Distance1, check::distance1),
            (Method::Distance2, check::distance2),
            (Method::Star, check::star),
            (Method::Acyclic, check::acyclic),
        ];
        for (method, valid) in checks {
            let opt = brute_force_optimum(n, |c| valid(&p, c).is_ok());
            let lb = lower_bound(&p, Problem::Symmetric, method).unwrap();
            let found = color(&p, Problem::Symmetric, method, &ColoringParams::with_order(sparsediff_coloring::OrderChoice::best())).unwrap();
            prop_assert!(lb <= opt, "{method}: bound {lb} > optimum {opt} on {p:?}");
            prop_assert!(opt <= found.num_colors(), "{method}: found {} < optimum {opt}?", found.num_colors());
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let params = ColoringParams::default();
    let empty_dim = Pattern::empty(0, 5).unwrap();
    assert!(matches!(
        color(&empty_dim, Problem::Column, Method::Cpr, &params),
        Err(ColoringError::EmptyDimension { nrows: 0, ncols: 5 })
    ));
    let zero = Pattern::empty(0, 0).unwrap();
    assert!(matches!(
        color(&zero, Problem::Symmetric, Method::Star, &params),
        Err(ColoringError::EmptyDimension { .. })
    ));
    let no_entries = Pattern::empty(3, 3).unwrap();
    assert!(matches!(
        color(&no_entries, Problem::Symmetric, Method::Star, &params),
        Err(ColoringError::NoEntries { .. })
    ));
    let rect = generators::random(3, 4, 0.5, 1).unwrap();
    assert!(matches!(
        color(&rect, Problem::Symmetric, Method::Star, &params),
        Err(ColoringError::NotSquare { .. })
    ));
    let asym = Pattern::from_entries(3, 3, [(0, 0), (1, 0), (2, 2)]).unwrap();
    for m in Problem::Symmetric.methods() {
        assert!(
            matches!(
                color(&asym, Problem::Symmetric, *m, &params),
                Err(ColoringError::NotSymmetric { row: 1, col: 0, .. })
            ),
            "{m}"
        );
    }
    assert!(matches!(
        color(&asym, Problem::Column, Method::Star, &params),
        Err(ColoringError::MethodNotApplicable { .. })
    ));
    let no_orders = ColoringParams::with_order(sparsediff_coloring::OrderChoice::Best(vec![]));
    assert!(matches!(
        color(&asym, Problem::Column, Method::Cpr, &no_orders),
        Err(ColoringError::NoOrders)
    ));
    assert!(lower_bound(&no_entries, Problem::Column, Method::Cpr).is_err());
    // Errors read well.
    let msg = color(&asym, Problem::Symmetric, Method::Star, &params)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("(1, 0)") && msg.contains("symmetr"), "{msg}");
}

#[test]
fn orders_stop_once_one_reaches_stop_at() {
    let band = sparsediff_pattern::generators::band(500, 3, 3).unwrap();
    let bound = lower_bound(&band, Problem::Symmetric, Method::Acyclic).unwrap();
    let all = ColoringParams::with_order(sparsediff_coloring::OrderChoice::best());
    let every = color(&band, Problem::Symmetric, Method::Acyclic, &all).unwrap();
    assert!(every.tried().len() > 1);
    // natural order is optimal on a band: with the bound as target nothing else is tried
    let stopping = ColoringParams {
        stop_at: Some(bound),
        ..all.clone()
    };
    let early = color(&band, Problem::Symmetric, Method::Acyclic, &stopping).unwrap();
    assert_eq!(early.tried().len(), 1);
    assert_eq!(early.num_colors(), bound);
    assert_eq!(early.colors(), every.colors());
    // a target below what any order reaches changes nothing
    let unreachable = ColoringParams {
        stop_at: Some(1),
        ..all
    };
    let full = color(&band, Problem::Symmetric, Method::Acyclic, &unreachable).unwrap();
    assert_eq!(full.tried().len(), every.tried().len());
}
