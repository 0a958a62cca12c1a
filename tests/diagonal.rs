//! The facade's diagonal-only mode ([`SparseDiagonal`]): the exact distance-1 method
//! against analytic diagonals on random patterns, its probe counts, Hutchinson's estimate
//! and standard errors, a branch change, and the named errors.

use proptest::prelude::*;
use sparsediff::num_dual::DualNum;
use sparsediff::testing::{Diagonal, config, symmetric_patterns};
use sparsediff::{
    DiagonalMethod, MAX_HUTCHINSON_PROBES, Options, Pattern, ScalarFunction, SparseDiagonal,
    SparseError,
};

/// f = Σ_{(i,j) ∈ pattern, i<j} c_ij·sin(xᵢxⱼ) + Σᵢ xᵢ⁴/12: its Hessian has the pattern's
/// off-diagonal entries; diag_i = Σ_j −c_ij·xⱼ²·sin(xᵢxⱼ) + xᵢ².
#[derive(Debug, Clone)]
struct OnPattern {
    pairs: Vec<(usize, usize, f64)>,
}

impl OnPattern {
    fn new(pattern: &Pattern) -> Self {
        let pairs = pattern
            .iter()
            .filter(|&(i, j)| i < j)
            .enumerate()
            .map(|(k, (i, j))| (i, j, 0.5 + (k % 5) as f64 * 0.3))
            .collect();
        Self { pairs }
    }

    fn diagonal(&self, x: &[f64]) -> Vec<f64> {
        let mut d: Vec<f64> = x.iter().map(|v| v * v).collect();
        for &(i, j, c) in &self.pairs {
            let s = (x[i] * x[j]).sin();
            d[i] -= c * x[j] * x[j] * s;
            d[j] -= c * x[i] * x[i] * s;
        }
        d
    }
}

impl ScalarFunction for OnPattern {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        let mut s = x.iter().map(|v| v.powi(4) / 12.0).sum::<D>();
        for &(i, j, c) in &self.pairs {
            s += (x[i] * x[j]).sin() * c;
        }
        s
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.4 + 0.3 * (0.7 * i as f64).sin()).collect()
}

fn close(got: &[f64], expected: &[f64]) -> bool {
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs().max(1.0))
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn the_exact_diagonal_matches_the_analytic_one(pattern in symmetric_patterns(1..=30, Diagonal::Either)) {
        let f = OnPattern::new(&pattern);
        let n = pattern.nrows();
        let x = point(n);
        let mut d = SparseDiagonal::prepare(f.clone(), &x, DiagonalMethod::Exact, &Options::default())
            .unwrap();
        prop_assert!(d.info().exact);
        for shift in [0.0, 0.5] {
            let y: Vec<f64> = x.iter().map(|v| v + shift).collect();
            let got = d.evaluate(&y).unwrap().to_vec();
            prop_assert!(close(&got, &f.diagonal(&y)), "{got:?}\n{:?}", f.diagonal(&y));
        }
        // a distance-1 colouring needs at most the largest row's entries
        prop_assert!(d.info().probes <= pattern.with_diagonal().row_stats().max.max(1));
    }
}

