//! [`FaerOutput`]: an evaluator's matrix as a faer CSC matrix (the whole matrix or one
//! triangle), laid out once and refilled by `evaluate_into` without allocating — what a
//! sparse factorisation that keeps its symbolic analysis across Newton steps wants.
//!
//! ```
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::probe::Triangle;
//! use sparsediff::{Options, ScalarFunction, SparseHessian};
//!
//! struct Chain;
//! impl ScalarFunction for Chain {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         x.windows(2).map(|w| (w[0] * w[1]).sin()).sum()
//!     }
//! }
//! let x0 = vec![0.3; 100];
//! let mut h = SparseHessian::prepare(Chain, &x0, &Options::default())?;
//! let mut lower = h.faer_output(Triangle::Lower)?; // laid out once
//! for step in 0..3 {
//!     let x: Vec<f64> = x0.iter().map(|v| v + 0.1 * step as f64).collect();
//!     h.evaluate_into(&x, &mut lower)?; // no allocation
//!     let m = lower.matrix();
//!     assert_eq!(m.compute_nnz(), 100 + 99); // diagonal and sub-diagonal
//!     assert_eq!(lower.get(1, 0), h.matrix().get(1, 0).copied());
//!     assert_eq!(lower.get(0, 1), None); // the upper triangle is not stored
//! }
//! # Ok::<(), sparsediff::SparseError>(())
//! ```

use faer::sparse::{SparseColMat, SparseColMatRef, Triplet};
use sparsediff_pattern::Pattern;
use sparsediff_probe::Triangle;

use crate::error::SparseError;

/// A faer CSC matrix holding an evaluator's matrix (or one triangle of it), with the map
/// from its stored entries to the evaluator's values. Build it with
/// [`SparseHessian::faer_output`](crate::SparseHessian::faer_output) or
/// [`SparseJacobian::faer_output`](crate::SparseJacobian::faer_output); refill it with
/// their `evaluate_into`.
#[derive(Debug, Clone)]
pub struct FaerOutput {
    triangle: Triangle,
    matrix: SparseColMat<usize, f64>,
    /// For stored entry k (CSC order): its position in the evaluator's values.
    gather: Vec<usize>,
    /// The evaluator's re-design count when this layout was made (a re-design changes the
    /// pattern, and the layout is made again).
    generation: usize,
    rebuilt: bool,
}

impl FaerOutput {
    /// The layout of `triangle` of `pattern` (whose values are in the pattern's order),
    /// at re-design count `generation`.
    fn new(pattern: &Pattern, triangle: Triangle, generation: usize) -> Result<Self, SparseError> {
        let keeps = |i: usize, j: usize| match triangle {
            Triangle::Full => true,
            Triangle::Lower => j <= i,
            Triangle::Upper => j >= i,
        };
        // Each kept entry carries its position (exact in f64 below 2⁵³): after faer sorts
        // them into CSC order the values read back are the gather map.
        let triplets: Vec<Triplet<usize, usize, f64>> = pattern
            .iter()
            .enumerate()
            .filter(|(_, (i, j))| keeps(*i, *j))
            .map(|(k, (i, j))| Triplet::new(i, j, k as f64))
            .collect();
        let matrix =
            SparseColMat::try_new_from_triplets(pattern.nrows(), pattern.ncols(), &triplets)
                .map_err(|_| SparseError::InvalidOption {
                    option: "faer output",
                    reason: "the pattern's entries must be unique and in range",
                })?;
        let gather = matrix.val().iter().map(|&k| k as usize).collect();
        Ok(Self {
            triangle,
            matrix,
            gather,
            generation,
            rebuilt: false,
        })
    }

    /// Copies the evaluator's `values` into the stored entries (no allocation).
    fn fill(&mut self, values: &[f64]) {
        let out = self.matrix.val_mut();
        for (v, &k) in out.iter_mut().zip(&self.gather) {
            *v = values[k];
        }
    }

    /// The layout of `triangle` of an evaluator's matrix (`pattern`, `values`) at re-design
    /// count `generation`, filled.
    pub(crate) fn of(
        pattern: &Pattern,
        values: &[f64],
        triangle: Triangle,
        generation: usize,
    ) -> Result<Self, SparseError> {
        let mut out = Self::new(pattern, triangle, generation)?;
        out.fill(values);
        Ok(out)
    }

    /// Refilled after an evaluation; laid out again first if a re-design (a new
    /// `generation`) changed the pattern since, and then `rebuilt()` is true until the
    /// next refresh without one.
    pub(crate) fn refresh(
        &mut self,
        pattern: &Pattern,
        values: &[f64],
        generation: usize,
    ) -> Result<(), SparseError> {
        if self.generation != generation {
            *self = FaerOutput {
                rebuilt: true,
                ..Self::new(pattern, self.triangle, generation)?
            };
        } else {
            self.rebuilt = false;
        }
        self.fill(values);
        Ok(())
    }

    /// The matrix (CSC), as of the last `evaluate_into`.
    pub fn matrix(&self) -> SparseColMatRef<'_, usize, f64> {
        self.matrix.as_ref()
    }

    /// The stored value at (i, j), if (i, j) is stored.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        self.matrix.as_ref().get(i, j).copied()
    }

    /// Which entries are stored.
    pub fn triangle(&self) -> Triangle {
        self.triangle
    }

    /// Whether the last `evaluate_into` had to lay the matrix out again (the evaluator's
    /// pattern grew at a branch change: a symbolic factorisation of the old structure no
    /// longer fits).
    pub fn rebuilt(&self) -> bool {
        self.rebuilt
    }
}
