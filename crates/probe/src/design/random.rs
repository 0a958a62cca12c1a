//! Random probes recovered by per-row least squares: no colouring, no structure needed
//! beyond the pattern, and a residual that can expose a wrong pattern.
//!
//! S is n×p with independent entries (Gaussian or Rademacher), p = max row nnz +
//! oversampling. Row i of B = A·S is the p×d_i least-squares problem
//! S[J_i, :]ᵀ x = B[i, :]ᵀ; with d_i ≤ p and S generic it has exactly one solution, the
//! row of A. Oversampling (p > d_i) buys a better-conditioned sample matrix (less noise
//! amplification) and a residual that checks the declared pattern.

use std::sync::Arc;

use faer::Mat;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use sparsediff_pattern::Pattern;

use super::check_pattern;
use crate::decode::{DEFAULT_RANK_TOL, Decoder, RowLeastSquaresDecoder, check_tol, design_error};
use crate::error::DesignError;
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Seeds, check_dense};

/// The distribution of the entries of random seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Distribution {
    /// Standard normal N(0, 1) (ziggurat of `rand_distr`). Sample matrices are full rank
    /// with probability one; the default.
    #[default]
    Gaussian,
    /// ±1 with probability ½ each. Cheap and exactly representable, but two rows of S
    /// agree up to sign with probability 2^(1−p), which makes the sample matrix of a row
    /// that contains both columns rank deficient: on large patterns use more oversampling
    /// or [`Gaussian`](Self::Gaussian).
    Rademacher,
}

/// A seeded n×p random matrix, drawn column after column from ChaCha8 (so the first q
/// columns do not depend on p: more probes extend the same seeds).
///
/// The same `seed` gives the same matrix on every platform: ChaCha8 and the Rademacher
/// signs are integer operations; the Gaussian ziggurat is table lookups and comparisons
/// except for rare wedge/tail rejections that call `exp`/`ln`, where a platform whose libm
/// differed in the last bit could (with probability of order 1e-16 per draw) decide
/// differently.
pub fn random_seeds(n: usize, p: usize, distribution: Distribution, seed: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Mat::<f64>::zeros(n, p);
    for c in 0..p {
        let col = s.col_as_slice_mut(c);
        match distribution {
            Distribution::Gaussian => col.fill_with(|| rng.sample(StandardNormal)),
            Distribution::Rademacher => col.fill_with(|| {
                if rng.random::<u32>() >> 31 == 0 {
                    1.0
                } else {
                    -1.0
                }
            }),
        }
    }
    s
}

/// Random probes with per-row least-squares recovery (name `random`).
///
/// p = max row nnz + [`oversampling`](Self::oversampling) (default 2), unless fixed with
/// [`probes`](Self::probes). Works for general and symmetric matrices (symmetry is not
/// exploited; see [`SymmetricRandomDesigner`](super::SymmetricRandomDesigner) for that).
///
/// ```
/// use sparsediff_pattern::generators;
/// use sparsediff_probe::{MatrixKind, ProbeDesigner, RandomDesigner};
///
/// let pattern = generators::band(200, 3, 3)?;
/// let values: Vec<f64> = pattern.iter().map(|(i, j)| 1.0 + ((i * 7 + j * 3) % 5) as f64).collect();
/// let mut plan = RandomDesigner::new().seed(42).design(&pattern, MatrixKind::General)?;
/// assert_eq!(plan.num_probes(), 7 + 2);
/// let b = plan.exact_products(&values);
/// let mut got = vec![0.0; pattern.nnz()];
/// plan.decode(b.as_ref(), &mut got)?;
/// assert!(got.iter().zip(&values).all(|(g, v)| (g - v).abs() <= 1e-10 * v.abs()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomDesigner {
    distribution: Distribution,
    oversampling: usize,
    probes: Option<usize>,
    seed: u64,
    rank_tol: f64,
}

impl Default for RandomDesigner {
    fn default() -> Self {
        Self {
            distribution: Distribution::Gaussian,
            oversampling: 2,
            probes: None,
            seed: 0,
            rank_tol: DEFAULT_RANK_TOL,
        }
    }
}

impl RandomDesigner {
    /// Gaussian seeds, oversampling 2, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distribution of the seeds.
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.distribution = distribution;
        self
    }

    /// Probes beyond the largest row's unknowns (default 2).
    pub fn oversampling(mut self, oversampling: usize) -> Self {
        self.oversampling = oversampling;
        self
    }

    /// Uses exactly `p` probes instead of max row nnz + oversampling (designing fails with
    /// [`DesignError::TooFewProbes`] if some row has more unknowns).
    pub fn probes(mut self, p: usize) -> Self {
        self.probes = Some(p);
        self
    }

    /// The seed of the random generator (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Relative rank tolerance of the per-row QR (default [`DEFAULT_RANK_TOL`]).
    pub fn rank_tol(mut self, tol: f64) -> Self {
        self.rank_tol = tol;
        self
    }

    /// The number of probes this designer uses on `pattern` (saturating at `usize::MAX`
    /// for an absurd oversampling, which [`design`](ProbeDesigner::design) refuses).
    pub fn num_probes_for(&self, pattern: &Pattern) -> usize {
        self.probes
            .unwrap_or(pattern.row_stats().max.saturating_add(self.oversampling))
    }
}

