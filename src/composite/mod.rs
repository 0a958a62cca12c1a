//! [`CompositeHessian`]: the sparse Hessian of a *composite* objective
//!
//! ```text
//! f(z) = φ(z) + Σ_i ψ_i(r_i(z)),     φ(z) = Σ_k φ_k(z[vars_k]),   r_i(z) = r_i(z[vars_i])
//! ```
//!
//! where the objective terms φ_k and the residuals r_i are [`RowFunctions`] (each a scalar
//! function of at most [`MAX_LOCAL_VARS`] entries of z, written once generic over the
//! scalar) and every ψ_i is a scalar [`Outer`] function known by its value and first two
//! derivatives (a penalty `λr + (ρ/2)r²`, an inequality term of an augmented Lagrangian, a
//! weight, or a closure). Its Hessian is
//!
//! ```text
//! ∇²f = Σ_k ∇²φ_k + Σ_i ψ_i′(r_i)·∇²r_i + Jᵀ·diag(ψ″(r))·J
//! ```
//!
//! (the second-order chain rule, exact: `∇²(ψ∘r) = ψ′(r)∇²r + ψ″(r)∇r∇rᵀ` for every row),
//! with J the sparse Jacobian of r. Each part is computed where it is cheap:
//!
//! * **r and J** row by row, by forward mode over the row's own variables: a row with k
//!   variables is evaluated once on k-lane duals seeded with the k unit vectors, so J costs
//!   one pass over the rows whatever its colouring number. Affine rows (no comparison, and
//!   a polynomial of degree ≤ 1 by a degree-bounding evaluation: `|x|` or `x % c`, which
//!   trace without curvature, do not count) are *frozen*: their gradient is computed once
//!   at prepare and their value at evaluate as `c + g·z` ([`CompositeOptions`]).
//! * **Quadratic objective terms** (no comparison, degree 2) have a constant Hessian: it is
//!   computed once at prepare and lives in the base matrix below, and evaluate skips them.
//! * **The weighted Hessian** `Σ_k ∇²φ_k + Σ_i ψ_i′∇²r_i` only for the rows that are not
//!   affine, on second-order jets whose Hessian part covers just the diagonal blocks of the
//!   row's traced local Hessian (a sum of univariate terms pays for its diagonal, a function
//!   of disjoint pairs for 2×2 blocks); every Hessian entry obeys its own chain rule, so the
//!   subset is exact. The traced entries, weighted by `ψ_i′(r_i)`, are added into the output.
//! * **JᵀDJ** as `Σ_i ψ_i″(r_i)·∇r_i∇r_iᵀ` over the rows whose ψ is not linear, skipping the
//!   rows with `ψ_i″(r_i) = 0` (inactive inequalities). For frozen rows with a constant ψ″
//!   (penalties) the products are constant: they form a base matrix, added once at prepare
//!   and again only when [`set_outer`](CompositeHessian::set_outer) changes that constant.
//!
//! Everything symbolic — the local patterns (one trace per row), the jet layouts, the
//! grouping of rows of the same shape into classes that run monomorphised loops, the output
//! pattern (the union of the rows' contributions, both triangles) and the index of every
//! product in it — is done once by [`CompositeHessian::prepare`]. [`evaluate`](
//! CompositeHessian::evaluate) starts from the base, adds the products into the lower
//! triangle, expands it into the CSR values of both triangles, checks that they are finite,
//! and allocates nothing.
//!
//! ```
//! use sparsediff::composite::{CompositeHessian, NoRows, Outer, RowFunctions};
//! use sparsediff::num_dual::DualNum;
//!
//! /// r_i = z_{i+1} − z_i² (i = 0..n−1): penalised, f = Σ (ρ/2) r_i² (Rosenbrock's valley).
//! struct Valley(Vec<[usize; 2]>);
//! impl RowFunctions for Valley {
//!     fn num_rows(&self) -> usize { self.0.len() }
//!     fn vars(&self, i: usize) -> &[usize] { &self.0[i] }
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _i: usize, z: &[D]) -> D {
//!         z[1] - z[0].powi(2)
//!     }
//! }
//! let n = 100;
//! let rows = Valley((0..n - 1).map(|i| [i, i + 1]).collect());
//! let outer = vec![Outer::Penalty { lambda: 0.0, rho: 200.0 }; n - 1];
//! let z = vec![0.5; n];
//! let mut h = CompositeHessian::prepare(NoRows, rows, outer, &z)?;
//! assert_eq!(h.info().nnz, 3 * n - 2); // tridiagonal
//! let m = h.evaluate(&z)?;
//! // ∂²/∂z_0² of 100 (z_1 − z_0²)² = 1200 z_0² − 400 z_1
//! assert!((m.get(0, 0).copied().unwrap_or(0.0) - (1200.0 * 0.25 - 400.0 * 0.5)).abs() < 1e-12);
//! assert_eq!(m.get(1, 0), Some(&-200.0)); // −400 z_0
//! # Ok::<(), sparsediff::composite::CompositeError>(())
//! ```

mod degree;
mod jet;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use degree::Degree;
use num_dual::{Dual2SVec64, DualNum};
use sparsediff_ad::Elementary;
use sparsediff_ad::trace::{TraceError, hessian_pattern_with_info};
use sparsediff_pattern::{Pattern, PatternError};
use sprs::CsMat;

pub use jet::MAX_LOCAL_VARS;
use jet::{Jet, MAX_PAIRS, PAIRS, block_index, block_len, has_shape, lanes_for, with_shape};

/// A list of scalar functions of few variables each ("rows"): row i depends only on the
/// entries `vars(i)` of z and is evaluated on their values, in that order. Written once,
/// generic over the scalar, like [`ScalarFunction`](crate::ScalarFunction).
///
/// ```
/// use sparsediff::composite::RowFunctions;
/// use sparsediff::num_dual::DualNum;
///
/// /// Row i = sin(z_i)·z_{i+1}.
/// struct Products(Vec<[usize; 2]>);
/// impl RowFunctions for Products {
///     fn num_rows(&self) -> usize { self.0.len() }
///     fn vars(&self, i: usize) -> &[usize] { &self.0[i] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _i: usize, local: &[D]) -> D {
///         local[0].sin() * local[1]
///     }
/// }
/// let rows = Products(vec![[0, 1], [1, 2]]);
/// assert_eq!(rows.eval(1, &[0.0, 3.0]), 0.0);
/// ```
pub trait RowFunctions {
    /// Number of rows.
    fn num_rows(&self) -> usize;

    /// The indices into z of row i's variables: distinct, at most [`MAX_LOCAL_VARS`].
    fn vars(&self, i: usize) -> &[usize];

    /// Row i at the local values `local[a] = z[vars(i)[a]]`.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D;
}

impl<T: RowFunctions + ?Sized> RowFunctions for &T {
    fn num_rows(&self) -> usize {
        (**self).num_rows()
    }
    fn vars(&self, i: usize) -> &[usize] {
        (**self).vars(i)
    }
    #[inline]
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, i: usize, local: &[D]) -> D {
        (**self).eval(i, local)
    }
}

/// No rows: the objective part of a composite without φ (or residuals of one without r).
///
/// ```
/// use sparsediff::composite::{NoRows, RowFunctions};
/// assert_eq!(NoRows.num_rows(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRows;

impl RowFunctions for NoRows {
    fn num_rows(&self) -> usize {
        0
    }
    fn vars(&self, _: usize) -> &[usize] {
        &[]
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, _: &[D]) -> D {
        D::zero()
    }
}

/// A closure `r ↦ [ψ(r), ψ′(r), ψ″(r)]`, for [`Outer::Custom`].
pub type OuterFn = Arc<dyn Fn(f64) -> [f64; 3] + Send + Sync>;

