//! `BestOf` runs its members in the order of their own lower bounds but keeps the list
//! order as the preference: on equal probes the earlier member wins, whichever ran first.

use std::sync::Arc;

use sparsediff_pattern::generators;
use sparsediff_probe::Decompression;
use sparsediff_probe::design::{BestOf, Outcome, Skip};
use sparsediff_probe::{
    ColoredDesigner, DesignError, Geometry, MatrixKind, ProbeDesigner, ProbePlan, StencilDesigner,
};

/// A designer with the lower bound the test says, designing as `inner` does.
struct Bounded<D> {
    inner: D,
    bound: Option<usize>,
}

impl<D: ProbeDesigner> ProbeDesigner for Bounded<D> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn design(
        &self,
        pattern: &sparsediff_pattern::Pattern,
        kind: MatrixKind,
    ) -> Result<ProbePlan, DesignError> {
        self.inner.design(pattern, kind)
    }

    fn lower_bound(&self, _: &sparsediff_pattern::Pattern, _: MatrixKind) -> Option<usize> {
        self.bound
    }
}

#[test]
fn an_earlier_member_wins_a_tie_even_when_it_runs_later() {
    // A path (tridiagonal): star colouring and the direct stencil design both need 3.
    let pattern = generators::band(40, 1, 1).unwrap();
    let star = Bounded {
        inner: ColoredDesigner::star(),
        bound: None, // runs last: no bound to sort by
    };
    let direct = Bounded {
        inner: StencilDesigner::new(Geometry::Band { beta: Some(1) }, Decompression::Direct),
        bound: Some(1), // runs first
    };
    let best = BestOf::new(vec![Arc::new(star), Arc::new(direct)]);
    let report = best.design_report(&pattern, MatrixKind::Symmetric).unwrap();
    assert_eq!(report.plan.num_probes(), 3);
    assert_eq!(
        report.plan.designer(),
        "star",
        "the earlier member wins the tie"
    );
    // The report keeps the list order, and both ran (the earlier one could still tie).
    let names: Vec<_> = report.candidates.iter().map(|c| c.designer).collect();
    assert_eq!(names, ["star", "stencil-direct"]);
    assert!(
        report
            .candidates
            .iter()
            .all(|c| matches!(c.outcome, Outcome::Designed { probes: 3 }))
    );
}

#[test]
fn an_earlier_member_that_cannot_tie_is_skipped() {
    let pattern = generators::band(40, 1, 1).unwrap();
    let star = Bounded {
        inner: ColoredDesigner::star(),
        bound: Some(3), // above the 2 of substitution: it cannot even tie
    };
    let substitution = StencilDesigner::new(
        Geometry::Band { beta: Some(1) },
        Decompression::Substitution,
    );
    let best = BestOf::new(vec![Arc::new(star), Arc::new(substitution)]);
    let report = best.design_report(&pattern, MatrixKind::Symmetric).unwrap();
    assert_eq!(report.plan.num_probes(), 2);
    assert!(matches!(
        report.candidates[0].outcome,
        Outcome::Skipped(Skip::OwnBound { own: 3, best: 2 })
    ));
}

/// A shared pattern reaches the plan as another handle, not a copy, through `BestOf` and
/// `AutoDesigner` and for every designer that shares (closed forms, colourings, given
/// colourings, identity); the plans are those of the copying `design`.
#[test]
fn shared_patterns_are_held_not_copied() {
    use sparsediff_coloring::Method;
    use sparsediff_pattern::generators::Stencil2d;
    use sparsediff_probe::IdentityDesigner;
    use sparsediff_probe::design::{AutoDesigner, GivenColoring};

    let grid = Arc::new(generators::grid2d(12, 9, Stencil2d::FivePoint).unwrap());
    let random = Arc::new(generators::random_symmetric(60, 0.08, 3).unwrap());
    let band = Arc::new(generators::band(40, 1, 1).unwrap());
    let band_colors: Vec<usize> = (0..40).map(|j| j % 3).collect();
    let cases: Vec<(Arc<sparsediff_pattern::Pattern>, Box<dyn ProbeDesigner>)> = vec![
        (Arc::clone(&grid), Box::new(AutoDesigner::default())),
        (Arc::clone(&random), Box::new(AutoDesigner::default())),
        (Arc::clone(&random), Box::new(ColoredDesigner::star())),
        (Arc::clone(&random), Box::new(ColoredDesigner::acyclic())),
        (Arc::clone(&random), Box::new(ColoredDesigner::cpr())),
        (Arc::clone(&random), Box::new(IdentityDesigner)),
        (
            Arc::clone(&band),
            Box::new(GivenColoring::new(band_colors, Method::Distance2)),
        ),
    ];
    for (pattern, designer) in &cases {
        let name = designer.name();
        let shared = designer
            .design_report_shared(pattern, MatrixKind::Symmetric)
            .unwrap();
        assert!(
            std::ptr::eq(shared.plan.pattern(), &**pattern),
            "{name}: {} copied the pattern",
            shared.plan.designer()
        );
        let copied = designer.design(pattern, MatrixKind::Symmetric).unwrap();
        assert!(!std::ptr::eq(copied.pattern(), &**pattern), "{name}");
        assert_eq!(shared.plan.num_probes(), copied.num_probes(), "{name}");
        assert_eq!(shared.plan.designer(), copied.designer(), "{name}");
        let one = designer
            .design_shared(pattern, MatrixKind::Symmetric)
            .unwrap();
        assert!(std::ptr::eq(one.pattern(), &**pattern), "{name}");
    }
}
