//! The recovery engine under [`SparseHessian`](crate::SparseHessian) and
//! [`SparseJacobian`](crate::SparseJacobian): products, branch changes, decoding,
//! verification.
//!
//! One evaluation at x:
//!
//! 1. the compressed products (scaled per input for finite differences, see
//!    [`HessianBackend::hvp_block_scaled`]);
//! 2. if the backend saw the function take other branches (the tape re-recorded, forward
//!    lanes saw a comparison come out differently), the pattern is traced at x; entries
//!    outside the prepared pattern re-design the plan for the union (or fail, under
//!    [`OnBranchChange::Error`] or for a given pattern) and the products are made again;
//! 3. the products are decoded;
//! 4. a function that reads raw values (`re()`) and a backend that replays a recording: the
//!    recording's value is compared with a plain `f64` evaluation, and a mismatch (a branch
//!    on a raw value that no guard saw) re-records the tape and goes back to 2;
//! 5. when due ([`Verify`](crate::Verify)), one extra product along a fresh random
//!    direction checks every row; a failure re-traces the pattern once (when the function
//!    is known and the pattern was not given), tests symmetric plans for non-symmetric
//!    products, and is otherwise an error naming the rows;
//! 6. finite-difference values are unscaled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sparsediff_ad::trace::TraceInfo;
use sparsediff_ad::{AdError, BranchStatus, HessianBackend, JacobianBackend, SeedBlock};
use sparsediff_pattern::{Pattern, Scratch};
use sparsediff_probe::design::{Candidate, Outcome};
use sparsediff_probe::{MatrixKind, Orientation};

use crate::detect::FunctionAccess;
use crate::engine::{Engine, EnginePlan, PrepareTimes, RecoveryInfo};
use crate::error::SparseError;
use crate::mode::{self, Mode, ModeCandidate};
use crate::options::{BackendChoice, OnBranchChange, Options, Verify};
use crate::verify::Verifier;

/// Relative difference between a tape's value and a plain evaluation above which the
/// recording is taken to follow another branch than the function. Rounding alone (the
/// tape folds `x / c` into `x · (1/c)`) stays far below it; a false alarm only costs a
/// re-recording.
const RECORDING_TOLERANCE: f64 = 1e-11;

fn check_verify(verify: Verify) -> Result<(), SparseError> {
    if verify == Verify::Every(0) {
        return Err(SparseError::InvalidOption {
            option: "verify",
            reason: "Verify::Every(k) needs k ≥ 1",
        });
    }
    Ok(())
}

/// Refuses a plan whose product buffer (rows × probes) would exceed
/// [`MAX_DENSE_ENTRIES`](sparsediff_probe::MAX_DENSE_ENTRIES) values (2 GiB) — e.g. a
/// column plan of a Jacobian with a dense row at n = 10⁵, 10⁵ × 10⁵ — with a named error
/// instead of an allocation that aborts.
fn check_products(plan: &EnginePlan) -> Result<(), SparseError> {
    let limit = sparsediff_probe::MAX_DENSE_ENTRIES;
    for (rows, probes) in plan.products_shapes() {
        if rows.checked_mul(probes).is_none_or(|len| len > limit) {
            return Err(sparsediff_probe::DesignError::DenseTooLarge {
                what: "the products",
                rows,
                probes: probes as u128,
                limit,
            }
            .into());
        }
    }
    Ok(())
}

/// The compressed products of the engine's plan at x (both blocks of a bidirectional plan,
/// unscaled; a block of no probes is not computed), and the input scaling used, if any.
fn compressed_products<'b, B: Products>(
    backend: &'b mut B,
    e: &mut Engine,
    x: &[f64],
) -> Result<Option<&'b [f64]>, AdError> {
    match &e.plan {
        EnginePlan::Single(plan) => {
            backend.compressed(x, plan.seeds().block(), plan.orientation(), &mut e.products)
        }
        EnginePlan::Both(plan) => {
            if plan.num_column_probes() > 0 {
                let seeds = plan.column_seeds().block();
                backend.unscaled(x, seeds, Orientation::Columns, &mut e.products)?;
            }
            if plan.num_row_probes() > 0 {
                let seeds = plan.row_seeds().block();
                backend.unscaled(x, seeds, Orientation::Rows, &mut e.row_products)?;
            }
            Ok(None)
        }
    }
}

