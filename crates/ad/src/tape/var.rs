//! The tape variable and the thread-local recorder it writes to.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::atomic::{AtomicU32, Ordering as AtomicOrdering};

use super::TapeError;
use super::program::{Code, Guard, NONE, Operand};
use crate::op::{Binary, Unary};
use crate::scalar::Elementary;

/// Node index of a variable computed outside its recording (its derivatives are lost).
const POISON: u32 = u32::MAX - 1;
/// Largest number of nodes (inputs plus instructions) of one tape.
pub(crate) const MAX_NODES: usize = (u32::MAX - 2) as usize;

/// Source of recording identifiers, unique across threads (0 marks constants).
static NEXT_RECORDING: AtomicU32 = AtomicU32::new(1);

/// A scalar of a recording: a value and, unless it is a constant, the tape node that
/// computed it.
///
/// Operations on constants only produce constants and record nothing; an operation with a
/// constant on one side records a single constant-carrying [`Unary`] instruction (`c − x`
/// is `SubFromConst(c)`, `x · c` is `MulConst(c)`, ...); identities (`x + 0`, `x · 1`,
/// `x¹`) record nothing at all. Comparisons involving a variable are recorded as branch
/// guards (see [`Tape`](super::Tape)).
///
/// A variable belongs to the recording that created it: used in another recording it makes
/// that recording fail with [`TapeError::ForeignVariable`].
#[derive(Debug, Clone, Copy)]
pub struct TapeVar {
    value: f64,
    node: u32,
    recording: u32,
}

impl TapeVar {
    /// Whether this is a constant (depends on no input).
    pub fn is_constant(self) -> bool {
        self.recording == 0
    }

    /// The tape node of a variable (inputs are nodes `0..n`, instruction k is node
    /// `n + k`); `None` for constants.
    pub fn node(self) -> Option<usize> {
        match self.node {
            NONE | POISON => None,
            v => Some(v as usize),
        }
    }

    pub(crate) fn input(value: f64, node: u32, recording: u32) -> TapeVar {
        TapeVar {
            value,
            node,
            recording,
        }
    }

    fn operand(self) -> Operand {
        if self.is_constant() {
            Operand::Const(self.value)
        } else {
            Operand::Node(self.node)
        }
    }
}

/// What a recording accumulates.
pub(crate) struct Recorder {
    pub(crate) recording: u32,
    pub(crate) n: usize,
    pub(crate) code: Vec<Code>,
    pub(crate) args: Vec<[u32; 2]>,
    /// The constants of the instructions that have one ([`Code::has_constant`]); such an
    /// instruction's second argument is its constant's index here.
    pub(crate) consts: Vec<f64>,
    pub(crate) guards: Vec<Guard>,
    /// Raw value reads (`re()`) of variables during the recording.
    pub(crate) value_reads: usize,
    /// Some comparison (of constants too) had a NaN operand.
    pub(crate) nan_comparison: bool,
    /// Some instruction multiplies its argument by 0 or divides 0 by it (`0·x`, `0/x`, or
    /// `x/±∞` recorded as `x·0`): a constant for the sparsity tracer.
    pub(crate) kills: bool,
    pub(crate) error: Option<TapeError>,
}

impl Recorder {
    /// Whether `v` may be used in this recording (constants always may); records the error
    /// otherwise.
    #[inline]
    fn admit(&mut self, v: TapeVar) -> bool {
        if v.is_constant() || (v.recording == self.recording && v.node != POISON) {
            return true;
        }
        if self.error.is_none() {
            self.error = Some(TapeError::ForeignVariable);
        }
        false
    }

