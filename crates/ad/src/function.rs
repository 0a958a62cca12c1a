//! The user's function, written once generic over the scalar.
//!
//! Rust closures cannot be generic, so a function that must run on `f64`, on forward lanes,
//! on the tape and on the tracer is a type implementing [`ScalarFunction`] (Hessians) or
//! [`VectorFunction`] (Jacobians):
//!
//! ```
//! use num_dual::DualNum;
//! use sparsediff_ad::ScalarFunction;
//!
//! /// Chained Rosenbrock.
//! struct Rosenbrock;
//! impl ScalarFunction for Rosenbrock {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         x.windows(2).map(|w| (w[1] - w[0].powi(2)).powi(2) * 100.0 + (D::one() - w[0]).powi(2)).sum()
//!     }
//! }
//! assert_eq!(Rosenbrock.eval(&[1.0, 1.0, 1.0]), 0.0);
//! ```

use num_dual::DualNum;

/// f: Rⁿ → R, generic over the scalar.
pub trait ScalarFunction {
    /// Evaluates f at x.
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D;
}

/// F: Rⁿ → Rᵐ, generic over the scalar.
pub trait VectorFunction {
    /// Number of outputs m for n inputs.
    fn num_outputs(&self, n: usize) -> usize;

    /// Writes F(x) into `out` (length [`num_outputs`](Self::num_outputs); the caller fills it
    /// with zeros first).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]);
}

impl<T: ScalarFunction + ?Sized> ScalarFunction for &T {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (**self).eval(x)
    }
}

impl<T: VectorFunction + ?Sized> VectorFunction for &T {
    fn num_outputs(&self, n: usize) -> usize {
        (**self).num_outputs(n)
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
        (**self).eval(x, out)
    }
}

macro_rules! forward_pointer {
    ($($ptr:ident)::+) => {
        impl<T: ScalarFunction + ?Sized> ScalarFunction for $($ptr)::+<T> {
            fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
                (**self).eval(x)
            }
        }

        impl<T: VectorFunction + ?Sized> VectorFunction for $($ptr)::+<T> {
            fn num_outputs(&self, n: usize) -> usize {
                (**self).num_outputs(n)
            }
            fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
                (**self).eval(x, out)
            }
        }
    };
}

// Shared functions: the facade keeps one copy of the user's function for its backend, its
// tracer and its plain evaluations.
forward_pointer!(std::sync::Arc);
forward_pointer!(std::rc::Rc);
forward_pointer!(Box);
