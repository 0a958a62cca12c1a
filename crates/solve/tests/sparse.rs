//! Sparse Cholesky / LDLᵀ / LU through faer: residuals, inertia against dense eigenvalues,
//! refactorisation with a reused symbolic analysis equal to the one-shot factorisation,
//! simplicial and supernodal paths, failing pivots named by their original row.

mod common;

use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_solve::sparse::{
    LuParams, LuSymbolic, Ordering, SparseCholesky, SparseLdlt, SparseLdltParams, SparseLu,
    SparseSymbolic,
};
use sparsediff_solve::{Pattern, SolveError, spd_values};

fn random_spd(n: usize, density: f64, seed: u64) -> (Pattern, Vec<f64>) {
    let p = generators::random_symmetric(n, density, seed).expect("pattern");
    let v = spd_values(&p, seed);
    (p, v)
}

fn check_cholesky(p: &Pattern, v: &[f64]) -> bool {
    let n = p.nrows();
    let symbolic = Arc::new(SparseSymbolic::new(p).expect("symbolic"));
    let mut chol = SparseCholesky::new(symbolic.clone()).expect("workspace");
    chol.factorize(v).expect("spd");
    let b = rhs(n, 4);
    let mut x = b.clone();
    chol.solve_slice_in_place(&mut x).expect("solve");
    let r = rel_residual(p, v, &x, &b);
    assert!(r <= 1e-12, "residual {r:e}");
    // Block of 11 right-hand sides (more than the scratch's 8 columns: chunks).
    let mut block = faer::Mat::<f64>::from_fn(n, 11, |i, j| b[(i + j) % n]);
    chol.solve_in_place(block.as_mut()).expect("block");
    for j in 0..11 {
        let bj: Vec<f64> = (0..n).map(|i| b[(i + j) % n]).collect();
        let xj: Vec<f64> = (0..n).map(|i| block[(i, j)]).collect();
        assert!(rel_residual(p, v, &xj, &bj) <= 1e-12);
    }
    // LDLᵀ on the same symbolic: SPD inertia, same solution.
    let mut ldlt = SparseLdlt::new(symbolic.clone(), SparseLdltParams::default()).expect("ws");
    let inertia = ldlt.factorize(v, 0.0).expect("ldlt");
    assert_eq!(
        (inertia.positive, inertia.negative, inertia.zero),
        (n, 0, 0)
    );
    let mut y = b.clone();
    ldlt.solve_slice_in_place(&mut y).expect("solve");
    assert!(rel_residual(p, v, &y, &b) <= 1e-12);
    symbolic.is_supernodal()
}

#[test]
fn simplicial_and_supernodal_paths() {
    let grid = generators::grid2d(30, 30, Stencil2d::FivePoint).expect("grid");
    let gv = spd_values(&grid, 1);
    let mut seen = [false; 2];
    seen[usize::from(check_cholesky(&grid, &gv))] = true;
    let (dense_ish, dv) = random_spd(300, 0.2, 5);
    seen[usize::from(check_cholesky(&dense_ish, &dv))] = true;
    let chain = generators::block_band(100, 5, 1, 1)
        .expect("block band")
        .filter(|i, j| i == j || (i % 5 + j % 5) % 3 != 0);
    let cv = spd_values(&chain, 2);
    seen[usize::from(check_cholesky(&chain, &cv))] = true;
    assert_eq!(seen, [true, true], "both faer paths exercised");
    for n in [1, 2, 3] {
        let (p, v) = random_spd(n, 1.0, n as u64);
        check_cholesky(&p, &v);
    }
}

/// Refactorising with new values on the reused analysis gives exactly what a fresh
/// analysis plus factorisation gives (same ordering, same arithmetic).
#[test]
fn refactorisation_equals_one_shot() {
    for (p, seeds) in [
        (
            generators::grid2d(20, 15, Stencil2d::NinePoint).expect("grid"),
            [1, 2],
        ),
        (
            generators::random_symmetric(250, 0.15, 3).expect("random"),
            [3, 4],
        ),
    ] {
        let v1 = spd_values(&p, seeds[0]);
        let v2 = spd_values(&p, seeds[1]);
        let mut reused =
            SparseCholesky::new(SparseSymbolic::new(&p).expect("symbolic")).expect("ws");
        reused.factorize(&v1).expect("first");
        reused.factorize(&v2).expect("second");
        let mut fresh =
            SparseCholesky::new(SparseSymbolic::new(&p).expect("symbolic")).expect("ws");
        fresh.factorize(&v2).expect("one shot");
        assert_eq!(reused.l_values(), fresh.l_values());
        let mut ldlt = SparseLdlt::new(
            SparseSymbolic::new(&p).expect("s"),
            SparseLdltParams::default(),
        )
        .expect("ws");
        ldlt.factorize(&v1, 0.5).expect("first");
        ldlt.factorize(&v2, 0.0).expect("second");
        let mut fresh = SparseLdlt::new(
            SparseSymbolic::new(&p).expect("s"),
            SparseLdltParams::default(),
        )
        .expect("ws");
        fresh.factorize(&v2, 0.0).expect("one shot");
        assert_eq!(ldlt.pivots(), fresh.pivots());
    }
}

