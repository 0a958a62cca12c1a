//! One scalar interface: every type of this crate that user code runs on (the reverse-mode
//! tape variable, the sparsity tracer) implements [`Elementary`] — a value, constants, the
//! [`Unary`] and [`Binary`] operations, and an observer for comparisons — and
//! [`impl_dual_num!`](crate::impl_dual_num) turns that into the whole of
//! `num_dual::DualNum` (arithmetic with itself, references and `f64`, assignment
//! operators, `num_traits`, elementary functions). A user function written once as
//! `fn f<D: DualNum<Primitive = f64>>(x: &[D]) -> D` then runs on `f64`, on num-dual's
//! forward types, on the tape and on the tracer.

use std::cmp::Ordering;

pub use crate::op::{Binary, Unary};

/// The primitive operations a scalar type provides; [`impl_dual_num!`](crate::impl_dual_num)
/// derives everything else from them.
pub trait Elementary: Copy + 'static {
    /// The numerical value.
    fn value(self) -> f64;
    /// A constant (not depending on the inputs).
    fn constant(value: f64) -> Self;
    /// Applies a one-argument operation.
    fn unary(self, op: Unary) -> Self;
    /// Applies a two-argument operation.
    fn binary(self, op: Binary, other: Self) -> Self;
    /// Told about every comparison user code makes (`<`, `==`, `is_positive`, ...): `other`
    /// is the right-hand side if it is a scalar of this type, `rhs` its value, `outcome` the
    /// result. A tape records it to detect that a replay takes another branch.
    fn observe_comparison(self, other: Option<Self>, rhs: f64, outcome: Option<Ordering>);
    /// Told when user code reads the raw value through `DualNum::re()`. A branch on a raw
    /// value (`if x.re() > 0.0`) is invisible to [`observe_comparison`](Self::observe_comparison),
    /// so scalars that follow branches (the tape, the tracer, forward lanes) note that the
    /// function reads values, and the facade checks such functions at every evaluation.
    /// Default: nothing.
    #[inline(always)]
    fn observe_value_read(self) {}
}

