//! Random probes with least-squares recovery: per-row ([`RandomDesigner`], samples given by
//! the caller) and symmetric half-sample ([`SymmetricRandomDesigner`]); verification with
//! an extra probe. Every pattern of the suite is recovered to 1e-10 relative, decoding twice
//! gives identical values, and every kind of bad input is an error naming where it is.

use faer::Mat;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::{CountingAllocator, block_chain, shipped as data};
use sparsediff_probe::testing::{LeastSquaresCounts, check_plan, least_squares_counts, values_on};
use sparsediff_probe::{
    DecodeError, Decoder, DesignError, Distribution, MatrixKind, Orientation, ProbeDesigner,
    ProbePlan, RandomDesigner, RowLeastSquaresDecoder, Seeds, SymmetricLeastSquaresDecoder,
    SymmetricRandomDesigner, exact_products, probe_vector, random_seeds, verify,
};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// A pattern with empty rows (and an empty column): rows 1, 4 and 5 have no entries.
fn with_empty_rows() -> Pattern {
    Pattern::from_entries(
        7,
        6,
        [
            (0, 0),
            (0, 3),
            (2, 1),
            (2, 2),
            (2, 5),
            (3, 0),
            (3, 5),
            (6, 1),
            (6, 2),
            (6, 3),
        ],
    )
    .unwrap()
}

fn suite() -> Vec<(&'static str, Pattern)> {
    vec![
        ("band 400 β=3", generators::band(400, 3, 3).unwrap()),
        ("band 300 β=8", generators::band(300, 8, 8).unwrap()),
        ("band 60 l=1 u=4", generators::band(60, 1, 4).unwrap()),
        (
            "grid5 19x13",
            generators::grid2d(19, 13, Stencil2d::FivePoint).unwrap(),
        ),
        (
            "grid9 14x11",
            generators::grid2d(14, 11, Stencil2d::NinePoint).unwrap(),
        ),
        ("grid3d 7x6x5", generators::grid3d(7, 6, 5).unwrap()),
        ("arrow 50", generators::arrowhead(50, 2).unwrap()),
        ("block chain 25", block_chain(25)),
        (
            "random sym",
            generators::random_symmetric(90, 0.06, 4).unwrap(),
        ),
        ("random 70x50", generators::random(70, 50, 0.07, 8).unwrap()),
        ("empty rows 7x6", with_empty_rows()),
        ("1x40", Pattern::dense(1, 40).unwrap()),
        ("40x1", Pattern::dense(40, 1).unwrap()),
        ("hess_pat", data("hess_pat.mtx")),
        ("jac_pat", data("jac_pat.mtx")),
        ("bcsstk01", data("bcsstk01.mtx")),
    ]
}

fn kind_of(p: &Pattern) -> MatrixKind {
    if p.is_symmetric() {
        MatrixKind::Symmetric
    } else {
        MatrixKind::General
    }
}

#[test]
fn random_probes_recover_every_pattern() {
    for (name, p) in suite() {
        let values = values_on(&p, 7);
        for dist in [Distribution::Gaussian, Distribution::Rademacher] {
            // Rademacher sample matrices are singular with probability about
            // d²·2^(1−p) per row (two seed rows equal up to sign): they need a much
            // larger oversampling to be safe on a suite of a few thousand rows.
            let d = RandomDesigner::new()
                .distribution(dist)
                .oversampling(if dist == Distribution::Gaussian {
                    2
                } else {
                    24
                })
                .seed(11);
            let what = format!("{name} / random {dist:?}");
            let plan = d
                .design(&p, kind_of(&p))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(plan.designer(), "random");
            assert_eq!(plan.colors(), None);
            assert_eq!(plan.lower_bound(), p.row_stats().max);
            assert!(plan.num_probes() >= plan.lower_bound(), "{what}");
            check_plan(&what, &plan, &values, 1e-10);
        }
    }
}

