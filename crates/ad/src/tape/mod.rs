//! Reverse-mode tape: record a function once on [`TapeVar`]s, replay it at new points for
//! values, gradients, blocks of vector-Jacobian and Jacobian-vector products, and blocks of
//! Hessian-vector products (forward-over-reverse, all directions as lanes of one sweep).
//!
//! ```
//! use num_dual::DualNum;
//! use sparsediff_ad::tape::Tape;
//!
//! fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
//!     x[0] * x[1].sin() + x[0].powi(2)
//! }
//! let mut tape = Tape::record_scalar(&[1.0, 0.5], |x| f(x)).unwrap();
//! let x = [2.0, 0.3];
//! let mut g = [0.0; 2];
//! let v = tape.gradient(&x, &mut g).unwrap();
//! assert_eq!(v, f(&x));
//! assert!((g[0] - (0.3f64.sin() + 4.0)).abs() < 1e-15);
//! assert!((g[1] - 2.0 * 0.3f64.cos()).abs() < 1e-15);
//! // Two Hessian-vector products in one sweep: H·[e₀ e₁] (n×p row-major, p = 2).
//! let mut h = [0.0; 4];
//! tape.hvp_block(&x, &[1.0, 0.0, 0.0, 1.0], &mut h).unwrap();
//! let expect = [2.0, 0.3f64.cos(), 0.3f64.cos(), -2.0 * 0.3f64.sin()];
//! for (a, b) in h.iter().zip(expect) {
//!     assert!((a - b).abs() < 1e-15);
//! }
//! ```
//!
//! # Recording
//!
//! [`Tape::record`] runs the user function once on variables of a thread-local recorder
//! (one recording per thread at a time: a nested recording is
//! [`TapeError::RecordingActive`]). The recording is a flat struct-of-arrays instruction
//! list — opcode, argument node indices, folded constant — with the inputs as nodes `0..n`
//! and instruction k as node `n + k` ([`Tape::instruction`]). Constants fold at record time:
//! operations on constants record nothing, an operation with a constant on one side
//! records one constant-carrying [`Unary`] instruction, identities record nothing.
//!
//! # Replay
//!
//! Recording compiles a replay program: instructions no output or guard depends on are
//! dropped, every node gets a storage *slot* that is reused once the node is dead (a
//! linear scan in recording order; the reverse sweep uses the same slots for adjoints,
//! whose live ranges are the same), `x·x` becomes `x²`, and the instructions are
//! pre-decoded into 16-byte records replayed by one `match` per instruction (Hessian-vector
//! products of scalar tapes replay a second, smaller program: see below). The working set of a sweep is
//! therefore the n inputs plus the largest number of simultaneously live temporaries; the
//! only per-instruction storage is the stack of local derivatives that the forward sweep
//! pushes and the reverse sweep pops.
//!
//! **Workspace**: the buffers live inside the tape, hence `&mut self` on every replay. They
//! are sized at the first call with a given number of lanes and reused afterwards: replays
//! allocate nothing. (Clone the tape to replay on several threads.)
//!
//! **Lanes**: a block of p directions for n inputs is a row-major n×p `&[f64]`, entry
//! (j, c) at `j·p + c`; seeds of a VJP block are m×p, results likewise. One sweep carries
//! up to 8 lanes as fixed-size arrays; wider blocks run in chunks of 8, each a sweep of its
//! own.
//!
//! **Branch guards**: every comparison that involves a variable
//! ([`Elementary::observe_comparison`](crate::Elementary::observe_comparison)) is recorded
//! with its outcome and its position. Every replay recomputes it before the instruction it
//! preceded; a different outcome stops the replay with [`TapeError::BranchChanged`] and
//! fills the output buffer with NaN. [`Recorded`] re-records and retries.
//!
//! **Non-finite results** are reported as [`TapeError::NonFinite`] naming the first
//! output (values are checked first), then input or lane concerned; the output buffer then
//! holds the computed values.
//!
//! # Hessian-vector sweeps
//!
//! Scalar tapes also compile a second program for [`Tape::hvp_block`] and
//! [`Tape::hvp_groups`] (see `segmented/` for the details):
//!
//! * **folding**: instructions whose node has a constant adjoint (read only by affine
//!   operations down to the output: the accumulation `s = s + term`, scalings, shifts) are
//!   not replayed; the forward sweep adds `seed · term` into a register and the reverse
//!   sweep starts every term at its seed;
//! * **fusion**: `u₂(u₁(α·v_a(a) + β·v_b(b) + γ))` — unary operations of a linear
//!   combination of at most two nodes, each possibly under a unary operation of its own —
//!   is one instruction when the inner nodes have no other consumer (`x·x` is `x²`; the
//!   linear combination is evaluated exactly as recorded);
//! * **eager terms**: an instruction with a constant adjoint runs its reverse step during the
//!   forward sweep (nothing stored, skipped by the reverse sweep);
//! * **segments**: the rest is cut where no value crosses a cut; each segment runs its
//!   reverse sweep right after its forward sweep, so the stack of local derivatives stays in
//!   the L1 cache.
//!
//! Chained Rosenbrock (`t = x_{i+1} − x_i·x_i`, `u = x_i − 1`, `t·t·100 + u·u` summed: 8
//! recorded instructions per term) replays 2 instructions per term
//! ([`Tape::hvp_replay_len`]), both eager, with no reverse sweep; the grid energy (10 recorded instructions per vertex) replays 3 per vertex
//! (`(x_p − x_q)⁴` twice, `cos x_p`). Values are unchanged by fusion; derivatives agree with
//! the general program to a few ulps of the block's largest entry (tests check 1e-14).
//!
//! # What a Hessian-vector sweep carries
//!
//! Hessian-vector sweeps carry tangent and adjoint-tangent lanes only at *curved* nodes:
//! arguments of operations with second derivatives and everything upstream of them
//! (decided once per tape at record time). Elsewhere tangents are never read and
//! adjoint-tangents are structurally zero. Lanes are dense within a curved node: a
//! per-grouping variant that visited only the lanes a colouring can make nonzero
//! (per-instruction lane masks, set-bit loops) was measured at about twice the time of
//! the dense lanes for p = 2…5 and was dropped; [`Tape::hvp_groups`] therefore replays the
//! dense sweep with the 0/1 directions. The sweeps of the Hessian program index their
//! buffers without bounds checks (validated program, checked buffer lengths: about 10 %).
//!
//! Timings of these sweeps (Rosenbrock and the grid energy up to n = 10⁶, against the f64
//! evaluation) and how they were taken: `papers/ad-backends.md`, "The tape's sweeps alone".

mod program;
mod recorded;
mod segmented;
mod sweep;
mod var;

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

pub use recorded::Recorded;
pub use var::TapeVar;

use crate::memory::{Spare, SpareCell};
use crate::op::{Binary, Unary};
use program::{Code, Guard, Program};
use segmented::{Segmented, Split};
use sweep::{MAX_LANES, Workspace, ensure, with_lanes};
use var::ActiveRecording;

/// The general replay program of a [`Tape`], compiled on first use. A macro rather than a
/// method so that it borrows only the recording's fields and `ws` stays free for `&mut`.
macro_rules! prog {
    ($t:expr) => {
        $t.prog.get_or_init(|| {
            Program::compile(
                $t.n,
                &$t.code,
                &$t.args,
                &$t.consts,
                &$t.outputs,
                &$t.guards,
            )
        })
    };
}

