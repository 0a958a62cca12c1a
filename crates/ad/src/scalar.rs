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
    /// Decides a comparison user code makes: `question` is what it asks (`<`, `==`,
    /// `partial_cmp`, ...), `natural` the outcome of comparing the values, and the
    /// ordering returned is what the comparison reports (the operator then tests it:
    /// `<` is `Some(Less)`, ...). The default observes the comparison
    /// ([`observe_comparison`](Self::observe_comparison)) and returns `natural`; the
    /// sparsity tracer's global mode returns forced outcomes instead, to run every side of
    /// a branch (see [`trace`](crate::trace)).
    #[inline(always)]
    fn decide_comparison(
        self,
        other: Option<Self>,
        rhs: f64,
        question: Comparison,
        natural: Option<Ordering>,
    ) -> Option<Ordering> {
        let _ = question;
        self.observe_comparison(other, rhs, natural);
        natural
    }
    /// Told when user code reads the raw value through `DualNum::re()`. A branch on a raw
    /// value (`if x.re() > 0.0`) is invisible to [`observe_comparison`](Self::observe_comparison),
    /// so scalars that follow branches (the tape, the tracer, forward lanes) note that the
    /// function reads values, and the facade checks such functions at every evaluation.
    /// Default: nothing.
    #[inline(always)]
    fn observe_value_read(self) {}
}

/// What a comparison of scalars asks, and so how many different answers it can get:
/// two for the operators (`<`, `<=`, `>`, `>=`, `==`; `!=` is `!(==)`), three for
/// `partial_cmp` called directly.
///
/// ```
/// use std::cmp::Ordering;
/// use sparsediff_ad::scalar::Comparison;
/// assert_eq!(Comparison::Lt.answers(), 2);
/// assert_eq!(Comparison::Lt.answer(Some(Ordering::Less)), 1); // true
/// assert_eq!(Comparison::Lt.answer(None), 0); // NaN: false, as for f64
/// // an ordering that gives answer k
/// assert_eq!(Comparison::Ge.answer(Comparison::Ge.outcome(1)), 1);
/// assert_eq!(Comparison::PartialCmp.outcome(2), Some(Ordering::Greater));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a == b` (and `a != b`, its negation).
    Eq,
    /// `a.partial_cmp(&b)`: less, equal or greater.
    PartialCmp,
}

impl Comparison {
    /// How many different answers the comparison can get: 2 (false, true) or 3 (less,
    /// equal, greater).
    pub fn answers(self) -> u8 {
        match self {
            Comparison::PartialCmp => 3,
            _ => 2,
        }
    }

    /// The answer an ordering gives: 0 (false) or 1 (true) for the operators, 0/1/2 (less,
    /// equal, greater) for `partial_cmp`. `None` (a NaN) gives 0: false for the operators,
    /// as for `f64`, and less for `partial_cmp`.
    pub fn answer(self, ordering: Option<Ordering>) -> u8 {
        use Ordering::{Equal, Greater, Less};
        let truth = match (self, ordering) {
            (_, None) => false,
            (Comparison::Lt, Some(o)) => o == Less,
            (Comparison::Le, Some(o)) => o != Greater,
            (Comparison::Gt, Some(o)) => o == Greater,
            (Comparison::Ge, Some(o)) => o != Less,
            (Comparison::Eq, Some(o)) => o == Equal,
            (Comparison::PartialCmp, Some(o)) => return (o as i8 + 1) as u8,
        };
        u8::from(truth)
    }

    /// An ordering that gives `answer` (taken modulo [`answers`](Self::answers)).
    pub fn outcome(self, answer: u8) -> Option<Ordering> {
        use Ordering::{Equal, Greater, Less};
        let truth = answer % self.answers() == 1;
        Some(match self {
            Comparison::Lt | Comparison::Le => [Greater, Less][usize::from(truth)],
            Comparison::Gt | Comparison::Ge => [Less, Greater][usize::from(truth)],
            Comparison::Eq => [Less, Equal][usize::from(truth)],
            Comparison::PartialCmp => [Less, Equal, Greater][usize::from(answer % 3)],
        })
    }
}

