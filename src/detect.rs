//! Where the pattern comes from: the [`SparsityDetector`] seam and the built-in detectors
//! ([`Traced`], [`Global`], [`Conservative`], [`GivenPattern`]).
//!
//! | detector | `info().detection` | the pattern holds | cost |
//! |---|---|---|---|
//! | [`Traced`] (default) | `traced` | where the function takes x0's branches (everywhere if it compares no values of its inputs) | one run on tracers |
//! | [`Global`] | `global` | at every x: the union over every control-flow path | one run per path (one without comparisons); a budget of paths |
//! | [`Conservative`] | `conservative` | near x0, with high probability | 1 + `points` runs |
//! | [`GivenPattern`] | `given` | as the caller says (never widened) | none |
//!
//! The local trace stays the default because it is tighter: a function with branches
//! has the pattern of the branch it takes, and `evaluate` re-traces when it takes
//! another. [`Global`] suits callers that need one pattern for every x (a solver with a
//! symbolic factorisation): no re-trace, no re-design, at the price of the entries of
//! branches not taken.
//!
//! A detector sees the function through [`FunctionAccess`]: a trace of its local or global
//! pattern (when the function itself was given to `prepare`) and products of the backend
//! along any directions. A detector of your own plugs into
//! [`Options::detector`](crate::Options::detector):
//!
//! ```
//! use std::sync::Arc;
//! use sparsediff::detect::{Detected, FunctionAccess, SparsityDetector};
//! use sparsediff::num_dual::DualNum;
//! use sparsediff::{Options, Pattern, ScalarFunction, SparseError, SparseHessian};
//!
//! /// Unions the supports of Hessian-vector products along the unit vectors (n products:
//! /// a dense detector, for small n).
//! #[derive(Debug)]
//! struct UnitProducts;
//! impl SparsityDetector for UnitProducts {
//!     fn name(&self) -> &'static str { "unit-products" }
//!     fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError> {
//!         let n = x0.len();
//!         let mut eye = vec![0.0; n * n];
//!         (0..n).for_each(|j| eye[j * n + j] = 1.0);
//!         let mut out = vec![0.0; n * n];
//!         f.products(x0, &eye, n, &mut out)?;
//!         let entries = (0..n).flat_map(|i| (0..n).map(move |j| (i, j)));
//!         let pattern = Pattern::from_entries(n, n, entries.filter(|&(i, j)| out[i * n + j] != 0.0))?;
//!         // values that vanish at x0 may not vanish elsewhere: verified periodically
//!         Ok(Detected { pattern, holds_everywhere: false, fixed: false })
//!     }
//! }
//!
//! struct Chain;
//! impl ScalarFunction for Chain {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         x.windows(2).map(|w| (w[0] * w[1]).sin()).sum()
//!     }
//! }
//! let options = Options { detector: Arc::new(UnitProducts), ..Options::default() };
//! let mut h = SparseHessian::prepare(Chain, &[0.3; 8], &options)?;
//! assert_eq!(h.pattern().nnz(), 8 + 2 * 7); // tridiagonal
//! assert_eq!(h.info().detection, "unit-products");
//! # Ok::<(), SparseError>(())
//! ```

use std::sync::Arc;

use sparsediff_ad::trace::{CONSERVATIVE_RADIUS, DEFAULT_MAX_PATHS, TraceInfo, perturbed_points};
use sparsediff_pattern::Pattern;
use sparsediff_probe::MatrixKind;

use crate::error::SparseError;

/// What a detector may ask of the function (object-safe: the function is erased).
pub trait FunctionAccess {
    /// A Hessian (symmetric) or a Jacobian (general).
    fn kind(&self) -> MatrixKind;
    /// Rows and columns of the matrix.
    fn shape(&self) -> (usize, usize);
    /// The local pattern at x and what the trace saw, by running the function on tracers.
    /// [`SparseError::NeedsFunction`] when only a backend was given.
    fn trace(&mut self, x: &[f64]) -> Result<(Pattern, TraceInfo), SparseError>;
    /// The pattern valid at every x and what the trace saw, by running the function once
    /// per control-flow path (at most `max_paths`), starting from x's branches (see
    /// [`hessian_pattern_global`](sparsediff_ad::trace::hessian_pattern_global)).
    /// Default (for accesses of your own): [`SparseError::NeedsFunction`].
    fn trace_global(
        &mut self,
        x: &[f64],
        max_paths: usize,
    ) -> Result<(Pattern, TraceInfo), SparseError> {
        let _ = (x, max_paths);
        Err(SparseError::NeedsFunction {
            what: "tracing the global pattern",
        })
    }
    /// Products A·V along `probes` dense directions (n×probes row-major) into `out`
    /// (rows×probes row-major): Hessian- or Jacobian-vector products of the backend.
    fn products(
        &mut self,
        x: &[f64],
        dirs: &[f64],
        probes: usize,
        out: &mut [f64],
    ) -> Result<(), SparseError>;
}

/// A detected pattern and what is known about it.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The pattern (both triangles for a Hessian).
    pub pattern: Pattern,
    /// The pattern holds at every x where the function is twice differentiable (a trace
    /// that saw no comparison and no raw value read, or a global trace): branch changes
    /// need no re-trace. False: it may not, and verification runs periodically under
    /// [`Verify::Auto`](crate::Verify::Auto).
    pub holds_everywhere: bool,
    /// The pattern must not be widened when the function takes other branches (a pattern
    /// the caller gave): entries outside it are
    /// [`SparseError::PatternMissesEntries`].
    pub fixed: bool,
}

