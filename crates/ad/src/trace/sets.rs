//! From a recording to patterns: materialising first-order sets from the DAG, liveness,
//! second-order records and their expansion into a symmetric CSR pattern.

use sparsediff_pattern::{MAX_NNZ, Pattern, PatternError};

use super::error::TraceError;
use super::tracer::{ID_MASK, Kind, MAX_NODES, NONE, Recording};
use crate::memory::Spare;

/// Where a child's first-order set is, when it needs no walk ([`Sets::known`]).
#[derive(Clone, Copy)]
enum Known {
    /// An input: the set is itself.
    Input(u32),
    /// A memoised set: `pool[start..end]`.
    Pooled(usize, usize),
}

/// Materialises first-order sets of DAG nodes on demand.
///
/// A set is a list of input indices in `pool` (unsorted, duplicate-free). Every set that is
/// materialised is memoised for its node, and a later traversal that reaches a memoised node
/// copies its set instead of walking below it. Duplicates are removed with a
/// generation-stamped mark per node (inputs are nodes `0..n`), so one materialisation costs
/// O(nodes walked + size of the memoised sets copied), never O(n).
struct Sets<'a> {
    n: usize,
    nodes: &'a [[u32; 2]],
    /// Generation stamp per node (leaves and interior).
    mark: Vec<u32>,
    generation: u32,
    /// 1 + index of the node's memoised set in `starts`, 0 if none.
    memo: Vec<u32>,
    /// Set k is `pool[starts[k]..starts[k + 1]]` (u32: half the memory of the 1e6
    /// Rosenbrock's two million sets; a pool past 2³² entries is refused).
    starts: Vec<u32>,
    pool: Vec<u32>,
    stack: Vec<u32>,
}

impl<'a> Sets<'a> {
    fn new(n: usize, nodes: &'a [[u32; 2]]) -> Self {
        let total = n + nodes.len();
        Sets {
            n,
            nodes,
            mark: vec![0; total],
            generation: 0,
            memo: crate::memory::zeros_mapped(total),
            // At most one set per node: reserved, so that growing never copies.
            starts: {
                let mut starts = Vec::with_capacity(total + 1);
                starts.push(0);
                starts
            },
            pool: Vec::new(),
            stack: Vec::new(),
        }
    }

