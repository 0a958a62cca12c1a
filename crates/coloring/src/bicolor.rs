//! Bidirectional colouring (bicolouring) of a general m×n matrix J: some columns are
//! grouped into JVP probes (B = J·Sc, m×pc), some rows into VJP probes (C = Jᵀ·Sr, n×pr),
//! and every entry is recovered from B and C together, directly ([`Method::Star`]) or by
//! substitution ([`Method::Acyclic`]). Vertices in no probe have the neutral colour.
//!
//! This is the colouring of the bipartite graph of J seen as the symmetric matrix
//! [0 Jᵀ; J 0] (Coleman–Verma 1998; Montoison–Dalle–Gebremedhin 2025, whose
//! SparseMatrixColorings.jl runs the symmetric star or acyclic algorithm on that augmented
//! matrix and then separates column colours from row colours). A row r = n + i of the
//! augmented product is (J·Sc)[i, ·] and a row j < n is (Jᵀ·Sr)[j, ·], so a symmetric
//! recovery on the augmented matrix is a recovery from one JVP block and one VJP block.
//!
//! [`color_bidirectional`] tries several strategies and keeps the fewest products
//! (pc + pr), first in this order on ties:
//!
//! 1. **cover** (Coleman–Verma): a vertex cover of the bipartite graph is chosen greedily
//!    (largest remaining degree first, ties to columns, then again with ties to rows); each
//!    entry is read on the side of the endpoint that entered the cover first; a column is
//!    probed only if some entry is read through it, and probed columns conflict when an
//!    entry read through one of them shares a row with the other (rows likewise). The two
//!    sides are then coloured greedily and independently, in cover order. The result
//!    recovers directly, hence also by substitution. An arrowhead (dense first row and
//!    column) gets 2 column colours and 1 row colour where each side alone needs n.
//! 2. **augmented** (SparseMatrixColorings.jl): this crate's star or acyclic colouring of
//!    [0 Jᵀ; J 0] in each order of the parameters, then per-side separation and
//!    neutral-colour post-processing (every colour class that recovery can do without is
//!    dropped, smallest classes tried first). Its cost grows with the sum of squared
//!    degrees of the augmented graph, so it is skipped when that sum exceeds
//!    [`AUGMENTED_BUDGET`] times the entries (dense rows or columns), and an order is
//!    abandoned once it uses more than twice the best count so far plus two colours (it
//!    could still win after post-processing, but rarely does).
//! 3. **columns** / **rows**: the one-sided CPR colouring (a valid bicolouring with the
//!    other side empty), run only when its lower bound (most entries in a row, or in a
//!    column) is below the best count so far. So a bicolouring never needs more products
//!    than the better one-sided CPR colouring in the same orders.
//!
//! Every candidate's recovery is rebuilt and checked from its colours
//! ([`BiRecovery::from_colors`]) before it is kept.

use std::collections::VecDeque;
use std::time::Instant;

use sparsediff_pattern::Pattern;

use crate::check::Violation;
use crate::error::ColoringError;
use crate::graph::AdjacencyGraph;
use crate::greedy::{UNCOLORED, first_allowed};
use crate::order::vertex_order;
use crate::problem::{ColoringParams, Method, Order, OrderChoice, Problem};
use crate::result::NEUTRAL;
use crate::{acyclic, star};

/// The augmented-graph strategy runs only when Σ deg² over the augmented graph is at most
/// this many times the entries of J (plus 2²⁰): the symmetric star and acyclic algorithms
/// visit the neighbours of every coloured neighbour.
pub const AUGMENTED_BUDGET: usize = 64;

/// How a bicolouring was found (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiStrategy {
    /// Greedy vertex cover (ties to columns), then per-side greedy colouring.
    CoverColumns,
    /// Greedy vertex cover (ties to rows), then per-side greedy colouring.
    CoverRows,
    /// Star or acyclic colouring of [0 Jᵀ; J 0], separated and post-processed.
    Augmented,
    /// One-sided column CPR (no row probes).
    Columns,
    /// One-sided row CPR (no column probes).
    Rows,
}

impl BiStrategy {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            BiStrategy::CoverColumns => "cover-columns",
            BiStrategy::CoverRows => "cover-rows",
            BiStrategy::Augmented => "augmented",
            BiStrategy::Columns => "columns",
            BiStrategy::Rows => "rows",
        }
    }
}

impl std::fmt::Display for BiStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a recovered value is read: a JVP product (J·Sc)[row, color] or a VJP product
/// (Jᵀ·Sr)[col, color].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiSource {
    /// (J·Sc)[row, color]: the sum of J[row, k] over the columns k of column colour `color`.
    Jvp {
        /// Row of J (row of the JVP block).
        row: usize,
        /// Column colour (column of the JVP block).
        color: usize,
    },
    /// (Jᵀ·Sr)[col, color]: the sum of J[k, col] over the rows k of row colour `color`.
    Vjp {
        /// Column of J (row of the VJP block).
        col: usize,
        /// Row colour (column of the VJP block).
        color: usize,
    },
}