/// Which buffer an argument length refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffer {
    /// The point `x` (length n).
    Inputs,
    /// The output values (length m).
    Outputs,
    /// The gradient (length n).
    Gradient,
    /// Seeds of a VJP block (m×p).
    Seeds,
    /// Directions of a JVP or HVP block (n×p).
    Directions,
    /// The result block of a VJP or HVP (n×p) or JVP (m×p).
    Result,
    /// The lane of each input of [`Tape::hvp_groups`] (length n).
    Groups,
}

/// Where a non-finite number appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The value of an output.
    Output {
        /// Output index.
        output: usize,
    },
    /// A derivative with respect to an input (gradient: lane 0; VJP and HVP blocks).
    Input {
        /// Input index.
        input: usize,
        /// Lane (column of the block).
        lane: usize,
    },
    /// A directional derivative of an output (JVP block).
    OutputLane {
        /// Output index.
        output: usize,
        /// Lane (column of the block).
        lane: usize,
    },
}

/// Errors of recording and replaying a tape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TapeError {
    /// A recording is already active on this thread.
    #[error("a tape recording is already active on this thread")]
    RecordingActive,
    /// The recorded function returned no outputs.
    #[error("the recorded function returned no outputs")]
    NoOutputs,
    /// A variable of another recording (or one computed outside its recording) was used.
    #[error("a variable of another recording was used in this recording")]
    ForeignVariable,
    /// The tape would have more nodes than a tape can index.
    #[error("the tape would have {nodes} nodes, more than the 2³² − 2 a tape can index")]
    TooLarge {
        /// Nodes needed.
        nodes: usize,
    },
    /// A buffer has the wrong length.
    #[error("{buffer:?} has length {got}, expected {expected}")]
    Length {
        /// Which buffer.
        buffer: Buffer,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// A lane count of zero (or one not dividing the buffer lengths).
    #[error("a block needs at least one lane")]
    NoLanes,
    /// A group (lane) index out of range in [`Tape::hvp_groups`].
    #[error("input {input} is in group {group}, but there are {lanes} lanes")]
    GroupOutOfRange {
        /// Input index.
        input: usize,
        /// Its group.
        group: usize,
        /// Number of lanes.
        lanes: usize,
    },
    /// A Hessian needs a scalar function.
    #[error("Hessian-vector products need one output, the tape has {outputs}")]
    NotScalar {
        /// Number of outputs.
        outputs: usize,
    },
    /// A recorded comparison has another outcome at this point: the tape does not
    /// represent the function here (re-record, or use [`Recorded`]).
    #[error(
        "branch changed: comparison {guard} ({lhs} vs {rhs}) gives {now:?}, recorded {recorded:?}"
    )]
    BranchChanged {
        /// Index of the comparison in recording order.
        guard: usize,
        /// Left-hand value now.
        lhs: f64,
        /// Right-hand value now.
        rhs: f64,
        /// Outcome now.
        now: Option<Ordering>,
        /// Outcome at recording.
        recorded: Option<Ordering>,
    },
    /// A value or derivative is NaN or infinite.
    #[error("non-finite value {value} at {location:?}")]
    NonFinite {
        /// Where (the first such entry).
        location: Location,
        /// The value.
        value: f64,
    },
}

/// One recorded instruction (see [`Tape::instruction`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instruction {
    /// A constant materialised as a node (a constant output, or a constant argument of
    /// `atan2`).
    Const(f64),
    /// `op(arg)`.
    Unary {
        /// The operation, with its folded constant.
        op: Unary,
        /// Argument node.
        arg: usize,
    },
    /// `op(args[0], args[1])`.
    Binary {
        /// The operation.
        op: Binary,
        /// Argument nodes.
        args: [usize; 2],
    },
}

/// A recorded function `ℝⁿ → ℝᵐ` and its replay program. See the [module docs](self).
#[derive(Clone)]
pub struct Tape {
    n: usize,
    code: Vec<Code>,
    args: Vec<[u32; 2]>,
    /// The constants of the instructions that have one, in recording order (such an
    /// instruction's second argument is its index here).
    consts: Vec<f64>,
    outputs: Vec<u32>,
    guards: Vec<Guard>,
    /// Raw value reads (`re()`) of variables during the recording: branches on them are
    /// not guarded.
    value_reads: usize,
    /// The point recorded at, the outputs' values there, and whether a comparison had a
    /// NaN operand: what [`Tape::hessian_pattern`] checks to stand in for a trace.
    point: Vec<f64>,
    output_values: Vec<f64>,
    nan_comparison: bool,
    /// An instruction kills its argument (`0·x`, `0/x`; see `Recorder::kills`).
    kills: bool,
    /// The general replay program (values, gradients, VJP and JVP blocks), compiled on
    /// first use (`prog!`): a scalar tape used only for Hessian-vector products never
    /// needs it, and compiling it is a fifth of recording a 1e6-variable function.
    prog: OnceLock<Program>,
    /// The program of Hessian-vector sweeps (scalar functions only).
    seg: Option<Segmented>,
    /// That program cut into row blocks (large programs of local terms only; see
    /// [`Tape::hvp_chunks`]).
    split: Option<Split>,
    ws: Workspace,
    /// Per row block: its outcome and its partials of the inputs it shares.
    block_states: Vec<BlockState>,
    /// The row blocks' sweep buffers, one set per thread that runs blocks (a block takes
    /// the set of the thread it runs on; the lock is never contended).
    block_ws: ThreadBuffers,
    /// Where the row blocks run: `None` on the caller's thread, one after another.
    pool: Option<Arc<rayon::ThreadPool>>,
    /// The compile's scratch arrays, kept for [`Tape::hessian_pattern`]'s (which mostly
    /// follows the recording), then with the detection's arrays for
    /// [`Tape::take_scratch`]; freed by the first sweep.
    spare: SpareCell,
}

impl std::fmt::Debug for Tape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape")
            .field("inputs", &self.n)
            .field("outputs", &self.outputs.len())
            .field("instructions", &self.code.len())
            .field("replayed", &self.prog.get().map(|p| p.ins.len()))
            .field("slots", &self.prog.get().map(|p| p.nslots))
            .field("guards", &self.guards.len())
            .field("hvp_replayed", &self.hvp_replay_len())
            .field(
                "hvp_segments",
                &self.seg.as_ref().map(|s| s.bounds.len() - 1),
            )
            .field("hvp_chunks", &self.hvp_chunks())
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

fn check_len(buffer: Buffer, got: usize, expected: usize) -> Result<(), TapeError> {
    if got == expected {
        Ok(())
    } else {
        Err(TapeError::Length {
            buffer,
            expected,
            got,
        })
    }
}

/// Lanes of a block given the length of a buffer of `rows` rows.
fn lanes(buffer: Buffer, len: usize, rows: usize) -> Result<usize, TapeError> {
    if rows == 0 {
        return Err(TapeError::NoLanes);
    }
    if !len.is_multiple_of(rows) {
        return Err(TapeError::Length {
            buffer,
            expected: (len / rows + 1) * rows,
            got: len,
        });
    }
    match len / rows {
        0 => Err(TapeError::NoLanes),
        p => Ok(p),
    }
}

fn first_non_finite(v: &[f64]) -> Option<(usize, f64)> {
    sparsediff_pattern::first_non_finite(v).map(|i| (i, v[i]))
}

fn broken(b: sweep::Broken) -> TapeError {
    TapeError::BranchChanged {
        guard: b.guard,
        lhs: b.lhs,
        rhs: b.rhs,
        now: b.now,
        recorded: b.recorded,
    }
}

