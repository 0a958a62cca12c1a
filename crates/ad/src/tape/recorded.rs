//! A function together with its tape, re-recorded when a branch changes.

use super::{Tape, TapeError, TapeVar};

/// A user function with its tape: every replay that meets [`TapeError::BranchChanged`]
/// re-records the function at the new point and retries once, so callers get the numbers
/// of the branch the function takes there, never those of a stale recording.
///
/// ```
/// use num_dual::DualNum;
/// use sparsediff_ad::tape::Recorded;
///
/// // |x| by a branch: recorded at x = 1 (the "x" branch), evaluated at -2.
/// let mut f = Recorded::scalar(|x| if x[0] > 0.0 { x[0] * x[0] } else { -x[0] }, &[1.0]).unwrap();
/// let mut g = [0.0];
/// assert_eq!(f.gradient(&[-2.0], &mut g).unwrap(), 2.0);
/// assert_eq!(g[0], -1.0);
/// assert_eq!(f.rerecordings(), 1);
/// ```
pub struct Recorded<F> {
    f: F,
    tape: Tape,
    rerecordings: usize,
    /// The guard that failed at the last re-recording made for a changed branch.
    last_changed_guard: Option<usize>,
}

impl<F> std::fmt::Debug for Recorded<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("tape", &self.tape)
            .field("rerecordings", &self.rerecordings)
            .finish_non_exhaustive()
    }
}

impl<F> Recorded<F>
where
    F: Fn(&[TapeVar]) -> Vec<TapeVar>,
{
    /// Records `f` at `x0`.
    pub fn new(f: F, x0: &[f64]) -> Result<Self, TapeError> {
        let tape = Tape::record(x0, &f)?;
        Ok(Recorded {
            f,
            tape,
            rerecordings: 0,
            last_changed_guard: None,
        })
    }

    /// The current tape.
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// Sizes the tape's buffers for Hessian-vector products with `p` directions (see
    /// `Tape::reserve_hvp`).
    pub(crate) fn reserve_hvp(&mut self, p: usize) {
        self.tape.reserve_hvp(p);
    }

    /// [`Tape::set_pool`], kept across re-recordings.
    pub fn set_pool(&mut self, pool: Option<std::sync::Arc<rayon::ThreadPool>>) {
        self.tape.set_pool(pool);
    }

    /// How many times a changed branch made this re-record.
    pub fn rerecordings(&self) -> usize {
        self.rerecordings
    }

    /// The guard (comparison index in recording order) that failed when the tape was last
    /// re-recorded for a changed branch; `None` before any change, or when the last
    /// re-recording was asked for ([`rerecord`](Self::rerecord)).
    pub fn last_changed_guard(&self) -> Option<usize> {
        self.last_changed_guard
    }

    /// Records the function anew at `x` (keeping the workspace), e.g. when a plain
    /// evaluation shows that the recording follows another branch than the function (a
    /// branch on a raw value, which no guard sees). Counts as a re-recording.
    pub fn rerecord(&mut self, x: &[f64]) -> Result<(), TapeError> {
        let general = self.tape.prog.get().is_some();
        let mut tape = Tape::record(x, &self.f)?;
        tape.ws = std::mem::take(&mut self.tape.ws);
        tape.block_states = std::mem::take(&mut self.tape.block_states);
        tape.block_ws = std::mem::take(&mut self.tape.block_ws);
        tape.pool = self.tape.pool.take();
        if general {
            tape.compile_general();
        }
        self.tape = tape;
        self.rerecordings += 1;
        self.last_changed_guard = None;
        Ok(())
    }

    /// Runs `op` on the tape; on a changed branch, re-records at `x` (keeping the
    /// workspace) and runs it once more.
    fn retry<R>(
        &mut self,
        x: &[f64],
        mut op: impl FnMut(&mut Tape) -> Result<R, TapeError>,
    ) -> Result<R, TapeError> {
        match op(&mut self.tape) {
            Err(TapeError::BranchChanged { guard, .. }) => {
                self.rerecord(x)?;
                self.last_changed_guard = Some(guard);
                op(&mut self.tape)
            }
            r => r,
        }
    }

    /// [`Tape::eval`], re-recording on a changed branch.
    pub fn eval(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        self.retry(x, |t| t.eval(x, out))
    }

    /// [`Tape::gradient`], re-recording on a changed branch.
    pub fn gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, TapeError> {
        self.retry(x, |t| t.gradient(x, grad))
    }

    /// [`Tape::vjp_block`], re-recording on a changed branch.
    pub fn vjp_block(
        &mut self,
        x: &[f64],
        seeds: &[f64],
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        self.retry(x, |t| t.vjp_block(x, seeds, out))
    }

    /// [`Tape::jvp_block`], re-recording on a changed branch.
    pub fn jvp_block(&mut self, x: &[f64], dirs: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        self.retry(x, |t| t.jvp_block(x, dirs, out))
    }

    /// [`Tape::hvp_block`], re-recording on a changed branch.
    pub fn hvp_block(&mut self, x: &[f64], dirs: &[f64], out: &mut [f64]) -> Result<(), TapeError> {
        self.retry(x, |t| t.hvp_block(x, dirs, out))
    }

    /// [`Tape::hvp_groups`], re-recording on a changed branch.
    pub fn hvp_groups(
        &mut self,
        x: &[f64],
        group: &[usize],
        p: usize,
        out: &mut [f64],
    ) -> Result<(), TapeError> {
        self.retry(x, |t| t.hvp_groups(x, group, p, out))
    }
}

impl Recorded<()> {
    /// Records a scalar function (m = 1) at `x0`.
    #[allow(clippy::type_complexity)]
    pub fn scalar<G>(
        g: G,
        x0: &[f64],
    ) -> Result<Recorded<impl Fn(&[TapeVar]) -> Vec<TapeVar>>, TapeError>
    where
        G: Fn(&[TapeVar]) -> TapeVar,
    {
        Recorded::new(move |x: &[TapeVar]| vec![g(x)], x0)
    }
}
