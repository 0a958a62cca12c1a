//! [`SparseJacobian`]: prepare once, then evaluate the sparse Jacobian at any x without
//! allocating.

use std::time::{Duration, Instant};

use sparsediff_ad::trace::{jacobian_pattern, jacobian_pattern_conservative};
use sparsediff_ad::{
    Differences, FiniteDifferenceJacobian, ForwardJacobian, JacobianBackend, SeedBlock,
    TapeJacobian, VectorFunction,
};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{MatrixKind, Orientation, ProbePlan};
use sprs::CsMat;

use crate::engine::{Candidate, Engine, PrepareTimes, RecoveryInfo, Verifier, design};
use crate::error::SparseError;
use crate::options::{BackendChoice, Detection, Options};

/// A prepared sparse Jacobian: `evaluate(x)` computes the compressed products (J·S, or Jᵀ·S
/// for row plans) in one backend call and decodes them into a CSR matrix owned by this
/// value.
pub struct SparseJacobian {
    backend: Box<dyn JacobianBackend>,
    engine: Engine,
    verifier: Verifier,
    info: RecoveryInfo,
}

impl std::fmt::Debug for SparseJacobian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseJacobian")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl SparseJacobian {
    /// Prepares the Jacobian of `f` around `x0`: finds the pattern (traced at x0 unless
    /// given), designs the probes (column CPR by default; row plans with the tape backend
    /// when they need fewer products), and builds the backend (forward lanes by default).
    ///
    /// ```
    /// use sparsediff::num_dual::DualNum;
    /// use sparsediff::{Options, SparseJacobian, VectorFunction};
    ///
    /// /// F_i = x_i² − x_{i+1}.
    /// struct Chain;
    /// impl VectorFunction for Chain {
    ///     fn num_outputs(&self, n: usize) -> usize { n - 1 }
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
    ///         for i in 0..x.len() - 1 { out[i] = x[i].powi(2) - x[i + 1]; }
    ///     }
    /// }
    /// let x0 = vec![2.0; 100];
    /// let mut j = SparseJacobian::prepare(Chain, &x0, &Options::default())?;
    /// assert_eq!(j.info().probes, 2);
    /// assert_eq!(j.evaluate(&x0)?.get(3, 3), Some(&4.0));
    /// # Ok::<(), sparsediff::SparseError>(())
    /// ```
    pub fn prepare<F: VectorFunction + 'static>(
        f: F,
        x0: &[f64],
        options: &Options,
    ) -> Result<Self, SparseError> {
        let n = x0.len();
        let m = f.num_outputs(n);
        let traced = |x: &[sparsediff_ad::Tracer]| {
            let mut out = vec![sparsediff_ad::Tracer::from(0.0); m];
            f.eval(x, &mut out);
            out
        };
        let mut times = PrepareTimes::default();
        let start = Instant::now();
        let (pattern, detection) = match options.detection.clone() {
            Detection::Trace => (jacobian_pattern(x0, traced)?, "traced"),
            Detection::Conservative { points, seed } => (
                jacobian_pattern_conservative(x0, points, seed, traced)?,
                "conservative",
            ),
            Detection::Given(p) => (p, "given"),
        };
        times.detection = start.elapsed();
        if pattern.shape() != (m, n) {
            return Err(SparseError::WrongLength {
                what: "pattern shape (rows × columns)",
                len: pattern.nrows() * pattern.ncols(),
                expected: m * n,
            });
        }
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::General, options)?;
        times.design = design_time;
        let start = Instant::now();
        let backend: Box<dyn JacobianBackend> = match options.backend {
            BackendChoice::Auto | BackendChoice::Forward => Box::new(ForwardJacobian::new(f, n)),
            BackendChoice::Tape => Box::new(TapeJacobian::new(f, x0)?),
            BackendChoice::FiniteDifferences => {
                let mut scratch = vec![0.0; m];
                Box::new(FiniteDifferenceJacobian::new(
                    move |x: &[f64], y: &mut [f64]| {
                        scratch.fill(0.0);
                        f.eval(x, &mut scratch);
                        y.copy_from_slice(&scratch);
                    },
                    n,
                    m,
                    Differences::Central,
                ))
            }
        };
        times.backend = start.elapsed();
        Self::assemble(
            backend,
            plan,
            candidates,
            detection,
            (options.verify_every, options.verify_tolerance),
            times,
        )
    }

    /// Prepares with a backend and a pattern the caller knows (forward lanes, finite
    /// differences, a closure, a tape).
    pub fn with_backend(
        backend: Box<dyn JacobianBackend>,
        pattern: Pattern,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let (m, n) = backend.dims();
        if pattern.shape() != (m, n) {
            return Err(SparseError::WrongLength {
                what: "pattern shape (rows × columns)",
                len: pattern.nrows() * pattern.ncols(),
                expected: m * n,
            });
        }
        let detection = match options.detection {
            Detection::Given(_) => "given",
            Detection::Trace => "traced",
            Detection::Conservative { .. } => "conservative",
        };
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::General, options)?;
        let times = PrepareTimes {
            design: design_time,
            ..PrepareTimes::default()
        };
        Self::assemble(
            backend,
            plan,
            candidates,
            detection,
            (options.verify_every, options.verify_tolerance),
            times,
        )
    }

    /// Uses an existing plan (e.g. one loaded with [`SavedPlan`](crate::SavedPlan)).
    pub fn with_plan(
        backend: Box<dyn JacobianBackend>,
        plan: ProbePlan,
        verify_every: usize,
    ) -> Result<Self, SparseError> {
        let candidates = vec![Candidate {
            designer: plan.designer(),
            outcome: Ok(plan.num_probes()),
            time: Duration::ZERO,
        }];
        Self::assemble(
            backend,
            plan,
            candidates,
            "given",
            (verify_every, 1e-8),
            PrepareTimes::default(),
        )
    }

    pub(crate) fn assemble(
        backend: Box<dyn JacobianBackend>,
        plan: ProbePlan,
        candidates: Vec<Candidate>,
        detection: &'static str,
        verify: (usize, f64),
        mut times: PrepareTimes,
    ) -> Result<Self, SparseError> {
        let start = Instant::now();
        let (m, n) = backend.dims();
        if plan.pattern().shape() != (m, n) {
            return Err(SparseError::WrongLength {
                what: "plan pattern shape (rows × columns)",
                len: plan.pattern().nrows() * plan.pattern().ncols(),
                expected: m * n,
            });
        }
        let verifier = Verifier::new(verify.0, verify.1, n, m);
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
            shape: (m, n, plan.pattern().nnz()),
            prepare: times,
        };
        Ok(Self {
            backend,
            verifier,
            engine,
            info,
        })
    }

    /// The Jacobian at `x` (CSR, the pattern's order). Allocates nothing after the first
    /// call.
    pub fn evaluate(&mut self, x: &[f64]) -> Result<&CsMat<f64>, SparseError> {
        let (_, n) = self.backend.dims();
        if x.len() != n {
            return Err(SparseError::WrongLength {
                what: "x",
                len: x.len(),
                expected: n,
            });
        }
        let seeds = self.engine.seeds.block();
        match self.engine.plan.orientation() {
            Orientation::Columns => self
                .backend
                .jvp_block(x, seeds, &mut self.engine.products)?,
            Orientation::Rows => self
                .backend
                .vjp_block(x, seeds, &mut self.engine.products)?,
        }
        self.engine.decode()?;
        if self.verifier.due() {
            self.backend.jvp_block(
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

    /// F(x) into `out`, through the backend.
    pub fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), SparseError> {
        Ok(self.backend.value(x, out)?)
    }

    /// The last evaluated Jacobian.
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
