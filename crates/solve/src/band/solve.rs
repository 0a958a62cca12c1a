//! Solves with a banded factor: one vector or a block of right-hand sides.

use faer::MatMut;
use faer::reborrow::ReborrowMut;

use super::kernel;
use super::numeric::BandFactorRef;
use crate::error::{Result, check_len};

impl BandFactorRef<'_> {
    /// Solves `A·x = b` in place for one right-hand side (`b` in, `x` out). Never
    /// allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`](crate::SolveError::LengthMismatch) if
    /// `b.len() != n`. Non-finite entries of `b` are not checked: they propagate.
    pub fn solve_slice_in_place(&self, b: &mut [f64]) -> Result<()> {
        let s = self.symbolic;
        check_len("right-hand side length", s.n(), b.len())?;
        kernel::solve_band_slice(s.beta(), self.factor, s.n(), b);
        Ok(())
    }

    /// Solves `A·X = B` in place for a block of right-hand sides, one per column of the
    /// faer matrix `rhs` (n rows, any number of columns). Columns with unit row stride
    /// (faer's default column-major `Mat`) take the fast contiguous path; other layouts
    /// (a transposed row-major block) are solved through strided access. Never allocates.
    ///
    /// Errors: [`SolveError::LengthMismatch`](crate::SolveError::LengthMismatch) if
    /// `rhs.nrows() != n`.
    ///
    /// ```
    /// use faer::Mat;
    /// use sparsediff_solve::band::{BandLdltParams, BandSymbolic};
    /// // A = diag(2, 4) stored as a band with β = 0
    /// let s = BandSymbolic::new(2, 0)?;
    /// let mut storage = vec![2.0, 4.0];
    /// let f = s.ldlt_band_in_place(&mut storage, BandLdltParams::default())?;
    /// let mut b = Mat::from_fn(2, 3, |i, j| (i + j) as f64); // three right-hand sides
    /// f.solve_in_place(b.as_mut())?;
    /// assert_eq!(b[(1, 2)], 3.0 / 4.0);
    /// # Ok::<(), sparsediff_solve::SolveError>(())
    /// ```
    pub fn solve_in_place(&self, mut rhs: MatMut<'_, f64>) -> Result<()> {
        let s = self.symbolic;
        check_len("right-hand side rows", s.n(), rhs.nrows())?;
        if rhs.row_stride() == 1 {
            for j in 0..rhs.ncols() {
                let col = rhs.rb_mut().col_mut(j);
                if let Some(c) = col.try_as_col_major_mut() {
                    kernel::solve_band_slice(s.beta(), self.factor, s.n(), c.as_slice_mut());
                }
            }
        } else {
            for j in 0..rhs.ncols() {
                let mut x = rhs.rb_mut().col_mut(j);
                kernel::solve_band(s.beta(), self.factor, s.n(), &mut x);
            }
        }
        Ok(())
    }
}
