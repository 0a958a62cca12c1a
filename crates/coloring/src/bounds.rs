//! Lower bounds on the number of colours: no colouring of the problem can use fewer.
//!
//! * column problem: the most entries in a row (those columns pairwise conflict);
//! * bidirectional: 2 when some entry shares its row and its column with other entries
//!   (one product of either kind cannot separate them), else 1;
//! * row problem: the most entries in a column;
//! * distance-2 on a symmetric pattern: the largest closed neighbourhood;
//! * distance-1, star and acyclic: the size of a clique found greedily. On a full band of
//!   half-bandwidth β every maximal clique has β + 1 vertices, so this is β + 1, which
//!   acyclic colouring attains;
//! * acyclic, at least 3 when the graph has a cycle (two colours on a cycle make it a
//!   two-coloured cycle): the 5-point grid needs 3, and its substitution design uses 3;
//! * star, at least 3 when an edge has two endpoints of degree ≥ 2 (then there is a path
//!   on four vertices, which a star colouring may not two-colour, or a triangle): a path
//!   (tridiagonal Hessian) needs 3 = 2β + 1 for direct recovery;
//! * star, at least 5 when the graph contains a 4×4 grid (Fertin, Raspaud and Reed 2004
//!   give 5 for two-dimensional grids; the test below proves the 4×4 case by exhaustive
//!   search, and a star colouring of a graph is one of each subgraph): the 5-point grid's
//!   direct designs cannot go below 5. Finding such a subgraph in general is a subgraph
//!   isomorphism problem, so only a certificate is checked — a grid stride under which the
//!   corner block is present ([`grid_star_bound`]).

use sparsediff_pattern::Pattern;

use crate::graph::AdjacencyGraph;
use crate::problem::{Method, Problem};

/// Number of start vertices tried by the greedy clique search (by degree, then spread out).
const CLIQUE_STARTS: usize = 64;

/// The lower bound for `method` on `problem` (see the module docs), computed from the
/// adjacency graph `g` when the method is symmetric.
pub(crate) fn lower_bound(
    pattern: &Pattern,
    problem: Problem,
    method: Method,
    g: Option<&AdjacencyGraph>,
) -> usize {
    match (problem, method) {
        (Problem::Bidirectional, _) => crate::bicolor::lower_bound(pattern),
        (Problem::Row, _) => pattern.col_stats().max,
        (Problem::Column, _) | (Problem::Symmetric, Method::Cpr) => pattern.row_stats().max,
        (Problem::Symmetric, Method::Distance2) => (0..pattern.nrows())
            .map(|i| pattern.row_nnz(i) + usize::from(!pattern.contains(i, i)))
            .max()
            .unwrap_or(0),
        (Problem::Symmetric, _) => g.map_or(1, |g| {
            let clique = greedy_clique(g).len();
            let three = match method {
                Method::Acyclic => has_cycle(g),
                Method::Star => has_long_path_or_triangle(g),
                _ => false,
            };
            if three { clique.max(3) } else { clique }
        }),
    }
}

/// The symmetric bound of `method` (distance-1, star or acyclic) without the adjacency
/// graph, for the two patterns the closed-form designs are written for, recognised entry
/// by entry in O(nnz): the full tridiagonal band (a path: clique 2, no cycle, a path on
/// four vertices from n = 4) and the full 5-point grid (nx, ny ≥ 2: clique 2, 4-cycles,
/// an edge between vertices of degree ≥ 2). The values are what [`lower_bound`](crate::lower_bound) computes
/// from the graph (a test checks it shape by shape); building that graph, its clique and
/// its cycle search took 67 ms of the 1e6 Rosenbrock `prepare` and 133 ms of the 1e6
/// grid's. `None`: another pattern or method (compute it from the graph).
///
/// ```
/// use sparsediff_coloring::{Method, lower_bound_closed_form};
/// use sparsediff_pattern::generators::{self, Stencil2d};
/// let path = generators::band(10, 1, 1)?;
/// assert_eq!(lower_bound_closed_form(&path, Method::Acyclic), Some(2));
/// assert_eq!(lower_bound_closed_form(&path, Method::Star), Some(3));
/// let grid = generators::grid2d(6, 5, Stencil2d::FivePoint)?;
/// assert_eq!(lower_bound_closed_form(&grid, Method::Acyclic), Some(3));
/// assert_eq!(lower_bound_closed_form(&generators::band(10, 2, 2)?, Method::Acyclic), None);
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn lower_bound_closed_form(pattern: &Pattern, method: Method) -> Option<usize> {
    ClosedFormBounds::of(pattern)?.get(method)
}

