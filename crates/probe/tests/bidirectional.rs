//! Bidirectional plans: random J on random patterns, products through the two seed
//! matrices, decode, equal to 1e-12; named errors for bad products and colourings.

use faer::Mat;
use proptest::prelude::*;
use sparsediff_coloring::{ColoringParams, Method, NEUTRAL, OrderChoice};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators;
use sparsediff_pattern::testing::{self, patterns, shipped};
use sparsediff_probe::compare::random_values;
use sparsediff_probe::{
    BidirectionalDesigner, BidirectionalPlan, DecodeError, DesignError, ProductBlock,
};

/// Decodes random values through `plan` and compares (relative 1e-12); also checks the
/// products against a dense reference J·Sc and Jᵀ·Sr built from the seeds.
fn round_trip(what: &str, p: &Pattern, plan: &BidirectionalPlan, seed: u64) {
    let values = random_values(p, seed, false);
    let (b, c) = plan.exact_products(&values);
    // Reference products from the seeds as dense matrices.
    let (m, n) = p.shape();
    let sc = plan.column_seeds().to_dense();
    let sr = plan.row_seeds().to_dense();
    let mut j = Mat::<f64>::zeros(m, n);
    for (k, (r, col)) in p.iter().enumerate() {
        j[(r, col)] = values[k];
    }
    let (b_ref, c_ref) = (&j * &sc, j.transpose() * &sr);
    assert!((&b - &b_ref).norm_max() <= 1e-12, "{what}: J·Sc");
    assert!((&c - &c_ref).norm_max() <= 1e-12, "{what}: Jᵀ·Sr");
    let mut got = vec![f64::NAN; p.nnz()];
    plan.decode(b.as_ref(), c.as_ref(), &mut got)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let scale = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (k, (g, v)) in got.iter().zip(&values).enumerate() {
        assert!(
            (g - v).abs() <= 1e-12 * scale,
            "{what}: entry {k}: {g} vs {v}"
        );
    }
}

#[test]
fn arrowhead_round_trip_with_three_products() {
    for n in [100, 1000] {
        let p = generators::arrowhead(n, 1).unwrap();
        for d in [
            BidirectionalDesigner::star(),
            BidirectionalDesigner::acyclic(),
        ] {
            let plan = d.design(&p).unwrap();
            assert!(
                plan.num_probes() <= 3,
                "{} {n}: {}",
                d.name(),
                plan.num_probes()
            );
            round_trip(&format!("arrow {n} {}", d.name()), &p, &plan, 3);
        }
    }
}

#[test]
fn shipped_matrices_round_trip() {
    for f in [
        "bcsstk01.mtx",
        "hess_pat.mtx",
        "jac_pat.mtx",
        "column-compress.mtx",
        "row-compress.mtx",
        "mtx-spear-head.mtx",
        "cartpole_LA_hessian_N100.mtx",
        "lp_ken_11.mtx",
    ] {
        let p = shipped(f);
        for d in [
            BidirectionalDesigner::star(),
            BidirectionalDesigner::acyclic(),
        ] {
            let plan = d.design(&p).unwrap();
            // Star plans are direct; acyclic ones may be too (the cover strategy wins).
            if d.name() == "bidirectional-star" {
                assert!(plan.decoder().is_direct(), "{f}");
            }
            eprintln!(
                "{f} {}: {} + {} ({:?})",
                d.name(),
                plan.num_column_probes(),
                plan.num_row_probes(),
                plan.strategy()
            );
            round_trip(&format!("{f} {}", d.name()), &p, &plan, 11);
        }
    }
}

#[test]
fn substitution_is_exercised() {
    // The tridiagonal with one probe of all columns and rows {0, 2} and {1}: J01 and J21
    // need a subtraction.
    let p = generators::band(3, 1, 1).unwrap();
    let plan = BidirectionalPlan::from_colors(&p, &[0, 0, 0], &[0, 1, 0], Method::Acyclic).unwrap();
    assert!(!plan.decoder().is_direct());
    round_trip("tridiagonal substitution", &p, &plan, 5);
    assert!(matches!(
        BidirectionalPlan::from_colors(&p, &[0, 0, 0], &[0, 1, 0], Method::Star),
        Err(DesignError::InvalidColoring { .. })
    ));
    // Neutral colours and gaps in the numbering are fine: renumbered per side.
    let plan = BidirectionalPlan::from_colors(&p, &[5, 9, 5], &[NEUTRAL, 2, NEUTRAL], Method::Star)
        .unwrap();
    assert_eq!((plan.num_column_probes(), plan.num_row_probes()), (2, 1));
    round_trip("renumbered", &p, &plan, 6);
}

