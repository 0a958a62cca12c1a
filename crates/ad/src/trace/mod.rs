//! Sparsity detection by operator overloading with index sets: the Jacobian or Hessian
//! pattern of a function written once, generic over `num_dual::DualNum<Primitive = f64>`,
//! from one run of it on [`Tracer`] values.
//!
//! ```
//! use num_dual::DualNum;
//! use sparsediff_ad::trace::{hessian_pattern, jacobian_pattern};
//!
//! /// Chained Rosenbrock: its Hessian is tridiagonal.
//! fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     let mut s = D::zero();
//!     for w in x.windows(2) {
//!         let t = w[1] - w[0].powi(2);
//!         s += t * t * 100.0 + (D::one() - w[0]).powi(2);
//!     }
//!     s
//! }
//! let x = [0.5; 6];
//! let h = hessian_pattern(&x, |x| rosenbrock(x))?;
//! assert_eq!(h.nnz(), 6 + 2 * 5); // diagonal and both off-diagonals
//! assert_eq!(h.row(2), &[1, 2, 3]);
//!
//! // A vector function: F_i = x_i · x_{i+1} (last: x_{n-1}).
//! let j = jacobian_pattern(&x, |x| {
//!     (0..x.len()).map(|i| if i + 1 < x.len() { x[i] * x[i + 1] } else { x[i] }).collect()
//! })?;
//! assert_eq!(j.row(0), &[0, 1]);
//! assert_eq!(j.row(5), &[5]);
//! # Ok::<(), sparsediff_ad::trace::TraceError>(())
//! ```
//!
//! # Local patterns
//!
//! A tracer carries the value at the traced point, and comparisons compare values, so the
//! trace follows the branches `f` takes at x. The pattern is therefore *local*: it is valid
//! at every point where `f` takes the same branches (the same outcome of every comparison,
//! the same piece of `abs`, `%`, `max`, ...) — an open neighbourhood of x unless x lies on a
//! branch boundary — and at no other point necessarily. Apart from branching, values are
//! ignored: `x·y` at `y = 0` still depends on `x`. [`TraceInfo::comparisons`] counts the
//! comparisons that involve the inputs and [`TraceInfo::value_reads`] the raw value reads
//! (`t.re()`, whose branches are followed but cannot be seen, nor checked for NaN); when
//! both are 0 the pattern is valid wherever `f` is twice differentiable.
//! The `*_conservative` functions union the patterns at x0 and at seeded random
//! perturbations of it (see [`perturbed_points`]); the `*_union` functions at points of the
//! caller's choice; the `*_global` functions over every control-flow path, a pattern valid
//! at every x (see [Global patterns](#global-patterns)).
//!
//! # Global patterns
//!
//! The `*_global` functions ([`hessian_pattern_global`], [`jacobian_pattern_global`]) give
//! a pattern valid at **every** x: the union of the patterns of every control-flow path of
//! `f`, as the global tracer of SparseConnectivityTracer.jl does by taking both sides of
//! every comparison. Rust code (`if a > b {..} else {..}`) cannot run both sides in one
//! pass, so the paths are enumerated: the function runs once per path, in a depth-first
//! search over the decision tree of its comparisons.
//!
//! * Each comparison of values that depend on the inputs is a decision with two answers
//!   (`<`, `<=`, `>`, `>=`, `==`; `!=` is the negation of `==`) or three (`partial_cmp`
//!   called directly: less, equal, greater). Run k forces the answers of its first
//!   comparisons (a prefix of the previous path with the deepest decision that has an
//!   unexplored answer moved to that answer), and answers the rest by the values, as a
//!   local trace does (NaN: false, as for `f64`; `partial_cmp` answers less). Path 0 is
//!   therefore the local trace at x; the others cover the rest of the tree. Comparisons of
//!   constants (no input involved) keep their value semantics.
//! * Since every answer of every comparison is taken, the union does not depend on x (x
//!   only orders the search) and holds wherever `f` is differentiable. It over-approximates
//!   where paths are infeasible (`if x0 > 1 {..}` nested in `if x0 < 0 {..}` is traced
//!   too), as SCT's global patterns do.
//! * After a forced answer values are those of a branch the point does not take, so they
//!   are meaningless: non-finite outputs and comparisons with NaN are not errors here.
//! * The number of paths can grow exponentially (n independent `max(xᵢ, 0)` make 2ⁿ), and
//!   a loop whose trip count depends on the inputs has unboundedly many. A budget of paths
//!   ([`DEFAULT_MAX_PATHS`], or the `*_global_with_info` argument) bounds the work:
//!   beyond it the trace fails with [`TraceError::TooManyPaths`] (give the pattern, or use
//!   a local or conservative detection). A run records at most as many decisions as the
//!   budget (its paths could not fit otherwise); past that, its comparisons answer at
//!   random, so that a loop the values of a forced path would never end (a counter
//!   forced to grow) ends and the error comes back. A loop that no answer of its
//!   comparisons ends (one on constants, or on raw values) does not end here either.
//! * A raw value read (`t.re()`) on a value that depends on the inputs cannot be seen nor
//!   forced: the global trace fails with [`TraceError::ValueReadInGlobalTrace`] rather
//!   than return a pattern that might be local only.
//! * A function must branch on its inputs only: a run that asks another question at a
//!   forced comparison than the run that forced it is [`TraceError::PathsDiverged`].
//!
//! A function without comparisons of its inputs (Rosenbrock, stencil energies) takes one
//! run: the global trace costs what the local one does. [`TraceInfo::paths`] reports the
//! paths traced.
//!
//! # What is computed, exactly
//!
//! *First-order sets.* `S(xᵢ) = {i}`, `S(c) = ∅` for constants, and for every operation
//! `S(φ(a, b)) = S(a) ∪ S(b)`, except for operations whose result does not depend on their
//! argument at all (`x⁰`, `0·x`, `0/x`, `signum`), which give constants. The Jacobian
//! pattern has row k = `S(y_k)`.
//!
//! *Second-order contributions.* Each operation v contributes pairs `T(v)` according to its
//! [`Curvature`](crate::Curvature):
//!
//! | operation | class | `T(v)` |
//! |---|---|---|
//! | `a ± b`, `−a`, `a + c`, `c·a`, `a / c`, `abs`, `%`, `x¹` | Linear | ∅ |
//! | `a·b` | Bilinear | `S(a)×S(b)` |
//! | `a / b` | NonlinearInSecond | `S(a)×S(b) ∪ S(b)×S(b)` |
//! | `φ(a)` nonlinear (`sin`, `aⁿ` with n ∉ {0, 1}, `c / a`, ...) | Nonlinear | `S(a)×S(a)` |
//! | `atan2(a, b)` | Nonlinear | `(S(a) ∪ S(b))²` |
//!
//! (a binary operation with one constant operand is the unary operation in the other, e.g.
//! `atan2(a, c)` is nonlinear in `a`, `a·c` linear). The Hessian pattern of the output y is
//! the symmetric closure of `∪ { T(v) : y depends on v }`, where "depends" is reachability
//! backwards from y through the recorded operations: values that never reach y (dead code,
//! values only compared) contribute nothing.
//!
//! This is sound: by the second-order chain rule, `∇²y = Σ_v v̄ · J_vᵀ ∇²φ_v J_v` with
//! `v̄ = ∂y/∂v` (zero unless y depends on v) and `J_v` the Jacobian of v's arguments, whose
//! rows are supported on their first-order sets; `T(v)` contains the pattern of each term.
//! So every entry outside the pattern is zero at every point with the same branches. It is
//! the exact union of the per-operation patterns (the "global" index-set rules of Walther
//! 2008, and of Hill & Dalle, TMLR 2025 / SparseConnectivityTracer.jl), which over-
//! approximates the true Hessian only where terms cancel (`x₀x₁ − x₁x₀`) or where the
//! rules ignore values (`(x₀ + x₁)·0.0` is caught, `(x₀ + x₁)·y` at `y = 0` is not).
//!
//! *The diagonal* holds exactly the entries the rules produce (`(i, i)` for `xᵢ²`, none
//! for `x₀·x₁`); it is not forced full. Call
//! [`Pattern::with_diagonal`](sparsediff_pattern::Pattern::with_diagonal) if a consumer needs
//! it.
//!
//! # Representation and cost
//!
//! First-order sets are a persistent DAG in a thread-local arena: inputs are the leaves
//! (not stored), a binary operation between two non-constant values adds one node of two
//! `u32` words (8 bytes: the two operands, and the operation's curvature class in the top
//! two bits), and a Hessian trace adds one node per nonlinear unary operation. Linear unary
//! operations and operations with a constant share their operand's node and cost nothing.
//! A running sum `s += term` is therefore one node per step, whatever the size of `S(s)`.
//!
//! Sets are only materialised when the pattern is extracted: a depth-first walk of a node's
//! sub-DAG, deduplicated with a generation-stamped mark per node, stopping at nodes whose set
//! is already materialised (every materialised set is memoised). For a Hessian, liveness is
//! one reverse sweep; each live nonlinear node becomes a record `(X, Y)` of two memoised
//! sets, standing for `X×Y ∪ Y×X`; the rows are then built from an inverted index
//! (input → records containing it), deduplicated with a stamp per column and sorted. Extraction
//! memory per node is 4 (mark) + 4 (memo) + 1 (liveness) bytes on top of the 8 of the node
//! itself, plus the materialised sets, the inverted index and the pattern. Time is that
//! of the walks plus O(nodes + Σ |X|·|Y| over records); for sums of small terms (Rosenbrock, stencil
//! energies) that is linear in n. Only outputs (Jacobians) and operands of nonlinear
//! operations (Hessians) are memoised, not every shared subexpression: m sets that each
//! contain one large shared subexpression walk it m times (1e5 outputs `xᵢ·p`, with `p` a
//! 2000-operation function of 10 inputs, take 0.7 s to extract). Memoising everything would
//! instead cost O(n²) memory on long recurrences, where the walk costs O(nodes).
//!
//! Tracing is single-threaded: [`Tracer`] is neither `Send` nor `Sync`, and a trace started
//! while another runs on the same thread returns [`TraceError::AlreadyActive`]. Problems are
//! returned as errors, not panics: bad inputs, non-finite outputs, comparisons with NaN (the
//! branch taken would be meaningless) and tracers kept from another trace. A panic of the
//! traced function itself propagates, and ends the trace.