/// The distance-1, star and acyclic lower bounds of [`lower_bound_closed_form`], from one
/// recognition of the pattern (callers that want several methods recognise it once).
///
/// ```
/// use sparsediff_coloring::{ClosedFormBounds, Method};
/// use sparsediff_pattern::generators::{self, Stencil2d};
/// let grid = ClosedFormBounds::of(&generators::grid2d(6, 5, Stencil2d::FivePoint)?).unwrap();
/// assert_eq!((grid.distance1, grid.star, grid.acyclic), (2, 3, 3));
/// assert_eq!(grid.get(Method::Star), Some(3));
/// assert_eq!(grid.get(Method::Distance2), None); // not a closed-form method
/// assert!(ClosedFormBounds::of(&generators::band(10, 2, 2)?).is_none());
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedFormBounds {
    /// Distance-1 colouring.
    pub distance1: usize,
    /// Star colouring.
    pub star: usize,
    /// Acyclic colouring.
    pub acyclic: usize,
}

impl ClosedFormBounds {
    /// The bounds of the full tridiagonal band or the full 5-point grid; `None` for any
    /// other pattern.
    pub fn of(pattern: &Pattern) -> Option<ClosedFormBounds> {
        if sparsediff_pattern::full_tridiagonal(pattern) {
            let long_path = pattern.nrows() >= 4;
            return Some(ClosedFormBounds {
                distance1: 2,
                star: if long_path { 3 } else { 2 },
                acyclic: 2,
            });
        }
        sparsediff_pattern::full_grid5(pattern).map(|_| ClosedFormBounds {
            distance1: 2,
            star: 3,
            acyclic: 3,
        })
    }

    /// The bound of `method`; `None` for a method without a closed form here.
    pub fn get(&self, method: Method) -> Option<usize> {
        match method {
            Method::Distance1 => Some(self.distance1),
            Method::Star => Some(self.star),
            Method::Acyclic => Some(self.acyclic),
            _ => None,
        }
    }
}

/// The star lower bound 5 certified by a 4×4 grid in a symmetric `pattern`: `Some(5)` if
/// the vertices `i + stride·j` (`i, j < 4`) exist and every grid edge between them (right
/// and up neighbours) is an off-diagonal entry, `None` otherwise. `stride` is the
/// grid's row length (`nx` of a 5-point, 9-point or 7-point stencil in natural order); a
/// wrong stride costs nothing but the bound.
///
/// ```
/// use sparsediff_coloring::grid_star_bound;
/// use sparsediff_pattern::generators::{grid2d, Stencil2d};
///
/// let grid = grid2d(10, 7, Stencil2d::FivePoint)?;
/// assert_eq!(grid_star_bound(&grid, 10), Some(5));
/// assert_eq!(grid_star_bound(&grid, 9), None); // not the stride: no certificate
/// assert_eq!(grid_star_bound(&grid2d(3, 8, Stencil2d::FivePoint)?, 3), None); // too narrow
/// # Ok::<(), sparsediff_pattern::PatternError>(())
/// ```
pub fn grid_star_bound(pattern: &Pattern, stride: usize) -> Option<usize> {
    const SIDE: usize = 4;
    if stride < SIDE || pattern.nrows() != pattern.ncols() {
        return None;
    }
    let v = |i: usize, j: usize| i + stride * j;
    if v(SIDE - 1, SIDE - 1) >= pattern.nrows() {
        return None;
    }
    let edge = |a: usize, b: usize| pattern.contains(a, b) && pattern.contains(b, a);
    let present = (0..SIDE).all(|j| {
        (0..SIDE).all(|i| {
            (i + 1 == SIDE || edge(v(i, j), v(i + 1, j)))
                && (j + 1 == SIDE || edge(v(i, j), v(i, j + 1)))
        })
    });
    present.then_some(5)
}

/// Whether the graph has a cycle: more edges than a forest on its vertices and components
/// can hold (union–find over the edges).
fn has_cycle(g: &AdjacencyGraph) -> bool {
    let n = g.n();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(parent: &mut [u32], mut v: u32) -> u32 {
        while parent[v as usize] != v {
            let up = parent[parent[v as usize] as usize];
            parent[v as usize] = up; // path halving
            v = up;
        }
        v
    }
    for v in 0..n {
        for &w in g.neighbors(v) {
            if (w as usize) < v {
                let (a, b) = (root(&mut parent, v as u32), root(&mut parent, w));
                if a == b {
                    return true;
                }
                parent[a as usize] = b;
            }
        }
    }
    false
}

/// Whether some edge joins two vertices of degree ≥ 2: then the graph has a path on four
/// vertices or a triangle.
fn has_long_path_or_triangle(g: &AdjacencyGraph) -> bool {
    (0..g.n())
        .any(|v| g.degree(v) >= 2 && g.neighbors(v).iter().any(|&w| g.degree(w as usize) >= 2))
}

