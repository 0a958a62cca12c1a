//! Backends: whatever computes a whole block of products for a block of probe directions.
//!
//! | backend | Jacobian products | Hessian products |
//! |---|---|---|
//! | [`ForwardJacobian`] | JVPs, P directions as lanes of [`Lanes`] | – |
//! | tape (`crate::tape`) | JVP and VJP blocks | forward-over-reverse HVPs, all probes as lanes |
//! | [`FiniteDifferenceJacobian`] / [`FiniteDifferenceHessian`] | differences of F | differences of a gradient |
//! | [`ClosureJacobian`] / [`ClosureHessian`] | the caller's products (e.g. PyTorch, JAX) | the caller's products |
//!
//! Blocks are row-major: p directions for n inputs are an n×p slice, entry (j, c) at
//! `j·p + c`; products likewise (m×p for JVPs, n×p for HVPs and VJPs).

use crate::forward::Lanes;
use crate::function::VectorFunction;
use crate::scalar::Elementary;

/// A block of probe directions.
#[derive(Debug, Clone, Copy)]
pub enum SeedBlock<'a> {
    /// 0/1 directions from a colouring: input j is in lane `group[j]` (`usize::MAX` = none).
    Groups {
        /// The lane of every input.
        group: &'a [usize],
        /// Number of lanes p.
        probes: usize,
    },
    /// Dense directions, n×p row-major.
    Dense {
        /// The directions.
        values: &'a [f64],
        /// Number of lanes p.
        probes: usize,
    },
}

impl SeedBlock<'_> {
    /// Number of lanes p.
    pub fn probes(&self) -> usize {
        match *self {
            SeedBlock::Groups { probes, .. } | SeedBlock::Dense { probes, .. } => probes,
        }
    }

    /// Direction `c` at input `j`.
    #[inline]
    pub fn at(&self, j: usize, c: usize) -> f64 {
        match *self {
            SeedBlock::Groups { group, .. } => f64::from(u8::from(group[j] == c)),
            SeedBlock::Dense { values, probes } => values[j * probes + c],
        }
    }

    fn check(&self, n: usize) -> Result<(), AdError> {
        let (len, expected) = match *self {
            SeedBlock::Groups { group, .. } => (group.len(), n),
            SeedBlock::Dense { values, probes } => (values.len(), n * probes),
        };
        if len != expected {
            return Err(AdError::WrongLength {
                what: "seed block",
                len,
                expected,
            });
        }
        Ok(())
    }
}

/// What can go wrong computing products.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AdError {
    /// A slice has the wrong length.
    #[error("{what} has length {len}, expected {expected}")]
    WrongLength {
        /// Which slice.
        what: &'static str,
        /// Length given.
        len: usize,
        /// Length expected.
        expected: usize,
    },
    /// The function (or a product) produced NaN or an infinity.
    #[error("{what} {index} is not finite ({value})")]
    NonFinite {
        /// "output", "product", "input".
        what: &'static str,
        /// Which one (row-major index for products).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The backend cannot compute this kind of product.
    #[error("the {backend} backend cannot compute {operation}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// The operation.
        operation: &'static str,
    },
    /// The tape failed (see [`TapeError`](crate::tape::TapeError)): a branch changed twice
    /// in a row, a non-finite value, a nested recording.
    #[error(transparent)]
    Tape(crate::tape::TapeError),
    /// A caller-supplied closure reported an error.
    #[error("the product closure failed: {message}")]
    Closure {
        /// Its message.
        message: String,
    },
}

pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), AdError> {
    if len != expected {
        return Err(AdError::WrongLength {
            what,
            len,
            expected,
        });
    }
    Ok(())
}

pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), AdError> {
    match sparsediff_pattern::first_non_finite(values) {
        Some(index) => Err(AdError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Computes compressed Jacobians.
pub trait JacobianBackend {
    /// Name (`forward`, `tape`, `fd`, `closure`).
    fn name(&self) -> &'static str;
    /// (m outputs, n inputs).
    fn dims(&self) -> (usize, usize);
    /// F(x) into `out` (length m).
    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError>;
    /// J·S into `out` (m×p row-major).
    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError>;
    /// Jᵀ·S into `out` (n×p row-major) for S of m×p (row colourings).
    fn vjp_block(
        &mut self,
        _x: &[f64],
        _seeds: SeedBlock<'_>,
        _out: &mut [f64],
    ) -> Result<(), AdError> {
        Err(AdError::Unsupported {
            backend: self.name(),
            operation: "vector-Jacobian products",
        })
    }
}

/// Computes compressed Hessians.
pub trait HessianBackend {
    /// Name (`tape`, `fd`, `closure`).
    fn name(&self) -> &'static str;
    /// n.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&mut self, x: &[f64]) -> Result<f64, AdError>;
    /// H·S into `out` (n×p row-major).
    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError>;
}

/// JVPs by forward mode: P directions per evaluation as [`Lanes<P>`] (P = 1, 2, 4 or 8,
/// the smallest that holds the block; blocks wider than 8 take several passes). Buffers are
/// kept between calls, so products allocate nothing after the first call.
#[derive(Debug)]
pub struct ForwardJacobian<F> {
    f: F,
    n: usize,
    m: usize,
    b1: LaneBuffers<1>,
    b2: LaneBuffers<2>,
    b4: LaneBuffers<4>,
    b8: LaneBuffers<8>,
}

/// Inputs and outputs of one forward pass with P lanes, kept between calls.
#[derive(Debug, Default)]
struct LaneBuffers<const P: usize> {
    x: Vec<Lanes<P>>,
    y: Vec<Lanes<P>>,
    /// The group seeds (and first lane) the tangents of `x` were last set from: the same
    /// seeds again (compared by content, a memcmp) only need new values.
    seeded_groups: Vec<usize>,
    seeded_first: Option<usize>,
}

impl<F: VectorFunction> ForwardJacobian<F> {
    /// A forward backend for `f` with n inputs.
    pub fn new(f: F, n: usize) -> Self {
        let m = f.num_outputs(n);
        Self {
            f,
            n,
            m,
            b1: LaneBuffers::default(),
            b2: LaneBuffers::default(),
            b4: LaneBuffers::default(),
            b8: LaneBuffers::default(),
        }
    }

    /// The function.
    pub fn function(&self) -> &F {
        &self.f
    }
}

impl<const P: usize> LaneBuffers<P>
where
    Lanes<P>: num_dual::DualNum<Primitive = f64>,
{
    /// One forward pass with lanes `first..first + P` of the block; writes those columns
    /// of `out` (m×p row-major).
    fn pass<F: VectorFunction>(
        &mut self,
        f: &F,
        x: &[f64],
        seeds: SeedBlock<'_>,
        first: usize,
        out: &mut [f64],
    ) {
        let p = seeds.probes();
        let width = P.min(p - first);
        let same_seeds = match seeds {
            SeedBlock::Groups { group, .. } => {
                self.seeded_first == Some(first)
                    && self.x.len() == x.len()
                    && self.seeded_groups == group
            }
            SeedBlock::Dense { .. } => false,
        };
        if same_seeds {
            // Same seeds as last time (the prepared plan's): only the values change.
            for (xl, &v) in self.x.iter_mut().zip(x) {
                xl.re = v;
            }
        } else {
            self.x.clear();
            self.x.extend(x.iter().enumerate().map(|(j, &v)| {
                let mut eps = [0.0; P];
                match seeds {
                    SeedBlock::Groups { group, .. } => {
                        let g = group[j];
                        if g >= first && g < first + width {
                            eps[g - first] = 1.0;
                        }
                    }
                    SeedBlock::Dense { values, probes } => eps[..width]
                        .copy_from_slice(&values[j * probes + first..j * probes + first + width]),
                }
                Lanes::new(v, eps)
            }));
            match seeds {
                SeedBlock::Groups { group, .. } => {
                    self.seeded_groups.clear();
                    self.seeded_groups.extend_from_slice(group);
                    self.seeded_first = Some(first);
                }
                SeedBlock::Dense { .. } => self.seeded_first = None,
            }
        }
        let m = out.len() / p;
        if self.y.len() == m {
            self.y.fill(Lanes::constant(0.0));
        } else {
            self.y.clear();
            self.y.resize(m, Lanes::constant(0.0));
        }
        f.eval(&self.x, &mut self.y);
        for (i, y) in self.y.iter().enumerate() {
            out[i * p + first..i * p + first + width].copy_from_slice(&y.eps[..width]);
        }
    }
}

impl<F: VectorFunction> JacobianBackend for ForwardJacobian<F> {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn dims(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        check_len("output buffer", out.len(), self.m)?;
        out.fill(0.0);
        self.f.eval(x, out);
        check_finite("output", out)
    }

    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        seeds.check(self.n)?;
        let p = seeds.probes();
        check_len("product buffer", out.len(), self.m * p)?;
        let mut first = 0;
        while first < p {
            let left = p - first;
            let f = &self.f;
            match left {
                1 => self.b1.pass(f, x, seeds, first, out),
                2 => self.b2.pass(f, x, seeds, first, out),
                3 | 4 => self.b4.pass(f, x, seeds, first, out),
                _ => self.b8.pass(f, x, seeds, first, out),
            }
            first += left.min(8);
        }
        check_finite("product", out)
    }
}

/// Difference scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Differences {
    /// (F(x + h d) − F(x)) / h, error O(h), h ≈ √ε.
    Forward,
    /// (F(x + h d) − F(x − h d)) / 2h, error O(h²), h ≈ ∛ε.
    #[default]
    Central,
}

/// The step along direction d at x: scaled to x and to d so that x + h·d moves every
/// component by about √ε (forward) or ∛ε (central) relative to its size.
pub(crate) fn step(scheme: Differences, x: &[f64], d: impl Iterator<Item = f64> + Clone) -> f64 {
    let base = match scheme {
        Differences::Forward => f64::EPSILON.sqrt(),
        Differences::Central => f64::EPSILON.cbrt(),
    };
    let dmax = d.clone().fold(0.0f64, |m, v| m.max(v.abs()));
    if dmax == 0.0 {
        return 0.0;
    }
    let xs = x
        .iter()
        .zip(d)
        .filter(|(_, v)| *v != 0.0)
        .fold(1.0f64, |m, (xv, _)| m.max(xv.abs()));
    base * xs / dmax
}

/// x + h·(direction c of the seeds), into `xp`.
pub(crate) fn displace(xp: &mut [f64], x: &[f64], h: f64, seeds: SeedBlock<'_>, c: usize) {
    for (j, (xp, &xv)) in xp.iter_mut().zip(x).enumerate() {
        *xp = xv + h * seeds.at(j, c);
    }
}

/// Differences of a map g: Rⁿ → Rʳ along every probe of a block, with its buffers.
#[derive(Debug, Clone)]
pub(crate) struct Differencer {
    scheme: Differences,
    xp: Vec<f64>,
    gp: Vec<f64>,
    gm: Vec<f64>,
}

impl Differencer {
    pub(crate) fn new(scheme: Differences, n: usize, r: usize) -> Self {
        Self {
            scheme,
            xp: vec![0.0; n],
            gp: vec![0.0; r],
            gm: vec![0.0; r],
        }
    }

    /// (g(x + h s_c) − g(x [− h s_c])) / (h [·2]) for every probe c, into `out` (r×p
    /// row-major); a zero direction gives a zero column.
    pub(crate) fn block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
        mut g: impl FnMut(&[f64], &mut [f64]) -> Result<(), AdError>,
    ) -> Result<(), AdError> {
        check_len("x", x.len(), self.xp.len())?;
        seeds.check(self.xp.len())?;
        let (p, r) = (seeds.probes(), self.gp.len());
        check_len("product buffer", out.len(), r * p)?;
        if self.scheme == Differences::Forward {
            g(x, &mut self.gm)?;
            check_finite("output", &self.gm)?;
        }
        for c in 0..p {
            let h = step(self.scheme, x, (0..x.len()).map(|j| seeds.at(j, c)));
            if h == 0.0 {
                (0..r).for_each(|i| out[i * p + c] = 0.0);
                continue;
            }
            displace(&mut self.xp, x, h, seeds, c);
            g(&self.xp, &mut self.gp)?;
            let denom = match self.scheme {
                Differences::Forward => h,
                Differences::Central => {
                    displace(&mut self.xp, x, -h, seeds, c);
                    g(&self.xp, &mut self.gm)?;
                    2.0 * h
                }
            };
            for i in 0..r {
                out[i * p + c] = (self.gp[i] - self.gm[i]) / denom;
            }
        }
        check_finite("product", out)
    }
}