/// How every entry of J is recovered from the two product blocks: a list of steps, each
/// `values[entry] = source − Σ values[subtract]`, in an order where every subtracted value
/// is already known. Direct recovery has no subtractions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiRecovery {
    pub(crate) entry: Vec<u32>,
    pub(crate) source: Vec<BiSource>,
    pub(crate) sub_ptr: Vec<u32>,
    pub(crate) sub: Vec<u32>,
    pub(crate) num_column_colors: usize,
    pub(crate) num_row_colors: usize,
}

const NONE: u32 = u32::MAX;

impl BiRecovery {
    /// Number of steps (= entries of J).
    pub fn len(&self) -> usize {
        self.entry.len()
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.entry.is_empty()
    }

    /// Whether every entry is read directly (no subtraction).
    pub fn is_direct(&self) -> bool {
        self.sub.is_empty()
    }

    /// Column colours (JVP probes) the recovery reads from.
    pub fn num_column_colors(&self) -> usize {
        self.num_column_colors
    }

    /// Row colours (VJP probes) the recovery reads from.
    pub fn num_row_colors(&self) -> usize {
        self.num_row_colors
    }

    /// The steps: `(entry, source, subtract)` with `entry` and `subtract` indices in the
    /// pattern's entry (CSR) order.
    pub fn steps(&self) -> impl ExactSizeIterator<Item = (usize, BiSource, &[u32])> + '_ {
        (0..self.entry.len()).map(|s| {
            (
                self.entry[s] as usize,
                self.source[s],
                &self.sub[self.sub_ptr[s] as usize..self.sub_ptr[s + 1] as usize],
            )
        })
    }

    /// Builds the recovery of J's `pattern` from column colours (one per column) and row
    /// colours (one per row), [`NEUTRAL`] meaning in no probe. With `direct`, every entry
    /// must be readable alone from one product (a star bicolouring); otherwise
    /// single-unknown equations are peeled until every entry is known (an acyclic
    /// bicolouring). Fails naming the first entry that cannot be recovered, a colour
    /// vector of the wrong length, or a colour not below its side's vertex count
    /// ([`Violation::ColorOutOfRange`]). O(entries).
    ///
    /// ```
    /// use sparsediff_coloring::{BiRecovery, NEUTRAL};
    /// use sparsediff_pattern::generators;
    ///
    /// // Arrowhead: column 0 alone, columns 1.. together, row 0 alone; other rows neutral.
    /// let p = generators::arrowhead(6, 1)?;
    /// let cols = [0, 1, 1, 1, 1, 1];
    /// let rows = [0, NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL];
    /// let r = BiRecovery::from_colors(&p, &cols, &rows, true)?;
    /// assert!(r.is_direct());
    /// assert_eq!((r.num_column_colors(), r.num_row_colors()), (2, 1));
    /// // Without the row probe, row 0 cannot be recovered.
    /// assert!(BiRecovery::from_colors(&p, &cols, &[NEUTRAL; 6], false).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_colors(
        pattern: &Pattern,
        column_colors: &[usize],
        row_colors: &[usize],
        direct: bool,
    ) -> Result<BiRecovery, Violation> {
        let (m, n) = pattern.shape();
        for (colors, expected) in [(column_colors, n), (row_colors, m)] {
            if colors.len() != expected {
                return Err(Violation::WrongLength {
                    len: colors.len(),
                    expected,
                });
            }
        }
        for (colors, limit) in [(column_colors, n), (row_colors, m)] {
            if let Some((vertex, &color)) = colors
                .iter()
                .enumerate()
                .find(|&(_, &c)| c != NEUTRAL && c >= limit)
            {
                return Err(Violation::ColorOutOfRange {
                    vertex,
                    color,
                    limit,
                });
            }
        }
        let count = |c: &[usize]| {
            c.iter()
                .filter(|&&x| x != NEUTRAL)
                .map(|&x| x + 1)
                .max()
                .unwrap_or(0)
        };
        let (pc, pr) = (count(column_colors), count(row_colors));
        let nnz = pattern.nnz();
        let (ptr, idx) = (pattern.row_ptr(), pattern.col_idx());
        let mut row_of = vec![0u32; nnz];
        for i in 0..m {
            row_of[ptr[i]..ptr[i + 1]].fill(i as u32);
        }
        // Equations: (side, line, colour) with their entries, JVP equations first.
        let mut eq_jvp = vec![NONE; nnz];
        let mut eq_vjp = vec![NONE; nnz];
        let mut eq_source: Vec<BiSource> = Vec::new();
        let mut eq_size: Vec<u32> = Vec::new();
        let mut slot = vec![(NONE, 0u32); pc.max(pr)];
        for i in 0..m {
            for k in ptr[i]..ptr[i + 1] {
                let c = column_colors[idx[k]];
                if c == NEUTRAL {
                    continue;
                }
                if slot[c].0 != i as u32 {
                    slot[c] = (i as u32, eq_source.len() as u32);
                    eq_source.push(BiSource::Jvp { row: i, color: c });
                    eq_size.push(0);
                }
                eq_jvp[k] = slot[c].1;
                eq_size[slot[c].1 as usize] += 1;
            }
        }
        let (t_ptr, t_entry) = transpose_entries(pattern);
        slot.fill((NONE, 0));
        for j in 0..n {
            for &k in &t_entry[t_ptr[j]..t_ptr[j + 1]] {
                let r = row_colors[row_of[k as usize] as usize];
                if r == NEUTRAL {
                    continue;
                }
                if slot[r].0 != j as u32 {
                    slot[r] = (j as u32, eq_source.len() as u32);
                    eq_source.push(BiSource::Vjp { col: j, color: r });
                    eq_size.push(0);
                }
                eq_vjp[k as usize] = slot[r].1;
                eq_size[slot[r].1 as usize] += 1;
            }
        }
        let unrecoverable = |k: usize| Violation::Unrecoverable {
            row: row_of[k] as usize,
            col: idx[k],
        };
        let mut out = BiRecovery {
            entry: Vec::with_capacity(nnz),
            source: Vec::with_capacity(nnz),
            sub_ptr: Vec::with_capacity(nnz + 1),
            sub: Vec::new(),
            num_column_colors: 0,
            num_row_colors: 0,
        };
        out.sub_ptr.push(0);
        let mut used = vec![false; eq_source.len()];
        if direct {
            for k in 0..nnz {
                let e = [eq_jvp[k], eq_vjp[k]]
                    .into_iter()
                    .find(|&e| e != NONE && eq_size[e as usize] == 1)
                    .ok_or_else(|| unrecoverable(k))?;
                used[e as usize] = true;
                out.entry.push(k as u32);
                out.source.push(eq_source[e as usize]);
                out.sub_ptr.push(0);
            }
        } else {
            // Members of every equation (CSR), then peel.
            let ne = eq_source.len();
            let mut m_ptr = vec![0u32; ne + 1];
            for e in 0..ne {
                m_ptr[e + 1] = m_ptr[e] + eq_size[e];
            }
            let mut fill = m_ptr.clone();
            let mut members = vec![0u32; m_ptr[ne] as usize];
            for k in 0..nnz {
                for e in [eq_jvp[k], eq_vjp[k]] {
                    if e != NONE {
                        members[fill[e as usize] as usize] = k as u32;
                        fill[e as usize] += 1;
                    }
                }
            }
            let mut left = eq_size.clone();
            let mut solved = vec![false; nnz];
            let mut queue: VecDeque<u32> =
                (0..ne as u32).filter(|&e| left[e as usize] == 1).collect();
            while let Some(e) = queue.pop_front() {
                let e = e as usize;
                if left[e] != 1 {
                    continue;
                }
                let list = &members[m_ptr[e] as usize..m_ptr[e + 1] as usize];
                let Some(&k) = list.iter().find(|&&k| !solved[k as usize]) else {
                    continue;
                };
                left[e] = 0;
                used[e] = true;
                solved[k as usize] = true;
                out.entry.push(k);
                out.source.push(eq_source[e]);
                out.sub.extend(list.iter().copied().filter(|&x| x != k));
                out.sub_ptr.push(out.sub.len() as u32);
                for o in [eq_jvp[k as usize], eq_vjp[k as usize]] {
                    if o != NONE && o as usize != e && left[o as usize] > 0 {
                        left[o as usize] -= 1;
                        if left[o as usize] == 1 {
                            queue.push_back(o);
                        }
                    }
                }
            }
            if let Some(k) = (0..nnz).find(|&k| !solved[k]) {
                return Err(unrecoverable(k));
            }
        }
        let mut col_used = vec![false; pc];
        let mut row_used = vec![false; pr];
        for (e, s) in eq_source.iter().enumerate() {
            if used[e] {
                match *s {
                    BiSource::Jvp { color, .. } => col_used[color] = true,
                    BiSource::Vjp { color, .. } => row_used[color] = true,
                }
            }
        }
        out.num_column_colors = col_used.iter().filter(|&&u| u).count();
        out.num_row_colors = row_used.iter().filter(|&&u| u).count();
        Ok(out)
    }
}

