//! Recovery by substitution along the two-coloured trees of an acyclic colouring.
//!
//! For a tree edge (leaf ℓ, parent p), H[ℓ, p] = B[ℓ, colour(p)] − Σ H[ℓ, k] over ℓ's
//! children k in that tree. Every step therefore depends only on its children's steps.
//! Instead of walking the trees one after another (each tree of a stencil colouring spans
//! the whole grid, so that walk misses the cache at every step), the steps of all trees
//! are put in one global order that respects those dependencies and otherwise follows
//! memory (Kahn's algorithm, highest leaf index first), and each step reads its children's
//! values from the positions H[ℓ, k] that were just written. Decoding is then a single
//! sweep with no per-vertex state. The diagonal is direct: H[i, i] = B[i, colour(i)].
//!
//! **Tridiagonal matrices.** When the pattern is a full tridiagonal band coloured
//! `j mod 2` (the optimal closed-form band design, and what greedy colouring in natural
//! order gives), the one tree is the path 0–1–…–n−1 and the decoder keeps no tables:
//! H[i, i+1] = B[i, colour(i+1)] − H[i−1, i] from the first row down and
//! H[i, i−1] = B[i, colour(i−1)] − H[i+1, i] from the last row up, each chain carried in a
//! register, meeting in the middle (two chains instead of one, so that two threads can
//! run them; the middle depends on n alone, so the values do not depend on the threads).
//! At n = 1e6 one chain took 2.2 ms against 4.6 ms for the general sweep, which
//! streams 36 MB of tables besides the products. (The same closed form for wider bands
//! was measured slower than the general sweep: its reads of entries written a row or two
//! earlier stall on store forwarding, and it is not used.)
//!
//! **5-point grids.** When the pattern is the full 5-point stencil of an nx×ny grid
//! (nx, ny ≥ 2, vertex v = i + nx·j) coloured (i + 2j) mod 3 — the closed-form stencil
//! design — the east and south neighbours of a vertex of colour c have colour c + 1 and
//! the west and north ones c − 1 (mod 3). So with h(v) = H[v, v+1] and w(v) = H[v, v+nx],
//! B[v, c+1] = h(v) + w(v − nx) and B[v, c−1] = h(v − 1) + w(v), and in natural order
//! h(v) = B[v, c+1] − w(v − nx), w(v) = B[v, c−1] − h(v − 1) (absent terms are 0): one sweep
//! in memory order, h(v − 1) in a register and w(v − nx) read back from row v, with no
//! tables at all ([`Sweep::Grid5`]). (Every two colour classes span staircase paths along
//! which i + j only grows, so the colouring is acyclic; [`full_grid5`] checks the pattern
//! and the colours entry by entry, so nothing of this is taken on trust.)

use std::collections::BinaryHeap;

use faer::MatRef;
use sparsediff_coloring::{AdjacencyGraph, TreeSet};
use sparsediff_pattern::Pattern;

use super::Decode;
use crate::error::DecodeError;
use crate::products::{ProductsView, check_values};

/// One tree edge: the leaf, the colour of its parent, the positions of (ℓ, p) and (p, ℓ),
/// where its children's positions end in `child_pos`, and whether the step just before it
/// is one of its children (that child's value is carried in a register instead of being
/// listed in `child_pos`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    leaf: u32,
    color: u32,
    pos_lp: u32,
    pos_pl: u32,
    children_end: u32,
    prev_child: bool,
}

/// Prepared substitution: diagonal reads and the ordered steps, or the closed form of a
/// full band.
#[derive(Debug, Clone)]
pub struct SubstitutionDecoder {
    n: usize,
    probes: usize,
    nnz: usize,
    sweep: Sweep,
}

/// How the entries are peeled.
#[derive(Debug, Clone)]
enum Sweep {
    /// Along the trees, in a precomputed global order.
    Trees {
        diagonal: Vec<[u32; 3]>,
        steps: Vec<Step>,
        child_pos: Vec<u32>,
    },
    /// A full tridiagonal pattern coloured `j mod 2`.
    Tridiagonal,
    /// The full 5-point stencil of an nx×ny grid coloured (i + 2j) mod 3.
    Grid5 { nx: usize, ny: usize },
}

