//! The elementary operations every scalar of this crate records or traces, with their first
//! and second derivatives in one place: the tape replays them, the tracer classifies them
//! (linear, bilinear, nonlinear), and nothing else defines their calculus.
//!
//! The list is written once, as the table handed to `elementary_operations!` below. From
//! it come the [`Unary`] and [`Binary`] variants, their derivative rules, [`Unary::eval`],
//! [`Binary::eval`], the curvature classes, [`Unary::SAMPLES`] and [`Binary::ALL`], and
//! for the tape its opcodes with their mapping to and from the operations
//! (`opcodes!`, expanded in `tape::program`) and the `match` of each interpreter
//! (`code_match!`).

/// Generates everything that lists the elementary operations from one table (the
/// invocation below); `$d` is a `$` token, for the two macros it defines.
///
/// * A `unary` row, `Variant[(c: T = sample)] => Code, Kind[, inline]: fn rule(x) { … }`:
///   the variant of [`Unary`] (with its constant, of type `T`, named `c` in the rule, and
///   the sample value of [`Unary::SAMPLES`]), the tape's opcode, what the tape's reverse
///   sweep needs from its forward sweep (`Affine`: a constant first derivative and no
///   second; `First`: no second derivative; `Full`: both), whether the interpreters inline
///   the rule instead of calling [`Unary::eval`] (the cheapest operations), and the rule
///   `(f(x), f′(x), f″(x))`.
/// * A `square` row, `Code = Variant(n), Kind[, inline]: fn rule(x) { … }`: an opcode of
///   its own for one value of a constant-carrying operation (`x²`, the commonest power,
///   decoded without its exponent).
/// * A `binary` row, `Variant, Kind, Curvature: fn rule(a, b) { … }`: the variant of
///   [`Binary`] (also its opcode), as above, its [`Curvature`], and the rule
///   ([`BinaryDerivatives`]).
macro_rules! elementary_operations {
    (
        $d:tt
        unary { $(
            $(#[$udoc:meta])*
            $uv:ident $(($c:ident: $cty:ty = $sample:expr))? => $ucode:ident, $ukind:ident
                $(, $uinline:ident)?: fn $ufn:ident($ux:ident) $ubody:block
        )* }
        square { $(
            $(#[$sdoc:meta])*
            $scode:ident = $sv:ident($sn:literal), $skind:ident $(, $sinline:ident)?:
                fn $sfn:ident($sx:ident) $sbody:block
        )* }
        binary { $(
            $(#[$bdoc:meta])*
            $bv:ident, $bkind:ident, $bcurv:ident: fn $bfn:ident($ba:ident, $bb:ident) $bbody:block
        )* }
    ) => {
        // ---- The operations ----

        /// A one-argument operation (constants folded in: `x + c`, `c·x`, `c − x`, `c / x`, `xⁿ`).
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[allow(missing_docs)] // the names are the functions
        pub enum Unary {
            $($(#[$udoc])* $uv $(($cty))?,)*
        }

        /// A two-argument operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Binary {
            $($(#[$bdoc])* $bv,)*
        }

        /// The derivative rules, one function per operation (and per specialised opcode):
        /// what [`Unary::eval`] and [`Binary::eval`] dispatch to, and what the tape's
        /// interpreters inline for the cheapest operations.
        pub(crate) mod rule {
            $(
                $(#[$udoc])*
                #[inline(always)]
                pub(crate) fn $ufn($ux: f64 $(, $c: $cty)?) -> (f64, f64, f64) $ubody
            )*
            $(
                $(#[$sdoc])*
                #[inline(always)]
                pub(crate) fn $sfn($sx: f64) -> (f64, f64, f64) $sbody
            )*
            $(
                $(#[$bdoc])*
                #[inline(always)]
                pub(crate) fn $bfn($ba: f64, $bb: f64) -> super::BinaryDerivatives $bbody
            )*
        }

        impl Unary {
            /// One instance of every operation, the constant-carrying ones with a sample
            /// constant: what tests iterate over to cover every operation.
            pub const SAMPLES: &'static [Unary] = &[$(Unary::$uv $(($sample))?),*];

            /// (f(x), f′(x), f″(x)).
            #[inline]
            pub fn eval(self, x: f64) -> (f64, f64, f64) {
                match self {
                    $(Unary::$uv $(($c))? => rule::$ufn(x $(, $c)?),)*
                }
            }

            /// The curvature class (for Hessian sparsity).
            pub fn curvature(self) -> Curvature {
                match self {
                    Unary::Powi(0) | Unary::Powi(1) => Curvature::Linear,
                    Unary::Powf(a) if a == 0.0 || a == 1.0 => Curvature::Linear,
                    $(Unary::$uv { .. } => elementary_operations!(@curvature $ukind),)*
                }
            }
        }

        impl Binary {
            /// Every operation.
            pub const ALL: &'static [Binary] = &[$(Binary::$bv),*];

            /// Value and first and second partial derivatives at (a, b).
            #[inline]
            pub fn eval(self, a: f64, b: f64) -> BinaryDerivatives {
                match self {
                    $(Binary::$bv => rule::$bfn(a, b),)*
                }
            }

            /// The curvature class (for Hessian sparsity).
            pub fn curvature(self) -> Curvature {
                match self {
                    $(Binary::$bv => Curvature::$bcurv,)*
                }
            }
        }

        // ---- The tape's instruction set, expanded in `tape::program` ----

        /// The opcodes [`Code`](crate::tape::program::Code) and what the tape's compiler
        /// asks of them.
        macro_rules! opcodes {
            () => {
                /// Operation codes: `Const`, one per operation of [`crate::op`] (binary
                /// ones under their own names), the specialised ones (`Sq`), and `Fused`.
                /// Constant-carrying operations keep their constant in the constant array
                /// (`Powi` keeps its exponent there as an `f64`, exact for every `i32`).
                #[derive(Debug, Clone, Copy, PartialEq, Eq)]
                #[repr(u8)]
                pub(crate) enum Code {
                    Const,
                    $($ucode,)*
                    $($(#[$sdoc])* $scode,)*
                    $($bv,)*
                    /// Segmented programs only: `u2(u1(α·a [+ β·b] [+ γ]))` (see `segmented`).
                    Fused,
                }

                impl Code {
                    /// The code and the constant of a unary operation.
                    pub(crate) fn of_unary(op: $crate::op::Unary) -> (Code, f64) {
                        use $crate::op::Unary;
                        match op {
                            $(Unary::$sv($sn) => (Code::$scode, f64::from($sn)),)*
                            $(Unary::$uv $(($c))? =>
                                (Code::$ucode, $crate::op::elementary_operations!(@stored $($c)?)),)*
                        }
                    }

                    /// The code of a binary operation.
                    pub(crate) fn of_binary(op: $crate::op::Binary) -> Code {
                        match op {
                            $($crate::op::Binary::$bv => Code::$bv,)*
                        }
                    }

                    /// The unary operation of a unary code with its constant (`None` for the
                    /// others).
                    pub(crate) fn unary(self, c: f64) -> Option<$crate::op::Unary> {
                        use $crate::op::Unary;
                        use $crate::tape::program::Stored;
                        Some(match self {
                            $(Code::$ucode => Unary::$uv $((<$cty as Stored>::from_stored(c)))?,)*
                            $(Code::$scode => Unary::$sv($sn),)*
                            Code::Const $(| Code::$bv)* | Code::Fused => return None,
                        })
                    }

                    /// The binary operation of a binary code.
                    pub(crate) fn binary(self) -> Option<$crate::op::Binary> {
                        Some(match self {
                            $(Code::$bv => $crate::op::Binary::$bv,)*
                            _ => return None,
                        })
                    }

                    /// Number of node arguments.
                    pub(crate) fn arity(self) -> usize {
                        match self {
                            Code::Const => 0,
                            $(Code::$bv)|* => 2,
                            _ => 1,
                        }
                    }

                    /// Whether the instruction reads a constant from the constant array.
                    pub(crate) fn has_constant(self) -> bool {
                        match self {
                            Code::Const => true,
                            $(Code::$ucode => $crate::op::elementary_operations!(@has $($cty)?),)*
                            _ => false,
                        }
                    }

                    /// What the reverse sweep needs stored.
                    pub(crate) fn kind(self) -> $crate::tape::program::Kind {
                        use $crate::tape::program::Kind;
                        match self {
                            Code::Const => Kind::Leaf,
                            $(Code::$ucode => Kind::$ukind,)*
                            $(Code::$scode => Kind::$skind,)*
                            $(Code::$bv => Kind::$bkind,)*
                            Code::Fused => Kind::Full,
                        }
                    }
                }
            };
        }
        pub(crate) use opcodes;

        // ---- The interpreters' `match`, expanded in each sweep ----

        /// The `match` of an interpreter over the opcodes, one arm per opcode (a jump
        /// table): `code_match!(code, x, c, un, bin, { extra arms })` puts the `extra` arms
        /// first (`Const`, `Fused`, guarded special cases), then for every unary opcode
        /// `un!(Kind, rule)` and for every binary one `bin!(Kind, op)`, where `Kind` is the
        /// opcode's [`Kind`](crate::tape::program::Kind) (an identifier), `rule` an
        /// expression giving `(f(x), f′(x), f″(x))` at `x` with the instruction's stored
        /// constant `c` (the rule of [`rule`] itself for the `inline` rows, a call of
        /// [`Unary::eval`] otherwise) and `op` the [`Binary`].
        macro_rules! code_match {
            (
                $d code:expr, $d x:expr, $d c:expr, $d un:ident, $d bin:ident,
                { $d($d extra:tt)* }
            ) => {
                match $d code {
                    $d($d extra)*
                    $($crate::tape::program::Code::$ucode => $d un!(
                        $ukind,
                        $crate::op::elementary_operations!(
                            @rule [$($uinline)?] $uv $ufn [$($cty)?] $d x, $d c
                        )
                    ),)*
                    $($crate::tape::program::Code::$scode => $d un!(
                        $skind,
                        $crate::op::elementary_operations!(
                            @rule [$($sinline)?] $sv $sfn [] $d x, $d c
                        )
                    ),)*
                    $($crate::tape::program::Code::$bv => $d bin!($bkind, $crate::op::Binary::$bv),)*
                }
            };
        }
        pub(crate) use code_match;
    };
    (@curvature Full) => { Curvature::Nonlinear };
    (@curvature $kind:ident) => { Curvature::Linear };
    (@stored) => { 0.0 };
    (@stored $c:ident) => { $crate::tape::program::Stored::stored($c) };
    (@has) => { false };
    (@has $cty:ty) => { true };
    (@rule [inline] $v:ident $f:ident [] $x:expr, $c:expr) => {
        $crate::op::rule::$f($x)
    };
    (@rule [inline] $v:ident $f:ident [$cty:ty] $x:expr, $c:expr) => {
        $crate::op::rule::$f($x, <$cty as $crate::tape::program::Stored>::from_stored($c))
    };
    (@rule [] $v:ident $f:ident [] $x:expr, $c:expr) => {
        $crate::op::Unary::$v.eval($x)
    };
    (@rule [] $v:ident $f:ident [$cty:ty] $x:expr, $c:expr) => {
        $crate::op::Unary::$v(<$cty as $crate::tape::program::Stored>::from_stored($c)).eval($x)
    };
}
pub(crate) use elementary_operations;

// The table: one row per operation (see `elementary_operations!` for the columns).
elementary_operations! {
    $
    unary {
        Neg => Neg, Affine, inline: fn neg(x) { (-x, -1.0, 0.0) }
        Recip => Recip, Full: fn recip(x) {
            let r = 1.0 / x;
            (r, -r * r, 2.0 * r * r * r)
        }
        Sqrt => Sqrt, Full: fn sqrt(x) {
            let s = x.sqrt();
            (s, 0.5 / s, -0.25 / (s * x))
        }
        Cbrt => Cbrt, Full: fn cbrt(x) {
            let c = x.cbrt();
            let d = c / (3.0 * x);
            (c, d, -2.0 * d / (3.0 * x))
        }
        Exp => Exp, Full: fn exp(x) {
            let e = x.exp();
            (e, e, e)
        }
        Exp2 => Exp2, Full: fn exp2(x) {
            let e = x.exp2();
            let l = std::f64::consts::LN_2;
            (e, e * l, e * l * l)
        }
        ExpM1 => ExpM1, Full: fn exp_m1(x) {
            let e = x.exp();
            (x.exp_m1(), e, e)
        }
        Ln => Ln, Full: fn ln(x) { (x.ln(), 1.0 / x, -1.0 / (x * x)) }
        Log2 => Log2, Full: fn log2(x) {
            let l = std::f64::consts::LN_2;
            (x.log2(), 1.0 / (x * l), -1.0 / (x * x * l))
        }
        Log10 => Log10, Full: fn log10(x) {
            let l = std::f64::consts::LN_10;
            (x.log10(), 1.0 / (x * l), -1.0 / (x * x * l))
        }
        Ln1p => Ln1p, Full: fn ln_1p(x) {
            let d = 1.0 / (1.0 + x);
            (x.ln_1p(), d, -d * d)
        }
        Sin => Sin, Full: fn sin(x) {
            let (s, c) = x.sin_cos();
            (s, c, -s)
        }
        Cos => Cos, Full: fn cos(x) {
            let (s, c) = x.sin_cos();
            (c, -s, -c)
        }
        Tan => Tan, Full: fn tan(x) {
            let t = x.tan();
            let d = 1.0 + t * t;
            (t, d, 2.0 * t * d)
        }
        Asin => Asin, Full: fn asin(x) {
            let r = 1.0 / (1.0 - x * x).sqrt();
            (x.asin(), r, x * r * r * r)
        }
        Acos => Acos, Full: fn acos(x) {
            let r = 1.0 / (1.0 - x * x).sqrt();
            (x.acos(), -r, -x * r * r * r)
        }
        Atan => Atan, Full: fn atan(x) {
            let d = 1.0 / (1.0 + x * x);
            (x.atan(), d, -2.0 * x * d * d)
        }
        Sinh => Sinh, Full: fn sinh(x) { (x.sinh(), x.cosh(), x.sinh()) }
        Cosh => Cosh, Full: fn cosh(x) { (x.cosh(), x.sinh(), x.cosh()) }
        Tanh => Tanh, Full: fn tanh(x) {
            let t = x.tanh();
            let d = 1.0 - t * t;
            (t, d, -2.0 * t * d)
        }
        Asinh => Asinh, Full: fn asinh(x) {
            let r = 1.0 / (x * x + 1.0).sqrt();
            (x.asinh(), r, -x * r * r * r)
        }
        Acosh => Acosh, Full: fn acosh(x) {
            let r = 1.0 / (x * x - 1.0).sqrt();
            (x.acosh(), r, -x * r * r * r)
        }
        Atanh => Atanh, Full: fn atanh(x) {
            let d = 1.0 / (1.0 - x * x);
            (x.atanh(), d, 2.0 * x * d * d)
        }
        Abs => Abs, First: fn abs(x) { (x.abs(), if x >= 0.0 { 1.0 } else { -1.0 }, 0.0) }
        /// `x + c`
        AddConst(c: f64 = 2.5) => AddC, Affine, inline: fn add_const(x) { (x + c, 1.0, 0.0) }
        /// `c · x`
        MulConst(c: f64 = -3.0) => MulC, Affine, inline: fn mul_const(x) { (c * x, c, 0.0) }
        /// `c − x`
        SubFromConst(c: f64 = 1.5) => SubFromC, Affine, inline: fn sub_from_const(x) {
            (c - x, -1.0, 0.0)
        }
        /// `c / x`
        DivConst(c: f64 = 2.0) => DivC, Full: fn div_const(x) {
            let r = 1.0 / x;
            (c * r, -c * r * r, 2.0 * c * r * r * r)
        }
        /// `x % c` (derivative 1 almost everywhere)
        RemConst(c: f64 = 0.7) => RemC, Affine: fn rem_const(x) { (x % c, 1.0, 0.0) }
        /// `c % x`
        ConstRem(c: f64 = 5.0) => CRem, First: fn const_rem(x) {
            (c % x, -(c / x).trunc(), 0.0)
        }
        /// `xⁿ`, integer n
        Powi(n: i32 = 3) => Powi, Full: fn powi(x) {
            match n {
                0 => (1.0, 0.0, 0.0),
                1 => (x, 1.0, 0.0),
                2 => sq(x),
                _ => {
                    let p2 = x.powi(n - 2);
                    let p1 = p2 * x;
                    (
                        p1 * x,
                        f64::from(n) * p1,
                        f64::from(n) * f64::from(n - 1) * p2,
                    )
                }
            }
        }
        /// `xᵃ`, real constant a
        Powf(a: f64 = 2.5) => Powf, Full: fn powf(x) {
            if a == 0.0 {
                (1.0, 0.0, 0.0)
            } else {
                let p2 = x.powf(a - 2.0);
                let p1 = p2 * x;
                (p1 * x, a * p1, a * (a - 1.0) * p2)
            }
        }
    }
    square {
        /// `x²` (`Powi(2)`, the most common power, decoded without its exponent).
        Sq = Powi(2), Full, inline: fn sq(x) { (x * x, 2.0 * x, 2.0) }
    }
    binary {
        Add, Affine, Linear: fn add(a, b) { (a + b, 1.0, 1.0, 0.0, 0.0, 0.0) }
        Sub, Affine, Linear: fn sub(a, b) { (a - b, 1.0, -1.0, 0.0, 0.0, 0.0) }
        Mul, Full, Bilinear: fn mul(a, b) { (a * b, b, a, 0.0, 1.0, 0.0) }
        Div, Full, NonlinearInSecond: fn div(a, b) {
            let r = 1.0 / b;
            let q = a * r;
            (q, r, -q * r, 0.0, -r * r, 2.0 * q * r * r)
        }
        /// `a % b`
        Rem, First, Linear: fn rem(a, b) { (a % b, 1.0, -(a / b).trunc(), 0.0, 0.0, 0.0) }
        /// `atan2(a, b)`
        Atan2, Full, Nonlinear: fn atan2(a, b) {
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
    /// (f(x), f′(x)) only, for first-order modes (cheaper than [`eval`](Self::eval) for
    /// the common operations, whose rules are inlined and their unused second derivative
    /// dropped).
    #[inline(always)]
    pub fn eval1(self, x: f64) -> (f64, f64) {
        use Unary::*;
        let (f, d, _) = match self {
            Neg => rule::neg(x),
            AddConst(c) => rule::add_const(x, c),
            MulConst(c) => rule::mul_const(x, c),
            SubFromConst(c) => rule::sub_from_const(x, c),
            Powi(2) => rule::sq(x),
            Sin => rule::sin(x),
            Cos => rule::cos(x),
            Exp => rule::exp(x),
            Sqrt => rule::sqrt(x),
            Recip => rule::recip(x),
            Ln => rule::ln(x),
            _ => self.eval(x),
        };
        (f, d)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation, with the constants whose rules take a branch of their own.
    fn unary_cases() -> impl Iterator<Item = Unary> {
        use Unary::*;
        let extra = [Powi(0), Powi(1), Powi(2), Powi(-2), Powf(0.0), Powf(-0.5)];
        Unary::SAMPLES.iter().copied().chain(extra)
    }

    /// Central differences of f and f′ agree with the stated derivatives.
    #[test]
    fn unary_derivatives_match_differences() {
        use Unary::*;
        for op in unary_cases() {
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

    /// Bit for bit (outside an operation's domain both give the same NaN).
    #[test]
    fn first_order_shortcuts_agree_with_eval() {
        for op in unary_cases() {
            for x in [0.3, 1.7] {
                let (f, d, _) = op.eval(x);
                let (f1, d1) = op.eval1(x);
                assert_eq!(
                    (f1.to_bits(), d1.to_bits()),
                    (f.to_bits(), d.to_bits()),
                    "{op:?}"
                );
            }
        }
    }

    #[test]
    fn binary_derivatives_match_differences() {
        for &op in Binary::ALL {
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
