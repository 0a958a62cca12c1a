//! Closed-form designs that are optimal by construction for bands and stencils. Each is
//! checked against the actual pattern by the independent checkers; none is trusted.
//!
//! | geometry | direct (colours) | substitution (colours) |
//! |---|---|---|
//! | band, half-bandwidth β | j mod (2β+1) | j mod (β+1) |
//! | 2-D 5-point, vertex (i, j) | (i + 2j) mod 5 | (i + 2j) mod 3 |
//! | 2-D 9-point | (i mod 3) + 3 (j mod 3) | (i + 2j) mod 5 |
//! | 3-D 7-point, vertex (i, j, k) | (i + 2j + 3k) mod 7 | (i + 2j + 3k) mod 4 |
//!
//! Direct designs are distance-2 colourings (no two columns of a colour share a row), so
//! they need no symmetry; substitution designs are acyclic colourings of a symmetric pattern.

use sparsediff_coloring::check::structurally_orthogonal_columns;
use sparsediff_coloring::{AdjacencyGraph, Method, Problem, TreeSet, lower_bound};
pub use sparsediff_pattern::Geometry;
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::Stencil2d;

use super::{Structure, check_pattern, plan_from_colors};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, ProbeDesigner, ProbePlan};

/// How a closed-form design is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decompression {
    /// Direct (distance-2) design.
    Direct,
    /// Substitution (acyclic) design.
    Substitution,
}

/// A closed-form design for a band or stencil.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StencilDesigner {
    /// The geometry.
    pub geometry: Geometry,
    /// Direct or substitution.
    pub decompression: Decompression,
}

impl StencilDesigner {
    /// A design for `geometry`.
    pub fn new(geometry: Geometry, decompression: Decompression) -> Self {
        Self {
            geometry,
            decompression,
        }
    }

    /// The colour of every vertex, before compaction.
    fn raw_colors(&self, pattern: &Pattern) -> Vec<usize> {
        let direct = self.decompression == Decompression::Direct;
        match self.geometry {
            Geometry::Band { beta } => {
                let (l, u) = pattern.bandwidth();
                let beta = beta.unwrap_or(l.max(u));
                let m = if direct { 2 * beta + 1 } else { beta + 1 };
                (0..pattern.ncols()).map(|j| j % m).collect()
            }
            Geometry::Grid2d { nx, stencil, .. } => (0..pattern.ncols())
                .map(|v| {
                    let (i, j) = (v % nx, v / nx);
                    match (stencil, direct) {
                        (Stencil2d::FivePoint, true) => (i + 2 * j) % 5,
                        (Stencil2d::FivePoint, false) => (i + 2 * j) % 3,
                        (Stencil2d::NinePoint, true) => i % 3 + 3 * (j % 3),
                        (Stencil2d::NinePoint, false) => (i + 2 * j) % 5,
                    }
                })
                .collect(),
            Geometry::Grid3d { nx, ny, .. } => (0..pattern.ncols())
                .map(|v| {
                    let (i, j, k) = (v % nx, (v / nx) % ny, v / (nx * ny));
                    (i + 2 * j + 3 * k) % if direct { 7 } else { 4 }
                })
                .collect(),
        }
    }
}

/// Renumbers colours to 0..k keeping their order (small grids may not use every residue).
fn compact(colors: &mut [usize]) -> usize {
    let k = colors.iter().max().map_or(0, |&c| c + 1);
    let mut used = vec![usize::MAX; k];
    for &c in colors.iter() {
        used[c] = 0;
    }
    let mut next = 0;
    for u in used.iter_mut().filter(|u| **u == 0) {
        *u = next;
        next += 1;
    }
    for c in colors.iter_mut() {
        *c = used[*c];
    }
    next
}

impl ProbeDesigner for StencilDesigner {
    fn name(&self) -> &'static str {
        match self.decompression {
            Decompression::Direct => "stencil-direct",
            Decompression::Substitution => "stencil-substitution",
        }
    }

    /// The bound the plan reports, without building it: the densest row for direct
    /// decoding, the acyclic colouring bound for substitution (so that [`BestOf`] can try
    /// the design that may reach few probes first).
    ///
    /// [`BestOf`]: crate::design::BestOf
    fn lower_bound(&self, pattern: &Pattern, kind: MatrixKind) -> Option<usize> {
        match self.decompression {
            Decompression::Direct => Some(pattern.row_stats().max),
            Decompression::Substitution if kind == MatrixKind::Symmetric => {
                lower_bound(pattern, Problem::Symmetric, Method::Acyclic).ok()
            }
            Decompression::Substitution => None,
        }
    }

    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        let n = self.geometry.vertices(pattern);
        if n != pattern.ncols()
            || (!matches!(self.geometry, Geometry::Band { .. }) && !pattern.is_square())
        {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::GeometryMismatch {
                    vertices: n,
                    rows: pattern.nrows(),
                    cols: pattern.ncols(),
                },
            });
        }
        let mut colors = self.raw_colors(pattern);
        compact(&mut colors);
        let invalid = |violation| DesignError::InvalidColoring {
            designer: self.name(),
            violation,
        };
        match self.decompression {
            Decompression::Direct => {
                structurally_orthogonal_columns(pattern, &colors).map_err(invalid)?;
                let lb = pattern.row_stats().max;
                plan_from_colors(self.name(), kind, pattern, &colors, Structure::Columns, lb)
            }
            Decompression::Substitution => {
                if kind != MatrixKind::Symmetric {
                    return Err(DesignError::NotApplicable {
                        designer: self.name(),
                        reason: Inapplicable::NeedsSymmetric,
                    });
                }
                let g = AdjacencyGraph::new(pattern, Method::Acyclic)?;
                let trees = TreeSet::from_colors(&g, &colors).map_err(invalid)?;
                let lb = lower_bound(pattern, Problem::Symmetric, Method::Acyclic)?;
                plan_from_colors(
                    self.name(),
                    kind,
                    pattern,
                    &colors,
                    Structure::Trees(&g, &trees),
                    lb,
                )
            }
        }
    }
}