    // `#[inline]` here and along the recording path (`admit`, `record_binary`,
    // `Elementary for TapeVar`, ...): the user's function is compiled in the user's crate,
    // where these non-generic functions were calls. The 1e6 grid's recording: 158–172 →
    // 145–147 ms (fat LTO, which inlines across crates anyway: 115–120 ms).
    #[inline]
    fn push(&mut self, code: Code, a: u32, b: u32, c: f64, value: f64) -> TapeVar {
        let node = self.n + self.code.len();
        if node >= MAX_NODES {
            if self.error.is_none() {
                self.error = Some(TapeError::TooLarge { nodes: node + 1 });
            }
            return self.poisoned(value);
        }
        // Only instructions with a constant store one, its index in place of the second
        // argument (they have one argument): most instructions have none, and a constant
        // per instruction was 8 of the 17 bytes a recorded instruction takes (64 MB for
        // the 1e6 Rosenbrock), written here and read by every compile pass.
        let b = if code.has_constant() {
            self.kills |= c == 0.0 && matches!(code, Code::MulC | Code::DivC);
            self.consts.push(c);
            (self.consts.len() - 1) as u32
        } else {
            b
        };
        self.code.push(code);
        self.args.push([a, b]);
        TapeVar {
            value,
            node: node as u32,
            recording: self.recording,
        }
    }

    #[inline]
    fn poisoned(&self, value: f64) -> TapeVar {
        TapeVar {
            value,
            node: POISON,
            recording: self.recording,
        }
    }

    /// A constant as a node (for binary operations without a constant-carrying form).
    #[inline]
    fn materialise(&mut self, c: f64) -> TapeVar {
        self.push(Code::Const, NONE, NONE, c, c)
    }
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

/// Runs `f` with the active recorder of this thread, if any.
#[inline]
fn with_recorder<R>(f: impl FnOnce(Option<&mut Recorder>) -> R) -> R {
    RECORDER.with(|r| f(r.borrow_mut().as_mut()))
}

/// Removes the recorder when the recording ends, also by a panic of the user function.
pub(crate) struct ActiveRecording {
    _private: (),
}

impl ActiveRecording {
    /// Starts a recording with `n` inputs, unless one is active on this thread.
    pub(crate) fn start(n: usize) -> Result<(ActiveRecording, u32), TapeError> {
        if n > MAX_NODES {
            return Err(TapeError::TooLarge { nodes: n });
        }
        RECORDER.with(|r| {
            let mut r = r.borrow_mut();
            if r.is_some() {
                return Err(TapeError::RecordingActive);
            }
            let mut recording = NEXT_RECORDING.fetch_add(1, AtomicOrdering::Relaxed);
            if recording == 0 {
                // Wrapped around after 2³² recordings.
                recording = NEXT_RECORDING.fetch_add(1, AtomicOrdering::Relaxed);
            }
            *r = Some(Recorder {
                recording,
                n,
                code: Vec::new(),
                args: Vec::new(),
                consts: Vec::new(),
                guards: Vec::new(),
                value_reads: 0,
                nan_comparison: false,
                kills: false,
                error: None,
            });
            Ok((ActiveRecording { _private: () }, recording))
        })
    }

    /// Ends the recording, turning the outputs into nodes (constants are materialised).
    pub(crate) fn finish(self, outputs: &[TapeVar]) -> Result<(Recorder, Vec<u32>), TapeError> {
        let rec = RECORDER.with(|r| r.borrow_mut().take());
        std::mem::forget(self);
        let Some(mut rec) = rec else {
            // Cannot happen: the recorder is only taken here and in `drop`.
            return Err(TapeError::RecordingActive);
        };
        let mut nodes = Vec::with_capacity(outputs.len());
        for &o in outputs {
            if !rec.admit(o) {
                break;
            }
            let o = if o.is_constant() {
                rec.materialise(o.value)
            } else {
                o
            };
            nodes.push(o.node);
        }
        match rec.error.take() {
            Some(e) => Err(e),
            None => Ok((rec, nodes)),
        }
    }
}

impl Drop for ActiveRecording {
    fn drop(&mut self) {
        // Only reached when the user function panicked: forget the partial recording.
        // `try_with` because the thread may be tearing down its locals.
        let _ = RECORDER.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                *r = None;
            }
        });
    }
}

#[inline]
fn record_unary(x: TapeVar, op: Unary, value: f64) -> TapeVar {
    with_recorder(|rec| match rec {
        Some(rec) => {
            if rec.admit(x) {
                let (code, c) = Code::of_unary(op);
                rec.push(code, x.node, NONE, c, value)
            } else {
                rec.poisoned(value)
            }
        }
        None => TapeVar {
            value,
            node: POISON,
            recording: x.recording,
        },
    })
}