impl Tape {
    /// Records `f` at `x` (m ≥ 1 outputs).
    ///
    /// Errors: [`TapeError::RecordingActive`] inside another recording of this thread,
    /// [`TapeError::NoOutputs`], [`TapeError::ForeignVariable`], [`TapeError::TooLarge`].
    /// A panic of `f` ends the recording and propagates.
    pub fn record<F>(x: &[f64], f: F) -> Result<Tape, TapeError>
    where
        F: FnOnce(&[TapeVar]) -> Vec<TapeVar>,
    {
        let (active, recording) = ActiveRecording::start(x.len())?;
        let vars: Vec<TapeVar> = x
            .iter()
            .enumerate()
            .map(|(j, &v)| TapeVar::input(v, j as u32, recording))
            .collect();
        let out = f(&vars);
        let (rec, outputs) = active.finish(&out)?;
        let output_values = out.iter().map(|&v| crate::Elementary::value(v)).collect();
        if outputs.is_empty() {
            return Err(TapeError::NoOutputs);
        }
        let mut spare = Spare::default();
        spare.put(vars);
        let mut seg = (outputs.len() == 1).then(|| {
            Segmented::compile(
                rec.n,
                &rec.code,
                &rec.args,
                &rec.consts,
                outputs[0],
                &rec.guards,
                &mut spare,
            )
        });
        // A split program takes the instructions (`seg` keeps what the summation reads).
        let split = seg.as_mut().and_then(Split::new);
        if split.is_none()
            && let Some(seg) = &seg
        {
            // (a split program's chunks were validated as they were cut)
            seg.validate();
        }
        if seg.is_none() {
            // (only a scalar function's pattern is detected from its program)
            spare = Spare::default();
        }
        Ok(Tape {
            n: rec.n,
            code: rec.code,
            args: rec.args,
            consts: rec.consts,
            outputs,
            guards: rec.guards,
            value_reads: rec.value_reads,
            point: x.to_vec(),
            output_values,
            nan_comparison: rec.nan_comparison,
            kills: rec.kills,
            prog: OnceLock::new(),
            seg,
            split,
            ws: Workspace::default(),
            block_states: Vec::new(),
            block_ws: ThreadBuffers::default(),
            pool: None,
            spare: SpareCell::new(spare),
        })
    }

    /// Records a scalar function (m = 1).
    pub fn record_scalar<F>(x: &[f64], f: F) -> Result<Tape, TapeError>
    where
        F: FnOnce(&[TapeVar]) -> TapeVar,
    {
        Tape::record(x, |v| vec![f(v)])
    }

    /// Number of inputs n.
    pub fn num_inputs(&self) -> usize {
        self.n
    }

    /// Number of outputs m.
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Number of recorded instructions.
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Whether nothing was recorded (every output is an input).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// Compiles the general replay program now (values, gradients, VJP and JVP blocks); it
    /// is otherwise compiled by the first call that needs it. Hessian-vector products run
    /// their own program and never need it, so a Hessian backend leaves it for later.
    ///
    /// ```
    /// use sparsediff_ad::tape::Tape;
    /// let tape = Tape::record_scalar(&[1.0, 2.0], |x| x[0] * x[1]).unwrap();
    /// tape.compile_general();
    /// assert_eq!(tape.replay_len(), 1);
    /// ```
    pub fn compile_general(&self) {
        prog!(self);
    }

    /// Number of instructions a replay executes (dead code removed).
    pub fn replay_len(&self) -> usize {
        prog!(self).ins.len()
    }

    /// Number of instructions a Hessian-vector sweep replays (scalar functions: folded
    /// accumulations removed, fused instructions counted once; see the module docs);
    /// `None` for a vector function.
    pub fn hvp_replay_len(&self) -> Option<usize> {
        match &self.split {
            Some(split) => Some(split.ins.len()),
            None => self.seg.as_ref().map(|s| s.ins.len()),
        }
    }

    /// Number of row blocks the Hessian-vector sweeps are cut into: `Some(k)` (k ≥ 2) when
    /// the program is long enough (at least 2·2¹⁶ replayed instructions) and its blocks read
    /// narrow ranges of inputs (a sum of local terms: Rosenbrock, stencils); `None`
    /// otherwise (one serial sweep).
    ///
    /// The cut depends on the program alone, so the products are bit for bit the same
    /// whether the blocks run on one thread or on the pool of [`set_pool`](Self::set_pool);
    /// they can differ in the last bits from the uncut sweep at inputs that two blocks
    /// read (their partial sums are added block by block).
    pub fn hvp_chunks(&self) -> Option<usize> {
        self.split.as_ref().map(|s| s.chunks.len())
    }

    /// Runs the row blocks of Hessian-vector sweeps ([`hvp_chunks`](Self::hvp_chunks)) on
    /// `pool`, or on the caller's thread with `None` (the default). The results do not
    /// depend on it. A program that is not cut ignores the pool.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sparsediff_ad::tape::Tape;
    ///
    /// // Chained Rosenbrock on 2·10⁵ variables: cut into row blocks.
    /// let x = vec![0.5; 200_000];
    /// let f = |x: &[sparsediff_ad::tape::TapeVar]| {
    ///     x.windows(2)
    ///         .map(|w| (w[1] - w[0] * w[0]) * (w[1] - w[0] * w[0]) * 100.0 + (w[0] - 1.0) * (w[0] - 1.0))
    ///         .fold(sparsediff_ad::tape::TapeVar::from(0.0), |s, t| s + t)
    /// };
    /// let mut tape = Tape::record_scalar(&x, f).unwrap();
    /// assert!(tape.hvp_chunks().is_some());
    /// let group: Vec<usize> = (0..x.len()).map(|j| j % 2).collect();
    /// let mut one = vec![0.0; 2 * x.len()];
    /// tape.hvp_groups(&x, &group, 2, &mut one).unwrap();
    /// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    /// tape.set_pool(Some(Arc::new(pool)));
    /// assert_eq!(tape.threads(), 2);
    /// let mut two = vec![0.0; 2 * x.len()];
    /// tape.hvp_groups(&x, &group, 2, &mut two).unwrap();
    /// assert!(one.iter().zip(&two).all(|(a, b)| a.to_bits() == b.to_bits()));
    /// ```
    pub fn set_pool(&mut self, pool: Option<Arc<rayon::ThreadPool>>) {
        self.pool = pool;
    }

    /// The threads that run the row blocks: the pool's, or 1.
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// Number of storage slots of a replay (inputs plus the most temporaries alive at once).
    pub fn slots(&self) -> usize {
        prog!(self).nslots
    }

    /// Whether the recorded function read raw values of variables (`DualNum::re()`):
    /// branches on them are not guarded, so a replay may follow the recorded branch where
    /// the function takes another (compare [`eval`](Self::eval) with a plain evaluation).
    pub fn reads_values(&self) -> bool {
        self.value_reads > 0
    }

