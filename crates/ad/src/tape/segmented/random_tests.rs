//! Random functions of every elementary operation (constants on either side, weighted sums
//! that fold, chains that fuse) through the compiled program: its Hessian-vector products
//! against the unsegmented replay, and its pattern ([`Tape::hessian_pattern`]) against the
//! sparsity tracer's.

use proptest::prelude::*;
use sparsediff_pattern::Pattern;
use sparsediff_pattern::testing::{config, randoms};

use super::super::{Tape, TapeVar};
use super::{trace_nodes, trace_sets};
use crate::trace::{TraceInfo, Tracer, hessian_pattern_with_info};
use crate::{Binary, Elementary, Unary};

/// One step of a random function: a new value from earlier ones (the inputs, then each
/// step's result; indices are taken modulo their number), or a weighted term of the
/// output sum.
#[derive(Debug, Clone, Copy)]
enum Step {
    Unary(usize, usize),
    Binary(usize, usize, usize),
    /// `c ∘ v`.
    ConstLeft(usize, usize, usize),
    /// `v ∘ c`.
    ConstRight(usize, usize, usize),
    /// `output += w · v`.
    Term(usize, usize),
}

/// Constants of the steps: 0 kills (`0·x`), ±∞ makes `x/∞` a `x·0`.
const CONSTANTS: [f64; 7] = [0.0, 1.0, -1.0, 2.5, 0.5, f64::INFINITY, -3.0];

fn step() -> impl Strategy<Value = Step> {
    let (u, b, c) = (Unary::SAMPLES.len(), Binary::ALL.len(), CONSTANTS.len());
    prop_oneof![
        (0..u, any::<usize>()).prop_map(|(o, a)| Step::Unary(o, a)),
        (0..b, any::<usize>(), any::<usize>()).prop_map(|(o, a, v)| Step::Binary(o, a, v)),
        (0..b, 0..c, any::<usize>()).prop_map(|(o, k, a)| Step::ConstLeft(o, k, a)),
        (0..b, any::<usize>(), 0..c).prop_map(|(o, a, k)| Step::ConstRight(o, a, k)),
        (any::<usize>(), 0..c).prop_map(|(a, k)| Step::Term(a, k)),
    ]
}

/// Steps without the constants 0 and ±∞ (no `0·x`, no `x/∞`).
fn kill_free(steps: Vec<Step>) -> Vec<Step> {
    let safe = |k: usize| CONSTANTS[k] != 0.0 && CONSTANTS[k].is_finite();
    steps
        .into_iter()
        .filter(|s| match *s {
            Step::ConstLeft(_, k, _) | Step::ConstRight(_, _, k) | Step::Term(_, k) => safe(k),
            _ => true,
        })
        .collect()
}

/// The random function on any scalar of the crate: the output sum plus the last value.
fn run<D: Elementary + Copy>(steps: &[Step], x: &[D]) -> D {
    let mut vals: Vec<D> = x.to_vec();
    let mut out = D::constant(0.0);
    for &s in steps {
        let pick = |i: usize| vals[i % vals.len()];
        let c = |k: usize| D::constant(CONSTANTS[k]);
        let v = match s {
            Step::Unary(o, a) => pick(a).unary(Unary::SAMPLES[o]),
            Step::Binary(o, a, b) => pick(a).binary(Binary::ALL[o], pick(b)),
            Step::ConstLeft(o, k, a) => c(k).binary(Binary::ALL[o], pick(a)),
            Step::ConstRight(o, a, k) => pick(a).binary(Binary::ALL[o], c(k)),
            Step::Term(a, k) => {
                out = out.binary(Binary::Add, pick(a).binary(Binary::Mul, c(k)));
                continue;
            }
        };
        vals.push(v);
    }
    out.binary(Binary::Add, vals[vals.len() - 1])
}

fn point(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + 0.1 * ((i as u64 * 7 + seed) % 11) as f64)
        .collect()
}

/// The tracer's pattern (`None`: the trace fails, e.g. a non-finite output) and the
/// program's (`None`: it does not stand for the trace).
fn patterns(steps: &[Step], x: &[f64]) -> (Option<Pattern>, Option<Pattern>) {
    let traced = hessian_pattern_with_info(x, |v: &[Tracer]| run(steps, v))
        .ok()
        .map(|(p, _)| p);
    let tape = Tape::record_scalar(x, |v: &[TapeVar]| run(steps, v)).unwrap();
    let from_program = tape.hessian_pattern(x).map(|r| r.unwrap().0);
    (traced, from_program)
}

/// A pattern and its trace counts, or the error's message (`None`: refused).
type Answer = Option<Result<(Pattern, TraceInfo), String>>;

