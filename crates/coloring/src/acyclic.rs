//! Acyclic colouring with the two-coloured trees that substitution needs (Gebremedhin,
//! Tarafdar, Manne, Pothen, SISC 2007, Algorithm 3.1, with disjoint sets over edges).
//!
//! An acyclic colouring is a distance-1 colouring in which every cycle uses at least three
//! colours: the subgraph induced by any two colour classes is a forest. The entries of each
//! two-coloured tree are recovered by peeling leaves: for a leaf ℓ with parent p,
//! H[ℓ, p] = B[ℓ, colour(p)] − Σ H[ℓ, k] over ℓ's already-peeled children k.

use crate::check::Violation;
use crate::graph::AdjacencyGraph;
use crate::greedy::{UNCOLORED, first_allowed};

/// Disjoint sets over edge ids with union by rank and path halving.
struct Forest {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl Forest {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            rank: vec![0; n],
        }
    }

    #[inline]
    fn find(&mut self, mut x: usize) -> usize {
        loop {
            let p = self.parent[x] as usize;
            let gp = self.parent[p] as usize;
            if p == gp {
                return p;
            }
            self.parent[x] = gp as u32;
            x = gp;
        }
    }

    /// Joins the sets of two roots.
    #[inline]
    fn union_roots(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (ra, rb) = (self.rank[a], self.rank[b]);
        if ra < rb {
            self.parent[a] = b as u32;
        } else {
            self.parent[b] = a as u32;
            if ra == rb {
                self.rank[a] += 1;
            }
        }
    }
}

/// The two-coloured trees of an acyclic colouring, each as its edges in elimination order:
/// `(leaf, parent)` pairs such that when an edge comes up, every other edge of the leaf in
/// that tree has already come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSet {
    pub(crate) tree_ptr: Vec<usize>,
    pub(crate) order: Vec<[u32; 2]>,
    pub(crate) is_star: Vec<bool>,
}

impl TreeSet {
    /// Number of two-coloured trees.
    pub fn num_trees(&self) -> usize {
        self.is_star.len()
    }

    /// Number of edges over all trees (off-diagonal pairs {i, j}).
    pub fn num_edges(&self) -> usize {
        self.order.len()
    }

    /// The `(leaf, parent)` pairs of tree `t` in elimination order.
    pub fn tree(&self, t: usize) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        self.order[self.tree_ptr[t]..self.tree_ptr[t + 1]]
            .iter()
            .map(|&[l, p]| (l as usize, p as usize))
    }

    /// Whether tree `t` is a star (all its edges share one vertex).
    pub fn is_star(&self, t: usize) -> bool {
        self.is_star[t]
    }

    /// All `(leaf, parent)` pairs, tree after tree.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        self.order.iter().map(|&[l, p]| (l as usize, p as usize))
    }
}

impl TreeSet {
    /// The two-coloured trees of a given colouring (a closed-form design, a user's
    /// colouring), checking on the way that it is an acyclic colouring: every vertex
    /// coloured (no neutral), adjacent vertices different, and no two-coloured cycle. The
    /// violation found names the vertices.
    pub fn from_colors(g: &AdjacencyGraph, colors: &[usize]) -> Result<TreeSet, Violation> {
        check_proper(g, colors)?;
        let ne = g.num_edges();
        // Edges grouped by colour pair; one union-find over vertices per pair.
        let mut by_pair: Vec<(usize, usize, u32)> = (0..ne)
            .map(|e| {
                let [v, w] = g.edge(e);
                let (a, b) = (colors[v].min(colors[w]), colors[v].max(colors[w]));
                (a, b, e as u32)
            })
            .collect();
        by_pair.sort_unstable();
        let mut parent: Vec<u32> = (0..g.n() as u32).collect();
        let mut touched: Vec<usize> = Vec::new();
        let mut tree_of_root = vec![u32::MAX; g.n()];
        let mut tree_of_edge = vec![0u32; ne];
        let mut num_trees = 0usize;
        let find = |parent: &mut [u32], mut x: usize| {
            while parent[x] as usize != x {
                let gp = parent[parent[x] as usize];
                parent[x] = gp;
                x = gp as usize;
            }
            x
        };
        let mut start = 0;
        while start < by_pair.len() {
            let pair = (by_pair[start].0, by_pair[start].1);
            let end = start
                + by_pair[start..]
                    .iter()
                    .take_while(|t| (t.0, t.1) == pair)
                    .count();
            for &(_, _, e) in &by_pair[start..end] {
                let [v, w] = g.edge(e as usize);
                touched.extend([v, w]);
                let (rv, rw) = (find(&mut parent, v), find(&mut parent, w));
                if rv == rw {
                    return Err(Violation::TwoColoredCycle {
                        a: v,
                        b: w,
                        colors: [pair.0, pair.1],
                    });
                }
                parent[rv] = rw as u32;
            }
            for &(_, _, e) in &by_pair[start..end] {
                let r = find(&mut parent, g.edge(e as usize)[0]);
                if tree_of_root[r] == u32::MAX {
                    tree_of_root[r] = num_trees as u32;
                    num_trees += 1;
                }
                tree_of_edge[e as usize] = tree_of_root[r];
            }
            for &v in &touched {
                parent[v] = v as u32;
                tree_of_root[v] = u32::MAX;
            }
            touched.clear();
            start = end;
        }
        Ok(build_trees(g, &tree_of_edge, num_trees))
    }
}