/// The pool of [`Options::threads`]: `None` for one thread (the caller's), else a
/// dedicated rayon pool (never the global one, which the caller may be using).
fn thread_pool(threads: usize) -> Result<Option<Arc<rayon::ThreadPool>>, SparseError> {
    if threads == 0 || threads > crate::options::MAX_THREADS {
        return Err(SparseError::InvalidThreads {
            threads,
            max: crate::options::MAX_THREADS,
        });
    }
    if threads == 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sparsediff-{i}"))
        .build()
        .map(|pool| Some(Arc::new(pool)))
        .map_err(|source| SparseError::ThreadPool { threads, source })
}

/// What the recovery engine needs of a backend: Hessian and Jacobian backends alike.
pub(crate) trait Products {
    fn name(&self) -> &'static str;
    fn kind(&self) -> MatrixKind;
    /// Rows and columns of the matrix.
    fn shape(&self) -> (usize, usize);
    /// Number of outputs of the function (1 for a Hessian).
    fn outputs(&self) -> usize;
    /// The compressed products for the plan's orientation, with the input scaling used.
    fn compressed(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        orientation: Orientation,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError>;
    /// Products along `probes` dense directions (n×probes row-major, A·Z), scaled as
    /// [`compressed`](Self::compressed).
    fn along(
        &mut self,
        x: &[f64],
        dirs: &[f64],
        probes: usize,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        let seeds = SeedBlock::Dense {
            values: dirs,
            probes,
        };
        self.compressed(x, seeds, Orientation::Columns, out)
    }
    /// The compressed products for `orientation`, never scaled (a bidirectional plan
    /// combines both blocks, so neither may carry a per-input scaling).
    fn unscaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        orientation: Orientation,
        out: &mut [f64],
    ) -> Result<(), AdError>;
    /// Products along dense directions (A·Z), unscaled (what detectors see).
    fn plain(
        &mut self,
        x: &[f64],
        dirs: &[f64],
        probes: usize,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let seeds = SeedBlock::Dense {
            values: dirs,
            probes,
        };
        self.unscaled(x, seeds, Orientation::Columns, out)
    }
    fn branches(&self) -> BranchStatus;
    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError>;
    /// The backend's own value(s) at x (a tape's replay).
    fn values(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError>;
    fn verify_tolerance(&self) -> f64;
    /// Whether the backend computes the products of row plans (Aᵀ·S).
    fn supports_rows(&self) -> bool;
    /// Hands the backend the pool of [`Options::threads`]; whether it uses it.
    fn set_pool(&mut self, pool: Option<Arc<rayon::ThreadPool>>) -> bool;
    /// The pattern a trace at x would give, from what the backend holds (see
    /// `HessianBackend::recorded_pattern`); `None`: trace the function. Default: `None`.
    fn recorded_pattern(&self, _x: &[f64]) -> Option<Result<(Pattern, TraceInfo), SparseError>> {
        None
    }
    /// Sizes the buffers of products with `probes` seeds without computing any (see
    /// `HessianBackend::reserve`); whether it did. Default: `false`.
    fn reserve(&mut self, _probes: usize) -> bool {
        false
    }
    /// The large buffers the backend's preparation is done with (see
    /// `HessianBackend::take_scratch`). Default: none.
    fn take_scratch(&self) -> Scratch {
        Scratch::default()
    }
}

impl Products for Box<dyn HessianBackend + Send + '_> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn kind(&self) -> MatrixKind {
        MatrixKind::Symmetric
    }
    fn shape(&self) -> (usize, usize) {
        (self.dim(), self.dim())
    }
    fn outputs(&self) -> usize {
        1
    }
    fn compressed(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        _orientation: Orientation,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        self.hvp_block_scaled(x, seeds, out)
    }
    fn unscaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        _orientation: Orientation,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        self.hvp_block(x, seeds, out)
    }
    fn branches(&self) -> BranchStatus {
        (**self).branches()
    }
    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        (**self).rerecord(x)
    }
    fn values(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        out[0] = self.value(x)?;
        Ok(())
    }
    fn verify_tolerance(&self) -> f64 {
        (**self).verify_tolerance()
    }
    fn supports_rows(&self) -> bool {
        // H is symmetric: Hᵀ·S = H·S, but symmetric plans are column plans.
        false
    }
    fn set_pool(&mut self, pool: Option<Arc<rayon::ThreadPool>>) -> bool {
        (**self).set_pool(pool)
    }
    fn reserve(&mut self, probes: usize) -> bool {
        (**self).reserve(probes)
    }
    fn recorded_pattern(&self, x: &[f64]) -> Option<Result<(Pattern, TraceInfo), SparseError>> {
        (**self)
            .recorded_pattern(x)
            .map(|r| r.map_err(SparseError::from))
    }
    fn take_scratch(&self) -> Scratch {
        (**self).take_scratch()
    }
}

