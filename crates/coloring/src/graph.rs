//! The two graphs colourings work on, both read straight from CSR arrays (no column
//! intersection graph is ever materialised):
//!
//! * [`Bipartite`]: the vertices to colour (columns, or rows) and the "nets" that connect
//!   them (rows, or columns); two vertices conflict when they share a net (distance 2).
//! * [`AdjacencyGraph`]: the adjacency graph of a symmetric pattern, without self-loops,
//!   with a compact `u32` CSR and an id for every undirected edge (star and acyclic
//!   colourings attach stars and trees to edges).

use std::borrow::Cow;

use sparsediff_pattern::Pattern;

use crate::error::ColoringError;
use crate::problem::Method;

/// Vertices to colour and the nets joining them: `vertex_nets.row(v)` lists the nets of
/// vertex `v`, `net_vertices.row(u)` the vertices on net `u`. For a column colouring of A,
/// `vertex_nets = Aᵀ` and `net_vertices = A`.
#[derive(Debug, Clone)]
pub struct Bipartite<'a> {
    vertex_nets: Cow<'a, Pattern>,
    net_vertices: Cow<'a, Pattern>,
}

impl<'a> Bipartite<'a> {
    /// Columns of `a` as vertices, rows as nets.
    pub fn columns(a: &'a Pattern) -> Self {
        Self {
            vertex_nets: Cow::Owned(a.transpose()),
            net_vertices: Cow::Borrowed(a),
        }
    }

    /// Rows of `a` as vertices, columns as nets.
    pub fn rows(a: &'a Pattern) -> Self {
        Self {
            vertex_nets: Cow::Borrowed(a),
            net_vertices: Cow::Owned(a.transpose()),
        }
    }

    /// A symmetric pattern is its own transpose: no copy is needed.
    pub fn symmetric(a: &'a Pattern) -> Self {
        Self {
            vertex_nets: Cow::Borrowed(a),
            net_vertices: Cow::Borrowed(a),
        }
    }

    /// Number of vertices to colour.
    #[inline]
    pub fn n(&self) -> usize {
        self.vertex_nets.nrows()
    }

    /// The nets of vertex `v`.
    #[inline]
    pub fn nets(&self, v: usize) -> &[usize] {
        self.vertex_nets.row(v)
    }

    /// The vertices on net `u`.
    #[inline]
    pub fn on_net(&self, u: usize) -> &[usize] {
        self.net_vertices.row(u)
    }

    /// Largest number of vertices on one net: no colouring can use fewer colours.
    pub fn max_net_size(&self) -> usize {
        self.net_vertices.row_stats().max
    }

    /// Distance-2 degree of every vertex (distinct other vertices sharing a net).
    pub fn distance2_degrees(&self) -> Vec<usize> {
        let n = self.n();
        let mut seen = vec![usize::MAX; n];
        (0..n)
            .map(|v| {
                seen[v] = v;
                let mut d = 0;
                for &u in self.nets(v) {
                    for &w in self.on_net(u) {
                        if seen[w] != v {
                            seen[w] = v;
                            d += 1;
                        }
                    }
                }
                d
            })
            .collect()
    }
}

/// A square symmetric pattern with its full diagonal, copied into `u32` CSR: the conflict
/// graph of distance-2 colouring ([`Bipartite::symmetric`] of the same pattern) at half
/// the bytes per entry, for the orders that visit it in scattered sequence.
#[derive(Debug, Clone)]
pub(crate) struct ClosedCsr {
    ptr: Vec<u32>,
    idx: Vec<u32>,
}

impl ClosedCsr {
    /// The copy, or `None` when the entries do not fit `u32` offsets.
    pub(crate) fn new(p: &Pattern) -> Option<Self> {
        u32::try_from(p.nnz()).ok()?;
        Some(Self {
            ptr: p.row_ptr().iter().map(|&k| k as u32).collect(),
            idx: p.col_idx().iter().map(|&j| j as u32).collect(),
        })
    }

    /// Number of vertices.
    #[inline]
    pub(crate) fn n(&self) -> usize {
        self.ptr.len() - 1
    }

