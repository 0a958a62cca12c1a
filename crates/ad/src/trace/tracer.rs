//! The [`Tracer`] scalar and the thread-local arena it records into.
//!
//! The arena is the persistent DAG of first-order index sets: inputs are the leaves
//! `0..n` (never stored), every other node is two `u32` words — its two children and, in the
//! two top bits of the first word, what kind of operation made it ([`Kind`]). A node's
//! first-order set is the union of its children's sets; Hessian traces also read the kind to
//! know which second-order interactions the operation contributes.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};

use crate::op::{Binary, Curvature, Unary};
use crate::scalar::{Comparison, Elementary};

use super::error::TraceError;

/// Handle of a value that depends on no input.
pub(crate) const NONE: u32 = u32::MAX;
/// Bits of a node word that hold a handle; the two top bits hold the [`Kind`].
pub(crate) const ID_BITS: u32 = 30;
pub(crate) const ID_MASK: u32 = (1 << ID_BITS) - 1;
/// Handles (inputs plus recorded nodes) must stay below this.
pub(crate) const MAX_NODES: usize = 1 << ID_BITS;

/// What made a node: decides its second-order contribution (its first-order set is always
/// the union of its children's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Kind {
    /// A linear binary operation (`+`, `−`, `%`): no second-order contribution.
    Union = 0,
    /// `a·b`: S(a)×S(b).
    Bilinear = 1,
    /// `a / b`: S(a)×S(b) ∪ S(b)×S(b).
    NonlinearInSecond = 2,
    /// A nonlinear unary operation (both children equal) or binary one: S(node)².
    Nonlinear = 3,
}

impl Kind {
    #[inline]
    pub(crate) fn of(word: u32) -> Kind {
        match word >> ID_BITS {
            0 => Kind::Union,
            1 => Kind::Bilinear,
            2 => Kind::NonlinearInSecond,
            _ => Kind::Nonlinear,
        }
    }
}

/// A sparsity-tracing scalar: the value at the traced point plus a handle to the index set
/// of the inputs it depends on (constants carry none).
///
/// It implements `num_dual::DualNum<Primitive = f64>`, so functions written once, generic
/// over the scalar, run on it unchanged; comparisons compare the values, so the trace
/// follows the branches taken at the traced point. Create tracers only through
/// [`jacobian_pattern`](super::jacobian_pattern), [`hessian_pattern`](super::hessian_pattern)
/// and their variants (or as constants); a tracer is only meaningful during the trace that
/// made it, and is neither `Send` nor `Sync` (work done on another thread could not be
/// recorded).
///
/// Size: 16 bytes (value, handle, trace id).
///
/// ```
/// use num_dual::DualNum;
/// use sparsediff_ad::trace::{Tracer, hessian_pattern};
///
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
///     x[0] * x[1] + x[2].sin()
/// }
/// let h = hessian_pattern(&[1.0, 2.0, 3.0], |x: &[Tracer]| f(x))?;
/// let entries: Vec<_> = h.iter().collect();
/// assert_eq!(entries, [(0, 1), (1, 0), (2, 2)]); // x0·x1 is bilinear, sin is not
/// # Ok::<(), sparsediff_ad::trace::TraceError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Tracer {
    value: f64,
    id: u32,
    epoch: u32,
    /// Neither `Send` nor `Sync`: the arena is thread-local.
    _thread: PhantomData<*const ()>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.id == NONE {
            write!(f, "Tracer({}, constant)", self.value)
        } else {
            write!(f, "Tracer({}, node {})", self.value, self.id)
        }
    }
}

impl Tracer {
    #[inline]
    fn with(value: f64, id: u32, epoch: u32) -> Tracer {
        Tracer {
            value,
            id,
            epoch,
            _thread: PhantomData,
        }
    }

    /// Whether this value is a constant (depends on no input, as far as the trace knows).
    ///
    /// ```
    /// use sparsediff_ad::Elementary;
    /// use sparsediff_ad::trace::Tracer;
    /// assert!(Tracer::constant(2.0).is_constant());
    /// ```
    pub fn is_constant(&self) -> bool {
        self.id == NONE
    }

