//! Sparsity tracing: exact patterns of the benchmark problems, the rule of every elementary
//! operation (checked against num-dual Hessians), branches, errors, and a property test that
//! traced patterns contain every nonzero of num-dual Jacobians and Hessians of random
//! expressions at random points; the pattern read off a tape's compiled program against
//! the traced one.

use num_dual::{Dual64, DualNum, DualStruct, HyperDual64};
use proptest::prelude::*;
use sparsediff_ad::tape::{Tape, TapeVar};
use sparsediff_ad::trace::{
    CONSERVATIVE_RADIUS, TraceError, Tracer, hessian_pattern, hessian_pattern_conservative,
    hessian_pattern_union, hessian_pattern_with_info, jacobian_pattern,
    jacobian_pattern_conservative, jacobian_pattern_union, jacobian_pattern_with_info,
    perturbed_points,
};
use sparsediff_ad::{Binary, Curvature, Elementary, Unary};
use sparsediff_pattern::Pattern;
use sparsediff_pattern::generators::{self, Stencil2d};
use sparsediff_pattern::testing;

// ---------------------------------------------------------------------------------------
// The problems of crates/problems/spec/generic-hessians.md

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
}

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0].powi(2);
        s += t * t * 100.0 + (D::one() - w[0]).powi(2);
    }
    s
}

/// Σ over 4-neighbour edges (x_p − x_q)⁴ + Σ cos(x_p), vertex (r, c) ↦ r·s + c.
fn grid_energy<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
    let mut f = D::zero();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            if c + 1 < s {
                f += (x[p] - x[p + 1]).powi(4);
            }
            if r + 1 < s {
                f += (x[p] - x[p + s]).powi(4);
            }
            f += x[p].cos();
        }
    }
    f
}

/// F_i = x_{i+1}² − x_i·x_{i−1} + sin x_i, with x_{−1} = x_n = 0.
fn tridiagonal<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> Vec<D> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let next = if i + 1 < n { x[i + 1] } else { D::zero() };
            let prev = if i > 0 { x[i - 1] } else { D::zero() };
            next.powi(2) - x[i] * prev + x[i].sin()
        })
        .collect()
}

fn entries(p: &Pattern) -> Vec<(usize, usize)> {
    p.iter().collect()
}

#[test]
fn rosenbrock_hessian_is_the_tridiagonal_band() {
    for n in [2, 3, 4, 10, 255, 256, 257, 1000] {
        let h = hessian_pattern(&point(n), rosenbrock).unwrap();
        assert_eq!(h, generators::band(n, 1, 1).unwrap(), "n = {n}");
    }
    // n = 1: no terms, a constant function
    let h = hessian_pattern(&[0.3], rosenbrock).unwrap();
    assert_eq!(h.shape(), (1, 1));
    assert_eq!(h.nnz(), 0);
}

#[test]
fn grid_energy_hessian_is_the_five_point_stencil() {
    for s in [1, 2, 3, 5, 16, 31] {
        let h = hessian_pattern(&point(s * s), |x| grid_energy(x, s)).unwrap();
        // generic-hessians.md numbers (r, c) as r·s + c, grid2d (i, j) as i + s·j: for a
        // square grid both give the same 5-point pattern.
        assert_eq!(
            h,
            generators::grid2d(s, s, Stencil2d::FivePoint).unwrap(),
            "s = {s}"
        );
    }
}

#[test]
fn tridiagonal_jacobian_is_the_band() {
    for n in [2, 3, 17, 256, 1000] {
        let j = jacobian_pattern(&point(n), tridiagonal).unwrap();
        assert_eq!(j, generators::band(n, 1, 1).unwrap(), "n = {n}");
    }
    let j = jacobian_pattern(&[0.4], tridiagonal).unwrap();
    assert_eq!(entries(&j), [(0, 0)]);
}

#[test]
fn info_counts_nodes_records_and_comparisons() {
    let n = 100;
    let (_, info) = hessian_pattern_with_info(&point(n), rosenbrock).unwrap();
    assert_eq!((info.inputs, info.outputs, info.comparisons), (n, 1, 0));
    // per term: x_i², −, t·t, +, (1 − x_i)², +, s += : 6 nodes (the first s += 0 is free)
    assert_eq!(info.nodes, 6 * (n - 1) - 1);
    // x_i², t·t, (1 − x_i)²
    assert_eq!(info.second_order_records, 3 * (n - 1));
    let (_, info) = jacobian_pattern_with_info(&point(n), tridiagonal).unwrap();
    assert_eq!(info.outputs, n);
    assert_eq!(info.second_order_records, 0);
    // unary operations and products with the constant x₋₁ = 0 are free: F₀ and F_{n−1}
    // need 1 and 2 nodes, the others 3
    assert_eq!(info.nodes, 3 * (n - 2) + 1 + 2);
}