/// A diagonal matrix with one negative entry fails Cholesky at that row with that value,
/// whatever the ordering and the faer path.
#[test]
fn not_positive_definite_names_row_and_pivot() {
    for (p, supernodal_hint) in [
        (
            generators::grid2d(12, 12, Stencil2d::FivePoint).expect("grid"),
            false,
        ),
        (
            generators::random_symmetric(200, 0.3, 8).expect("random"),
            true,
        ),
    ] {
        let n = p.nrows();
        let bad_row = n / 3;
        let mut v = spd_values(&p, 6);
        // Make row/column `bad_row` decoupled and negative: its pivot is exactly -2.
        for i in 0..n {
            for k in p.row_range(i) {
                let j = p.col_idx()[k];
                if (i == bad_row || j == bad_row) && i != j {
                    v[k] = 0.0;
                }
            }
        }
        v[p.position(bad_row, bad_row).expect("diag")] = -2.0;
        let symbolic = SparseSymbolic::new(&p).expect("symbolic");
        // Both faer paths: their failing-pivot indices differ (1-based vs 0-based).
        assert_eq!(symbolic.is_supernodal(), supernodal_hint);
        let mut chol = SparseCholesky::new(symbolic).expect("ws");
        match chol.factorize(&v) {
            Err(SolveError::NotPositiveDefinite { index, pivot }) => {
                assert_eq!(index, bad_row);
                assert_eq!(pivot, -2.0);
            }
            other => panic!("expected NotPositiveDefinite, got {other:?}"),
        }
        assert!(matches!(
            chol.solve_slice_in_place(&mut vec![0.0; n]),
            Err(SolveError::NotFactorized)
        ));
        let mut ldlt = SparseLdlt::new(
            SparseSymbolic::new(&p).expect("s"),
            SparseLdltParams::default(),
        )
        .expect("ws");
        assert_eq!(ldlt.factorize(&v, 0.0).expect("ldlt").negative, 1);
        // A zero pivot is refused with the row named.
        v[p.position(bad_row, bad_row).expect("diag")] = 0.0;
        assert!(
            matches!(ldlt.factorize(&v, 0.0), Err(SolveError::TinyPivot { index, .. }) if index == bad_row)
        );
    }
}

#[test]
fn natural_ordering_on_a_band_has_no_fill() {
    let p = generators::band(50, 3, 3).expect("band");
    let s = SparseSymbolic::with_ordering(&p, Ordering::Natural).expect("symbolic");
    assert_eq!(s.perm(), (0..50).collect::<Vec<_>>());
    assert_eq!(s.factor_nnz(), 50 * 4 - 6); // lower band with the diagonal
    let v = spd_values(&p, 1);
    let mut chol = SparseCholesky::new(s).expect("ws");
    chol.factorize(&v).expect("spd");
}

