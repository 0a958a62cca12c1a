//! Recovery by substitution along the two-coloured trees of an acyclic colouring.
//!
//! For a tree edge (leaf ℓ, parent p) taken in elimination order,
//! H[ℓ, p] = B[ℓ, colour(p)] − Σ H[ℓ, k] over ℓ's children k in that tree, which were all
//! recovered before. The children's sum is kept in an accumulator per vertex, reset after
//! each tree. The diagonal is direct: H[i, i] = B[i, colour(i)].

use faer::MatRef;
use sparsediff_coloring::{AdjacencyGraph, TreeSet};
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::DecodeError;
use crate::products::{ProductsView, check_values};

/// One tree edge: leaf, parent, colour of the parent, and the positions of (ℓ, p), (p, ℓ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    leaf: u32,
    parent: u32,
    color: u32,
    pos_lp: u32,
    pos_pl: u32,
}

/// Prepared substitution: steps tree by tree, diagonal reads, and the accumulator.
#[derive(Debug, Clone)]
pub struct SubstitutionDecoder {
    n: usize,
    probes: usize,
    nnz: usize,
    diagonal: Vec<[u32; 3]>,
    steps: Vec<Step>,
    tree_end: Vec<u32>,
    acc: Vec<f64>,
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
        let mut diagonal = Vec::new();
        for (i, &c) in colors.iter().enumerate() {
            if let Some(pos) = pattern.position(i, i) {
                diagonal.push([pos as u32, i as u32, c as u32]);
            }
        }
        let mut steps = Vec::with_capacity(trees.num_edges());
        let mut tree_end = Vec::with_capacity(trees.num_trees());
        for t in 0..trees.num_trees() {
            for (l, p) in trees.tree(t) {
                let pos = |a: usize, b: usize| {
                    pattern
                        .position(a, b)
                        .expect("tree edges are pattern entries") as u32
                };
                steps.push(Step {
                    leaf: l as u32,
                    parent: p as u32,
                    color: colors[p] as u32,
                    pos_lp: pos(l, p),
                    pos_pl: pos(p, l),
                });
            }
            tree_end.push(steps.len() as u32);
        }
        debug_assert_eq!(steps.len(), g.num_edges());
        Self {
            n,
            probes,
            nnz: pattern.nnz(),
            diagonal,
            steps,
            tree_end,
            acc: vec![0.0; n],
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
        for &end in &self.tree_end {
            let tree = &self.steps[start..end as usize];
            for s in tree {
                let v = b.at(s.leaf as usize, s.color as usize) - self.acc[s.leaf as usize];
                values[s.pos_lp as usize] = v;
                values[s.pos_pl as usize] = v;
                self.acc[s.parent as usize] += v;
            }
            for s in tree {
                self.acc[s.leaf as usize] = 0.0;
                self.acc[s.parent as usize] = 0.0;
            }
            start = end as usize;
        }
        Ok(())
    }
}