/// JVPs by finite differences of a plain `f64` function (for code that cannot be made
/// generic). Accurate to about 1e-6 (central) or 1e-8 relative squared (forward).
pub struct FiniteDifferenceJacobian<F> {
    f: F,
    n: usize,
    m: usize,
    diff: Differencer,
}

impl<F: FnMut(&[f64], &mut [f64])> FiniteDifferenceJacobian<F> {
    /// Differences of `f: Rⁿ → Rᵐ` (writes F(x) into its second argument).
    pub fn new(f: F, n: usize, m: usize, scheme: Differences) -> Self {
        Self {
            f,
            n,
            m,
            diff: Differencer::new(scheme, n, m),
        }
    }
}

impl<F: FnMut(&[f64], &mut [f64])> JacobianBackend for FiniteDifferenceJacobian<F> {
    fn name(&self) -> &'static str {
        "fd"
    }

    fn dims(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        check_len("output buffer", out.len(), self.m)?;
        (self.f)(x, out);
        check_finite("output", out)
    }

    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let f = &mut self.f;
        self.diff.block(x, seeds, out, |x, y| {
            f(x, y);
            Ok(())
        })
    }
}

/// HVPs by finite differences of a gradient (the user's, or any other).
pub struct FiniteDifferenceHessian<F, G> {
    f: F,
    grad: G,
    n: usize,
    diff: Differencer,
}