/// The pattern of a tape's program by its two ways: the sets built with the nodes, and the
/// node list for the tracer's sets.
fn both_ways(tape: &Tape) -> (Answer, Answer) {
    let (seg, split) = (tape.seg.as_ref().unwrap(), tape.split.as_ref());
    let n = tape.num_inputs();
    // Dirty buffers to reuse, as the compile's scratch would be.
    let mut spare = crate::memory::Spare::default();
    for len in [3, 40, 700, 5000] {
        spare.put(vec![u32::MAX; len]);
        spare.put(vec![f64::NAN; len]);
        spare.put(vec![u64::MAX; len]);
    }
    let direct = trace_sets(seg, split, &mut spare).map(|t| {
        crate::trace::hessian_of_sets(n, t.nodes, &t.records, &t.starts, &t.pool, &mut spare)
            .map_err(|e| e.to_string())
    });
    let list = trace_nodes(seg, split)
        .map(|nodes| crate::trace::hessian_of_nodes(n, nodes).map_err(|e| e.to_string()));
    (direct, list)
}

proptest! {
    #![proptest_config(config(1024))]

    /// The sets built with the nodes give the node list's pattern and trace counts, and
    /// refuse the same programs (the sets of functions of 5 inputs never grow past
    /// `SMALL`, so neither gives up alone).
    #[test]
    fn sets_built_with_the_nodes_are_the_node_lists(
        n in 1usize..6,
        steps in prop::collection::vec(step(), 1..40),
        seed in 0u64..1000,
    ) {
        let x = point(n, seed);
        let tape = Tape::record_scalar(&x, |v: &[TapeVar]| run(&steps, v)).unwrap();
        if tape.seg.is_some() {
            let (direct, list) = both_ways(&tape);
            prop_assert_eq!(direct, list);
        }
    }

    /// The compiled program's Hessian-vector products are the unsegmented replay's (every
    /// instruction unfused, nothing folded), where both are finite.
    #[test]
    fn compiled_programs_compute_the_unsegmented_products(
        n in 1usize..6,
        steps in prop::collection::vec(step(), 1..40),
        seed in 0u64..1000,
        p in 1usize..4,
    ) {
        let x = point(n, seed);
        let mut tape = Tape::record_scalar(&x, |v: &[TapeVar]| run(&steps, v)).unwrap();
        let d = randoms(n * p, seed);
        let (mut got, mut want) = (vec![0.0; n * p], vec![0.0; n * p]);
        let (a, b) = (tape.hvp_block(&x, &d, &mut got), tape.hvp_block_unsegmented(&x, &d, &mut want));
        if let (Ok(()), Ok(())) = (a, b)
            && want.iter().chain(&got).all(|v| v.is_finite())
        {
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (g, w) in got.iter().zip(&want) {
                prop_assert!((g - w).abs() <= 1e-10 * scale, "{:?} against {:?}", got, want);
            }
        }
    }

    /// Wherever the program answers, it answers the tracer's pattern.
    #[test]
    fn the_program_gives_the_traced_pattern(
        n in 1usize..6,
        steps in prop::collection::vec(step(), 1..40),
        seed in 0u64..1000,
    ) {
        let (traced, from_program) = patterns(&steps, &point(n, seed));
        if let Some(p) = from_program {
            prop_assert_eq!(Some(p), traced);
        }
    }

    /// Without `0·x` the program always answers where the trace does (the property above
    /// cannot pass by answering nothing).
    #[test]
    fn kill_free_functions_are_answered(
        n in 1usize..6,
        steps in prop::collection::vec(step(), 1..40).prop_map(kill_free),
        seed in 0u64..1000,
    ) {
        let (traced, from_program) = patterns(&steps, &point(n, seed));
        if traced.is_some() {
            prop_assert!(from_program.is_some(), "not answered: {:?}", steps);
            prop_assert_eq!(from_program, traced);
        }
    }
}

/// Sets past `SMALL` inputs are left to the node list: the pattern is still the trace's.
#[test]
fn long_sets_take_the_node_list() {
    // sin(x₀ + … + x₃₉) once, then local squares: a set of 40 inputs.
    let f = |x: &[TapeVar]| {
        let sum = x.iter().fold(TapeVar::from(0.0), |s, &v| s + v);
        x.windows(2)
            .map(|w| (w[1] - w[0]).unary(Unary::Exp))
            .fold(sum.unary(Unary::Sin), |s, t| s + t)
    };
    let x = point(40, 3);
    let tape = Tape::record_scalar(&x, f).unwrap();
    let (seg, split) = (tape.seg.as_ref().unwrap(), tape.split.as_ref());
    assert!(
        trace_sets(seg, split, &mut crate::memory::Spare::default()).is_none(),
        "a set of 40 inputs was built"
    );
    let (direct, list) = both_ways(&tape);
    assert!(direct.is_none() && list.is_some());
    let traced = hessian_pattern_with_info(&x, |v: &[Tracer]| {
        let sum = v.iter().fold(Tracer::constant(0.0), |s, &t| s + t);
        v.windows(2)
            .map(|w| (w[1] - w[0]).unary(Unary::Exp))
            .fold(sum.unary(Unary::Sin), |s, t| s + t)
    })
    .unwrap();
    assert_eq!(tape.hessian_pattern(&x).unwrap().unwrap().0, traced.0);
    assert_eq!(traced.0.nnz(), 40 * 40);
}