    /// The local Hessian pattern at `x`, exactly as
    /// [`hessian_pattern_with_info`](crate::trace::hessian_pattern_with_info) gives it,
    /// from this tape's compiled program instead of a trace: when `x` is the point recorded
    /// at (bit for bit) and the recording is branch-free (no comparison of variables, no
    /// raw value read, no comparison with NaN), its output finite. `None` otherwise, for
    /// vector functions, and where the program cannot stand for the trace (an operation
    /// that kills its argument, `0·x`): trace the function then.
    ///
    /// The tracer's rules run on the program's instructions (`tape/segmented/pattern.rs`
    /// says why they give the same pattern), a DAG half the trace's size on Rosenbrock and
    /// under a third on the grid energy. The [`TraceInfo`](crate::trace::TraceInfo) is a
    /// branch-free trace's, with the program's node and record counts. Its arrays are
    /// taken from what is left of the compile's scratch, and kept by the tape afterwards
    /// for [`take_scratch`](Self::take_scratch).
    ///
    /// ```
    /// use num_dual::DualNum;
    /// use sparsediff_ad::tape::Tape;
    /// use sparsediff_ad::trace::hessian_pattern_with_info;
    ///
    /// fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    ///     x[0] * x[1] + (x[2] * 2.0 - x[1]).sin() * 3.0 + x[3].abs()
    /// }
    /// let x = [1.0, 2.0, 3.0, -1.0];
    /// let tape = Tape::record_scalar(&x, |v| f(v))?;
    /// let (pattern, info) = tape.hessian_pattern(&x).unwrap()?;
    /// assert_eq!(pattern, hessian_pattern_with_info(&x, |v| f(v))?.0);
    /// assert_eq!((info.comparisons, info.value_reads), (0, 0));
    /// assert!(tape.hessian_pattern(&[1.0, 2.0, 3.0, -1.5]).is_none()); // another point
    /// // 0·x is a constant for the tracer but a node of the recording: traced instead.
    /// let killed = Tape::record_scalar(&x, |v| (v[0] * 0.0 * v[1]).sin())?;
    /// assert!(killed.hessian_pattern(&x).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hessian_pattern(
        &self,
        x: &[f64],
    ) -> Option<
        Result<(sparsediff_pattern::Pattern, crate::trace::TraceInfo), crate::trace::TraceError>,
    > {
        let same = x.len() == self.point.len()
            && x.iter()
                .zip(&self.point)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        let branch_free = self.guards.is_empty() && self.value_reads == 0 && !self.nan_comparison;
        let finite =
            self.output_values.iter().all(|v| v.is_finite()) && x.iter().all(|v| v.is_finite());
        if !same || !branch_free || !finite || x.is_empty() || x.len() > sparsediff_pattern::MAX_DIM
        {
            return None;
        }
        // `0·x` and `0/x` (and `x/±∞`, recorded as `x·0`): a constant for the tracer, a node
        // for the recording, whose zero weight the program may have folded away unseen.
        if self.kills {
            return None;
        }
        let seg = self.seg.as_ref()?;
        // Sets built with the nodes where they stay small, else the node list for the
        // tracer's sets (a program the trace cannot stand for is refused by both).
        // The compile's scratch arrays, for the detection's (kept in turn).
        let mut spare = self.spare.take();
        let r = if let Some(t) = segmented::trace_sets(seg, self.split.as_ref(), &mut spare) {
            let r = crate::trace::hessian_of_sets(
                self.n, t.nodes, &t.records, &t.starts, &t.pool, &mut spare,
            );
            // Kept in turn, for whoever stores the pattern next (`take_scratch`).
            spare.put(t.records);
            spare.put(t.starts);
            spare.put(t.pool);
            r
        } else {
            let nodes = segmented::trace_nodes(seg, self.split.as_ref())?;
            crate::trace::hessian_of_nodes(self.n, nodes)
        };
        self.spare.give(spare);
        Some(r)
    }

    /// The large buffers this tape's preparation is done with, for the caller's next
    /// large arrays (see [`Scratch`](sparsediff_pattern::Scratch)): what is left of the
    /// compile's scratch, and the arrays of the pattern detection
    /// ([`hessian_pattern`](Self::hessian_pattern)) once it ran. The tape keeps them until
    /// this call, its first sweep (which frees them) or its drop; a clone keeps none. The
    /// facade's `prepare` copies the detected pattern into them.
    ///
    /// ```
    /// use sparsediff_ad::tape::Tape;
    /// let x = vec![0.5; 200_000];
    /// let tape = Tape::record_scalar(&x, |v| {
    ///     let d = |i: usize| v[i + 1] - v[i] * v[i];
    ///     (1..v.len() - 1).fold(d(0) * d(0), |s, i| s + d(i) * d(i))
    /// })?;
    /// let (pattern, _) = tape.hessian_pattern(&x).unwrap()?;
    /// assert_eq!(pattern.nnz(), 3 * 200_000 - 2);
    /// let mut scratch = tape.take_scratch();
    /// assert!(scratch.bytes() >= 1 << 20);
    /// let m = pattern.to_sprs_in(vec![0.0; pattern.nnz()], &mut scratch)?;
    /// assert_eq!(m.nnz(), pattern.nnz());
    /// assert!(tape.take_scratch().is_empty()); // taken once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_scratch(&self) -> sparsediff_pattern::Scratch {
        self.spare.take().into_scratch()
    }

    /// Number of recorded comparisons (branch guards).
    pub fn num_guards(&self) -> usize {
        self.guards.len()
    }

    /// The node of each output.
    pub fn output_nodes(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.outputs.iter().map(|&o| o as usize)
    }

    /// Recorded instruction `k` (it defines node `n + k`); `None` past the end.
    pub fn instruction(&self, k: usize) -> Option<Instruction> {
        let code = *self.code.get(k)?;
        let [a, b] = self.args[k];
        Some(if code == Code::Const {
            Instruction::Const(self.consts[b as usize])
        } else if let Some(op) = code.binary() {
            Instruction::Binary {
                op,
                args: [a as usize, b as usize],
            }
        } else {
            Instruction::Unary {
                op: code.unary(program::lower(code, [a, b], &self.consts).2)?,
                arg: a as usize,
            }
        })
    }

    /// Copies `x` into the input slots, sizing the value buffer for `slots` slots. Every
    /// sweep but a split one starts here: the compile's and detection's scratch is freed.
    fn load_inputs(&mut self, x: &[f64], slots: usize) -> Result<(), TapeError> {
        self.spare.clear();
        check_len(Buffer::Inputs, x.len(), self.n)?;
        ensure(&mut self.ws.val, slots.max(self.n));
        self.ws.val[..self.n].copy_from_slice(x);
        Ok(())
    }

    /// The values of the m outputs at `x`.
    pub fn eval(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        check_len(Buffer::Outputs, out.len(), self.num_outputs())?;
        self.load_inputs(x, prog!(self).nslots)?;
        let prog = prog!(self);
        let ws = &mut self.ws;
        if let Err(b) = sweep::run_forward::<0, false>(prog, &mut ws.val, &mut [], &mut []) {
            out.fill(f64::NAN);
            return Err(broken(b));
        }
        for (o, &s) in out.iter_mut().zip(&prog.out_slots) {
            *o = ws.val[s as usize];
        }
        match first_non_finite(out) {
            Some((output, value)) => Err(TapeError::NonFinite {
                location: Location::Output { output },
                value,
            }),
            None => Ok(()),
        }
    }

    /// Forward sweep storing first derivatives (shared by gradient and VJP blocks).
    fn forward_first(&mut self) -> Result<usize, sweep::Broken> {
        let prog = prog!(self);
        let ws = &mut self.ws;
        ensure(&mut ws.stack, prog.first_len);
        sweep::run_forward::<0, true>(prog, &mut ws.val, &mut [], &mut ws.stack)
    }

    /// The gradient of a scalar function (m = 1) at `x` into `grad`; returns the value.
    pub fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, TapeError> {
        self.scalar()?;
        check_len(Buffer::Gradient, grad.len(), self.n)?;
        self.load_inputs(x, prog!(self).nslots)?;
        let sp = match self.forward_first() {
            Ok(sp) => sp,
            Err(b) => {
                grad.fill(f64::NAN);
                return Err(broken(b));
            }
        };
        let prog = prog!(self);
        let ws = &mut self.ws;
        let out = prog.out_slots[0] as usize;
        let value = ws.val[out];
        ensure(&mut ws.adj, prog.nslots);
        let adj = &mut ws.adj[..prog.nslots];
        adj.fill(0.0);
        adj[out] = 1.0;
        sweep::reverse_first::<1>(&prog.ins, &prog.consts, adj, &ws.stack, sp);
        grad.copy_from_slice(&adj[..self.n]);
        if !value.is_finite() {
            return Err(TapeError::NonFinite {
                location: Location::Output { output: 0 },
                value,
            });
        }
        match first_non_finite(grad) {
            Some((input, value)) => Err(TapeError::NonFinite {
                location: Location::Input { input, lane: 0 },
                value,
            }),
            None => Ok(value),
        }
    }

    /// A block of p vector-Jacobian products `out = Jᵀ·S` at `x`: `seeds` is m×p, `out`
    /// n×p (row-major). All p lanes ride one forward and one reverse sweep (chunks of 8).
    pub fn vjp_block(
        &mut self,
        x: &[f64],
        seeds: &[f64],
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        let m = self.num_outputs();
        let p = lanes(Buffer::Seeds, seeds.len(), m)?;
        check_len(Buffer::Result, out.len(), self.n * p)?;
        self.load_inputs(x, prog!(self).nslots)?;
        let sp = match self.forward_first() {
            Ok(sp) => sp,
            Err(b) => {
                out.fill(f64::NAN);
                return Err(broken(b));
            }
        };
        let prog = prog!(self);
        let mut c0 = 0;
        while c0 < p {
            let w = (p - c0).min(MAX_LANES);
            with_lanes!(w, vjp_chunk(prog, &mut self.ws, seeds, p, c0, out, sp));
            c0 += w;
        }
        self.check_outputs()?;
        match first_non_finite(out) {
            Some((i, value)) => Err(TapeError::NonFinite {
                location: Location::Input {
                    input: i / p,
                    lane: i % p,
                },
                value,
            }),
            None => Ok(()),
        }
    }

    /// A block of p Jacobian-vector products `out = J·D` at `x`: `dirs` is n×p, `out` m×p.
    pub fn jvp_block(&mut self, x: &[f64], dirs: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        let n = self.n;
        let m = self.num_outputs();
        let p = if n == 0 {
            lanes(Buffer::Result, out.len(), m)?
        } else {
            lanes(Buffer::Directions, dirs.len(), n)?
        };
        check_len(Buffer::Directions, dirs.len(), n * p)?;
        check_len(Buffer::Result, out.len(), m * p)?;
        self.load_inputs(x, prog!(self).nslots)?;
        let prog = prog!(self);
        let mut c0 = 0;
        while c0 < p {
            let w = (p - c0).min(MAX_LANES);
            let r = with_lanes!(w, jvp_chunk(prog, &mut self.ws, x, dirs, p, c0, out));
            if let Err(b) = r {
                out.fill(f64::NAN);
                return Err(broken(b));
            }
            c0 += w;
        }
        self.check_outputs()?;
        match first_non_finite(out) {
            Some((i, value)) => Err(TapeError::NonFinite {
                location: Location::OutputLane {
                    output: i / p,
                    lane: i % p,
                },
                value,
            }),
            None => Ok(()),
        }
    }

    /// The first non-finite output value of the last forward sweep.
    fn check_outputs(&self) -> Result<(), TapeError> {
        for (output, &s) in prog!(self).out_slots.iter().enumerate() {
            let value = self.ws.val[s as usize];
            if !value.is_finite() {
                return Err(TapeError::NonFinite {
                    location: Location::Output { output },
                    value,
                });
            }
        }
        Ok(())
    }

    fn scalar(&self) -> Result<(), TapeError> {
        match self.num_outputs() {
            1 => Ok(()),
            outputs => Err(TapeError::NotScalar { outputs }),
        }
    }

    /// A block of p Hessian-vector products `out = ∇²f(x)·D` of a scalar function:
    /// `dirs` is n×p, `out` n×p. Forward-over-reverse with all p directions as lanes of one
    /// forward and one reverse sweep (chunks of 8).
    pub fn hvp_block(&mut self, x: &[f64], dirs: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        self.scalar()?;
        let n = self.n;
        let p = lanes(Buffer::Directions, dirs.len(), n)?;
        check_len(Buffer::Result, out.len(), n * p)?;
        self.hvp_dirs(x, Dirs::Dense(dirs), p, out)
    }

    /// Sizes the buffers of Hessian-vector sweeps with `p` directions ([`hvp_block`] and
    /// [`hvp_groups`]) now, as their first call would, without sweeping: a caller that wants
    /// its first products to allocate nothing calls this instead of a product pass it would
    /// throw away (at n = 1e6 the pass cost 50–60 ms; sizing alone is the page faults).
    /// A program cut into row blocks gets one set of sweep buffers per thread of the pool
    /// it has then ([`set_pool`](Self::set_pool) first). Nothing for a vector function or
    /// `p = 0`.
    ///
    /// [`hvp_block`]: Tape::hvp_block
    /// [`hvp_groups`]: Tape::hvp_groups
    pub(crate) fn reserve_hvp(&mut self, p: usize) {
        self.spare.clear();
        // The first chunk of lanes is the widest, and every buffer grows with the width.
        let w = p.min(MAX_LANES);
        let threads = self.threads();
        let Some(seg) = &self.seg else { return };
        if w == 0 {
            return;
        }
        match &self.split {
            Some(split) => {
                self.block_ws.0.resize_with(threads, Default::default);
                let slots = split.chunks.iter().map(|c| c.prog.nslots).max();
                for ws in &mut self.block_ws.0 {
                    let ws = ws.get_mut().unwrap_or_else(PoisonError::into_inner);
                    size_hvp(ws, seg, slots.unwrap_or(0), w);
                }
                self.block_states
                    .resize_with(split.chunks.len(), BlockState::default);
                for (c, st) in split.chunks.iter().zip(&mut self.block_states) {
                    st.size(c, w);
                }
            }
            None => size_hvp(&mut self.ws, seg, seg.nslots, w),
        }
    }

    /// The HVP sweeps of [`Tape::hvp_block`] and [`Tape::hvp_groups`] (lengths checked):
    /// chunks of up to 8 lanes through the segmented program.
    fn hvp_dirs(
        &mut self,
        x: &[f64],
        dirs: Dirs<'_>,
        p: usize,
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        self.spare.clear();
        if self.split.is_some() {
            return self.hvp_split(x, dirs, p, out);
        }
        // the segmented program sizes the buffers it needs (`seg_chunk`)
        self.load_inputs(x, self.n)?;
        let Some(seg) = &self.seg else {
            return Err(TapeError::NotScalar {
                outputs: self.num_outputs(),
            });
        };
        let ws = &mut self.ws;
        lane_chunks(dirs, p, out, |w, c0, out| {
            with_lanes!(w, seg_chunk(seg, ws, dirs, p, c0, out))
        })
    }

    /// The HVP sweeps of [`Tape::hvp_dirs`] by row blocks ([`Tape::hvp_chunks`]), on the
    /// pool if there is one.
    fn hvp_split(
        &mut self,
        x: &[f64],
        dirs: Dirs<'_>,
        p: usize,
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        check_len(Buffer::Inputs, x.len(), self.n)?;
        let threads = self.threads();
        let (Some(seg), Some(split)) = (&self.seg, &self.split) else {
            return Err(TapeError::NotScalar {
                outputs: self.num_outputs(),
            });
        };
        self.block_states
            .resize_with(split.chunks.len(), BlockState::default);
        let pool = self.pool.as_deref();
        if self.block_ws.0.len() < threads {
            self.block_ws.0.resize_with(threads, Default::default);
        }
        let (states, wss) = (&mut self.block_states, &self.block_ws.0[..]);
        lane_chunks(dirs, p, out, |w, c0, out| {
            let args = SplitArgs {
                seg,
                split,
                x,
                dirs,
                p,
                c0,
                pool,
            };
            with_lanes!(w, split_lanes(&args, states, wss, out))
        })
    }

    /// [`Tape::hvp_block`] by the general program (one forward and one reverse sweep over
    /// the whole tape, nothing folded): the reference of the tests.
    #[cfg(test)]
    pub(crate) fn hvp_block_unsegmented(
        &mut self,
        x: &[f64],
        dirs: &[f64],
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        self.scalar()?;
        let p = lanes(Buffer::Directions, dirs.len(), self.n)?;
        check_len(Buffer::Result, out.len(), self.n * p)?;
        self.load_inputs(x, prog!(self).nslots)?;
        let prog = prog!(self);
        let mut c0 = 0;
        while c0 < p {
            let w = (p - c0).min(MAX_LANES);
            let r = with_lanes!(
                w,
                hvp_chunk(prog, &mut self.ws, x, Dirs::Dense(dirs), p, c0, out)
            );
            if let Err(b) = r {
                out.fill(f64::NAN);
                return Err(broken(b));
            }
            c0 += w;
        }
        self.check_outputs()?;
        hvp_finite(out, p)
    }

    /// Hessian-vector products with 0/1 directions given by groups (a colouring):
    /// `group[j]` is the lane of input j (`usize::MAX`: none), `out = ∇²f(x)·S` (n×p) with
    /// `S[j, group[j]] = 1`. Equals [`Tape::hvp_block`] with those directions, bit for bit.
    ///
    /// No n×p direction block is needed. Structurally zero lanes are dropped per node
    /// (lanes only at curved nodes, see the module docs); dropping them per lane as well
    /// was measured slower than the dense lanes and is not done.
    ///
    /// ```
    /// use num_dual::DualNum;
    /// use sparsediff_ad::tape::Tape;
    ///
    /// // f = Σ x_j⁴: diagonal Hessian 12 x_j², one group suffices.
    /// let mut tape = Tape::record_scalar(&[1.0; 3], |x| x.iter().map(|v| v.powi(4)).sum()).unwrap();
    /// let mut out = [0.0; 3];
    /// tape.hvp_groups(&[1.0, 2.0, 3.0], &[0, 0, 0], 1, &mut out).unwrap();
    /// assert_eq!(out, [12.0, 48.0, 108.0]);
    /// ```
    pub fn hvp_groups(
        &mut self,
        x: &[f64],
        group: &[usize],
        p: usize,
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        self.scalar()?;
        let n = self.n;
        check_len(Buffer::Groups, group.len(), n)?;
        if p == 0 {
            return Err(TapeError::NoLanes);
        }
        check_len(Buffer::Result, out.len(), n * p)?;
        // The groups are validated while they are loaded into the tangent lanes.
        self.hvp_dirs(x, Dirs::Groups(group), p, out)
    }
}