impl<F: FnMut(&[f64]) -> f64, G: FnMut(&[f64], &mut [f64])> FiniteDifferenceHessian<F, G> {
    /// Differences of `grad` (which writes ∇f(x) into its second argument); `f` gives values.
    pub fn new(f: F, grad: G, n: usize, scheme: Differences) -> Self {
        Self {
            f,
            grad,
            n,
            diff: Differencer::new(scheme, n, n),
        }
    }
}

impl<F: FnMut(&[f64]) -> f64, G: FnMut(&[f64], &mut [f64])> HessianBackend
    for FiniteDifferenceHessian<F, G>
{
    fn name(&self) -> &'static str {
        "fd"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        check_len("x", x.len(), self.n)?;
        let v = (self.f)(x);
        check_finite("output", &[v])?;
        Ok(v)
    }

    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let grad = &mut self.grad;
        self.diff.block(x, seeds, out, |x, g| {
            grad(x, g);
            Ok(())
        })
    }
}

/// The caller supplies the Jacobian products (e.g. from PyTorch or JAX through FFI):
/// `products(x, seeds, out)` writes J·S (m×p row-major) and `value(x, out)` writes F(x).
pub struct ClosureJacobian<V, P> {
    value: V,
    products: P,
    n: usize,
    m: usize,
}

impl<V, P> ClosureJacobian<V, P>
where
    V: FnMut(&[f64], &mut [f64]) -> Result<(), String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    /// A backend from two closures for F: Rⁿ → Rᵐ.
    pub fn new(value: V, products: P, n: usize, m: usize) -> Self {
        Self {
            value,
            products,
            n,
            m,
        }
    }
}

impl<V, P> JacobianBackend for ClosureJacobian<V, P>
where
    V: FnMut(&[f64], &mut [f64]) -> Result<(), String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    fn name(&self) -> &'static str {
        "closure"
    }

    fn dims(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        check_len("output buffer", out.len(), self.m)?;
        (self.value)(x, out).map_err(|message| AdError::Closure { message })?;
        check_finite("output", out)
    }

    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        seeds.check(self.n)?;
        check_len("product buffer", out.len(), self.m * seeds.probes())?;
        (self.products)(x, seeds, out).map_err(|message| AdError::Closure { message })?;
        check_finite("product", out)
    }
}

/// The caller supplies the Hessian products: `products(x, seeds, out)` writes H·S (n×p
/// row-major) and `value(x)` gives f(x).
pub struct ClosureHessian<V, P> {
    value: V,
    products: P,
    n: usize,
}

impl<V, P> ClosureHessian<V, P>
where
    V: FnMut(&[f64]) -> Result<f64, String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    /// A backend from two closures for f: Rⁿ → R.
    pub fn new(value: V, products: P, n: usize) -> Self {
        Self { value, products, n }
    }
}

