//! The local Hessian pattern from a compiled program instead of a trace.
//!
//! A [`Segmented`] program is the recording with its affine accumulations folded into
//! constant weights and its chains of unary operations on linear combinations fused; its
//! dead code is gone. The sparsity tracer's rules (see [`crate::trace`], "What is computed,
//! exactly") applied to its instructions give the tracer's pattern of the recorded
//! function from a smaller DAG: 3 nodes per term of Rosenbrock against the trace's 6, 3
//! per point of the grid energy against 10 (the 1e6 grid's detection: 0.39 → 0.22 s):
//!
//! * **Folded instructions** are affine: they contribute no second-order pairs, and their
//!   first-order sets only reach the output, which is a sum of every instruction left
//!   (each is read by a later one or enters the output with its weight). So every node
//!   built here contributes, as every live node of the trace does.
//! * **A fused instruction** `u₂(u₁(α·u_a(a) + β·u_b(b) + γ))` is the trace's nodes of its
//!   parts: `u_a(a)` and `u_b(b)` where they are nonlinear, the union of the two terms,
//!   then `u₁` and `u₂` where they are nonlinear, each by its own curvature (`abs` and
//!   `x % c` are linear for the tracer, though the compile fuses them).
//! * **`x · x`** runs as `x²`: the trace's bilinear `S(x)×S(x)` is the same pairs.
//!
//! Where the tracer and the program could differ, this gives up (`None`, and the function
//! is traced instead):
//!
//! * an operation that kills its argument (`0·x`, `0/x`): the tracer makes it a constant,
//!   the recording keeps the node. A folded `0·x` leaves only a zero weight behind, so the
//!   caller looks for such operations in the recording; here a fused instruction with a
//!   zero weight α or β, or a killing unary, is refused as well;
//! * a binary instruction with a constant side other than `atan2` (the tracer looks at
//!   the constant's value; the recording never makes one, but it is cheap to refuse).
//!
//! Comparisons, raw value reads and the other conditions of a trace are checked by the
//! caller ([`Tape::hessian_pattern`](crate::tape::Tape::hessian_pattern)).
//!
//! The nodes the rules make go to a [`Sink`]: a node list for the tracer's pattern code
//! ([`trace_nodes`]), or, where every set stays small, straight into first-order sets and
//! second-order records ([`trace_sets`], tried first).

use super::flag::{EAGER, LIN2, SEEDED};
use super::{SIns, Segmented, Split};
use crate::memory::Spare;
use crate::op::Curvature;
use crate::tape::program::{Code, NONE};
use crate::trace::Pair;
use crate::trace::{ID_BITS, Kind, MAX_NODES, kills};

/// Where the trace nodes of a program's instructions go: each node gets a handle that
/// later nodes name as a child (handles below `n` are the inputs).
trait Sink {
    /// A node of `kind` with children `a` and `b` (handles, never [`NONE`]); `None` to give
    /// up.
    fn node(&mut self, kind: Kind, a: u32, b: u32) -> Option<u32>;
}

/// The nodes themselves, for the tracer's pattern code: node `n + k` is `nodes[k]`.
struct List {
    n: usize,
    nodes: Vec<[u32; 2]>,
}

impl Sink for List {
    #[inline]
    fn node(&mut self, kind: Kind, a: u32, b: u32) -> Option<u32> {
        let id = self.n + self.nodes.len();
        if id >= MAX_NODES {
            return None;
        }
        self.nodes.push([a | ((kind as u32) << ID_BITS), b]);
        Some(id as u32)
    }
}

/// The nodes' first-order sets and second-order records at once, for programs whose sets
/// stay small (sums of local terms: every set of the 1e6 Rosenbrock and grid programs has
/// one or two inputs). A handle at or above `n` is a set of the pool (`n + k`: set `k`); a
/// node's set is built when the node is, as the union of its children's, so no node list,
/// memo or walk is needed (the 1e6 grid's node list and the tracer's records from it took
/// 23–24 + 43–47 ms, these 62–65). The records are the tracer's, node by node ([`Kind`]).
/// Gives up
/// (`None`) on a set longer than [`SMALL`], whose unions by scanning would cost its length
/// squared and whose copies its length per node: such programs take [`List`].
struct Direct {
    n: usize,
    /// Trace nodes made (the count [`List`] would have).
    nodes: usize,
    /// Set k is `pool[starts[k]..starts[k + 1]]`, duplicate-free.
    starts: Vec<u32>,
    pool: Vec<u32>,
    /// 1 + the index of input i's set `{i}`, 0 while it has none.
    input_set: Vec<u32>,
    /// Pairs of sets (X, Y), each standing for X×Y ∪ Y×X.
    records: Vec<Pair>,
}

