//! The geometry of a band, block band or stencil pattern, next to the [`PatternSpec`]s
//! that generate them: what the closed-form probe designs
//! (`sparsediff_probe::StencilDesigner`) are written for, taken from a spec
//! ([`Geometry::of_spec`]) or recognised in a pattern ([`Geometry::infer`]).

use crate::error::{PatternError, Result};
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
    /// A block band ([`generators::block_band`]): dense `block`×`block` blocks, block
    /// (I, J) present when `I - lower <= J <= I + upper`; column j lies in block
    /// J = j / `block`. Half-bandwidths are counted in blocks, and kept apart (not one `k`)
    /// because the direct design needs `lower + upper + 1` block colours, which is fewer
    /// than `2·max + 1` on an asymmetric band. With `block` = 1 it is a scalar band with
    /// lower and upper half-bandwidths (what [`Geometry::infer`] gives an asymmetric band).
    /// Build it with [`Geometry::block_band`] to have `block` = 0 refused up front; the
    /// designers refuse it too.
    BlockBand {
        /// Block size (rows and columns of a block), at least 1.
        block: usize,
        /// Block subdiagonals.
        lower: usize,
        /// Block superdiagonals.
        upper: usize,
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
    /// A block band geometry; errors: `block` = 0
    /// ([`PatternError::InvalidParameter`] naming `block`).
    ///
    /// ```
    /// use sparsediff_pattern::{Geometry, PatternError};
    ///
    /// let g = Geometry::block_band(5, 1, 1)?;
    /// assert_eq!(g, Geometry::BlockBand { block: 5, lower: 1, upper: 1 });
    /// assert!(matches!(
    ///     Geometry::block_band(0, 1, 1),
    ///     Err(PatternError::InvalidParameter { param: "block", .. })
    /// ));
    /// # Ok::<(), PatternError>(())
    /// ```
    pub fn block_band(block: usize, lower: usize, upper: usize) -> Result<Geometry> {
        if block == 0 {
            return Err(PatternError::InvalidParameter {
                generator: "block_band",
                param: "block",
                value: block.to_string(),
                reason: "must be at least 1",
            });
        }
        Ok(Geometry::BlockBand {
            block,
            lower,
            upper,
        })
    }

    /// The geometry of a generator spec, if it has one (bands, block bands, grids). A
    /// `block_band` spec gives [`Geometry::BlockBand`] for every block size (block 1
    /// included: the spec's lower and upper half-bandwidths are kept).
    pub fn of_spec(spec: &PatternSpec) -> Option<Geometry> {
        match *spec {
            PatternSpec::Band { lower, upper, .. } => Some(Geometry::Band {
                beta: Some(lower.max(upper)),
            }),
            PatternSpec::BlockBand {
                block,
                lower,
                upper,
                ..
            } => Some(Geometry::BlockBand {
                block,
                lower,
                upper,
            }),
            PatternSpec::Grid2d { nx, ny, stencil } => Some(Geometry::Grid2d { nx, ny, stencil }),
            PatternSpec::Grid3d { nx, ny, nz } => Some(Geometry::Grid3d { nx, ny, nz }),
            _ => None,
        }
    }

    /// The geometry of a pattern that *is* a full band, a block band or a standard stencil
    /// (the 2-D 5- and 9-point, the 3-D 7-point, vertices numbered as the generators do),
    /// found from the first and last rows and confirmed by regenerating the whole pattern
    /// and comparing. `None` for anything else. Traced Hessians of grid and chain problems
    /// are such patterns; with the geometry known, the closed-form designs reach the
    /// optimum where greedy colouring may not (the 5-point grid: 3 colours for
    /// substitution, greedy 4).
    ///
    /// Where two readings fit, the more specific wins:
    /// - a symmetric scalar band (and a dense square pattern) is [`Geometry::Band`], never
    ///   a block band of block 1 (same colour counts, and the band's designs keep their
    ///   names in reports); an *asymmetric* scalar band is a [`Geometry::BlockBand`] of
    ///   block 1 with its own lower and upper half-bandwidths (its direct design then needs
    ///   lower + upper + 1 colours);
    /// - the diagonal is neither (nothing to design: every colouring has one colour), but
    ///   a block diagonal (block ≥ 2, lower = upper = 0) is a block band;
    /// - a block band's block size is the largest that fits: the leading rows equal to
    ///   row 0 (or the trailing rows equal to the last row, when row 0 is full). A block
    ///   band of block 2b is never read as one of block b;
    /// - the 9-point grid two points wide *is* the block band of block 2, k = 1, and is
    ///   inferred as the block band: its substitution design needs 4 colours (the clique
    ///   of two blocks), the grid's formula 5.
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
    /// let chain = generators::block_band(20, 4, 1, 2)?;
    /// assert_eq!(
    ///     Geometry::infer(&chain),
    ///     Some(Geometry::BlockBand { block: 4, lower: 1, upper: 2 })
    /// );
    /// assert_eq!(Geometry::infer(&generators::arrowhead(50, 1)?), None);
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn infer(pattern: &Pattern) -> Option<Geometry> {
        let n = pattern.nrows();
        if n < 2 || !pattern.is_square() {
            return None;
        }
        let same =
            |other: Result<Pattern>| other.is_ok_and(|o| o.nnz() == pattern.nnz() && &o == pattern);
        let row0 = pattern.row(0);
        let contiguous = row0.iter().enumerate().all(|(k, &j)| k == j);
        if contiguous {
            // A full band: row 0 is 0..=β.
            let beta = row0.len().checked_sub(1)?;
            if beta >= 1
                && band_nnz(n, beta, beta) == Some(pattern.nnz())
                && same(generators::band(n, beta, beta))
            {
                return Some(Geometry::Band { beta: Some(beta) });
            }
            if let Some(g) = Self::infer_block_band(pattern)
                && let Geometry::BlockBand {
                    block,
                    lower,
                    upper,
                } = g
                && band_nnz(n / block, lower, upper)
                    .and_then(|pairs| pairs.checked_mul(block.checked_mul(block)?))
                    == Some(pattern.nnz())
                && same(generators::block_band(n / block, block, lower, upper))
            {
                return Some(g);
            }
        }
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
        candidate.filter(|g| match *g {
            Geometry::Grid2d { nx, ny, stencil } => same(generators::grid2d(nx, ny, stencil)),
            Geometry::Grid3d { nx, ny, nz } => same(generators::grid3d(nx, ny, nz)),
            Geometry::Band { .. } | Geometry::BlockBand { .. } => false,
        })
    }

    /// The block band candidate of a square pattern whose row 0 is `0..w`, read from the
    /// first and last rows (not yet confirmed): the block size is the run of leading rows
    /// equal to row 0 (below a full row 0: the run of trailing rows equal to the last
    /// row), the upper half-bandwidth `w / block - 1`, the lower one from where the last
    /// row starts. `None` when the sizes do not divide or the pattern is dense.
    fn infer_block_band(pattern: &Pattern) -> Option<Geometry> {
        let n = pattern.nrows();
        let w = pattern.row(0).len();
        let last = pattern.row(n - 1);
        let start = *last.first()?;
        if last.len() != n - start || last.iter().enumerate().any(|(k, &j)| j != start + k) {
            return None;
        }
        let run = |rows: &mut dyn Iterator<Item = usize>, like: usize| {
            let first = pattern.row(like);
            rows.take_while(|&i| pattern.row(i) == first).count()
        };
        let block = if w < n {
            run(&mut (0..n), 0)
        } else if start > 0 {
            run(&mut (0..n).rev(), n - 1)
        } else {
            return None; // dense: a band
        };
        if block == 0
            || !n.is_multiple_of(block)
            || !w.is_multiple_of(block)
            || !start.is_multiple_of(block)
        {
            return None;
        }
        let nblocks = n / block;
        let upper = (w / block).checked_sub(1)?;
        let lower = (nblocks - 1).checked_sub(start / block)?;
        if block == 1 && lower == upper {
            // A symmetric scalar band is a `Band` (tried first); what is left is the
            // diagonal, which is no band (as before block bands were inferred).
            return None;
        }
        Some(Geometry::BlockBand {
            block,
            lower,
            upper,
        })
    }

    /// The vertices the geometry describes (a band or block band: the pattern's columns).
    pub fn vertices(&self, pattern: &Pattern) -> usize {
        match *self {
            Geometry::Band { .. } | Geometry::BlockBand { .. } => pattern.ncols(),
            Geometry::Grid2d { nx, ny, .. } => nx.saturating_mul(ny),
            Geometry::Grid3d { nx, ny, nz } => nx.saturating_mul(ny).saturating_mul(nz),
        }
    }
}