mod error;
mod global;
mod sets;
pub(crate) use sets::Pair;
mod tracer;

pub use error::TraceError;
pub use global::{
    DEFAULT_MAX_PATHS, hessian_pattern_global, hessian_pattern_global_with_info,
    jacobian_pattern_global, jacobian_pattern_global_with_info,
};
pub use tracer::Tracer;

use sparsediff_pattern::{MAX_DIM, Pattern};

use crate::scalar::Elementary;
pub(crate) use tracer::{ID_BITS, Kind, MAX_NODES, kills};
use tracer::{NONE, Recording, Session, Steering};

/// What a trace saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TraceInfo {
    /// Number of inputs n.
    pub inputs: usize,
    /// Number of outputs (1 for a Hessian).
    pub outputs: usize,
    /// Interior DAG nodes recorded (8 bytes each during tracing). A pattern computed from
    /// a tape's compiled program ([`Tape::hessian_pattern`](crate::tape::Tape::hessian_pattern))
    /// counts the nodes of that program's DAG: fused instructions make fewer.
    pub nodes: usize,
    /// Second-order records expanded: the live nonlinear operations (0 for a Jacobian; for
    /// a compiled program, its nonlinear instructions and their nonlinear parts).
    pub second_order_records: usize,
    /// Comparisons involving the inputs that the function made. With no comparisons and
    /// no [`value_reads`](Self::value_reads), the pattern does not depend on x.
    pub comparisons: usize,
    /// Raw value reads (`DualNum::re()`) of values that depend on the inputs: a branch on
    /// such a value is followed but cannot be seen, so the pattern may hold at x only.
    pub value_reads: usize,
    /// Control-flow paths traced: 1 for a local trace; for a global one (see
    /// [`hessian_pattern_global`]) every path of the decision tree of its comparisons.
    pub paths: usize,
}

