//! The elementary operations every scalar of this crate records or traces, with their first
//! and second derivatives in one place: the tape replays them, the tracer classifies them
//! (linear, bilinear, nonlinear), and nothing else defines their calculus.

/// A one-argument operation (constants folded in: `x + c`, `c·x`, `c − x`, `c / x`, `xⁿ`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)] // the names are the functions
pub enum Unary {
    Neg,
    Recip,
    Sqrt,
    Cbrt,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Log2,
    Log10,
    Ln1p,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Abs,
    /// `x + c`
    AddConst(f64),
    /// `c · x`
    MulConst(f64),
    /// `c − x`
    SubFromConst(f64),
    /// `c / x`
    DivConst(f64),
    /// `x % c` (derivative 1 almost everywhere)
    RemConst(f64),
    /// `c % x`
    ConstRem(f64),
    /// `xⁿ`, integer n
    Powi(i32),
    /// `xᵃ`, real constant a
    Powf(f64),
}

/// A two-argument operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// `a % b`
    Rem,
    /// `atan2(a, b)`
    Atan2,
}

/// How an operation's second derivatives look: what a Hessian sparsity tracer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curvature {
    /// All second derivatives vanish (affine or piecewise affine).
    Linear,
    /// Only the mixed second derivative ∂²/∂a∂b is nonzero (products).
    Bilinear,
    /// Nonzero second derivatives in the second argument and mixed, not ∂²/∂a² (a / b).
    NonlinearInSecond,
    /// Anything.
    Nonlinear,
}

impl Unary {
    /// (f(x), f′(x), f″(x)).
    #[inline]
    pub fn eval(self, x: f64) -> (f64, f64, f64) {
        use Unary::*;
        match self {
            Neg => (-x, -1.0, 0.0),
            Recip => {
                let r = 1.0 / x;
                (r, -r * r, 2.0 * r * r * r)
            }
            Sqrt => {
                let s = x.sqrt();
                (s, 0.5 / s, -0.25 / (s * x))
            }
            Cbrt => {
                let c = x.cbrt();
                let d = c / (3.0 * x);
                (c, d, -2.0 * d / (3.0 * x))
            }
            Exp => {
                let e = x.exp();
                (e, e, e)
            }
            Exp2 => {
                let e = x.exp2();
                let l = std::f64::consts::LN_2;
                (e, e * l, e * l * l)
            }
            ExpM1 => {
                let e = x.exp();
                (x.exp_m1(), e, e)
            }
            Ln => (x.ln(), 1.0 / x, -1.0 / (x * x)),
            Log2 => {
                let l = std::f64::consts::LN_2;
                (x.log2(), 1.0 / (x * l), -1.0 / (x * x * l))
            }
            Log10 => {
                let l = std::f64::consts::LN_10;
                (x.log10(), 1.0 / (x * l), -1.0 / (x * x * l))
            }
            Ln1p => {
                let d = 1.0 / (1.0 + x);
                (x.ln_1p(), d, -d * d)
            }
            Sin => {
                let (s, c) = x.sin_cos();
                (s, c, -s)
            }
            Cos => {
                let (s, c) = x.sin_cos();
                (c, -s, -c)
            }
            Tan => {
                let t = x.tan();
                let d = 1.0 + t * t;
                (t, d, 2.0 * t * d)
            }
            Asin => {
                let r = 1.0 / (1.0 - x * x).sqrt();
                (x.asin(), r, x * r * r * r)
            }
            Acos => {
                let r = 1.0 / (1.0 - x * x).sqrt();
                (x.acos(), -r, -x * r * r * r)
            }
            Atan => {
                let d = 1.0 / (1.0 + x * x);
                (x.atan(), d, -2.0 * x * d * d)
            }
            Sinh => (x.sinh(), x.cosh(), x.sinh()),
            Cosh => (x.cosh(), x.sinh(), x.cosh()),
            Tanh => {
                let t = x.tanh();
                let d = 1.0 - t * t;
                (t, d, -2.0 * t * d)
            }
            Asinh => {
                let r = 1.0 / (x * x + 1.0).sqrt();
                (x.asinh(), r, -x * r * r * r)
            }
            Acosh => {
                let r = 1.0 / (x * x - 1.0).sqrt();
                (x.acosh(), r, -x * r * r * r)
            }
            Atanh => {
                let d = 1.0 / (1.0 - x * x);
                (x.atanh(), d, 2.0 * x * d * d)
            }
            Abs => (x.abs(), if x >= 0.0 { 1.0 } else { -1.0 }, 0.0),
            AddConst(c) => (x + c, 1.0, 0.0),
            MulConst(c) => (c * x, c, 0.0),
            SubFromConst(c) => (c - x, -1.0, 0.0),
            DivConst(c) => {
                let r = 1.0 / x;
                (c * r, -c * r * r, 2.0 * c * r * r * r)
            }
            RemConst(c) => (x % c, 1.0, 0.0),
            ConstRem(c) => (c % x, -(c / x).trunc(), 0.0),
            Powi(n) => match n {
                0 => (1.0, 0.0, 0.0),
                1 => (x, 1.0, 0.0),
                2 => (x * x, 2.0 * x, 2.0),
                _ => {
                    let p2 = x.powi(n - 2);
                    let p1 = p2 * x;
                    (
                        p1 * x,
                        f64::from(n) * p1,
                        f64::from(n) * f64::from(n - 1) * p2,
                    )
                }
            },
            Powf(a) => {
                if a == 0.0 {
                    (1.0, 0.0, 0.0)
                } else {
                    let p2 = x.powf(a - 2.0);
                    let p1 = p2 * x;
                    (p1 * x, a * p1, a * (a - 1.0) * p2)
                }
            }
        }
    }

