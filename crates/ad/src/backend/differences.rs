//! Finite differences along whole blocks of probes: the step rules, the differencer (also
//! used by the tape's gradient differences) and the two difference backends.

use super::{
    AdError, CENTRAL_DIFFERENCE_TOLERANCE, FORWARD_DIFFERENCE_TOLERANCE, HessianBackend,
    JacobianBackend, SeedBlock, check_finite, check_len, check_seeds,
};

/// Difference scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Differences {
    /// (F(x + h d) − F(x)) / h, error O(h), h ≈ √ε.
    Forward,
    /// (F(x + h d) − F(x − h d)) / 2h, error O(h²), h ≈ ∛ε.
    #[default]
    Central,
}

impl Differences {
    /// The relative step: √ε (forward) or ∛ε (central), which balances truncation against
    /// rounding for a function whose derivatives are of the size of its values.
    fn base(self) -> f64 {
        match self {
            Differences::Forward => f64::EPSILON.sqrt(),
            Differences::Central => f64::EPSILON.cbrt(),
        }
    }

    /// The verification tolerance of this scheme.
    fn tolerance(self) -> f64 {
        match self {
            Differences::Forward => FORWARD_DIFFERENCE_TOLERANCE,
            Differences::Central => CENTRAL_DIFFERENCE_TOLERANCE,
        }
    }
}

/// The step along direction d at x (one step for the whole direction, for plain
/// directional derivatives): scaled to x and to d so that x + h·d moves every component
/// by about √ε (forward) or ∛ε (central) relative to its size.
pub(crate) fn step(scheme: Differences, x: &[f64], d: impl Iterator<Item = f64> + Clone) -> f64 {
    let dmax = d.clone().fold(0.0f64, |m, v| m.max(v.abs()));
    if dmax == 0.0 {
        return 0.0;
    }
    let xs = x
        .iter()
        .zip(d)
        .filter(|(_, v)| *v != 0.0)
        .fold(1.0f64, |m, (xv, _)| m.max(xv.abs()));
    scheme.base() * xs / dmax
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
    /// Inputs are assumed to be of at least this size when steps are scaled (steps never
    /// shrink below `base · typical`).
    typical: f64,
    xp: Vec<f64>,
    gp: Vec<f64>,
    gm: Vec<f64>,
    /// The per-input steps of the last scaled block.
    steps: Vec<f64>,
}

impl Differencer {
    pub(crate) fn new(scheme: Differences, n: usize, r: usize) -> Self {
        Self {
            scheme,
            typical: 1.0,
            xp: vec![0.0; n],
            gp: vec![0.0; r],
            gm: vec![0.0; r],
            steps: vec![0.0; n],
        }
    }

    /// Sets the typical input size (finite and positive).
    pub(crate) fn set_typical(&mut self, typical: f64) -> Result<(), AdError> {
        if !(typical.is_finite() && typical > 0.0) {
            return Err(AdError::InvalidParameter {
                name: "typical input size",
                value: typical,
            });
        }
        self.typical = typical;
        Ok(())
    }

    pub(crate) fn tolerance(&self) -> f64 {
        self.scheme.tolerance()
    }

