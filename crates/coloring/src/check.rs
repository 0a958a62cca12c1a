//! Independent, deliberately simple checkers for every colouring property.
//!
//! They share no code with the colouring algorithms: each reads the pattern's rows directly
//! and tests the definition. A failure names the vertices (and row, path or cycle) that break
//! the property. Colours are `usize`, with [`NEUTRAL`] meaning "in no probe".
//!
//! | checker | property | recovery it guarantees |
//! |---|---|---|
//! | [`structurally_orthogonal_columns`] | no row has two columns of one colour | direct, columns (CPR) |
//! | [`structurally_orthogonal_rows`] | no column has two rows of one colour | direct, rows |
//! | [`distance1`] | adjacent vertices differ | the diagonal |
//! | [`distance2`] | vertices within distance 2 differ | direct, without symmetry |
//! | [`star`] | distance-1 and no two-coloured path on 4 vertices | direct with symmetry |
//! | [`acyclic`] | distance-1 and no two-coloured cycle | substitution |
//! | [`symmetrically_orthogonal`] | every entry readable from B (neutral colours allowed) | direct with symmetry |
//! | [`substitutable`] | every entry found by peeling single-unknown equations (neutral allowed) | substitution |
//! | [`bidirectional_direct`] | every entry of J alone of its colour in its row (among column colours) or in its column (among row colours) | direct, J·Sc and Jᵀ·Sr |
//! | [`bidirectional_substitutable`] | every entry of J found by peeling the equations of J·Sc and Jᵀ·Sr | substitution, J·Sc and Jᵀ·Sr |

use std::collections::HashMap;

use sparsediff_pattern::Pattern;

use crate::NEUTRAL;

/// Why a colouring does not have the property that was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The colour vector has the wrong length.
    #[error("{len} colours given for {expected} vertices")]
    WrongLength {
        /// Colours given.
        len: usize,
        /// Vertices.
        expected: usize,
    },
    /// A vertex with entries has the neutral colour where the property forbids it.
    #[error("vertex {vertex} has entries but the neutral colour")]
    Neutral {
        /// The vertex.
        vertex: usize,
    },
    /// Two vertices of one colour share a row (column problem) or column (row problem).
    #[error("{} {a} and {b} both have colour {color} and share {} {line}", if *.columns { "columns" } else { "rows" }, if *.columns { "row" } else { "column" })]
    SharedLine {
        /// Whether `a`, `b` are columns (sharing row `line`) or rows (sharing column `line`).
        columns: bool,
        /// First vertex.
        a: usize,
        /// Second vertex.
        b: usize,
        /// The row (or column) they share.
        line: usize,
        /// Their colour.
        color: usize,
    },
    /// Two adjacent vertices have the same colour.
    #[error("adjacent vertices {a} and {b} both have colour {color}")]
    Adjacent {
        /// First vertex.
        a: usize,
        /// Second vertex.
        b: usize,
        /// Their colour.
        color: usize,
    },
    /// Two vertices at distance 2 (through `via`) have the same colour.
    #[error("vertices {a} and {b} (both neighbours of {via}) both have colour {color}")]
    Distance2 {
        /// First vertex.
        a: usize,
        /// Second vertex.
        b: usize,
        /// A common neighbour.
        via: usize,
        /// Their colour.
        color: usize,
    },
    /// A path on four vertices uses only two colours.
    #[error("path {path:?} uses only two colours")]
    TwoColoredPath {
        /// The path.
        path: [usize; 4],
    },
    /// A cycle uses only two colours (an edge that closes it is named).
    #[error("edge ({a}, {b}) closes a cycle coloured only with {colors:?}")]
    TwoColoredCycle {
        /// First endpoint of the closing edge.
        a: usize,
        /// Second endpoint.
        b: usize,
        /// The two colours.
        colors: [usize; 2],
    },
    /// The entry (row, col) cannot be recovered from the compressed products.
    #[error("entry ({row}, {col}) cannot be recovered from the compressed products")]
    Unrecoverable {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
    },
    /// A colour is not below the number of vertices it colours (no colouring needs more;
    /// checked before anything is sized by the colours).
    #[error("vertex {vertex} has colour {color}, but colours must be below {limit}")]
    ColorOutOfRange {
        /// The vertex.
        vertex: usize,
        /// Its colour.
        color: usize,
        /// The number of vertices of its kind.
        limit: usize,
    },
    /// A symmetric check was given a pattern that is not square and symmetric.
    #[error("the pattern is not symmetric: entry ({row}, {col}) has no mirror")]
    NotSymmetric {
        /// Row of an entry without mirror.
        row: usize,
        /// Column.
        col: usize,
    },
}