/// The error for the first group that is not below `p` (one exists: `load_dirs` saw it).
fn group_out_of_range(group: &[usize], p: usize) -> TapeError {
    let (input, g) = group
        .iter()
        .copied()
        .enumerate()
        .find(|&(_, g)| g != usize::MAX && g >= p)
        .unwrap_or((0, p));
    TapeError::GroupOutOfRange {
        input,
        group: g,
        lanes: p,
    }
}

fn hvp_finite(out: &[f64], p: usize) -> Result<(), TapeError> {
    match first_non_finite(out) {
        Some((i, value)) => Err(TapeError::NonFinite {
            location: Location::Input {
                input: i / p,
                lane: i % p,
            },
            value,
        }),
        None => Ok(()),
    }
}

/// Directions of an HVP block.
#[derive(Clone, Copy)]
enum Dirs<'a> {
    /// n×p row-major.
    Dense(&'a [f64]),
    /// Lane of each input (0/1 directions).
    Groups(&'a [usize]),
}

impl<'a> Dirs<'a> {
    /// The directions of inputs `lo..hi` (`p` lanes).
    fn rows(self, lo: usize, hi: usize, p: usize) -> Dirs<'a> {
        match self {
            Dirs::Dense(d) => Dirs::Dense(&d[lo * p..hi * p]),
            Dirs::Groups(g) => Dirs::Groups(&g[lo..hi]),
        }
    }
}