/// The entries of `pattern` column by column: `(ptr, entry)` with the CSR indices of
/// column j's entries, by increasing row, at `entry[ptr[j]..ptr[j + 1]]`.
pub(crate) fn transpose_entries(pattern: &Pattern) -> (Vec<usize>, Vec<u32>) {
    let n = pattern.ncols();
    let mut ptr = vec![0usize; n + 1];
    for &j in pattern.col_idx() {
        ptr[j + 1] += 1;
    }
    for j in 0..n {
        ptr[j + 1] += ptr[j];
    }
    let mut next = ptr.clone();
    let mut entry = vec![0u32; pattern.nnz()];
    for (k, &j) in pattern.col_idx().iter().enumerate() {
        entry[next[j]] = k as u32;
        next[j] += 1;
    }
    (ptr, entry)
}

/// Column colours and row colours.
type SideColors = (Vec<usize>, Vec<usize>);

/// The best candidate so far: strategy, order, colours of both sides, recovery.
type Best = Option<(BiStrategy, Order, Vec<usize>, Vec<usize>, BiRecovery)>;

/// What one (strategy, order) reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiOutcome {
    /// The strategy.
    pub strategy: BiStrategy,
    /// The order (the cover strategies use their own cover order and report
    /// [`Order::LargestFirst`]).
    pub order: Order,
    /// Column + row colours it needed (`None`: abandoned or skipped, see the module docs).
    pub colors: Option<usize>,
    /// Time, seconds.
    pub seconds: f64,
}

