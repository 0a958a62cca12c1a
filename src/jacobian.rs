//! [`SparseJacobian`]: prepare once, then evaluate the sparse Jacobian at any x without
//! allocating. [`JacobianBuilder`] combines any function, backend, detector, designer or
//! plan; [`SparseJacobian::prepare`] is its common case.

use std::sync::Arc;

use sparsediff_ad::trace::{jacobian_pattern_global_with_info, jacobian_pattern_with_info};
use sparsediff_ad::{
    Differences, FiniteDifferenceJacobian, ForwardJacobian, JacobianBackend, TapeJacobian, Tracer,
    VectorFunction,
};
use sparsediff_pattern::Pattern;
use sparsediff_probe::{BidirectionalPlan, ProbePlan};
use sprs::CsMat;

use crate::builder::Builder;
use crate::detect::GivenPattern;
use crate::engine::RecoveryInfo;
use crate::error::SparseError;
use crate::evaluation::Evaluation;
use crate::options::{BackendChoice, Options};
use crate::recovery::{Hooks, Recovery};

/// A prepared sparse Jacobian: `evaluate(x)` computes the compressed products (J·S by
/// JVPs for a column plan, Jᵀ·S by VJPs for a row plan, both blocks for a bidirectional
/// plan) and decodes them into a CSR matrix owned by this value.
///
/// `prepare` designs a column plan (the options' [`Strategy`](crate::Strategy): column CPR
/// and the closed-form stencil and roll designs under `Auto`) and, under
/// [`Strategy::Auto`](crate::Strategy::Auto) with a backend that can compute VJPs (the
/// tape, which `BackendChoice::Auto` builds for it), a row plan (CPR on the rows) and,
/// where both sides have dense lines, a bidirectional plan (star bicolouring; see
/// [`BIDIRECTIONAL_GATE`](crate::BIDIRECTIONAL_GATE)); it keeps the one with the fewest
/// products, a VJP counted as [`VJP_RELATIVE_COST`](crate::VJP_RELATIVE_COST) JVPs (see
/// [`JacobianMode`](crate::JacobianMode); `info().mode` and `info().modes` report the
/// choice). Forward lanes, finite differences and closures compute no VJPs: with them the
/// plan is a column plan.
///
/// ```
/// use sparsediff::num_dual::DualNum;
/// use sparsediff::{Mode, Options, SparseJacobian, VectorFunction};
///
/// /// F₀ = Σ xᵢ², Fᵢ = x₀·xᵢ (dense first row and column: n JVPs or n VJPs).
/// struct Arrow;
/// impl VectorFunction for Arrow {
///     fn num_outputs(&self, n: usize) -> usize { n }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
///         out[0] = x.iter().map(|v| *v * *v).sum();
///         for i in 1..x.len() { out[i] = x[0] * x[i]; }
///     }
/// }
/// let x0 = vec![0.5; 1000];
/// let mut j = SparseJacobian::prepare(Arrow, &x0, &Options::default())?;
/// assert_eq!(j.info().mode, Mode::Bidirectional);
/// let plan = j.bidirectional_plan().expect("a bidirectional plan");
/// assert!(plan.num_probes() <= 3); // JVPs + VJPs, against 1000 either way alone
/// assert_eq!(j.evaluate(&x0)?.get(0, 999), Some(&1.0));
/// # Ok::<(), sparsediff::SparseError>(())
/// ```
///
/// `SparseJacobian` is `Send` (the function must be `Send + Sync`): a prepared evaluator
/// can move to another thread.
///
/// Like [`SparseHessian`](crate::SparseHessian) it follows branch changes and verifies
/// evaluations as [`Verify`](crate::Verify) says.
pub struct SparseJacobian<'f> {
    recovery: Recovery<'f, Box<dyn JacobianBackend + Send + 'f>>,
}

impl std::fmt::Debug for SparseJacobian<'_> {
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

/// Builds a [`SparseJacobian`] from the pieces at hand (see
/// [`HessianBuilder`](crate::HessianBuilder)).
pub type JacobianBuilder<'x, 'f> = Builder<'x, 'f, dyn JacobianBackend + Send + 'f>;

