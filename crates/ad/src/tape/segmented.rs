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

#![allow(clippy::needless_range_loop)] // lane and position loops index several arrays

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::program::{Code, Guard, Kind, NONE, Operand, lower};
use super::sweep::{Broken, fast, operand};
use crate::op::{Binary, Curvature, Unary};

/// Consecutive closed segments are merged up to at least this many instructions (fewer
/// calls; the stack of a segment of this size fits the L1 cache with 8 lanes).
const MIN_SEGMENT: usize = 64;
/// Eager terms only in segments up to this length: the temporaries they write adjoints to
/// keep their slots until the end of the segment.
const EAGER_SEGMENT: usize = 1 << 12;
/// Most nodes one linear argument absorbs, and the deepest chain it follows.
const MAX_ABSORB: usize = 8;

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
use flag::*;

/// One instruction of a segmented program: `dst ← code(a, b)` on slots. `b` is the second
/// argument of binary and two-node fused instructions, the constant index of unary
/// instructions with a constant and of `Const`. `c` is the constant block: the seed (if
/// seeded), then for fused instructions `[α, β, γ, c₁, c₂, c_a, c_b]` (the constants of
/// `u1`, `u2`, `ua`, `ub`).
/// Eager instructions have no slot (`dst` unused).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
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

/// The program of second-order sweeps of a scalar function.
#[derive(Debug, Clone)]
pub(crate) struct Segmented {
    /// Number of inputs (slots `0..n`, never reused).
    pub(crate) n: usize,
    /// Number of storage slots.
    pub(crate) nslots: usize,
    /// The instructions, in recording order.
    pub(crate) ins: Vec<SIns>,
    /// Constants (deduplicated).
    pub(crate) consts: Vec<f64>,
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

/// Whether an affine instruction can be folded into the output's affine form (its value
/// is an affine function of its arguments; `x % c` is not).
fn foldable(c: Code) -> bool {
    matches!(
        c,
        Code::Const | Code::Add | Code::Sub | Code::Neg | Code::AddC | Code::MulC | Code::SubFromC
    )
}

/// The operations a linear argument is made of.
fn linear_code(c: Code) -> bool {
    matches!(
        c,
        Code::Add | Code::Sub | Code::Neg | Code::AddC | Code::MulC | Code::SubFromC
    )
}

/// Unary operations that fuse (as `u1` or `u2`).
fn fusable_unary(c: Code) -> bool {
    c.arity() == 1 && !linear_code(c) && c != Code::Fused && c != Code::Const
}

/// A linear argument `α·a [+ β·b] [+ γ]`, evaluated left to right.
#[derive(Debug, Clone, Copy)]
struct Lin {
    terms: [(u32, f64); 2],
    /// A unary operation applied to the node of each term (`Code::Const`: none).
    inner: [(Code, f64); 2],
    len: usize,
    gamma: Option<f64>,
    absorbed: [u32; MAX_ABSORB],
    nabs: usize,
}

impl Lin {
    fn leaf(v: u32, alpha: f64) -> Lin {
        Lin {
            terms: [(v, alpha), (NONE, 0.0)],
            inner: [(Code::Const, 0.0); 2],
            len: 1,
            gamma: None,
            absorbed: [NONE; MAX_ABSORB],
            nabs: 0,
        }
    }

    /// `−L`: exact (rounding to nearest is symmetric).
    fn neg(mut self) -> Lin {
        for t in &mut self.terms[..self.len] {
            t.1 = -t.1;
        }
        self.gamma = self.gamma.map(|g| -g);
        self
    }

    /// `L₁ + L₂` when both are bare terms and fit.
    fn add(mut self, other: &Lin) -> Option<Lin> {
        if self.gamma.is_some()
            || other.gamma.is_some()
            || self.len + other.len > 2
            || self.nabs + other.nabs > MAX_ABSORB
        {
            return None;
        }
        self.terms[self.len] = other.terms[0];
        self.inner[self.len] = other.inner[0];
        self.len += 1;
        self.absorbed[self.nabs..self.nabs + other.nabs]
            .copy_from_slice(&other.absorbed[..other.nabs]);
        self.nabs += other.nabs;
        Some(self)
    }

    fn absorb(mut self, v: u32) -> Option<Lin> {
        if self.nabs == MAX_ABSORB {
            return None;
        }
        self.absorbed[self.nabs] = v;
        self.nabs += 1;
        Some(self)
    }

    /// Whether this is a bare node (nothing to fuse).
    fn is_bare(&self) -> bool {
        self.len == 1
            && self.gamma.is_none()
            && self.terms[0].1 == 1.0
            && self.inner[0].0 == Code::Const
    }
}

/// Deduplicated constants (blocks compared bit for bit).
#[derive(Default)]
struct Pool {
    consts: Vec<f64>,
    index: HashMap<(usize, [u64; 8]), u32, BuildHasherDefault<BitsHasher>>,
    /// The last block asked for (consecutive terms mostly repeat it).
    last: Option<((usize, [u64; 8]), u32)>,
}

/// A multiplicative hash of 64-bit words (the keys are bit patterns of constants).
#[derive(Default)]
struct BitsHasher(u64);

impl Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

impl Pool {
    /// The index of a block of up to 8 constants, added unless present.
    fn block(&mut self, b: &[f64]) -> u32 {
        let mut bits = [0u64; 8];
        for (k, x) in bits.iter_mut().zip(b) {
            *k = x.to_bits();
        }
        let key = (b.len(), bits);
        if let Some((k, i)) = self.last
            && k == key
        {
            return i;
        }
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.consts.len() as u32;
                self.consts.extend_from_slice(b);
                self.index.insert(key, i);
                i
            }
        };
        self.last = Some((key, i));
        i
    }
}

/// A fused instruction before slot allocation.
#[derive(Debug, Clone, Copy)]
struct Fused {
    u1: Code,
    u2: Code,
    ua: Code,
    ub: Code,
    /// The nodes of the linear argument (the second one if `two`).
    nodes: [u32; 2],
    two: bool,
    gamma: bool,
    /// The constant block (seed, α, β, γ, c₁, c₂, c_a, c_b) in the pool.
    block: u32,
}

