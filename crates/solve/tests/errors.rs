//! Every public entry point fed bad input returns its named error (no panic, no NaN).

use faer::Mat;
use sparsediff_pattern::generators;
use sparsediff_solve::band::{BandLdlt, BandLdltParams, BandSymbolic};
use sparsediff_solve::sparse::{
    LuParams, LuSymbolic, SparseCholesky, SparseLdlt, SparseLdltParams, SparseLu, SparseSymbolic,
};
use sparsediff_solve::{
    InertiaCorrection, Pattern, RegularizationParams, SolveError, bench_banded, random_spd_band,
    spd_values,
};

fn tri(n: usize) -> (Pattern, Vec<f64>) {
    let p = generators::band(n, 1, 1).expect("band");
    let v = spd_values(&p, 1);
    (p, v)
}

#[test]
fn band_symbolic_errors() {
    assert_eq!(
        BandSymbolic::new(0, 0).unwrap_err(),
        SolveError::EmptyMatrix
    );
    assert_eq!(
        BandSymbolic::new(3, 3).unwrap_err(),
        SolveError::BandTooWide { beta: 3, n: 3 }
    );
    let rect = Pattern::from_entries(2, 3, [(0, 0)]).expect("p");
    assert_eq!(
        BandSymbolic::from_pattern(&rect).unwrap_err(),
        SolveError::NotSquare { nrows: 2, ncols: 3 }
    );
    let empty = Pattern::empty(0, 0).expect("p");
    assert_eq!(
        BandSymbolic::from_pattern(&empty).unwrap_err(),
        SolveError::EmptyMatrix
    );
    let unsym = Pattern::from_entries(3, 3, [(0, 0), (1, 1), (2, 2), (2, 0)]).expect("p");
    assert_eq!(
        BandSymbolic::from_pattern(&unsym).unwrap_err(),
        SolveError::NotSymmetric { row: 2, col: 0 }
    );
    let unsym2 = Pattern::from_entries(3, 3, [(0, 0), (1, 1), (2, 2), (0, 2)]).expect("p");
    assert_eq!(
        BandSymbolic::from_pattern(&unsym2).unwrap_err(),
        SolveError::NotSymmetric { row: 0, col: 2 }
    );
    let (p, _) = tri(5);
    assert!(matches!(
        BandSymbolic::from_pattern_with_beta(&p, 0),
        Err(SolveError::OutsideBand {
            row: 0,
            col: 1,
            beta: 0
        })
    ));
    assert!(matches!(
        BandSymbolic::from_pattern_with_beta(&p, 5),
        Err(SolveError::BandTooWide { beta: 5, n: 5 })
    ));
}

