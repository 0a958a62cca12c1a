//! Second-order forward numbers over the few local variables of one row.
//!
//! A [`Jet<K, B, T>`] carries a value, its gradient with respect to K local *slots* and part
//! of its Hessian: the diagonal blocks of B consecutive slots, `T / (B(B+1)/2)` of them from
//! slot 0, each packed as its upper triangle column by column (entry `j(j+1)/2 + i` of a
//! block holds `∂²/∂slot_i∂slot_j`, `i ≤ j < B`, relative to the block). With one block of M
//! slots it is the full Hessian over the first M slots; with `T = 0` it is plain first-order
//! forward mode with K lanes. Every Hessian entry obeys its own chain rule (it depends only on
//! the same entry of the operands and on their gradients), so computing a subset of the
//! entries is exact for that subset: rows whose local Hessian is block diagonal (sums of
//! univariate terms, functions of disjoint pairs) pay only for their blocks.
//!
//! The arithmetic is the second-order chain rule, `h(φ(a)) = φ′·h(a) + φ″·g(a)g(a)ᵀ` and its
//! two-argument form, with the operations' derivatives from [`Unary::eval`] and
//! [`Binary::eval`] (one calculus for every scalar of the project); additions, products,
//! scalings and `sin`/`cos` are written out so that no zero second derivative is multiplied
//! in, and `sin`/`cos` share one `sin_cos`.
//!
//! A jet may carry `(sin re, cos re)` ([`Jet::seed_sin_cos`]): the engine computes the
//! sines and cosines of the variables its rows take them of once per evaluation (a variable
//! is shared by consecutive rows, and a row often needs both) and passes them in with the
//! seeds; every operation's result carries none, so it is only ever read from a seed.

use std::cmp::Ordering;

use sparsediff_ad::{Binary, Elementary, Unary};

/// Most local variables a row may have.
pub const MAX_LOCAL_VARS: usize = 8;

/// Packed entries of a full [`MAX_LOCAL_VARS`]² upper triangle.
pub(crate) const MAX_PAIRS: usize = MAX_LOCAL_VARS * (MAX_LOCAL_VARS + 1) / 2;

/// `(i, j)`, `i ≤ j`, of packed entry t (column-major upper triangle).
pub(crate) const PAIRS: [(u8, u8); MAX_PAIRS] = pairs();

const fn pairs() -> [(u8, u8); MAX_PAIRS] {
    let mut out = [(0, 0); MAX_PAIRS];
    let mut t = 0;
    let mut j = 0;
    while j < MAX_LOCAL_VARS {
        let mut i = 0;
        while i <= j {
            out[t] = (i as u8, j as u8);
            t += 1;
            i += 1;
        }
        j += 1;
    }
    out
}

/// The packed index of slots `(i, j)` (either order) in a full upper triangle.
pub(crate) const fn packed(i: usize, j: usize) -> usize {
    let (i, j) = if i <= j { (i, j) } else { (j, i) };
    j * (j + 1) / 2 + i
}

/// Entries of one block of `b` slots.
pub(crate) const fn block_len(b: usize) -> usize {
    b * (b + 1) / 2
}

/// The Hessian entry of slots `(i, j)` in a jet with blocks of `b` slots, if they share a
/// block.
pub(crate) fn block_index(b: usize, i: usize, j: usize) -> Option<usize> {
    if b == 0 || i / b != j / b {
        return None;
    }
    let q = i / b;
    Some(q * block_len(b) + packed(i - q * b, j - q * b))
}

/// `(i, j)` of every Hessian entry of a jet with blocks of `b` slots and `t` entries.
const fn block_pairs(b: usize, t: usize) -> [(u8, u8); MAX_PAIRS] {
    let mut out = [(0, 0); MAX_PAIRS];
    if b == 0 {
        return out;
    }
    let len = block_len(b);
    let mut e = 0;
    while e < t {
        let q = e / len;
        let (i, j) = PAIRS[e % len];
        out[e] = ((q * b) as u8 + i, (q * b) as u8 + j);
        e += 1;
    }
    out
}

/// The jet width for a row of k variables: 1, 2, 4, 6 or 8 lanes (fewer shapes to compile).
pub(crate) const fn lanes_for(k: usize) -> usize {
    match k {
        0 | 1 => 1,
        2 => 2,
        3 | 4 => 4,
        5 | 6 => 6,
        _ => 8,
    }
}