/// The grid `(nx, ny)` when `pattern` is exactly the 5-point stencil of an nx×ny grid
/// (nx, ny ≥ 2, vertex i + nx·j, every row sorted) and `colors` are (i + 2j) mod 3; `None`
/// otherwise. O(nnz).
pub(crate) fn full_grid5(pattern: &Pattern, colors: &[usize]) -> Option<(usize, usize)> {
    let (nx, ny) = sparsediff_pattern::full_grid5(pattern)?;
    let colored = colors.len() == nx * ny
        && colors
            .iter()
            .enumerate()
            .all(|(v, &c)| c == (v % nx + 2 * (v / nx)) % 3);
    colored.then_some((nx, ny))
}

/// Whether `pattern` is a full n×n tridiagonal band (n ≥ 2) coloured `j mod 2`.
fn full_tridiagonal(pattern: &Pattern, colors: &[usize]) -> bool {
    sparsediff_pattern::full_tridiagonal(pattern)
        && colors.len() == pattern.nrows()
        && colors.iter().enumerate().all(|(j, &c)| c == j % 2)
}

impl SubstitutionDecoder {
    /// From the trees of an acyclic colouring of the symmetric `pattern` (graph `g`).
    pub(crate) fn new(
        pattern: &Pattern,
        g: &AdjacencyGraph,
        trees: &TreeSet,
        colors: &[usize],
        probes: usize,
    ) -> Self {
        match Self::closed_form(pattern, colors, probes) {
            Some((d, _)) => d,
            None => Self::along_trees(pattern, g, trees, colors, probes),
        }
    }

    /// A closed-form decoder, with the acyclic colouring lower bound of the pattern, when
    /// `pattern` and `colors` are a full tridiagonal band coloured j mod 2 (bound 2: a path
    /// with an edge) or a full 5-point stencil coloured (i + 2j) mod 3 ([`full_grid5`];
    /// bound 3: it has 4-cycles); `None` otherwise. Both are checked entry by entry and
    /// need no graph and no trees: the closed-form stencil designs use them to skip both.
    pub(crate) fn closed_form(
        pattern: &Pattern,
        colors: &[usize],
        probes: usize,
    ) -> Option<(Self, usize)> {
        let (sweep, bound) = if full_tridiagonal(pattern, colors) {
            (Sweep::Tridiagonal, 2)
        } else {
            let (nx, ny) = full_grid5(pattern, colors)?;
            (Sweep::Grid5 { nx, ny }, 3)
        };
        (probes >= bound).then(|| {
            let d = Self {
                n: pattern.nrows(),
                probes,
                nnz: pattern.nnz(),
                sweep,
            };
            (d, bound)
        })
    }

    /// The general decoder: the steps of every tree in one dependency-respecting order.
    fn along_trees(
        pattern: &Pattern,
        g: &AdjacencyGraph,
        trees: &TreeSet,
        colors: &[usize],
        probes: usize,
    ) -> Self {
        let n = pattern.nrows();
        let diagonal: Vec<[u32; 3]> = colors
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| {
                pattern
                    .position(i, i)
                    .map(|pos| [pos as u32, i as u32, c as u32])
            })
            .collect();
        // Positions of every directed edge slot, from the graph's CSR order (which is the
        // pattern's row order without the diagonal): slot_pos[slot] = pattern position.
        let pos_of = |a: usize, b: usize| {
            pattern
                .position(a, b)
                .expect("tree edges are pattern entries") as u32
        };