/// The longest set [`Direct`] builds.
const SMALL: usize = 16;

impl Direct {
    /// The set index of handle `h`.
    #[inline]
    fn set_of(&mut self, h: u32) -> Option<u32> {
        let hu = h as usize;
        if hu >= self.n {
            return Some((hu - self.n) as u32);
        }
        let memo = self.input_set[hu];
        if memo != 0 {
            return Some(memo - 1);
        }
        self.pool.push(h);
        let k = self.close()?;
        self.input_set[hu] = k + 1;
        Some(k)
    }

    /// Ends the set being pushed onto the pool; its index.
    #[inline]
    fn close(&mut self) -> Option<u32> {
        let k = self.starts.len() - 1;
        let end = u32::try_from(self.pool.len()).ok()?;
        if self.n + k >= MAX_NODES {
            return None;
        }
        self.starts.push(end);
        Some(k as u32)
    }

    /// The elements of handle `h`'s set: `{h}` for an input, else a range of the pool.
    #[inline]
    fn range(&self, h: u32) -> Result<u32, (usize, usize)> {
        let hu = h as usize;
        if hu < self.n {
            Ok(h)
        } else {
            let k = hu - self.n;
            Err((self.starts[k] as usize, self.starts[k + 1] as usize))
        }
    }

    /// A new handle (a node's: never one of its children's, as with [`List`], so that
    /// the rules of [`Nodes`] that compare handles make the same nodes) of S(a) ∪ S(b).
    #[inline]
    fn union(&mut self, a: u32, b: u32) -> Option<u32> {
        let start = self.pool.len();
        match self.range(a) {
            Ok(i) => self.pool.push(i),
            Err((s, e)) => self.pool.extend_from_within(s..e),
        }
        let mid = self.pool.len();
        let add = |pool: &mut Vec<u32>, i: u32| {
            if !pool[start..mid].contains(&i) {
                pool.push(i);
            }
        };
        match self.range(b) {
            _ if b == a => {}
            Ok(i) => add(&mut self.pool, i),
            Err((s, e)) => {
                for k in s..e {
                    let i = self.pool[k];
                    add(&mut self.pool, i);
                }
            }
        }
        if self.pool.len() - start > SMALL {
            return None;
        }
        Some(self.close()? + self.n as u32)
    }
}

impl Sink for Direct {
    #[inline]
    fn node(&mut self, kind: Kind, a: u32, b: u32) -> Option<u32> {
        self.nodes += 1;
        if self.n + self.nodes > MAX_NODES {
            return None;
        }
        // The node's set, then its record (as `trace::sets::records` makes it).
        let v = self.union(a, b)?;
        let record = match kind {
            Kind::Union => return Some(v),
            Kind::Bilinear => [self.set_of(a)?, self.set_of(b)?],
            Kind::NonlinearInSecond => [self.set_of(v)?, self.set_of(b)?],
            Kind::Nonlinear => {
                let s = self.set_of(v)?;
                [s, s]
            }
        };
        self.records.push(Pair(record));
        Some(v)
    }
}

/// The trace nodes of a program's instructions under construction.
struct Nodes<S> {
    /// Number of inputs (handles below are inputs).
    n: usize,
    sink: S,
    /// Inputs whose square S(xᵢ)² = {(i, i)} is recorded: a second record of it adds
    /// nothing (Rosenbrock squares each xᵢ twice; a third of its records).
    squared: Vec<bool>,
    /// Per code without a constant, its [`nonlinear`] once worked out (0: not yet;
    /// [`LINEAR`], [`NONLINEAR`], [`NOT_UNARY`]): the tracer's rule per instruction part
    /// built an operation each time (1e6 trace nodes: Rosenbrock 33 → 24–26 ms, grid 39 →
    /// 29–30 ms).
    class: [u8; 256],
}

const LINEAR: u8 = 1;
const NONLINEAR: u8 = 2;
const NOT_UNARY: u8 = 3;

impl<S: Sink> Nodes<S> {
    /// [`nonlinear`], looked up for codes without a constant.
    #[inline]
    fn nonlinear_cached(&mut self, u: Code, c: f64) -> Option<bool> {
        if u.has_constant() && u != Code::Const {
            return nonlinear(u, c);
        }
        let slot = &mut self.class[u as u8 as usize];
        if *slot == 0 {
            *slot = match nonlinear(u, c) {
                Some(false) => LINEAR,
                Some(true) => NONLINEAR,
                None => NOT_UNARY,
            };
        }
        match *slot {
            LINEAR => Some(false),
            NONLINEAR => Some(true),
            _ => None,
        }
    }

