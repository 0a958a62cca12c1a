//! Known answers: optimal colour counts on bands and stencils, and ColPack's published and
//! measured counts on the matrices we ship, and the degree statistics of "What color is
//! your Jacobian?" Table 3.1 for the one of its matrices we ship.

use sparsediff_coloring::{
    ColoringParams, Method, Order, OrderChoice, Problem, color, lower_bound,
};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::shipped as data;

fn colors(p: &Pattern, problem: Problem, method: Method, order: impl Into<OrderChoice>) -> usize {
    let c = color(p, problem, method, &ColoringParams::with_order(order)).unwrap();
    c.check(p).unwrap();
    c.num_colors()
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    // A fixed pseudo-random permutation (LCG-driven Fisher–Yates; no rand needed here).
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        p.swap(i, (state >> 33) as usize % (i + 1));
    }
    p
}

#[test]
fn bands_reach_their_optima() {
    let n = 100_000;
    for beta in 1..=8 {
        let band = generators::band(n, beta, beta).unwrap();
        let (direct, subst) = (2 * beta + 1, beta + 1);
        assert_eq!(
            colors(&band, Problem::Column, Method::Cpr, Order::Natural),
            direct,
            "CPR β={beta}"
        );
        assert_eq!(
            colors(&band, Problem::Symmetric, Method::Distance2, Order::Natural),
            direct,
            "d2 β={beta}"
        );
        assert_eq!(
            colors(&band, Problem::Symmetric, Method::Star, Order::Natural),
            direct,
            "star β={beta}"
        );
        assert_eq!(
            colors(
                &band,
                Problem::Symmetric,
                Method::Acyclic,
                Order::PerfectElimination
            ),
            subst,
            "acyclic β={beta}"
        );
        assert_eq!(
            lower_bound(&band, Problem::Symmetric, Method::Acyclic).unwrap(),
            subst
        );
        assert_eq!(
            lower_bound(&band, Problem::Column, Method::Cpr).unwrap(),
            direct
        );
    }
}

#[test]
fn permuted_bands_with_perfect_elimination() {
    // A band in any vertex numbering is chordal: maximum cardinality search finds it again.
    let n = 100_000;
    for beta in [1, 3, 5, 8] {
        let perm = shuffled(n, beta as u64);
        let band = generators::band(n, beta, beta)
            .unwrap()
            .permute_symmetric(&perm)
            .unwrap();
        assert_eq!(
            colors(
                &band,
                Problem::Symmetric,
                Method::Acyclic,
                Order::PerfectElimination
            ),
            beta + 1,
            "β={beta}"
        );
        assert_eq!(
            colors(
                &band,
                Problem::Symmetric,
                Method::Distance1,
                Order::PerfectElimination
            ),
            beta + 1,
            "β={beta}"
        );
        assert_eq!(
            colors(
                &band,
                Problem::Symmetric,
                Method::Distance2,
                Order::PerfectElimination
            ),
            2 * beta + 1,
            "β={beta}"
        );
    }
}