impl TraceInfo {
    /// Whether the pattern may depend on x (the function compared or read values of its
    /// inputs).
    pub fn may_branch(&self) -> bool {
        self.comparisons > 0 || self.value_reads > 0
    }
}

fn check_point(x: &[f64]) -> Result<(), TraceError> {
    if x.is_empty() {
        return Err(TraceError::EmptyInput);
    }
    if x.len() > MAX_DIM {
        return Err(TraceError::TooManyInputs {
            n: x.len(),
            limit: MAX_DIM,
        });
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(TraceError::NonFiniteInput {
            index,
            value: x[index],
        });
    }
    Ok(())
}

/// Runs `f` on tracers for `x` (steered by forced decisions in a global trace).
fn run<R>(
    x: &[f64],
    hessian: bool,
    steering: Option<Steering>,
    f: impl FnOnce(&[Tracer]) -> R,
) -> Result<(Recording, R), TraceError> {
    check_point(x)?;
    let (session, epoch) = Session::begin(x.len(), hessian, steering)?;
    let inputs: Vec<Tracer> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| Session::input(epoch, i, v))
        .collect();
    let out = f(&inputs);
    drop(inputs);
    let recording = session.finish()?;
    Ok((recording, out))
}

/// The handle of an output, checked: finite and of this trace.
fn output_handle(rec: &Recording, output: usize, y: &Tracer) -> Result<u32, TraceError> {
    let value = y.value();
    if !value.is_finite() {
        return Err(TraceError::NonFiniteOutput { output, value });
    }
    trace_handle(rec, y)
}

