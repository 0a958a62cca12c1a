//! [`Degree`]: a scalar that evaluates a row and bounds its polynomial degree in the row's
//! variables, to decide which rows are affine (gradient constant) or quadratic (Hessian
//! constant) *everywhere*, not only at the traced point.
//!
//! The Hessian tracer cannot decide that: it classifies `|x|` and `x % c` as linear (their
//! second derivative is zero where it exists) although their gradient jumps, and it does not
//! tell a quadratic from a cubic. The degree rules are exact for polynomials and
//! conservative for everything else: sums take the larger degree, products add degrees,
//! `xⁿ` multiplies by n (n ≥ 0), division by a constant keeps the degree, and any other
//! operation on a non-constant argument (`abs`, `sin`, `sqrt`, `%`, `1/x`, …) gives
//! "not a polynomial" ([`NOT_POLYNOMIAL`]). Values are carried along so that comparisons in
//! the row take the same branches as at the real point (rows that compare are never frozen;
//! see `CompositeOptions`).
//!
//! The same evaluation notes which variables the row takes the sine or cosine of directly
//! ([`Degree::trig`]): the engine computes those once per evaluation and passes them in
//! with the jets' seeds.

use std::cmp::Ordering;

use sparsediff_ad::scalar::{Binary, Elementary, Unary};

/// The degree given to anything that is not a polynomial of degree ≤ 2 (and to every
/// polynomial of degree ≥ 3).
pub(crate) const NOT_POLYNOMIAL: u8 = 3;

/// A value, an upper bound on its polynomial degree in the seeded variables, and which
/// variables it depends on and which of them with a derivative that is not a constant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Degree {
    value: f64,
    degree: u8,
    /// Bit a: depends on local variable a.
    vars: u8,
    /// Bit a: ∂/∂(variable a) may vary (a ⊆ `vars`); the others enter as `c·x_a` with a
    /// constant c.
    varying: u8,
    /// The value is a seeded variable itself (no operation applied yet).
    bare: bool,
    /// Bit a: `sin` or `cos` was applied to local variable a itself.
    trig: u8,
}

impl Degree {
    /// Local variable `index` (< 8, degree 1) with value `value`.
    pub(crate) fn variable(value: f64, index: usize) -> Self {
        Self {
            value,
            degree: 1,
            vars: 1 << index,
            varying: 0,
            bare: true,
            trig: 0,
        }
    }

    /// The degree bound: 0 constant, 1 affine, 2 quadratic, [`NOT_POLYNOMIAL`] otherwise.
    pub(crate) fn degree(self) -> u8 {
        self.degree
    }

    /// Bit a set: the partial derivative in local variable a may vary with z; clear: it is
    /// a constant everywhere (zero if the value does not depend on a).
    pub(crate) fn varying(self) -> u8 {
        self.varying
    }

    /// Bit a set: the row takes `sin` or `cos` of local variable a itself (not of an
    /// expression of it) on the way to its value.
    pub(crate) fn trig(self) -> u8 {
        self.trig
    }
}

impl Elementary for Degree {
    fn value(self) -> f64 {
        self.value
    }

    fn constant(value: f64) -> Self {
        Self {
            value,
            degree: 0,
            vars: 0,
            varying: 0,
            bare: false,
            trig: 0,
        }
    }

    fn unary(self, op: Unary) -> Self {
        let value = op.eval(self.value).0;
        let d = self.degree;
        let affine_op = matches!(
            op,
            Unary::Neg | Unary::AddConst(_) | Unary::MulConst(_) | Unary::SubFromConst(_)
        );
        let degree = if d == 0 {
            0
        } else {
            match op {
                _ if affine_op => d,
                Unary::Powi(n) if n >= 0 => scale(d, n as u32),
                Unary::Powf(a) if a >= 0.0 && a.fract() == 0.0 && a <= 3.0 => scale(d, a as u32),
                _ => NOT_POLYNOMIAL,
            }
        };
        let (vars, varying) = match (self.vars, affine_op) {
            (0, _) => (0, 0),
            (v, true) => (v, self.varying),
            (v, false) => (v, v),
        };
        let trig = match op {
            Unary::Sin | Unary::Cos if self.bare => self.trig | self.vars,
            _ => self.trig,
        };
        Self {
            value,
            degree,
            vars,
            varying,
            bare: false,
            trig,
        }
    }

    fn binary(self, op: Binary, other: Self) -> Self {
        let value = op.eval(self.value, other.value).0;
        let (a, b) = (self.degree, other.degree);
        let degree = match op {
            Binary::Add | Binary::Sub => a.max(b),
            Binary::Mul => (a + b).min(NOT_POLYNOMIAL),
            Binary::Div if b == 0 => a,
            _ if a == 0 && b == 0 => 0,
            _ => NOT_POLYNOMIAL,
        };
        let vars = self.vars | other.vars;
        let varying = match op {
            Binary::Add | Binary::Sub => self.varying | other.varying,
            // a constant factor (or divisor) keeps the other side's structure
            Binary::Mul if self.vars == 0 => other.varying,
            Binary::Mul | Binary::Div if other.vars == 0 => self.varying,
            _ => vars,
        };
        Self {
            value,
            degree,
            vars,
            varying,
            bare: false,
            trig: self.trig | other.trig,
        }
    }

