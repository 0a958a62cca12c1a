//! Forward mode with P directional derivatives as lanes: [`Lanes<P>`] carries a value and
//! `[f64; P]` tangents, so one evaluation of a generic function gives P Jacobian-vector
//! products. It is the crate's own dual number (through [`impl_dual_num!`](crate::impl_dual_num)),
//! with the lanes in a plain array the compiler vectorises; see `papers/` for the
//! measurement against num-dual's `DualSVec64<P>`.

use std::cmp::Ordering;

use crate::op::{Binary, Unary};
use crate::scalar::Elementary;

/// A value with P tangent lanes (comparisons look at the value only).
#[derive(Debug, Clone, Copy)]
pub struct Lanes<const P: usize> {
    /// The value.
    pub re: f64,
    /// The tangents (directional derivatives along P directions).
    pub eps: [f64; P],
}

impl<const P: usize> Lanes<P> {
    /// An input: value `re`, tangents `eps`.
    pub fn new(re: f64, eps: [f64; P]) -> Self {
        Self { re, eps }
    }
}

impl<const P: usize> Elementary for Lanes<P> {
    #[inline(always)]
    fn value(self) -> f64 {
        self.re
    }

    #[inline(always)]
    fn constant(value: f64) -> Self {
        Self {
            re: value,
            eps: [0.0; P],
        }
    }

    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        let (re, d) = op.eval1(self.re);
        let mut eps = self.eps;
        for e in &mut eps {
            *e *= d;
        }
        Self { re, eps }
    }

    #[inline(always)]
    fn binary(self, op: Binary, other: Self) -> Self {
        match op {
            // The common cases without evaluating unused second derivatives.
            Binary::Add => {
                let mut eps = self.eps;
                for (e, o) in eps.iter_mut().zip(other.eps) {
                    *e += o;
                }
                Self {
                    re: self.re + other.re,
                    eps,
                }
            }
            Binary::Sub => {
                let mut eps = self.eps;
                for (e, o) in eps.iter_mut().zip(other.eps) {
                    *e -= o;
                }
                Self {
                    re: self.re - other.re,
                    eps,
                }
            }
            Binary::Mul => {
                let eps = std::array::from_fn(|k| self.eps[k] * other.re + self.re * other.eps[k]);
                Self {
                    re: self.re * other.re,
                    eps,
                }
            }
            _ => {
                let (re, fa, fb, ..) = op.eval(self.re, other.re);
                let eps = std::array::from_fn(|k| fa * self.eps[k] + fb * other.eps[k]);
                Self { re, eps }
            }
        }
    }

    #[inline]
    fn observe_comparison(self, _: Option<Self>, _: f64, outcome: Option<Ordering>) {
        // Logged only while a backend records the branches of a pass (ForwardJacobian).
        crate::branch::note_comparison(outcome);
    }

    #[inline]
    fn observe_value_read(self) {
        crate::branch::note_value_read();
    }
}

macro_rules! lanes_dual_num {
    ($($p:literal),*) => {
        $( crate::impl_dual_num!(Lanes<$p>); )*
    };
}
lanes_dual_num!(1, 2, 4, 8);

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::DualNum;

    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        (x[0] * x[1]).sin() + x[1].powi(3) / x[0] - (x[0] - x[1]).exp() * 2.0
    }

    #[test]
    fn lanes_give_directional_derivatives() {
        let (a, b) = (0.7, 1.3);
        let x = [
            Lanes::new(a, [1.0, 0.0, 2.0, 0.5]),
            Lanes::new(b, [0.0, 1.0, -1.0, 0.5]),
        ];
        let y = f(&x);
        // Analytic gradient.
        let g0 = b * (a * b).cos() - b.powi(3) / (a * a) - 2.0 * (a - b).exp();
        let g1 = a * (a * b).cos() + 3.0 * b * b / a + 2.0 * (a - b).exp();
        let dirs = [[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.5, 0.5]];
        for (k, d) in dirs.iter().enumerate() {
            let expected = g0 * d[0] + g1 * d[1];
            assert!(
                (y.eps[k] - expected).abs() < 1e-12 * expected.abs().max(1.0),
                "lane {k}"
            );
        }
        assert!((y.re - f(&[a, b])).abs() < 1e-15);
    }
}