impl<V, P> HessianBackend for ClosureHessian<V, P>
where
    V: FnMut(&[f64]) -> Result<f64, String>,
    P: FnMut(&[f64], SeedBlock<'_>, &mut [f64]) -> Result<(), String>,
{
    fn name(&self) -> &'static str {
        "closure"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        check_len("x", x.len(), self.n)?;
        let v = (self.value)(x).map_err(|message| AdError::Closure { message })?;
        check_finite("output", &[v])?;
        Ok(v)
    }

    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        check_len("x", x.len(), self.n)?;
        seeds.check(self.n)?;
        check_len("product buffer", out.len(), self.n * seeds.probes())?;
        (self.products)(x, seeds, out).map_err(|message| AdError::Closure { message })?;
        check_finite("product", out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::DualNum;

    /// F_i = x_{i+1}² − x_i x_{i−1} + sin x_i.
    struct Tridiagonal;
    impl VectorFunction for Tridiagonal {
        fn num_outputs(&self, n: usize) -> usize {
            n
        }
        fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
            let n = x.len();
            for i in 0..n {
                let next = if i + 1 < n {
                    x[i + 1].powi(2)
                } else {
                    D::zero()
                };
                let prev = if i > 0 { x[i] * x[i - 1] } else { D::zero() };
                out[i] = next - prev + x[i].sin();
            }
        }
    }

    fn jacobian(x: &[f64]) -> Vec<Vec<f64>> {
        let n = x.len();
        let mut j = vec![vec![0.0; n]; n];
        for i in 0..n {
            if i + 1 < n {
                j[i][i + 1] = 2.0 * x[i + 1];
            }
            if i > 0 {
                j[i][i - 1] = -x[i];
                j[i][i] = -x[i - 1];
            }
            j[i][i] += x[i].cos();
        }
        j
    }

    #[test]
    fn forward_and_differences_give_j_times_s() {
        let n = 11;
        let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.3 * (0.7 * i as f64).sin()).collect();
        let jac = jacobian(&x);
        for p in [1usize, 2, 3, 5, 9, 13] {
            let dense: Vec<f64> = (0..n * p)
                .map(|k| ((k * 7919) % 13) as f64 / 13.0 - 0.4)
                .collect();
            let group: Vec<usize> = (0..n).map(|j| j % p).collect();
            for seeds in [
                SeedBlock::Dense {
                    values: &dense,
                    probes: p,
                },
                SeedBlock::Groups {
                    group: &group,
                    probes: p,
                },
            ] {
                let expected: Vec<f64> = (0..n * p)
                    .map(|k| (0..n).map(|j| jac[k / p][j] * seeds.at(j, k % p)).sum())
                    .collect();
                let mut fwd = ForwardJacobian::new(Tridiagonal, n);
                let mut out = vec![0.0; n * p];
                fwd.jvp_block(&x, seeds, &mut out).unwrap();
                for (a, b) in out.iter().zip(&expected) {
                    assert!((a - b).abs() <= 1e-14, "forward p={p}: {a} vs {b}");
                }
                for scheme in [Differences::Forward, Differences::Central] {
                    let mut fd = FiniteDifferenceJacobian::new(
                        |x: &[f64], y: &mut [f64]| Tridiagonal.eval(x, y),
                        n,
                        n,
                        scheme,
                    );
                    fd.jvp_block(&x, seeds, &mut out).unwrap();
                    let tol = if scheme == Differences::Central {
                        1e-8
                    } else {
                        1e-6
                    };
                    for (a, b) in out.iter().zip(&expected) {
                        assert!((a - b).abs() <= tol, "{scheme:?} p={p}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn bad_lengths_and_values_are_errors() {
        let mut fwd = ForwardJacobian::new(Tridiagonal, 4);
        let x = [0.1, 0.2, 0.3, 0.4];
        let mut out = vec![0.0; 8];
        let group = [0, 1, 0];
        assert!(matches!(
            fwd.jvp_block(
                &x,
                SeedBlock::Groups {
                    group: &group,
                    probes: 2
                },
                &mut out
            ),
            Err(AdError::WrongLength {
                what: "seed block",
                ..
            })
        ));
        assert!(matches!(
            fwd.jvp_block(
                &x[..3],
                SeedBlock::Groups {
                    group: &group,
                    probes: 2
                },
                &mut out
            ),
            Err(AdError::WrongLength { what: "x", .. })
        ));
        let bad = [f64::NAN, 0.2, 0.3, 0.4];
        let group = [0, 1, 0, 1];
        assert!(matches!(
            fwd.jvp_block(
                &bad,
                SeedBlock::Groups {
                    group: &group,
                    probes: 2
                },
                &mut out
            ),
            Err(AdError::NonFinite {
                what: "product",
                ..
            })
        ));
        let mut closure = ClosureJacobian::new(
            |_: &[f64], _: &mut [f64]| Err("no GPU".to_string()),
            |_: &[f64], _: SeedBlock<'_>, _: &mut [f64]| Ok(()),
            4,
            4,
        );
        let mut y = [0.0; 4];
        assert!(matches!(
            closure.value(&x, &mut y),
            Err(AdError::Closure { .. })
        ));
    }
}
