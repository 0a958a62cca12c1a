//! The reverse tape as a backend: Hessian-vector products with all probes as lanes of one
//! forward-over-reverse sweep, Jacobian products by forward or reverse lanes. The tape is
//! re-recorded when a replay meets a changed branch ([`Recorded`]).

use super::{
    AdError, BranchStatus, Differencer, Differences, HessianBackend, JacobianBackend, SeedBlock,
};
use crate::function::{ScalarFunction, VectorFunction};
use crate::tape::{Recorded, TapeError, TapeVar};

/// The user function as the tape records it.
type Boxed<'f> = Box<dyn Fn(&[TapeVar]) -> Vec<TapeVar> + Send + 'f>;

/// What a recording has seen of the function's branches.
fn status(rec: &Recorded<Boxed<'_>>) -> BranchStatus {
    BranchStatus {
        visible: true,
        changes: rec.rerecordings(),
        last_changed_comparison: rec.last_changed_guard(),
        reads_values: rec.tape().reads_values(),
        replays_recording: true,
    }
}

/// The recording of a scalar function and its one-value output buffer: what the two
/// Hessian backends share (values, gradients, branches, re-recording).
struct ScalarTape<'f> {
    rec: Recorded<Boxed<'f>>,
    value: [f64; 1],
}

impl<'f> ScalarTape<'f> {
    fn new<F: ScalarFunction + Send + 'f>(f: F, x0: &[f64]) -> Result<Self, AdError> {
        let boxed: Boxed<'f> = Box::new(move |x: &[TapeVar]| vec![f.eval(x)]);
        Ok(Self {
            rec: Recorded::new(boxed, x0)?,
            value: [0.0],
        })
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        self.rec.eval(x, &mut self.value)?;
        Ok(self.value[0])
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, AdError> {
        Ok(self.rec.gradient(x, grad)?)
    }

    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        self.rec.rerecord(x)?;
        Ok(true)
    }
}

impl From<TapeError> for AdError {
    fn from(e: TapeError) -> Self {
        AdError::Tape(e)
    }
}

/// Hessian products from the tape of a [`ScalarFunction`].
pub struct TapeHessian<'f> {
    tape: ScalarTape<'f>,
    n: usize,
}

impl std::fmt::Debug for TapeHessian<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapeHessian")
            .field("rec", &self.tape.rec)
            .finish_non_exhaustive()
    }
}

impl<'f> TapeHessian<'f> {
    /// Records `f` at `x0`.
    pub fn new<F: ScalarFunction + Send + 'f>(f: F, x0: &[f64]) -> Result<Self, AdError> {
        Ok(Self {
            tape: ScalarTape::new(f, x0)?,
            n: x0.len(),
        })
    }

    /// The recording (length, guards, re-recordings).
    pub fn recorded(&self) -> &Recorded<Boxed<'f>> {
        &self.tape.rec
    }
}

impl HessianBackend for TapeHessian<'_> {
    fn recorded_pattern(
        &self,
        x: &[f64],
    ) -> Option<
        Result<(sparsediff_pattern::Pattern, crate::trace::TraceInfo), crate::trace::TraceError>,
    > {
        self.tape.rec.tape().hessian_pattern(x)
    }

    fn take_scratch(&self) -> sparsediff_pattern::Scratch {
        self.tape.rec.tape().take_scratch()
    }

    fn name(&self) -> &'static str {
        "tape"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        self.tape.value(x)
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, AdError> {
        self.tape.gradient(x, grad)
    }

    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let rec = &mut self.tape.rec;
        match seeds {
            SeedBlock::Groups { group, probes } => rec.hvp_groups(x, group, probes, out)?,
            SeedBlock::Dense { values, .. } => rec.hvp_block(x, values, out)?,
        }
        Ok(())
    }
    fn reserve(&mut self, probes: usize) -> bool {
        self.tape.rec.reserve_hvp(probes);
        true
    }

    fn branches(&self) -> BranchStatus {
        status(&self.tape.rec)
    }

    fn set_pool(&mut self, pool: Option<std::sync::Arc<rayon::ThreadPool>>) -> bool {
        self.tape.rec.set_pool(pool);
        true
    }

    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        self.tape.rerecord(x)
    }
}

/// Jacobian products from the tape of a [`VectorFunction`]: J·S by forward lanes, Jᵀ·S by
/// reverse lanes (row colourings).
pub struct TapeJacobian<'f> {
    rec: Recorded<Boxed<'f>>,
    n: usize,
    m: usize,
    dense: Vec<f64>,
}

impl std::fmt::Debug for TapeJacobian<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapeJacobian")
            .field("rec", &self.rec)
            .finish_non_exhaustive()
    }
}

