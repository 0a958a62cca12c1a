//! [`SparseHessian`]: prepare once (pattern, probes, backend), then evaluate the sparse
//! Hessian at any x without allocating. [`HessianBuilder`] combines any function, backend,
//! detector, designer or plan; [`SparseHessian::prepare`] is its common case.

use std::sync::Arc;

use sparsediff_ad::trace::{hessian_pattern_global_with_info, hessian_pattern_with_info};
use sparsediff_ad::{
    AdError, HessianBackend, ScalarFunction, TapeGradientDifferences, TapeHessian,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::objective::{SymmetricValues, ValueGradient, ValueGradientHessian};
use sparsediff_probe::ProbePlan;
use sprs::CsMat;

use crate::builder::Builder;
use crate::detect::GivenPattern;
use crate::engine::RecoveryInfo;
use crate::error::SparseError;
use crate::evaluation::Evaluation;
use crate::options::{BackendChoice, Options};
use crate::recovery::{Hooks, Recovery};

/// A prepared sparse Hessian: `evaluate(x)` computes the p compressed Hessian-vector
/// products in one backend call and decodes them into a CSR matrix owned by this value.
///
/// It never returns numbers it cannot vouch for: branches the function takes differently
/// than at prepare re-trace the pattern (and re-design the probes when it grew), and
/// evaluations are verified as [`Verify`](crate::Verify) says (by default the first, and
/// periodically whenever the pattern may not hold at every x).
///
/// `SparseHessian` is `Send` (the function must be `Send + Sync`, a caller's backend
/// `Send`): a prepared evaluator can move to another thread. A function holding an `Rc`
/// or a `RefCell` shared with the caller cannot be prepared; share data through `&` (the
/// function may borrow it: `'f`) or `Arc`.
pub struct SparseHessian<'f> {
    recovery: Recovery<'f, Box<dyn HessianBackend + Send + 'f>>,
}

impl std::fmt::Debug for SparseHessian<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseHessian")
            .field("info", &self.recovery.info)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SparseHessian`] from the pieces at hand: the function (for the default
/// backend, tracing and re-checks), a backend of the caller's (products from elsewhere),
/// a plan (shared between threads, or loaded), and the point x0 where detection runs. The
/// options choose the detector, the designer and the verification.
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
/// let x0 = vec![0.3; 100];
/// let h = SparseHessian::builder().function(Chain).point(&x0).build(&Options::default())?;
/// // A second evaluator on the same plan (e.g. for another thread): shared, not re-designed.
/// let mut g = SparseHessian::builder()
///     .function(Chain)
///     .point(&x0)
///     .plan(h.shared_plan())
///     .build(&Options::default())?;
/// assert!(std::sync::Arc::ptr_eq(&h.shared_plan(), &g.shared_plan()));
/// assert_eq!(g.evaluate(&x0)?.nnz(), 100 + 2 * 99);
/// # Ok::<(), sparsediff::SparseError>(())
/// ```
pub type HessianBuilder<'x, 'f> = Builder<'x, 'f, dyn HessianBackend + Send + 'f>;

impl<'f> HessianBuilder<'_, 'f> {
    /// The function: with it come the default backend of
    /// [`Options::backend`](crate::Options::backend), tracing (detection and re-checks at
    /// branch changes) and plain evaluations (checks of a recording).
    pub fn function<F: ScalarFunction + Send + Sync + 'f>(mut self, f: F) -> Self {
        let f = Arc::new(f);
        let (g, t, u) = (Arc::clone(&f), Arc::clone(&f), Arc::clone(&f));
        self.hooks = Some(Hooks {
            trace: Box::new(move |x| Ok(hessian_pattern_with_info(x, |v| t.eval(v))?)),
            trace_global: Box::new(move |x, max_paths| {
                Ok(hessian_pattern_global_with_info(x, max_paths, |v| {
                    u.eval(v)
                })?)
            }),
            plain: Box::new(move |x, out| out[0] = g.eval(x)),
        });
        self.make = Some(Box::new(
            move |x0, choice| -> Result<Box<dyn HessianBackend + Send + 'f>, SparseError> {
                let f = Arc::clone(&f);
                Ok(match choice {
                    BackendChoice::Auto | BackendChoice::Tape => Box::new(TapeHessian::new(f, x0)?),
                    BackendChoice::FiniteDifferences => {
                        Box::new(TapeGradientDifferences::new(f, x0)?)
                    }
                    BackendChoice::Forward => {
                        return Err(AdError::Unsupported {
                        backend: "forward",
                        operation: "Hessian-vector products (forward mode alone needs n passes per probe; use the tape)",
                    }
                    .into());
                    }
                })
            },
        ));
        self
    }

    /// Builds: the backend (the caller's, or the function's at x0), the pattern (the
    /// options' detector at x0, unless a plan is given), the plan (the options' strategy),
    /// buffers and verification. Everything `evaluate` needs is allocated here.
    pub fn build(self, options: &Options) -> Result<SparseHessian<'f>, SparseError> {
        Ok(SparseHessian {
            recovery: crate::builder::prepare(self, options)?,
        })
    }
}