        // Steps in tree order, each with the step that peels its parent (if any).
        let m = trees.num_edges();
        let mut leaf = Vec::with_capacity(m);
        let mut parent_step = vec![u32::MAX; m];
        let mut leaf_step = vec![u32::MAX; n]; // within the current tree
        let mut tree_steps: Vec<(usize, usize)> = Vec::new();
        for t in 0..trees.num_trees() {
            tree_steps.clear();
            tree_steps.extend(trees.tree(t));
            let first = leaf.len();
            for (k, &(l, _)) in tree_steps.iter().enumerate() {
                leaf_step[l] = (first + k) as u32;
            }
            for (k, &(l, p)) in tree_steps.iter().enumerate() {
                leaf.push((l, p));
                parent_step[first + k] = leaf_step[p]; // MAX for the root
            }
            for &(l, _) in &tree_steps {
                leaf_step[l] = u32::MAX;
            }
        }
        // Children per step (CSR) and the global order (Kahn, highest leaf index first).
        let mut pending = vec![0u32; m];
        for &q in &parent_step {
            if q != u32::MAX {
                pending[q as usize] += 1;
            }
        }
        let mut ready: BinaryHeap<(u32, u32)> = (0..m)
            .filter(|&s| pending[s] == 0)
            .map(|s| (leaf[s].0 as u32, s as u32))
            .collect();
        let mut order = Vec::with_capacity(m);
        while let Some((_, s)) = ready.pop() {
            order.push(s);
            let q = parent_step[s as usize];
            if q != u32::MAX {
                pending[q as usize] -= 1;
                if pending[q as usize] == 0 {
                    ready.push((leaf[q as usize].0 as u32, q));
                }
            }
        }
        debug_assert_eq!(order.len(), m, "trees are acyclic");
        // children[q]: the steps whose parent step is q, as positions H[ℓ_q, k] = pos(ℓ_q, k).
        let mut child_start = vec![0u32; m + 1];
        for &q in &parent_step {
            if q != u32::MAX {
                child_start[q as usize + 1] += 1;
            }
        }
        for s in 0..m {
            child_start[s + 1] += child_start[s];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[m] as usize];
        for (s, &q) in parent_step.iter().enumerate() {
            if q != u32::MAX {
                children[fill[q as usize] as usize] = s as u32;
                fill[q as usize] += 1;
            }
        }
        let mut steps = Vec::with_capacity(m);
        let mut child_pos = Vec::with_capacity(children.len());
        // Along a path (a band's trees) every step's only child is the step before it:
        // carrying that value in a register takes the store-to-load round trip off the
        // chain of dependent subtractions, which is what bounds this sweep.
        let mut before = u32::MAX;
        for &s in &order {
            let (l, p) = leaf[s as usize];
            let mut prev_child = false;
            for &c in
                &children[child_start[s as usize] as usize..child_start[s as usize + 1] as usize]
            {
                if c == before {
                    prev_child = true;
                } else {
                    let (k, _) = leaf[c as usize];
                    child_pos.push(pos_of(l, k));
                }
            }
            steps.push(Step {
                leaf: l as u32,
                color: colors[p] as u32,
                pos_lp: pos_of(l, p),
                pos_pl: pos_of(p, l),
                children_end: child_pos.len() as u32,
                prev_child,
            });
            before = s;
        }
        debug_assert_eq!(steps.len(), g.num_edges());
        Self {
            n,
            probes,
            nnz: pattern.nnz(),
            sweep: Sweep::Trees {
                diagonal,
                steps,
                child_pos,
            },
        }
    }
}

/// Substitution along the trees, in the precomputed order.
fn decode_trees(
    b: &ProductsView<'_>,
    diagonal: &[[u32; 3]],
    steps: &[Step],
    child_pos: &[u32],
    values: &mut [f64],
) {
    for &[pos, row, c] in diagonal {
        values[pos as usize] = b.at(row as usize, c as usize);
    }
    let mut start = 0usize;
    let mut prev = 0.0;
    for s in steps {
        let end = s.children_end as usize;
        let children: f64 = child_pos[start..end]
            .iter()
            .map(|&q| values[q as usize])
            .sum();
        start = end;
        let mut v = b.at(s.leaf as usize, s.color as usize) - children;
        if s.prev_child {
            v -= prev;
        }
        values[s.pos_lp as usize] = v;
        values[s.pos_pl as usize] = v;
        prev = v;
    }
}