impl Products for Box<dyn JacobianBackend + Send + '_> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn kind(&self) -> MatrixKind {
        MatrixKind::General
    }
    fn shape(&self) -> (usize, usize) {
        self.dims()
    }
    fn outputs(&self) -> usize {
        self.dims().0
    }
    fn compressed(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        orientation: Orientation,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        match orientation {
            Orientation::Columns => self.jvp_block_scaled(x, seeds, out),
            Orientation::Rows => self.vjp_block(x, seeds, out).map(|()| None),
        }
    }
    fn unscaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        orientation: Orientation,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        match orientation {
            Orientation::Columns => self.jvp_block(x, seeds, out),
            Orientation::Rows => self.vjp_block(x, seeds, out),
        }
    }
    fn branches(&self) -> BranchStatus {
        (**self).branches()
    }
    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        (**self).rerecord(x)
    }
    fn values(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        self.value(x, out)
    }
    fn verify_tolerance(&self) -> f64 {
        (**self).verify_tolerance()
    }
    fn supports_rows(&self) -> bool {
        self.supports_vjp()
    }
    fn set_pool(&mut self, _pool: Option<Arc<rayon::ThreadPool>>) -> bool {
        // Jacobian products run on the caller's thread.
        false
    }
}

/// The pattern at x, as prepare found it (traced locally).
pub(crate) type TraceAt<'f> =
    Box<dyn Fn(&[f64]) -> Result<(Pattern, TraceInfo), SparseError> + Send + 'f>;
/// The pattern valid at every x, found by the global trace from x with a budget of paths.
pub(crate) type TraceGlobalAt<'f> =
    Box<dyn Fn(&[f64], usize) -> Result<(Pattern, TraceInfo), SparseError> + Send + 'f>;
/// The user's function on plain `f64` (writes its outputs; the buffer is zeroed first).
pub(crate) type PlainAt<'f> = Box<dyn Fn(&[f64], &mut [f64]) + Send + 'f>;
/// Builds the function's backend at x0 for a [`BackendChoice`].
pub(crate) type MakeBackend<'f, B> =
    Box<dyn Fn(&[f64], BackendChoice) -> Result<B, SparseError> + 'f>;

/// What the engine can do with the user's function itself (when `prepare` was given one).
pub(crate) struct Hooks<'f> {
    pub(crate) trace: TraceAt<'f>,
    pub(crate) trace_global: TraceGlobalAt<'f>,
    pub(crate) plain: PlainAt<'f>,
}

/// What a builder hands to the engine.
pub(crate) struct Parts<'f, B> {
    pub(crate) backend: B,
    /// The user's function, when it was given.
    pub(crate) hooks: Option<Hooks<'f>>,
    /// A plan to use as it is (no detection, no design).
    pub(crate) plan: Option<EnginePlan>,
    /// Time spent building the backend.
    pub(crate) backend_time: Duration,
    /// Builds the tape at x0 in place of a backend without VJPs when a row plan wins
    /// (given when the backend is the function's under `BackendChoice::Auto`).
    pub(crate) tape: Option<MakeBackend<'f, B>>,
}

/// The function as a detector sees it: traces through the hooks, products through the
/// backend.
struct Access<'a, 'f, B> {
    backend: &'a mut B,
    hooks: Option<&'a Hooks<'f>>,
}

impl<B: Products> FunctionAccess for Access<'_, '_, B> {
    fn kind(&self) -> MatrixKind {
        self.backend.kind()
    }

    fn shape(&self) -> (usize, usize) {
        self.backend.shape()
    }

    fn trace(&mut self, x: &[f64]) -> Result<(Pattern, TraceInfo), SparseError> {
        // The backend's recording at x stands for a trace when it can: the same pattern,
        // from its compiled program instead of another run of the function.
        if let Some(traced) = self.backend.recorded_pattern(x) {
            return traced;
        }
        match self.hooks {
            Some(h) => (h.trace)(x),
            None => Err(SparseError::NeedsFunction {
                what: "tracing the pattern",
            }),
        }
    }

