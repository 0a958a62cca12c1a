//! What a prepared Jacobian or Hessian holds: the probe plan (shared, immutable; its seeds
//! are already in the backends' layout, `plan.seeds().block()`), the product buffer and the
//! recovered matrix (updated in place); what `info()` reports.

use std::sync::Arc;
use std::time::Duration;

use faer::MatRef;
use sparsediff_pattern::Pattern;
use sparsediff_probe::design::Candidate;
use sparsediff_probe::{BidirectionalPlan, DecodeError, Decoder, MatrixKind, ProbePlan};
use sprs::CsMat;

use crate::error::SparseError;
use crate::mode::Mode;

/// Where `prepare` spent its time (wall clock, one thread).
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
/// let h = SparseHessian::prepare(Chain, &vec![0.3; 1000], &Options::default())?;
/// let t = h.info().prepare;
/// assert!(t.total() >= t.detection + t.design);
/// // the design time is the sum over the designers that were tried
/// let tried: std::time::Duration = h.info().candidates.iter().map(|c| c.time).sum();
/// assert!(tried <= t.design);
/// # Ok::<(), sparsediff::SparseError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PrepareTimes {
    /// Finding the pattern (tracing; zero for a given pattern).
    pub detection: Duration,
    /// Designing the probes: geometry, bounds and every designer tried (see
    /// [`Candidate::time`]).
    pub design: Duration,
    /// Building the backend (recording and compiling the tape; zero for a backend built by
    /// the caller).
    pub backend: Duration,
    /// Product and output buffers, verification vector.
    pub setup: Duration,
}

impl PrepareTimes {
    /// The sum of the stages.
    pub fn total(&self) -> Duration {
        self.detection + self.design + self.backend + self.setup
    }
}

/// What a prepared plan reports.
#[derive(Debug, Clone)]
pub struct RecoveryInfo {
    /// Products per evaluation.
    pub probes: usize,
    /// Lower bound on the probes of the chosen designer's family.
    pub lower_bound: usize,
    /// Colours, for plans made from a colouring.
    pub colors: Option<usize>,
    /// The designer of the plan (`acyclic`, `star`, `roll`, ..., a user's designer's
    /// name). Designers, detectors and backends are open plug-in points, so they are named
    /// rather than enumerated.
    pub designer: String,
    /// Every designer tried, with its outcome (probes, the error that made it inapplicable,
    /// or why it was skipped) and time.
    pub candidates: Vec<Candidate>,
    /// The backend (`tape`, `forward`, `fd`, `closure`, a user's backend's name).
    pub backend: &'static str,
    /// The products of the plan: [`Mode::Columns`](crate::Mode::Columns) (J·S by JVPs,
    /// H·S by HVPs) or [`Mode::Rows`](crate::Mode::Rows) (Jᵀ·S by VJPs).
    pub mode: crate::Mode,
    /// Every mode `prepare` considered, with its products and weighted cost (see
    /// [`JacobianMode`](crate::JacobianMode)); one entry for Hessians and for a plan given
    /// to the builder.
    pub modes: Vec<crate::ModeCandidate>,
    /// The detector that found the pattern (`traced`, `global`, `conservative`, `given`, a
    /// user's detector's name; `plan` for a plan given to the builder).
    pub detection: &'static str,
    /// Rows, columns and entries of the pattern.
    pub shape: (usize, usize, usize),
    /// Where `prepare` spent its time.
    pub prepare: PrepareTimes,
    /// The periodic verification cadence in force: every k-th evaluation (and the first);
    /// `None`: only the first evaluation is verified, or none under
    /// [`Verify::Off`](crate::Verify::Off) (see [`Verify`](crate::Verify)).
    pub verify_every: Option<usize>,
    /// The relative residual per row that verification allows.
    pub verify_tolerance: f64,
    /// Evaluations so far.
    pub evaluations: usize,
    /// Verification products made so far.
    pub verifications: usize,
    /// For oversampled least-squares plans ([`Strategy::Random`](crate::Strategy::Random)
    /// with `oversampling > 0`): the last evaluation's max relative residual, max over rows
    /// of ‖Mᵢxᵢ − bᵢ‖ / ‖bᵢ‖ (`sparsediff_probe::decode::RowLeastSquaresDecoder::residuals`).
    /// Above the verification tolerance it makes that evaluation verify itself (so a
    /// pattern that misses entries is re-traced or refused at once, not at the next
    /// periodic check). `None` for every other plan.
    pub max_relative_residual: Option<f64>,
    /// How often the function took other branches than at the previous evaluation (seen by
    /// the backend, or by comparing a recording with a plain evaluation).
    pub branch_changes: usize,
    /// How often the pattern was traced again at an evaluation point.
    pub retraces: usize,
    /// How often the plan was re-designed for a pattern widened by another branch (the
    /// matrix's pattern changed; `evaluate` allocated).
    pub redesigns: usize,
    /// Threads the backend's products may run on: [`Options::threads`](crate::Options::threads)
    /// when the backend takes a pool (the tape's Hessian sweeps), otherwise 1.
    pub threads: usize,
}

