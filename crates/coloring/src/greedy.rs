//! Greedy colourings under plain conflict constraints: partial distance-2 (CPR, on the
//! bipartite graph) and distance-1 (on the adjacency graph), plus Culberson's iterated
//! greedy recolouring.

use crate::graph::{AdjacencyGraph, Bipartite};

/// Marks a vertex that has no colour yet.
pub(crate) const UNCOLORED: u32 = u32::MAX;

/// Smallest colour whose stamp differs from `stamp`.
#[inline]
pub(crate) fn first_allowed(forbidden: &[u32], stamp: u32) -> u32 {
    forbidden
        .iter()
        .position(|&s| s != stamp)
        .unwrap_or(forbidden.len()) as u32
}

/// Partial distance-2 colouring: vertices sharing a net get different colours
/// (Gebremedhin–Manne–Pothen 2005, Algorithm 3.2). O(Σ over vertices of Σ net sizes).
pub(crate) fn partial_distance2(b: &Bipartite<'_>, order: &[usize]) -> Vec<u32> {
    let n = b.n();
    let mut color = vec![UNCOLORED; n];
    // forbidden[c] == stamp of the current vertex ⇔ colour c is taken by a conflict.
    // At most n colours are ever needed; one extra slot makes `first_allowed` total.
    let mut forbidden = vec![0u32; n + 1];
    for (k, &v) in order.iter().enumerate() {
        let stamp = k as u32 + 1;
        for &u in b.nets(v) {
            for &w in b.on_net(u) {
                let c = color[w];
                if c != UNCOLORED {
                    forbidden[c as usize] = stamp;
                }
            }
        }
        color[v] = first_allowed(&forbidden, stamp);
    }
    color
}

/// A CSR index: `usize` (a pattern's own arrays) or `u32` (its `ClosedCsr` copy).
pub(crate) trait Ix: Copy {
    /// The index as `usize`.
    fn ix(self) -> usize;
}

impl Ix for usize {
    #[inline]
    fn ix(self) -> usize {
        self
    }
}

impl Ix for u32 {
    #[inline]
    fn ix(self) -> usize {
        self as usize
    }
}

/// Distance-2 colouring of a square symmetric pattern given as CSR (`ptr`, `idx`) whose
/// every row holds its diagonal entry, visiting the vertices in `order` (a permutation of
/// `0..n`).
///
/// The same colouring as [`partial_distance2`] on [`Bipartite::symmetric`] of the pattern in
/// the same order, with less work: because row `u` holds `u`, the rows of v's neighbours
/// `u ≠ v` already list every vertex at distance 1 and 2 from `v`, so row `v` itself is not
/// scanned (deg·(deg+1) visits instead of (deg+1)²: ColPack's count). Marking needs no
/// branch (uncoloured vertices mark a dummy slot), and the forbidden stamps grow with the
/// colours used instead of taking n slots.
pub(crate) fn distance2_closed<I: Ix>(
    ptr: &[I],
    idx: &[I],
    order: impl Iterator<Item = usize>,
) -> Vec<u32> {
    // Colours 0-based from the start (no shifting pass at the end: measured 6-7 % faster
    // on the 1e6 grid and band, one colouring per process, than storing c + 1 in zeroed
    // memory and shifting back).
    let mut color = vec![UNCOLORED; ptr.len() - 1];
    // forbidden[c + 1] == stamp ⇔ colour c is taken by a conflict of the current vertex;
    // uncoloured vertices (UNCOLORED + 1 wraps to 0) mark the dummy slot 0; the last slot is
    // always free (one more than the colours used so far).
    let mut forbidden: Vec<u32> = vec![0, 0];
    for (k, v) in order.enumerate() {
        let stamp = k as u32 + 1;
        // A slice, not the vector: its length stays in a register in the inner loop.
        let marks = forbidden.as_mut_slice();
        for &u in &idx[ptr[v].ix()..ptr[v + 1].ix()] {
            let u = u.ix();
            if u == v {
                continue;
            }
            for &w in &idx[ptr[u].ix()..ptr[u + 1].ix()] {
                let slot = color[w.ix()].wrapping_add(1) as usize;
                debug_assert!(slot + 1 < marks.len());
                // SAFETY: `slot` is 0 (uncoloured) or colour + 1, and every colour given is
                // below `forbidden.len() - 2` (chosen as `first_allowed(&marks[1..], _) <=
                // marks.len() - 2`, after which `forbidden` grew by one if that was its
                // last slot; it never shrinks). Unchecked for the same measured reason as
                // in `distance2_closed_natural`.
                unsafe { *marks.get_unchecked_mut(slot) = stamp };
            }
        }
        let c = first_allowed(&marks[1..], stamp);
        if c as usize + 2 == forbidden.len() {
            forbidden.push(0);
        }
        color[v] = c;
    }
    color
}

