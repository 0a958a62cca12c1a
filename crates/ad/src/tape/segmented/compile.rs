//! Compiling a recording into a [`Segmented`] program: liveness and use counts, constant
//! adjoints (folding), fusion of unary operations of linear combinations, eager terms,
//! segments, slot allocation, lowering to [`SIns`] records and a final validation.

#![allow(clippy::needless_range_loop)] // position loops index several arrays

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::flag::*;
use super::{SIns, Segmented};
use crate::memory::Spare;
use crate::op::{Binary, rule};
use crate::tape::program::{Code, Guard, NONE, Operand, dying_buckets, lower, relocate_guards};

/// Consecutive closed segments are merged up to at least this many instructions (fewer
/// calls; the stack of a segment of this size fits the L1 cache with 8 lanes).
const MIN_SEGMENT: usize = 64;
/// Eager terms only in segments up to this length: the temporaries they write adjoints to
/// keep their slots until the end of the segment.
const EAGER_SEGMENT: usize = 1 << 12;
/// Most nodes one linear argument absorbs, and the deepest chain it follows.
const MAX_ABSORB: usize = 8;

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

/// Facts about a recorded node while compiling, one bit each.
mod node {
    /// Read by a live instruction, a guard or the output.
    pub(super) const LIVE: u8 = 1;
    /// Some consumer is kept (not folded) or a guard reads it: its adjoint is not a
    /// constant.
    pub(super) const HELD: u8 = 2;
    /// Read by a folded instruction (or the output itself): `adjc` holds its weight.
    pub(super) const SEEDED: u8 = 4;
    /// Live and not folded (inputs: never).
    pub(super) const KEPT: u8 = 8;
    /// Absorbed into a fused consumer.
    pub(super) const ABSORBED: u8 = 16;
    /// Upstream of a second-order term (see `Program`).
    pub(super) const CURVED: u8 = 32;
    /// Used at least once; `REUSED` (the next bit): at least twice.
    pub(super) const USED: u8 = 64;
    pub(super) const REUSED: u8 = USED << 1;
}

/// A linear argument `α·a [+ β·b] [+ γ]`, evaluated left to right. The nodes it absorbed
/// are kept apart, on a stack shared by the recursion of `linear` (a list inside each
/// value made it 136 bytes, copied at every step: 77 ms of the 1e6 Rosenbrock's fusion).
#[derive(Debug, Clone, Copy)]
struct Lin {
    /// The terms' nodes (the second [`NONE`] and its weight 0 when `len == 1`).
    nodes: [u32; 2],
    alpha: [f64; 2],
    len: usize,
    gamma: Option<f64>,
}

impl Lin {
    fn leaf(v: u32, alpha: f64) -> Lin {
        Lin {
            nodes: [v, NONE],
            alpha: [alpha, 0.0],
            len: 1,
            gamma: None,
        }
    }

    /// `−L`: exact (rounding to nearest is symmetric).
    fn neg(mut self) -> Lin {
        for a in &mut self.alpha[..self.len] {
            *a = -*a;
        }
        self.gamma = self.gamma.map(|g| -g);
        self
    }

    /// Whether `L₁ + L₂` is a linear argument: both single bare terms.
    fn adds(&self, other: &Lin) -> bool {
        self.gamma.is_none() && other.gamma.is_none() && self.len + other.len <= 2
    }

    /// `L₁ + L₂` (see [`adds`](Self::adds)).
    fn add(mut self, other: &Lin) -> Lin {
        self.nodes[1] = other.nodes[0];
        self.alpha[1] = other.alpha[0];
        self.len = 2;
        self
    }
}

/// Deduplicated constants (blocks compared bit for bit).
#[derive(Default)]
struct Pool {
    consts: Vec<f64>,
    index: HashMap<Block, u32, BuildHasherDefault<BitsHasher>>,
    /// The blocks asked for last: consecutive terms of a sum mostly repeat one of a few
    /// blocks (Rosenbrock alternates two), and a hit skips hashing. Replaced round-robin
    /// (`next`), never reordered: moving the hit to the front copied four blocks per call
    /// (the 1e6 Rosenbrock's fusion pass: 138–141 → 131–137 ms).
    recent: [(Block, u32); RECENT],
    /// How many of `recent` are filled, and the one replaced next.
    filled: usize,
    next: usize,
}

