//! `Tape::hessian_pattern` (the local Hessian pattern from the compiled program) against the
//! sparsity tracer on programs cut into row blocks, and `None` wherever the program cannot
//! stand for the trace (comparisons, raw value reads, NaN comparisons, `0·x`, another
//! point, a non-finite output). Random functions: `tape/segmented/random_tests.rs`.

use num_dual::{DualNum, DualStruct};
use sparsediff_ad::tape::{Tape, TapeVar};
use sparsediff_ad::trace::{Tracer, hessian_pattern_with_info};

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for w in x.windows(2) {
        let t = w[1] - w[0].powi(2);
        s += t * t * 100.0 + (D::one() - w[0]).powi(2);
    }
    s
}

fn grid<D: DualNum<Primitive = f64> + Copy>(x: &[D], s: usize) -> D {
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
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
    let tape = Tape::record_scalar(&x, rosenbrock).unwrap();
    assert!(tape.hvp_chunks().is_some_and(|k| k >= 2));
    let (p, info) = tape.hessian_pattern(&x).unwrap().unwrap();
    let (want, traced) = hessian_pattern_with_info(&x, rosenbrock).unwrap();
    assert_eq!(p, want);
    assert_eq!(p.nnz(), 3 * n - 2);
    assert!(info.nodes < traced.nodes, "{info:?} {traced:?}");

    let s = 400;
    let x: Vec<f64> = (0..s * s)
        .map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin())
        .collect();
    let tape = Tape::record_scalar(&x, |v| grid(v, s)).unwrap();
    assert!(tape.hvp_chunks().is_some_and(|k| k >= 2));
    let (p, _) = tape.hessian_pattern(&x).unwrap().unwrap();
    assert_eq!(p, hessian_pattern_with_info(&x, |v| grid(v, s)).unwrap().0);
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
