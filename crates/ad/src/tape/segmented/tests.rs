//! The segmented program against the general one, and the shapes it compiles the
//! benchmark functions to.

use num_dual::DualNum;
use sparsediff_pattern::testing::randoms;

use super::super::{Tape, TapeVar};
use super::flag::{ADJ_A, ADJ_B, EAGER, LIN2, LINC};
use crate::tape::program::Code;

fn point(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect()
}

/// Chained Rosenbrock as the benchmark writes it (`x·x`, `x − 1`, `· 100`).
fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0] * w[0];
        let u = w[0] - 1.0;
        f += t * t * 100.0 + u * u;
    }
    f
}

/// The grid energy as the benchmark writes it (`d2 = d·d`, `d2·d2`).
fn grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
    let mut f = D::zero();
    for r in 0..s {
        for c in 0..s {
            let p = r * s + c;
            if c + 1 < s {
                let d = x[p] - x[p + 1];
                let d2 = d * d;
                f += d2 * d2;
            }
            if r + 1 < s {
                let d = x[p] - x[p + s];
                let d2 = d * d;
                f += d2 * d2;
            }
            f += x[p].cos();
        }
    }
    f
}

/// Every fused form, eager and not, with constants, negations and scalings.
fn mixed<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let n = x.len();
    let mut f = D::from(0.25);
    for i in 0..n {
        let (a, b, c) = (x[i], x[(i + 1) % n], x[(i + 3) % n]);
        // u2(u1(α a + β b + γ)) with transcendental operations.
        f += ((a * 2.0 - b) + 0.5).sin().exp() * 0.5;
        // c − (a + b), then a power; −(a − b) then 1/x; c·(−a) under sqrt.
        f -= (D::from(3.0) - (a + b)).powi(3);
        f += (-(a - b) + 4.0).recip();
        f += ((-a) * 0.7 + 2.0).sqrt() * 3.0;
        // A linear argument that is not absorbed (2·(a − b) is not exact as α a + β b).
        f += ((a - b) * 2.0).powi(2);
        // Two nodes that are the same, and a seeded node that is also read further.
        let s = (a + a).tanh();
        f += s + s * c;
        // Non-foldable: x % c, |x − c|, atan2 with a constant, a / b.
        f += (a * b) % 0.3 + (a - 0.6).abs() * b;
        f += D::from(0.4).atan2(a * c) + a / (b + 2.0);
    }
    // The output scaled and shifted.
    f * (-2.0) + 1.5
}

/// Not a sum: one segment, nothing eager except the output.
fn product<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut p = D::one();
    for (i, &v) in x.iter().enumerate() {
        p *= (v * 0.1 + 1.0 + 0.01 * i as f64).sin();
    }
    (p + x[0] * x[1]).exp()
}

/// Terms sharing a node computed from all inputs (one long segment).
fn centred<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let n = x.len() as f64;
    let mut m = D::zero();
    for &v in x {
        m += v;
    }
    let m = m / n;
    let mut f = D::zero();
    for &v in x {
        let d = v - m;
        f += d * d + (d * 0.5).cos();
    }
    f
}

/// A long chain of single-use affine operations into one power.
fn chain<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        let mut u = w[0] - w[1];
        for k in 0..12 {
            u = if k % 3 == 0 { -u } else { u + 0.1 * k as f64 };
        }
        f += (u * 0.5).powi(4) + w[0].powi(2) * w[1];
    }
    f
}

/// Linear chains that come out as the bare node they started from (`(−x)·(−1)` is `x`)
/// under a unary operation: the chain is absorbed, so the operation must be fused (the
/// compile once left it reading an absorbed node and panicked; found by the random
/// functions of `random_tests.rs`).
fn bare_chains<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(2) {
        f += ((-w[0]) * -1.0).recip() + (-(-w[1])).sin() * w[0] + ((w[1] * -1.0) * -1.0).exp();
    }
    f
}

