//! Writing functions generic over the scalar: the idioms that differ from plain `f64`.
//!
//! A function written once as `fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D`
//! runs on `f64`, forward lanes, the tape and the tracer. Three things read differently
//! from `f64` code:
//!
//! | `f64` code | generic code | why |
//! |---|---|---|
//! | `2.0 * x` | `x * 2.0` (or `D::from(2.0) * x`) | Rust cannot implement `f64 * D` for a generic `D` |
//! | `x.max(y)`, `x.min(y)`, `x.clamp(a, b)` | [`ScalarExt::max`], [`min`](ScalarExt::min), [`clamp`](ScalarExt::clamp) | `DualNum` has no `max`; these compare scalars, so tapes guard the branch |
//! | `if x > 0.0` | `if x > D::from(0.0)` (or `Signed::is_positive`) | compare scalars, not `x.re()`: a branch on a raw value is invisible to tapes and tracers, and costs a check at every evaluation |
//!
//! ```
//! use sparsediff_ad::ScalarExt;
//! use sparsediff_ad::num_dual::DualNum;
//!
//! /// A smooth-ish penalty: 2·max(x − 1, 0)² written once for every scalar.
//! fn penalty<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
//!     (x - 1.0).max(D::from(0.0)).powi(2) * 2.0
//! }
//! assert_eq!(penalty(3.0), 8.0);
//! assert_eq!(penalty(0.5), 0.0);
//! // On the tape the comparison inside `max` is guarded: a replay on the other side of the
//! // kink re-records instead of returning the old branch's derivatives.
//! let mut tape = sparsediff_ad::tape::Recorded::scalar(|x| penalty(x[0]), &[3.0])?;
//! let mut g = [0.0];
//! tape.gradient(&[0.5], &mut g)?;
//! assert_eq!(g, [0.0]);
//! # Ok::<(), sparsediff_ad::TapeError>(())
//! ```

use num_dual::DualNum;

/// `max`, `min` and `clamp` for any scalar, by comparisons of scalars (so every backend
/// sees the branch). Ties go to `self`. Comparisons with NaN keep `self`.
pub trait ScalarExt: Sized {
    /// The larger of `self` and `other`.
    fn max(self, other: Self) -> Self;
    /// The smaller of `self` and `other`.
    fn min(self, other: Self) -> Self;
    /// `self` limited to `[lo, hi]`.
    fn clamp(self, lo: Self, hi: Self) -> Self;
}

impl<D: DualNum<Primitive = f64> + Copy> ScalarExt for D {
    #[inline]
    fn max(self, other: Self) -> Self {
        if other > self { other } else { self }
    }

    #[inline]
    fn min(self, other: Self) -> Self {
        if other < self { other } else { self }
    }

    #[inline]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        ScalarExt::min(ScalarExt::max(self, lo), hi)
    }
}