type Check = Result<(), Violation>;

fn length(colors: &[usize], n: usize) -> Check {
    if colors.len() != n {
        return Err(Violation::WrongLength {
            len: colors.len(),
            expected: n,
        });
    }
    Ok(())
}

fn symmetric(p: &Pattern) -> Check {
    if !p.is_square() {
        return Err(Violation::NotSymmetric {
            row: p.nrows(),
            col: p.ncols(),
        });
    }
    for (i, j) in p.iter() {
        if !p.contains(j, i) {
            return Err(Violation::NotSymmetric { row: i, col: j });
        }
    }
    Ok(())
}

/// Every line's vertices have distinct, non-neutral colours.
fn distinct_on_lines(lines: &Pattern, colors: &[usize], columns: bool) -> Check {
    let mut owner: HashMap<usize, usize> = HashMap::new();
    for line in 0..lines.nrows() {
        owner.clear();
        for &v in lines.row(line) {
            let c = colors[v];
            if c == NEUTRAL {
                return Err(Violation::Neutral { vertex: v });
            }
            if let Some(&a) = owner.get(&c) {
                return Err(Violation::SharedLine {
                    columns,
                    a,
                    b: v,
                    line,
                    color: c,
                });
            }
            owner.insert(c, v);
        }
    }
    Ok(())
}

/// Columns of one colour never share a row (Curtis–Powell–Reid): B = A·S gives every entry.
pub fn structurally_orthogonal_columns(a: &Pattern, colors: &[usize]) -> Check {
    length(colors, a.ncols())?;
    distinct_on_lines(a, colors, true)
}

/// Rows of one colour never share a column: B = Sᵀ·A gives every entry.
pub fn structurally_orthogonal_rows(a: &Pattern, colors: &[usize]) -> Check {
    length(colors, a.nrows())?;
    distinct_on_lines(&a.transpose(), colors, false)
}

/// Adjacent vertices of the symmetric pattern's graph differ (the diagonal is ignored).
pub fn distance1(p: &Pattern, colors: &[usize]) -> Check {
    symmetric(p)?;
    length(colors, p.nrows())?;
    for (i, j) in p.iter() {
        if colors[i] == NEUTRAL {
            return Err(Violation::Neutral { vertex: i });
        }
        if i != j && colors[i] == colors[j] {
            return Err(Violation::Adjacent {
                a: i,
                b: j,
                color: colors[i],
            });
        }
    }
    Ok(())
}

/// Vertices within distance 2 differ: every closed neighbourhood is rainbow.
pub fn distance2(p: &Pattern, colors: &[usize]) -> Check {
    distance1(p, colors)?;
    let mut owner: HashMap<usize, usize> = HashMap::new();
    for v in 0..p.nrows() {
        owner.clear();
        owner.insert(colors[v], v);
        for &w in p.row(v).iter().filter(|&&w| w != v) {
            if let Some(&a) = owner.get(&colors[w]) {
                return Err(Violation::Distance2 {
                    a,
                    b: w,
                    via: v,
                    color: colors[w],
                });
            }
            owner.insert(colors[w], w);
        }
    }
    Ok(())
}

