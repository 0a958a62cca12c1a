//! A quartic edge energy on an s×s grid, whose Hessian has the 5-point stencil pattern:
//!
//! ```text
//! f(x) = Σ_{edges (p,q)} (x_p − x_q)⁴ + Σ_p cos(x_p)
//! ```
//!
//! Vertex (r, c), `0 ≤ r, c < s`, has index `p = r·s + c`; edges join 4-neighbours (each
//! edge counted once). The Hessian pattern equals
//! [`generators::grid2d`](sparsediff_pattern::generators::grid2d)`(s, s, FivePoint)`.
//!
//! ```
//! use sparsediff_pattern::generators::{grid2d, Stencil2d};
//! use sparsediff_problems::{eval_point, grid_energy::GridEnergy};
//!
//! let grid = GridEnergy::new(4);
//! let x = eval_point(grid.n());
//! let h = grid.hessian_pattern()?;
//! assert_eq!(h, grid2d(4, 4, Stencil2d::FivePoint)?);
//! let values = grid.hessian_values(&x);
//! // each row sums to −cos(x_p): the edge terms only depend on differences
//! for p in 0..grid.n() {
//!     let row_sum: f64 = values[h.row_range(p)].iter().sum();
//!     assert!((row_sum + x[p].cos()).abs() < 1e-12);
//! }
//! let f: f64 = grid.value(&x);
//! assert!(f.is_finite());
//! # Ok::<(), sparsediff_pattern::PatternError>(())
//! ```

use sparsediff_pattern::{Pattern, PatternError};

use crate::{Scalar, check_len};

/// The grid energy on an s×s grid (n = s² variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GridEnergy {
    /// Side length of the grid.
    pub s: usize,
}

impl GridEnergy {
    /// The energy on an s×s grid.
    pub fn new(s: usize) -> Self {
        Self { s }
    }

    /// Number of variables, s² (saturating: such grids cannot be built anyway).
    pub fn n(&self) -> usize {
        self.s.saturating_mul(self.s)
    }

    /// The neighbours of vertex p in increasing order, with p itself in its place (the CSR
    /// row of p): p − s, p − 1, p, p + 1, p + s, those that exist.
    fn row(&self, p: usize) -> impl Iterator<Item = usize> + use<> {
        let s = self.s;
        let (r, c) = (p / s, p % s);
        [
            (r > 0).then(|| p - s),
            (c > 0).then(|| p - 1),
            Some(p),
            (c + 1 < s).then(|| p + 1),
            (r + 1 < s).then(|| p + s),
        ]
        .into_iter()
        .flatten()
    }

    /// f(x), for any scalar type.
    ///
    /// # Panics
    /// If `x.len() != s²`.
    pub fn value<D: Scalar>(&self, x: &[D]) -> D {
        let s = self.s;
        check_len("grid energy input", x.len(), self.n());
        let mut f = D::zero();
        for r in 0..s {
            for c in 0..s {
                let p = r * s + c;
                if c + 1 < s {
                    let d = x[p] - x[p + 1];
                    let d2 = d * d;
                    f += d2 * d2;
                }
                if r + 1 < s {
                    let d = x[p] - x[p + s];
                    let d2 = d * d;
                    f += d2 * d2;
                }
                f += x[p].cos();
            }
        }
        f
    }

    /// The analytic gradient: `∂f/∂x_p = Σ_{q ~ p} 4(x_p − x_q)³ − sin(x_p)`.
    ///
    /// # Panics
    /// If `x.len() != s²`.
    pub fn gradient(&self, x: &[f64]) -> Vec<f64> {
        check_len("grid energy input", x.len(), self.n());
        (0..self.n())
            .map(|p| {
                let edges: f64 = self
                    .row(p)
                    .filter(|&q| q != p)
                    .map(|q| 4.0 * (x[p] - x[q]).powi(3))
                    .sum();
                edges - x[p].sin()
            })
            .collect()
    }

    /// The structure of the Hessian: the 5-point stencil on the s×s grid with the diagonal
    /// (equal to `grid2d(s, s, FivePoint)` for s ≥ 1; s = 0 gives the empty pattern).
    pub fn hessian_pattern(&self) -> Result<Pattern, PatternError> {
        let n = self.n();
        let mut row_ptr = Vec::with_capacity(n.saturating_add(1));
        let mut col_idx = Vec::with_capacity(n.saturating_mul(5));
        row_ptr.push(0);
        for p in 0..n {
            col_idx.extend(self.row(p));
            row_ptr.push(col_idx.len());
        }
        Pattern::from_csr(n, n, row_ptr, col_idx)
    }

    /// Number of entries of the Hessian pattern: `5s² − 4s` (s ≥ 1).
    pub fn hessian_nnz(&self) -> usize {
        (5 * self.n()).saturating_sub(4 * self.s)
    }

    /// The analytic Hessian in the CSR order of [`hessian_pattern`](Self::hessian_pattern):
    /// `H_pq = −12(x_p − x_q)²` for neighbours, `H_pp = Σ_{q ~ p} 12(x_p − x_q)² − cos(x_p)`.
    ///
    /// # Panics
    /// If `x.len() != s²`.
    pub fn hessian_values(&self, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.hessian_nnz()];
        self.hessian_values_into(x, &mut out);
        out
    }

    /// [`hessian_values`](Self::hessian_values) into a caller's buffer of length
    /// [`hessian_nnz`](Self::hessian_nnz) (no allocation).
    ///
    /// # Panics
    /// If `x.len() != s²` or `out` has another length.
    pub fn hessian_values_into(&self, x: &[f64], out: &mut [f64]) {
        check_len("grid energy input", x.len(), self.n());
        check_len("grid energy Hessian buffer", out.len(), self.hessian_nnz());
        let mut pos = 0;
        for p in 0..self.n() {
            let start = pos;
            let mut diag_pos = pos;
            let mut diag = -x[p].cos();
            for q in self.row(p) {
                if q == p {
                    diag_pos = pos;
                } else {
                    let d = x[p] - x[q];
                    let e = 12.0 * d * d;
                    out[pos] = -e;
                    diag += e;
                }
                pos += 1;
            }
            debug_assert!(start <= diag_pos && diag_pos < pos);
            out[diag_pos] = diag;
        }
    }
}

impl sparsediff_ad::ScalarFunction for GridEnergy {
    fn eval<D: num_dual::DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        self.value(x)
    }
}