/// A clique of the adjacency graph found greedily: from each of a few start vertices (the
/// highest degrees, then evenly spread ones), add neighbours in decreasing degree order
/// whenever they are adjacent to every vertex taken so far. Returns the largest found.
pub fn greedy_clique(g: &AdjacencyGraph) -> Vec<usize> {
    let n = g.n();
    if n == 0 {
        return Vec::new();
    }
    let mut by_degree: Vec<usize> = (0..n).collect();
    by_degree.sort_by_key(|&v| (std::cmp::Reverse(g.degree(v)), v));
    let mut starts: Vec<usize> = by_degree.iter().copied().take(CLIQUE_STARTS).collect();
    starts.extend((0..CLIQUE_STARTS).map(|k| k * n / CLIQUE_STARTS));
    starts.sort_unstable();
    starts.dedup();
    let mut best = vec![0];
    let mut candidates = Vec::new();
    for v in starts {
        if g.degree(v) < best.len() {
            continue; // cannot beat the best clique
        }
        candidates.clear();
        candidates.extend(g.neighbors(v).iter().map(|&w| w as usize));
        candidates.sort_by_key(|&w| (std::cmp::Reverse(g.degree(w)), w));
        let mut clique = vec![v];
        for &c in &candidates {
            if clique.iter().all(|&u| g.adjacent(u, c)) {
                clique.push(c);
            }
        }
        if clique.len() > best.len() {
            best = clique;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use sparsediff_pattern::{Pattern, generators};

    use crate::problem::{Method, Problem};

    /// The symmetric pattern (with diagonal) of an undirected graph on `n` vertices.
    fn graph(n: usize, edges: &[(usize, usize)]) -> Pattern {
        let (mut rows, mut cols): (Vec<usize>, Vec<usize>) = ((0..n).collect(), (0..n).collect());
        for &(a, b) in edges {
            rows.extend([a, b]);
            cols.extend([b, a]);
        }
        Pattern::from_triplets(n, n, &rows, &cols).unwrap()
    }

    /// The closed-form bounds are what the graph gives, on every full tridiagonal band
    /// and 5-point grid of a range of shapes (the smallest included); other patterns
    /// have none.
    #[test]
    fn closed_form_bounds_are_the_graph_bounds() {
        use sparsediff_pattern::generators::Stencil2d;
        let graph_bound = |p: &Pattern, m| {
            let g = crate::AdjacencyGraph::new(p, m).unwrap();
            crate::lower_bound_graph(p, &g, m)
        };
        let mut recognised = Vec::new();
        for n in 2..40 {
            recognised.push(generators::band(n, 1, 1).unwrap());
        }
        for nx in 1..9 {
            for ny in 2..9 {
                // (a 1×ny grid is a path: the tridiagonal band)
                recognised.push(generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap());
            }
        }
        for p in &recognised {
            for m in [Method::Distance1, Method::Star, Method::Acyclic] {
                let closed = super::lower_bound_closed_form(p, m);
                assert_eq!(closed, Some(graph_bound(p, m)), "{:?} {m:?}", p.shape());
            }
            assert_eq!(super::lower_bound_closed_form(p, Method::Distance2), None);
        }
        let others = [
            generators::band(12, 2, 2).unwrap(),
            generators::band(12, 1, 0).unwrap(),
            generators::grid2d(5, 6, Stencil2d::NinePoint).unwrap(),
            graph(6, &[(0, 1), (1, 2), (2, 3), (3, 4)]), // a path without its last edge
            graph(4, &[(0, 1), (1, 2), (2, 3), (0, 2)]),
        ];
        for p in &others {
            for m in [Method::Distance1, Method::Star, Method::Acyclic] {
                assert_eq!(
                    super::lower_bound_closed_form(p, m),
                    None,
                    "{:?}",
                    p.shape()
                );
            }
        }
    }

    fn bounds(p: &Pattern) -> (usize, usize, usize) {
        let b = |m| crate::lower_bound(p, Problem::Symmetric, m).unwrap();
        (b(Method::Distance1), b(Method::Star), b(Method::Acyclic))
    }

    /// Whether the m×n grid graph has a star colouring with k colours (backtracking in
    /// row-major order; a new vertex is checked against every path on four vertices
    /// through it whose vertices are all coloured).
    fn grid_star_colorable(m: usize, n: usize, k: usize) -> Option<Vec<usize>> {
        let adj: Vec<Vec<usize>> = (0..m * n)
            .map(|v| {
                let (i, j) = (v % m, v / m);
                let mut a = Vec::new();
                if i > 0 {
                    a.push(v - 1);
                }
                if i + 1 < m {
                    a.push(v + 1);
                }
                if j > 0 {
                    a.push(v - m);
                }
                if j + 1 < n {
                    a.push(v + m);
                }
                a
            })
            .collect();
        const NONE: usize = usize::MAX;
        fn fits(adj: &[Vec<usize>], col: &[usize], v: usize) -> bool {
            let c = col[v];
            for &u in &adj[v] {
                if col[u] == c {
                    return false;
                }
            }
            for &u in adj[v].iter().filter(|&&u| col[u] != NONE) {
                for &w in adj[u].iter().filter(|&&w| w != v && col[w] != NONE) {
                    // v–u–w–x, v at an end
                    for &x in adj[w]
                        .iter()
                        .filter(|&&x| x != u && x != v && col[x] != NONE)
                    {
                        if col[w] == c && col[x] == col[u] {
                            return false;
                        }
                    }
                }
                for &w in adj[v].iter().filter(|&&w| w != u && col[w] != NONE) {
                    // u–v–w–x, v inside
                    for &x in adj[w]
                        .iter()
                        .filter(|&&x| x != u && x != v && col[x] != NONE)
                    {
                        if col[w] == col[u] && col[x] == c {
                            return false;
                        }
                    }
                }
            }
            true
        }
        fn search(adj: &[Vec<usize>], col: &mut [usize], v: usize, used: usize, k: usize) -> bool {
            if v == col.len() {
                return true;
            }
            // colours are interchangeable: a new vertex opens at most one new colour
            for c in 0..k.min(used + 1) {
                col[v] = c;
                if fits(adj, col, v) && search(adj, col, v + 1, used.max(c + 1), k) {
                    return true;
                }
            }
            col[v] = NONE;
            false
        }
        let mut col = vec![NONE; m * n];
        search(&adj, &mut col, 0, 0, k).then_some(col)
    }

    #[test]
    fn the_four_by_four_grid_needs_five_star_colours() {
        let star_optimum = |m: usize, n: usize| {
            (1..=5)
                .find(|&k| {
                    grid_star_colorable(m, n, k).is_some_and(|col| {
                        // the search's colouring passes the independent checker
                        let p = generators::grid2d(m, n, generators::Stencil2d::FivePoint).unwrap();
                        crate::check::star(&p, &col).is_ok()
                    })
                })
                .unwrap_or(6)
        };
        // smaller grids fit in 4 (so the search is not too strict), 4×4 and up need 5
        assert_eq!(star_optimum(3, 4), 4);
        assert_eq!(star_optimum(4, 3), 4);
        assert_eq!(star_optimum(4, 4), 5);
        assert_eq!(star_optimum(5, 4), 5);
        // the certificate: present in every 5-point, 9-point and 7-point grid of side ≥ 4
        use generators::Stencil2d::{FivePoint, NinePoint};
        for stencil in [FivePoint, NinePoint] {
            let g = generators::grid2d(6, 5, stencil).unwrap();
            assert_eq!(super::grid_star_bound(&g, 6), Some(5));
        }
        let g3 = generators::grid3d(4, 4, 2).unwrap();
        assert_eq!(super::grid_star_bound(&g3, 4), Some(5));
        // and absent from a band of the same size
        let band = generators::band(36, 2, 2).unwrap();
        assert_eq!(super::grid_star_bound(&band, 6), None);
    }

    #[test]
    fn cycles_and_long_paths_need_three_colours() {
        // An edge, and a star K1,3: two colours do for all three problems.
        assert_eq!(bounds(&graph(2, &[(0, 1)])), (2, 2, 2));
        assert_eq!(bounds(&graph(4, &[(0, 1), (0, 2), (0, 3)])), (2, 2, 2));
        // A path on four vertices (a tridiagonal Hessian): star needs 3, acyclic 2.
        assert_eq!(bounds(&generators::band(4, 1, 1).unwrap()), (2, 3, 2));
        assert_eq!(bounds(&generators::band(1000, 1, 1).unwrap()), (2, 3, 2));
        // Even cycles are bipartite (distance-1 needs 2) but not acyclically 2-colourable.
        let c6: Vec<(usize, usize)> = (0..6).map(|i| (i, (i + 1) % 6)).collect();
        assert_eq!(bounds(&graph(6, &c6)), (2, 3, 3));
        // The 5-point grid: acyclic optimum 3 is now the bound.
        let grid = generators::grid2d(20, 20, generators::Stencil2d::FivePoint).unwrap();
        assert_eq!(bounds(&grid), (2, 3, 3));
        // A forest of paths of length 2 (no P4, no cycle).
        assert_eq!(
            bounds(&graph(6, &[(0, 1), (1, 2), (3, 4), (4, 5)])),
            (2, 2, 2)
        );
    }
}