#[test]
fn bad_products_and_colourings_are_named() {
    let p = generators::arrowhead(20, 1).unwrap();
    let plan = BidirectionalDesigner::star().design(&p).unwrap();
    let values = random_values(&p, 1, false);
    let (b, c) = plan.exact_products(&values);
    let mut got = vec![0.0; p.nnz()];
    // Blocks swapped: the JVP block has the wrong shape.
    let e = plan.decode(c.as_ref(), b.as_ref(), &mut got).unwrap_err();
    assert!(
        matches!(
            e,
            DecodeError::BlockShape {
                block: ProductBlock::Jvp,
                expected_rows: 20,
                ..
            }
        ),
        "{e}"
    );
    let short = Mat::<f64>::zeros(20, 0);
    assert!(matches!(
        plan.decode(b.as_ref(), short.as_ref(), &mut got),
        Err(DecodeError::BlockShape {
            block: ProductBlock::Vjp,
            cols: 0,
            ..
        })
    ));
    let mut bad = c.clone();
    bad[(7, 0)] = f64::NAN;
    assert!(matches!(
        plan.decode(b.as_ref(), bad.as_ref(), &mut got),
        Err(DecodeError::BlockNonFinite {
            block: ProductBlock::Vjp,
            row: 7,
            probe: 0,
            ..
        })
    ));
    let mut bad = b.clone();
    bad[(3, 1)] = f64::INFINITY;
    assert!(matches!(
        plan.decode(bad.as_ref(), c.as_ref(), &mut got),
        Err(DecodeError::BlockNonFinite {
            block: ProductBlock::Jvp,
            ..
        })
    ));
    assert!(matches!(
        plan.decode(b.as_ref(), c.as_ref(), &mut got[1..]),
        Err(DecodeError::ValuesLength { .. })
    ));
    // Huge colour values are renumbered, not allocated for.
    let mut huge = vec![usize::MAX - 1; 20];
    huge[0] = 7;
    // Column 0 alone, the others together, every row in one VJP: J[0, j] = C[j] − J[j, j].
    let q = BidirectionalPlan::from_colors(&p, &huge, &[3; 20], Method::Acyclic).unwrap();
    assert_eq!((q.num_column_probes(), q.num_row_probes()), (2, 1));
    assert!(!q.decoder().is_direct());
    round_trip("huge colour values", &p, &q, 2);
    assert!(matches!(
        BidirectionalPlan::from_colors(&p, &huge, &[3; 20], Method::Star),
        Err(DesignError::InvalidColoring { .. })
    ));
    // Colourings that cannot recover, or of the wrong length, or a one-sided method.
    assert!(matches!(
        BidirectionalPlan::from_colors(&p, &[0; 20], &[NEUTRAL; 20], Method::Acyclic),
        Err(DesignError::InvalidColoring { .. })
    ));
    assert!(matches!(
        BidirectionalPlan::from_colors(&p, &[0; 19], &[NEUTRAL; 20], Method::Star),
        Err(DesignError::InvalidColoring { .. })
    ));
    assert!(matches!(
        BidirectionalPlan::from_colors(&p, &[0; 20], &[0; 20], Method::Cpr),
        Err(DesignError::Coloring(_))
    ));
    assert!(matches!(
        BidirectionalDesigner::star().design(&Pattern::empty(3, 3).unwrap()),
        Err(DesignError::NotApplicable { .. })
    ));
}

proptest! {
    #![proptest_config(testing::config(128))]

    #[test]
    fn random_patterns_round_trip(
        p in patterns(1..=30),
        seed in any::<u64>(),
        best in any::<bool>(),
    ) {
        prop_assume!(p.nnz() > 0);
        let params = if best {
            ColoringParams::with_order(OrderChoice::best())
        } else {
            ColoringParams::default()
        };
        for d in [
            BidirectionalDesigner::star().with_params(params.clone()),
            BidirectionalDesigner::acyclic().with_params(params.clone()),
        ] {
            let plan = d.design(&p).unwrap();
            prop_assert!(plan.num_probes() >= plan.lower_bound());
            round_trip(d.name(), &p, &plan, seed);
        }
    }
}