/// Substitution on a full tridiagonal pattern coloured `j mod 2`, as two chains of
/// dependent subtractions that meet in the middle (m = ⌊n/2⌋). Row i is
/// `[H[i,i−1], H[i,i], H[i,i+1]]` from 3i − 1 (row 0 from 0, without the first), so
/// H[i, i] is at 3i and the edge (i, i+1) at 3i + 1 and 3i + 2. The diagonal is direct,
/// H[i, i] = B[i, colour(i)], and with o(i) = colour(i) ^ 1:
///
/// * from the top, for the edges (i, i+1), i < m: H[i, i+1] = B[i, o(i)] − H[i−1, i]
///   (H[−1, 0] = 0);
/// * from the bottom, for the edges (i−1, i), i > m: H[i, i−1] = B[i, o(i)] − H[i+1, i]
///   (H[n, n−1] = 0).
///
/// Row m's off-diagonal product is not needed. The two chains write disjoint parts of
/// `values` (the top one `..3m`, the bottom one `3m..`), so with a pool of two threads
/// or more (and n ≥ [`TRIDIAGONAL_SPLIT`]) they run side by side. The meeting point
/// depends on n alone: the values are bit for bit the same on any number of threads.
fn decode_tridiagonal(
    b: &ProductsView<'_>,
    n: usize,
    values: &mut [f64],
    pool: Option<&rayon::ThreadPool>,
) {
    let m = n / 2;
    let (top, bottom) = values[..3 * n - 2].split_at_mut(3 * m);
    let top_chain = |top: &mut [f64]| {
        let mut prev = 0.0; // H[i−1, i]
        for i in 0..m {
            let ci = i & 1;
            top[3 * i] = b.at(i, ci);
            let v = b.at(i, ci ^ 1) - prev;
            top[3 * i + 1] = v;
            top[3 * i + 2] = v; // H[i+1, i], the first entry of row i+1
            prev = v;
        }
    };
    // `bottom[k]` is `values[3m + k]`: H[i, i] at 3(i − m), H[i, i−1] just before it.
    let bottom_chain = |bottom: &mut [f64]| {
        let mut prev = 0.0; // H[i+1, i]
        for i in (m + 1..n).rev() {
            let ci = i & 1;
            let s = 3 * (i - m);
            bottom[s] = b.at(i, ci);
            let v = b.at(i, ci ^ 1) - prev;
            bottom[s - 1] = v;
            bottom[s - 2] = v; // H[i−1, i], the last entry of row i−1
            prev = v;
        }
        bottom[0] = b.at(m, m & 1);
    };
    match pool.filter(|p| p.current_num_threads() >= 2 && n >= TRIDIAGONAL_SPLIT) {
        Some(pool) => {
            pool.install(|| rayon::join(|| top_chain(top), || bottom_chain(bottom)));
        }
        None => {
            top_chain(top);
            bottom_chain(bottom);
        }
    }
}

/// Tridiagonal patterns smaller than this are decoded on one thread (a hand-off to the
/// pool costs microseconds, the chains of 2¹⁶ rows about 0.15 ms).
const TRIDIAGONAL_SPLIT: usize = 1 << 16;

/// The full 5-point stencil of an nx×ny grid (nx, ny ≥ 2), in CSR order: row v = i + nx·j
/// holds, sorted, its south (j > 0), west (i > 0), diagonal, east (i < nx−1) and north
/// (j < ny−1) entries.
#[derive(Debug, Clone, Copy)]
struct Grid5 {
    nx: usize,
    ny: usize,
}

impl Grid5 {
    fn row_len(self, i: usize, j: usize) -> usize {
        1 + usize::from(j > 0)
            + usize::from(i > 0)
            + usize::from(i + 1 < self.nx)
            + usize::from(j + 1 < self.ny)
    }

    /// Where row (i, j) starts: grid row j' < j holds (3nx − 2) + nx·([j' > 0] + [j' < ny−1])
    /// entries, and the rows before i in grid row j hold i·(1 + [j > 0] + [j < ny−1]) plus
    /// their i − 1 west and i east entries.
    fn start(self, i: usize, j: usize) -> usize {
        let (nx, ny) = (self.nx, self.ny);
        let before = j * (3 * nx - 2) + nx * (j.saturating_sub(1) + j.min(ny - 1));
        let per = 1 + usize::from(j > 0) + usize::from(j + 1 < ny);
        before + i * per + if i > 0 { 2 * i - 1 } else { 0 }
    }
}

/// The values of the products' decode, shared by the threads of a split grid decode.
#[derive(Clone, Copy)]
struct SharedValues(*mut f64);
// SAFETY: the threads of `decode_grid5` write disjoint entries through it, and the one
// entry one of them reads from the other is published by a release store and read after
// the matching acquire load (see `grid5_columns`).
unsafe impl Send for SharedValues {}
unsafe impl Sync for SharedValues {}

