//! The reverse tape: every elementary operation, Rosenbrock, the 2-D grid energy and the
//! tridiagonal vector function against analytic derivatives and num-dual (1e-12 relative);
//! HVP blocks against H·D; grouped HVPs against dense ones; replays against fresh
//! recordings; branch guards; errors; no allocation on replay.

use nalgebra::SVector;
use num_dual::{Dual2SVec64, DualNum, DualSVec64, hessian, jacobian};
use proptest::prelude::*;
use sparsediff_ad::tape::{Buffer, Instruction, Location, Recorded, Tape, TapeError, TapeVar};
use sparsediff_ad::{Binary, Elementary, Unary};
use sparsediff_pattern::testing::{self, CountingAllocator, randoms};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

// ---------------------------------------------------------------------------------------
// Helpers

const TOL: f64 = 1e-12;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * a.abs().max(b.abs()).max(1.0)
}

#[track_caller]
fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w), "{what}[{i}]: got {g}, want {w}");
    }
}

/// The benchmark point of the problem files.
fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
}

/// The full Hessian (row-major n×n) through `hvp_block` with the identity.
fn tape_hessian(tape: &mut Tape, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut eye = vec![0.0; n * n];
    for j in 0..n {
        eye[j * n + j] = 1.0;
    }
    let mut h = vec![0.0; n * n];
    tape.hvp_block(x, &eye, &mut h).unwrap();
    h
}

/// `A·D` for a matrix given as triplets (duplicates add), D n×p row-major.
fn triplet_times(t: &[(usize, usize, f64)], d: &[f64], n: usize, p: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * p];
    for &(i, j, v) in t {
        for c in 0..p {
            out[i * p + c] += v * d[j * p + c];
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Problems (generic over the scalar)

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i].powi(2);
        let u = D::one() - x[i];
        s += t.powi(2) * 100.0 + u.powi(2);
    }
    s
}

fn rosenbrock_gradient(x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
    g
}

fn rosenbrock_hessian(x: &[f64]) -> Vec<(usize, usize, f64)> {
    let mut h = Vec::new();
    for i in 0..x.len() - 1 {
        h.push((i, i, 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0));
        h.push((i, i + 1, -400.0 * x[i]));
        h.push((i + 1, i, -400.0 * x[i]));
        h.push((i + 1, i + 1, 200.0));
    }
    h
}

fn grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
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

fn grid_hessian(x: &[f64], s: usize) -> Vec<(usize, usize, f64)> {
    let mut h = Vec::new();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            let mut edge = |q: usize| {
                let w = 12.0 * (x[p] - x[q]).powi(2);
                h.extend([(p, p, w), (q, q, w), (p, q, -w), (q, p, -w)]);
            };
            if c + 1 < s {
                edge(p + 1);
            }
            if r + 1 < s {
                edge(p + s);
            }
            h.push((p, p, -x[p].cos()));
        }
    }
    h
}

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

fn tridiagonal_jacobian(x: &[f64]) -> Vec<(usize, usize, f64)> {
    let n = x.len();
    let mut j = Vec::new();
    for i in 0..n {
        let prev = if i > 0 { x[i - 1] } else { 0.0 };
        j.push((i, i, -prev + x[i].cos()));
        if i + 1 < n {
            j.push((i, i + 1, 2.0 * x[i + 1]));
        }
        if i > 0 {
            j.push((i, i - 1, -x[i]));
        }
    }
    j
}

// ---------------------------------------------------------------------------------------
// Every elementary operation against num-dual

/// Every unary operation but the remainders (num-dual has no `%` for duals: see
/// `remainders_match_their_calculus`), with more exponents.
fn unary_ops() -> impl Iterator<Item = Unary> {
    let extra = [
        Unary::Powi(2),
        Unary::Powi(-2),
        Unary::Powf(-0.5),
        Unary::Powi(5),
    ];
    Unary::SAMPLES
        .iter()
        .copied()
        .filter(|op| !matches!(op, Unary::RemConst(_) | Unary::ConstRem(_)))
        .chain(extra)
}

/// `op(u)` through the `DualNum` interface (constants on the left through `D::from`).
fn apply<D: DualNum<Primitive = f64> + Copy>(op: Unary, u: D) -> D {
    use Unary::*;
    match op {
        Neg => -u,
        Recip => u.recip(),
        Sqrt => u.sqrt(),
        Cbrt => u.cbrt(),
        Exp => u.exp(),
        Exp2 => u.exp2(),
        ExpM1 => u.exp_m1(),
        Ln => u.ln(),
        Log2 => u.log2(),
        Log10 => u.log10(),
        Ln1p => u.ln_1p(),
        Sin => u.sin(),
        Cos => u.cos(),
        Tan => u.tan(),
        Asin => u.asin(),
        Acos => u.acos(),
        Atan => u.atan(),
        Sinh => u.sinh(),
        Cosh => u.cosh(),
        Tanh => u.tanh(),
        Asinh => u.asinh(),
        Acosh => u.acosh(),
        Atanh => u.atanh(),
        Abs => u.abs(),
        AddConst(c) => u + c,
        MulConst(c) => u * c,
        SubFromConst(c) => D::from(c) - u,
        DivConst(c) => D::from(c) / u,
        RemConst(c) => u % c,
        ConstRem(c) => D::from(c) % u,
        Powi(n) => u.powi(n),
        Powf(a) => u.powf(a),
    }
}

