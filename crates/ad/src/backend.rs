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

pub use crate::branch::BranchStatus;
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
    /// A parameter is out of its range.
    #[error("{name} must be finite and positive, got {value}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
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

/// The relative verification residual per row that products of an exact backend (AD,
/// closures the caller vouches for) stay below on a correct pattern, decoding included.
pub const EXACT_TOLERANCE: f64 = 1e-8;

/// The relative verification residual per row that central finite differences stay below
/// on a correct pattern of a well-scaled function (entries have relative error about
/// ε^{2/3} ≈ 4·10⁻¹¹ times the function's curvature scale; decoding and cancellation take
/// the rest). Forward differences: [`FORWARD_DIFFERENCE_TOLERANCE`].
pub const CENTRAL_DIFFERENCE_TOLERANCE: f64 = 1e-5;

/// The verification tolerance of forward differences (relative error about √ε ≈ 1.5·10⁻⁸
/// times the curvature scale per entry).
pub const FORWARD_DIFFERENCE_TOLERANCE: f64 = 1e-3;

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
    /// J·D·S into `out` for a diagonal scaling D = diag(d) of the inputs that the backend
    /// chooses at x, returning d — or J·S, returning `None`. Finite differences give every
    /// column its own step d_j (scaled to |x_j|), which a single step per probe cannot:
    /// the caller decodes M = J·D from the products and divides column j by d_j.
    /// Default: [`jvp_block`](Self::jvp_block), unscaled.
    fn jvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        self.jvp_block(x, seeds, out)?;
        Ok(None)
    }
    /// What the backend has seen of the function's branches. Default: blind.
    fn branches(&self) -> BranchStatus {
        BranchStatus::BLIND
    }
    /// Records the function anew at x, for a backend that replays a recording (returns
    /// whether it did). Default: nothing to re-record.
    fn rerecord(&mut self, _x: &[f64]) -> Result<bool, AdError> {
        Ok(false)
    }
    /// The relative residual per row below which a verification product of this backend
    /// agrees with a matrix recovered from its products. Default: [`EXACT_TOLERANCE`].
    fn verify_tolerance(&self) -> f64 {
        EXACT_TOLERANCE
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
    /// ∇f(x) into `grad`; returns f(x). Default: unsupported (a backend of products only).
    fn gradient(&mut self, _x: &[f64], _grad: &mut [f64]) -> Result<f64, AdError> {
        Err(AdError::Unsupported {
            backend: self.name(),
            operation: "gradients",
        })
    }
    /// H·S into `out` (n×p row-major).
    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError>;
    /// H·D·S into `out` for a diagonal scaling D = diag(d) the backend chooses at x,
    /// returning d — or H·S, returning `None` (see
    /// [`JacobianBackend::jvp_block_scaled`]; the caller multiplies row i of the products by
    /// d_i, decodes the symmetric M = D·H·D and divides entry (i, j) by d_i·d_j).
    /// Default: [`hvp_block`](Self::hvp_block), unscaled.
    fn hvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        self.hvp_block(x, seeds, out)?;
        Ok(None)
    }
    /// What the backend has seen of the function's branches. Default: blind.
    fn branches(&self) -> BranchStatus {
        BranchStatus::BLIND
    }
    /// Records the function anew at x, for a backend that replays a recording (returns
    /// whether it did). Default: nothing to re-record.
    fn rerecord(&mut self, _x: &[f64]) -> Result<bool, AdError> {
        Ok(false)
    }
    /// The relative residual per row below which a verification product of this backend
    /// agrees with a matrix recovered from its products. Default: [`EXACT_TOLERANCE`].
    fn verify_tolerance(&self) -> f64 {
        EXACT_TOLERANCE
    }
}