    fn set(&self, k: u32) -> &[u32] {
        let k = k as usize;
        &self.pool[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    fn next_generation(&mut self) -> u32 {
        if self.generation == u32::MAX {
            self.mark.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
        self.generation
    }

    /// The index of the first-order set of node `root` (materialised if needed).
    fn of(&mut self, root: u32) -> Result<u32, TraceError> {
        let memo = self.memo[root as usize];
        if memo != 0 {
            return Ok(memo - 1);
        }
        if !self.union_of_known(root) {
            self.walk(root);
        }
        let k = self.starts.len() - 1;
        if k + 1 >= MAX_NODES {
            return Err(TraceError::TooManyOperations { limit: MAX_NODES });
        }
        let Ok(end) = u32::try_from(self.pool.len()) else {
            return Err(TraceError::TooManyOperations { limit: MAX_NODES });
        };
        self.starts.push(end);
        self.memo[root as usize] = k as u32 + 1;
        Ok(k as u32)
    }

    /// Where the set of child `c` already is: an input (`{c}`), or a memoised set on the
    /// pool; `None` when it needs a walk.
    fn known(&self, c: u32) -> Option<Known> {
        let cu = c as usize;
        if cu < self.n {
            return Some(Known::Input(c));
        }
        match self.memo[cu] {
            0 => None,
            m => Some(Known::Pooled(
                self.starts[m as usize - 1] as usize,
                self.starts[m as usize] as usize,
            )),
        }
    }

    /// The set of `root` pushed onto the pool by copying its children's when both are
    /// inputs or memoised, the second one deduplicated against the first by a scan (the
    /// first is short): the common case of local functions, without the walk's stamps and
    /// stack (grid 1e6 trace: 239 → 180 ms for the sets; Rosenbrock's were already one step
    /// deep and did not change). False, with nothing pushed, when a child needs a walk or
    /// the first set is long.
    fn union_of_known(&mut self, root: u32) -> bool {
        /// Longest first set deduplicated by scanning.
        const SCAN: usize = 16;
        let ru = root as usize;
        if ru < self.n {
            self.pool.push(root);
            return true;
        }
        let [a, b] = self.nodes[ru - self.n];
        let a = a & ID_MASK;
        let (Some(ka), Some(kb)) = (self.known(a), self.known(b)) else {
            return false;
        };
        let start = self.pool.len();
        match ka {
            Known::Input(i) => self.pool.push(i),
            Known::Pooled(s, e) if e - s <= SCAN => self.pool.extend_from_within(s..e),
            Known::Pooled(..) => return false,
        }
        let end = self.pool.len();
        if b != a {
            let add = |pool: &mut Vec<u32>, i: u32| {
                if !pool[start..end].contains(&i) {
                    pool.push(i);
                }
            };
            match kb {
                Known::Input(i) => add(&mut self.pool, i),
                Known::Pooled(s, e) => {
                    for k in s..e {
                        let i = self.pool[k];
                        add(&mut self.pool, i);
                    }
                }
            }
        }
        true
    }

    /// The set of `root` pushed onto the pool by a depth-first walk of its sub-DAG.
    fn walk(&mut self, root: u32) {
        let g = self.next_generation();
        self.mark[root as usize] = g;
        self.stack.push(root);
        while let Some(v) = self.stack.pop() {
            let vu = v as usize;
            if vu < self.n {
                self.pool.push(v);
                continue;
            }
            let m = self.memo[vu];
            if m != 0 {
                let (s, e) = (
                    self.starts[m as usize - 1] as usize,
                    self.starts[m as usize] as usize,
                );
                for k in s..e {
                    let i = self.pool[k];
                    if self.mark[i as usize] != g {
                        self.mark[i as usize] = g;
                        self.pool.push(i);
                    }
                }
                continue;
            }
            let [a, b] = self.nodes[vu - self.n];
            for c in [a & ID_MASK, b] {
                if self.mark[c as usize] != g {
                    self.mark[c as usize] = g;
                    self.stack.push(c);
                }
            }
        }
    }
}

fn too_large(nnz: usize) -> TraceError {
    TraceError::Pattern(PatternError::TooLarge {
        what: "nnz",
        value: nnz as u128,
        limit: MAX_NNZ as u128,
    })
}

/// The m×n Jacobian pattern: row k is the first-order set of output k.
pub(crate) fn jacobian(rec: &Recording, outputs: &[u32]) -> Result<Pattern, TraceError> {
    let n = rec.n;
    let mut sets = Sets::new(n, &rec.nodes);
    let mut row_ptr = Vec::with_capacity(outputs.len() + 1);
    row_ptr.push(0);
    let mut col_idx: Vec<usize> = Vec::new();
    for &out in outputs {
        if out != NONE {
            let k = sets.of(out)?;
            let start = col_idx.len();
            col_idx.extend(sets.set(k).iter().map(|&i| i as usize));
            col_idx[start..].sort_unstable();
            if col_idx.len() > MAX_NNZ {
                return Err(too_large(col_idx.len()));
            }
        }
        row_ptr.push(col_idx.len());
    }
    Ok(Pattern::from_csr(outputs.len(), n, row_ptr, col_idx)?)
}

/// Second-order records of the live nonlinear nodes: pairs (X, Y) of set indices, each
/// standing for X×Y ∪ Y×X.
fn records(
    rec: &Recording,
    sets: &mut Sets<'_>,
    output: Option<u32>,
) -> Result<Vec<[u32; 2]>, TraceError> {
    let n = rec.n;
    let nodes = &rec.nodes;
    // Liveness: a node contributes only if the output depends on it (reverse reachability;
    // the arena is in topological order). No output: every node does.
    // No output: every node contributes (`None`, nothing to allocate).
    let live = output.map(|output| {
        let mut live = vec![false; nodes.len()];
        if (output as usize) >= n {
            live[output as usize - n] = true;
        }
        for k in (0..nodes.len()).rev() {
            if live[k] {
                let [a, b] = nodes[k];
                for c in [(a & ID_MASK) as usize, b as usize] {
                    if c >= n {
                        live[c - n] = true;
                    }
                }
            }
        }
        live
    });
    // At most one record per node: reserved, so that growing never copies.
    let mut out = Vec::with_capacity(nodes.len());
    for (k, &[a, b]) in nodes.iter().enumerate() {
        crate::memory::prefetch(nodes, k + crate::memory::AHEAD);
        if live.as_ref().is_some_and(|live| !live[k]) {
            continue;
        }
        let v = (n + k) as u32;
        let record = match Kind::of(a) {
            Kind::Union => continue,
            Kind::Bilinear => [sets.of(a & ID_MASK)?, sets.of(b)?],
            Kind::NonlinearInSecond => [sets.of(v)?, sets.of(b)?],
            Kind::Nonlinear => {
                let s = sets.of(v)?;
                [s, s]
            }
        };
        out.push(record);
    }
    Ok(out)
}

/// The symmetric n×n Hessian pattern of the scalar output `output` (`None`: a sum of every
/// node, all of which contribute) and the number of second-order records it came from.
pub(crate) fn hessian(
    rec: &Recording,
    output: Option<u32>,
) -> Result<(Pattern, usize), TraceError> {
    let n = rec.n;
    if output == Some(NONE) {
        return Ok((Pattern::empty(n, n)?, 0));
    }
    let mut sets = Sets::new(n, &rec.nodes);
    let records = records(rec, &mut sets, output)?;
    let Sets { starts, pool, .. } = sets;
    Ok((
        pattern_of_records(n, &records, &starts, &pool, &mut Spare::default())?,
        records.len(),
    ))
}

/// A second-order record (X, Y) of set indices, aligned to 8 bytes (its size stays 8): an
/// array of them, once read, lends its pages to the recovered matrix's `usize` indices
/// (see `Tape::take_scratch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Pair(pub(crate) [u32; 2]);

const _: () = assert!(std::mem::size_of::<Pair>() == 8);

impl From<Pair> for [u32; 2] {
    #[inline(always)]
    fn from(p: Pair) -> [u32; 2] {
        p.0
    }
}

/// The symmetric n×n pattern of second-order records: pairs (X, Y) of set indices, set k
/// being `pool[starts[k]..starts[k + 1]]` (duplicate-free), each standing for
/// X×Y ∪ Y×X. Its arrays are taken from `spare` where it has them.
pub(crate) fn pattern_of_records<R: Copy + Into<[u32; 2]>>(
    n: usize,
    records: &[R],
    starts: &[u32],
    pool: &[u32],
    spare: &mut Spare,
) -> Result<Pattern, TraceError> {
    // An entry of the inverted index below is a record's index and a side bit.
    if records.len() >= (1 << 31) {
        return Err(TraceError::TooManyOperations { limit: 1 << 31 });
    }
    if n > sparsediff_pattern::MAX_DIM {
        return Err(TraceError::Pattern(PatternError::TooLarge {
            what: "rows",
            value: n as u128,
            limit: sparsediff_pattern::MAX_DIM as u128,
        }));
    }
    let set = |k: u32| &pool[starts[k as usize] as usize..starts[k as usize + 1] as usize];

    // Inverted index: for each input i, the records whose X or Y contains it; an entry is
    // (record << 1) | side, side 0 = "i ∈ X, pair with Y", 1 = "i ∈ Y, pair with X".
    // Counted with the pairs the rows will visit, an upper bound of their entries.
    let mut inv_ptr: Vec<usize> = spare.zeros(n + 1);
    let mut visits = 0usize;
    for (r, &record) in records.iter().enumerate() {
        crate::memory::prefetch(records, r + crate::memory::AHEAD);
        let [x, y] = record.into();
        let (sx, sy) = (set(x), set(y));
        for &i in sx {
            inv_ptr[i as usize + 1] += 1;
        }
        if x != y {
            for &j in sy {
                inv_ptr[j as usize + 1] += 1;
            }
            visits = visits.saturating_add(sx.len().saturating_mul(sy.len()).saturating_mul(2));
        } else {
            visits = visits.saturating_add(sx.len().saturating_mul(sx.len()));
        }
    }
    for i in 0..n {
        inv_ptr[i + 1] += inv_ptr[i];
    }
    // Filled by counting down from each input's end, in reverse record order (entries stay
    // in record order): `inv_ptr[i + 1]` ends at input i's start, and a shift restores
    // the offsets. (A copy of the offsets to count up in was 8 MB of fresh pages at 1e6.)
    let mut inv: Vec<u32> = spare.zeros(inv_ptr[n]);
    for (r, &record) in records.iter().enumerate().rev() {
        let r = (r as u32) << 1;
        let [x, y] = record.into();
        if x != y {
            for &j in set(y).iter().rev() {
                inv_ptr[j as usize + 1] -= 1;
                inv[inv_ptr[j as usize + 1]] = r | 1;
            }
        }
        for &i in set(x).iter().rev() {
            inv_ptr[i as usize + 1] -= 1;
            inv[inv_ptr[i as usize + 1]] = r;
        }
    }
    inv_ptr.copy_within(1.., 0);
    inv_ptr[n] = inv.len();

    // Row i: the union of the partner sets, deduplicated with a stamp per column.
    let mut stamp: Vec<u32> = spare.zeros(n);
    // Reserved at the bound (capped: a few long sets can visit far more pairs than the
    // pattern has), so that growing never copies what was written (a copy's fresh pages
    // were 5 000 of the 13 000 of the 1e6 Rosenbrock's rows), or the largest spare
    // buffer, grown past by remapping. Taken before `row_ptr`, which fits more of them.
    let cap = visits.min(n.saturating_mul(n)).min(16 * inv.len() + n);
    let mut col_idx: Vec<usize> = spare.for_about(cap);
    let mut row_ptr = spare.with_capacity(n + 1);
    row_ptr.push(0);
    for i in 0..n {
        let s = i as u32 + 1;
        let start = col_idx.len();
        for &e in &inv[inv_ptr[i]..inv_ptr[i + 1]] {
            let [x, y] = records[(e >> 1) as usize].into();
            let partner = if e & 1 == 0 { y } else { x };
            for &j in set(partner) {
                if stamp[j as usize] != s {
                    stamp[j as usize] = s;
                    col_idx.push(j as usize);
                }
            }
        }
        col_idx[start..].sort_unstable();
        if col_idx.len() > MAX_NNZ {
            return Err(too_large(col_idx.len()));
        }
        row_ptr.push(col_idx.len());
    }
    spare.put(inv_ptr);
    spare.put(inv);
    spare.put(stamp);
    // SAFETY: n ≤ MAX_DIM and the entries ≤ MAX_NNZ (both checked above); row_ptr has
    // n + 1 non-decreasing offsets from 0 to col_idx.len() (a push per row); each row is
    // sorted, duplicate-free (the stamp) and below n (an index of `stamp`, whose length
    // is n). Checking it all again took 9 ms of the 1e6 grid's detection.
    Ok(unsafe { Pattern::from_csr_unchecked(n, n, row_ptr, col_idx) })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::Sets;
    use crate::trace::tracer::{ID_BITS, Kind};

    /// The first-order set of node `v` by recursion (the definition).
    fn reference(n: usize, nodes: &[[u32; 2]], v: u32) -> BTreeSet<u32> {
        if (v as usize) < n {
            return BTreeSet::from([v]);
        }
        let [a, b] = nodes[v as usize - n];
        let mut s = reference(n, nodes, a & ((1 << ID_BITS) - 1));
        s.extend(reference(n, nodes, b));
        s
    }

    proptest! {
        /// Sets materialised in any order (memoised children, short and long first sets,
        /// shared children, unary nodes) are the definition's, without duplicates.
        #[test]
        fn materialised_sets_are_the_unions_of_their_children(
            n in 1usize..30,
            picks in prop::collection::vec((any::<u32>(), any::<u32>(), any::<bool>()), 1..120),
            order in prop::collection::vec(any::<u32>(), 1..60),
        ) {
            let mut nodes: Vec<[u32; 2]> = Vec::new();
            for (a, b, unary) in picks {
                let total = (n + nodes.len()) as u32;
                let a = a % total;
                let b = if unary { a } else { b % total };
                let kind = if unary { Kind::Nonlinear } else { Kind::Union };
                nodes.push([a | ((kind as u32) << ID_BITS), b]);
            }
            let total = (n + nodes.len()) as u32;
            let mut sets = Sets::new(n, &nodes);
            for v in order.into_iter().map(|v| v % total).chain(0..total) {
                let k = sets.of(v).unwrap();
                let got = sets.set(k);
                let unique: BTreeSet<u32> = got.iter().copied().collect();
                prop_assert_eq!(unique.len(), got.len(), "duplicates in node {}", v);
                prop_assert_eq!(unique, reference(n, &nodes, v), "node {}", v);
            }
        }
    }
}
