//! Plans from graph colourings: column/row CPR, distance-2, star (direct, with symmetry),
//! acyclic (substitution).

use sparsediff_coloring::{
    AdjacencyGraph, ColoringParams, Method, OrderChoice, Problem, color, color_graph,
    grid_star_bound, lower_bound, lower_bound_graph,
};
use sparsediff_pattern::Pattern;

use super::{Geometry, Given, Structure, check_pattern, plan_from_colors};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan};

/// A designer backed by a colouring of the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColoredDesigner {
    method: Method,
    orientation: Orientation,
    params: ColoringParams,
    /// A geometry the pattern is believed to have; used only for lower bounds, and only
    /// where the pattern itself certifies them.
    geometry: Option<Geometry>,
}

impl ColoredDesigner {
    /// Column CPR (JVPs); also valid for symmetric matrices without exploiting symmetry.
    pub fn cpr() -> Self {
        Self::new(Method::Cpr, Orientation::Columns)
    }

    /// Row CPR (VJPs): products are Aᵀ·S.
    pub fn cpr_rows() -> Self {
        Self::new(Method::Cpr, Orientation::Rows)
    }

    /// Distance-2 colouring of a symmetric pattern (direct, no symmetry exploited).
    pub fn distance2() -> Self {
        Self::new(Method::Distance2, Orientation::Columns)
    }

    /// Star colouring: direct recovery exploiting symmetry.
    pub fn star() -> Self {
        Self::new(Method::Star, Orientation::Columns)
    }

    /// Acyclic colouring: recovery by substitution.
    pub fn acyclic() -> Self {
        Self::new(Method::Acyclic, Orientation::Columns)
    }

    fn new(method: Method, orientation: Orientation) -> Self {
        Self {
            method,
            orientation,
            params: ColoringParams::with_order(OrderChoice::best()),
            geometry: None,
        }
    }

    /// Uses other colouring parameters (default: the best of every order, no
    /// post-processing).
    pub fn with_params(mut self, params: ColoringParams) -> Self {
        self.params = params;
        self
    }

    /// Tells the designer the pattern's geometry (e.g. from [`Geometry::infer`]), for a
    /// sharper [`lower_bound`](ProbeDesigner::lower_bound): a star colouring of a grid
    /// of side ≥ 4 needs 5 colours, which lets a caller that already has a 5-probe plan
    /// skip it. The bound is claimed only when the pattern contains the grid's corner block
    /// (`sparsediff_coloring::grid_star_bound`), so a wrong geometry costs nothing but the
    /// bound; the colouring itself never looks at it.
    ///
    /// ```
    /// use sparsediff_pattern::generators::{grid2d, Stencil2d};
    /// use sparsediff_probe::design::{ColoredDesigner, Geometry};
    /// use sparsediff_probe::{MatrixKind, ProbeDesigner};
    ///
    /// let p = grid2d(50, 40, Stencil2d::FivePoint)?;
    /// let g = Geometry::Grid2d { nx: 50, ny: 40, stencil: Stencil2d::FivePoint };
    /// assert_eq!(ColoredDesigner::star().lower_bound(&p, MatrixKind::Symmetric), Some(3));
    /// let told = ColoredDesigner::star().with_geometry(Some(g));
    /// assert_eq!(told.lower_bound(&p, MatrixKind::Symmetric), Some(5));
    /// assert_eq!(told.design(&p, MatrixKind::Symmetric)?.num_probes(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_geometry(mut self, geometry: Option<Geometry>) -> Self {
        self.geometry = geometry;
        self
    }

    /// The colouring method.
    pub fn method(&self) -> Method {
        self.method
    }
}

impl ProbeDesigner for ColoredDesigner {
    fn name(&self) -> &'static str {
        match (self.method, self.orientation) {
            (Method::Cpr, Orientation::Rows) => "cpr-row",
            (Method::Cpr, _) => "cpr",
            (Method::Distance2, _) => "d2",
            (Method::Star, _) => "star",
            (Method::Acyclic, _) => "acyclic",
            (Method::Distance1, _) => "distance1",
        }
    }

    /// The colouring lower bound of the method (see `sparsediff_coloring::lower_bound`);
    /// `None` where the designer does not apply.
    fn lower_bound(&self, pattern: &Pattern, kind: MatrixKind) -> Option<usize> {
        self.lower_bound_shared(&crate::design::SharedBounds::new(pattern), kind)
    }

    fn lower_bound_shared(
        &self,
        bounds: &crate::design::SharedBounds<'_>,
        kind: MatrixKind,
    ) -> Option<usize> {
        let pattern = bounds.pattern();
        let problem = match (self.method, self.orientation) {
            (Method::Cpr, Orientation::Columns) => Problem::Column,
            (Method::Cpr, Orientation::Rows) => Problem::Row,
            (Method::Distance1, _) => return None,
            _ if kind != MatrixKind::Symmetric => return None,
            _ => Problem::Symmetric,
        };
        let bound = bounds.coloring(problem, self.method)?;
        let grid = match (self.method, self.geometry) {
            (Method::Star, Some(Geometry::Grid2d { nx, .. } | Geometry::Grid3d { nx, .. })) => {
                grid_star_bound(pattern, nx)
            }
            _ => None,
        };
        Some(bound.max(grid.unwrap_or(0)))
    }

    designs_given!();
}

impl ColoredDesigner {
    /// The design, for a pattern borrowed or shared.
    fn design_given(&self, given: Given<'_>, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let pattern = given.get();
        check_pattern(self.name(), pattern)?;
        let symmetric_only = matches!(
            self.method,
            Method::Distance2 | Method::Star | Method::Acyclic
        );
        if symmetric_only && kind != MatrixKind::Symmetric {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::NeedsSymmetric,
            });
        }
        if self.method == Method::Distance1 {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::DiagonalOnly,
            });
        }
        let problem = match (self.method, self.orientation) {
            (Method::Cpr, Orientation::Columns) => Problem::Column,
            (Method::Cpr, Orientation::Rows) => Problem::Row,
            _ => Problem::Symmetric,
        };
        // Star and acyclic designs colour, bound and decode on one adjacency graph.
        let graph = match self.method {
            Method::Star | Method::Acyclic => Some(AdjacencyGraph::new(pattern, self.method)?),
            _ => None,
        };
        let lb = match &graph {
            Some(g) => lower_bound_graph(pattern, g, self.method),
            None => lower_bound(pattern, problem, self.method)?,
        };
        // No order can go below the bound: stop trying orders once one reaches it.
        let params = ColoringParams {
            stop_at: Some(self.params.stop_at.unwrap_or(0).max(lb)),
            ..self.params.clone()
        };
        let coloring = match &graph {
            Some(g) => color_graph(g, self.method, &params)?,
            None => color(pattern, problem, self.method, &params)?,
        };
        let colors = coloring.colors();
        let recovery = match (self.method, self.orientation, &graph) {
            (Method::Cpr, Orientation::Rows, _) => Structure::Rows,
            (Method::Star, _, Some(g)) => Structure::Star(
                g,
                coloring
                    .star_set()
                    .expect("star colourings carry their stars"),
            ),
            (Method::Acyclic, _, Some(g)) => Structure::Trees(
                g,
                coloring
                    .tree_set()
                    .expect("acyclic colourings carry their trees"),
            ),
            _ => Structure::Columns,
        };
        // Colours are 0..num_colors (neutral ones excluded), so the plan has that many probes.
        plan_from_colors(self.name(), kind, given, colors, recovery, lb)
    }
}
