//! Plans from a colouring the caller already has (from another tool, a previous run, a
//! hand-made design). The colouring is checked for the decoding it is meant for and never
//! trusted: an invalid one is refused with the vertices and colours that break it.

use sparsediff_coloring::check::{structurally_orthogonal_columns, structurally_orthogonal_rows};
use sparsediff_coloring::{AdjacencyGraph, Method, Problem, StarSet, TreeSet, lower_bound};

use super::{Given, Structure, check_colors, check_pattern, plan_from_colors};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan};

/// A designer that uses a given colouring with the recovery of `method`:
/// [`Method::Cpr`] (columns, or rows with [`GivenColoring::rows`]), [`Method::Distance2`],
/// [`Method::Star`] (direct, with symmetry) or [`Method::Acyclic`] (substitution).
///
/// Colours must be below the number of vertices (columns, or rows for
/// [`GivenColoring::rows`]): no colouring needs more, and a larger label is refused with
/// [`DesignError::ColorOutOfRange`] before anything is sized by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenColoring {
    colors: Vec<usize>,
    method: Method,
    orientation: Orientation,
}

impl GivenColoring {
    /// Column colours (`colors[j]` for column j; [`NEUTRAL`](sparsediff_coloring::NEUTRAL) allowed only for empty columns
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

    designs_given!();
}

impl GivenColoring {
    /// The design, for a pattern borrowed or shared.
    fn design_given(&self, given: Given<'_>, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let pattern = given.get();
        check_pattern(self.name(), pattern)?;
        // Before anything is sized by the colours: a label beyond the vertex count would
        // otherwise ask for that many probes (and products).
        let vertices = match self.orientation {
            Orientation::Rows => pattern.nrows(),
            Orientation::Columns => pattern.ncols(),
        };
        check_colors(&self.colors, vertices)?;
        let invalid = |violation| DesignError::InvalidColoring {
            designer: "given",
            violation,
        };
        let colors = &self.colors;
        let symmetric = matches!(
            self.method,
            Method::Distance2 | Method::Star | Method::Acyclic
        );
        if symmetric && kind != MatrixKind::Symmetric {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::NeedsSymmetric,
            });
        }
        let graph = match self.method {
            Method::Star | Method::Acyclic => Some(AdjacencyGraph::new(pattern, self.method)?),
            _ => None,
        };
        let (stars, trees);
        let (recovery, problem) = match (self.method, self.orientation, &graph) {
            (Method::Cpr, Orientation::Rows, _) => {
                structurally_orthogonal_rows(pattern, colors).map_err(invalid)?;
                (Structure::Rows, Problem::Row)
            }
            (Method::Cpr, _, _) => {
                // Direct recovery without symmetry: no row may hold two columns of a colour.
                structurally_orthogonal_columns(pattern, colors).map_err(invalid)?;
                (Structure::Columns, Problem::Column)
            }
            (Method::Distance2, _, _) => {
                structurally_orthogonal_columns(pattern, colors).map_err(invalid)?;
                (Structure::Columns, Problem::Symmetric)
            }
            (Method::Star, _, Some(g)) => {
                stars = StarSet::from_colors(g, colors).map_err(invalid)?;
                (Structure::Star(g, &stars), Problem::Symmetric)
            }
            (Method::Acyclic, _, Some(g)) => {
                trees = TreeSet::from_colors(g, colors).map_err(invalid)?;
                (Structure::Trees(g, &trees), Problem::Symmetric)
            }
            _ => {
                return Err(DesignError::NotApplicable {
                    designer: self.name(),
                    reason: Inapplicable::DiagonalOnly,
                });
            }
        };
        let lb = lower_bound(pattern, problem, self.method)?;
        plan_from_colors(self.name(), kind, given, colors, recovery, lb)
    }
}