    fn observe_comparison(self, _: Option<Self>, _: f64, _: Option<Ordering>) {}
}

/// `d·n`, saturated at [`NOT_POLYNOMIAL`].
fn scale(d: u8, n: u32) -> u8 {
    (u32::from(d) * n).min(u32::from(NOT_POLYNOMIAL)) as u8
}

sparsediff_ad::impl_dual_num!(Degree);

#[cfg(test)]
mod tests {
    use num_dual::{Dual2SVec64, DualNum};
    use proptest::prelude::*;

    use super::*;

    /// One step of a random program over three variables and three constants, appending
    /// `op(slot[a], slot[b])` (`%` is left out: num-dual's second-order numbers do not
    /// implement it; the unit test above covers its degree).
    #[derive(Debug, Clone, Copy)]
    enum Step {
        Add(usize, usize),
        Sub(usize, usize),
        Mul(usize, usize),
        Div(usize, usize),
        Scale(usize, f64),
        Shift(usize, f64),
        Square(usize),
        Cube(usize),
        Sin(usize),
        Abs(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        let i = 0usize..6;
        prop_oneof![
            (i.clone(), i.clone()).prop_map(|(a, b)| Step::Add(a, b)),
            (i.clone(), i.clone()).prop_map(|(a, b)| Step::Sub(a, b)),
            (i.clone(), i.clone()).prop_map(|(a, b)| Step::Mul(a, b)),
            (i.clone(), i.clone()).prop_map(|(a, b)| Step::Div(a, b)),
            (i.clone(), -2.0..2.0f64).prop_map(|(a, c)| Step::Scale(a, c)),
            (i.clone(), -2.0..2.0f64).prop_map(|(a, c)| Step::Shift(a, c)),
            i.clone().prop_map(Step::Square),
            i.clone().prop_map(Step::Cube),
            i.clone().prop_map(Step::Sin),
            i.prop_map(Step::Abs),
        ]
    }

    /// Runs the program on three inputs and three constants; returns the last slot.
    fn run<D: DualNum<Primitive = f64> + Copy>(program: &[Step], x: [D; 3]) -> D {
        let mut slots = vec![x[0], x[1], x[2], D::from(0.7), D::from(-1.3), D::from(2.0)];
        for &s in program {
            let v = |k: usize| slots[k % slots.len()];
            let y = match s {
                Step::Add(a, b) => v(a) + v(b),
                Step::Sub(a, b) => v(a) - v(b),
                Step::Mul(a, b) => v(a) * v(b),
                Step::Div(a, b) => v(a) / (v(b) * v(b) + 1.0),
                Step::Scale(a, c) => v(a) * c,
                Step::Shift(a, c) => v(a) + c,
                Step::Square(a) => v(a).powi(2),
                Step::Cube(a) => v(a).powi(3),
                Step::Sin(a) => v(a).sin(),
                Step::Abs(a) => num_traits::Signed::abs(&v(a)),
            };
            slots.push(y);
        }
        slots[slots.len() - 1]
    }

