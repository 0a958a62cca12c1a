//! Lower bounds on the number of colours: no colouring of the problem can use fewer.
//!
//! * column problem: the most entries in a row (those columns pairwise conflict);
//! * row problem: the most entries in a column;
//! * distance-2 on a symmetric pattern: the largest closed neighbourhood;
//! * distance-1, star and acyclic: the size of a clique found greedily. On a full band of
//!   half-bandwidth β every maximal clique has β + 1 vertices, so this is β + 1, which
//!   acyclic colouring attains;
//! * acyclic, at least 3 when the graph has a cycle (two colours on a cycle make it a
//!   two-coloured cycle): the 5-point grid needs 3, and its substitution design uses 3;
//! * star, at least 3 when an edge has two endpoints of degree ≥ 2 (then there is a path
//!   on four vertices, which a star colouring may not two-colour, or a triangle): a path
//!   (tridiagonal Hessian) needs 3 = 2β + 1 for direct recovery.

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

    fn bounds(p: &Pattern) -> (usize, usize, usize) {
        let b = |m| crate::lower_bound(p, Problem::Symmetric, m).unwrap();
        (b(Method::Distance1), b(Method::Star), b(Method::Acyclic))
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