// ---------------------------------------------------------------------------------------
// Linear parts, products, quotients, constants

#[test]
fn linear_functions_have_empty_hessians() {
    let c = [1.5, -2.0, 0.25, 3.0];
    let x = point(4);
    let h = hessian_pattern(&x, |x| {
        x.iter().zip(c).map(|(&xi, ci)| xi * ci).sum::<Tracer>()
    })
    .unwrap();
    assert_eq!((h.shape(), h.nnz()), ((4, 4), 0));
    // affine pieces, negation, abs and % are linear too
    let h = hessian_pattern(&x, |x| {
        use num_traits::Signed;
        (-(x[0] + 2.0) * 3.0 - x[1] / 4.0 + (x[2] - x[3]).abs() + x[3] % 0.3 + 1.0 - x[0]) % 7.0
    })
    .unwrap();
    assert_eq!(h.nnz(), 0);
    let j = jacobian_pattern(&x, |x| vec![x.iter().zip(c).map(|(&xi, ci)| xi * ci).sum()]).unwrap();
    assert_eq!(j.row(0), &[0, 1, 2, 3]);
}

#[test]
fn a_product_has_only_the_mixed_entries() {
    let h = hessian_pattern(&[2.0, 3.0], |x| x[0] * x[1]).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    // plus linear terms: unchanged
    let h = hessian_pattern(&[2.0, 3.0, 4.0], |x| x[0] * x[1] + x[2] * 5.0 - x[0]).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    // a square of a sum: the full block
    let h = hessian_pattern(&[2.0, 3.0, 4.0], |x| {
        let s = x[0] + x[1];
        s * s
    })
    .unwrap();
    assert_eq!(entries(&h), [(0, 0), (0, 1), (1, 0), (1, 1)]);
    // the diagonal is not forced, but is available
    let h = hessian_pattern(&[2.0, 3.0], |x| x[0] * x[1]).unwrap();
    assert!(!h.has_full_diagonal());
    assert_eq!(h.with_diagonal().nnz(), 4);
}

#[test]
fn quotients_are_nonlinear_in_the_denominator_only() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let h = hessian_pattern(&x, |x| x[0] / x[1]).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0), (1, 1)]);
    let h = hessian_pattern(&x, |x| (x[0] + x[1]) / x[2]).unwrap();
    assert_eq!(entries(&h), [(0, 2), (1, 2), (2, 0), (2, 1), (2, 2)]);
    let h = hessian_pattern(&x, |x| x[0] / 3.0 + 2.0 / x[3]).unwrap();
    assert_eq!(entries(&h), [(3, 3)]);
    let h = hessian_pattern(&x, |x| x[0] / (x[1] * 0.0 + 5.0)).unwrap();
    assert_eq!(h.nnz(), 0);
}

#[test]
fn multiplying_by_constant_zero_removes_the_dependency_but_a_zero_value_does_not() {
    let x = [1.0, 0.0];
    let j = jacobian_pattern(&x, |x| {
        vec![x[0] * 0.0, 0.0 * x[0], x[0] * x[1], x[0].powi(0)]
    })
    .unwrap();
    assert!(j.row(0).is_empty() && j.row(1).is_empty() && j.row(3).is_empty());
    assert_eq!(j.row(2), &[0, 1]); // x1 = 0, still a dependency
}

#[test]
fn dead_code_and_compared_values_contribute_nothing() {
    let x = [0.5, 0.7, 0.9];
    let (h, info) = hessian_pattern_with_info(&x, |x| {
        let _unused = x[0] * x[1];
        let unused_sin = x[2].sin();
        if (x[0] * x[2]).exp() > unused_sin {
            x[1] * 2.0
        } else {
            x[0] * x[1]
        }
    })
    .unwrap();
    assert_eq!((h.nnz(), info.comparisons), (0, 1));
    // the second-order pairs of an intermediate reach the output through linear operations
    let h = hessian_pattern(&x, |x| {
        let p = x[0] * x[1];
        let q = -(p * 3.0 + x[2]) + 1.0;
        q - x[0]
    })
    .unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
}

#[test]
fn shared_subexpressions_do_not_blow_up() {
    // y ← sin(y·y) + y, 200 times: a DAG with 2²⁰⁰ paths.
    let h = hessian_pattern(&[0.3, 0.1], |x| {
        let mut y = x[0] + x[1];
        for _ in 0..200 {
            y = (y * y).sin() + y;
        }
        y
    })
    .unwrap();
    assert_eq!(h.nnz(), 4);
    // a long running sum whose terms are then used nonlinearly, each once
    let n = 2_000;
    let h = hessian_pattern(&point(n), |x| {
        let mut s = Tracer::constant(0.0);
        let mut f = Tracer::constant(0.0);
        for (i, &xi) in x.iter().enumerate() {
            s += xi;
            if i + 1 == n {
                f += s.powi(2);
            } else {
                f += xi * xi.cos();
            }
        }
        f
    })
    .unwrap();
    assert_eq!(h.nnz(), n * n);
}