#[test]
fn stencils_reach_their_optima() {
    let grid = generators::grid2d(1000, 1000, Stencil2d::FivePoint).unwrap();
    // CPR / distance-2: 5 = the optimum, with smallest-last (natural gives 7).
    assert_eq!(
        colors(&grid, Problem::Column, Method::Cpr, Order::SmallestLast),
        5
    );
    assert_eq!(
        colors(
            &grid,
            Problem::Symmetric,
            Method::Distance2,
            Order::SmallestLast
        ),
        5
    );
    assert_eq!(
        colors(&grid, Problem::Symmetric, Method::Star, Order::Natural),
        5
    );
    assert!(colors(&grid, Problem::Symmetric, Method::Acyclic, Order::Natural) <= 4);

    // 9-point: distance-2 reaches the optimum 9. Greedy star and acyclic colourings stay
    // above the optima 8 and 5 (reached by closed-form stencil designs), as do the 3-D
    // 7-point ones (optima 7 / 6-7 / 4); these guard against regressions.
    let nine = generators::grid2d(60, 50, Stencil2d::NinePoint).unwrap();
    assert_eq!(
        colors(
            &nine,
            Problem::Symmetric,
            Method::Distance2,
            OrderChoice::best()
        ),
        9
    );
    assert!(colors(&nine, Problem::Symmetric, Method::Star, OrderChoice::best()) <= 11);
    assert!(
        colors(
            &nine,
            Problem::Symmetric,
            Method::Acyclic,
            OrderChoice::best()
        ) <= 6
    );
    let g3 = generators::grid3d(20, 20, 20).unwrap();
    assert!(
        colors(
            &g3,
            Problem::Symmetric,
            Method::Distance2,
            OrderChoice::best()
        ) <= 12
    );
    assert!(colors(&g3, Problem::Symmetric, Method::Star, OrderChoice::best()) <= 11);
    assert!(
        colors(
            &g3,
            Problem::Symmetric,
            Method::Acyclic,
            OrderChoice::best()
        ) <= 6
    );
}