    /// Gradient and Hessian of the program at x (num-dual).
    fn derivatives(program: &[Step], x: [f64; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
        let seeded: [Dual2SVec64<3>; 3] =
            std::array::from_fn(|a| Dual2SVec64::from_re(x[a]).derivative(a));
        let y = run(program, seeded);
        let g = y.v1.0.map_or([0.0; 3], |g| [g[0], g[1], g[2]]);
        let h = y.v2.0.map_or([[0.0; 3]; 3], |h| {
            std::array::from_fn(|a| std::array::from_fn(|b| h[(a, b)]))
        });
        (g, h)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    proptest! {
        /// What the degree scalar claims holds at any two points: degree ≤ 1 ⇒ the same
        /// gradient, degree ≤ 2 ⇒ the same Hessian, a clear `varying` bit ⇒ the same
        /// partial derivative.
        #[test]
        fn claims_hold_everywhere(
            program in proptest::collection::vec(step(), 1..8),
            x in proptest::array::uniform3(-2.0..2.0f64),
            y in proptest::array::uniform3(-2.0..2.0f64),
        ) {
            let d = run(&program, std::array::from_fn(|a| Degree::variable(x[a], a)));
            let (gx, hx) = derivatives(&program, x);
            let (gy, hy) = derivatives(&program, y);
            let finite = gx.iter().chain(&gy).chain(hx.iter().flatten()).chain(hy.iter().flatten())
                .all(|v| v.is_finite() && v.abs() < 1e8);
            prop_assume!(finite);
            for a in 0..3 {
                if d.varying() & (1 << a) == 0 || d.degree() <= 1 {
                    prop_assert!(close(gx[a], gy[a]), "∂{a}: {} vs {} ({program:?})", gx[a], gy[a]);
                }
                if d.degree() <= 2 {
                    for b in 0..3 {
                        prop_assert!(close(hx[a][b], hy[a][b]), "∂{a}∂{b} ({program:?})");
                    }
                }
            }
        }
    }

    fn degree_of(f: impl Fn(&[Degree]) -> Degree) -> u8 {
        let x = [Degree::variable(0.5, 0), Degree::variable(-1.5, 1)];
        f(&x).degree()
    }

    fn varying_of(f: impl Fn(&[Degree]) -> Degree) -> u8 {
        let x = [
            Degree::variable(0.5, 0),
            Degree::variable(-1.5, 1),
            Degree::variable(2.0, 2),
        ];
        f(&x).varying()
    }

    #[test]
    fn variables_with_constant_partial_derivatives_are_found() {
        // x2 enters linearly with a constant coefficient, x0 and x1 do not
        assert_eq!(varying_of(|x| x[0].sin() * x[1] + x[2] * 3.0 - 1.0), 0b011);
        assert_eq!(
            varying_of(|x| x[2] - x[0] - (x[1].powi(2) + x[0].cos()) * 0.5),
            0b011
        );
        // a constant factor computed from constants keeps it constant
        let c = |_: &[Degree]| Degree::from(2.0).sqrt();
        assert_eq!(varying_of(|x| x[2] * c(x) / Degree::from(4.0)), 0);
        // products of variables, division by a variable, |x|: varying
        assert_eq!(varying_of(|x| x[0] * x[2]), 0b101);
        assert_eq!(varying_of(|x| x[2] / x[1]), 0b110);
        assert_eq!(varying_of(|x| num_traits::Signed::abs(&x[2])), 0b100);
        // affine: nothing varies
        assert_eq!(varying_of(|x| (x[0] + x[1] * 2.0 - x[2]) * 0.5 + 7.0), 0);
    }

    #[test]
    fn sines_and_cosines_of_variables_are_noted() {
        let trig_of = |f: &dyn Fn(&[Degree]) -> Degree| {
            let x = [
                Degree::variable(0.5, 0),
                Degree::variable(-1.5, 1),
                Degree::variable(2.0, 2),
            ];
            f(&x).trig()
        };
        assert_eq!(trig_of(&|x| x[0].sin() * 9.81 + x[2] * x[0].cos()), 0b001);
        assert_eq!(trig_of(&|x| x[1].sin_cos().1 + x[2].cos()), 0b110);
        // of an expression, not of a variable: the jets compute it themselves
        assert_eq!(trig_of(&|x| (x[0] + x[1]).sin() + (x[2] * 2.0).cos()), 0);
        assert_eq!(trig_of(&|x| x[0].tan() + x[1].exp()), 0);
    }

    #[test]
    fn polynomials_get_their_degree_and_the_rest_is_not_polynomial() {
        assert_eq!(degree_of(|x| x[0] * 2.0 + 1.0 - x[1] / 4.0), 1);
        assert_eq!(degree_of(|x| x[0] * x[1] + x[0].powi(2) * 3.0), 2);
        assert_eq!(degree_of(|x| (x[0] - x[1]).powi(2) + x[0]), 2);
        assert_eq!(degree_of(|x| x[0].powf(2.0)), 2);
        assert_eq!(degree_of(|x| x[0].powi(2) * x[1]), NOT_POLYNOMIAL);
        assert_eq!(degree_of(|x| x[0].powi(-1)), NOT_POLYNOMIAL);
        assert_eq!(
            degree_of(|x| num_traits::Signed::abs(&x[0])),
            NOT_POLYNOMIAL
        );
        assert_eq!(degree_of(|x| x[0] % 0.3), NOT_POLYNOMIAL);
        assert_eq!(degree_of(|x| x[0].sin()), NOT_POLYNOMIAL);
        assert_eq!(degree_of(|x| x[0].sqrt()), NOT_POLYNOMIAL);
        assert_eq!(degree_of(|x| x[0] / x[1]), NOT_POLYNOMIAL);
        // constants stay constants under any operation
        assert_eq!(
            degree_of(|_| Degree::from(2.0).sin() * Degree::from(3.0)),
            0
        );
        assert_eq!(degree_of(|x| x[0].powi(0)), 0);
        // values are the f64 values
        let x = [Degree::variable(0.5, 0), Degree::variable(-1.5, 1)];
        assert_eq!(
            Elementary::value(x[0] * x[1] + x[0].sin()),
            0.5 * -1.5 + 0.5f64.sin()
        );
    }
}