    #[inline]
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    #[inline]
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }
}

/// The forced decisions of one run of a global trace (see [`super::global`]): the
/// comparisons that involve the inputs answer as forced on a prefix of the run, by their
/// values after it.
#[derive(Debug, Default)]
pub(crate) struct Steering {
    /// Answer and number of answers of the first comparisons, forced.
    pub(crate) forced: Vec<(u8, u8)>,
    /// Every decision of this run (answer, number of answers), the forced ones first.
    pub(crate) taken: Vec<(u8, u8)>,
    /// Decisions recorded at most (beyond, the run goes on by values, unrecorded).
    pub(crate) limit: usize,
    /// More than `limit` decisions were needed.
    pub(crate) overflow: bool,
    /// The first forced comparison that asked another question than on the path that
    /// forced it (the function is not deterministic).
    pub(crate) diverged: Option<usize>,
}

impl Steering {
    /// The answer to comparison number `k` of the run, as an ordering that gives it.
    fn decide(
        &mut self,
        k: usize,
        question: Comparison,
        natural: Option<Ordering>,
    ) -> Option<Ordering> {
        let arity = question.answers();
        let mut answer = question.answer(natural);
        if let Some(&(forced, forced_arity)) = self.forced.get(k) {
            if forced_arity == arity {
                answer = forced;
            } else if self.diverged.is_none() {
                self.diverged = Some(k);
            }
        }
        if self.taken.len() < self.limit {
            self.taken.push((answer, arity));
        } else {
            // Past the budget the trace fails whatever the run does. Answering at random
            // (seeded by the comparison's number) ends a loop that the values left by a
            // forced path would never end, as long as some answer of a comparison in it
            // exits: the run ends, and the error comes back.
            self.overflow = true;
            let mut z = (k as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            answer = ((z ^ (z >> 31)) % u64::from(arity)) as u8;
        }
        question.outcome(answer)
    }
}

/// The recording state of one thread.
struct Arena {
    /// Id of the running trace; 0 when no trace is active.
    epoch: u32,
    /// Number of inputs (leaves `0..n`).
    n: u32,
    /// Record second-order information (node kinds, nonlinear unary nodes)?
    hessian: bool,
    /// Interior nodes; node `n + k` is `nodes[k]`.
    nodes: Vec<[u32; 2]>,
    /// A tracer of another trace was used.
    foreign: bool,
    /// More than [`MAX_NODES`] nodes were needed.
    overflow: bool,
    comparisons: usize,
    nan_comparison: Option<usize>,
    /// Raw value reads (`re()`) of non-constant tracers.
    value_reads: usize,
    /// Forced decisions (global traces only).
    steering: Option<Steering>,
}

impl Arena {
    const INACTIVE: Arena = Arena {
        epoch: 0,
        n: 0,
        hessian: false,
        nodes: Vec::new(),
        foreign: false,
        overflow: false,
        comparisons: 0,
        nan_comparison: None,
        value_reads: 0,
        steering: None,
    };

    /// The handle of `t` in this trace, or [`NONE`] for constants and foreign tracers
    /// (which are flagged).
    #[inline]
    fn handle(&mut self, t: Tracer) -> u32 {
        if t.id == NONE {
            NONE
        } else if t.epoch == self.epoch && self.epoch != 0 {
            t.id
        } else {
            // Outside any trace nothing can be reported; inside one it is an error.
            self.foreign |= self.epoch != 0;
            NONE
        }
    }

    #[inline]
    fn push(&mut self, kind: Kind, a: u32, b: u32) -> u32 {
        let id = self.n as usize + self.nodes.len();
        if id >= MAX_NODES {
            self.overflow = true;
            return NONE;
        }
        self.nodes.push([a | ((kind as u32) << ID_BITS), b]);
        id as u32
    }