/// Weighted squares of every shape `eager_square` specialises (one or two nodes,
/// each plain or squared, with and without a constant, and a fourth power), and one
/// whose argument is a temporary with an adjoint of its own.
fn squares<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut f = D::zero();
    for w in x.windows(3) {
        let d = w[0] - w[1];
        f += d * d * 2.0;
        let u = w[1] * w[1] * 0.5 - w[2] * w[2] + 0.3;
        f += u * u;
        let v = w[2] - w[0] * w[0];
        f += v * v * 3.0;
        let s = w[0] * w[0] - w[2];
        f += s * s;
        let q = w[1] * w[1] + 1.0;
        f += q * q * 0.25;
        let r = w[2] * 1.5;
        f += r * r;
        let t = w[0] * w[1];
        let z = t - 1.0;
        f += z * z + t.sin();
        let e = w[1] - w[2] * w[2] + 0.5;
        let e2 = e * e;
        f += e2 * e2;
    }
    f
}

/// `max |a − b| / max(max |b|, 1)`.
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// Segmented HVP blocks against the unsegmented replay (everything unfused, one
/// forward and one reverse sweep), p = 1..=9 lanes, at two points.
fn check_against_unsegmented(f: impl Fn(&[TapeVar]) -> TapeVar, n: usize, what: &str) {
    let mut tape = Tape::record_scalar(&point(n), f).unwrap();
    for (p, seed) in [(1, 1u64), (2, 2), (3, 3), (5, 4), (8, 5), (9, 6)] {
        for x in [
            point(n),
            randoms(n, seed + 40)
                .iter()
                .map(|v| 0.5 * v + 0.6)
                .collect(),
        ] {
            let d = randoms(n * p, seed);
            let mut got = vec![0.0; n * p];
            let mut want = vec![0.0; n * p];
            tape.hvp_block(&x, &d, &mut got).unwrap();
            tape.hvp_block_unsegmented(&x, &d, &mut want).unwrap();
            let e = rel_err(&got, &want);
            assert!(e <= 1e-14, "{what}, p = {p}: relative error {e:e}");
        }
    }
}

#[test]
fn segmented_equals_unsegmented() {
    check_against_unsegmented(rosenbrock, 300, "rosenbrock");
    check_against_unsegmented(|x| grid(x, 12), 144, "grid");
    check_against_unsegmented(mixed, 40, "mixed");
    check_against_unsegmented(product, 30, "product");
    check_against_unsegmented(centred, 50, "centred");
    // Longer than the eager limit: constant adjoints in the reverse sweep.
    check_against_unsegmented(centred, 5000, "centred, long segment");
    check_against_unsegmented(chain, 40, "chain");
    check_against_unsegmented(squares, 60, "squares");
    check_against_unsegmented(bare_chains, 30, "bare chains");
}

#[test]
fn squares_cover_every_specialised_shape() {
    let tape = Tape::record_scalar(&point(60), squares).unwrap();
    let seg = tape.seg.as_ref().unwrap();
    let mut shapes = std::collections::BTreeSet::new();
    for i in &seg.ins {
        if i.code == Code::Fused && i.flags & EAGER != 0 && i.u1 == Code::Sq && i.u2 == Code::Const
        {
            shapes.insert((
                i.flags & LIN2 != 0,
                i.ua == Code::Sq,
                i.flags & LIN2 != 0 && i.ub == Code::Sq,
                i.flags & LINC != 0,
                i.flags & (ADJ_A | ADJ_B) != 0,
            ));
        }
    }
    for shape in [
        (true, false, false, false, false),
        (true, true, true, true, false),
        (true, false, true, false, false),
        (true, true, false, false, false),
        (false, true, false, true, false),
        (false, false, false, false, false),
    ] {
        assert!(shapes.contains(&shape), "{shape:?} missing from {shapes:?}");
    }
    assert!(
        shapes.iter().any(|s| s.4),
        "no square of a temporary with an adjoint: {shapes:?}"
    );
    assert!(
        seg.ins.iter().any(|i| i.code == Code::Fused
            && i.flags & EAGER != 0
            && (i.u1, i.u2, i.ub) == (Code::Sq, Code::Sq, Code::Sq)),
        "no fourth power of a linear combination with a squared node"
    );
}