#[test]
fn band_numeric_errors() {
    let (p, v) = tri(5);
    let s = BandSymbolic::from_pattern(&p).expect("symbolic");
    let mut storage = vec![0.0; s.factor_len()];
    let params = BandLdltParams::default();
    assert!(matches!(
        s.cholesky_in_place(&v[1..], &mut storage),
        Err(SolveError::LengthMismatch {
            expected: 13,
            got: 12,
            ..
        })
    ));
    let mut short = vec![0.0; 3];
    assert!(matches!(
        s.cholesky_in_place(&v, &mut short),
        Err(SolveError::LengthMismatch {
            expected: 10,
            got: 3,
            ..
        })
    ));
    for bad in [f64::NAN, f64::INFINITY] {
        let mut w = v.clone();
        w[7] = bad;
        assert_eq!(
            s.cholesky_in_place(&w, &mut storage).unwrap_err(),
            SolveError::NonFinite {
                what: "values",
                index: 7
            }
        );
    }
    assert!(matches!(
        s.ldlt_in_place(&v, f64::NAN, &mut storage, params),
        Err(SolveError::NonFinite { what: "shift", .. })
    ));
    assert!(matches!(
        s.ldlt_in_place(
            &v,
            0.0,
            &mut storage,
            BandLdltParams {
                pivot_tolerance: -1.0
            }
        ),
        Err(SolveError::InvalidParameter {
            param: "pivot_tolerance",
            ..
        })
    ));
    // Indefinite: tridiag(-1, 1, -1) with n = 5. The pivots are 1, 0 → the second fails.
    let ind: Vec<f64> = p
        .iter()
        .map(|(i, j)| if i == j { 1.0 } else { -1.0 })
        .collect();
    assert_eq!(
        s.cholesky_in_place(&ind, &mut storage).unwrap_err(),
        SolveError::NotPositiveDefinite {
            index: 1,
            pivot: 0.0
        }
    );
    assert!(matches!(
        s.ldlt_in_place(&ind, 0.0, &mut storage, params),
        Err(SolveError::TinyPivot { index: 1, pivot, .. }) if pivot == 0.0
    ));
    // diag(1, -3, ...): Cholesky names row 1 and its value.
    let neg: Vec<f64> = p
        .iter()
        .map(|(i, j)| {
            if i != j {
                0.0
            } else if i == 1 {
                -3.0
            } else {
                1.0
            }
        })
        .collect();
    assert_eq!(
        s.cholesky_in_place(&neg, &mut storage).unwrap_err(),
        SolveError::NotPositiveDefinite {
            index: 1,
            pivot: -3.0
        }
    );
    // A band analysis without a pattern cannot read CSR values.
    let plain = BandSymbolic::new(5, 1).expect("symbolic");
    assert_eq!(
        plain.cholesky_in_place(&v, &mut storage).unwrap_err(),
        SolveError::NoPattern
    );
    // Prefilled storage with a NaN.
    let mut filled = vec![1.0; 10];
    filled[4] = f64::NAN;
    assert!(matches!(
        plain.cholesky_band_in_place(&mut filled),
        Err(SolveError::NonFinite {
            what: "band storage",
            index: 4
        })
    ));
    // Solves: wrong lengths.
    let f = s.cholesky_in_place(&v, &mut storage).expect("spd");
    assert!(matches!(
        f.solve_slice_in_place(&mut [0.0; 4]),
        Err(SolveError::LengthMismatch {
            expected: 5,
            got: 4,
            ..
        })
    ));
    let mut m = Mat::<f64>::zeros(6, 2);
    assert!(matches!(
        f.solve_in_place(m.as_mut()),
        Err(SolveError::LengthMismatch { .. })
    ));
    // The owning LDLᵀ: no factor before factorising and after a failure.
    let mut owned = BandLdlt::new(s.clone(), params);
    assert_eq!(
        owned.solve_slice_in_place(&mut [0.0; 5]).unwrap_err(),
        SolveError::NotFactorized
    );
    owned.factorize(&v, 0.0).expect("ok");
    assert!(owned.factorize(&ind, 0.0).is_err());
    assert_eq!(
        owned.solve_slice_in_place(&mut [0.0; 5]).unwrap_err(),
        SolveError::NotFactorized
    );
}