/// Whether `pattern` is the full n×n tridiagonal band (n ≥ 2, diagonal included),
/// checked row by row in O(n) without building the band to compare with: what the
/// closed-form substitution decoder and the closed-form colouring bounds recognise.
///
/// ```
/// use sparsediff_pattern::{full_tridiagonal, generators};
/// assert!(full_tridiagonal(&generators::band(10, 1, 1)?));
/// assert!(!full_tridiagonal(&generators::band(10, 2, 2)?));
/// assert!(!full_tridiagonal(&generators::band(10, 1, 0)?)); // not symmetric
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn full_tridiagonal(pattern: &Pattern) -> bool {
    let n = pattern.nrows();
    n >= 2
        && pattern.ncols() == n
        && pattern.nnz() == 3 * n - 2
        && (0..n).all(|i| {
            // Sorted and unique: first, last and length pin the row down.
            let row = pattern.row(i);
            let (lo, hi) = (i.saturating_sub(1), (i + 1).min(n - 1));
            row.len() == hi - lo + 1 && row.first() == Some(&lo) && row.last() == Some(&hi)
        })
}

/// The grid `(nx, ny)` when `pattern` is exactly the 5-point stencil of an nx×ny grid
/// (nx, ny ≥ 2, vertex i + nx·j, diagonal included; [`generators::grid2d`] with
/// [`Stencil2d::FivePoint`]), checked row by row in O(nnz) without building the grid to
/// compare with; `None` otherwise. The answer is kept with the pattern (and its clones):
/// asked again, it is not worked out again.
///
/// ```
/// use sparsediff_pattern::full_grid5;
/// use sparsediff_pattern::generators::{Stencil2d, grid2d};
/// let grid = grid2d(7, 4, Stencil2d::FivePoint)?;
/// assert_eq!(full_grid5(&grid), Some((7, 4)));
/// assert_eq!(full_grid5(&grid.clone()), Some((7, 4))); // kept
/// assert_eq!(full_grid5(&grid2d(7, 4, Stencil2d::NinePoint)?), None);
/// // Equality is the structure's, whether the answer was worked out or not.
/// assert_eq!(grid, grid2d(7, 4, Stencil2d::FivePoint)?);
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn full_grid5(pattern: &Pattern) -> Option<(usize, usize)> {
    *pattern.grid5.get_or_init(|| recognise_grid5(pattern))
}