/// Where the pattern comes from.
pub trait SparsityDetector: std::fmt::Debug + Send + Sync {
    /// The name `info().detection` reports.
    fn name(&self) -> &'static str;
    /// The pattern of the function at (or around) x0.
    fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError>;

    /// Whether [`detect`](Self::detect) needs the point x0 (a given pattern does not: it
    /// is then called with an empty slice). Default: true.
    fn needs_point(&self) -> bool {
        true
    }
}

/// A shareable detector, as [`Options::detector`](crate::Options::detector) holds it.
pub type Detector = Arc<dyn SparsityDetector>;

/// Traces the function at x0: the local pattern, valid where the function takes x0's
/// branches (see [`sparsediff_ad::trace`]). With the tape backend recorded at x0 and a
/// branch-free function, the same pattern comes from the tape's compiled program instead
/// of another run of the function
/// ([`Tape::hessian_pattern`](sparsediff_ad::tape::Tape::hessian_pattern)); the detector
/// is still reported as `traced`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traced;

impl SparsityDetector for Traced {
    fn name(&self) -> &'static str {
        "traced"
    }

    fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError> {
        let (pattern, info) = f.trace(x0)?;
        Ok(Detected {
            pattern,
            holds_everywhere: !info.may_branch(),
            fixed: false,
        })
    }
}

/// The pattern valid at every x: the union of the patterns of every control-flow path of
/// the function, each comparison of values that depend on the inputs taking each of its
/// outcomes (the global tracer of SparseConnectivityTracer.jl takes both sides of a
/// branch the same way). See [`sparsediff_ad::trace`] (section "Global patterns").
///
/// `holds_everywhere` is true, so evaluations are not periodically verified for the
/// pattern's sake and a branch change needs no re-trace (`info().retraces` stays 0; the
/// backend still follows the branch). A function with more than `max_paths` paths fails
/// with [`TraceError::TooManyPaths`](sparsediff_ad::TraceError::TooManyPaths), one that
/// reads raw values (`x.re()`) with
/// [`TraceError::ValueReadInGlobalTrace`](sparsediff_ad::TraceError::ValueReadInGlobalTrace):
/// give the pattern ([`GivenPattern`]) or use [`Traced`] or [`Conservative`] then.
///
/// ```
/// use sparsediff::num_dual::DualNum;
/// use sparsediff::{Global, Options, ScalarFunction, SparseHessian};
///
/// /// x0·x1 if x0 > 0, x2² otherwise.
/// struct Branchy;
/// impl ScalarFunction for Branchy {
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
///         if x[0] > D::from(0.0) { x[0] * x[1] } else { x[2] * x[2] }
///     }
/// }
/// let mut h = SparseHessian::prepare(Branchy, &[5.0, 1.0, 2.0], &Options::with_detector(Global::default()))?;
/// assert_eq!(h.info().detection, "global");
/// assert_eq!(h.pattern().nnz(), 3); // (0, 1), (1, 0) and (2, 2): both sides
/// // on the other branch: no re-trace, no re-design
/// let m = h.evaluate(&[-5.0, 1.0, 2.0])?;
/// assert_eq!((m.get(2, 2), m.get(0, 1)), (Some(&2.0), Some(&0.0)));
/// assert_eq!(h.info().retraces, 0);
/// # Ok::<(), sparsediff::SparseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Global {
    /// The budget of control-flow paths (runs of the function).
    pub max_paths: usize,
}

impl Default for Global {
    /// A budget of [`DEFAULT_MAX_PATHS`] paths.
    fn default() -> Self {
        Global {
            max_paths: DEFAULT_MAX_PATHS,
        }
    }
}

impl SparsityDetector for Global {
    fn name(&self) -> &'static str {
        "global"
    }

    fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError> {
        let (pattern, _) = f.trace_global(x0, self.max_paths)?;
        Ok(Detected {
            pattern,
            holds_everywhere: true,
            fixed: false,
        })
    }
}

/// The union of the local patterns at x0 and at `points` seeded random perturbations of
/// it ([`perturbed_points`] with [`CONSERVATIVE_RADIUS`]): a pattern valid in a
/// neighbourhood of x0 with high probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conservative {
    /// Extra points.
    pub points: usize,
    /// Seed of the perturbations.
    pub seed: u64,
}

impl SparsityDetector for Conservative {
    fn name(&self) -> &'static str {
        "conservative"
    }

    fn detect(&self, f: &mut dyn FunctionAccess, x0: &[f64]) -> Result<Detected, SparseError> {
        let (mut pattern, info) = f.trace(x0)?;
        let mut branches = info.may_branch();
        for x in perturbed_points(x0, self.points, CONSERVATIVE_RADIUS, self.seed) {
            let (p, info) = f.trace(&x)?;
            branches |= info.may_branch();
            pattern = pattern.union(&p)?;
        }
        Ok(Detected {
            pattern,
            holds_everywhere: !branches,
            fixed: false,
        })
    }
}

/// A pattern the caller knows (checked for its shape only). It is never widened: at a
/// branch change or a failed verification, entries of the function outside it are
/// [`SparseError::PatternMissesEntries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenPattern(pub Pattern);

impl SparsityDetector for GivenPattern {
    fn name(&self) -> &'static str {
        "given"
    }

    fn needs_point(&self) -> bool {
        false
    }

    fn detect(&self, _f: &mut dyn FunctionAccess, _x0: &[f64]) -> Result<Detected, SparseError> {
        Ok(Detected {
            pattern: self.0.clone(),
            holds_everywhere: false,
            fixed: true,
        })
    }
}