#[test]
fn sparse_errors() {
    let rect = Pattern::from_entries(2, 3, [(0, 0)]).expect("p");
    assert!(matches!(
        SparseSymbolic::new(&rect),
        Err(SolveError::NotSquare { .. })
    ));
    assert!(matches!(
        LuSymbolic::new(&rect),
        Err(SolveError::NotSquare { .. })
    ));
    let empty = Pattern::empty(0, 0).expect("p");
    assert!(matches!(
        SparseSymbolic::new(&empty),
        Err(SolveError::EmptyMatrix)
    ));
    assert!(matches!(
        LuSymbolic::new(&empty),
        Err(SolveError::EmptyMatrix)
    ));
    let unsym = Pattern::from_entries(3, 3, [(0, 0), (1, 1), (2, 2), (2, 0)]).expect("p");
    assert!(matches!(
        SparseSymbolic::new(&unsym),
        Err(SolveError::NotSymmetric { row: 2, col: 0 })
    ));
    let (p, v) = tri(6);
    let mut chol = SparseCholesky::new(SparseSymbolic::new(&p).expect("s")).expect("ws");
    assert!(matches!(
        chol.factorize(&v[..3]),
        Err(SolveError::LengthMismatch { .. })
    ));
    let mut w = v.clone();
    w[2] = f64::NAN;
    assert!(matches!(
        chol.factorize(&w),
        Err(SolveError::NonFinite { what: "values", .. })
    ));
    assert!(matches!(
        chol.factorize_shifted(&v, f64::INFINITY),
        Err(SolveError::NonFinite { what: "shift", .. })
    ));
    assert_eq!(
        chol.solve_slice_in_place(&mut [0.0; 6]).unwrap_err(),
        SolveError::NotFactorized
    );
    chol.factorize(&v).expect("spd");
    assert!(matches!(
        chol.solve_slice_in_place(&mut [0.0; 5]),
        Err(SolveError::LengthMismatch { .. })
    ));
    assert!(matches!(
        SparseLdlt::new(
            SparseSymbolic::new(&p).expect("s"),
            SparseLdltParams {
                pivot_tolerance: f64::NAN
            }
        ),
        Err(SolveError::InvalidParameter { .. })
    ));
    let mut lu = SparseLu::new(LuSymbolic::new(&p).expect("s"), LuParams::default()).expect("ws");
    assert!(matches!(
        lu.factorize(&v[1..]),
        Err(SolveError::LengthMismatch { .. })
    ));
    assert!(matches!(
        lu.factorize(&w),
        Err(SolveError::NonFinite { index: 2, .. })
    ));
    assert!(matches!(
        SparseLu::new(
            LuSymbolic::new(&p).expect("s"),
            LuParams {
                pivot_tolerance: -1.0
            }
        ),
        Err(SolveError::InvalidParameter { .. })
    ));
    // A missing diagonal in the pattern is a structural zero: LDLᵀ refuses it, named.
    let nodiag = Pattern::from_entries(2, 2, [(0, 1), (1, 0)]).expect("p");
    let mut ldlt = SparseLdlt::new(
        SparseSymbolic::new(&nodiag).expect("s"),
        SparseLdltParams::default(),
    )
    .expect("ws");
    assert!(matches!(
        ldlt.factorize(&[1.0, 1.0], 0.0),
        Err(SolveError::TinyPivot { .. })
    ));
    // ... but a shift makes it factorisable: [[δ, 1], [1, δ]] with δ = 2 is SPD.
    assert!(
        ldlt.factorize(&[1.0, 1.0], 2.0)
            .expect("shifted")
            .is_positive_definite()
    );
}

#[test]
fn regularisation_and_bench_errors() {
    for bad in [
        RegularizationParams {
            delta_init: 0.0,
            ..Default::default()
        },
        RegularizationParams {
            kappa_minus: 1.5,
            ..Default::default()
        },
        RegularizationParams {
            kappa_plus: 1.0,
            ..Default::default()
        },
        RegularizationParams {
            delta_max: f64::NAN,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            InertiaCorrection::new(bad),
            Err(SolveError::InvalidParameter { .. })
        ));
    }
    // δ_max too small for an eigenvalue of −10: the error carries the last δ tried.
    let p = generators::band(3, 0, 0).expect("diag");
    let s = BandSymbolic::from_pattern(&p).expect("s");
    let mut f = BandLdlt::new(s, BandLdltParams::default());
    let params = RegularizationParams {
        delta_max: 5.0,
        ..Default::default()
    };
    let mut ic = InertiaCorrection::new(params).expect("params");
    match ic.factorize(&mut f, &[1.0, -10.0, 1.0]) {
        Err(SolveError::RegularizationFailed {
            last_delta,
            delta_max,
            attempts,
        }) => {
            assert_eq!(delta_max, 5.0);
            assert!((last_delta - 1.0).abs() < 1e-12, "{last_delta}"); // 1e-4, 1e-2, 1: next 100 > 5
            assert_eq!(attempts, 4);
        }
        other => panic!("expected RegularizationFailed, got {other:?}"),
    }
    // Bad input is passed through at once, not retried.
    assert!(matches!(
        ic.factorize(&mut f, &[1.0]),
        Err(SolveError::LengthMismatch { .. })
    ));
    assert!(matches!(
        bench_banded(10, 3, 0),
        Err(SolveError::InvalidParameter { .. })
    ));
    assert!(matches!(
        bench_banded(3, 3, 1),
        Err(SolveError::BandTooWide { .. })
    ));
    assert!(matches!(
        random_spd_band(0, 0, 1),
        Err(SolveError::EmptyMatrix)
    ));
}
