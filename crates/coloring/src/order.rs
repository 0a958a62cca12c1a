//! Vertex orders for greedy colouring.
//!
//! Every order works on a [`ConflictGraph`]: the graph whose edges are the pairs of vertices
//! that must receive different colours under the plain (distance-1 or distance-2)
//! constraint. The dynamic orders keep vertices in degree buckets managed exactly as ColPack
//! does (append and remove at the end of a bucket), so that natural ties are broken the same
//! way and published colour counts are reproduced.

use std::collections::{BinaryHeap, HashSet};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::ColoringError;
use crate::graph::{AdjacencyGraph, Bipartite, ClosedCsr};
use crate::problem::Order;

/// Most (vertex, colour ≥ 64) pairs DSATUR may remember (about 1 GiB); beyond that the
/// conflict graph is too dense for it and [`ColoringError::TooExpensive`] is returned.
pub(crate) const DSATUR_HIGH_COLOR_LIMIT: usize = 1 << 25;

/// A generation-stamped "seen" marker: clearing it is O(1).
pub(crate) struct Marker {
    stamp: Vec<u32>,
    current: u32,
}

impl Marker {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            stamp: vec![0; n],
            current: 0,
        }
    }

    /// Starts a new generation: every vertex is unmarked again.
    #[inline]
    pub(crate) fn clear(&mut self) {
        if self.current == u32::MAX {
            self.stamp.fill(0);
            self.current = 0;
        }
        self.current += 1;
    }

    /// Marks `v`; returns `true` if it was not marked in this generation.
    #[inline]
    pub(crate) fn insert(&mut self, v: usize) -> bool {
        let fresh = self.stamp[v] != self.current;
        self.stamp[v] = self.current;
        fresh
    }
}

/// The conflict graph of a colouring problem, as the orders see it.
pub(crate) trait ConflictGraph {
    /// Number of vertices.
    fn n(&self) -> usize;
    /// Calls `f` once for every vertex conflicting with `v` (never `v` itself).
    fn for_each_conflict(&self, v: usize, seen: &mut Marker, f: impl FnMut(usize));
    /// Number of vertices conflicting with each vertex (`seen`: a marker over the n
    /// vertices, as scratch).
    fn degrees(&self, seen: &mut Marker) -> Vec<u32>;
}

impl ConflictGraph for Bipartite<'_> {
    fn n(&self) -> usize {
        Bipartite::n(self)
    }

    #[inline]
    fn for_each_conflict(&self, v: usize, seen: &mut Marker, mut f: impl FnMut(usize)) {
        seen.clear();
        seen.insert(v);
        for &u in self.nets(v) {
            for &w in self.on_net(u) {
                if seen.insert(w) {
                    f(w);
                }
            }
        }
    }

    fn degrees(&self, seen: &mut Marker) -> Vec<u32> {
        // `distance2_degrees` in u32 on the caller's marker (no n-word scratch of its
        // own), counting first visits without a branch.
        (0..Bipartite::n(self))
            .map(|v| {
                seen.clear();
                seen.insert(v);
                let mut d = 0u32;
                for &u in self.nets(v) {
                    for &w in self.on_net(u) {
                        d += u32::from(seen.insert(w));
                    }
                }
                d
            })
            .collect()
    }
}

impl ConflictGraph for ClosedCsr {
    fn n(&self) -> usize {
        ClosedCsr::n(self)
    }

    /// The conflicts of [`Bipartite::symmetric`] of the pattern in the same sequence (row
    /// `v`, then the row of each of its entries), so the orders are the same.
    #[inline]
    fn for_each_conflict(&self, v: usize, seen: &mut Marker, mut f: impl FnMut(usize)) {
        seen.clear();
        seen.insert(v);
        for &u in self.row(v) {
            for &w in self.row(u as usize) {
                if seen.insert(w as usize) {
                    f(w as usize);
                }
            }
        }
    }

    fn degrees(&self, seen: &mut Marker) -> Vec<u32> {
        (0..ClosedCsr::n(self))
            .map(|v| {
                seen.clear();
                seen.insert(v);
                let mut d = 0u32;
                for &u in self.row(v) {
                    for &w in self.row(u as usize) {
                        d += u32::from(seen.insert(w as usize));
                    }
                }
                d
            })
            .collect()
    }
}

