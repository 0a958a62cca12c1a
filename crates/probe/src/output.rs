//! Recovered matrices as sprs (CSR) or faer (CSC) matrices, full or one triangle.

use faer::sparse::{SparseColMat, Triplet};
use sparsediff_pattern::Pattern;

use crate::error::DecodeError;
use crate::plan::ProbePlan;

/// Which entries to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Triangle {
    /// Every entry.
    Full,
    /// Entries with column ≤ row (what a symmetric factorisation reads).
    Lower,
    /// Entries with column ≥ row.
    Upper,
}

impl Triangle {
    fn keeps(self, i: usize, j: usize) -> bool {
        match self {
            Triangle::Full => true,
            Triangle::Lower => j <= i,
            Triangle::Upper => j >= i,
        }
    }
}

fn kept(
    pattern: &Pattern,
    values: &[f64],
    triangle: Triangle,
) -> Result<(Pattern, Vec<f64>), DecodeError> {
    if values.len() != pattern.nnz() {
        return Err(DecodeError::ValuesLength {
            len: values.len(),
            expected: pattern.nnz(),
        });
    }
    let sub = pattern.filter(|i, j| triangle.keeps(i, j));
    let v = pattern
        .iter()
        .zip(values)
        .filter(|((i, j), _)| triangle.keeps(*i, *j))
        .map(|(_, &v)| v)
        .collect();
    Ok((sub, v))
}

impl ProbePlan {
    /// The matrix with these `values` (in the pattern's order) as an sprs CSR matrix.
    pub fn to_sprs(
        &self,
        values: &[f64],
        triangle: Triangle,
    ) -> Result<sprs::CsMat<f64>, DecodeError> {
        let (p, v) = kept(self.pattern(), values, triangle)?;
        Ok(p.to_sprs_with_values(v).expect("one value per kept entry"))
    }

    /// The matrix with these `values` as a faer CSC matrix (for faer's sparse
    /// factorisations: `Triangle::Lower` for a Cholesky of a symmetric matrix).
    pub fn to_faer(
        &self,
        values: &[f64],
        triangle: Triangle,
    ) -> Result<SparseColMat<usize, f64>, DecodeError> {
        let (p, v) = kept(self.pattern(), values, triangle)?;
        let triplets: Vec<Triplet<usize, usize, f64>> = p
            .iter()
            .zip(v)
            .map(|((i, j), v)| Triplet::new(i, j, v))
            .collect();
        Ok(
            SparseColMat::try_new_from_triplets(p.nrows(), p.ncols(), &triplets)
                .expect("indices are in range and unique by construction"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ColoredDesigner, MatrixKind, ProbeDesigner};
    use sparsediff_pattern::generators;

    #[test]
    fn triangles_and_formats_agree() {
        let p = generators::band(6, 1, 1).unwrap();
        let plan = ColoredDesigner::star()
            .design(&p, MatrixKind::Symmetric)
            .unwrap();
        let values: Vec<f64> = p
            .iter()
            .map(|(i, j)| (10 * i.min(j) + i.max(j)) as f64)
            .collect();
        let full = plan.to_sprs(&values, Triangle::Full).unwrap();
        assert_eq!(full.nnz(), 16);
        assert_eq!(full.get(2, 3), Some(&23.0));
        let lower = plan.to_faer(&values, Triangle::Lower).unwrap();
        assert_eq!(lower.compute_nnz(), 11);
        let dense = lower.to_dense();
        assert_eq!(dense[(3, 2)], 23.0);
        assert_eq!(dense[(2, 3)], 0.0);
        let upper = plan.to_sprs(&values, Triangle::Upper).unwrap();
        assert_eq!(upper.get(2, 3), Some(&23.0));
        assert_eq!(upper.get(3, 2), None);
        assert!(matches!(
            plan.to_sprs(&values[1..], Triangle::Full),
            Err(DecodeError::ValuesLength { .. })
        ));
    }
}
