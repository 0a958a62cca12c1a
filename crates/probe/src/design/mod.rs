//! Probe designers: each turns a pattern into seeds and a prepared decoder.
//!
//! | designer | name | probes on a band of half-bandwidth β | recovery |
//! |---|---|---|---|
//! | [`IdentityDesigner`] | `identity` | n | direct (dense baseline) |
//! | [`RollDesigner`] | `roll` | lower + upper + 1 = 2β+1 | roll (stride probes) |
//! | [`StencilDesigner`] (direct) | `stencil-direct` | 2β+1 | direct, closed form |
//! | [`StencilDesigner`] (substitution) | `stencil-substitution` | β+1 | substitution, closed form |
//! | [`ColoredDesigner`] | `cpr`, `cpr-row`, `d2`, `star`, `acyclic` | 2β+1 / 2β+1 / 2β+1 / 2β+1 / β+1 | direct or substitution |
//! | [`GivenColoring`] | `given` | the caller's colouring, checked for its recovery | direct or substitution |
//! | [`RandomDesigner`] | `random` | 2β+1 + oversampling (default 2) | per-row least squares |
//! | [`SymmetricRandomDesigner`] | `symmetric-random` (half-sample) | β+1 + oversampling (default 1) | global least squares over the lower triangle |

mod colored;
mod given;
mod identity;
mod random;
mod roll;
mod stencil;
mod symmetric_random;

pub use colored::ColoredDesigner;
pub use given::GivenColoring;
pub use identity::IdentityDesigner;
pub use random::{Distribution, RandomDesigner, random_seeds};
pub use roll::RollDesigner;
pub use stencil::{Decompression, Geometry, StencilDesigner};
pub use symmetric_random::{ProbeCounts, SymmetricRandomDesigner};

use sparsediff_pattern::Pattern;

use crate::error::DesignError;

/// Refuses patterns with a zero dimension or no entries.
pub(crate) fn check_pattern(designer: &'static str, pattern: &Pattern) -> Result<(), DesignError> {
    if pattern.nrows() == 0 || pattern.ncols() == 0 || pattern.nnz() == 0 {
        return Err(DesignError::NotApplicable {
            designer,
            reason: format!(
                "the {}×{} pattern has {} entries: nothing to recover",
                pattern.nrows(),
                pattern.ncols(),
                pattern.nnz()
            ),
        });
    }
    Ok(())
}