#[test]
fn benchmark_terms_compile_to_two_instructions() {
    let n = 1000;
    let tape = Tape::record_scalar(&point(n), rosenbrock).unwrap();
    assert_eq!(tape.len(), 8 * (n - 1) - 1);
    let seg = tape.seg.as_ref().unwrap();
    assert_eq!(seg.ins.len(), 2 * (n - 1));
    // 100·(x_{i+1} − x_i²)² and (x_i − 1)², both eager: no reverse sweep at all.
    for t in seg.ins.chunks(2) {
        assert_eq!(
            (t[0].code, t[0].u1, t[0].ub),
            (Code::Fused, Code::Sq, Code::Sq)
        );
        assert_eq!(t[0].flags & (EAGER | LIN2 | LINC), EAGER | LIN2);
        assert_eq!((t[1].code, t[1].u1), (Code::Fused, Code::Sq));
        assert_eq!(t[1].flags & (EAGER | LIN2 | LINC), EAGER | LINC);
    }
    assert!(seg.consts.len() <= 16, "constants are shared");
    let s = 30;
    let tape = Tape::record_scalar(&point(s * s), |x| grid(x, s)).unwrap();
    let seg = tape.seg.as_ref().unwrap();
    // Per vertex: (x_p − x_q)⁴ twice (one fused instruction each), cos x_p.
    assert_eq!(seg.ins.len(), 2 * s * (s - 1) + s * s);
    assert!(seg.ins.iter().all(|i| i.flags & EAGER != 0));
}

#[test]
fn trivial_outputs() {
    // The output is an input, a constant, an affine function of the inputs only.
    let x = [0.3, -0.7];
    for (k, want_value) in [(0, 0.3), (1, 2.5), (2, 2.0 * 0.3 - 0.7 + 1.0)] {
        let mut tape = Tape::record_scalar(&x, |v| match k {
            0 => v[0],
            1 => <TapeVar as crate::Elementary>::constant(2.5),
            _ => v[0] * 2.0 + v[1] + 1.0,
        })
        .unwrap();
        let seg = tape.seg.clone().unwrap();
        assert!(seg.ins.is_empty(), "case {k}");
        let (mut val, mut tan) = (vec![0.0; seg.nslots], vec![1.0; seg.nslots]);
        let (mut adj, mut adt) = (vec![0.0; seg.nslots], vec![0.0; seg.nslots]);
        val[..2].copy_from_slice(&x);
        let v = seg.hvp::<1>(&mut val, &mut tan, &mut adj, &mut adt, &mut []);
        // The affine form sums in another order than the recording.
        assert!((v.unwrap() - want_value).abs() <= 1e-15, "case {k}");
        let mut h = [7.0; 4];
        tape.hvp_block(&x, &[1.0, 0.0, 0.0, 1.0], &mut h).unwrap();
        assert_eq!(h, [0.0; 4], "case {k}");
    }
}

#[test]
fn fused_values_are_the_recorded_ones() {
    // The value of the output through the folded affine form and fused linear
    // arguments equals the f64 evaluation up to the order of the sum.
    for (f, n) in [
        (mixed as fn(&[TapeVar]) -> TapeVar, 40),
        (chain as fn(&[TapeVar]) -> TapeVar, 40),
    ] {
        let x = point(n);
        let mut tape = Tape::record_scalar(&x, f).unwrap();
        let seg = tape.seg.clone().unwrap();
        let p = 1;
        let ns = seg.nslots;
        let (mut val, mut tan) = (vec![0.0; ns], vec![0.0; ns * p]);
        let (mut adj, mut adt) = (vec![0.0; ns], vec![0.0; ns * p]);
        let mut stack = vec![0.0; seg.stack_len(p)];
        val[..n].copy_from_slice(&x);
        let v = seg
            .hvp::<1>(&mut val, &mut tan, &mut adj, &mut adt, &mut stack)
            .unwrap();
        let mut out = [0.0];
        tape.eval(&x, &mut out).unwrap();
        assert!(
            (v - out[0]).abs() <= 1e-13 * out[0].abs().max(1.0),
            "{v} vs {}",
            out[0]
        );
    }
}

