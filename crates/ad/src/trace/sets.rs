//! From a recording to patterns: materialising first-order sets from the DAG, liveness,
//! second-order records and their expansion into a symmetric CSR pattern.

use sparsediff_pattern::{MAX_NNZ, Pattern, PatternError};

use super::error::TraceError;
use super::tracer::{ID_MASK, Kind, MAX_NODES, NONE, Recording};

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
    /// Set k is `pool[starts[k]..starts[k + 1]]`.
    starts: Vec<usize>,
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
            memo: vec![0; total],
            starts: vec![0],
            pool: Vec::new(),
            stack: Vec::new(),
        }
    }

    fn set(&self, k: u32) -> &[u32] {
        let k = k as usize;
        &self.pool[self.starts[k]..self.starts[k + 1]]
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
                let (s, e) = (self.starts[m as usize - 1], self.starts[m as usize]);
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
        let k = self.starts.len() - 1;
        if k + 1 >= MAX_NODES {
            return Err(TraceError::TooManyOperations { limit: MAX_NODES });
        }
        self.starts.push(self.pool.len());
        self.memo[root as usize] = k as u32 + 1;
        Ok(k as u32)
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
fn records(rec: &Recording, sets: &mut Sets<'_>, output: u32) -> Result<Vec<[u32; 2]>, TraceError> {
    let n = rec.n;
    let nodes = &rec.nodes;
    // Liveness: a node contributes only if the output depends on it (reverse reachability;
    // the arena is in topological order).
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
    let mut out = Vec::new();
    for (k, &[a, b]) in nodes.iter().enumerate() {
        if !live[k] {
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
    drop(live);
    if out.len() >= (1 << 31) {
        return Err(TraceError::TooManyOperations { limit: 1 << 31 });
    }
    Ok(out)
}

/// The symmetric n×n Hessian pattern of the scalar output `output` and the number of
/// second-order records it came from.
pub(crate) fn hessian(rec: &Recording, output: u32) -> Result<(Pattern, usize), TraceError> {
    let n = rec.n;
    if output == NONE {
        return Ok((Pattern::empty(n, n)?, 0));
    }
    let mut sets = Sets::new(n, &rec.nodes);
    let records = records(rec, &mut sets, output)?;
    let Sets { starts, pool, .. } = sets;
    let set = |k: u32| &pool[starts[k as usize]..starts[k as usize + 1]];

    // Inverted index: for each input i, the records whose X or Y contains it; an entry is
    // (record << 1) | side, side 0 = "i ∈ X, pair with Y", 1 = "i ∈ Y, pair with X".
    let mut inv_ptr = vec![0usize; n + 1];
    for &[x, y] in &records {
        for &i in set(x) {
            inv_ptr[i as usize + 1] += 1;
        }
        if x != y {
            for &j in set(y) {
                inv_ptr[j as usize + 1] += 1;
            }
        }
    }
    for i in 0..n {
        inv_ptr[i + 1] += inv_ptr[i];
    }
    let mut fill = inv_ptr.clone();
    let mut inv = vec![0u32; inv_ptr[n]];
    for (r, &[x, y]) in records.iter().enumerate() {
        let r = (r as u32) << 1;
        for &i in set(x) {
            inv[fill[i as usize]] = r;
            fill[i as usize] += 1;
        }
        if x != y {
            for &j in set(y) {
                inv[fill[j as usize]] = r | 1;
                fill[j as usize] += 1;
            }
        }
    }
    drop(fill);

    // Row i: the union of the partner sets, deduplicated with a stamp per column.
    let mut stamp = vec![0u32; n];
    let mut row_ptr = Vec::with_capacity(n + 1);
    row_ptr.push(0);
    let mut col_idx: Vec<usize> = Vec::new();
    for i in 0..n {
        let s = i as u32 + 1;
        let start = col_idx.len();
        for &e in &inv[inv_ptr[i]..inv_ptr[i + 1]] {
            let [x, y] = records[(e >> 1) as usize];
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
    Ok((Pattern::from_csr(n, n, row_ptr, col_idx)?, records.len()))
}