/// A bidirectional colouring: column colours (JVP probes), row colours (VJP probes), and
/// the recovery of every entry from both product blocks.
#[derive(Debug, Clone)]
pub struct Bicoloring {
    pub(crate) method: Method,
    pub(crate) strategy: BiStrategy,
    pub(crate) order: Order,
    pub(crate) column_colors: Vec<usize>,
    pub(crate) row_colors: Vec<usize>,
    pub(crate) num_column_colors: usize,
    pub(crate) num_row_colors: usize,
    pub(crate) recovery: BiRecovery,
    pub(crate) tried: Vec<BiOutcome>,
}

impl Bicoloring {
    /// Star (direct recovery) or acyclic (substitution).
    pub fn method(&self) -> Method {
        self.method
    }

    /// The strategy that won.
    pub fn strategy(&self) -> BiStrategy {
        self.strategy
    }

    /// The order that won.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The colour of every column, `0..num_column_colors()` or [`NEUTRAL`].
    pub fn column_colors(&self) -> &[usize] {
        &self.column_colors
    }

    /// The colour of every row, `0..num_row_colors()` or [`NEUTRAL`].
    pub fn row_colors(&self) -> &[usize] {
        &self.row_colors
    }

    /// JVP probes pc.
    pub fn num_column_colors(&self) -> usize {
        self.num_column_colors
    }

    /// VJP probes pr.
    pub fn num_row_colors(&self) -> usize {
        self.num_row_colors
    }

    /// Products in all: pc + pr.
    pub fn num_colors(&self) -> usize {
        self.num_column_colors + self.num_row_colors
    }

    /// How every entry is recovered.
    pub fn recovery(&self) -> &BiRecovery {
        &self.recovery
    }

    /// Every (strategy, order) tried.
    pub fn tried(&self) -> &[BiOutcome] {
        &self.tried
    }

    /// The colours as one vector over the vertices of [0 Jᵀ; J 0] (columns, then rows),
    /// row colours shifted by `num_column_colors()` so that each colour is one product.
    pub fn joint_colors(&self) -> Vec<usize> {
        let pc = self.num_column_colors;
        self.column_colors
            .iter()
            .copied()
            .chain(
                self.row_colors
                    .iter()
                    .map(|&r| if r == NEUTRAL { NEUTRAL } else { pc + r }),
            )
            .collect()
    }

    /// Checks the colours against `pattern` with the independent checker of the method:
    /// [`check::bidirectional_direct`](crate::check::bidirectional_direct) (star) or
    /// [`check::bidirectional_substitutable`](crate::check::bidirectional_substitutable).
    pub fn check(&self, pattern: &Pattern) -> Result<(), Violation> {
        match self.method {
            Method::Acyclic => crate::check::bidirectional_substitutable(
                pattern,
                &self.column_colors,
                &self.row_colors,
            ),
            _ => crate::check::bidirectional_direct(pattern, &self.column_colors, &self.row_colors),
        }
    }
}