/// A two-input function exercising `op` with nonzero first and second derivatives.
fn unary_case<D: DualNum<Primitive = f64> + Copy>(op: Unary, x: &[D]) -> D {
    let base = match op {
        Unary::Acosh => 1.5,
        Unary::Asin | Unary::Acos | Unary::Atanh => 0.1,
        Unary::Abs => -0.9,
        _ => 0.5,
    };
    let u = x[0] * 0.3 + x[1] * x[0] * 0.2 + base;
    apply(op, u) * (x[1] * 0.5 + 1.0)
}

fn binary_case<D: DualNum<Primitive = f64> + Copy>(op: Binary, x: &[D]) -> D {
    let a = x[0] * x[1] + 0.4;
    let b = x[1].sin() + x[0] * 0.5 + 0.9;
    let v = match op {
        Binary::Add => a + b,
        Binary::Sub => a - b,
        Binary::Mul => a * b,
        Binary::Div => a / b,
        Binary::Rem => a % b,
        Binary::Atan2 => a.atan2(b),
    };
    v * (x[0] + 2.0)
}

/// Value, gradient and Hessian from num-dual (2 inputs).
fn reference2(
    f: impl Fn(&[Dual2SVec64<2>]) -> Dual2SVec64<2>,
    x: [f64; 2],
) -> (f64, Vec<f64>, Vec<f64>) {
    let (v, g, h) = hessian(
        |v: SVector<Dual2SVec64<2>, 2>| f(v.as_slice()),
        &SVector::from(x),
    );
    (
        v,
        g.iter().copied().collect(),
        (0..4).map(|k| h[(k / 2, k % 2)]).collect(),
    )
}

fn check_scalar(tape: &mut Tape, x: &[f64], v: f64, g: &[f64], h: &[f64], what: &str) {
    let mut out = [0.0];
    tape.eval(x, &mut out).unwrap();
    assert_close(&out, &[v], &format!("{what} value"));
    let mut grad = vec![0.0; x.len()];
    let val = tape.gradient(x, &mut grad).unwrap();
    assert!(close(val, v), "{what}: gradient's value");
    assert_close(&grad, g, &format!("{what} gradient"));
    assert_close(&tape_hessian(tape, x), h, &format!("{what} Hessian"));
}

#[test]
fn every_unary_matches_num_dual() {
    let x = [0.4, 0.7];
    for op in unary_ops() {
        let (v, g, h) = reference2(|v| unary_case(op, v), x);
        let mut tape = Tape::record_scalar(&x, |v| unary_case(op, v)).unwrap();
        check_scalar(&mut tape, &x, v, &g, &h, &format!("{op:?}"));
        // The same tape at another point (values, gradient, Hessian).
        let y = [0.45, 0.66];
        let (v, g, h) = reference2(|v| unary_case(op, v), y);
        check_scalar(&mut tape, &y, v, &g, &h, &format!("{op:?} replayed"));
    }
}

#[test]
fn remainders_match_their_calculus() {
    // num-dual has no `%` for duals: compare against the rules of `op.rs` directly.
    // f(x) = (u % c) · w and (c % u) · w with u = 0.3 x0 + 0.2 x0 x1 + 0.5, w = 0.5 x1 + 1.
    let x = [0.4f64, 0.7];
    let u = x[0] * 0.3 + x[1] * x[0] * 0.2 + 0.5;
    let du = [0.3 + 0.2 * x[1], 0.2 * x[0]];
    let w = x[1] * 0.5 + 1.0;
    for op in [Unary::RemConst(0.25), Unary::ConstRem(5.0)] {
        let (r, dr, _) = op.eval(u);
        let g = [dr * du[0] * w, dr * du[1] * w + r * 0.5];
        // Second derivatives: r″ = 0, so H = r′ (∇²u w + ∇u ∇wᵀ + ∇w ∇uᵀ).
        let h = [
            0.0,
            dr * (0.2 * w + du[0] * 0.5),
            dr * (0.2 * w + du[0] * 0.5),
            dr * (2.0 * du[1] * 0.5),
        ];
        let mut tape = Tape::record_scalar(&x, |v| unary_case(op, v)).unwrap();
        check_scalar(&mut tape, &x, r * w, &g, &h, &format!("{op:?}"));
    }
    // a % b with both variables.
    let mut tape = Tape::record_scalar(&x, |v| binary_case(Binary::Rem, v)).unwrap();
    let (a, b) = (x[0] * x[1] + 0.4, x[1].sin() + x[0] * 0.5 + 0.9);
    let (r, ra, rb, ..) = Binary::Rem.eval(a, b);
    let (da, db) = ([x[1], x[0]], [0.5, x[1].cos()]);
    let dr = [ra * da[0] + rb * db[0], ra * da[1] + rb * db[1]];
    let w = x[0] + 2.0;
    let g = [dr[0] * w + r, dr[1] * w];
    let mut grad = [0.0; 2];
    let v = tape.gradient(&x, &mut grad).unwrap();
    assert!(close(v, r * w));
    assert_close(&grad, &g, "a % b gradient");
}

#[test]
fn every_binary_matches_num_dual() {
    let x = [0.4, 0.7];
    for op in [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Atan2,
    ] {
        let (v, g, h) = reference2(|v| binary_case(op, v), x);
        let mut tape = Tape::record_scalar(&x, |v| binary_case(op, v)).unwrap();
        check_scalar(&mut tape, &x, v, &g, &h, &format!("{op:?}"));
    }
}

