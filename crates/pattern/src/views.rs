//! Zero-copy views of a [`Pattern`] as sprs and faer structures, and conversions from sprs.

use faer::sparse::SymbolicSparseRowMatRef;
use sprs::{CompressedStorage, CsMatBase, CsMatI, CsStructureView, SpIndex};

use crate::error::Result;
use crate::pattern::Pattern;

impl Pattern {
    /// A zero-copy sprs CSR structure view (`CsMatView<()>`) sharing this pattern's arrays.
    ///
    /// ```
    /// use sparsediff_pattern::Pattern;
    /// let p = Pattern::from_entries(2, 3, [(0, 1), (1, 2)])?;
    /// let v = p.as_sprs();
    /// assert_eq!(v.shape(), (2, 3));
    /// assert_eq!(v.indices(), p.col_idx()); // the same memory, not a copy
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn as_sprs(&self) -> CsStructureView<'_> {
        // A slice of zero-sized values needs no memory: any non-null aligned pointer is valid
        // for any length (this is what sprs's own `structure_view` does).
        let units: &[()] = unsafe {
            std::slice::from_raw_parts(std::ptr::NonNull::<()>::dangling().as_ptr(), self.nnz())
        };
        // SAFETY: `Pattern` upholds exactly the invariants sprs requires of a CSR matrix
        // (row pointers from 0 to nnz, sorted unique in-range column indices).
        unsafe {
            CsStructureView::new_unchecked(
                CompressedStorage::CSR,
                self.shape(),
                self.row_ptr(),
                self.col_idx(),
                units,
            )
        }
    }

    /// A zero-copy faer symbolic CSR view sharing this pattern's arrays.
    ///
    /// ```
    /// use sparsediff_pattern::Pattern;
    /// let p = Pattern::identity(3)?;
    /// let f = p.as_faer();
    /// assert_eq!((f.nrows(), f.ncols(), f.compute_nnz()), (3, 3, 3));
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn as_faer(&self) -> SymbolicSparseRowMatRef<'_, usize> {
        // SAFETY: same invariants as faer's sorted, duplicate-free CSR structure.
        unsafe {
            SymbolicSparseRowMatRef::new_unchecked(
                self.nrows(),
                self.ncols(),
                self.row_ptr(),
                None,
                self.col_idx(),
            )
        }
    }

    /// An owned sprs CSR matrix on this pattern with the given values (in the pattern's
    /// entry order). Returns `LengthMismatch` if `values.len() != nnz`.
    pub fn to_sprs_with_values<N: Clone>(&self, values: Vec<N>) -> Result<CsMatI<N, usize>> {
        // (nothing kept: the index arrays are new allocations)
        self.to_sprs_in(values, &mut crate::Scratch::default())
    }

    /// [`to_sprs_with_values`](Self::to_sprs_with_values) with the index arrays copied
    /// into buffers of `scratch` where it has them (the pages another stage is done
    /// with, instead of fresh ones: 48 MB of them for the 1e6 grid's Hessian).
    ///
    /// ```
    /// use sparsediff_pattern::{Pattern, Scratch};
    /// let p = Pattern::from_entries(2, 3, [(0, 1), (1, 2)])?;
    /// let mut scratch = Scratch::keeping_from(8);
    /// let done: Vec<usize> = Vec::with_capacity(16);
    /// let pages = done.as_ptr() as usize;
    /// scratch.put(done);
    /// let m = p.to_sprs_in(vec![1.0, 2.0], &mut scratch)?;
    /// assert_eq!(m.get(1, 2), Some(&2.0));
    /// assert_eq!(m.indices().as_ptr() as usize, pages); // the larger array asks first
    /// # Ok::<(), sparsediff_pattern::PatternError>(())
    /// ```
    pub fn to_sprs_in<N: Clone>(
        &self,
        values: Vec<N>,
        scratch: &mut crate::Scratch,
    ) -> Result<CsMatI<N, usize>> {
        if values.len() != self.nnz() {
            return Err(crate::PatternError::LengthMismatch {
                what: "values and pattern entries",
                left: values.len(),
                right: self.nnz(),
            });
        }
        // The larger array first: it takes the buffer that fits it best, else the
        // largest (grown past without a copy where the allocator remaps).
        let (row_ptr, col_idx) = (self.row_ptr(), self.col_idx());
        let mut indices: Vec<usize> = scratch.for_about(col_idx.len());
        indices.extend_from_slice(col_idx);
        let mut indptr: Vec<usize> = scratch.with_capacity(row_ptr.len());
        indptr.extend_from_slice(row_ptr);
        // SAFETY: see `as_sprs` (the arrays are copies of this pattern's).
        Ok(unsafe {
            CsMatI::new_unchecked(
                CompressedStorage::CSR,
                self.shape(),
                indptr,
                indices,
                values,
            )
        })
    }

    /// The pattern of any sprs matrix (CSR or CSC, any index type). Explicitly stored zeros
    /// count as entries: the structure is what is copied, not the values.
    pub fn from_sprs<N, I, Iptr, IptrS, IndS, DataS>(
        m: &CsMatBase<N, I, IptrS, IndS, DataS, Iptr>,
    ) -> Result<Self>
    where
        I: SpIndex,
        Iptr: SpIndex,
        IptrS: std::ops::Deref<Target = [Iptr]>,
        IndS: std::ops::Deref<Target = [I]>,
        DataS: std::ops::Deref<Target = [N]>,
    {
        let outer = m.outer_dims();
        let indptr = m.indptr();
        let mut ptr = Vec::with_capacity(outer + 1);
        let mut idx = Vec::with_capacity(m.nnz());
        ptr.push(0);
        for o in 0..outer {
            let r = indptr.outer_inds_sz(o);
            idx.extend(m.indices()[r].iter().map(|i| i.index()));
            ptr.push(idx.len());
        }
        let (inner, outer_dim) = (m.inner_dims(), outer);
        let p = Pattern::from_csr_unsorted(outer_dim, inner, ptr, idx)?;
        Ok(if m.is_csr() { p } else { p.transpose() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprs_round_trip() {
        let p = Pattern::from_entries(3, 4, [(0, 0), (0, 3), (2, 1)]).unwrap();
        let m = p.to_sprs_with_values(vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(m.get(0, 3), Some(&2.0));
        assert_eq!(Pattern::from_sprs(&m).unwrap(), p);
        let csc = m.to_csc();
        assert_eq!(Pattern::from_sprs(&csc).unwrap(), p);
        assert_eq!(Pattern::from_sprs(&p.as_sprs()).unwrap(), p);
        assert!(p.to_sprs_with_values(vec![1.0]).is_err());
    }

    #[test]
    fn faer_view_shares_structure() {
        let p = Pattern::from_entries(3, 4, [(0, 0), (0, 3), (2, 1)]).unwrap();
        let f = p.as_faer();
        assert_eq!(f.col_idx_of_row_raw(0), &[0, 3]);
        assert_eq!(f.col_idx_of_row_raw(1), &[] as &[usize]);
    }
}
