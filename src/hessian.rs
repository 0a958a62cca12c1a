//! [`SparseHessian`]: prepare once (pattern, probes, backend), then evaluate the sparse
//! Hessian at any x without allocating.

use std::time::{Duration, Instant};

use sparsediff_ad::trace::{hessian_pattern, hessian_pattern_conservative};
use sparsediff_ad::{
    AdError, HessianBackend, ScalarFunction, SeedBlock, TapeGradientDifferences, TapeHessian,
};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{MatrixKind, ProbePlan};
use sprs::CsMat;

use crate::engine::{Candidate, Engine, PrepareTimes, RecoveryInfo, Verifier, design};
use crate::error::SparseError;
use crate::options::{BackendChoice, Detection, Options};

/// A prepared sparse Hessian: `evaluate(x)` computes the p compressed Hessian-vector
/// products in one backend call and decodes them into a CSR matrix owned by this value.
pub struct SparseHessian {
    backend: Box<dyn HessianBackend>,
    engine: Engine,
    verifier: Verifier,
    info: RecoveryInfo,
}

impl std::fmt::Debug for SparseHessian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseHessian")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl SparseHessian {
    /// Prepares the Hessian of `f` around `x0`: finds the pattern (traced at x0 unless
    /// given), designs the probes (by default the fewest among the exact designers), and
    /// records the tape. Everything `evaluate` needs is allocated here.
    ///
    /// ```
    /// use sparsediff::num_dual::DualNum;
    /// use sparsediff::{Options, ScalarFunction, SparseHessian};
    ///
    /// struct Rosenbrock;
    /// impl ScalarFunction for Rosenbrock {
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
    ///         x.windows(2).map(|w| (w[1] - w[0].powi(2)).powi(2) * 100.0 + (D::one() - w[0]).powi(2)).sum()
    ///     }
    /// }
    /// let x0 = vec![0.5; 1000];
    /// let mut h = SparseHessian::prepare(Rosenbrock, &x0, &Options::default())?;
    /// assert_eq!(h.info().probes, 2); // tridiagonal: acyclic colouring, substitution
    /// let m = h.evaluate(&x0)?;
    /// assert_eq!(m.get(1, 1), Some(&(1200.0 * 0.25 - 400.0 * 0.5 + 2.0 + 200.0)));
    /// # Ok::<(), sparsediff::SparseError>(())
    /// ```
    pub fn prepare<F: ScalarFunction + 'static>(
        f: F,
        x0: &[f64],
        options: &Options,
    ) -> Result<Self, SparseError> {
        let mut times = PrepareTimes::default();
        let start = Instant::now();
        let (pattern, detection) = match options.detection.clone() {
            Detection::Trace => (hessian_pattern(x0, |x| f.eval(x))?, "traced"),
            Detection::Conservative { points, seed } => (
                hessian_pattern_conservative(x0, points, seed, |x| f.eval(x))?,
                "conservative",
            ),
            Detection::Given(p) => (p, "given"),
        };
        times.detection = start.elapsed();
        let n = x0.len();
        if pattern.shape() != (n, n) {
            return Err(SparseError::WrongLength {
                what: "pattern rows and columns",
                len: pattern.nrows().max(pattern.ncols()),
                expected: n,
            });
        }
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::Symmetric, options)?;
        times.design = design_time;
        let start = Instant::now();
        let backend: Box<dyn HessianBackend> = match options.backend {
            BackendChoice::Auto | BackendChoice::Tape => Box::new(TapeHessian::new(f, x0)?),
            BackendChoice::FiniteDifferences => Box::new(TapeGradientDifferences::new(f, x0)?),
            BackendChoice::Forward => {
                return Err(AdError::Unsupported {
                    backend: "forward",
                    operation: "Hessian-vector products (forward mode alone needs n passes per probe; use the tape)",
                }
                .into());
            }
        };
        times.backend = start.elapsed();
        Ok(Self::assemble(
            backend,
            plan,
            candidates,
            detection,
            (options.verify_every, options.verify_tolerance),
            times,
        ))
    }

    /// Prepares with a backend and a pattern the caller knows (finite differences of a
    /// gradient, a closure over another AD system, a tape built elsewhere). The options'
    /// detection must be [`Detection::Given`] or is replaced by `pattern`.
    pub fn with_backend(
        backend: Box<dyn HessianBackend>,
        pattern: Pattern,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let n = backend.dim();
        if pattern.shape() != (n, n) {
            return Err(SparseError::WrongLength {
                what: "pattern rows and columns",
                len: pattern.nrows().max(pattern.ncols()),
                expected: n,
            });
        }
        let detection = match options.detection {
            Detection::Given(_) => "given",
            Detection::Trace => "traced",
            Detection::Conservative { .. } => "conservative",
        };
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::Symmetric, options)?;
        let times = PrepareTimes {
            design: design_time,
            ..PrepareTimes::default()
        };
        Ok(Self::assemble(
            backend,
            plan,
            candidates,
            detection,
            (options.verify_every, options.verify_tolerance),
            times,
        ))
    }

    /// Uses an existing plan (e.g. one loaded with [`SavedPlan`](crate::SavedPlan)).
    pub fn with_plan(
        backend: Box<dyn HessianBackend>,
        plan: ProbePlan,
        verify_every: usize,
    ) -> Result<Self, SparseError> {
        let n = backend.dim();
        if plan.pattern().shape() != (n, n) {
            return Err(SparseError::WrongLength {
                what: "plan pattern rows and columns",
                len: plan.pattern().nrows(),
                expected: n,
            });
        }
        let candidates = vec![Candidate {
            designer: plan.designer(),
            outcome: Ok(plan.num_probes()),
            time: Duration::ZERO,
        }];
        Ok(Self::assemble(
            backend,
            plan,
            candidates,
            "given",
            (verify_every, 1e-8),
            PrepareTimes::default(),
        ))
    }

    pub(crate) fn assemble(
        backend: Box<dyn HessianBackend>,
        plan: ProbePlan,
        candidates: Vec<Candidate>,
        detection: &'static str,
        verify: (usize, f64),
        mut times: PrepareTimes,
    ) -> Self {
        let start = Instant::now();
        let n = backend.dim();
        let verifier = Verifier::new(verify.0, verify.1, n, n);
        let engine = Engine::new(plan);
        times.setup = start.elapsed();
        let plan = &engine.plan;
        let info = RecoveryInfo {
            probes: plan.num_probes(),
            lower_bound: plan.lower_bound(),
            colors: plan.colors(),
            designer: plan.designer(),
            candidates,
            backend: backend.name(),
            detection,
            shape: (n, n, plan.pattern().nnz()),
            prepare: times,
        };
        Self {
            backend,
            verifier,
            engine,
            info,
        }
    }

    /// The Hessian at `x` (CSR, both triangles, the pattern's order). Allocates nothing
    /// after the first call; errors on a wrong length, non-finite values, a failed decode,
    /// or (every `verify_every` calls) a verification product that disagrees.
    pub fn evaluate(&mut self, x: &[f64]) -> Result<&CsMat<f64>, SparseError> {
        let n = self.backend.dim();
        if x.len() != n {
            return Err(SparseError::WrongLength {
                what: "x",
                len: x.len(),
                expected: n,
            });
        }
        let seeds = self.engine.seeds.block();
        self.backend
            .hvp_block(x, seeds, &mut self.engine.products)?;
        self.engine.decode()?;
        if self.verifier.due() {
            self.backend.hvp_block(
                x,
                SeedBlock::Dense {
                    values: &self.verifier.z,
                    probes: 1,
                },
                &mut self.verifier.az,
            )?;
            self.verifier
                .check(self.engine.plan.pattern(), self.engine.matrix.data())?;
        }
        Ok(&self.engine.matrix)
    }

    /// f(x), through the backend.
    pub fn value(&mut self, x: &[f64]) -> Result<f64, SparseError> {
        Ok(self.backend.value(x)?)
    }

    /// The last evaluated Hessian.
    pub fn matrix(&self) -> &CsMat<f64> {
        &self.engine.matrix
    }

    /// The last evaluated values, in the pattern's order.
    pub fn values(&self) -> &[f64] {
        self.engine.matrix.data()
    }

    /// The pattern.
    pub fn pattern(&self) -> &Pattern {
        self.engine.plan.pattern()
    }

    /// The probe plan.
    pub fn plan(&self) -> &ProbePlan {
        &self.engine.plan
    }

    /// Probes, bound, designer, backend, detection.
    pub fn info(&self) -> &RecoveryInfo {
        &self.info
    }
}
