//! Probe plans through the shared harness (`sparsediff_probe::testing::check_plan`): every
//! designer that applies to a pattern of the suite recovers a seeded random matrix on that
//! pattern to 1e-12 relative, decoding twice gives identical values, probes equal colours,
//! and the plan never uses fewer probes than its lower bound.

use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing::{block_chain, shipped as data};
use sparsediff_probe::testing::{check_plan, values_on};
use sparsediff_probe::{
    ColoredDesigner, Decompression, DesignError, Geometry, IdentityDesigner, MatrixKind,
    ProbeDesigner, RollDesigner, StencilDesigner,
};

struct Case {
    name: &'static str,
    pattern: Pattern,
    geometry: Option<Geometry>,
}

fn suite() -> Vec<Case> {
    vec![
        Case {
            name: "band 400 β=3",
            pattern: generators::band(400, 3, 3).unwrap(),
            geometry: Some(Geometry::Band { beta: None }),
        },
        Case {
            name: "band 60 l=1 u=4",
            pattern: generators::band(60, 1, 4).unwrap(),
            geometry: None,
        },
        Case {
            name: "grid5 19x13",
            pattern: generators::grid2d(19, 13, Stencil2d::FivePoint).unwrap(),
            geometry: Some(Geometry::Grid2d {
                nx: 19,
                ny: 13,
                stencil: Stencil2d::FivePoint,
            }),
        },
        Case {
            name: "grid9 14x11",
            pattern: generators::grid2d(14, 11, Stencil2d::NinePoint).unwrap(),
            geometry: Some(Geometry::Grid2d {
                nx: 14,
                ny: 11,
                stencil: Stencil2d::NinePoint,
            }),
        },
        Case {
            name: "grid3d 7x6x5",
            pattern: generators::grid3d(7, 6, 5).unwrap(),
            geometry: Some(Geometry::Grid3d {
                nx: 7,
                ny: 6,
                nz: 5,
            }),
        },
        Case {
            name: "block band 30×4 k=1",
            pattern: generators::block_band(30, 4, 1, 1).unwrap(),
            geometry: Some(Geometry::BlockBand {
                block: 4,
                lower: 1,
                upper: 1,
            }),
        },
        Case {
            name: "block band 15×3 l=1 u=2",
            pattern: generators::block_band(15, 3, 1, 2).unwrap(),
            geometry: Some(Geometry::BlockBand {
                block: 3,
                lower: 1,
                upper: 2,
            }),
        },
        Case {
            name: "arrow 50",
            pattern: generators::arrowhead(50, 2).unwrap(),
            geometry: None,
        },
        Case {
            name: "block chain 25",
            pattern: block_chain(25),
            geometry: None,
        },
        Case {
            name: "random sym",
            pattern: generators::random_symmetric(90, 0.06, 4).unwrap(),
            geometry: None,
        },
        Case {
            name: "random 70x50",
            pattern: generators::random(70, 50, 0.07, 8).unwrap(),
            geometry: None,
        },
        Case {
            name: "hess_pat",
            pattern: data("hess_pat.mtx"),
            geometry: None,
        },
        Case {
            name: "jac_pat",
            pattern: data("jac_pat.mtx"),
            geometry: None,
        },
        Case {
            name: "bcsstk01",
            pattern: data("bcsstk01.mtx"),
            geometry: None,
        },
    ]
}

fn designers(case: &Case) -> Vec<Box<dyn ProbeDesigner>> {
    let mut d: Vec<Box<dyn ProbeDesigner>> = vec![
        Box::new(IdentityDesigner),
        Box::new(RollDesigner),
        Box::new(ColoredDesigner::cpr()),
        Box::new(ColoredDesigner::cpr_rows()),
        Box::new(ColoredDesigner::distance2()),
        Box::new(ColoredDesigner::star()),
        Box::new(ColoredDesigner::acyclic()),
    ];
    if let Some(g) = case.geometry {
        d.push(Box::new(StencilDesigner::new(g, Decompression::Direct)));
        d.push(Box::new(StencilDesigner::new(
            g,
            Decompression::Substitution,
        )));
    }
    d
}