impl Segmented {
    /// Compiles the recording of a scalar function.
    pub(crate) fn compile(
        n: usize,
        code: &[Code],
        args: &[[u32; 2]],
        consts: &[f64],
        output: u32,
        guards: &[Guard],
    ) -> Segmented {
        let nodes = n + code.len();
        let at = |k: usize| lower(code[k], args[k], consts[k]);
        let out = output as usize;
        // Liveness and use counts (by live instructions, guards and the output).
        let mut live = vec![false; nodes];
        let mut uses = vec![0u32; nodes];
        live[out] = true;
        uses[out] += 1;
        let mut ca = vec![true; nodes];
        for g in guards {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    live[v as usize] = true;
                    uses[v as usize] = uses[v as usize].saturating_add(1);
                    // Guard operands keep their values.
                    ca[v as usize] = false;
                }
            }
        }
        for k in (0..code.len()).rev() {
            if live[n + k] {
                let (c, a, _) = at(k);
                for &a in &a[..c.arity()] {
                    live[a as usize] = true;
                    uses[a as usize] = uses[a as usize].saturating_add(1);
                }
            }
        }
        // Constant adjoints, from the output backwards. `ca[v]`: every consumer so far is
        // folded; `adjc[v]`: the adjoint through folded consumers; `seeded[v]`: read by a
        // folded instruction (or the output itself).
        let mut adjc = vec![0.0f64; nodes];
        let mut seeded = vec![false; nodes];
        adjc[out] = 1.0;
        seeded[out] = true;
        // `kept[v]`: live and not folded (inputs: false).
        let mut kept = vec![false; nodes];
        let mut constant = 0.0;
        for k in (0..code.len()).rev() {
            let v = n + k;
            if !live[v] {
                continue;
            }
            let (c, [a, b], cst) = at(k);
            if ca[v] && foldable(c) {
                let w = adjc[v];
                let mut to = |x: u32, s: f64| {
                    adjc[x as usize] += s;
                    seeded[x as usize] = true;
                };
                match c {
                    Code::Const => constant += w * cst,
                    Code::Add => {
                        to(a, w * Binary::Add.eval(0.0, 0.0).1);
                        to(b, w * Binary::Add.eval(0.0, 0.0).2);
                    }
                    Code::Sub => {
                        to(a, w * Binary::Sub.eval(0.0, 0.0).1);
                        to(b, w * Binary::Sub.eval(0.0, 0.0).2);
                    }
                    Code::Neg => to(a, w * fast::neg(0.0).1),
                    Code::AddC => {
                        constant += w * cst;
                        to(a, w * fast::add_c(0.0, cst).1);
                    }
                    Code::MulC => to(a, w * fast::mul_c(0.0, cst).1),
                    Code::SubFromC => {
                        constant += w * cst;
                        to(a, w * fast::sub_from_c(0.0, cst).1);
                    }
                    _ => unreachable!("not foldable"),
                }
            } else {
                kept[v] = true;
                for &a in &[a, b][..c.arity()] {
                    ca[a as usize] = false;
                }
            }
        }
        let input_seeds: Vec<(u32, f64)> = (0..n)
            .filter(|&j| seeded[j] && live[j])
            .map(|j| (j as u32, adjc[j]))
            .collect();
        drop(live);

        // Fusion, consumers first: a kept node used once by a kept unary operation is
        // absorbed into it (as its inner operation or into its linear argument).
        let mut absorbed = vec![false; nodes];
        let linable = |v: u32, absorbed: &[bool]| -> bool {
            let v = v as usize;
            v >= n && kept[v] && !absorbed[v] && uses[v] == 1 && linear_code(at(v - n).0)
        };
        // The linear argument that node `v` is, absorbing single-use linear nodes.
        fn linear(
            v: u32,
            depth: usize,
            n: usize,
            at: &dyn Fn(usize) -> (Code, [u32; 2], f64),
            linable: &dyn Fn(u32) -> bool,
        ) -> Lin {
            if depth == 0 || !linable(v) {
                return Lin::leaf(v, 1.0);
            }
            let (c, [a, b], cst) = at(v as usize - n);
            let rec = |x: u32| linear(x, depth - 1, n, at, linable);
            let l = match c {
                Code::Neg => rec(a).neg(),
                Code::MulC => {
                    let l = rec(a);
                    let sign = l.terms[0].1;
                    if l.len == 1 && l.gamma.is_none() && (sign == 1.0 || sign == -1.0) {
                        // c·(±x) = (±c)·x exactly.
                        let mut l = l;
                        l.terms[0].1 = fast::mul_c(sign, cst).0;
                        l
                    } else {
                        Lin::leaf(a, fast::mul_c(1.0, cst).0)
                    }
                }
                Code::AddC => {
                    let mut l = rec(a);
                    if l.gamma.is_some() {
                        l = Lin::leaf(a, 1.0);
                    }
                    l.gamma = Some(cst);
                    l
                }
                Code::SubFromC => {
                    let mut l = rec(a);
                    if l.gamma.is_some() {
                        l = Lin::leaf(a, 1.0);
                    }
                    let mut l = l.neg();
                    l.gamma = Some(cst);
                    l
                }
                Code::Add | Code::Sub => {
                    let (la, lb) = (rec(a), rec(b));
                    let side = |l: Lin| if c == Code::Sub { l.neg() } else { l };
                    let (ba, bb) = (Lin::leaf(a, 1.0), Lin::leaf(b, 1.0));
                    la.add(&side(lb))
                        .or_else(|| ba.add(&side(lb)))
                        .or_else(|| la.add(&side(bb)))
                        .or_else(|| ba.add(&side(bb)))
                        .expect("two bare nodes always combine")
                }
                _ => return Lin::leaf(v, 1.0),
            };
            l.absorb(v).unwrap_or(Lin::leaf(v, 1.0))
        }
        // Roots (not absorbed kept nodes), in reverse recording order, with their fused
        // form if any.
        let mut pool = Pool::default();
        let mut roots: Vec<(u32, u32)> = Vec::new(); // (recorded index, fused index or NONE)
        let mut fused: Vec<Fused> = Vec::new();
        for k in (0..code.len()).rev() {
            let v = n + k;
            if !kept[v] || absorbed[v] {
                continue;
            }
            let (c, [a, _], cst) = at(k);
            let mut f = None;
            if fusable_unary(c) {
                let (mut u1, mut c1, mut u2, mut c2, mut arg) = (c, cst, Code::Const, 0.0, a);
                let ai = a as usize;
                if ai >= n && kept[ai] && uses[ai] == 1 && fusable_unary(at(ai - n).0) {
                    let (ci, [aa, _], cc) = at(ai - n);
                    absorbed[ai] = true;
                    (u1, c1, u2, c2, arg) = (ci, cc, c, cst, aa);
                }
                let mut lin = linear(arg, MAX_ABSORB, n, &at, &|x| linable(x, &absorbed));
                for &x in &lin.absorbed[..lin.nabs] {
                    absorbed[x as usize] = true;
                }
                // A term's node that is a unary operation used only here: its operation.
                for t in 0..lin.len {
                    let x = lin.terms[t].0 as usize;
                    if x >= n
                        && kept[x]
                        && !absorbed[x]
                        && uses[x] == 1
                        && fusable_unary(at(x - n).0)
                    {
                        let (ci, [ai, _], cc) = at(x - n);
                        absorbed[x] = true;
                        lin.terms[t].0 = ai;
                        lin.inner[t] = (ci, cc);
                    }
                }
                if u2 != Code::Const || !lin.is_bare() {
                    let s0 = usize::from(seeded[v]);
                    let mut block = [adjc[v]; 8];
                    block[s0..s0 + 7].copy_from_slice(&[
                        lin.terms[0].1,
                        lin.terms[1].1,
                        lin.gamma.unwrap_or(0.0),
                        c1,
                        c2,
                        lin.inner[0].1,
                        lin.inner[1].1,
                    ]);
                    f = Some(Fused {
                        u1,
                        u2,
                        ua: lin.inner[0].0,
                        ub: lin.inner[1].0,
                        nodes: [lin.terms[0].0, lin.terms[1].0],
                        two: lin.len == 2,
                        gamma: lin.gamma.is_some(),
                        block: pool.block(&block[..s0 + 7]),
                    });
                }
            }
            let fi = match f {
                Some(f) => {
                    fused.push(f);
                    (fused.len() - 1) as u32
                }
                None => NONE,
            };
            roots.push((k as u32, fi));
        }
        roots.reverse();
        drop(absorbed);
        drop(uses);
        let len = roots.len();
        // The node arguments of root p.
        let root_args = |p: usize| -> ([u32; 2], usize) {
            let (k, fi) = roots[p];
            if fi != NONE {
                let f = &fused[fi as usize];
                (f.nodes, 1 + usize::from(f.two))
            } else {
                let (c, a, _) = at(k as usize);
                (a, c.arity())
            }
        };
        let root_full = |p: usize| -> bool {
            let (k, fi) = roots[p];
            fi != NONE || at(k as usize).0.q_len() > 0
        };
        // Program positions.
        let mut pos = vec![NONE; nodes];
        for (p, &(k, _)) in roots.iter().enumerate() {
            pos[n + k as usize] = p as u32;
        }
        // Curved nodes (see `Program`) and nodes whose adjoint is read (upstream of a
        // second-order term).
        let mut curved = vec![false; nodes];
        for p in (0..len).rev() {
            let v = n + roots[p].0 as usize;
            if curved[v] || root_full(p) {
                let (a, m) = root_args(p);
                for &a in &a[..m] {
                    curved[a as usize] = true;
                }
            }
        }
        let mut need_adj = vec![false; len];
        for p in 0..len {
            let (a, m) = root_args(p);
            need_adj[p] = root_full(p)
                || a[..m]
                    .iter()
                    .any(|&x| pos[x as usize] != NONE && need_adj[pos[x as usize] as usize]);
        }
        // Last use of every root by a root.
        let mut last = vec![NONE; len];
        for p in 0..len {
            let (a, m) = root_args(p);
            for &x in &a[..m] {
                let q = pos[x as usize];
                if q != NONE {
                    last[q as usize] = p as u32;
                }
            }
        }
        // Segments close where no open node has a consumer further on (guards read values
        // only, they do not keep a segment open).
        let mut bounds = vec![0u32];
        let mut reach = 0usize;
        for p in 0..len {
            if last[p] != NONE {
                reach = reach.max(last[p] as usize);
            }
            if reach <= p && p + 1 - *bounds.last().unwrap() as usize >= MIN_SEGMENT {
                bounds.push(p as u32 + 1);
            }
        }
        if *bounds.last().unwrap() as usize != len {
            bounds.push(len as u32);
        }
        // Eager roots; the temporaries they write adjoints to keep their slots to the end
        // of the segment.
        let mut eager = vec![false; len];
        for w in bounds.windows(2) {
            let (s, e) = (w[0] as usize, w[1] as usize);
            if e - s > EAGER_SEGMENT {
                continue;
            }
            for p in s..e {
                if ca[n + roots[p].0 as usize] {
                    eager[p] = true;
                    let (a, m) = root_args(p);
                    for &x in &a[..m] {
                        let q = pos[x as usize];
                        if q != NONE {
                            last[q as usize] = e as u32;
                        }
                    }
                }
            }
        }
        drop(ca);
        let pos_at = |rec_pos: usize| -> u32 {
            roots.partition_point(|&(k, _)| (k as usize) < rec_pos) as u32
        };
        let guards_prog: Vec<(u32, Guard)> = guards
            .iter()
            .map(|g| (pos_at(g.pos as usize), *g))
            .collect();
        for (gp, g) in &guards_prog {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    let q = pos[v as usize];
                    if q != NONE && (last[q as usize] == NONE || last[q as usize] < *gp) {
                        last[q as usize] = *gp;
                    }
                }
            }
        }
        for (p, l) in last.iter_mut().enumerate() {
            if *l == NONE {
                // Read by nobody (or eager): dies after its own instruction.
                *l = p as u32 + 1;
            }
        }
        // Nodes dying before each position (CSR).
        let mut start = vec![0usize; len + 2];
        for &l in &last {
            start[l as usize + 1] += 1;
        }
        for i in 0..=len {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut dying = vec![0u32; start[len + 1]];
        for (p, &l) in last.iter().enumerate() {
            dying[fill[l as usize]] = p as u32;
            fill[l as usize] += 1;
        }
        drop(fill);
        // Slots: inputs keep theirs, temporaries share a LIFO free list; eager roots have
        // none.
        let mut slot = vec![NONE; len];
        let slot_of = |v: u32, slot: &[u32]| -> u32 {
            if (v as usize) < n {
                v
            } else {
                slot[pos[v as usize] as usize]
            }
        };
        let mut free: Vec<u32> = Vec::new();
        let mut nslots = n as u32;
        let mut ins = Vec::with_capacity(len);
        let (mut first_len, mut q_len) = (0usize, 0usize);
        let (mut seg_first, mut seg_q) = (0usize, 0usize);
        let mut seg = 1;
        for p in 0..len {
            if p == bounds[seg] as usize {
                seg += 1;
                seg_first = 0;
                seg_q = 0;
            }
            for &q in &dying[start[p]..start[p + 1]] {
                if slot[q as usize] != NONE {
                    free.push(slot[q as usize]);
                }
            }
            let (k, fi) = roots[p];
            let v = n + k as usize;
            let dst = if eager[p] {
                0
            } else {
                let d = free.pop().unwrap_or_else(|| {
                    nslots += 1;
                    nslots - 1
                });
                slot[p] = d;
                d
            };
            let mut flags = 0;
            if curved[v] {
                flags |= CURVED;
            }
            if seeded[v] {
                flags |= SEEDED;
            }
            if eager[p] {
                flags |= EAGER;
            }
            let (na, m) = root_args(p);
            let adj_flag = |x: u32| pos[x as usize] != NONE && need_adj[pos[x as usize] as usize];
            if m >= 1 && adj_flag(na[0]) {
                flags |= ADJ_A;
            }
            if m >= 2 && adj_flag(na[1]) {
                flags |= ADJ_B;
            }
            let instr = if fi != NONE {
                let f = &fused[fi as usize];
                if f.two {
                    flags |= LIN2;
                }
                if f.gamma {
                    flags |= LINC;
                }
                if !eager[p] {
                    seg_first += m;
                    seg_q += m;
                }
                SIns {
                    code: Code::Fused,
                    flags,
                    u1: f.u1,
                    u2: f.u2,
                    ua: f.ua,
                    ub: f.ub,
                    dst,
                    a: slot_of(na[0], &slot),
                    b: if f.two { slot_of(na[1], &slot) } else { 0 },
                    c: f.block,
                }
            } else {
                let (c, [a, b], cst) = at(k as usize);
                if !eager[p] {
                    seg_first += c.first_len();
                    seg_q += c.q_len();
                }
                let (a, b) = match c.arity() {
                    0 => (0, pool.block(&[cst])),
                    1 if c.has_constant() => (slot_of(a, &slot), pool.block(&[cst])),
                    1 => (slot_of(a, &slot), 0),
                    _ => (slot_of(a, &slot), slot_of(b, &slot)),
                };
                SIns {
                    code: c,
                    flags,
                    u1: Code::Const,
                    u2: Code::Const,
                    ua: Code::Const,
                    ub: Code::Const,
                    dst,
                    a,
                    b,
                    c: 0,
                }
            };
            first_len = first_len.max(seg_first);
            q_len = q_len.max(seg_q);
            let mut instr = instr;
            if fi == NONE && seeded[v] {
                instr.c = pool.block(&[adjc[v]]);
            }
            ins.push(instr);
        }
        let map = |op: Operand| match op {
            Operand::Node(v) => Operand::Node(slot_of(v, &slot)),
            c => c,
        };
        let guards = guards_prog
            .into_iter()
            .map(|(pos, g)| Guard {
                pos,
                lhs: map(g.lhs),
                rhs: map(g.rhs),
                outcome: g.outcome,
            })
            .collect();
        let reversed = bounds
            .windows(2)
            .map(|w| (w[0]..w[1]).any(|p| !eager[p as usize]))
            .collect();
        let prog = Segmented {
            n,
            nslots: nslots as usize,
            ins,
            consts: pool.consts,
            bounds,
            reversed,
            guards,
            constant,
            input_seeds,
            first_len,
            q_len,
        };
        prog.validate();
        prog
    }

    /// Checks what the sweeps rely on without bounds checks: every slot an instruction
    /// names is below `nslots`, every constant it reads is in the pool, and no segment
    /// pushes more than `first_len` first-order and `q_len` second-order values per lane.
    /// A failure is a bug of `compile`.
    fn validate(&self) {
        let (ns, nc) = (self.nslots, self.consts.len());
        assert!(self.n <= ns, "inputs beyond the slots");
        for w in self.bounds.windows(2) {
            assert!(
                w[0] <= w[1] && w[1] as usize <= self.ins.len(),
                "segment bounds"
            );
            let (mut first, mut q) = (0, 0);
            for i in &self.ins[w[0] as usize..w[1] as usize] {
                let fl = i.flags;
                let eager = fl & EAGER != 0;
                let seeded = fl & SEEDED != 0;
                assert!(eager || (i.dst as usize) < ns, "destination slot");
                let (slot_args, const_b) = match i.code {
                    Code::Const => (0, true),
                    Code::Fused if fl & LIN2 != 0 => (2, false),
                    Code::Fused => (1, false),
                    c if c.arity() == 2 => (2, false),
                    c => (1, c.has_constant()),
                };
                assert!(slot_args < 1 || (i.a as usize) < ns, "argument slot");
                assert!(slot_args < 2 || (i.b as usize) < ns, "argument slot");
                assert!(!const_b || (i.b as usize) < nc, "constant index");
                let block = match i.code {
                    Code::Fused => usize::from(seeded) + 7,
                    _ => usize::from(seeded),
                };
                assert!(block == 0 || i.c as usize + block <= nc, "constant block");
                if !eager {
                    match i.code {
                        Code::Fused => {
                            first += 1 + usize::from(fl & LIN2 != 0);
                            q += 1 + usize::from(fl & LIN2 != 0);
                        }
                        c => {
                            first += c.first_len();
                            q += c.q_len();
                        }
                    }
                }
            }
            assert!(first <= self.first_len && q <= self.q_len, "stack length");
        }
        for g in &self.guards {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(s) = op {
                    assert!((s as usize) < ns, "guard slot");
                }
            }
        }
    }

    /// Stack length of a sweep with `p` lanes.
    pub(crate) fn stack_len(&self, p: usize) -> usize {
        self.first_len + p * self.q_len
    }

    /// One forward-over-reverse sweep with `P` lanes: the inputs' values and tangents must
    /// be in their slots, `adj` and `adt` zero. Leaves the inputs' adjoint-tangents in
    /// `adt[..n·P]`; returns the output value.
    pub(crate) fn hvp<const P: usize>(
        &self,
        val: &mut [f64],
        tan: &mut [f64],
        adj: &mut [f64],
        adt: &mut [f64],
        stack: &mut [f64],
    ) -> Result<f64, Broken> {
        // The sweeps index these without bounds checks.
        let ns = self.nslots;
        assert!(
            val.len() >= ns
                && tan.len() >= ns * P
                && adj.len() >= ns
                && adt.len() >= ns * P
                && stack.len() >= self.stack_len(P),
            "segmented sweep buffers too short"
        );
        let mut acc = 0.0;
        let mut g = 0;
        let mut st = State {
            consts: &self.consts,
            val,
            tan,
            adj,
            adt,
            stack,
        };
        for (w, &reversed) in self.bounds.windows(2).zip(&self.reversed) {
            let (s, e) = (w[0] as usize, w[1] as usize);
            // Forward, checking every guard before the instruction it precedes.
            let mut sp = 0;
            let mut from = s;
            while g < self.guards.len() && (self.guards[g].pos as usize) < e {
                let at = self.guards[g].pos as usize;
                sp = forward::<P>(&self.ins[from..at], &mut st, sp, &mut acc);
                from = at;
                check(&self.guards[g], g, st.val)?;
                g += 1;
            }
            sp = forward::<P>(&self.ins[from..e], &mut st, sp, &mut acc);
            if reversed {
                reverse::<P>(&self.ins[s..e], &mut st, sp);
            }
        }
        while g < self.guards.len() {
            check(&self.guards[g], g, st.val)?;
            g += 1;
        }
        let mut value = self.constant;
        for &(j, w) in &self.input_seeds {
            value += w * st.val[j as usize];
        }
        Ok(value + acc)
    }
}