/// The outer scalar function ψ_i applied to residual i.
///
/// ```
/// use sparsediff::composite::Outer;
///
/// let p = Outer::Penalty { lambda: 0.5, rho: 10.0 };
/// assert_eq!(p.eval(2.0), [0.5 * 2.0 + 5.0 * 4.0, 0.5 + 10.0 * 2.0, 10.0]);
/// let q = Outer::Inequality { mu: 0.1, rho: 10.0 };
/// assert_eq!(q.eval(-1.0)[1..], [0.0, 0.0]); // inactive: μ + ρ·r < 0
/// assert_eq!(q.eval(0.5)[1..], [5.1, 10.0]);
/// let huber = Outer::custom(|r| if r.abs() < 1.0 { [0.5 * r * r, r, 1.0] } else { [r.abs() - 0.5, r.signum(), 0.0] });
/// assert_eq!(huber.eval(3.0), [2.5, 1.0, 0.0]);
/// assert!(Outer::Linear(2.0).is_linear() && !huber.is_linear());
/// ```
#[derive(Clone)]
pub enum Outer {
    /// `ψ(r) = w·r` (no curvature: the row adds no JᵀDJ term).
    Linear(f64),
    /// `ψ(r) = λ·r + (ρ/2)·r²`: an equality's multiplier and quadratic penalty.
    Penalty {
        /// Multiplier λ.
        lambda: f64,
        /// Penalty ρ (any finite value).
        rho: f64,
    },
    /// `ψ(r) = (1/(2ρ))·[max(0, μ + ρ·r)² − μ²]`: an inequality `r ≤ 0` in an augmented
    /// Lagrangian (ψ′ = max(0, μ + ρr), ψ″ = ρ where `μ + ρr > 0` and 0 elsewhere).
    Inequality {
        /// Multiplier μ.
        mu: f64,
        /// Penalty ρ > 0.
        rho: f64,
    },
    /// Any ψ, given as `r ↦ [ψ(r), ψ′(r), ψ″(r)]`.
    Custom(OuterFn),
}

impl std::fmt::Debug for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outer::Linear(w) => f.debug_tuple("Linear").field(w).finish(),
            Outer::Penalty { lambda, rho } => f
                .debug_struct("Penalty")
                .field("lambda", lambda)
                .field("rho", rho)
                .finish(),
            Outer::Inequality { mu, rho } => f
                .debug_struct("Inequality")
                .field("mu", mu)
                .field("rho", rho)
                .finish(),
            Outer::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Outer {
    /// [`Outer::Custom`] from a closure `r ↦ [ψ(r), ψ′(r), ψ″(r)]`.
    pub fn custom(psi: impl Fn(f64) -> [f64; 3] + Send + Sync + 'static) -> Self {
        Outer::Custom(Arc::new(psi))
    }

    /// `[ψ(r), ψ′(r), ψ″(r)]`.
    #[inline]
    pub fn eval(&self, r: f64) -> [f64; 3] {
        match *self {
            Outer::Linear(w) => [w * r, w, 0.0],
            Outer::Penalty { lambda, rho } => {
                [lambda * r + 0.5 * rho * r * r, lambda + rho * r, rho]
            }
            Outer::Inequality { mu, rho } => {
                let t = mu + rho * r;
                if t > 0.0 {
                    [(t * t - mu * mu) * (0.5 / rho), t, rho]
                } else {
                    [-mu * mu * (0.5 / rho), 0.0, 0.0]
                }
            }
            Outer::Custom(ref psi) => psi(r),
        }
    }

    /// ψ′(r).
    #[inline]
    fn d1(&self, r: f64) -> f64 {
        match *self {
            Outer::Linear(w) => w,
            Outer::Penalty { lambda, rho } => lambda + rho * r,
            Outer::Inequality { mu, rho } => (mu + rho * r).max(0.0),
            Outer::Custom(ref psi) => psi(r)[1],
        }
    }

    /// ψ″(r).
    #[inline]
    fn d2(&self, r: f64) -> f64 {
        match *self {
            Outer::Linear(_) => 0.0,
            Outer::Penalty { rho, .. } => rho,
            Outer::Inequality { mu, rho } => {
                if mu + rho * r > 0.0 {
                    rho
                } else {
                    0.0
                }
            }
            Outer::Custom(ref psi) => psi(r)[2],
        }
    }

    /// Whether ψ″ vanishes identically ([`Outer::Linear`]): such rows add no JᵀDJ term and
    /// no entries beyond their own curvature to the pattern.
    pub fn is_linear(&self) -> bool {
        matches!(self, Outer::Linear(_))
    }

    /// ψ″ if it is the same at every r (`Some(0)` for [`Outer::Linear`], `Some(ρ)` for
    /// [`Outer::Penalty`]).
    pub fn constant_curvature(&self) -> Option<f64> {
        match *self {
            Outer::Linear(_) => Some(0.0),
            Outer::Penalty { rho, .. } => Some(rho),
            Outer::Inequality { .. } | Outer::Custom(_) => None,
        }
    }

    /// Why the parameters are unusable, if they are.
    fn invalid(&self) -> Option<&'static str> {
        match *self {
            Outer::Linear(w) if !w.is_finite() => Some("the weight must be finite"),
            Outer::Penalty { lambda, rho } if !(lambda.is_finite() && rho.is_finite()) => {
                Some("λ and ρ must be finite")
            }
            Outer::Inequality { mu, rho } if !(mu.is_finite() && rho.is_finite() && rho > 0.0) => {
                Some("μ must be finite and ρ finite and positive")
            }
            _ => None,
        }
    }
}

/// Why preparing or evaluating a [`CompositeHessian`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompositeError {
    /// A slice has the wrong length.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// What.
        what: &'static str,
        /// Given.
        len: usize,
        /// Expected.
        expected: usize,
    },
    /// A row has more variables than the local jets hold.
    #[error("{set} row {row} has {vars} variables; at most {max} are supported (split the row)")]
    TooManyVars {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// Its number of variables.
        vars: usize,
        /// [`MAX_LOCAL_VARS`].
        max: usize,
    },
    /// A row lists a variable beyond z.
    #[error("{set} row {row} depends on variable {var}, but z has {n} entries")]
    VarOutOfRange {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The variable.
        var: usize,
        /// Length of z.
        n: usize,
    },
    /// A row lists a variable twice.
    #[error("{set} row {row} lists variable {var} twice")]
    DuplicateVar {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The variable.
        var: usize,
    },
    /// An outer function's parameters are unusable.
    #[error("outer function of residual {row} ({outer}): {reason}")]
    InvalidOuter {
        /// The residual.
        row: usize,
        /// The function, formatted.
        outer: String,
        /// Why.
        reason: &'static str,
    },
    /// [`CompositeHessian::set_outer`] would give curvature to a residual prepared with a
    /// linear ψ (its JᵀDJ entries are not in the pattern).
    #[error(
        "residual {row} was prepared with a linear outer function; a curved one ({outer}) needs a new prepare"
    )]
    StructureChange {
        /// The residual.
        row: usize,
        /// The new function, formatted.
        outer: String,
    },
    /// Tracing a row's local Hessian pattern failed.
    #[error("tracing {set} row {row} failed: {source}")]
    Trace {
        /// `"objective"` or `"residual"`.
        set: &'static str,
        /// The row.
        row: usize,
        /// The tracer's error.
        #[source]
        source: TraceError,
    },
    /// The output pattern could not be built (beyond the limits of [`Pattern`]).
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// An evaluation gave NaN or an infinity.
    #[error("{what} {index} is not finite ({value})")]
    NonFinite {
        /// `"Hessian entry"` (CSR position), `"input"`.
        what: &'static str,
        /// Which one.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// Options of [`CompositeHessian::prepare_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompositeOptions {
    /// Freeze the affine rows (default `true`). A row that makes no comparison and is a
    /// polynomial of degree ≤ 1 in its variables (sums and constant multiples only:
    /// `|x|`, `x % c`, `sqrt`, … count as not polynomial, even where their trace has no
    /// second-order entry) is affine everywhere: its gradient g is then computed
    /// once at prepare, its value at evaluate as `c + g·z`, and its JᵀDJ term `ψ″·ggᵀ` is
    /// added into a base matrix once while ψ″ is a constant ([`Outer::constant_curvature`]:
    /// penalties, linear ψ) and recomputed only when [`set_outer`](CompositeHessian::set_outer)
    /// changes that constant. Turn it off for rows that branch on raw values
    /// (`if x.re() > 0.0`), which traces follow without seeing: such rows are then
    /// differentiated at every evaluation. The same switch lets jet rows skip the lanes of
    /// variables with a constant partial derivative (`c·x_a`, e.g. the state differences
    /// of a collocation defect), whose gradient entries are then computed once at prepare.
    pub freeze_affine: bool,
    /// Freeze the quadratic objective rows (default `true`): an objective row that makes
    /// no comparison and is a polynomial of degree ≤ 2 in its variables (checked by
    /// evaluating it on a degree-bounding scalar: sums, products, `xⁿ`, division by
    /// constants; `abs`, `%`, `sqrt`, … count as not polynomial) has a constant Hessian.
    /// It is computed once at prepare and added into the base matrix, so evaluate skips
    /// the row; its value and gradient are computed only when asked for
    /// ([`last_value`](CompositeHessian::last_value),
    /// [`last_gradient`](CompositeHessian::last_gradient)). The same caveat as for
    /// [`freeze_affine`](Self::freeze_affine) holds for branches on raw values.
    pub freeze_quadratic: bool,
}

