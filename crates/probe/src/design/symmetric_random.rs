//! Random probes for symmetric matrices, recovered by one global least-squares solve over
//! the lower triangle ("half-sample").
//!
//! The per-row solver needs p ≥ d_i for every row because each row is solved alone. Using
//! symmetry, an off-diagonal unknown H[a, b] appears in the equations of both rows a and b,
//! so the n·p equations only have to determine the N lower-triangle entries: on a band of
//! half-bandwidth β that is β + 1 unknowns per row instead of 2β + 1.
//!
//! # How many probes
//!
//! Necessary, for any seeds: p ≥ ω, the size of a clique of the pattern (with its
//! diagonal), because otherwise a symmetric ω×ω block E with E·S_clique = 0 is invisible
//! in the products; and n·p ≥ N. A dense pattern therefore gains nothing.
//!
//! Sufficient, for almost every Gaussian S: p ≥ k, the colour count of any acyclic
//! colouring. The colouring's own seeds make H ↦ H·S injective (substitution recovers H),
//! so some N×N minor of the sample matrix is a polynomial in S that is nonzero there, hence
//! nonzero for almost every S; extra columns keep it injective.
//!
//! At the bare minimum the system is badly conditioned (band β = 3 with p = β + 1 = 4:
//! error 2e-8 even with QR), one extra probe fixes that. Greedy acyclic colourings are not
//! always optimal (4 colours on the 5-point grid, where 3 exist), so the designer first tries
//!
//! p = max(ω, ⌈N/n⌉, min(⌈(d_max + 1)/2⌉, k)) + oversampling (default oversampling 1),
//!
//! where ⌈(d_max + 1)/2⌉ counts the lower-triangle unknowns of the widest row, and if the
//! design-time self-test finds that rank deficient, falls back to max(k, ω, ⌈N/n⌉) +
//! oversampling ([`ProbeCounts`]). Measured (smallest p recovering a random matrix to
//! 1e-10 from exact products, test `half_sample_probe_counts`):
//!
//! | pattern | per-row random: default (d_max + 2) / smallest | half-sample: default / smallest |
//! |---|---|---|
//! | band n = 1000, β = 3 | 9 / 7 | 5 / 5 |
//! | band n = 1000, β = 8 | 19 / 17 | 10 / 10 |
//! | 2-D 5-point grid 30×30 | 7 / 5 | 4 / 3 |

use std::sync::Arc;

use sparsediff_coloring::{
    AdjacencyGraph, ColoringParams, Method, OrderChoice, Problem, color, greedy_clique,
};
use sparsediff_pattern::Pattern;

use super::check_pattern;
use super::random::{Distribution, random_seeds};
use crate::decode::{Decoder, SYM_LSTSQ_ARRAYS, SymmetricLeastSquaresDecoder};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Seeds, check_dense};

/// Random probes with global symmetric least squares (name `symmetric-random`, also called
/// half-sample). [`MatrixKind::Symmetric`] only.
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_probe::{MatrixKind, ProbeDesigner, RandomDesigner, SymmetricRandomDesigner};
///
/// let pattern = generators::band(300, 3, 3)?;
/// let values: Vec<f64> = pattern
///     .iter()
///     .map(|(i, j)| if i == j { 4.0 } else { 1.0 / (1 + i + j) as f64 })
///     .collect();
/// let mut plan = SymmetricRandomDesigner::new().design(&pattern, MatrixKind::Symmetric)?;
/// assert_eq!(plan.num_probes(), 5); // β + 2, against 2β + 3 = 9 for RandomDesigner
/// let b = plan.exact_products(&values);
/// let mut got = vec![0.0; pattern.nnz()];
/// plan.decode(b.as_ref(), &mut got)?;
/// assert!(got.iter().zip(&values).all(|(g, v)| (g - v).abs() <= 1e-10 * v.abs()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricRandomDesigner {
    distribution: Distribution,
    oversampling: usize,
    probes: Option<usize>,
    seed: u64,
    refinement_steps: usize,
    params: ColoringParams,
}

impl Default for SymmetricRandomDesigner {
    fn default() -> Self {
        Self {
            distribution: Distribution::Gaussian,
            oversampling: 1,
            probes: None,
            seed: 0,
            refinement_steps: 1,
            params: ColoringParams::with_order(OrderChoice::best()),
        }
    }
}

