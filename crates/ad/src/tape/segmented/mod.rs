//! The replay program of second-order sweeps of a scalar function (Hessian-vector
//! products): the accumulation of the objective folded away, chains of unary operations on
//! linear combinations fused, terms with a constant adjoint finished during the forward
//! sweep, and the reverse sweep run piecewise, right after the forward sweep of each piece.
//!
//! **Constant adjoints (folding).** A node whose every consumer is an affine operation
//! (`+`, `−`, `x + c`, `c·x`, `c − x`, `−x`) with a constant adjoint itself has a constant
//! adjoint (the output's is 1): the adjoints of a sum `Σ cₖ·termₖ` are the `cₖ`. Such
//! affine instructions are *folded*: the output value is the affine function
//! `constant + Σ_v seed_v · value_v` of the nodes they read (the *seeded* nodes and inputs,
//! `seed_v` = ∂f/∂v through the folded instructions), accumulated in a register by the
//! forward sweep. Their adjoint-tangents are structurally zero; the reverse sweep never
//! visits them.
//!
//! **Fusion.** A unary operation of a linear combination of at most two nodes, each
//! possibly under a unary operation of its own, `u(α·v_a(a) + β·v_b(b) + γ)`, is one
//! instruction when the inner nodes are computed only for it (no other consumer), and so
//! is a unary operation of such an instruction used only there: `u₂(u₁(…))`, with the chain
//! rule applied to the scalar derivatives. The linear combination is evaluated exactly as
//! recorded (same operations, same order: `x·c` and `−x` and `x ± y` and `+ c` compose
//! only where the result is bit for bit the recorded one), so values are unchanged;
//! derivatives may differ in the last bits. `100·(x_{i+1} − x_i·x_i)²` is one
//! instruction (its node is read by the folded scaling), and so is `(x_p − x_q)⁴` written
//! as `d2·d2` of `d2 = d·d`, `d = x_p − x_q`.
//!
//! **Eager terms.** An instruction whose node has a constant adjoint (read only by folded
//! instructions) is not curved and has a known adjoint (its seed): its reverse step runs
//! during the forward sweep (nothing is stored) and the reverse sweep skips it.
//!
//! **Segments.** The remaining instructions are split into contiguous *segments* such
//! that every instruction's consumers lie in its own segment. The adjoint of a node is then
//! complete once the reverse sweep of its segment has passed its consumers: each segment
//! runs its forward sweep and at once its reverse sweep, and the stack of local
//! derivatives never holds more than one segment (it stays in the L1 cache instead of
//! streaming through memory). Input slots are never reused: their adjoint-tangents
//! accumulate across segments. A function that is not a sum of terms (every instruction
//! feeds a later one) is one segment: the classic forward-then-reverse sweep.
//!
//! The phases live in two files: `compile.rs` turns a recording into a [`Segmented`]
//! program (liveness, folding, fusion, segmentation, slot allocation and lowering to
//! [`SIns`] records, then a validation of what the sweeps rely on) and `sweep.rs` replays
//! it (the forward and reverse lane sweeps of each segment, eager terms, guard checks).

use super::program::{Code, Guard};

pub(crate) use pattern::{trace_nodes, trace_sets};
pub(crate) use split::{Chunk, Split};

mod compile;
mod pattern;
#[cfg(test)]
mod random_tests;
mod split;
mod sweep;
#[cfg(test)]
mod tests;

/// Flags of an instruction.
pub(crate) mod flag {
    /// Upstream of a curved operation: tangent and adjoint-tangent lanes.
    pub(crate) const CURVED: u8 = 1;
    /// Read by folded instructions: its value enters the output with the weight at
    /// `consts[c]`, which is also its initial adjoint.
    pub(crate) const SEEDED: u8 = 2;
    /// Constant adjoint: the reverse step runs in the forward sweep.
    pub(crate) const EAGER: u8 = 4;
    /// The first (second) argument is a temporary whose adjoint is read.
    pub(crate) const ADJ_A: u8 = 8;
    pub(crate) const ADJ_B: u8 = 16;
    /// Fused: the linear argument has a second node `b`.
    pub(crate) const LIN2: u8 = 32;
    /// Fused: the linear argument has a constant γ.
    pub(crate) const LINC: u8 = 64;
}

/// One instruction of a segmented program: `dst ← code(a, b)` on slots. `b` is the second
/// argument of binary and two-node fused instructions, the constant index of unary
/// instructions with a constant and of `Const`. `c` is the constant block: the seed (if
/// seeded), then for fused instructions `[α, β, γ, c₁, c₂, c_a, c_b]` (the constants of
/// `u1`, `u2`, `ua`, `ub`).
/// Eager instructions have no slot (`dst` unused).
///
/// Aligned to 8 bytes (its size stays 24): so that the compile's constant adjoints (`f64`),
/// read no more once the roots are fused, lend their mapped pages to the instructions
/// (`memory::Spare` hands a buffer out at the alignment it was made with). The 1e6 grid's
/// program is 72 MB of instructions: 18 000 fresh pages fewer, and its backend stage took
/// 0.423 / 0.434 s instead of 0.448 / 0.460 s (min / median of 8 alternated runs).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(8))]
pub(crate) struct SIns {
    pub(crate) code: Code,
    pub(crate) flags: u8,
    /// Fused: the inner unary operation.
    pub(crate) u1: Code,
    /// Fused: the outer unary operation (`Code::Const`: none).
    pub(crate) u2: Code,
    /// Fused: the unary operations on the nodes `a` and `b` (`Code::Const`: none).
    pub(crate) ua: Code,
    pub(crate) ub: Code,
    pub(crate) dst: u32,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) c: u32,
}

// Three words: the alignment adds no padding.
const _: () = assert!(std::mem::size_of::<SIns>() == 24);

/// The program of second-order sweeps of a scalar function.
#[derive(Debug, Clone)]
pub(crate) struct Segmented {
    /// Number of inputs (slots `0..n`, never reused).
    pub(crate) n: usize,
    /// Number of storage slots.
    pub(crate) nslots: usize,
    /// The instructions, in recording order.
    pub(crate) ins: Vec<SIns>,
    /// Constants (deduplicated); empty in a chunk of a [`Split`] program, which reads its
    /// parent's.
    pub(crate) consts: Vec<f64>,
    /// The length of the constant pool the instructions index (`consts.len()`, or the
    /// parent's for a chunk).
    pub(crate) consts_len: usize,
    /// Segment boundaries: segment s is `ins[bounds[s]..bounds[s + 1]]`.
    pub(crate) bounds: Vec<u32>,
    /// Whether segment s has instructions that are not eager (a reverse sweep).
    pub(crate) reversed: Vec<bool>,
    /// Guards with `pos` in program positions and operands in slots.
    pub(crate) guards: Vec<Guard>,
    /// The constant part of the output value.
    pub(crate) constant: f64,
    /// Inputs read by folded instructions, with their weights in the output value.
    pub(crate) input_seeds: Vec<(u32, f64)>,
    /// The largest first-order stack length of one segment.
    pub(crate) first_len: usize,
    /// The largest number of second-order terms per lane of one segment.
    pub(crate) q_len: usize,
}

impl Segmented {
    /// Stack length of a sweep with `p` lanes.
    pub(crate) fn stack_len(&self, p: usize) -> usize {
        self.first_len + p * self.q_len
    }
}
