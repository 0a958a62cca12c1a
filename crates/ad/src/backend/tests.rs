//! The forward, difference and closure backends against a hand-written Jacobian, and
//! their errors.

use super::*;
use crate::function::VectorFunction;
use num_dual::DualNum;

/// F_i = x_{i+1}² − x_i x_{i−1} + sin x_i.
struct Tridiagonal;
impl VectorFunction for Tridiagonal {
    fn num_outputs(&self, n: usize) -> usize {
        n
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        let n = x.len();
        for i in 0..n {
            let next = if i + 1 < n {
                x[i + 1].powi(2)
            } else {
                D::zero()
            };
            let prev = if i > 0 { x[i] * x[i - 1] } else { D::zero() };
            out[i] = next - prev + x[i].sin();
        }
    }
}

fn jacobian(x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut j = vec![vec![0.0; n]; n];
    for i in 0..n {
        if i + 1 < n {
            j[i][i + 1] = 2.0 * x[i + 1];
        }
        if i > 0 {
            j[i][i - 1] = -x[i];
            j[i][i] = -x[i - 1];
        }
        j[i][i] += x[i].cos();
    }
    j
}

#[test]
fn forward_and_differences_give_j_times_s() {
    let n = 11;
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
    let jac = jacobian(&x);
    for p in [1usize, 2, 3, 5, 9, 13] {
        let dense: Vec<f64> = (0..n * p)
            .map(|k| ((k * 7919) % 13) as f64 / 13.0 - 0.4)
            .collect();
        let group: Vec<usize> = (0..n).map(|j| j % p).collect();
        for seeds in [
            SeedBlock::Dense {
                values: &dense,
                probes: p,
            },
            SeedBlock::Groups {
                group: &group,
                probes: p,
            },
        ] {
            let expected: Vec<f64> = (0..n * p)
                .map(|k| (0..n).map(|j| jac[k / p][j] * seeds.at(j, k % p)).sum())
                .collect();
            let mut fwd = ForwardJacobian::new(Tridiagonal, n);
            let mut out = vec![0.0; n * p];
            fwd.jvp_block(&x, seeds, &mut out).unwrap();
            for (a, b) in out.iter().zip(&expected) {
                assert!((a - b).abs() <= 1e-14, "forward p={p}: {a} vs {b}");
            }
            for scheme in [Differences::Forward, Differences::Central] {
                let mut fd = FiniteDifferenceJacobian::new(
                    |x: &[f64], y: &mut [f64]| Tridiagonal.eval(x, y),
                    n,
                    n,
                    scheme,
                );
                fd.jvp_block(&x, seeds, &mut out).unwrap();
                let tol = if scheme == Differences::Central {
                    1e-8
                } else {
                    1e-6
                };
                for (a, b) in out.iter().zip(&expected) {
                    assert!((a - b).abs() <= tol, "{scheme:?} p={p}: {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn bad_lengths_and_values_are_errors() {
    let mut fwd = ForwardJacobian::new(Tridiagonal, 4);
    let x = [0.1, 0.2, 0.3, 0.4];
    let mut out = vec![0.0; 8];
    let group = [0, 1, 0];
    assert!(matches!(
        fwd.jvp_block(
            &x,
            SeedBlock::Groups {
                group: &group,
                probes: 2
            },
            &mut out
        ),
        Err(AdError::WrongLength {
            what: "seed block",
            ..
        })
    ));
    assert!(matches!(
        fwd.jvp_block(
            &x[..3],
            SeedBlock::Groups {
                group: &group,
                probes: 2
            },
            &mut out
        ),
        Err(AdError::WrongLength { what: "x", .. })
    ));
    let bad = [f64::NAN, 0.2, 0.3, 0.4];
    let group = [0, 1, 0, 1];
    assert!(matches!(
        fwd.jvp_block(
            &bad,
            SeedBlock::Groups {
                group: &group,
                probes: 2
            },
            &mut out
        ),
        Err(AdError::NonFinite {
            what: "product",
            ..
        })
    ));
    // The closure's own error type survives as the cause (downcast, source chain).
    #[derive(Debug, thiserror::Error)]
    #[error("no GPU on device {device}")]
    struct NoGpu {
        device: usize,
    }
    let mut closure = ClosureJacobian::new(
        |_: &[f64], _: &mut [f64]| Err(NoGpu { device: 3 }.into()),
        |_: &[f64], _: SeedBlock<'_>, _: &mut [f64]| Ok(()),
        4,
        4,
    );
    let mut y = [0.0; 4];
    let Err(AdError::Closure { cause }) = closure.value(&x, &mut y) else {
        panic!("a failing closure must be AdError::Closure");
    };
    assert_eq!(
        cause.error().downcast_ref::<NoGpu>().map(|e| e.device),
        Some(3)
    );
    let err = AdError::Closure { cause };
    let source = std::error::Error::source(&err).expect("the cause is the source");
    assert_eq!(source.to_string(), "no GPU on device 3");
}

fn assert_send<T: Send>() {}

/// Every backend the facade boxes is `Send` for a `Send` function, so that prepared
/// evaluators can move to another thread.
#[test]
fn backends_are_send() {
    assert_send::<TapeHessian<'static>>();
    assert_send::<TapeGradientDifferences<'static>>();
    assert_send::<TapeJacobian<'static>>();
    assert_send::<ForwardJacobian<Tridiagonal>>();
    assert_send::<ForwardJacobian<std::sync::Arc<Tridiagonal>>>();
    assert_send::<FiniteDifferenceJacobian<fn(&[f64], &mut [f64])>>();
}

#[test]
fn only_the_tape_computes_vjps() {
    let x = [0.5, -0.3, 1.2, 0.7];
    let tape = TapeJacobian::new(Tridiagonal, &x).unwrap();
    assert!(tape.supports_vjp());
    let fwd = ForwardJacobian::anchored(Tridiagonal, &x).unwrap();
    assert!(!fwd.supports_vjp());
}
