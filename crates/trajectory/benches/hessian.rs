//! `∇²L_A` of the cartpole swing-up (the spec's evaluation point, λ = μ = 0.1, ρ = 10) at
//! N = 100 and N = 1000, one thread: the element Hessian (knot elements shared; value and
//! gradient computed in the same pass, included in the time) against the composite
//! Hessian of the trajectory crate's rows and of the problems crate's hand-written rows
//! (Hessian only, and Hessian then gradient as a Newton step asks). `cargo bench -p trajectory --bench hessian`; the figures are recorded
//! in `papers/element-hessian.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use sparsediff_problems::cartpole as reference;
use trajectory::{AugmentedLagrangian, Transcribed, Transcription, cartpole};

fn hessians(c: &mut Criterion) {
    let mut g = c.benchmark_group("cartpole-hessian");
    for knots in [100, 1000] {
        let nlp = Transcribed::new(
            cartpole::problem(knots).expect("problem"),
            Transcription::Trapezoidal,
        )
        .expect("transcribe");
        let la = AugmentedLagrangian::new(
            &nlp,
            vec![0.1; nlp.num_equalities()],
            vec![0.1; nlp.num_inequalities()],
            10.0,
        )
        .expect("multipliers");
        let z = cartpole::eval_point(knots);
        let mut element = la.element_hessian(&z).expect("element");
        g.bench_function(format!("N{knots}-element"), |b| {
            b.iter(|| {
                element
                    .evaluate(std::hint::black_box(&z))
                    .expect("evaluate")
            })
        });
        g.bench_function(format!("N{knots}-element-hessian-only"), |b| {
            b.iter(|| {
                element
                    .evaluate_hessian(std::hint::black_box(&z))
                    .expect("evaluate")
            })
        });
        let mut composite = la.composite_hessian(&z).expect("composite");
        g.bench_function(format!("N{knots}-composite"), |b| {
            b.iter(|| {
                composite
                    .evaluate(std::hint::black_box(&z))
                    .expect("evaluate")
                    .nnz()
            })
        });
        let hand =
            reference::AugmentedLagrangian::benchmark(reference::CartpoleProblem::new(knots));
        let mut hand_h = hand.composite_hessian(&z).expect("composite");
        g.bench_function(format!("N{knots}-composite-handwritten"), |b| {
            b.iter(|| {
                hand_h
                    .evaluate(std::hint::black_box(&z))
                    .expect("evaluate")
                    .nnz()
            })
        });
        // what a Newton step asks: the Hessian, then the gradient at the same point (from
        // the rows of that evaluation)
        let mut grad = vec![0.0; z.len()];
        g.bench_function(
            format!("N{knots}-composite-handwritten-with-gradient"),
            |b| {
                b.iter(|| {
                    hand_h.evaluate(std::hint::black_box(&z)).expect("evaluate");
                    hand_h.gradient(&z, &mut grad).expect("gradient")
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, hessians);
criterion_main!(benches);