impl Default for CompositeOptions {
    fn default() -> Self {
        Self {
            freeze_affine: true,
            freeze_quadratic: true,
        }
    }
}

impl CompositeOptions {
    /// The default options with [`freeze_affine`](Self::freeze_affine) set.
    pub fn freeze_affine(mut self, freeze: bool) -> Self {
        self.freeze_affine = freeze;
        self
    }

    /// These options with [`freeze_quadratic`](Self::freeze_quadratic) set.
    pub fn freeze_quadratic(mut self, freeze: bool) -> Self {
        self.freeze_quadratic = freeze;
        self
    }
}

/// What a prepared [`CompositeHessian`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeInfo {
    /// Length of z.
    pub variables: usize,
    /// Objective terms φ_k.
    pub objective_rows: usize,
    /// Residuals r_i.
    pub residual_rows: usize,
    /// Structural entries of ∇²f (both triangles).
    pub nnz: usize,
    /// Entries of the sparse Jacobian J of r (one per residual variable).
    pub jacobian_nnz: usize,
    /// Rows (of either set) with a nonzero traced local Hessian: evaluated on second-order
    /// jets at every evaluation.
    pub curved_rows: usize,
    /// Affine rows with their gradient frozen at prepare ([`CompositeOptions::freeze_affine`]).
    pub frozen_rows: usize,
    /// Quadratic objective rows whose constant Hessian is in the base matrix
    /// ([`CompositeOptions::freeze_quadratic`]).
    pub quadratic_rows: usize,
    /// Rows evaluated on jets (first or second order) at every evaluation.
    pub jet_rows: usize,
    /// Lower-triangle additions of the weighted Hessian per evaluation.
    pub weighted_products: usize,
    /// Lower-triangle additions of JᵀDJ per evaluation, at most: the jet rows under a curved
    /// ψ, and the frozen rows whose ψ″ is not constant (rows with ψ″ = 0 are skipped).
    pub outer_products: usize,
    /// Lower-triangle additions of JᵀDJ made once into the base matrix (frozen rows with a
    /// constant ψ″).
    pub base_products: usize,
    /// Classes of jet rows (same shape and local structure: one monomorphised loop each).
    pub classes: usize,
    /// Most variables of a row.
    pub max_local_vars: usize,
    /// Most jet lanes of a class: variables whose partial derivative is a constant
    /// (`c·x_a`, e.g. the state differences of a collocation defect) get no lane.
    pub max_lanes: usize,
}

/// Where one [`CompositeHessian::profile`] evaluation spent its time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageTimes {
    /// The objective terms φ_k evaluated on jets, their Hessians added in.
    pub objective: Duration,
    /// The affine residuals: `r = c + g·z` and `ψ″(r)·ggᵀ` for the frozen rows whose ψ″ is not
    /// constant; r and J on first-order jets for affine rows that are not frozen.
    pub affine_residuals: Duration,
    /// r, J and `ψ′·∇²r` added in, for the curved residuals (one second-order jet pass).
    pub curved_residuals: Duration,
    /// The curved residuals again, r and J only (first-order jets; measured separately, not
    /// part of an evaluation): `curved_residuals − this` is the price of their weighted
    /// Hessian.
    pub curved_first_order: Duration,
    /// JᵀDJ of the jet rows added in.
    pub outer_products: Duration,
    /// Copying the base matrix, mirroring the lower triangle, the finiteness check (and
    /// rebuilding the base after a change of a constant ψ″).
    pub assemble: Duration,
}

impl StageTimes {
    /// The evaluation's total (without [`curved_first_order`](Self::curved_first_order)).
    pub fn total(&self) -> Duration {
        self.objective
            + self.affine_residuals
            + self.curved_residuals
            + self.outer_products
            + self.assemble
    }

    fn slot(&mut self, stage: Stage) -> &mut Duration {
        match stage {
            Stage::Objective => &mut self.objective,
            Stage::Affine => &mut self.affine_residuals,
            Stage::Curved => &mut self.curved_residuals,
            Stage::Outer => &mut self.outer_products,
            Stage::Assemble => &mut self.assemble,
        }
    }
}

/// The stages of [`StageTimes`].
#[derive(Debug, Clone, Copy)]
enum Stage {
    Objective,
    Affine,
    Curved,
    Outer,
    Assemble,
}

/// Which set a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Source {
    Objective,
    Residual,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Objective => "objective",
            Source::Residual => "residual",
        }
    }
}

/// The slot of a variable without a jet lane (its partial derivative is a constant).
const NO_SLOT: u8 = u8::MAX;

/// Jet rows of one shape: the same set, number of variables k, jet shape, order of the
/// slots, traced curvature entries and presence of a JᵀDJ term.
#[derive(Debug, Clone)]
struct Class {
    source: Source,
    k: usize,
    /// The jet: `(lanes, block size, Hessian entries)`, see [`Jet`].
    shape: (usize, usize, usize),
    /// Local variable a is seeded in slot `slot_of_local[a]` (curved variables in the
    /// Hessian blocks), or has no lane ([`NO_SLOT`]: a constant partial derivative, filled
    /// into the class's gradients once at prepare).
    slot_of_local: [u8; MAX_LOCAL_VARS],
    /// The jet's Hessian entries holding the traced local Hessian (weighted by ψ′).
    curved: Vec<u8>,
    /// Whether ψ is curved (all `k(k+1)/2` local pairs get `ψ″·g_a·g_b`).
    outer: bool,
    /// Row indices within the source set.
    rows: Vec<u32>,
    /// `rows.len() × k` variables, local order.
    vars: Vec<u32>,
    /// `rows.len() × curved.len()` positions in the CSR values (lower triangle).
    curved_pos: Vec<u32>,
    /// `rows.len() × k(k+1)/2` positions (lower triangle, packed local order), if `outer`.
    outer_pos: Vec<u32>,
    /// Start of the class's `rows.len() × k` gradients (local order) in the Jacobian buffer.
    jac_offset: usize,
}

impl Class {
    /// Whether the rows are curved (second-order jets).
    fn curved_rows(&self) -> bool {
        self.shape.2 > 0
    }
}

type ClassKey = (
    Source,
    usize,
    (usize, usize, usize),
    [u8; MAX_LOCAL_VARS],
    Vec<u8>,
    bool,
);

/// Frozen affine rows with k variables from one set: `row = offset + grad·z[vars]`.
#[derive(Debug, Clone)]
struct FrozenClass {
    source: Source,
    k: usize,
    /// Whether the residuals were prepared under a curved ψ (their `vars × vars` entries
    /// are in the pattern, `pos` and `gg` are filled).
    outer: bool,
    rows: Vec<u32>,
    /// `rows.len() × k`, local order.
    vars: Vec<u32>,
    /// `rows.len() × k`, local order.
    grad: Vec<f64>,
    offset: Vec<f64>,
    /// `rows.len() × k(k+1)/2` lower-triangle positions, packed local order (if `outer`).
    pos: Vec<u32>,
    /// The products `g_a·g_b` matching `pos`.
    gg: Vec<f64>,
    /// Members whose ψ″ is not a constant (rebuilt with the base).
    variable: Vec<u32>,
}