/// A buffer of a sweep indexed without bounds checks (checked in debug builds): the
/// indices come from a program that [`Segmented::validate`] checked against its slot count,
/// constant pool and stack length, and [`Segmented::hvp`] checks the buffer lengths.
struct Buf<'a> {
    ptr: *mut f64,
    len: usize,
    _life: std::marker::PhantomData<&'a mut [f64]>,
}

impl<'a> Buf<'a> {
    /// # Safety
    /// Every index (and range) the holder uses is within `s`.
    #[inline(always)]
    unsafe fn new(s: &'a mut [f64]) -> Buf<'a> {
        Buf {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _life: std::marker::PhantomData,
        }
    }

    /// Lanes `s·P..s·P + P`.
    #[inline(always)]
    fn load<const P: usize>(&self, s: usize) -> [f64; P] {
        let mut out = [0.0; P];
        out.copy_from_slice(&self[s * P..s * P + P]);
        out
    }
}

impl std::ops::Index<usize> for Buf<'_> {
    type Output = f64;
    #[inline(always)]
    fn index(&self, i: usize) -> &f64 {
        debug_assert!(i < self.len);
        // SAFETY: in bounds by the contract of `Buf::new`.
        unsafe { &*self.ptr.add(i) }
    }
}

impl std::ops::IndexMut<usize> for Buf<'_> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut f64 {
        debug_assert!(i < self.len);
        // SAFETY: in bounds by the contract of `Buf::new`; `&mut self` is exclusive.
        unsafe { &mut *self.ptr.add(i) }
    }
}

