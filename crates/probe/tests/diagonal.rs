//! The Hessian diagonal: exact from a distance-1 colouring, estimated by Hutchinson.

use faer::{Mat, MatRef};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::{block_chain, shipped};
use sparsediff_probe::testing::values_on;
use sparsediff_probe::{
    DecodeError, DesignError, ExactDiagonal, Hutchinson, MAX_HUTCHINSON_PROBES, Orientation, Seeds,
    exact_products, hutchinson_errors,
};

fn diagonal_of(pattern: &Pattern, values: &[f64]) -> Vec<f64> {
    (0..pattern.nrows())
        .map(|i| pattern.position(i, i).map_or(0.0, |k| values[k]))
        .collect()
}

fn suite() -> Vec<(&'static str, Pattern)> {
    let hess = shipped("hess_pat.mtx");
    vec![
        ("band 400 β=3", generators::band(400, 3, 3).unwrap()),
        ("band 50 l=1 u=3", generators::band(50, 1, 3).unwrap()),
        (
            "grid5 19x13",
            generators::grid2d(19, 13, Stencil2d::FivePoint).unwrap(),
        ),
        ("grid3d 6x5x4", generators::grid3d(6, 5, 4).unwrap()),
        ("arrow 40", generators::arrowhead(40, 1).unwrap()),
        ("block chain 30", block_chain(30)),
        (
            "random sym",
            generators::random_symmetric(80, 0.08, 3).unwrap(),
        ),
        (
            "no diagonal",
            generators::band(30, 2, 2).unwrap().without_diagonal(),
        ),
        ("hess_pat", hess),
    ]
}