impl<'f> JacobianBuilder<'_, 'f> {
    /// The function: with it come the default backend of
    /// [`Options::backend`](crate::Options::backend) (forward lanes), tracing and plain
    /// evaluations.
    pub fn function<F: VectorFunction + Send + Sync + 'f>(mut self, f: F) -> Self {
        let f = Arc::new(f);
        let (g, t, u) = (Arc::clone(&f), Arc::clone(&f), Arc::clone(&f));
        self.hooks = Some(Hooks {
            trace: Box::new(move |x| {
                let m = t.num_outputs(x.len());
                Ok(jacobian_pattern_with_info(x, |v| traced(&*t, m, v))?)
            }),
            trace_global: Box::new(move |x, max_paths| {
                let m = u.num_outputs(x.len());
                Ok(jacobian_pattern_global_with_info(x, max_paths, |v| {
                    traced(&*u, m, v)
                })?)
            }),
            plain: Box::new(move |x, out| g.eval(x, out)),
        });
        self.make = Some(Box::new(
            move |x0, choice| -> Result<Box<dyn JacobianBackend + Send + 'f>, SparseError> {
                let (n, m) = (x0.len(), f.num_outputs(x0.len()));
                let f = Arc::clone(&f);
                Ok(match choice {
                    BackendChoice::Auto | BackendChoice::Forward => {
                        Box::new(ForwardJacobian::anchored(f, x0)?)
                    }
                    BackendChoice::Tape => Box::new(TapeJacobian::new(f, x0)?),
                    BackendChoice::FiniteDifferences => Box::new(FiniteDifferenceJacobian::new(
                        move |x: &[f64], y: &mut [f64]| {
                            y.fill(0.0);
                            f.eval(x, y);
                        },
                        n,
                        m,
                        Differences::Central,
                    )),
                })
            },
        ));
        self
    }

    /// A bidirectional plan to use as it is (from
    /// [`SparseJacobian::bidirectional_plan`] of another evaluator, or designed with
    /// [`BidirectionalDesigner`](sparsediff_probe::BidirectionalDesigner)): no detection,
    /// no design, its pattern never widened. Its VJPs need a backend that computes them;
    /// the function's default backend is replaced by the tape, a caller's backend without
    /// VJPs is [`SparseError::NeedsVjp`]. Replaces a [`plan`](Self::plan) given before.
    ///
    /// ```
    /// use sparsediff::num_dual::DualNum;
    /// use sparsediff::{Mode, Options, SparseJacobian, VectorFunction};
    /// use sparsediff::probe::BidirectionalDesigner;
    ///
    /// /// F₀ = Σ x (a dense row), Fᵢ = xᵢ³ + x₀·xᵢ (a dense column).
    /// struct Arrow;
    /// impl VectorFunction for Arrow {
    ///     fn num_outputs(&self, n: usize) -> usize { n }
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
    ///         out[0] = x.iter().copied().sum();
    ///         for i in 1..x.len() { out[i] = x[i].powi(3) + x[0] * x[i]; }
    ///     }
    /// }
    /// let x0 = vec![0.5; 200];
    /// let first = SparseJacobian::prepare(Arrow, &x0, &Options::default())?;
    /// let pattern = first.pattern().clone();
    /// let plan = BidirectionalDesigner::star().design(&pattern)?;
    /// let mut j = SparseJacobian::builder()
    ///     .function(Arrow)
    ///     .point(&x0)
    ///     .bidirectional_plan(plan)
    ///     .build(&Options::default())?;
    /// assert_eq!(j.info().mode, Mode::Bidirectional);
    /// assert!(j.info().probes <= 3);
    /// assert_eq!(j.evaluate(&x0)?.get(5, 0), Some(&0.5)); // ∂F₅/∂x₀ = x₅
    /// assert_eq!(j.evaluate(&x0)?.get(5, 5), Some(&1.25)); // 3·x₅² + x₀
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bidirectional_plan(mut self, plan: impl Into<Arc<BidirectionalPlan>>) -> Self {
        self.plan = Some(crate::engine::EnginePlan::Both(plan.into()));
        self
    }

    /// Builds (see [`HessianBuilder::build`](crate::HessianBuilder::build)).
    pub fn build(self, options: &Options) -> Result<SparseJacobian<'f>, SparseError> {
        Ok(SparseJacobian {
            recovery: crate::builder::prepare(self, options)?,
        })
    }
}