/// [`distance2_closed`] in the natural order `0..n`: the same input (every row holds its
/// diagonal entry), whose rows must also be sorted, as every
/// [`Pattern`](sparsediff_pattern::Pattern)'s are.
///
/// The same colouring with about half the marks: when `v` is coloured, exactly the
/// vertices `w < v` have colours, and they form a prefix of every sorted row, so each row
/// is scanned only up to its first entry `≥ v` (away from the boundary: 8 marks per vertex
/// instead of 20 on the 5-point grid, 2β² instead of 2β(2β+1) on a band of half-bandwidth
/// β). Every marked vertex is coloured, so no dummy slot is needed, and colours are pushed
/// in vertex order (no pass filling the vector with `UNCOLORED` first).
pub(crate) fn distance2_closed_natural<I: Ix>(ptr: &[I], idx: &[I]) -> Vec<u32> {
    let n = ptr.len() - 1;
    let mut color: Vec<u32> = Vec::with_capacity(n);
    // forbidden[c] == stamp ⇔ colour c is taken by a conflict of the current vertex; the
    // last slot is always free (one more than the colours used so far).
    let mut forbidden: Vec<u32> = vec![0];
    for v in 0..n {
        let stamp = v as u32 + 1;
        let marks = forbidden.as_mut_slice();
        // The colours so far, of exactly 0..v: sliced to length v, so that `w < v` below
        // also proves `done[w]` in bounds (no second check per entry).
        let done = &color[..v];
        for &u in &idx[ptr[v].ix()..ptr[v + 1].ix()] {
            let u = u.ix();
            if u == v {
                continue;
            }
            for &w in &idx[ptr[u].ix()..ptr[u + 1].ix()] {
                let w = w.ix();
                if w >= v {
                    break;
                }
                let c = done[w] as usize;
                debug_assert!(c + 1 < marks.len());
                // SAFETY: every colour in `done` is below `marks.len() - 1`: each was
                // `first_allowed(marks, _) <= marks.len() - 1` when chosen, and `marks` then
                // grew by one if it was the last slot; `marks` never shrinks. Unchecked
                // because the check cost 17-20 % of the pass (generated 1e6 grid and
                // bands k = 1, 5, one colouring per process, interleaved 8 times: min
                // 17.5 -> 14.3, 8.9 -> 7.6, 51.7 -> 42.1 ms).
                unsafe { *marks.get_unchecked_mut(c) = stamp };
            }
        }
        let c = first_allowed(marks, stamp);
        if c as usize + 1 == forbidden.len() {
            forbidden.push(0);
        }
        color.push(c);
    }
    color
}

/// Distance-1 colouring of the adjacency graph.
pub(crate) fn distance1(g: &AdjacencyGraph, order: &[usize]) -> Vec<u32> {
    let n = g.n();
    let mut color = vec![UNCOLORED; n];
    let mut forbidden = vec![0u32; n + 1];
    for (k, &v) in order.iter().enumerate() {
        let stamp = k as u32 + 1;
        for &w in g.neighbors(v) {
            let c = color[w as usize];
            if c != UNCOLORED {
                forbidden[c as usize] = stamp;
            }
        }
        color[v] = first_allowed(&forbidden, stamp);
    }
    color
}

