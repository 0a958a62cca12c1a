//! Closed-form designs that are optimal by construction for bands, block bands and
//! stencils. Each is checked against the actual pattern; none is trusted. Most are checked
//! by the independent checkers (structural orthogonality, the trees of an acyclic
//! colouring); two substitution designs are instead checked entry by entry to be exactly
//! the pattern they are proven for — a full tridiagonal band coloured j mod 2 and the full
//! 5-point stencil coloured (i + 2j) mod 3 (`decode::substitution` gives the argument) —
//! and then decode in closed form with no graph and no trees (on the 1e6 grid this took
//! the design from 0.83 s to 0.18 s).
//!
//! | geometry | direct (colours) | substitution (colours) |
//! |---|---|---|
//! | band, half-bandwidth β | j mod (2β+1) | j mod (β+1) |
//! | block band, blocks of b, half-bandwidths l, u in blocks, column j in block J = ⌊j/b⌋ | (J mod (l+u+1))·b + j mod b: (l+u+1)·b | (J mod (k+1))·b + j mod b, k = max(l, u): (k+1)·b |
//! | 2-D 5-point, vertex (i, j) | (i + 2j) mod 5 | (i + 2j) mod 3 |
//! | 2-D 9-point | (i mod 3) + 3 (j mod 3) | (i + 2j) mod 5 |
//! | 3-D 7-point, vertex (i, j, k) | (i + 2j + 3k) mod 7 | (i + 2j + 3k) mod 4 |
//!
//! Direct designs are distance-2 colourings (no two columns of a colour share a row), so
//! they need no symmetry; substitution designs are acyclic colourings of a symmetric pattern.
//!
//! The block band formulas are the band's applied to the block index, with the b columns
//! of a block told apart by j mod b (the block band is the band of block half-bandwidths
//! with every vertex blown up into a clique of b). Both are optimal:
//! - direct: columns of blocks J < J' share a row exactly when J' − J ≤ l+u, so equal
//!   colours (same j mod b, block indices l+u+1 or more apart) never share a row; the
//!   block row of l+u+1 dense blocks has (l+u+1)·b entries, the lower bound. With fewer
//!   than l+u+1 blocks (N of them) every column gets its own colour, N·b, and some block
//!   row is then full: still the largest row;
//! - substitution (l = u = k): two colour classes with the same block residue meet only
//!   inside one block (an edge per block: a matching), with different block residues they
//!   span a copy of the scalar band's two classes of j mod (k+1), a forest; so the
//!   colouring is acyclic, and k+1 consecutive diagonal blocks (there are at least k+1
//!   blocks, as k < N) form a clique of (k+1)·b vertices, the lower bound. With l ≠ u the
//!   formula takes k = max(l, u), the symmetric block band around the pattern; a
//!   symmetric recovery refuses an asymmetric pattern anyway.
//!
//! On block bands numbered as generated, greedy colourings in the fast deterministic
//! orders reach the same counts (distance-2 (l+u+1)·b, acyclic (k+1)·b), the
//! dynamic-largest-first and random orders do not, and star colouring stays at
//! (2k+1)·b (`papers/colorings.md` has the counts). What the closed forms add is
//! certainty without a search: they meet the exact lower bound, so `AutoDesigner`, which
//! lists them first, skips the colourings.

use sparsediff_coloring::check::structurally_orthogonal_columns;
use sparsediff_coloring::{AdjacencyGraph, Method, Problem, TreeSet, lower_bound_graph};
pub use sparsediff_pattern::Geometry;
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::Stencil2d;

use super::{Given, Structure, check_pattern, plan_from_colors};
use crate::decode::SubstitutionDecoder;
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