#[test]
fn lu_solves_and_reports_singular() {
    // Unsymmetric square pattern: random plus diagonal, diagonally dominant.
    let p = generators::random(120, 120, 0.05, 9)
        .expect("random")
        .with_diagonal();
    let mut v: Vec<f64> = (0..p.nnz())
        .map(|k| ((k * 37 % 19) as f64) / 9.5 - 1.0)
        .collect();
    for i in 0..120 {
        let off: f64 = p
            .row_range(i)
            .filter(|&k| p.col_idx()[k] != i)
            .map(|k| v[k].abs())
            .sum();
        v[p.position(i, i).expect("diag")] = off + 1.0;
    }
    let symbolic = Arc::new(LuSymbolic::new(&p).expect("symbolic"));
    let mut lu = SparseLu::new(symbolic.clone(), LuParams::default()).expect("ws");
    lu.factorize(&v).expect("lu");
    let b = rhs(120, 2);
    let mut x = b.clone();
    lu.solve_slice_in_place(&mut x).expect("solve");
    assert!(rel_residual(&p, &v, &x, &b) <= 1e-12);
    // Refactorise with a row-swapping matrix: zero diagonal, dominant off-diagonal pattern
    // entries still solve (partial pivoting).
    let perm_p = Pattern::from_entries(3, 3, [(0, 1), (1, 2), (2, 0), (0, 0)]).expect("p");
    let mut lu3 =
        SparseLu::new(LuSymbolic::new(&perm_p).expect("s"), LuParams::default()).expect("ws");
    lu3.factorize(&[0.0, 2.0, 3.0, 4.0]).expect("nonsingular");
    let mut y = [2.0, 3.0, 4.0];
    lu3.solve_slice_in_place(&mut y).expect("solve");
    assert!((y[0] - 1.0).abs() < 1e-15 && (y[1] - 1.0).abs() < 1e-15 && (y[2] - 1.0).abs() < 1e-15);
    // Numerically singular: two equal rows.
    let d = Pattern::dense(3, 3).expect("dense");
    let mut lud = SparseLu::new(LuSymbolic::new(&d).expect("s"), LuParams::default()).expect("ws");
    let sing = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.0, 1.0, 5.0];
    assert!(matches!(
        lud.factorize(&sing),
        Err(SolveError::Singular { .. })
    ));
    assert!(matches!(
        lud.solve_slice_in_place(&mut [0.0; 3]),
        Err(SolveError::NotFactorized)
    ));
    // Structurally singular: an empty column.
    let hole = Pattern::from_entries(3, 3, [(0, 0), (1, 0), (2, 2), (1, 2)]).expect("p");
    let mut luh =
        SparseLu::new(LuSymbolic::new(&hole).expect("s"), LuParams::default()).expect("ws");
    assert!(matches!(
        luh.factorize(&[1.0, 2.0, 3.0, 4.0]),
        Err(SolveError::Singular { column: 1, .. })
    ));
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn random_sparse_spd_solve(n in 1usize..120, density in 0.0f64..0.3, seed in any::<u64>()) {
        let (p, v) = random_spd(n, density, seed);
        check_cholesky(&p, &v);
    }

    /// Random symmetric values: the sparse LDLᵀ's inertia equals the dense eigenvalue signs.
    #[test]
    fn sparse_ldlt_inertia_matches_eigenvalues(
        n in 1usize..40,
        density in 0.0f64..0.5,
        seed in any::<u64>(),
        raw in prop::collection::vec(-2.0f64..2.0, 1..300),
        shift in -1.0f64..1.0,
    ) {
        let p = generators::random_symmetric(n, density, seed).expect("pattern");
        let v = symmetric_values(&p, &raw);
        let mut f = SparseLdlt::new(SparseSymbolic::new(&p).expect("symbolic"), SparseLdltParams::default()).expect("ws");
        match f.factorize(&v, shift) {
            Ok(inertia) => {
                let (pos, neg, gap) = eigen_signs(&p, &v, shift);
                if gap > 1e-8 {
                    prop_assert_eq!((inertia.positive, inertia.negative, inertia.zero), (pos, neg, 0));
                }
            }
            Err(SolveError::TinyPivot { index, .. }) => prop_assert!(index < n),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn random_sparse_lu_solve(n in 1usize..80, density in 0.0f64..0.3, seed in any::<u64>()) {
        let p = generators::random(n, n, density, seed).expect("random").with_diagonal();
        let mut v: Vec<f64> = (0..p.nnz()).map(|k| (((k as u64).wrapping_mul(seed | 1) % 17) as f64) / 8.5 - 1.0).collect();
        for i in 0..n {
            let off: f64 = p.row_range(i).filter(|&k| p.col_idx()[k] != i).map(|k| v[k].abs()).sum();
            v[p.position(i, i).expect("diag")] = off + 0.5;
        }
        let mut lu = SparseLu::new(LuSymbolic::new(&p).expect("symbolic"), LuParams::default()).expect("ws");
        lu.factorize(&v).expect("nonsingular");
        let b = rhs(n, seed);
        let mut x = b.clone();
        lu.solve_slice_in_place(&mut x).expect("solve");
        prop_assert!(rel_residual(&p, &v, &x, &b) <= 1e-12);
    }
}