/// The handle of a value, checked to be of this trace (its value is not looked at).
fn trace_handle(rec: &Recording, y: &Tracer) -> Result<u32, TraceError> {
    if y.id() == NONE {
        Ok(NONE)
    } else if y.epoch() == rec.epoch {
        Ok(y.id())
    } else {
        Err(TraceError::ForeignTracer)
    }
}

fn check_comparisons(rec: &Recording) -> Result<(), TraceError> {
    match rec.nan_comparison {
        Some(comparison) => Err(TraceError::NanComparison { comparison }),
        None => Ok(()),
    }
}

/// The m×n Jacobian pattern of `f` at x (n = `x.len()`, m = number of outputs), local to
/// the branches taken at x. See the [module documentation](self) for the rules.
///
/// Errors: x empty or not finite, `f` already inside a trace, no outputs, a non-finite
/// output, a comparison with NaN, a tracer from another trace.
///
/// ```
/// use num_dual::DualNum; // sin
/// use sparsediff_ad::trace::jacobian_pattern;
/// // F = (x0 · x1, sin(x2), 3)
/// let j = jacobian_pattern(&[1.0, 2.0, 3.0], |x| {
///     vec![x[0] * x[1], x[2].sin(), x[0] * 0.0 + 3.0]
/// })?;
/// assert_eq!(j.shape(), (3, 3));
/// assert_eq!(j.row(0), &[0, 1]);
/// assert_eq!(j.row(1), &[2]);
/// assert!(j.row(2).is_empty()); // 0·x0 is a constant
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn jacobian_pattern<F>(x: &[f64], f: F) -> Result<Pattern, TraceError>
where
    F: FnOnce(&[Tracer]) -> Vec<Tracer>,
{
    jacobian_pattern_with_info(x, f).map(|(p, _)| p)
}

/// [`jacobian_pattern`] and what the trace saw.
pub fn jacobian_pattern_with_info<F>(x: &[f64], f: F) -> Result<(Pattern, TraceInfo), TraceError>
where
    F: FnOnce(&[Tracer]) -> Vec<Tracer>,
{
    let (rec, ys) = run(x, false, None, f)?;
    if ys.is_empty() {
        return Err(TraceError::NoOutputs);
    }
    let handles = ys
        .iter()
        .enumerate()
        .map(|(k, y)| output_handle(&rec, k, y))
        .collect::<Result<Vec<u32>, TraceError>>()?;
    drop(ys);
    check_comparisons(&rec)?;
    let pattern = sets::jacobian(&rec, &handles)?;
    let info = TraceInfo {
        inputs: rec.n,
        outputs: handles.len(),
        nodes: rec.nodes.len(),
        second_order_records: 0,
        comparisons: rec.comparisons,
        value_reads: rec.value_reads,
        paths: 1,
    };
    Ok((pattern, info))
}