/// The row of `data/reference/<file>` whose `name` column is `name`, by column header.
fn reference_row(file: &str, name: &str) -> std::collections::HashMap<String, String> {
    let path = format!("{}/../../data/reference/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let name_col = header.iter().position(|&h| h == "name").unwrap();
    let row = lines
        .find(|l| l.split(',').nth(name_col) == Some(name))
        .unwrap();
    header
        .iter()
        .map(|h| h.to_string())
        .zip(row.split(',').map(str::to_string))
        .collect()
}

/// Column meanings of `colpack_table_6_7.csv`: suffix 2 = column colouring, 1 = row.
fn colpack_row(name: &str) -> std::collections::HashMap<String, String> {
    reference_row("colpack_table_6_7.csv", name)
}

/// "What color is your Jacobian?" Tables 3.1/3.2 (`what_table_31_32.csv`), the row of the
/// one matrix shipped here: size, nonzeros, column degrees κ, row degrees ρ and the colours
/// K of the column partition (natural order).
#[test]
fn lp_ken_11_matches_what_color_table() {
    let p = data("lp_ken_11.mtx");
    let row = reference_row("what_table_31_32.csv", "lp_ken_11");
    let get = |k: &str| row[k].parse::<usize>().unwrap();
    assert_eq!(
        (p.nrows(), p.ncols(), p.nnz()),
        (get("m"), get("n"), get("nnz"))
    );
    let (cols, rows) = (p.col_stats(), p.row_stats());
    assert_eq!((cols.max, cols.min), (get("κmax"), get("κmin")));
    assert_eq!((rows.max, rows.min), (get("ρmax"), get("ρmin")));
    assert_eq!(
        colors(&p, Problem::Column, Method::Cpr, Order::Natural),
        get("K")
    );
}

#[test]
fn lp_ken_11_matches_colpack_table() {
    let p = data("lp_ken_11.mtx");
    let row = colpack_row("lp_ken_11");
    let get = |k: &str| row[k].parse::<usize>().unwrap();
    assert_eq!(
        (p.nrows(), p.ncols(), p.nnz()),
        (get("V1"), get("V2"), get("E"))
    );
    assert_eq!(p.row_stats().max, get("Δ1"));
    assert_eq!(p.col_stats().max, get("Δ2"));
    // Natural order: exactly ColPack's counts.
    assert_eq!(
        colors(&p, Problem::Column, Method::Cpr, Order::Natural),
        get("N2")
    );
    assert_eq!(
        colors(&p, Problem::Row, Method::Cpr, Order::Natural),
        get("N1")
    );
    // Every order within 2% of ColPack's count for that order.
    for (order, suffix) in [
        (Order::LargestFirst, "LF"),
        (Order::SmallestLast, "SL"),
        (Order::IncidenceDegree, "ID"),
        (Order::DynamicLargestFirst, "DLF"),
    ] {
        for (problem, side) in [(Problem::Column, "2"), (Problem::Row, "1")] {
            let theirs = get(&format!("{suffix}{side}")) as f64;
            let ours = colors(&p, problem, Method::Cpr, order) as f64;
            assert!(
                (ours - theirs).abs() <= 0.02 * theirs,
                "{order} {problem}: ours {ours}, ColPack {theirs}"
            );
        }
    }
    // The lower bounds of the data README: 122 / 3; DSATUR reaches both.
    assert_eq!(lower_bound(&p, Problem::Column, Method::Cpr).unwrap(), 122);
    assert_eq!(lower_bound(&p, Problem::Row, Method::Cpr).unwrap(), 3);
    assert_eq!(colors(&p, Problem::Column, Method::Cpr, Order::Dsatur), 122);
    assert_eq!(colors(&p, Problem::Row, Method::Cpr, Order::Dsatur), 3);
}

#[test]
fn shipped_matrices_match_or_beat_colpack() {
    // (file, distance-2, star, acyclic): ColPack's best over its orders, measured on this
    // machine class (data/README.md).
    for (file, d2, star, acyclic) in [
        ("bcsstk01.mtx", 14, 12, 7),
        ("hess_pat.mtx", 12, 10, 6),
        ("hess_pat_small.mtx", 6, 4, 3),
    ] {
        let p = data(file);
        assert!(
            colors(
                &p,
                Problem::Symmetric,
                Method::Distance2,
                OrderChoice::best()
            ) <= d2,
            "{file}"
        );
        assert!(
            colors(&p, Problem::Symmetric, Method::Star, OrderChoice::best()) <= star,
            "{file}"
        );
        assert!(
            colors(&p, Problem::Symmetric, Method::Acyclic, OrderChoice::best()) <= acyclic,
            "{file}"
        );
    }
    let jac = data("jac_pat.mtx");
    assert_eq!(
        colors(&jac, Problem::Column, Method::Cpr, OrderChoice::best()),
        11
    );
    assert_eq!(
        colors(&jac, Problem::Row, Method::Cpr, OrderChoice::best()),
        6
    );
    let col = data("column-compress.mtx");
    assert_eq!(
        colors(&col, Problem::Column, Method::Cpr, Order::Natural),
        2
    );
    assert_eq!(colors(&col, Problem::Row, Method::Cpr, Order::Natural), 10);
    let row = data("row-compress.mtx");
    assert_eq!(
        colors(&row, Problem::Column, Method::Cpr, Order::Natural),
        10
    );
    assert_eq!(colors(&row, Problem::Row, Method::Cpr, Order::Natural), 2);
    // ColPack misreports 4 on the spear head; 2 is right.
    let spear = data("mtx-spear-head.mtx");
    assert_eq!(
        colors(&spear, Problem::Symmetric, Method::Star, Order::Natural),
        2
    );
}

/// Symmetric distance-2 in smallest-last order: on bands the order comes out as 0..n, so
/// the colouring is the natural order's; on the grid it is another order; both valid.
#[test]
fn smallest_last_distance2_on_bands_is_the_natural_colouring() {
    let d2 = |p: &Pattern, order: Order| {
        let c = color(
            p,
            Problem::Symmetric,
            Method::Distance2,
            &ColoringParams::with_order(order),
        )
        .unwrap();
        c.check(p).unwrap();
        c
    };
    for beta in [1, 2, 5] {
        let band = generators::band(500, beta, beta).unwrap();
        let sl = d2(&band, Order::SmallestLast);
        assert_eq!(
            sl.colors(),
            d2(&band, Order::Natural).colors(),
            "β = {beta}"
        );
        assert_eq!(sl.num_colors(), 2 * beta + 1);
    }
    let grid = generators::grid2d(40, 30, Stencil2d::FivePoint).unwrap();
    assert_eq!(d2(&grid, Order::SmallestLast).num_colors(), 5);
}