// ---------------------------------------------------------------------------------------
// Every elementary operation: the traced pattern equals the num-dual Hessian's nonzeros

/// Every unary operation, with the constants that make an operation linear or constant.
fn unary_ops() -> impl Iterator<Item = Unary> {
    let extra = [
        Unary::Powi(0),
        Unary::Powi(1),
        Unary::Powi(2),
        Unary::Powi(-3),
        Unary::Powf(0.0),
        Unary::Powf(1.0),
        Unary::MulConst(0.0),
    ];
    Unary::SAMPLES.iter().copied().chain(extra)
}

fn unary_point(op: Unary) -> f64 {
    match op {
        Unary::Acosh => 1.7,
        Unary::Asin | Unary::Acos | Unary::Atanh => 0.3,
        _ => 0.6,
    }
}

#[test]
fn every_unary_operation_follows_its_curvature() {
    for op in unary_ops() {
        let x = [unary_point(op), 0.9];
        let constant = matches!(op, Unary::Powi(0) | Unary::Powf(0.0) | Unary::MulConst(0.0));
        let j = jacobian_pattern(&x, |x| {
            let y = x[0].unary(op);
            assert_eq!(y.value(), op.eval(x[0].value()).0, "{op:?}");
            vec![y]
        })
        .unwrap();
        assert_eq!(
            j.row(0),
            if constant { &[][..] } else { &[0][..] },
            "{op:?}"
        );
        let h = hessian_pattern(&x, |x| x[0].unary(op) + x[1]).unwrap();
        let expected: &[(usize, usize)] = match op.curvature() {
            Curvature::Linear => &[],
            _ => &[(0, 0)],
        };
        assert_eq!(entries(&h), expected, "{op:?}");
        // the rule is tight: the second derivative is nonzero at this point
        let d2 = op.eval(x[0]).2;
        assert_eq!(d2 != 0.0, !expected.is_empty(), "{op:?}: f'' = {d2}");
        // constants stay constants
        assert!(Tracer::constant(x[0]).unary(op).is_constant());
    }
}

#[test]
fn every_binary_operation_follows_its_curvature() {
    let x = [0.7, 1.3];
    for &op in Binary::ALL {
        let h = hessian_pattern(&x, |x| x[0].binary(op, x[1])).unwrap();
        let expected: &[(usize, usize)] = match op {
            Binary::Add | Binary::Sub | Binary::Rem => &[],
            Binary::Mul => &[(0, 1), (1, 0)],
            Binary::Div => &[(0, 1), (1, 0), (1, 1)],
            Binary::Atan2 => &[(0, 0), (0, 1), (1, 0), (1, 1)],
        };
        assert_eq!(entries(&h), expected, "{op:?}");
        // tight: the nonzero second derivatives at (a, b) are exactly these
        let (_, _, _, faa, fab, fbb) = op.eval(x[0], x[1]);
        let actual: Vec<(usize, usize)> =
            [((0, 0), faa), ((0, 1), fab), ((1, 0), fab), ((1, 1), fbb)]
                .into_iter()
                .filter(|&(_, v)| v != 0.0)
                .map(|(e, _)| e)
                .collect();
        assert_eq!(actual, expected, "{op:?}");
        let j = jacobian_pattern(&x, |x| vec![x[0].binary(op, x[1])]).unwrap();
        assert_eq!(j.row(0), &[0, 1], "{op:?}");

        // one constant operand: the unary operation in the other
        let h = hessian_pattern(&x, |x| x[0].binary(op, Tracer::constant(1.3))).unwrap();
        let left: &[(usize, usize)] = if op == Binary::Atan2 { &[(0, 0)] } else { &[] };
        assert_eq!(entries(&h), left, "{op:?} with a constant right");
        let h = hessian_pattern(&x, |x| Tracer::constant(0.7).binary(op, x[1])).unwrap();
        let right: &[(usize, usize)] = match op {
            Binary::Div | Binary::Atan2 => &[(1, 1)],
            _ => &[],
        };
        assert_eq!(entries(&h), right, "{op:?} with a constant left");
        let j = jacobian_pattern(&x, |x| vec![Tracer::constant(0.7).binary(op, x[1])]).unwrap();
        assert_eq!(j.row(0), &[1], "{op:?}");
        // the same operand twice
        let h = hessian_pattern(&x, |x| x[0].binary(op, x[0])).unwrap();
        let same: &[(usize, usize)] = match op.curvature() {
            Curvature::Linear => &[],
            _ => &[(0, 0)],
        };
        assert_eq!(entries(&h), same, "{op:?}(x, x)");
    }
}