/// Every vertex has a (non-neutral) colour and adjacent vertices differ.
pub(crate) fn check_proper(g: &AdjacencyGraph, colors: &[usize]) -> Result<(), Violation> {
    if colors.len() != g.n() {
        return Err(Violation::WrongLength {
            len: colors.len(),
            expected: g.n(),
        });
    }
    if let Some(v) = colors.iter().position(|&c| c == crate::NEUTRAL) {
        return Err(Violation::Neutral { vertex: v });
    }
    for e in 0..g.num_edges() {
        let [v, w] = g.edge(e);
        if colors[v] == colors[w] {
            return Err(Violation::Adjacent {
                a: v,
                b: w,
                color: colors[v],
            });
        }
    }
    Ok(())
}

/// Acyclic-colours `g` greedily in `order`; returns colours and the tree set.
pub(crate) fn acyclic_coloring(g: &AdjacencyGraph, order: &[usize]) -> (Vec<u32>, TreeSet) {
    acyclic_coloring_capped(g, order, u32::MAX).expect("no colour reaches u32::MAX")
}

/// [`acyclic_coloring`], abandoned (`None`) as soon as a vertex needs colour `cap` or more.
pub(crate) fn acyclic_coloring_capped(
    g: &AdjacencyGraph,
    order: &[usize],
    cap: u32,
) -> Option<(Vec<u32>, TreeSet)> {
    let n = g.n();
    let ne = g.num_edges();
    let mut color = vec![UNCOLORED; n];
    let mut forbidden = vec![0u32; n + 1];
    // first_neighbor[c] = (stamp, edge) of the first neighbour of colour c met from v.
    let mut first_neighbor = vec![(0u32, 0u32); n + 1];
    // first_visit[root] = (stamp, w): the tree was first reached from v through w.
    let mut first_visit = vec![(0u32, 0u32); ne];
    let mut forest = Forest::new(ne);

    for (k, &v) in order.iter().enumerate() {
        let stamp = k as u32 + 1;
        for &w in g.neighbors(v) {
            let cw = color[w as usize];
            if cw != UNCOLORED {
                forbidden[cw as usize] = stamp;
            }
        }
        for &w in g.neighbors(v) {
            let w = w as usize;
            if color[w] == UNCOLORED {
                continue;
            }
            for (x, e_wx) in g.neighbors_with_edges(w) {
                let cx = color[x];
                if cx == UNCOLORED || forbidden[cx as usize] == stamp {
                    continue;
                }
                // Prevent a two-coloured cycle: if the tree containing wx is reached from v
                // through two different neighbours, colour cx would close a cycle.
                let root = forest.find(e_wx);
                let (p, q) = first_visit[root];
                if p != stamp {
                    first_visit[root] = (stamp, w as u32);
                } else if q as usize != w {
                    forbidden[cx as usize] = stamp;
                }
            }
        }
        let cv = first_allowed(&forbidden, stamp);
        if cv >= cap {
            return None;
        }
        color[v] = cv;
        // Grow two-coloured stars centred at v: edges to neighbours of one colour join.
        for (w, e_vw) in g.neighbors_with_edges(v) {
            let cw = color[w];
            if cw == UNCOLORED {
                continue;
            }
            let (p, e_vq) = first_neighbor[cw as usize];
            if p != stamp {
                first_neighbor[cw as usize] = (stamp, e_vw as u32);
            } else {
                let (a, b) = (forest.find(e_vw), forest.find(e_vq as usize));
                forest.union_roots(a, b);
            }
        }
        // Merge the trees that v now connects: vw and wx with colour(x) = colour(v).
        for (w, e_vw) in g.neighbors_with_edges(v) {
            if color[w] == UNCOLORED {
                continue;
            }
            for (x, e_wx) in g.neighbors_with_edges(w) {
                if x != v && color[x] == cv {
                    let (a, b) = (forest.find(e_vw), forest.find(e_wx));
                    forest.union_roots(a, b);
                }
            }
        }
    }
    let ne = g.num_edges();
    // Tree index of every edge, numbered by first appearance.
    let mut tree_of_root = vec![u32::MAX; ne];
    let mut num_trees = 0usize;
    let tree_of_edge: Vec<u32> = (0..ne)
        .map(|e| {
            let r = forest.find(e);
            if tree_of_root[r] == u32::MAX {
                tree_of_root[r] = num_trees as u32;
                num_trees += 1;
            }
            tree_of_root[r]
        })
        .collect();
    drop(tree_of_root);
    let trees = build_trees(g, &tree_of_edge, num_trees);
    Some((color, trees))
}