impl std::ops::Index<std::ops::Range<usize>> for Buf<'_> {
    type Output = [f64];
    #[inline(always)]
    fn index(&self, r: std::ops::Range<usize>) -> &[f64] {
        debug_assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds by the contract of `Buf::new`.
        unsafe { std::slice::from_raw_parts(self.ptr.add(r.start), r.end - r.start) }
    }
}

impl std::ops::IndexMut<std::ops::Range<usize>> for Buf<'_> {
    #[inline(always)]
    fn index_mut(&mut self, r: std::ops::Range<usize>) -> &mut [f64] {
        debug_assert!(r.start <= r.end && r.end <= self.len);
        // SAFETY: in bounds by the contract of `Buf::new`; `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r.start), r.end - r.start) }
    }
}

/// The constants, read without bounds checks (see [`Buf`]).
#[derive(Clone, Copy)]
struct Ro<'a>(&'a [f64]);

impl<'a> Ro<'a> {
    /// # Safety
    /// Every index (and range) the holder uses is within `s`.
    #[inline(always)]
    unsafe fn new(s: &'a [f64]) -> Ro<'a> {
        Ro(s)
    }
}

impl std::ops::Index<usize> for Ro<'_> {
    type Output = f64;
    #[inline(always)]
    fn index(&self, i: usize) -> &f64 {
        debug_assert!(i < self.0.len());
        // SAFETY: in bounds by the contract of `Ro::new`.
        unsafe { self.0.get_unchecked(i) }
    }
}

impl std::ops::Index<std::ops::Range<usize>> for Ro<'_> {
    type Output = [f64];
    #[inline(always)]
    fn index(&self, r: std::ops::Range<usize>) -> &[f64] {
        debug_assert!(r.start <= r.end && r.end <= self.0.len());
        // SAFETY: in bounds by the contract of `Ro::new`.
        unsafe { self.0.get_unchecked(r) }
    }
}

/// The buffers of a sweep.
struct State<'a> {
    consts: &'a [f64],
    val: &'a mut [f64],
    tan: &'a mut [f64],
    adj: &'a mut [f64],
    adt: &'a mut [f64],
    stack: &'a mut [f64],
}

fn check(gd: &Guard, g: usize, val: &[f64]) -> Result<(), Broken> {
    let (lhs, rhs) = (operand(gd.lhs, val), operand(gd.rhs, val));
    let now = lhs.partial_cmp(&rhs);
    if now != gd.outcome {
        return Err(Broken {
            guard: g,
            lhs,
            rhs,
            now,
            recorded: gd.outcome,
        });
    }
    Ok(())
}

/// `(u(x), u′(x), u″(x))` of a fusable unary code with its constant.
#[inline(always)]
fn ueval(code: Code, c: f64, x: f64) -> (f64, f64, f64) {
    match code {
        Code::Sq => fast::sq(x),
        _ => match code.unary(c) {
            Some(op) => op.eval(x),
            None => unreachable!("fused codes are unary"),
        },
    }
}

/// `ua(x)` and its first two derivatives (`ua = Const`: x itself).
#[inline(always)]
fn inner(ua: Code, c: f64, x: f64) -> (f64, f64, f64) {
    if ua == Code::Const {
        (x, 1.0, 0.0)
    } else {
        ueval(ua, c, x)
    }
}