    /// (g(x + h s_c) − g(x [− h s_c])) / (h [·2]) for every probe c, into `out` (r×p
    /// row-major), one step h per probe; a zero direction gives a zero column.
    pub(crate) fn block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
        mut g: impl FnMut(&[f64], &mut [f64]) -> Result<(), AdError>,
    ) -> Result<(), AdError> {
        check_len("x", x.len(), self.xp.len())?;
        check_seeds(seeds, self.xp.len())?;
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

    /// The scaled block: every input j gets its own step d_j = base · max(|x_j|, typical)
    /// (rounded so that x_j + d_j − x_j = d_j exactly), and probe c moves x along D·s_c:
    /// `out` holds (g(x + D s_c) − g(x [− D s_c])) / [2], that is ∇g·D·S, and the steps are
    /// returned. Every column of a colour group is thereby differenced at its own scale.
    pub(crate) fn block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
        mut g: impl FnMut(&[f64], &mut [f64]) -> Result<(), AdError>,
    ) -> Result<&[f64], AdError> {
        check_len("x", x.len(), self.xp.len())?;
        check_finite("input", x)?;
        check_seeds(seeds, self.xp.len())?;
        let (p, r) = (seeds.probes(), self.gp.len());
        check_len("product buffer", out.len(), r * p)?;
        let base = self.scheme.base();
        for (d, &xv) in self.steps.iter_mut().zip(x) {
            let h = base * xv.abs().max(self.typical);
            *d = (xv + h) - xv;
        }
        if self.scheme == Differences::Forward {
            g(x, &mut self.gm)?;
            check_finite("output", &self.gm)?;
        }
        for c in 0..p {
            let mut moved = false;
            for (j, (xp, &xv)) in self.xp.iter_mut().zip(x).enumerate() {
                let s = seeds.at(j, c);
                moved |= s != 0.0;
                *xp = xv + self.steps[j] * s;
            }
            if !moved {
                (0..r).for_each(|i| out[i * p + c] = 0.0);
                continue;
            }
            g(&self.xp, &mut self.gp)?;
            let denom = match self.scheme {
                Differences::Forward => 1.0,
                Differences::Central => {
                    for (j, (xp, &xv)) in self.xp.iter_mut().zip(x).enumerate() {
                        *xp = xv - self.steps[j] * seeds.at(j, c);
                    }
                    g(&self.xp, &mut self.gm)?;
                    2.0
                }
            };
            for i in 0..r {
                out[i * p + c] = (self.gp[i] - self.gm[i]) / denom;
            }
        }
        check_finite("product", out)?;
        Ok(&self.steps)
    }
}

/// JVPs by finite differences of a plain `f64` function (for code that cannot be made
/// generic).
///
/// **Accuracy.** Through [`jvp_block_scaled`](JacobianBackend::jvp_block_scaled) (what
/// `SparseJacobian` uses) every column j gets its own step d_j = h·max(|x_j|, t) with
/// h = ∛ε (central) or √ε (forward) and t the typical input size (default 1,
/// [`with_typical_size`](Self::with_typical_size)); entry (i, j) then has error about
/// d_j²/6·|∂³F_i/∂x_j³| + ε·|F_i|/d_j (central) or d_j/2·|∂²F_i/∂x_j²| + ε·|F_i|/d_j
/// (forward): relative ≈ ε^{2/3} ≈ 4·10⁻¹¹ or √ε ≈ 1.5·10⁻⁸ for a function whose
/// derivatives are of the size of its values, at any scaling of x. Plain
/// [`jvp_block`](JacobianBackend::jvp_block) takes one step per direction (a directional
/// derivative), scaled to the largest |x_j| the direction touches. Verification tolerance:
/// [`CENTRAL_DIFFERENCE_TOLERANCE`] / [`FORWARD_DIFFERENCE_TOLERANCE`]. This backend cannot
/// see the function's branches.
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

    /// Inputs are taken to be at least this large in magnitude when steps are scaled
    /// (default 1): x_j near zero still gets a step of h·typical.
    pub fn with_typical_size(mut self, typical: f64) -> Result<Self, AdError> {
        self.diff.set_typical(typical)?;
        Ok(self)
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

    fn jvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        let f = &mut self.f;
        self.diff
            .block_scaled(x, seeds, out, |x, y| {
                f(x, y);
                Ok(())
            })
            .map(Some)
    }

    fn verify_tolerance(&self) -> f64 {
        self.diff.tolerance()
    }
}

/// HVPs by finite differences of a gradient (the user's, or any other); accuracy as for
/// [`FiniteDifferenceJacobian`] with F = ∇f.
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

    /// Inputs are taken to be at least this large in magnitude when steps are scaled
    /// (default 1).
    pub fn with_typical_size(mut self, typical: f64) -> Result<Self, AdError> {
        self.diff.set_typical(typical)?;
        Ok(self)
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

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, AdError> {
        check_len("x", x.len(), self.n)?;
        check_len("gradient buffer", grad.len(), self.n)?;
        (self.grad)(x, grad);
        check_finite("gradient", grad)?;
        self.value(x)
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

    fn hvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        let grad = &mut self.grad;
        self.diff
            .block_scaled(x, seeds, out, |x, g| {
                grad(x, g);
                Ok(())
            })
            .map(Some)
    }

    fn verify_tolerance(&self) -> f64 {
        self.diff.tolerance()
    }
}
