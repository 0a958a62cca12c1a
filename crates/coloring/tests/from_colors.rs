//! Stars and trees built from given colourings: closed-form stencil designs are accepted,
//! invalid colourings are rejected with the offending vertices, and colourings produced by
//! the greedy algorithms round-trip.

use sparsediff_coloring::check::{self, Violation};
use sparsediff_coloring::{
    AdjacencyGraph, ColoringParams, Method, Order, Problem, StarSet, TreeSet, color,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::block_chain;

fn grid_colors(nx: usize, ny: usize, f: impl Fn(usize, usize) -> usize) -> Vec<usize> {
    (0..nx * ny).map(|v| f(v % nx, v / nx)).collect()
}

#[test]
fn closed_form_band_designs() {
    let beta = 4;
    let band = generators::band(200, beta, beta).unwrap();
    let g = AdjacencyGraph::new(&band, Method::Star).unwrap();
    let direct: Vec<usize> = (0..200).map(|j| j % (2 * beta + 1)).collect();
    let subst: Vec<usize> = (0..200).map(|j| j % (beta + 1)).collect();
    let stars = StarSet::from_colors(&g, &direct).unwrap();
    assert_eq!(stars.num_edges(), g.num_edges());
    check::star(&band, &direct).unwrap();
    let trees = TreeSet::from_colors(&g, &subst).unwrap();
    assert_eq!(trees.num_edges(), g.num_edges());
    check::acyclic(&band, &subst).unwrap();
    // β+1 colours are not a star colouring, β colours not even proper.
    assert!(matches!(
        StarSet::from_colors(&g, &subst),
        Err(Violation::TwoColoredPath { .. })
    ));
    let too_few: Vec<usize> = (0..200).map(|j| j % beta).collect();
    assert!(matches!(
        TreeSet::from_colors(&g, &too_few),
        Err(Violation::Adjacent { .. })
    ));
}

#[test]
fn closed_form_stencil_designs() {
    let (nx, ny) = (23, 17);
    let five = generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap();
    let g5 = AdjacencyGraph::new(&five, Method::Star).unwrap();
    let d5 = grid_colors(nx, ny, |i, j| (i + 2 * j) % 5);
    let s5 = grid_colors(nx, ny, |i, j| (i + 2 * j) % 3);
    StarSet::from_colors(&g5, &d5).unwrap();
    check::distance2(&five, &d5).unwrap();
    TreeSet::from_colors(&g5, &s5).unwrap();
    assert!(StarSet::from_colors(&g5, &s5).is_err());

    let nine = generators::grid2d(nx, ny, Stencil2d::NinePoint).unwrap();
    let g9 = AdjacencyGraph::new(&nine, Method::Star).unwrap();
    let d9 = grid_colors(nx, ny, |i, j| i % 3 + 3 * (j % 3));
    let s9 = grid_colors(nx, ny, |i, j| (i + 2 * j) % 5);
    check::distance2(&nine, &d9).unwrap();
    StarSet::from_colors(&g9, &d9).unwrap();
    TreeSet::from_colors(&g9, &s9).unwrap();

    let (nz, nyy, nxx) = (7, 6, 5);
    let cube = generators::grid3d(nxx, nyy, nz).unwrap();
    let g7 = AdjacencyGraph::new(&cube, Method::Star).unwrap();
    let coords = |v: usize| (v % nxx, (v / nxx) % nyy, v / (nxx * nyy));
    let d7: Vec<usize> = (0..cube.nrows())
        .map(|v| {
            let (i, j, k) = coords(v);
            (i + 2 * j + 3 * k) % 7
        })
        .collect();
    let s7: Vec<usize> = (0..cube.nrows())
        .map(|v| {
            let (i, j, k) = coords(v);
            (i + 2 * j + 3 * k) % 4
        })
        .collect();
    check::distance2(&cube, &d7).unwrap();
    StarSet::from_colors(&g7, &d7).unwrap();
    TreeSet::from_colors(&g7, &s7).unwrap();
}

#[test]
fn invalid_colourings_name_the_problem() {
    let cycle = Pattern::from_entries(
        4,
        4,
        (0..4).flat_map(|i| [(i, i), (i, (i + 1) % 4), ((i + 1) % 4, i)]),
    )
    .unwrap();
    let g = AdjacencyGraph::new(&cycle, Method::Acyclic).unwrap();
    assert!(matches!(
        TreeSet::from_colors(&g, &[0, 1, 0, 1]),
        Err(Violation::TwoColoredCycle { colors: [0, 1], .. })
    ));
    assert!(matches!(
        TreeSet::from_colors(&g, &[0, 1, 0]),
        Err(Violation::WrongLength {
            len: 3,
            expected: 4
        })
    ));
    assert!(matches!(
        StarSet::from_colors(&g, &[0, sparsediff_coloring::NEUTRAL, 1, 2]),
        Err(Violation::Neutral { vertex: 1 })
    ));
    assert!(matches!(
        StarSet::from_colors(&g, &[0, 0, 1, 2]),
        Err(Violation::Adjacent { a: 0, b: 1, .. })
    ));
}

#[test]
fn greedy_colourings_round_trip() {
    for p in [
        block_chain(30),
        generators::grid2d(20, 15, Stencil2d::NinePoint).unwrap(),
        generators::random_symmetric(150, 0.04, 9).unwrap(),
    ] {
        let g = AdjacencyGraph::new(&p, Method::Star).unwrap();
        for order in [Order::Natural, Order::SmallestLast, Order::Random(4)] {
            let params = ColoringParams::with_order(order);
            let star = color(&p, Problem::Symmetric, Method::Star, &params).unwrap();
            let rebuilt = StarSet::from_colors(&g, star.colors()).unwrap();
            // Stars with two or more edges have one possible hub; single edges are free.
            let size = |s: &StarSet, id: u32| s.stars().iter().filter(|&&x| x == id).count();
            let (a, b) = (star.star_set().unwrap(), &rebuilt);
            for (k, ((i, j, h1), (_, _, h2))) in a.entries().zip(b.entries()).enumerate() {
                if size(a, a.stars()[k]) > 1 {
                    assert_eq!(h1, h2, "edge ({i}, {j})");
                }
            }
            let acyclic = color(&p, Problem::Symmetric, Method::Acyclic, &params).unwrap();
            let trees = TreeSet::from_colors(&g, acyclic.colors()).unwrap();
            assert_eq!(trees.num_trees(), acyclic.tree_set().unwrap().num_trees());
            assert_eq!(trees.num_edges(), acyclic.tree_set().unwrap().num_edges());
        }
    }
}