/// Blocks remembered by [`Pool::block`] before its hash map.
const RECENT: usize = 4;

/// The bit patterns of a block of up to 8 constants; only the first `len` words count
/// (the rest are 0), so hashing reads what the block holds. (With all nine words hashed
/// and compared, and one recent block, the fusion pass of the 1e6 Rosenbrock compile took
/// 177 ms; with this and four recent blocks, 152 ms.)
#[derive(Clone, Copy, Eq, Default)]
struct Block {
    len: usize,
    bits: [u64; 8],
}

impl Block {
    #[inline]
    fn of(b: &[f64]) -> Block {
        // Word by word: a copy of `b.len()` words became a call to `memcpy` whose byte
        // stores the comparisons then read back as 16-byte words, stalling (a fifth of the
        // fusion pass of the 1e6 Rosenbrock).
        let bits: [u64; 8] = std::array::from_fn(|k| b.get(k).map_or(0, |x| x.to_bits()));
        Block { len: b.len(), bits }
    }
}

impl PartialEq for Block {
    #[inline]
    fn eq(&self, other: &Block) -> bool {
        // Unused words are 0 in both, so equal lengths and all eight words decide (a
        // word-wise OR of differences: no call to `memcmp`, no early exit to mispredict).
        let mut diff = 0u64;
        for k in 0..8 {
            diff |= self.bits[k] ^ other.bits[k];
        }
        self.len == other.len && diff == 0
    }
}

impl std::hash::Hash for Block {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len);
        for &w in &self.bits[..self.len] {
            state.write_u64(w);
        }
    }
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
        let key = Block::of(b);
        if let Some((_, i)) = self.recent[..self.filled]
            .iter()
            .find(|(blk, _)| *blk == key)
        {
            return *i;
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
        self.recent[self.next] = (key, i);
        self.next = (self.next + 1) % RECENT;
        self.filled = (self.filled + 1).min(RECENT);
        i
    }
}

/// The program position of each root: its rank among the roots, which are in recording
/// order, from one bit per node and a count per 64 nodes ([`NONE`] for a node that is no
/// root). A position per node took 36 MB for the 1e6 Rosenbrock (13 ms of fresh pages
/// and 4 ms of filling); this takes a sixteenth.
struct Ranks {
    bits: Vec<u64>,
    /// Roots before each word of `bits`.
    before: Vec<u32>,
}

impl Ranks {
    /// The ranks of `roots` (increasing node indices below `nodes`).
    fn new(nodes: usize, roots: impl Iterator<Item = usize>) -> Ranks {
        let mut bits = vec![0u64; nodes.div_ceil(64)];
        for v in roots {
            bits[v >> 6] |= 1 << (v & 63);
        }
        let mut count = 0u32;
        let before = bits
            .iter()
            .map(|w| {
                let c = count;
                count += w.count_ones();
                c
            })
            .collect();
        Ranks { bits, before }
    }

    /// The position of root `v`, or [`NONE`].
    #[inline]
    fn get(&self, v: u32) -> u32 {
        let v = v as usize;
        let (word, bit) = (self.bits[v >> 6], 1u64 << (v & 63));
        if word & bit == 0 {
            NONE
        } else {
            self.before[v >> 6] + (word & (bit - 1)).count_ones()
        }
    }
}