/// Row blocks: bit for bit the same products on 1, 2 and 3 threads, and the uncut replay's
/// within 1e-14 (relative to the block's largest entry).
fn check_split(f: impl Fn(&[TapeVar]) -> TapeVar, n: usize, what: &str) {
    use std::sync::Arc;
    let mut tape = Tape::record_scalar(&point(n), f).unwrap();
    let chunks = tape.hvp_chunks();
    assert!(chunks.is_some_and(|k| k >= 2), "{what}: {chunks:?}");
    let pools: Vec<Option<Arc<rayon::ThreadPool>>> = [1, 2, 3]
        .map(|t| {
            (t > 1).then(|| {
                Arc::new(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(t)
                        .build()
                        .unwrap(),
                )
            })
        })
        .into();
    for (p, seed) in [(1, 1u64), (3, 3), (9, 6)] {
        let x: Vec<f64> = randoms(n, seed + 40)
            .iter()
            .map(|v| 0.5 * v + 0.6)
            .collect();
        let d = randoms(n * p, seed);
        let group: Vec<usize> = (0..n).map(|j| (j * 7 + j / 3) % p).collect();
        let mut runs = Vec::new();
        for pool in &pools {
            tape.set_pool(pool.clone());
            let mut dense = vec![0.0; n * p];
            tape.hvp_block(&x, &d, &mut dense).unwrap();
            let mut groups = vec![0.0; n * p];
            tape.hvp_groups(&x, &group, p, &mut groups).unwrap();
            runs.push((dense, groups));
        }
        for (t, r) in runs.iter().enumerate().skip(1) {
            for (a, b) in [(&r.0, &runs[0].0), (&r.1, &runs[0].1)] {
                let same = a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits());
                assert!(same, "{what}, p = {p}: {} threads differ from 1", t + 1);
            }
        }
        // A group out of range, far from the inputs the first block reads.
        let mut bad = group.clone();
        bad[n - 3] = p;
        let mut out = vec![0.0; n * p];
        let err = tape.hvp_groups(&x, &bad, p, &mut out).unwrap_err();
        assert!(
            matches!(err, crate::tape::TapeError::GroupOutOfRange { input, group, .. } if input == n - 3 && group == p),
            "{what}: {err:?}"
        );
        let mut want = vec![0.0; n * p];
        tape.hvp_block_unsegmented(&x, &d, &mut want).unwrap();
        let e = rel_err(&runs[0].0, &want);
        assert!(e <= 1e-14, "{what}, p = {p}: relative error {e:e}");
        // A clone (with the last pool's buffers) gives the same products.
        let mut copy = tape.clone();
        let mut again = vec![0.0; n * p];
        copy.hvp_block(&x, &d, &mut again).unwrap();
        let same = again
            .iter()
            .zip(&runs[0].0)
            .all(|(u, v)| u.to_bits() == v.to_bits());
        assert!(same, "{what}, p = {p}: the clone differs");
    }
    tape.set_pool(None);
}

#[test]
fn row_blocks_are_deterministic_and_agree_with_the_serial_sweep() {
    check_split(rosenbrock, 150_000, "rosenbrock");
    check_split(|x| grid(x, 260), 260 * 260, "grid");
    check_split(squares, 150_000, "squares");
}

#[test]
fn programs_whose_blocks_read_every_input_are_not_split() {
    // Every term reads x₀: every block's input range starts at 0.
    let n = 400_000;
    let shared = |x: &[TapeVar]| {
        let mut f = TapeVar::from(0.0);
        for v in &x[1..] {
            f += (*v * x[0]).sin();
        }
        f
    };
    let tape = Tape::record_scalar(&point(n), shared).unwrap();
    assert_eq!(tape.hvp_chunks(), None);
    // `mixed` wraps around: its last block reads x₀, x₁, x₂ (its range moves back).
    // Its blocks before the last were remapped to local slots when the last one failed
    // the check: the remapping is undone, and the serial sweep's products are exact.
    let n = 40_000;
    let mut wraps = Tape::record_scalar(&point(n), mixed).unwrap();
    assert_eq!(wraps.hvp_chunks(), None);
    let x: Vec<f64> = randoms(n, 5).iter().map(|v| 0.5 * v + 0.6).collect();
    let d = randoms(2 * n, 6);
    let (mut got, mut want) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    wraps.hvp_block(&x, &d, &mut got).unwrap();
    wraps.hvp_block_unsegmented(&x, &d, &mut want).unwrap();
    let e = rel_err(&got, &want);
    assert!(e <= 1e-14, "relative error {e:e}");
    let short = Tape::record_scalar(&point(1000), rosenbrock).unwrap();
    assert_eq!(short.hvp_chunks(), None);
}

#[test]
fn split_sweeps_check_the_groups_of_inputs_no_block_reads() {
    // The last input is not read: its group is checked by the summation pass.
    let n = 150_000;
    let mut tape = Tape::record_scalar(&point(n), |x| rosenbrock(&x[..n - 1])).unwrap();
    assert!(tape.hvp_chunks().is_some());
    let mut group: Vec<usize> = (0..n).map(|j| j % 2).collect();
    let mut out = vec![0.0; 2 * n];
    tape.hvp_groups(&point(n), &group, 2, &mut out).unwrap();
    assert_eq!(&out[2 * (n - 1)..], &[0.0, 0.0]);
    group[n - 1] = 7;
    let err = tape.hvp_groups(&point(n), &group, 2, &mut out).unwrap_err();
    assert!(
        matches!(err, crate::tape::TapeError::GroupOutOfRange { input, group: 7, .. } if input == n - 1),
        "{err:?}"
    );
}