    #[inline]
    fn push(&mut self, kind: Kind, a: u32, b: u32) -> Option<u32> {
        self.sink.node(kind, a, b)
    }

    /// A nonlinear operation of the value of handle `h` ≠ [`NONE`]: its pairs S(h)². The
    /// handle returned is `h` itself: the operation's node has the set S(h), so a
    /// consumer's node may name `h` instead, and its set is built without a step through
    /// the node.
    fn square(&mut self, h: u32) -> Option<u32> {
        let input = (h as usize) < self.n;
        if !(input && self.squared[h as usize]) {
            self.push(Kind::Nonlinear, h, h)?;
            if input {
                self.squared[h as usize] = true;
            }
        }
        Some(h)
    }

    /// Unary code `u` with constant `c` on the value of handle `h` (the tracer's rule).
    fn unary(&mut self, u: Code, c: f64, h: u32) -> Option<u32> {
        let nonlinear = self.nonlinear_cached(u, c)?;
        if h != NONE && nonlinear {
            self.square(h)
        } else {
            Some(h)
        }
    }

    /// A linear combination of two handles.
    fn union(&mut self, a: u32, b: u32) -> Option<u32> {
        if a == NONE || a == b {
            Some(b)
        } else if b == NONE {
            Some(a)
        } else {
            self.push(Kind::Union, a, b)
        }
    }

    /// One instruction; `slot` gives the handle a slot holds.
    fn instruction(&mut self, i: &SIns, consts: &[f64], slot: impl Fn(u32) -> u32) -> Option<u32> {
        match i.code {
            Code::Const => Some(NONE),
            Code::Fused => {
                let k = i.c as usize + usize::from(i.flags & SEEDED != 0);
                // [α, β, γ, c₁, c₂, c_a, c_b]
                let blk = consts.get(k..k + 7)?;
                let two = i.flags & LIN2 != 0;
                if blk[0] == 0.0 || (two && blk[1] == 0.0) {
                    return None;
                }
                let a = self.unary(i.ua, blk[5], slot(i.a))?;
                let b = if two {
                    self.unary(i.ub, blk[6], slot(i.b))?
                } else {
                    NONE
                };
                // The outer operations: one nonlinear node over both terms if either is
                // nonlinear (its set is their union, its pairs the union's square, as the
                // trace's union node and nonlinear node give), else their union.
                let outer =
                    self.nonlinear_cached(i.u1, blk[3])? | self.nonlinear_cached(i.u2, blk[4])?;
                match (outer, a, b) {
                    (false, a, b) => self.union(a, b),
                    (true, NONE, NONE) => Some(NONE),
                    (true, h, NONE) | (true, NONE, h) => self.square(h),
                    (true, a, b) if a == b => self.square(a),
                    (true, a, b) => self.push(Kind::Nonlinear, a, b),
                }
            }
            c if c.arity() == 1 => {
                let cst = if c.has_constant() {
                    *consts.get(i.b as usize)?
                } else {
                    0.0
                };
                self.unary(c, cst, slot(i.a))
            }
            c => {
                let op = c.binary()?;
                let (a, b) = (slot(i.a), slot(i.b));
                match (a, b, op.curvature()) {
                    (NONE, NONE, _) => Some(NONE),
                    (h, NONE, Curvature::Nonlinear) | (NONE, h, Curvature::Nonlinear) => {
                        self.push(Kind::Nonlinear, h, h)
                    }
                    (_, NONE, _) | (NONE, _, _) => None,
                    (a, b, Curvature::Linear) => self.union(a, b),
                    (a, b, Curvature::Bilinear) => self.push(Kind::Bilinear, a, b),
                    (a, b, Curvature::NonlinearInSecond) => {
                        self.push(Kind::NonlinearInSecond, a, b)
                    }
                    (a, b, Curvature::Nonlinear) => self.push(Kind::Nonlinear, a, b),
                }
            }
        }
    }

    /// The instructions `ins` of a program with `n_local` input slots (input slot j is
    /// input `base + j`) and temporaries from `n_local` on.
    fn run(
        &mut self,
        ins: &[SIns],
        consts: &[f64],
        n_local: usize,
        base: usize,
        temps: &mut [u32],
    ) -> Option<()> {
        for (p, i) in ins.iter().enumerate() {
            crate::memory::prefetch(ins, p + crate::memory::AHEAD);
            let h = {
                let temps = &*temps;
                let slot = |s: u32| -> u32 {
                    let s = s as usize;
                    if s < n_local {
                        (base + s) as u32
                    } else {
                        temps[s - n_local]
                    }
                };
                self.instruction(i, consts, slot)?
            };
            if i.flags & EAGER == 0 {
                *temps.get_mut((i.dst as usize).checked_sub(n_local)?)? = h;
            }
        }
        Some(())
    }
}

