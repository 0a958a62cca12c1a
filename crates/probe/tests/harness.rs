//! The shared correctness harness for probe plans: every designer that applies to a pattern
//! of the suite recovers a seeded random matrix on that pattern to 1e-12 relative, decoding
//! twice gives identical values, probes equal colours, and the plan never uses fewer probes
//! than its lower bound.

use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::{Pattern, read_matrix_market};
use sparsediff_probe::{
    ColoredDesigner, Decompression, DesignError, Geometry, IdentityDesigner, MatrixKind,
    ProbeDesigner, RollDesigner, StencilDesigner,
};

/// Seeded values on the pattern, symmetric when the pattern is (value of (i, j) depends on
/// the unordered pair), never zero.
pub fn values_on(pattern: &Pattern, seed: u64) -> Vec<f64> {
    pattern
        .iter()
        .map(|(i, j)| {
            let (a, b) = (i.min(j) as u64, i.max(j) as u64);
            let mut h = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                ^ seed;
            h ^= h >> 31;
            h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            h ^= h >> 29;
            let u = (h >> 11) as f64 / (1u64 << 53) as f64;
            if i == j {
                4.0 + u
            } else {
                u - 0.5 + 0.01f64.copysign(u - 0.5)
            }
        })
        .collect()
}

fn data(name: &str) -> Pattern {
    let path = format!("{}/../../data/matrices/{name}", env!("CARGO_MANIFEST_DIR"));
    read_matrix_market(&path)
        .expect("shipped test matrix")
        .into_pattern()
}

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
            name: "arrow 50",
            pattern: generators::arrowhead(50, 2).unwrap(),
            geometry: None,
        },
        Case {
            name: "cartpole 25",
            pattern: generators::cartpole(25).unwrap(),
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

/// Max |recovered - exact| / max |exact|.
fn rel_error(got: &[f64], exact: &[f64]) -> f64 {
    let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(exact)
        .fold(0.0f64, |m, (g, e)| m.max((g - e).abs()))
        / scale
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
            let mut plan = match d.design(p, kind) {
                Ok(plan) => plan,
                Err(DesignError::NotApplicable { .. }) if kind == MatrixKind::General => continue,
                Err(e) => panic!("{what}: {e}"),
            };
            assert_eq!(plan.designer(), d.name());
            assert_eq!(Some(plan.num_probes()), plan.colors(), "{what}");
            assert!(
                plan.num_probes() >= plan.lower_bound(),
                "{what}: {} < {}",
                plan.num_probes(),
                plan.lower_bound()
            );
            let b = plan.exact_products(&values);
            assert_eq!((b.nrows(), b.ncols()), plan.products_shape());
            let mut first = vec![0.0; p.nnz()];
            plan.decode(b.as_ref(), &mut first)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let err = rel_error(&first, &values);
            assert!(err <= 1e-12, "{what}: relative error {err:e}");
            let mut second = vec![f64::NAN; p.nnz()];
            plan.decode(b.as_ref(), &mut second).unwrap();
            assert_eq!(first, second, "{what}: decoding twice differs");
            // Row-major products (lanes contiguous) decode to the same values.
            let rm = faer::Mat::<f64>::from_fn(b.nrows(), b.ncols(), |i, j| b[(i, j)]);
            let mut buf = vec![0.0; b.nrows() * b.ncols()];
            for i in 0..b.nrows() {
                for j in 0..b.ncols() {
                    buf[i * b.ncols() + j] = rm[(i, j)];
                }
            }
            let view = faer::MatRef::from_row_major_slice(&buf, b.nrows(), b.ncols());
            let mut third = vec![0.0; p.nnz()];
            plan.decode(view, &mut third).unwrap();
            assert_eq!(first, third, "{what}: layout changed the result");
            decoded += 1;
        }
    }
    // 9 symmetric patterns × 7 designers, 3 general ones × 4 (no symmetric designers), and
    // both stencil designs on the 4 patterns with a geometry.
    assert_eq!(decoded, 9 * 7 + 3 * 4 + 4 * 2);
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
        let mut plan = GivenColoring::new(colors, method)
            .design(&band, MatrixKind::Symmetric)
            .unwrap();
        assert_eq!(plan.num_probes(), probes);
        let b = plan.exact_products(&values);
        let mut got = vec![0.0; band.nnz()];
        plan.decode(b.as_ref(), &mut got).unwrap();
        assert!(rel_error(&got, &values) <= 1e-12, "{method}");
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