#[test]
fn half_sample_recovers_every_symmetric_pattern() {
    let mut done = 0;
    for (name, p) in suite() {
        if !p.is_symmetric() {
            continue;
        }
        let values = values_on(&p, 5);
        let what = format!("{name} / symmetric-random");
        let plan = SymmetricRandomDesigner::new()
            .seed(3)
            .design(&p, MatrixKind::Symmetric)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(plan.designer(), "symmetric-random");
        assert!(
            plan.num_probes() >= plan.lower_bound(),
            "{what}: {} < {}",
            plan.num_probes(),
            plan.lower_bound()
        );
        check_plan(&what, &plan, &values, 1e-10);
        done += 1;
    }
    assert_eq!(done, 10);
}

#[test]
fn decoding_does_not_allocate() {
    let cases = [
        generators::band(3000, 3, 3).unwrap(),
        generators::grid2d(40, 40, Stencil2d::NinePoint).unwrap(),
        generators::arrowhead(60, 2).unwrap(), // a row wider than the small kernel
    ];
    for p in cases {
        let values = values_on(&p, 1);
        let designs: Vec<Box<dyn ProbeDesigner>> = vec![
            Box::new(RandomDesigner::new()),
            Box::new(SymmetricRandomDesigner::new()),
        ];
        for d in designs {
            let plan = d.design(&p, MatrixKind::Symmetric).unwrap();
            let b = plan.exact_products(&values);
            let mut out = vec![0.0; p.nnz()];
            plan.decode(b.as_ref(), &mut out).unwrap(); // warm up
            let ((), n) = ALLOC.count(|| {
                plan.decode(b.as_ref(), &mut out).unwrap();
                plan.decode(b.as_ref(), &mut out).unwrap();
            });
            assert_eq!(n, 0, "{} allocated while decoding", d.name());
            if let Decoder::RowLeastSquares(dec) = plan.decoder() {
                let mut res = vec![0.0; p.nrows()];
                let ((), n) = ALLOC.count(|| {
                    dec.decode_partial(b.as_ref(), &mut out).unwrap();
                    dec.residuals(b.as_ref(), &out, &mut res).unwrap();
                });
                assert_eq!(n, 0, "partial decode or residuals allocated");
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_probes() {
    let p = generators::band(50, 2, 2).unwrap();
    for dist in [Distribution::Gaussian, Distribution::Rademacher] {
        let a = RandomDesigner::new()
            .distribution(dist)
            .oversampling(30)
            .seed(9);
        let s1 = a
            .design(&p, MatrixKind::General)
            .unwrap()
            .seeds()
            .to_dense();
        let s2 = a
            .design(&p, MatrixKind::General)
            .unwrap()
            .seeds()
            .to_dense();
        assert_eq!(s1, s2);
        let s3 = a
            .seed(10)
            .design(&p, MatrixKind::General)
            .unwrap()
            .seeds()
            .to_dense();
        assert_ne!(s1, s3);
        // More probes extend the same seeds.
        let wide = random_seeds(50, 40, dist, 9);
        assert_eq!(wide.as_ref().subcols(0, s1.ncols()), s1.as_ref());
    }
    // Pinned values: a change of generator or algorithm (or a platform that draws
    // differently) shows up here.
    let r = random_seeds(3, 2, Distribution::Rademacher, 1);
    assert!(
        r.col_iter()
            .flat_map(|c| c.iter().copied())
            .all(|v| v == 1.0 || v == -1.0)
    );
    let g1 = random_seeds(4, 3, Distribution::Gaussian, 1);
    let g2 = random_seeds(4, 3, Distribution::Gaussian, 1);
    assert_eq!(g1, g2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let direct: f64 = StandardNormal.sample(&mut rng);
    assert_eq!(g1[(0, 0)], direct, "column-major draw order from ChaCha8");
}

// ---------------------------------------------------------------------------------------
// Samples not under our control.

fn row_decoder(plan: &ProbePlan) -> &RowLeastSquaresDecoder {
    match plan.decoder() {
        Decoder::RowLeastSquares(d) => d,
        other => panic!("expected a row least-squares decoder, got {other:?}"),
    }
}

#[test]
fn given_samples_recover_every_full_rank_row() {
    let p = generators::grid2d(12, 9, Stencil2d::NinePoint).unwrap();
    let values = values_on(&p, 2);
    let s = random_seeds(p.ncols(), 11, Distribution::Gaussian, 77);
    let plan = ProbePlan::from_samples(&p, MatrixKind::General, s, 1e-10).unwrap();
    assert_eq!(plan.designer(), "samples");
    assert!(row_decoder(&plan).unrecoverable_rows().is_empty());
    check_plan("samples grid9", &plan, &values, 1e-10);
}

#[test]
fn rank_deficient_samples_are_reported_never_decoded_wrong() {
    let p = generators::band(30, 2, 2).unwrap();
    let values = values_on(&p, 4);
    let mut s = random_seeds(30, 6, Distribution::Gaussian, 5);
    // Row 10 of S = −3 × row 11: every row whose support holds columns 10 and 11 (rows 9
    // to 12) has a rank-deficient sample matrix.
    for c in 0..6 {
        s[(10, c)] = -3.0 * s[(11, c)];
    }
    let plan = ProbePlan::from_samples(&p, MatrixKind::General, s, 1e-10).unwrap();
    assert_eq!(row_decoder(&plan).unrecoverable_rows(), &[9, 10, 11, 12]);
    let b = plan.exact_products(&values);
    let mut got = vec![0.0; p.nnz()];
    match plan.decode(b.as_ref(), &mut got) {
        Err(DecodeError::Unrecoverable { count, rows }) => {
            assert_eq!(count, 4);
            assert_eq!(rows, vec![9, 10, 11, 12]);
        }
        other => panic!("expected Unrecoverable, got {other:?}"),
    }
    let mut partial = vec![0.0; p.nnz()];
    let bad = row_decoder(&plan)
        .decode_partial(b.as_ref(), &mut partial)
        .unwrap()
        .to_vec();
    assert_eq!(bad, vec![9, 10, 11, 12]);
    for i in 0..p.nrows() {
        for k in p.row_range(i) {
            if bad.contains(&i) {
                assert!(partial[k].is_nan(), "row {i} must be NaN");
                assert!(got[k].is_nan(), "row {i} must be NaN after the error too");
            } else {
                assert!((partial[k] - values[k]).abs() <= 1e-10 * values[k].abs());
            }
        }
    }
}

#[test]
fn rows_with_more_unknowns_than_samples_are_unrecoverable() {
    let p = generators::arrowhead(20, 1).unwrap(); // row 0 has 20 unknowns
    let s = random_seeds(20, 5, Distribution::Gaussian, 1);
    let d = RowLeastSquaresDecoder::from_samples(&p, s.as_ref(), 1e-10).unwrap();
    assert_eq!(d.unrecoverable_rows(), &[0]);
    assert_eq!(d.num_probes(), 5);
}

// ---------------------------------------------------------------------------------------
// Bad input.

#[test]
fn products_of_the_wrong_shape_are_rejected() {
    let p = generators::band(40, 2, 2).unwrap();
    let plan = RandomDesigner::new()
        .design(&p, MatrixKind::General)
        .unwrap();
    let (m, k) = plan.products_shape();
    let mut values = vec![0.0; p.nnz()];
    for (rows, cols) in [(m - 1, k), (m, k + 1), (m + 3, k - 1)] {
        let b = Mat::<f64>::zeros(rows, cols);
        assert_eq!(
            plan.decode(b.as_ref(), &mut values),
            Err(DecodeError::Shape {
                rows,
                cols,
                expected_rows: m,
                expected_cols: k
            })
        );
    }
    let b = Mat::<f64>::zeros(m, k);
    let mut short = vec![0.0; p.nnz() - 1];
    assert_eq!(
        plan.decode(b.as_ref(), &mut short),
        Err(DecodeError::ValuesLength {
            len: p.nnz() - 1,
            expected: p.nnz()
        })
    );
    let sym = SymmetricRandomDesigner::new()
        .design(&p, MatrixKind::Symmetric)
        .unwrap();
    let (m, k) = sym.products_shape();
    let b = Mat::<f64>::zeros(m, k + 2);
    assert!(matches!(
        sym.decode(b.as_ref(), &mut values),
        Err(DecodeError::Shape { cols, .. }) if cols == k + 2
    ));
}

#[test]
fn non_finite_products_are_rejected_with_their_position() {
    let p = generators::band(40, 2, 2).unwrap();
    let values = values_on(&p, 1);
    let designs: Vec<Box<dyn ProbeDesigner>> = vec![
        Box::new(RandomDesigner::new()),
        Box::new(SymmetricRandomDesigner::new()),
    ];
    for d in designs {
        let plan = d.design(&p, MatrixKind::Symmetric).unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut b = plan.exact_products(&values);
            b[(17, 2)] = bad;
            let mut out = vec![0.0; p.nnz()];
            match plan.decode(b.as_ref(), &mut out) {
                Err(DecodeError::NonFinite { row, probe, value }) => {
                    assert_eq!((row, probe), (17, 2), "{}", d.name());
                    assert!(value.is_nan() == bad.is_nan());
                }
                other => panic!("{}: expected NonFinite, got {other:?}", d.name()),
            }
        }
    }
}

#[test]
fn absurd_oversampling_is_refused_with_the_limit() {
    use sparsediff_probe::MAX_DENSE_ENTRIES;
    // 10^12 extra probes used to make faer panic drawing a 30×10^12 seed matrix; usize::MAX
    // wrapped around to a few probes and a misleading "only 6 probes".
    let p = generators::band(30, 3, 3).unwrap();
    for oversampling in [1_000_000_000_000, usize::MAX] {
        let designers: [(Box<dyn ProbeDesigner>, usize, usize); 2] = [
            (
                Box::new(RandomDesigner::new().oversampling(oversampling)),
                30 + 30 + p.nnz(),
                7,
            ),
            (
                Box::new(SymmetricRandomDesigner::new().oversampling(oversampling)),
                2 * 30,
                4,
            ),
        ];
        for (d, rows, base) in designers {
            let err = d.design(&p, MatrixKind::Symmetric).unwrap_err();
            match &err {
                DesignError::DenseTooLarge {
                    rows: r,
                    probes,
                    limit,
                    ..
                } => {
                    assert_eq!((*r, *limit), (rows, MAX_DENSE_ENTRIES), "{}", d.name());
                    assert_eq!(*probes, base as u128 + oversampling as u128, "{}", d.name());
                }
                other => panic!("{}: {other:?}", d.name()),
            }
            assert!(err.to_string().contains("MAX_DENSE_ENTRIES"), "{err}");
        }
    }
    // A fixed probe count and seeds given by the caller are held to the same limit before
    // any pseudo-inverse is allocated.
    let too_many = MAX_DENSE_ENTRIES / (30 + 30 + p.nnz()) + 1;
    assert!(matches!(
        RandomDesigner::new()
            .probes(too_many)
            .design(&p, MatrixKind::General),
        Err(DesignError::DenseTooLarge { .. })
    ));
    let tall = generators::random(100_000, 1, 1.0, 1).unwrap();
    let wide_seeds = faer::Mat::<f64>::zeros(1, 3000);
    assert!(matches!(
        ProbePlan::from_parts(
            "random",
            MatrixKind::General,
            &tall,
            Seeds::from_mat(wide_seeds.as_ref()).unwrap(),
            sparsediff_probe::Recovery::RowLeastSquares
        ),
        Err(DesignError::DenseTooLarge { .. })
    ));
}

#[test]
fn too_few_probes_name_the_row() {
    let p = generators::band(30, 3, 3).unwrap(); // rows 3..27 have 7 unknowns
    let err = RandomDesigner::new()
        .probes(6)
        .design(&p, MatrixKind::General)
        .unwrap_err();
    assert!(matches!(
        err,
        DesignError::TooFewProbes {
            row: 3,
            needed: 7,
            probes: 6
        }
    ));
    // The half-sample needs at least the largest clique (β + 1 = 4 on this band).
    let err = SymmetricRandomDesigner::new()
        .probes(3)
        .design(&p, MatrixKind::Symmetric)
        .unwrap_err();
    assert!(
        matches!(
            err,
            DesignError::TooFewProbes {
                needed: 4,
                probes: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_seeds_are_rejected() {
    let p = generators::band(20, 1, 1).unwrap();
    let mut s = random_seeds(20, 5, Distribution::Gaussian, 0);
    s[(13, 4)] = f64::NAN;
    assert!(matches!(
        RowLeastSquaresDecoder::from_samples(&p, s.as_ref(), 1e-10),
        Err(DesignError::NonFiniteSeed { row: 13, probe: 4, value }) if value.is_nan()
    ));
    s[(13, 4)] = f64::INFINITY;
    assert!(matches!(
        ProbePlan::from_samples(&p, MatrixKind::General, s.clone(), 1e-10),
        Err(DesignError::NonFiniteSeed {
            row: 13,
            probe: 4,
            ..
        })
    ));
    assert!(matches!(
        SymmetricLeastSquaresDecoder::from_samples(&p, s.as_ref(), 1),
        Err(DesignError::NonFiniteSeed {
            row: 13,
            probe: 4,
            ..
        })
    ));
    let wrong = random_seeds(19, 5, Distribution::Gaussian, 0);
    assert!(matches!(
        RowLeastSquaresDecoder::from_samples(&p, wrong.as_ref(), 1e-10),
        Err(DesignError::SeedShape {
            rows: 19,
            cols: 5,
            expected_rows: 20
        })
    ));
    assert!(matches!(
        SymmetricLeastSquaresDecoder::from_samples(&p, wrong.as_ref(), 1),
        Err(DesignError::SeedShape { rows: 19, .. })
    ));
    let good = random_seeds(20, 5, Distribution::Gaussian, 0);
    for tol in [-1.0, 1.0, f64::NAN] {
        assert!(matches!(
            RowLeastSquaresDecoder::from_samples(&p, good.as_ref(), tol),
            Err(DesignError::Parameter { name: "tol", .. })
        ));
    }
}

#[test]
fn symmetric_designer_refuses_what_it_cannot_do() {
    let band = generators::band(20, 2, 2).unwrap();
    assert!(matches!(
        SymmetricRandomDesigner::new().design(&band, MatrixKind::General),
        Err(DesignError::NotApplicable {
            designer: "symmetric-random",
            ..
        })
    ));
    let general = generators::band(20, 1, 2).unwrap();
    assert!(matches!(
        SymmetricRandomDesigner::new().design(&general, MatrixKind::Symmetric),
        Err(DesignError::NotApplicable { .. })
    ));
    // All-equal seed rows: H·S only sees row sums, the system is rank deficient.
    let ones = Mat::<f64>::from_fn(20, 4, |_, _| 1.0);
    match SymmetricLeastSquaresDecoder::from_samples(&band, ones.as_ref(), 1) {
        Err(DesignError::RankDeficient { count, rows }) => {
            assert!(count > 0 && !rows.is_empty() && rows.len() <= 64);
            assert!(rows.iter().all(|&r| r < 20));
        }
        other => panic!("expected RankDeficient, got {other:?}"),
    }
    // A dense pattern needs p = n: a clique of 6.
    let dense = Pattern::dense(6, 6).unwrap();
    assert!(matches!(
        SymmetricRandomDesigner::new()
            .probes(5)
            .design(&dense, MatrixKind::Symmetric),
        Err(DesignError::TooFewProbes { needed: 6, .. })
    ));
}

#[test]
fn rank_deficient_random_rows_fail_at_design_time() {
    // Rademacher with p = d: on 2000 rows some sample matrix is singular.
    let p = generators::band(2000, 2, 2).unwrap();
    let err = RandomDesigner::new()
        .distribution(Distribution::Rademacher)
        .oversampling(0)
        .design(&p, MatrixKind::General)
        .unwrap_err();
    match err {
        DesignError::RankDeficient { count, rows } => {
            assert!(count >= rows.len() && !rows.is_empty() && rows.len() <= 64);
        }
        other => panic!("expected RankDeficient, got {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Noise and residuals.

/// Mean over entries of |recovered − exact| for products with Gaussian noise of size σ
/// (same noise seed for every design).
fn noisy_error(p: &Pattern, oversampling: usize, sigma: f64) -> f64 {
    let values = values_on(p, 3);
    let plan = RandomDesigner::new()
        .oversampling(oversampling)
        .seed(21)
        .design(p, MatrixKind::General)
        .unwrap();
    let mut b = plan.exact_products(&values);
    let mut rng = ChaCha8Rng::seed_from_u64(1234);
    for c in 0..b.ncols() {
        for r in 0..b.nrows() {
            let e: f64 = StandardNormal.sample(&mut rng);
            b[(r, c)] += sigma * e;
        }
    }
    let mut got = vec![0.0; p.nnz()];
    plan.decode(b.as_ref(), &mut got).unwrap();
    got.iter()
        .zip(&values)
        .map(|(g, v)| (g - v).abs())
        .sum::<f64>()
        / p.nnz() as f64
}

#[test]
fn oversampling_shrinks_the_noise() {
    let p = generators::band(500, 3, 3).unwrap();
    let sigma = 1e-3;
    let e0 = noisy_error(&p, 0, sigma);
    let e2 = noisy_error(&p, 2, sigma);
    let e8 = noisy_error(&p, 8, sigma);
    assert!(e8 < e0, "oversampling 8: {e8:e}, 0: {e0:e}");
    assert!(e8 < e2, "oversampling 8: {e8:e}, 2: {e2:e}");
    // Least squares averages the noise: with 8 extra probes the error is about σ.
    assert!(e8 < 3.0 * sigma, "{e8:e}");
}

#[test]
fn residuals_name_rows_where_the_pattern_misses_entries() {
    let truth = generators::band(60, 2, 2).unwrap();
    // Declared pattern: a tridiagonal band, missing the second off-diagonals of rows 20
    // to 40 (only those rows are really pentadiagonal; the rest of the true matrix is
    // tridiagonal).
    let declared = generators::band(60, 1, 1).unwrap();
    let true_pattern = truth.filter(|i, j| i.abs_diff(j) <= 1 || (20..=40).contains(&i));
    let values = values_on(&true_pattern, 8);
    let plan = RandomDesigner::new()
        .oversampling(3)
        .design(&declared, MatrixKind::General)
        .unwrap();
    let b = exact_products(&true_pattern, &values, plan.seeds(), Orientation::Columns);
    let mut got = vec![0.0; declared.nnz()];
    plan.decode(b.as_ref(), &mut got).unwrap();
    let mut res = vec![0.0; 60];
    row_decoder(&plan)
        .residuals(b.as_ref(), &got, &mut res)
        .unwrap();
    for (i, r) in res.iter().enumerate() {
        let bnorm = (0..b.ncols())
            .map(|c| b[(i, c)].powi(2))
            .sum::<f64>()
            .sqrt();
        let rel = r / bnorm;
        if (20..=40).contains(&i) {
            assert!(
                rel > 1e-3,
                "row {i}: relative residual {rel:e} should be large"
            );
        } else {
            assert!(
                rel < 1e-12,
                "row {i}: relative residual {rel:e} should be tiny"
            );
        }
    }
    // Shape of the residual buffer is checked.
    let mut short = vec![0.0; 59];
    assert!(matches!(
        row_decoder(&plan).residuals(b.as_ref(), &got, &mut short),
        Err(DecodeError::ValuesLength {
            len: 59,
            expected: 60
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Verification with an extra probe.

fn az(pattern: &Pattern, values: &[f64], z: &[f64]) -> Vec<f64> {
    let n = z.len();
    let seeds = Seeds::dense(n, 1, z.to_vec()).unwrap();
    let b = exact_products(pattern, values, &seeds, Orientation::Columns);
    (0..b.nrows()).map(|i| b[(i, 0)]).collect()
}

#[test]
fn verification_passes_a_correct_decode() {
    let p = block_chain(20);
    let values = values_on(&p, 6);
    let plan = SymmetricRandomDesigner::new()
        .design(&p, MatrixKind::Symmetric)
        .unwrap();
    let b = plan.exact_products(&values);
    let mut got = vec![0.0; p.nnz()];
    plan.decode(b.as_ref(), &mut got).unwrap();
    for dist in [Distribution::Gaussian, Distribution::Rademacher] {
        let z = probe_vector(p.ncols(), dist, 99);
        let report = verify(&p, &got, &z, &az(&p, &values, &z), 1e-8).unwrap();
        assert!(report.passed(), "{report:?}");
        assert!(report.max_rel_residual < 1e-10);
    }
}

#[test]
fn verification_flags_rows_where_the_pattern_misses_entries() {
    // True matrix: pentadiagonal on rows 10..=14, tridiagonal elsewhere; declared
    // tridiagonal. Colouring-free per-row LS fits the declared entries only.
    let full = generators::band(40, 2, 2).unwrap();
    let true_pattern = full.filter(|i, j| i.abs_diff(j) <= 1 || (10..=14).contains(&i));
    let declared = generators::band(40, 1, 1).unwrap();
    let values = values_on(&true_pattern, 2);
    let plan = RandomDesigner::new()
        .design(&declared, MatrixKind::General)
        .unwrap();
    let b = exact_products(&true_pattern, &values, plan.seeds(), Orientation::Columns);
    let mut got = vec![0.0; declared.nnz()];
    plan.decode(b.as_ref(), &mut got).unwrap();
    let z = probe_vector(40, Distribution::Gaussian, 5);
    let report = verify(&declared, &got, &z, &az(&true_pattern, &values, &z), 1e-8).unwrap();
    assert_eq!(report.bad_rows, (10..=14).collect::<Vec<_>>());
    assert!(report.max_rel_residual > 1e-3);
}

#[test]
fn verification_rejects_bad_input() {
    use sparsediff_probe::VerifyError;
    let p = generators::band(10, 1, 1).unwrap();
    let v = vec![1.0; p.nnz()];
    let z = vec![1.0; 10];
    let a = vec![0.0; 10];
    assert!(matches!(
        verify(&p, &v[1..], &z, &a, 1e-8),
        Err(VerifyError::Length { what: "values", .. })
    ));
    assert!(matches!(
        verify(&p, &v, &z[1..], &a, 1e-8),
        Err(VerifyError::Length {
            what: "z",
            len: 9,
            expected: 10
        })
    ));
    let mut bad = a.clone();
    bad[4] = f64::NAN;
    assert!(matches!(
        verify(&p, &v, &z, &bad, 1e-8),
        Err(VerifyError::NonFinite {
            what: "az",
            index: 4,
            ..
        })
    ));
    assert!(matches!(
        verify(&p, &v, &z, &a, -1.0),
        Err(VerifyError::Tolerance { .. })
    ));
    // A row the pattern declares empty but whose product is not zero is bad.
    let e = with_empty_rows();
    let ve = vec![1.0; e.nnz()];
    let ze = vec![1.0; 6];
    let mut ae = az(&e, &ve, &ze);
    ae[1] = 0.5;
    let r = verify(&e, &ve, &ze, &ae, 1e-8).unwrap();
    assert_eq!(r.bad_rows, vec![1]);
}

// ---------------------------------------------------------------------------------------
// Probe counts: symmetric half-sample against per-row random.

#[test]
fn half_sample_probe_counts() {
    let cases = [
        ("band 1000 β=3", generators::band(1000, 3, 3).unwrap()),
        ("band 1000 β=8", generators::band(1000, 8, 8).unwrap()),
        (
            "grid5 30x30",
            generators::grid2d(30, 30, Stencil2d::FivePoint).unwrap(),
        ),
    ];
    println!(
        "| pattern | per-row default | per-row min | half-sample default | half-sample min | lower bound |"
    );
    for (name, p) in cases {
        let LeastSquaresCounts {
            per_row: (per_row, row_min),
            half_sample: (half, half_min),
            half_sample_bound,
        } = least_squares_counts(&p);
        println!("| {name} | {per_row} | {row_min} | {half} | {half_min} | {half_sample_bound} |");
        // About half by default (at most 0.6 of the per-row count)...
        assert!(5 * half <= 3 * per_row, "{name}: {half} against {per_row}");
        // ... and the default is the smallest working p or one more.
        assert!(half_min <= half, "{name}: the default works");
        assert!(half <= half_min + 1, "{name}: the default is tight");
    }
}
