//! The instruction set of the tape (the opcodes [`Code`], generated from the table of
//! elementary operations in [`crate::op`]) and the replay program compiled from a
//! recording: dead code removed, every node given a storage slot (slots are reused once a
//! node is dead), and the instruction stream pre-decoded into 16-byte records.

use std::cmp::Ordering;

// `Code` and its mapping to and from the operations, generated from the table of
// `crate::op`.
crate::op::opcodes!();

/// The constant of a constant-carrying operation as the constant array stores it: an
/// `f64`, exact for every `i32` exponent.
pub(crate) trait Stored: Copy {
    /// The stored value.
    fn stored(self) -> f64;
    /// The constant back from its stored value.
    fn from_stored(c: f64) -> Self;
}

impl Stored for f64 {
    #[inline(always)]
    fn stored(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_stored(c: f64) -> f64 {
        c
    }
}

impl Stored for i32 {
    #[inline(always)]
    fn stored(self) -> f64 {
        f64::from(self)
    }
    /// The exponent was stored from an `i32`.
    #[inline(always)]
    fn from_stored(c: f64) -> i32 {
        c as i32
    }
}

/// What the reverse sweep needs from the forward sweep of one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No arguments (a materialised constant).
    Leaf,
    /// Constant first derivatives, no second derivatives: nothing is stored.
    Affine,
    /// First derivatives depend on the arguments, second derivatives vanish: the first
    /// derivatives are stored.
    First,
    /// Second derivatives too: first derivatives and the second-order tangent terms are
    /// stored.
    Full,
}

impl Code {
    /// Values stored per instruction by a first-order forward sweep.
    pub(crate) fn first_len(self) -> usize {
        match self.kind() {
            Kind::Leaf | Kind::Affine => 0,
            Kind::First | Kind::Full => self.arity(),
        }
    }

    /// Second-order tangent terms stored per lane by a second-order forward sweep.
    pub(crate) fn q_len(self) -> usize {
        match self.kind() {
            Kind::Full => self.arity(),
            _ => 0,
        }
    }
}

/// Sentinel for "no node".
pub(crate) const NONE: u32 = u32::MAX;

/// Recorded instruction `(code, args)` as the replay programs run it, with its constant
/// (0 for codes without one): `x · x` becomes `x²` (one stored derivative instead of two,
/// one propagation instead of two). A recorded instruction with a constant
/// ([`Code::has_constant`]) keeps the constant's index in `consts` as its second argument
/// (see `Recorder::push`); it comes back as `NONE`.
#[inline]
pub(crate) fn lower(code: Code, args: [u32; 2], consts: &[f64]) -> (Code, [u32; 2], f64) {
    if code == Code::Mul && args[0] == args[1] {
        (Code::Sq, [args[0], NONE], 2.0)
    } else if code.has_constant() {
        (code, [args[0], NONE], consts[args[1] as usize])
    } else {
        (code, args, 0.0)
    }
}

/// One pre-decoded instruction: `dst ← code(a, b)` on storage slots. For unary codes with
/// a constant, `b` indexes the program's constant array; for `Const`, too.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(crate) struct Ins {
    pub(crate) code: Code,
    /// Whether the node is upstream of a curved (second-order) operation: only then does a
    /// Hessian-vector sweep carry its tangent and adjoint-tangent lanes.
    pub(crate) curved: bool,
    /// Segmented programs only: the node's value enters the output with a constant
    /// weight (the next entry of the seed list), which is also its initial adjoint.
    pub(crate) seeded: bool,
    pub(crate) dst: u32,
    pub(crate) a: u32,
    pub(crate) b: u32,
}

/// One side of a recorded comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Operand {
    /// A node (recording) or a slot (program).
    Node(u32),
    /// A constant.
    Const(f64),
}

/// A recorded comparison: before instruction `pos` runs, `lhs.partial_cmp(rhs)` must be
/// `outcome`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Guard {
    pub(crate) pos: u32,
    pub(crate) lhs: Operand,
    pub(crate) rhs: Operand,
    pub(crate) outcome: Option<Ordering>,
}

/// The replay program.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    /// Number of inputs; input j lives in slot j at the start of every sweep.
    pub(crate) n: usize,
    /// Number of storage slots.
    pub(crate) nslots: usize,
    pub(crate) ins: Vec<Ins>,
    pub(crate) consts: Vec<f64>,
    /// Slot of each output.
    pub(crate) out_slots: Vec<u32>,
    /// Guards with `pos` in program positions and operands in slots, in recording order.
    pub(crate) guards: Vec<Guard>,
    /// Stack length of a first-order forward sweep.
    pub(crate) first_len: usize,
    /// Second-order tangent terms per lane of a second-order forward sweep.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) q_len: usize,
}

