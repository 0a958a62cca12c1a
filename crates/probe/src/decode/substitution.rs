//! Recovery by substitution along the two-coloured trees of an acyclic colouring.
//!
//! For a tree edge (leaf ℓ, parent p), H[ℓ, p] = B[ℓ, colour(p)] − Σ H[ℓ, k] over ℓ's
//! children k in that tree. Every step therefore depends only on its children's steps.
//! Instead of walking the trees one after another (each tree of a stencil colouring spans
//! the whole grid, so that walk misses the cache at every step), the steps of all trees
//! are put in one global order that respects those dependencies and otherwise follows
//! memory (Kahn's algorithm, highest leaf index first), and each step reads its children's
//! values from the positions H[ℓ, k] that were just written. Decoding is then a single
//! sweep with no per-vertex state. The diagonal is direct: H[i, i] = B[i, colour(i)].

use std::collections::BinaryHeap;

use faer::MatRef;
use sparsediff_coloring::{AdjacencyGraph, TreeSet};
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::DecodeError;
use crate::products::{ProductsView, check_values};

/// One tree edge: the leaf, the colour of its parent, the positions of (ℓ, p) and (p, ℓ),
/// where its children's positions end in `child_pos`, and whether the step just before it
/// is one of its children (that child's value is carried in a register instead of being
/// listed in `child_pos`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    leaf: u32,
    color: u32,
    pos_lp: u32,
    pos_pl: u32,
    children_end: u32,
    prev_child: bool,
}

/// Prepared substitution: diagonal reads and the ordered steps.
#[derive(Debug, Clone)]
pub struct SubstitutionDecoder {
    n: usize,
    probes: usize,
    nnz: usize,
    diagonal: Vec<[u32; 3]>,
    steps: Vec<Step>,
    child_pos: Vec<u32>,
}

impl SubstitutionDecoder {
    /// From the trees of an acyclic colouring of the symmetric `pattern` (graph `g`).
    pub(crate) fn new(
        pattern: &Pattern,
        g: &AdjacencyGraph,
        trees: &TreeSet,
        colors: &[usize],
        probes: usize,
    ) -> Self {
        let n = pattern.nrows();
        let diagonal: Vec<[u32; 3]> = colors
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| {
                pattern
                    .position(i, i)
                    .map(|pos| [pos as u32, i as u32, c as u32])
            })
            .collect();
        // Positions of every directed edge slot, from the graph's CSR order (which is the
        // pattern's row order without the diagonal): slot_pos[slot] = pattern position.
        let pos_of = |a: usize, b: usize| {
            pattern
                .position(a, b)
                .expect("tree edges are pattern entries") as u32
        };

        // Steps in tree order, each with the step that peels its parent (if any).
        let m = trees.num_edges();
        let mut leaf = Vec::with_capacity(m);
        let mut parent_step = vec![u32::MAX; m];
        let mut leaf_step = vec![u32::MAX; n]; // within the current tree
        let mut tree_steps: Vec<(usize, usize)> = Vec::new();
        for t in 0..trees.num_trees() {
            tree_steps.clear();
            tree_steps.extend(trees.tree(t));
            let first = leaf.len();
            for (k, &(l, _)) in tree_steps.iter().enumerate() {
                leaf_step[l] = (first + k) as u32;
            }
            for (k, &(l, p)) in tree_steps.iter().enumerate() {
                leaf.push((l, p));
                parent_step[first + k] = leaf_step[p]; // MAX for the root
            }
            for &(l, _) in &tree_steps {
                leaf_step[l] = u32::MAX;
            }
        }
        // Children per step (CSR) and the global order (Kahn, highest leaf index first).
        let mut pending = vec![0u32; m];
        for &q in &parent_step {
            if q != u32::MAX {
                pending[q as usize] += 1;
            }
        }
        let mut ready: BinaryHeap<(u32, u32)> = (0..m)
            .filter(|&s| pending[s] == 0)
            .map(|s| (leaf[s].0 as u32, s as u32))
            .collect();
        let mut order = Vec::with_capacity(m);
        while let Some((_, s)) = ready.pop() {
            order.push(s);
            let q = parent_step[s as usize];
            if q != u32::MAX {
                pending[q as usize] -= 1;
                if pending[q as usize] == 0 {
                    ready.push((leaf[q as usize].0 as u32, q));
                }
            }
        }
        debug_assert_eq!(order.len(), m, "trees are acyclic");
        // children[q]: the steps whose parent step is q, as positions H[ℓ_q, k] = pos(ℓ_q, k).
        let mut child_start = vec![0u32; m + 1];
        for &q in &parent_step {
            if q != u32::MAX {
                child_start[q as usize + 1] += 1;
            }
        }
        for s in 0..m {
            child_start[s + 1] += child_start[s];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[m] as usize];
        for (s, &q) in parent_step.iter().enumerate() {
            if q != u32::MAX {
                children[fill[q as usize] as usize] = s as u32;
                fill[q as usize] += 1;
            }
        }
        let mut steps = Vec::with_capacity(m);
        let mut child_pos = Vec::with_capacity(children.len());
        // Along a path (a band's trees) every step's only child is the step before it:
        // carrying that value in a register takes the store-to-load round trip off the
        // chain of dependent subtractions, which is what bounds this sweep.
        let mut before = u32::MAX;
        for &s in &order {
            let (l, p) = leaf[s as usize];
            let mut prev_child = false;
            for &c in
                &children[child_start[s as usize] as usize..child_start[s as usize + 1] as usize]
            {
                if c == before {
                    prev_child = true;
                } else {
                    let (k, _) = leaf[c as usize];
                    child_pos.push(pos_of(l, k));
                }
            }
            steps.push(Step {
                leaf: l as u32,
                color: colors[p] as u32,
                pos_lp: pos_of(l, p),
                pos_pl: pos_of(p, l),
                children_end: child_pos.len() as u32,
                prev_child,
            });
            before = s;
        }
        debug_assert_eq!(steps.len(), g.num_edges());
        Self {
            n,
            probes,
            nnz: pattern.nnz(),
            diagonal,
            steps,
            child_pos,
        }
    }
}

impl Decode for SubstitutionDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.n, self.probes)
    }

    fn decode(&mut self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        let b = ProductsView::new(products, self.n, self.probes)?;
        check_values(values, self.nnz)?;
        for &[pos, row, c] in &self.diagonal {
            values[pos as usize] = b.at(row as usize, c as usize);
        }
        let mut start = 0usize;
        let mut prev = 0.0;
        for s in &self.steps {
            let end = s.children_end as usize;
            let children: f64 = self.child_pos[start..end]
                .iter()
                .map(|&q| values[q as usize])
                .sum();
            start = end;
            let mut v = b.at(s.leaf as usize, s.color as usize) - children;
            if s.prev_child {
                v -= prev;
            }
            values[s.pos_lp as usize] = v;
            values[s.pos_pl as usize] = v;
            prev = v;
        }
        Ok(())
    }
}