/// Distance-1, and no path x–v–w–y alternates two colours (every two-coloured connected
/// subgraph is a star).
pub fn star(p: &Pattern, colors: &[usize]) -> Check {
    distance1(p, colors)?;
    let other_with = |v: usize, skip: usize, c: usize| {
        p.row(v)
            .iter()
            .copied()
            .find(|&x| x != v && x != skip && colors[x] == c)
    };
    for (v, w) in p.iter().filter(|&(v, w)| v < w) {
        if let (Some(x), Some(y)) = (other_with(v, w, colors[w]), other_with(w, v, colors[v])) {
            return Err(Violation::TwoColoredPath { path: [x, v, w, y] });
        }
    }
    Ok(())
}

/// Distance-1, and the subgraph induced by every pair of colour classes is a forest.
pub fn acyclic(p: &Pattern, colors: &[usize]) -> Check {
    distance1(p, colors)?;
    // Edges sorted by their colour pair; one union-find pass per pair.
    let mut edges: Vec<(usize, usize, usize, usize)> = p
        .iter()
        .filter(|&(v, w)| v < w)
        .map(|(v, w)| {
            let (a, b) = (colors[v].min(colors[w]), colors[v].max(colors[w]));
            (a, b, v, w)
        })
        .collect();
    edges.sort_unstable();
    let mut parent: HashMap<usize, usize> = HashMap::new();
    fn root(parent: &mut HashMap<usize, usize>, mut v: usize) -> usize {
        while let Some(&p) = parent.get(&v) {
            if p == v {
                break;
            }
            v = p;
        }
        v
    }
    let mut pair = (usize::MAX, usize::MAX);
    for (a, b, v, w) in edges {
        if (a, b) != pair {
            pair = (a, b);
            parent.clear();
        }
        let (rv, rw) = (root(&mut parent, v), root(&mut parent, w));
        if rv == rw {
            return Err(Violation::TwoColoredCycle {
                a: v,
                b: w,
                colors: [a, b],
            });
        }
        parent.insert(rv, rw);
    }
    Ok(())
}

/// Per row, how many of its columns carry each colour.
fn color_counts(p: &Pattern, colors: &[usize], row: usize, counts: &mut HashMap<usize, usize>) {
    counts.clear();
    for &k in p.row(row) {
        if colors[k] != NEUTRAL {
            *counts.entry(colors[k]).or_default() += 1;
        }
    }
}

/// Every entry H[i, j] is some B[i, colour(j)] with column j alone of its colour in row i,
/// or B[j, colour(i)] with i alone of its colour in row j (Coleman–Moré): direct recovery
/// with symmetry, neutral colours allowed.
pub fn symmetrically_orthogonal(p: &Pattern, colors: &[usize]) -> Check {
    symmetric(p)?;
    length(colors, p.nrows())?;
    let mut ci = HashMap::new();
    let mut cj = HashMap::new();
    for i in 0..p.nrows() {
        color_counts(p, colors, i, &mut ci);
        for &j in p.row(i) {
            let alone_in_row_i = colors[j] != NEUTRAL && ci.get(&colors[j]) == Some(&1);
            if alone_in_row_i {
                continue;
            }
            color_counts(p, colors, j, &mut cj);
            let alone_in_row_j = colors[i] != NEUTRAL && cj.get(&colors[i]) == Some(&1);
            if !alone_in_row_j {
                return Err(Violation::Unrecoverable { row: i, col: j });
            }
        }
    }
    Ok(())
}