    /// The row offsets.
    #[inline]
    pub(crate) fn ptr(&self) -> &[u32] {
        &self.ptr
    }

    /// The column indices, row after row.
    #[inline]
    pub(crate) fn idx(&self) -> &[u32] {
        &self.idx
    }

    /// Row `v` (its diagonal entry included).
    #[inline]
    pub(crate) fn row(&self, v: usize) -> &[u32] {
        &self.idx[self.ptr[v] as usize..self.ptr[v + 1] as usize]
    }
}

/// Checks that `pattern` is square and symmetric in one pass without allocating a
/// transpose: visiting rows in order, the mirror (w, v) of each lower entry (v, w) must be
/// row w's next unmatched entry above the diagonal. The error names an entry without mirror.
pub fn check_symmetric(pattern: &Pattern, method: Method) -> Result<(), ColoringError> {
    check_symmetric_diagonal(pattern, method).map(|_| ())
}

/// [`check_symmetric`], also telling whether every diagonal entry is present (read off the
/// same pass: the entry just before a row's first entry above the diagonal).
pub(crate) fn check_symmetric_diagonal(
    pattern: &Pattern,
    method: Method,
) -> Result<bool, ColoringError> {
    let n = pattern.nrows();
    if !pattern.is_square() {
        return Err(ColoringError::NotSquare {
            method,
            nrows: pattern.nrows(),
            ncols: pattern.ncols(),
        });
    }
    let (ptr, idx) = (pattern.row_ptr(), pattern.col_idx());
    // cursor[w]: position of row w's first entry above the diagonal not yet matched.
    let mut cursor: Vec<usize> = (0..n)
        .map(|w| ptr[w] + pattern.row(w).partition_point(|&j| j <= w))
        .collect();
    let full_diagonal = (0..n).all(|w| cursor[w] > ptr[w] && idx[cursor[w] - 1] == w);
    for v in 0..n {
        for &w in pattern.row(v).iter().take_while(|&&w| w < v) {
            let (c, end) = (cursor[w], ptr[w + 1]);
            if c >= end || idx[c] != v {
                // If row w's next upper entry is a smaller column, that entry has no
                // mirror (its row is done); otherwise (v, w) has none.
                let (row, col) = if c < end && idx[c] < v {
                    (w, idx[c])
                } else {
                    (v, w)
                };
                return Err(ColoringError::NotSymmetric { method, row, col });
            }
            cursor[w] += 1;
        }
    }
    // Every upper entry must have been matched by a lower one.
    match (0..n).find(|&w| cursor[w] != ptr[w + 1]) {
        Some(w) => Err(ColoringError::NotSymmetric {
            method,
            row: w,
            col: idx[cursor[w]],
        }),
        None => Ok(full_diagonal),
    }
}

/// The adjacency graph of a symmetric pattern: vertex `v` is adjacent to `w ≠ v` when
/// entry (v, w) is present. Stored as `u32` CSR; every undirected edge {v, w} has one id,
/// shared by both directed slots.
#[derive(Debug, Clone)]
pub struct AdjacencyGraph {
    ptr: Vec<u32>,
    adj: Vec<u32>,
    eid: Vec<u32>,
    edges: Vec<[u32; 2]>,
    diagonal: Vec<bool>,
}

impl AdjacencyGraph {
    /// Builds the graph of a square, symmetric pattern (checked first, see
    /// [`check_symmetric`]).
    pub fn new(pattern: &Pattern, method: Method) -> Result<Self, ColoringError> {
        check_symmetric(pattern, method)?;
        let n = pattern.nrows();
        let mut ptr = Vec::with_capacity(n + 1);
        let mut adj = Vec::with_capacity(pattern.nnz());
        let mut eid = Vec::with_capacity(pattern.nnz());
        let mut edges = Vec::with_capacity(pattern.nnz() / 2);
        let mut diagonal = vec![false; n];
        // cursor[w]: next slot of row w (of `adj`) above the diagonal not yet matched. Rows
        // are visited in order, so the mirror (w, v) of a lower entry is exactly there.
        let mut cursor = vec![0u32; n];
        ptr.push(0u32);
        for v in 0..n {
            let row = pattern.row(v);
            for &w in row {
                if w == v {
                    diagonal[v] = true;
                    continue;
                }
                adj.push(w as u32);
                if w < v {
                    let c = cursor[w] as usize;
                    debug_assert_eq!(adj[c] as usize, v);
                    eid.push(eid[c]);
                    cursor[w] += 1;
                } else {
                    eid.push(edges.len() as u32);
                    edges.push([v as u32, w as u32]);
                }
            }
            ptr.push(adj.len() as u32);
            // Upper entries of row v start right after its lower entries.
            cursor[v] = ptr[v] + row.iter().filter(|&&w| w < v).count() as u32;
        }
        Ok(Self {
            ptr,
            adj,
            eid,
            edges,
            diagonal,
        })
    }

