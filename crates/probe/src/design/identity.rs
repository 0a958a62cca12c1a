//! The dense baseline: one probe per column.

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

    designs_given!();
}

impl IdentityDesigner {
    /// The design, for a pattern borrowed or shared.
    fn design_given(&self, given: Given<'_>, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let pattern = given.get();
        check_pattern(self.name(), pattern)?;
        let group: Vec<usize> = (0..pattern.ncols()).collect();
        let lb = pattern.row_stats().max;
        plan_from_colors(self.name(), kind, given, group, Structure::Columns, lb)
    }
}