/// Every entry is found by substitution: treat each B[i, c] (c not neutral) as an equation
/// in the unknown entries H[i, k] with colour(k) = c (H[i, k] and H[k, i] one unknown),
/// and repeatedly solve equations with a single unknown left. Neutral colours allowed.
pub fn substitutable(p: &Pattern, colors: &[usize]) -> Check {
    symmetric(p)?;
    length(colors, p.nrows())?;
    // An unknown is an entry (i, j) with i <= j; an equation is (row, colour).
    let key = |i: usize, j: usize| (i.min(j), i.max(j));
    let mut unknowns_of: HashMap<(usize, usize), Vec<(usize, usize)>> = HashMap::new();
    let mut open: HashMap<(usize, usize), usize> = HashMap::new();
    for (i, j) in p.iter() {
        if colors[j] != NEUTRAL {
            unknowns_of
                .entry((i, colors[j]))
                .or_default()
                .push(key(i, j));
        }
    }
    let mut solved: HashMap<(usize, usize), bool> =
        p.iter().map(|(i, j)| (key(i, j), false)).collect();
    for (eq, list) in &unknowns_of {
        let mut distinct = list.clone();
        distinct.sort_unstable();
        distinct.dedup();
        open.insert(*eq, distinct.len());
    }
    let mut queue: Vec<(usize, usize)> = {
        let mut q: Vec<_> = open
            .iter()
            .filter(|&(_, &c)| c == 1)
            .map(|(&eq, _)| eq)
            .collect();
        q.sort_unstable();
        q
    };
    while let Some(eq) = queue.pop() {
        if open[&eq] != 1 {
            continue;
        }
        let Some(&u) = unknowns_of[&eq].iter().find(|u| !solved[u]) else {
            continue;
        };
        solved.insert(u, true);
        // The unknown also appears in the equations of its other row and of this row.
        let (a, b) = u;
        for (row, col) in [(a, b), (b, a)] {
            if colors[col] == NEUTRAL {
                continue;
            }
            let eq = (row, colors[col]);
            if let Some(c) = open
                .get_mut(&eq)
                .filter(|c| **c > 0 && unknowns_of[&eq].contains(&u))
            {
                *c -= 1;
                if *c == 1 {
                    queue.push(eq);
                }
            }
            if a == b {
                break;
            }
        }
    }
    let mut missing: Vec<_> = solved
        .into_iter()
        .filter(|&(_, s)| !s)
        .map(|(u, _)| u)
        .collect();
    missing.sort_unstable();
    match missing.first() {
        Some(&(row, col)) => Err(Violation::Unrecoverable { row, col }),
        None => Ok(()),
    }
}

/// Column and row colour vectors of the right lengths for J (m×n).
fn bi_lengths(j: &Pattern, column_colors: &[usize], row_colors: &[usize]) -> Check {
    length(column_colors, j.ncols())?;
    length(row_colors, j.nrows())
}

/// A bicolouring of J recovers every entry directly: J[i, j] is (J·Sc)[i, colour(j)] when
/// column j has a colour that no other column of row i has, or (Jᵀ·Sr)[j, colour(i)] when
/// row i has a colour that no other row of column j has ([`NEUTRAL`]: in no probe).
pub fn bidirectional_direct(j: &Pattern, column_colors: &[usize], row_colors: &[usize]) -> Check {
    bi_lengths(j, column_colors, row_colors)?;
    let jt = j.transpose();
    let mut in_row = HashMap::new();
    let mut in_col = HashMap::new();
    for i in 0..j.nrows() {
        color_counts(j, column_colors, i, &mut in_row);
        for &c in j.row(i) {
            let by_column =
                column_colors[c] != NEUTRAL && in_row.get(&column_colors[c]) == Some(&1);
            if by_column {
                continue;
            }
            color_counts(&jt, row_colors, c, &mut in_col);
            let by_row = row_colors[i] != NEUTRAL && in_col.get(&row_colors[i]) == Some(&1);
            if !by_row {
                return Err(Violation::Unrecoverable { row: i, col: c });
            }
        }
    }
    Ok(())
}