#[test]
fn every_designer_recovers_every_pattern() {
    let mut decoded = 0;
    for case in suite() {
        let p = &case.pattern;
        let kind = if p.is_symmetric() {
            MatrixKind::Symmetric
        } else {
            MatrixKind::General
        };
        let values = values_on(p, 7);
        for d in designers(&case) {
            let what = format!("{} / {}", case.name, d.name());
            let plan = match d.design(p, kind) {
                Ok(plan) => plan,
                Err(DesignError::NotApplicable { .. }) if kind == MatrixKind::General => continue,
                Err(e) => panic!("{what}: {e}"),
            };
            assert_eq!(plan.designer(), d.name());
            assert_eq!(Some(plan.num_probes()), plan.colors(), "{what}");
            check_plan(&what, &plan, &values, 1e-12);
            decoded += 1;
        }
    }
    // 10 symmetric patterns × 7 designers, 4 general ones × 4 (no symmetric designers),
    // both stencil designs on the 5 symmetric patterns with a geometry and the direct one
    // on the general block band.
    assert_eq!(decoded, 10 * 7 + 4 * 4 + 5 * 2 + 1);
}

#[test]
fn given_colourings_are_checked_not_trusted() {
    use sparsediff_coloring::Method;
    use sparsediff_coloring::check::Violation;
    use sparsediff_probe::GivenColoring;
    let band = generators::band(30, 2, 2).unwrap();
    let values = values_on(&band, 1);
    // Valid: j mod 3 by substitution, j mod 5 directly (with or without symmetry).
    for (colors, method, probes) in [
        (
            (0..30).map(|j| j % 3).collect::<Vec<_>>(),
            Method::Acyclic,
            3,
        ),
        ((0..30).map(|j| j % 5).collect(), Method::Star, 5),
        ((0..30).map(|j| j % 5).collect(), Method::Cpr, 5),
        ((0..30).map(|j| j % 5).collect(), Method::Distance2, 5),
    ] {
        let plan = GivenColoring::new(colors, method)
            .design(&band, MatrixKind::Symmetric)
            .unwrap();
        assert_eq!(plan.num_probes(), probes);
        check_plan(&format!("given {method}"), &plan, &values, 1e-12);
    }
    // Invalid for its decoding: each error names what breaks.
    let three: Vec<usize> = (0..30).map(|j| j % 3).collect();
    let four: Vec<usize> = (0..30).map(|j| j % 4).collect();
    let two: Vec<usize> = (0..30).map(|j| j % 2).collect();
    let err = |colors: Vec<usize>, method| {
        GivenColoring::new(colors, method)
            .design(&band, MatrixKind::Symmetric)
            .unwrap_err()
    };
    assert!(matches!(
        err(three.clone(), Method::Star),
        DesignError::InvalidColoring {
            violation: Violation::TwoColoredPath { .. },
            ..
        }
    ));
    assert!(matches!(
        err(four, Method::Cpr),
        DesignError::InvalidColoring {
            violation: Violation::SharedLine { .. },
            ..
        }
    ));
    assert!(matches!(
        err(two, Method::Acyclic),
        DesignError::InvalidColoring {
            violation: Violation::Adjacent { .. },
            ..
        }
    ));
    assert!(matches!(
        err(three[..29].to_vec(), Method::Acyclic),
        DesignError::InvalidColoring {
            violation: Violation::WrongLength {
                len: 29,
                expected: 30
            },
            ..
        }
    ));
    let msg = err(three, Method::Star).to_string();
    assert!(msg.contains("path"), "{msg}");
    // Row colourings are checked on columns.
    let jac = generators::random(20, 12, 0.2, 3).unwrap();
    let rows = GivenColoring::rows(vec![0; 20])
        .design(&jac, MatrixKind::General)
        .unwrap_err();
    assert!(matches!(
        rows,
        DesignError::InvalidColoring {
            violation: Violation::SharedLine { columns: false, .. },
            ..
        }
    ));
}