impl<'f> SparseHessian<'f> {
    /// Prepares the Hessian of `f` around `x0`: finds the pattern (traced at x0 unless the
    /// options say otherwise), designs the probes (by default the fewest among the exact
    /// designers), and records the tape. Everything `evaluate` needs is allocated here.
    /// The same as `SparseHessian::builder().function(f).point(x0).build(options)`.
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
    pub fn prepare<F: ScalarFunction + Send + Sync + 'f>(
        f: F,
        x0: &[f64],
        options: &Options,
    ) -> Result<Self, SparseError> {
        Self::builder().function(f).point(x0).build(options)
    }

    /// A builder, for any combination of function, backend, plan and point.
    pub fn builder<'x>() -> HessianBuilder<'x, 'f> {
        HessianBuilder::default()
    }

    /// Prepares with a backend and a pattern the caller knows (the options' detector is
    /// replaced by [`GivenPattern`]): the function is not known here, so it is never
    /// traced, and verification runs periodically under [`Verify::Auto`](crate::Verify::Auto).
    pub fn with_backend(
        backend: Box<dyn HessianBackend + Send + 'f>,
        pattern: Pattern,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let options = Options {
            detector: Arc::new(GivenPattern(pattern)),
            ..options.clone()
        };
        Self::builder().backend(backend).build(&options)
    }

    /// Uses an existing plan (e.g. one loaded with [`SavedPlan`](crate::SavedPlan), or
    /// [`shared_plan`](Self::shared_plan) of another), with the verification options of
    /// `options`.
    pub fn with_plan(
        backend: Box<dyn HessianBackend + Send + 'f>,
        plan: impl Into<Arc<ProbePlan>>,
        options: &Options,
    ) -> Result<Self, SparseError> {
        Self::builder().backend(backend).plan(plan).build(options)
    }

    /// The plan, shareable: several evaluators (one per thread) can decode with one plan
    /// ([`HessianBuilder::plan`]); it is immutable and `Send + Sync`.
    pub fn shared_plan(&self) -> Arc<ProbePlan> {
        Arc::clone(self.single_plan())
    }

    /// The Hessian at `x` (CSR, both triangles, the pattern's order). Allocates nothing
    /// (the first call included) unless a branch change widens the pattern (see
    /// [`OnBranchChange`](crate::OnBranchChange)). Errors on a wrong length, non-finite
    /// input or values, a failed decode, a verification that fails (see
    /// [`Verify`](crate::Verify)), or a branch change under
    /// [`OnBranchChange::Error`](crate::OnBranchChange::Error).
    pub fn evaluate(&mut self, x: &[f64]) -> Result<Evaluation<'_>, SparseError> {
        self.recovery.evaluate(x)?;
        Ok(Evaluation::new(
            &self.recovery.engine.matrix,
            &self.recovery.info,
        ))
    }

    /// Evaluates the Hessian at k points in turn: `xs` holds them back to back (k·n, so k
    /// is `xs.len() / n`), and `values` receives each Hessian's values in the pattern's
    /// order, back to back (k·nnz, `nnz = self.pattern().nnz()`). Returns k. The values
    /// are exactly those of `evaluate` at each point in the same order (verification
    /// counts on); nothing is allocated. Each evaluation uses the
    /// [`threads`](crate::Options::threads) of `prepare`; to evaluate points on several
    /// evaluators at once, prepare one per thread with [`with_plan`](Self::with_plan) and
    /// [`shared_plan`](Self::shared_plan) (the plan is designed once).
    ///
    /// Errors: lengths that are not k·n and k·nnz; every error of `evaluate` (the first
    /// stops the batch, earlier points' values are written); a pattern that grew at a branch
    /// change during the batch ([`SparseError::WrongLength`] naming the new length).
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
    /// let n = 50;
    /// let mut h = SparseHessian::prepare(Chain, &vec![0.3; n], &Options::default())?;
    /// let nnz = h.pattern().nnz();
    /// let xs: Vec<f64> = (0..3 * n).map(|i| (i as f64 * 0.1).cos()).collect();
    /// let mut values = vec![0.0; 3 * nnz];
    /// assert_eq!(h.evaluate_batch(&xs, &mut values)?, 3);
    /// for (x, v) in xs.chunks(n).zip(values.chunks(nnz)) {
    ///     assert_eq!(h.evaluate(x)?.matrix().data(), v);
    /// }
    /// # Ok::<(), sparsediff::SparseError>(())
    /// ```
    pub fn evaluate_batch(&mut self, xs: &[f64], values: &mut [f64]) -> Result<usize, SparseError> {
        self.recovery.evaluate_batch(xs, values)
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
        self.single_plan()
    }

    /// Probes, bound, designer, backend, detection, verification and branch counts.
    pub fn info(&self) -> &RecoveryInfo {
        &self.recovery.info
    }

    /// A faer CSC layout of the matrix or one triangle (`Triangle::Lower` for a symmetric factorisation), filled by
    /// [`evaluate_into`](Self::evaluate_into) without allocating (see
    /// [`FaerOutput`](crate::FaerOutput)). Holds the last evaluated values.
    pub fn faer_output(
        &self,
        triangle: sparsediff_probe::Triangle,
    ) -> Result<crate::FaerOutput, SparseError> {
        self.recovery.faer_output(triangle)
    }

    /// Evaluates at `x` (as [`evaluate`](Self::evaluate)) and writes the values into `out`
    /// without allocating. If a branch change re-designed the plan since `out` was laid
    /// out, `out` is laid out again for the new pattern (this allocates, and
    /// [`FaerOutput::rebuilt`](crate::FaerOutput::rebuilt) says so).
    pub fn evaluate_into(
        &mut self,
        x: &[f64],
        out: &mut crate::FaerOutput,
    ) -> Result<(), SparseError> {
        self.recovery.evaluate_into(x, out)
    }

    /// The plan: a Hessian's plans are always single-direction (H·S), both at prepare and
    /// after a re-design (whose family is the column plan's).
    fn single_plan(&self) -> &Arc<ProbePlan> {
        self.recovery
            .engine
            .plan
            .single()
            .expect("a Hessian's plan is a column plan")
    }
}

impl ValueGradient for SparseHessian<'_> {
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

impl ValueGradientHessian for SparseHessian<'_> {
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