/// The plan an engine decodes with: one product direction (A·S or Aᵀ·S), or both (a
/// Jacobian's bidirectional plan: J·Sc by JVPs and Jᵀ·Sr by VJPs).
#[derive(Debug, Clone)]
pub(crate) enum EnginePlan {
    Single(Arc<ProbePlan>),
    Both(Arc<BidirectionalPlan>),
}

impl EnginePlan {
    pub(crate) fn pattern(&self) -> &Pattern {
        match self {
            EnginePlan::Single(p) => p.pattern(),
            EnginePlan::Both(p) => p.pattern(),
        }
    }

    /// Products per evaluation (JVPs and VJPs together for a bidirectional plan).
    pub(crate) fn num_probes(&self) -> usize {
        match self {
            EnginePlan::Single(p) => p.num_probes(),
            EnginePlan::Both(p) => p.num_probes(),
        }
    }

    pub(crate) fn lower_bound(&self) -> usize {
        match self {
            EnginePlan::Single(p) => p.lower_bound(),
            EnginePlan::Both(p) => p.lower_bound(),
        }
    }

    pub(crate) fn colors(&self) -> Option<usize> {
        match self {
            EnginePlan::Single(p) => p.colors(),
            EnginePlan::Both(p) => Some(p.num_probes()),
        }
    }

    pub(crate) fn designer(&self) -> &str {
        match self {
            EnginePlan::Single(p) => p.designer(),
            EnginePlan::Both(p) => p.designer(),
        }
    }

    /// Symmetric (a Hessian's plans) or general.
    pub(crate) fn kind(&self) -> MatrixKind {
        match self {
            EnginePlan::Single(p) => p.kind(),
            EnginePlan::Both(_) => MatrixKind::General,
        }
    }

    /// What the products are.
    pub(crate) fn mode(&self) -> Mode {
        match self {
            EnginePlan::Single(p) => Mode::of(p.orientation()),
            EnginePlan::Both(_) => Mode::Bidirectional,
        }
    }

    /// Shapes (rows × probes) of the product blocks: the plan's, and the VJP block of a
    /// bidirectional plan (0 × 0 otherwise).
    pub(crate) fn products_shapes(&self) -> [(usize, usize); 2] {
        match self {
            EnginePlan::Single(p) => [p.products_shape(), (0, 0)],
            EnginePlan::Both(p) => [p.column_products_shape(), p.row_products_shape()],
        }
    }

    /// The single-direction plan, if it is one.
    pub(crate) fn single(&self) -> Option<&Arc<ProbePlan>> {
        match self {
            EnginePlan::Single(p) => Some(p),
            EnginePlan::Both(_) => None,
        }
    }

    /// The bidirectional plan, if it is one.
    pub(crate) fn both(&self) -> Option<&Arc<BidirectionalPlan>> {
        match self {
            EnginePlan::Single(_) => None,
            EnginePlan::Both(p) => Some(p),
        }
    }
}

