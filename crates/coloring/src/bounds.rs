//! Lower bounds on the number of colours: no colouring of the problem can use fewer.
//!
//! * column problem: the most entries in a row (those columns pairwise conflict);
//! * row problem: the most entries in a column;
//! * distance-2 on a symmetric pattern: the largest closed neighbourhood;
//! * distance-1, star and acyclic: the size of a clique found greedily. On a full band of
//!   half-bandwidth β every maximal clique has β + 1 vertices, so this is β + 1, which
//!   acyclic colouring attains.

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
        (Problem::Symmetric, _) => g.map_or(1, |g| greedy_clique(g).len()),
    }
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
