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
//!
//! On a block band of blocks of b with l, u block diagonals (k = l = u for Hessians),
//! [`StencilDesigner`] with `Geometry::BlockBand` needs (l+u+1)·b probes directly and
//! (k+1)·b by substitution, both optimal (see its module's table).

/// The `ProbeDesigner` methods of a designer that can share the pattern it is given:
/// `design`, `design_shared` and `design_report_shared`, all through its inherent
/// `design_given` (a borrowed pattern is copied into the plan, a shared one is not).
macro_rules! designs_given {
    () => {
        fn design(
            &self,
            pattern: &sparsediff_pattern::Pattern,
            kind: $crate::plan::MatrixKind,
        ) -> Result<$crate::plan::ProbePlan, $crate::error::DesignError> {
            self.design_given($crate::design::Given::Borrowed(pattern), kind)
        }

        fn design_shared(
            &self,
            pattern: &std::sync::Arc<sparsediff_pattern::Pattern>,
            kind: $crate::plan::MatrixKind,
        ) -> Result<$crate::plan::ProbePlan, $crate::error::DesignError> {
            self.design_given($crate::design::Given::Shared(pattern), kind)
        }

        fn design_report_shared(
            &self,
            pattern: &std::sync::Arc<sparsediff_pattern::Pattern>,
            kind: $crate::plan::MatrixKind,
        ) -> Result<$crate::design::Designed, $crate::error::DesignError> {
            $crate::design::best::design_single_shared(self, pattern, kind)
        }
    };
}

mod best;
mod colored;
mod given;
mod identity;
mod parts;
mod random;
mod roll;
mod stencil;
mod symmetric_random;

pub use best::{
    AutoDesigner, BestOf, Candidate, Designed, Outcome, SharedBounds, SharedDesigner, Skip,
    default_orders, design_single, exact_lower_bound,
};
pub use colored::ColoredDesigner;
pub use given::GivenColoring;
pub use identity::IdentityDesigner;
pub use random::{Distribution, RandomDesigner, random_seeds};
pub(crate) use random::{ROW_LSTSQ_ARRAYS, row_lstsq_rows};
pub use roll::RollDesigner;
pub use stencil::{Decompression, Geometry, StencilDesigner};
pub use symmetric_random::{ProbeCounts, SymmetricRandomDesigner};

use std::borrow::Cow;
use std::sync::Arc;

use sparsediff_coloring::{AdjacencyGraph, StarSet, TreeSet};
use sparsediff_pattern::Pattern;

use crate::decode::{Decoder, GatherDecoder, SubstitutionDecoder};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, Orientation, ProbePlan, Recovery, Seeds};

/// The structure a colouring is decoded with.
pub(crate) enum Structure<'a> {
    /// Column groups, structurally orthogonal (CPR, distance-2, direct stencils).
    Columns,
    /// Row groups (products Aᵀ·S).
    Rows,
    /// Star colouring: hubs of the stars, on the adjacency graph.
    Star(&'a AdjacencyGraph, &'a StarSet),
    /// Acyclic colouring: substitution along the trees.
    Trees(&'a AdjacencyGraph, &'a TreeSet),
    /// Substitution by a decoder already built (a closed form that needs no trees).
    Substitution(SubstitutionDecoder),
}

/// Refuses a colour that is not below `limit` ([`sparsediff_coloring::NEUTRAL`] aside): a
/// colouring needs at most as many colours as vertices, group seeds no probe beyond their
/// count. Checked before anything is sized by the colours.
pub(crate) fn check_colors(colors: &[usize], limit: usize) -> Result<(), DesignError> {
    match colors
        .iter()
        .enumerate()
        .find(|&(_, &c)| c != sparsediff_coloring::NEUTRAL && c >= limit)
    {
        Some((vertex, &color)) => Err(DesignError::ColorOutOfRange {
            vertex,
            color,
            limit,
        }),
        None => Ok(()),
    }
}

/// The pattern a designer was given: borrowed (a plan holds a copy) or shared by the
/// caller (a plan holds another handle).
#[derive(Clone, Copy)]
pub(crate) enum Given<'p> {
    Borrowed(&'p Pattern),
    Shared(&'p Arc<Pattern>),
}

impl<'p> Given<'p> {
    pub(crate) fn get(self) -> &'p Pattern {
        match self {
            Given::Borrowed(p) => p,
            Given::Shared(p) => p,
        }
    }

    /// The pattern for a plan to hold.
    pub(crate) fn to_arc(self) -> Arc<Pattern> {
        match self {
            Given::Borrowed(p) => Arc::new(p.clone()),
            Given::Shared(p) => Arc::clone(p),
        }
    }
}

/// The plan of a (checked) colouring: group seeds and the decoder its recovery needs.
/// Errors: a colour not below the vertex count ([`DesignError::ColorOutOfRange`]).
pub(crate) fn plan_from_colors<'c>(
    designer: &'static str,
    kind: MatrixKind,
    given: Given<'_>,
    colors: impl Into<Cow<'c, [usize]>>,
    recovery: Structure<'_>,
    lower_bound: usize,
) -> Result<ProbePlan, DesignError> {
    // (a designer's own colours are moved in: a copy was 8 MB of fresh pages at n = 1e6)
    let colors = colors.into();
    let pattern = given.get();
    let vertices = match recovery {
        Structure::Rows => pattern.nrows(),
        _ => pattern.ncols(),
    };
    check_colors(&colors, vertices)?;
    let k = colors
        .iter()
        .filter(|&&c| c != sparsediff_coloring::NEUTRAL)
        .map(|&c| c + 1)
        .max()
        .unwrap_or(0);
    let (decoder, orientation, kind_of_recovery) = match recovery {
        Structure::Columns => (
            Decoder::Gather(GatherDecoder::columns(pattern, &colors, k)),
            Orientation::Columns,
            Recovery::Columns,
        ),
        Structure::Rows => (
            Decoder::Gather(GatherDecoder::rows(pattern, &colors, k)),
            Orientation::Rows,
            Recovery::Rows,
        ),
        Structure::Star(g, stars) => (
            Decoder::Gather(GatherDecoder::star(pattern, g, stars, &colors, k)),
            Orientation::Columns,
            Recovery::Star,
        ),
        Structure::Trees(g, trees) => (
            Decoder::Substitution(SubstitutionDecoder::new(pattern, g, trees, &colors, k)),
            Orientation::Columns,
            Recovery::Substitution,
        ),
        Structure::Substitution(decoder) => (
            Decoder::Substitution(decoder),
            Orientation::Columns,
            Recovery::Substitution,
        ),
    };
    Ok(ProbePlan {
        designer: designer.into(),
        kind,
        orientation,
        pattern: given.to_arc(),
        seeds: Seeds::Groups {
            group: colors.into_owned(),
            num_probes: k,
        },
        lower_bound,
        colors: Some(k),
        recovery: kind_of_recovery,
        decoder,
    })
}

/// Refuses patterns with a zero dimension or no entries.
pub(crate) fn check_pattern(designer: &'static str, pattern: &Pattern) -> Result<(), DesignError> {
    if pattern.nrows() == 0 || pattern.ncols() == 0 || pattern.nnz() == 0 {
        return Err(DesignError::NotApplicable {
            designer,
            reason: Inapplicable::Empty {
                rows: pattern.nrows(),
                cols: pattern.ncols(),
            },
        });
    }
    Ok(())
}
