//! [`SparseJacobian`]: prepare once, then evaluate the sparse Jacobian at any x without
//! allocating.

use std::sync::Arc;
use std::time::Instant;

use sparsediff_ad::trace::{jacobian_pattern_conservative, jacobian_pattern_with_info};
use sparsediff_ad::{
    Differences, FiniteDifferenceJacobian, ForwardJacobian, JacobianBackend, TapeJacobian, Tracer,
    VectorFunction,
};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{MatrixKind, ProbePlan};
use sprs::CsMat;

use crate::engine::{Candidate, PrepareTimes, RecoveryInfo, design};
use crate::error::SparseError;
use crate::options::{BackendChoice, Detection, Options};
use crate::recovery::{Hooks, Prepared, Recovery, Source};

/// A prepared sparse Jacobian: `evaluate(x)` computes the compressed products (J·S, or Jᵀ·S
/// for row plans) in one backend call and decodes them into a CSR matrix owned by this
/// value.
///
/// Like [`SparseHessian`](crate::SparseHessian) it follows branch changes and verifies
/// evaluations as [`Verify`](crate::Verify) says.
pub struct SparseJacobian {
    recovery: Recovery<Box<dyn JacobianBackend>>,
}

impl std::fmt::Debug for SparseJacobian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseJacobian")
            .field("info", &self.recovery.info)
            .finish_non_exhaustive()
    }
}

/// F on tracers, as the tracer wants it.
fn traced<F: VectorFunction>(f: &F, m: usize, x: &[Tracer]) -> Vec<Tracer> {
    let mut out = vec![Tracer::from(0.0); m];
    f.eval(x, &mut out);
    out
}

/// The trace and the plain evaluation of a vector function, for re-checks at evaluation.
fn hooks<F: VectorFunction + 'static>(f: Arc<F>, m: usize) -> Hooks {
    let g = Arc::clone(&f);
    Hooks {
        trace: Box::new(move |x| Ok(jacobian_pattern_with_info(x, |t| traced(&*g, m, t))?)),
        plain: Box::new(move |x, out| f.eval(x, out)),
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
        if let Some(index) = sparsediff_pattern::first_non_finite(x0) {
            return Err(SparseError::NonFiniteInput {
                index,
                value: x0[index],
            });
        }
        let n = x0.len();
        let m = f.num_outputs(n);
        let f = Arc::new(f);
        let mut times = PrepareTimes::default();
        let start = Instant::now();
        let (pattern, trace) = match &options.detection {
            Detection::Trace => {
                let (p, info) = jacobian_pattern_with_info(x0, |x| traced(&*f, m, x))?;
                (p, Some(info))
            }
            Detection::Conservative { points, seed } => (
                jacobian_pattern_conservative(x0, *points, *seed, |x| traced(&*f, m, x))?,
                None,
            ),
            Detection::Given(p) => (p.clone(), None),
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
            BackendChoice::Auto | BackendChoice::Forward => {
                Box::new(ForwardJacobian::anchored(Arc::clone(&f), x0)?)
            }
            BackendChoice::Tape => Box::new(TapeJacobian::new(Arc::clone(&f), x0)?),
            BackendChoice::FiniteDifferences => {
                let g = Arc::clone(&f);
                Box::new(FiniteDifferenceJacobian::new(
                    move |x: &[f64], y: &mut [f64]| {
                        y.fill(0.0);
                        g.eval(x, y);
                    },
                    n,
                    m,
                    Differences::Central,
                ))
            }
        };
        times.backend = start.elapsed();
        let prepared = Prepared {
            backend,
            plan,
            candidates,
            source: Source::of(&options.detection),
            trace,
            hooks: Some(hooks(f, m)),
            times,
        };
        Ok(Self {
            recovery: Recovery::new(prepared, options)?,
        })
    }

    /// Prepares with a backend and a pattern the caller knows (forward lanes, finite
    /// differences, a closure, a tape). The pattern is treated as given (the options'
    /// detection is ignored): the function is not known here, so it is never traced, and
    /// verification runs periodically under [`Verify::Auto`](crate::Verify::Auto).
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
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::General, options)?;
        let times = PrepareTimes {
            design: design_time,
            ..PrepareTimes::default()
        };
        Self::assemble(backend, plan, candidates, options, times)
    }

    /// Uses an existing plan (e.g. one loaded with [`SavedPlan`](crate::SavedPlan)), with
    /// the verification options of `options` (its detection and strategy are not used).
    pub fn with_plan(
        backend: Box<dyn JacobianBackend>,
        plan: ProbePlan,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let candidates = vec![Candidate {
            designer: plan.designer(),
            outcome: Ok(plan.num_probes()),
            time: std::time::Duration::ZERO,
        }];
        Self::assemble(backend, plan, candidates, options, PrepareTimes::default())
    }

    fn assemble(
        backend: Box<dyn JacobianBackend>,
        plan: ProbePlan,
        candidates: Vec<Candidate>,
        options: &Options,
        times: PrepareTimes,
    ) -> Result<Self, SparseError> {
        let prepared = Prepared {
            backend,
            plan,
            candidates,
            source: Source::Given,
            trace: None,
            hooks: None,
            times,
        };
        Ok(Self {
            recovery: Recovery::new(prepared, options)?,
        })
    }

    /// The Jacobian at `x` (CSR, the pattern's order). Allocates nothing after the first
    /// call unless a branch change widens the pattern. Errors as
    /// [`SparseHessian::evaluate`](crate::SparseHessian::evaluate).
    pub fn evaluate(&mut self, x: &[f64]) -> Result<&CsMat<f64>, SparseError> {
        self.recovery.evaluate(x)?;
        Ok(&self.recovery.engine.matrix)
    }

    /// F(x) into `out`, through the backend.
    pub fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), SparseError> {
        Ok(self.recovery.backend.value(x, out)?)
    }

    /// The last evaluated Jacobian.
    pub fn matrix(&self) -> &CsMat<f64> {
        &self.recovery.engine.matrix
    }

    /// The last evaluated values, in the pattern's order.
    pub fn values(&self) -> &[f64] {
        self.recovery.engine.matrix.data()
    }

    /// The pattern (it can grow at a branch change).
    pub fn pattern(&self) -> &Pattern {
        self.recovery.engine.plan.pattern()
    }

    /// Changes when evaluations are verified, from the next evaluation on (evaluations are
    /// counted from prepare). `Verify::Every(0)` is an error.
    pub fn set_verify(&mut self, verify: crate::Verify) -> Result<(), SparseError> {
        self.recovery.set_verify(verify)
    }

    /// The probe plan.
    pub fn plan(&self) -> &ProbePlan {
        &self.recovery.engine.plan
    }

    /// Probes, bound, designer, backend, detection, verification and branch counts.
    pub fn info(&self) -> &RecoveryInfo {
        &self.recovery.info
    }
}