    /// Number of vertices.
    #[inline]
    pub fn n(&self) -> usize {
        self.diagonal.len()
    }

    /// Number of undirected edges.
    #[inline]
    pub fn num_edges(&self) -> usize {
        self.edges.len()
    }

    /// Neighbours of `v` (sorted, without `v`).
    #[inline]
    pub fn neighbors(&self, v: usize) -> &[u32] {
        &self.adj[self.ptr[v] as usize..self.ptr[v + 1] as usize]
    }

    /// Neighbours of `v` with the id of the connecting edge.
    #[inline]
    pub fn neighbors_with_edges(&self, v: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let r = self.ptr[v] as usize..self.ptr[v + 1] as usize;
        self.adj[r.clone()]
            .iter()
            .zip(&self.eid[r])
            .map(|(&w, &e)| (w as usize, e as usize))
    }

    /// Degree of `v`.
    #[inline]
    pub fn degree(&self, v: usize) -> usize {
        (self.ptr[v + 1] - self.ptr[v]) as usize
    }

    /// Largest degree.
    pub fn max_degree(&self) -> usize {
        (0..self.n()).map(|v| self.degree(v)).max().unwrap_or(0)
    }

    /// The endpoints `[v, w]` (v < w) of edge `e`.
    #[inline]
    pub fn edge(&self, e: usize) -> [usize; 2] {
        let [v, w] = self.edges[e];
        [v as usize, w as usize]
    }

    /// Whether the pattern has the diagonal entry (v, v).
    #[inline]
    pub fn has_diagonal(&self, v: usize) -> bool {
        self.diagonal[v]
    }

    /// Whether `v` and `w` are adjacent (binary search).
    pub fn adjacent(&self, v: usize, w: usize) -> bool {
        self.neighbors(v).binary_search(&(w as u32)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparsediff_pattern::generators;

    #[test]
    fn edge_ids_are_shared_by_both_directions() {
        let p = generators::grid2d(4, 3, generators::Stencil2d::NinePoint).unwrap();
        let g = AdjacencyGraph::new(&p, Method::Star).unwrap();
        assert_eq!(g.num_edges(), (p.nnz() - 12) / 2);
        for v in 0..g.n() {
            assert!(g.has_diagonal(v));
            for (w, e) in g.neighbors_with_edges(v) {
                let [a, b] = g.edge(e);
                assert_eq!([a, b], [v.min(w), v.max(w)]);
            }
        }
    }

    #[test]
    fn asymmetry_is_named() {
        let p =
            Pattern::from_entries(3, 3, [(0, 0), (0, 2), (1, 1), (2, 2), (2, 0), (2, 1)]).unwrap();
        match AdjacencyGraph::new(&p, Method::Star) {
            Err(ColoringError::NotSymmetric { row, col, .. }) => {
                assert!(
                    p.contains(row, col) && !p.contains(col, row),
                    "({row}, {col})"
                );
            }
            other => panic!("{other:?}"),
        }
        let q = Pattern::from_entries(3, 3, [(0, 1)]).unwrap();
        assert!(matches!(
            AdjacencyGraph::new(&q, Method::Star),
            Err(ColoringError::NotSymmetric { row: 0, col: 1, .. })
        ));
        let r = Pattern::from_entries(2, 3, [(0, 1)]).unwrap();
        assert!(matches!(
            AdjacencyGraph::new(&r, Method::Star),
            Err(ColoringError::NotSquare { .. })
        ));
    }
}
