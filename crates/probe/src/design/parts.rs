//! Rebuilding a plan from its parts (pattern, seeds, recovery): what a saved plan holds. The
//! parts are checked exactly as a user's colouring or samples would be; nothing read from a
//! file is trusted.

use std::sync::Arc;

use sparsediff_coloring::Method;
use sparsediff_coloring::check::structurally_orthogonal_columns;
use sparsediff_pattern::Pattern;

use crate::decode::{Decoder, RollDecoder, SymmetricLeastSquaresDecoder};
use crate::design::{GivenColoring, check_colors};
use crate::error::{DesignError, Inapplicable};
use crate::plan::{MatrixKind, Orientation, ProbeDesigner, ProbePlan, Recovery, Seeds};

impl ProbePlan {
    /// Rebuilds a plan from its parts, re-checking them: group seeds must be valid for the
    /// recovery (structurally orthogonal, star, acyclic, a stride covering every row's
    /// span), dense seeds must give full-rank least-squares systems. Errors name what is
    /// wrong, as for a user colouring; group seeds with more probes than vertices
    /// ([`DesignError::TooManyProbes`]) or a label not below their probe count
    /// ([`DesignError::ColorOutOfRange`]), a zero stride ([`DesignError::Parameter`]) and
    /// dense seeds beyond [`MAX_DENSE_ENTRIES`](crate::MAX_DENSE_ENTRIES)
    /// ([`DesignError::DenseTooLarge`]) are refused before anything is sized by them.
    pub fn from_parts(
        designer: &str,
        kind: MatrixKind,
        pattern: &Pattern,
        seeds: Seeds,
        recovery: Recovery,
    ) -> Result<ProbePlan, DesignError> {
        let expected_rows = if recovery == Recovery::Rows {
            pattern.nrows()
        } else {
            pattern.ncols()
        };
        seeds.check()?;
        if seeds.dim() != expected_rows {
            return Err(DesignError::SeedShape {
                rows: seeds.dim(),
                cols: seeds.num_probes(),
                expected_rows,
            });
        }
        // Group seeds never need more probes than vertices, nor a label beyond their probe
        // count: refused before anything is sized by them.
        if let Seeds::Groups { group, num_probes } = &seeds {
            if *num_probes > expected_rows {
                return Err(DesignError::TooManyProbes {
                    probes: *num_probes,
                    vertices: expected_rows,
                });
            }
            check_colors(group, *num_probes)?;
        }
        let wrong_seeds = |needed: &'static str| DesignError::NotApplicable {
            designer: "loaded",
            reason: Inapplicable::WrongSeeds { recovery, needed },
        };
        let mut plan = match (recovery, seeds) {
            (Recovery::Columns, Seeds::Groups { group, .. }) => {
                GivenColoring::new(group, Method::Cpr).design(pattern, kind)?
            }
            (Recovery::Rows, Seeds::Groups { group, .. }) => {
                GivenColoring::rows(group).design(pattern, kind)?
            }
            (Recovery::Star, Seeds::Groups { group, .. }) => {
                GivenColoring::new(group, Method::Star).design(pattern, kind)?
            }
            (Recovery::Substitution, Seeds::Groups { group, .. }) => {
                GivenColoring::new(group, Method::Acyclic).design(pattern, kind)?
            }
            (Recovery::Roll { stride }, Seeds::Groups { group, num_probes }) => {
                if stride == 0 {
                    return Err(DesignError::Parameter {
                        name: "stride",
                        value: stride.to_string(),
                        reason: "must be at least 1",
                    });
                }
                let stride_ok =
                    stride == num_probes && group.iter().enumerate().all(|(j, &g)| g == j % stride);
                if !stride_ok {
                    return Err(DesignError::Parameter {
                        name: "stride",
                        value: stride.to_string(),
                        reason: "does not match the stride seeds",
                    });
                }
                // Every row must span fewer than stride + 1 columns: then the stride groups
                // are structurally orthogonal, which the checker confirms.
                structurally_orthogonal_columns(pattern, &group).map_err(|violation| {
                    DesignError::InvalidColoring {
                        designer: "roll",
                        violation,
                    }
                })?;
                let pattern = Arc::new(pattern.clone());
                ProbePlan {
                    designer: "roll".into(),
                    kind,
                    orientation: Orientation::Columns,
                    lower_bound: pattern.row_stats().max,
                    decoder: Decoder::Roll(RollDecoder::new(Arc::clone(&pattern), stride)),
                    pattern,
                    seeds: Seeds::Groups { group, num_probes },
                    colors: Some(stride),
                    recovery,
                }
            }
            (Recovery::RowLeastSquares, seeds @ Seeds::Dense { .. }) => {
                ProbePlan::from_dense_seeds(pattern, kind, seeds, crate::decode::DEFAULT_RANK_TOL)?
            }
            (Recovery::SymmetricLeastSquares, seeds @ Seeds::Dense { .. }) => {
                if kind != MatrixKind::Symmetric {
                    return Err(DesignError::NotApplicable {
                        designer: "symmetric-random",
                        reason: Inapplicable::NeedsSymmetric,
                    });
                }
                let s = seeds.as_mat().expect("dense seeds, checked");
                let decoder = SymmetricLeastSquaresDecoder::from_samples(pattern, s, 1)?;
                let n = pattern.nrows();
                let unknowns = pattern.iter().filter(|(i, j)| j <= i).count();
                ProbePlan {
                    designer: "symmetric-random".into(),
                    kind,
                    orientation: Orientation::Columns,
                    pattern: Arc::new(pattern.clone()),
                    lower_bound: unknowns.div_ceil(n.max(1)),
                    seeds,
                    colors: None,
                    recovery,
                    decoder: Decoder::SymmetricLeastSquares(decoder),
                }
            }
            (Recovery::RowLeastSquares | Recovery::SymmetricLeastSquares, Seeds::Groups { .. }) => {
                return Err(wrong_seeds("dense"));
            }
            (_, Seeds::Dense { .. }) => return Err(wrong_seeds("group")),
            (Recovery::Custom, _) => {
                return Err(DesignError::NotApplicable {
                    designer: "loaded",
                    reason: Inapplicable::CustomDecoder,
                });
            }
        };
        plan.designer = designer.to_string().into();
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ColoredDesigner, RandomDesigner, RollDesigner, SymmetricRandomDesigner};
    use sparsediff_coloring::NEUTRAL;
    use sparsediff_pattern::generators;

    #[test]
    fn every_recovery_round_trips_through_its_parts() {
        // sparse 5×5 blocks on a block tridiagonal: irregular rows
        let p = generators::block_band(12, 5, 1, 1)
            .unwrap()
            .filter(|i, j| i == j || (i % 5 + j % 5) % 3 != 0);
        let values = crate::compare::random_values(&p, 4, true);
        let designers: Vec<Box<dyn ProbeDesigner>> = vec![
            Box::new(RollDesigner),
            Box::new(ColoredDesigner::cpr()),
            Box::new(ColoredDesigner::cpr_rows()),
            Box::new(ColoredDesigner::star()),
            Box::new(ColoredDesigner::acyclic()),
            Box::new(RandomDesigner::new()),
            Box::new(SymmetricRandomDesigner::new()),
        ];
        for d in designers {
            let plan = d.design(&p, MatrixKind::Symmetric).unwrap();
            let again = ProbePlan::from_parts(
                plan.designer(),
                plan.kind(),
                plan.pattern(),
                plan.seeds().clone(),
                plan.recovery(),
            )
            .unwrap();
            assert_eq!(again.designer(), plan.designer());
            assert_eq!(again.num_probes(), plan.num_probes());
            let b = plan.exact_products(&values);
            let (mut x, mut y) = (vec![0.0; p.nnz()], vec![0.0; p.nnz()]);
            plan.decode(b.as_ref(), &mut x).unwrap();
            again.decode(b.as_ref(), &mut y).unwrap();
            // Least squares may be re-factorised differently (pivoted QR for samples).
            let tol = if plan.seeds().to_dense().ncols() > 0
                && matches!(plan.seeds(), Seeds::Dense { .. })
            {
                1e-12
            } else {
                0.0
            };
            assert!(
                crate::compare::max_rel_error(&y, &x) <= tol,
                "{}",
                plan.designer()
            );
        }
    }

    #[test]
    fn tampered_parts_are_refused() {
        let p = generators::band(20, 2, 2).unwrap();
        let bad = Seeds::Groups {
            group: (0..20).map(|j| j % 3).collect(),
            num_probes: 3,
        };
        assert!(matches!(
            ProbePlan::from_parts(
                "star",
                MatrixKind::Symmetric,
                &p,
                bad.clone(),
                Recovery::Star
            ),
            Err(DesignError::InvalidColoring { .. })
        ));
        assert!(
            ProbePlan::from_parts(
                "roll",
                MatrixKind::Symmetric,
                &p,
                bad.clone(),
                Recovery::Roll { stride: 3 }
            )
            .is_err()
        );
        assert!(matches!(
            ProbePlan::from_parts(
                "random",
                MatrixKind::Symmetric,
                &p,
                bad,
                Recovery::RowLeastSquares
            ),
            Err(DesignError::NotApplicable { .. })
        ));
        let short = Seeds::Groups {
            group: vec![0; 5],
            num_probes: 1,
        };
        assert!(matches!(
            ProbePlan::from_parts("cpr", MatrixKind::Symmetric, &p, short, Recovery::Columns),
            Err(DesignError::SeedShape { rows: 5, .. })
        ));
    }

    #[test]
    fn absurd_probe_counts_and_labels_are_refused() {
        let p = generators::band(20, 2, 2).unwrap();
        let parts = |group: Vec<usize>, num_probes, recovery| {
            ProbePlan::from_parts(
                "loaded",
                MatrixKind::Symmetric,
                &p,
                Seeds::Groups { group, num_probes },
                recovery,
            )
        };
        // A zero stride used to divide by zero.
        assert!(matches!(
            parts(vec![NEUTRAL; 20], 0, Recovery::Roll { stride: 0 }),
            Err(DesignError::Parameter { name: "stride", .. })
        ));
        // More probes than vertices: the stride seeds j mod 2^40 are j for every column.
        let huge = 1usize << 40;
        assert!(matches!(
            parts((0..20).collect(), huge, Recovery::Roll { stride: huge }),
            Err(DesignError::TooManyProbes {
                probes,
                vertices: 20
            }) if probes == huge
        ));
        // A label beyond the declared probes (NEUTRAL is not a label).
        let mut group: Vec<usize> = (0..20).map(|j| j % 5).collect();
        group[3] = NEUTRAL;
        group[7] = 5;
        assert!(matches!(
            parts(group, 5, Recovery::Columns),
            Err(DesignError::ColorOutOfRange {
                vertex: 7,
                color: 5,
                limit: 5
            })
        ));
        // Labels beyond the vertices, whatever probe count is declared.
        let mut group: Vec<usize> = (0..20).map(|j| j % 5).collect();
        group[1] = (1 << 63) - 1;
        assert!(matches!(
            parts(group, 20, Recovery::Star),
            Err(DesignError::ColorOutOfRange {
                vertex: 1,
                limit: 20,
                ..
            })
        ));
    }
}
