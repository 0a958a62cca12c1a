//! Bidirectional colourings: valid by the independent checkers, never worse than the better
//! one-sided CPR colouring, ≤ 3 products on the arrowhead, named errors on bad requests.

use proptest::prelude::*;
use sparsediff_coloring::{
    BiRecovery, BiStrategy, ColoringError, ColoringParams, Method, NEUTRAL, Order, OrderChoice,
    Problem, check, color, color_bidirectional, lower_bound,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::{self, patterns, shipped};

const SHIPPED: [&str; 9] = [
    "bcsstk01.mtx",
    "hess_pat.mtx",
    "hess_pat_small.mtx",
    "jac_pat.mtx",
    "column-compress.mtx",
    "row-compress.mtx",
    "mtx-spear-head.mtx",
    "cartpole_LA_hessian_N100.mtx",
    "lp_ken_11.mtx",
];

/// Every check of one bicolouring; returns (column colours, row colours).
fn check_bicoloring(what: &str, p: &Pattern, method: Method, params: &ColoringParams) -> usize {
    let b = color_bidirectional(p, method, params).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(b.method(), method);
    assert_eq!(b.column_colors().len(), p.ncols(), "{what}");
    assert_eq!(b.row_colors().len(), p.nrows(), "{what}");
    // Colours are exactly 0..k on each side: no empty class.
    for (colors, k) in [
        (b.column_colors(), b.num_column_colors()),
        (b.row_colors(), b.num_row_colors()),
    ] {
        let mut seen = vec![false; k];
        for &c in colors {
            if c != NEUTRAL {
                assert!(c < k, "{what}: colour {c} out of 0..{k}");
                seen[c] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "{what}: an empty colour class");
    }
    // Independent checkers: direct for star; substitution for both.
    if method == Method::Star {
        check::bidirectional_direct(p, b.column_colors(), b.row_colors())
            .unwrap_or_else(|v| panic!("{what}: {v}"));
    }
    check::bidirectional_substitutable(p, b.column_colors(), b.row_colors())
        .unwrap_or_else(|v| panic!("{what}: {v}"));
    b.check(p).unwrap_or_else(|v| panic!("{what}: {v}"));
    // The recovery covers every entry once and reads only the colours counted.
    let r = b.recovery();
    assert_eq!(r.len(), p.nnz(), "{what}");
    let mut once = vec![false; p.nnz()];
    for (k, _, _) in r.steps() {
        assert!(!once[k], "{what}: entry {k} recovered twice");
        once[k] = true;
    }
    assert_eq!(
        (r.num_column_colors(), r.num_row_colors()),
        (b.num_column_colors(), b.num_row_colors()),
        "{what}: a colour no entry is read from"
    );
    if method == Method::Star {
        assert!(r.is_direct(), "{what}");
    }
    // Never below the lower bound, never above the better one-sided colouring.
    let lb = lower_bound(p, Problem::Bidirectional, method).unwrap();
    assert!(b.num_colors() >= lb, "{what}: below the lower bound {lb}");
    let one_sided = [Problem::Column, Problem::Row]
        .map(|pr| color(p, pr, Method::Cpr, params).unwrap().num_colors());
    assert!(
        b.num_colors() <= one_sided[0].min(one_sided[1]),
        "{what}: {} products, one-sided CPR {one_sided:?}",
        b.num_colors()
    );
    // Deterministic, and the same through `color`.
    let again = color(p, Problem::Bidirectional, method, params).unwrap();
    assert_eq!(again.num_colors(), b.num_colors(), "{what}");
    assert_eq!(
        again.colors(),
        b.joint_colors(),
        "{what}: not deterministic"
    );
    again.check(p).unwrap_or_else(|v| panic!("{what}: {v}"));
    b.num_colors()
}

#[test]
fn arrowhead_needs_three_products() {
    for n in [100, 1000] {
        let p = generators::arrowhead(n, 1).unwrap();
        let params = ColoringParams::default();
        for problem in [Problem::Column, Problem::Row] {
            assert_eq!(
                color(&p, problem, Method::Cpr, &params)
                    .unwrap()
                    .num_colors(),
                n
            );
        }
        for method in [Method::Star, Method::Acyclic] {
            let k = check_bicoloring(&format!("arrow {n} {method}"), &p, method, &params);
            assert!(k <= 3, "arrow {n} {method}: {k} products");
        }
        // Also a non-square arrow: a dense first row and column on a 2n×n band.
        let mut entries: Vec<(usize, usize)> = (0..n).map(|j| (0, j)).collect();
        entries.extend((0..2 * n).map(|i| (i, 0)));
        entries.extend((0..n).map(|i| (2 * i + 1, i)));
        let q = Pattern::from_entries(2 * n, n, entries).unwrap();
        for method in [Method::Star, Method::Acyclic] {
            let k = check_bicoloring(&format!("tall arrow {n} {method}"), &q, method, &params);
            assert!(k <= 3, "tall arrow {n} {method}: {k} products");
        }
    }
}

#[test]
fn dense_row_takes_two_or_three_products() {
    // F₀ = Σx, Fᵢ = xᵢ³: a dense first row over the diagonal.
    let n = 300;
    let entries = (0..n).map(|j| (0, j)).chain((1..n).map(|i| (i, i)));
    let p = Pattern::from_entries(n, n, entries).unwrap();
    let k = check_bicoloring("dense row", &p, Method::Star, &ColoringParams::default());
    assert!(k <= 2, "{k}");
}

#[test]
fn shipped_and_generated_matrices() {
    let mut suite: Vec<(String, Pattern)> = SHIPPED
        .iter()
        .map(|f| (f.to_string(), shipped(f)))
        .collect();
    suite.extend([
        (
            "band 300 b=2".to_string(),
            generators::band(300, 2, 2).unwrap(),
        ),
        (
            "band 50 l=1 u=3".to_string(),
            generators::band(50, 1, 3).unwrap(),
        ),
        (
            "grid 5pt 17x13".to_string(),
            generators::grid2d(17, 13, Stencil2d::FivePoint).unwrap(),
        ),
        (
            "arrow 40 w=2".to_string(),
            generators::arrowhead(40, 2).unwrap(),
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
    ]);
    for (name, p) in &suite {
        let small = p.nnz() <= 20_000;
        let orders: Vec<OrderChoice> = if small {
            vec![
                OrderChoice::Single(Order::Natural),
                OrderChoice::Single(Order::SmallestLast),
                OrderChoice::best(),
            ]
        } else {
            vec![OrderChoice::Single(Order::Natural)]
        };
        for order in orders {
            let params = ColoringParams::with_order(order.clone());
            for method in [Method::Star, Method::Acyclic] {
                let what = format!("{name} {method} {order:?}");
                check_bicoloring(&what, p, method, &params);
            }
        }
    }
}

#[test]
fn acyclic_is_never_worse_than_star_by_construction_on_the_cover() {
    // The cover strategies recover directly, so they are candidates for both methods.
    let p = shipped("jac_pat.mtx");
    let params = ColoringParams::with_order(OrderChoice::best());
    let s = color_bidirectional(&p, Method::Star, &params).unwrap();
    let a = color_bidirectional(&p, Method::Acyclic, &params).unwrap();
    let cover_best = s
        .tried()
        .iter()
        .filter(|t| matches!(t.strategy, BiStrategy::CoverColumns | BiStrategy::CoverRows))
        .filter_map(|t| t.colors)
        .min()
        .unwrap();
    assert!(a.num_colors() <= cover_best);
}

#[test]
fn bad_requests_are_named() {
    let p = generators::random(20, 10, 0.2, 1).unwrap();
    let params = ColoringParams::default();
    for m in [Method::Cpr, Method::Distance1, Method::Distance2] {
        assert!(matches!(
            color(&p, Problem::Bidirectional, m, &params),
            Err(ColoringError::MethodNotApplicable {
                problem: Problem::Bidirectional,
                method
            }) if method == m
        ));
        assert!(matches!(
            color_bidirectional(&p, m, &params),
            Err(ColoringError::MethodNotApplicable { .. })
        ));
        assert!(lower_bound(&p, Problem::Bidirectional, m).is_err());
    }
    assert!(matches!(
        color_bidirectional(&Pattern::empty(3, 4).unwrap(), Method::Star, &params),
        Err(ColoringError::NoEntries { nrows: 3, ncols: 4 })
    ));
    assert!(matches!(
        color_bidirectional(
            &p,
            Method::Star,
            &ColoringParams::with_order(OrderChoice::Best(vec![]))
        ),
        Err(ColoringError::NoOrders)
    ));
    // A rectangular pattern is fine (no square check), and the name parses.
    assert_eq!(
        "bidirectional".parse::<Problem>().unwrap(),
        Problem::Bidirectional
    );
    assert!(color(&p, Problem::Bidirectional, Method::Acyclic, &params).is_ok());
    // Colours beyond the vertex count are refused before anything is sized by them.
    assert!(matches!(
        BiRecovery::from_colors(&p, &[usize::MAX - 1; 10], &[NEUTRAL; 20], false),
        Err(check::Violation::ColorOutOfRange {
            vertex: 0,
            limit: 10,
            ..
        })
    ));
    // Recovery from a wrong-length colouring is refused by name.
    assert!(matches!(
        BiRecovery::from_colors(&p, &[0; 3], &[NEUTRAL; 20], true),
        Err(check::Violation::WrongLength {
            len: 3,
            expected: 10
        })
    ));
}

proptest! {
    #![proptest_config(testing::config(128))]

    #[test]
    fn random_patterns_bicolour_validly(p in patterns(1..=30), best in any::<bool>()) {
        prop_assume!(p.nnz() > 0);
        let params = if best {
            ColoringParams::with_order(OrderChoice::best())
        } else {
            ColoringParams::default()
        };
        for method in [Method::Star, Method::Acyclic] {
            check_bicoloring("proptest", &p, method, &params);
        }
    }

    #[test]
    fn checkers_agree_with_the_recovery_builder(
        p in patterns(1..=12),
        seed in any::<u64>(),
    ) {
        prop_assume!(p.nnz() > 0);
        // Random (mostly invalid) colourings: the fast builder and the independent checkers
        // accept exactly the same ones.
        let mut s = seed;
        let mut next = |k: u64| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = (s >> 33) % (k + 1);
            if v == k { NEUTRAL } else { v as usize }
        };
        // Colours below each side's vertex count (larger ones are refused by name).
        let cols: Vec<usize> = (0..p.ncols()).map(|_| next(3.min(p.ncols() as u64))).collect();
        let rows: Vec<usize> = (0..p.nrows()).map(|_| next(3.min(p.nrows() as u64))).collect();
        prop_assert_eq!(
            BiRecovery::from_colors(&p, &cols, &rows, true).is_ok(),
            check::bidirectional_direct(&p, &cols, &rows).is_ok()
        );
        prop_assert_eq!(
            BiRecovery::from_colors(&p, &cols, &rows, false).is_ok(),
            check::bidirectional_substitutable(&p, &cols, &rows).is_ok()
        );
    }
}