    /// (f(x), f′(x)) only, for first-order modes (cheaper than [`eval`](Self::eval) for
    /// the common operations).
    #[inline(always)]
    pub fn eval1(self, x: f64) -> (f64, f64) {
        use Unary::*;
        match self {
            Neg => (-x, -1.0),
            AddConst(c) => (x + c, 1.0),
            MulConst(c) => (c * x, c),
            SubFromConst(c) => (c - x, -1.0),
            Powi(2) => (x * x, 2.0 * x),
            Sin => {
                let (s, c) = x.sin_cos();
                (s, c)
            }
            Cos => {
                let (s, c) = x.sin_cos();
                (c, -s)
            }
            Exp => {
                let e = x.exp();
                (e, e)
            }
            Sqrt => {
                let s = x.sqrt();
                (s, 0.5 / s)
            }
            Recip => {
                let r = 1.0 / x;
                (r, -r * r)
            }
            Ln => (x.ln(), 1.0 / x),
            _ => {
                let (f, d, _) = self.eval(x);
                (f, d)
            }
        }
    }

    /// The curvature class (for Hessian sparsity).
    pub fn curvature(self) -> Curvature {
        use Unary::*;
        match self {
            Neg | Abs | AddConst(_) | MulConst(_) | SubFromConst(_) | RemConst(_) | ConstRem(_) => {
                Curvature::Linear
            }
            Powi(0) | Powi(1) => Curvature::Linear,
            Powf(a) if a == 0.0 || a == 1.0 => Curvature::Linear,
            _ => Curvature::Nonlinear,
        }
    }

    /// Whether f′ is constant where defined (the tracer's first-order rule does not care,
    /// but a replay can skip the local derivative).
    pub fn is_affine(self) -> bool {
        matches!(
            self,
            Unary::Neg | Unary::AddConst(_) | Unary::MulConst(_) | Unary::SubFromConst(_)
        )
    }
}

/// Value and derivatives of a binary operation:
/// (f, ∂f/∂a, ∂f/∂b, ∂²f/∂a², ∂²f/∂a∂b, ∂²f/∂b²).
pub type BinaryDerivatives = (f64, f64, f64, f64, f64, f64);

impl Binary {
    /// Value and first and second partial derivatives at (a, b).
    #[inline]
    pub fn eval(self, a: f64, b: f64) -> BinaryDerivatives {
        use Binary::*;
        match self {
            Add => (a + b, 1.0, 1.0, 0.0, 0.0, 0.0),
            Sub => (a - b, 1.0, -1.0, 0.0, 0.0, 0.0),
            Mul => (a * b, b, a, 0.0, 1.0, 0.0),
            Div => {
                let r = 1.0 / b;
                let q = a * r;
                (q, r, -q * r, 0.0, -r * r, 2.0 * q * r * r)
            }
            Rem => (a % b, 1.0, -(a / b).trunc(), 0.0, 0.0, 0.0),
            Atan2 => {
                let d = 1.0 / (a * a + b * b);
                let (fa, fb) = (b * d, -a * d);
                let d2 = d * d;
                (
                    a.atan2(b),
                    fa,
                    fb,
                    -2.0 * a * b * d2,
                    (a * a - b * b) * d2,
                    2.0 * a * b * d2,
                )
            }
        }
    }

