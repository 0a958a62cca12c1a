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
//! from the last row up, H[i, i−1] = B[i, colour(i−1)] − H[i+1, i], carried in a
//! register. At n = 1e6 this takes 2.2 ms against 4.6 ms for the general sweep, which
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
    let n = pattern.nrows();
    if n < 4 || pattern.ncols() != n || colors.len() != n {
        return None;
    }
    // Row 0 is [0, 1, nx].
    let nx = match pattern.row(0) {
        &[0, 1, nx] if nx >= 2 => nx,
        _ => return None,
    };
    if !n.is_multiple_of(nx) {
        return None;
    }
    let ny = n / nx;
    if ny < 2 || pattern.nnz() != 5 * n - 2 * nx - 2 * ny {
        return None;
    }
    let mut row = [0usize; 5];
    let ok = (0..n).all(|v| {
        let (i, j) = (v % nx, v / nx);
        let mut len = 0;
        for (keep, u) in [
            (j > 0, v.wrapping_sub(nx)),
            (i > 0, v.wrapping_sub(1)),
            (true, v),
            (i + 1 < nx, v + 1),
            (j + 1 < ny, v + nx),
        ] {
            if keep {
                row[len] = u;
                len += 1;
            }
        }
        pattern.row(v) == &row[..len] && colors[v] == (i + 2 * j) % 3
    });
    ok.then_some((nx, ny))
}

/// Whether `pattern` is a full n×n tridiagonal band (n ≥ 2) coloured `j mod 2`.
fn full_tridiagonal(pattern: &Pattern, colors: &[usize]) -> bool {
    let n = pattern.nrows();
    n >= 2
        && pattern.ncols() == n
        && colors.len() == n
        && pattern.nnz() == 3 * n - 2
        && (0..n).all(|i| {
            // Sorted and unique: first, last and length pin the row down.
            let row = pattern.row(i);
            let (lo, hi) = (i.saturating_sub(1), (i + 1).min(n - 1));
            row.len() == hi - lo + 1 && row.first() == Some(&lo) && row.last() == Some(&hi)
        })
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

/// Substitution on a full tridiagonal pattern coloured `j mod 2`, from the last row up:
/// H[i, i−1] = B[i, colour(i−1)] − H[i+1, i]. Row i (0 < i < n−1) is
/// `[H[i,i−1], H[i,i], H[i,i+1]]` at 3i − 1; the one chain of dependent subtractions runs
/// through a register.
fn decode_tridiagonal(b: &ProductsView<'_>, n: usize, values: &mut [f64]) {
    let values = &mut values[..3 * n - 2];
    // Row n−1 (colour (n−1) mod 2): [H[n−1,n−2], H[n−1,n−1]] at 3n − 4.
    let mut ci = (n - 1) & 1;
    let mut prev = 0.0; // H[i+1, i]
    for i in (1..n).rev() {
        let s = 3 * i - 1; // position of H[i, i−1]
        values[s + 1] = b.at(i, ci);
        let v = b.at(i, ci ^ 1) - prev;
        values[s] = v;
        values[s - 1] = v; // H[i−1, i], the last entry of row i−1
        prev = v;
        ci ^= 1;
    }
    values[0] = b.at(0, 0);
}

/// Substitution on the full 5-point stencil of an nx×ny grid coloured (i + 2j) mod 3 (see
/// the module docs): one sweep in natural order. Row v holds, sorted, its south (j > 0),
/// west (i > 0), diagonal, east (i < nx−1) and north (j < ny−1) entries; `pos` is where
/// row v starts and `up` where row v + nx starts.
fn decode_grid5(b: &ProductsView<'_>, nx: usize, ny: usize, values: &mut [f64]) {
    let row_len = |i: usize, j: usize| {
        1 + usize::from(j > 0)
            + usize::from(i > 0)
            + usize::from(i + 1 < nx)
            + usize::from(j + 1 < ny)
    };
    let mut pos = 0usize;
    // Rows 0..nx (grid row 0) have no south entry.
    let mut up: usize = (0..nx).map(|i| row_len(i, 0)).sum();
    for j in 0..ny {
        let (south, north) = (j > 0, j + 1 < ny);
        let mut west = 0.0; // h(v − 1)
        let mut c = (2 * j) % 3;
        for i in 0..nx {
            let v = i + nx * j;
            let len = row_len(i, j);
            let (c_plus, c_minus) = ((c + 1) % 3, (c + 2) % 3);
            let s = usize::from(south);
            // w(v − nx) = H[v, v − nx], written as row v's first entry by vertex v − nx.
            let w_south = if south { values[pos] } else { 0.0 };
            let d = pos + s + usize::from(i > 0);
            values[d] = b.at(v, c);
            if north {
                // w(v) = B[v, c−1] − h(v − 1); `west` is still h(v − 1) (0 at i = 0).
                let w = b.at(v, c_minus) - west;
                values[pos + len - 1] = w;
                values[up] = w;
                up += row_len(i, j + 1);
            }
            if i + 1 < nx {
                let h = b.at(v, c_plus) - w_south;
                values[d + 1] = h;
                // H[v + 1, v]: row v + 1 starts at pos + len, after its south entry.
                values[pos + len + s] = h;
                west = h;
            }
            pos += len;
            c = c_plus;
        }
    }
}

impl Decode for SubstitutionDecoder {
    fn products_shape(&self) -> (usize, usize) {
        (self.n, self.probes)
    }

    fn decode(&self, products: MatRef<'_, f64>, values: &mut [f64]) -> Result<(), DecodeError> {
        self.substitute(ProductsView::new(products, self.n, self.probes)?, values)
    }

    fn decode_prechecked(
        &self,
        products: MatRef<'_, f64>,
        values: &mut [f64],
    ) -> Result<(), DecodeError> {
        self.substitute(
            ProductsView::prechecked(products, self.n, self.probes)?,
            values,
        )
    }
}

impl SubstitutionDecoder {
    fn substitute(&self, b: ProductsView<'_>, values: &mut [f64]) -> Result<(), DecodeError> {
        check_values(values, self.nnz)?;
        match &self.sweep {
            Sweep::Trees {
                diagonal,
                steps,
                child_pos,
            } => decode_trees(&b, diagonal, steps, child_pos, values),
            Sweep::Tridiagonal => decode_tridiagonal(&b, self.n, values),
            Sweep::Grid5 { nx, ny } => decode_grid5(&b, *nx, *ny, values),
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

    #[test]
    fn tridiagonal_patterns_decode_in_closed_form_as_along_the_path() {
        for n in [2, 3, 4, 5, 58, 1001] {
            let p = generators::band(n, 1, 1).unwrap();
            let colors: Vec<usize> = (0..n).map(|j| j % 2).collect();
            let (mut closed, mut trees) = decoders(&p, &colors);
            assert!(matches!(closed.sweep, Sweep::Tridiagonal), "n {n}");
            assert!(matches!(trees.sweep, Sweep::Trees { .. }));
            for column_major in [false, true] {
                let (got, want) = decode(&mut closed, &p, &colors, column_major);
                assert_close(&got, &want, &format!("closed form, n {n}"));
                let (again, _) = decode(&mut trees, &p, &colors, column_major);
                assert_close(&again, &want, &format!("trees, n {n}"));
            }
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
            for column_major in [false, true] {
                let (got, want) = decode(&mut closed, &p, &colors, column_major);
                assert_close(&got, &want, &format!("closed form, {nx}×{ny}"));
                let (again, _) = decode(&mut trees, &p, &colors, column_major);
                assert_close(&again, &want, &format!("trees, {nx}×{ny}"));
            }
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
}
