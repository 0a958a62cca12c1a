//! What a prepared Jacobian or Hessian shares: the probe plan, the seeds in the backend's
//! layout, the product buffer and the recovered matrix (updated in place); designing the
//! plan; what `info()` reports.

use std::time::{Duration, Instant};

use faer::MatRef;
use sparsediff_ad::SeedBlock;
use sparsediff_coloring::{Method, Problem, lower_bound};
use sparsediff_pattern::Pattern;
use sparsediff_probe::design::Geometry;
use sparsediff_probe::{DesignError, MatrixKind, ProbePlan, Seeds};
use sprs::CsMat;

use crate::error::SparseError;
use crate::options::Options;

/// One designer tried by `prepare`: its probe count, or why it did not apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The designer.
    pub designer: &'static str,
    /// Probes, or the reason it did not apply.
    pub outcome: Result<usize, String>,
    /// Time spent designing (colouring, seeds, decoder); zero when it was not tried.
    pub time: Duration,
}

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
    /// Seeds in the backend's layout, product and output buffers, verification vector.
    pub setup: Duration,
}

impl PrepareTimes {
    /// The sum of the stages.
    pub fn total(&self) -> Duration {
        self.detection + self.design + self.backend + self.setup
    }
}

/// What a prepared plan reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryInfo {
    /// Products per evaluation.
    pub probes: usize,
    /// Lower bound on the probes of the chosen designer's family.
    pub lower_bound: usize,
    /// Colours, for plans made from a colouring.
    pub colors: Option<usize>,
    /// The designer (`acyclic`, `star`, `roll`, ...).
    pub designer: &'static str,
    /// Every designer tried, with its probe count (or why it did not apply).
    pub candidates: Vec<Candidate>,
    /// The backend (`tape`, `forward`, `fd`, `closure`).
    pub backend: &'static str,
    /// How the pattern was found (`traced`, `conservative`, `given`).
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
    /// How often the function took other branches than at the previous evaluation (seen by
    /// the backend, or by comparing a recording with a plain evaluation).
    pub branch_changes: usize,
    /// How often the pattern was traced again at an evaluation point.
    pub retraces: usize,
    /// How often the plan was re-designed for a pattern widened by another branch (the
    /// matrix's pattern changed; `evaluate` allocated).
    pub redesigns: usize,
}

/// Designs the plan: every designer of the strategy, the fewest probes wins (the first in
/// preference order on ties). Also returns the time it took ([`PrepareTimes::design`]).
pub(crate) fn design(
    pattern: &Pattern,
    kind: MatrixKind,
    options: &Options,
) -> Result<(ProbePlan, Vec<Candidate>, Duration), SparseError> {
    let start = Instant::now();
    let (plan, candidates) = design_untimed(pattern, kind, options)?;
    Ok((plan, candidates, start.elapsed()))
}

