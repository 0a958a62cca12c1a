//! Banded LDLᵀ / Cholesky: residuals, reconstruction, inertia against dense eigenvalues,
//! boundary sizes, both kernel paths (const β ≤ 16 and run-time β), patterns with holes.

mod common;

use common::*;
use faer::Mat;
use proptest::prelude::*;
use sparsediff_pattern::generators;
use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic, MAX_FIXED_BETA};
use sparsediff_solve::{Pattern, SolveError, spd_values};

/// ‖L·D·Lᵀ − A‖_max / ‖A‖_max from the factor's accessors (dense, small n).
fn reconstruction_error(
    p: &Pattern,
    v: &[f64],
    f: &sparsediff_solve::band::BandFactorRef<'_>,
) -> f64 {
    let n = p.nrows();
    let a = dense(p, v);
    let mut worst = 0.0f64;
    let scale = v.iter().map(|x| x.abs()).fold(0.0, f64::max);
    for i in 0..n {
        for j in 0..=i {
            let mut s = 0.0;
            for k in 0..=j {
                s += f.l(i, k) * f.pivot(k).expect("k < n") * f.l(j, k);
            }
            worst = worst.max((s - a[(i, j)]).abs());
        }
    }
    worst / scale
}

fn check_spd(n: usize, beta: usize, seed: u64) {
    let p = generators::band(n, beta, beta).expect("band");
    let v = spd_values(&p, seed);
    let s = BandSymbolic::from_pattern(&p).expect("symbolic");
    assert_eq!(s.beta(), beta);
    let mut storage = vec![0.0; s.factor_len()];
    let f = s.cholesky_in_place(&v, &mut storage).expect("spd");
    assert_eq!(f.inertia().positive, n);
    let b = rhs(n, seed);
    let mut x = b.clone();
    f.solve_slice_in_place(&mut x).expect("solve");
    let r = rel_residual(&p, &v, &x, &b);
    assert!(r <= 1e-12, "n {n} beta {beta}: residual {r:e}");
    if n <= 40 {
        let e = reconstruction_error(&p, &v, &f);
        assert!(e <= 1e-13, "n {n} beta {beta}: reconstruction {e:e}");
    }
    // A block of right-hand sides, column-major and transposed (strided) layouts.
    let k = 3;
    let block = Mat::<f64>::from_fn(n, k, |i, j| b[(i + 7 * j) % n] * (j + 1) as f64);
    let mut col_major = block.clone();
    f.solve_in_place(col_major.as_mut()).expect("block");
    let mut row_major = Mat::<f64>::from_fn(k, n, |j, i| block[(i, j)]);
    f.solve_in_place(row_major.as_mut().transpose_mut())
        .expect("strided");
    for j in 0..k {
        let mut xj: Vec<f64> = (0..n).map(|i| block[(i, j)]).collect();
        f.solve_slice_in_place(&mut xj).expect("solve");
        for i in 0..n {
            assert_eq!(col_major[(i, j)], xj[i]);
            let d = (row_major[(j, i)] - xj[i]).abs();
            assert!(
                d <= 1e-13 * (1.0 + xj[i].abs()),
                "strided path differs by {d:e}"
            );
        }
    }
    // LDLᵀ of an SPD band: all pivots positive, same solution.
    let mut storage2 = vec![0.0; s.factor_len()];
    let g = s
        .ldlt_in_place(&v, 0.0, &mut storage2, BandLdltParams::default())
        .expect("ldlt");
    assert!(g.inertia().is_positive_definite());
    let mut y = b.clone();
    g.solve_slice_in_place(&mut y).expect("solve");
    for (a, b) in x.iter().zip(&y) {
        assert!((a - b).abs() <= 1e-13 * (1.0 + a.abs()));
    }
}

#[test]
fn boundary_sizes() {
    for n in [1usize, 2, 3, 4, 17, 18, 33] {
        for beta in [0, 1, 2, n / 2, n.saturating_sub(2), n - 1] {
            if beta < n {
                check_spd(n, beta, n as u64 * 31 + beta as u64);
            }
        }
    }
}

