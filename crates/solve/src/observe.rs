//! Observers: called by every driver once per iteration with the state of the iterate,
//! for progress lines, convergence histories and plots.
//!
//! Any `FnMut(&Iterate<'_>)` closure is an [`Observer`]; `()` observes nothing.
//!
//! ```
//! use sparsediff_solve::observe::{Iterate, Observer};
//! let mut history = Vec::new();
//! let mut record = |it: &Iterate<'_>| history.push((it.iteration, it.measure));
//! record.observe(&Iterate { iteration: 0, x: &[1.0], value: 2.0, measure: 3.0, ..Iterate::default() });
//! assert_eq!(history, [(0, 3.0)]);
//! ```

/// The state of one iterate, as the drivers report it. Fields a driver does not have are
/// 0 (or NaN for the trust radius of a line-search method).
#[derive(Debug, Clone, Copy)]
pub struct Iterate<'a> {
    /// Iteration count: 0 for the starting point, k after k accepted or rejected steps.
    pub iteration: usize,
    /// The current (accepted) iterate.
    pub x: &'a [f64],
    /// f(x), or ½‖F(x)‖² for nonlinear systems.
    pub value: f64,
    /// The stopping measure: ‖∇f(x)‖∞, or ‖F(x)‖∞ for nonlinear systems.
    pub measure: f64,
    /// ‖step‖∞ of the step that led here (0 at the start and after a rejected step).
    pub step_inf: f64,
    /// Step length α accepted by the line search (1 for a full Newton step; 0 for a
    /// rejected trust-region step).
    pub step_length: f64,
    /// The regularisation δ of the factorisation used for the step (Newton).
    pub regularization: f64,
    /// The trust radius after the step (trust region; NaN for line-search methods).
    pub radius: f64,
    /// CG iterations of the step (trust region).
    pub cg_iterations: usize,
    /// Seconds since the run started.
    pub seconds: f64,
}

impl Default for Iterate<'_> {
    fn default() -> Self {
        Self {
            iteration: 0,
            x: &[],
            value: 0.0,
            measure: 0.0,
            step_inf: 0.0,
            step_length: 0.0,
            regularization: 0.0,
            radius: f64::NAN,
            cg_iterations: 0,
            seconds: 0.0,
        }
    }
}

/// Called once per iteration (and once for the starting point).
pub trait Observer {
    /// Sees the iterate.
    fn observe(&mut self, iterate: &Iterate<'_>);
}

impl<F: FnMut(&Iterate<'_>)> Observer for F {
    fn observe(&mut self, iterate: &Iterate<'_>) {
        self(iterate)
    }
}

impl Observer for () {
    fn observe(&mut self, _: &Iterate<'_>) {}
}

/// Keeps `(iteration, value, measure)` of every iterate, and optionally the iterates
/// themselves (for paths drawn over contour plots; only for small n).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// `(iteration, value, measure)` per iterate.
    pub rows: Vec<(usize, f64, f64)>,
    /// The iterates, if [`History::with_points`] was asked for.
    pub points: Vec<Vec<f64>>,
    keep_points: bool,
}

impl History {
    /// A history that keeps the values and measures only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A history that also keeps a copy of every iterate.
    pub fn with_points() -> Self {
        Self {
            keep_points: true,
            ..Self::default()
        }
    }
}

impl Observer for History {
    fn observe(&mut self, it: &Iterate<'_>) {
        self.rows.push((it.iteration, it.value, it.measure));
        if self.keep_points {
            self.points.push(it.x.to_vec());
        }
    }
}