#[test]
fn given_colours_beyond_the_vertex_count_are_refused() {
    use sparsediff_coloring::{Method, NEUTRAL};
    use sparsediff_probe::GivenColoring;
    // Two columns never need a colour above 1: 2^63 - 1 used to be accepted and wrap in
    // the decoder's indices, 10^12 to ask for 10^12 products when preparing.
    let diagonal = Pattern::identity(2).unwrap();
    for method in [
        Method::Cpr,
        Method::Distance2,
        Method::Star,
        Method::Acyclic,
    ] {
        for label in [(1usize << 63) - 1, 1_000_000_000_000, 2] {
            let err = GivenColoring::new(vec![0, label], method)
                .design(&diagonal, MatrixKind::Symmetric)
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    DesignError::ColorOutOfRange { vertex: 1, color, limit: 2 } if color == label
                ),
                "{method}: {err:?}"
            );
            assert!(err.to_string().contains("vertex 1"), "{err}");
        }
        // NEUTRAL (in no probe) is not a label; the largest useful label is accepted.
        let plan = GivenColoring::new(vec![0, 1], method)
            .design(&diagonal, MatrixKind::Symmetric)
            .unwrap();
        assert_eq!(plan.num_probes(), 2);
    }
    let empty_column = Pattern::from_entries(2, 2, [(0, 0), (1, 0)]).unwrap();
    let plan = GivenColoring::new(vec![0, NEUTRAL], Method::Cpr)
        .design(&empty_column, MatrixKind::General)
        .unwrap();
    assert_eq!(plan.num_probes(), 1);
    // Row colourings: the limit is the number of rows.
    let wide = generators::random(3, 50, 0.1, 1).unwrap();
    assert!(matches!(
        GivenColoring::rows(vec![0, 1, 3]).design(&wide, MatrixKind::General),
        Err(DesignError::ColorOutOfRange {
            vertex: 2,
            color: 3,
            limit: 3
        })
    ));
}

#[test]
fn stencil_designs_hit_the_optimum() {
    for beta in 1..=8 {
        let band = generators::band(500, beta, beta).unwrap();
        let g = Geometry::Band { beta: None };
        let d = StencilDesigner::new(g, Decompression::Direct)
            .design(&band, MatrixKind::Symmetric)
            .unwrap();
        let s = StencilDesigner::new(g, Decompression::Substitution)
            .design(&band, MatrixKind::Symmetric)
            .unwrap();
        assert_eq!((d.num_probes(), s.num_probes()), (2 * beta + 1, beta + 1));
        assert_eq!((d.lower_bound(), s.lower_bound()), (2 * beta + 1, beta + 1));
    }
    for (stencil, direct, subst) in [(Stencil2d::FivePoint, 5, 3), (Stencil2d::NinePoint, 9, 5)] {
        let p = generators::grid2d(40, 30, stencil).unwrap();
        let g = Geometry::Grid2d {
            nx: 40,
            ny: 30,
            stencil,
        };
        assert_eq!(
            StencilDesigner::new(g, Decompression::Direct)
                .design(&p, MatrixKind::Symmetric)
                .unwrap()
                .num_probes(),
            direct
        );
        assert_eq!(
            StencilDesigner::new(g, Decompression::Substitution)
                .design(&p, MatrixKind::Symmetric)
                .unwrap()
                .num_probes(),
            subst
        );
    }
    let p = generators::grid3d(12, 10, 9).unwrap();
    let g = Geometry::Grid3d {
        nx: 12,
        ny: 10,
        nz: 9,
    };
    assert_eq!(
        StencilDesigner::new(g, Decompression::Direct)
            .design(&p, MatrixKind::Symmetric)
            .unwrap()
            .num_probes(),
        7
    );
    assert_eq!(
        StencilDesigner::new(g, Decompression::Substitution)
            .design(&p, MatrixKind::Symmetric)
            .unwrap()
            .num_probes(),
        4
    );
    // A design for another geometry is refused, not trusted.
    let wrong = StencilDesigner::new(
        Geometry::Grid2d {
            nx: 30,
            ny: 40,
            stencil: Stencil2d::FivePoint,
        },
        Decompression::Substitution,
    );
    let grid = generators::grid2d(40, 30, Stencil2d::FivePoint).unwrap();
    assert!(matches!(
        wrong.design(&grid, MatrixKind::Symmetric),
        Err(DesignError::InvalidColoring { .. })
    ));
    let size = StencilDesigner::new(
        Geometry::Grid3d {
            nx: 2,
            ny: 2,
            nz: 2,
        },
        Decompression::Direct,
    );
    assert!(matches!(
        size.design(&grid, MatrixKind::Symmetric),
        Err(DesignError::NotApplicable { .. })
    ));
}