impl ConflictGraph for AdjacencyGraph {
    fn n(&self) -> usize {
        AdjacencyGraph::n(self)
    }

    #[inline]
    fn for_each_conflict(&self, v: usize, _seen: &mut Marker, mut f: impl FnMut(usize)) {
        for &w in self.neighbors(v) {
            f(w as usize);
        }
    }

    fn degrees(&self, _seen: &mut Marker) -> Vec<u32> {
        (0..AdjacencyGraph::n(self))
            .map(|v| self.degree(v) as u32)
            .collect()
    }
}

/// Computes the visit order of `order` on `g`: a permutation of `0..n`. Only DSATUR can
/// fail, on conflict graphs too dense for its memory limit.
pub(crate) fn vertex_order(
    g: &impl ConflictGraph,
    order: Order,
) -> Result<Vec<usize>, ColoringError> {
    Ok(match order {
        Order::Natural => (0..g.n()).collect(),
        Order::Random(seed) => random_order(g.n(), seed),
        Order::LargestFirst => largest_first(&g.degrees(&mut Marker::new(g.n()))),
        Order::SmallestLast => dynamic(g, Dynamic::SmallestLast),
        Order::IncidenceDegree => dynamic(g, Dynamic::IncidenceDegree),
        Order::DynamicLargestFirst => dynamic(g, Dynamic::DynamicLargestFirst),
        Order::PerfectElimination => dynamic(g, Dynamic::MaximumCardinality),
        Order::Dsatur => dsatur(g, DSATUR_HIGH_COLOR_LIMIT)?,
    })
}

fn random_order(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}