#[test]
fn the_derived_functions_of_dual_num_are_traced() {
    // sph_j*, log(base), sin_cos, mul_add, powd, signum, abs_sub, max-by-comparison...
    use num_traits::{Inv, Signed};
    let x = [0.8, 1.9, 0.4];
    let h = hessian_pattern(&x, |x| {
        let (s, c) = x[0].sin_cos();
        s + c + x[1].sph_j0() + x[1].sph_j2() + x[2].log(3.0)
    })
    .unwrap();
    assert_eq!(entries(&h), [(0, 0), (1, 1), (2, 2)]);
    let h = hessian_pattern(&x, |x| x[0].signum() * x[1] + x[2].abs_sub(&x[0])).unwrap();
    assert_eq!(h.nnz(), 0);
    let h = hessian_pattern(&x, |x| x[0].mul_add(x[1], x[2]) + x[2].inv()).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0), (2, 2)]);
    let h = hessian_pattern(&x, |x| x[0].powd(x[1])).unwrap();
    assert_eq!(h.nnz(), 4);
    let h = hessian_pattern(&x, |x| x.iter().copied().product::<Tracer>()).unwrap();
    assert_eq!(
        entries(&h),
        [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    );
}

// ---------------------------------------------------------------------------------------
// Branches: local patterns, conservative mode

fn branchy(x: &[Tracer]) -> Tracer {
    if x[0] > 0.0 {
        x[0] * x[1]
    } else {
        x[1].powi(2) + x[2]
    }
}

#[test]
fn the_local_pattern_follows_the_branch_taken() {
    let h = hessian_pattern(&[0.5, 1.0, 2.0], branchy).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    let h = hessian_pattern(&[-0.5, 1.0, 2.0], branchy).unwrap();
    assert_eq!(entries(&h), [(1, 1)]);
    let (_, info) = jacobian_pattern_with_info(&[-0.5, 1.0, 2.0], |x| vec![branchy(x)]).unwrap();
    assert_eq!(info.comparisons, 1);
    // max by comparison
    let j = jacobian_pattern(&[1.0, 2.0], |x| vec![if x[0] > x[1] { x[0] } else { x[1] }]).unwrap();
    assert_eq!(j.row(0), &[1]);
}