/// Columns `i0..i1` of every grid row, rows in order, of the closed-form sweep (see the
/// module docs): h(v) = B[v, c+1] − w(v − nx), w(v) = B[v, c−1] − h(v − 1). The west value
/// of column i0 > 0, h(i0 − 1, j), is read from row (i0 − 1, j)'s east entry after
/// `ready(j)`; `done(j)` follows row j.
///
/// # Safety
///
/// `values` points to the `5n − 2nx − 2ny` values of the grid's pattern, and while this
/// runs no other thread touches the entries this writes: the entries of the rows of
/// columns `i0..i1`, and the west entry of row (i1, j) (the mirror of its last east entry).
/// When i0 > 0, the east entries of column i0 − 1 are written before `ready(j)` returns.
unsafe fn grid5_columns(
    b: &ProductsView<'_>,
    g: Grid5,
    (i0, i1): (usize, usize),
    values: SharedValues,
    ready: impl Fn(usize),
    done: impl Fn(usize),
) {
    let (nx, ny) = (g.nx, g.ny);
    let at = |k: usize| values.0.wrapping_add(k);
    for j in 0..ny {
        let (south, north) = (j > 0, j + 1 < ny);
        let s = usize::from(south);
        let mut pos = g.start(i0, j);
        let mut up = if north { g.start(i0, j + 1) } else { 0 };
        // h(v − 1) (0 at i = 0).
        let mut west = if i0 > 0 {
            ready(j);
            let east = g.start(i0 - 1, j) + s + usize::from(i0 > 1) + 1;
            // SAFETY: an entry of the pattern, written before `ready(j)` returned.
            unsafe { *at(east) }
        } else {
            0.0
        };
        let mut c = (i0 + 2 * j) % 3;
        for i in i0..i1 {
            let v = i + nx * j;
            let len = g.row_len(i, j);
            let (c_plus, c_minus) = ((c + 1) % 3, (c + 2) % 3);
            let d = pos + s + usize::from(i > 0);
            // SAFETY (every access below): positions inside rows v, v + 1 and v + nx of
            // the grid's pattern (`Grid5::start`, `row_len`), all of them this sweep's own
            // entries or the west entry of row (i1, j) (see the function's contract).
            unsafe {
                // w(v − nx) = H[v, v − nx], written as row v's first entry at row j − 1.
                let w_south = if south { *at(pos) } else { 0.0 };
                *at(d) = b.at(v, c);
                if north {
                    let w = b.at(v, c_minus) - west;
                    *at(pos + len - 1) = w;
                    *at(up) = w;
                    up += g.row_len(i, j + 1);
                }
                if i + 1 < nx {
                    let h = b.at(v, c_plus) - w_south;
                    *at(d + 1) = h;
                    // H[v + 1, v]: row v + 1 starts at pos + len, after its south entry.
                    *at(pos + len + s) = h;
                    west = h;
                }
            }
            pos += len;
            c = c_plus;
        }
        done(j);
    }
}

/// Grids narrower than this, or with fewer vertices than [`GRID5_SPLIT_VERTICES`], are
/// decoded on one thread.
const GRID5_SPLIT_COLUMNS: usize = 64;
/// See [`GRID5_SPLIT_COLUMNS`].
const GRID5_SPLIT_VERTICES: usize = 1 << 16;

/// Substitution on the full 5-point stencil of an nx×ny grid coloured (i + 2j) mod 3 (see
/// the module docs): one sweep in natural order. With a pool of two or more threads and a
/// large grid, the left and right halves of the columns are swept on two threads, the
/// right one a row behind (it needs the left half's last h of each row). Every value is
/// computed from the same operands either way, so the values are bit for bit the same.
/// (At n = 1e6 the one-thread sweep was a tenth of a two-thread Hessian evaluation.)
fn decode_grid5(
    b: &ProductsView<'_>,
    nx: usize,
    ny: usize,
    values: &mut [f64],
    pool: Option<&rayon::ThreadPool>,
) {
    let g = Grid5 { nx, ny };
    debug_assert_eq!(values.len(), 5 * nx * ny - 2 * nx - 2 * ny);
    let shared = SharedValues(values.as_mut_ptr());
    let split = pool.filter(|p| {
        p.current_num_threads() >= 2 && nx >= GRID5_SPLIT_COLUMNS && nx * ny >= GRID5_SPLIT_VERTICES
    });
    match split {
        None => {
            // SAFETY: all columns on this thread, `values` borrowed mutably here.
            unsafe { grid5_columns(b, g, (0, nx), shared, |_| {}, |_| {}) }
        }
        Some(pool) => {
            use std::sync::atomic::{AtomicUsize, Ordering};
            let m = nx / 2;
            let rows_done = AtomicUsize::new(0);
            pool.install(|| {
                // `join` runs the left half on this thread first, so the right half either
                // runs beside it (stolen) or after it: its wait always ends.
                rayon::join(
                    // SAFETY: columns 0..m and the west entries of column m; the right
                    // half writes neither and reads the east entries of column m − 1
                    // only after the release store of their row.
                    || unsafe {
                        grid5_columns(
                            b,
                            g,
                            (0, m),
                            shared,
                            |_| {},
                            |j| rows_done.store(j + 1, Ordering::Release),
                        )
                    },
                    // SAFETY: columns m..nx, whose rows the left half does not write
                    // except their west entries of column m, which this never writes.
                    || unsafe {
                        grid5_columns(
                            b,
                            g,
                            (m, nx),
                            shared,
                            |j| {
                                let mut spins = 0u32;
                                while rows_done.load(Ordering::Acquire) <= j {
                                    spins += 1;
                                    if spins < 1 << 10 {
                                        std::hint::spin_loop();
                                    } else {
                                        std::thread::yield_now();
                                    }
                                }
                            },
                            |_| {},
                        )
                    },
                )
            });
        }
    }
}

