//! Saving and loading a prepared probe plan (serde): the pattern, the seeds and how they
//! are decoded. Loading re-checks everything ([`ProbePlan::from_parts`]): a stale or edited
//! file is refused with the reason, never trusted.
//!
//! [`SavedPlan`] documents the file format and why it is still version 1.

use serde::{Deserialize, Serialize};
use sparsediff_pattern::{Pattern, PatternError, Seeds, SeedsError};

use crate::{DesignError, MAX_DENSE_ENTRIES, MatrixKind, ProbePlan, Recovery};

/// The file format's name.
const FORMAT: &str = "sparsediff-plan";
/// The file format's version (see [`SavedPlan`] for the layout).
const VERSION: u32 = 1;

/// Why a saved plan could not be read, written or rebuilt
/// (the facade carries it as `SparseError::Saved`).
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
    /// The pattern is not a valid CSR structure. A [`SavedPlan`] holds a checked
    /// [`Pattern`], so [`SavedPlan::from_json`] reports a bad pattern while parsing, as
    /// [`Json`](Self::Json) with the pattern's reason in the message; this variant is for
    /// patterns checked outside serde.
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

/// A probe plan in a form serde can write and read: the plan's parts, as the plan holds
/// them.
///
/// It holds the plan's own types, serialised by their own serde impls (feature
/// `serde` of `sparsediff-pattern` and `sparsediff-probe`, which this crate enables):
/// [`Pattern`] (its CSR arrays, checked like [`Pattern::from_csr`] while parsing),
/// [`Seeds`], [`Recovery`] and [`MatrixKind`]. There are no mirror types.
///
/// The file format is the one earlier releases wrote with mirror types, `sparsediff-plan`
/// version 1, field for field, so their files still load. A version-1 file is one JSON
/// object:
///
/// ```text
/// { "format": "sparsediff-plan", "version": 1, "designer": "star",
///   "symmetric": true,                              // MatrixKind as a flag
///   "recovery": {"kind": "star"},                   // or {"kind": "roll", "stride": 3}, ...
///   "nrows": 4, "ncols": 4, "row_ptr": [...], "col_idx": [...],   // the Pattern, inline
///   "seeds": {"kind": "groups", "group": [...], "probes": 2} }
///   // or {"kind": "dense", "rows": n, "probes": p, "values": [n·p row-major]}
/// ```
///
/// A file of another format or version is refused with [`SavedPlanError::WrongFormat`]
/// (naming both versions); a change of the layout above must bump the version so that old
/// files get that typed error rather than a parse error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always `sparsediff-plan`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Designer name.
    pub designer: String,
    /// General or symmetric (in the file: `"symmetric": true` for a symmetric plan).
    #[serde(rename = "symmetric", with = "symmetric_flag")]
    pub kind: MatrixKind,
    /// How products are decoded (never [`Recovery::Custom`] in a file).
    pub recovery: Recovery,
    /// The pattern (in the file: its fields `nrows`, `ncols`, `row_ptr`, `col_idx` inline).
    #[serde(flatten)]
    pub pattern: Pattern,
    /// The seeds.
    pub seeds: Seeds,
}

/// [`MatrixKind`] as the version-1 flag `symmetric`.
mod symmetric_flag {
    use crate::MatrixKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(kind: &MatrixKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*kind == MatrixKind::Symmetric)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MatrixKind, D::Error> {
        Ok(if bool::deserialize(d)? {
            MatrixKind::Symmetric
        } else {
            MatrixKind::General
        })
    }
}

impl SavedPlan {
    /// The saveable parts of `plan` ([`SavedPlanError::CustomDecoder`] for a plan with a
    /// decoder of the caller's).
    pub fn from_plan(plan: &ProbePlan) -> Result<Self, SavedPlanError> {
        if plan.recovery() == Recovery::Custom {
            return Err(SavedPlanError::CustomDecoder {
                designer: plan.designer().to_string(),
            });
        }
        Ok(Self {
            format: FORMAT.to_string(),
            version: VERSION,
            designer: plan.designer().to_string(),
            kind: plan.kind(),
            recovery: plan.recovery(),
            pattern: plan.pattern().clone(),
            seeds: plan.seeds().clone(),
        })
    }

    /// Rebuilds the plan, checking the seeds and their decoding against the pattern; the
    /// reason of a refusal is a [`SavedPlanError`]. Declared sizes are multiplied with
    /// overflow checks and held to [`MAX_DENSE_ENTRIES`] before anything is sized by them.
    pub fn to_plan(&self) -> Result<ProbePlan, SavedPlanError> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(SavedPlanError::WrongFormat {
                format: self.format.clone(),
                version: self.version,
                expected_format: FORMAT,
                expected_version: VERSION,
            });
        }
        const WHAT: &str = "dense seed values";
        self.seeds.check().map_err(|e| match e {
            SeedsError::Overflow { rows, probes } => SavedPlanError::Overflow {
                what: WHAT,
                rows,
                probes,
            },
            SeedsError::WrongLength { len, expected, .. } => SavedPlanError::LengthMismatch {
                what: WHAT,
                len,
                expected,
            },
            e => SavedPlanError::Plan(e.into()),
        })?;
        if let Seeds::Dense {
            rows, num_probes, ..
        } = self.seeds
        {
            // The values are in memory; what they size later (products, pseudo-inverses)
            // is bounded by from_parts. Only a seed matrix without rows holds nothing while
            // declaring any number of probes.
            if rows.max(1) as u128 * num_probes as u128 > MAX_DENSE_ENTRIES as u128 {
                return Err(DesignError::DenseTooLarge {
                    what: "saved dense seeds",
                    rows,
                    probes: num_probes as u128,
                    limit: MAX_DENSE_ENTRIES,
                }
                .into());
            }
        }
        Ok(ProbePlan::from_parts(
            &self.designer,
            self.kind,
            &self.pattern,
            self.seeds.clone(),
            self.recovery,
        )?)
    }

    /// JSON text of the plan.
    pub fn to_json(&self) -> Result<String, SavedPlanError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Reads a plan from JSON (the plan still has to pass [`to_plan`](Self::to_plan)). The
    /// pattern is checked while parsing: a bad one is [`SavedPlanError::Json`].
    pub fn from_json(text: &str) -> Result<Self, SavedPlanError> {
        Ok(serde_json::from_str(text)?)
    }
}