/// A prepared composite Hessian: `evaluate(z)` gives ∇²f(z) as a CSR matrix owned by this
/// value (both triangles, the pattern's order), allocation-free; f and ∇f at the same point
/// come from the same pass ([`last_value`](Self::last_value),
/// [`last_gradient`](Self::last_gradient)). See the [module documentation](self).
///
/// An augmented Lagrangian `x² + y² + λ·c + (ρ/2)c²` with `c = x·y − 1`, its multiplier
/// updated between evaluations:
///
/// ```
/// use sparsediff::composite::{CompositeHessian, Outer, RowFunctions};
/// use sparsediff::num_dual::DualNum;
///
/// /// Objective terms x², y² (row k is z_k²), or the constraint x·y − 1.
/// struct Squares;
/// impl RowFunctions for Squares {
///     fn num_rows(&self) -> usize { 2 }
///     fn vars(&self, i: usize) -> &[usize] { [&[0][..], &[1][..]][i] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, z: &[D]) -> D { z[0] * z[0] }
/// }
/// struct Constraint;
/// impl RowFunctions for Constraint {
///     fn num_rows(&self) -> usize { 1 }
///     fn vars(&self, _: usize) -> &[usize] { &[0, 1] }
///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, _: usize, z: &[D]) -> D {
///         z[0] * z[1] - 1.0
///     }
/// }
/// let (lambda, rho) = (0.5, 10.0);
/// let z = [2.0, 3.0]; // c = 5
/// let mut h = CompositeHessian::prepare(Squares, Constraint, vec![Outer::Penalty { lambda, rho }], &z)?;
/// let m = h.evaluate(&z)?;
/// // ∂²/∂x∂y = ψ′(c)·1 + ψ″(c)·y·x = (λ + ρc) + ρ·6
/// assert_eq!(m.get(0, 1), Some(&(0.5 + 50.0 + 60.0)));
/// assert_eq!(m.get(0, 0), Some(&(2.0 + 10.0 * 9.0))); // 2 + ρ·y²
/// let mut grad = [0.0; 2];
/// h.last_gradient(&mut grad)?;
/// assert_eq!(grad, [4.0 + 50.5 * 3.0, 6.0 + 50.5 * 2.0]);
/// assert_eq!(h.last_value(), 13.0 + 0.5 * 5.0 + 5.0 * 25.0);
///
/// // a new multiplier: same structure, new values
/// h.set_outer(0, Outer::Penalty { lambda: -1.0, rho })?;
/// assert_eq!(h.evaluate(&z)?.get(0, 1), Some(&(-1.0 + 50.0 + 60.0)));
/// # Ok::<(), sparsediff::composite::CompositeError>(())
/// ```
pub struct CompositeHessian<P, R> {
    objective: P,
    residuals: R,
    outer: Vec<Outer>,
    /// Whether residual i was prepared with a curved ψ.
    outer_curved: Vec<bool>,
    /// Whether residual i is frozen (affine).
    frozen_residual: Vec<bool>,
    classes: Vec<Class>,
    frozen: Vec<FrozenClass>,
    pattern: Pattern,
    matrix: CsMat<f64>,
    /// The lower triangle being accumulated (CSR order of the lower entries).
    lower: Vec<f64>,
    /// JᵀDJ of the frozen rows with a constant ψ″ (lower triangle).
    base: Vec<f64>,
    /// The base must be rebuilt (a constant ψ″ changed).
    dirty: bool,
    /// The lower-triangle number of every CSR entry (its own, or its mirror image's).
    expand: Vec<u32>,
    /// The last evaluated point.
    z: Vec<f64>,
    /// φ_k of the jet rows at the last point.
    phi_values: Vec<f64>,
    /// r_i of the jet rows and of the frozen rows with a variable ψ″ at the last point.
    r_values: Vec<f64>,
    /// Jet rows' gradients at the last point, by class (slot order).
    jac: Vec<f64>,
    /// Rows without variables, with their values.
    constants: Vec<(Source, u32, f64)>,
    /// Frozen quadratic objective rows (their values and gradients are computed on demand).
    quadratic: Vec<u32>,
    /// Lower-triangle positions and values of their constant Hessians (added into the base).
    quadratic_pos: Vec<u32>,
    quadratic_val: Vec<f64>,
    info: CompositeInfo,
}

impl<P, R> std::fmt::Debug for CompositeHessian<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeHessian")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A row's local structure found at prepare.
struct RowShape {
    /// No comparison and a polynomial of degree ≤ 1: affine everywhere.
    affine: bool,
    /// No comparison and a polynomial of degree 2: constant Hessian.
    quadratic: bool,
    /// The traced local Hessian pairs `(a, b)`, `a ≤ b` (local indices).
    pairs: Vec<(usize, usize)>,
    key: ClassKey,
    /// Global entries it adds (both triangles).
    entries: Vec<(usize, usize)>,
}