/// Binary operations with a constant on either side fold into one instruction (or, for
/// `atan2`, a materialised constant) and keep their derivatives.
#[test]
fn constants_on_either_side() {
    fn f<D: DualNum<Primitive = f64> + Copy>(k: usize, x: &[D]) -> D {
        let c = D::from(1.7);
        let u = x[0] * x[1] + 0.3;
        match k {
            0 => c - u,
            1 => c / u,
            2 => u * c,
            3 => c * u,
            4 => u / c,
            5 => u - c,
            6 => c + u,
            7 => c.atan2(u),
            _ => u.atan2(c),
        }
    }
    let x = [0.4, 0.7];
    for k in 0..9 {
        let (v, g, h) = reference2(|v| f(k, v), x);
        let mut tape = Tape::record_scalar(&x, |v| f(k, v)).unwrap();
        check_scalar(&mut tape, &x, v, &g, &h, &format!("case {k}"));
        let expected_len = if k >= 7 { 4 } else { 3 }; // Mul, AddConst, the op (+ Const)
        assert_eq!(tape.len(), expected_len, "case {k}");
    }
}

#[test]
fn constant_folding_keeps_the_tape_short() {
    let tape = Tape::record_scalar(&[1.0, 2.0], |x| {
        let c = TapeVar::constant(3.0);
        let folded = (c * c).sin() + c.exp(); // constants only: no instruction
        let y = x[0] + 0.0; // identity: no instruction
        let y = y * 1.0; // identity
        let z = TapeVar::constant(2.0) - y; // one SubFromConst
        z + folded // one AddConst
    })
    .unwrap();
    assert_eq!(tape.len(), 2);
    assert_eq!(
        tape.instruction(0),
        Some(Instruction::Unary {
            op: Unary::SubFromConst(2.0),
            arg: 0
        })
    );
    match tape.instruction(1) {
        Some(Instruction::Unary {
            op: Unary::AddConst(c),
            arg: 2,
        }) => assert_eq!(c, 9f64.sin() + 3f64.exp()),
        other => panic!("{other:?}"),
    }
    assert_eq!(tape.instruction(2), None);
    // Dead code is recorded but not replayed.
    let tape = Tape::record_scalar(&[1.0], |x| {
        let _unused = x[0].exp();
        x[0].sin()
    })
    .unwrap();
    assert_eq!((tape.len(), tape.replay_len()), (2, 1));
}

#[test]
fn constant_and_input_outputs() {
    // Outputs: a constant, an input, the same node twice.
    let mut tape = Tape::record(&[1.0, 2.0], |x| {
        let y = x[0] * x[1];
        vec![TapeVar::constant(4.0), x[1], y, y]
    })
    .unwrap();
    assert_eq!(tape.num_outputs(), 4);
    let x = [3.0, 5.0];
    let mut out = [0.0; 4];
    tape.eval(&x, &mut out).unwrap();
    assert_eq!(out, [4.0, 5.0, 15.0, 15.0]);
    // Jᵀ·S with two lanes.
    let seeds = [1.0, 0.0, 1.0, 2.0, 0.5, 0.0, 0.5, 1.0];
    let mut vjp = [0.0; 4];
    tape.vjp_block(&x, &seeds, &mut vjp).unwrap();
    // d/dx0: y rows (x1 = 5) with seeds 0.5 + 0.5 (lane 0), 0 + 1 (lane 1).
    assert_eq!(vjp, [5.0, 5.0, 1.0 + 3.0, 2.0 + 3.0]);
    let mut jvp = [0.0; 8];
    tape.jvp_block(&x, &[1.0, 0.0, 0.0, 1.0], &mut jvp).unwrap();
    assert_eq!(jvp, [0.0, 0.0, 0.0, 1.0, 5.0, 3.0, 5.0, 3.0]);
}

// ---------------------------------------------------------------------------------------
// Problems

#[test]
fn rosenbrock_against_analytic_and_num_dual() {
    let n = 1000;
    let x = point(n);
    let mut tape = Tape::record_scalar(&x, rosenbrock).unwrap();
    let mut g = vec![0.0; n];
    let v = tape.gradient(&x, &mut g).unwrap();
    assert!(close(v, rosenbrock(&x)));
    assert_close(&g, &rosenbrock_gradient(&x), "gradient");
    // HVP blocks equal H·D for random D (p = 3, and p = 11: two chunks).
    for (p, seed) in [(3, 7u64), (11, 8)] {
        let d = randoms(n * p, seed);
        let mut hd = vec![0.0; n * p];
        tape.hvp_block(&x, &d, &mut hd).unwrap();
        assert_close(
            &hd,
            &triplet_times(&rosenbrock_hessian(&x), &d, n, p),
            "H·D",
        );
    }
    // num-dual's Hessian on a small instance.
    let x6 = [0.3, -0.8, 1.1, 0.5, 0.9, -0.2];
    let (v6, g6, h6) = hessian(
        |v: SVector<Dual2SVec64<6>, 6>| rosenbrock(v.as_slice()),
        &SVector::from(x6),
    );
    let mut small = Tape::record_scalar(&x6, rosenbrock).unwrap();
    let h: Vec<f64> = (0..36).map(|k| h6[(k / 6, k % 6)]).collect();
    let g6: Vec<f64> = g6.iter().copied().collect();
    check_scalar(&mut small, &x6, v6, &g6, &h, "rosenbrock n=6");
}