impl Decode for SubstitutionDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.n, self.probes)
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        self.substitute(
            ProductsView::new(products, self.n, self.probes)?,
            values,
            None,
        )
    }

    fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        self.substitute(
            ProductsView::prechecked(products, self.n, self.probes)?,
            values,
            pool,
        )
    }
}

impl SubstitutionDecoder {
    fn substitute(
        &self,
        b: ProductsView<'_>,
        values: &mut [f64],
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), DecodeError> {
        check_values(values, self.nnz)?;
        match &self.sweep {
            Sweep::Trees {
                diagonal,
                steps,
                child_pos,
            } => decode_trees(&b, diagonal, steps, child_pos, values),
            Sweep::Tridiagonal => decode_tridiagonal(&b, self.n, values, pool),
            Sweep::Grid5 { nx, ny } => decode_grid5(&b, *nx, *ny, values, pool),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sparsediff_coloring::{AdjacencyGraph, Method, TreeSet};
    use sparsediff_pattern::{Pattern, generators};

    use super::{Decode, SubstitutionDecoder, Sweep};
    use crate::Orientation;
    use crate::plan::Seeds;
    use crate::products::exact_products;

    /// Symmetric values on `pattern` (entry order), distinct and of mixed sign.
    fn symmetric_values(pattern: &Pattern) -> Vec<f64> {
        let mut v = vec![0.0; pattern.nnz()];
        for i in 0..pattern.nrows() {
            for (k, &j) in pattern.row_range(i).zip(pattern.row(i)) {
                let (a, b) = (i.min(j) as f64, i.max(j) as f64);
                v[k] = (0.37 * a + 1.3 * b).sin() * 10.0 + if i == j { 3.0 } else { 0.0 };
            }
        }
        v
    }

    fn decoders(pattern: &Pattern, colors: &[usize]) -> (SubstitutionDecoder, SubstitutionDecoder) {
        let g = AdjacencyGraph::new(pattern, Method::Acyclic).unwrap();
        let trees = TreeSet::from_colors(&g, colors).unwrap();
        let k = colors.iter().max().map_or(0, |c| c + 1);
        (
            SubstitutionDecoder::new(pattern, &g, &trees, colors, k),
            SubstitutionDecoder::along_trees(pattern, &g, &trees, colors, k),
        )
    }

    /// Decodes exact products of symmetric values on `pattern` with `colors`; returns the
    /// decoder's values and the truth.
    fn decode(
        d: &mut SubstitutionDecoder,
        pattern: &Pattern,
        colors: &[usize],
        column_major: bool,
    ) -> (Vec<f64>, Vec<f64>) {
        let want = symmetric_values(pattern);
        let seeds = Seeds::Groups {
            group: colors.to_vec(),
            num_probes: colors.iter().max().map_or(0, |c| c + 1),
        };
        let b = exact_products(pattern, &want, &seeds, Orientation::Columns);
        let mut got = vec![0.0; pattern.nnz()];
        if column_major {
            d.decode(b.as_ref(), &mut got).unwrap();
        } else {
            // Row-major products, as the facade stores them.
            let mut rm = vec![0.0; b.nrows() * b.ncols()];
            for i in 0..b.nrows() {
                for c in 0..b.ncols() {
                    rm[i * b.ncols() + c] = b[(i, c)];
                }
            }
            let view = faer::MatRef::from_row_major_slice(&rm, b.nrows(), b.ncols());
            d.decode(view, &mut got).unwrap();
        }
        (got, want)
    }

    fn assert_close(got: &[f64], want: &[f64], what: &str) {
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{what}: entry {k}: {g} vs {w}"
            );
        }
    }

