//! Star colouring with the two-coloured stars that direct recovery needs
//! (Gebremedhin, Tarafdar, Manne, Pothen, SISC 2007, Algorithm 4.1).
//!
//! A star colouring is a distance-1 colouring in which every path on four vertices uses at
//! least three colours; equivalently every two-coloured connected subgraph is a star. Each
//! off-diagonal entry H[i, j] is then read directly as B[spoke, colour(hub)], where the hub
//! is the centre of the two-coloured star containing edge {i, j}.

use std::collections::HashMap;

use crate::acyclic::check_proper;
use crate::check::Violation;
use crate::graph::AdjacencyGraph;
use crate::greedy::{UNCOLORED, first_allowed};

const NO_HUB: u32 = u32::MAX;

/// The two-coloured stars of a star colouring: for every edge {i, j} of the adjacency
/// graph (i < j), its star and the star's hub (i or j).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarSet {
    pub(crate) edges: Vec<[u32; 2]>,
    pub(crate) star: Vec<u32>,
    pub(crate) hub: Vec<u32>,
    pub(crate) num_stars: usize,
}

impl StarSet {
    /// Number of edges (off-diagonal pairs {i, j}).
    pub fn num_edges(&self) -> usize {
        self.edges.len()
    }

    /// Number of two-coloured stars.
    pub fn num_stars(&self) -> usize {
        self.num_stars
    }

    /// Iterates over `(i, j, hub)` with `i < j` and `hub ∈ {i, j}`: H[i, j] = H[j, i] is
    /// `B[spoke, colour(hub)]`, where `spoke` is the other endpoint.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (usize, usize, usize)> + '_ {
        self.edges
            .iter()
            .zip(&self.hub)
            .map(|(&[i, j], &h)| (i as usize, j as usize, h as usize))
    }

    /// The star index of every edge, in the order of [`entries`](Self::entries).
    pub fn stars(&self) -> &[u32] {
        &self.star
    }

    /// The two-coloured stars of a given colouring (a closed-form design, a user's
    /// colouring), checking on the way that it is a star colouring: every vertex coloured,
    /// adjacent vertices different, and no two-coloured path on four vertices (named in the
    /// violation).
    pub fn from_colors(g: &AdjacencyGraph, colors: &[usize]) -> Result<StarSet, Violation> {
        check_proper(g, colors)?;
        // For every vertex, how many neighbours carry each colour (scratch, reset per vertex).
        let mut count: HashMap<usize, u32> = HashMap::new();
        let mut many = vec![false; 2 * g.num_edges()]; // per directed slot v→w: ≥ 2 nbrs of colour(w)
        let mut slot_of = vec![[u32::MAX; 2]; g.num_edges()];
        let mut slot = 0usize;
        for v in 0..g.n() {
            count.clear();
            for &w in g.neighbors(v) {
                *count.entry(colors[w as usize]).or_default() += 1;
            }
            for (w, e) in g.neighbors_with_edges(v) {
                many[slot] = count[&colors[w]] >= 2;
                slot_of[e][usize::from(v > w)] = slot as u32;
                slot += 1;
            }
        }
        let mut star_of_hub: HashMap<(usize, usize), u32> = HashMap::new();
        let mut edges = Vec::with_capacity(g.num_edges());
        let mut star = Vec::with_capacity(g.num_edges());
        let mut hub = Vec::with_capacity(g.num_edges());
        let mut num_stars = 0u32;
        for (e, [s_vw, s_wv]) in slot_of.iter().enumerate() {
            let [v, w] = g.edge(e);
            let (v_hub, w_hub) = (many[*s_vw as usize], many[*s_wv as usize]);
            if v_hub && w_hub {
                // x–v–w–y alternates two colours.
                let other = |a: usize, b: usize| {
                    g.neighbors(a)
                        .iter()
                        .map(|&x| x as usize)
                        .find(|&x| x != b && colors[x] == colors[b])
                        .unwrap_or(b)
                };
                return Err(Violation::TwoColoredPath {
                    path: [other(v, w), v, w, other(w, v)],
                });
            }
            let h = if w_hub {
                w
            } else if v_hub {
                v
            } else {
                v.max(w)
            };
            let spoke = if h == v { w } else { v };
            let id = if v_hub || w_hub {
                *star_of_hub.entry((h, colors[spoke])).or_insert_with(|| {
                    num_stars += 1;
                    num_stars - 1
                })
            } else {
                num_stars += 1;
                num_stars - 1
            };
            edges.push([v as u32, w as u32]);
            star.push(id);
            hub.push(h as u32);
        }
        Ok(StarSet {
            edges,
            star,
            hub,
            num_stars: num_stars as usize,
        })
    }
}

