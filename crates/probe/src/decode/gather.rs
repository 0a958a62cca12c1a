//! Direct recovery: every entry is one product, B[r, c], at precomputed (r, c).

use faer::MatRef;
use sparsediff_coloring::{AdjacencyGraph, NEUTRAL, StarSet};
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::DecodeError;
use crate::products::{ProductsView, check_values};

/// Reads entry k of the pattern from `B[src[k].0, src[k].1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherDecoder {
    rows: usize,
    probes: usize,
    src: Vec<[u32; 2]>,
}

impl GatherDecoder {
    /// Column groups (CPR, identity, distance-2, direct stencils): entry (i, j) is
    /// B[i, group(j)]. The caller has checked that no row has two columns of one group.
    pub(crate) fn columns(pattern: &Pattern, group: &[usize], probes: usize) -> Self {
        let src = pattern
            .iter()
            .map(|(i, j)| [i as u32, group[j] as u32])
            .collect();
        Self {
            rows: pattern.nrows(),
            probes,
            src,
        }
    }

    /// Row groups: products C = Aᵀ·S are n×p and entry (i, j) is C[j, group(i)].
    pub(crate) fn rows(pattern: &Pattern, group: &[usize], probes: usize) -> Self {
        let src = pattern
            .iter()
            .map(|(i, j)| [j as u32, group[i] as u32])
            .collect();
        Self {
            rows: pattern.ncols(),
            probes,
            src,
        }
    }

    /// Star colouring of a symmetric pattern: off-diagonal (i, j) is B[spoke, colour(hub)],
    /// the diagonal (i, i) is B[i, colour(i)].
    pub(crate) fn star(
        pattern: &Pattern,
        g: &AdjacencyGraph,
        stars: &StarSet,
        colors: &[usize],
        probes: usize,
    ) -> Self {
        let hubs: Vec<(usize, usize, usize)> = stars.entries().collect();
        let mut src = Vec::with_capacity(pattern.nnz());
        for i in 0..pattern.nrows() {
            let mut edges = g.neighbors_with_edges(i);
            for &j in pattern.row(i) {
                if i == j {
                    src.push([i as u32, colors[i] as u32]);
                    continue;
                }
                let (w, e) = edges.next().expect("the graph row mirrors the pattern row");
                debug_assert_eq!(w, j);
                let hub = hubs[e].2;
                let spoke = if hub == i { j } else { i };
                debug_assert!(colors[hub] != NEUTRAL);
                src.push([spoke as u32, colors[hub] as u32]);
            }
        }
        Self {
            rows: pattern.nrows(),
            probes,
            src,
        }
    }
}

impl Decode for GatherDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.rows, self.probes)
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        self.gather(ProductsView::new(products, self.rows, self.probes)?, values)
    }

    fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
        _pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        self.gather(
            ProductsView::prechecked(products, self.rows, self.probes)?,
            values,
        )
    }
}

impl GatherDecoder {
    fn gather(&self, b: ProductsView<'_>, values: &mut [f64]) -> Result<(), DecodeError> {
        check_values(values, self.src.len())?;
        for (v, &[r, c]) in values.iter_mut().zip(&self.src) {
            *v = b.at(r as usize, c as usize);
        }
        Ok(())
    }
}