/// One row block's outcome (the sum of its seeded values, or the guard that failed) and
/// its partial adjoint-tangents of the inputs it shares with other blocks (see
/// `Chunk::own`); the inputs it reads alone are written straight to the products.
#[derive(Debug, Clone, Default)]
struct BlockState {
    /// Inputs `lo..own.start` (read by earlier blocks too), P lanes each.
    head: Vec<f64>,
    /// Inputs `own.end..hi` (read by later blocks too, by no earlier one).
    tail: Vec<f64>,
    result: Option<Result<f64, sweep::Broken>>,
    /// One more than the largest group of the block's inputs (`load_dirs`).
    largest: usize,
    /// Some product it wrote (its own inputs' lanes) is not finite.
    bad: bool,
}

impl BlockState {
    /// Grows the partials of block `c` to `lanes` lanes.
    fn size(&mut self, c: &segmented::Chunk, lanes: usize) {
        ensure_mapped(&mut self.head, (c.own.start - c.lo) * lanes);
        ensure_mapped(&mut self.tail, (c.hi - c.own.end) * lanes);
    }
}

/// The row blocks' sweep buffers, one set per thread (see [`split_lanes`]); a clone copies
/// them.
#[derive(Debug, Default)]
struct ThreadBuffers(Vec<Mutex<Workspace>>);

impl Clone for ThreadBuffers {
    fn clone(&self) -> Self {
        let copy = |m: &Mutex<Workspace>| {
            Mutex::new(m.lock().unwrap_or_else(PoisonError::into_inner).clone())
        };
        ThreadBuffers(self.0.iter().map(copy).collect())
    }
}

/// The products, written by the row blocks' tasks at once, each to the rows of the inputs
/// it reads alone: disjoint rows (`Chunk::own`), so no two tasks write one element.
struct OutRows {
    ptr: *mut f64,
    len: usize,
}

// SAFETY: `OutRows` is a `&mut [f64]` handed to the tasks of one `split_lanes` call, each
// writing its own disjoint rows (see `rows`); it does not outlive that call.
unsafe impl Send for OutRows {}
unsafe impl Sync for OutRows {}

impl OutRows {
    fn new(out: &mut [f64]) -> Self {
        OutRows {
            ptr: out.as_mut_ptr(),
            len: out.len(),
        }
    }

    /// Rows `rows` of the products (`p` entries each).
    ///
    /// # Safety
    /// No other reference to these rows may exist while the slice lives: each block asks
    /// only for its own inputs' rows (`Chunk::own`). Those ranges are disjoint by
    /// construction (`Split::new`): each starts at or above the end of every earlier
    /// block's input range and ends at or below the start of every later one.
    #[allow(clippy::mut_from_ref)] // disjoint rows per caller, see above
    unsafe fn rows(&self, rows: Range<usize>, p: usize) -> &mut [f64] {
        let (start, end) = (rows.start * p, rows.end * p);
        assert!(start <= end && end <= self.len, "rows within the products");
        // SAFETY: in bounds (asserted); exclusive by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), end - start) }
    }
}