/// The vertices grouped by colour class, classes in the order `class_order` lists them
/// (vertices within a class by increasing index): Culberson's iterated-greedy order. Greedy
/// colouring in this order never uses more colours than `color`, because each class is an
/// independent set of the conflict graph.
pub(crate) fn class_order(color: &[u32], class_order: &[u32]) -> Vec<usize> {
    let k = color.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut rank = vec![0usize; k];
    for (r, &c) in class_order.iter().enumerate() {
        rank[c as usize] = r;
    }
    let mut start = vec![0usize; k + 1];
    for &c in color {
        start[rank[c as usize] + 1] += 1;
    }
    for r in 0..k {
        start[r + 1] += start[r];
    }
    let mut out = vec![0usize; color.len()];
    for (v, &c) in color.iter().enumerate() {
        let r = rank[c as usize];
        out[start[r]] = v;
        start[r] += 1;
    }
    out
}

/// Class orders for the iterated-greedy passes: pass 0 largest class first, pass 1 reverse
/// colour order, alternating.
pub(crate) fn recolor_class_order(color: &[u32], pass: usize) -> Vec<u32> {
    let k = color.iter().map(|&c| c + 1).max().unwrap_or(0);
    let mut classes: Vec<u32> = (0..k).collect();
    if pass.is_multiple_of(2) {
        let mut size = vec![0usize; k as usize];
        for &c in color {
            size[c as usize] += 1;
        }
        classes.sort_by_key(|&c| std::cmp::Reverse(size[c as usize]));
    } else {
        classes.reverse();
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparsediff_pattern::{Pattern, generators};

    #[test]
    fn cpr_on_a_tridiagonal_uses_three_colours() {
        let p = generators::band(10, 1, 1).unwrap();
        let b = Bipartite::columns(&p);
        let c = partial_distance2(&b, &(0..10).collect::<Vec<_>>());
        assert_eq!(c, vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn empty_columns_get_colour_zero() {
        let p = Pattern::from_entries(2, 3, [(0, 0), (1, 0)]).unwrap();
        let b = Bipartite::columns(&p);
        assert_eq!(partial_distance2(&b, &[0, 1, 2]), vec![0, 0, 0]);
    }

    #[test]
    fn closed_distance2_is_partial_distance2_on_the_closed_pattern() {
        use crate::order::vertex_order;
        use crate::problem::Order;
        use sparsediff_pattern::generators::Stencil2d;
        let patterns = [
            generators::band(40, 2, 2).unwrap(),
            generators::grid2d(9, 7, Stencil2d::FivePoint).unwrap(),
            generators::grid2d(6, 8, Stencil2d::NinePoint).unwrap(),
            generators::random_symmetric(60, 0.08, 3)
                .unwrap()
                .with_diagonal(),
        ];
        let orders = [
            Order::Natural,
            Order::LargestFirst,
            Order::SmallestLast,
            Order::IncidenceDegree,
            Order::DynamicLargestFirst,
            Order::Dsatur,
            Order::PerfectElimination,
            Order::Random(5),
        ];
        for p in &patterns {
            assert!(p.has_full_diagonal());
            let b = Bipartite::symmetric(p);
            let csr = crate::graph::ClosedCsr::new(p).unwrap();
            for order in orders {
                let o = vertex_order(&b, order).unwrap();
                let expected = partial_distance2(&b, &o);
                assert_eq!(
                    distance2_closed(p.row_ptr(), p.col_idx(), o.iter().copied()),
                    expected,
                    "{order}"
                );
                if order == Order::Natural {
                    assert_eq!(distance2_closed_natural(p.row_ptr(), p.col_idx()), expected);
                    assert_eq!(distance2_closed_natural(csr.ptr(), csr.idx()), expected);
                }
                // The u32 copy walks the same sequence: the same order, the same colouring.
                assert_eq!(vertex_order(&csr, order).unwrap(), o, "{order}");
                assert_eq!(
                    distance2_closed(csr.ptr(), csr.idx(), o.iter().copied()),
                    expected,
                    "{order}"
                );
            }
        }
    }

    #[test]
    fn class_order_groups_vertices() {
        assert_eq!(class_order(&[1, 0, 1, 2], &[2, 1, 0]), vec![3, 0, 2, 1]);
        assert_eq!(recolor_class_order(&[1, 0, 1, 2], 0), vec![1, 0, 2]);
        assert_eq!(recolor_class_order(&[1, 0, 1, 2], 1), vec![2, 1, 0]);
    }
}