#[test]
fn grouped_hvps_equal_dense_ones() {
    let n = 1000;
    let x = point(n);
    let mut tape = Tape::record_scalar(&x, rosenbrock).unwrap();
    for (p, skip) in [(2, usize::MAX), (3, usize::MAX), (3, 5), (9, usize::MAX)] {
        // Input `skip` (if any) in no group.
        let group: Vec<usize> = (0..n)
            .map(|j| if j == skip { usize::MAX } else { j % p })
            .collect();
        let mut d = vec![0.0; n * p];
        for (j, &g) in group.iter().enumerate() {
            if g != usize::MAX {
                d[j * p + g] = 1.0;
            }
        }
        let mut dense = vec![0.0; n * p];
        tape.hvp_block(&x, &d, &mut dense).unwrap();
        let mut grouped = vec![0.0; n * p];
        tape.hvp_groups(&x, &group, p, &mut grouped).unwrap();
        assert_eq!(grouped, dense, "p = {p}");
        assert_close(
            &dense,
            &triplet_times(&rosenbrock_hessian(&x), &d, n, p),
            "H·S",
        );
        // Again (the analysis is cached) at another point.
        let y = randoms(n, 3);
        tape.hvp_groups(&y, &group, p, &mut grouped).unwrap();
        tape.hvp_block(&y, &d, &mut dense).unwrap();
        assert_eq!(grouped, dense, "p = {p}, replayed");
    }
}

#[test]
fn grid_energy_against_analytic_and_num_dual() {
    let s = 4;
    let x = point(s * s);
    let (v, g, h) = hessian(
        |v: SVector<Dual2SVec64<16>, 16>| grid(v.as_slice(), s),
        &SVector::from_column_slice(&x),
    );
    let mut tape = Tape::record_scalar(&x, |v| grid(v, s)).unwrap();
    let h: Vec<f64> = (0..256).map(|k| h[(k / 16, k % 16)]).collect();
    let g: Vec<f64> = g.iter().copied().collect();
    check_scalar(&mut tape, &x, v, &g, &h, "grid 4×4");
    // Larger grid: H·D and the 3- and 5-colour groupings.
    let s = 30;
    let n = s * s;
    let x = point(n);
    let mut tape = Tape::record_scalar(&x, |v| grid(v, s)).unwrap();
    let hess = grid_hessian(&x, s);
    let d = randoms(n * 4, 11);
    let mut hd = vec![0.0; n * 4];
    tape.hvp_block(&x, &d, &mut hd).unwrap();
    assert_close(&hd, &triplet_times(&hess, &d, n, 4), "grid H·D");
    for p in [3, 5] {
        let group: Vec<usize> = (0..n)
            .map(|j| (j / s + (p - 3 + 1) * (j % s)) % p)
            .collect();
        let mut sd = vec![0.0; n * p];
        for (j, &c) in group.iter().enumerate() {
            sd[j * p + c] = 1.0;
        }
        let mut out = vec![0.0; n * p];
        tape.hvp_groups(&x, &group, p, &mut out).unwrap();
        assert_close(&out, &triplet_times(&hess, &sd, n, p), "grid H·S");
    }
}

#[test]
fn tridiagonal_jacobian_against_analytic_and_num_dual() {
    let n = 500;
    let x = point(n);
    let mut tape = Tape::record(&x, tridiagonal).unwrap();
    assert_eq!(tape.num_outputs(), n);
    let mut f = vec![0.0; n];
    tape.eval(&x, &mut f).unwrap();
    assert_close(&f, &tridiagonal(&x), "F");
    let jac = tridiagonal_jacobian(&x);
    // J·D (3 column colours, and random directions).
    let p = 3;
    let mut s = vec![0.0; n * p];
    for j in 0..n {
        s[j * p + j % 3] = 1.0;
    }
    for d in [s, randoms(n * 5, 5)] {
        let p = d.len() / n;
        let mut jd = vec![0.0; n * p];
        tape.jvp_block(&x, &d, &mut jd).unwrap();
        assert_close(&jd, &triplet_times(&jac, &d, n, p), "J·D");
        // Jᵀ·D.
        let jt: Vec<(usize, usize, f64)> = jac.iter().map(|&(i, j, v)| (j, i, v)).collect();
        let mut jtd = vec![0.0; n * p];
        tape.vjp_block(&x, &d, &mut jtd).unwrap();
        assert_close(&jtd, &triplet_times(&jt, &d, n, p), "Jᵀ·D");
    }
    // num-dual's Jacobian on a small instance.
    let x5 = [0.3, -0.8, 1.1, 0.5, 0.9];
    let (_, j5) = jacobian(
        |v: SVector<DualSVec64<5>, 5>| {
            SVector::<DualSVec64<5>, 5>::from_vec(tridiagonal(v.as_slice()))
        },
        &SVector::from(x5),
    );
    let mut small = Tape::record(&x5, tridiagonal).unwrap();
    let mut eye = vec![0.0; 25];
    for j in 0..5 {
        eye[j * 5 + j] = 1.0;
    }
    let mut jd = vec![0.0; 25];
    small.jvp_block(&x5, &eye, &mut jd).unwrap();
    let want: Vec<f64> = (0..25).map(|k| j5[(k / 5, k % 5)]).collect();
    assert_close(&jd, &want, "J (num-dual)");
    let mut jt = vec![0.0; 25];
    small.vjp_block(&x5, &eye, &mut jt).unwrap();
    let want_t: Vec<f64> = (0..25).map(|k| j5[(k % 5, k / 5)]).collect();
    assert_close(&jt, &want_t, "Jᵀ (num-dual)");
}