    fn unary(&mut self, x: Tracer) -> u32 {
        let a = self.handle(x);
        if a == NONE || !self.hessian {
            a
        } else {
            self.push(Kind::Nonlinear, a, a)
        }
    }

    fn binary(&mut self, x: Tracer, op: Binary, y: Tracer) -> u32 {
        let (a, b) = (self.handle(x), self.handle(y));
        match (a, b) {
            (NONE, NONE) => NONE,
            (a, NONE) => match op {
                // x ∘ c: linear in x except atan2(x, c)
                Binary::Atan2 if self.hessian => self.push(Kind::Nonlinear, a, a),
                Binary::Mul if y.value == 0.0 => NONE,
                _ => a,
            },
            (NONE, b) => match op {
                // c ∘ y: c / y and atan2(c, y) are nonlinear in y
                Binary::Mul | Binary::Div if x.value == 0.0 => NONE,
                Binary::Div | Binary::Atan2 if self.hessian => self.push(Kind::Nonlinear, b, b),
                _ => b,
            },
            (a, b) => {
                let curvature = if self.hessian {
                    op.curvature()
                } else {
                    Curvature::Linear
                };
                match curvature {
                    Curvature::Linear if a == b => a,
                    Curvature::Linear => self.push(Kind::Union, a, b),
                    Curvature::Bilinear => self.push(Kind::Bilinear, a, b),
                    Curvature::NonlinearInSecond => self.push(Kind::NonlinearInSecond, a, b),
                    Curvature::Nonlinear => self.push(Kind::Nonlinear, a, b),
                }
            }
        }
    }
}

thread_local! {
    static ARENA: RefCell<Arena> = const { RefCell::new(Arena::INACTIVE) };
}

/// Trace ids are unique across threads (0 means "no trace").
static NEXT_EPOCH: AtomicU32 = AtomicU32::new(1);

fn next_epoch() -> u32 {
    loop {
        let e = NEXT_EPOCH.fetch_add(1, AtomicOrdering::Relaxed);
        if e != 0 {
            return e;
        }
    }
}

/// Whether a unary operation's result is constant whatever its argument (derivative
/// identically zero): x⁰, 0·x, 0/x.
#[inline]
pub(crate) fn kills(op: Unary) -> bool {
    match op {
        Unary::Powi(0) => true,
        Unary::Powf(a) | Unary::MulConst(a) | Unary::DivConst(a) => a == 0.0,
        _ => false,
    }
}

impl Elementary for Tracer {
    #[inline]
    fn value(self) -> f64 {
        self.value
    }

    #[inline]
    fn constant(value: f64) -> Self {
        Tracer::with(value, NONE, 0)
    }

    #[inline]
    fn unary(self, op: Unary) -> Self {
        let value = op.eval(self.value).0;
        if self.id == NONE || kills(op) {
            return Tracer::constant(value);
        }
        if op.curvature() == Curvature::Linear {
            // Same set, no second-order contribution: share the handle (a foreign handle is
            // caught wherever it is used next: a binary operation, a nonlinear one, an output).
            return Tracer::with(value, self.id, self.epoch);
        }
        ARENA
            .try_with(|arena| {
                let mut arena = arena.borrow_mut();
                let id = arena.unary(self);
                Tracer::with(value, id, arena.epoch)
            })
            .unwrap_or(Tracer::constant(value))
    }

    #[inline]
    fn binary(self, op: Binary, other: Self) -> Self {
        let value = op.eval(self.value, other.value).0;
        if self.id == NONE && other.id == NONE {
            return Tracer::constant(value);
        }
        ARENA
            .try_with(|arena| {
                let mut arena = arena.borrow_mut();
                let id = arena.binary(self, op, other);
                Tracer::with(value, id, arena.epoch)
            })
            .unwrap_or(Tracer::constant(value))
    }

    fn observe_comparison(self, other: Option<Self>, rhs: f64, outcome: Option<Ordering>) {
        self.decide_comparison(other, rhs, Comparison::PartialCmp, outcome);
    }

