//! What `prepare` is asked to do: how to find the pattern, how to design probes, which
//! backend computes the products, and what `evaluate` checks.

use std::sync::Arc;

use sparsediff_coloring::ColoringParams;
use sparsediff_pattern::Pattern;
use sparsediff_probe::design::{AutoDesigner, SharedDesigner, default_orders};
use sparsediff_probe::{
    ColoredDesigner, Decompression, Geometry, IdentityDesigner, RandomDesigner, RollDesigner,
    StencilDesigner, SymmetricRandomDesigner,
};

use crate::detect::{Detector, GivenPattern, SparsityDetector, Traced};
use crate::mode::JacobianMode;

/// Which backend computes the products for a function given to `prepare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Hessians: the tape (forward-over-reverse lanes); Jacobians: forward lanes for a
    /// column plan, the tape when a row plan wins ([`JacobianMode::Auto`]).
    #[default]
    Auto,
    /// The reverse tape: HVPs in one lane sweep; JVPs by forward lanes, VJPs by reverse
    /// lanes (row plans).
    Tape,
    /// Forward lanes ([`Lanes`](sparsediff_ad::Lanes)); Jacobians only (forward mode alone
    /// needs n passes per Hessian probe).
    Forward,
    /// Central finite differences (of F for Jacobians, of the tape gradient for Hessians).
    FiniteDifferences,
}

impl BackendChoice {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Tape => "tape",
            BackendChoice::Forward => "forward",
            BackendChoice::FiniteDifferences => "fd",
        }
    }
}

/// How probes are designed.
#[derive(Clone)]
pub enum Strategy {
    /// The fewest probes among the exact designers that apply
    /// ([`AutoDesigner`](sparsediff_probe::design::AutoDesigner): colourings, roll, and a
    /// closed-form stencil when a geometry is given or inferred); ties go to direct
    /// recovery, the search stops at a plan that meets the lower bound of every exact
    /// design, and a designer whose own lower bound cannot beat the best plan so far is
    /// skipped ([`BestOf`](sparsediff_probe::design::BestOf)).
    Auto,
    /// Stride probes of the band (the prototype's method).
    Roll,
    /// Column CPR (no symmetry exploited).
    Cpr,
    /// Star colouring (direct, with symmetry; Hessians).
    Star,
    /// Acyclic colouring (substitution; Hessians).
    Acyclic,
    /// Closed-form design for a band, block band or stencil.
    Stencil(Geometry, Decompression),
    /// Random probes with per-row least squares (`oversampling` extra probes).
    Random {
        /// Extra probes beyond the largest row.
        oversampling: usize,
    },
    /// Symmetric random probes ("half-sample", Hessians).
    SymmetricRandom,
    /// One probe per column (dense baseline).
    Identity,
    /// Any designer: a user's own, a [`GivenColoring`](sparsediff_probe::GivenColoring), or
    /// a [`BestOf`](sparsediff_probe::design::BestOf) of several.
    Custom(SharedDesigner),
}

impl std::fmt::Debug for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Stencil(g, d) => write!(f, "Stencil({g:?}, {d:?})"),
            Strategy::Random { oversampling } => {
                write!(f, "Random {{ oversampling: {oversampling} }}")
            }
            Strategy::Custom(d) => write!(f, "Custom({})", d.name()),
            other => f.write_str(other.name()),
        }
    }
}

impl PartialEq for Strategy {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Strategy::Stencil(g, d), Strategy::Stencil(h, e)) => g == h && d == e,
            (Strategy::Random { oversampling: a }, Strategy::Random { oversampling: b }) => a == b,
            (Strategy::Custom(a), Strategy::Custom(b)) => Arc::ptr_eq(a, b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Strategy {
    /// The name used on the command line (`auto`, `roll`, `cpr`, `star`, `acyclic`,
    /// `stencil`, `random`, `symmetric-random`, `identity`; a custom designer's name).
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Roll => "roll",
            Strategy::Cpr => "cpr",
            Strategy::Star => "star",
            Strategy::Acyclic => "acyclic",
            Strategy::Stencil(..) => "stencil",
            Strategy::Random { .. } => "random",
            Strategy::SymmetricRandom => "symmetric-random",
            Strategy::Identity => "identity",
            Strategy::Custom(d) => d.name(),
        }
    }

    /// The designer of this strategy, with the options' colouring parameters and geometry.
    pub fn designer(
        &self,
        coloring: &ColoringParams,
        geometry: Option<Geometry>,
    ) -> SharedDesigner {
        let colored =
            |d: ColoredDesigner| -> SharedDesigner { Arc::new(d.with_params(coloring.clone())) };
        match self {
            Strategy::Auto => Arc::new(AutoDesigner {
                coloring: coloring.clone(),
                geometry,
            }),
            Strategy::Roll => Arc::new(RollDesigner),
            Strategy::Cpr => colored(ColoredDesigner::cpr()),
            Strategy::Star => colored(ColoredDesigner::star()),
            Strategy::Acyclic => colored(ColoredDesigner::acyclic()),
            Strategy::Stencil(g, d) => Arc::new(StencilDesigner::new(*g, *d)),
            Strategy::Random { oversampling } => {
                Arc::new(RandomDesigner::new().oversampling(*oversampling))
            }
            Strategy::SymmetricRandom => Arc::new(SymmetricRandomDesigner::new()),
            Strategy::Identity => Arc::new(IdentityDesigner),
            Strategy::Custom(d) => Arc::clone(d),
        }
    }
}