impl<'f> SparseJacobian<'f> {
    /// Prepares the Jacobian of `f` around `x0`: finds the pattern (traced at x0 unless the
    /// options say otherwise), designs the probes (by default column CPR and the closed-form
    /// designs, and CPR on the rows; the cheapest wins, see [`JacobianMode`](crate::JacobianMode)),
    /// and builds the backend (by default forward lanes for a column plan, the tape for a
    /// row plan). The same as
    /// `SparseJacobian::builder().function(f).point(x0).build(options)`.
    ///
    /// ```
    /// use sparsediff::num_dual::DualNum;
    /// use sparsediff::{Mode, Options, SparseJacobian, VectorFunction};
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
    /// assert_eq!(j.info().mode, Mode::Columns); // 2 JVPs, forward lanes
    /// assert_eq!(j.evaluate(&x0)?.get(3, 3), Some(&4.0));
    ///
    /// /// F₀ = Σ x, Fᵢ = xᵢ³: a dense first row. Columns need n JVPs, rows 2 VJPs.
    /// struct DenseRow;
    /// impl VectorFunction for DenseRow {
    ///     fn num_outputs(&self, n: usize) -> usize { n }
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
    ///         out[0] = x.iter().copied().sum();
    ///         for i in 1..x.len() { out[i] = x[i].powi(3); }
    ///     }
    /// }
    /// let mut j = SparseJacobian::prepare(DenseRow, &x0, &Options::default())?;
    /// assert_eq!((j.info().mode, j.info().probes, j.info().backend), (Mode::Rows, 2, "tape"));
    /// // the column plan needs ≥ 100 products (row 0): it was not even designed
    /// assert_eq!((j.info().modes[0].lower_bound, j.info().modes[0].products), (100, None));
    /// assert_eq!(j.evaluate(&x0)?.get(0, 7), Some(&1.0));
    /// assert_eq!(j.evaluate(&x0)?.get(7, 7), Some(&12.0));
    /// # Ok::<(), sparsediff::SparseError>(())
    /// ```
    pub fn prepare<F: VectorFunction + Send + Sync + 'f>(
        f: F,
        x0: &[f64],
        options: &Options,
    ) -> Result<Self, SparseError> {
        Self::builder().function(f).point(x0).build(options)
    }

    /// A builder, for any combination of function, backend, plan and point.
    pub fn builder<'x>() -> JacobianBuilder<'x, 'f> {
        JacobianBuilder::default()
    }

    /// Prepares with a backend and a pattern the caller knows (the options' detector is
    /// replaced by [`GivenPattern`]).
    pub fn with_backend(
        backend: Box<dyn JacobianBackend + Send + 'f>,
        pattern: Pattern,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let options = Options {
            detector: Arc::new(GivenPattern(pattern)),
            ..options.clone()
        };
        Self::builder().backend(backend).build(&options)
    }

    /// Uses an existing plan, with the verification options of `options`.
    pub fn with_plan(
        backend: Box<dyn JacobianBackend + Send + 'f>,
        plan: impl Into<Arc<ProbePlan>>,
        options: &Options,
    ) -> Result<Self, SparseError> {
        Self::builder().backend(backend).plan(plan).build(options)
    }

    /// The plan, shareable between evaluators (immutable, `Send + Sync`); `None` for a
    /// bidirectional plan ([`shared_bidirectional_plan`](Self::shared_bidirectional_plan)).
    pub fn shared_plan(&self) -> Option<Arc<ProbePlan>> {
        self.recovery.engine.plan.single().cloned()
    }

    /// The Jacobian at `x` (CSR, the pattern's order). Allocates nothing after the first
    /// call unless a branch change widens the pattern. Errors as
    /// [`SparseHessian::evaluate`](crate::SparseHessian::evaluate).
    pub fn evaluate(&mut self, x: &[f64]) -> Result<Evaluation<'_>, SparseError> {
        self.recovery.evaluate(x)?;
        Ok(Evaluation::new(
            &self.recovery.engine.matrix,
            &self.recovery.info,
        ))
    }

    /// Evaluates the Jacobian at k points in turn into `values` (k·nnz), as
    /// [`SparseHessian::evaluate_batch`](crate::SparseHessian::evaluate_batch); returns k.
    pub fn evaluate_batch(&mut self, xs: &[f64], values: &mut [f64]) -> Result<usize, SparseError> {
        self.recovery.evaluate_batch(xs, values)
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

    /// The probe plan of a column or row plan; `None` when the plan is bidirectional
    /// ([`bidirectional_plan`](Self::bidirectional_plan)).
    pub fn plan(&self) -> Option<&ProbePlan> {
        self.recovery.engine.plan.single().map(|p| &**p)
    }

    /// The bidirectional plan (J·Sc by JVPs and Jᵀ·Sr by VJPs), when `prepare` chose one
    /// ([`JacobianMode`](crate::JacobianMode)); `None` for a column or row plan.
    pub fn bidirectional_plan(&self) -> Option<&BidirectionalPlan> {
        self.recovery.engine.plan.both().map(|p| &**p)
    }

    /// The bidirectional plan, shareable between evaluators (give it to another builder's
    /// [`bidirectional_plan`](JacobianBuilder::bidirectional_plan)); `None` for a one-sided
    /// plan ([`shared_plan`](Self::shared_plan)).
    pub fn shared_bidirectional_plan(&self) -> Option<Arc<BidirectionalPlan>> {
        self.recovery.engine.plan.both().cloned()
    }

    /// Probes, bound, designer, backend, detection, verification and branch counts.
    pub fn info(&self) -> &RecoveryInfo {
        &self.recovery.info
    }

    /// A faer CSC layout of the matrix or one triangle (`Triangle::Full` for a Jacobian; the triangles are for square ones), filled by
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
}