#[test]
fn both_kernel_paths_and_lengths() {
    for beta in [
        MAX_FIXED_BETA - 1,
        MAX_FIXED_BETA,
        MAX_FIXED_BETA + 1,
        MAX_FIXED_BETA + 5,
    ] {
        for n in [beta + 1, beta + 2, 2 * beta + 1, 300] {
            check_spd(n, beta, 5);
        }
    }
    check_spd(5000, 9, 1);
    check_spd(20_000, 5, 2);
}

/// A pattern with holes inside the band (not every row's upper part full) takes the
/// scatter path; so does a declared β wider than the pattern's bandwidth.
#[test]
fn patterns_with_holes_and_wider_beta() {
    let full = generators::band(40, 4, 4).expect("band");
    let holes = full.filter(|i, j| i == j || (i + j) % 3 != 0);
    assert!(holes.is_symmetric());
    for (p, beta) in [(&holes, 4), (&full, 7), (&holes, 9)] {
        let v = spd_values(p, 3);
        let s = BandSymbolic::from_pattern_with_beta(p, beta).expect("symbolic");
        let mut storage = vec![0.0; s.factor_len()];
        let f = s.cholesky_in_place(&v, &mut storage).expect("spd");
        let b = rhs(40, 1);
        let mut x = b.clone();
        f.solve_slice_in_place(&mut x).expect("solve");
        assert!(rel_residual(p, &v, &x, &b) <= 1e-13);
        assert!(reconstruction_error(p, &v, &f) <= 1e-13);
    }
}

/// The fused path (values in CSR order) and the prefilled path give the same factor.
#[test]
fn fill_band_then_factor_equals_fused() {
    let p = generators::band(100, 6, 6).expect("band");
    let v = spd_values(&p, 9);
    let s = BandSymbolic::from_pattern(&p).expect("symbolic");
    let mut fused = vec![0.0; s.factor_len()];
    s.ldlt_in_place(&v, 0.25, &mut fused, BandLdltParams::default())
        .expect("ldlt");
    let mut filled = vec![0.0; s.factor_len()];
    s.fill_band(&v, 0.25, &mut filled).expect("fill");
    let plain = BandSymbolic::new(100, 6).expect("symbolic");
    plain
        .ldlt_band_in_place(&mut filled, BandLdltParams::default())
        .expect("ldlt");
    assert_eq!(fused, filled);
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn random_spd_bands_solve(n in 1usize..80, beta_frac in 0.0f64..1.0, seed in any::<u64>()) {
        let beta = ((n - 1) as f64 * beta_frac) as usize;
        check_spd(n, beta, seed);
    }

    /// Random symmetric (indefinite) bands: the LDLᵀ either refuses a tiny pivot or its
    /// inertia equals the signs of the dense eigenvalues.
    #[test]
    fn ldlt_inertia_matches_eigenvalues(
        n in 1usize..30,
        beta_frac in 0.0f64..1.0,
        raw in prop::collection::vec(-2.0f64..2.0, 1..200),
        shift in -1.0f64..1.0,
    ) {
        let beta = ((n - 1) as f64 * beta_frac) as usize;
        let p = generators::band(n, beta, beta).expect("band");
        let v = symmetric_values(&p, &raw);
        let mut f = BandLdlt::new(BandSymbolic::from_pattern(&p).expect("symbolic"), BandLdltParams::default());
        match f.factorize(&v, shift) {
            Ok(inertia) => {
                let (pos, neg, gap) = eigen_signs(&p, &v, shift);
                if gap > 1e-8 {
                    prop_assert_eq!((inertia.positive, inertia.negative, inertia.zero), (pos, neg, 0));
                }
                // The factor reproduces A + shift·I when pivots are not too small.
                let fact = f.factor().expect("factor");
                let dmin = (0..n).map(|j| fact.pivot(j).expect("j < n").abs()).fold(f64::INFINITY, f64::min);
                if dmin > 1e-3 {
                    let b = rhs(n, 3);
                    let mut x = b.clone();
                    f.solve_slice_in_place(&mut x).expect("solve");
                    let mut vs = v.clone();
                    for i in 0..n { vs[p.position(i, i).expect("diag")] += shift; }
                    // LDLᵀ without pivoting can grow; a loose bound for a random indefinite band.
                    prop_assert!(rel_residual(&p, &vs, &x, &b) <= 1e-8);
                }
            }
            Err(SolveError::TinyPivot { index, .. }) => prop_assert!(index < n),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
