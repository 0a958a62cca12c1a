//! Known answers about the cartpole L_A Hessian pattern ([`cartpole::hessian_pattern`]) for
//! the stages that take it: ColPack's colour counts and the probe designs. The stage crates
//! test their algorithms on generic patterns; the facts about this one live with it.

use sparsediff_coloring::{ColoringParams, Method, OrderChoice, Problem, color, lower_bound};
use sparsediff_pattern::Pattern;
use sparsediff_probe::testing::least_squares_counts;
use sparsediff_probe::{ColoredDesigner, MatrixKind, ProbeDesigner, RollDesigner};
use sparsediff_problems::cartpole;

fn colors(p: &Pattern, problem: Problem, method: Method, order: impl Into<OrderChoice>) -> usize {
    let c = color(p, problem, method, &ColoringParams::with_order(order)).unwrap();
    c.check(p).unwrap();
    c.num_colors()
}

#[test]
fn colourings_match_colpack_best_orders() {
    // ColPack's best orders: distance-2 12, star 9, acyclic 6.
    for knots in [100, 1000] {
        let p = cartpole::hessian_pattern(knots).unwrap();
        let best = OrderChoice::best;
        assert_eq!(
            colors(&p, Problem::Symmetric, Method::Distance2, best()),
            12,
            "N={knots}"
        );
        assert!(
            colors(&p, Problem::Symmetric, Method::Star, best()) <= 9,
            "N={knots}"
        );
        assert!(
            colors(&p, Problem::Symmetric, Method::Acyclic, best()) <= 6,
            "N={knots}"
        );
        assert_eq!(
            lower_bound(&p, Problem::Symmetric, Method::Distance2).unwrap(),
            12
        );
        assert_eq!(lower_bound(&p, Problem::Column, Method::Cpr).unwrap(), 12);
    }
}

#[test]
fn probe_counts() {
    // Structural half-bandwidth 8, at most 12 entries per row.
    for knots in [100, 1000] {
        let p = cartpole::hessian_pattern(knots).unwrap();
        let probes = |d: &dyn ProbeDesigner| d.design(&p, MatrixKind::Symmetric).unwrap();
        let roll = probes(&RollDesigner);
        assert_eq!(
            (roll.num_probes(), roll.lower_bound()),
            (17, 12),
            "N={knots}"
        );
        let cpr = probes(&ColoredDesigner::cpr());
        assert_eq!((cpr.num_probes(), cpr.lower_bound()), (12, 12), "N={knots}");
        let star = probes(&ColoredDesigner::star());
        assert!(
            star.num_probes() <= 9,
            "N={knots}: star {}",
            star.num_probes()
        );
        let acyclic = probes(&ColoredDesigner::acyclic());
        assert_eq!(
            (acyclic.num_probes(), acyclic.lower_bound()),
            (6, 6),
            "N={knots}: acyclic is optimal"
        );
    }
}

#[test]
fn least_squares_probe_counts() {
    // Per-row random probes: default d_max + 2 = 14, smallest working 12; the half-sample
    // (symmetric) design: default 7, smallest working 6 (half of the per-row count).
    let p = cartpole::hessian_pattern(100).unwrap();
    let counts = least_squares_counts(&p);
    assert_eq!(counts.per_row, (14, 12));
    assert_eq!(counts.half_sample, (7, 6));
}
