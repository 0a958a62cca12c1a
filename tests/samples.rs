//! Recovery from the caller's own probes and products (`recover_from_samples`): random
//! matrices on random patterns recovered exactly with enough probes, unrecoverable rows
//! reported (never guessed), residuals that expose a pattern missing entries, and the
//! named errors of malformed input.

use proptest::prelude::*;
use sparsediff::faer::Mat;
use sparsediff::testing::{config, matrices_on, patterns};
use sparsediff::{Pattern, SparseError, recover_from_samples};

/// B = A·S for A with `pattern` and `values`.
fn products(pattern: &Pattern, values: &[f64], s: &Mat<f64>) -> Mat<f64> {
    let mut b = Mat::zeros(pattern.nrows(), s.ncols());
    for ((i, j), v) in pattern.iter().zip(values) {
        for c in 0..s.ncols() {
            b[(i, c)] += v * s[(j, c)];
        }
    }
    b
}

/// Seeded Gaussian probes (n×p): generic, so every row's sample matrix has full rank.
fn probes(n: usize, p: usize, salt: usize) -> Mat<f64> {
    sparsediff::probe::random_seeds(n, p, sparsediff::probe::Distribution::Gaussian, salt as u64)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn enough_probes_recover_every_row(
        (pattern, values) in patterns(1..=20).prop_flat_map(matrices_on),
        extra in 0usize..3,
    ) {
        let p = pattern.row_stats().max + extra;
        let s = probes(pattern.ncols(), p, extra);
        let b = products(&pattern, &values, &s);
        let r = recover_from_samples(&pattern, s.as_ref(), b.as_ref()).unwrap();
        // generic probes: every row's sample matrix has full rank
        prop_assert!(r.unrecoverable_rows.is_empty(), "{:?}", r.unrecoverable_rows);
        prop_assert!(r.max_relative_residual < 1e-10, "{}", r.max_relative_residual);
        for ((i, j), v) in pattern.iter().zip(&values) {
            let got = *r.matrix.get(i, j).unwrap();
            prop_assert!((got - v).abs() <= 1e-8 * v.abs().max(1.0), "({i}, {j}): {got} vs {v}");
        }
    }

    /// Too few probes: exactly the rows with more entries than probes are reported, and
    /// the others are still exact.
    #[test]
    fn rows_with_more_entries_than_probes_are_reported(
        (pattern, values) in patterns(2..=20).prop_flat_map(matrices_on),
    ) {
        let widest = pattern.row_stats().max;
        prop_assume!(widest >= 2);
        let p = widest - 1;
        let s = probes(pattern.ncols(), p, 1);
        let b = products(&pattern, &values, &s);
        let r = recover_from_samples(&pattern, s.as_ref(), b.as_ref()).unwrap();
        let too_wide: Vec<usize> = (0..pattern.nrows()).filter(|&i| pattern.row_nnz(i) > p).collect();
        prop_assert_eq!(&r.unrecoverable_rows, &too_wide);
        for &i in &too_wide {
            prop_assert!(r.matrix.outer_view(i).unwrap().nnz() == 0);
            prop_assert!(r.residuals[i].is_nan());
        }
        for ((i, j), v) in pattern.iter().zip(&values) {
            if pattern.row_nnz(i) <= p {
                let got = *r.matrix.get(i, j).unwrap();
                prop_assert!((got - v).abs() <= 1e-8 * v.abs().max(1.0));
            }
        }
    }
}

#[test]
fn a_pattern_missing_an_entry_shows_in_the_residuals() {
    let truth = sparsediff::generators::band(30, 1, 1).unwrap();
    let values: Vec<f64> = (0..truth.nnz()).map(|k| 1.0 + (k % 4) as f64).collect();
    let s = probes(30, 6, 0);
    let b = products(&truth, &values, &s);
    // the caller declares a diagonal-only pattern: every row misses its neighbours
    let declared = sparsediff::generators::band(30, 0, 0).unwrap();
    let r = recover_from_samples(&declared, s.as_ref(), b.as_ref()).unwrap();
    assert!(r.unrecoverable_rows.is_empty());
    assert!(r.max_relative_residual > 0.1, "{}", r.max_relative_residual);
    // with the true pattern: rounding level
    let r = recover_from_samples(&truth, s.as_ref(), b.as_ref()).unwrap();
    assert!(
        r.max_relative_residual < 1e-12,
        "{}",
        r.max_relative_residual
    );
}

#[test]
fn malformed_input_is_a_named_error() {
    let pattern = sparsediff::generators::band(10, 1, 1).unwrap();
    let s = probes(10, 3, 0);
    let b = Mat::<f64>::zeros(10, 3);
    // seeds with the wrong number of rows
    let err = recover_from_samples(&pattern, probes(9, 3, 0).as_ref(), b.as_ref()).unwrap_err();
    assert!(matches!(err, SparseError::Design(_)), "{err}");
    // products of the wrong shape
    let err =
        recover_from_samples(&pattern, s.as_ref(), Mat::<f64>::zeros(10, 2).as_ref()).unwrap_err();
    assert!(
        matches!(
            err,
            SparseError::Decode(sparsediff::probe::DecodeError::Shape { cols: 2, .. })
        ),
        "{err}"
    );
    // a non-finite product
    let mut nan = b.clone();
    nan[(4, 1)] = f64::NAN;
    let err = recover_from_samples(&pattern, s.as_ref(), nan.as_ref()).unwrap_err();
    assert!(matches!(err, SparseError::Decode(_)), "{err}");
    // a non-finite seed
    let mut bad = s.clone();
    bad[(2, 0)] = f64::INFINITY;
    let err = recover_from_samples(&pattern, bad.as_ref(), b.as_ref()).unwrap_err();
    assert!(matches!(err, SparseError::Design(_)), "{err}");
}