/// Groups edges by tree (`tree_of_edge`, ids `0..num_trees`) and orders each tree's edges
/// by repeatedly peeling leaves.
fn build_trees(g: &AdjacencyGraph, tree_of_edge: &[u32], num_trees: usize) -> TreeSet {
    let ne = g.num_edges();
    let n = g.n();
    let mut tree_ptr = vec![0usize; num_trees + 1];
    for &t in tree_of_edge {
        tree_ptr[t as usize + 1] += 1;
    }
    for t in 0..num_trees {
        tree_ptr[t + 1] += tree_ptr[t];
    }
    let mut next = tree_ptr.clone();
    let mut edges_by_tree = vec![0u32; ne];
    for (e, &t) in tree_of_edge.iter().enumerate() {
        edges_by_tree[next[t as usize]] = e as u32;
        next[t as usize] += 1;
    }

    // Peel each tree. Per-tree adjacency is built in scratch arrays indexed by local ids.
    let mut local = vec![u32::MAX; n];
    let mut vertices: Vec<u32> = Vec::new();
    let mut degree: Vec<u32> = Vec::new();
    let mut adj_ptr: Vec<usize> = Vec::new();
    let mut adj: Vec<u32> = Vec::new();
    let mut queue: Vec<u32> = Vec::new();
    let mut order = Vec::with_capacity(ne);
    let mut is_star = Vec::with_capacity(num_trees);
    for t in 0..num_trees {
        let tree_edges = &edges_by_tree[tree_ptr[t]..tree_ptr[t + 1]];
        vertices.clear();
        degree.clear();
        for &e in tree_edges {
            for v in g.edge(e as usize) {
                if local[v] == u32::MAX {
                    local[v] = vertices.len() as u32;
                    vertices.push(v as u32);
                    degree.push(0);
                }
                degree[local[v] as usize] += 1;
            }
        }
        let nv = vertices.len();
        adj_ptr.clear();
        adj_ptr.push(0);
        for d in &degree {
            adj_ptr.push(adj_ptr.last().copied().unwrap_or(0) + *d as usize);
        }
        adj.clear();
        adj.resize(2 * tree_edges.len(), 0);
        let mut fill = adj_ptr[..nv].to_vec();
        for &e in tree_edges {
            let [a, b] = g.edge(e as usize);
            let (la, lb) = (local[a] as usize, local[b] as usize);
            adj[fill[la]] = lb as u32;
            fill[la] += 1;
            adj[fill[lb]] = la as u32;
            fill[lb] += 1;
        }
        queue.clear();
        queue.extend((0..nv as u32).filter(|&l| degree[l as usize] == 1));
        is_star.push(queue.len() + 1 >= nv);
        let mut head = 0;
        while head < queue.len() {
            let leaf = queue[head] as usize;
            head += 1;
            if degree[leaf] == 0 {
                continue; // the last vertex of the tree
            }
            degree[leaf] = 0;
            for &p in &adj[adj_ptr[leaf]..adj_ptr[leaf + 1]] {
                let p = p as usize;
                if degree[p] == 0 {
                    continue; // an already peeled child
                }
                order.push([vertices[leaf], vertices[p]]);
                degree[p] -= 1;
                if degree[p] == 1 {
                    queue.push(p as u32);
                }
            }
        }
        for &v in &vertices {
            local[v as usize] = u32::MAX;
        }
    }
    debug_assert_eq!(
        order.len(),
        ne,
        "every edge of a forest is peeled exactly once"
    );
    TreeSet {
        tree_ptr,
        order,
        is_star,
    }
}