/// Whether unary code `u` with constant `c` has a second-order contribution (`Code::Const`:
/// no operation, a fused instruction's empty slot); `None` for an operation that kills its
/// argument (`0·x`: a constant for the tracer) or a code that is not a unary operation.
fn nonlinear(u: Code, c: f64) -> Option<bool> {
    if u == Code::Const {
        return Some(false);
    }
    let op = u.unary(c)?;
    (!kills(op)).then(|| op.curvature() != Curvature::Linear)
}

/// Runs the tracer's rules on the instructions of `seg` (in `split` if it was split),
/// sending each trace node to `sink`; `None` where the program cannot stand for the trace
/// (see the module docs) or the sink gives up.
fn run_program<S: Sink>(seg: &Segmented, split: Option<&Split>, sink: S) -> Option<S> {
    let n = seg.n;
    let mut nodes = Nodes {
        n,
        sink,
        squared: vec![false; n],
        class: [0; 256],
    };
    let mut temps = vec![NONE; seg.nslots - n];
    match split {
        None => nodes.run(&seg.ins, &seg.consts, n, 0, &mut temps)?,
        Some(split) => {
            for c in &split.chunks {
                nodes.run(split.ins_of(c), &seg.consts, c.hi - c.lo, c.lo, &mut temps)?;
            }
        }
    }
    Some(nodes.sink)
}

/// The number of instructions of `seg` (in `split` if it was split).
fn instructions(seg: &Segmented, split: Option<&Split>) -> usize {
    seg.ins.len() + split.map_or(0, |s| s.ins.len())
}

/// The trace nodes of `seg` (its instructions in `split` if it was split), every one of
/// which contributes to the output; `None` where the program cannot stand for the trace
/// (see the module docs).
pub(crate) fn trace_nodes(seg: &Segmented, split: Option<&Split>) -> Option<Vec<[u32; 2]>> {
    let list = List {
        n: seg.n,
        // At most three nodes per instruction (a fused one's two terms and its outer
        // operation): reserved, so that growing never copies.
        nodes: Vec::with_capacity(3 * instructions(seg, split)),
    };
    run_program(seg, split, list).map(|l| l.nodes)
}

/// The first-order sets and second-order records of a program's trace nodes
/// ([`trace_sets`]).
pub(crate) struct TraceSets {
    /// The number of trace nodes.
    pub(crate) nodes: usize,
    /// Set k is `pool[starts[k]..starts[k + 1]]`.
    pub(crate) starts: Vec<u32>,
    pub(crate) pool: Vec<u32>,
    /// Pairs of set indices (X, Y), each standing for X×Y ∪ Y×X.
    pub(crate) records: Vec<Pair>,
}

/// The sets and records of the trace nodes of `seg` (as [`trace_nodes`] would give them
/// to the tracer's pattern code), built as the nodes are; `None` where the program cannot
/// stand for the trace or a set grows past [`SMALL`] inputs (then take [`trace_nodes`]).
///
/// Its arrays are taken from `spare` where it has them.
pub(crate) fn trace_sets(
    seg: &Segmented,
    split: Option<&Split>,
    spare: &mut Spare,
) -> Option<TraceSets> {
    let instructions = instructions(seg, split);
    let nodes = 3 * instructions;
    // At most a record per node, a set per node and per input: reserved, so that growing
    // never copies (or a spare buffer that grows without a copy). The records ask first
    // (they fill the most pages), then the pool, whose size is close to its request (most
    // sets have one or two inputs), before the set offsets, whose bound is loose: they
    // take what is left and grow past it (1e6 grid: 3.0e6 sets against a bound of 1e7).
    let records = spare.for_about(nodes);
    let pool = spare.with_capacity(2 * instructions);
    let mut starts = spare.for_about(nodes + seg.n + 1);
    starts.push(0);
    let direct = Direct {
        n: seg.n,
        nodes: 0,
        starts,
        pool,
        input_set: spare.zeros(seg.n),
        records,
    };
    let d = run_program(seg, split, direct)?;
    spare.put(d.input_set);
    Some(TraceSets {
        nodes: d.nodes,
        starts: d.starts,
        pool: d.pool,
        records: d.records,
    })
}