/// The symmetric n×n Hessian pattern of the scalar function `f` at x, local to the branches
/// taken at x. The diagonal holds the entries the rules produce, no more. See the
/// [module documentation](self) for the rules.
///
/// Errors: as [`jacobian_pattern`].
///
/// ```
/// use sparsediff_ad::trace::hessian_pattern;
/// // f = x0 / x1 + 2 x2: the quotient couples x0 with x1 and x1 with itself
/// let h = hessian_pattern(&[1.0, 2.0, 3.0], |x| x[0] / x[1] + x[2] * 2.0)?;
/// assert_eq!(h.iter().collect::<Vec<_>>(), [(0, 1), (1, 0), (1, 1)]);
/// assert_eq!(h.with_diagonal().nnz(), 5); // if a consumer wants the full diagonal
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn hessian_pattern<F>(x: &[f64], f: F) -> Result<Pattern, TraceError>
where
    F: FnOnce(&[Tracer]) -> Tracer,
{
    hessian_pattern_with_info(x, f).map(|(p, _)| p)
}

/// [`hessian_pattern`] and what the trace saw.
pub fn hessian_pattern_with_info<F>(x: &[f64], f: F) -> Result<(Pattern, TraceInfo), TraceError>
where
    F: FnOnce(&[Tracer]) -> Tracer,
{
    let (rec, y) = run(x, true, None, f)?;
    let handle = output_handle(&rec, 0, &y)?;
    check_comparisons(&rec)?;
    let (pattern, records) = sets::hessian(&rec, Some(handle))?;
    let info = TraceInfo {
        inputs: rec.n,
        outputs: 1,
        nodes: rec.nodes.len(),
        second_order_records: records,
        comparisons: rec.comparisons,
        value_reads: rec.value_reads,
        paths: 1,
    };
    Ok((pattern, info))
}

/// The Hessian pattern of a sum of trace nodes `n..n + nodes.len()` (each node two
/// children and a [`Kind`](tracer::Kind), as the tracer records them; every node
/// contributes), with the trace information of a branch-free trace: what a tape's
/// compiled program gives (`tape/segmented/pattern.rs`).
pub(crate) fn hessian_of_nodes(
    n: usize,
    nodes: Vec<[u32; 2]>,
) -> Result<(Pattern, TraceInfo), TraceError> {
    let rec = Recording {
        epoch: 0,
        n,
        nodes,
        comparisons: 0,
        nan_comparison: None,
        value_reads: 0,
        steering: None,
    };
    let (pattern, records) = sets::hessian(&rec, None)?;
    Ok((pattern, branch_free_info(n, rec.nodes.len(), records)))
}

/// What a branch-free trace of a scalar function with `n` inputs saw, given its node and
/// second-order record counts.
fn branch_free_info(n: usize, nodes: usize, records: usize) -> TraceInfo {
    TraceInfo {
        inputs: n,
        outputs: 1,
        nodes,
        second_order_records: records,
        comparisons: 0,
        value_reads: 0,
        paths: 1,
    }
}

/// [`hessian_of_nodes`] from the nodes' sets and second-order records, built without the
/// node list (see `tape/segmented/pattern.rs`): `nodes` trace nodes made them.
pub(crate) fn hessian_of_sets(
    n: usize,
    nodes: usize,
    records: &[Pair],
    starts: &[u32],
    pool: &[u32],
    spare: &mut crate::memory::Spare,
) -> Result<(Pattern, TraceInfo), TraceError> {
    let pattern = sets::pattern_of_records(n, records, starts, pool, spare)?;
    Ok((pattern, branch_free_info(n, nodes, records.len())))
}

/// Relative radius of the perturbations of the `*_conservative` functions: coordinate i
/// moves by up to `CONSERVATIVE_RADIUS · max(1, |x0ᵢ|)`.
pub const CONSERVATIVE_RADIUS: f64 = 0.1;