/// A bicolouring of J recovers every entry by substitution: every (J·Sc)[i, c] is an
/// equation in the entries of row i whose column has colour c, every (Jᵀ·Sr)[j, r] one in
/// the entries of column j whose row has colour r; equations with a single unknown left are
/// solved until none is ([`NEUTRAL`]: in no probe).
pub fn bidirectional_substitutable(
    j: &Pattern,
    column_colors: &[usize],
    row_colors: &[usize],
) -> Check {
    bi_lengths(j, column_colors, row_colors)?;
    // Equation keys: (false, row, column colour) and (true, column, row colour).
    let mut unknowns: HashMap<(bool, usize, usize), Vec<(usize, usize)>> = HashMap::new();
    for (r, c) in j.iter() {
        if column_colors[c] != NEUTRAL {
            unknowns
                .entry((false, r, column_colors[c]))
                .or_default()
                .push((r, c));
        }
        if row_colors[r] != NEUTRAL {
            unknowns
                .entry((true, c, row_colors[r]))
                .or_default()
                .push((r, c));
        }
    }
    let mut known: HashMap<(usize, usize), bool> = j.iter().map(|e| (e, false)).collect();
    let mut left: HashMap<(bool, usize, usize), usize> =
        unknowns.iter().map(|(k, v)| (*k, v.len())).collect();
    let mut ready: Vec<(bool, usize, usize)> = left
        .iter()
        .filter(|&(_, &n)| n == 1)
        .map(|(k, _)| *k)
        .collect();
    ready.sort_unstable();
    while let Some(eq) = ready.pop() {
        let Some(&e) = unknowns[&eq].iter().find(|e| !known[e]) else {
            continue;
        };
        known.insert(e, true);
        let (r, c) = e;
        let mut touch = |key: (bool, usize, usize)| {
            if let Some(n) = left.get_mut(&key) {
                *n -= 1;
                if *n == 1 {
                    ready.push(key);
                }
            }
        };
        if column_colors[c] != NEUTRAL {
            touch((false, r, column_colors[c]));
        }
        if row_colors[r] != NEUTRAL {
            touch((true, c, row_colors[r]));
        }
    }
    let mut missing: Vec<(usize, usize)> = known
        .into_iter()
        .filter(|&(_, k)| !k)
        .map(|(e, _)| e)
        .collect();
    missing.sort_unstable();
    match missing.first() {
        Some(&(row, col)) => Err(Violation::Unrecoverable { row, col }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparsediff_pattern::generators;

    #[test]
    fn each_checker_catches_its_violation() {
        let path = generators::band(4, 1, 1).unwrap(); // the path 0-1-2-3 with diagonal
        assert!(distance1(&path, &[0, 1, 0, 1]).is_ok());
        assert!(matches!(
            distance1(&path, &[0, 0, 1, 0]),
            Err(Violation::Adjacent { a: 0, b: 1, .. })
        ));
        assert!(matches!(
            distance2(&path, &[0, 1, 0, 1]),
            Err(Violation::Distance2 { .. })
        ));
        assert!(distance2(&path, &[0, 1, 2, 0]).is_ok());
        assert!(matches!(
            star(&path, &[0, 1, 0, 1]),
            Err(Violation::TwoColoredPath { path: [0, 1, 2, 3] })
        ));
        assert!(star(&path, &[0, 1, 0, 2]).is_ok());
        assert!(acyclic(&path, &[0, 1, 0, 1]).is_ok());
        let cycle = Pattern::from_entries(
            4,
            4,
            (0..4).flat_map(|i| [(i, i), (i, (i + 1) % 4), ((i + 1) % 4, i)]),
        )
        .unwrap();
        assert!(matches!(
            acyclic(&cycle, &[0, 1, 0, 1]),
            Err(Violation::TwoColoredCycle { .. })
        ));
        assert!(acyclic(&cycle, &[0, 1, 0, 2]).is_ok());
        assert!(structurally_orthogonal_columns(&path, &[0, 1, 2, 0]).is_ok());
        assert!(matches!(
            structurally_orthogonal_columns(&path, &[0, 1, 0, 2]),
            Err(Violation::SharedLine {
                columns: true,
                line: 1,
                ..
            })
        ));
        assert!(matches!(
            structurally_orthogonal_rows(&path, &[0, 1]),
            Err(Violation::WrongLength { .. })
        ));
    }

    #[test]
    fn bidirectional_checkers() {
        // Arrowhead 5×5: column 0 alone, the other columns together, row 0 alone.
        let arrow = generators::arrowhead(5, 1).unwrap();
        let cols = [0, 1, 1, 1, 1];
        let rows = [0, NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL];
        assert!(bidirectional_direct(&arrow, &cols, &rows).is_ok());
        assert!(bidirectional_substitutable(&arrow, &cols, &rows).is_ok());
        // Without the row probe, row 0's entries (0, j ≥ 1) share one column colour.
        assert!(matches!(
            bidirectional_direct(&arrow, &cols, &[NEUTRAL; 5]),
            Err(Violation::Unrecoverable { row: 0, .. })
        ));
        assert!(bidirectional_substitutable(&arrow, &cols, &[NEUTRAL; 5]).is_err());
        assert!(matches!(
            bidirectional_direct(&arrow, &cols, &[0; 4]),
            Err(Violation::WrongLength {
                len: 4,
                expected: 5
            })
        ));
        let tri = generators::band(3, 1, 1).unwrap(); // rows {0,1}, {0,1,2}, {1,2}
        // Columns 0 and 2 share a colour, so row 1's entries (1, 0), (1, 2) are read
        // through row 1's probe.
        assert!(bidirectional_direct(&tri, &[0, 1, 0], &[NEUTRAL, 0, NEUTRAL]).is_ok());
        assert!(bidirectional_direct(&tri, &[0, 1, 0], &[NEUTRAL; 3]).is_err());
        // One probe of all columns, rows 0 and 2 in one row probe: J00 and J22 are read
        // directly, J01 and J21 by substitution, row 1's three entries stay unknown.
        let cols = [0, 0, 0];
        let rows = [0, NEUTRAL, 0];
        assert!(bidirectional_direct(&tri, &cols, &rows).is_err());
        assert!(bidirectional_substitutable(&tri, &cols, &rows).is_err());
        // With row 1 in a second row probe everything follows, but not directly.
        let rows = [0, 1, 0];
        assert!(bidirectional_direct(&tri, &cols, &rows).is_err());
        assert!(bidirectional_substitutable(&tri, &cols, &rows).is_ok());
    }

    #[test]
    fn decodability_checkers() {
        let path = generators::band(4, 1, 1).unwrap();
        // A star colouring is symmetrically orthogonal; a two-colouring of P4 is not, but it
        // is acyclic, hence substitutable.
        assert!(symmetrically_orthogonal(&path, &[0, 1, 0, 2]).is_ok());
        assert!(matches!(
            symmetrically_orthogonal(&path, &[0, 1, 0, 1]),
            Err(Violation::Unrecoverable { .. })
        ));
        assert!(substitutable(&path, &[0, 1, 0, 1]).is_ok());
        let cycle = Pattern::from_entries(
            4,
            4,
            (0..4).flat_map(|i| [(i, i), (i, (i + 1) % 4), ((i + 1) % 4, i)]),
        )
        .unwrap();
        assert!(matches!(
            substitutable(&cycle, &[0, 1, 0, 1]),
            Err(Violation::Unrecoverable { .. })
        ));
        // Without diagonal, the arrow's spokes may be neutral: only the hub's colour is read.
        let arrow = generators::arrowhead(5, 1).unwrap().without_diagonal();
        assert!(symmetrically_orthogonal(&arrow, &[0, NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL]).is_ok());
        assert!(substitutable(&arrow, &[0, NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL]).is_ok());
        assert!(symmetrically_orthogonal(&arrow, &[NEUTRAL; 5]).is_err());
    }
}