impl ProbeDesigner for RandomDesigner {
    fn name(&self) -> &'static str {
        "random"
    }

    /// Exactly the probes it will use ([`num_probes_for`](RandomDesigner::num_probes_for)):
    /// known before any least-squares work, so a caller can refuse a plan that would be
    /// too large (a dense row needs n + 2 probes and an n×n solve).
    fn lower_bound(&self, pattern: &Pattern, _kind: MatrixKind) -> Option<usize> {
        Some(self.num_probes_for(pattern))
    }

    /// Draws S and prepares every row. Errors: an empty pattern
    /// ([`DesignError::NotApplicable`]), a row with more unknowns than probes
    /// ([`DesignError::TooFewProbes`], only with [`probes`](RandomDesigner::probes)), rows
    /// whose sample matrix is rank deficient ([`DesignError::RankDeficient`]), more probes
    /// than [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES) allows
    /// ([`DesignError::DenseTooLarge`]).
    fn design(&self, pattern: &Pattern, kind: MatrixKind) -> Result<ProbePlan, DesignError> {
        check_pattern(self.name(), pattern)?;
        check_tol(self.rank_tol)?;
        // Counted without overflow: an oversampling near usize::MAX is refused as too
        // large, not wrapped into a few probes.
        let p = match self.probes {
            Some(p) => p as u128,
            None => pattern.row_stats().max as u128 + self.oversampling as u128,
        };
        // Report too few probes before drawing anything.
        if let Some(row) = (0..pattern.nrows()).find(|&i| pattern.row_nnz(i) as u128 > p) {
            return Err(DesignError::TooFewProbes {
                row,
                needed: pattern.row_nnz(row),
                probes: p as usize,
            });
        }
        let p = check_dense(ROW_LSTSQ_ARRAYS, row_lstsq_rows(pattern), p)?;
        let s = random_seeds(pattern.ncols(), p, self.distribution, self.seed);
        let pattern = Arc::new(pattern.clone());
        let (decoder, failure) = RowLeastSquaresDecoder::prepare(
            Arc::clone(&pattern),
            s.as_ref(),
            self.rank_tol,
            false,
        )?;
        if let Some(f) = failure {
            return Err(design_error(&decoder, f));
        }
        Ok(ProbePlan {
            designer: self.name().into(),
            kind,
            orientation: Orientation::Columns,
            lower_bound: pattern.row_stats().max,
            pattern,
            seeds: Seeds::from_mat(s.as_ref())?,
            colors: None,
            recovery: crate::plan::Recovery::RowLeastSquares,
            decoder: Decoder::RowLeastSquares(decoder),
        })
    }
}

/// The dense arrays of per-row least squares, for [`DesignError::DenseTooLarge`].
pub(crate) const ROW_LSTSQ_ARRAYS: &str =
    "per-row least squares (seeds n×p, products m×p, pseudo-inverses nnz×p)";

/// Rows of the dense arrays of per-row least squares on `pattern`: n + m + nnz.
pub(crate) fn row_lstsq_rows(pattern: &Pattern) -> usize {
    pattern.ncols() + pattern.nrows() + pattern.nnz()
}

impl ProbePlan {
    /// A plan for seeds chosen by someone else: any n×p matrix S (n = `pattern.ncols()`),
    /// decoded by per-row least squares (designer name `samples`).
    ///
    /// Rows whose sample matrix is rank deficient (relative tolerance `tol` on the pivots
    /// of a column-pivoted QR) or has fewer probes than unknowns are not an error here:
    /// they are listed by the decoder's
    /// [`unrecoverable_rows`](RowLeastSquaresDecoder::unrecoverable_rows), the plan's
    /// [`decode`](ProbePlan::decode) then fails with
    /// [`DecodeError::Unrecoverable`](crate::DecodeError::Unrecoverable) (values of those
    /// rows NaN), and
    /// [`decode_partial`](RowLeastSquaresDecoder::decode_partial) returns the others.
    ///
    /// Errors: [`DesignError::SeedShape`], [`DesignError::NonFiniteSeed`],
    /// [`DesignError::Parameter`] for `tol` outside [0, 1), [`DesignError::DenseTooLarge`]
    /// when the pseudo-inverses and products would exceed
    /// [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES).
    pub fn from_samples(
        pattern: &Pattern,
        kind: MatrixKind,
        seeds: Mat<f64>,
        tol: f64,
    ) -> Result<ProbePlan, DesignError> {
        Self::from_dense_seeds(pattern, kind, Seeds::from_mat(seeds.as_ref())?, tol)
    }

    /// [`from_samples`](Self::from_samples) with the seeds already held as dense [`Seeds`]
    /// (checked here; callers pass `Seeds::Dense`).
    pub(crate) fn from_dense_seeds(
        pattern: &Pattern,
        kind: MatrixKind,
        seeds: Seeds,
        tol: f64,
    ) -> Result<ProbePlan, DesignError> {
        seeds.check()?;
        let s = seeds.as_mat().expect("dense seeds, checked");
        let pattern = Arc::new(pattern.clone());
        let (decoder, _) = RowLeastSquaresDecoder::prepare(Arc::clone(&pattern), s, tol, true)?;
        Ok(ProbePlan {
            designer: "samples".into(),
            kind,
            orientation: Orientation::Columns,
            lower_bound: pattern.row_stats().max,
            pattern,
            seeds,
            colors: None,
            recovery: crate::plan::Recovery::RowLeastSquares,
            decoder: Decoder::RowLeastSquares(decoder),
        })
    }
}