/// Validates row `row` of `set`, traces its local Hessian at x0, and returns its class key
/// and structural entries (`None` for a row without variables: a constant).
fn shape_of<F: RowFunctions>(
    f: &F,
    source: Source,
    row: usize,
    outer: bool,
    x0: &[f64],
    drop_constant: bool,
) -> Result<Option<RowShape>, CompositeError> {
    let set = source.name();
    let n = x0.len();
    let vars = f.vars(row);
    let k = vars.len();
    if k > MAX_LOCAL_VARS {
        return Err(CompositeError::TooManyVars {
            set,
            row,
            vars: k,
            max: MAX_LOCAL_VARS,
        });
    }
    for (a, &v) in vars.iter().enumerate() {
        if v >= n {
            return Err(CompositeError::VarOutOfRange {
                set,
                row,
                var: v,
                n,
            });
        }
        if vars[..a].contains(&v) {
            return Err(CompositeError::DuplicateVar { set, row, var: v });
        }
    }
    if k == 0 {
        return Ok(None);
    }
    let local: Vec<f64> = vars.iter().map(|&v| x0[v]).collect();
    let (local_hessian, trace) = hessian_pattern_with_info(&local, |t| f.eval(row, t))
        .map_err(|source| CompositeError::Trace { set, row, source })?;
    // The trace sees the structure at x0; the degree says whether it holds everywhere
    // (`|x|` traces as linear but its gradient jumps).
    let (degree, varying) = {
        let seeded: Vec<Degree> = (0..k).map(|a| Degree::variable(local[a], a)).collect();
        let y = f.eval(row, &seeded);
        (y.degree(), y.varying())
    };
    // A row that branches may curve elsewhere in any of its variables: treat all as curved.
    let branches = trace.comparisons > 0;
    let pairs: Vec<(usize, usize)> = if branches {
        (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect()
    } else {
        local_hessian.iter().filter(|&(a, b)| a <= b).collect()
    };
    // Variables with a constant partial derivative (`c·x_a`) get no jet lane: their
    // gradient entry is computed once at prepare. Trusted under the same conditions as
    // freezing affine rows; a variable in a traced pair always keeps its lane.
    let mut active = [true; MAX_LOCAL_VARS];
    if drop_constant && !branches {
        for (a, act) in active.iter_mut().enumerate().take(k) {
            *act = varying & (1 << a) != 0 || pairs.iter().any(|&(p, q)| p == a || q == a);
        }
        if !active[..k].contains(&true) {
            active = [true; MAX_LOCAL_VARS];
        }
    }
    let (shape, slot_of_local) = jet_layout(k, &pairs, &active[..k]);
    let mut curved: Vec<u8> = pairs
        .iter()
        .map(|&(a, b)| {
            let (sa, sb) = (slot_of_local[a] as usize, slot_of_local[b] as usize);
            block_index(shape.1, sa, sb).expect("a row's curved pairs share a Hessian block") as u8
        })
        .collect();
    curved.sort_unstable();
    curved.dedup();
    let mut entries = Vec::new();
    if outer {
        for &p in vars {
            for &q in vars {
                entries.push((p, q));
            }
        }
    } else {
        for &(a, b) in &pairs {
            entries.push((vars[a], vars[b]));
            entries.push((vars[b], vars[a]));
        }
    }
    Ok(Some(RowShape {
        affine: pairs.is_empty() && degree <= 1,
        quadratic: !branches && degree == 2,
        key: (source, k, shape, slot_of_local, curved, outer),
        entries,
        pairs,
    }))
}

/// The jet shape `(lanes, block size, entries)` and the slot of every local variable for a
/// row of k variables whose local Hessian has the entries `pairs` (`a ≤ b`); only the
/// `active` variables get a slot (the others [`NO_SLOT`]: their derivative is a constant).
///
/// The curved variables are split into the connected components of the local Hessian; the
/// components are packed, largest first, into blocks of the largest component's size, and
/// the blocks are filled up with uncurved variables. This block-diagonal layout is used when
/// it has fewer entries than one dense block over all curved variables (separable rows,
/// rows made of functions of disjoint pairs).
fn jet_layout(
    k: usize,
    pairs: &[(usize, usize)],
    active: &[bool],
) -> ((usize, usize, usize), [u8; MAX_LOCAL_VARS]) {
    let lanes = lanes_for(active.iter().filter(|&&a| a).count());
    let mut slot_of_local = [NO_SLOT; MAX_LOCAL_VARS];
    // components of the curved variables (union-find on at most 8 elements)
    let mut parent: [usize; MAX_LOCAL_VARS] = std::array::from_fn(|a| a);
    fn root(parent: &mut [usize; MAX_LOCAL_VARS], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    let mut curved = [false; MAX_LOCAL_VARS];
    for &(a, b) in pairs {
        curved[a] = true;
        curved[b] = true;
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut components: Vec<Vec<usize>> = Vec::new();
    for a in (0..k).filter(|&a| curved[a]) {
        let r = root(&mut parent, a);
        match components.iter_mut().find(|c| root(&mut parent, c[0]) == r) {
            Some(c) => c.push(a),
            None => components.push(vec![a]),
        }
    }
    let uncurved: Vec<usize> = (0..k).filter(|&a| !curved[a] && active[a]).collect();
    let m = curved[..k].iter().filter(|&&c| c).count();
    if m == 0 {
        for (slot, &a) in uncurved.iter().enumerate() {
            slot_of_local[a] = slot as u8;
        }
        return ((lanes, 0, 0), slot_of_local);
    }
    // first-fit decreasing into blocks of the largest component's size
    components.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let b = components[0].len();
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for c in &components {
        match blocks.iter_mut().find(|blk| blk.len() + c.len() <= b) {
            Some(blk) => blk.extend_from_slice(c),
            None => blocks.push(c.clone()),
        }
    }
    let blocked = (lanes, b, blocks.len() * block_len(b));
    let dense = (lanes, m, block_len(m));
    if blocked.2 < dense.2 && blocks.len() * b <= lanes && has_shape(blocked) {
        // blocks first (holes filled with uncurved variables, or left as padding lanes)
        let mut spare = uncurved.iter().copied();
        let mut slot = 0;
        for blk in &blocks {
            for &a in blk {
                slot_of_local[a] = slot as u8;
                slot += 1;
            }
            for _ in blk.len()..b {
                if let Some(a) = spare.next() {
                    slot_of_local[a] = slot as u8;
                }
                slot += 1;
            }
        }
        for a in spare {
            slot_of_local[a] = slot as u8;
            slot += 1;
        }
        return (blocked, slot_of_local);
    }
    let mut slot = 0;
    for pass in [true, false] {
        for a in (0..k).filter(|&a| curved[a] == pass && active[a]) {
            slot_of_local[a] = slot as u8;
            slot += 1;
        }
    }
    (dense, slot_of_local)
}

/// The value and gradient (local order) of row `row` at the local values `x`.
fn first_order<F: RowFunctions>(f: &F, row: usize, x: &[f64]) -> (f64, [f64; MAX_LOCAL_VARS]) {
    let mut grad = [0.0; MAX_LOCAL_VARS];
    let k = x.len();
    let value = with_shape!((lanes_for(k), 0, 0), |K, B, T| {
        let local: [Jet<K, B, T>; K] =
            std::array::from_fn(|a| Jet::variable(x.get(a).copied().unwrap_or(0.0), a));
        let y = f.eval(row, &local[..k]);
        grad[..k].copy_from_slice(&y.g[..k]);
        y.re
    });
    (value, grad)
}

/// The local Hessian (local order, dense) of row `row` at the global point `x0`, by
/// num-dual's second-order numbers (prepare only).
fn local_hessian<F: RowFunctions>(
    f: &F,
    row: usize,
    vars: &[usize],
    x0: &[f64],
) -> [[f64; MAX_LOCAL_VARS]; MAX_LOCAL_VARS] {
    let local: [Dual2SVec64<MAX_LOCAL_VARS>; MAX_LOCAL_VARS] =
        std::array::from_fn(|a| match vars.get(a) {
            Some(&v) => Dual2SVec64::from_re(x0[v]).derivative(a),
            None => Dual2SVec64::from_re(0.0),
        });
    let y = f.eval(row, &local[..vars.len()]);
    let mut h = [[0.0; MAX_LOCAL_VARS]; MAX_LOCAL_VARS];
    if let Some(m) = y.v2.0 {
        for (a, ha) in h.iter_mut().enumerate() {
            for (b, hab) in ha.iter_mut().enumerate() {
                *hab = m[(a, b)];
            }
        }
    }
    h
}

/// The lower triangle of a symmetric pattern, numbered in CSR order: `lower[pos]` is the
/// number of CSR entry pos if it is on or below the diagonal, and of its mirror image
/// otherwise (the map that expands the lower triangle into the full matrix).
fn lower_numbering(pattern: &Pattern) -> Vec<u32> {
    let mut number = vec![u32::MAX; pattern.nnz()];
    let mut next = 0u32;
    for (pos, (i, j)) in pattern.iter().enumerate() {
        if i >= j {
            number[pos] = next;
            next += 1;
        }
    }
    for (pos, (i, j)) in pattern.iter().enumerate() {
        if i < j {
            let mirror = pattern
                .position(j, i)
                .expect("internal error: the composite pattern is symmetric by construction");
            number[pos] = number[mirror];
        }
    }
    number
}

/// The lower-triangle number of global entry (p, q), either order.
fn lower_position(pattern: &Pattern, lower: &[u32], p: usize, q: usize) -> u32 {
    let pos = pattern
        .position(p, q)
        .expect("internal error: every row's entries are in the pattern by construction");
    lower[pos]
}

impl<P: RowFunctions, R: RowFunctions> CompositeHessian<P, R> {
    /// [`prepare_with`](Self::prepare_with) the default [`CompositeOptions`].
    pub fn prepare(
        objective: P,
        residuals: R,
        outer: Vec<Outer>,
        x0: &[f64],
    ) -> Result<Self, CompositeError> {
        Self::prepare_with(
            objective,
            residuals,
            outer,
            x0,
            &CompositeOptions::default(),
        )
    }

    /// Prepares the Hessian of `f(z) = Σ_k objective_k(z) + Σ_i outer_i(residual_i(z))`
    /// around `x0`: validates the rows, traces each row's local Hessian pattern at x0 (the
    /// pattern is local to the branches a row takes there, as with
    /// [`Detection::Trace`](crate::Detection::Trace); a row that makes any comparison is
    /// treated as curved in all its variables), freezes the affine rows (see
    /// [`CompositeOptions`]), groups the others into classes, builds the output pattern and
    /// every index map. `outer` has one function per residual; pass [`NoRows`] for an empty
    /// set.
    ///
    /// Errors on a wrong number of outer functions or unusable parameters, a row with too
    /// many, duplicate or out-of-range variables, a failed trace, or a pattern beyond the
    /// limits of [`Pattern`] (entries are addressed with 32 bits).
    pub fn prepare_with(
        objective: P,
        residuals: R,
        outer: Vec<Outer>,
        x0: &[f64],
        options: &CompositeOptions,
    ) -> Result<Self, CompositeError> {
        let n = x0.len();
        let (np, m) = (objective.num_rows(), residuals.num_rows());
        if outer.len() != m {
            return Err(CompositeError::WrongLength {
                what: "outer functions (one per residual)",
                len: outer.len(),
                expected: m,
            });
        }
        for (row, o) in outer.iter().enumerate() {
            if let Some(reason) = o.invalid() {
                return Err(CompositeError::InvalidOuter {
                    row,
                    outer: format!("{o:?}"),
                    reason,
                });
            }
        }
        let outer_curved: Vec<bool> = outer.iter().map(|o| !o.is_linear()).collect();
        let mut frozen_residual = vec![false; m];

        let mut index: HashMap<ClassKey, usize> = HashMap::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut frozen_index: HashMap<(Source, usize, bool), usize> = HashMap::new();
        let mut frozen: Vec<FrozenClass> = Vec::new();
        let mut entries: Vec<(usize, usize)> = Vec::new();
        let mut constants = Vec::new();
        let mut quadratic: Vec<u32> = Vec::new();
        let mut quadratic_entries: Vec<(usize, usize, f64)> = Vec::new();
        let mut jacobian_nnz = 0;
        let mut max_local_vars = 0;
        let mut local = [0.0; MAX_LOCAL_VARS];
        for (source, count) in [(Source::Objective, np), (Source::Residual, m)] {
            for row in 0..count {
                let (shape, vars) = match source {
                    Source::Objective => (
                        shape_of(&objective, source, row, false, x0, options.freeze_affine)?,
                        objective.vars(row),
                    ),
                    Source::Residual => (
                        shape_of(
                            &residuals,
                            source,
                            row,
                            outer_curved[row],
                            x0,
                            options.freeze_affine,
                        )?,
                        residuals.vars(row),
                    ),
                };
                let Some(shape) = shape else {
                    // a row without variables is a constant
                    let value = match source {
                        Source::Objective => objective.eval::<f64>(row, &[]),
                        Source::Residual => residuals.eval::<f64>(row, &[]),
                    };
                    constants.push((source, row as u32, value));
                    continue;
                };
                let k = vars.len();
                max_local_vars = max_local_vars.max(k);
                if source == Source::Residual {
                    jacobian_nnz += k;
                }
                entries.extend_from_slice(&shape.entries);
                let outer = shape.key.5;
                if options.freeze_affine && shape.affine {
                    for (l, &v) in local.iter_mut().zip(vars) {
                        *l = x0[v];
                    }
                    let (value, grad) = match source {
                        Source::Objective => first_order(&objective, row, &local[..k]),
                        Source::Residual => first_order(&residuals, row, &local[..k]),
                    };
                    let offset = value - (0..k).map(|a| grad[a] * local[a]).sum::<f64>();
                    let c = *frozen_index.entry((source, k, outer)).or_insert_with(|| {
                        frozen.push(FrozenClass {
                            source,
                            k,
                            outer,
                            rows: Vec::new(),
                            vars: Vec::new(),
                            grad: Vec::new(),
                            offset: Vec::new(),
                            pos: Vec::new(),
                            gg: Vec::new(),
                            variable: Vec::new(),
                        });
                        frozen.len() - 1
                    });
                    let fc = &mut frozen[c];
                    fc.rows.push(row as u32);
                    fc.vars.extend(vars.iter().map(|&v| v as u32));
                    fc.grad.extend_from_slice(&grad[..k]);
                    fc.offset.push(offset);
                    if source == Source::Residual {
                        frozen_residual[row] = true;
                    }
                    continue;
                }
                if options.freeze_quadratic && shape.quadratic && source == Source::Objective {
                    let h = local_hessian(&objective, row, vars, x0);
                    for &(a, b) in &shape.pairs {
                        quadratic_entries.push((vars[a], vars[b], h[a][b]));
                    }
                    quadratic.push(row as u32);
                    continue;
                }
                let c = *index.entry(shape.key.clone()).or_insert_with(|| {
                    let (source, k, shape, slot_of_local, curved, outer) = shape.key;
                    classes.push(Class {
                        source,
                        k,
                        shape,
                        slot_of_local,
                        curved,
                        outer,
                        rows: Vec::new(),
                        vars: Vec::new(),
                        curved_pos: Vec::new(),
                        outer_pos: Vec::new(),
                        jac_offset: 0,
                    });
                    classes.len() - 1
                });
                classes[c].rows.push(row as u32);
                classes[c].vars.extend(vars.iter().map(|&v| v as u32));
            }
        }
        let pattern = Pattern::from_entries(n, n, entries)?;
        if pattern.nnz() > u32::MAX as usize {
            return Err(PatternError::LengthMismatch {
                what: "composite Hessian entries (addressed with 32 bits)",
                left: pattern.nnz(),
                right: u32::MAX as usize,
            }
            .into());
        }

        let expand = lower_numbering(&pattern);
        let (quadratic_pos, quadratic_val): (Vec<u32>, Vec<f64>) = quadratic_entries
            .iter()
            .map(|&(p, q, v)| (lower_position(&pattern, &expand, p, q), v))
            .unzip();
        let lower_len = pattern.iter().filter(|&(i, j)| i >= j).count();
        // Jet classes in evaluation order: objective, affine residuals, curved residuals.
        classes.sort_by_key(|c| (c.source, c.curved_rows(), c.k, c.shape));
        let mut jac_len = 0;
        let (mut weighted_products, mut outer_products, mut curved_rows, mut jet_rows) =
            (0, 0, 0, 0);
        for c in &mut classes {
            c.jac_offset = jac_len;
            jac_len += c.rows.len() * c.k;
            // the local pair of every traced Hessian entry of the jet
            let (k, b) = (c.k, c.shape.1);
            let entry_pairs: Vec<(usize, usize)> = c
                .curved
                .iter()
                .map(|&t| {
                    let with_lane = |a: &usize| c.slot_of_local[*a] != NO_SLOT;
                    (0..k)
                        .filter(with_lane)
                        .flat_map(|a| (a..k).filter(with_lane).map(move |bb| (a, bb)))
                        .find(|&(a, bb)| {
                            block_index(
                                b,
                                c.slot_of_local[a] as usize,
                                c.slot_of_local[bb] as usize,
                            ) == Some(t as usize)
                        })
                        .expect("every traced entry belongs to two local variables")
                })
                .collect();
            let pairs = block_len(k);
            for vars in c.vars.chunks_exact(k) {
                let global = |a: usize| vars[a] as usize;
                for &(a, bb) in &entry_pairs {
                    c.curved_pos
                        .push(lower_position(&pattern, &expand, global(a), global(bb)));
                }
                if c.outer {
                    for &(a, bb) in &PAIRS[..pairs] {
                        c.outer_pos.push(lower_position(
                            &pattern,
                            &expand,
                            global(a as usize),
                            global(bb as usize),
                        ));
                    }
                }
            }
            weighted_products += c.curved_pos.len();
            outer_products += c.outer_pos.len();
            jet_rows += c.rows.len();
            if c.curved_rows() {
                curved_rows += c.rows.len();
            }
        }
        frozen.sort_by_key(|f| (f.source, f.k, f.outer));
        let mut frozen_rows = 0;
        for fc in &mut frozen {
            frozen_rows += fc.rows.len();
            if !fc.outer {
                continue;
            }
            let (k, pairs) = (fc.k, fc.k * (fc.k + 1) / 2);
            for (vars, grad) in fc.vars.chunks_exact(k).zip(fc.grad.chunks_exact(k)) {
                for &(a, b) in &PAIRS[..pairs] {
                    let (a, b) = (a as usize, b as usize);
                    fc.pos.push(lower_position(
                        &pattern,
                        &expand,
                        vars[a] as usize,
                        vars[b] as usize,
                    ));
                    fc.gg.push(grad[a] * grad[b]);
                }
            }
            fc.variable.reserve_exact(fc.rows.len());
        }
        let nnz = pattern.nnz();
        let matrix = pattern.to_sprs_with_values(vec![0.0; nnz])?;
        let info = CompositeInfo {
            variables: n,
            objective_rows: np,
            residual_rows: m,
            nnz,
            jacobian_nnz,
            curved_rows,
            frozen_rows,
            quadratic_rows: quadratic.len(),
            jet_rows,
            weighted_products,
            outer_products,
            base_products: 0,
            classes: classes.len(),
            max_local_vars,
            max_lanes: classes.iter().map(|c| c.shape.0).max().unwrap_or(0),
        };
        let mut h = Self {
            objective,
            residuals,
            outer,
            outer_curved,
            frozen_residual,
            classes,
            frozen,
            pattern,
            matrix,
            lower: vec![0.0; lower_len],
            base: vec![0.0; lower_len],
            dirty: true,
            expand,
            z: vec![0.0; n],
            phi_values: vec![0.0; np],
            r_values: vec![0.0; m],
            jac: vec![0.0; jac_len],
            constants,
            quadratic,
            quadratic_pos,
            quadratic_val,
            info,
        };
        h.refresh();
        h.fill_constant_gradients(x0);
        Ok(h)
    }

    /// Writes the gradient entries of the jet rows' lane-less variables (constant partial
    /// derivatives, [`NO_SLOT`]) into the class gradients, from a first-order evaluation at
    /// x0; evaluations never overwrite them.
    fn fill_constant_gradients(&mut self, x0: &[f64]) {
        let mut local = [0.0; MAX_LOCAL_VARS];
        for c in &self.classes {
            let k = c.k;
            if !c.slot_of_local[..k].contains(&NO_SLOT) {
                continue;
            }
            for (ci, (&row, vars)) in c.rows.iter().zip(c.vars.chunks_exact(k)).enumerate() {
                for (l, &v) in local.iter_mut().zip(vars) {
                    *l = x0[v as usize];
                }
                let (_, grad) = match c.source {
                    Source::Objective => first_order(&self.objective, row as usize, &local[..k]),
                    Source::Residual => first_order(&self.residuals, row as usize, &local[..k]),
                };
                let g = &mut self.jac[c.jac_offset + ci * k..c.jac_offset + (ci + 1) * k];
                for a in (0..k).filter(|&a| c.slot_of_local[a] == NO_SLOT) {
                    g[a] = grad[a];
                }
            }
        }
    }

    /// Rebuilds the base matrix (JᵀDJ of the frozen rows with a constant ψ″) and the lists
    /// of frozen rows whose ψ″ varies.
    fn refresh(&mut self) {
        let base = &mut self.base;
        base.fill(0.0);
        for (&p, &v) in self.quadratic_pos.iter().zip(&self.quadratic_val) {
            base[p as usize] += v;
        }
        let (mut base_products, mut variable_products) = (self.quadratic_pos.len(), 0);
        for fc in self.frozen.iter_mut().filter(|f| f.outer) {
            let pairs = fc.k * (fc.k + 1) / 2;
            fc.variable.clear();
            for (ix, &row) in fc.rows.iter().enumerate() {
                match self.outer[row as usize].constant_curvature() {
                    Some(d) => {
                        let span = ix * pairs..(ix + 1) * pairs;
                        for (&p, &gg) in fc.pos[span.clone()].iter().zip(&fc.gg[span]) {
                            base[p as usize] += d * gg;
                        }
                        base_products += pairs;
                    }
                    None => {
                        fc.variable.push(ix as u32);
                        variable_products += pairs;
                    }
                }
            }
        }
        let jet_products: usize = self.classes.iter().map(|c| c.outer_pos.len()).sum();
        self.info.base_products = base_products;
        self.info.outer_products = jet_products + variable_products;
        self.dirty = false;
    }

    /// ∇²f(z) (CSR, both triangles, the pattern's order). Allocates nothing; errors on a
    /// wrong length or a non-finite entry.
    pub fn evaluate(&mut self, z: &[f64]) -> Result<&CsMat<f64>, CompositeError> {
        self.run(z, None)?;
        Ok(&self.matrix)
    }

    /// One [`evaluate`](Self::evaluate), timed stage by stage, plus the curved residuals'
    /// first-order cost measured separately (see [`StageTimes`]).
    pub fn profile(&mut self, z: &[f64]) -> Result<StageTimes, CompositeError> {
        let mut times = StageTimes::default();
        self.run(z, Some(&mut times))?;
        let start = Instant::now();
        let Self {
            residuals,
            classes,
            r_values,
            jac,
            ..
        } = self;
        for c in classes
            .iter()
            .filter(|c| c.source == Source::Residual && c.curved_rows())
        {
            let jac = &mut jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            with_shape!((c.shape.0, 0, 0), |K, B, T| {
                run_class::<_, K, B, T>(residuals, c, z, r_values, jac, &mut [], |_, _| 0.0)
            });
        }
        times.curved_first_order = start.elapsed();
        Ok(times)
    }

    fn run(&mut self, z: &[f64], mut times: Option<&mut StageTimes>) -> Result<(), CompositeError> {
        let n = self.info.variables;
        if z.len() != n {
            return Err(CompositeError::WrongLength {
                what: "z",
                len: z.len(),
                expected: n,
            });
        }
        let mut clock = Instant::now();
        let mut lap = |stage: Stage| {
            if let Some(t) = times.as_deref_mut() {
                let now = Instant::now();
                *t.slot(stage) += now - clock;
                clock = now;
            }
        };
        if self.dirty {
            self.refresh();
        }
        let Self {
            objective,
            residuals,
            outer,
            classes,
            frozen,
            matrix,
            lower,
            base,
            expand,
            z: z_last,
            phi_values,
            r_values,
            jac,
            ..
        } = self;
        let values = &mut lower[..];
        values.copy_from_slice(base);
        z_last.copy_from_slice(z);
        lap(Stage::Assemble);
        for fc in frozen.iter().filter(|f| !f.variable.is_empty()) {
            match fc.k {
                1 => frozen_class::<1>(fc, z, outer, r_values, values),
                2 => frozen_class::<2>(fc, z, outer, r_values, values),
                3 => frozen_class::<3>(fc, z, outer, r_values, values),
                4 => frozen_class::<4>(fc, z, outer, r_values, values),
                5 => frozen_class::<5>(fc, z, outer, r_values, values),
                6 => frozen_class::<6>(fc, z, outer, r_values, values),
                7 => frozen_class::<7>(fc, z, outer, r_values, values),
                _ => frozen_class::<8>(fc, z, outer, r_values, values),
            }
        }
        lap(Stage::Affine);
        for c in classes.iter() {
            let jac = &mut jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            match c.source {
                Source::Objective => with_shape!(c.shape, |K, B, T| {
                    run_class::<_, K, B, T>(objective, c, z, phi_values, jac, values, |_, _| 1.0)
                }),
                Source::Residual => with_shape!(c.shape, |K, B, T| {
                    run_class::<_, K, B, T>(residuals, c, z, r_values, jac, values, |i, r| {
                        outer[i].d1(r)
                    })
                }),
            }
            lap(match (c.source, c.curved_rows()) {
                (Source::Objective, _) => Stage::Objective,
                (Source::Residual, false) => Stage::Affine,
                (Source::Residual, true) => Stage::Curved,
            });
        }
        for c in classes.iter().filter(|c| c.outer) {
            let jac = &jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            match c.k {
                1 => outer_class::<1>(c, outer, r_values, jac, values),
                2 => outer_class::<2>(c, outer, r_values, jac, values),
                3 => outer_class::<3>(c, outer, r_values, jac, values),
                4 => outer_class::<4>(c, outer, r_values, jac, values),
                5 => outer_class::<5>(c, outer, r_values, jac, values),
                6 => outer_class::<6>(c, outer, r_values, jac, values),
                7 => outer_class::<7>(c, outer, r_values, jac, values),
                _ => outer_class::<8>(c, outer, r_values, jac, values),
            }
        }
        lap(Stage::Outer);
        let values = matrix.data_mut();
        if !expand_finite(lower, expand, values)
            && let Some(index) = values.iter().position(|v| !v.is_finite())
        {
            return Err(CompositeError::NonFinite {
                what: "Hessian entry",
                index,
                value: values[index],
            });
        }
        lap(Stage::Assemble);
        Ok(())
    }

    /// Calls `visit(source, row, value, gradient in local order as (var, ∂))` for every row at
    /// the last evaluated point, from the stored jet results and the frozen rows.
    fn visit_rows(
        &self,
        mut visit: impl FnMut(Source, usize, f64, &mut dyn Iterator<Item = (usize, f64)>),
    ) {
        for c in &self.classes {
            let jac = &self.jac[c.jac_offset..c.jac_offset + c.rows.len() * c.k];
            for (ci, &row) in c.rows.iter().enumerate() {
                let row = row as usize;
                let value = match c.source {
                    Source::Objective => self.phi_values[row],
                    Source::Residual => self.r_values[row],
                };
                let vars = &c.vars[ci * c.k..(ci + 1) * c.k];
                let g = &jac[ci * c.k..(ci + 1) * c.k];
                let mut grad = vars.iter().zip(g).map(|(&v, &g)| (v as usize, g));
                visit(c.source, row, value, &mut grad);
            }
        }
        for &(source, row, value) in &self.constants {
            visit(source, row as usize, value, &mut std::iter::empty());
        }
        let mut local = [0.0; MAX_LOCAL_VARS];
        for &row in &self.quadratic {
            let row = row as usize;
            let vars = self.objective.vars(row);
            for (l, &v) in local.iter_mut().zip(vars) {
                *l = self.z[v];
            }
            let (value, g) = first_order(&self.objective, row, &local[..vars.len()]);
            let mut grad = vars.iter().zip(g).map(|(&v, g)| (v, g));
            visit(Source::Objective, row, value, &mut grad);
        }
        for fc in &self.frozen {
            let k = fc.k;
            for (ix, &row) in fc.rows.iter().enumerate() {
                let vars = &fc.vars[ix * k..(ix + 1) * k];
                let g = &fc.grad[ix * k..(ix + 1) * k];
                let value = fc.offset[ix]
                    + vars
                        .iter()
                        .zip(g)
                        .map(|(&v, &g)| g * self.z[v as usize])
                        .sum::<f64>();
                let mut grad = vars.iter().zip(g).map(|(&v, &g)| (v as usize, g));
                visit(fc.source, row as usize, value, &mut grad);
            }
        }
    }

    /// f at the last evaluated point, with the current outer functions:
    /// `Σ_k φ_k + Σ_i ψ_i(r_i)` from the stored rows (frozen rows as `c + g·z`).
    pub fn last_value(&self) -> f64 {
        let mut total = 0.0;
        self.visit_rows(|source, row, value, _| {
            total += match source {
                Source::Objective => value,
                Source::Residual => self.outer[row].eval(value)[0],
            }
        });
        total
    }

    /// ∇f at the last evaluated point, with the current outer functions, into `grad`
    /// (length n): `Σ_k ∇φ_k + Jᵀψ′(r)` from the stored rows and gradients.
    pub fn last_gradient(&self, grad: &mut [f64]) -> Result<(), CompositeError> {
        if grad.len() != self.info.variables {
            return Err(CompositeError::WrongLength {
                what: "gradient buffer",
                len: grad.len(),
                expected: self.info.variables,
            });
        }
        grad.fill(0.0);
        self.visit_rows(|source, row, value, g| {
            let w = match source {
                Source::Objective => 1.0,
                Source::Residual => self.outer[row].d1(value),
            };
            for (v, d) in g {
                grad[v] += w * d;
            }
        });
        Ok(())
    }

    /// f(z), evaluating every row on `f64`.
    pub fn value(&self, z: &[f64]) -> Result<f64, CompositeError> {
        let n = self.info.variables;
        if z.len() != n {
            return Err(CompositeError::WrongLength {
                what: "z",
                len: z.len(),
                expected: n,
            });
        }
        let mut local = [0.0; MAX_LOCAL_VARS];
        let mut gather = |vars: &[usize]| {
            for (l, &v) in local.iter_mut().zip(vars) {
                *l = z[v];
            }
            local
        };
        let mut total = 0.0;
        for k in 0..self.objective.num_rows() {
            let vars = self.objective.vars(k);
            total += self.objective.eval(k, &gather(vars)[..vars.len()]);
        }
        for (i, o) in self.outer.iter().enumerate() {
            let vars = self.residuals.vars(i);
            let r = self.residuals.eval(i, &gather(vars)[..vars.len()]);
            total += o.eval(r)[0];
        }
        Ok(total)
    }

    /// The outer functions, one per residual.
    pub fn outer(&self) -> &[Outer] {
        &self.outer
    }

    /// Replaces the outer function of residual `row` (new multipliers or penalty between
    /// evaluations). A residual prepared with a linear ψ must stay linear
    /// ([`CompositeError::StructureChange`]); curved ones may change freely, or become
    /// linear. Changing the constant ψ″ of a frozen row (a penalty's ρ) rebuilds the base
    /// matrix at the next evaluation.
    pub fn set_outer(&mut self, row: usize, outer: Outer) -> Result<(), CompositeError> {
        let m = self.outer.len();
        if row >= m {
            return Err(CompositeError::WrongLength {
                what: "residual index (as a length: index + 1)",
                len: row + 1,
                expected: m,
            });
        }
        if let Some(reason) = outer.invalid() {
            return Err(CompositeError::InvalidOuter {
                row,
                outer: format!("{outer:?}"),
                reason,
            });
        }
        if !self.outer_curved[row] && !outer.is_linear() {
            return Err(CompositeError::StructureChange {
                row,
                outer: format!("{outer:?}"),
            });
        }
        if self.frozen_residual[row]
            && self.outer[row].constant_curvature() != outer.constant_curvature()
        {
            self.dirty = true;
        }
        self.outer[row] = outer;
        Ok(())
    }

    /// The objective terms.
    pub fn objective(&self) -> &P {
        &self.objective
    }

    /// The residuals.
    pub fn residuals(&self) -> &R {
        &self.residuals
    }

    /// The last evaluated Hessian.
    pub fn matrix(&self) -> &CsMat<f64> {
        &self.matrix
    }

    /// The last evaluated values, in the pattern's order.
    pub fn values(&self) -> &[f64] {
        self.matrix.data()
    }

    /// The structural pattern of ∇²f (both triangles): the union over residuals with a
    /// curved ψ of `vars × vars`, and over the other rows of their traced local Hessians.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Sizes and counts.
    pub fn info(&self) -> &CompositeInfo {
        &self.info
    }
}

/// `values[e] = lower[expand[e]]` for every entry, and whether they are all finite: NaN and
/// ±∞ make a sum non-finite (a finite sum proves every entry finite; an overflowing one is
/// checked entry by entry by the caller). Eight partial sums, so the additions are
/// independent.
fn expand_finite(lower: &[f64], expand: &[u32], values: &mut [f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let mut chunks = values.chunks_exact_mut(8);
    let mut index = expand.chunks_exact(8);
    for (v, l) in (&mut chunks).zip(&mut index) {
        for q in 0..8 {
            v[q] = lower[l[q] as usize];
            acc[q] += v[q];
        }
    }
    let mut rest = 0.0;
    for (v, &l) in chunks.into_remainder().iter_mut().zip(index.remainder()) {
        *v = lower[l as usize];
        rest += *v;
    }
    (acc.iter().sum::<f64>() + rest).is_finite()
}

/// Evaluates the rows of one class on jets of shape `(K, B, T)`: stores the row values and
/// gradients (local order), and adds `weight(row, value)·∇²row` on the traced entries into
/// `values`.
#[inline(never)]
fn run_class<F: RowFunctions, const K: usize, const B: usize, const T: usize>(
    f: &F,
    c: &Class,
    z: &[f64],
    row_values: &mut [f64],
    jac: &mut [f64],
    values: &mut [f64],
    weight: impl Fn(usize, f64) -> f64,
) where
    Jet<K, B, T>: DualNum<Primitive = f64>,
{
    let k = c.k;
    // padding lanes (a ≥ k) are never passed to the row
    let mut local: [Jet<K, B, T>; MAX_LOCAL_VARS] = std::array::from_fn(|a| {
        if a < k && c.slot_of_local[a] != NO_SLOT {
            Jet::variable(0.0, c.slot_of_local[a] as usize)
        } else {
            Jet::constant(0.0)
        }
    });
    // (local variable, lane) of the variables with a lane; the others' gradient entries
    // were filled in at prepare and are not touched
    let mut lanes = [(0usize, 0usize); MAX_LOCAL_VARS];
    let mut nl = 0;
    for (a, &s) in c.slot_of_local[..k].iter().enumerate() {
        if s != NO_SLOT {
            lanes[nl] = (a, s as usize);
            nl += 1;
        }
    }
    let lanes = &lanes[..nl];
    let np = c.curved.len();
    let mut curved_pos = c.curved_pos.chunks_exact(np.max(1));
    for ((&row, vars), g) in c
        .rows
        .iter()
        .zip(c.vars.chunks_exact(k))
        .zip(jac.chunks_exact_mut(k))
    {
        for (l, &v) in local.iter_mut().zip(vars) {
            l.re = z[v as usize];
        }
        let row = row as usize;
        let y = f.eval(row, &local[..k]);
        row_values[row] = y.re;
        for &(a, s) in lanes {
            g[a] = y.g[s];
        }
        if T > 0 {
            let w = weight(row, y.re);
            if let Some(pos) = curved_pos.next() {
                for (&t, &p) in c.curved.iter().zip(pos) {
                    values[p as usize] += w * y.h[t as usize];
                }
            }
        }
    }
}

/// Adds `ψ″(r_i)·g_i g_iᵀ` (lower triangle) for the jet rows of one class with K variables.
#[inline(never)]
fn outer_class<const K: usize>(
    c: &Class,
    outer: &[Outer],
    r_values: &[f64],
    jac: &[f64],
    values: &mut [f64],
) {
    let np = K * (K + 1) / 2;
    for ((&row, g), pos) in c
        .rows
        .iter()
        .zip(jac.chunks_exact(K))
        .zip(c.outer_pos.chunks_exact(np))
    {
        let row = row as usize;
        let d = outer[row].d2(r_values[row]);
        if d == 0.0 {
            continue;
        }
        for t in 0..np {
            let (i, j) = PAIRS[t];
            values[pos[t] as usize] += d * g[i as usize] * g[j as usize];
        }
    }
}

/// For the frozen rows with K variables whose ψ″ varies: `r = c + g·z`, and
/// `ψ″(r)·ggᵀ` added in.
#[inline(never)]
fn frozen_class<const K: usize>(
    fc: &FrozenClass,
    z: &[f64],
    outer: &[Outer],
    r_values: &mut [f64],
    values: &mut [f64],
) {
    let np = K * (K + 1) / 2;
    for &ix in &fc.variable {
        let ix = ix as usize;
        let row = fc.rows[ix] as usize;
        let vars = &fc.vars[ix * K..(ix + 1) * K];
        let g = &fc.grad[ix * K..(ix + 1) * K];
        let mut r = fc.offset[ix];
        for a in 0..K {
            r += g[a] * z[vars[a] as usize];
        }
        r_values[row] = r;
        let d = outer[row].d2(r);
        if d == 0.0 {
            continue;
        }
        let pos = &fc.pos[ix * np..(ix + 1) * np];
        let gg = &fc.gg[ix * np..(ix + 1) * np];
        for t in 0..np {
            values[pos[t] as usize] += d * gg[t];
        }
    }
}

const _: () = assert!(MAX_PAIRS == PAIRS.len());