/// Implements `num_dual::DualNum` (and everything it requires) for a type implementing
/// [`Elementary`].
///
/// * `impl_dual_num!(MyScalar)` for a concrete type;
/// * `impl_dual_num!(impl[const N: usize] MyLanes<N>)` for a generic one: the generic
///   parameters in brackets (lifetimes are not supported: `DualNum` needs `'static`),
///   optionally followed by `where` and the bounds the type needs;
/// * a leading `#[inline(always)]` (or any attribute) replaces the default `#[inline]` on
///   every method — for wide scalars, whose operations passed out of line go through memory.
///
/// The invoking crate needs `num-dual` and `num-traits` among its dependencies.
///
/// ```
/// use std::cmp::Ordering;
/// use sparsediff_ad::num_dual::DualNum;
/// use sparsediff_ad::scalar::{Binary, Elementary, Unary};
///
/// /// N copies of one value (a toy scalar, generic over its width).
/// #[derive(Debug, Clone, Copy)]
/// struct Copies<const N: usize>([f64; N]);
/// impl<const N: usize> Elementary for Copies<N> {
///     fn value(self) -> f64 { self.0[0] }
///     fn constant(value: f64) -> Self { Copies([value; N]) }
///     fn unary(self, op: Unary) -> Self { Copies(self.0.map(|x| op.eval(x).0)) }
///     fn binary(self, op: Binary, other: Self) -> Self {
///         Copies(std::array::from_fn(|k| op.eval(self.0[k], other.0[k]).0))
///     }
///     fn observe_comparison(self, _: Option<Self>, _: f64, _: Option<Ordering>) {}
/// }
/// sparsediff_ad::impl_dual_num!(#[inline(always)] impl[const N: usize] Copies<N> where [f64; N]: Copy);
///
/// fn f<D: DualNum<Primitive = f64> + Copy>(x: D) -> D { x.sin() * 2.0 + x.powi(2) }
/// assert_eq!(f(Copies::<3>([0.5; 3])).0, [f(0.5); 3]);
/// ```
#[macro_export]
macro_rules! impl_dual_num {
    (#[$attr:meta] impl [$($g:tt)*] $t:ty $(where $($w:tt)+)?) => {
        $crate::impl_dual_num!(@impl [$attr] [$($g)*] [$($($w)+)?] $t);
    };
    (impl [$($g:tt)*] $t:ty $(where $($w:tt)+)?) => {
        $crate::impl_dual_num!(@impl [inline] [$($g)*] [$($($w)+)?] $t);
    };
    (#[$attr:meta] $t:ty) => {
        $crate::impl_dual_num!(@impl [$attr] [] [] $t);
    };
    (@impl [$a:meta] [$($g:tt)*] [$($w:tt)*] $t:ty) => {
        const _: () = {
            use ::std::cmp::Ordering;
            use ::std::ops::*;
            use $crate::scalar::{Binary, Comparison, Elementary, Unary};

            impl<$($g)*> ::std::fmt::Display for $t where $($w)* {
                #[$a]
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&Elementary::value(*self), f)
                }
            }

            impl<$($g)*> PartialEq for $t where $($w)* {
                #[$a]
                fn eq(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    self.decide_comparison(Some(*other), other.value(), Comparison::Eq, o)
                        == Some(Ordering::Equal)
                }
            }
            impl<$($g)*> PartialEq<f64> for $t where $($w)* {
                #[$a]
                fn eq(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    self.decide_comparison(None, *other, Comparison::Eq, o) == Some(Ordering::Equal)
                }
            }
            impl<$($g)*> PartialOrd for $t where $($w)* {
                #[$a]
                fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                    let o = self.value().partial_cmp(&other.value());
                    self.decide_comparison(Some(*other), other.value(), Comparison::PartialCmp, o)
                }
                #[$a]
                fn lt(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    self.decide_comparison(Some(*other), other.value(), Comparison::Lt, o)
                        == Some(Ordering::Less)
                }
                #[$a]
                fn le(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    matches!(
                        self.decide_comparison(Some(*other), other.value(), Comparison::Le, o),
                        Some(Ordering::Less | Ordering::Equal)
                    )
                }
                #[$a]
                fn gt(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    self.decide_comparison(Some(*other), other.value(), Comparison::Gt, o)
                        == Some(Ordering::Greater)
                }
                #[$a]
                fn ge(&self, other: &Self) -> bool {
                    let o = self.value().partial_cmp(&other.value());
                    matches!(
                        self.decide_comparison(Some(*other), other.value(), Comparison::Ge, o),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                }
            }
            impl<$($g)*> PartialOrd<f64> for $t where $($w)* {
                #[$a]
                fn partial_cmp(&self, other: &f64) -> Option<Ordering> {
                    let o = self.value().partial_cmp(other);
                    self.decide_comparison(None, *other, Comparison::PartialCmp, o)
                }
                #[$a]
                fn lt(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    self.decide_comparison(None, *other, Comparison::Lt, o) == Some(Ordering::Less)
                }
                #[$a]
                fn le(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    matches!(
                        self.decide_comparison(None, *other, Comparison::Le, o),
                        Some(Ordering::Less | Ordering::Equal)
                    )
                }
                #[$a]
                fn gt(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    self.decide_comparison(None, *other, Comparison::Gt, o) == Some(Ordering::Greater)
                }
                #[$a]
                fn ge(&self, other: &f64) -> bool {
                    let o = self.value().partial_cmp(other);
                    matches!(
                        self.decide_comparison(None, *other, Comparison::Ge, o),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                }
            }

            $crate::impl_dual_num!(@binop [$a] [$($g)*] [$($w)*] $t, Add, add, Binary::Add, AddAssign, add_assign, |a: $t, c: f64| a.unary(Unary::AddConst(c)));
            $crate::impl_dual_num!(@binop [$a] [$($g)*] [$($w)*] $t, Sub, sub, Binary::Sub, SubAssign, sub_assign, |a: $t, c: f64| a.unary(Unary::AddConst(-c)));
            $crate::impl_dual_num!(@binop [$a] [$($g)*] [$($w)*] $t, Mul, mul, Binary::Mul, MulAssign, mul_assign, |a: $t, c: f64| a.unary(Unary::MulConst(c)));
            $crate::impl_dual_num!(@binop [$a] [$($g)*] [$($w)*] $t, Div, div, Binary::Div, DivAssign, div_assign, |a: $t, c: f64| a.unary(Unary::MulConst(1.0 / c)));
            $crate::impl_dual_num!(@binop [$a] [$($g)*] [$($w)*] $t, Rem, rem, Binary::Rem, RemAssign, rem_assign, |a: $t, c: f64| a.unary(Unary::RemConst(c)));

            impl<$($g)*> Neg for $t where $($w)* {
                type Output = $t;
                #[$a]
                fn neg(self) -> $t {
                    self.unary(Unary::Neg)
                }
            }
            impl<$($g)*> Neg for &$t where $($w)* {
                type Output = $t;
                #[$a]
                fn neg(self) -> $t {
                    (*self).unary(Unary::Neg)
                }
            }
            impl<$($g)*> From<f64> for $t where $($w)* {
                #[$a]
                fn from(v: f64) -> $t {
                    <$t as Elementary>::constant(v)
                }
            }
            impl<$($g)*> ::num_traits::Zero for $t where $($w)* {
                #[$a]
                fn zero() -> $t {
                    <$t as Elementary>::constant(0.0)
                }
                #[$a]
                fn is_zero(&self) -> bool {
                    *self == 0.0
                }
            }
            impl<$($g)*> ::num_traits::One for $t where $($w)* {
                #[$a]
                fn one() -> $t {
                    <$t as Elementary>::constant(1.0)
                }
            }
            impl<$($g)*> ::num_traits::Num for $t where $($w)* {
                type FromStrRadixErr = <f64 as ::num_traits::Num>::FromStrRadixErr;
                #[$a]
                fn from_str_radix(s: &str, radix: u32) -> Result<$t, Self::FromStrRadixErr> {
                    <f64 as ::num_traits::Num>::from_str_radix(s, radix).map(<$t as Elementary>::constant)
                }
            }
            impl<$($g)*> ::num_traits::Signed for $t where $($w)* {
                #[$a]
                fn abs(&self) -> $t {
                    self.unary(Unary::Abs)
                }
                #[$a]
                fn abs_sub(&self, other: &$t) -> $t {
                    if *self > *other { *self - *other } else { <$t as Elementary>::constant(0.0) }
                }
                #[$a]
                fn signum(&self) -> $t {
                    <$t as Elementary>::constant(if *self > 0.0 {
                        1.0
                    } else if *self < 0.0 {
                        -1.0
                    } else {
                        0.0
                    })
                }
                #[$a]
                fn is_positive(&self) -> bool {
                    *self > 0.0
                }
                #[$a]
                fn is_negative(&self) -> bool {
                    *self < 0.0
                }
            }
            impl<$($g)*> ::num_traits::Inv for $t where $($w)* {
                type Output = $t;
                #[$a]
                fn inv(self) -> $t {
                    self.unary(Unary::Recip)
                }
            }
            impl<$($g)*> ::std::iter::Sum for $t where $($w)* {
                #[$a]
                fn sum<I: Iterator<Item = $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(0.0), |a, b| a + b)
                }
            }
            impl<'a, $($g)*> ::std::iter::Sum<&'a $t> for $t where $($w)* {
                #[$a]
                fn sum<I: Iterator<Item = &'a $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(0.0), |a, b| a + *b)
                }
            }
            impl<$($g)*> ::std::iter::Product for $t where $($w)* {
                #[$a]
                fn product<I: Iterator<Item = $t>>(iter: I) -> $t {
                    iter.fold(<$t as Elementary>::constant(1.0), |a, b| a * b)
                }
            }
            impl<$($g)*> ::num_traits::FromPrimitive for $t where $($w)* {
                #[$a]
                fn from_i64(n: i64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n as f64))
                }
                #[$a]
                fn from_u64(n: u64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n as f64))
                }
                #[$a]
                fn from_f64(n: f64) -> Option<$t> {
                    Some(<$t as Elementary>::constant(n))
                }
            }
            impl<$($g)*> ::num_dual::DualStruct for $t where $($w)* {
                type Real = f64;
                type Inner = f64;
                #[$a]
                fn re(&self) -> f64 {
                    self.observe_value_read();
                    self.value()
                }
                #[$a]
                fn from_inner(inner: &f64) -> $t {
                    <$t as Elementary>::constant(*inner)
                }
            }
            impl<$($g)*> ::num_dual::Mappable<$t> for $t where $($w)* {
                type Output<O> = O;
                #[$a]
                fn map_dual<M: Fn($t) -> O, O>(self, f: M) -> O {
                    f(self)
                }
            }
            impl<$($g)*> ::num_dual::DualNum for $t where $($w)* {
                type Primitive = f64;
                const NDERIV: usize = 2;
                type InnerDual = f64;
                #[$a]
                fn from_re(re: f64) -> $t {
                    <$t as Elementary>::constant(re)
                }
                #[$a]
                fn scale(self, factor: &f64) -> $t {
                    self.unary(Unary::MulConst(*factor))
                }
                #[$a]
                fn recip(&self) -> $t {
                    self.unary(Unary::Recip)
                }
                #[$a]
                fn powi(&self, n: i32) -> $t {
                    self.unary(Unary::Powi(n))
                }
                #[$a]
                fn powf(&self, n: f64) -> $t {
                    self.unary(Unary::Powf(n))
                }
                #[$a]
                fn sqrt(&self) -> $t {
                    self.unary(Unary::Sqrt)
                }
                #[$a]
                fn cbrt(&self) -> $t {
                    self.unary(Unary::Cbrt)
                }
                #[$a]
                fn exp(&self) -> $t {
                    self.unary(Unary::Exp)
                }
                #[$a]
                fn exp2(&self) -> $t {
                    self.unary(Unary::Exp2)
                }
                #[$a]
                fn exp_m1(&self) -> $t {
                    self.unary(Unary::ExpM1)
                }
                #[$a]
                fn ln(&self) -> $t {
                    self.unary(Unary::Ln)
                }
                #[$a]
                fn log(&self, base: f64) -> $t {
                    self.unary(Unary::Ln).unary(Unary::MulConst(1.0 / base.ln()))
                }
                #[$a]
                fn log2(&self) -> $t {
                    self.unary(Unary::Log2)
                }
                #[$a]
                fn log10(&self) -> $t {
                    self.unary(Unary::Log10)
                }
                #[$a]
                fn ln_1p(&self) -> $t {
                    self.unary(Unary::Ln1p)
                }
                #[$a]
                fn sin(&self) -> $t {
                    self.unary(Unary::Sin)
                }
                #[$a]
                fn cos(&self) -> $t {
                    self.unary(Unary::Cos)
                }
                #[$a]
                fn tan(&self) -> $t {
                    self.unary(Unary::Tan)
                }
                #[$a]
                fn sin_cos(&self) -> ($t, $t) {
                    (self.unary(Unary::Sin), self.unary(Unary::Cos))
                }
                #[$a]
                fn asin(&self) -> $t {
                    self.unary(Unary::Asin)
                }
                #[$a]
                fn acos(&self) -> $t {
                    self.unary(Unary::Acos)
                }
                #[$a]
                fn atan(&self) -> $t {
                    self.unary(Unary::Atan)
                }
                #[$a]
                fn atan2(&self, other: $t) -> $t {
                    self.binary(Binary::Atan2, other)
                }
                #[$a]
                fn sinh(&self) -> $t {
                    self.unary(Unary::Sinh)
                }
                #[$a]
                fn cosh(&self) -> $t {
                    self.unary(Unary::Cosh)
                }
                #[$a]
                fn tanh(&self) -> $t {
                    self.unary(Unary::Tanh)
                }
                #[$a]
                fn asinh(&self) -> $t {
                    self.unary(Unary::Asinh)
                }
                #[$a]
                fn acosh(&self) -> $t {
                    self.unary(Unary::Acosh)
                }
                #[$a]
                fn atanh(&self) -> $t {
                    self.unary(Unary::Atanh)
                }
                #[$a]
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
                #[$a]
                fn sph_j1(&self) -> $t {
                    if self.unary(Unary::Abs) < 1e-4 {
                        let x2 = self.unary(Unary::Powi(2));
                        *self * (1.0 / 3.0 - x2 * (1.0 / 30.0))
                    } else {
                        let (s, c) = (self.unary(Unary::Sin), self.unary(Unary::Cos));
                        (s - *self * c) / self.unary(Unary::Powi(2))
                    }
                }
                #[$a]
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
    (@binop [$a:meta] [$($g:tt)*] [$($w:tt)*] $t:ty, $tr:ident, $m:ident, $op:expr, $atr:ident, $am:ident, $with_const:expr) => {
        impl<$($g)*> $tr for $t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: $t) -> $t {
                self.binary($op, rhs)
            }
        }
        impl<$($g)*> $tr<&$t> for $t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: &$t) -> $t {
                self.binary($op, *rhs)
            }
        }
        impl<$($g)*> $tr<$t> for &$t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: $t) -> $t {
                (*self).binary($op, rhs)
            }
        }
        impl<$($g)*> $tr<&$t> for &$t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: &$t) -> $t {
                (*self).binary($op, *rhs)
            }
        }
        impl<$($g)*> $tr<f64> for $t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: f64) -> $t {
                ($with_const)(self, rhs)
            }
        }
        impl<$($g)*> $tr<f64> for &$t where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: f64) -> $t {
                ($with_const)(*self, rhs)
            }
        }
        impl<$($g)*> $tr<$t> for f64 where $($w)* {
            type Output = $t;
            #[$a]
            fn $m(self, rhs: $t) -> $t {
                <$t as Elementary>::constant(self).binary($op, rhs)
            }
        }
        impl<$($g)*> $atr for $t where $($w)* {
            #[$a]
            fn $am(&mut self, rhs: $t) {
                *self = (*self).binary($op, rhs);
            }
        }
        impl<$($g)*> $atr<f64> for $t where $($w)* {
            #[$a]
            fn $am(&mut self, rhs: f64) {
                *self = ($with_const)(*self, rhs);
            }
        }
    };
    ($t:ty) => {
        $crate::impl_dual_num!(@impl [inline] [] [] $t);
    };
}
