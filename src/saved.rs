//! Saving and loading a prepared probe plan (serde): the pattern, the seeds and how they
//! are decoded. Loading re-checks everything ([`ProbePlan::from_parts`]): a stale or edited
//! file is refused with the reason, never trusted.

use faer::Mat;
use serde::{Deserialize, Serialize};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{MatrixKind, ProbePlan, Recovery, Seeds};

use crate::error::SparseError;

/// The file format's name and version.
const FORMAT: &str = "sparsediff-plan";
const VERSION: u32 = 1;

/// How the products of a saved plan are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[allow(missing_docs)] // mirrors sparsediff_probe::Recovery
pub enum SavedRecovery {
    Columns,
    Rows,
    Star,
    Substitution,
    Roll { stride: usize },
    RowLeastSquares,
    SymmetricLeastSquares,
}

/// The seeds of a saved plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SavedSeeds {
    /// Group seeds: the probe of every vertex (`usize::MAX` = none).
    Groups {
        /// The probe of each vertex.
        group: Vec<usize>,
        /// Number of probes.
        probes: usize,
    },
    /// Dense seeds, row-major.
    Dense {
        /// Rows (vertices).
        rows: usize,
        /// Columns (probes).
        probes: usize,
        /// Values, row-major.
        values: Vec<f64>,
    },
}

/// A probe plan in a form serde can write and read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always `sparsediff-plan`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Designer name.
    pub designer: String,
    /// `true` for a symmetric (Hessian) plan.
    pub symmetric: bool,
    /// How products are decoded.
    pub recovery: SavedRecovery,
    /// Rows of the pattern.
    pub nrows: usize,
    /// Columns of the pattern.
    pub ncols: usize,
    /// CSR row pointers.
    pub row_ptr: Vec<usize>,
    /// CSR column indices.
    pub col_idx: Vec<usize>,
    /// The seeds.
    pub seeds: SavedSeeds,
}

impl SavedPlan {
    /// The saveable parts of `plan`.
    pub fn from_plan(plan: &ProbePlan) -> Self {
        let recovery = match plan.recovery() {
            Recovery::Columns => SavedRecovery::Columns,
            Recovery::Rows => SavedRecovery::Rows,
            Recovery::Star => SavedRecovery::Star,
            Recovery::Substitution => SavedRecovery::Substitution,
            Recovery::Roll { stride } => SavedRecovery::Roll { stride },
            Recovery::RowLeastSquares => SavedRecovery::RowLeastSquares,
            Recovery::SymmetricLeastSquares => SavedRecovery::SymmetricLeastSquares,
        };
        let seeds = match plan.seeds() {
            Seeds::Groups { group, num_probes } => SavedSeeds::Groups {
                group: group.clone(),
                probes: *num_probes,
            },
            Seeds::Dense(s) => SavedSeeds::Dense {
                rows: s.nrows(),
                probes: s.ncols(),
                values: (0..s.nrows())
                    .flat_map(|j| (0..s.ncols()).map(move |c| s[(j, c)]))
                    .collect(),
            },
        };
        let p = plan.pattern();
        Self {
            format: FORMAT.to_string(),
            version: VERSION,
            designer: plan.designer().to_string(),
            symmetric: plan.kind() == MatrixKind::Symmetric,
            recovery,
            nrows: p.nrows(),
            ncols: p.ncols(),
            row_ptr: p.row_ptr().to_vec(),
            col_idx: p.col_idx().to_vec(),
            seeds,
        }
    }

    /// Rebuilds the plan, checking the pattern, the seeds and their decoding.
    pub fn to_plan(&self) -> Result<ProbePlan, SparseError> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(SparseError::Saved(format!(
                "expected format {FORMAT} version {VERSION}, found {} version {}",
                self.format, self.version
            )));
        }
        let pattern = Pattern::from_csr(
            self.nrows,
            self.ncols,
            self.row_ptr.clone(),
            self.col_idx.clone(),
        )?;
        let recovery = match self.recovery {
            SavedRecovery::Columns => Recovery::Columns,
            SavedRecovery::Rows => Recovery::Rows,
            SavedRecovery::Star => Recovery::Star,
            SavedRecovery::Substitution => Recovery::Substitution,
            SavedRecovery::Roll { stride } => Recovery::Roll { stride },
            SavedRecovery::RowLeastSquares => Recovery::RowLeastSquares,
            SavedRecovery::SymmetricLeastSquares => Recovery::SymmetricLeastSquares,
        };
        let seeds = match &self.seeds {
            SavedSeeds::Groups { group, probes } => Seeds::Groups {
                group: group.clone(),
                num_probes: *probes,
            },
            SavedSeeds::Dense {
                rows,
                probes,
                values,
            } => {
                if values.len() != rows * probes {
                    return Err(SparseError::WrongLength {
                        what: "dense seed values",
                        len: values.len(),
                        expected: rows * probes,
                    });
                }
                Seeds::Dense(Mat::from_fn(*rows, *probes, |j, c| values[j * probes + c]))
            }
        };
        let kind = if self.symmetric {
            MatrixKind::Symmetric
        } else {
            MatrixKind::General
        };
        Ok(ProbePlan::from_parts(
            &self.designer,
            kind,
            &pattern,
            seeds,
            recovery,
        )?)
    }

    /// JSON text of the plan.
    pub fn to_json(&self) -> Result<String, SparseError> {
        serde_json::to_string(self).map_err(|e| SparseError::Saved(e.to_string()))
    }

    /// Reads a plan from JSON (the plan still has to pass [`to_plan`](Self::to_plan)).
    pub fn from_json(text: &str) -> Result<Self, SparseError> {
        serde_json::from_str(text).map_err(|e| SparseError::Saved(e.to_string()))
    }
}