    /// The curvature class (for Hessian sparsity).
    pub fn curvature(self) -> Curvature {
        match self {
            Binary::Add | Binary::Sub | Binary::Rem => Curvature::Linear,
            Binary::Mul => Curvature::Bilinear,
            Binary::Div => Curvature::NonlinearInSecond,
            Binary::Atan2 => Curvature::Nonlinear,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of f and f′ agree with the stated derivatives.
    #[test]
    fn unary_derivatives_match_differences() {
        use Unary::*;
        let ops = [
            Neg,
            Recip,
            Sqrt,
            Cbrt,
            Exp,
            Exp2,
            ExpM1,
            Ln,
            Log2,
            Log10,
            Ln1p,
            Sin,
            Cos,
            Tan,
            Asin,
            Acos,
            Atan,
            Sinh,
            Cosh,
            Tanh,
            Asinh,
            Acosh,
            Atanh,
            Abs,
            AddConst(2.5),
            MulConst(-3.0),
            SubFromConst(1.5),
            DivConst(2.0),
            RemConst(0.7),
            ConstRem(5.0),
            Powi(0),
            Powi(1),
            Powi(2),
            Powi(3),
            Powi(-2),
            Powf(2.5),
            Powf(0.0),
            Powf(-0.5),
        ];
        for op in ops {
            let x = match op {
                Acosh => 1.7,
                Asin | Acos | Atanh => 0.3,
                _ => 0.6,
            };
            let h = 1e-5;
            let (f, d1, d2) = op.eval(x);
            let (fp, d1p, _) = op.eval(x + h);
            let (fm, d1m, _) = op.eval(x - h);
            assert!(
                ((fp - fm) / (2.0 * h) - d1).abs() <= 1e-6 * (1.0 + d1.abs()),
                "{op:?} f'"
            );
            assert!(
                ((d1p - d1m) / (2.0 * h) - d2).abs() <= 1e-5 * (1.0 + d2.abs()),
                "{op:?} f''"
            );
            assert!(f.is_finite());
        }
    }

    #[test]
    fn first_order_shortcuts_agree_with_eval() {
        use Unary::*;
        for op in [
            Neg,
            AddConst(1.5),
            MulConst(-2.0),
            SubFromConst(0.5),
            Powi(2),
            Sin,
            Cos,
            Exp,
            Sqrt,
            Recip,
            Ln,
            Tan,
            Powi(3),
        ] {
            for x in [0.3, 1.7] {
                let (f, d, _) = op.eval(x);
                assert_eq!(op.eval1(x), (f, d), "{op:?}");
            }
        }
    }

    #[test]
    fn binary_derivatives_match_differences() {
        for op in [
            Binary::Add,
            Binary::Sub,
            Binary::Mul,
            Binary::Div,
            Binary::Rem,
            Binary::Atan2,
        ] {
            let (a, b, h) = (0.7, 1.3, 1e-5);
            let (_, fa, fb, faa, fab, fbb) = op.eval(a, b);
            let da = |a: f64, b: f64| op.eval(a, b).1;
            let db = |a: f64, b: f64| op.eval(a, b).2;
            let f = |a: f64, b: f64| op.eval(a, b).0;
            assert!(
                ((f(a + h, b) - f(a - h, b)) / (2.0 * h) - fa).abs() < 1e-6,
                "{op:?}"
            );
            assert!(
                ((f(a, b + h) - f(a, b - h)) / (2.0 * h) - fb).abs() < 1e-6,
                "{op:?}"
            );
            assert!(
                ((da(a + h, b) - da(a - h, b)) / (2.0 * h) - faa).abs() < 1e-5,
                "{op:?}"
            );
            assert!(
                ((da(a, b + h) - da(a, b - h)) / (2.0 * h) - fab).abs() < 1e-5,
                "{op:?}"
            );
            assert!(
                ((db(a, b + h) - db(a, b - h)) / (2.0 * h) - fbb).abs() < 1e-5,
                "{op:?}"
            );
        }
    }
}