/// `u2(u1(x))` and its first two derivatives (`u2 = Const`: `u1` alone).
#[inline(always)]
fn compose(u1: Code, c1: f64, u2: Code, c2: f64, x: f64) -> (f64, f64, f64) {
    let (v1, d1, e1) = ueval(u1, c1, x);
    if u2 == Code::Const {
        (v1, d1, e1)
    } else {
        let (v2, d2, e2) = ueval(u2, c2, v1);
        (v2, d2 * d1, e2 * d1 * d1 + d2 * e1)
    }
}

/// The forward sweep of (part of) a segment with `P` lanes: values, tangents of curved
/// nodes, local derivatives and second-order terms on the stack, seeded values into
/// `acc`, and the whole reverse step of eager instructions. Returns the stack pointer.
#[inline(never)]
fn forward<const P: usize>(
    ins: &[SIns],
    st: &mut State<'_>,
    mut sp: usize,
    acc: &mut f64,
) -> usize {
    // SAFETY (all six): `hvp` checked the buffer lengths against the validated program,
    // whose instructions only name slots below `nslots` and constants in the pool, and
    // whose segments push at most `stack_len(P)` values.
    let consts = unsafe { Ro::new(st.consts) };
    let mut val = unsafe { Buf::new(st.val) };
    let mut tan = unsafe { Buf::new(st.tan) };
    let mut adj = unsafe { Buf::new(st.adj) };
    let mut adt = unsafe { Buf::new(st.adt) };
    let mut stack = unsafe { Buf::new(st.stack) };
    let mut sum = *acc;
    for i in ins {
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let fl = i.flags;
        let eager = fl & EAGER != 0;
        // The seed (the constant adjoint of an eager instruction).
        let seed = if fl & SEEDED != 0 {
            consts[i.c as usize]
        } else {
            0.0
        };
        macro_rules! un {
            ($op:expr, $kind:expr) => {{
                let op: Unary = $op;
                un!(@ op.eval(val[a]), $kind)
            }};
            (@ $eval:expr, $kind:expr) => {{
                let (v, d1, d2) = $eval;
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * d1;
                    }
                    if $kind == Kind::Full {
                        let ta = tan.load::<P>(a);
                        let w = seed * d2;
                        for l in 0..P {
                            adt[a * P + l] += w * ta[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if $kind != Kind::Affine {
                        stack[sp] = d1;
                        sp += 1;
                        if $kind == Kind::Full {
                            let ta = tan.load::<P>(a);
                            for l in 0..P {
                                stack[sp + l] = d2 * ta[l];
                            }
                            sp += P;
                        }
                    }
                    if fl & CURVED != 0 {
                        let ta = tan.load::<P>(a);
                        let mut tz = [0.0; P];
                        for l in 0..P {
                            tz[l] = d1 * ta[l];
                        }
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }};
        }
        macro_rules! bin {
            ($op:expr, $kind:expr) => {{
                let op: Binary = $op;
                let (v, fa, fb, faa, fab, fbb) = op.eval(val[a], val[b]);
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                let mut qa = [0.0; P];
                let mut qb = [0.0; P];
                if $kind == Kind::Full {
                    let ta = tan.load::<P>(a);
                    let tb = tan.load::<P>(b);
                    match op.curvature() {
                        Curvature::Linear => {}
                        Curvature::Bilinear => {
                            for l in 0..P {
                                qa[l] = fab * tb[l];
                                qb[l] = fab * ta[l];
                            }
                        }
                        Curvature::NonlinearInSecond => {
                            for l in 0..P {
                                qa[l] = fab * tb[l];
                                qb[l] = fab * ta[l] + fbb * tb[l];
                            }
                        }
                        Curvature::Nonlinear => {
                            for l in 0..P {
                                qa[l] = faa * ta[l] + fab * tb[l];
                                qb[l] = fab * ta[l] + fbb * tb[l];
                            }
                        }
                    }
                }
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * fa;
                    }
                    if fl & ADJ_B != 0 {
                        adj[b] += seed * fb;
                    }
                    if $kind == Kind::Full {
                        for l in 0..P {
                            adt[a * P + l] += seed * qa[l];
                        }
                        for l in 0..P {
                            adt[b * P + l] += seed * qb[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if $kind != Kind::Affine {
                        stack[sp] = fa;
                        stack[sp + 1] = fb;
                        sp += 2;
                        if $kind == Kind::Full {
                            stack[sp..sp + P].copy_from_slice(&qa);
                            stack[sp + P..sp + 2 * P].copy_from_slice(&qb);
                            sp += 2 * P;
                        }
                    }
                    if fl & CURVED != 0 {
                        let ta = tan.load::<P>(a);
                        let tb = tan.load::<P>(b);
                        let mut tz = [0.0; P];
                        for l in 0..P {
                            tz[l] = fa * ta[l] + fb * tb[l];
                        }
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }};
        }
        match i.code {
            Code::Const => {
                let v = consts[b];
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                if !eager {
                    val[d] = v;
                    if fl & CURVED != 0 {
                        tan[d * P..d * P + P].fill(0.0);
                    }
                }
            }
            // The commonest eager shape, a weighted square of a linear combination of
            // (squared) nodes — every least-squares term — without the generic dispatch.
            Code::Fused
                if eager
                    && i.u1 == Code::Sq
                    && matches!(i.u2, Code::Const | Code::Sq)
                    && matches!(i.ua, Code::Const | Code::Sq)
                    && matches!(i.ub, Code::Const | Code::Sq) =>
            {
                let k = i.c as usize + (fl & SEEDED != 0) as usize;
                let blk = &consts[k..k + 7];
                let gamma = if fl & LINC != 0 { blk[2] } else { 0.0 };
                let args = SquareArgs {
                    al: blk[0],
                    be: blk[1],
                    gamma,
                    seed,
                    adj_a: fl & ADJ_A != 0,
                    adj_b: fl & ADJ_B != 0,
                    linc: fl & LINC != 0,
                };
                let (sa, sb) = (i.ua == Code::Sq, i.ub == Code::Sq);
                let bufs = (&val, &tan, &mut adj, &mut adt);
                macro_rules! sq {
                    ($q:literal) => {
                        match (fl & LIN2 != 0, sa, sb) {
                            (false, false, _) => {
                                eager_square::<P, $q, false, false, false>(a, b, &args, bufs)
                            }
                            (false, true, _) => {
                                eager_square::<P, $q, false, true, false>(a, b, &args, bufs)
                            }
                            (true, false, false) => {
                                eager_square::<P, $q, true, false, false>(a, b, &args, bufs)
                            }
                            (true, false, true) => {
                                eager_square::<P, $q, true, false, true>(a, b, &args, bufs)
                            }
                            (true, true, false) => {
                                eager_square::<P, $q, true, true, false>(a, b, &args, bufs)
                            }
                            (true, true, true) => {
                                eager_square::<P, $q, true, true, true>(a, b, &args, bufs)
                            }
                        }
                    };
                }
                sum += if i.u2 == Code::Sq {
                    sq!(true)
                } else {
                    sq!(false)
                };
            }
            Code::Fused => {
                let k = i.c as usize + (fl & SEEDED != 0) as usize;
                let blk = &consts[k..k + 7];
                let (al, be) = (blk[0], blk[1]);
                let two = fl & LIN2 != 0;
                // u(α·ua(a) + β·ub(b) + γ) and its derivatives in a and b.
                let (va, da, ea) = inner(i.ua, blk[5], val[a]);
                let mut x = al * va;
                let (mut db, mut eb) = (0.0, 0.0);
                if two {
                    let vb;
                    (vb, db, eb) = inner(i.ub, blk[6], val[b]);
                    x += be * vb;
                }
                if fl & LINC != 0 {
                    x += blk[2];
                }
                let (v, d1, d2) = compose(i.u1, blk[3], i.u2, blk[4], x);
                if fl & SEEDED != 0 {
                    sum += seed * v;
                }
                let (ga, gb) = (al * da, be * db);
                let (fa, fb) = (d1 * ga, d1 * gb);
                let faa = d2 * ga * ga + d1 * al * ea;
                let ta = tan.load::<P>(a);
                let mut qa = [0.0; P];
                for l in 0..P {
                    qa[l] = faa * ta[l];
                }
                let mut qb = [0.0; P];
                let mut tb = [0.0; P];
                if two {
                    tb = tan.load::<P>(b);
                    let fab = d2 * ga * gb;
                    let fbb = d2 * gb * gb + d1 * be * eb;
                    for l in 0..P {
                        qa[l] += fab * tb[l];
                        qb[l] = fab * ta[l] + fbb * tb[l];
                    }
                }
                if eager {
                    if fl & ADJ_A != 0 {
                        adj[a] += seed * fa;
                    }
                    for l in 0..P {
                        adt[a * P + l] += seed * qa[l];
                    }
                    if two {
                        if fl & ADJ_B != 0 {
                            adj[b] += seed * fb;
                        }
                        for l in 0..P {
                            adt[b * P + l] += seed * qb[l];
                        }
                    }
                } else {
                    val[d] = v;
                    if two {
                        stack[sp] = fa;
                        stack[sp + 1] = fb;
                        stack[sp + 2..sp + 2 + P].copy_from_slice(&qa);
                        stack[sp + 2 + P..sp + 2 + 2 * P].copy_from_slice(&qb);
                        sp += 2 + 2 * P;
                    } else {
                        stack[sp] = fa;
                        stack[sp + 1..sp + 1 + P].copy_from_slice(&qa);
                        sp += 1 + P;
                    }
                    if fl & CURVED != 0 {
                        let mut tz = [0.0; P];
                        for l in 0..P {
                            tz[l] = fa * ta[l] + fb * tb[l];
                        }
                        tan[d * P..d * P + P].copy_from_slice(&tz);
                    }
                }
            }
            Code::Neg => un!(@ fast::neg(val[a]), Kind::Affine),
            Code::Recip => un!(Unary::Recip, Kind::Full),
            Code::Sqrt => un!(Unary::Sqrt, Kind::Full),
            Code::Cbrt => un!(Unary::Cbrt, Kind::Full),
            Code::Exp => un!(Unary::Exp, Kind::Full),
            Code::Exp2 => un!(Unary::Exp2, Kind::Full),
            Code::ExpM1 => un!(Unary::ExpM1, Kind::Full),
            Code::Ln => un!(Unary::Ln, Kind::Full),
            Code::Log2 => un!(Unary::Log2, Kind::Full),
            Code::Log10 => un!(Unary::Log10, Kind::Full),
            Code::Ln1p => un!(Unary::Ln1p, Kind::Full),
            Code::Sin => un!(Unary::Sin, Kind::Full),
            Code::Cos => un!(Unary::Cos, Kind::Full),
            Code::Tan => un!(Unary::Tan, Kind::Full),
            Code::Asin => un!(Unary::Asin, Kind::Full),
            Code::Acos => un!(Unary::Acos, Kind::Full),
            Code::Atan => un!(Unary::Atan, Kind::Full),
            Code::Sinh => un!(Unary::Sinh, Kind::Full),
            Code::Cosh => un!(Unary::Cosh, Kind::Full),
            Code::Tanh => un!(Unary::Tanh, Kind::Full),
            Code::Asinh => un!(Unary::Asinh, Kind::Full),
            Code::Acosh => un!(Unary::Acosh, Kind::Full),
            Code::Atanh => un!(Unary::Atanh, Kind::Full),
            Code::Abs => un!(Unary::Abs, Kind::First),
            Code::AddC => un!(@ fast::add_c(val[a], consts[b]), Kind::Affine),
            Code::MulC => un!(@ fast::mul_c(val[a], consts[b]), Kind::Affine),
            Code::SubFromC => un!(@ fast::sub_from_c(val[a], consts[b]), Kind::Affine),
            Code::DivC => un!(Unary::DivConst(consts[b]), Kind::Full),
            Code::RemC => un!(Unary::RemConst(consts[b]), Kind::Affine),
            Code::CRem => un!(Unary::ConstRem(consts[b]), Kind::First),
            Code::Sq => un!(@ fast::sq(val[a]), Kind::Full),
            Code::Powi => un!(Unary::Powi(consts[b] as i32), Kind::Full),
            Code::Powf => un!(Unary::Powf(consts[b]), Kind::Full),
            Code::Add => bin!(Binary::Add, Kind::Affine),
            Code::Sub => bin!(Binary::Sub, Kind::Affine),
            Code::Mul => bin!(Binary::Mul, Kind::Full),
            Code::Div => bin!(Binary::Div, Kind::Full),
            Code::Rem => bin!(Binary::Rem, Kind::First),
            Code::Atan2 => bin!(Binary::Atan2, Kind::Full),
        }
    }
    *acc = sum;
    sp
}

/// The constants of an eager weighted square `seed·(α·ua(a) + β·ub(b) + γ)²`.
struct SquareArgs {
    al: f64,
    be: f64,
    gamma: f64,
    seed: f64,
    adj_a: bool,
    adj_b: bool,
    linc: bool,
}

/// The whole forward and reverse step of an eager `seed·(α·ua(a) [+ β·ub(b)] [+ γ])²`
/// (`QUAD`: that square squared again, a fourth power) with `ua`, `ub` the identity or a
/// square (`SA`, `SB`), `TWO` for the second node. The same arithmetic, in the same
/// order, as the generic fused step; returns `seed · value` for the output sum.
#[inline(always)]
fn eager_square<
    const P: usize,
    const QUAD: bool,
    const TWO: bool,
    const SA: bool,
    const SB: bool,
>(
    a: usize,
    b: usize,
    k: &SquareArgs,
    (val, tan, adj, adt): (&Buf<'_>, &Buf<'_>, &mut Buf<'_>, &mut Buf<'_>),
) -> f64 {
    let xa = val[a];
    let (va, da, ea) = if SA { fast::sq(xa) } else { (xa, 1.0, 0.0) };
    let mut x = k.al * va;
    let (mut db, mut eb) = (0.0, 0.0);
    if TWO {
        let xb = val[b];
        let vb;
        (vb, db, eb) = if SB { fast::sq(xb) } else { (xb, 1.0, 0.0) };
        x += k.be * vb;
    }
    if k.linc {
        x += k.gamma;
    }
    let (v, d1, d2) = if QUAD {
        // compose(Sq, Sq): the outer square of the inner one, by the chain rule.
        let (v1, d1, e1) = fast::sq(x);
        let (v2, d2, e2) = fast::sq(v1);
        (v2, d2 * d1, e2 * d1 * d1 + d2 * e1)
    } else {
        fast::sq(x)
    };
    let (ga, gb) = (k.al * da, k.be * db);
    let (fa, fb) = (d1 * ga, d1 * gb);
    let faa = if SA {
        d2 * ga * ga + d1 * k.al * ea
    } else {
        d2 * ga * ga
    };
    let ta = tan.load::<P>(a);
    let s = k.seed;
    if k.adj_a {
        adj[a] += s * fa;
    }
    if TWO {
        let tb = tan.load::<P>(b);
        let fab = d2 * ga * gb;
        let fbb = if SB {
            d2 * gb * gb + d1 * k.be * eb
        } else {
            d2 * gb * gb
        };
        for l in 0..P {
            adt[a * P + l] += s * (faa * ta[l] + fab * tb[l]);
        }
        if k.adj_b {
            adj[b] += s * fb;
        }
        for l in 0..P {
            adt[b * P + l] += s * (fab * ta[l] + fbb * tb[l]);
        }
    } else {
        for l in 0..P {
            adt[a * P + l] += s * (faa * ta[l]);
        }
    }
    s * v
}

/// The constant first derivative of an affine unary instruction.
#[inline(always)]
fn slope(code: Code, c: f64) -> f64 {
    match code {
        Code::AddC => fast::add_c(0.0, c).1,
        Code::MulC => fast::mul_c(0.0, c).1,
        Code::SubFromC => fast::sub_from_c(0.0, c).1,
        _ => Unary::RemConst(c).eval(0.0).1,
    }
}

/// The reverse sweep of a segment (one adjoint, `P` adjoint-tangent lanes) over its
/// instructions that are not eager, popping what [`forward`] pushed.
#[inline(never)]
fn reverse<const P: usize>(ins: &[SIns], st: &mut State<'_>, mut sp: usize) {
    // SAFETY (all four): as in `forward`; the reverse sweep pops exactly what the forward
    // sweep of the segment pushed.
    let consts = unsafe { Ro::new(st.consts) };
    let mut adj = unsafe { Buf::new(st.adj) };
    let mut adt = unsafe { Buf::new(st.adt) };
    let stack = unsafe { Buf::new(st.stack) };
    for i in ins.iter().rev() {
        let fl = i.flags;
        if fl & EAGER != 0 {
            continue;
        }
        let d = i.dst as usize;
        let a = i.a as usize;
        let b = i.b as usize;
        let mut az = adj[d];
        adj[d] = 0.0;
        if fl & SEEDED != 0 {
            az += consts[i.c as usize];
        }
        let curved = fl & CURVED != 0;
        let mut tz = [0.0; P];
        if curved {
            tz = adt.load::<P>(d);
            adt[d * P..d * P + P].fill(0.0);
        }
        macro_rules! to {
            ($s:expr, $flag:expr, $f:expr) => {{
                let f = $f;
                if fl & $flag != 0 {
                    adj[$s] += az * f;
                }
                if curved {
                    for l in 0..P {
                        adt[$s * P + l] += tz[l] * f;
                    }
                }
            }};
            ($s:expr, $flag:expr, $f:expr, $q:expr) => {{
                let f = $f;
                let q = $q;
                if fl & $flag != 0 {
                    adj[$s] += az * f;
                }
                if curved {
                    for l in 0..P {
                        adt[$s * P + l] += tz[l] * f + az * q[l];
                    }
                } else {
                    for l in 0..P {
                        adt[$s * P + l] += az * q[l];
                    }
                }
            }};
        }
        match i.code {
            Code::Const => {}
            Code::Fused if fl & LIN2 != 0 => {
                sp -= 2 + 2 * P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 2..sp + 2 + P]);
                to!(b, ADJ_B, stack[sp + 1], &stack[sp + 2 + P..sp + 2 + 2 * P]);
            }
            Code::Fused => {
                sp -= 1 + P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 1..sp + 1 + P]);
            }
            Code::Add => {
                to!(a, ADJ_A, Binary::Add.eval(0.0, 0.0).1);
                to!(b, ADJ_B, Binary::Add.eval(0.0, 0.0).2);
            }
            Code::Sub => {
                to!(a, ADJ_A, Binary::Sub.eval(0.0, 0.0).1);
                to!(b, ADJ_B, Binary::Sub.eval(0.0, 0.0).2);
            }
            Code::Neg => to!(a, ADJ_A, fast::neg(0.0).1),
            c @ (Code::AddC | Code::MulC | Code::SubFromC | Code::RemC) => {
                to!(a, ADJ_A, slope(c, consts[b]))
            }
            Code::Abs | Code::CRem => {
                sp -= 1;
                to!(a, ADJ_A, stack[sp]);
            }
            Code::Rem => {
                sp -= 2;
                to!(a, ADJ_A, stack[sp]);
                to!(b, ADJ_B, stack[sp + 1]);
            }
            Code::Mul | Code::Div | Code::Atan2 => {
                sp -= 2 + 2 * P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 2..sp + 2 + P]);
                to!(b, ADJ_B, stack[sp + 1], &stack[sp + 2 + P..sp + 2 + 2 * P]);
            }
            _ => {
                sp -= 1 + P;
                to!(a, ADJ_A, stack[sp], &stack[sp + 1..sp + 1 + P]);
            }
        }
    }
    debug_assert_eq!(sp, 0);
}