#[test]
fn gradient_matches_num_dual() {
    let x6 = [0.3, -0.8, 1.1, 0.5, 0.9, -0.2];
    let (v, g) = num_dual::gradient(
        |v: SVector<DualSVec64<6>, 6>| rosenbrock(v.as_slice()),
        &SVector::from(x6),
    );
    let mut tape = Tape::record_scalar(&x6, rosenbrock).unwrap();
    let mut grad = [0.0; 6];
    assert!(close(tape.gradient(&x6, &mut grad).unwrap(), v));
    assert_close(&grad, g.as_slice(), "gradient");
}

// ---------------------------------------------------------------------------------------
// Hessian-vector sweeps of sums: folded accumulation, fused instructions, eager terms

/// Rosenbrock as the benchmark writes it: `x·x` (a square), `x − 1` and `t·t·100`.
fn rosenbrock_bench<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0] * w[0];
        let u = w[0] - 1.0;
        f += t * t * 100.0 + u * u;
    }
    f
}

/// The grid energy as the benchmark writes it: `(d·d)·(d·d)`.
fn grid_bench<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
    let mut f = D::zero();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            for q in [(c + 1 < s).then_some(p + 1), (r + 1 < s).then_some(p + s)]
                .into_iter()
                .flatten()
            {
                let d = x[p] - x[q];
                let d2 = d * d;
                f += d2 * d2;
            }
            f += x[p].cos();
        }
    }
    f
}

/// Unary chains on linear combinations (fused), terms whose nodes are also read elsewhere
/// (not fused), a scaled and shifted objective.
fn fused_forms<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let n = x.len();
    let mut f = D::from(0.25);
    for i in 0..n {
        let (a, b, c) = (x[i], x[(i + 1) % n], x[(i + 2) % n]);
        f += ((a * 2.0 - b) + 0.5).sin().exp() * 0.5;
        f -= (D::from(3.0) - (a + b)).powi(3);
        f += (-(a - b) + 4.0).recip() + ((-a) * 0.7 + 2.0).sqrt() * 3.0;
        f += ((a - b) * 2.0).powi(2) + (c - 0.1).ln();
        let s = (a + a).tanh();
        f += s + s * c + (a - 0.6).abs() * b;
        f += D::from(0.4).atan2(a * c) + a / (b + 2.0) + (a - b * 0.5).powf(2.5);
    }
    f * (-2.0) + 1.5
}

/// Branches on intermediates inside the sum (guards between fused terms).
fn branchy_sum<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        let m = w[0] * w[1];
        f += if m > D::from(0.3) {
            (w[0] - w[1]).powi(2) * m
        } else {
            (w[0] + 1.0).sin() * w[1]
        };
    }
    f
}

/// The full Hessian of `f` at `x` by num-dual (n = N).
fn num_dual_hessian<const N: usize>(
    f: impl Fn(&[Dual2SVec64<N>]) -> Dual2SVec64<N>,
    x: &[f64],
) -> Vec<f64> {
    let (_, _, h) = hessian(
        |v: SVector<Dual2SVec64<N>, N>| f(v.as_slice()),
        &SVector::from_column_slice(x),
    );
    (0..N * N).map(|k| h[(k / N, k % N)]).collect()
}

#[test]
fn benchmark_forms_match_num_dual_and_analytic() {
    let x6 = [0.3, -0.8, 1.1, 0.5, 0.9, -0.2];
    let mut tape = Tape::record_scalar(&x6, rosenbrock_bench).unwrap();
    let h = num_dual_hessian::<6>(rosenbrock_bench, &x6);
    assert_close(&tape_hessian(&mut tape, &x6), &h, "rosenbrock (bench form)");
    // 8 recorded instructions per term (one fewer in all: the sum starts at the first
    // term), 2 replayed by Hessian-vector sweeps; vector functions have no such program.
    assert_eq!(
        (tape.len(), tape.hvp_replay_len()),
        (8 * 5 - 1, Some(2 * 5))
    );
    assert_eq!(
        Tape::record(&x6, |v| v.to_vec()).unwrap().hvp_replay_len(),
        None
    );
    // Large: grouped products against the analytic Hessian.
    let n = 2000;
    let x = point(n);
    let mut tape = Tape::record_scalar(&x, rosenbrock_bench).unwrap();
    for p in [2, 3] {
        let group: Vec<usize> = (0..n).map(|j| j % p).collect();
        let mut s = vec![0.0; n * p];
        for j in 0..n {
            s[j * p + j % p] = 1.0;
        }
        let mut out = vec![0.0; n * p];
        tape.hvp_groups(&x, &group, p, &mut out).unwrap();
        assert_close(
            &out,
            &triplet_times(&rosenbrock_hessian(&x), &s, n, p),
            "H·S",
        );
    }
    let s = 3;
    let x9 = point(9);
    let mut tape = Tape::record_scalar(&x9, |v| grid_bench(v, s)).unwrap();
    let h = num_dual_hessian::<9>(|v| grid_bench(v, s), &x9);
    assert_close(&tape_hessian(&mut tape, &x9), &h, "grid (bench form)");
    // 12 edges of 4 instructions and 9 vertices of 2 (one fewer: the sum starts at the
    // first term); replayed: one per edge and vertex.
    assert_eq!(
        (tape.len(), tape.hvp_replay_len()),
        (12 * 4 + 9 * 2 - 1, Some(12 + 9))
    );
    let s = 40;
    let x = point(s * s);
    let mut tape = Tape::record_scalar(&x, |v| grid_bench(v, s)).unwrap();
    let d = randoms(s * s * 5, 17);
    let mut hd = vec![0.0; s * s * 5];
    tape.hvp_block(&x, &d, &mut hd).unwrap();
    assert_close(
        &hd,
        &triplet_times(&grid_hessian(&x, s), &d, s * s, 5),
        "grid H·D",
    );
}

