//! `num_dual::DualNum` for [`Jet`], generic over its shape: the same definitions as
//! `sparsediff_ad::impl_dual_num!` (everything derived from [`Elementary`]), written once for
//! every `Jet<K, B, T>` and with every arithmetic operation `#[inline(always)]` — jets are
//! tens of values wide, and an operation left out of line passes them through memory.

use std::cmp::Ordering;
use std::ops::*;

use sparsediff_ad::scalar::{Binary, Elementary, Unary};

use super::jet::Jet;

macro_rules! binop {
    ($tr:ident, $m:ident, $op:expr, $atr:ident, $am:ident, $with_const:expr) => {
        impl<const K: usize, const B: usize, const T: usize> $tr for Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: Jet<K, B, T>) -> Jet<K, B, T> {
                self.binary($op, rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<&Jet<K, B, T>> for Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: &Jet<K, B, T>) -> Jet<K, B, T> {
                self.binary($op, *rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<Jet<K, B, T>> for &Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: Jet<K, B, T>) -> Jet<K, B, T> {
                (*self).binary($op, rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<&Jet<K, B, T>> for &Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: &Jet<K, B, T>) -> Jet<K, B, T> {
                (*self).binary($op, *rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<f64> for Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: f64) -> Jet<K, B, T> {
                ($with_const)(self, rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<f64> for &Jet<K, B, T> {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: f64) -> Jet<K, B, T> {
                ($with_const)(*self, rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $tr<Jet<K, B, T>> for f64 {
            type Output = Jet<K, B, T>;
            #[inline(always)]
            fn $m(self, rhs: Jet<K, B, T>) -> Jet<K, B, T> {
                <Jet<K, B, T> as Elementary>::constant(self).binary($op, rhs)
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $atr for Jet<K, B, T> {
            #[inline(always)]
            fn $am(&mut self, rhs: Jet<K, B, T>) {
                *self = (*self).binary($op, rhs);
            }
        }
        impl<const K: usize, const B: usize, const T: usize> $atr<f64> for Jet<K, B, T> {
            #[inline(always)]
            fn $am(&mut self, rhs: f64) {
                *self = ($with_const)(*self, rhs);
            }
        }
    };
}

impl<const K: usize, const B: usize, const T: usize> ::std::fmt::Display for Jet<K, B, T> {
    #[inline(always)]
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        ::std::fmt::Display::fmt(&Elementary::value(*self), f)
    }
}

impl<const K: usize, const B: usize, const T: usize> PartialEq for Jet<K, B, T> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        let o = self.value().partial_cmp(&other.value());
        self.observe_comparison(Some(*other), other.value(), o);
        o == Some(Ordering::Equal)
    }
}
impl<const K: usize, const B: usize, const T: usize> PartialEq<f64> for Jet<K, B, T> {
    #[inline(always)]
    fn eq(&self, other: &f64) -> bool {
        let o = self.value().partial_cmp(other);
        self.observe_comparison(None, *other, o);
        o == Some(Ordering::Equal)
    }
}
impl<const K: usize, const B: usize, const T: usize> PartialOrd for Jet<K, B, T> {
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let o = self.value().partial_cmp(&other.value());
        self.observe_comparison(Some(*other), other.value(), o);
        o
    }
}
impl<const K: usize, const B: usize, const T: usize> PartialOrd<f64> for Jet<K, B, T> {
    #[inline(always)]
    fn partial_cmp(&self, other: &f64) -> Option<Ordering> {
        let o = self.value().partial_cmp(other);
        self.observe_comparison(None, *other, o);
        o
    }
}

binop!(
    Add,
    add,
    Binary::Add,
    AddAssign,
    add_assign,
    |a: Jet<K, B, T>, c: f64| a.unary(Unary::AddConst(c))
);
binop!(
    Sub,
    sub,
    Binary::Sub,
    SubAssign,
    sub_assign,
    |a: Jet<K, B, T>, c: f64| a.unary(Unary::AddConst(-c))
);
binop!(
    Mul,
    mul,
    Binary::Mul,
    MulAssign,
    mul_assign,
    |a: Jet<K, B, T>, c: f64| a.unary(Unary::MulConst(c))
);
binop!(
    Div,
    div,
    Binary::Div,
    DivAssign,
    div_assign,
    |a: Jet<K, B, T>, c: f64| a.unary(Unary::MulConst(1.0 / c))
);
binop!(
    Rem,
    rem,
    Binary::Rem,
    RemAssign,
    rem_assign,
    |a: Jet<K, B, T>, c: f64| a.unary(Unary::RemConst(c))
);

impl<const K: usize, const B: usize, const T: usize> Neg for Jet<K, B, T> {
    type Output = Jet<K, B, T>;
    #[inline(always)]
    fn neg(self) -> Jet<K, B, T> {
        self.unary(Unary::Neg)
    }
}
impl<const K: usize, const B: usize, const T: usize> Neg for &Jet<K, B, T> {
    type Output = Jet<K, B, T>;
    #[inline(always)]
    fn neg(self) -> Jet<K, B, T> {
        (*self).unary(Unary::Neg)
    }
}
impl<const K: usize, const B: usize, const T: usize> From<f64> for Jet<K, B, T> {
    #[inline(always)]
    fn from(v: f64) -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(v)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::Zero for Jet<K, B, T> {
    #[inline(always)]
    fn zero() -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(0.0)
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::One for Jet<K, B, T> {
    #[inline(always)]
    fn one() -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(1.0)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::Num for Jet<K, B, T> {
    type FromStrRadixErr = <f64 as ::num_traits::Num>::FromStrRadixErr;
    #[inline(always)]
    fn from_str_radix(s: &str, radix: u32) -> Result<Jet<K, B, T>, Self::FromStrRadixErr> {
        <f64 as ::num_traits::Num>::from_str_radix(s, radix)
            .map(<Jet<K, B, T> as Elementary>::constant)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::Signed for Jet<K, B, T> {
    #[inline(always)]
    fn abs(&self) -> Jet<K, B, T> {
        self.unary(Unary::Abs)
    }
    #[inline(always)]
    fn abs_sub(&self, other: &Jet<K, B, T>) -> Jet<K, B, T> {
        if *self > *other {
            *self - *other
        } else {
            <Jet<K, B, T> as Elementary>::constant(0.0)
        }
    }
    #[inline(always)]
    fn signum(&self) -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(if *self > 0.0 {
            1.0
        } else if *self < 0.0 {
            -1.0
        } else {
            0.0
        })
    }
    #[inline(always)]
    fn is_positive(&self) -> bool {
        *self > 0.0
    }
    #[inline(always)]
    fn is_negative(&self) -> bool {
        *self < 0.0
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::Inv for Jet<K, B, T> {
    type Output = Jet<K, B, T>;
    #[inline(always)]
    fn inv(self) -> Jet<K, B, T> {
        self.unary(Unary::Recip)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::std::iter::Sum for Jet<K, B, T> {
    #[inline(always)]
    fn sum<I: Iterator<Item = Jet<K, B, T>>>(iter: I) -> Jet<K, B, T> {
        iter.fold(<Jet<K, B, T> as Elementary>::constant(0.0), |a, b| a + b)
    }
}
impl<'a, const K: usize, const B: usize, const T: usize> ::std::iter::Sum<&'a Jet<K, B, T>>
    for Jet<K, B, T>
{
    #[inline(always)]
    fn sum<I: Iterator<Item = &'a Jet<K, B, T>>>(iter: I) -> Jet<K, B, T> {
        iter.fold(<Jet<K, B, T> as Elementary>::constant(0.0), |a, b| a + *b)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::std::iter::Product for Jet<K, B, T> {
    #[inline(always)]
    fn product<I: Iterator<Item = Jet<K, B, T>>>(iter: I) -> Jet<K, B, T> {
        iter.fold(<Jet<K, B, T> as Elementary>::constant(1.0), |a, b| a * b)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_traits::FromPrimitive for Jet<K, B, T> {
    #[inline(always)]
    fn from_i64(n: i64) -> Option<Jet<K, B, T>> {
        Some(<Jet<K, B, T> as Elementary>::constant(n as f64))
    }
    #[inline(always)]
    fn from_u64(n: u64) -> Option<Jet<K, B, T>> {
        Some(<Jet<K, B, T> as Elementary>::constant(n as f64))
    }
    #[inline(always)]
    fn from_f64(n: f64) -> Option<Jet<K, B, T>> {
        Some(<Jet<K, B, T> as Elementary>::constant(n))
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_dual::DualStruct for Jet<K, B, T> {
    type Real = f64;
    type Inner = f64;
    #[inline(always)]
    fn re(&self) -> f64 {
        self.value()
    }
    #[inline(always)]
    fn from_inner(inner: &f64) -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(*inner)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_dual::Mappable<Jet<K, B, T>>
    for Jet<K, B, T>
{
    type Output<O> = O;
    #[inline(always)]
    fn map_dual<Fm: Fn(Jet<K, B, T>) -> O, O>(self, f: Fm) -> O {
        f(self)
    }
}
impl<const K: usize, const B: usize, const T: usize> ::num_dual::DualNum for Jet<K, B, T> {
    type Primitive = f64;
    const NDERIV: usize = 2;
    type InnerDual = f64;
    #[inline(always)]
    fn from_re(re: f64) -> Jet<K, B, T> {
        <Jet<K, B, T> as Elementary>::constant(re)
    }
    #[inline(always)]
    fn scale(self, factor: &f64) -> Jet<K, B, T> {
        self.unary(Unary::MulConst(*factor))
    }
    #[inline(always)]
    fn recip(&self) -> Jet<K, B, T> {
        self.unary(Unary::Recip)
    }
    #[inline(always)]
    fn powi(&self, n: i32) -> Jet<K, B, T> {
        self.unary(Unary::Powi(n))
    }
    #[inline(always)]
    fn powf(&self, n: f64) -> Jet<K, B, T> {
        self.unary(Unary::Powf(n))
    }
    #[inline(always)]
    fn sqrt(&self) -> Jet<K, B, T> {
        self.unary(Unary::Sqrt)
    }
    #[inline(always)]
    fn cbrt(&self) -> Jet<K, B, T> {
        self.unary(Unary::Cbrt)
    }
    #[inline(always)]
    fn exp(&self) -> Jet<K, B, T> {
        self.unary(Unary::Exp)
    }
    #[inline(always)]
    fn exp2(&self) -> Jet<K, B, T> {
        self.unary(Unary::Exp2)
    }
    #[inline(always)]
    fn exp_m1(&self) -> Jet<K, B, T> {
        self.unary(Unary::ExpM1)
    }
    #[inline(always)]
    fn ln(&self) -> Jet<K, B, T> {
        self.unary(Unary::Ln)
    }
    #[inline(always)]
    fn log(&self, base: f64) -> Jet<K, B, T> {
        self.unary(Unary::Ln)
            .unary(Unary::MulConst(1.0 / base.ln()))
    }
    #[inline(always)]
    fn log2(&self) -> Jet<K, B, T> {
        self.unary(Unary::Log2)
    }
    #[inline(always)]
    fn log10(&self) -> Jet<K, B, T> {
        self.unary(Unary::Log10)
    }
    #[inline(always)]
    fn ln_1p(&self) -> Jet<K, B, T> {
        self.unary(Unary::Ln1p)
    }
    #[inline(always)]
    fn sin(&self) -> Jet<K, B, T> {
        self.unary(Unary::Sin)
    }
    #[inline(always)]
    fn cos(&self) -> Jet<K, B, T> {
        self.unary(Unary::Cos)
    }
    #[inline(always)]
    fn tan(&self) -> Jet<K, B, T> {
        self.unary(Unary::Tan)
    }
    #[inline(always)]
    fn sin_cos(&self) -> (Jet<K, B, T>, Jet<K, B, T>) {
        (self.unary(Unary::Sin), self.unary(Unary::Cos))
    }
    #[inline(always)]
    fn asin(&self) -> Jet<K, B, T> {
        self.unary(Unary::Asin)
    }
    #[inline(always)]
    fn acos(&self) -> Jet<K, B, T> {
        self.unary(Unary::Acos)
    }
    #[inline(always)]
    fn atan(&self) -> Jet<K, B, T> {
        self.unary(Unary::Atan)
    }
    #[inline(always)]
    fn atan2(&self, other: Jet<K, B, T>) -> Jet<K, B, T> {
        self.binary(Binary::Atan2, other)
    }
    #[inline(always)]
    fn sinh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Sinh)
    }
    #[inline(always)]
    fn cosh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Cosh)
    }
    #[inline(always)]
    fn tanh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Tanh)
    }
    #[inline(always)]
    fn asinh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Asinh)
    }
    #[inline(always)]
    fn acosh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Acosh)
    }
    #[inline(always)]
    fn atanh(&self) -> Jet<K, B, T> {
        self.unary(Unary::Atanh)
    }
    #[inline(always)]
    // The series branches compare through PartialOrd, so tapes guard them.
    fn sph_j0(&self) -> Jet<K, B, T> {
        if self.unary(Unary::Abs) < 1e-4 {
            // 1 − x²/6 + x⁴/120 (the quotient loses accuracy near 0).
            let x2 = self.unary(Unary::Powi(2));
            (x2 * (1.0 / 120.0) - 1.0 / 6.0) * x2 + 1.0
        } else {
            self.unary(Unary::Sin) / *self
        }
    }
    #[inline(always)]
    fn sph_j1(&self) -> Jet<K, B, T> {
        if self.unary(Unary::Abs) < 1e-4 {
            let x2 = self.unary(Unary::Powi(2));
            *self * (1.0 / 3.0 - x2 * (1.0 / 30.0))
        } else {
            let (s, c) = (self.unary(Unary::Sin), self.unary(Unary::Cos));
            (s - *self * c) / self.unary(Unary::Powi(2))
        }
    }
    #[inline(always)]
    fn sph_j2(&self) -> Jet<K, B, T> {
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