#[inline]
fn record_binary(a: TapeVar, op: Binary, b: TapeVar, value: f64) -> TapeVar {
    with_recorder(|rec| match rec {
        Some(rec) => {
            if !(rec.admit(a) && rec.admit(b)) {
                return rec.poisoned(value);
            }
            let a = if a.is_constant() {
                rec.materialise(a.value)
            } else {
                a
            };
            let b = if b.is_constant() {
                rec.materialise(b.value)
            } else {
                b
            };
            rec.push(Code::of_binary(op), a.node, b.node, 0.0, value)
        }
        None => TapeVar {
            value,
            node: POISON,
            recording: a.recording.max(b.recording),
        },
    })
}

impl Elementary for TapeVar {
    #[inline]
    fn value(self) -> f64 {
        self.value
    }

    #[inline]
    fn constant(value: f64) -> Self {
        TapeVar {
            value,
            node: NONE,
            recording: 0,
        }
    }

    #[inline]
    fn unary(self, op: Unary) -> Self {
        let value = op.eval(self.value).0;
        if self.is_constant() {
            return TapeVar::constant(value);
        }
        match op {
            Unary::Powi(1) => return self,
            Unary::AddConst(0.0) => return self,
            Unary::MulConst(c) | Unary::Powf(c) if c == 1.0 => return self,
            Unary::Powi(0) => return TapeVar::constant(1.0),
            Unary::Powf(0.0) => return TapeVar::constant(1.0),
            _ => {}
        }
        record_unary(self, op, value)
    }

    #[inline]
    fn binary(self, op: Binary, other: Self) -> Self {
        let (a, b) = (self.value, other.value);
        match (self.is_constant(), other.is_constant()) {
            (true, true) => TapeVar::constant(op.eval(a, b).0),
            (false, true) => match op {
                Binary::Add => self.unary(Unary::AddConst(b)),
                Binary::Sub => self.unary(Unary::AddConst(-b)),
                Binary::Mul => self.unary(Unary::MulConst(b)),
                Binary::Div => self.unary(Unary::MulConst(1.0 / b)),
                Binary::Rem => self.unary(Unary::RemConst(b)),
                Binary::Atan2 => record_binary(self, op, other, op.eval(a, b).0),
            },
            (true, false) => match op {
                Binary::Add => other.unary(Unary::AddConst(a)),
                Binary::Sub if a == 0.0 => other.unary(Unary::Neg),
                Binary::Sub => other.unary(Unary::SubFromConst(a)),
                Binary::Mul => other.unary(Unary::MulConst(a)),
                Binary::Div if a == 1.0 => other.unary(Unary::Recip),
                Binary::Div => other.unary(Unary::DivConst(a)),
                Binary::Rem => other.unary(Unary::ConstRem(a)),
                Binary::Atan2 => record_binary(self, op, other, op.eval(a, b).0),
            },
            (false, false) => record_binary(self, op, other, op.eval(a, b).0),
        }
    }

    fn observe_value_read(self) {
        if self.is_constant() {
            return;
        }
        with_recorder(|rec| {
            if let Some(rec) = rec {
                rec.value_reads += 1;
            }
        });
    }

    fn observe_comparison(self, other: Option<Self>, rhs: f64, outcome: Option<Ordering>) {
        let other = other.unwrap_or(TapeVar::constant(rhs));
        if outcome.is_none() {
            // A NaN operand (the sparsity tracer refuses such a trace: see
            // `Tape::hessian_pattern`).
            with_recorder(|rec| {
                if let Some(rec) = rec {
                    rec.nan_comparison = true;
                }
            });
        }
        if self.is_constant() && other.is_constant() {
            return;
        }
        with_recorder(|rec| {
            if let Some(rec) = rec
                && rec.admit(self)
                && rec.admit(other)
            {
                let pos = rec.code.len() as u32;
                rec.guards.push(Guard {
                    pos,
                    lhs: self.operand(),
                    rhs: other.operand(),
                    outcome,
                });
            }
        });
    }
}

crate::impl_dual_num!(TapeVar);