    fn trace_global(
        &mut self,
        x: &[f64],
        max_paths: usize,
    ) -> Result<(Pattern, TraceInfo), SparseError> {
        match self.hooks {
            Some(h) => (h.trace_global)(x, max_paths),
            None => Err(SparseError::NeedsFunction {
                what: "tracing the global pattern",
            }),
        }
    }

    fn products(
        &mut self,
        x: &[f64],
        dirs: &[f64],
        probes: usize,
        out: &mut [f64],
    ) -> Result<(), SparseError> {
        let (rows, n) = self.backend.shape();
        for (what, len, expected) in [
            ("x", x.len(), n),
            ("directions", dirs.len(), n.saturating_mul(probes)),
            ("products", out.len(), rows.saturating_mul(probes)),
        ] {
            if len != expected {
                return Err(SparseError::WrongLength {
                    what,
                    len,
                    expected,
                });
            }
        }
        Ok(self.backend.plain(x, dirs, probes, out)?)
    }
}

/// Flags of one evaluation.
#[derive(Debug, Default)]
struct Pass {
    /// The pattern was traced at this x already.
    retraced: bool,
    /// Something happened that only verification can vouch for.
    force_verify: bool,
}

/// A prepared recovery: backend, plan and buffers, verification, branch handling.
pub(crate) struct Recovery<'f, B> {
    pub(crate) backend: B,
    pub(crate) engine: Engine,
    verifier: Verifier,
    hooks: Option<Hooks<'f>>,
    /// Strategy, colouring and geometry for re-designs.
    options: Options,
    /// Whose designer re-designs the plan after a branch change: the strategy's
    /// ([`Mode::Columns`]) or row CPR ([`Mode::Rows`]); re-designs keep it.
    family: Mode,
    /// The pattern must not be widened (given by the caller, or a given plan).
    fixed: bool,
    /// The detector vouched for the pattern at every x (a global trace, or a trace without
    /// comparisons): branch changes need no re-trace.
    holds_everywhere: bool,
    policy: OnBranchChange,
    /// Branch changes of the backend already handled.
    seen_changes: usize,
    /// The input scaling of the last products (finite differences).
    scale: Vec<f64>,
    scaled: bool,
    recorded: Vec<f64>,
    plain: Vec<f64>,
    pub(crate) info: RecoveryInfo,
}

