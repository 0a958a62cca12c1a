//! Every (pattern, problem, method, order) of a suite and of random patterns runs through
//! the shared correctness harness (`sparsediff_probe::testing::check_recovery`): the
//! independent checker accepts the colouring, it uses at least the lower bound, the run is
//! deterministic, a petgraph oracle agrees, the neutral-colour post-processing keeps
//! recovery possible with no more colours, and random values decode from the products of
//! a plan on that colouring.

use proptest::prelude::*;
use sparsediff_coloring::{
    ColoringError, ColoringParams, Method, Order, Problem, check, color, lower_bound,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::{
    self, Diagonal, block_chain, patterns, shipped as data, symmetric_patterns,
    uniform_symmetric_patterns,
};
use sparsediff_probe::testing::check_recovery;

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
                check_recovery(&name, &p, problem, method, order);
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

/// The proptest blocks run `PROPTEST_CASES` cases when it is set.
#[test]
fn proptest_cases_come_from_the_environment() {
    testing::assert_cases_come_from_the_environment("proptest_cases_come_from_the_environment", 96);
}

proptest! {
    #![proptest_config(testing::config(96))]

    #[test]
    fn random_general_patterns(p in patterns(1..=30)) {
        for problem in [Problem::Column, Problem::Row] {
            for order in orders() {
                check_recovery("proptest", &p, problem, Method::Cpr, order);
            }
        }
    }

    #[test]
    fn random_symmetric_patterns(p in symmetric_patterns(1..=30, Diagonal::Either)) {
        for &method in Problem::Symmetric.methods() {
            for order in orders() {
                check_recovery("proptest", &p, Problem::Symmetric, method, order);
            }
        }
    }

    /// The one-pass symmetry check agrees with comparing against the transpose, and names
    /// an entry whose mirror is missing.
    #[test]
    fn symmetry_check_agrees_with_transpose(p in patterns(1..=30), q in symmetric_patterns(1..=30, Diagonal::Either)) {
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
    fn bounds_bracket_the_optimum(p in uniform_symmetric_patterns(2..=6)) {
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