/// A closed-form design for a band, block band or stencil.
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_probe::{Decompression, Geometry, MatrixKind, ProbeDesigner, StencilDesigner};
///
/// // 12 dense 5×5 blocks, each coupled to its neighbours (a chain of stages).
/// let chain = generators::block_band(12, 5, 1, 1)?;
/// let g = Geometry::block_band(5, 1, 1)?;
/// let direct = StencilDesigner::new(g, Decompression::Direct).design(&chain, MatrixKind::General)?;
/// assert_eq!(direct.num_probes(), 15); // (l+u+1)·b, the largest row
/// let subst = StencilDesigner::new(g, Decompression::Substitution)
///     .design(&chain, MatrixKind::Symmetric)?;
/// assert_eq!(subst.num_probes(), 10); // (k+1)·b, the clique of two blocks
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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

    /// The colour of every vertex, before compaction. A block band's block is at least 1
    /// here (checked by [`ProbeDesigner::design`] before).
    fn raw_colors(&self, pattern: &Pattern) -> Vec<usize> {
        let direct = self.decompression == Decompression::Direct;
        match self.geometry {
            Geometry::BlockBand {
                block,
                lower,
                upper,
            } => {
                let m = if direct {
                    lower.saturating_add(upper).saturating_add(1)
                } else {
                    lower.max(upper).saturating_add(1)
                };
                (0..pattern.ncols())
                    .map(|j| ((j / block) % m) * block + j % block)
                    .collect()
            }
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
        self.lower_bound_shared(&crate::design::SharedBounds::new(pattern), kind)
    }

    fn lower_bound_shared(
        &self,
        bounds: &crate::design::SharedBounds<'_>,
        kind: MatrixKind,
    ) -> Option<usize> {
        match self.decompression {
            Decompression::Direct => Some(bounds.pattern().row_stats().max),
            Decompression::Substitution if kind == MatrixKind::Symmetric => {
                bounds.coloring(Problem::Symmetric, Method::Acyclic)
            }
            Decompression::Substitution => None,
        }
    }

    designs_given!();
}

impl StencilDesigner {
    /// The design, for a pattern borrowed or shared.
    fn design_given(&self, given: Given<'_>, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        let pattern = given.get();
        check_pattern(self.name(), pattern)?;
        let n = self.geometry.vertices(pattern);
        if n != pattern.ncols()
            || (!matches!(
                self.geometry,
                Geometry::Band { .. } | Geometry::BlockBand { .. }
            ) && !pattern.is_square())
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
        if let Geometry::BlockBand { block, .. } = self.geometry
            && (block == 0 || !pattern.ncols().is_multiple_of(block))
        {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::BlockMismatch {
                    block,
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
                plan_from_colors(self.name(), kind, given, colors, Structure::Columns, lb)
            }
            Decompression::Substitution => {
                if kind != MatrixKind::Symmetric {
                    return Err(DesignError::NotApplicable {
                        designer: self.name(),
                        reason: Inapplicable::NeedsSymmetric,
                    });
                }
                // A full tridiagonal band coloured j mod 2 and the full 5-point stencil
                // coloured (i + 2j) mod 3, checked entry by entry, are acyclic by
                // construction (`decode::substitution` has the argument) and decode in
                // closed form: no graph, no trees, and their bound is known. (On the 1e6
                // grid the graph, the trees and their order took 0.64–0.72 s of a 2.3 s
                // `prepare`.)
                let k = colors.iter().max().map_or(0, |&c| c + 1);
                if let Some((d, bound)) = SubstitutionDecoder::closed_form(pattern, &colors, k) {
                    return plan_from_colors(
                        self.name(),
                        kind,
                        given,
                        colors,
                        Structure::Substitution(d),
                        bound,
                    );
                }
                let g = AdjacencyGraph::new(pattern, Method::Acyclic)?;
                let trees = TreeSet::from_colors(&g, &colors).map_err(invalid)?;
                let lb = lower_bound_graph(pattern, &g, Method::Acyclic);
                plan_from_colors(
                    self.name(),
                    kind,
                    given,
                    colors,
                    Structure::Trees(&g, &trees),
                    lb,
                )
            }
        }
    }
}
