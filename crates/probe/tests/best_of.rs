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