/// A lower bound on the products of any bicolouring: 2 if some entry has another entry in
/// its row and another in its column (one JVP cannot separate the row's two entries, one
/// VJP the column's), else 1.
pub(crate) fn lower_bound(pattern: &Pattern) -> usize {
    let counts = pattern.col_counts();
    let two = (0..pattern.nrows())
        .any(|i| pattern.row_nnz(i) >= 2 && pattern.row(i).iter().any(|&j| counts[j] >= 2));
    if two { 2 } else { 1 }
}

/// Bidirectional colouring of J's `pattern` with `method` ([`Method::Star`]: direct
/// recovery, [`Method::Acyclic`]: substitution), trying the order(s) of `params` (see the
/// module docs for the strategies; `postprocess` and `recolor_passes` are not used, the
/// neutral colours are always applied).
///
/// ```
/// use sparsediff_coloring::{ColoringParams, Method, Problem, color, color_bidirectional};
/// use sparsediff_pattern::generators;
///
/// // Dense first row and column plus the diagonal: each side alone needs n colours.
/// let arrow = generators::arrowhead(100, 1)?;
/// let params = ColoringParams::default();
/// assert_eq!(color(&arrow, Problem::Column, Method::Cpr, &params)?.num_colors(), 100);
/// let b = color_bidirectional(&arrow, Method::Star, &params)?;
/// assert_eq!((b.num_column_colors(), b.num_row_colors()), (2, 1));
/// assert!(b.check(&arrow).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Errors: a zero dimension or no entries, a method other than star or acyclic
/// ([`ColoringError::MethodNotApplicable`]), an empty list of orders.
pub fn color_bidirectional(
    pattern: &Pattern,
    method: Method,
    params: &ColoringParams,
) -> Result<Bicoloring, ColoringError> {
    crate::validate(pattern, Problem::Bidirectional, method)?;
    let orders: Vec<Order> = match &params.order {
        OrderChoice::Single(o) => vec![*o],
        OrderChoice::Best(list) if list.is_empty() => return Err(ColoringError::NoOrders),
        OrderChoice::Best(list) => list.clone(),
    };
    let direct = method != Method::Acyclic;
    let mut tried = Vec::new();
    let mut best: Best = None;
    let total = |b: &Best| {
        b.as_ref()
            .map_or(usize::MAX, |x| x.4.num_column_colors + x.4.num_row_colors)
    };
    let done = |b: &Best| params.stop_at.is_some_and(|s| total(b) <= s);
    let consider = |strategy: BiStrategy,
                    order: Order,
                    start: Instant,
                    colors: Option<SideColors>,
                    best: &mut Best,
                    tried: &mut Vec<BiOutcome>| {
        let kept = colors.and_then(|(c, r)| {
            // Renumbered per side first: raw colours of [0 Jᵀ; J 0] may exceed one side's
            // vertex count.
            let (c, r) = (compact(c).0, compact(r).0);
            let rec = BiRecovery::from_colors(pattern, &c, &r, direct);
            debug_assert!(rec.is_ok(), "{strategy}: {rec:?}");
            rec.ok().map(|rec| (c, r, rec))
        });
        tried.push(BiOutcome {
            strategy,
            order,
            colors: kept
                .as_ref()
                .map(|(_, _, r)| r.num_column_colors + r.num_row_colors),
            seconds: start.elapsed().as_secs_f64(),
        });
        if let Some((c, r, rec)) = kept
            && rec.num_column_colors + rec.num_row_colors < total(best)
        {
            *best = Some((strategy, order, c, r, rec));
        }
    };

    // 1. Cover strategies.
    let (t_ptr, t_entry) = transpose_entries(pattern);
    for (strategy, prefer_columns) in [
        (BiStrategy::CoverColumns, true),
        (BiStrategy::CoverRows, false),
    ] {
        if done(&best) {
            break;
        }
        let start = Instant::now();
        let colors = cover_bicolor(pattern, &t_ptr, &t_entry, prefer_columns);
        consider(
            strategy,
            Order::LargestFirst,
            start,
            Some(colors),
            &mut best,
            &mut tried,
        );
    }

    // 2. The augmented graph, if affordable.
    let aug = augmented(pattern, &t_ptr, &t_entry);
    let work: usize = (0..aug.nrows()).map(|v| aug.row_nnz(v).pow(2)).sum();
    if work <= AUGMENTED_BUDGET * pattern.nnz() + (1 << 20) && !done(&best) {
        let g = AdjacencyGraph::new(&aug, method)?;
        for &order in &orders {
            if done(&best) {
                break;
            }
            let start = Instant::now();
            let cap = total(&best)
                .saturating_mul(2)
                .saturating_add(2)
                .min(u32::MAX as usize) as u32;
            let raw = augmented_bicolor(&g, pattern.ncols(), method, order, cap)?;
            let colors = raw.map(|(c, r)| prune(pattern, c, r, direct));
            consider(
                BiStrategy::Augmented,
                order,
                start,
                colors,
                &mut best,
                &mut tried,
            );
        }
    }

    // 3. One-sided CPR, when it can still win.
    for (strategy, problem) in [
        (BiStrategy::Columns, Problem::Column),
        (BiStrategy::Rows, Problem::Row),
    ] {
        let bound = crate::bounds::lower_bound(pattern, problem, Method::Cpr, None);
        if bound >= total(&best) || done(&best) {
            continue;
        }
        let start = Instant::now();
        let one = crate::color(
            pattern,
            problem,
            Method::Cpr,
            &ColoringParams {
                postprocess: false,
                ..params.clone()
            },
        )?;
        let none = |len| vec![NEUTRAL; len];
        let colors = match strategy {
            BiStrategy::Columns => (one.colors().to_vec(), none(pattern.nrows())),
            _ => (none(pattern.ncols()), one.colors().to_vec()),
        };
        consider(
            strategy,
            one.order(),
            start,
            Some(colors),
            &mut best,
            &mut tried,
        );
    }

    let (strategy, order, cols, rows, recovery) = best.ok_or(ColoringError::NoOrders)?;
    // Classes the recovery never reads (a vertex probed on both sides, read on one) cost a
    // product for nothing: neutral. Only equations of those classes change, and none is
    // used, so the recovery stays valid; it is rebuilt on the renumbered colours.
    let (mut col_read, mut row_read) = (vec![false; cols.len()], vec![false; rows.len()]);
    for s in &recovery.source {
        match *s {
            BiSource::Jvp { color, .. } => col_read[color] = true,
            BiSource::Vjp { color, .. } => row_read[color] = true,
        }
    }
    let keep = |colors: &[usize], read: &[bool]| -> Vec<usize> {
        colors
            .iter()
            .map(|&c| if c != NEUTRAL && read[c] { c } else { NEUTRAL })
            .collect()
    };
    let (column_colors, num_column_colors) = compact(keep(&cols, &col_read));
    let (row_colors, num_row_colors) = compact(keep(&rows, &row_read));
    let rebuilt = BiRecovery::from_colors(pattern, &column_colors, &row_colors, direct);
    debug_assert!(rebuilt.is_ok(), "{rebuilt:?}");
    let (column_colors, row_colors, num_column_colors, num_row_colors, recovery) = match rebuilt {
        Ok(r) => (
            column_colors,
            row_colors,
            num_column_colors,
            num_row_colors,
            r,
        ),
        // Not reached (see above); the candidate as it was checked otherwise.
        Err(_) => {
            let (c, pc) = compact(cols);
            let (r, pr) = compact(rows);
            (c, r, pc, pr, recovery)
        }
    };
    Ok(Bicoloring {
        method,
        strategy,
        order,
        column_colors,
        row_colors,
        num_column_colors,
        num_row_colors,
        recovery,
        tried,
    })
}

