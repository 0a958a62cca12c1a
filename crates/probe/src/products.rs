//! The compressed products B (one column per probe) as decoders read them, and the exact
//! products of a known matrix (for tests, comparisons and verification).

use faer::{Mat, MatRef};
use sparsediff_coloring::NEUTRAL;
use sparsediff_pattern::Pattern;

use crate::error::DecodeError;
use crate::plan::{Orientation, Seeds};

/// A validated, read-only view of the products: shape checked, every entry finite. Reads
/// are then unchecked, whatever the strides (row-major lanes or column-major blocks).
#[derive(Clone, Copy)]
pub(crate) struct ProductsView<'a> {
    mat: MatRef<'a, f64>,
}

impl<'a> ProductsView<'a> {
    /// Checks shape and finiteness.
    pub(crate) fn new(
        mat: MatRef<'a, f64>,
        rows: usize,
        probes: usize,
    ) -> Result<Self, DecodeError> {
        let view = Self::prechecked(mat, rows, probes)?;
        let bad = first_non_finite(mat);
        if let Some((row, probe)) = bad {
            return Err(DecodeError::NonFinite {
                row,
                probe,
                value: mat[(row, probe)],
            });
        }
        Ok(view)
    }

    /// Checks the shape only: for [`Decode::decode_prechecked`](crate::Decode), whose
    /// caller has checked that every product is finite.
    pub(crate) fn prechecked(
        mat: MatRef<'a, f64>,
        rows: usize,
        probes: usize,
    ) -> Result<Self, DecodeError> {
        if mat.nrows() != rows || mat.ncols() != probes {
            return Err(DecodeError::Shape {
                rows: mat.nrows(),
                cols: mat.ncols(),
                expected_rows: rows,
                expected_cols: probes,
            });
        }
        Ok(Self { mat })
    }

    /// B[r, c]. The caller guarantees `r < rows` and `c < probes` (decoders precompute
    /// their indices against the same shape that `new` checked).
    #[inline(always)]
    pub(crate) fn at(&self, r: usize, c: usize) -> f64 {
        debug_assert!(r < self.mat.nrows() && c < self.mat.ncols());
        // SAFETY: bounds are guaranteed by construction of every decoder (see above).
        unsafe { *self.mat.get_unchecked(r, c) }
    }
}

/// The first non-finite entry, scanning contiguous storage as one slice (vectorised) and
/// other layouts entry by entry.
fn first_non_finite(mat: MatRef<'_, f64>) -> Option<(usize, usize)> {
    let (rows, cols) = (mat.nrows(), mat.ncols());
    let (rs, cs) = (mat.row_stride(), mat.col_stride());
    let row_major = cs == 1 && rs == cols as isize;
    let col_major = rs == 1 && cs == rows as isize;
    if (row_major || col_major) && rows * cols > 0 {
        // SAFETY: with these strides the rows·cols entries are contiguous from `as_ptr`,
        // and the view borrows them for its lifetime.
        let all = unsafe { std::slice::from_raw_parts(mat.as_ptr(), rows * cols) };
        let k = sparsediff_pattern::first_non_finite(all)?;
        return Some(if row_major {
            (k / cols, k % cols)
        } else {
            (k % rows, k / rows)
        });
    }
    (0..cols).find_map(|c| {
        (0..rows)
            .find(|&r| !mat[(r, c)].is_finite())
            .map(|r| (r, c))
    })
}

/// Checks the output buffer length.
pub(crate) fn check_values(values: &[f64], nnz: usize) -> Result<(), DecodeError> {
    if values.len() != nnz {
        return Err(DecodeError::ValuesLength {
            len: values.len(),
            expected: nnz,
        });
    }
    Ok(())
}

/// The exact products of the matrix with structure `pattern` and `values` (entry order)
/// with the seeds: B = A·S for column probes (m×p), C = Aᵀ·S for row probes (n×p).
pub fn exact_products(
    pattern: &Pattern,
    values: &[f64],
    seeds: &Seeds,
    orientation: Orientation,
) -> Mat<f64> {
    assert_eq!(values.len(), pattern.nnz(), "one value per pattern entry");
    let p = seeds.num_probes();
    let out_rows = match orientation {
        Orientation::Columns => pattern.nrows(),
        Orientation::Rows => pattern.ncols(),
    };
    let mut b = Mat::<f64>::zeros(out_rows, p);
    for i in 0..pattern.nrows() {
        for (k, &j) in pattern.row_range(i).zip(pattern.row(i)) {
            // Column probes: B[i, :] += a_ij S[j, :]; row probes: C[j, :] += a_ij S[i, :].
            let (out, seed_row) = match orientation {
                Orientation::Columns => (i, j),
                Orientation::Rows => (j, i),
            };
            match seeds {
                Seeds::Groups { group, .. } => {
                    if group[seed_row] != NEUTRAL {
                        b[(out, group[seed_row])] += values[k];
                    }
                }
                Seeds::Dense { values: s, .. } => {
                    let s = &s[seed_row * p..(seed_row + 1) * p];
                    for (c, &sc) in s.iter().enumerate() {
                        b[(out, c)] += values[k] * sc;
                    }
                }
            }
        }
    }
    b
}
