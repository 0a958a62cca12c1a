//! Row blocks of a segmented program, for sweeps on several threads.
//!
//! A large program is cut at segment boundaries into *chunks* of about [`CHUNK_INS`]
//! instructions. No value crosses a segment boundary, so each chunk's sweep reads only the
//! inputs' values and tangents and its own temporaries: chunks are independent except that
//! they add into the inputs' adjoint-tangents. Each chunk therefore gets its own program
//! with local slots — the inputs it reads, `lo..hi`, as slots `0..hi − lo`, then its
//! temporaries — and its own buffers, and accumulates its *partial* adjoint-tangents of
//! `lo..hi` from zero. The partials are then summed per input in chunk order.
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
        // First every chunk is checked, reading only: its input range and guards.
        // The chunk (plus one) that last wrote each temporary slot.
        let mut written = vec![0u32; temps];
        // (lo, hi, first guard, end of its guards) of each chunk.
        let mut blocks: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(cuts.len() - 1);
        let mut g = 0;
        let mut total = 0usize;
        for (k, w) in cuts.windows(2).enumerate() {
            let (s, e) = (w[0], w[1]);
            let stamp = k as u32 + 1;
            // Guards checked before instruction p run after instruction p − 1: a guard at a
            // cut belongs to the chunk before it (a guard at 0 to the first).
            let g0 = g;
            while g < seg.guards.len() && (seg.guards[g].pos as usize <= e || e == len) {
                g += 1;
            }
            let guards = &seg.guards[g0..g];
            let (mut lo, mut hi) = (usize::MAX, 0usize);
            // A slot the chunk reads: an input (the chunk's input range grows), or a
            // temporary the chunk wrote before (otherwise it is not self-contained).
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
            for (p, i) in seg.ins[s..e].iter().enumerate() {
                while gi < guards.len() && (guards[gi].pos as usize) <= s + p {
                    if !guard_nodes(&guards[gi]).all(|v| reads(v, &written)) {
                        return None;
                    }
                    gi += 1;
                }
                let args = slot_args(i);
                if (args >= 1 && !reads(i.a, &written)) || (args >= 2 && !reads(i.b, &written)) {
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
                .all(|v| reads(v, &written))
            {
                return None;
            }
            if lo > hi {
                (lo, hi) = (0, 0);
            }
            total += hi - lo;
            blocks.push((lo, hi, g0, g));
        }
        if total > 2 * n + CHUNK_INS {
            return None;
        }
        // Monotone ranges (lo and hi never decrease, empty blocks aside): the summation
        // copies the first partial of an input and adds the others.
        let ranges: Vec<(usize, usize)> = blocks
            .iter()
            .filter(|b| b.0 < b.1)
            .map(|b| (b.0, b.1))
            .collect();
        if ranges
            .windows(2)
            .any(|w| w[1].0 < w[0].0 || w[1].1 < w[0].1)
        {
            return None;
        }
        // Then the instructions are moved and remapped in place, chunk by chunk.
        let mut ins = std::mem::take(&mut seg.ins);
        let mut chunks = Vec::with_capacity(blocks.len());
        for (w, &(lo, hi, g0, g1)) in cuts.windows(2).zip(&blocks) {
            let (s, e) = (w[0], w[1]);
            let local = |v: u32| -> u32 {
                let v = v as usize;
                (if v < n { v - lo } else { hi - lo + v - n }) as u32
            };
            for i in &mut ins[s..e] {
                let args = slot_args(i);
                if args >= 1 {
                    i.a = local(i.a);
                }
                if args >= 2 {
                    i.b = local(i.b);
                }
                if i.flags & EAGER == 0 {
                    i.dst = local(i.dst);
                }
            }
            let b0 = seg.bounds.partition_point(|&b| (b as usize) < s);
            let b1 = seg.bounds.partition_point(|&b| (b as usize) <= e);
            let bounds: Vec<u32> = seg.bounds[b0..b1]
                .iter()
                .map(|&b| (b as usize - s) as u32)
                .collect();
            let reversed = seg.reversed[b0..b1 - 1].to_vec();
            let remap = |op: Operand| match op {
                Operand::Node(v) => Operand::Node(local(v)),
                c => c,
            };
            let guards = seg.guards[g0..g1]
                .iter()
                .map(|gd| Guard {
                    pos: (gd.pos as usize).saturating_sub(s) as u32,
                    lhs: remap(gd.lhs),
                    rhs: remap(gd.rhs),
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
            });
        }
        Some(Split { ins, chunks })
    }

    /// The instructions of chunk `c`.
    pub(crate) fn ins_of(&self, c: &Chunk) -> &[SIns] {
        &self.ins[c.start..c.end]
    }
}

/// The slots a guard compares (its operands that are not constants).
fn guard_nodes(gd: &Guard) -> impl Iterator<Item = u32> + use<> {
    [gd.lhs, gd.rhs].into_iter().filter_map(|op| match op {
        Operand::Node(v) => Some(v),
        _ => None,
    })
}