/// Renumbers the colours in use to 0..k (keeping their order); returns them and k.
fn compact(mut colors: Vec<usize>) -> (Vec<usize>, usize) {
    let k = colors
        .iter()
        .filter(|&&c| c != NEUTRAL)
        .map(|&c| c + 1)
        .max()
        .unwrap_or(0);
    let mut new = vec![NEUTRAL; k];
    for &c in &colors {
        if c != NEUTRAL {
            new[c] = 0;
        }
    }
    let mut next = 0;
    for c in new.iter_mut() {
        if *c == 0 {
            *c = next;
            next += 1;
        }
    }
    for c in colors.iter_mut() {
        if *c != NEUTRAL {
            *c = new[*c];
        }
    }
    (colors, next)
}

/// [0 Jᵀ; J 0]: vertices 0..n are the columns, n..n+m the rows.
pub(crate) fn augmented(pattern: &Pattern, t_ptr: &[usize], t_entry: &[u32]) -> Pattern {
    let (m, n) = pattern.shape();
    let mut row_of = vec![0usize; pattern.nnz()];
    for i in 0..m {
        row_of[pattern.row_range(i)].fill(i);
    }
    let mut ptr = Vec::with_capacity(n + m + 1);
    let mut idx = Vec::with_capacity(2 * pattern.nnz());
    ptr.push(0);
    for j in 0..n {
        idx.extend(
            t_entry[t_ptr[j]..t_ptr[j + 1]]
                .iter()
                .map(|&k| n + row_of[k as usize]),
        );
        ptr.push(idx.len());
    }
    for i in 0..m {
        idx.extend_from_slice(pattern.row(i));
        ptr.push(idx.len());
    }
    Pattern::from_csr(n + m, n + m, ptr, idx).expect("the augmented pattern is valid CSR")
}

