//! Neutral-colour post-processing of star and acyclic colourings.
//!
//! Recovery reads B[i, colour(j)] only for some vertices j: hubs of stars (direct), parents
//! in the trees (substitution), and vertices with a diagonal entry. The other vertices may be
//! left out of every probe (the neutral colour), and a colour class that is then empty costs
//! no probe. Single-edge stars and trees may be oriented either way; they are oriented to
//! reuse a colour that is read anyway.

use crate::acyclic::TreeSet;
use crate::graph::AdjacencyGraph;
use crate::star::StarSet;

/// The neutral colour in the `u32` colour vectors of this crate's algorithms.
pub(crate) const NEUTRAL_U32: u32 = u32::MAX;

/// Neutralises the colours a star set never reads; returns the number of colours left.
pub(crate) fn postprocess_star(
    color: &mut [u32],
    stars: &mut StarSet,
    g: &AdjacencyGraph,
) -> usize {
    let mut used = diagonal_colors(color, g);
    let mut star_size = vec![0u32; stars.num_stars];
    for &s in &stars.star {
        star_size[s as usize] += 1;
    }
    for (e, &s) in stars.star.iter().enumerate() {
        if star_size[s as usize] > 1 {
            used[color[stars.hub[e] as usize] as usize] = true;
        }
    }
    for (e, &s) in stars.star.iter().enumerate() {
        if star_size[s as usize] == 1 {
            let [i, j] = stars.edges[e];
            let h = stars.hub[e];
            let spoke = if h == i { j } else { i };
            stars.hub[e] = orient(&mut used, color, h, spoke);
        }
    }
    relabel(color, &used)
}

/// Neutralises the colours a tree set never reads; returns the number of colours left.
pub(crate) fn postprocess_acyclic(
    color: &mut [u32],
    trees: &mut TreeSet,
    g: &AdjacencyGraph,
) -> usize {
    let mut used = diagonal_colors(color, g);
    for t in 0..trees.num_trees() {
        let r = trees.tree_ptr[t]..trees.tree_ptr[t + 1];
        if r.len() > 1 {
            for &[_, p] in &trees.order[r] {
                used[color[p as usize] as usize] = true;
            }
        }
    }
    for t in 0..trees.num_trees() {
        let r = trees.tree_ptr[t]..trees.tree_ptr[t + 1];
        if r.len() == 1 {
            let [l, p] = trees.order[r.start];
            let parent = orient(&mut used, color, p, l);
            trees.order[r.start] = if parent == p { [l, p] } else { [p, l] };
        }
    }
    relabel(color, &used)
}

/// Colours read for diagonal entries: B[v, colour(v)].
fn diagonal_colors(color: &[u32], g: &AdjacencyGraph) -> Vec<bool> {
    let k = color.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut used = vec![false; k];
    for (v, &c) in color.iter().enumerate() {
        if g.has_diagonal(v) {
            used[c as usize] = true;
        }
    }
    used
}

/// Picks which end of a single edge is read (the "hub"/"parent"), preferring a colour that
/// is already read; returns it.
fn orient(used: &mut [bool], color: &[u32], preferred: u32, other: u32) -> u32 {
    if used[color[preferred as usize] as usize] {
        preferred
    } else if used[color[other as usize] as usize] {
        other
    } else {
        used[color[preferred as usize] as usize] = true;
        preferred
    }
}

/// Sets unused colours to neutral and renumbers the used ones compactly, keeping their order.
fn relabel(color: &mut [u32], used: &[bool]) -> usize {
    let mut new = vec![NEUTRAL_U32; used.len()];
    let mut k = 0u32;
    for (c, &u) in used.iter().enumerate() {
        if u {
            new[c] = k;
            k += 1;
        }
    }
    for c in color.iter_mut() {
        *c = new[*c as usize];
    }
    k as usize
}
