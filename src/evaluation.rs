//! [`Evaluation`]: what `evaluate` returns — the matrix, with the report of the evaluation
//! that made it, so a caller holding the matrix can still read probes, verification and
//! branch counts.

use std::ops::Deref;

use sprs::CsMat;

use crate::engine::RecoveryInfo;

/// The matrix of one evaluation (dereferences to it) and the evaluator's report.
///
/// ```
/// use sparsediff::num_dual::DualNum;
/// use sparsediff::{Options, ScalarFunction, SparseHessian};
///
/// struct Chain;
/// impl ScalarFunction for Chain {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         x.windows(2).map(|w| (w[0] * w[1]).sin()).sum()
///     }
/// }
/// let x0 = vec![0.3; 10];
/// let mut h = SparseHessian::prepare(Chain, &x0, &Options::default())?;
/// let m = h.evaluate(&x0)?;
/// assert_eq!(m.nnz(), 10 + 2 * 9); // a sprs matrix, through Deref
/// assert_eq!(m.info().evaluations, 1); // the report, while the matrix is held
/// # Ok::<(), sparsediff::SparseError>(())
/// ```
/// Not `Clone`: `evaluation.clone()` clones the matrix (through `Deref`), as it did when
/// `evaluate` returned `&CsMat`.
#[derive(Debug)]
pub struct Evaluation<'a> {
    matrix: &'a CsMat<f64>,
    info: &'a RecoveryInfo,
}

impl<'a> Evaluation<'a> {
    pub(crate) fn new(matrix: &'a CsMat<f64>, info: &'a RecoveryInfo) -> Self {
        Self { matrix, info }
    }

    /// The matrix (CSR, the pattern's order).
    pub fn matrix(&self) -> &'a CsMat<f64> {
        self.matrix
    }

    /// The matrix's values, in the pattern's order.
    pub fn values(&self) -> &'a [f64] {
        self.matrix.data()
    }

    /// Probes, designer, verification and branch counts, as of this evaluation.
    pub fn info(&self) -> &'a RecoveryInfo {
        self.info
    }
}

impl Deref for Evaluation<'_> {
    type Target = CsMat<f64>;

    fn deref(&self) -> &CsMat<f64> {
        self.matrix
    }
}