/// A small seeded generator (SplitMix64): reproducible across platforms and releases.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    fn symmetric(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
    }

    fn perturb(&mut self, x0: &[f64], radius: f64, out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            x0.iter()
                .map(|&v| v + radius * v.abs().max(1.0) * self.symmetric()),
        );
    }
}

/// The points the `*_conservative` functions trace at besides x0: `points` independent
/// perturbations `x0ᵢ + radius · max(1, |x0ᵢ|) · uᵢ`, with `uᵢ` uniform in [−1, 1) from a
/// generator seeded by `seed`.
///
/// ```
/// use sparsediff_ad::trace::perturbed_points;
/// let p = perturbed_points(&[0.0, 10.0], 3, 0.1, 7);
/// assert_eq!(p.len(), 3);
/// assert!(p.iter().all(|q| q[0].abs() <= 0.1 && (q[1] - 10.0).abs() <= 1.0));
/// assert_eq!(p, perturbed_points(&[0.0, 10.0], 3, 0.1, 7)); // reproducible
/// ```
pub fn perturbed_points(x0: &[f64], points: usize, radius: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = SplitMix64(seed);
    (0..points)
        .map(|_| {
            let mut p = Vec::with_capacity(x0.len());
            rng.perturb(x0, radius, &mut p);
            p
        })
        .collect()
}

/// Attributes an error to point k (reentrancy stays a plain error: no point is at fault).
fn at_point(point: usize, e: TraceError) -> TraceError {
    match e {
        TraceError::AlreadyActive => e,
        e => TraceError::AtPoint {
            point,
            source: Box::new(e),
        },
    }
}

/// Unions the patterns traced at each point that `next` writes (returning false when done).
fn union_over(
    n: usize,
    mut next: impl FnMut(&mut Vec<f64>) -> bool,
    mut pattern_at: impl FnMut(&[f64]) -> Result<Pattern, TraceError>,
) -> Result<Pattern, TraceError> {
    let mut x = Vec::with_capacity(n);
    let mut acc: Option<Pattern> = None;
    let mut point = 0;
    while next(&mut x) {
        if x.len() != n {
            return Err(TraceError::InputLengthChanged {
                point,
                expected: n,
                found: x.len(),
            });
        }
        let p = pattern_at(&x).map_err(|e| at_point(point, e))?;
        acc = Some(match acc {
            None => p,
            Some(a) => {
                if a.nrows() != p.nrows() {
                    return Err(TraceError::OutputCountChanged {
                        point,
                        expected: a.nrows(),
                        found: p.nrows(),
                    });
                }
                a.union(&p)?
            }
        });
        point += 1;
    }
    acc.ok_or(TraceError::NoPoints)
}

/// The union of the local Jacobian patterns at every point of `points` (all of the same
/// length): a pattern valid wherever `f` takes one of the branch combinations seen.
///
/// Errors: [`TraceError::NoPoints`], [`TraceError::InputLengthChanged`],
/// [`TraceError::OutputCountChanged`], and any error of [`jacobian_pattern`] wrapped in
/// [`TraceError::AtPoint`].
///
/// ```
/// use sparsediff_ad::trace::jacobian_pattern_union;
/// // F = max(x0, x1): depends on whichever is larger
/// let f = |x: &[sparsediff_ad::trace::Tracer]| vec![if x[0] > x[1] { x[0] } else { x[1] }];
/// let j = jacobian_pattern_union(&[[1.0, 0.0], [0.0, 1.0]], f)?;
/// assert_eq!(j.row(0), &[0, 1]);
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn jacobian_pattern_union<P, F>(points: &[P], f: F) -> Result<Pattern, TraceError>
where
    P: AsRef<[f64]>,
    F: Fn(&[Tracer]) -> Vec<Tracer>,
{
    let n = points.first().map_or(0, |p| p.as_ref().len());
    let mut it = points.iter();
    union_over(
        n,
        |x| {
            it.next().is_some_and(|p| {
                x.clear();
                x.extend_from_slice(p.as_ref());
                true
            })
        },
        |x| jacobian_pattern(x, &f),
    )
}