#[test]
fn block_band_designs_hit_the_optimum() {
    use sparsediff_probe::design::AutoDesigner;
    use sparsediff_probe::design::{Candidate, Outcome, Skip};
    for (block, k) in [(1, 1), (2, 1), (3, 2), (5, 1), (6, 0), (4, 3)] {
        let p = generators::block_band(40, block, k, k).unwrap();
        let g = Geometry::block_band(block, k, k).unwrap();
        let d = StencilDesigner::new(g, Decompression::Direct)
            .design(&p, MatrixKind::Symmetric)
            .unwrap();
        let s = StencilDesigner::new(g, Decompression::Substitution)
            .design(&p, MatrixKind::Symmetric)
            .unwrap();
        let what = format!("block {block} k {k}");
        assert_eq!(
            (d.num_probes(), s.num_probes()),
            ((2 * k + 1) * block, (k + 1) * block),
            "{what}"
        );
        // Both meet their family's bound: the largest row, the clique of k+1 blocks.
        assert_eq!(
            (d.lower_bound(), s.lower_bound()),
            ((2 * k + 1) * block, (k + 1) * block),
            "{what}"
        );
        // Auto infers the geometry and picks the closed form (ties go to it: it is listed
        // before the colourings).
        let auto = AutoDesigner::default()
            .design_report(&p, MatrixKind::Symmetric)
            .unwrap();
        assert_eq!(auto.plan.num_probes(), (k + 1) * block, "{what}");
        // Block diagonal (k = 0): direct and substitution tie, direct is preferred.
        let name = if k == 0 {
            "stencil-direct"
        } else {
            "stencil-substitution"
        };
        assert_eq!(auto.plan.designer(), name, "{what}");
        let star = auto
            .candidates
            .iter()
            .find(|c: &&Candidate| c.designer == "star")
            .map(|c| c.outcome.clone());
        assert!(
            !matches!(star, Some(Outcome::Designed { probes }) if probes < (k + 1) * block),
            "{what}: {star:?}"
        );
        // The closed form meets the exact bound, so the acyclic colouring is not run.
        let acyclic = auto.candidates.iter().find(|c| c.designer == "acyclic");
        assert!(
            matches!(
                acyclic.map(|c| &c.outcome),
                Some(Outcome::Skipped(Skip::MeetsBound { .. }))
            ),
            "{what}: {acyclic:?}"
        );
    }
    // Asymmetric block bands: the direct design has the largest row, (l+u+1)·b, and Auto
    // picks it for Jacobians.
    for (block, lower, upper) in [(3, 1, 2), (2, 0, 3), (4, 2, 0), (1, 1, 3)] {
        let p = generators::block_band(25, block, lower, upper).unwrap();
        let g = Geometry::BlockBand {
            block,
            lower,
            upper,
        };
        let d = StencilDesigner::new(g, Decompression::Direct)
            .design(&p, MatrixKind::General)
            .unwrap();
        assert_eq!(d.num_probes(), (lower + upper + 1) * block);
        assert_eq!(d.lower_bound(), d.num_probes());
        let auto = AutoDesigner::default()
            .design_report(&p, MatrixKind::General)
            .unwrap();
        assert_eq!(auto.plan.designer(), "stencil-direct");
        assert_eq!(auto.plan.num_probes(), (lower + upper + 1) * block);
        // It runs first and meets the bound: CPR and roll are skipped.
        for name in ["cpr", "roll"] {
            let c = auto.candidates.iter().find(|c| c.designer == name);
            assert!(
                matches!(
                    c.map(|c| &c.outcome),
                    Some(Outcome::Skipped(Skip::MeetsBound { .. }))
                ),
                "{name}: {c:?}"
            );
        }
    }
}

