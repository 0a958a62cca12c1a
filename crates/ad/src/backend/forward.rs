//! Forward-mode JVPs: P probe directions as the lanes of one [`Lanes<P>`] evaluation.

use super::{
    AdError, BranchStatus, JacobianBackend, SeedBlock, check_finite, check_len, check_seeds,
};
use crate::forward::Lanes;
use crate::function::VectorFunction;
use crate::scalar::Elementary;

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
        check_seeds(seeds, self.n)?;
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