fn design_untimed(
    pattern: &Pattern,
    kind: MatrixKind,
    options: &Options,
) -> Result<(ProbePlan, Vec<Candidate>), SparseError> {
    let hessian = kind == MatrixKind::Symmetric;
    // No exact design can use fewer probes than this: a clique of the adjacency graph
    // (Hessians), the largest row (column designs of Jacobians).
    let bound = match kind {
        MatrixKind::Symmetric => {
            lower_bound(pattern, Problem::Symmetric, Method::Acyclic).unwrap_or(0)
        }
        MatrixKind::General => pattern.row_stats().max,
    };
    let mut best: Option<ProbePlan> = None;
    let mut candidates = Vec::new();
    let mut last_error: Option<DesignError> = None;
    let geometry = match (&options.strategy, options.geometry) {
        (crate::Strategy::Auto, None) => Geometry::infer(pattern),
        (_, given) => given,
    };
    for d in options
        .strategy
        .designers(hessian, &options.coloring, geometry)
    {
        if options.strategy == crate::Strategy::Auto
            && let Some(b) = &best
        {
            // Skip what cannot win: the best plan meets the bound of every exact design,
            // or this designer's own bound (ties go to the earlier designer).
            let skip = if b.num_probes() <= bound {
                Some("an earlier plan already meets the lower bound".to_string())
            } else {
                d.lower_bound(pattern, kind)
                    .filter(|&own| b.num_probes() <= own)
                    .map(|own| {
                        format!(
                            "its lower bound is {own} probes; an earlier plan has {}",
                            b.num_probes()
                        )
                    })
            };
            if let Some(why) = skip {
                candidates.push(Candidate {
                    designer: d.name(),
                    outcome: Err(format!("not tried: {why}")),
                    time: Duration::ZERO,
                });
                continue;
            }
        }
        let start = Instant::now();
        let designed = d.design(pattern, kind);
        let time = start.elapsed();
        match designed {
            Ok(plan) => {
                candidates.push(Candidate {
                    designer: d.name(),
                    outcome: Ok(plan.num_probes()),
                    time,
                });
                if best
                    .as_ref()
                    .is_none_or(|b| plan.num_probes() < b.num_probes())
                {
                    best = Some(plan);
                }
            }
            Err(e) => {
                candidates.push(Candidate {
                    designer: d.name(),
                    outcome: Err(e.to_string()),
                    time,
                });
                last_error = Some(e);
            }
        }
    }
    match (best, last_error) {
        (Some(plan), _) => Ok((plan, candidates)),
        (None, Some(e)) if candidates.len() == 1 => Err(e.into()),
        (None, _) => Err(SparseError::NoDesigner {
            strategy: options.strategy.name(),
            reasons: candidates
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.designer,
                        c.outcome.as_ref().err().cloned().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// Seeds in the backends' layout (row-major for dense seeds).
#[derive(Debug, Clone)]
pub(crate) enum SeedStore {
    Groups(Vec<usize>, usize),
    Dense(Vec<f64>, usize),
}

impl SeedStore {
    pub(crate) fn new(seeds: &Seeds) -> Self {
        match seeds {
            Seeds::Groups { group, num_probes } => SeedStore::Groups(group.clone(), *num_probes),
            Seeds::Dense(s) => {
                let (n, p) = (s.nrows(), s.ncols());
                let mut v = vec![0.0; n * p];
                for j in 0..n {
                    for c in 0..p {
                        v[j * p + c] = s[(j, c)];
                    }
                }
                SeedStore::Dense(v, p)
            }
        }
    }

    pub(crate) fn block(&self) -> SeedBlock<'_> {
        match self {
            SeedStore::Groups(group, probes) => SeedBlock::Groups {
                group,
                probes: *probes,
            },
            SeedStore::Dense(values, probes) => SeedBlock::Dense {
                values,
                probes: *probes,
            },
        }
    }
}

/// Plan, seeds, products and the recovered matrix.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    pub(crate) plan: ProbePlan,
    pub(crate) seeds: SeedStore,
    pub(crate) products: Vec<f64>,
    pub(crate) matrix: CsMat<f64>,
}

impl Engine {
    pub(crate) fn new(plan: ProbePlan) -> Self {
        let (rows, p) = plan.products_shape();
        let nnz = plan.pattern().nnz();
        let matrix = plan
            .pattern()
            .to_sprs_with_values(vec![0.0; nnz])
            .expect("one value per entry by construction");
        Self {
            seeds: SeedStore::new(plan.seeds()),
            products: vec![0.0; rows * p],
            matrix,
            plan,
        }
    }

    /// Decodes `products` into the matrix's values (no allocation).
    pub(crate) fn decode(&mut self) -> Result<(), SparseError> {
        let (rows, p) = self.plan.products_shape();
        let b = MatRef::from_row_major_slice(&self.products, rows, p);
        self.plan.decode(b, self.matrix.data_mut())?;
        Ok(())
    }
}