/// Implements `num_dual::DualNum` (and everything it requires) for a type implementing
/// [`Elementary`].
#[macro_export]
macro_rules! impl_dual_num {
    ($t:ty) => {
        const _: () = {
            use ::std::cmp::Ordering;
            use ::std::ops::*;
            use $crate::scalar::{Binary, Elementary, Unary};

            impl ::std::fmt::Display for $t {
                #[inline]
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&Elementary::value(*self), f)
                }
            }

            impl PartialEq for $t {
                #[inline]
                fn eq(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    self.observe_comparison(Some(*other), other.value(), o);
                    o == Some(Ordering::Equal)
                }
            }
            impl PartialEq<f64> for $t {
                #[inline]
                fn eq(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    self.observe_comparison(None, *other, o);
                    o == Some(Ordering::Equal)
                }
            }
            impl PartialOrd for $t {
                #[inline]
                fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                    let o = self.value().partial_cmp(&other.value());
                    self.observe_comparison(Some(*other), other.value(), o);
                    o
                }
            }
            impl PartialOrd<f64> for $t {
                #[inline]
                fn partial_cmp(&self, other: &f64) -> Option<Ordering> {
                    let o = self.value().partial_cmp(other);
                    self.observe_comparison(None, *other, o);
                    o
                }
            }

            $crate::impl_dual_num!(@binop $t, Add, add, Binary::Add, AddAssign, add_assign, |a: $t, c: f64| a.unary(Unary::AddConst(c)));
            $crate::impl_dual_num!(@binop $t, Sub, sub, Binary::Sub, SubAssign, sub_assign, |a: $t, c: f64| a.unary(Unary::AddConst(-c)));
            $crate::impl_dual_num!(@binop $t, Mul, mul, Binary::Mul, MulAssign, mul_assign, |a: $t, c: f64| a.unary(Unary::MulConst(c)));
            $crate::impl_dual_num!(@binop $t, Div, div, Binary::Div, DivAssign, div_assign, |a: $t, c: f64| a.unary(Unary::MulConst(1.0 / c)));
            $crate::impl_dual_num!(@binop $t, Rem, rem, Binary::Rem, RemAssign, rem_assign, |a: $t, c: f64| a.unary(Unary::RemConst(c)));

            impl Neg for $t {
                type Output = $t;
                #[inline]
                fn neg(self) -> $t {
                    self.unary(Unary::Neg)
                }
            }
            impl Neg for &$t {
                type Output = $t;
                #[inline]
                fn neg(self) -> $t {
                    (*self).unary(Unary::Neg)
                }
            }
            impl From<f64> for $t {
                #[inline]
                fn from(v: f64) -> $t {
                    <$t as Elementary>::constant(v)
                }
            }
            impl ::num_traits::Zero for $t {
                #[inline]
                fn zero() -> $t {
                    <$t as Elementary>::constant(0.0)
                }
                #[inline]
                fn is_zero(&self) -> bool {
                    *self == 0.0
                }
            }
            impl ::num_traits::One for $t {
                #[inline]
                fn one() -> $t {
                    <$t as Elementary>::constant(1.0)
                }
            }
            impl ::num_traits::Num for $t {
                type FromStrRadixErr = <f64 as ::num_traits::Num>::FromStrRadixErr;
                #[inline]
                fn from_str_radix(s: &str, radix: u32) -> Result<$t, Self::FromStrRadixErr> {
                    <f64 as ::num_traits::Num>::from_str_radix(s, radix).map(<$t as Elementary>::constant)
                }
            }
            impl ::num_traits::Signed for $t {
                #[inline]
                fn abs(&self) -> $t {
                    self.unary(Unary::Abs)
                }
                #[inline]
                fn abs_sub(&self, other: &$t) -> $t {
                    if *self > *other { *self - *other } else { <$t as Elementary>::constant(0.0) }
                }
                #[inline]
                fn signum(&self) -> $t {
                    <$t as Elementary>::constant(if *self > 0.0 {
                        1.0
                    } else if *self < 0.0 {
                        -1.0
                    } else {
                        0.0
                    })
                }
                #[inline]
                fn is_positive(&self) -> bool {
                    *self > 0.0
                }
                #[inline]
                fn is_negative(&self) -> bool {
                    *self < 0.0
                }
            }
            impl ::num_traits::Inv for $t {
                type Output = $t;
                #[inline]
                fn inv(self) -> $t {
                    self.unary(Unary::Recip)
                }
            }
            impl ::std::iter::Sum for $t {
                #[inline]
                fn sum<I: Iterator<Item = $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(0.0), |a, b| a + b)
                }
            }
            impl<'a> ::std::iter::Sum<&'a $t> for $t {
                #[inline]
                fn sum<I: Iterator<Item = &'a $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(0.0), |a, b| a + *b)
                }
            }
            impl ::std::iter::Product for $t {
                #[inline]
                fn product<I: Iterator<Item = $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(1.0), |a, b| a * b)
                }
            }
            impl ::num_traits::FromPrimitive for $t {
                #[inline]
                fn from_i64(n: i64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n as f64))
                }
                #[inline]
                fn from_u64(n: u64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n as f64))
                }
                #[inline]
                fn from_f64(n: f64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n))
                }
            }
            impl ::num_dual::DualStruct for $t {
                type Real = f64;
                type Inner = f64;
                #[inline]
                fn re(&self) -> f64 {
                    self.observe_value_read();
                    self.value()
                }
                #[inline]
                fn from_inner(inner: &f64) -> $t {
                    <$t as Elementary>::constant(*inner)
                }
            }
            impl ::num_dual::Mappable<$t> for $t {
                type Output<O> = O;
                #[inline]
                fn map_dual<M: Fn($t) -> O, O>(self, f: M) -> O {
                    f(self)
                }
            }
            impl ::num_dual::DualNum for $t {
                type Primitive = f64;
                const NDERIV: usize = 2;
                type InnerDual = f64;
                #[inline]
                fn from_re(re: f64) -> $t {
                    <$t as Elementary>::constant(re)
                }
                #[inline]
                fn scale(self, factor: &f64) -> $t {
                    self.unary(Unary::MulConst(*factor))
                }
                #[inline]
                fn recip(&self) -> $t {
                    self.unary(Unary::Recip)
                }
                #[inline]
                fn powi(&self, n: i32) -> $t {
                    self.unary(Unary::Powi(n))
                }
                #[inline]
                fn powf(&self, n: f64) -> $t {
                    self.unary(Unary::Powf(n))
                }
                #[inline]
                fn sqrt(&self) -> $t {
                    self.unary(Unary::Sqrt)
                }
                #[inline]
                fn cbrt(&self) -> $t {
                    self.unary(Unary::Cbrt)
                }
                #[inline]
                fn exp(&self) -> $t {
                    self.unary(Unary::Exp)
                }
                #[inline]
                fn exp2(&self) -> $t {
                    self.unary(Unary::Exp2)
                }
                #[inline]
                fn exp_m1(&self) -> $t {
                    self.unary(Unary::ExpM1)
                }
                #[inline]
                fn ln(&self) -> $t {
                    self.unary(Unary::Ln)
                }
                #[inline]
                fn log(&self, base: f64) -> $t {
                    self.unary(Unary::Ln).unary(Unary::MulConst(1.0 / base.ln()))
                }
                #[inline]
                fn log2(&self) -> $t {
                    self.unary(Unary::Log2)
                }
                #[inline]
                fn log10(&self) -> $t {
                    self.unary(Unary::Log10)
                }
                #[inline]
                fn ln_1p(&self) -> $t {
                    self.unary(Unary::Ln1p)
                }
                #[inline]
                fn sin(&self) -> $t {
                    self.unary(Unary::Sin)
                }
                #[inline]
                fn cos(&self) -> $t {
                    self.unary(Unary::Cos)
                }
                #[inline]
                fn tan(&self) -> $t {
                    self.unary(Unary::Tan)
                }
                #[inline]
                fn sin_cos(&self) -> ($t, $t) {
                    (self.unary(Unary::Sin), self.unary(Unary::Cos))
                }
                #[inline]
                fn asin(&self) -> $t {
                    self.unary(Unary::Asin)
                }
                #[inline]
                fn acos(&self) -> $t {
                    self.unary(Unary::Acos)
                }
                #[inline]
                fn atan(&self) -> $t {
                    self.unary(Unary::Atan)
                }
                #[inline]
                fn atan2(&self, other: $t) -> $t {
                    self.binary(Binary::Atan2, other)
                }
                #[inline]
                fn sinh(&self) -> $t {
                    self.unary(Unary::Sinh)
                }
                #[inline]
                fn cosh(&self) -> $t {
                    self.unary(Unary::Cosh)
                }
                #[inline]
                fn tanh(&self) -> $t {
                    self.unary(Unary::Tanh)
                }
                #[inline]
                fn asinh(&self) -> $t {
                    self.unary(Unary::Asinh)
                }
                #[inline]
                fn acosh(&self) -> $t {
                    self.unary(Unary::Acosh)
                }
                #[inline]
                fn atanh(&self) -> $t {
                    self.unary(Unary::Atanh)
                }
                #[inline]
                // The series branches compare through PartialOrd, so tapes guard them.
                fn sph_j0(&self) -> $t {
                    if self.unary(Unary::Abs) < 1e-4 {
                        // 1 − x²/6 + x⁴/120 (the quotient loses accuracy near 0).
                        let x2 = self.unary(Unary::Powi(2));
                        (x2 * (1.0 / 120.0) - 1.0 / 6.0) * x2 + 1.0
                    } else {
                        self.unary(Unary::Sin) / *self
                    }
                }
                #[inline]
                fn sph_j1(&self) -> $t {
                    if self.unary(Unary::Abs) < 1e-4 {
                        let x2 = self.unary(Unary::Powi(2));
                        *self * (1.0 / 3.0 - x2 * (1.0 / 30.0))
                    } else {
                        let (s, c) = (self.unary(Unary::Sin), self.unary(Unary::Cos));
                        (s - *self * c) / self.unary(Unary::Powi(2))
                    }
                }
                #[inline]
                fn sph_j2(&self) -> $t {
                    if self.unary(Unary::Abs) < 1e-4 {
                        let x2 = self.unary(Unary::Powi(2));
                        x2 * (1.0 / 15.0 - x2 * (1.0 / 210.0))
                    } else {
                        let (s, c) = (self.unary(Unary::Sin), self.unary(Unary::Cos));
                        let r = self.unary(Unary::Recip);
                        let r2 = r * r;
                        ((r2 * 3.0 - 1.0) * s - c * r * 3.0) * r
                    }
                }
            }
        };
    };
    (@binop $t:ty, $tr:ident, $m:ident, $op:expr, $atr:ident, $am:ident, $with_const:expr) => {
        impl $tr for $t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: $t) -> $t {
                self.binary($op, rhs)
            }
        }
        impl $tr<&$t> for $t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: &$t) -> $t {
                self.binary($op, *rhs)
            }
        }
        impl $tr<$t> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: $t) -> $t {
                (*self).binary($op, rhs)
            }
        }
        impl $tr<&$t> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: &$t) -> $t {
                (*self).binary($op, *rhs)
            }
        }
        impl $tr<f64> for $t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: f64) -> $t {
                ($with_const)(self, rhs)
            }
        }
        impl $tr<f64> for &$t {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: f64) -> $t {
                ($with_const)(*self, rhs)
            }
        }
        impl $tr<$t> for f64 {
            type Output = $t;
            #[inline]
            fn $m(self, rhs: $t) -> $t {
                <$t as Elementary>::constant(self).binary($op, rhs)
            }
        }
        impl $atr for $t {
            #[inline]
            fn $am(&mut self, rhs: $t) {
                *self = (*self).binary($op, rhs);
            }
        }
        impl $atr<f64> for $t {
            #[inline]
            fn $am(&mut self, rhs: f64) {
                *self = ($with_const)(*self, rhs);
            }
        }
    };
}
