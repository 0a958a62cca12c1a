//! The geometry of a band or stencil pattern, next to the [`PatternSpec`]s that generate
//! them: what the closed-form probe designs (`sparsediff_probe::StencilDesigner`) are
//! written for, taken from a spec ([`Geometry::of_spec`]) or recognised in a pattern
//! ([`Geometry::infer`]).

use crate::generators::{self, Stencil2d};
use crate::{Pattern, PatternSpec};

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
    /// use sparsediff_pattern::Geometry;
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
        let same = |other: crate::Result<Pattern>| {
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

    /// The vertices the geometry describes (a band: the pattern's columns).
    pub fn vertices(&self, pattern: &Pattern) -> usize {
        match *self {
            Geometry::Band { .. } => pattern.ncols(),
            Geometry::Grid2d { nx, ny, .. } => nx.saturating_mul(ny),
            Geometry::Grid3d { nx, ny, nz } => nx.saturating_mul(ny).saturating_mul(nz),
        }
    }
}