/// Stable counting sort by decreasing degree (ties keep increasing index).
fn largest_first(deg: &[u32]) -> Vec<usize> {
    let dmax = deg.iter().copied().max().unwrap_or(0) as usize;
    let mut start = vec![0usize; dmax + 2];
    for &d in deg {
        start[dmax - d as usize + 1] += 1;
    }
    for k in 0..=dmax {
        start[k + 1] += start[k];
    }
    let mut out = vec![0usize; deg.len()];
    for (v, &d) in deg.iter().enumerate() {
        let k = dmax - d as usize;
        out[start[k]] = v;
        start[k] += 1;
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the names are the orders' own
enum Dynamic {
    /// Remove a vertex of smallest remaining degree; fill the order from the back.
    SmallestLast,
    /// Take the vertex with most ordered neighbours (ColPack's tie-breaking).
    IncidenceDegree,
    /// Take the vertex with most unordered neighbours.
    DynamicLargestFirst,
    /// Incidence degree with ties to the lowest index (maximum cardinality search).
    MaximumCardinality,
}

/// Degree buckets as ColPack keeps them: one vector per degree, vertices appended and
/// removed at the end.
struct Buckets {
    buckets: Vec<Vec<u32>>,
    position: Vec<u32>,
    degree: Vec<u32>,
}

const ORDERED: u32 = u32::MAX;

impl Buckets {
    fn new(degree: Vec<u32>, dmax: usize, vertices: impl Iterator<Item = usize>) -> Self {
        // Each bucket sized for its initial vertices: no regrowth while filling.
        let mut count = vec![0usize; dmax + 1];
        for &d in &degree {
            count[d as usize] += 1;
        }
        let mut buckets: Vec<Vec<u32>> = count.iter().map(|&c| Vec::with_capacity(c)).collect();
        let mut position = vec![0u32; degree.len()];
        for v in vertices {
            let b = &mut buckets[degree[v] as usize];
            position[v] = b.len() as u32;
            b.push(v as u32);
        }
        Self {
            buckets,
            position,
            degree,
        }
    }

    fn pop(&mut self, d: usize) -> usize {
        let v = self.buckets[d].pop().expect("bucket checked non-empty") as usize;
        self.degree[v] = ORDERED;
        v
    }

    /// Moves `v` from its bucket to the bucket `d_new`.
    fn shift(&mut self, v: usize, d_new: usize) {
        let d = self.degree[v] as usize;
        let p = self.position[v] as usize;
        let bucket = &mut self.buckets[d];
        let last = *bucket.last().expect("v is in its bucket");
        bucket[p] = last;
        self.position[last as usize] = p as u32;
        bucket.pop();
        let target = &mut self.buckets[d_new];
        self.position[v] = target.len() as u32;
        target.push(v as u32);
        self.degree[v] = d_new as u32;
    }
}

fn dynamic(g: &impl ConflictGraph, kind: Dynamic) -> Vec<usize> {
    let n = g.n();
    // One marker for the degrees and the walks; the degrees become the buckets' own.
    let mut seen = Marker::new(n);
    let full = g.degrees(&mut seen);
    let dmax = full.iter().copied().max().unwrap_or(0) as usize;
    let start_at_zero = matches!(kind, Dynamic::IncidenceDegree | Dynamic::MaximumCardinality);
    let degree: Vec<u32> = if start_at_zero { vec![0; n] } else { full };
    let mut buckets = if kind == Dynamic::MaximumCardinality {
        // Popping from the end then favours low indices.
        Buckets::new(degree, dmax, (0..n).rev())
    } else {
        Buckets::new(degree, dmax, 0..n)
    };
    let mut order = vec![0usize; n];
    let mut last_degree = if kind == Dynamic::SmallestLast {
        0
    } else {
        dmax
    };
    for step in 0..n {
        let d = if kind == Dynamic::SmallestLast {
            // After removing a vertex of degree d, no degree drops below d - 1.
            (last_degree.saturating_sub(1)..=dmax)
                .find(|&d| !buckets.buckets[d].is_empty())
                .expect("a vertex is left")
        } else {
            // Degrees rise by at most one per step (incidence) or only fall (dynamic LF).
            (0..=(last_degree + 1).min(dmax))
                .rev()
                .find(|&d| !buckets.buckets[d].is_empty())
                .expect("a vertex is left")
        };
        last_degree = d;
        let u = buckets.pop(d);
        let slot = if kind == Dynamic::SmallestLast {
            n - 1 - step
        } else {
            step
        };
        order[slot] = u;
        g.for_each_conflict(u, &mut seen, |w| {
            let dw = buckets.degree[w];
            if dw != ORDERED {
                let dw = dw as usize;
                buckets.shift(w, if start_at_zero { dw + 1 } else { dw - 1 });
            }
        });
    }
    order
}

/// DSATUR: repeatedly colour (distance-1 in the conflict graph) the uncoloured vertex with
/// the most distinct colours among its conflicts, ties by larger degree, then lower index.
/// Returns the visit order; greedy colouring in this order reproduces DSATUR's colouring.
fn dsatur(g: &impl ConflictGraph, limit: usize) -> Result<Vec<usize>, ColoringError> {
    let n = g.n();
    let mut seen = Marker::new(n);
    let degree = g.degrees(&mut seen);
    let mut color = vec![u32::MAX; n];
    let mut saturation = vec![0u32; n];
    // Colours < 64 seen by a vertex as bits; larger colours in a set.
    let mut seen_low = vec![0u64; n];
    let mut seen_high: HashSet<(u32, u32)> = HashSet::new();
    let key = |sat: u32, deg: usize, v: usize| -> u64 {
        (u64::from(sat.min(0xFFFF)) << 48)
            | ((deg.min(0xFFFF) as u64) << 32)
            | u64::from(!(v as u32))
    };
    let mut heap: BinaryHeap<u64> = (0..n).map(|v| key(0, degree[v] as usize, v)).collect();
    let mut forbidden: Vec<usize> = Vec::new();
    let mut order = Vec::with_capacity(n);
    let mut too_many = false;
    while let Some(k) = heap.pop() {
        if too_many {
            return Err(ColoringError::TooExpensive {
                order: Order::Dsatur,
                limit,
            });
        }
        let v = !(k as u32) as usize;
        if color[v] != u32::MAX || (k >> 48) as u32 != saturation[v].min(0xFFFF) {
            continue; // stale entry
        }
        order.push(v);
        let step = order.len();
        g.for_each_conflict(v, &mut seen, |w| {
            let c = color[w];
            if c != u32::MAX {
                let c = c as usize;
                if c >= forbidden.len() {
                    forbidden.resize(c + 1, 0);
                }
                forbidden[c] = step;
            }
        });
        let c = (0..)
            .find(|&c| forbidden.get(c).is_none_or(|&s| s != step))
            .unwrap_or(0);
        color[v] = c as u32;
        g.for_each_conflict(v, &mut seen, |w| {
            if color[w] != u32::MAX {
                return;
            }
            let fresh = if c < 64 {
                let bit = 1u64 << c;
                let f = seen_low[w] & bit == 0;
                seen_low[w] |= bit;
                f
            } else {
                seen_high.insert((w as u32, c as u32))
            };
            too_many |= seen_high.len() > limit;
            if fresh {
                saturation[w] += 1;
                heap.push(key(saturation[w], degree[w] as usize, w));
            }
        });
    }
    Ok(order)
}

/// Whether `order` is a perfect elimination ordering when read backwards, i.e. whether
/// every vertex's earlier neighbours (in `order`) form a clique (Tarjan–Yannakakis test,
/// O(n + m) membership checks). True exactly for chordal graphs when `order` comes from
/// maximum cardinality search.
pub fn is_perfect_elimination(g: &AdjacencyGraph, order: &[usize]) -> bool {
    let n = g.n();
    let mut pos = vec![0usize; n];
    for (k, &v) in order.iter().enumerate() {
        pos[v] = k;
    }
    // For v, its earlier neighbours must all be adjacent to the latest of them (its
    // "parent"); checking that suffices (Rose–Tarjan–Lueker).
    (0..n).all(|v| {
        let earlier = g
            .neighbors(v)
            .iter()
            .map(|&w| w as usize)
            .filter(|&w| pos[w] < pos[v]);
        let Some(parent) = earlier.clone().max_by_key(|&w| pos[w]) else {
            return true;
        };
        earlier
            .filter(|&w| w != parent)
            .all(|w| g.adjacent(parent, w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Method;
    use sparsediff_pattern::generators;

    fn is_permutation(p: &[usize], n: usize) -> bool {
        let mut seen = vec![false; n];
        p.len() == n
            && p.iter()
                .all(|&v| v < n && !std::mem::replace(&mut seen[v], true))
    }

    #[test]
    fn every_order_is_a_permutation() {
        let p = generators::random_symmetric(60, 0.1, 1).unwrap();
        let g = AdjacencyGraph::new(&p, Method::Star).unwrap();
        let b = Bipartite::symmetric(&p);
        for o in Order::ALL {
            assert!(is_permutation(&vertex_order(&g, o).unwrap(), 60), "{o}");
            assert!(is_permutation(&vertex_order(&b, o).unwrap(), 60), "{o}");
        }
    }

    #[test]
    fn dsatur_refuses_dense_conflicts_beyond_its_limit() {
        // Distance-2 on an arrowhead: every column conflicts with every other (n colours).
        let p = generators::arrowhead(300, 1).unwrap();
        let b = Bipartite::symmetric(&p);
        assert!(matches!(
            dsatur(&b, 1000),
            Err(ColoringError::TooExpensive {
                order: Order::Dsatur,
                limit: 1000
            })
        ));
        assert!(is_permutation(&dsatur(&b, 1 << 20).unwrap(), 300));
    }

    #[test]
    fn largest_first_is_stable() {
        assert_eq!(largest_first(&[1, 3, 1, 3, 0]), vec![1, 3, 0, 2, 4]);
    }

    #[test]
    fn smallest_last_peels_a_star_last() {
        // A star: the centre has the largest degree; smallest-last puts leaves last.
        let p = generators::arrowhead(6, 1).unwrap();
        let g = AdjacencyGraph::new(&p, Method::Star).unwrap();
        let o = vertex_order(&g, Order::SmallestLast).unwrap();
        assert!(o[..2].contains(&0), "{o:?}");
    }

    #[test]
    fn mcs_gives_a_perfect_elimination_order_on_permuted_bands() {
        let band = generators::band(200, 4, 4).unwrap();
        let perm = random_order(200, 3);
        let p = band.permute_symmetric(&perm).unwrap();
        let g = AdjacencyGraph::new(&p, Method::Acyclic).unwrap();
        let o = vertex_order(&g, Order::PerfectElimination).unwrap();
        assert!(is_perfect_elimination(&g, &o));
        let grid = generators::grid2d(5, 5, generators::Stencil2d::FivePoint).unwrap();
        let gg = AdjacencyGraph::new(&grid, Method::Acyclic).unwrap();
        assert!(!is_perfect_elimination(
            &gg,
            &vertex_order(&gg, Order::PerfectElimination).unwrap()
        ));
    }
}