#[test]
fn block_band_geometries_that_do_not_fit_are_refused() {
    use sparsediff_coloring::check::Violation;
    use sparsediff_probe::Inapplicable;
    let chain = generators::block_band(12, 5, 1, 1).unwrap();
    let design = |g: Geometry, dec: Decompression| {
        StencilDesigner::new(g, dec).design(&chain, MatrixKind::Symmetric)
    };
    let bb = |block, lower, upper| Geometry::BlockBand {
        block,
        lower,
        upper,
    };
    for dec in [Decompression::Direct, Decompression::Substitution] {
        // Blocks that do not tile the 60 columns: 0 (no division by zero) and 7.
        for block in [0, 7] {
            let err = design(bb(block, 1, 1), dec).unwrap_err();
            assert!(
                matches!(
                    err,
                    DesignError::NotApplicable {
                        reason: Inapplicable::BlockMismatch { block: b, cols: 60 },
                        ..
                    } if b == block
                ),
                "{block}: {err:?}"
            );
            assert!(err.to_string().contains("do not tile"), "{err}");
        }
        // Blocks too small, or too few block diagonals: the colouring is refused by the
        // checker, never turned into a wrong plan.
        for g in [bb(4, 1, 1), bb(5, 0, 0), bb(2, 2, 2), bb(1, 1, 1)] {
            let err = design(g, dec).unwrap_err();
            assert!(
                matches!(
                    err,
                    DesignError::InvalidColoring {
                        violation: Violation::SharedLine { .. }
                            | Violation::Adjacent { .. }
                            | Violation::TwoColoredCycle { .. },
                        ..
                    }
                ),
                "{g:?} {dec:?}: {err:?}"
            );
        }
        // A wider geometry than the pattern is valid, only not optimal.
        let wide = design(bb(5, 2, 2), dec).unwrap();
        let values = values_on(&chain, 4);
        check_plan("wide block band", &wide, &values, 1e-12);
    }
    // Substitution needs a symmetric matrix, and a symmetric pattern.
    let asym = generators::block_band(10, 2, 0, 1).unwrap();
    let subst = StencilDesigner::new(bb(2, 0, 1), Decompression::Substitution);
    assert!(matches!(
        subst.design(&asym, MatrixKind::General),
        Err(DesignError::NotApplicable {
            reason: Inapplicable::NeedsSymmetric,
            ..
        })
    ));
    assert!(subst.design(&asym, MatrixKind::Symmetric).is_err());
    // Auto with a geometry that does not fit: the closed forms fail with their named
    // errors in the report, and a colouring designs the plan.
    use sparsediff_probe::design::{AutoDesigner, Outcome};
    let auto = AutoDesigner {
        geometry: Some(bb(4, 1, 1)),
        ..AutoDesigner::default()
    }
    .design_report(&chain, MatrixKind::Symmetric)
    .unwrap();
    check_plan(
        "auto, wrong geometry",
        &auto.plan,
        &values_on(&chain, 5),
        1e-12,
    );
    assert_eq!(
        (auto.plan.num_probes(), auto.plan.designer()),
        (10, "acyclic")
    );
    let failed = |report: &sparsediff_probe::design::Designed, name: &str| {
        let c = report.candidates.iter().find(|c| c.designer == name);
        assert!(
            matches!(
                c.map(|c| &c.outcome),
                Some(Outcome::Failed(e)) if matches!(**e, DesignError::InvalidColoring { .. })
            ),
            "{name}: {c:?}"
        );
    };
    failed(&auto, "stencil-substitution");
    let auto = AutoDesigner {
        geometry: Some(bb(4, 1, 1)),
        ..AutoDesigner::default()
    }
    .design_report(&chain, MatrixKind::General)
    .unwrap();
    assert_eq!((auto.plan.num_probes(), auto.plan.designer()), (15, "cpr"));
    failed(&auto, "stencil-direct");
}

#[test]
fn every_decoder_rejects_bad_products() {
    use sparsediff_probe::DecodeError;
    let p = block_chain(10);
    let values = values_on(&p, 3);
    for d in designers(&Case {
        name: "",
        pattern: p.clone(),
        geometry: None,
    }) {
        let plan = d.design(&p, MatrixKind::Symmetric).unwrap();
        let (rows, probes) = plan.products_shape();
        let mut out = vec![0.0; p.nnz()];
        let wrong = faer::Mat::<f64>::zeros(rows, probes + 1);
        assert!(
            matches!(
                plan.decode(wrong.as_ref(), &mut out),
                Err(DecodeError::Shape { .. })
            ),
            "{}",
            d.name()
        );
        let mut b = plan.exact_products(&values);
        b[(3, probes - 1)] = f64::NAN;
        assert!(
            matches!(
                plan.decode(b.as_ref(), &mut out),
                Err(DecodeError::NonFinite { row: 3, .. })
            ),
            "{}",
            d.name()
        );
        b[(3, probes - 1)] = f64::INFINITY;
        assert!(plan.decode(b.as_ref(), &mut out).is_err(), "{}", d.name());
        let good = plan.exact_products(&values);
        let mut short = vec![0.0; p.nnz() - 1];
        assert!(
            matches!(
                plan.decode(good.as_ref(), &mut short),
                Err(DecodeError::ValuesLength { .. })
            ),
            "{}",
            d.name()
        );
    }
    // Designers refuse empty patterns with a reason.
    let empty = Pattern::empty(4, 4).unwrap();
    assert!(matches!(
        IdentityDesigner.design(&empty, MatrixKind::General),
        Err(DesignError::NotApplicable { .. })
    ));
    assert!(matches!(
        ColoredDesigner::star().design(
            &generators::random(3, 4, 0.5, 1).unwrap(),
            MatrixKind::Symmetric
        ),
        Err(DesignError::Coloring(_))
    ));
}

