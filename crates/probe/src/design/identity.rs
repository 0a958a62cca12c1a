//! The dense baseline: one probe per column.

use std::sync::Arc;

use sparsediff_pattern::Pattern;

use super::{Given, Structure, check_pattern, plan_from_colors};
use crate::error::DesignError;
use crate::plan::{MatrixKind, ProbeDesigner, ProbePlan};

/// n probes, S = I: every column is its own product.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityDesigner;

impl ProbeDesigner for IdentityDesigner {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        self.design_given(Given::Borrowed(pattern), kind)
    }

    fn design_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<ProbePlan, DesignError> {
        self.design_given(Given::Shared(pattern), kind)
    }

    fn design_report_shared(
        &self,
        pattern: &Arc<Pattern>,
        kind: MatrixKind,
    ) -> Result<crate::design::Designed, DesignError> {
        crate::design::best::design_single_shared(self, pattern, kind)
    }
}

impl IdentityDesigner {
    /// The design, for a pattern borrowed or shared.
    fn design_given(&self, given: Given<'_>, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let pattern = given.get();
        check_pattern(self.name(), pattern)?;
        let group: Vec<usize> = (0..pattern.ncols()).collect();
        let lb = pattern.row_stats().max;
        plan_from_colors(self.name(), kind, given, &group, Structure::Columns, lb)
    }
}