impl<'f> TapeJacobian<'f> {
    /// Records `f` at `x0`.
    pub fn new<F: VectorFunction + Send + 'f>(f: F, x0: &[f64]) -> Result<Self, AdError> {
        let n = x0.len();
        let m = f.num_outputs(n);
        let boxed: Boxed<'f> = Box::new(move |x: &[TapeVar]| {
            let mut out = vec![TapeVar::from(0.0); m];
            f.eval(x, &mut out);
            out
        });
        let rec = Recorded::new(boxed, x0)?;
        // products of a Jacobian run the general program: compile it at prepare
        rec.tape().compile_general();
        Ok(Self {
            rec,
            n,
            m,
            dense: Vec::new(),
        })
    }
}

/// The directions of a seed block as the tape's lane sweeps take them: dense blocks as
/// they are, group seeds as dense 0/1 directions (`rows` × p) written into `dense`.
fn dense_directions<'a>(seeds: SeedBlock<'a>, rows: usize, dense: &'a mut Vec<f64>) -> &'a [f64] {
    match seeds {
        SeedBlock::Dense { values, .. } => values,
        SeedBlock::Groups { .. } => {
            let p = seeds.probes();
            dense.clear();
            dense.extend((0..rows * p).map(|k| seeds.at(k / p, k % p)));
            dense
        }
    }
}

impl JacobianBackend for TapeJacobian<'_> {
    fn name(&self) -> &'static str {
        "tape"
    }

    fn dims(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    fn value(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), AdError> {
        Ok(self.rec.eval(x, out)?)
    }

    fn jvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let dirs = dense_directions(seeds, self.n, &mut self.dense);
        Ok(self.rec.jvp_block(x, dirs, out)?)
    }

    fn vjp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let dirs = dense_directions(seeds, self.m, &mut self.dense);
        Ok(self.rec.vjp_block(x, dirs, out)?)
    }

    fn supports_vjp(&self) -> bool {
        true
    }

    fn branches(&self) -> BranchStatus {
        status(&self.rec)
    }

    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        self.rec.rerecord(x)?;
        Ok(true)
    }
}

/// Hessian products by central differences of the tape's gradient along each probe (for
/// comparison with the exact forward-over-reverse products). Scaled products
/// ([`hvp_block_scaled`](HessianBackend::hvp_block_scaled)) step every input at its own
/// scale; accuracy as for [`FiniteDifferenceJacobian`](crate::FiniteDifferenceJacobian)
/// with F = ∇f (relative ≈ ε^{2/3} per entry for a well-scaled function). A step across a
/// branch of the function re-records the tape there (counted in
/// [`branches`](HessianBackend::branches)).
pub struct TapeGradientDifferences<'f> {
    tape: ScalarTape<'f>,
    n: usize,
    diff: Differencer,
}

impl std::fmt::Debug for TapeGradientDifferences<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapeGradientDifferences")
            .field("rec", &self.tape.rec)
            .finish_non_exhaustive()
    }
}

impl<'f> TapeGradientDifferences<'f> {
    /// Records `f` at `x0`.
    pub fn new<F: ScalarFunction + Send + 'f>(f: F, x0: &[f64]) -> Result<Self, AdError> {
        let n = x0.len();
        let tape = ScalarTape::new(f, x0)?;
        // gradients run the general program: compile it at prepare
        tape.rec.tape().compile_general();
        Ok(Self {
            tape,
            n,
            diff: Differencer::new(Differences::Central, n, n),
        })
    }
}

impl HessianBackend for TapeGradientDifferences<'_> {
    fn name(&self) -> &'static str {
        "fd"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&mut self, x: &[f64]) -> Result<f64, AdError> {
        self.tape.value(x)
    }

    fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, AdError> {
        self.tape.gradient(x, grad)
    }

    fn hvp_block(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<(), AdError> {
        let rec = &mut self.tape.rec;
        self.diff.block(x, seeds, out, |x, g| {
            rec.gradient(x, g)?;
            Ok(())
        })
    }

    fn hvp_block_scaled(
        &mut self,
        x: &[f64],
        seeds: SeedBlock<'_>,
        out: &mut [f64],
    ) -> Result<Option<&[f64]>, AdError> {
        let rec = &mut self.tape.rec;
        self.diff
            .block_scaled(x, seeds, out, |x, g| {
                rec.gradient(x, g)?;
                Ok(())
            })
            .map(Some)
    }

    fn verify_tolerance(&self) -> f64 {
        self.diff.tolerance()
    }

    fn branches(&self) -> BranchStatus {
        status(&self.tape.rec)
    }

    fn rerecord(&mut self, x: &[f64]) -> Result<bool, AdError> {
        self.tape.rerecord(x)
    }
}
