//! Saving and loading a prepared probe plan (serde): the pattern, the seeds and how they
//! are decoded. Loading re-checks everything ([`ProbePlan::from_parts`]): a stale or edited
//! file is refused with the reason, never trusted.

use serde::{Deserialize, Serialize};
use sparsediff_pattern::{Pattern, PatternError};
use sparsediff_probe::{DesignError, MAX_DENSE_ENTRIES, MatrixKind, ProbePlan, Recovery, Seeds};

use crate::error::SparseError;

/// The file format's name and version.
const FORMAT: &str = "sparsediff-plan";
const VERSION: u32 = 1;

/// Why a saved plan could not be read, written or rebuilt (carried by
/// [`SparseError::Saved`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// The text is not the JSON of a plan (serde names the line and column).
    #[error("not a plan file: {0}")]
    Json(#[from] serde_json::Error),
    /// The file is of another format or version.
    #[error(
        "expected format {expected_format} version {expected_version}, found {format} version {version}"
    )]
    WrongFormat {
        /// The format found.
        format: String,
        /// The version found.
        version: u32,
        /// The format this build reads.
        expected_format: &'static str,
        /// The version this build reads.
        expected_version: u32,
    },
    /// An array does not have the length its declared sizes give.
    #[error("{what} has length {len}, expected {expected}")]
    LengthMismatch {
        /// The array.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length the sizes declare.
        expected: usize,
    },
    /// Declared sizes whose product overflows `usize`.
    #[error("{what}: {rows} rows × {probes} probes overflows")]
    Overflow {
        /// What the product counts.
        what: &'static str,
        /// Declared rows.
        rows: usize,
        /// Declared probes.
        probes: usize,
    },
    /// The pattern is not a valid CSR structure.
    #[error("pattern: {0}")]
    Pattern(#[from] PatternError),
    /// The seeds and recovery are refused by [`ProbePlan::from_parts`] (or exceed
    /// [`MAX_DENSE_ENTRIES`]).
    #[error("plan: {0}")]
    Plan(#[from] DesignError),
    /// The plan decodes with a decoder of the caller's ([`ProbePlan::custom`]), which has no
    /// saved form.
    #[error("plan `{designer}` decodes with a decoder of the caller's, which cannot be saved")]
    CustomDecoder {
        /// The plan's designer.
        designer: String,
    },
}

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
    /// The saveable parts of `plan` ([`SavedPlanError::CustomDecoder`] for a plan with a
    /// decoder of the caller's).
    pub fn from_plan(plan: &ProbePlan) -> Result<Self, SavedPlanError> {
        let recovery = match plan.recovery() {
            Recovery::Custom => {
                return Err(SavedPlanError::CustomDecoder {
                    designer: plan.designer().to_string(),
                });
            }
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
            Seeds::Dense {
                rows,
                num_probes,
                values,
            } => SavedSeeds::Dense {
                rows: *rows,
                probes: *num_probes,
                values: values.clone(),
            },
        };
        let p = plan.pattern();
        Ok(Self {
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
        })
    }

    /// Rebuilds the plan, checking the pattern, the seeds and their decoding. Errors are
    /// [`SparseError::Saved`], with the reason as a [`SavedPlanError`]; declared sizes are
    /// multiplied with overflow checks and held to [`MAX_DENSE_ENTRIES`] before anything is
    /// sized by them.
    pub fn to_plan(&self) -> Result<ProbePlan, SparseError> {
        Ok(self.rebuild()?)
    }

    fn rebuild(&self) -> Result<ProbePlan, SavedPlanError> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(SavedPlanError::WrongFormat {
                format: self.format.clone(),
                version: self.version,
                expected_format: FORMAT,
                expected_version: VERSION,
            });
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
                let (rows, probes) = (*rows, *probes);
                let expected = rows.checked_mul(probes).ok_or(SavedPlanError::Overflow {
                    what: "dense seed values",
                    rows,
                    probes,
                })?;
                if values.len() != expected {
                    return Err(SavedPlanError::LengthMismatch {
                        what: "dense seed values",
                        len: values.len(),
                        expected,
                    });
                }
                // The values are in memory; what they size later (products, pseudo-inverses)
                // is bounded by from_parts. Only a seed matrix without rows holds nothing
                // while declaring any number of probes.
                if rows.max(1) as u128 * probes as u128 > MAX_DENSE_ENTRIES as u128 {
                    return Err(DesignError::DenseTooLarge {
                        what: "saved dense seeds",
                        rows,
                        probes: probes as u128,
                        limit: MAX_DENSE_ENTRIES,
                    }
                    .into());
                }
                Seeds::Dense {
                    rows,
                    num_probes: probes,
                    values: values.clone(),
                }
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
        Ok(serde_json::to_string(self).map_err(SavedPlanError::from)?)
    }

    /// Reads a plan from JSON (the plan still has to pass [`to_plan`](Self::to_plan)).
    pub fn from_json(text: &str) -> Result<Self, SparseError> {
        Ok(serde_json::from_str(text).map_err(SavedPlanError::from)?)
    }
}
