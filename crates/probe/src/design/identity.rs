//! The dense baseline: one probe per column.

use std::sync::Arc;

use sparsediff_pattern::Pattern;

use super::check_pattern;
use crate::decode::{Decoder, GatherDecoder};
use crate::error::DesignError;
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Seeds};

/// n probes, S = I: every column is its own product.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityDesigner;

impl ProbeDesigner for IdentityDesigner {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        let n = pattern.ncols();
        let group: Vec<usize> = (0..n).collect();
        let decoder = GatherDecoder::columns(pattern, &group, n);
        Ok(ProbePlan {
            designer: self.name(),
            kind,
            orientation: Orientation::Columns,
            pattern: Arc::new(pattern.clone()),
            seeds: Seeds::Groups {
                group,
                num_probes: n,
            },
            lower_bound: pattern.row_stats().max,
            colors: Some(n),
            decoder: Decoder::Gather(decoder),
        })
    }
}