/// What the row blocks of one lane chunk read.
struct SplitArgs<'a> {
    seg: &'a Segmented,
    split: &'a Split,
    x: &'a [f64],
    dirs: Dirs<'a>,
    p: usize,
    c0: usize,
    pool: Option<&'a rayon::ThreadPool>,
}

/// Lanes `c0..c0 + P` of a split HVP sweep. Every row block's sweep runs (in parallel on
/// the pool) in the buffers of its thread, writes the adjoint-tangents of the inputs it
/// reads alone straight into `out` and keeps its partials of the shared ones. Then each
/// shared input's adjoint-tangent is summed from the partials in block order (the first
/// block that reads it copies its partial, later ones add theirs: the sums do not depend
/// on the threads), looking for non-finite values, and the inputs no block reads get zero
/// with their groups checked. Returns the output value and whether a product may be
/// non-finite.
///
/// One set of sweep buffers per thread instead of one per block: the buffers stay in the
/// cache, and the 1e6 grid's per-block sets (about 60 MB, 15 000 fresh pages in
/// `prepare`) are one per thread. Setup stage of `prepare` 0.052 → 0.030 s, one-thread
/// evaluate 53 → 47 ms (Rosenbrock: 0.027 → 0.012 s, 39–41 → 35–37 ms).
fn split_lanes<const P: usize>(
    a: &SplitArgs<'_>,
    states: &mut [BlockState],
    wss: &[Mutex<Workspace>],
    out: &mut [f64],
) -> Result<(f64, bool), Stop> {
    let (seg, p, c0) = (a.seg, a.p, a.c0);
    let products = OutRows::new(&mut out[..seg.n * p]);
    let sweep_block = |(c, st): (&segmented::Chunk, &mut BlockState)| {
        let t = rayon::current_thread_index().unwrap_or(0) % wss.len();
        let mut ws = wss[t].lock().unwrap_or_else(PoisonError::into_inner);
        let ws = &mut *ws;
        let (nl, ns) = (c.prog.n, c.prog.nslots);
        size_hvp(ws, seg, ns, P);
        st.size(c, P);
        ws.val[..nl].copy_from_slice(&a.x[c.lo..c.hi]);
        st.largest = load_dirs::<P>(&mut ws.tan, nl, a.dirs.rows(c.lo, c.hi, p), p, c0);
        ws.adj[nl..ns].fill(0.0);
        ws.adt[..ns * P].fill(0.0);
        let r = c.prog.sweep::<P>(
            a.split.ins_of(c),
            &seg.consts,
            &mut ws.val,
            &mut ws.tan,
            &mut ws.adj[..ns],
            &mut ws.adt[..ns * P],
            &mut ws.stack,
        );
        st.result = Some(r.map_err(|mut b| {
            b.guard += c.guard0;
            b
        }));
        let adt = &ws.adt[..nl * P];
        let (own0, own1) = (c.own.start - c.lo, c.own.end - c.lo);
        st.head[..own0 * P].copy_from_slice(&adt[..own0 * P]);
        st.tail[..(nl - own1) * P].copy_from_slice(&adt[own1 * P..]);
        // SAFETY: `c.own` is read by this block alone, so no other task writes its rows.
        let rows = unsafe { products.rows(c.own.clone(), p) };
        let mut bad = 0u64;
        for (row, src) in rows
            .chunks_exact_mut(p)
            .zip(adt[own0 * P..own1 * P].chunks_exact(P))
        {
            for (d, &v) in row[c0..c0 + P].iter_mut().zip(src) {
                *d = v;
                bad |= not_finite(v);
            }
        }
        st.bad = bad != 0;
    };
    let chunks = &a.split.chunks;
    match a.pool {
        Some(pool) => pool.install(|| {
            use rayon::prelude::*;
            chunks
                .par_iter()
                .zip(states.par_iter_mut())
                .for_each(sweep_block)
        }),
        None => chunks.iter().zip(states.iter_mut()).for_each(sweep_block),
    }
    // Groups out of range among the inputs the blocks read (the others are checked
    // below); then the first failing guard in program order; the seeded values in block
    // order.
    if states.iter().any(|st| st.largest > p) {
        return Err(Stop::Group);
    }
    let mut acc = 0.0;
    for st in states.iter() {
        match st.result {
            Some(Ok(v)) => acc += v,
            Some(Err(b)) => return Err(Stop::Broken(b)),
            None => unreachable!("every block ran"),
        }
    }
    let value = seg.output_value(a.x) + acc;
    let rows = &mut out[..seg.n * p];
    let lanes = |j: usize| j * p + c0..j * p + c0 + P;
    let mut group = false;
    let mut unread = |j: usize, rows: &mut [f64]| {
        rows[lanes(j)].fill(0.0);
        if let Dirs::Groups(g) = a.dirs {
            group |= c0 == 0 && g[j] != usize::MAX && g[j] >= p;
        }
    };
    // The shared inputs, block by block: the tail of the first block that reads one is
    // copied, the heads of later blocks are added. Inputs below `covered` are done.
    let mut covered = 0;
    for (c, st) in chunks.iter().zip(states.iter()) {
        if c.lo == c.hi {
            continue;
        }
        for j in covered..c.lo {
            unread(j, rows);
        }
        for (j, src) in (c.lo..c.own.start).zip(st.head.chunks_exact(P)) {
            for (d, s) in rows[lanes(j)].iter_mut().zip(src) {
                *d += s;
            }
        }
        for (j, src) in (c.own.end..c.hi).zip(st.tail.chunks_exact(P)) {
            rows[lanes(j)].copy_from_slice(src);
        }
        covered = covered.max(c.hi);
    }
    for j in covered..seg.n {
        unread(j, rows);
    }
    if group {
        return Err(Stop::Group);
    }
    // Non-finite sums among the shared inputs (each is in one block's tail); the blocks
    // checked their own inputs.
    let mut bad = u64::from(states.iter().any(|st| st.bad));
    for c in chunks {
        for j in c.own.end..c.hi {
            for &v in &rows[lanes(j)] {
                bad |= not_finite(v);
            }
        }
    }
    Ok((value, bad != 0))
}

/// Writes lanes `c0..c0+P` of the directions into the input tangent slots. Returns one
/// more than the largest group (`usize::MAX`, no lane, counts as 0; 0 for dense
/// directions), so that the groups are validated in the same pass that reads them.
fn load_dirs<const P: usize>(
    tan: &mut [f64],
    n: usize,
    dirs: Dirs<'_>,
    p: usize,
    c0: usize,
) -> usize {
    match dirs {
        Dirs::Dense(d) => {
            for j in 0..n {
                tan[j * P..j * P + P].copy_from_slice(&d[j * p + c0..j * p + c0 + P]);
            }
            0
        }
        Dirs::Groups(g) => {
            let mut largest = 0;
            for (lanes, &gj) in tan[..n * P].chunks_exact_mut(P).zip(g) {
                // `usize::MAX` wraps to a huge lane that matches none. Each lane is selected
                // (not one element stored, then the row read back: that store-to-load
                // forwarding stall made this loop 8× slower).
                let lane = gj.wrapping_sub(c0);
                for (l, t) in lanes.iter_mut().enumerate() {
                    *t = if l == lane { 1.0 } else { 0.0 };
                }
                largest = largest.max(gj.wrapping_add(1));
            }
            largest
        }
    }
}