/// Star-colours `g` greedily in `order`; returns colours and the star set.
pub(crate) fn star_coloring(g: &AdjacencyGraph, order: &[usize]) -> (Vec<u32>, StarSet) {
    star_coloring_capped(g, order, u32::MAX).expect("no colour reaches u32::MAX")
}

/// [`star_coloring`], abandoned (`None`) as soon as a vertex needs colour `cap` or more.
pub(crate) fn star_coloring_capped(
    g: &AdjacencyGraph,
    order: &[usize],
    cap: u32,
) -> Option<(Vec<u32>, StarSet)> {
    let n = g.n();
    let mut color = vec![UNCOLORED; n];
    let mut forbidden = vec![0u32; n + 1];
    // first_neighbor[c] = (stamp of the vertex being coloured, its first neighbour of
    // colour c, the edge between them).
    let mut first_neighbor = vec![(0u32, 0u32, 0u32); n + 1];
    let mut treated = vec![0u32; n];
    let mut star = vec![u32::MAX; g.num_edges()];
    let mut hub: Vec<u32> = Vec::new();

    // Forbids the colours of all neighbours of `w`.
    let treat =
        |w: usize, stamp: u32, color: &[u32], forbidden: &mut [u32], treated: &mut [u32]| {
            for &x in g.neighbors(w) {
                let cx = color[x as usize];
                if cx != UNCOLORED {
                    forbidden[cx as usize] = stamp;
                }
            }
            treated[w] = stamp;
        };

    for (k, &v) in order.iter().enumerate() {
        let stamp = k as u32 + 1;
        for (w, e_vw) in g.neighbors_with_edges(v) {
            let cw = color[w];
            if cw == UNCOLORED {
                continue;
            }
            forbidden[cw as usize] = stamp;
            let (p, q, _) = first_neighbor[cw as usize];
            if p == stamp {
                // Case 1: v has two neighbours q, w of colour cw. Any colour next to q or
                // w would close a two-coloured path on four vertices.
                if treated[q as usize] != stamp {
                    treat(q as usize, stamp, &color, &mut forbidden, &mut treated);
                }
                treat(w, stamp, &color, &mut forbidden, &mut treated);
            } else {
                first_neighbor[cw as usize] = (stamp, w as u32, e_vw as u32);
                // Case 2: w is a spoke of a star whose hub x is a neighbour of w; giving v
                // the hub's colour would make the path v-w-x-(another spoke) two-coloured.
                for (x, e_wx) in g.neighbors_with_edges(w) {
                    if x == v || color[x] == UNCOLORED {
                        continue;
                    }
                    if hub[star[e_wx] as usize] == x as u32 {
                        forbidden[color[x] as usize] = stamp;
                    }
                }
            }
        }
        color[v] = first_allowed(&forbidden, stamp);
        if color[v] >= cap {
            return None;
        }
        update_stars(g, v, stamp, &color, &first_neighbor, &mut star, &mut hub);
    }

    let edges: Vec<[u32; 2]> = (0..g.num_edges())
        .map(|e| {
            let [i, j] = g.edge(e);
            [i as u32, j as u32]
        })
        .collect();
    let edge_hub = edges
        .iter()
        .zip(&star)
        .map(|(&[i, j], &s)| match hub[s as usize] {
            // A single-edge star has no natural hub; either end works.
            NO_HUB => i.max(j),
            h => h,
        })
        .collect();
    let num_stars = hub.len();
    Some((
        color,
        StarSet {
            edges,
            star,
            hub: edge_hub,
            num_stars,
        },
    ))
}

/// Attaches every edge between the newly coloured `v` and a coloured neighbour to a star.
fn update_stars(
    g: &AdjacencyGraph,
    v: usize,
    stamp: u32,
    color: &[u32],
    first_neighbor: &[(u32, u32, u32)],
    star: &mut [u32],
    hub: &mut Vec<u32>,
) {
    let cv = color[v];
    for (w, e_vw) in g.neighbors_with_edges(v) {
        let cw = color[w];
        if cw == UNCOLORED {
            continue;
        }
        // w already has a neighbour x of v's colour: edge vw joins the star of wx, hub w.
        let joined = g
            .neighbors_with_edges(w)
            .find(|&(x, _)| x != v && color[x] == cv)
            .map(|(_, e_wx)| {
                let s = star[e_wx];
                hub[s as usize] = w as u32;
                star[e_vw] = s;
            });
        if joined.is_some() {
            continue;
        }
        let (p, q, e_vq) = first_neighbor[cw as usize];
        if p == stamp && q as usize != w {
            // v has another neighbour q of colour cw: v is the hub of the star of vq.
            let s = star[e_vq as usize];
            hub[s as usize] = v as u32;
            star[e_vw] = s;
        } else {
            star[e_vw] = hub.len() as u32;
            hub.push(NO_HUB);
        }
    }
}
