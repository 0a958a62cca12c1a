//! Plans from a colouring the caller already has (from another tool, a previous run, a
//! hand-made design). The colouring is checked for the decoding it is meant for and never
//! trusted: an invalid one is refused with the vertices and colours that break it.

use std::sync::Arc;

use sparsediff_coloring::check::{structurally_orthogonal_columns, structurally_orthogonal_rows};
use sparsediff_coloring::{
    AdjacencyGraph, Method, NEUTRAL, Problem, StarSet, TreeSet, lower_bound,
};
use sparsediff_pattern::Pattern;

use super::check_pattern;
use crate::decode::{Decoder, GatherDecoder, SubstitutionDecoder};
use crate::error::DesignError;
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Seeds};

/// A designer that uses a given colouring with the recovery of `method`:
/// [`Method::Cpr`] (columns, or rows with [`GivenColoring::rows`]), [`Method::Distance2`],
/// [`Method::Star`] (direct, with symmetry) or [`Method::Acyclic`] (substitution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenColoring {
    colors: Vec<usize>,
    method: Method,
    orientation: Orientation,
}

impl GivenColoring {
    /// Column colours (`colors[j]` for column j; [`NEUTRAL`] allowed only for empty columns
    /// with CPR) to be decoded as `method` prescribes.
    pub fn new(colors: Vec<usize>, method: Method) -> Self {
        Self {
            colors,
            method,
            orientation: Orientation::Columns,
        }
    }

    /// Row colours for row CPR (products Aᵀ·S).
    pub fn rows(colors: Vec<usize>) -> Self {
        Self {
            colors,
            method: Method::Cpr,
            orientation: Orientation::Rows,
        }
    }
}

impl ProbeDesigner for GivenColoring {
    fn name(&self) -> &'static str {
        "given"
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        let invalid = |violation| DesignError::InvalidColoring {
            designer: "given",
            violation,
        };
        let colors = &self.colors;
        let k = colors
            .iter()
            .filter(|&&c| c != NEUTRAL)
            .map(|&c| c + 1)
            .max()
            .unwrap_or(0);
        let symmetric = matches!(
            self.method,
            Method::Distance2 | Method::Star | Method::Acyclic
        );
        if symmetric && kind != MatrixKind::Symmetric {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: format!("{} recovery needs a symmetric matrix", self.method),
            });
        }
        let (decoder, problem) = match (self.method, self.orientation) {
            (Method::Cpr, Orientation::Rows) => {
                structurally_orthogonal_rows(pattern, colors).map_err(invalid)?;
                (
                    Decoder::Gather(GatherDecoder::rows(pattern, colors, k)),
                    Problem::Row,
                )
            }
            (Method::Cpr | Method::Distance2, _) => {
                // Direct recovery without symmetry: no row may hold two columns of a colour.
                structurally_orthogonal_columns(pattern, colors).map_err(invalid)?;
                let problem = if self.method == Method::Cpr {
                    Problem::Column
                } else {
                    Problem::Symmetric
                };
                (
                    Decoder::Gather(GatherDecoder::columns(pattern, colors, k)),
                    problem,
                )
            }
            (Method::Star, _) => {
                let g = AdjacencyGraph::new(pattern, self.method)?;
                let stars = StarSet::from_colors(&g, colors).map_err(invalid)?;
                (
                    Decoder::Gather(GatherDecoder::star(pattern, &g, &stars, colors, k)),
                    Problem::Symmetric,
                )
            }
            (Method::Acyclic, _) => {
                let g = AdjacencyGraph::new(pattern, self.method)?;
                let trees = TreeSet::from_colors(&g, colors).map_err(invalid)?;
                (
                    Decoder::Substitution(SubstitutionDecoder::new(pattern, &g, &trees, colors, k)),
                    Problem::Symmetric,
                )
            }
            (Method::Distance1, _) => {
                return Err(DesignError::NotApplicable {
                    designer: self.name(),
                    reason:
                        "distance-1 colourings recover only the diagonal (see the diagonal module)"
                            .to_string(),
                });
            }
        };
        Ok(ProbePlan {
            designer: self.name(),
            kind,
            orientation: self.orientation,
            pattern: Arc::new(pattern.clone()),
            seeds: Seeds::Groups {
                group: colors.clone(),
                num_probes: k,
            },
            lower_bound: lower_bound(pattern, problem, self.method)?,
            colors: Some(k),
            decoder,
        })
    }
}
