//! The banded "roll" of the original prototype, made general: stride probes
//! S[j, j mod w] = 1 with w = lower + upper + 1 for any banded pattern.

use std::sync::Arc;

use sparsediff_pattern::Pattern;

use super::check_pattern;
use crate::decode::{Decoder, RollDecoder};
use crate::error::DesignError;
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Seeds};

/// Stride probes for banded patterns (any pattern: the band is its bandwidth).
///
/// w = lower + upper + 1 probes (capped at n). Every row spans at most w consecutive
/// columns, so all its columns have distinct residues mod w and each entry is one product.
#[derive(Debug, Clone, Copy, Default)]
pub struct RollDesigner;

impl ProbeDesigner for RollDesigner {
    fn name(&self) -> &'static str {
        "roll"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        let (lower, upper) = pattern.bandwidth();
        let n = pattern.ncols();
        let stride = (lower + upper + 1).min(n);
        let group: Vec<usize> = (0..n).map(|j| j % stride).collect();
        let pattern = Arc::new(pattern.clone());
        Ok(ProbePlan {
            designer: self.name().into(),
            kind,
            orientation: Orientation::Columns,
            lower_bound: pattern.row_stats().max,
            recovery: crate::plan::Recovery::Roll { stride },
            decoder: Decoder::Roll(RollDecoder::new(Arc::clone(&pattern), stride)),
            pattern,
            seeds: Seeds::Groups {
                group,
                num_probes: stride,
            },
            colors: Some(stride),
        })
    }
}