/// JVPs by forward mode: P directions per evaluation as [`Lanes<P>`] (P = 1, 2, 4 or 8,
/// the smallest that holds the block; blocks wider than 8 take several passes). Buffers are
/// kept between calls, so products allocate nothing after the first call.
///
/// Every pass logs the function's comparisons: the outcomes are compared with those of the
/// anchor point ([`anchored`](Self::anchored), or else the first pass), and a difference
/// counts as a branch change in [`branches`](JacobianBackend::branches) (the products are
/// those of the function at x, whatever the branch: forward lanes record nothing).
#[derive(Debug)]
pub struct ForwardJacobian<F> {
    f: F,
    n: usize,
    m: usize,
    b1: LaneBuffers<1>,
    b2: LaneBuffers<2>,
    b4: LaneBuffers<4>,
    b8: LaneBuffers<8>,
    /// Comparison outcomes at the anchor (or at the last change).
    reference: Option<Vec<Option<std::cmp::Ordering>>>,
    log: crate::branch::ComparisonLog,
    status: BranchStatus,
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
            reference: None,
            log: crate::branch::ComparisonLog::default(),
            status: BranchStatus {
                visible: true,
                ..BranchStatus::BLIND
            },
        }
    }

    /// A forward backend whose branch reference is x0 (one pass at x0): products at a
    /// point where a comparison comes out differently than at x0 count as a branch change.
    ///
    /// ```
    /// use sparsediff_ad::num_dual::DualNum;
    /// use sparsediff_ad::{ForwardJacobian, JacobianBackend, SeedBlock, VectorFunction};
    ///
    /// /// F = (x0 > 0 ? x0·x1 : x1²)
    /// struct Kink;
    /// impl VectorFunction for Kink {
    ///     fn num_outputs(&self, _: usize) -> usize { 1 }
    ///     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], out: &mut [D]) {
    ///         out[0] = if x[0] > 0.0 { x[0] * x[1] } else { x[1] * x[1] };
    ///     }
    /// }
    /// let mut j = ForwardJacobian::anchored(Kink, &[1.0, 2.0])?;
    /// let seeds = SeedBlock::Groups { group: &[0, 1], probes: 2 };
    /// let mut out = [0.0; 2];
    /// j.jvp_block(&[0.5, 2.0], seeds, &mut out)?; // same branch
    /// assert_eq!(j.branches().changes, 0);
    /// j.jvp_block(&[-0.5, 2.0], seeds, &mut out)?; // the other branch: exact products
    /// assert_eq!(out, [0.0, 4.0]);
    /// assert_eq!(j.branches().changes, 1);
    /// assert_eq!(j.branches().last_changed_comparison, Some(0));
    /// # Ok::<(), sparsediff_ad::AdError>(())
    /// ```
    pub fn anchored(f: F, x0: &[f64]) -> Result<Self, AdError> {
        let n = x0.len();
        let mut j = Self::new(f, n);
        let mut out = vec![0.0; j.m];
        let zero = vec![0.0; n];
        j.jvp_block(
            x0,
            SeedBlock::Dense {
                values: &zero,
                probes: 1,
            },
            &mut out,
        )?;
        Ok(j)
    }

    /// The function.
    pub fn function(&self) -> &F {
        &self.f
    }

    /// Compares the comparisons of the last pass with the reference.
    fn note_branches(&mut self) {
        if self.log.value_reads > 0 {
            self.status.reads_values = true;
        }
        match &mut self.reference {
            None => self.reference = Some(self.log.outcomes.clone()),
            Some(reference) => {
                if let Some(k) = crate::branch::first_difference(reference, &self.log.outcomes) {
                    self.status.changes += 1;
                    self.status.last_changed_comparison = Some(k);
                    std::mem::swap(reference, &mut self.log.outcomes);
                }
            }
        }
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
            let Self {
                f,
                b1,
                b2,
                b4,
                b8,
                log,
                ..
            } = self;
            log.record(|| match left {
                1 => b1.pass(f, x, seeds, first, out),
                2 => b2.pass(f, x, seeds, first, out),
                3 | 4 => b4.pass(f, x, seeds, first, out),
                _ => b8.pass(f, x, seeds, first, out),
            });
            self.note_branches();
            first += left.min(8);
        }
        check_finite("product", out)
    }

    fn branches(&self) -> BranchStatus {
        self.status
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
        seeds.check(self.xp.len())?;
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