#[test]
fn split_sweeps_report_non_finite_products_of_own_and_shared_inputs() {
    // Rosenbrock plus Σ √x_i: at x_k = 0 the Hessian's (k, k) entry is −∞. The blocks write
    // the products of the inputs they read alone, the summation those of the inputs two
    // blocks read: both must be checked.
    let n = 150_000;
    let f = |x: &[TapeVar]| {
        let mut s = TapeVar::from(0.0);
        for i in 0..x.len() - 1 {
            let t = x[i + 1] - x[i] * x[i];
            let u = x[i] - 1.0;
            s += t * t * 100.0 + u * u + x[i].sqrt();
        }
        s
    };
    let x0: Vec<f64> = point(n).iter().map(|v| v + 1.0).collect();
    let mut tape = Tape::record_scalar(&x0, f).unwrap();
    let (own, shared) = {
        let split = tape.split.as_ref().expect("a split program");
        let c = &split.chunks[1];
        assert!(
            c.own.start < c.own.end && c.own.end < c.hi,
            "{:?}",
            (c.lo, &c.own, c.hi)
        );
        ((c.own.start + c.own.end) / 2, c.own.end)
    };
    let group: Vec<usize> = (0..n).map(|j| j % 3).collect();
    let mut out = vec![0.0; 3 * n];
    tape.hvp_groups(&x0, &group, 3, &mut out).unwrap();
    for k in [own, shared] {
        let mut x = x0.clone();
        x[k] = 0.0;
        let err = tape.hvp_groups(&x, &group, 3, &mut out).unwrap_err();
        assert!(
            matches!(err, crate::tape::TapeError::NonFinite { .. }),
            "input {k}: {err:?}"
        );
    }
}

/// The compile's scratch buffers are kept by the tape for its pattern detection, whose
/// arrays are kept in turn for `take_scratch`: taking them, the first sweep, or a clone
/// leaves none (tests keep buffers of any size).
#[test]
fn the_compiles_scratch_is_kept_until_taken_or_a_sweep() {
    let n = 400;
    let x = point(n);
    let record = || Tape::record_scalar(&x, |v: &[TapeVar]| rosenbrock(v)).unwrap();
    let tape = record();
    assert!(tape.spare.kept() > 0);
    assert_eq!(tape.clone().spare.kept(), 0);
    let (pattern, _) = tape.hessian_pattern(&x).unwrap().unwrap();
    // The detection's records, sets, set offsets, inverted index, ... are kept too.
    assert!(tape.spare.kept() >= 6);
    assert_eq!(tape.clone().spare.kept(), 0);
    // A second detection, on the first one's dirty buffers, gives the same pattern.
    assert_eq!(tape.hessian_pattern(&x).unwrap().unwrap().0, pattern);
    let mut scratch = tape.take_scratch();
    assert_eq!(tape.spare.kept(), 0);
    // The matrix's indices take 8-byte buffers (the records' and the offsets').
    scratch.retain_for::<usize>();
    assert!(!scratch.is_empty());
    let m = pattern
        .to_sprs_in(vec![0.0; pattern.nnz()], &mut scratch)
        .unwrap();
    assert_eq!(m.indices(), pattern.col_idx());
    assert_eq!(m.indptr().raw_storage(), pattern.row_ptr());
    // Without the buffers, a third detection gives the same pattern.
    assert_eq!(tape.hessian_pattern(&x).unwrap().unwrap().0, pattern);
    let mut tape = record();
    tape.hessian_pattern(&x).unwrap().unwrap();
    let mut out = vec![0.0; n];
    tape.hvp_block(&x, &vec![1.0; n], &mut out).unwrap();
    assert_eq!(tape.spare.kept(), 0);
    // A function of several outputs has no program to detect from: nothing is kept.
    let tape = Tape::record(&x, |v: &[TapeVar]| v.iter().map(|&t| t * t).collect()).unwrap();
    assert_eq!(tape.spare.kept(), 0);
}