impl Program {
    /// Compiles a recording (`n` inputs; instruction k defines node n + k).
    pub(crate) fn compile(
        n: usize,
        code: &[Code],
        args: &[[u32; 2]],
        consts: &[f64],
        outputs: &[u32],
        guards: &[Guard],
    ) -> Program {
        let nodes = n + code.len();
        let at = |k: usize| lower(code[k], args[k], consts);
        // Dead code: only what outputs and guards depend on is replayed.
        let mut live = vec![false; nodes];
        for &o in outputs {
            live[o as usize] = true;
        }
        for g in guards {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    live[v as usize] = true;
                }
            }
        }
        for k in (0..code.len()).rev() {
            if live[n + k] {
                let (c, a, _) = at(k);
                for &a in &a[..c.arity()] {
                    live[a as usize] = true;
                }
            }
        }
        // Curved nodes: arguments of operations with second derivatives, and everything
        // upstream of them. Elsewhere tangents are never needed (forward) and
        // adjoint-tangents are structurally zero (reverse).
        let mut curved = vec![false; nodes];
        for k in (0..code.len()).rev() {
            let (c, a, _) = at(k);
            if live[n + k] && (curved[n + k] || c.q_len() > 0) {
                for &a in &a[..c.arity()] {
                    curved[a as usize] = true;
                }
            }
        }
        // Program position of each recorded position (number of live instructions before).
        let mut pos_of = Vec::with_capacity(code.len() + 1);
        let mut count = 0u32;
        for k in 0..code.len() {
            pos_of.push(count);
            if live[n + k] {
                count += 1;
            }
        }
        pos_of.push(count);
        let len = count as usize;
        let end = count; // "used at the end": outputs
        // Last use of each node, in program positions.
        let mut last = vec![NONE; nodes];
        let mut p = 0u32;
        for k in 0..code.len() {
            if !live[n + k] {
                continue;
            }
            let (c, a, _) = at(k);
            for &a in &a[..c.arity()] {
                last[a as usize] = p;
            }
            p += 1;
        }
        let guards_prog: Vec<(u32, Guard)> = guards
            .iter()
            .map(|g| (pos_of[g.pos as usize], *g))
            .collect();
        for (gp, g) in &guards_prog {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    let l = &mut last[v as usize];
                    if *l == NONE || *l < *gp {
                        *l = *gp;
                    }
                }
            }
        }
        for &o in outputs {
            last[o as usize] = end;
        }
        // Nodes dying at each position; position `end` never frees.
        let (start, dying) = dying_buckets(&last, len);
        // Slot allocation: inputs in slots 0..n, then a LIFO free list.
        let mut slot = vec![NONE; nodes];
        let mut free: Vec<u32> = Vec::new();
        for j in (0..n).rev() {
            slot[j] = j as u32;
            if last[j] == NONE {
                free.push(j as u32);
            }
        }
        let mut nslots = n as u32;
        let mut ins = Vec::with_capacity(len);
        let mut pconsts = Vec::new();
        let (mut first_len, mut q_len) = (0usize, 0usize);
        let mut p = 0usize;
        for k in 0..code.len() {
            if !live[n + k] {
                continue;
            }
            if !dying.is_empty() {
                for &v in &dying[start[p] as usize..start[p + 1] as usize] {
                    free.push(slot[v as usize]);
                }
            }
            let dst = free.pop().unwrap_or_else(|| {
                nslots += 1;
                nslots - 1
            });
            slot[n + k] = dst;
            let (c, [a, b], cst) = at(k);
            let (a, b) = match c.arity() {
                0 => (0, push_const(&mut pconsts, cst)),
                1 if c.has_constant() => (slot[a as usize], push_const(&mut pconsts, cst)),
                1 => (slot[a as usize], 0),
                _ => (slot[a as usize], slot[b as usize]),
            };
            first_len += c.first_len();
            q_len += c.q_len();
            ins.push(Ins {
                code: c,
                curved: curved[n + k],
                seeded: false,
                dst,
                a,
                b,
            });
            p += 1;
        }
        let guards = relocate_guards(guards_prog, |v| slot[v as usize]);
        Program {
            n,
            nslots: nslots as usize,
            ins,
            consts: pconsts,
            out_slots: outputs.iter().map(|&o| slot[o as usize]).collect(),
            guards,
            first_len,
            q_len,
        }
    }
}

pub(crate) fn push_const(consts: &mut Vec<f64>, c: f64) -> u32 {
    consts.push(c);
    (consts.len() - 1) as u32
}

/// The entries dying at each position, as buckets: the `v` with `last[v] = p` are
/// `dying[start[p]..start[p + 1]]`, ascending (`NONE` entries are in none). Positions run
/// to `len` inclusive. No entry at all: two empty vectors (nothing to look up).
pub(crate) fn dying_buckets(last: &[u32], len: usize) -> (Vec<u32>, Vec<u32>) {
    if last.iter().all(|&l| l == NONE) {
        return (Vec::new(), Vec::new());
    }
    // Offsets fit u32: one entry per node, and nodes are u32 indices. Filled by counting
    // down from the bucket ends, so no second offset array is needed.
    let mut start: Vec<u32> = crate::memory::zeros_mapped(len + 2);
    for &l in last {
        if l != NONE {
            start[l as usize + 1] += 1;
        }
    }
    for i in 0..=len {
        start[i + 1] += start[i];
    }
    let mut dying: Vec<u32> = crate::memory::zeros_mapped(start[len + 1] as usize);
    for (v, &l) in last.iter().enumerate().rev() {
        if l != NONE {
            let end = &mut start[l as usize + 1];
            *end -= 1;
            dying[*end as usize] = v as u32;
        }
    }
    // Counting down left every bucket's end at its start: shift back.
    start.copy_within(1.., 0);
    start[len + 1] = dying.len() as u32;
    (start, dying)
}

/// Guards at their program positions with their node operands mapped to slots by `slot`.
pub(crate) fn relocate_guards(guards: Vec<(u32, Guard)>, slot: impl Fn(u32) -> u32) -> Vec<Guard> {
    let map = |op: Operand| match op {
        Operand::Node(v) => Operand::Node(slot(v)),
        c => c,
    };
    guards
        .into_iter()
        .map(|(pos, g)| Guard {
            pos,
            lhs: map(g.lhs),
            rhs: map(g.rhs),
            outcome: g.outcome,
        })
        .collect()
}