/// A root of the program: its recorded index and its fused form's index ([`NONE`]: not
/// fused). Aligned to 8 bytes (its size stays 8), so that once the compile is done with
/// them the roots lend their pages to the pattern detection's column indices (`usize`;
/// see `memory::Spare`).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Root {
    k: u32,
    fi: u32,
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
        spare: &mut Spare,
    ) -> Segmented {
        let nodes = n + code.len();
        let at = |k: usize| lower(code[k], args[k], consts);
        let out = output as usize;
        // One byte of facts per node (`node::*`; one array instead of seven keeps the
        // 9e6-node recordings of 1e6-variable functions to a sixth of the fresh pages),
        // in 8-byte words: once the compile is done, their pages serve the pattern
        // detection's 8-byte arrays (`memory::Spare`).
        let mut fl_words: Vec<u64> = crate::memory::zeros_mapped(nodes.div_ceil(8));
        let fl: &mut [u8] = &mut bytemuck::cast_slice_mut(&mut fl_words)[..nodes];
        // USED on the first use, REUSED (USED's next bit) on any later one; branch-free.
        let add_use = |f: &mut u8| *f |= node::USED | ((*f & node::USED) << 1);
        fl[out] |= node::LIVE;
        add_use(&mut fl[out]);
        for g in guards {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    let f = &mut fl[v as usize];
                    *f |= node::LIVE;
                    add_use(f);
                    // Guard operands keep their values.
                    *f |= node::HELD;
                }
            }
        }
        // Liveness, use counts and constant adjoints in one pass from the output backwards
        // (every consumer of a node comes after it, so its facts are final when it is
        // reached). Without `HELD` every consumer of a node so far is folded; `adjc[v]`:
        // the adjoint through folded consumers; `SEEDED`: read by a folded instruction (or
        // the output itself); `KEPT`: live and not folded.
        // (a whole number of instructions long, 24 bytes each, for their later use)
        let mut adjc: Vec<f64> = crate::memory::zeros_mapped(nodes.next_multiple_of(3));
        adjc[out] = 1.0;
        fl[out] |= node::SEEDED;
        let mut constant = 0.0;
        for k in (0..code.len()).rev() {
            let v = n + k;
            if fl[v] & node::LIVE == 0 {
                continue;
            }
            let (c, [a, b], cst) = at(k);
            // Folded or kept is decided by the node's own facts, final here; each argument
            // then gets all its facts in one update (two updates each took longer).
            let fold = fl[v] & node::HELD == 0 && foldable(c);
            let fact = if fold { node::SEEDED } else { node::HELD };
            let m = c.arity();
            for x in [a, b].into_iter().take(m) {
                let f = &mut fl[x as usize];
                *f |= node::LIVE | fact;
                add_use(f);
            }
            if !fold {
                fl[v] |= node::KEPT;
                continue;
            }
            let w = adjc[v];
            let mut to = |x: u32, s: f64| adjc[x as usize] += s;
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
                Code::Neg => to(a, w * rule::neg(0.0).1),
                Code::AddC => {
                    constant += w * cst;
                    to(a, w * rule::add_const(0.0, cst).1);
                }
                Code::MulC => to(a, w * rule::mul_const(0.0, cst).1),
                Code::SubFromC => {
                    constant += w * cst;
                    to(a, w * rule::sub_from_const(0.0, cst).1);
                }
                _ => unreachable!("not foldable"),
            }
        }
        let input_seeds: Vec<(u32, f64)> = (0..n)
            .filter(|&j| fl[j] & (node::SEEDED | node::LIVE) == node::SEEDED | node::LIVE)
            .map(|j| (j as u32, adjc[j]))
            .collect();
        let kept = |fl: &[u8], v: usize| fl[v] & node::KEPT != 0;
        let once = |fl: &[u8], v: usize| fl[v] & (node::USED | node::REUSED) == node::USED;
        let absorbed = |fl: &[u8], v: usize| fl[v] & node::ABSORBED != 0;

        // Fusion, consumers first: a kept node used once by a kept unary operation is
        // absorbed into it (as its inner operation or into its linear argument).
        let linable = |v: u32, fl: &[u8]| -> bool {
            let v = v as usize;
            v >= n && kept(fl, v) && !absorbed(fl, v) && once(fl, v) && linear_code(at(v - n).0)
        };
        // The linear argument that node `v` is, absorbing single-use linear nodes: the
        // nodes absorbed are pushed on `abs` (at most `MAX_ABSORB` beyond its length on
        // entry; a node given up as a leaf takes back what its operands pushed).
        fn linear<A, L>(
            v: u32,
            depth: usize,
            n: usize,
            at: &A,
            linable: &L,
            abs: &mut Vec<u32>,
        ) -> Lin
        where
            A: Fn(usize) -> (Code, [u32; 2], f64),
            L: Fn(u32) -> bool,
        {
            if depth == 0 || !linable(v) {
                return Lin::leaf(v, 1.0);
            }
            let base = abs.len();
            let (c, [a, b], cst) = at(v as usize - n);
            // A leaf (an input, a node that is not linable) without a call: most terms are
            // (the 1e6 grid's fusion pass: 6e6 calls, two thirds of them for inputs; 86–89
            // → 80–83 ms).
            let rec = |x: u32, abs: &mut Vec<u32>| {
                if depth == 1 || !linable(x) {
                    Lin::leaf(x, 1.0)
                } else {
                    linear(x, depth - 1, n, at, linable, abs)
                }
            };
            let l = match c {
                Code::Neg => rec(a, abs).neg(),
                Code::MulC => {
                    let l = rec(a, abs);
                    let sign = l.alpha[0];
                    if l.len == 1 && l.gamma.is_none() && (sign == 1.0 || sign == -1.0) {
                        // c·(±x) = (±c)·x exactly.
                        let mut l = l;
                        l.alpha[0] = rule::mul_const(sign, cst).0;
                        l
                    } else {
                        abs.truncate(base);
                        Lin::leaf(a, rule::mul_const(1.0, cst).0)
                    }
                }
                Code::AddC | Code::SubFromC => {
                    let mut l = rec(a, abs);
                    if l.gamma.is_some() {
                        abs.truncate(base);
                        l = Lin::leaf(a, 1.0);
                    }
                    if c == Code::SubFromC {
                        l = l.neg();
                    }
                    l.gamma = Some(cst);
                    l
                }
                Code::Add | Code::Sub => {
                    let la = rec(a, abs);
                    let mid = abs.len();
                    let lb = rec(b, abs);
                    let end = abs.len();
                    let lb = if c == Code::Sub { lb.neg() } else { lb };
                    let (ba, bb) = (Lin::leaf(a, 1.0), Lin::leaf(b, 1.0));
                    let bb = if c == Code::Sub { bb.neg() } else { bb };
                    // Both operands' forms if they fit, else one of them, else two leaves
                    // (dropping what the leaves' operands absorbed).
                    if la.adds(&lb) && end - base <= MAX_ABSORB {
                        la.add(&lb)
                    } else if ba.adds(&lb) && end - mid <= MAX_ABSORB {
                        abs.copy_within(mid..end, base);
                        abs.truncate(base + end - mid);
                        ba.add(&lb)
                    } else if la.adds(&bb) && mid - base <= MAX_ABSORB {
                        abs.truncate(mid);
                        la.add(&bb)
                    } else {
                        abs.truncate(base);
                        ba.add(&bb)
                    }
                }
                _ => return Lin::leaf(v, 1.0),
            };
            if abs.len() - base == MAX_ABSORB {
                abs.truncate(base);
                return Lin::leaf(v, 1.0);
            }
            abs.push(v);
            l
        }
        // Roots (not absorbed kept nodes), in reverse recording order, with their fused
        // form if any.
        let mut pool = Pool::default();
        let mut roots: Vec<Root> = Vec::new();
        let mut fused: Vec<Fused> = Vec::new();
        let mut abs: Vec<u32> = Vec::with_capacity(MAX_ABSORB);
        // The seeds of the seeded roots that are not fused, in reverse program order (a
        // fused root's is in its block): the constant adjoints are read no more after
        // this pass, and their pages hold the instructions.
        let mut seeds: Vec<f64> = Vec::new();
        for k in (0..code.len()).rev() {
            let v = n + k;
            if !kept(fl, v) || absorbed(fl, v) {
                continue;
            }
            let (c, [a, b], cst) = at(k);
            let mut f = None;
            if fusable_unary(c) {
                let (mut u1, mut c1, mut u2, mut c2, mut arg) = (c, cst, Code::Const, 0.0, a);
                let ai = a as usize;
                if ai >= n && kept(fl, ai) && once(fl, ai) && fusable_unary(at(ai - n).0) {
                    let (ci, [aa, _], cc) = at(ai - n);
                    fl[ai] |= node::ABSORBED;
                    (u1, c1, u2, c2, arg) = (ci, cc, c, cst, aa);
                }
                abs.clear();
                let mut lin = linear(arg, MAX_ABSORB, n, &at, &|x| linable(x, fl), &mut abs);
                for &x in &abs {
                    fl[x as usize] |= node::ABSORBED;
                }
                // A unary operation applied to the node of each term (`Code::Const`: none).
                let mut inner = [(Code::Const, 0.0); 2];
                // A term's node that is a unary operation used only here: its operation.
                for t in 0..lin.len {
                    let x = lin.nodes[t] as usize;
                    if x >= n
                        && kept(fl, x)
                        && !absorbed(fl, x)
                        && once(fl, x)
                        && fusable_unary(at(x - n).0)
                    {
                        let (ci, [ai, _], cc) = at(x - n);
                        fl[x] |= node::ABSORBED;
                        lin.nodes[t] = ai;
                        inner[t] = (ci, cc);
                    }
                }
                // A linear argument that absorbed nodes is fused even when it came out
                // bare (`(−x)·(−1)` is `x`): its nodes are marked absorbed above, so no
                // instruction computes them any more.
                let bare = lin.len == 1
                    && lin.gamma.is_none()
                    && lin.alpha[0] == 1.0
                    && inner[0].0 == Code::Const;
                if u2 != Code::Const || !bare || !abs.is_empty() {
                    let s0 = usize::from(fl[v] & node::SEEDED != 0);
                    let core = [
                        lin.alpha[0],
                        lin.alpha[1],
                        lin.gamma.unwrap_or(0.0),
                        c1,
                        c2,
                        inner[0].1,
                        inner[1].1,
                    ];
                    // [seed,] α, β, γ, c₁, c₂, c_a, c_b (built whole: see `Block::of`).
                    let block: [f64; 8] = std::array::from_fn(|k| match (s0, k) {
                        (1, 0) => adjc[v],
                        (1, k) => core[k - 1],
                        (_, 7) => 0.0,
                        (_, k) => core[k],
                    });
                    f = Some(Fused {
                        u1,
                        u2,
                        ua: inner[0].0,
                        ub: inner[1].0,
                        nodes: lin.nodes,
                        two: lin.len == 2,
                        gamma: lin.gamma.is_some(),
                        block: pool.block(&block[..s0 + 7]),
                    });
                }
            }
            // Curved (see `Program`): a root that is a second-order term, or upstream of
            // one, makes its arguments curved. Every consumer of this root comes later in
            // the recording, so its flag is final here (a pass of its own over the roots
            // took 20 ms of the 1e6 grid's compile).
            let (fi, (na, m), full) = match f {
                Some(f) => {
                    let args = (f.nodes, 1 + usize::from(f.two));
                    fused.push(f);
                    ((fused.len() - 1) as u32, args, true)
                }
                None => (NONE, ([a, b], c.arity()), c.q_len() > 0),
            };
            if full || fl[v] & node::CURVED != 0 {
                for &x in &na[..m] {
                    fl[x as usize] |= node::CURVED;
                }
            }
            if fi == NONE && fl[v] & node::SEEDED != 0 {
                seeds.push(adjc[v]);
            }
            roots.push(Root { k: k as u32, fi });
        }
        roots.reverse();
        // (populated for the first pass, a fifth larger than the instructions at n = 1e6:
        // they need no fresh pages; see `SIns`)
        spare.put(adjc);
        let len = roots.len();
        // The node arguments of root p.
        let root_args = |p: usize| -> ([u32; 2], usize) {
            let Root { k, fi } = roots[p];
            if fi != NONE {
                let f = &fused[fi as usize];
                (f.nodes, 1 + usize::from(f.two))
            } else {
                let (c, a, _) = at(k as usize);
                (a, c.arity())
            }
        };
        // Program positions.
        let pos = Ranks::new(nodes, roots.iter().map(|r| n + r.k as usize));
        // The last use of every root by a root.
        let mut last = vec![NONE; len];
        for p in 0..len {
            let (a, m) = root_args(p);
            for &x in &a[..m] {
                let q = pos.get(x);
                if q != NONE {
                    last[q as usize] = p as u32;
                }
            }
        }
        // Segments close where no open node has a consumer further on (guards read values
        // only, they do not keep a segment open). The roots of a short segment that only
        // folded instructions read are eager, marked as it closes, while its roots are in
        // cache (a pass of its own over the roots took 17 ms of the 1e6 grid's compile);
        // the temporaries they write adjoints to keep their slots to the end of the
        // segment (a root's arguments lie in its own segment, so no later mark moves them).
        let mut bounds = vec![0u32];
        let mut eager = vec![false; len];
        let mut close = |s: usize, e: usize, last: &mut [u32], bounds: &mut Vec<u32>| {
            bounds.push(e as u32);
            if e - s > EAGER_SEGMENT {
                return;
            }
            for p in s..e {
                if fl[n + roots[p].k as usize] & node::HELD == 0 {
                    eager[p] = true;
                    let (a, m) = root_args(p);
                    for &x in &a[..m] {
                        let q = pos.get(x);
                        if q != NONE {
                            last[q as usize] = e as u32;
                        }
                    }
                }
            }
        };
        let mut reach = 0usize;
        for p in 0..len {
            if last[p] != NONE {
                reach = reach.max(last[p] as usize);
            }
            let s = *bounds.last().unwrap() as usize;
            if reach <= p && p + 1 - s >= MIN_SEGMENT {
                close(s, p + 1, &mut last, &mut bounds);
            }
        }
        let s = *bounds.last().unwrap() as usize;
        if s != len {
            close(s, len, &mut last, &mut bounds);
        }
        let pos_at =
            |rec_pos: usize| -> u32 { roots.partition_point(|r| (r.k as usize) < rec_pos) as u32 };
        let guards_prog: Vec<(u32, Guard)> = guards
            .iter()
            .map(|g| (pos_at(g.pos as usize), *g))
            .collect();
        for (gp, g) in &guards_prog {
            for op in [g.lhs, g.rhs] {
                if let Operand::Node(v) = op {
                    let q = pos.get(v);
                    if q != NONE && (last[q as usize] == NONE || last[q as usize] < *gp) {
                        last[q as usize] = *gp;
                    }
                }
            }
        }
        for (p, l) in last.iter_mut().enumerate() {
            if eager[p] {
                // No slot, so its death frees none: in no bucket. (Every root of the 1e6
                // Rosenbrock and grid programs is eager: their buckets took 18–25 ms.)
                *l = NONE;
            } else if *l == NONE {
                // Read by nobody: dies after its own instruction.
                *l = p as u32 + 1;
            }
        }
        // Nodes dying before each position.
        let (start, dying) = dying_buckets(&last, len);
        // Slots: inputs keep theirs, temporaries share a LIFO free list; eager roots have
        // none. (`last` is spent: its pages become the slots, not fresh ones.)
        let mut slot = last;
        slot.fill(NONE);
        let slot_of = |v: u32, slot: &[u32]| -> u32 {
            if (v as usize) < n {
                v
            } else {
                slot[pos.get(v) as usize]
            }
        };
        let mut free: Vec<u32> = Vec::new();
        let mut need_adj = vec![false; len];
        let mut nslots = n as u32;
        let mut ins: Vec<SIns> = spare.with_capacity(len);
        let (mut first_len, mut q_len) = (0usize, 0usize);
        let (mut seg_first, mut seg_q) = (0usize, 0usize);
        let mut seg = 1;
        for p in 0..len {
            if p == bounds[seg] as usize {
                seg += 1;
                seg_first = 0;
                seg_q = 0;
            }
            if !dying.is_empty() {
                for &q in &dying[start[p] as usize..start[p + 1] as usize] {
                    if slot[q as usize] != NONE {
                        free.push(slot[q as usize]);
                    }
                }
            }
            let Root { k, fi } = roots[p];
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
            if fl[v] & node::CURVED != 0 {
                flags |= CURVED;
            }
            if fl[v] & node::SEEDED != 0 {
                flags |= SEEDED;
            }
            if eager[p] {
                flags |= EAGER;
            }
            let (na, m) = root_args(p);
            // Whether a root's adjoint is read (it is upstream of a second-order term: a
            // second-order term itself, or an argument's adjoint is read), worked out here in
            // program order, where its arguments' are known.
            let adj_flag = |x: u32| matches!(pos.get(x), q if q != NONE && need_adj[q as usize]);
            let mut need = fi != NONE || at(k as usize).0.q_len() > 0;
            if m >= 1 && adj_flag(na[0]) {
                flags |= ADJ_A;
                need = true;
            }
            if m >= 2 && adj_flag(na[1]) {
                flags |= ADJ_B;
                need = true;
            }
            need_adj[p] = need;
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
            if fi == NONE && fl[v] & node::SEEDED != 0 {
                let seed = seeds
                    .pop()
                    .expect("a seed per seeded root that is not fused");
                instr.c = pool.block(&[seed]);
            }
            ins.push(instr);
        }
        let guards = relocate_guards(guards_prog, |v| slot_of(v, &slot));
        // The scratch arrays, for the pattern detection that mostly follows.
        spare.put(fl_words);
        spare.put(roots);
        spare.put(fused);
        spare.put(slot);
        spare.put(start);
        spare.put(dying);
        spare.put(need_adj);
        let reversed = bounds
            .windows(2)
            .map(|w| (w[0]..w[1]).any(|p| !eager[p as usize]))
            .collect();
        spare.put(eager);
        let prog = Segmented {
            n,
            nslots: nslots as usize,
            ins,
            consts_len: pool.consts.len(),
            consts: pool.consts,
            bounds,
            reversed,
            guards,
            constant,
            input_seeds,
            first_len,
            q_len,
        };
        // Validated by the caller, as it will run: whole, or chunk by chunk once split
        // (`Split::new`; validating both took 11–18 ms more at n = 1e6).
        prog
    }

    /// Checks what the sweeps rely on without bounds checks: every slot an instruction
    /// names is below `nslots`, every constant it reads is in the pool, and no segment
    /// pushes more than `first_len` first-order and `q_len` second-order values per lane.
    /// A failure is a bug of `compile`. The program [`compile`](Self::compile) returns must
    /// pass this (or be split, [`Split::new`](super::Split::new), whose chunks pass it)
    /// before it is swept.
    pub(crate) fn validate(&self) {
        self.validate_with(&self.ins);
    }

    /// [`validate`](Self::validate) with the instructions `ins` (a chunk of a split
    /// program keeps its instructions in the split's array).
    pub(super) fn validate_with(&self, ins: &[SIns]) {
        let (ns, nc) = (self.nslots, self.consts_len);
        assert!(self.n <= ns, "inputs beyond the slots");
        for w in self.bounds.windows(2) {
            assert!(w[0] <= w[1] && w[1] as usize <= ins.len(), "segment bounds");
            let (mut first, mut q) = (0, 0);
            for i in &ins[w[0] as usize..w[1] as usize] {
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
}

#[cfg(test)]
mod tests {
    use super::{NONE, Ranks};

    /// Ranks agree with a position per node on sets of every density, word boundaries
    /// included.
    #[test]
    fn ranks_are_positions() {
        for (nodes, step) in [
            (0, 1),
            (1, 1),
            (64, 1),
            (65, 3),
            (200, 7),
            (1000, 64),
            (1000, 65),
        ] {
            let roots: Vec<usize> = (0..nodes).filter(|v| v % step == step / 2).collect();
            let ranks = Ranks::new(nodes, roots.iter().copied());
            let mut pos = vec![NONE; nodes];
            for (p, &v) in roots.iter().enumerate() {
                pos[v] = p as u32;
            }
            for v in 0..nodes {
                assert_eq!(
                    ranks.get(v as u32),
                    pos[v],
                    "node {v} of {nodes}, step {step}"
                );
            }
        }
    }
}