/// Plan (with its seeds), products and the recovered matrix.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    pub(crate) plan: EnginePlan,
    /// The plan's products: A·S (columns), Aᵀ·S (rows), or the JVP block J·Sc of a
    /// bidirectional plan.
    pub(crate) products: Vec<f64>,
    /// The VJP block Jᵀ·Sr of a bidirectional plan (empty otherwise).
    pub(crate) row_products: Vec<f64>,
    pub(crate) matrix: CsMat<f64>,
    /// Per-row least-squares residuals of an oversampled random plan (see
    /// [`Engine::residual`]); empty for every other plan.
    pub(crate) residuals: Vec<f64>,
    /// The threads of [`Options::threads`](crate::Options) when the backend runs on them:
    /// the products' finiteness check is split across them too.
    pub(crate) pool: Option<Arc<rayon::ThreadPool>>,
}

impl Engine {
    /// The engine of `plan`, with `matrix` if given (made on the plan's pattern), else a
    /// new matrix on it.
    pub(crate) fn new(plan: EnginePlan, matrix: Option<CsMat<f64>>) -> Self {
        let [(rows, p), (rows2, p2)] = plan.products_shapes();
        let matrix = match matrix {
            Some(m) => {
                debug_assert!(
                    m.indptr().raw_storage() == plan.pattern().row_ptr()
                        && m.indices() == plan.pattern().col_idx()
                );
                m
            }
            None => plan
                .pattern()
                .to_sprs_with_values(vec![0.0; plan.pattern().nnz()])
                .expect("one value per entry by construction"),
        };
        // Residuals carry information only where a row has fewer entries than probes.
        let residuals = match plan.single().map(|p| p.decoder()) {
            Some(Decoder::RowLeastSquares(_)) if plan.pattern().row_stats().max < p => {
                vec![0.0; rows]
            }
            _ => Vec::new(),
        };
        Self {
            products: vec![0.0; rows * p],
            row_products: vec![0.0; rows2 * p2],
            matrix,
            plan,
            residuals,
            pool: None,
        }
    }

    /// For an oversampled least-squares plan (random probes, more of them than the longest
    /// row): max over rows of ‖Mᵢxᵢ − bᵢ‖ / ‖bᵢ‖ after [`decode`](Self::decode), how much of
    /// the products the recovered entries leave unexplained. Rounding level with exact
    /// products on the right pattern; far above it, the pattern misses entries (or the
    /// products are noisy). `None` for every other plan. Allocates nothing.
    pub(crate) fn residual(&mut self) -> Result<Option<f64>, SparseError> {
        if self.residuals.is_empty() {
            return Ok(None);
        }
        let EnginePlan::Single(plan) = &self.plan else {
            return Ok(None);
        };
        let Decoder::RowLeastSquares(d) = plan.decoder() else {
            return Ok(None);
        };
        let (rows, p) = plan.products_shape();
        let b = MatRef::from_row_major_slice(&self.products, rows, p);
        d.residuals(b, self.matrix.data(), &mut self.residuals)?;
        let mut worst: f64 = 0.0;
        for (i, &r) in self.residuals.iter().enumerate() {
            if r.is_nan() {
                continue; // an unrecoverable row: the decode reported it
            }
            let norm = self.products[i * p..(i + 1) * p]
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt();
            let rel = if norm > 0.0 {
                r / norm
            } else if r > 0.0 {
                f64::INFINITY
            } else {
                0.0
            };
            worst = worst.max(rel);
        }
        Ok(Some(worst))
    }

    /// Decodes the products into the matrix's values (no allocation).
    pub(crate) fn decode(&mut self) -> Result<(), SparseError> {
        let [(rows, p), (rows2, p2)] = self.plan.products_shapes();
        let b = MatRef::from_row_major_slice(&self.products, rows, p);
        match &self.plan {
            EnginePlan::Single(plan) => {
                // Checked here (on the pool's threads if there are several), so the
                // decoder does not check them again.
                let pool = self.pool.as_deref();
                if let Some(i) = crate::finite::first_non_finite(&self.products, pool) {
                    return Err(DecodeError::NonFinite {
                        row: i / p,
                        probe: i % p,
                        value: self.products[i],
                    }
                    .into());
                }
                plan.decode_prechecked(b, self.matrix.data_mut(), pool)?
            }
            EnginePlan::Both(plan) => {
                let c = MatRef::from_row_major_slice(&self.row_products, rows2, p2);
                plan.decode(b, c, self.matrix.data_mut())?
            }
        }
        Ok(())
    }
}
