//! Row blocks of a segmented program, for sweeps on several threads.
//!
//! A large program is cut at segment boundaries into *chunks* of about [`CHUNK_INS`]
//! instructions. No value crosses a segment boundary, so each chunk's sweep reads only the
//! inputs' values and tangents and its own temporaries: chunks are independent except that
//! they add into the inputs' adjoint-tangents. Each chunk therefore gets its own program
//! with local slots — the inputs it reads, `lo..hi`, as slots `0..hi − lo`, then its
//! temporaries — and accumulates its *partial* adjoint-tangents of `lo..hi` from zero, in
//! the sweep buffers of the thread it runs on. The inputs it reads alone (`Chunk::own`)
//! get its partial as their product at once; the partials of inputs that several chunks
//! read are kept and summed per input in chunk order after all chunks ran.
//!
//! **In place.** The chunks' instructions are the parent's, remapped to local slots where
//! they lie: [`Split::new`] moves the parent's instruction array into the split (the
//! parent keeps its constants, output seeds and segment list, but no instructions), and a
//! chunk is a range of it. Copying them instead cost a second array of the program's size
//! (48 MB of fresh pages for the 1e6 Rosenbrock program).
//!
//! **Determinism.** The cuts depend on the program alone (never on a thread count), every
//! chunk's arithmetic is the serial sweep's on its instructions, and the partials of an
//! input are added in a fixed order: the products are bit for bit the same whether the
//! chunks run on one thread or many. They may differ in the last bits from the unsplit
//! sweep only at inputs read by two chunks (there the serial running sum is regrouped).
//!
//! **When.** Only programs of at least two chunks are split, and only when the chunks'
//! input ranges are narrow and move forward (row blocks of a sum of local terms in order:
//! Rosenbrock, stencils, trajectories): their lengths may add up to at most twice the
//! number of inputs plus a chunk, and neither end of a range may move back. A program whose
//! chunks read inputs across the whole range, or out of order (a wrap-around term at the
//! end), or a guard that reads a value of an earlier chunk, is not split: it runs the
//! serial sweep.

use std::ops::Range;

use super::flag::EAGER;
use super::{SIns, Segmented};
use crate::tape::program::{Code, Guard, Operand};

/// The number of instructions a chunk reaches before it is cut (at the next segment
/// boundary); programs shorter than two chunks are not split.
pub(crate) const CHUNK_INS: usize = 1 << 16;

/// One chunk of a [`Split`] program.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    /// The chunk's program with local slots, without its instructions (they are
    /// `Split::ins[start..end]`); its constants are the parent's.
    pub(crate) prog: Segmented,
    /// Where its instructions are in [`Split::ins`].
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The inputs it reads: `lo..hi` (local slots `0..hi − lo`).
    pub(crate) lo: usize,
    pub(crate) hi: usize,
    /// The index of its first guard in the whole program (for error reports).
    pub(crate) guard0: usize,
    /// The inputs that this chunk alone reads (within `lo..hi`). The others are shared:
    /// `lo..own.start` is read by earlier chunks too, `own.end..hi` by later ones (and
    /// by no earlier one), as the non-empty input ranges are monotone.
    pub(crate) own: Range<usize>,
}

/// A segmented program cut into chunks (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Split {
    /// The parent's instructions, each chunk's range with its local slots.
    pub(crate) ins: Vec<SIns>,
    pub(crate) chunks: Vec<Chunk>,
}

/// The number of slot arguments of an instruction (`a`, then `b`).
fn slot_args(i: &SIns) -> usize {
    match i.code {
        Code::Const => 0,
        Code::Fused if i.flags & super::flag::LIN2 != 0 => 2,
        Code::Fused => 1,
        c if c.arity() == 2 => 2,
        _ => 1,
    }
}