/// Options of [`SparseHessian::prepare`](crate::SparseHessian::prepare) and
/// [`SparseJacobian::prepare`](crate::SparseJacobian::prepare).
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the pattern comes from. Default: [`Traced`] (the local pattern at x0); also
    /// [`Global`](crate::detect::Global) (valid at every x),
    /// [`Conservative`](crate::detect::Conservative),
    /// [`GivenPattern`](crate::detect::GivenPattern) or a detector of your own.
    pub detector: Detector,
    /// How probes are designed. Default: [`Strategy::Auto`].
    pub strategy: Strategy,
    /// Which backend computes the products. Default: [`BackendChoice::Auto`].
    pub backend: BackendChoice,
    /// Colouring parameters of the colouring designers. Default: [`default_orders`].
    pub coloring: ColoringParams,
    /// Geometry of a band, block band or stencil, for closed-form designs under
    /// [`Strategy::Auto`]. `None` (the default): inferred when the pattern is exactly a
    /// full band, a block band or a standard stencil ([`Geometry::infer`]); every closed-form design is checked against
    /// the pattern, so a geometry that does not fit is rejected, never trusted.
    pub geometry: Option<Geometry>,
    /// When an evaluation is checked with one extra product along a fresh random
    /// direction. Default: [`Verify::Auto`].
    pub verify: Verify,
    /// Relative tolerance of the verification residual per row; `None` (the default): the
    /// backend's ([`HessianBackend::verify_tolerance`](sparsediff_ad::HessianBackend::verify_tolerance):
    /// 1e-8 for AD and closures, 1e-5 for central differences, 1e-3 for forward ones).
    pub verify_tolerance: Option<f64>,
    /// What `evaluate` does when the function takes other branches than the prepared
    /// pattern was traced on. Default: [`OnBranchChange::Adapt`].
    pub on_branch_change: OnBranchChange,
    /// Which products a Jacobian is recovered from: column plans (JVPs), row plans (VJPs)
    /// or the cheaper of both. Default: [`JacobianMode::Auto`]. Hessians ignore it.
    pub jacobian_mode: JacobianMode,
    /// Threads of `evaluate`, 1 to [`MAX_THREADS`]. Default: 1 (the caller's thread; no
    /// pool is built, and nothing changes for a caller who already runs one evaluator per
    /// core). Set it to [`std::thread::available_parallelism`] to use the machine.
    ///
    /// With more than one, `prepare` builds a dedicated rayon pool of that many threads,
    /// owned by the prepared object (never rayon's global pool, which the caller may use).
    /// What runs on it: the row blocks of the tape's Hessian sweeps
    /// ([`Tape::hvp_chunks`](sparsediff_ad::tape::Tape::hvp_chunks)), which exist only for
    /// programs of at least 2·2¹⁶ replayed instructions made of local terms (the 1e5 and
    /// larger Rosenbrock and grid Hessians); smaller or global problems, other backends and
    /// Jacobians run on the caller's thread whatever this says. The checks of the point
    /// and of the products are split across the pool, and so are the two closed-form
    /// substitution decoders: the full tridiagonal band's two chains (from the first row
    /// down and from the last row up) and the full 5-point grid's two column halves (from
    /// 2¹⁶ vertices). Every other decoder runs on the caller's thread.
    ///
    /// **Deterministic.** The row blocks depend on the program alone and their partial
    /// sums are added in block order, so the values are bit for bit the same for every
    /// thread count (the one-thread run sweeps the same blocks one after another).
    ///
    /// 0 or more than [`MAX_THREADS`] is [`SparseError::InvalidThreads`](crate::SparseError::InvalidThreads).
    pub threads: usize,
}