/// The union of the local Hessian patterns at every point of `points`; see
/// [`jacobian_pattern_union`].
pub fn hessian_pattern_union<P, F>(points: &[P], f: F) -> Result<Pattern, TraceError>
where
    P: AsRef<[f64]>,
    F: Fn(&[Tracer]) -> Tracer,
{
    let n = points.first().map_or(0, |p| p.as_ref().len());
    let mut it = points.iter();
    union_over(
        n,
        |x| {
            it.next().is_some_and(|p| {
                x.clear();
                x.extend_from_slice(p.as_ref());
                true
            })
        },
        |x| hessian_pattern(x, &f),
    )
}

/// Point 0 is x0, points 1..=`points` the perturbations of [`perturbed_points`] with radius
/// [`CONSERVATIVE_RADIUS`] (generated one at a time, not stored).
fn conservative_points(
    x0: &[f64],
    points: usize,
    seed: u64,
) -> Result<impl FnMut(&mut Vec<f64>) -> bool + '_, TraceError> {
    check_point(x0)?;
    let mut rng = SplitMix64(seed);
    let mut k = 0;
    Ok(move |x: &mut Vec<f64>| {
        let more = k <= points;
        if k == 0 {
            x.clear();
            x.extend_from_slice(x0);
        } else if more {
            rng.perturb(x0, CONSERVATIVE_RADIUS, x);
        }
        k += 1;
        more
    })
}

/// A conservative Jacobian pattern: the union of the local patterns at x0 and at `points`
/// seeded random perturbations of it ([`perturbed_points`] with [`CONSERVATIVE_RADIUS`]).
/// For a function with branches this is a pattern valid near x0 with high probability
/// (every branch combination that some sample takes is included); `points = 0` is
/// [`jacobian_pattern`].
///
/// Errors: as [`jacobian_pattern_union`]; `f` must be finite at the perturbed points too
/// (otherwise choose the points with [`jacobian_pattern_union`]).
///
/// ```
/// use sparsediff_ad::trace::{jacobian_pattern, jacobian_pattern_conservative};
/// // F = 2 x0 if x0 > 0 else x1: x0 = 0.01 lies near the switch
/// let f = |x: &[sparsediff_ad::trace::Tracer]| vec![if x[0] > 0.0 { x[0] * 2.0 } else { x[1] }];
/// assert_eq!(jacobian_pattern(&[0.01, 1.0], f)?.row(0), &[0]);
/// assert_eq!(jacobian_pattern_conservative(&[0.01, 1.0], 16, 1, f)?.row(0), &[0, 1]);
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn jacobian_pattern_conservative<F>(
    x0: &[f64],
    points: usize,
    seed: u64,
    f: F,
) -> Result<Pattern, TraceError>
where
    F: Fn(&[Tracer]) -> Vec<Tracer>,
{
    let next = conservative_points(x0, points, seed)?;
    union_over(x0.len(), next, |x| jacobian_pattern(x, &f))
}

/// A conservative Hessian pattern: the union of the local patterns at x0 and at `points`
/// seeded random perturbations of it; see [`jacobian_pattern_conservative`].
///
/// ```
/// use num_dual::DualNum; // powi
/// use sparsediff_ad::trace::{hessian_pattern, hessian_pattern_conservative, Tracer};
/// let f = |x: &[Tracer]| if x[0] > 0.0 { x[0] * x[1] } else { x[1].powi(2) };
/// assert_eq!(hessian_pattern(&[0.01, 1.0], f)?.nnz(), 2); // (0, 1), (1, 0)
/// assert_eq!(hessian_pattern_conservative(&[0.01, 1.0], 16, 1, f)?.nnz(), 3); // + (1, 1)
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
pub fn hessian_pattern_conservative<F>(
    x0: &[f64],
    points: usize,
    seed: u64,
    f: F,
) -> Result<Pattern, TraceError>
where
    F: Fn(&[Tracer]) -> Tracer,
{
    let next = conservative_points(x0, points, seed)?;
    union_over(x0.len(), next, |x| hessian_pattern(x, &f))
}