#[cfg(test)]
mod tests {
    use num_dual::DualNum;

    use super::super::{Tape, TapeVar};
    use super::{ADJ_A, ADJ_B, Code, EAGER, LIN2, LINC};

    fn point(n: usize) -> Vec<f64> {
        (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
    }

    fn randoms(len: usize, mut seed: u64) -> Vec<f64> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    /// Chained Rosenbrock as the benchmark writes it (`x·x`, `x − 1`, `· 100`).
    fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut f = D::zero();
        for w in x.windows(2) {
            let t = w[1] - w[0] * w[0];
            let u = w[0] - 1.0;
            f += t * t * 100.0 + u * u;
        }
        f
    }

    /// The grid energy as the benchmark writes it (`d2 = d·d`, `d2·d2`).
    fn grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
        let mut f = D::zero();
        for r in 0..s {
            for c in 0..s {
                let p = r * s + c;
                if c + 1 < s {
                    let d = x[p] - x[p + 1];
                    let d2 = d * d;
                    f += d2 * d2;
                }
                if r + 1 < s {
                    let d = x[p] - x[p + s];
                    let d2 = d * d;
                    f += d2 * d2;
                }
                f += x[p].cos();
            }
        }
        f
    }

    /// Every fused form, eager and not, with constants, negations and scalings.
    fn mixed<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let n = x.len();
        let mut f = D::from(0.25);
        for i in 0..n {
            let (a, b, c) = (x[i], x[(i + 1) % n], x[(i + 3) % n]);
            // u2(u1(α a + β b + γ)) with transcendental operations.
            f += ((a * 2.0 - b) + 0.5).sin().exp() * 0.5;
            // c − (a + b), then a power; −(a − b) then 1/x; c·(−a) under sqrt.
            f -= (D::from(3.0) - (a + b)).powi(3);
            f += (-(a - b) + 4.0).recip();
            f += ((-a) * 0.7 + 2.0).sqrt() * 3.0;
            // A linear argument that is not absorbed (2·(a − b) is not exact as α a + β b).
            f += ((a - b) * 2.0).powi(2);
            // Two nodes that are the same, and a seeded node that is also read further.
            let s = (a + a).tanh();
            f += s + s * c;
            // Non-foldable: x % c, |x − c|, atan2 with a constant, a / b.
            f += (a * b) % 0.3 + (a - 0.6).abs() * b;
            f += D::from(0.4).atan2(a * c) + a / (b + 2.0);
        }
        // The output scaled and shifted.
        f * (-2.0) + 1.5
    }

    /// Not a sum: one segment, nothing eager except the output.
    fn product<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut p = D::one();
        for (i, &v) in x.iter().enumerate() {
            p *= (v * 0.1 + 1.0 + 0.01 * i as f64).sin();
        }
        (p + x[0] * x[1]).exp()
    }

    /// Terms sharing a node computed from all inputs (one long segment).
    fn centred<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let n = x.len() as f64;
        let mut m = D::zero();
        for &v in x {
            m += v;
        }
        let m = m / n;
        let mut f = D::zero();
        for &v in x {
            let d = v - m;
            f += d * d + (d * 0.5).cos();
        }
        f
    }

    /// A long chain of single-use affine operations into one power.
    fn chain<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut f = D::zero();
        for w in x.windows(2) {
            let mut u = w[0] - w[1];
            for k in 0..12 {
                u = if k % 3 == 0 { -u } else { u + 0.1 * k as f64 };
            }
            f += (u * 0.5).powi(4) + w[0].powi(2) * w[1];
        }
        f
    }

    /// Weighted squares of every shape `eager_square` specialises (one or two nodes,
    /// each plain or squared, with and without a constant, and a fourth power), and one
    /// whose argument is a temporary with an adjoint of its own.
    fn squares<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut f = D::zero();
        for w in x.windows(3) {
            let d = w[0] - w[1];
            f += d * d * 2.0;
            let u = w[1] * w[1] * 0.5 - w[2] * w[2] + 0.3;
            f += u * u;
            let v = w[2] - w[0] * w[0];
            f += v * v * 3.0;
            let s = w[0] * w[0] - w[2];
            f += s * s;
            let q = w[1] * w[1] + 1.0;
            f += q * q * 0.25;
            let r = w[2] * 1.5;
            f += r * r;
            let t = w[0] * w[1];
            let z = t - 1.0;
            f += z * z + t.sin();
            let e = w[1] - w[2] * w[2] + 0.5;
            let e2 = e * e;
            f += e2 * e2;
        }
        f
    }

    /// `max |a − b| / max(max |b|, 1)`.
    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    }

    /// Segmented HVP blocks against the unsegmented replay (everything unfused, one
    /// forward and one reverse sweep), p = 1..=9 lanes, at two points.
    fn check_against_unsegmented(f: impl Fn(&[TapeVar]) -> TapeVar, n: usize, what: &str) {
        let mut tape = Tape::record_scalar(&point(n), f).unwrap();
        for (p, seed) in [(1, 1u64), (2, 2), (3, 3), (5, 4), (8, 5), (9, 6)] {
            for x in [
                point(n),
                randoms(n, seed + 40)
                    .iter()
                    .map(|v| 0.5 * v + 0.6)
                    .collect(),
            ] {
                let d = randoms(n * p, seed);
                let mut got = vec![0.0; n * p];
                let mut want = vec![0.0; n * p];
                tape.hvp_block(&x, &d, &mut got).unwrap();
                tape.hvp_block_unsegmented(&x, &d, &mut want).unwrap();
                let e = rel_err(&got, &want);
                assert!(e <= 1e-14, "{what}, p = {p}: relative error {e:e}");
            }
        }
    }

    #[test]
    fn segmented_equals_unsegmented() {
        check_against_unsegmented(rosenbrock, 300, "rosenbrock");
        check_against_unsegmented(|x| grid(x, 12), 144, "grid");
        check_against_unsegmented(mixed, 40, "mixed");
        check_against_unsegmented(product, 30, "product");
        check_against_unsegmented(centred, 50, "centred");
        // Longer than the eager limit: constant adjoints in the reverse sweep.
        check_against_unsegmented(centred, 5000, "centred, long segment");
        check_against_unsegmented(chain, 40, "chain");
        check_against_unsegmented(squares, 60, "squares");
    }

    #[test]
    fn squares_cover_every_specialised_shape() {
        let tape = Tape::record_scalar(&point(60), squares).unwrap();
        let seg = tape.seg.as_ref().unwrap();
        let mut shapes = std::collections::BTreeSet::new();
        for i in &seg.ins {
            if i.code == Code::Fused
                && i.flags & EAGER != 0
                && i.u1 == Code::Sq
                && i.u2 == Code::Const
            {
                shapes.insert((
                    i.flags & LIN2 != 0,
                    i.ua == Code::Sq,
                    i.flags & LIN2 != 0 && i.ub == Code::Sq,
                    i.flags & LINC != 0,
                    i.flags & (ADJ_A | ADJ_B) != 0,
                ));
            }
        }
        for shape in [
            (true, false, false, false, false),
            (true, true, true, true, false),
            (true, false, true, false, false),
            (true, true, false, false, false),
            (false, true, false, true, false),
            (false, false, false, false, false),
        ] {
            assert!(shapes.contains(&shape), "{shape:?} missing from {shapes:?}");
        }
        assert!(
            shapes.iter().any(|s| s.4),
            "no square of a temporary with an adjoint: {shapes:?}"
        );
        assert!(
            seg.ins.iter().any(|i| i.code == Code::Fused
                && i.flags & EAGER != 0
                && (i.u1, i.u2, i.ub) == (Code::Sq, Code::Sq, Code::Sq)),
            "no fourth power of a linear combination with a squared node"
        );
    }

    #[test]
    fn benchmark_terms_compile_to_two_instructions() {
        let n = 1000;
        let tape = Tape::record_scalar(&point(n), rosenbrock).unwrap();
        assert_eq!(tape.len(), 8 * (n - 1) - 1);
        let seg = tape.seg.as_ref().unwrap();
        assert_eq!(seg.ins.len(), 2 * (n - 1));
        // 100·(x_{i+1} − x_i²)² and (x_i − 1)², both eager: no reverse sweep at all.
        for t in seg.ins.chunks(2) {
            assert_eq!(
                (t[0].code, t[0].u1, t[0].ub),
                (Code::Fused, Code::Sq, Code::Sq)
            );
            assert_eq!(t[0].flags & (EAGER | LIN2 | LINC), EAGER | LIN2);
            assert_eq!((t[1].code, t[1].u1), (Code::Fused, Code::Sq));
            assert_eq!(t[1].flags & (EAGER | LIN2 | LINC), EAGER | LINC);
        }
        assert!(seg.consts.len() <= 16, "constants are shared");
        let s = 30;
        let tape = Tape::record_scalar(&point(s * s), |x| grid(x, s)).unwrap();
        let seg = tape.seg.as_ref().unwrap();
        // Per vertex: (x_p − x_q)⁴ twice (one fused instruction each), cos x_p.
        assert_eq!(seg.ins.len(), 2 * s * (s - 1) + s * s);
        assert!(seg.ins.iter().all(|i| i.flags & EAGER != 0));
    }

    #[test]
    fn trivial_outputs() {
        // The output is an input, a constant, an affine function of the inputs only.
        let x = [0.3, -0.7];
        for (k, want_value) in [(0, 0.3), (1, 2.5), (2, 2.0 * 0.3 - 0.7 + 1.0)] {
            let mut tape = Tape::record_scalar(&x, |v| match k {
                0 => v[0],
                1 => <TapeVar as crate::Elementary>::constant(2.5),
                _ => v[0] * 2.0 + v[1] + 1.0,
            })
            .unwrap();
            let seg = tape.seg.clone().unwrap();
            assert!(seg.ins.is_empty(), "case {k}");
            let (mut val, mut tan) = (vec![0.0; seg.nslots], vec![1.0; seg.nslots]);
            let (mut adj, mut adt) = (vec![0.0; seg.nslots], vec![0.0; seg.nslots]);
            val[..2].copy_from_slice(&x);
            let v = seg.hvp::<1>(&mut val, &mut tan, &mut adj, &mut adt, &mut []);
            // The affine form sums in another order than the recording.
            assert!((v.unwrap() - want_value).abs() <= 1e-15, "case {k}");
            let mut h = [7.0; 4];
            tape.hvp_block(&x, &[1.0, 0.0, 0.0, 1.0], &mut h).unwrap();
            assert_eq!(h, [0.0; 4], "case {k}");
        }
    }

    #[test]
    fn fused_values_are_the_recorded_ones() {
        // The value of the output through the folded affine form and fused linear
        // arguments equals the f64 evaluation up to the order of the sum.
        for (f, n) in [
            (mixed as fn(&[TapeVar]) -> TapeVar, 40),
            (chain as fn(&[TapeVar]) -> TapeVar, 40),
        ] {
            let x = point(n);
            let mut tape = Tape::record_scalar(&x, f).unwrap();
            let seg = tape.seg.clone().unwrap();
            let p = 1;
            let ns = seg.nslots;
            let (mut val, mut tan) = (vec![0.0; ns], vec![0.0; ns * p]);
            let (mut adj, mut adt) = (vec![0.0; ns], vec![0.0; ns * p]);
            let mut stack = vec![0.0; seg.stack_len(p)];
            val[..n].copy_from_slice(&x);
            let v = seg
                .hvp::<1>(&mut val, &mut tan, &mut adj, &mut adt, &mut stack)
                .unwrap();
            let mut out = [0.0];
            tape.eval(&x, &mut out).unwrap();
            assert!(
                (v - out[0]).abs() <= 1e-13 * out[0].abs().max(1.0),
                "{v} vs {}",
                out[0]
            );
        }
    }
}