impl<'f, B: Products> Recovery<'f, B> {
    /// Detects the pattern (unless a plan is given), designs the plan, sets up the
    /// buffers and the verification.
    pub(crate) fn prepare(
        parts: Parts<'f, B>,
        x0: Option<&[f64]>,
        options: &Options,
    ) -> Result<Self, SparseError> {
        let Parts {
            mut backend,
            hooks,
            plan,
            backend_time,
            tape,
        } = parts;
        check_verify(options.verify)?;
        let pool = thread_pool(options.threads)?;
        let mut times = PrepareTimes {
            backend: backend_time,
            ..PrepareTimes::default()
        };
        let (rows, n) = backend.shape();
        let kind = backend.kind();
        // A backend without VJPs that cannot be replaced by the tape (row plans need VJPs).
        let no_vjp = (!backend.supports_rows() && tape.is_none()).then(|| backend.name());
        let (plan, candidates, detected, detection, family, modes, matrix) = match plan {
            Some(plan) => {
                let candidates = vec![Candidate {
                    designer: "plan",
                    outcome: Outcome::Designed {
                        probes: plan.num_probes(),
                    },
                    time: Duration::ZERO,
                }];
                let mode = plan.mode();
                let split = match &plan {
                    EnginePlan::Both(p) => (p.num_column_probes(), p.num_row_probes()),
                    EnginePlan::Single(_) if mode == Mode::Rows => (0, plan.num_probes()),
                    EnginePlan::Single(_) => (plan.num_probes(), 0),
                };
                let modes = vec![ModeCandidate {
                    mode,
                    designer: Some(plan.designer().to_string()),
                    products: Some(plan.num_probes()),
                    split: Some(split),
                    cost: Some(split.0 as f64 + split.1 as f64 * Mode::Rows.relative_cost()),
                    skipped: None,
                    lower_bound: mode::mode_lower_bound(mode, plan.pattern()),
                }];
                (plan, candidates, None, "plan", mode, modes, None)
            }
            None => {
                let x0 = match x0 {
                    Some(x0) => x0,
                    None if options.detector.needs_point() => return Err(SparseError::NeedsPoint),
                    None => &[],
                };
                if options.detector.needs_point() && x0.len() != n {
                    return Err(SparseError::WrongLength {
                        what: "x0",
                        len: x0.len(),
                        expected: n,
                    });
                }
                let start = Instant::now();
                let mut access = Access {
                    backend: &mut backend,
                    hooks: hooks.as_ref(),
                };
                let detected = options.detector.detect(&mut access, x0)?;
                times.detection = start.elapsed();
                if detected.pattern.shape() != (rows, n) {
                    return Err(SparseError::PatternShape {
                        rows: detected.pattern.nrows(),
                        cols: detected.pattern.ncols(),
                        expected_rows: rows,
                        expected_cols: n,
                    });
                }
                // Shared with the plan, which holds it instead of a copy.
                let pattern = Arc::new(detected.pattern);
                // The recovered matrix's copy of it, made now in the pages the backend's
                // detection is done with; what is left of them is freed before the design
                // allocates (1e6 grid: 10 000 fewer page faults, the peak unchanged).
                let start = Instant::now();
                let mut scratch = backend.take_scratch();
                scratch.retain_for::<usize>();
                let matrix = pattern.to_sprs_in(vec![0.0; pattern.nnz()], &mut scratch)?;
                drop(scratch);
                times.setup += start.elapsed();
                let choice = mode::choose(&pattern, kind, options, no_vjp)?;
                times.design = choice.time;
                (
                    choice.plan,
                    choice.candidates,
                    Some((detected.holds_everywhere, detected.fixed)),
                    options.detector.name(),
                    choice.mode,
                    choice.modes,
                    Some((pattern, matrix)),
                )
            }
        };
        // What the plan's products are (a custom designer may return a row plan too).
        let mode = plan.mode();
        if mode != Mode::Columns && !backend.supports_rows() {
            match (&tape, x0) {
                (Some(make), Some(x0)) => {
                    let start = Instant::now();
                    backend = make(x0, BackendChoice::Tape)?;
                    times.backend += start.elapsed();
                }
                _ => {
                    return Err(SparseError::NeedsVjp {
                        backend: backend.name(),
                    });
                }
            }
        }
        if plan.pattern().shape() != (rows, n) || plan.kind() != kind {
            return Err(SparseError::PatternShape {
                rows: plan.pattern().nrows(),
                cols: plan.pattern().ncols(),
                expected_rows: rows,
                expected_cols: n,
            });
        }
        let start = Instant::now();
        let threads = match &pool {
            Some(pool) if backend.set_pool(Some(Arc::clone(pool))) => pool.current_num_threads(),
            _ => 1,
        };
        let tol = options
            .verify_tolerance
            .unwrap_or_else(|| backend.verify_tolerance());
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(SparseError::InvalidOption {
                option: "verify_tolerance",
                reason: "a finite, nonnegative relative tolerance",
            });
        }
        let status = backend.branches();
        // (holds everywhere, fixed) of a detected pattern; a given plan's is fixed.
        let fixed = detected.is_none_or(|(_, fixed)| fixed);
        let holds_everywhere = detected.is_some_and(|(holds, _)| holds);
        // The pattern may not hold at every x: check periodically (Verify::Auto).
        let periodic = hooks.is_none() || !holds_everywhere || status.reads_values;
        let verifier = Verifier::new(options.verify, tol, n, rows, periodic);
        let outputs = backend.outputs();
        check_products(&plan)?;
        // The detected pattern's matrix, if the plan is on that pattern (a custom designer
        // may have returned a plan on another).
        let matrix = matrix
            .filter(|(pattern, _)| std::ptr::eq(plan.pattern(), &**pattern))
            .map(|(_, matrix)| matrix);
        let mut engine = Engine::new(plan, matrix);
        if threads > 1 {
            engine.pool = pool;
        }
        times.setup += start.elapsed();
        let plan = &engine.plan;
        let info = RecoveryInfo {
            probes: plan.num_probes(),
            lower_bound: plan.lower_bound(),
            colors: plan.colors(),
            designer: plan.designer().to_string(),
            candidates,
            backend: backend.name(),
            mode,
            modes,
            detection,
            shape: (rows, n, plan.pattern().nnz()),
            prepare: times,
            verify_every: verifier.every(),
            verify_tolerance: tol,
            evaluations: 0,
            verifications: 0,
            max_relative_residual: None,
            branch_changes: 0,
            retraces: 0,
            redesigns: 0,
            threads,
        };
        let mut recovery = Self {
            seen_changes: status.changes,
            backend,
            engine,
            verifier,
            hooks,
            options: options.clone(),
            family,
            fixed,
            holds_everywhere,
            policy: options.on_branch_change,
            scale: vec![0.0; n],
            scaled: false,
            recorded: vec![0.0; outputs],
            plain: vec![0.0; outputs],
            info,
        };
        if let Some(x0) = x0 {
            recovery.warm_up(x0)?;
        }
        Ok(recovery)
    }

    /// Backends size their lane buffers for the plan's probe count on first use; this makes
    /// that happen in `prepare`, so that even the first `evaluate` allocates nothing. A
    /// backend that can size them without products does (the tape; at n = 1e6 the product
    /// pass it replaces cost 50–60 ms of `prepare`); for the others this is one product
    /// pass at x0, discarded, whose failure fails `prepare`. With the tape, products that
    /// fail at x0 (a non-finite Hessian-vector product) are reported by the first
    /// `evaluate` there instead, with the same error: `prepare` vouches for the plan, each
    /// `evaluate` for its numbers. Branches seen here are x0's own (not changes).
    fn warm_up(&mut self, x0: &[f64]) -> Result<(), SparseError> {
        let start = Instant::now();
        let reserved = match &self.engine.plan {
            EnginePlan::Single(plan) => self.backend.reserve(plan.num_probes()),
            EnginePlan::Both(_) => false,
        };
        if !reserved {
            compressed_products(&mut self.backend, &mut self.engine, x0)?;
        }
        self.seen_changes = self.backend.branches().changes;
        self.info.prepare.setup += start.elapsed();
        Ok(())
    }

    /// Changes when evaluations are verified (from the next evaluation on).
    pub(crate) fn set_verify(&mut self, verify: Verify) -> Result<(), SparseError> {
        check_verify(verify)?;
        self.verifier.set_policy(verify);
        self.info.verify_every = self.verifier.every();
        Ok(())
    }

    fn symmetric(&self) -> bool {
        self.backend.kind() == MatrixKind::Symmetric
    }

    /// Evaluates at x into the engine's matrix (see the module docs for the steps).
    pub(crate) fn evaluate(&mut self, x: &[f64]) -> Result<(), SparseError> {
        let n = self.backend.shape().1;
        crate::error::check_point_on(x, n, self.engine.pool.as_deref())?;
        self.info.evaluations += 1;
        let mut pass = Pass::default();
        self.products(x, &mut pass)?;
        let status = self.backend.branches();
        let checks = !self.verifier.is_off();
        // An oversampled least-squares plan checks itself: a residual above the tolerance
        // (the pattern misses entries, or the products are noisy) is verified at once.
        let unexplained = self
            .info
            .max_relative_residual
            .is_some_and(|r| r.is_nan() || r > self.verifier.tol);
        let mut verify =
            self.verifier.due(self.info.evaluations) || pass.force_verify || unexplained;
        if checks && status.reads_values {
            if status.replays_recording && self.hooks.is_some() {
                if self.recording_differs(x)? {
                    // A branch on a raw value: the replay follows the recorded branch.
                    self.info.branch_changes += 1;
                    if self.policy == OnBranchChange::Error {
                        return Err(SparseError::BranchChanged { comparison: None });
                    }
                    self.backend.rerecord(x)?;
                    self.seen_changes = self.backend.branches().changes;
                    self.recheck(x, &mut pass)?;
                    self.products(x, &mut pass)?;
                    verify = true;
                }
            } else {
                // Products are the function's at x, but the pattern may not be.
                verify = true;
            }
        }
        if verify && checks {
            self.verify(x, &mut pass)?;
        }
        self.unscale();
        Ok(())
    }

    /// A faer layout of the current matrix, or one triangle ([`crate::FaerOutput`]).
    pub(crate) fn faer_output(
        &self,
        triangle: sparsediff_probe::Triangle,
    ) -> Result<crate::FaerOutput, SparseError> {
        let e = &self.engine;
        crate::FaerOutput::of(
            e.plan.pattern(),
            e.matrix.data(),
            triangle,
            self.info.redesigns,
        )
    }

    /// [`evaluate`](Self::evaluate), then `out` refilled (laid out again after a re-design).
    pub(crate) fn evaluate_into(
        &mut self,
        x: &[f64],
        out: &mut crate::FaerOutput,
    ) -> Result<(), SparseError> {
        self.evaluate(x)?;
        let e = &self.engine;
        out.refresh(e.plan.pattern(), e.matrix.data(), self.info.redesigns)
    }

    /// Evaluates at each point of `xs` (k points of n, back to back) in turn, copying each
    /// matrix's values into the next `nnz` of `values` (k·nnz); returns k.
    pub(crate) fn evaluate_batch(
        &mut self,
        xs: &[f64],
        values: &mut [f64],
    ) -> Result<usize, SparseError> {
        let n = self.backend.shape().1;
        let nnz = self.engine.plan.pattern().nnz();
        let k = xs.len().checked_div(n).unwrap_or(0);
        for (what, len, expected) in [("xs", xs.len(), k * n), ("values", values.len(), k * nnz)] {
            if len != expected {
                return Err(SparseError::WrongLength {
                    what,
                    len,
                    expected,
                });
            }
        }
        if nnz == 0 {
            for x in xs.chunks_exact(n.max(1)) {
                self.evaluate(x)?;
            }
            return Ok(k);
        }
        for (x, out) in xs.chunks_exact(n).zip(values.chunks_exact_mut(nnz)) {
            self.evaluate(x)?;
            let now = self.engine.matrix.data();
            if now.len() != nnz {
                return Err(SparseError::WrongLength {
                    what: "values (the pattern grew at a branch change)",
                    len: values.len(),
                    expected: k * now.len(),
                });
            }
            out.copy_from_slice(now);
        }
        Ok(k)
    }

    /// Compressed products (re-designing after a branch change), then decoding.
    fn products(&mut self, x: &[f64], pass: &mut Pass) -> Result<(), SparseError> {
        loop {
            let scale = compressed_products(&mut self.backend, &mut self.engine, x)?;
            self.scaled = scale.is_some();
            if let Some(d) = scale {
                self.scale.copy_from_slice(d);
            }
            let status = self.backend.branches();
            if status.changes != self.seen_changes {
                self.seen_changes = status.changes;
                self.info.branch_changes += 1;
                if self.holds_everywhere {
                    // The pattern holds on every branch (global detection): the backend
                    // followed the branch (the tape re-recorded), nothing to re-trace.
                    break;
                }
                if self.policy == OnBranchChange::Error {
                    return Err(SparseError::BranchChanged {
                        comparison: status.last_changed_comparison,
                    });
                }
                self.verifier.set_periodic(true);
                self.info.verify_every = self.verifier.every();
                pass.force_verify = true;
                if !pass.retraced && self.recheck(x, pass)? {
                    continue;
                }
            }
            break;
        }
        self.decode()
    }

    /// Decodes the products (multiplying the rows of scaled symmetric products by the
    /// scale first, so that the decoded matrix is the symmetric D·H·D).
    fn decode(&mut self) -> Result<(), SparseError> {
        if self.scaled && self.symmetric() {
            let p = self.engine.plan.num_probes();
            for (row, &d) in self.engine.products.chunks_exact_mut(p).zip(&self.scale) {
                row.iter_mut().for_each(|v| *v *= d);
            }
        }
        self.engine.decode()?;
        self.info.max_relative_residual = self.engine.residual()?;
        Ok(())
    }

    /// Divides scaled values by the scale: (i, j) by dᵢ·dⱼ (symmetric) or dⱼ.
    fn unscale(&mut self) {
        if !self.scaled {
            return;
        }
        let symmetric = self.symmetric();
        let Engine { plan, matrix, .. } = &mut self.engine;
        let pattern = plan.pattern();
        let values = matrix.data_mut();
        for i in 0..pattern.nrows() {
            let range = pattern.row_range(i);
            for (v, &j) in values[range.clone()].iter_mut().zip(pattern.row(i)) {
                let d = if symmetric {
                    self.scale[i] * self.scale[j]
                } else {
                    self.scale[j]
                };
                *v /= d;
            }
        }
    }

    /// Whether the backend's value at x differs from a plain evaluation (a recording that
    /// follows another branch than the function).
    fn recording_differs(&mut self, x: &[f64]) -> Result<bool, SparseError> {
        let Some(hooks) = &self.hooks else {
            return Ok(false);
        };
        self.backend.values(x, &mut self.recorded)?;
        self.plain.fill(0.0);
        (hooks.plain)(x, &mut self.plain);
        Ok(self.recorded.iter().zip(&self.plain).any(|(&a, &b)| {
            let diff = (a - b).abs();
            // NaN on either side counts as a difference.
            diff.is_nan() || diff > RECORDING_TOLERANCE * a.abs().max(b.abs())
        }))
    }

    /// Traces the pattern at x; if it has entries outside the plan's, re-designs for the
    /// union (returns true) or fails for a given pattern.
    fn recheck(&mut self, x: &[f64], pass: &mut Pass) -> Result<bool, SparseError> {
        let Some(hooks) = &self.hooks else {
            pass.force_verify = true;
            return Ok(false);
        };
        pass.retraced = true;
        self.info.retraces += 1;
        let (traced, _) = (hooks.trace)(x)?;
        let current = self.engine.plan.pattern();
        if traced.is_subset_of(current) {
            return Ok(false);
        }
        if self.fixed {
            let missing = traced.difference(current)?;
            let (row, col) = missing.iter().next().unwrap_or((0, 0));
            return Err(SparseError::PatternMissesEntries {
                count: missing.nnz(),
                row,
                col,
            });
        }
        let union = Arc::new(current.union(&traced)?);
        let report = mode::design_mode(self.family, &union, self.backend.kind(), &self.options)?;
        let candidates = report.candidates();
        let plan = report.into_plan();
        check_products(&plan)?;
        self.engine = Engine::new(plan, None);
        let plan = &self.engine.plan;
        let info = &mut self.info;
        info.probes = plan.num_probes();
        info.lower_bound = plan.lower_bound();
        info.colors = plan.colors();
        info.designer = plan.designer().to_string();
        info.candidates = candidates;
        info.shape.2 = plan.pattern().nnz();
        info.redesigns += 1;
        Ok(true)
    }

    /// One verification product along a fresh random direction (in the scaled space of
    /// finite differences); on failure, a re-trace (once) or an error.
    fn verify(&mut self, x: &[f64], pass: &mut Pass) -> Result<(), SparseError> {
        let symmetric = self.symmetric();
        loop {
            self.info.verifications += 1;
            self.verifier.draw();
            let scale = self
                .backend
                .along(x, &self.verifier.z, 1, &mut self.verifier.az)?;
            if let Some(d) = scale
                && symmetric
            {
                self.verifier
                    .az
                    .iter_mut()
                    .zip(d)
                    .for_each(|(v, &di)| *v *= di);
            }
            let failure = match self
                .verifier
                .check(self.engine.plan.pattern(), self.engine.matrix.data())
            {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if symmetric {
                self.check_symmetry(x)?;
            }
            if !pass.retraced && self.hooks.is_some() && self.recheck(x, pass)? {
                self.products(x, pass)?;
                continue;
            }
            return Err(failure);
        }
    }

    /// uᵀ(A·v) against vᵀ(A·u) for two fresh random directions (after a failed
    /// verification of a symmetric plan; allocates).
    fn check_symmetry(&mut self, x: &[f64]) -> Result<(), SparseError> {
        let n = self.backend.shape().1;
        let uv = self.verifier.draw_pair(n);
        let mut out = vec![0.0; 2 * n];
        if let Some(d) = self.backend.along(x, &uv, 2, &mut out)? {
            for (row, &di) in out.chunks_exact_mut(2).zip(d) {
                row[0] *= di;
                row[1] *= di;
            }
        }
        let (mut u_av, mut v_au, mut terms) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let (u, v) = (uv[2 * i], uv[2 * i + 1]);
            let (au, av) = (out[2 * i], out[2 * i + 1]);
            u_av += u * av;
            v_au += v * au;
            terms += (u * av).abs() + (v * au).abs();
        }
        let relative = if terms > 0.0 {
            (u_av - v_au).abs() / terms
        } else {
            0.0
        };
        if relative > self.verifier.tol {
            return Err(SparseError::ProductsNotSymmetric {
                u_av,
                v_au,
                relative,
                tolerance: self.verifier.tol,
            });
        }
        Ok(())
    }
}
