//! The dense baseline: one probe per column.

use sparsediff_pattern::Pattern;

use super::{Structure, check_pattern, plan_from_colors};
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
        check_pattern(self.name(), pattern)?;
        let group: Vec<usize> = (0..pattern.ncols()).collect();
        let lb = pattern.row_stats().max;
        plan_from_colors(self.name(), kind, pattern, &group, Structure::Columns, lb)
    }
}
