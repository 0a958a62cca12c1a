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
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::{Pattern, PatternSpec};

use super::{Structure, check_pattern, plan_from_colors};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, ProbeDesigner, ProbePlan};

/// The geometry a closed-form design is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Geometry {
    /// A band; `None` takes β from the pattern's bandwidth (max of lower and upper).
    Band {
        /// Half-bandwidth, or `None` for the pattern's.
        beta: Option<usize>,
    },
    /// An nx×ny grid, vertex (i, j) = i + nx·j.
    Grid2d {
        /// Points along x.
        nx: usize,
        /// Points along y.
        ny: usize,
        /// 5- or 9-point.
        stencil: Stencil2d,
    },
    /// An nx×ny×nz grid with the 7-point stencil, vertex (i, j, k) = i + nx·(j + ny·k).
    Grid3d {
        /// Points along x.
        nx: usize,
        /// Points along y.
        ny: usize,
        /// Points along z.
        nz: usize,
    },
}

impl Geometry {
    /// The geometry of a generator spec, if it has one (bands, grids).
    pub fn of_spec(spec: &PatternSpec) -> Option<Geometry> {
        match *spec {
            PatternSpec::Band { lower, upper, .. } => Some(Geometry::Band {
                beta: Some(lower.max(upper)),
            }),
            PatternSpec::Grid2d { nx, ny, stencil } => Some(Geometry::Grid2d { nx, ny, stencil }),
            PatternSpec::Grid3d { nx, ny, nz } => Some(Geometry::Grid3d { nx, ny, nz }),
            _ => None,
        }
    }

    /// The geometry of a pattern that *is* a full band or a standard stencil (the 2-D
    /// 5- and 9-point, the 3-D 7-point, vertices numbered as the generators do), found
    /// from the first row and confirmed by regenerating the whole pattern and comparing.
    /// `None` for anything else. Traced Hessians of grid and chain problems are such
    /// patterns; with the geometry known, the closed-form designs reach the optimum where
    /// greedy colouring may not (the 5-point grid: 3 colours for substitution, greedy 4).
    ///
    /// ```
    /// use sparsediff_pattern::generators::{self, Stencil2d};
    /// use sparsediff_probe::design::Geometry;
    ///
    /// let grid = generators::grid2d(30, 20, Stencil2d::FivePoint)?;
    /// assert_eq!(
    ///     Geometry::infer(&grid),
    ///     Some(Geometry::Grid2d { nx: 30, ny: 20, stencil: Stencil2d::FivePoint })
    /// );
    /// let band = generators::band(100, 2, 2)?;
    /// assert_eq!(Geometry::infer(&band), Some(Geometry::Band { beta: Some(2) }));
    /// assert_eq!(Geometry::infer(&generators::arrowhead(50, 1)?), None);
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn infer(pattern: &Pattern) -> Option<Geometry> {
        let n = pattern.nrows();
        if n < 2 || !pattern.is_square() {
            return None;
        }
        let same = |other: sparsediff_pattern::Result<Pattern>| {
            other.is_ok_and(|o| o.nnz() == pattern.nnz() && &o == pattern)
        };
        let row0 = pattern.row(0);
        let candidate = match *row0 {
            [0, 1, nx] if nx > 1 && n.is_multiple_of(nx) => Some(Geometry::Grid2d {
                nx,
                ny: n / nx,
                stencil: Stencil2d::FivePoint,
            }),
            [0, 1, nx, nx1] if nx > 1 && nx1 == nx + 1 && n.is_multiple_of(nx) => {
                Some(Geometry::Grid2d {
                    nx,
                    ny: n / nx,
                    stencil: Stencil2d::NinePoint,
                })
            }
            [0, 1, nx, nxy]
                if nx > 1 && nxy.is_multiple_of(nx) && nxy / nx > 1 && n.is_multiple_of(nxy) =>
            {
                Some(Geometry::Grid3d {
                    nx,
                    ny: nxy / nx,
                    nz: n / nxy,
                })
            }
            _ => None,
        };
        let confirmed = candidate.filter(|g| match *g {
            Geometry::Grid2d { nx, ny, stencil } => same(generators::grid2d(nx, ny, stencil)),
            Geometry::Grid3d { nx, ny, nz } => same(generators::grid3d(nx, ny, nz)),
            Geometry::Band { .. } => false,
        });
        if confirmed.is_some() {
            return confirmed;
        }
        // A full band: row 0 is 0..=β.
        let beta = row0.len().checked_sub(1)?;
        let contiguous = row0.iter().enumerate().all(|(k, &j)| k == j);
        (beta >= 1 && contiguous && same(generators::band(n, beta, beta)))
            .then_some(Geometry::Band { beta: Some(beta) })
    }

    fn vertices(&self, pattern: &Pattern) -> usize {
        match *self {
            Geometry::Band { .. } => pattern.ncols(),
            Geometry::Grid2d { nx, ny, .. } => nx.saturating_mul(ny),
            Geometry::Grid3d { nx, ny, nz } => nx.saturating_mul(ny).saturating_mul(nz),
        }
    }
}

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
