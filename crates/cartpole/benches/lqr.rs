//! The 4×4 Riccati solvers on the spec's linearisation (Q = I, R = 1):
//! `cargo bench -p cartpole --bench lqr`. Figures are recorded in `papers/cartpole.md`
//! (target: a 4×4 CARE ≤ 5 µs; scipy's `solve_continuous_are` is 0.46 ms on this machine
//! class).
//!
//! * `care4`: the stack-array sign iteration + one Newton–Kleinman step (the fast path).
//! * `care-faer`: the same sign iteration on faer matrices, QR least squares, faer's
//!   eigenvalues of the closed loop (the general path, any n and m).
//! * `dare-faer`: structured doubling on the ZOH discretisation at dt = 10 ms.
//! * `linearize`: A and B about the upright by forward AD (5 dual passes).

use std::f64::consts::PI;
use std::hint::black_box;

use cartpole::linearize::linearize;
use cartpole::lqr::{RiccatiOptions, Weights, care, care4, dare, discretize};
use cartpole::model::{AccelerationCart, AccelerationParams};
use criterion::{Criterion, criterion_group, criterion_main};

const A: [[f64; 4]; 4] = [
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
    [0.0, 0.0, 29.43, 0.0],
];
const B: [f64; 4] = [0.0, 1.0, 0.0, 3.0];

fn bench(c: &mut Criterion) {
    let options = RiccatiOptions::default();
    let w = Weights::identity();
    let q = w.q_array();
    let mut g = c.benchmark_group("lqr");
    g.bench_function("care4", |b| {
        b.iter(|| {
            care4(
                black_box(&A),
                black_box(&B),
                black_box(&q),
                black_box(1.0),
                &options,
            )
            .expect("solves")
        })
    });
    let a = faer::Mat::from_fn(4, 4, |i, j| A[i][j]);
    let bm = faer::Mat::from_fn(4, 1, |i, _| B[i]);
    g.bench_function("care-faer", |b| {
        b.iter(|| {
            care(
                black_box(a.as_ref()),
                bm.as_ref(),
                w.q.as_ref(),
                w.r.as_ref(),
                &options,
            )
            .expect("solves")
        })
    });
    let (ad, bd) = discretize(a.as_ref(), bm.as_ref(), 0.01).expect("discretises");
    g.bench_function("dare-faer", |b| {
        b.iter(|| {
            dare(
                black_box(ad.as_ref()),
                bd.as_ref(),
                w.q.as_ref(),
                w.r.as_ref(),
                &options,
            )
            .expect("solves")
        })
    });
    let cart = AccelerationCart::new(AccelerationParams::default()).expect("valid");
    g.bench_function("linearize", |b| {
        b.iter(|| linearize(&cart, black_box(&[0.0, 0.0, PI, 0.0]), &[0.0]).expect("linearises"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