impl SymmetricRandomDesigner {
    /// Gaussian seeds, oversampling 1 over the acyclic colour count, seed 0, one
    /// refinement step.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distribution of the seeds.
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.distribution = distribution;
        self
    }

    /// Probes beyond the acyclic colour count (default 1).
    pub fn oversampling(mut self, oversampling: usize) -> Self {
        self.oversampling = oversampling;
        self
    }

    /// Uses exactly `p` probes (no colouring is computed).
    pub fn probes(mut self, p: usize) -> Self {
        self.probes = Some(p);
        self
    }

    /// The seed of the random generator (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Corrected semi-normal refinement steps per decode (default 1; 0 is the plain
    /// normal equations, which lose accuracy as κ(M)²).
    pub fn refinement_steps(mut self, steps: usize) -> Self {
        self.refinement_steps = steps;
        self
    }

    /// The colouring parameters used to count acyclic colours (default: best order).
    pub fn with_params(mut self, params: ColoringParams) -> Self {
        self.params = params;
        self
    }

    /// The probe counts for the symmetric `pattern`: the first choice and the fallback
    /// (see the module docs), both including the oversampling; equal when the count is
    /// fixed with [`probes`](Self::probes). Errors: those of the colouring, and
    /// [`DesignError::DenseTooLarge`] when a count would make the seeds and products exceed
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES).
    pub fn num_probes_for(&self, pattern: &Pattern) -> Result<ProbeCounts, DesignError> {
        let g = AdjacencyGraph::new(pattern, Method::Acyclic)?;
        let clique = greedy_clique(&g);
        let n = pattern.nrows().max(1);
        let unknowns = pattern.iter().filter(|&(i, j)| j <= i).count();
        let lower_bound = clique.len().max(unknowns.div_ceil(n));
        // Counted without overflow and checked against MAX_DENSE_ENTRIES before anything is
        // drawn: an absurd oversampling is refused, not wrapped into a few probes.
        let dense = |p: u128| check_dense(SYM_LSTSQ_ARRAYS, 2 * pattern.nrows(), p);
        if let Some(p) = self.probes {
            let p = dense(p as u128)?;
            return Ok(ProbeCounts {
                first: p,
                fallback: p,
                lower_bound,
                clique,
            });
        }
        // The oversampling alone may be absurd: refuse it before colouring.
        dense(lower_bound as u128 + self.oversampling as u128)?;
        let acyclic = color(pattern, Problem::Symmetric, Method::Acyclic, &self.params)?;
        let k = acyclic.num_colors();
        let half_row = (pattern.row_stats().max + 1).div_ceil(2);
        let plus = |p: usize| dense(p as u128 + self.oversampling as u128);
        Ok(ProbeCounts {
            first: plus(lower_bound.max(half_row.min(k)))?,
            fallback: plus(k.max(lower_bound))?,
            lower_bound,
            clique,
        })
    }
}

/// How many probes [`SymmetricRandomDesigner`] tries on a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeCounts {
    /// Tried first: max(ω, ⌈N/n⌉, min(⌈(d_max + 1)/2⌉, k)) + oversampling.
    pub first: usize,
    /// Tried if the first is rank deficient: max(k, ω, ⌈N/n⌉) + oversampling, with k the
    /// acyclic colour count (full rank for almost every Gaussian S).
    pub fallback: usize,
    /// max(ω, ⌈N/n⌉): no seeds with fewer probes recover every matrix on the pattern.
    pub lower_bound: usize,
    /// The clique (ω of its vertices) behind the lower bound.
    pub clique: Vec<usize>,
}

impl ProbeDesigner for SymmetricRandomDesigner {
    fn name(&self) -> &'static str {
        "symmetric-random"
    }

    /// Errors: a general matrix or an asymmetric pattern ([`DesignError::NotApplicable`]),
    /// fewer probes than a clique of the pattern ([`DesignError::TooFewProbes`], naming
    /// the clique's first row), a rank-deficient or badly conditioned system
    /// ([`DesignError::RankDeficient`], naming the rows the self-test could not recover),
    /// more probes than [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) allows
    /// ([`DesignError::DenseTooLarge`]).
    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        if kind != MatrixKind::Symmetric {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::NeedsSymmetric,
            });
        }
        if !pattern.is_square() || !pattern.is_symmetric() {
            return Err(DesignError::NotApplicable {
                designer: self.name(),
                reason: Inapplicable::NotStructurallySymmetric {
                    rows: pattern.nrows(),
                    cols: pattern.ncols(),
                },
            });
        }
        let counts = self.num_probes_for(pattern)?;
        let pattern = Arc::new(pattern.clone());
        let mut p = counts.first;
        let (s, decoder) = loop {
            if p < counts.clique.len() {
                return Err(DesignError::TooFewProbes {
                    row: counts.clique.iter().copied().min().unwrap_or(0),
                    needed: counts.clique.len(),
                    probes: p,
                });
            }
            let s = random_seeds(pattern.nrows(), p, self.distribution, self.seed);
            match SymmetricLeastSquaresDecoder::prepare(
                self.name(),
                Arc::clone(&pattern),
                s.as_ref(),
                self.refinement_steps,
            ) {
                Ok(decoder) => break (s, decoder),
                Err(DesignError::RankDeficient { .. }) if p < counts.fallback => {
                    p = counts.fallback;
                }
                Err(e) => return Err(e),
            }
        };
        let lower_bound = counts.lower_bound;
        Ok(ProbePlan {
            designer: self.name().into(),
            kind,
            orientation: Orientation::Columns,
            pattern,
            seeds: Seeds::from_mat(s.as_ref())?,
            lower_bound,
            colors: None,
            recovery: crate::plan::Recovery::SymmetricLeastSquares,
            decoder: Decoder::SymmetricLeastSquares(decoder),
        })
    }
}