    /// The closed form and the tree sweep each recover the truth, in both product layouts.
    fn both_recover(
        closed: &mut SubstitutionDecoder,
        trees: &mut SubstitutionDecoder,
        p: &Pattern,
        colors: &[usize],
        what: &str,
    ) {
        for column_major in [false, true] {
            let (got, want) = decode(closed, p, colors, column_major);
            assert_close(&got, &want, &format!("closed form, {what}"));
            let (again, _) = decode(trees, p, colors, column_major);
            assert_close(&again, &want, &format!("trees, {what}"));
        }
    }

    #[test]
    fn tridiagonal_patterns_decode_in_closed_form_as_along_the_path() {
        for n in [2, 3, 4, 5, 58, 1001] {
            let p = generators::band(n, 1, 1).unwrap();
            let colors: Vec<usize> = (0..n).map(|j| j % 2).collect();
            let (mut closed, mut trees) = decoders(&p, &colors);
            assert!(matches!(closed.sweep, Sweep::Tridiagonal), "n {n}");
            assert!(matches!(trees.sweep, Sweep::Trees { .. }));
            both_recover(&mut closed, &mut trees, &p, &colors, &format!("n {n}"));
        }
    }

    #[test]
    fn the_closed_form_needs_a_full_tridiagonal_pattern_and_the_periodic_colouring() {
        let n = 30;
        let p = generators::band(n, 1, 1).unwrap();
        // The other optimal colouring (colours swapped) decodes along the trees.
        let swapped: Vec<usize> = (0..n).map(|j| (j + 1) % 2).collect();
        let (mut d, _) = decoders(&p, &swapped);
        assert!(matches!(d.sweep, Sweep::Trees { .. }));
        let (got, want) = decode(&mut d, &p, &swapped, false);
        assert_close(&got, &want, "swapped colours");
        // Wider bands, and a tridiagonal band with a hole, too.
        let wide = generators::band(n, 2, 2).unwrap();
        let colors3: Vec<usize> = (0..n).map(|j| j % 3).collect();
        let (mut d, _) = decoders(&wide, &colors3);
        assert!(matches!(d.sweep, Sweep::Trees { .. }));
        let (got, want) = decode(&mut d, &wide, &colors3, false);
        assert_close(&got, &want, "β = 2");
        let (mut rows, mut cols) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in i.saturating_sub(1)..=(i + 1).min(n - 1) {
                if (i, j) != (10, 11) && (i, j) != (11, 10) {
                    rows.push(i);
                    cols.push(j);
                }
            }
        }
        let holed = Pattern::from_triplets(n, n, &rows, &cols).unwrap();
        let colors: Vec<usize> = (0..n).map(|j| j % 2).collect();
        let (mut d, _) = decoders(&holed, &colors);
        assert!(matches!(d.sweep, Sweep::Trees { .. }));
        let (got, want) = decode(&mut d, &holed, &colors, false);
        assert_close(&got, &want, "holed");
    }

    fn grid5_colors(nx: usize, ny: usize) -> Vec<usize> {
        (0..nx * ny).map(|v| (v % nx + 2 * (v / nx)) % 3).collect()
    }

    #[test]
    fn five_point_grids_decode_in_closed_form_as_along_the_trees() {
        use sparsediff_pattern::generators::Stencil2d;
        for (nx, ny) in [
            (2, 2),
            (2, 5),
            (5, 2),
            (3, 3),
            (7, 4),
            (4, 7),
            (30, 17),
            (1, 9),
        ] {
            let p = generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap();
            let colors = grid5_colors(nx, ny);
            let (mut closed, mut trees) = decoders(&p, &colors);
            let expect_closed = nx >= 2 && ny >= 2;
            assert_eq!(
                matches!(closed.sweep, Sweep::Grid5 { .. }),
                expect_closed,
                "{nx}×{ny}"
            );
            assert_eq!(super::full_grid5(&p, &colors).is_some(), expect_closed);
            both_recover(&mut closed, &mut trees, &p, &colors, &format!("{nx}×{ny}"));
        }
    }

    #[test]
    fn the_grid_closed_form_needs_the_full_stencil_and_its_colouring() {
        use sparsediff_pattern::generators::Stencil2d;
        let (nx, ny) = (6, 5);
        let p = generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap();
        // Another acyclic colouring of the same grid: (i + 2j + 1) mod 3.
        let shifted: Vec<usize> = grid5_colors(nx, ny).iter().map(|c| (c + 1) % 3).collect();
        assert!(super::full_grid5(&p, &shifted).is_none());
        let (mut d, _) = decoders(&p, &shifted);
        assert!(matches!(d.sweep, Sweep::Trees { .. }));
        let (got, want) = decode(&mut d, &p, &shifted, false);
        assert_close(&got, &want, "shifted colours");
        // The stencil with one coupling missing decodes along the trees.
        let colors = grid5_colors(nx, ny);
        let (mut rows, mut cols) = (Vec::new(), Vec::new());
        for i in 0..p.nrows() {
            for &j in p.row(i) {
                if (i, j) != (8, 14) && (i, j) != (14, 8) {
                    rows.push(i);
                    cols.push(j);
                }
            }
        }
        let holed = Pattern::from_triplets(p.nrows(), p.ncols(), &rows, &cols).unwrap();
        assert!(super::full_grid5(&holed, &colors).is_none());
        let (mut d, _) = decoders(&holed, &colors);
        assert!(matches!(d.sweep, Sweep::Trees { .. }));
        let (got, want) = decode(&mut d, &holed, &colors, false);
        assert_close(&got, &want, "holed grid");
        // The 9-point stencil is not the 5-point one.
        let nine = generators::grid2d(nx, ny, Stencil2d::NinePoint).unwrap();
        assert!(super::full_grid5(&nine, &colors).is_none());
    }

    #[test]
    fn large_grids_decode_on_two_threads_bit_for_bit_as_on_one() {
        use sparsediff_pattern::generators::Stencil2d;
        let pools: Vec<rayon::ThreadPool> = [2, 3]
            .iter()
            .map(|&t| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap()
            })
            .collect();
        for (nx, ny) in [(64, 1024), (257, 300), (1001, 70), (63, 1100)] {
            let p = generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap();
            let colors = grid5_colors(nx, ny);
            let (d, _) = decoders(&p, &colors);
            assert!(matches!(d.sweep, Sweep::Grid5 { .. }));
            let want = symmetric_values(&p);
            let seeds = Seeds::Groups {
                group: colors.clone(),
                num_probes: 3,
            };
            let b = exact_products(&p, &want, &seeds, Orientation::Columns);
            let mut one = vec![0.0; p.nnz()];
            d.decode_prechecked(b.as_ref(), &mut one, None).unwrap();
            assert_close(&one, &want, &format!("{nx}×{ny}, one thread"));
            for pool in &pools {
                let mut split = vec![f64::NAN; p.nnz()];
                d.decode_prechecked(b.as_ref(), &mut split, Some(pool))
                    .unwrap();
                let same = one
                    .iter()
                    .zip(&split)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{nx}×{ny} on {} threads", pool.current_num_threads());
            }
        }
    }
    #[test]
    fn large_tridiagonal_patterns_decode_on_two_threads_bit_for_bit_as_on_one() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        // Even and odd n, at and above the split threshold.
        for n in [
            super::TRIDIAGONAL_SPLIT,
            super::TRIDIAGONAL_SPLIT + 1,
            100_003,
        ] {
            let p = generators::band(n, 1, 1).unwrap();
            let colors: Vec<usize> = (0..n).map(|j| j % 2).collect();
            let (d, _) = decoders(&p, &colors);
            assert!(matches!(d.sweep, Sweep::Tridiagonal));
            let want = symmetric_values(&p);
            let seeds = Seeds::Groups {
                group: colors,
                num_probes: 2,
            };
            let b = exact_products(&p, &want, &seeds, Orientation::Columns);
            let mut one = vec![f64::NAN; p.nnz()];
            d.decode_prechecked(b.as_ref(), &mut one, None).unwrap();
            assert_close(&one, &want, &format!("n {n}, one thread"));
            let mut two = vec![f64::NAN; p.nnz()];
            d.decode_prechecked(b.as_ref(), &mut two, Some(&pool))
                .unwrap();
            let same = one
                .iter()
                .zip(&two)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "n {n} on two threads");
        }
    }
}