/// "No sine and cosine passed in": NaN, which is also what `sin_cos` gives for a NaN
/// argument (and for ±∞), so reading it never changes a result.
pub(crate) const NO_SIN_COS: [f64; 2] = [f64::NAN; 2];

/// Value, gradient over K slots, T Hessian entries in diagonal blocks of B slots.
#[derive(Debug, Clone, Copy)]
pub struct Jet<const K: usize, const B: usize, const T: usize> {
    pub(crate) re: f64,
    pub(crate) g: [f64; K],
    pub(crate) h: [f64; T],
    /// `(sin re, cos re)` if passed in with a seed, [`NO_SIN_COS`] otherwise.
    sc: [f64; 2],
}

impl<const K: usize, const B: usize, const T: usize> Jet<K, B, T> {
    const SHAPE_OK: () = assert!(
        K <= MAX_LOCAL_VARS
            && B <= K
            && ((B == 0 && T == 0)
                || (B > 0 && T.is_multiple_of(block_len(B)) && T / block_len(B) * B <= K))
    );
    /// `(i, j)` of Hessian entry t.
    const HP: [(u8, u8); MAX_PAIRS] = block_pairs(B, T);

    /// The local variable in `slot` with value `re`.
    #[inline(always)]
    pub(crate) fn variable(re: f64, slot: usize) -> Self {
        let () = Self::SHAPE_OK;
        let mut g = [0.0; K];
        g[slot] = 1.0;
        Self {
            re,
            g,
            h: [0.0; T],
            sc: NO_SIN_COS,
        }
    }

    /// Sets the value of a seed and, if known, its `(sin, cos)` (else [`NO_SIN_COS`]).
    #[inline(always)]
    pub(crate) fn seed_sin_cos(&mut self, re: f64, sin_cos: [f64; 2]) {
        self.re = re;
        self.sc = sin_cos;
    }

    /// `(sin re, cos re)`: passed in, or computed.
    #[inline(always)]
    fn sin_cos(self) -> (f64, f64) {
        if self.sc[0].is_nan() {
            self.re.sin_cos()
        } else {
            (self.sc[0], self.sc[1])
        }
    }

    /// `scale·self` shifted to the value `re` (an affine function of self).
    #[inline(always)]
    fn affine(self, scale: f64, re: f64) -> Self {
        Self {
            re,
            g: self.g.map(|g| g * scale),
            h: self.h.map(|h| h * scale),
            sc: NO_SIN_COS,
        }
    }

    /// `φ(self)` with `φ = f`, `φ′ = d`, `φ″ = dd`.
    #[inline(always)]
    fn chain(self, f: f64, d: f64, dd: f64) -> Self {
        let g = self.g.map(|g| g * d);
        let h = std::array::from_fn(|t| {
            let (i, j) = Self::HP[t];
            d * self.h[t] + dd * self.g[i as usize] * self.g[j as usize]
        });
        Self {
            re: f,
            g,
            h,
            sc: NO_SIN_COS,
        }
    }
}

impl<const K: usize, const B: usize, const T: usize> Elementary for Jet<K, B, T> {
    #[inline(always)]
    fn value(self) -> f64 {
        self.re
    }

    #[inline(always)]
    fn constant(value: f64) -> Self {
        Self {
            re: value,
            g: [0.0; K],
            h: [0.0; T],
            sc: NO_SIN_COS,
        }
    }

    #[inline(always)]
    fn unary(self, op: Unary) -> Self {
        let x = self.re;
        match op {
            Unary::Neg => self.affine(-1.0, -x),
            Unary::AddConst(c) => Self {
                re: x + c,
                sc: NO_SIN_COS,
                ..self
            },
            Unary::MulConst(c) => self.affine(c, c * x),
            Unary::SubFromConst(c) => self.affine(-1.0, c - x),
            Unary::Sin => {
                let (s, c) = self.sin_cos();
                self.chain(s, c, -s)
            }
            Unary::Cos => {
                let (s, c) = self.sin_cos();
                self.chain(c, -s, -c)
            }
            Unary::Powi(2) => self.chain(x * x, 2.0 * x, 2.0),
            _ => {
                let (f, d, dd) = op.eval(x);
                self.chain(f, d, dd)
            }
        }
    }