/// Greedy vertex cover of the bipartite graph (largest remaining degree first; ties to
/// columns or rows, then to the vertex most recently reached at that degree, lowest index
/// first at the start): the rank at which each vertex (columns 0..n, rows
/// n..n+m) entered the cover, `NONE` if it did not.
fn greedy_cover(
    pattern: &Pattern,
    t_ptr: &[usize],
    t_entry: &[u32],
    prefer_columns: bool,
) -> Vec<u32> {
    let (m, n) = pattern.shape();
    let mut row_of = vec![0u32; pattern.nnz()];
    for i in 0..m {
        row_of[pattern.row_range(i)].fill(i as u32);
    }
    let mut deg: Vec<usize> = (0..n)
        .map(|j| t_ptr[j + 1] - t_ptr[j])
        .chain((0..m).map(|i| pattern.row_nnz(i)))
        .collect();
    // Lazy degree buckets, one set per side (the preferred side is popped first); a vertex
    // is pushed again at its new degree, stale entries are skipped. O(entries).
    let preferred = |v: usize| usize::from((v < n) == prefer_columns);
    let dmax = deg.iter().copied().max().unwrap_or(0);
    let mut buckets: [Vec<Vec<u32>>; 2] = [vec![Vec::new(); dmax + 1], vec![Vec::new(); dmax + 1]];
    for v in (0..n + m).rev() {
        buckets[preferred(v)][deg[v]].push(v as u32);
    }
    let mut rank = vec![NONE; n + m];
    let mut next = 0u32;
    let mut d = dmax;
    while d > 0 {
        let Some(v) = buckets[1][d].pop().or_else(|| buckets[0][d].pop()) else {
            d -= 1;
            continue;
        };
        let v = v as usize;
        if rank[v] != NONE || deg[v] != d {
            continue;
        }
        rank[v] = next;
        next += 1;
        let mut lower = |w: usize| {
            if rank[w] == NONE {
                deg[w] -= 1;
                if deg[w] > 0 {
                    buckets[preferred(w)][deg[w]].push(w as u32);
                }
            }
        };
        if v < n {
            for &k in &t_entry[t_ptr[v]..t_ptr[v + 1]] {
                lower(n + row_of[k as usize] as usize);
            }
        } else {
            for &j in pattern.row(v - n) {
                lower(j);
            }
        }
    }
    rank
}

/// The cover strategy (see the module docs): returns column and row colours.
fn cover_bicolor(
    pattern: &Pattern,
    t_ptr: &[usize],
    t_entry: &[u32],
    prefer_columns: bool,
) -> (Vec<usize>, Vec<usize>) {
    let (m, n) = pattern.shape();
    let rank = greedy_cover(pattern, t_ptr, t_entry, prefer_columns);
    let nnz = pattern.nnz();
    let (ptr, idx) = (pattern.row_ptr(), pattern.col_idx());
    // jvp[k]: entry k is read through its column (else through its row).
    let mut jvp = vec![false; nnz];
    let mut col_active = vec![false; n];
    let mut row_active = vec![false; m];
    for i in 0..m {
        for k in ptr[i]..ptr[i + 1] {
            let (rc, rr) = (rank[idx[k]], rank[n + i]);
            jvp[k] = rc != NONE && (rr == NONE || rc < rr);
            if jvp[k] {
                col_active[idx[k]] = true;
            } else {
                row_active[i] = true;
            }
        }
    }
    // Per row, the active columns whose entry there is read through the column; per column,
    // the active rows whose entry is read through the row.
    let mut row_jvp_ptr = vec![0usize; m + 1];
    let mut row_jvp = Vec::new();
    for i in 0..m {
        row_jvp.extend(
            (ptr[i]..ptr[i + 1])
                .filter(|&k| jvp[k])
                .map(|k| idx[k] as u32),
        );
        row_jvp_ptr[i + 1] = row_jvp.len();
    }
    let mut row_of = vec![0u32; nnz];
    for i in 0..m {
        row_of[ptr[i]..ptr[i + 1]].fill(i as u32);
    }
    let mut col_vjp_ptr = vec![0usize; n + 1];
    let mut col_vjp = Vec::new();
    for j in 0..n {
        col_vjp.extend(
            t_entry[t_ptr[j]..t_ptr[j + 1]]
                .iter()
                .filter(|&&k| !jvp[k as usize])
                .map(|&k| row_of[k as usize]),
        );
        col_vjp_ptr[j + 1] = col_vjp.len();
    }
    let mut by_rank: Vec<usize> = (0..n + m).filter(|&v| rank[v] != NONE).collect();
    by_rank.sort_unstable_by_key(|&v| rank[v]);

    let mut col_color = vec![UNCOLORED; n];
    let mut row_color = vec![UNCOLORED; m];
    let mut forbidden = vec![0u32; n.max(m) + 1];
    for (s, &v) in by_rank.iter().enumerate() {
        let stamp = s as u32 + 1;
        if v < n {
            if !col_active[v] {
                continue;
            }
            for &k in &t_entry[t_ptr[v]..t_ptr[v + 1]] {
                let i = row_of[k as usize] as usize;
                let mut forbid = |w: usize| {
                    let c = col_color[w];
                    if w != v && c != UNCOLORED {
                        forbidden[c as usize] = stamp;
                    }
                };
                if jvp[k as usize] {
                    pattern.row(i).iter().for_each(|&w| forbid(w));
                } else {
                    row_jvp[row_jvp_ptr[i]..row_jvp_ptr[i + 1]]
                        .iter()
                        .for_each(|&w| forbid(w as usize));
                }
            }
            col_color[v] = first_allowed(&forbidden, stamp);
        } else {
            let i = v - n;
            if !row_active[i] {
                continue;
            }
            for k in ptr[i]..ptr[i + 1] {
                let j = idx[k];
                let mut forbid = |w: usize| {
                    let c = row_color[w];
                    if w != i && c != UNCOLORED {
                        forbidden[c as usize] = stamp;
                    }
                };
                if !jvp[k] {
                    t_entry[t_ptr[j]..t_ptr[j + 1]]
                        .iter()
                        .for_each(|&k2| forbid(row_of[k2 as usize] as usize));
                } else {
                    col_vjp[col_vjp_ptr[j]..col_vjp_ptr[j + 1]]
                        .iter()
                        .for_each(|&w| forbid(w as usize));
                }
            }
            row_color[i] = first_allowed(&forbidden, stamp);
        }
    }
    let public = |c: Vec<u32>| -> Vec<usize> {
        c.into_iter()
            .map(|x| if x == UNCOLORED { NEUTRAL } else { x as usize })
            .collect()
    };
    (public(col_color), public(row_color))
}