/// [`full_grid5`], worked out.
fn recognise_grid5(pattern: &Pattern) -> Option<(usize, usize)> {
    let n = pattern.nrows();
    if n < 4 || pattern.ncols() != n {
        return None;
    }
    // Row 0 is [0, 1, nx].
    let nx = match pattern.row(0) {
        &[0, 1, nx] if nx >= 2 => nx,
        _ => return None,
    };
    if !n.is_multiple_of(nx) {
        return None;
    }
    let ny = n / nx;
    if ny < 2 || pattern.nnz() != 5 * n - 2 * nx - 2 * ny {
        return None;
    }
    // Rows in grid order (no division per vertex), each compared entry by entry (the
    // slice `==` calls `memcmp` for every row of at most five entries): 10-13 -> 4.5-5 ms
    // on the 1000×1000 grid.
    let mut row = [0usize; 5];
    let ok = (0..ny).all(|j| {
        (0..nx).all(|i| {
            let v = i + nx * j;
            let mut len = 0;
            for (keep, u) in [
                (j > 0, v.wrapping_sub(nx)),
                (i > 0, v.wrapping_sub(1)),
                (true, v),
                (i + 1 < nx, v + 1),
                (j + 1 < ny, v + nx),
            ] {
                if keep {
                    row[len] = u;
                    len += 1;
                }
            }
            let r = pattern.row(v);
            r.len() == len && r.iter().zip(&row).all(|(a, b)| a == b)
        })
    });
    ok.then_some((nx, ny))
}

/// Entries of the n×n band with `lower` and `upper` half-bandwidths (both below n), so
/// that a candidate whose count differs is refused before it is regenerated (a dense first
/// row would otherwise regenerate a dense n×n band). `None` on overflow.
fn band_nnz(n: usize, lower: usize, upper: usize) -> Option<usize> {
    let (n, l, u) = (n as u128, lower as u128, upper as u128);
    let total = n * (l + u + 1) - l * (l + 1) / 2 - u * (u + 1) / 2;
    usize::try_from(total).ok()
}
