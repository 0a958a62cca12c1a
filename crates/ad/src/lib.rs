//! AD backends and sparsity tracing: the third stage of the sparsediff pipeline.
//!
//! User functions are written once, generic over `num_dual::DualNum<Primitive = f64>`; the
//! same code runs on `f64`, on num-dual's forward types, on this crate's reverse-mode tape
//! variable and on its sparsity tracer (see [`scalar`]).
#![deny(missing_docs)]

pub mod backend;
pub mod branch;
pub mod forward;
mod function;
pub mod idioms;
mod memory;
pub mod op;
pub mod scalar;
pub mod tape;
pub mod trace;

pub use backend::{
    AdError, CENTRAL_DIFFERENCE_TOLERANCE, ClosureCause, ClosureError, ClosureHessian,
    ClosureJacobian, Differences, EXACT_TOLERANCE, FORWARD_DIFFERENCE_TOLERANCE,
    FiniteDifferenceHessian, FiniteDifferenceJacobian, ForwardJacobian, HessianBackend,
    JacobianBackend, SeedBlock, Seeds, TapeGradientDifferences, TapeHessian, TapeJacobian,
};
pub use branch::BranchStatus;
pub use forward::Lanes;
pub use function::{ScalarFunction, VectorFunction};
pub use idioms::ScalarExt;
pub use op::{Binary, Curvature, Unary};
pub use scalar::Elementary;
pub use tape::{Recorded, Tape, TapeError, TapeVar};
pub use trace::{TraceError, Tracer};

/// The num-dual crate, re-exported: user functions are generic over `num_dual::DualNum`.
pub use num_dual;

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::DualNum;
    use std::cmp::Ordering;

    /// A plain value scalar: checks that the macro gives a complete `DualNum`.
    #[derive(Debug, Clone, Copy)]
    struct Plain(f64);

    impl Elementary for Plain {
        fn value(self) -> f64 {
            self.0
        }
        fn constant(value: f64) -> Self {
            Plain(value)
        }
        fn unary(self, op: Unary) -> Self {
            Plain(op.eval(self.0).0)
        }
        fn binary(self, op: Binary, other: Self) -> Self {
            Plain(op.eval(self.0, other.0).0)
        }
        fn observe_comparison(self, _: Option<Self>, _: f64, _: Option<Ordering>) {}
    }
    crate::impl_dual_num!(Plain);

    fn generic<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let mut s = D::zero();
        for w in x.windows(2) {
            let t = w[1] - w[0].powi(2);
            s += t * t * 100.0 + (D::one() - w[0]).powi(2);
        }
        let extra = (x[0] / 2.0 + 1.0).ln() * x[1].sin().exp() - (x[1] + 2.0).recip() * 3.0
            + x[0].atan2(x[1]);
        let m = if x[0] > x[1] { x[0] } else { x[1] };
        s + extra + m.sqrt() + x.iter().copied().sum::<D>() * 0.5 + x[0].sph_j1()
    }

    #[test]
    fn plain_scalar_matches_f64() {
        let x = [0.3, 0.9, -0.4, 1.2];
        let px: Vec<Plain> = x.iter().map(|&v| Plain(v)).collect();
        assert_eq!(generic(&px).0, generic(&x));
    }
}