#[test]
fn distance1_colouring_recovers_the_diagonal_exactly() {
    for (name, p) in suite() {
        let values = values_on(&p, 13);
        let exact = ExactDiagonal::new(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = exact_products(&p, &values, exact.seeds(), Orientation::Columns);
        let mut d = vec![f64::NAN; p.nrows()];
        exact.decode(b.as_ref(), &mut d).unwrap();
        // Exact: every diagonal entry is one product, no arithmetic.
        assert_eq!(d, diagonal_of(&p, &values), "{name}");
        // Row-major products give the same.
        let buf: Vec<f64> = (0..b.nrows())
            .flat_map(|i| (0..b.ncols()).map(move |c| (i, c)))
            .map(|(i, c)| b[(i, c)])
            .collect();
        let mut d2 = vec![0.0; p.nrows()];
        exact
            .decode(
                MatRef::from_row_major_slice(&buf, b.nrows(), b.ncols()),
                &mut d2,
            )
            .unwrap();
        assert_eq!(d, d2, "{name}");
        assert_eq!(exact.colors().len(), p.nrows());
    }
}

#[test]
fn band_diagonal_needs_beta_plus_one_products() {
    let p = generators::band(1000, 3, 3).unwrap();
    assert_eq!(ExactDiagonal::new(&p).unwrap().num_probes(), 4);
    let g = generators::grid2d(20, 20, Stencil2d::FivePoint).unwrap();
    assert!(ExactDiagonal::new(&g).unwrap().num_probes() <= 3);
}

#[test]
fn exact_diagonal_rejects_bad_input() {
    assert!(matches!(
        ExactDiagonal::new(&generators::random(5, 6, 0.5, 1).unwrap()),
        Err(DesignError::NotApplicable { .. })
    ));
    assert!(ExactDiagonal::new(&Pattern::empty(4, 4).unwrap()).is_err());
    let p = generators::band(20, 1, 1).unwrap();
    let e = ExactDiagonal::new(&p).unwrap();
    let k = e.num_probes();
    let mut d = vec![0.0; 20];
    assert!(matches!(
        e.decode(Mat::<f64>::zeros(20, k + 1).as_ref(), &mut d),
        Err(DecodeError::Shape { cols, .. }) if cols == k + 1
    ));
    let mut b = Mat::<f64>::zeros(20, k);
    b[(7, 1)] = f64::INFINITY;
    assert!(matches!(
        e.decode(b.as_ref(), &mut d),
        Err(DecodeError::NonFinite {
            row: 7,
            probe: 1,
            ..
        })
    ));
    let mut short = vec![0.0; 19];
    assert!(matches!(
        e.decode(Mat::<f64>::zeros(20, k).as_ref(), &mut short),
        Err(DecodeError::ValuesLength {
            len: 19,
            expected: 20
        })
    ));
}

#[test]
fn hutchinson_is_exact_on_diagonal_matrices() {
    let p = Pattern::identity(50).unwrap();
    let values: Vec<f64> = (0..50).map(|i| 1.0 + i as f64).collect();
    for probes in [1, 3, 10] {
        let h = Hutchinson::new(50, probes, 4).unwrap();
        assert_eq!(h.num_probes(), probes);
        let b = exact_products(&p, &values, h.seeds(), Orientation::Columns);
        let mut d = vec![0.0; 50];
        h.estimate(b.as_ref(), &mut d).unwrap();
        assert_eq!(d, values);
    }
}

#[test]
fn hutchinson_probes_are_seeded_signs_and_nest() {
    let a = Hutchinson::new(30, 8, 1).unwrap();
    let b = Hutchinson::new(30, 8, 1).unwrap();
    let c = Hutchinson::new(30, 20, 1).unwrap();
    let (Some(za), Some(zc)) = (a.seeds().as_mat(), c.seeds().as_mat()) else {
        panic!("Hutchinson probes are dense")
    };
    assert!(matches!(
        a.seeds(),
        Seeds::Dense {
            rows: 30,
            num_probes: 8,
            ..
        }
    ));
    assert_eq!(a, b);
    assert!(
        za.col_iter()
            .all(|col| col.iter().all(|&v| v == 1.0 || v == -1.0))
    );
    assert_eq!(zc.subcols(0, 8), za);
    assert_ne!(Hutchinson::new(30, 8, 2).unwrap(), a);
}

#[test]
fn hutchinson_error_decreases_with_probes() {
    let p = generators::band(2000, 3, 3).unwrap();
    let values = values_on(&p, 1);
    let counts = [1, 4, 16, 64, 256];
    let table = hutchinson_errors(&p, &values, &counts, 42).unwrap();
    println!("| probes | relative error |");
    for (k, e) in &table {
        println!("| {k} | {e:.3e} |");
    }
    assert_eq!(table.iter().map(|t| t.0).collect::<Vec<_>>(), counts);
    // About 1/√p: from 1 to 256 probes the error drops by roughly 16.
    let (e1, e256) = (table[0].1, table[4].1);
    assert!(e256 < e1 / 8.0, "{e1:e} -> {e256:e}");
    assert!(e256 > e1 / 40.0, "{e1:e} -> {e256:e}");
    // The exact diagonal needs β + 1 = 4 products for zero error.
    let exact = ExactDiagonal::new(&p).unwrap();
    assert_eq!(exact.num_probes(), 4);
}

#[test]
fn hutchinson_rejects_bad_input() {
    assert!(matches!(
        Hutchinson::new(10, 0, 1),
        Err(DesignError::Parameter { name: "p", .. })
    ));
    assert!(matches!(
        Hutchinson::new(0, 3, 1),
        Err(DesignError::Parameter { name: "n", .. })
    ));
    assert!(matches!(
        Hutchinson::new(10, MAX_HUTCHINSON_PROBES + 1, 1),
        Err(DesignError::Parameter { name: "p", .. })
    ));
    // 10⁶ × 10⁴ probe entries (80 GB) are refused before anything is allocated
    assert!(matches!(
        Hutchinson::new(1_000_000, MAX_HUTCHINSON_PROBES, 1),
        Err(DesignError::DenseTooLarge {
            rows: 1_000_000,
            ..
        })
    ));
    let h = Hutchinson::new(10, 3, 1).unwrap();
    let mut d = vec![0.0; 10];
    assert!(matches!(
        h.estimate(Mat::<f64>::zeros(9, 3).as_ref(), &mut d),
        Err(DecodeError::Shape { rows: 9, .. })
    ));
    let mut b = Mat::<f64>::zeros(10, 3);
    b[(2, 0)] = f64::NAN;
    assert!(matches!(
        h.estimate(b.as_ref(), &mut d),
        Err(DecodeError::NonFinite {
            row: 2,
            probe: 0,
            ..
        })
    ));
    let p = generators::band(10, 1, 1).unwrap();
    assert!(matches!(
        hutchinson_errors(&p, &[1.0; 3], &[4], 0),
        Err(DesignError::Parameter { name: "values", .. })
    ));
    assert!(matches!(
        hutchinson_errors(&p, &vec![1.0; p.nnz()], &[0], 0),
        Err(DesignError::Parameter { name: "p", .. })
    ));
    assert!(matches!(
        hutchinson_errors(&generators::random(4, 5, 0.5, 0).unwrap(), &[], &[1], 0),
        Err(DesignError::NotApplicable { .. })
    ));
}

#[test]
fn hutchinson_standard_errors_follow_the_spread_of_the_samples() {
    let p = generators::band(200, 2, 2).unwrap();
    let values = values_on(&p, 5);
    let truth = diagonal_of(&p, &values);
    let h = Hutchinson::new(200, 300, 7).unwrap();
    let b = exact_products(&p, &values, h.seeds(), Orientation::Columns);
    let (mut mean, mut err) = (vec![0.0; 200], vec![0.0; 200]);
    h.estimate(b.as_ref(), &mut mean).unwrap();
    h.standard_errors(b.as_ref(), &mean, &mut err).unwrap();
    let z: Vec<f64> = mean
        .iter()
        .zip(&truth)
        .zip(&err)
        .map(|((m, t), e)| (m - t) / e)
        .collect();
    assert!(err.iter().all(|&e| e > 0.0));
    assert!(z.iter().all(|v| v.abs() < 5.5), "{z:?}");
    let sd = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
    assert!((0.6..1.4).contains(&sd), "{sd}");
    // one probe: no spread to measure
    let one = Hutchinson::new(200, 1, 7).unwrap();
    let b1 = exact_products(&p, &values, one.seeds(), Orientation::Columns);
    one.estimate(b1.as_ref(), &mut mean).unwrap();
    one.standard_errors(b1.as_ref(), &mean, &mut err).unwrap();
    assert!(err.iter().all(|e| e.is_infinite()));
    assert!(matches!(
        h.standard_errors(b.as_ref(), &mean[..10], &mut err),
        Err(DecodeError::ValuesLength { len: 10, .. })
    ));
}