impl Split {
    /// Cuts `seg` into chunks, moving its instructions into the split, or `None` (and
    /// `seg` untouched) when it is too short or its chunks are not row blocks (see the
    /// module docs).
    pub(crate) fn new(seg: &mut Segmented) -> Option<Split> {
        let len = seg.ins.len();
        if len < 2 * CHUNK_INS {
            return None;
        }
        // Cuts at segment boundaries, every CHUNK_INS instructions or more.
        let mut cuts = vec![0usize];
        for &b in &seg.bounds[1..] {
            let b = b as usize;
            if b - cuts[cuts.len() - 1] >= CHUNK_INS && b < len {
                cuts.push(b);
            }
        }
        // A short tail joins the chunk before it.
        if cuts.len() > 1 && len - cuts[cuts.len() - 1] < CHUNK_INS / 2 {
            cuts.pop();
        }
        cuts.push(len);
        if cuts.len() < 3 {
            return None;
        }
        if seg.guards.windows(2).any(|w| w[0].pos > w[1].pos) {
            return None;
        }
        let n = seg.n;
        let temps = seg.nslots - n;
        // Chunk by chunk: checked (reading only: its input range and guards), then
        // remapped in place and validated while its instructions are in cache. A chunk
        // that fails the checks undoes the remapping of the chunks before it. (One pass
        // over the program instead of three, and the check's prefetch: the 1e6
        // Rosenbrock's split, 28–32 → 16 ms; the grid's, 45 → 27 ms.)
        let mut ins = std::mem::take(&mut seg.ins);
        // The chunk (plus one) that last wrote each temporary slot.
        let mut written = vec![0u32; temps];
        let mut chunks: Vec<Chunk> = Vec::with_capacity(cuts.len() - 1);
        let mut g = 0;
        let mut total = 0usize;
        // The last non-empty input range: ranges must be monotone (lo and hi never
        // decrease), as the summation copies the first partial of an input and adds the
        // others.
        let mut last: Option<(usize, usize)> = None;
        for (k, w) in cuts.windows(2).enumerate() {
            let (s, e) = (w[0], w[1]);
            // Guards checked before instruction p run after instruction p − 1: a guard at a
            // cut belongs to the chunk before it (a guard at 0 to the first).
            let g0 = g;
            while g < seg.guards.len() && (seg.guards[g].pos as usize <= e || e == len) {
                g += 1;
            }
            let fits = check_chunk(
                &ins[s..e],
                s,
                &seg.guards[g0..g],
                n,
                k as u32 + 1,
                &mut written,
            )
            .filter(|&(lo, hi)| {
                total += hi - lo;
                let monotone = lo == hi || last.is_none_or(|(l, h)| l <= lo && h <= hi);
                if lo < hi {
                    last = Some((lo, hi));
                }
                monotone && total <= 2 * n + CHUNK_INS
            });
            let Some((lo, hi)) = fits else {
                for c in &chunks {
                    let global = |v: u32| -> u32 {
                        let v = v as usize;
                        let width = c.hi - c.lo;
                        (if v < width { v + c.lo } else { v - width + n }) as u32
                    };
                    remap(&mut ins[c.start..c.end], global);
                }
                seg.ins = ins;
                return None;
            };
            let local = |v: u32| -> u32 {
                let v = v as usize;
                (if v < n { v - lo } else { hi - lo + v - n }) as u32
            };
            remap(&mut ins[s..e], local);
            let b0 = seg.bounds.partition_point(|&b| (b as usize) < s);
            let b1 = seg.bounds.partition_point(|&b| (b as usize) <= e);
            let bounds: Vec<u32> = seg.bounds[b0..b1]
                .iter()
                .map(|&b| (b as usize - s) as u32)
                .collect();
            let reversed = seg.reversed[b0..b1 - 1].to_vec();
            let operand = |op: Operand| match op {
                Operand::Node(v) => Operand::Node(local(v)),
                c => c,
            };
            let guards = seg.guards[g0..g]
                .iter()
                .map(|gd| Guard {
                    pos: (gd.pos as usize).saturating_sub(s) as u32,
                    lhs: operand(gd.lhs),
                    rhs: operand(gd.rhs),
                    outcome: gd.outcome,
                })
                .collect();
            let prog = Segmented {
                n: hi - lo,
                nslots: hi - lo + temps,
                ins: Vec::new(),
                consts: Vec::new(),
                consts_len: seg.consts_len,
                bounds,
                reversed,
                guards,
                constant: 0.0,
                input_seeds: Vec::new(),
                first_len: seg.first_len,
                q_len: seg.q_len,
            };
            prog.validate_with(&ins[s..e]);
            chunks.push(Chunk {
                prog,
                start: s,
                end: e,
                lo,
                hi,
                guard0: g0,
                own: lo..hi,
            });
        }
        // The inputs each chunk reads alone: above the last input range before it, below
        // the first one after it (empty ranges take no part).
        let mut before = 0;
        for c in &mut chunks {
            c.own.start = before.clamp(c.lo, c.hi);
            if c.lo < c.hi {
                before = before.max(c.hi);
            }
        }
        let mut after = usize::MAX;
        for c in chunks.iter_mut().rev() {
            c.own.end = after.clamp(c.own.start, c.hi);
            if c.lo < c.hi {
                after = after.min(c.lo);
            }
        }
        Some(Split { ins, chunks })
    }