mod prop {
    use super::*;
    use proptest::prelude::*;
    use sparsediff_pattern::testing::{self, Diagonal, patterns, symmetric_patterns};
    use sparsediff_probe::{RandomDesigner, SymmetricRandomDesigner};

    fn pattern() -> impl Strategy<Value = (Pattern, bool)> {
        prop_oneof![
            patterns(1..=24).prop_map(|p| (p, false)),
            symmetric_patterns(1..=29, Diagonal::Either).prop_map(|p| (p, true)),
        ]
    }

    /// The proptest block runs `PROPTEST_CASES` cases when it is set.
    #[test]
    fn proptest_cases_come_from_the_environment() {
        testing::assert_cases_come_from_the_environment(
            "prop::proptest_cases_come_from_the_environment",
            64,
        );
    }

    /// Block band shapes: (nblocks, block, lower, upper), half-bandwidths below nblocks.
    fn block_band_shapes() -> impl Strategy<Value = (usize, usize, usize, usize)> {
        (1usize..=14, 1usize..=5).prop_flat_map(|(nblocks, block)| {
            (
                Just(nblocks),
                Just(block),
                0..nblocks.min(4),
                0..nblocks.min(4),
            )
        })
    }

    proptest! {
        #![proptest_config(testing::config(64))]

        /// The block band closed forms recover a random matrix on a random block band to
        /// 1e-12: direct on Jacobians (any lower, upper) and Hessians, substitution on
        /// Hessians (lower = upper), given the geometry or inferring it; the colour counts
        /// are the formulas' (fewer when there are fewer blocks than block diagonals).
        #[test]
        fn block_band_designs_round_trip(
            (nblocks, block, lower, upper) in block_band_shapes(),
            symmetric in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let upper = if symmetric { lower } else { upper };
            let p = generators::block_band(nblocks, block, lower, upper).unwrap();
            let kind = if symmetric { MatrixKind::Symmetric } else { MatrixKind::General };
            let g = Geometry::block_band(block, lower, upper).unwrap();
            let values = values_on(&p, seed);
            let what = format!("block_band({nblocks}, {block}, {lower}, {upper}) {kind:?}");
            let direct = StencilDesigner::new(g, Decompression::Direct).design(&p, kind)
                .map_err(|e| TestCaseError::fail(format!("{what} direct: {e}")))?;
            check_plan(&format!("{what} direct"), &direct, &values, 1e-12);
            prop_assert_eq!(direct.num_probes(), nblocks.min(lower + upper + 1) * block);
            prop_assert_eq!(direct.num_probes(), direct.lower_bound());
            let subst = StencilDesigner::new(g, Decompression::Substitution).design(&p, kind);
            if symmetric {
                let subst = subst
                    .map_err(|e| TestCaseError::fail(format!("{what} substitution: {e}")))?;
                check_plan(&format!("{what} substitution"), &subst, &values, 1e-12);
                prop_assert_eq!(subst.num_probes(), nblocks.min(lower + 1) * block);
            } else {
                prop_assert!(
                    matches!(subst, Err(DesignError::NotApplicable { .. })),
                    "{}: {:?}", what, subst.map(|p| p.num_probes())
                );
            }
            // Auto (geometry inferred or not): exact, never more than the closed forms.
            let auto = sparsediff_probe::design::AutoDesigner::default().design(&p, kind)
                .map_err(|e| TestCaseError::fail(format!("{what} auto: {e}")))?;
            check_plan(&format!("{what} auto"), &auto, &values, 1e-12);
            let best = if symmetric {
                nblocks.min(lower + 1) * block
            } else {
                direct.num_probes()
            };
            prop_assert!(auto.num_probes() <= best, "{}: auto {}", what, auto.num_probes());
        }

        /// The closed-form substitution designs (full tridiagonal band, j mod 2; full
        /// 5-point grid, (i + 2j) mod 3), which skip the graph and decode without trees,
        /// recover a random symmetric matrix on grids and bands of every small shape to
        /// 1e-12, with the optimal counts and bounds; one entry removed from the pattern
        /// and the same design refuses it or still recovers it exactly (the trees decide).
        #[test]
        fn closed_form_substitution_round_trips(
            nx in 1usize..=23,
            ny in 1usize..=17,
            seed in any::<u64>(),
        ) {
            let grid = generators::grid2d(nx, ny, Stencil2d::FivePoint).unwrap();
            let g = Geometry::Grid2d { nx, ny, stencil: Stencil2d::FivePoint };
            let values = values_on(&grid, seed);
            let what = format!("grid {nx}×{ny}");
            let plan = StencilDesigner::new(g, Decompression::Substitution)
                .design(&grid, MatrixKind::Symmetric)
                .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
            check_plan(&what, &plan, &values, 1e-12);
            // The formula's residues (a path of 3 or more takes all three, one more than
            // it needs; that is the formula, not the closed-form decoder), and the bound:
            // 3 with a 4-cycle, else 2 with an edge.
            let residues: std::collections::BTreeSet<usize> =
                (0..nx * ny).map(|v| (v % nx + 2 * (v / nx)) % 3).collect();
            let bound = match (nx, ny) {
                (1, 1) => 1,
                (1, _) | (_, 1) => 2,
                _ => 3,
            };
            prop_assert_eq!(plan.num_probes(), residues.len(), "{}", what);
            prop_assert_eq!(plan.lower_bound(), bound, "{}", what);
            let n = nx * ny;
            if n >= 2 {
                let band = generators::band(n, 1, 1).unwrap();
                let plan = StencilDesigner::new(Geometry::Band { beta: Some(1) }, Decompression::Substitution)
                    .design(&band, MatrixKind::Symmetric)
                    .map_err(|e| TestCaseError::fail(format!("band {n}: {e}")))?;
                check_plan(&format!("band {n}"), &plan, &values_on(&band, seed), 1e-12);
                prop_assert_eq!((plan.num_probes(), plan.lower_bound()), (2, 2));
            }
            // A grid with one coupling missing: not the full stencil, so the graph
            // checkers decide; what they accept recovers exactly.
            if nx >= 2 && ny >= 2 {
                let (a, b) = (0, nx); // the first vertical edge
                let (mut rows, mut cols) = (Vec::new(), Vec::new());
                for i in 0..n {
                    for &j in grid.row(i) {
                        if (i, j) != (a, b) && (i, j) != (b, a) {
                            rows.push(i);
                            cols.push(j);
                        }
                    }
                }
                let holed = Pattern::from_triplets(n, n, &rows, &cols).unwrap();
                if let Ok(plan) = StencilDesigner::new(g, Decompression::Substitution)
                    .design(&holed, MatrixKind::Symmetric)
                {
                    check_plan(&format!("holed {what}"), &plan, &values_on(&holed, seed), 1e-12);
                }
            }
        }

        /// Every applicable designer recovers a random matrix on a random pattern (1e-12
        /// direct and substitution, 1e-10 least squares), and decoding twice is identical.
        #[test]
        fn random_patterns_are_recovered((p, symmetric) in pattern(), seed in any::<u64>()) {
            let kind = if symmetric { MatrixKind::Symmetric } else { MatrixKind::General };
            let values = values_on(&p, seed);
            let mut all = designers(&Case { name: "", pattern: p.clone(), geometry: None });
            all.push(Box::new(RandomDesigner::new().seed(seed)));
            if symmetric {
                all.push(Box::new(SymmetricRandomDesigner::new().seed(seed)));
            }
            for d in all {
                let plan = match d.design(&p, kind) {
                    Ok(plan) => plan,
                    Err(DesignError::NotApplicable { .. }) if !symmetric => continue,
                    Err(e) => return Err(TestCaseError::fail(format!("{}: {e} on {p:?}", d.name()))),
                };
                let tol = if d.name().contains("random") { 1e-10 } else { 1e-12 };
                check_plan(&format!("{} on {p:?}", d.name()), &plan, &values, tol);
            }
        }
    }
}
