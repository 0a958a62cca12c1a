//! [`SparseHessian`]: prepare once (pattern, probes, backend), then evaluate the sparse
//! Hessian at any x without allocating.

use std::sync::Arc;
use std::time::Instant;

use sparsediff_ad::trace::{hessian_pattern_conservative, hessian_pattern_with_info};
use sparsediff_ad::{
    AdError, HessianBackend, ScalarFunction, TapeGradientDifferences, TapeHessian,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff_probe::{MatrixKind, ProbePlan};
use sprs::CsMat;

use crate::engine::{Candidate, PrepareTimes, RecoveryInfo, design};
use crate::error::SparseError;
use crate::options::{BackendChoice, Detection, Options};
use crate::recovery::{Hooks, Prepared, Recovery, Source};

/// A prepared sparse Hessian: `evaluate(x)` computes the p compressed Hessian-vector
/// products in one backend call and decodes them into a CSR matrix owned by this value.
///
/// It never returns numbers it cannot vouch for: branches the function takes differently
/// than at prepare re-trace the pattern (and re-design the probes when it grew), and
/// evaluations are verified as [`Verify`](crate::Verify) says (by default the first, and
/// periodically whenever the pattern may not hold at every x).
pub struct SparseHessian {
    recovery: Recovery<Box<dyn HessianBackend>>,
}

impl std::fmt::Debug for SparseHessian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseHessian")
            .field("info", &self.recovery.info)
            .finish_non_exhaustive()
    }
}

/// The trace and the plain evaluation of a scalar function, for re-checks at evaluation.
fn hooks<F: ScalarFunction + 'static>(f: Arc<F>) -> Hooks {
    let g = Arc::clone(&f);
    Hooks {
        trace: Box::new(move |x| Ok(hessian_pattern_with_info(x, |t| g.eval(t))?)),
        plain: Box::new(move |x, out| out[0] = f.eval(x)),
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
        if let Some(index) = sparsediff_pattern::first_non_finite(x0) {
            return Err(SparseError::NonFiniteInput {
                index,
                value: x0[index],
            });
        }
        let f = Arc::new(f);
        let mut times = PrepareTimes::default();
        let start = Instant::now();
        let (pattern, trace) = match &options.detection {
            Detection::Trace => {
                let (p, info) = hessian_pattern_with_info(x0, |x| f.eval(x))?;
                (p, Some(info))
            }
            Detection::Conservative { points, seed } => (
                hessian_pattern_conservative(x0, *points, *seed, |x| f.eval(x))?,
                None,
            ),
            Detection::Given(p) => (p.clone(), None),
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
            BackendChoice::Auto | BackendChoice::Tape => {
                Box::new(TapeHessian::new(Arc::clone(&f), x0)?)
            }
            BackendChoice::FiniteDifferences => {
                Box::new(TapeGradientDifferences::new(Arc::clone(&f), x0)?)
            }
            BackendChoice::Forward => {
                return Err(AdError::Unsupported {
                    backend: "forward",
                    operation: "Hessian-vector products (forward mode alone needs n passes per probe; use the tape)",
                }
                .into());
            }
        };
        times.backend = start.elapsed();
        let prepared = Prepared {
            backend,
            plan,
            candidates,
            source: Source::of(&options.detection),
            trace,
            hooks: Some(hooks(f)),
            times,
        };
        Ok(Self {
            recovery: Recovery::new(prepared, options)?,
        })
    }

    /// Prepares with a backend and a pattern the caller knows (finite differences of a
    /// gradient, a closure over another AD system, a tape built elsewhere). The pattern is
    /// treated as given (the options' detection is ignored): the function is not known
    /// here, so it is never traced, and verification runs periodically under
    /// [`Verify::Auto`](crate::Verify::Auto).
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
        let (plan, candidates, design_time) = design(&pattern, MatrixKind::Symmetric, options)?;
        let times = PrepareTimes {
            design: design_time,
            ..PrepareTimes::default()
        };
        Self::assemble(backend, plan, candidates, options, times)
    }

    /// Uses an existing plan (e.g. one loaded with [`SavedPlan`](crate::SavedPlan)), with
    /// the verification options of `options` (its detection and strategy are not used).
    pub fn with_plan(
        backend: Box<dyn HessianBackend>,
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
        backend: Box<dyn HessianBackend>,
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

    /// The Hessian at `x` (CSR, both triangles, the pattern's order). Allocates nothing
    /// after the first call unless a branch change widens the pattern (see
    /// [`OnBranchChange`](crate::OnBranchChange)). Errors on a wrong length, non-finite
    /// input or values, a failed decode, a verification that fails (see
    /// [`Verify`](crate::Verify)), or a branch change under
    /// [`OnBranchChange::Error`](crate::OnBranchChange::Error).
    pub fn evaluate(&mut self, x: &[f64]) -> Result<&CsMat<f64>, SparseError> {
        self.recovery.evaluate(x)?;
        Ok(&self.recovery.engine.matrix)
    }

    /// f(x), through the backend.
    pub fn value(&mut self, x: &[f64]) -> Result<f64, SparseError> {
        Ok(self.recovery.backend.value(x)?)
    }

    /// ∇f(x) into `grad` (length n), through the backend (a reverse sweep of the tape);
    /// returns f(x). Backends of products only (closures) return
    /// [`AdError::Unsupported`].
    pub fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, SparseError> {
        let n = self.recovery.backend.dim();
        for (what, len) in [("x", x.len()), ("gradient buffer", grad.len())] {
            if len != n {
                return Err(SparseError::WrongLength {
                    what,
                    len,
                    expected: n,
                });
            }
        }
        Ok(self.recovery.backend.gradient(x, grad)?)
    }

    /// ∇²f(x)·v into `out`, matrix-free (one Hessian-vector product of the backend).
    pub fn hessian_vector(
        &mut self,
        x: &[f64],
        v: &[f64],
        out: &mut [f64],
    ) -> Result<(), SparseError> {
        let n = self.recovery.backend.dim();
        for (what, len) in [("x", x.len()), ("v", v.len()), ("output buffer", out.len())] {
            if len != n {
                return Err(SparseError::WrongLength {
                    what,
                    len,
                    expected: n,
                });
            }
        }
        let seeds = sparsediff_ad::SeedBlock::Dense {
            values: v,
            probes: 1,
        };
        Ok(self.recovery.backend.hvp_block(x, seeds, out)?)
    }

    /// The last evaluated Hessian.
    pub fn matrix(&self) -> &CsMat<f64> {
        &self.recovery.engine.matrix
    }

    /// The last evaluated values, in the pattern's order.
    pub fn values(&self) -> &[f64] {
        self.recovery.engine.matrix.data()
    }

    /// The pattern (it can grow at a branch change: see
    /// [`OnBranchChange`](crate::OnBranchChange)).
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

impl ValueGradient for SparseHessian {
    type Error = SparseError;

    fn dim(&self) -> usize {
        self.recovery.backend.dim()
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, SparseError> {
        SparseHessian::value(self, x)
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, SparseError> {
        SparseHessian::gradient(self, x, grad)
    }
}

impl ValueGradientHessian for SparseHessian {
    fn hessian(&mut self, x: &[f64]) -> Result<SymmetricValues<'_>, SparseError> {
        self.recovery.evaluate(x)?;
        Ok(SymmetricValues {
            pattern: self.recovery.engine.plan.pattern(),
            values: self.recovery.engine.matrix.data(),
        })
    }

    fn hessian_vector(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), SparseError> {
        SparseHessian::hessian_vector(self, x, v, out)
    }

    fn products_per_hessian(&self) -> usize {
        self.recovery.info.probes
    }
}