    #[inline(always)]
    fn binary(self, op: Binary, other: Self) -> Self {
        let (a, b) = (self, other);
        match op {
            Binary::Add => Self {
                re: a.re + b.re,
                g: std::array::from_fn(|k| a.g[k] + b.g[k]),
                h: std::array::from_fn(|t| a.h[t] + b.h[t]),
                sc: NO_SIN_COS,
            },
            Binary::Sub => Self {
                re: a.re - b.re,
                g: std::array::from_fn(|k| a.g[k] - b.g[k]),
                h: std::array::from_fn(|t| a.h[t] - b.h[t]),
                sc: NO_SIN_COS,
            },
            Binary::Mul => Self {
                re: a.re * b.re,
                g: std::array::from_fn(|k| a.g[k] * b.re + a.re * b.g[k]),
                h: std::array::from_fn(|t| {
                    let (i, j) = (Self::HP[t].0 as usize, Self::HP[t].1 as usize);
                    a.h[t] * b.re + a.re * b.h[t] + a.g[i] * b.g[j] + a.g[j] * b.g[i]
                }),
                sc: NO_SIN_COS,
            },
            _ => {
                let (f, fa, fb, faa, fab, fbb) = op.eval(a.re, b.re);
                Self {
                    re: f,
                    g: std::array::from_fn(|k| fa * a.g[k] + fb * b.g[k]),
                    h: std::array::from_fn(|t| {
                        let (i, j) = (Self::HP[t].0 as usize, Self::HP[t].1 as usize);
                        fa * a.h[t]
                            + fb * b.h[t]
                            + faa * a.g[i] * a.g[j]
                            + fab * (a.g[i] * b.g[j] + b.g[i] * a.g[j])
                            + fbb * b.g[i] * b.g[j]
                    }),
                    sc: NO_SIN_COS,
                }
            }
        }
    }

    #[inline(always)]
    fn observe_comparison(self, _: Option<Self>, _: f64, _: Option<Ordering>) {}
}

// `num_dual::DualNum` from the operations above; every method `#[inline(always)]`: jets are
// tens of values wide, and an operation left out of line passes them through memory.
sparsediff_ad::impl_dual_num!(
    #[inline(always)]
    impl[const K: usize, const B: usize, const T: usize] Jet<K, B, T>
);

/// The dispatch from a runtime shape `(K, B, T)` — K in 1, 2, 4, 6, 8 ([`lanes_for`]), any
/// whole number of blocks — to the monomorphised code: `with_shape!((k, b, t), |K, B, T|
/// expr)` runs `expr` with the constants `K`, `B`, `T` of the matching `Jet`.
macro_rules! jet_shapes {
    ($d:tt $(($k:literal, $b:literal, $t:literal)),* $(,)?) => {
        /// Runs the body with the constants of the `Jet` of the given shape.
        macro_rules! with_shape {
            ($d shape:expr, |$d K:ident, $d B:ident, $d T:ident| $d body:expr) => {
                match $d shape {
                    $( ($k, $b, $t) => {
                        const $d K: usize = $k;
                        const $d B: usize = $b;
                        const $d T: usize = $t;
                        $d body
                    } )*
                    (k, b, t) => unreachable!("no jet shape ({k}, {b}, {t}): shapes are chosen at prepare"),
                }
            };
        }
        pub(crate) use with_shape;

        /// Whether `(K, B, T)` is compiled.
        pub(crate) fn has_shape(shape: (usize, usize, usize)) -> bool {
            matches!(shape, $( ($k, $b, $t) )|*)
        }
    };
}

