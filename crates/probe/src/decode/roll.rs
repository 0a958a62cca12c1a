//! The banded "roll": with stride probes S[j, j mod w] = 1 and a band whose rows span at
//! most w consecutive columns, every column of row i has a distinct residue mod w, so
//! A[i, j] = B[i, j mod w]. Reading B[i, (i + d) mod w] along each diagonal d is the roll of
//! the original prototype; here the index is computed per entry, nothing is stored.

use std::sync::Arc;

use faer::MatRef;
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::DecodeError;
use crate::products::{ProductsView, check_values};

/// Decodes stride probes of width `stride`.
#[derive(Debug, Clone)]
pub struct RollDecoder {
    pattern: Arc<Pattern>,
    stride: usize,
}

impl RollDecoder {
    /// The caller has checked that every row of `pattern` spans fewer than `stride + 1`
    /// consecutive columns.
    pub(crate) fn new(pattern: Arc<Pattern>, stride: usize) -> Self {
        Self { pattern, stride }
    }

    /// The stride w (number of probes).
    pub fn stride(&self) -> usize {
        self.stride
    }
}

impl Decode for RollDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.pattern.nrows(), self.stride)
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        let b = ProductsView::new(products, self.pattern.nrows(), self.stride)?;
        check_values(values, self.pattern.nnz())?;
        let p = &*self.pattern;
        let w = self.stride;
        for i in 0..p.nrows() {
            let row = p.row(i);
            let Some(&first) = row.first() else { continue };
            // One division per row; columns increase, so residues advance with wrap-around.
            let (mut r, mut prev) = (first % w, first);
            for (k, &j) in p.row_range(i).zip(row) {
                r += j - prev;
                while r >= w {
                    r -= w;
                }
                prev = j;
                values[k] = b.at(i, r);
            }
        }
        Ok(())
    }
}