    /// The instructions of chunk `c`.
    pub(crate) fn ins_of(&self, c: &Chunk) -> &[SIns] {
        &self.ins[c.start..c.end]
    }
}

/// Checks the chunk `ins` (starting at instruction `s` of the program, with its guards
/// `guards`, number `stamp` from 1): every temporary it reads was written by it, no
/// instruction writes an input. Its input range `(lo, hi)` (`(0, 0)` if it reads none), or
/// `None`.
fn check_chunk(
    ins: &[SIns],
    s: usize,
    guards: &[Guard],
    n: usize,
    stamp: u32,
    written: &mut [u32],
) -> Option<(usize, usize)> {
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    // A slot the chunk reads: an input (the chunk's input range grows), or a temporary the
    // chunk wrote before (otherwise it is not self-contained).
    let mut reads = |v: u32, written: &[u32]| -> bool {
        let v = v as usize;
        if v < n {
            lo = lo.min(v);
            hi = hi.max(v + 1);
            true
        } else {
            written[v - n] == stamp
        }
    };
    let mut gi = 0;
    for (p, i) in ins.iter().enumerate() {
        crate::memory::prefetch(ins, p + crate::memory::AHEAD);
        while gi < guards.len() && (guards[gi].pos as usize) <= s + p {
            if !guard_nodes(&guards[gi]).all(|v| reads(v, written)) {
                return None;
            }
            gi += 1;
        }
        let args = slot_args(i);
        if (args >= 1 && !reads(i.a, written)) || (args >= 2 && !reads(i.b, written)) {
            return None;
        }
        if i.flags & EAGER == 0 {
            let d = i.dst as usize;
            if d < n {
                return None;
            }
            written[d - n] = stamp;
        }
    }
    if !guards[gi..]
        .iter()
        .flat_map(guard_nodes)
        .all(|v| reads(v, written))
    {
        return None;
    }
    Some(if lo > hi { (0, 0) } else { (lo, hi) })
}

/// Maps the slots of `ins` (arguments, and destinations where written) by `f`.
fn remap(ins: &mut [SIns], f: impl Fn(u32) -> u32) {
    for i in ins {
        let args = slot_args(i);
        if args >= 1 {
            i.a = f(i.a);
        }
        if args >= 2 {
            i.b = f(i.b);
        }
        if i.flags & EAGER == 0 {
            i.dst = f(i.dst);
        }
    }
}

/// The slots a guard compares (its operands that are not constants).
fn guard_nodes(gd: &Guard) -> impl Iterator<Item = u32> + use<> {
    [gd.lhs, gd.rhs].into_iter().filter_map(|op| match op {
        Operand::Node(v) => Some(v),
        _ => None,
    })
}