jet_shapes!(
    $
    (1, 0, 0),
    (1, 1, 1),
    (2, 0, 0),
    (2, 1, 1),
    (2, 1, 2),
    (2, 2, 3),
    (4, 0, 0),
    (4, 1, 1),
    (4, 1, 2),
    (4, 1, 3),
    (4, 1, 4),
    (4, 2, 3),
    (4, 2, 6),
    (4, 3, 6),
    (4, 4, 10),
    (6, 0, 0),
    (6, 1, 1),
    (6, 1, 2),
    (6, 1, 3),
    (6, 1, 4),
    (6, 1, 5),
    (6, 1, 6),
    (6, 2, 3),
    (6, 2, 6),
    (6, 2, 9),
    (6, 3, 6),
    (6, 3, 12),
    (6, 4, 10),
    (6, 5, 15),
    (6, 6, 21),
    (8, 0, 0),
    (8, 1, 1),
    (8, 1, 2),
    (8, 1, 3),
    (8, 1, 4),
    (8, 1, 5),
    (8, 1, 6),
    (8, 1, 7),
    (8, 1, 8),
    (8, 2, 3),
    (8, 2, 6),
    (8, 2, 9),
    (8, 2, 12),
    (8, 3, 6),
    (8, 3, 12),
    (8, 4, 10),
    (8, 4, 20),
    (8, 5, 15),
    (8, 6, 21),
    (8, 7, 28),
    (8, 8, 36),
);

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::{Dual2SVec64, DualNum};

    fn f<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
        let t = x[0] * x[1].sin() - x[2] / (x[0] + 3.0) + x[1].powi(2) * 0.5;
        t * x[2].cos() + x[3].exp() - x[3] * 2.0 + x[0].atan2(x[2] + 2.0)
    }

    /// The jet's entries against num-dual's full Hessian, with local a in slot
    /// `slot_of[a]`.
    fn check<const K: usize, const B: usize, const T: usize>(slot_of: [usize; 4])
    where
        Jet<K, B, T>: DualNum<Primitive = f64>,
    {
        let x = [0.3, -0.7, 1.1, 0.2];
        let local: [Jet<K, B, T>; 4] = std::array::from_fn(|a| Jet::variable(x[a], slot_of[a]));
        let y = f(&local);
        let seeds: [Dual2SVec64<4>; 4] =
            std::array::from_fn(|a| Dual2SVec64::from_re(x[a]).derivative(a));
        let r = f(&seeds);
        let (g, h) = (r.v1.0.unwrap(), r.v2.0.unwrap());
        assert!((y.re - r.re).abs() < 1e-15);
        let mut seen = 0;
        for a in 0..4 {
            assert!((y.g[slot_of[a]] - g[a]).abs() < 1e-14, "gradient {a}");
            for b in 0..4 {
                if let Some(t) = block_index(B, slot_of[a], slot_of[b]).filter(|&t| t < T) {
                    assert!((y.h[t] - h[(a, b)]).abs() < 1e-13, "hessian ({a}, {b})");
                    seen += 1;
                }
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn jet_matches_num_dual() {
        // one dense block over the curved slots: locals 3, 0, 1
        check::<4, 3, 6>([1, 2, 3, 0]);
        // two blocks of two, and four of one, and padding lanes
        check::<4, 2, 6>([1, 2, 3, 0]);
        check::<6, 2, 6>([5, 0, 3, 2]);
        check::<4, 1, 4>([2, 0, 1, 3]);
        check::<8, 4, 10>([7, 1, 2, 3]);
    }

    #[test]
    fn passed_in_sines_are_used_and_never_outlive_their_seed() {
        let x = 0.7f64;
        let mut seed = Jet::<2, 2, 3>::variable(0.0, 0);
        // a deliberately wrong (sin, cos) shows that the seed's pair is what sin/cos read
        seed.seed_sin_cos(x, [0.25, 0.5]);
        assert_eq!(seed.sin().re, 0.25);
        assert_eq!(seed.cos().re, 0.5);
        assert_eq!(seed.sin().g[0], 0.5); // d sin = cos
        // any operation's result computes its own
        assert_eq!((seed + 0.0).sin().re, x.sin());
        assert_eq!((seed * 1.0).cos().re, x.cos());
        assert_eq!((-(-seed)).sin().re, x.sin());
        // NaN: computed, and NaN either way
        seed.seed_sin_cos(f64::NAN, NO_SIN_COS);
        assert!(seed.sin().re.is_nan());
        seed.seed_sin_cos(x, NO_SIN_COS);
        assert_eq!(seed.sin().re, x.sin());
    }

    #[test]
    fn blocks_index_their_pairs() {
        for (b, t) in [(1, 4), (2, 6), (3, 12), (4, 10)] {
            let pairs = block_pairs(b, t);
            for (e, &(i, j)) in pairs[..t].iter().enumerate() {
                assert_eq!(block_index(b, i as usize, j as usize), Some(e));
                assert_eq!(block_index(b, j as usize, i as usize), Some(e));
            }
        }
        assert_eq!(block_index(2, 1, 2), None);
        assert!(has_shape((6, 2, 6)) && has_shape((4, 1, 4)) && !has_shape((3, 0, 0)));
    }

    #[test]
    fn pairs_pack_column_major() {
        for (t, &(i, j)) in PAIRS.iter().enumerate() {
            assert!(i <= j);
            assert_eq!(packed(i as usize, j as usize), t);
            assert_eq!(packed(j as usize, i as usize), t);
        }
    }
}