#[test]
fn conservative_mode_unions_both_sides_when_points_straddle_the_branch() {
    let x0 = [0.01, 1.0, 2.0];
    let both = [(0, 1), (1, 0), (1, 1)];
    let h = hessian_pattern_conservative(&x0, 16, 7, branchy).unwrap();
    assert_eq!(entries(&h), both);
    // far from the switch every sample takes the same branch
    let h = hessian_pattern_conservative(&[5.0, 1.0, 2.0], 16, 7, branchy).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    // zero extra points: the local pattern
    let h = hessian_pattern_conservative(&x0, 0, 7, branchy).unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    // the samples are those of perturbed_points, which straddle 0 here
    let pts = perturbed_points(&x0, 16, CONSERVATIVE_RADIUS, 7);
    assert!(pts.iter().any(|p| p[0] > 0.0) && pts.iter().any(|p| p[0] <= 0.0));
    let j = jacobian_pattern_conservative(&x0, 16, 7, |x| vec![branchy(x), x[2]]).unwrap();
    assert_eq!(j.row(0), &[0, 1, 2]);
    assert_eq!(j.row(1), &[2]);
    // union at chosen points
    let h = hessian_pattern_union(&[[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]], branchy).unwrap();
    assert_eq!(entries(&h), both);
    let j = jacobian_pattern_union(&[vec![1.0, 1.0, 1.0]], |x| vec![branchy(x)]).unwrap();
    assert_eq!(j.row(0), &[0, 1]);
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn bad_inputs_are_errors() {
    let f = |x: &[Tracer]| vec![x[0]];
    assert!(matches!(
        jacobian_pattern(&[], f),
        Err(TraceError::EmptyInput)
    ));
    assert!(matches!(
        hessian_pattern(&[], |_| Tracer::constant(1.0)),
        Err(TraceError::EmptyInput)
    ));
    assert!(matches!(
        jacobian_pattern(&[1.0, f64::NAN, f64::INFINITY], f),
        Err(TraceError::NonFiniteInput { index: 1, .. })
    ));
    assert!(matches!(
        hessian_pattern(&[1.0, 2.0, f64::NEG_INFINITY], |x| x[0]),
        Err(TraceError::NonFiniteInput { index: 2, value }) if value == f64::NEG_INFINITY
    ));
    assert!(matches!(
        jacobian_pattern(&[1.0], |_| Vec::new()),
        Err(TraceError::NoOutputs)
    ));
    assert!(matches!(
        jacobian_pattern_conservative(&[f64::NAN], 3, 1, f),
        Err(TraceError::NonFiniteInput { index: 0, .. })
    ));
    assert!(matches!(
        jacobian_pattern_union::<[f64; 1], _>(&[], f),
        Err(TraceError::NoPoints)
    ));
    assert!(matches!(
        jacobian_pattern_union(&[vec![1.0, 2.0], vec![1.0]], f),
        Err(TraceError::InputLengthChanged {
            point: 1,
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        jacobian_pattern_union(&[[1.0], [-1.0]], |x| {
            if x[0] > 0.0 {
                vec![x[0]]
            } else {
                vec![x[0], x[0]]
            }
        }),
        Err(TraceError::OutputCountChanged {
            point: 1,
            expected: 1,
            found: 2
        })
    ));
}

#[test]
fn non_finite_values_are_errors() {
    let e = jacobian_pattern(&[1.0, -1.0], |x| vec![x[0], x[1].sqrt(), x[0] / 0.0]).unwrap_err();
    assert!(
        matches!(e, TraceError::NonFiniteOutput { output: 1, value } if value.is_nan()),
        "{e}"
    );
    let e = hessian_pattern(&[0.0], |x| x[0].ln()).unwrap_err();
    assert!(
        matches!(e, TraceError::NonFiniteOutput { output: 0, value } if value == f64::NEG_INFINITY)
    );
    // a NaN that only steers a branch
    let e = hessian_pattern(&[1.0, -1.0], |x| {
        if x[1].sqrt() > 0.0 { x[0] } else { x[0] * x[0] }
    })
    .unwrap_err();
    assert!(
        matches!(e, TraceError::NanComparison { comparison: 0 }),
        "{e}"
    );
    // a NaN intermediate that is discarded without being compared is harmless
    let h = hessian_pattern(&[1.0, -1.0], |x| {
        let _nan = x[1].sqrt();
        x[0] * x[1]
    })
    .unwrap();
    assert_eq!(h.nnz(), 2);
    // conservative mode names the perturbed point
    assert!(
        perturbed_points(&[0.01], 8, CONSERVATIVE_RADIUS, 3)
            .iter()
            .any(|p| p[0] < 0.0)
    );
    let e = hessian_pattern_conservative(&[0.01], 8, 3, |x| x[0].ln()).unwrap_err();
    assert!(
        matches!(&e, TraceError::AtPoint { point, source } if *point >= 1
            && matches!(**source, TraceError::NonFiniteOutput { output: 0, .. })),
        "{e}"
    );
}

#[test]
fn tracing_inside_a_trace_is_an_error_and_leaves_the_outer_trace_intact() {
    let mut inner = None;
    let h = hessian_pattern(&[1.0, 2.0], |x| {
        inner = Some(hessian_pattern(&[3.0], |y| y[0] * y[0]));
        x[0] * x[1]
    })
    .unwrap();
    assert_eq!(entries(&h), [(0, 1), (1, 0)]);
    assert!(matches!(inner, Some(Err(TraceError::AlreadyActive))));
    // not wrapped in AtPoint by the union functions: no point is at fault
    let mut inner = None;
    jacobian_pattern(&[1.0], |x| {
        inner = Some(jacobian_pattern_conservative(&[1.0], 2, 0, |y| vec![y[0]]));
        vec![x[0]]
    })
    .unwrap();
    assert!(matches!(inner, Some(Err(TraceError::AlreadyActive))));
}

#[test]
fn a_panic_inside_the_function_ends_the_trace() {
    let r = std::panic::catch_unwind(|| {
        let _ = hessian_pattern(&[1.0], |x| -> Tracer { panic!("user bug at {}", x[0]) });
    });
    assert!(r.is_err());
    let h = hessian_pattern(&[1.0, 2.0], |x| x[0] * x[1]).unwrap();
    assert_eq!(h.nnz(), 2);
}

#[test]
fn tracers_kept_from_another_trace_are_errors() {
    let mut kept = Vec::new();
    jacobian_pattern(&[1.0, 2.0], |x| {
        kept.extend_from_slice(x);
        vec![x[0]]
    })
    .unwrap();
    let e = hessian_pattern(&[1.0, 2.0], |x| x[0] * kept[1]).unwrap_err();
    assert!(matches!(e, TraceError::ForeignTracer), "{e}");
    let e = hessian_pattern(&[1.0, 2.0], |x| (x[0] + kept[1]).sin()).unwrap_err();
    assert!(matches!(e, TraceError::ForeignTracer), "{e}");
    let e = jacobian_pattern(&[1.0, 2.0], |_| vec![kept[0] * 2.0]).unwrap_err();
    assert!(matches!(e, TraceError::ForeignTracer), "{e}");
    // outside any trace a tracer computes values and is a constant
    let y = kept[0] * kept[1] + 1.0;
    assert!(y.is_constant());
    assert_eq!(y.value(), 3.0);
    // a constant made outside is fine inside
    let h = hessian_pattern(&[1.0, 2.0], |x| x[0] * y).unwrap();
    assert_eq!(h.nnz(), 0);
    // a stateful function that caches tracers across conservative samples is caught
    let cache = std::cell::RefCell::new(None::<Tracer>);
    let e = hessian_pattern_conservative(&[1.0, 2.0], 2, 0, |x| {
        let c = *cache.borrow_mut().get_or_insert(x[0] * x[1]);
        c * x[1]
    })
    .unwrap_err();
    assert!(
        matches!(&e, TraceError::AtPoint { point: 1, source } if matches!(**source, TraceError::ForeignTracer)),
        "{e}"
    );
}

#[test]
fn constant_outputs_give_empty_rows() {
    let j = jacobian_pattern(&[1.0, 2.0], |x| vec![Tracer::constant(4.0), x[1]]).unwrap();
    assert_eq!(entries(&j), [(1, 1)]);
    let h = hessian_pattern(&[1.0, 2.0], |_| Tracer::constant(4.0)).unwrap();
    assert_eq!((h.shape(), h.nnz()), ((2, 2), 0));
}

// ---------------------------------------------------------------------------------------
// Soundness against num-dual on random expressions

#[derive(Debug, Clone)]
enum Expr {
    Input(usize),
    Const(f64),
    Unary(u8, Box<Expr>),
    Binary(u8, Box<Expr>, Box<Expr>),
}

const N_UNARY: u8 = 12;
const N_BINARY: u8 = 7;

fn unary_op<D: DualNum<Primitive = f64> + Copy>(op: u8, a: D) -> D {
    match op {
        0 => -a,
        1 => a.sin(),
        2 => a.cos(),
        3 => a.tanh(),
        4 => a.atan(),
        5 => a.powi(2),
        6 => a.powi(3),
        7 => a * 2.5 - 1.0,
        8 => a.abs(),
        9 => (a * a + 1.0).sqrt(),
        10 => a.sin().exp(),
        _ => (a * a + 0.5).recip(),
    }
}

fn binary_op<D: DualNum<Primitive = f64> + Copy>(op: u8, a: D, b: D) -> D {
    match op {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / (b * b + 0.5),
        4 => a / b,
        5 => a.atan2(b),
        _ => {
            if a > b {
                a
            } else {
                b
            }
        }
    }
}

fn eval<D: DualNum<Primitive = f64> + Copy>(e: &Expr, x: &[D]) -> D {
    match e {
        Expr::Input(i) => x[*i],
        Expr::Const(c) => D::from(*c),
        Expr::Unary(op, a) => unary_op(*op, eval(a, x)),
        Expr::Binary(op, a, b) => binary_op(*op, eval(a, x), eval(b, x)),
    }
}

/// A straight-line program: instruction k reads two earlier values (inputs first), so values
/// are shared and some are dead; the output is the last value.
type Program = Vec<(bool, u8, usize, usize)>;

fn run_program<D: DualNum<Primitive = f64> + Copy>(p: &Program, x: &[D]) -> D {
    let mut v: Vec<D> = x.to_vec();
    for &(binary, op, a, b) in p {
        let (a, b) = (v[a % v.len()], v[b % v.len()]);
        v.push(if binary {
            binary_op(op % N_BINARY, a, b)
        } else {
            unary_op(op % N_UNARY, a)
        });
    }
    v[v.len() - 1]
}

fn expr(inputs: usize) -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => (0..inputs).prop_map(Expr::Input),
        1 => (-2.0..2.0f64).prop_map(Expr::Const),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (0..N_UNARY, inner.clone()).prop_map(|(op, a)| Expr::Unary(op, Box::new(a))),
            (0..N_BINARY, inner.clone(), inner).prop_map(|(op, a, b)| Expr::Binary(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

/// The Hessian of `f` at x by hyper-dual numbers, one pass per (i, j), j ≥ i.
fn hyperdual_hessian(f: impl Fn(&[HyperDual64]) -> HyperDual64, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for (i, j) in (0..n).flat_map(|i| (i..n).map(move |j| (i, j))) {
        let xs: Vec<HyperDual64> = x
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                HyperDual64::new(
                    v,
                    if k == i { 1.0 } else { 0.0 },
                    if k == j { 1.0 } else { 0.0 },
                    0.0,
                )
            })
            .collect();
        let v = f(&xs).eps1eps2;
        h[i][j] = v;
        h[j][i] = v;
    }
    h
}

/// The Jacobian of `f` at x by dual numbers, one pass per column.
fn dual_jacobian(f: impl Fn(&[Dual64]) -> Vec<Dual64>, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut cols = Vec::new();
    for j in 0..n {
        let xs: Vec<Dual64> = x
            .iter()
            .enumerate()
            .map(|(k, &v)| Dual64::new(v, if k == j { 1.0 } else { 0.0 }))
            .collect();
        cols.push(f(&xs).iter().map(|y| y.eps).collect::<Vec<f64>>());
    }
    let m = cols.first().map_or(0, Vec::len);
    (0..m)
        .map(|i| (0..n).map(|j| cols[j][i]).collect())
        .collect()
}

fn is_nonzero(v: f64, scale: f64) -> bool {
    v.abs() > 1e-12 * (1.0 + scale)
}

proptest! {
    #![proptest_config(testing::config(400))]

    #[test]
    fn traced_hessians_contain_every_hyperdual_nonzero(
        e in expr(4),
        x in prop::collection::vec(-2.0..2.0f64, 4),
    ) {
        let h = hyperdual_hessian(|x| eval(&e, x), &x);
        let flat: Vec<f64> = h.iter().flatten().copied().collect();
        prop_assume!(flat.iter().all(|v| v.is_finite()));
        let traced = match hessian_pattern(&x, |x| eval(&e, x)) {
            Ok(p) => p,
            Err(TraceError::NonFiniteOutput { .. } | TraceError::NanComparison { .. }) => {
                return Err(TestCaseError::reject("not finite here"));
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert!(traced.is_symmetric());
        let scale = flat.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, row) in h.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                prop_assert!(
                    !is_nonzero(v, scale) || traced.contains(i, j),
                    "H[{i}][{j}] = {v} missing from {traced:?} for {e:?}"
                );
            }
        }
    }

    #[test]
    fn traced_jacobians_contain_every_dual_nonzero(
        es in prop::collection::vec(expr(5), 1..4),
        x in prop::collection::vec(-2.0..2.0f64, 5),
    ) {
        let jac = dual_jacobian(|x| es.iter().map(|e| eval(e, x)).collect(), &x);
        prop_assume!(jac.iter().flatten().all(|v| v.is_finite()));
        let traced = match jacobian_pattern(&x, |x| es.iter().map(|e| eval(e, x)).collect()) {
            Ok(p) => p,
            Err(TraceError::NonFiniteOutput { .. } | TraceError::NanComparison { .. }) => {
                return Err(TestCaseError::reject("not finite here"));
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert_eq!(traced.shape(), (es.len(), 5));
        for (i, row) in jac.iter().enumerate() {
            let scale = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (j, &v) in row.iter().enumerate() {
                prop_assert!(
                    !is_nonzero(v, scale) || traced.contains(i, j),
                    "J[{i}][{j}] = {v} missing from {traced:?}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(testing::config(300))]

    #[test]
    fn traced_hessians_of_programs_with_shared_values_are_sound(
        p in prop::collection::vec((any::<bool>(), any::<u8>(), any::<usize>(), any::<usize>()), 1..40),
        x in prop::collection::vec(-1.5..1.5f64, 4),
    ) {
        let h = hyperdual_hessian(|x| run_program(&p, x), &x);
        let flat: Vec<f64> = h.iter().flatten().copied().collect();
        prop_assume!(flat.iter().all(|v| v.is_finite()));
        let traced = match hessian_pattern(&x, |x| run_program(&p, x)) {
            Ok(t) => t,
            Err(TraceError::NonFiniteOutput { .. } | TraceError::NanComparison { .. }) => {
                return Err(TestCaseError::reject("not finite here"));
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let scale = flat.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, row) in h.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                prop_assert!(
                    !is_nonzero(v, scale) || traced.contains(i, j),
                    "H[{i}][{j}] = {v} missing from {traced:?}"
                );
            }
        }
        // the Jacobian of the program's last value: the first-order set of the output
        let g = dual_jacobian(|x| vec![run_program(&p, x)], &x);
        let j = jacobian_pattern(&x, |x| vec![run_program(&p, x)]).unwrap();
        for (k, &v) in g[0].iter().enumerate() {
            prop_assert!(v == 0.0 || j.contains(0, k), "dF/dx{k} = {v} missing");
        }
    }
}

#[test]
fn benchmark_problems_agree_with_hyperdual_hessians() {
    // small instances: the traced pattern is exactly the structural pattern here
    let x = point(7);
    let h = hyperdual_hessian(rosenbrock, &x);
    let traced = hessian_pattern(&x, rosenbrock).unwrap();
    for (i, row) in h.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert_eq!(v != 0.0, traced.contains(i, j), "({i}, {j})");
        }
    }
    let s = 3;
    let x = point(s * s);
    let h = hyperdual_hessian(|x| grid_energy(x, s), &x);
    let traced = hessian_pattern(&x, |x| grid_energy(x, s)).unwrap();
    for (i, row) in h.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert_eq!(v != 0.0, traced.contains(i, j), "({i}, {j})");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The pattern from a tape's compiled program (`Tape::hessian_pattern`) against the trace:
// programs cut into row blocks, and `None` wherever the program cannot stand for the trace
// (comparisons, raw value reads, NaN comparisons, `0·x`, another point, a non-finite
// output). Random functions: `tape/segmented/random_tests.rs`.

/// The grid energy written so that the compile folds and fuses (`d2 = d·d`, `d2·d2`) and
/// meets operations that are linear for the tracer though fused (`abs`) or kept binary
/// with a constant side (`atan2`).
fn fused_grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
    let mut f = D::zero();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            for q in [(c + 1 < s).then(|| p + 1), (r + 1 < s).then(|| p + s)]
                .into_iter()
                .flatten()
            {
                let d = x[p] - x[q];
                let d2 = d * d;
                f += d2 * d2;
            }
            f += x[p].cos() + (x[p] * 0.5).atan2(D::from(2.0)) + (x[p] / 3.0).abs();
        }
    }
    f
}

#[test]
fn programs_cut_into_row_blocks_give_the_traced_pattern() {
    let n = 150_000;
    let x = point(n);
    let tape = Tape::record_scalar(&x, rosenbrock).unwrap();
    assert!(tape.hvp_chunks().is_some_and(|k| k >= 2));
    let (p, info) = tape.hessian_pattern(&x).unwrap().unwrap();
    let (want, traced) = hessian_pattern_with_info(&x, rosenbrock).unwrap();
    assert_eq!(p, want);
    assert_eq!(p.nnz(), 3 * n - 2);
    assert!(info.nodes < traced.nodes, "{info:?} {traced:?}");

    let s = 400;
    let x = point(s * s);
    let tape = Tape::record_scalar(&x, |v| fused_grid(v, s)).unwrap();
    assert!(tape.hvp_chunks().is_some_and(|k| k >= 2));
    let (p, _) = tape.hessian_pattern(&x).unwrap().unwrap();
    assert_eq!(
        p,
        hessian_pattern_with_info(&x, |v| fused_grid(v, s))
            .unwrap()
            .0
    );
    assert_eq!(p.nnz(), 5 * s * s - 4 * s);
}

#[test]
fn recordings_that_cannot_stand_for_a_trace_are_not_answered() {
    let x = [0.5, 1.5, 2.0];
    let record = |f: fn(&[TapeVar]) -> TapeVar| Tape::record_scalar(&x, f).unwrap();
    // Answered, and only at the recorded point (bit for bit).
    let plain = record(|v| (v[0] * v[1]).sin() + v[2]);
    assert!(plain.hessian_pattern(&x).is_some());
    assert!(
        plain
            .hessian_pattern(&[0.5, 1.5, f64::from_bits(2.0f64.to_bits() + 1)])
            .is_none()
    );
    assert!(plain.hessian_pattern(&[0.5, 1.5]).is_none());
    // A comparison of variables.
    let branchy = record(|v| if v[0] > v[1] { v[0] * v[0] } else { v[1].sin() });
    assert!(branchy.hessian_pattern(&x).is_none());
    // A raw value read.
    let reads = record(|v| v[0] * v[1].re());
    assert!(reads.hessian_pattern(&x).is_none());
    // A comparison with NaN, of constants only (the tracer refuses it).
    let nan = record(|v| {
        let c = TapeVar::from(f64::NAN);
        if c < TapeVar::from(1.0) {
            v[0]
        } else {
            v[1] * v[2]
        }
    });
    assert!(nan.hessian_pattern(&x).is_none());
    assert!(
        hessian_pattern_with_info(&x, |v| {
            let c = Tracer::from(f64::NAN);
            if c < Tracer::from(1.0) {
                v[0]
            } else {
                v[1] * v[2]
            }
        })
        .is_err()
    );
    // 0·x kept in the program (the tracer makes it a constant), fused and unfused.
    let fused = record(|v| (v[0] * 0.0 + v[1]).sin());
    assert!(fused.hessian_pattern(&x).is_none());
    let unfused = record(|v| (v[0] * 0.0) * v[1]);
    assert!(unfused.hessian_pattern(&x).is_none());
    // A non-finite output.
    let infinite = record(|v| (v[0] - 0.5).ln() * v[1]);
    assert!(infinite.hessian_pattern(&x).is_none());
    // A vector function.
    let vector = Tape::record(&x, |v| vec![v[0] * v[1], v[2].sin()]).unwrap();
    assert!(vector.hessian_pattern(&x).is_none());
}