#[test]
fn probe_counts_on_a_band_and_a_grid() {
    let band = sparsediff::generators::band(500, 3, 3).unwrap();
    let f = OnPattern::new(&band);
    let mut d = SparseDiagonal::prepare(
        f.clone(),
        &point(500),
        DiagonalMethod::Exact,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(d.info().probes, 4, "β + 1");
    assert!(close(
        d.evaluate(&point(500)).unwrap(),
        &f.diagonal(&point(500))
    ));
    let grid = sparsediff::generators::grid2d(
        20,
        20,
        sparsediff::pattern::generators::Stencil2d::FivePoint,
    )
    .unwrap();
    let g = OnPattern::new(&grid);
    let d = SparseDiagonal::prepare(g, &point(400), DiagonalMethod::Exact, &Options::default())
        .unwrap();
    assert!(
        d.info().probes <= 3,
        "{} probes (a 5-point grid is 2-colourable: 2)",
        d.info().probes
    );
}

#[test]
fn hutchinson_is_unbiased_within_its_standard_errors() {
    let band = sparsediff::generators::band(300, 2, 2).unwrap();
    let f = OnPattern::new(&band);
    let x = point(300);
    let exact = f.diagonal(&x);
    let method = DiagonalMethod::Hutchinson {
        probes: 200,
        seed: 3,
    };
    let mut h = SparseDiagonal::prepare(f.clone(), &x, method, &Options::default()).unwrap();
    assert!(!h.info().exact);
    assert_eq!((h.info().method, h.info().probes), ("hutchinson", 200));
    let est = h.evaluate(&x).unwrap().to_vec();
    let se = h.standard_errors().unwrap();
    // |error| ≤ 4 standard errors for (nearly) all entries; z-scores average near 0.8
    let z: Vec<f64> = est
        .iter()
        .zip(&exact)
        .zip(se)
        .map(|((e, t), s)| (e - t).abs() / s)
        .collect();
    let outside = z.iter().filter(|&&z| z > 4.0).count();
    assert!(outside <= 2, "{outside} entries beyond 4 standard errors");
    let mean_z = z.iter().sum::<f64>() / z.len() as f64;
    assert!((0.4..1.3).contains(&mean_z), "mean |z| = {mean_z}");
    // a diagonal Hessian is recovered exactly by any Rademacher probe, with zero spread
    let diagonal_only = OnPattern { pairs: Vec::new() };
    let mut h = SparseDiagonal::prepare(
        diagonal_only.clone(),
        &x,
        DiagonalMethod::Hutchinson { probes: 3, seed: 1 },
        &Options::default(),
    )
    .unwrap();
    let d = h.evaluate(&x).unwrap().to_vec();
    assert!(close(&d, &diagonal_only.diagonal(&x)));
    // (zero up to the rounding of the mean)
    let se = h.standard_errors().unwrap();
    assert!(
        se.iter().zip(&d).all(|(s, d)| *s <= 1e-15 * d.abs()),
        "{se:?}"
    );
    // one probe: an estimate without a spread
    let mut one = SparseDiagonal::prepare(
        f,
        &x,
        DiagonalMethod::Hutchinson { probes: 1, seed: 1 },
        &Options::default(),
    )
    .unwrap();
    one.evaluate(&x).unwrap();
    assert!(one.standard_errors().is_none());
}

/// f = x₀·x₁ for x₀ > 0, else (x₀·x₂)²: the diagonal gains entries (0, 0) and (2, 2) on the
/// other branch, which the tape sees.
#[derive(Debug, Clone, Copy)]
struct Branchy;

impl ScalarFunction for Branchy {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        if x[0] > 0.0 {
            x[0] * x[1] + x[3].powi(2)
        } else {
            (x[0] * x[2]).powi(2) + x[3].powi(2)
        }
    }
}

#[test]
fn a_branch_change_is_re_traced_and_re_coloured() {
    let x0 = [5.0, 1.0, 2.0, 3.0];
    let mut d =
        SparseDiagonal::prepare(Branchy, &x0, DiagonalMethod::Exact, &Options::default()).unwrap();
    assert_eq!(d.evaluate(&x0).unwrap(), &[0.0, 0.0, 0.0, 2.0]);
    let x = [-1.5, 1.0, 2.0, 3.0];
    // ∂²/∂x₀² (x₀x₂)² = 2x₂², ∂²/∂x₂² = 2x₀²
    assert_eq!(d.evaluate(&x).unwrap(), &[8.0, 0.0, 4.5, 2.0]);
    assert_eq!((d.info().retraces, d.info().recolorings), (1, 1));
    assert!(d.pattern().unwrap().contains(0, 2));
}

#[test]
fn bad_input_is_a_named_error() {
    let f = OnPattern { pairs: Vec::new() };
    for probes in [0, MAX_HUTCHINSON_PROBES + 1] {
        let method = DiagonalMethod::Hutchinson { probes, seed: 0 };
        let err =
            SparseDiagonal::prepare(f.clone(), &[1.0; 4], method, &Options::default()).unwrap_err();
        assert!(
            matches!(err, SparseError::InvalidOption { option, .. } if option.contains("probes")),
            "{probes}: {err}"
        );
    }
    let err = SparseDiagonal::prepare(f.clone(), &[], DiagonalMethod::Exact, &Options::default())
        .unwrap_err();
    assert!(
        matches!(err, SparseError::WrongLength { what: "x0", .. }),
        "{err}"
    );
    let err = SparseDiagonal::prepare(
        f.clone(),
        &[1.0, f64::NAN],
        DiagonalMethod::Exact,
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SparseError::NonFiniteInput { index: 1, .. }),
        "{err}"
    );
    // n·k above the dense limit: 10⁶ inputs × 10⁴ probes
    let big = vec![1.0; 1_000_000];
    let method = DiagonalMethod::Hutchinson {
        probes: MAX_HUTCHINSON_PROBES,
        seed: 0,
    };
    let err = SparseDiagonal::prepare(f.clone(), &big, method, &Options::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SparseError::Design(sparsediff::probe::DesignError::DenseTooLarge { .. })
        ),
        "{err}"
    );
    let mut d =
        SparseDiagonal::prepare(f, &[1.0; 4], DiagonalMethod::Exact, &Options::default()).unwrap();
    let err = d.evaluate(&[1.0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            SparseError::WrongLength {
                what: "x",
                len: 3,
                expected: 4
            }
        ),
        "{err}"
    );
    let err = d.evaluate(&[1.0, 1.0, f64::INFINITY, 1.0]).unwrap_err();
    assert!(
        matches!(err, SparseError::NonFiniteInput { index: 2, .. }),
        "{err}"
    );
}