/// The p HVP directions in chunks of at most [`MAX_LANES`] lanes, each swept by
/// `chunk(width, first lane, out)`, which returns f(x) and whether a product may be
/// non-finite. The first stop fills `out` with NaN and becomes the error; then f(x) and
/// (if a chunk suspects one) the products are checked.
fn lane_chunks(
    dirs: Dirs<'_>,
    p: usize,
    out: &mut [f64],
    mut chunk: impl FnMut(usize, usize, &mut [f64]) -> Result<(f64, bool), Stop>,
) -> Result<(), TapeError> {
    let mut value = 0.0;
    let mut suspect = false;
    let mut c0 = 0;
    while c0 < p {
        let w = (p - c0).min(MAX_LANES);
        match chunk(w, c0, out) {
            Ok((v, bad)) => {
                value = v;
                suspect |= bad;
            }
            Err(stop) => {
                out.fill(f64::NAN);
                return Err(match (stop, dirs) {
                    (Stop::Broken(b), _) => broken(b),
                    (Stop::Group, Dirs::Groups(group)) => group_out_of_range(group, p),
                    (Stop::Group, Dirs::Dense(_)) => {
                        unreachable!("dense directions have no groups")
                    }
                });
            }
        }
        c0 += w;
    }
    if !value.is_finite() {
        return Err(TapeError::NonFinite {
            location: Location::Output { output: 0 },
            value,
        });
    }
    if suspect { hvp_finite(out, p) } else { Ok(()) }
}

/// Why a chunk of HVP lanes stopped.
enum Stop {
    /// A guard saw a different branch than the recording.
    Broken(sweep::Broken),
    /// A group is not below the number of lanes.
    Group,
}

fn vjp_chunk<const A: usize>(
    prog: &Program,
    ws: &mut Workspace,
    seeds: &[f64],
    p: usize,
    c0: usize,
    out: &mut [f64],
    sp: usize,
) {
    let (n, ns) = (prog.n, prog.nslots);
    ensure(&mut ws.adj, ns * A);
    let adj = &mut ws.adj[..ns * A];
    adj.fill(0.0);
    for (i, &s) in prog.out_slots.iter().enumerate() {
        let s = s as usize;
        for l in 0..A {
            adj[s * A + l] += seeds[i * p + c0 + l];
        }
    }
    sweep::reverse_first::<A>(&prog.ins, &prog.consts, adj, &ws.stack, sp);
    for j in 0..n {
        out[j * p + c0..j * p + c0 + A].copy_from_slice(&adj[j * A..j * A + A]);
    }
}

fn jvp_chunk<const P: usize>(
    prog: &Program,
    ws: &mut Workspace,
    x: &[f64],
    dirs: &[f64],
    p: usize,
    c0: usize,
    out: &mut [f64],
) -> Result<(), sweep::Broken> {
    let ns = prog.nslots;
    ensure(&mut ws.tan, ns * P);
    // Every sweep starts from the inputs: slots of dead inputs are reused.
    ws.val[..prog.n].copy_from_slice(x);
    load_dirs::<P>(&mut ws.tan, prog.n, Dirs::Dense(dirs), p, c0);
    sweep::run_forward::<P, false>(prog, &mut ws.val, &mut ws.tan, &mut [])?;
    for (i, &s) in prog.out_slots.iter().enumerate() {
        let s = s as usize;
        out[i * p + c0..i * p + c0 + P].copy_from_slice(&ws.tan[s * P..s * P + P]);
    }
    Ok(())
}

#[cfg(test)]
fn hvp_chunk<const P: usize>(
    prog: &Program,
    ws: &mut Workspace,
    x: &[f64],
    dirs: Dirs<'_>,
    p: usize,
    c0: usize,
    out: &mut [f64],
) -> Result<(), sweep::Broken> {
    let (n, ns) = (prog.n, prog.nslots);
    ensure(&mut ws.tan, ns * P);
    ensure(&mut ws.adj, ns);
    ensure(&mut ws.adt, ns * P);
    ensure(&mut ws.stack, prog.first_len + P * prog.q_len);
    // Every sweep starts from the inputs: slots of dead inputs are reused.
    ws.val[..n].copy_from_slice(x);
    load_dirs::<P>(&mut ws.tan, n, dirs, p, c0);
    let sp = sweep::run_forward::<P, true>(prog, &mut ws.val, &mut ws.tan, &mut ws.stack)?;
    let adj = &mut ws.adj[..ns];
    let adt = &mut ws.adt[..ns * P];
    adj.fill(0.0);
    adt.fill(0.0);
    adj[prog.out_slots[0] as usize] = 1.0;
    sweep::reverse_second::<P>(&prog.ins, &prog.consts, adj, adt, &ws.stack, sp);
    for j in 0..n {
        out[j * p + c0..j * p + c0 + P].copy_from_slice(&adt[j * P..j * P + P]);
    }
    Ok(())
}

/// Grows `ws` for a Hessian-vector sweep of `seg` (or of one of its row blocks) over `ns`
/// slots with `lanes` lanes: what the sweeps size on use and `Tape::reserve_hvp` ahead of
/// them, one sizing for both.
fn size_hvp(ws: &mut Workspace, seg: &Segmented, ns: usize, lanes: usize) {
    ensure_mapped(&mut ws.val, ns);
    ensure_mapped(&mut ws.tan, ns * lanes);
    ensure_mapped(&mut ws.adj, ns);
    ensure_mapped(&mut ws.adt, ns * lanes);
    ensure_mapped(&mut ws.stack, seg.stack_len(lanes));
}

/// [`ensure`], with a first allocation's pages mapped in one call
/// ([`memory::zeros_mapped`](crate::memory::zeros_mapped)) instead of by a fault per page
/// while zeros are written.
fn ensure_mapped(v: &mut Vec<f64>, len: usize) {
    if v.is_empty() && len > 0 {
        *v = crate::memory::zeros_mapped(len);
    } else {
        ensure(v, len);
    }
}

fn seg_chunk<const P: usize>(
    seg: &Segmented,
    ws: &mut Workspace,
    dirs: Dirs<'_>,
    p: usize,
    c0: usize,
    out: &mut [f64],
) -> Result<(f64, bool), Stop> {
    let (n, ns) = (seg.n, seg.nslots);
    // The inputs are in `val[..n]` (`load_inputs`); the segmented program never reuses
    // their slots.
    size_hvp(ws, seg, ns, P);
    if load_dirs::<P>(&mut ws.tan, n, dirs, p, c0) > p {
        return Err(Stop::Group);
    }
    // Adjoints of inputs are never read or written.
    let adj = &mut ws.adj[..ns];
    adj[n..].fill(0.0);
    let adt = &mut ws.adt[..ns * P];
    adt.fill(0.0);
    let value = seg
        .hvp::<P>(&mut ws.val, &mut ws.tan, adj, adt, &mut ws.stack)
        .map_err(Stop::Broken)?;
    // Copy the input adjoint-tangents out and look for non-finite values in the same pass
    // (the exponent test vectorises; `hvp_finite` locates a hit afterwards).
    let mut bad = 0u64;
    if p == P {
        for (o, &v) in out[..n * P].iter_mut().zip(&adt[..n * P]) {
            *o = v;
            bad |= not_finite(v);
        }
    } else {
        for j in 0..n {
            out[j * p + c0..j * p + c0 + P].copy_from_slice(&adt[j * P..j * P + P]);
        }
        bad = 1; // checked as a whole at the end
    }
    Ok((value, bad != 0))
}

/// The exponent bits of an `f64`: all set exactly for ±∞ and NaN.
const EXPONENT: u64 = 0x7ff0_0000_0000_0000;

/// 1 if `v` is ±∞ or NaN, else 0: OR-ed over a loop without a branch, so the loop
/// vectorises.
#[inline(always)]
fn not_finite(v: f64) -> u64 {
    u64::from(v.to_bits() & EXPONENT == EXPONENT)
}