/// The augmented strategy for one order: `None` if it went over `cap` colours.
fn augmented_bicolor(
    g: &AdjacencyGraph,
    n: usize,
    method: Method,
    order: Order,
    cap: u32,
) -> Result<Option<SideColors>, ColoringError> {
    let o = vertex_order(g, order)?;
    let color = match method {
        Method::Acyclic => acyclic::acyclic_coloring_capped(g, &o, cap).map(|(c, _)| c),
        _ => star::star_coloring_capped(g, &o, cap).map(|(c, _)| c),
    };
    Ok(color.map(|color| {
        let side = |range: std::ops::Range<usize>| -> Vec<usize> {
            range
                .map(|v| {
                    if g.degree(v) == 0 {
                        NEUTRAL
                    } else {
                        color[v] as usize
                    }
                })
                .collect()
        };
        (side(0..n), side(n..g.n()))
    }))
}

/// Neutral-colour post-processing: drops every colour class (of either side) that recovery
/// can do without, smallest classes first. Skipped when the checks would cost more than
/// about 10⁸ entry visits.
fn prune(
    pattern: &Pattern,
    mut cols: Vec<usize>,
    mut rows: Vec<usize>,
    direct: bool,
) -> (Vec<usize>, Vec<usize>) {
    let classes = |c: &[usize]| {
        let k = c
            .iter()
            .filter(|&&x| x != NEUTRAL)
            .map(|&x| x + 1)
            .max()
            .unwrap_or(0);
        let mut size = vec![0usize; k];
        for &x in c {
            if x != NEUTRAL {
                size[x] += 1;
            }
        }
        size
    };
    let (sc, sr) = (classes(&cols), classes(&rows));
    let mut list: Vec<(usize, bool, usize)> = sc
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s > 0)
        .map(|(c, &s)| (s, true, c))
        .chain(
            sr.iter()
                .enumerate()
                .filter(|&(_, &s)| s > 0)
                .map(|(c, &s)| (s, false, c)),
        )
        .collect();
    if list.len().saturating_mul(pattern.nnz()) > 100_000_000 {
        return (cols, rows);
    }
    list.sort_unstable();
    for (_, column_side, c) in list {
        let side = if column_side { &mut cols } else { &mut rows };
        let members: Vec<usize> = (0..side.len()).filter(|&v| side[v] == c).collect();
        for &v in &members {
            side[v] = NEUTRAL;
        }
        if BiRecovery::from_colors(pattern, &cols, &rows, direct).is_err() {
            let side = if column_side { &mut cols } else { &mut rows };
            for &v in &members {
                side[v] = c;
            }
        }
    }
    (cols, rows)
}