/// The largest [`Options::threads`]: far above the cores of any machine this runs on, low
/// enough that a mistyped count does not spawn thousands of threads.
pub const MAX_THREADS: usize = 256;

/// The first evaluation and then every [`DEFAULT_VERIFY_EVERY`]-th are verified under
/// [`Verify::Auto`] when the pattern may not hold at every x. One verification costs one
/// product along one direction and a sparse mat-vec; at this cadence that is at most 5 %
/// of `evaluate` on the benchmark problems (Rosenbrock 1e5, the grid 316², the cartpole
/// augmented Lagrangian; see `papers/ad-backends.md`).
pub const DEFAULT_VERIFY_EVERY: usize = 32;

/// When `evaluate` checks the recovered matrix against one extra product A·z along a
/// fresh random direction z (a different z every time, continuous with |zⱼ| ≥ ½, so that no missing entry can
/// hide behind a sign pattern): each row's residual |(A·z)ᵢ − (Â·z)ᵢ| must stay below the
/// tolerance times the row's scale, otherwise `evaluate` re-traces the pattern (when it was
/// traced) or fails with [`SparseError::VerificationFailed`](crate::SparseError::VerificationFailed)
/// naming the rows — or [`SparseError::ProductsNotSymmetric`](crate::SparseError::ProductsNotSymmetric)
/// when a symmetric plan was fed products of a non-symmetric matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// The first evaluation always; then every [`DEFAULT_VERIFY_EVERY`]-th whenever the
    /// pattern may not hold at every x: a given or conservative pattern, a traced one whose
    /// function compared or read values of its inputs, or a backend built by the caller.
    /// A function that reads raw values (`x.re()`, whose branches nothing can see) is
    /// checked at every evaluation: a tape's value against a plain `f64` evaluation (the
    /// tape is re-recorded when they differ), other backends' products by verification.
    #[default]
    Auto,
    /// The first evaluation and then every k-th (k ≥ 1; 1 = every evaluation).
    Every(usize),
    /// Never. Risk: a given pattern that misses entries, a branch on a raw value, or a
    /// backend with a bug then returns wrong derivatives as `Ok`. Branch changes the
    /// backend sees (comparisons of scalars on the tape and forward lanes) are still
    /// followed.
    Off,
}

/// What `evaluate` does when the function takes other branches than those the pattern
/// and plan were prepared on (a comparison the tape or forward lanes see comes out
/// differently, or a tape's value disagrees with a plain evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBranchChange {
    /// Re-trace the pattern at the new x; if it holds entries outside the prepared pattern,
    /// re-design the probes for the union of both (so returning to the old branch needs
    /// nothing new) and recompute. The matrix's pattern then grows: `info().redesigns`
    /// counts it. A pattern given by the caller is never widened: entries outside it are
    /// [`SparseError::PatternMissesEntries`](crate::SparseError::PatternMissesEntries).
    #[default]
    Adapt,
    /// Return [`SparseError::BranchChanged`](crate::SparseError::BranchChanged) with the
    /// comparison that changed (for callers that must keep one pattern, e.g. a solver with
    /// a symbolic factorisation it cannot redo). A pattern that holds everywhere (the
    /// [`Global`](crate::detect::Global) detector) is kept at every branch, so branch
    /// changes are followed without an error (and counted in `info().branch_changes`).
    Error,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            detector: Arc::new(Traced),
            strategy: Strategy::Auto,
            backend: BackendChoice::Auto,
            coloring: ColoringParams::with_order(default_orders()),
            geometry: None,
            verify: Verify::Auto,
            verify_tolerance: None,
            on_branch_change: OnBranchChange::Adapt,
            jacobian_mode: JacobianMode::Auto,
            threads: 1,
        }
    }
}

impl Options {
    /// Default options with this strategy.
    pub fn with_strategy(strategy: Strategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    /// Default options with a known pattern ([`GivenPattern`]).
    pub fn with_pattern(pattern: Pattern) -> Self {
        Self::with_detector(GivenPattern(pattern))
    }

    /// Default options with this detector.
    pub fn with_detector(detector: impl SparsityDetector + 'static) -> Self {
        Self {
            detector: Arc::new(detector),
            ..Self::default()
        }
    }
}
