//! petgraph views of a pattern and Graphviz DOT export of a coloured graph.
//!
//! Colouring itself never goes through petgraph (CSR greedy is orders of magnitude
//! faster); these views are for users who want to run graph algorithms on a pattern or look
//! at a colouring, and serve as an oracle in tests.

use std::fmt::Write;

use petgraph::graph::UnGraph;
use sparsediff_pattern::Pattern;

use crate::NEUTRAL;
use crate::problem::Problem;
use crate::result::Coloring;

/// The adjacency graph of a square pattern: node `i` for row/column `i` (weight `i`), an
/// edge {i, j} for every off-diagonal entry (i, j) or (j, i).
pub fn adjacency_graph(pattern: &Pattern) -> UnGraph<usize, ()> {
    let n = pattern.nrows().max(pattern.ncols());
    let mut g = UnGraph::with_capacity(n, pattern.nnz() / 2);
    for v in 0..n {
        g.add_node(v);
    }
    for (i, j) in pattern.iter() {
        if i < j || (i > j && !pattern.contains(j, i)) {
            g.add_edge((i as u32).into(), (j as u32).into(), ());
        }
    }
    g
}

/// The column intersection graph: node `j` per column, an edge between two columns that
/// share a row. Materialised explicitly (O(Σ row nnz²) edges): for small patterns only.
pub fn column_intersection_graph(pattern: &Pattern) -> UnGraph<usize, ()> {
    let mut g = UnGraph::with_capacity(pattern.ncols(), 0);
    for v in 0..pattern.ncols() {
        g.add_node(v);
    }
    let mut seen = std::collections::HashSet::new();
    for i in 0..pattern.nrows() {
        let row = pattern.row(i);
        for (a, &j) in row.iter().enumerate() {
            for &k in &row[a + 1..] {
                if seen.insert((j, k)) {
                    g.add_edge((j as u32).into(), (k as u32).into(), ());
                }
            }
        }
    }
    g
}

/// A qualitative palette (Okabe–Ito plus greys); colours beyond it cycle with a hue shift.
const PALETTE: [&str; 10] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
    "#000000", "#8DD3C7",
];

fn fill(c: usize) -> String {
    if c == NEUTRAL {
        "white".to_string()
    } else if c < PALETTE.len() {
        PALETTE[c].to_string()
    } else {
        // HSV string accepted by Graphviz: golden-ratio hue steps keep neighbours distinct.
        format!("{:.3} 0.6 0.9", (c as f64 * 0.618_033_988_75).fract())
    }
}

/// Graphviz DOT text of a coloured graph: the adjacency graph for symmetric problems, the
/// column (or row) intersection graph for one-sided problems, the graph of [0 Jᵀ; J 0]
/// (columns 0..n, then rows) for the bidirectional problem. Each node is labelled `vertex:colour`.
pub fn to_dot(pattern: &Pattern, coloring: &Coloring) -> String {
    let graph = match coloring.problem() {
        Problem::Symmetric => adjacency_graph(pattern),
        Problem::Column => column_intersection_graph(pattern),
        Problem::Row => column_intersection_graph(&pattern.transpose()),
        Problem::Bidirectional => {
            let (ptr, entry) = crate::bicolor::transpose_entries(pattern);
            adjacency_graph(&crate::bicolor::augmented(pattern, &ptr, &entry))
        }
    };
    let colors = coloring.colors();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "graph coloring {{\n  // {} colouring, {} method, {} order, {} colours",
        coloring.problem(),
        coloring.method(),
        coloring.order(),
        coloring.num_colors()
    );
    let _ = writeln!(out, "  node [style=filled, shape=circle, fontsize=10];");
    for idx in graph.node_indices() {
        let v = graph[idx];
        let c = colors.get(v).copied().unwrap_or(NEUTRAL);
        let label = if c == NEUTRAL {
            format!("{v}:-")
        } else {
            format!("{v}:{c}")
        };
        let _ = writeln!(out, "  {v} [label=\"{label}\", fillcolor=\"{}\"];", fill(c));
    }
    for e in graph.edge_indices() {
        if let Some((a, b)) = graph.edge_endpoints(e) {
            let _ = writeln!(out, "  {} -- {};", graph[a], graph[b]);
        }
    }
    out.push_str("}\n");
    out
}