#[test]
fn fused_forms_match_num_dual() {
    let x = [0.41, 0.35, 0.62, 0.28, 0.55];
    let mut tape = Tape::record_scalar(&x, fused_forms).unwrap();
    let want = num_dual_hessian::<5>(fused_forms, &x);
    assert_close(&tape_hessian(&mut tape, &x), &want, "fused forms");
    // Replayed at another point (same branch of |·|).
    let y = [0.45, 0.3, 0.58, 0.33, 0.5];
    let want = num_dual_hessian::<5>(fused_forms, &y);
    assert_close(&tape_hessian(&mut tape, &y), &want, "fused forms, replayed");
    let mut g = [0.0; 5];
    let v = tape.gradient(&y, &mut g).unwrap();
    assert!(close(v, fused_forms(&y)));
}

#[test]
fn guards_inside_sums() {
    let x = [0.9, 0.8, 0.2, 0.7, 0.95, 0.1];
    let mut rec = Recorded::scalar(branchy_sum, &x).unwrap();
    assert_eq!(rec.tape().num_guards(), 5);
    let mut h = vec![0.0; 36];
    let mut eye = vec![0.0; 36];
    for j in 0..6 {
        eye[j * 6 + j] = 1.0;
    }
    // Same branches, then a point where the second term changes branch.
    for (pt, rerecords) in [
        ([0.85, 0.75, 0.25, 0.65, 0.9, 0.15], 0),
        ([0.85, 0.75, 0.45, 0.65, 0.9, 0.15], 1),
    ] {
        rec.hvp_block(&pt, &eye, &mut h).unwrap();
        let want = num_dual_hessian::<6>(branchy_sum, &pt);
        assert_close(&h, &want, "branchy sum");
        assert_eq!(rec.rerecordings(), rerecords);
    }
    let mut tape = Tape::record_scalar(&x, branchy_sum).unwrap();
    assert!(matches!(
        tape.hvp_groups(
            &[0.85, 0.75, 0.45, 0.65, 0.9, 0.15],
            &[0, 1, 0, 1, 0, 1],
            2,
            &mut [0.0; 12]
        ),
        Err(TapeError::BranchChanged { guard: 1, .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Replays

#[test]
fn replays_equal_fresh_recordings_and_repeat_exactly() {
    let n = 200;
    let x0 = point(n);
    let mut tape = Tape::record_scalar(&x0, |v| rosenbrock(v) + grid(&v[..196], 14)).unwrap();
    let d = randoms(n * 4, 21);
    let group: Vec<usize> = (0..n).map(|j| j % 3).collect();
    for seed in 1..4 {
        let x = randoms(n, seed);
        let mut fresh = Tape::record_scalar(&x, |v| rosenbrock(v) + grid(&v[..196], 14)).unwrap();
        let run = |t: &mut Tape| {
            let mut g = vec![0.0; n];
            let v = t.gradient(&x, &mut g).unwrap();
            let mut h = vec![0.0; n * 4];
            t.hvp_block(&x, &d, &mut h).unwrap();
            let mut hg = vec![0.0; n * 3];
            t.hvp_groups(&x, &group, 3, &mut hg).unwrap();
            (v, g, h, hg)
        };
        let a = run(&mut tape);
        let b = run(&mut fresh);
        assert_eq!(a, b, "replay vs fresh recording");
        assert_eq!(run(&mut tape), a, "replaying twice");
    }
}

// ---------------------------------------------------------------------------------------
// Branches

fn branchy<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    if x[0] > 0.0 { x[0] * x[0] } else { -x[0] }
}

#[test]
fn branch_change_is_detected_and_recorded_function_re_records() {
    let mut tape = Tape::record_scalar(&[1.0], branchy).unwrap();
    assert_eq!(tape.num_guards(), 1);
    let mut g = [7.0];
    assert_eq!(tape.gradient(&[2.0], &mut g), Ok(4.0));
    assert_eq!(g, [4.0]);
    match tape.gradient(&[-1.0], &mut g) {
        Err(TapeError::BranchChanged {
            guard: 0,
            lhs,
            rhs,
            now,
            recorded,
        }) => {
            assert_eq!((lhs, rhs), (-1.0, 0.0));
            assert_eq!(now, Some(std::cmp::Ordering::Less));
            assert_eq!(recorded, Some(std::cmp::Ordering::Greater));
        }
        other => panic!("{other:?}"),
    }
    assert!(g[0].is_nan(), "nothing that looks like a result");
    let mut h = [0.0];
    assert!(matches!(
        tape.hvp_block(&[-1.0], &[1.0], &mut h),
        Err(TapeError::BranchChanged { .. })
    ));
    assert!(h[0].is_nan());
    let mut out = [0.0];
    assert!(tape.eval(&[-1.0], &mut out).is_err() && out[0].is_nan());

    let mut rec = Recorded::scalar(branchy, &[1.0]).unwrap();
    assert_eq!(rec.gradient(&[2.0], &mut g), Ok(4.0));
    assert_eq!(rec.rerecordings(), 0);
    assert_eq!(rec.gradient(&[-1.0], &mut g), Ok(1.0));
    assert_eq!(g, [-1.0]);
    assert_eq!(rec.rerecordings(), 1);
    rec.hvp_block(&[-3.0], &[1.0], &mut h).unwrap();
    assert_eq!((h[0], rec.rerecordings()), (0.0, 1));
    rec.hvp_block(&[3.0], &[1.0], &mut h).unwrap();
    assert_eq!((h[0], rec.rerecordings()), (2.0, 2));
    rec.eval(&[0.5], &mut out).unwrap();
    assert_eq!((out[0], rec.rerecordings()), (0.25, 2));
}

#[test]
fn guards_between_instructions_and_against_variables() {
    // max(x0, x1) · x2 via a comparison of two variables, then a branch on an
    // intermediate in the middle of the tape.
    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> Vec<D> {
        let m = if x[0] > x[1] { x[0] } else { x[1] };
        let y = m * x[2];
        let z = if y > D::from(1.0) { y } else { y.sin() };
        vec![z * 2.0, y]
    }
    let x = [0.5, 0.9, 2.0];
    let mut rec = Recorded::new(|v: &[TapeVar]| f(v), &x).unwrap();
    assert_eq!(rec.tape().num_guards(), 2);
    for (pt, rerecords) in [
        ([0.4, 0.8, 1.9], 0),
        ([0.9, 0.2, 1.0], 1),
        ([0.9, 0.2, 0.5], 1),
        ([0.1, 0.2, 1.0], 2),
    ] {
        let mut jt = [0.0; 3];
        rec.vjp_block(&pt, &[1.0, 0.0], &mut jt).unwrap();
        let (_, j) = jacobian(
            |v: SVector<DualSVec64<3>, 3>| SVector::<DualSVec64<3>, 2>::from_vec(f(v.as_slice())),
            &SVector::from(pt),
        );
        assert_close(&jt, &[j[(0, 0)], j[(0, 1)], j[(0, 2)]], "row 0");
        assert_eq!(rec.rerecordings(), rerecords, "{pt:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn errors_are_structured() {
    let mut tape = Tape::record_scalar(&[1.0, 2.0], |x| x[0].ln() * x[1]).unwrap();
    let mut g = [0.0; 2];
    assert_eq!(
        tape.gradient(&[1.0], &mut g),
        Err(TapeError::Length {
            buffer: Buffer::Inputs,
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        tape.gradient(&[1.0, 2.0], &mut [0.0; 3]),
        Err(TapeError::Length {
            buffer: Buffer::Gradient,
            expected: 2,
            got: 3
        })
    );
    assert!(matches!(
        tape.eval(&[1.0, 2.0], &mut [0.0; 2]),
        Err(TapeError::Length {
            buffer: Buffer::Outputs,
            ..
        })
    ));
    assert!(matches!(
        tape.hvp_block(&[1.0, 2.0], &[1.0; 3], &mut [0.0; 3]),
        Err(TapeError::Length {
            buffer: Buffer::Directions,
            ..
        })
    ));
    assert!(matches!(
        tape.hvp_block(&[1.0, 2.0], &[1.0; 4], &mut [0.0; 2]),
        Err(TapeError::Length {
            buffer: Buffer::Result,
            ..
        })
    ));
    assert_eq!(
        tape.hvp_block(&[1.0, 2.0], &[], &mut []),
        Err(TapeError::NoLanes)
    );
    assert_eq!(
        tape.hvp_groups(&[1.0, 2.0], &[0, 2], 2, &mut [0.0; 4]),
        Err(TapeError::GroupOutOfRange {
            input: 1,
            group: 2,
            lanes: 2
        })
    );
    // No lane (`usize::MAX`) is fine; the bad group after it is named, with every lane
    // count (one chunk of lanes or several).
    for p in [2, 9] {
        let mut out = vec![0.0; 2 * p];
        assert_eq!(
            tape.hvp_groups(&[1.0, 2.0], &[usize::MAX, p + 3], p, &mut out),
            Err(TapeError::GroupOutOfRange {
                input: 1,
                group: p + 3,
                lanes: p
            })
        );
        tape.hvp_groups(&[1.0, 2.0], &[usize::MAX, p - 1], p, &mut out)
            .unwrap();
    }
    assert!(matches!(
        tape.hvp_groups(&[1.0, 2.0], &[0], 2, &mut [0.0; 4]),
        Err(TapeError::Length {
            buffer: Buffer::Groups,
            ..
        })
    ));
    // Non-finite: ln(0) · x1 → -inf value; ln(-1) → NaN.
    match tape.gradient(&[0.0, 2.0], &mut g) {
        Err(TapeError::NonFinite {
            location: Location::Output { output: 0 },
            value,
        }) => assert_eq!(value, f64::NEG_INFINITY),
        other => panic!("{other:?}"),
    }
    let mut h = [0.0; 4];
    // Output values are checked first, then the derivatives.
    match tape.hvp_block(&[0.0, 2.0], &[1.0, 0.0, 0.0, 1.0], &mut h) {
        Err(TapeError::NonFinite {
            location: Location::Output { output: 0 },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // A derivative alone non-finite: sqrt at 0 has an infinite derivative.
    let mut t = Tape::record_scalar(&[1.0, 1.0], |x| x[0] + x[1].sqrt()).unwrap();
    match t.gradient(&[1.0, 0.0], &mut g) {
        Err(TapeError::NonFinite {
            location: Location::Input { input: 1, lane: 0 },
            value,
        }) => assert_eq!(value, f64::INFINITY),
        other => panic!("{other:?}"),
    }
    match t.hvp_block(&[1.0, 0.0], &[1.0, 0.0, 0.0, 1.0], &mut h) {
        Err(TapeError::NonFinite {
            location: Location::Input { input: 1, .. },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Vector functions: no HVPs; JVP errors name the output.
    let mut v = Tape::record(&[1.0], |x| vec![x[0], x[0].ln()]).unwrap();
    assert_eq!(
        v.hvp_block(&[1.0], &[1.0], &mut [0.0]),
        Err(TapeError::NotScalar { outputs: 2 })
    );
    assert_eq!(
        v.gradient(&[1.0], &mut [0.0]),
        Err(TapeError::NotScalar { outputs: 2 })
    );
    match v.jvp_block(&[-1.0], &[1.0], &mut [0.0; 2]) {
        Err(TapeError::NonFinite {
            location: Location::Output { output: 1 } | Location::OutputLane { output: 1, .. },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Tape::record(&[1.0], |_| Vec::new()).err(),
        Some(TapeError::NoOutputs)
    );
}

#[test]
fn nested_and_foreign_recordings_are_errors() {
    let mut inner = None;
    let tape = Tape::record_scalar(&[1.0], |x| {
        inner = Some(Tape::record_scalar(&[2.0], |y| y[0] * 2.0).err());
        x[0] * 3.0
    })
    .unwrap();
    assert_eq!(inner, Some(Some(TapeError::RecordingActive)));
    assert_eq!(tape.len(), 1);
    // A variable leaked from one recording poisons the next.
    let mut leaked = None;
    let _ = Tape::record_scalar(&[1.0], |x| {
        leaked = Some(x[0]);
        x[0]
    })
    .unwrap();
    let leaked = leaked.unwrap();
    assert_eq!(
        Tape::record_scalar(&[1.0], |x| x[0] * leaked).err(),
        Some(TapeError::ForeignVariable)
    );
    // Outside any recording, operations keep values (derivatives are lost).
    assert_eq!((leaked * 2.0).value(), 2.0);
    // A panic inside a recording ends it.
    let r = std::panic::catch_unwind(|| {
        Tape::record_scalar(&[1.0], |_| -> TapeVar { panic!("user panic") })
    });
    assert!(r.is_err());
    assert!(Tape::record_scalar(&[1.0], |x| x[0].sin()).is_ok());
}

// ---------------------------------------------------------------------------------------
// No allocation on replay

#[test]
fn replays_do_not_allocate() {
    let n = 300;
    let x = point(n);
    let mut tape = Tape::record_scalar(&x, |v| rosenbrock(v) + v[0].atan2(v[1]).exp()).unwrap();
    let mut vt = Tape::record(&x, tridiagonal).unwrap();
    let group: Vec<usize> = (0..n).map(|j| j % 3).collect();
    let d = randoms(n * 4, 1);
    let (mut g, mut h, mut hg, mut o) = (vec![0.0; n], vec![0.0; n * 4], vec![0.0; n * 3], [0.0]);
    let (mut f, mut jd, mut jt) = (vec![0.0; n], vec![0.0; n * 4], vec![0.0; n * 4]);
    let mut run = |x: &[f64]| {
        tape.eval(x, &mut o).unwrap();
        tape.gradient(x, &mut g).unwrap();
        tape.hvp_block(x, &d, &mut h).unwrap();
        tape.hvp_groups(x, &group, 3, &mut hg).unwrap();
        vt.eval(x, &mut f).unwrap();
        vt.jvp_block(x, &d, &mut jd).unwrap();
        vt.vjp_block(x, &d, &mut jt).unwrap();
    };
    run(&x);
    let y = randoms(n, 9);
    let ((), n) = ALLOC.count(|| run(&y));
    assert_eq!(n, 0);
}

// ---------------------------------------------------------------------------------------
// Property: Rosenbrock at random points

proptest! {
    #![proptest_config(testing::config(64))]
    #[test]
    fn rosenbrock_at_random_points(x in prop::collection::vec(-2.0f64..2.0, 2..40), seed in 1u64..1000) {
        let n = x.len();
        let mut tape = Tape::record_scalar(&point(n), rosenbrock).unwrap();
        let mut g = vec![0.0; n];
        let v = tape.gradient(&x, &mut g).unwrap();
        prop_assert!(close(v, rosenbrock(&x)));
        assert_close(&g, &rosenbrock_gradient(&x), "gradient");
        let d = randoms(n * 2, seed);
        let mut hd = vec![0.0; n * 2];
        tape.hvp_block(&x, &d, &mut hd).unwrap();
        assert_close(&hd, &triplet_times(&rosenbrock_hessian(&x), &d, n, 2), "H·D");
        let group: Vec<usize> = (0..n).map(|j| j % 2).collect();
        let mut hs = vec![0.0; n * 2];
        tape.hvp_groups(&x, &group, 2, &mut hs).unwrap();
        let mut s = vec![0.0; n * 2];
        for j in 0..n { s[j * 2 + j % 2] = 1.0; }
        assert_close(&hs, &triplet_times(&rosenbrock_hessian(&x), &s, n, 2), "H·S");
    }
}