    fn decide_comparison(
        self,
        other: Option<Self>,
        rhs: f64,
        question: Comparison,
        natural: Option<Ordering>,
    ) -> Option<Ordering> {
        let _ = rhs;
        // Only comparisons that involve the inputs can make the pattern depend on x.
        let variable = self.id != NONE || other.is_some_and(|o| o.id != NONE);
        ARENA
            .try_with(|arena| {
                let mut arena = arena.borrow_mut();
                if arena.epoch == 0 {
                    return natural;
                }
                if natural.is_none() && arena.nan_comparison.is_none() {
                    arena.nan_comparison = Some(arena.comparisons);
                }
                if !variable {
                    return natural;
                }
                let k = arena.comparisons;
                arena.comparisons += 1;
                match arena.steering.as_mut() {
                    Some(steering) => steering.decide(k, question, natural),
                    None => natural,
                }
            })
            .unwrap_or(natural)
    }

    fn observe_value_read(self) {
        if self.id == NONE {
            return;
        }
        let _ = ARENA.try_with(|arena| {
            let mut arena = arena.borrow_mut();
            if arena.epoch != 0 {
                arena.value_reads += 1;
            }
        });
    }
}

crate::impl_dual_num!(Tracer);

/// What a finished trace recorded.
pub(crate) struct Recording {
    pub(crate) epoch: u32,
    pub(crate) n: usize,
    pub(crate) nodes: Vec<[u32; 2]>,
    pub(crate) comparisons: usize,
    /// Index of the first comparison that involved a NaN.
    pub(crate) nan_comparison: Option<usize>,
    pub(crate) value_reads: usize,
    /// The decisions of a global run.
    pub(crate) steering: Option<Steering>,
}

/// An active trace on this thread; dropping it (also on unwinding out of the user's
/// function) deactivates the arena.
pub(crate) struct Session {
    _thread: PhantomData<*const ()>,
}

impl Session {
    /// Starts a trace with `n` inputs; `Err(AlreadyActive)` if one is running.
    pub(crate) fn begin(
        n: usize,
        hessian: bool,
        steering: Option<Steering>,
    ) -> Result<(Session, u32), TraceError> {
        debug_assert!(n < MAX_NODES);
        ARENA.with(|arena| {
            let mut arena = arena.borrow_mut();
            if arena.epoch != 0 {
                return Err(TraceError::AlreadyActive);
            }
            let epoch = next_epoch();
            *arena = Arena {
                epoch,
                n: n as u32,
                hessian,
                steering,
                ..Arena::INACTIVE
            };
            Ok((
                Session {
                    _thread: PhantomData,
                },
                epoch,
            ))
        })
    }

    /// The tracer of input `i`.
    pub(crate) fn input(epoch: u32, i: usize, value: f64) -> Tracer {
        Tracer::with(value, i as u32, epoch)
    }

    /// Ends the trace: its recording, or the error it ran into (NaN comparisons are left
    /// to the caller, which checks the outputs first).
    pub(crate) fn finish(self) -> Result<Recording, TraceError> {
        let arena =
            ARENA.with(|arena| std::mem::replace(&mut *arena.borrow_mut(), Arena::INACTIVE));
        if arena.overflow {
            return Err(TraceError::TooManyOperations { limit: MAX_NODES });
        }
        if arena.foreign {
            return Err(TraceError::ForeignTracer);
        }
        Ok(Recording {
            epoch: arena.epoch,
            n: arena.n as usize,
            nodes: arena.nodes,
            comparisons: arena.comparisons,
            nan_comparison: arena.nan_comparison,
            value_reads: arena.value_reads,
            steering: arena.steering,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // After `finish` this finds the arena already inactive; on unwinding it resets it.
        let _ = ARENA.try_with(|arena| {
            if let Ok(mut arena) = arena.try_borrow_mut() {
                *arena = Arena::INACTIVE;
            }
        });
    }
}
